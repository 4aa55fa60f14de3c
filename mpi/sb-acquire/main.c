/* sb-acquire: a stand-in for a bench of oscilloscopes. Every rank produces
 * traces of the deterministic model (common/tracemodel.h) and the job writes
 * them collectively, in batches, into one dataset; `--verify` regenerates
 * every stored row and compares.
 *
 * Layout: dataset (default "acquisition") of capacity --traces with fields
 * data (int8/int16, one row of --samples), plaintext, ciphertext, key (16
 * uint8 each), and the JSON asset "acquisition.json" holding the settings and
 * the model, so that --verify and a resumed run need nothing else.
 *
 * Order: round k covers the next --batch global indices (cut at multiples of
 * --commit-every); rank r makes the r-th contiguous block of them, and since
 * a collective extend lands rows in rank order, row i of the dataset is
 * always trace i whatever the rank count.
 *
 * Resume: when the dataset exists (a killed or time-sliced run) the job
 * continues at index = size with the stored settings; options that contradict
 * them are refused. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mpi.h>
#include <secbench/storage.h>

#include "cli.h"
#include "progress.h"
#include "tracemodel.h"

#define PROG "sb-acquire"
#define SETTINGS_ASSET "acquisition.json"
#define DEFAULT_DATASET "acquisition"
#define UNSET UINT64_MAX

static const char *const FIELDS[4] = {"data", "plaintext", "ciphertext", "key"};

typedef struct options {
    const char *store;
    const char *dataset;
    const char *dtype;
    const char *rows; /* --rows START:END of --verify, NULL = all */
    uint64_t traces, samples, batch, commit_every, seed, rate, max_rows, chunk;
    bool progress, verify, version;
} options;

static void usage(void)
{
    if (cli_rank() != 0)
        return;
    printf("Usage: mpirun -n N " PROG " STORE [options]\n"
           "       mpirun -n N " PROG " STORE --verify [--dataset NAME] [--rows START:END]\n"
           "\n"
           "Acquire simulated AES-128 side-channel traces into dataset NAME of STORE\n"
           "(opened with mode \"a\"), or resume a partial acquisition at its size.\n"
           "\n"
           "  --dataset NAME      dataset name (default \"" DEFAULT_DATASET "\")\n"
           "  --traces N          traces to acquire = dataset capacity (default 10000)\n"
           "  --samples N         samples per trace, at least 8 (default 1000)\n"
           "  --dtype T           int8 or int16 samples (default int8)\n"
           "  --batch N           traces per collective write, all ranks (default 1000)\n"
           "  --commit-every N    flush and print 'committed N' every N rows\n"
           "                      (default 10000; 0 = only at the end)\n"
           "                      (a resumed run keeps the stored batch and commit-every)\n"
           "  --seed S            model seed, below 2^53 (default 1)\n"
           "  --rate HZ           at most HZ traces/s, like a scope's trigger rate (0 = no limit)\n"
           "  --max-rows N        stop after N new rows (time-sliced jobs; rerun resumes)\n"
           "  --progress          progress and rate on stderr\n"
           "  --verify            regenerate every stored row and compare; prints\n"
           "                      'verified N rows, M mismatches'\n"
           "  --rows START:END    with --verify: only rows START..END-1 (END omitted =\n"
           "                      the dataset size), e.g. what the last run added\n"
           "  --chunk N           rows per rank per read with --verify (default 1000)\n"
           "  --version, --help\n"
           "\n"
           "The settings are stored in the JSON asset \"" SETTINGS_ASSET "\" of the dataset.\n");
}

/* Every rank learns whether any rank failed a call; the lowest failing rank
 * says why, so that the error is one line whatever the rank count. */
static bool failed(int rc, const char *what)
{
    int nranks = cli_nranks(), mine = rc < 0 ? cli_rank() : nranks, first;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == nranks)
        return false;
    if (first == cli_rank())
        fprintf(stderr, PROG ": error: %s: %s\n", what,
                rc < 0 && sb_last_error_message()[0] ? sb_last_error_message()
                                                     : sb_error_name(rc));
    return true;
}

