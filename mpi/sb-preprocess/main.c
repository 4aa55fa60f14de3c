/* sb-preprocess: crop, low-pass and decimate a trace dataset in parallel,
 * and compute per-sample statistics and the SNR of the first key byte.
 *
 * Filter (documented in --help and in the settings asset): with the window
 * [START, END) and W = --average, D = --decimate, output sample j is
 *     y[j] = (x[START + j*D] + ... + x[START + j*D + W - 1]) / W
 * (sum in double, stored as float32) for j = 0 .. (END - START - W) / D, so
 * the output has floor((END - START - W) / D) + 1 samples and output sample j
 * covers input samples [START + j*D, START + j*D + W).
 *
 * Rows: round k covers the next --chunk * ranks rows; rank r reads (with a
 * collective read) and filters the r-th contiguous block of them, and the
 * collective extend lands the blocks in rank order, so output row i is input
 * row i and each rank holds at most --chunk rows.
 *
 * Statistics, over all rows: per output sample j and class c = SBOX[pt[0] ^
 * key[0]], each rank sums n_c, S_c[j] = sum y[j], Q_c[j] = sum y[j]^2 in
 * double; MPI_Allreduce adds them. With N = sum n_c and m = sum S_c / N:
 *     mean[j]     = m
 *     variance[j] = sum Q_c / N - m^2                      (population)
 *     signal[j]   = sum_c n_c (S_c/n_c - m)^2 / N           (variance of class means)
 *     noise[j]    = sum_c (Q_c - S_c^2/n_c) / N             (mean of class variances)
 *     snr[j]      = signal / noise (0 where noise is 0)
 * classes weighted by their counts. The sums cost 2 x 256 doubles (4 KiB)
 * per output sample on every rank. Rank 0 derives them and broadcasts, so
 * every rank stores bit-identical assets. They are stored as float64 asset
 * arrays "mean", "variance" and "snr" of the output dataset. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mpi.h>
#include <secbench/storage.h>

#include "aes.h"
#include "cli.h"
#include "progress.h"

#define PROG "sb-preprocess"
#define SETTINGS_ASSET "acquisition.json"
#define NCLASSES 256

typedef struct options {
    const char *in, *out, *dataset, *output, *field, *window;
    uint64_t average, decimate, chunk, top;
    bool progress, version;
} options;

typedef struct filter {
    uint64_t start, end, average, decimate, out_samples;
} filter;

static void usage(void)
{
    if (cli_rank() != 0)
        return;
    printf(
        "Usage: mpirun -n N " PROG " IN OUT [options]\n"
        "\n"
        "Read dataset NAME of store IN, crop each trace to a window, smooth it with a\n"
        "moving average of width W and keep every D-th value, write the result\n"
        "(float32 samples, other fields carried over) as dataset OUTPUT of store OUT,\n"
        "and store per-sample mean, variance and the SNR of SBOX[plaintext[0]^key[0]]\n"
        "as float64 asset arrays 'mean', 'variance', 'snr' of OUTPUT.\n"
        "Output sample j = mean of input samples [START + j*D, START + j*D + W).\n"
        "\n"
        "  --dataset NAME     input dataset (default \"acquisition\")\n"
        "  --output NAME      output dataset (default \"preprocessed\"; must not exist)\n"
        "  --field NAME       samples field (default \"data\")\n"
        "  --window START:END input samples [START, END) (default: all)\n"
        "  --average W        moving-average width (default 1)\n"
        "  --decimate D       keep every D-th filtered sample (default 1)\n"
        "  --chunk N          rows per rank in memory at once (default 1000)\n"
        "  --top K            print the K samples of highest SNR (default 5)\n"
        "  --progress         progress and rate on stderr\n"
        "  --version, --help\n");
}

/* Every rank learns whether any rank failed; the lowest failing rank says
 * why, so the error is one line whatever the rank count. */
static bool failed(int rc, const char *what)
{
    int nranks = cli_nranks(), mine = rc < 0 ? cli_rank() : nranks, first;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == nranks)
        return false;
    if (first == cli_rank())
        fprintf(stderr, PROG ": error: %s: %s\n", what,
                sb_last_error_message()[0] ? sb_last_error_message() : sb_error_name(rc));
    return true;
}

