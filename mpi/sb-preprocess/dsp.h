/* sb-preprocess's arithmetic: the filter of a row and the per-class sums
 * behind mean, variance and SNR (the formulas are in main.c's header). */
#ifndef SB_PREPROCESS_DSP_H
#define SB_PREPROCESS_DSP_H

#include <stdint.h>

#include <secbench/storage.h>

#define NCLASSES 256

typedef struct filter {
    uint64_t start, end, average, decimate, out_samples;
} filter;

/* out[j], j < f->out_samples: the mean of input samples [start + j*decimate,
 * start + j*decimate + average) of `row` (of dtype t), in float32. */
void filter_row(const filter *f, sb_dtype t, const void *row, float *out);

/* Per-class sums, 256 x out_samples each. */
typedef struct accum {
    uint64_t m;
    double count[NCLASSES];
    double *sum, *sq;
} accum;

void accumulate(accum *a, uint8_t label, const float *y);

/* stats: mean, variance, snr one after another (3 * m); snr is NaN where
 * the noise is 0 (undefined). */
void finish_stats(const accum *a, double *stats);

#endif