/* Rank r's contiguous block of n items split over `nranks`. */
static void block(uint64_t n, int rank, int nranks, uint64_t *start, uint64_t *count)
{
    uint64_t q = n / (uint64_t)nranks, rem = n % (uint64_t)nranks, r = (uint64_t)rank;
    *start = r * q + (r < rem ? r : rem);
    *count = q + (r < rem ? 1 : 0);
}

static int check_options(options *o, sb_dtype *dtype)
{
    if (o->dtype && sb_dtype_parse(dtype, o->dtype) != 0) {
        cli_usage_error(NULL, "--dtype must be int8 or int16, got '%s'", o->dtype);
        return -1;
    }
    if (o->dtype && *dtype != SB_INT8 && *dtype != SB_INT16) {
        cli_usage_error(NULL, "--dtype must be int8 or int16, got '%s'", o->dtype);
        return -1;
    }
    if (o->traces == 0) {
        cli_usage_error(NULL, "--traces must be at least 1");
        return -1;
    }
    if (o->samples != UNSET && (o->samples < 8 || o->samples > UINT32_MAX)) {
        cli_usage_error(NULL, "--samples must be between 8 and %" PRIu32, UINT32_MAX);
        return -1;
    }
    if (o->seed != UNSET && o->seed > SB_TM_MAX_SEED) {
        cli_usage_error(NULL, "--seed must be below 2^53 (it is stored in JSON)");
        return -1;
    }
    if (o->batch == 0 || o->chunk == 0) { /* UNSET passes: defaults come later */
        cli_usage_error(NULL, "--batch and --chunk must be at least 1");
        return -1;
    }
    return 0;
}

/* The settings asset of a new acquisition. */
static cJSON *settings_json(const sb_trace_model *m, const options *o, const char *dataset,
                            uint64_t traces)
{
    cJSON *s = sb_tm_to_json(m);
    if (!s)
        return NULL;
    cJSON_AddStringToObject(s, "generator", PROG);
    cJSON_AddStringToObject(s, "version", sb_version());
    cJSON_AddStringToObject(s, "dataset", dataset);
    cJSON_AddNumberToObject(s, "traces", (double)traces);
    cJSON_AddNumberToObject(s, "batch", (double)o->batch);
    cJSON_AddNumberToObject(s, "commit_every", (double)o->commit_every);
    cJSON_AddNumberToObject(s, "ranks", cli_nranks());
    cJSON *fields = cJSON_AddArrayToObject(s, "fields");
    for (int f = 0; fields && f < 4; f++)
        cJSON_AddItemToArray(fields, cJSON_CreateString(FIELDS[f]));
    cJSON_AddArrayToObject(s, "runs");
    return s;
}

/* A stored setting against an explicit option: refuse rather than mix two
 * acquisitions in one dataset. */
static int same_setting(const char *dataset, const char *name, uint64_t given,
                        uint64_t stored)
{
    if (given == UNSET || given == stored)
        return 0;
    cli_error("dataset '%s' was acquired with --%s %" PRIu64 ", not %" PRIu64
              "; rerun with the stored settings to resume it, or pick another --dataset",
              dataset, name, stored, given);
    return -1;
}

/* Fix the fields' dtypes and shapes up front so that even an empty dataset
 * says what it will hold, and check them on resume. */
