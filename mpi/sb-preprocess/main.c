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
 *     snr[j]      = signal / noise (NaN where noise is 0: undefined, as when
 *                   every class holds at most one trace; a warning says so)
 * classes weighted by their counts. The sums cost 2 x 256 doubles (4 KiB)
 * per output sample on every rank. Rank 0 derives them and broadcasts, so
 * every rank stores bit-identical assets. They are stored as float64 asset
 * arrays "mean", "variance" and "snr" of the output dataset. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mpi.h>
#include <secbench/storage.h>

#include "aes.h"
#include "dsp.h"
#include "output.h"
#include "prog.h"
#include "progress.h"

#define PROG "sb-preprocess"
#define SETTINGS_ASSET "acquisition.json"

static const char *const STAT_NAMES[3] = {"mean", "variance", "snr"};

typedef struct options {
    const char *in, *out, *dataset, *output, *field, *window;
    uint64_t average, decimate, chunk, top;
    bool progress;
} options;

static const char help[] =
    "Usage: mpirun -n N " PROG " IN OUT [options]\n"
    "\n"
    "Read dataset NAME of store IN, crop each trace to a window, smooth it with a\n"
    "moving average of width W and keep every D-th value, write the result\n"
    "(float32 samples, other fields carried over) as dataset OUTPUT of store OUT\n"
    "(created if missing; IN and OUT may be the same store), and store per-sample\n"
    "mean, variance and the SNR of SBOX[plaintext[0]^key[0]] as float64 asset\n"
    "arrays 'mean', 'variance', 'snr' of OUTPUT. The input's other assets are\n"
    "copied, its '" SETTINGS_ASSET "' extended with a \"preprocess\" member.\n"
    "Output sample j = mean of input samples [START + j*D, START + j*D + W).\n"
    "The SNR is undefined (stored as NaN, with a warning) at a sample where no\n"
    "class shows any variation, as when every class holds at most one trace.\n"
    "\n"
    "OUTPUT must not exist: nothing is replaced. While the job runs OUTPUT is\n"
    "marked unfinished (_sb_incomplete); a job that fails removes it (and OUT,\n"
    "if it created it), a job whose report cannot be written to stdout too;\n"
    "a job killed half-way leaves it marked, and\n"
    "'secbench-db rm OUT OUTPUT' removes it. An input marked unfinished is\n"
    "processed with a warning, and the output keeps the mark. Fields of a type\n"
    "this library cannot read are left out, with a warning.\n"
    "\n"
    "  --dataset NAME     input dataset (default \"acquisition\")\n"
    "  --output NAME      output dataset (default \"preprocessed\")\n"
    "  --field NAME       samples field (default \"data\")\n"
    "  --window START:END input samples [START, END) (default: all; either side\n"
    "                     may be omitted)\n"
    "  --average W        moving-average width, at least 1 (default 1)\n"
    "  --decimate D       keep every D-th filtered sample, at least 1 (default 1)\n"
    "  --chunk N          rows per rank in memory at once (default 1000; at most\n"
    "                     the rows a rank processes)\n"
    "  --top K            print the K samples of highest SNR (default 5)\n"
    "  --progress         progress and rate on stderr (default: only when stderr\n"
    "                     is a terminal)\n"
    "  -V, --version      program, library, HDF5 and MPI versions\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 on success, 1 on failure (no such store, dataset or field,\n"
    "OUTPUT exists, the store is being written by another job, an I/O error,\n"
    "stdout cannot be written),\n"
    "2 on a command-line mistake (including a --window or --average that does\n"
    "not fit the traces of the input).\n"
    "\n";

/* The window "START:END" (either side may be empty: 0 and the trace length). */
static int parse_window(const char *text, uint64_t samples, filter *f)
{
    bool end_given = false;
    f->start = 0;
    f->end = samples;
    if (!text)
        return 0;
    if (!cli_parse_range(text, &f->start, &f->end, &end_given)) {
        cli_usage_error(NULL, "--window expects START:END with non-negative integers, got '%s'",
                        text);
        return -1;
    }
    if (!end_given)
        f->end = samples;
    if (f->start >= f->end || f->end > samples) {
        cli_usage_error(NULL, "--window %s is not inside the %" PRIu64 " samples of a trace "
                        "(need START < END <= %" PRIu64 ")", text, samples, samples);
        return -1;
    }
    return 0;
}