static void block(uint64_t n, int rank, int nranks, uint64_t *start, uint64_t *count)
{
    uint64_t q = n / (uint64_t)nranks, rem = n % (uint64_t)nranks, r = (uint64_t)rank;
    *start = r * q + (r < rem ? r : rem);
    *count = q + (r < rem ? 1 : 0);
}

/* "START:END", either side may be empty (0 and the trace length). */
static int parse_window(const char *text, uint64_t samples, filter *f)
{
    f->start = 0;
    f->end = samples;
    if (!text)
        return 0;
    const char *colon = strchr(text, ':');
    if (!colon) {
        cli_usage_error(NULL, "--window expects START:END, got '%s'", text);
        return -1;
    }
    char left[32] = "";
    size_t len = (size_t)(colon - text);
    if (len >= sizeof left) {
        cli_usage_error(NULL, "--window expects START:END, got '%s'", text);
        return -1;
    }
    memcpy(left, text, len);
    left[len] = '\0';
    if ((len && !cli_parse_u64(left, &f->start)) || (colon[1] && !cli_parse_u64(colon + 1, &f->end))) {
        cli_usage_error(NULL, "--window expects START:END with non-negative integers, got '%s'",
                        text);
        return -1;
    }
    if (f->start >= f->end || f->end > samples) {
        cli_error("--window %s is not inside the %" PRIu64 " samples of a trace "
                  "(need START < END <= %" PRIu64 ")", text, samples, samples);
        return -1;
    }
    return 0;
}

static int plan_filter(const options *o, uint64_t samples, filter *f)
{
    if (parse_window(o->window, samples, f))
        return -1;
    if (o->average == 0 || o->decimate == 0) {
        cli_error("--average and --decimate must be at least 1");
        return -1;
    }
    if (o->average > f->end - f->start) {
        cli_error("--average %" PRIu64 " is wider than the window (%" PRIu64 " samples)",
                  o->average, f->end - f->start);
        return -1;
    }
    f->average = o->average;
    f->decimate = o->decimate;
    f->out_samples = (f->end - f->start - f->average) / f->decimate + 1;
    /* The per-class sums travel in one MPI_Allreduce whose count is an int. */
    if (f->out_samples > (uint64_t)(INT_MAX / NCLASSES)) {
        cli_error("%" PRIu64 " output samples are too many for the statistics (at most %d); "
                  "crop with --window or raise --decimate", f->out_samples, INT_MAX / NCLASSES);
        return -1;
    }
    return 0;
}

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

static void filter_row(const filter *f, sb_dtype t, const void *row, float *out)
{
    for (uint64_t j = 0; j < f->out_samples; j++) {
        uint64_t first = f->start + j * f->decimate;
        double sum = 0.0;
        for (uint64_t k = 0; k < f->average; k++)
            sum += element(t, row, first + k);
        out[j] = (float)(sum / (double)f->average);
    }
}

/* Per-class sums, 256 x out_samples each. */
typedef struct accum {
    uint64_t m;
    double count[NCLASSES];
    double *sum, *sq;
} accum;

static void accumulate(accum *a, uint8_t label, const float *y)
{
    double *s = a->sum + (size_t)label * a->m, *q = a->sq + (size_t)label * a->m;
    a->count[label] += 1.0;
    for (uint64_t j = 0; j < a->m; j++) {
        s[j] += y[j];
        q[j] += (double)y[j] * y[j];
    }
}

/* stats: mean, variance, snr one after another (3 * m). */
static void finish_stats(const accum *a, double *stats)
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
        stats[2 * a->m + j] = noise > 0 ? signal / noise : 0.0;
    }
}

typedef struct job {
    options *o;
    sb_store *in_store, *out_store;
    sb_dataset *in, *out;
    size_t nfields, data_index, pt_index, key_index;
    sb_field_info *info; /* input fields */
    filter f;
} job;