static int prepare_fields(sb_dataset *ds, const sb_trace_model *m)
{
    for (size_t f = 0; f < 4; f++) {
        size_t index;
        sb_field_info info;
        sb_dtype want = f == 0 ? m->dtype : SB_UINT8;
        uint64_t shape = f == 0 ? m->samples : 16;
        int rc = sb_dataset_field_index(&index, ds, FIELDS[f]);
        if (rc == 0)
            rc = sb_dataset_field_info(&info, ds, index);
        if (failed(rc, "dataset has not the fields data, plaintext, ciphertext, key"))
            return -1;
        if (info.defined) {
            if (info.dtype != want || info.row_ndim != 1 || info.row_shape[0] != shape) {
                cli_error("field '%s' is not %s of %" PRIu64 " per row as the settings say",
                          FIELDS[f], sb_dtype_name(want), shape);
                return -1;
            }
            continue;
        }
        char what[96];
        snprintf(what, sizeof what, "cannot define field '%s'", FIELDS[f]);
        if (failed(sb_dataset_define_field(ds, FIELDS[f], want, 1, &shape), what))
            return -1;
    }
    return 0;
}

/* Open or create the dataset; on return *model holds the settings in force. */
static int open_acquisition(sb_store *store, options *o, sb_dtype dtype, sb_dataset **ds,
                            sb_trace_model *model, uint64_t *traces)
{
    bool exists = false;
    char err[256];
    cJSON *settings = NULL;
    if (failed(sb_store_has_dataset(&exists, store, o->dataset), "cannot look for the dataset"))
        return -1;
    if (!exists) {
        *traces = o->traces == UNSET ? 10000 : o->traces;
        if (o->batch == UNSET)
            o->batch = 1000;
        if (o->commit_every == UNSET)
            o->commit_every = 10000;
        if (sb_tm_init(model, o->seed == UNSET ? 1 : o->seed,
                       (uint32_t)(o->samples == UNSET ? 1000 : o->samples), dtype, err,
                       sizeof err)) {
            cli_error("%s", err);
            return -1;
        }
        if (failed(sb_store_create_dataset(ds, store, o->dataset, *traces, 4, FIELDS),
                   "cannot create the dataset"))
            return -1;
        settings = settings_json(model, o, o->dataset, *traces);
    } else {
        if (failed(sb_store_load_dataset(ds, store, o->dataset), "cannot load the dataset"))
            return -1;
        int rc = sb_dataset_get_json_asset(&settings, *ds, SETTINGS_ASSET);
        if (failed(rc, "dataset exists without a readable '" SETTINGS_ASSET
                       "' asset (not an sb-acquire dataset?), refusing to append"))
            return -1;
        if (sb_tm_from_json(model, settings, err, sizeof err)) {
            cli_error("asset '" SETTINGS_ASSET "' of dataset '%s': %s", o->dataset, err);
            cJSON_Delete(settings);
            return -1;
        }
        *traces = sb_dataset_capacity(*ds);
        /* A resumed run keeps the pace of the first one unless told otherwise. */
        const cJSON *batch = cJSON_GetObjectItemCaseSensitive(settings, "batch");
        const cJSON *every = cJSON_GetObjectItemCaseSensitive(settings, "commit_every");
        if (o->batch == UNSET)
            o->batch = cJSON_IsNumber(batch) && batch->valuedouble >= 1 ? (uint64_t)batch->valuedouble : 1000;
        if (o->commit_every == UNSET)
            o->commit_every = cJSON_IsNumber(every) && every->valuedouble >= 0
                                  ? (uint64_t)every->valuedouble : 10000;
        if (same_setting(o->dataset, "traces", o->traces, *traces) ||
            same_setting(o->dataset, "samples", o->samples, model->samples) ||
            same_setting(o->dataset, "seed", o->seed, model->seed)) {
            cJSON_Delete(settings);
            return -1;
        }
        if (o->dtype && dtype != model->dtype) {
            cli_error("dataset '%s' was acquired with --dtype %s, not %s; rerun with the "
                      "stored settings to resume it, or pick another --dataset",
                      o->dataset, sb_dtype_name(model->dtype), o->dtype);
            cJSON_Delete(settings);
            return -1;
        }
    }
    if (!settings) {
        cli_error("out of memory building the settings");
        return -1;
    }
    /* Each run leaves a line: where it started and with how many ranks. */
    cJSON *runs = cJSON_GetObjectItemCaseSensitive(settings, "runs");
    if (!cJSON_IsArray(runs)) {
        cJSON_DeleteItemFromObjectCaseSensitive(settings, "runs");
        runs = cJSON_AddArrayToObject(settings, "runs");
    }
    cJSON *run = cJSON_CreateObject();
    cJSON_AddNumberToObject(run, "start", (double)sb_dataset_size(*ds));
    cJSON_AddNumberToObject(run, "ranks", cli_nranks());
    cJSON_AddNumberToObject(run, "batch", (double)o->batch);
    cJSON_AddItemToArray(runs, run);
    int rc = sb_dataset_add_json_asset(*ds, SETTINGS_ASSET, settings, true);
    cJSON_Delete(settings);
    if (failed(rc, "cannot store the settings asset"))
        return -1;
    return prepare_fields(*ds, model);
}