static int plan_filter(const options *o, uint64_t samples, filter *f)
{
    if (parse_window(o->window, samples, f))
        return -1;
    if (o->average > f->end - f->start) {
        cli_usage_error(NULL, "--average %" PRIu64 " is wider than the window (%" PRIu64
                        " samples)", o->average, f->end - f->start);
        return -1;
    }
    f->average = o->average;
    f->decimate = o->decimate;
    f->out_samples = (f->end - f->start - f->average) / f->decimate + 1;
    /* The per-class sums travel in one MPI_Allreduce whose count is an int. */
    if (f->out_samples > (uint64_t)(INT_MAX / NCLASSES)) {
        cli_usage_error(NULL, "%" PRIu64 " output samples are too many for the statistics (at most %d); "
                  "crop with --window or raise --decimate", f->out_samples, INT_MAX / NCLASSES);
        return -1;
    }
    return 0;
}

typedef struct job {
    options *o;
    sb_store *in_store, *out_store;
    sb_dataset *in, *out;
    size_t nfields, data_index, pt_index, key_index;
    sb_field_info *info; /* input fields */
    bool *keep;          /* input fields carried over (defined and supported) */
    bool in_incomplete;
    bool out_created;    /* this run created the output dataset */
    filter f;
} job;

/* Look at the input: the fields it needs, the filter. Returns an exit
 * status (0 to go on). Every rank sees the same dataset, so every rank
 * decides alike. */
static int inspect_input(job *j)
{
    char shown[1024], type[128];
    out_shown(shown, sizeof shown, j->o->dataset);
    j->nfields = sb_dataset_nfields(j->in);
    j->info = calloc(j->nfields ? j->nfields : 1, sizeof *j->info);
    j->keep = calloc(j->nfields ? j->nfields : 1, sizeof *j->keep);
    if (prog_failed_if(!j->info || !j->keep, "out of memory"))
        return CLI_EXIT_FAILURE;
    const char *need[3] = {j->o->field, "plaintext", "key"};
    size_t *where[3] = {&j->data_index, &j->pt_index, &j->key_index};
    for (int k = 0; k < 3; k++)
        if (sb_dataset_field_index(where[k], j->in, need[k]) != 0) {
            cli_error("dataset '%s' has no field '%s'%s", shown, need[k],
                      k ? " (the SNR needs plaintext and key)" : "");
            return CLI_EXIT_FAILURE;
        }
    for (size_t i = 0; i < j->nfields; i++) {
        sb_field_info *fi = &j->info[i];
        if (prog_failed(sb_dataset_field_info(fi, j->in, i)))
            return CLI_EXIT_FAILURE;
        j->keep[i] = fi->defined && fi->supported;
        bool needed = i == j->data_index || i == j->pt_index || i == j->key_index;
        if (fi->defined && !fi->supported) {
            if (needed) {
                cli_error("field '%s' of dataset '%s' is of type %s, which this library "
                          "cannot read", fi->name, shown, out_field_type(type, sizeof type, fi));
                return CLI_EXIT_FAILURE;
            }
            cli_warning("field '%s' of dataset '%s' is left out: its type, %s, is not one "
                        "this library can read", fi->name, shown, out_field_type(type, sizeof type, fi));
        }
        if (needed && !fi->defined) {
            cli_error("field '%s' of dataset '%s' has no type (no row written): nothing to "
                      "preprocess", fi->name, shown);
            return CLI_EXIT_FAILURE;
        }
    }
    for (int k = 1; k < 3; k++) {
        const sb_field_info *fi = &j->info[*where[k]];
        if (fi->dtype != SB_UINT8 || fi->row_ndim != 1 || fi->row_shape[0] < 1) {
            cli_error("field '%s' of dataset '%s' must be uint8 bytes per row", need[k], shown);
            return CLI_EXIT_FAILURE;
        }
    }
    const sb_field_info *d = &j->info[j->data_index];
    if (d->row_ndim != 1 || d->dtype == SB_BOOL || d->dtype == SB_FLOAT16 ||
        d->dtype == SB_COMPLEX64 || d->dtype == SB_COMPLEX128 || sb_dtype_is_bytes(d->dtype)) {
        cli_error("field '%s' of dataset '%s' must hold one real numeric vector per row",
                  j->o->field, shown);
        return CLI_EXIT_FAILURE;
    }
    if (sb_dataset_size(j->in) == 0) {
        cli_error("dataset '%s' holds no rows: nothing to preprocess", shown);
        return CLI_EXIT_FAILURE;
    }
    j->in_incomplete = sb_dataset_is_incomplete(j->in);
    if (j->in_incomplete)
        cli_warning("dataset '%s' is marked unfinished (_sb_incomplete, %" PRIu64 " of %" PRIu64
                    " rows): its %" PRIu64 " rows are processed and the output keeps the mark",
                    shown, sb_dataset_size(j->in), sb_dataset_capacity(j->in),
                    sb_dataset_size(j->in));
    return plan_filter(j->o, d->row_shape[0], &j->f) ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}