static int inspect_input(job *j)
{
    j->nfields = sb_dataset_nfields(j->in);
    j->info = calloc(j->nfields ? j->nfields : 1, sizeof *j->info);
    if (!j->info) {
        cli_error_local("out of memory");
        return -1;
    }
    for (size_t i = 0; i < j->nfields; i++)
        sb_dataset_field_info(&j->info[i], j->in, i);
    const char *need[3] = {j->o->field, "plaintext", "key"};
    size_t *where[3] = {&j->data_index, &j->pt_index, &j->key_index};
    for (int k = 0; k < 3; k++) {
        if (sb_dataset_field_index(where[k], j->in, need[k]) != 0) {
            cli_error("dataset '%s' has no field '%s'%s", j->o->dataset, need[k],
                      k ? " (the SNR needs plaintext and key)" : "");
            return -1;
        }
        const sb_field_info *fi = &j->info[*where[k]];
        if (sb_dataset_size(j->in) > 0 && !fi->defined) {
            cli_error("field '%s' of dataset '%s' has no type", need[k], j->o->dataset);
            return -1;
        }
        if (k > 0 && fi->defined &&
            (fi->dtype != SB_UINT8 || fi->row_ndim != 1 || fi->row_shape[0] < 1)) {
            cli_error("field '%s' of dataset '%s' must be uint8 bytes per row", need[k],
                      j->o->dataset);
            return -1;
        }
    }
    const sb_field_info *d = &j->info[j->data_index];
    if (d->defined && (d->row_ndim != 1 || d->dtype == SB_BOOL)) {
        cli_error("field '%s' of dataset '%s' must hold one numeric vector per row",
                  j->o->field, j->o->dataset);
        return -1;
    }
    if (!d->defined) {
        cli_error("field '%s' of dataset '%s' is empty: nothing to preprocess", j->o->field,
                  j->o->dataset);
        return -1;
    }
    return plan_filter(j->o, d->row_shape[0], &j->f);
}

static int create_output(job *j)
{
    const char **names = calloc(j->nfields, sizeof *names);
    if (!names) {
        cli_error_local("out of memory");
        return -1;
    }
    for (size_t i = 0; i < j->nfields; i++)
        names[i] = j->info[i].name;
    char what[512];
    snprintf(what, sizeof what, "cannot create output dataset '%s'", j->o->output);
    int rc = sb_store_create_dataset(&j->out, j->out_store, j->o->output, sb_dataset_size(j->in), j->nfields, names);
    free(names);
    if (failed(rc, what))
        return -1;
    for (size_t i = 0; i < j->nfields; i++) {
        const sb_field_info *fi = &j->info[i];
        if (!fi->defined)
            continue;
        snprintf(what, sizeof what, "cannot define output field '%s'", fi->name);
        rc = i == j->data_index
                 ? sb_dataset_define_field(j->out, fi->name, SB_FLOAT32, 1, &j->f.out_samples)
                 : sb_dataset_define_field(j->out, fi->name, fi->dtype, fi->row_ndim,
                                           fi->row_shape);
        if (failed(rc, what))
            return -1;
    }
    return 0;
}