static void sleep_until(double t)
{
    double d = t - cli_now();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

typedef struct buffers {
    uint8_t *data, *pt, *ct, *key;
} buffers;

static int alloc_buffers(buffers *b, uint64_t rows, size_t row_bytes)
{
    size_t n = rows ? (size_t)rows : 1;
    b->data = malloc(n * row_bytes);
    b->pt = malloc(n * 16);
    b->ct = malloc(n * 16);
    b->key = malloc(n * 16);
    return b->data && b->pt && b->ct && b->key ? 0 : -1;
}

static void free_buffers(buffers *b)
{
    free(b->data);
    free(b->pt);
    free(b->ct);
    free(b->key);
}

static void columns_of(sb_array cols[4], const buffers *b, const sb_trace_model *m,
                       uint64_t rows)
{
    uint64_t shape_data[2] = {rows, m->samples}, shape16[2] = {rows, 16};
    sb_array_wrap(&cols[0], m->dtype, 2, shape_data, b->data);
    sb_array_wrap(&cols[1], SB_UINT8, 2, shape16, b->pt);
    sb_array_wrap(&cols[2], SB_UINT8, 2, shape16, b->ct);
    sb_array_wrap(&cols[3], SB_UINT8, 2, shape16, b->key);
}

static void make_rows(const sb_trace_model *m, uint64_t first, uint64_t rows, buffers *b)
{
    size_t row_bytes = (size_t)m->samples * sb_dtype_size(m->dtype);
    for (uint64_t k = 0; k < rows; k++) {
        sb_tm_inputs(m, first + k, b->pt + 16 * k, b->ct + 16 * k);
        memcpy(b->key + 16 * k, m->key, 16);
        sb_tm_samples(m, first + k, b->pt + 16 * k, b->data + row_bytes * k);
    }
}

static int commit(sb_store *store, sb_dataset *ds)
{
    if (failed(sb_dataset_flush(ds), "cannot flush the dataset") ||
        failed(sb_store_flush(store), "cannot flush the store"))
        return -1;
    if (cli_rank() == 0) {
        printf("committed %" PRIu64 "\n", sb_dataset_size(ds));
        fflush(stdout);
    }
    return 0;
}

static int acquire(sb_store *store, options *o, sb_dtype dtype)
{
    sb_dataset *ds = NULL;
    sb_trace_model m;
    uint64_t traces = 0;
    buffers b = {0};
    int status = -1;
    if (open_acquisition(store, o, dtype, &ds, &m, &traces))
        goto done;
    uint64_t size = sb_dataset_size(ds), next = size;
    uint64_t end = o->max_rows && o->max_rows < traces - size ? size + o->max_rows : traces;
    uint64_t per_rank = (o->batch + (uint64_t)cli_nranks() - 1) / (uint64_t)cli_nranks();
    size_t row_bytes = (size_t)m.samples * sb_dtype_size(m.dtype);
    sb_clear_error();
    if (failed(alloc_buffers(&b, per_rank, row_bytes) ? SB_ERR_NOMEM : 0,
               "cannot allocate the batch buffers"))
        goto done;
    if (size > 0 && cli_rank() == 0)
        fprintf(stderr, PROG ": resuming dataset '%s' at row %" PRIu64 " of %" PRIu64 "\n",
                o->dataset, size, traces);
    cli_progress progress;
    cli_progress_start(&progress, cli_rank() == 0 && cli_progress_wanted(o->progress),
                       PROG, end - size, (double)(row_bytes + 48));
    double t0 = cli_now();
    while (next < end) {
        uint64_t round = end - next < o->batch ? end - next : o->batch;
        if (o->commit_every) {
            uint64_t boundary = (next / o->commit_every + 1) * o->commit_every;
            if (boundary - next < round)
                round = boundary - next;
        }
        uint64_t first, rows;
        block(round, cli_rank(), cli_nranks(), &first, &rows);
        make_rows(&m, next + first, rows, &b);
        if (o->rate && cli_rank() == 0)
            sleep_until(t0 + (double)(next + round - size) / (double)o->rate);
        sb_array cols[4];
        columns_of(cols, &b, &m, rows);
        if (failed(sb_dataset_extend(ds, 4, cols), "cannot write a batch of traces"))
            goto done;
        next += round;
        if (sb_dataset_size(ds) != next) {
            cli_error("dataset size is %" PRIu64 " after a batch, expected %" PRIu64,
                      sb_dataset_size(ds), next);
            goto done;
        }
        cli_progress_update(&progress, next - size);
        if ((o->commit_every && next % o->commit_every == 0) || next == end)
            if (commit(store, ds))
                goto done;
    }
    if (next == size && commit(store, ds)) /* nothing to add: still say what is safe */
        goto done;
    cli_progress_finish(&progress, next - size);
    if (cli_rank() == 0 && next < traces)
        fprintf(stderr, PROG ": stopped at %" PRIu64 " of %" PRIu64
                        " rows (--max-rows); rerun to resume\n", next, traces);
    status = 0;
done:
    free_buffers(&b);
    if (ds && failed(sb_dataset_close(ds), "cannot close the dataset"))
        status = -1;
    return status;
}

/* Compare rows [first, first + rows) as read against the model; returns how
 * many rows differ and names the first few. */
static uint64_t compare_rows(const sb_trace_model *m, uint64_t first, uint64_t rows,
                             const buffers *got, buffers *want, uint64_t *reported)
{
    size_t row_bytes = (size_t)m->samples * sb_dtype_size(m->dtype);
    uint64_t bad = 0;
    make_rows(m, first, rows, want);
    for (uint64_t k = 0; k < rows; k++) {
        const char *which = NULL;
        if (memcmp(got->data + k * row_bytes, want->data + k * row_bytes, row_bytes))
            which = "data";
        else if (memcmp(got->pt + 16 * k, want->pt + 16 * k, 16))
            which = "plaintext";
        else if (memcmp(got->ct + 16 * k, want->ct + 16 * k, 16))
            which = "ciphertext";
        else if (memcmp(got->key + 16 * k, want->key + 16 * k, 16))
            which = "key";
        if (!which)
            continue;
        bad++;
        if ((*reported)++ < 5)
            fprintf(stderr, PROG ": row %" PRIu64 ": %s differs from the model\n", first + k,
                    which);
    }
    return bad;
}

/* --rows START:END (END may be empty: the size) -> [*lo, *hi); -1 after a
 * usage error naming the option. */
static int rows_range(const char *text, uint64_t size, uint64_t *lo, uint64_t *hi)
{
    const char *colon = strchr(text, ':');
    char start[32];
    size_t n = colon ? (size_t)(colon - text) : 0;
    if (!colon || n == 0 || n >= sizeof start) {
        cli_usage_error(NULL, "--rows must be START:END or START:, got '%s'", text);
        return -1;
    }
    memcpy(start, text, n);
    start[n] = '\0';
    *hi = size;
    if (!cli_parse_u64(start, lo) || (colon[1] && !cli_parse_u64(colon + 1, hi))) {
        cli_usage_error(NULL, "--rows must be START:END or START:, got '%s'", text);
        return -1;
    }
    if (*lo > *hi || *hi > size) {
        cli_usage_error(NULL, "--rows %s is not a row range within the dataset's %" PRIu64
                        " rows (START <= END <= size)", text, size);
        return -1;
    }
    return 0;
}

static int verify(sb_store *store, options *o)
{
    sb_dataset *ds = NULL;
    cJSON *settings = NULL;
    sb_trace_model m;
    buffers got = {0}, want = {0};
    char err[256];
    int status = -1;
    if (failed(sb_store_load_dataset(&ds, store, o->dataset), "cannot load the dataset"))
        goto done;
    if (failed(sb_dataset_get_json_asset(&settings, ds, SETTINGS_ASSET),
               "cannot read the settings asset '" SETTINGS_ASSET "'"))
        goto done;
    if (sb_tm_from_json(&m, settings, err, sizeof err)) {
        cli_error("asset '" SETTINGS_ASSET "' of dataset '%s': %s", o->dataset, err);
        goto done;
    }
    uint64_t size = sb_dataset_size(ds), lo = 0, hi = size;
    if (o->rows && rows_range(o->rows, size, &lo, &hi)) {
        status = -2;
        goto done;
    }
    for (size_t f = 0; f < 4 && size > 0; f++) {
        size_t index;
        sb_field_info info;
        sb_dtype want_dt = f == 0 ? m.dtype : SB_UINT8;
        uint64_t shape = f == 0 ? m.samples : 16;
        int rc = sb_dataset_field_index(&index, ds, FIELDS[f]);
        if (rc == 0)
            rc = sb_dataset_field_info(&info, ds, index);
        if (failed(rc, "dataset has not the fields data, plaintext, ciphertext, key"))
            goto done;
        if (!info.defined || info.dtype != want_dt || info.row_ndim != 1 ||
            info.row_shape[0] != shape) {
            cli_error("field '%s' is not %s of %" PRIu64 " per row as the settings say",
                      FIELDS[f], sb_dtype_name(want_dt), shape);
            goto done;
        }
    }
    size_t row_bytes = (size_t)m.samples * sb_dtype_size(m.dtype);
    uint64_t mine_start, mine, biggest, dummy;
    block(hi - lo, cli_rank(), cli_nranks(), &mine_start, &mine);
    block(hi - lo, 0, cli_nranks(), &dummy, &biggest);
    mine_start += lo;
    uint64_t chunk = o->chunk, rounds = (biggest + chunk - 1) / chunk;
    sb_clear_error();
    int rc = alloc_buffers(&got, chunk, row_bytes) || alloc_buffers(&want, chunk, row_bytes)
                 ? SB_ERR_NOMEM : 0;
    if (failed(rc, "cannot allocate the read buffers"))
        goto done;
    uint64_t checked = 0, bad = 0, reported = 0;
    /* Every rank makes the same number of collective reads, empty ones too. */
    for (uint64_t k = 0; k < rounds; k++) {
        uint64_t off = k * chunk < mine ? k * chunk : mine;
        uint64_t rows = mine - off < chunk ? mine - off : chunk;
        uint64_t first = mine_start + off;
        void *dst[4] = {got.data, got.pt, got.ct, got.key};
        for (size_t f = 0; f < 4; f++)
            if (failed(sb_dataset_read_all(dst[f], ds, FIELDS[f], first, rows),
                       "cannot read the dataset"))
                goto done;
        bad += compare_rows(&m, first, rows, &got, &want, &reported);
        checked += rows;
    }
    uint64_t local[2] = {checked, bad}, total[2];
    MPI_Allreduce(local, total, 2, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (cli_rank() == 0) {
        printf("verified %" PRIu64 " rows, %" PRIu64 " mismatches", total[0], total[1]);
        if (o->rows)
            printf(" in rows %" PRIu64 ":%" PRIu64 " of %" PRIu64, lo, hi, size);
        printf("\n");
        fflush(stdout);
        if (size < sb_dataset_capacity(ds))
            fprintf(stderr, PROG ": note: dataset '%s' is partial (%" PRIu64 " of %" PRIu64
                            " rows); run " PROG " again to resume it\n",
                    o->dataset, size, sb_dataset_capacity(ds));
    }
    status = total[1] == 0 && total[0] == hi - lo ? 0 : -1;
done:
    cJSON_Delete(settings);
    free_buffers(&got);
    free_buffers(&want);
    if (ds && failed(sb_dataset_close(ds), "cannot close the dataset"))
        status = -1;
    return status;
}

static int run(int argc, char **argv)
{
    options o = {.dataset = DEFAULT_DATASET, .traces = UNSET, .samples = UNSET,
                 .batch = UNSET, .commit_every = UNSET, .seed = UNSET, .chunk = 1000};
    const cli_option opts[] = {
        {"dataset", 0, CLI_OPT_STRING, &o.dataset},
        {"traces", 0, CLI_OPT_U64, &o.traces},
        {"samples", 0, CLI_OPT_U64, &o.samples},
        {"dtype", 0, CLI_OPT_STRING, &o.dtype},
        {"batch", 0, CLI_OPT_U64, &o.batch},
        {"commit-every", 0, CLI_OPT_U64, &o.commit_every},
        {"seed", 0, CLI_OPT_U64, &o.seed},
        {"rate", 0, CLI_OPT_U64, &o.rate},
        {"max-rows", 0, CLI_OPT_U64, &o.max_rows},
        {"chunk", 0, CLI_OPT_U64, &o.chunk},
        {"rows", 0, CLI_OPT_STRING, &o.rows},
        {"progress", 0, CLI_OPT_FLAG, &o.progress},
        {"verify", 0, CLI_OPT_FLAG, &o.verify},
        {"version", 0, CLI_OPT_FLAG, &o.version},
    };
    const char *const pos_names[] = {"STORE"};
    const char *pos[1] = {NULL};
    size_t npos = 0;
    cli_parse_result pr = cli_parse(NULL, argc - 1, argv + 1, opts,
                                    sizeof opts / sizeof opts[0], pos_names, 1, 0, pos, &npos);
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
    if (npos < 1) {
        cli_usage_error(NULL, "missing argument STORE");
        return CLI_EXIT_USAGE;
    }
    o.store = pos[0];
    sb_dtype dtype = SB_INT8;
    if (check_options(&o, &dtype))
        return CLI_EXIT_USAGE;
    if (!o.dataset[0]) {
        cli_usage_error(NULL, "--dataset must not be empty");
        return CLI_EXIT_USAGE;
    }
    if (o.rows && !o.verify) {
        cli_usage_error(NULL, "--rows is only valid with --verify");
        return CLI_EXIT_USAGE;
    }
    uint64_t lo, hi; /* the form now, the dataset size once it is loaded */
    if (o.rows && rows_range(o.rows, UINT64_MAX, &lo, &hi))
        return CLI_EXIT_USAGE;

    sb_store_options so;
    sb_store_options_init(&so, SB_STORE_OPTIONS_VERSION);
    so.comm = MPI_COMM_WORLD;
    sb_store *store = NULL;
    char what[1200];
    snprintf(what, sizeof what, "cannot open store '%s'", o.store);
    if (failed(sb_store_open(&store, o.store, o.verify ? SB_READ : SB_READ_WRITE_CREATE, &so),
               what))
        return CLI_EXIT_FAILURE;
    int status = o.verify ? verify(store, &o) : acquire(store, &o, dtype);
    if (failed(sb_store_close(store), "cannot close the store"))
        status = -1;
    return status == 0 ? CLI_EXIT_OK : status == -2 ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    cli_init(PROG);
    int code = run(argc, argv);
    MPI_Finalize();
    return code;
}
