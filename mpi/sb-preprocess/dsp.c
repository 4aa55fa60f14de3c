#include "dsp.h"

#include <math.h>

static double element(sb_dtype t, const void *p, uint64_t i)
{
    switch (t) {
    case SB_INT8: return ((const int8_t *)p)[i];
    case SB_UINT8: return ((const uint8_t *)p)[i];
    case SB_INT16: return ((const int16_t *)p)[i];
    case SB_UINT16: return ((const uint16_t *)p)[i];
    case SB_INT32: return ((const int32_t *)p)[i];
    case SB_UINT32: return ((const uint32_t *)p)[i];
    case SB_INT64: return (double)((const int64_t *)p)[i];
    case SB_UINT64: return (double)((const uint64_t *)p)[i];
    case SB_FLOAT32: return ((const float *)p)[i];
    case SB_FLOAT64: return ((const double *)p)[i];
    default: return 0.0;
    }
}

void filter_row(const filter *f, sb_dtype t, const void *row, float *out)
{
    for (uint64_t j = 0; j < f->out_samples; j++) {
        uint64_t first = f->start + j * f->decimate;
        double sum = 0.0;
        for (uint64_t k = 0; k < f->average; k++)
            sum += element(t, row, first + k);
        out[j] = (float)(sum / (double)f->average);
    }
}

void accumulate(accum *a, uint8_t label, const float *y)
{
    double *s = a->sum + (size_t)label * a->m, *q = a->sq + (size_t)label * a->m;
    a->count[label] += 1.0;
    for (uint64_t j = 0; j < a->m; j++) {
        s[j] += y[j];
        q[j] += (double)y[j] * y[j];
    }
}

void finish_stats(const accum *a, double *stats)
{
    double n = 0.0;
    for (int c = 0; c < NCLASSES; c++)
        n += a->count[c];
    for (uint64_t j = 0; j < a->m; j++) {
        double s = 0.0, q = 0.0, signal = 0.0, noise = 0.0;
        for (int c = 0; c < NCLASSES; c++) {
            s += a->sum[(size_t)c * a->m + j];
            q += a->sq[(size_t)c * a->m + j];
        }
        double mean = n > 0 ? s / n : 0.0;
        for (int c = 0; c < NCLASSES; c++) {
            double nc = a->count[c];
            if (nc == 0)
                continue;
            double sc = a->sum[(size_t)c * a->m + j], qc = a->sq[(size_t)c * a->m + j];
            double d = sc / nc - mean;
            signal += nc * d * d;
            double within = qc - sc * sc / nc;
            noise += within > 0 ? within : 0.0;
        }
        double var = n > 0 ? q / n - mean * mean : 0.0;
        stats[j] = mean;
        stats[a->m + j] = var > 0 ? var : 0.0;
        stats[2 * a->m + j] = noise > 0 ? signal / noise : NAN;
    }
}