/* Process every row: read, filter, accumulate, write. */
static int process(job *j, accum *a)
{
    uint64_t size = sb_dataset_size(j->in), chunk = j->o->chunk;
    uint64_t per_round = chunk * (uint64_t)cli_nranks();
    size_t nf = j->nfields, m = (size_t)j->f.out_samples;
    void **in_buf = calloc(nf, sizeof *in_buf);
    float *out_buf = malloc((chunk * m > 0 ? chunk * m : 1) * sizeof *out_buf);
    sb_array *c = calloc(nf ? nf : 1, sizeof *c);
    int rc = in_buf && out_buf && c ? 0 : SB_ERR_NOMEM;
    for (size_t i = 0; rc == 0 && i < nf; i++)
        if (j->info[i].defined && !(in_buf[i] = malloc(chunk * j->info[i].row_bytes)))
            rc = SB_ERR_NOMEM;
    sb_clear_error();
    int status = -1;
    if (failed(rc, "cannot allocate the chunk buffers"))
        goto done;
    cli_progress progress;
    cli_progress_start(&progress, cli_rank() == 0 && cli_progress_wanted(j->o->progress), PROG,
                       size, (double)j->info[j->data_index].row_bytes);
    for (uint64_t base = 0; base < size; base += per_round) {
        uint64_t round = size - base < per_round ? size - base : per_round, first, rows;
        block(round, cli_rank(), cli_nranks(), &first, &rows);
        first += base;
        for (size_t i = 0; i < nf; i++) {
            if (!j->info[i].defined)
                continue;
            char what[300];
            snprintf(what, sizeof what, "cannot read field '%s'", j->info[i].name);
            if (failed(sb_dataset_read_all(in_buf[i], j->in, j->info[i].name, first, rows),
                       what))
                goto done;
        }
        const sb_field_info *d = &j->info[j->data_index];
        const uint8_t *pt = in_buf[j->pt_index], *key = in_buf[j->key_index];
        for (uint64_t r = 0; r < rows; r++) {
            float *y = out_buf + r * m;
            filter_row(&j->f, d->dtype, (const char *)in_buf[j->data_index] + r * d->row_bytes, y);
            uint8_t label = sb_aes_sbox[pt[r * j->info[j->pt_index].row_bytes] ^
                                        key[r * j->info[j->key_index].row_bytes]];
            accumulate(a, label, y);
        }
        for (size_t i = 0; i < nf; i++) {
            const sb_field_info *fi = &j->info[i];
            uint64_t shape[SB_MAX_DIMS] = {rows};
            if (i == j->data_index) {
                shape[1] = m;
                sb_array_wrap(&c[i], SB_FLOAT32, 2, shape, out_buf);
            } else {
                for (int k = 0; k < fi->row_ndim; k++)
                    shape[k + 1] = fi->row_shape[k];
                sb_array_wrap(&c[i], fi->dtype, fi->row_ndim + 1, shape, in_buf[i]);
            }
        }
        if (failed(sb_dataset_extend(j->out, sb_dataset_nfields(j->out), c), "cannot write the preprocessed rows"))
            goto done;
        cli_progress_update(&progress, base + round);
    }
    cli_progress_finish(&progress, size);
    status = 0;
done:
    for (size_t i = 0; in_buf && i < nf; i++)
        free(in_buf[i]);
    free(in_buf);
    free(out_buf);
    free(c);
    return status;
}

/* Carry the input's assets over, then the settings extended with ours. */
static int write_assets(job *j, const double *stats)
{
    char **names = NULL;
    size_t count = 0;
    if (failed(sb_dataset_asset_names(&names, &count, j->in), "cannot list the input assets"))
        return -1;
    int status = 0;
    for (size_t i = 0; i < count && status == 0; i++) {
        sb_array a;
        char what[300];
        snprintf(what, sizeof what, "cannot copy asset '%s'", names[i]);
        int rc = sb_dataset_get_asset_array(&a, j->in, names[i]);
        if (rc == 0) {
            rc = sb_dataset_add_asset_array(j->out, names[i], &a, true);
            sb_free(a.data);
        }
        if (failed(rc, what))
            status = -1;
    }
    sb_free(names);
    if (status)
        return -1;

    cJSON *settings = NULL;
    sb_array info;
    bool has = sb_dataset_asset_info(&info, j->in, SETTINGS_ASSET) == 0;
    if (has && failed(sb_dataset_get_json_asset(&settings, j->in, SETTINGS_ASSET),
                      "cannot read the input settings asset '" SETTINGS_ASSET "'"))
        return -1;
    if (!settings)
        settings = cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(settings, "preprocess");
    cJSON *p = cJSON_AddObjectToObject(settings, "preprocess");
    cJSON_AddStringToObject(p, "generator", PROG);
    cJSON_AddStringToObject(p, "version", sb_version());
    cJSON_AddStringToObject(p, "input_store", j->o->in);
    cJSON_AddStringToObject(p, "input_dataset", j->o->dataset);
    cJSON_AddStringToObject(p, "field", j->o->field);
    cJSON *w = cJSON_AddArrayToObject(p, "window");
    cJSON_AddItemToArray(w, cJSON_CreateNumber((double)j->f.start));
    cJSON_AddItemToArray(w, cJSON_CreateNumber((double)j->f.end));
    cJSON_AddNumberToObject(p, "average", (double)j->f.average);
    cJSON_AddNumberToObject(p, "decimate", (double)j->f.decimate);
    cJSON_AddNumberToObject(p, "output_samples", (double)j->f.out_samples);
    cJSON_AddStringToObject(p, "output_dtype", "float32");
    cJSON_AddStringToObject(p, "mapping", "output sample j = mean of input samples "
                                          "[start + j*decimate, start + j*decimate + average)");
    cJSON_AddNumberToObject(p, "chunk", (double)j->o->chunk);
    cJSON_AddNumberToObject(p, "ranks", cli_nranks());
    cJSON_AddStringToObject(p, "snr_label", "sbox[plaintext[0] ^ key[0]]");
    cJSON *names_j = cJSON_AddArrayToObject(p, "stats_assets");
    const char *stat_names[3] = {"mean", "variance", "snr"};
    for (int k = 0; k < 3; k++)
        cJSON_AddItemToArray(names_j, cJSON_CreateString(stat_names[k]));
    int rc = sb_dataset_add_json_asset(j->out, SETTINGS_ASSET, settings, true);
    cJSON_Delete(settings);
    if (failed(rc, "cannot store the settings asset"))
        return -1;

    for (int k = 0; k < 3; k++) {
        sb_array a;
        uint64_t shape = j->f.out_samples;
        char what[64];
        snprintf(what, sizeof what, "cannot store asset '%s'", stat_names[k]);
        sb_array_wrap(&a, SB_FLOAT64, 1, &shape, stats + (size_t)k * shape);
        if (failed(sb_dataset_add_asset_array(j->out, stat_names[k], &a, true), what))
            return -1;
    }
    return 0;
}