/* The output must not exist; say how to clear one left by a killed run. */
static int output_is_free(job *j)
{
    bool exists = false;
    sb_dataset *old = NULL;
    char shown[1024];
    if (prog_failed(sb_store_has_dataset(&exists, j->out_store, j->o->output)))
        return -1;
    if (!exists)
        return 0;
    out_shown(shown, sizeof shown, j->o->output);
    bool unfinished = sb_store_load_dataset(&old, j->out_store, j->o->output) == 0 &&
                      sb_dataset_is_incomplete(old);
    if (old)
        sb_dataset_close(old);
    if (unfinished)
        cli_error("output dataset '%s' of %s already exists, unfinished (left by a run that was "
                  "cut short): remove it with 'secbench-db rm %s %s' and run again",
                  shown, j->o->out, j->o->out, shown);
    else
        cli_error("output dataset '%s' of %s already exists: choose another --output, or "
                  "remove it with 'secbench-db rm --force %s %s'", shown, j->o->out, j->o->out,
                  shown);
    return -1;
}

static int create_output(job *j)
{
    const char **names = calloc(j->nfields, sizeof *names);
    size_t n = 0;
    if (prog_failed_if(!names, "out of memory"))
        return -1;
    for (size_t i = 0; i < j->nfields; i++)
        if (j->keep[i])
            names[n++] = j->info[i].name;
    int rc = sb_store_create_dataset(&j->out, j->out_store, j->o->output,
                                     sb_dataset_size(j->in), n, names);
    free(names);
    if (prog_failed(rc))
        return -1;
    j->out_created = true;
    /* Until the last row and asset are in, it says it is unfinished. */
    if (prog_failed(sb_dataset_set_incomplete(j->out, true)))
        return -1;
    for (size_t i = 0; i < j->nfields; i++) {
        const sb_field_info *fi = &j->info[i];
        if (!j->keep[i])
            continue;
        rc = i == j->data_index
                 ? sb_dataset_define_field(j->out, fi->name, SB_FLOAT32, 1, &j->f.out_samples)
                 : sb_dataset_define_field(j->out, fi->name, fi->dtype, fi->row_ndim,
                                           fi->row_shape);
        if (prog_failed(rc))
            return -1;
    }
    return 0;
}