static void print_top(const job *j, const double *snr, uint64_t top)
{
    uint64_t m = j->f.out_samples;
    if (top > m)
        top = m;
    bool *taken = calloc(m, sizeof *taken);
    if (!taken)
        return;
    printf("top SNR of sbox[plaintext[0] ^ key[0]] (%" PRIu64 " output samples):\n", m);
    for (uint64_t k = 0; k < top; k++) {
        uint64_t best = m;
        for (uint64_t s = 0; s < m; s++)
            if (!taken[s] && (best == m || snr[s] > snr[best]))
                best = s;
        taken[best] = true;
        uint64_t lo = j->f.start + best * j->f.decimate;
        printf("  sample %" PRIu64 " (input %" PRIu64 "..%" PRIu64 ") snr %.6g\n", best, lo,
               lo + j->f.average - 1, snr[best]);
    }
    fflush(stdout);
    free(taken);
}

static int preprocess(job *j)
{
    accum a = {0};
    double *stats = NULL;
    int status = -1;
    char what[600];
    snprintf(what, sizeof what, "cannot load dataset '%s'", j->o->dataset);
    if (failed(sb_store_load_dataset(&j->in, j->in_store, j->o->dataset), what))
        return -1;
    if (inspect_input(j) || create_output(j))
        goto done;
    a.m = j->f.out_samples;
    a.sum = calloc(NCLASSES * a.m, sizeof *a.sum);
    a.sq = calloc(NCLASSES * a.m, sizeof *a.sq);
    stats = calloc(3 * a.m, sizeof *stats);
    sb_clear_error();
    if (failed(a.sum && a.sq && stats ? 0 : SB_ERR_NOMEM, "cannot allocate the statistics"))
        goto done;
    if (process(j, &a))
        goto done;
    /* The sums are exact merges of every rank's rows; the derived statistics
     * come from rank 0 alone so that all ranks store the same bits. */
    MPI_Allreduce(MPI_IN_PLACE, a.count, NCLASSES, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, a.sum, (int)(NCLASSES * a.m), MPI_DOUBLE, MPI_SUM,
                  MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, a.sq, (int)(NCLASSES * a.m), MPI_DOUBLE, MPI_SUM,
                  MPI_COMM_WORLD);
    if (cli_rank() == 0)
        finish_stats(&a, stats);
    MPI_Bcast(stats, (int)(3 * a.m), MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (write_assets(j, stats))
        goto done;
    if (failed(sb_dataset_flush(j->out), "cannot flush the output dataset"))
        goto done;
    if (cli_rank() == 0) {
        printf("preprocessed %" PRIu64 " rows of %" PRIu64 " samples into '%s' (%" PRIu64
               " samples)\n",
               sb_dataset_size(j->out), j->info[j->data_index].row_shape[0], j->o->output,
               j->f.out_samples);
        print_top(j, stats + 2 * a.m, j->o->top);
    }
    status = 0;
done:
    free(a.sum);
    free(a.sq);
    free(stats);
    free(j->info);
    j->info = NULL;
    if (j->out && failed(sb_dataset_close(j->out), "cannot close the output dataset"))
        status = -1;
    if (j->in && failed(sb_dataset_close(j->in), "cannot close the input dataset"))
        status = -1;
    return status;
}

static int run(int argc, char **argv)
{
    options o = {.dataset = "acquisition", .output = "preprocessed", .field = "data",
                 .average = 1, .decimate = 1, .chunk = 1000, .top = 5};
    const cli_option opts[] = {
        {"dataset", 0, CLI_OPT_STRING, &o.dataset},
        {"output", 0, CLI_OPT_STRING, &o.output},
        {"field", 0, CLI_OPT_STRING, &o.field},
        {"window", 0, CLI_OPT_STRING, &o.window},
        {"average", 0, CLI_OPT_U64, &o.average},
        {"decimate", 0, CLI_OPT_U64, &o.decimate},
        {"chunk", 0, CLI_OPT_U64, &o.chunk},
        {"top", 0, CLI_OPT_U64, &o.top},
        {"progress", 0, CLI_OPT_FLAG, &o.progress},
        {"version", 0, CLI_OPT_FLAG, &o.version},
    };
    const char *const pos_names[] = {"IN", "OUT"};
    const char *pos[2] = {NULL, NULL};
    size_t npos = 0;
    cli_parse_result pr = cli_parse(NULL, argc - 1, argv + 1, opts,
                                    sizeof opts / sizeof opts[0], pos_names, 2, 0, pos, &npos);
    if (pr == CLI_PARSE_HELP) {
        usage();
        return CLI_EXIT_OK;
    }
    if (pr != CLI_PARSE_OK)
        return CLI_EXIT_USAGE;
    if (o.version) {
        if (cli_rank() == 0)
            printf(PROG " %s (HDF5 %s)\n", sb_version(), sb_hdf5_version());
        return CLI_EXIT_OK;
    }
    if (npos < 2) {
        cli_usage_error(NULL, "missing argument %s", npos ? "OUT" : "IN");
        return CLI_EXIT_USAGE;
    }
    o.in = pos[0];
    o.out = pos[1];
    if (o.chunk == 0 || o.average == 0 || o.decimate == 0) {
        cli_usage_error(NULL, "--chunk, --average and --decimate must be at least 1");
        return CLI_EXIT_USAGE;
    }
    if (!o.output[0] || !o.dataset[0]) {
        cli_usage_error(NULL, "--dataset and --output must not be empty");
        return CLI_EXIT_USAGE;
    }
    bool same = strcmp(o.in, o.out) == 0;
    if (same && strcmp(o.dataset, o.output) == 0) {
        cli_usage_error(NULL, "--output must differ from --dataset when IN and OUT are the same store");
        return CLI_EXIT_USAGE;
    }

    sb_store_options so;
    sb_store_options_init(&so, SB_STORE_OPTIONS_VERSION);
    so.comm = MPI_COMM_WORLD;
    job j = {.o = &o};
    char what[1200];
    snprintf(what, sizeof what, "cannot open store '%s'", o.in);
    /* One store may be both: HDF5 cannot open a file twice for writing. */
    if (failed(sb_store_open(&j.in_store, o.in, same ? SB_READ_WRITE : SB_READ, &so), what))
        return CLI_EXIT_FAILURE;
    int status = 0;
    if (same) {
        j.out_store = j.in_store;
    } else {
        snprintf(what, sizeof what, "cannot open store '%s'", o.out);
        if (failed(sb_store_open(&j.out_store, o.out, SB_READ_WRITE_CREATE, &so), what))
            status = -1;
    }
    if (status == 0)
        status = preprocess(&j);
    if (j.out_store && !same && failed(sb_store_close(j.out_store), "cannot close the output store"))
        status = -1;
    if (failed(sb_store_close(j.in_store), "cannot close the input store"))
        status = -1;
    return status == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    cli_init(PROG);
    int code = run(argc, argv);
    MPI_Finalize();
    return code;
}