/* Process every row: read, filter, accumulate, write. */
static int process(job *j, accum *a)
{
    uint64_t size = sb_dataset_size(j->in), biggest = prog_block_max(size);
    /* Memory for one round: never more rows than a rank processes. */
    uint64_t chunk = j->o->chunk < biggest ? j->o->chunk : biggest;
    uint64_t per_round = chunk * (uint64_t)cli_nranks();
    size_t nf = j->nfields, m = (size_t)j->f.out_samples, nout = 0;
    void **in_buf = calloc(nf, sizeof *in_buf);
    float *out_buf = chunk <= SIZE_MAX / sizeof(float) / m ? malloc(chunk * m * sizeof *out_buf)
                                                           : NULL;
    sb_array *c = calloc(nf, sizeof *c);
    bool ok = in_buf && out_buf && c;
    for (size_t i = 0; ok && i < nf; i++)
        if (j->keep[i] && !(in_buf[i] = malloc(chunk * j->info[i].row_bytes)))
            ok = false;
    int status = -1;
    if (prog_failed_if(!ok, "cannot allocate the buffers for %" PRIu64 " rows; lower --chunk",
                       chunk))
        goto done;
    cli_progress progress;
    cli_progress_start(&progress, cli_rank() == 0 && cli_progress_wanted(j->o->progress), PROG,
                       size, (double)j->info[j->data_index].row_bytes);
    for (uint64_t base = 0; base < size; base += per_round) {
        uint64_t round = size - base < per_round ? size - base : per_round, first, rows;
        prog_block(round, &first, &rows);
        first += base;
        for (size_t i = 0; i < nf; i++)
            if (j->keep[i] &&
                prog_failed(sb_dataset_read_all(in_buf[i], j->in, j->info[i].name, first, rows)))
                goto done;
        const sb_field_info *d = &j->info[j->data_index];
        const uint8_t *pt = in_buf[j->pt_index], *key = in_buf[j->key_index];
        for (uint64_t r = 0; r < rows; r++) {
            float *y = out_buf + r * m;
            filter_row(&j->f, d->dtype, (const char *)in_buf[j->data_index] + r * d->row_bytes, y);
            uint8_t label = sb_aes_sbox[pt[r * j->info[j->pt_index].row_bytes] ^
                                        key[r * j->info[j->key_index].row_bytes]];
            accumulate(a, label, y);
        }
        nout = 0;
        for (size_t i = 0; i < nf; i++) {
            const sb_field_info *fi = &j->info[i];
            uint64_t shape[SB_MAX_DIMS] = {rows};
            if (!j->keep[i])
                continue;
            if (i == j->data_index) {
                shape[1] = m;
                sb_array_wrap(&c[nout++], SB_FLOAT32, 2, shape, out_buf);
            } else {
                for (int k = 0; k < fi->row_ndim; k++)
                    shape[k + 1] = fi->row_shape[k];
                sb_array_wrap(&c[nout++], fi->dtype, fi->row_ndim + 1, shape, in_buf[i]);
            }
        }
        if (prog_failed(sb_dataset_extend(j->out, nout, c)))
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

static bool is_stat_name(const char *name)
{
    for (int k = 0; k < 3; k++)
        if (strcmp(name, STAT_NAMES[k]) == 0)
            return true;
    return false;
}

/* The input's settings extended with what this run did. */
static cJSON *settings_of(job *j)
{
    cJSON *settings = NULL;
    sb_array info;
    bool has = sb_dataset_asset_info(&info, j->in, SETTINGS_ASSET) == 0;
    if (has && prog_failed(sb_dataset_get_json_asset(&settings, j->in, SETTINGS_ASSET)))
        return NULL;
    if (!settings)
        settings = cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(settings, "preprocess");
    cJSON *p = cJSON_AddObjectToObject(settings, "preprocess");
    cJSON_AddStringToObject(p, "generator", PROG);
    cJSON_AddStringToObject(p, "version", sb_version());
    cJSON_AddItemToObject(p, "input_store", out_json_string(j->o->in));
    cJSON_AddItemToObject(p, "input_dataset", out_json_string(j->o->dataset));
    cJSON_AddItemToObject(p, "field", out_json_string(j->o->field));
    cJSON *w = cJSON_AddArrayToObject(p, "window");
    cJSON_AddItemToArray(w, sb_json_number_u64(j->f.start));
    cJSON_AddItemToArray(w, sb_json_number_u64(j->f.end));
    out_json_add_u64(p, "average", j->f.average);
    out_json_add_u64(p, "decimate", j->f.decimate);
    out_json_add_u64(p, "output_samples", j->f.out_samples);
    cJSON_AddStringToObject(p, "output_dtype", "float32");
    cJSON_AddStringToObject(p, "mapping", "output sample j = mean of input samples "
                                          "[start + j*decimate, start + j*decimate + average)");
    out_json_add_u64(p, "chunk", j->o->chunk);
    out_json_add_u64(p, "ranks", (uint64_t)cli_nranks());
    cJSON_AddStringToObject(p, "snr_label", "sbox[plaintext[0] ^ key[0]]");
    cJSON_AddStringToObject(p, "snr_undefined", "NaN where no class varies");
    cJSON_AddBoolToObject(p, "input_incomplete", j->in_incomplete);
    cJSON *names_j = cJSON_AddArrayToObject(p, "stats_assets");
    for (int k = 0; k < 3; k++)
        cJSON_AddItemToArray(names_j, cJSON_CreateString(STAT_NAMES[k]));
    return settings;
}

/* The input's assets (but the settings and statistics, which are this
 * run's), the settings, the statistics: all new in the new output, so
 * nothing is replaced. */
static int write_assets(job *j, const double *stats)
{
    char **names = NULL;
    size_t count = 0;
    if (prog_failed(sb_dataset_asset_names(&names, &count, j->in)))
        return -1;
    int status = 0;
    for (size_t i = 0; i < count && status == 0; i++) {
        sb_array a;
        if (strcmp(names[i], SETTINGS_ASSET) == 0 || is_stat_name(names[i]))
            continue;
        int rc = sb_dataset_get_asset_array(&a, j->in, names[i]);
        if (rc == 0) {
            rc = sb_dataset_add_asset_array(j->out, names[i], &a, false);
            sb_free(a.data);
        }
        if (prog_failed(rc))
            status = -1;
    }
    sb_free(names);
    if (status)
        return -1;
    cJSON *settings = settings_of(j);
    if (prog_failed_if(!settings, "cannot build the settings asset"))
        return -1;
    int rc = sb_dataset_add_json_asset(j->out, SETTINGS_ASSET, settings, false);
    cJSON_Delete(settings);
    if (prog_failed(rc))
        return -1;
    for (int k = 0; k < 3; k++) {
        sb_array a;
        uint64_t shape = j->f.out_samples;
        sb_array_wrap(&a, SB_FLOAT64, 1, &shape, stats + (size_t)k * shape);
        if (prog_failed(sb_dataset_add_asset_array(j->out, STAT_NAMES[k], &a, false)))
            return -1;
    }
    return 0;
}

/* Samples where the SNR is undefined get a warning, with why. */
static void warn_undefined(const job *j, const accum *a, const double *snr)
{
    uint64_t m = j->f.out_samples, undefined = 0, rows = 0;
    int classes = 0, shared = 0;
    for (uint64_t s = 0; s < m; s++)
        undefined += isnan(snr[s]) ? 1 : 0;
    if (undefined == 0)
        return;
    for (int c = 0; c < NCLASSES; c++) {
        rows += (uint64_t)a->count[c];
        classes += a->count[c] > 0;
        shared += a->count[c] > 1;
    }
    cli_warning("the SNR is undefined at %" PRIu64 " of %" PRIu64 " output samples, stored as "
                "NaN: no variation inside any class there (%" PRIu64 " traces in %d classes, "
                "%d of them with more than one trace)", undefined, m, rows, classes, shared);
}

static void print_top(const job *j, const double *snr, uint64_t top)
{
    uint64_t m = j->f.out_samples;
    bool *taken = calloc(m, sizeof *taken);
    if (!taken)
        return;
    printf("top SNR of sbox[plaintext[0] ^ key[0]] (%" PRIu64 " output samples):\n", m);
    for (uint64_t k = 0; k < top && k < m; k++) {
        uint64_t best = m;
        for (uint64_t s = 0; s < m; s++)
            if (!taken[s] && !isnan(snr[s]) && (best == m || snr[s] > snr[best]))
                best = s;
        if (best == m) {
            if (k == 0)
                printf("  undefined at every sample\n");
            break;
        }
        taken[best] = true;
        uint64_t lo = j->f.start + best * j->f.decimate;
        printf("  sample %" PRIu64 " (input %" PRIu64 "..%" PRIu64 ") snr %.6g\n", best, lo,
               lo + j->f.average - 1, snr[best]);
    }
    free(taken);
}

/* Returns an exit status. */
static int preprocess(job *j)
{
    accum a = {0};
    double *stats = NULL;
    int status = CLI_EXIT_FAILURE;
    if (prog_failed(sb_store_load_dataset(&j->in, j->in_store, j->o->dataset)))
        return CLI_EXIT_FAILURE;
    int code = inspect_input(j);
    if (code != CLI_EXIT_OK) {
        status = code;
        goto done;
    }
    if (output_is_free(j) || create_output(j))
        goto done;
    a.m = j->f.out_samples;
    a.sum = calloc(NCLASSES * a.m, sizeof *a.sum);
    a.sq = calloc(NCLASSES * a.m, sizeof *a.sq);
    stats = calloc(3 * a.m, sizeof *stats);
    if (prog_failed_if(!a.sum || !a.sq || !stats, "cannot allocate the statistics") ||
        process(j, &a))
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
    /* Finished, unless what it was made from is not. */
    if (!j->in_incomplete && prog_failed(sb_dataset_set_incomplete(j->out, false)))
        goto done;
    if (prog_failed(sb_dataset_flush(j->out)))
        goto done;
    warn_undefined(j, &a, stats + 2 * a.m);
    if (cli_rank() == 0) {
        printf("preprocessed %" PRIu64 " rows of %" PRIu64 " samples into '%s' (%" PRIu64
               " samples)\n",
               sb_dataset_size(j->out), j->info[j->data_index].row_shape[0], j->o->output,
               j->f.out_samples);
        print_top(j, stats + 2 * a.m, j->o->top);
    }
    /* A report that cannot be printed fails the run before the output is
     * closed, so that it is taken away as after any failure. */
    if (!prog_stdout_ok())
        goto done;
    status = CLI_EXIT_OK;
done:
    free(a.sum);
    free(a.sq);
    free(stats);
    if (j->out && prog_failed(sb_dataset_close(j->out)))
        status = CLI_EXIT_FAILURE;
    j->out = NULL;
    if (j->in && prog_failed(sb_dataset_close(j->in)))
        status = CLI_EXIT_FAILURE;
    j->in = NULL;
    return status;
}

/* A failed run takes its output away; when the store no longer takes
 * writes, the output stays, marked unfinished, and a note says how to
 * remove it (the error itself was printed already). */
static void remove_output(job *j)
{
    char shown[1024];
    if (!j->out_created)
        return;
    if (prog_all(sb_store_remove_dataset(j->out_store, j->o->output) == 0))
        return;
    cli_note("the unfinished output '%s' is left in %s, marked _sb_incomplete (%s); remove it "
             "with 'secbench-db rm %s %s'", out_shown(shown, sizeof shown, j->o->output),
             j->o->out, prog_error_text(), j->o->out, shown);
}

static int run(int argc, char **argv)
{
    options o = {.dataset = "acquisition", .output = "preprocessed", .field = "data",
                 .average = 1, .decimate = 1, .chunk = 1000, .top = 5};
    const cli_option opts[] = {
        CLI_STRING("dataset", 0, &o.dataset, NULL),
        CLI_STRING("output", 0, &o.output, NULL),
        CLI_STRING("field", 0, &o.field, NULL),
        CLI_STRING("window", 0, &o.window, NULL),
        CLI_U64("average", 0, &o.average, NULL),
        CLI_U64("decimate", 0, &o.decimate, NULL),
        CLI_U64("chunk", 0, &o.chunk, NULL),
        CLI_U64("top", 0, &o.top, NULL),
        CLI_FLAG("progress", 0, &o.progress),
    };
    const char *const pos_names[] = {"IN", "OUT"};
    const cli_spec spec = {.help = help, .options = opts, .noptions = sizeof opts / sizeof opts[0],
                           .pos_names = pos_names, .npos = 2, .nrequired = 2, .version = true};
    const char *pos[2] = {NULL, NULL};
    size_t npos = 0;
    int code = cli_parse(&spec, argc - 1, argv + 1, pos, &npos);
    if (code >= 0)
        return code;
    o.in = pos[0];
    o.out = pos[1];
    if (o.chunk == 0 || o.average == 0 || o.decimate == 0) {
        cli_usage_error(NULL, "--chunk, --average and --decimate must be at least 1");
        return CLI_EXIT_USAGE;
    }
    if (!o.output[0] || !o.dataset[0] || !o.field[0]) {
        cli_usage_error(NULL, "--dataset, --output and --field must not be empty");
        return CLI_EXIT_USAGE;
    }
    bool same = strcmp(o.in, o.out) == 0 || prog_same_file(o.in, o.out);
    if (same && strcmp(o.dataset, o.output) == 0) {
        cli_usage_error(NULL, "--output must differ from --dataset when IN and OUT are the "
                        "same store");
        return CLI_EXIT_USAGE;
    }

    job j = {.o = &o};
    bool created = false;
    /* One store may be both: HDF5 cannot open a file twice for writing. */
    if (prog_open_store(&j.in_store, o.in, same ? SB_READ_WRITE : SB_READ) != 0)
        return CLI_EXIT_FAILURE;
    if (same)
        j.out_store = j.in_store;
    else if (prog_open_output(&j.out_store, o.out, &created) != 0)
        code = CLI_EXIT_FAILURE;
    if (code < 0)
        code = preprocess(&j);
    if (code != CLI_EXIT_OK && j.out_store && !created)
        remove_output(&j);
    if (j.out_store && !same && prog_close_store(j.out_store) != 0)
        code = CLI_EXIT_FAILURE;
    if (prog_close_store(j.in_store) != 0)
        code = CLI_EXIT_FAILURE;
    if (code != CLI_EXIT_OK && created)
        prog_remove_created(o.out);
    free(j.info);
    free(j.keep);
    return code;
}

int main(int argc, char **argv)
{
    return prog_main(argc, argv, PROG, run);
}
