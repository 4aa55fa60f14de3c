/* sb-acquire: a stand-in for a bench of oscilloscopes. Every rank produces
 * traces of the deterministic model (common/tracemodel.h) and the job writes
 * them collectively, in batches, into one dataset; `--verify` regenerates
 * the stored rows and compares.
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
 * them are refused. The dataset is marked unfinished (_sb_incomplete) from
 * its creation until its last row is written. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <secbench/storage.h>

#include "acquire.h"
#include "output.h"
#include "prog.h"
#include "progress.h"

#define DEFAULT_DATASET "acquisition"
#define DEFAULT_TRACES 10000
#define DEFAULT_SAMPLES 1000
#define DEFAULT_BATCH 1000
#define DEFAULT_COMMIT_EVERY 10000
#define DEFAULT_CHUNK 1000
/* The capacity is stored as an int64 attribute. */
#define MAX_TRACES ((uint64_t)INT64_MAX)

const char *const FIELDS[4] = {"data", "plaintext", "ciphertext", "key"};

static const char help[] =
    "Usage: mpirun -n N " PROG " STORE [options]\n"
    "       mpirun -n N " PROG " STORE --verify [--dataset NAME] [--rows START:END]\n"
    "\n"
    "Acquire simulated AES-128 side-channel traces into dataset NAME of STORE\n"
    "(created if missing), or resume a partial acquisition at its size. Trace i\n"
    "depends only on the seed and i, never on the rank count. The settings go to\n"
    "the JSON asset \"" SETTINGS_ASSET "\" of the dataset (integers exact). The\n"
    "dataset is marked unfinished (_sb_incomplete) until its last trace is\n"
    "written, so a job killed or stopped early (--max-rows) leaves a dataset that\n"
    "says so; run " PROG " again to resume it.\n"
    "\n"
    "Acquisition options:\n"
    "  --dataset NAME      dataset name (default \"" DEFAULT_DATASET "\")\n"
    "  --traces N          traces to acquire = dataset capacity, 1 to 2^63-1\n"
    "                      (default 10000)\n"
    "  --samples N         samples per trace, 8 to 2^32-1 (default 1000)\n"
    "  --dtype T           int8 or int16 samples (default int8)\n"
    "  --batch N           traces per collective write, all ranks (default 1000;\n"
    "                      memory holds at most the traces still to acquire)\n"
    "  --commit-every N    flush and print 'committed N' every N rows (default\n"
    "                      10000; 0 = only at the end). A commit counts once its\n"
    "                      line is printed: when stdout cannot take it the run\n"
    "                      fails there\n"
    "  --seed S            model seed, any 64-bit unsigned integer (default 1)\n"
    "  --rate HZ           at most HZ traces/s, like a scope's trigger rate\n"
    "                      (default 0 = no limit)\n"
    "  --max-rows N        stop after N new rows (time-sliced jobs; a rerun\n"
    "                      resumes); 0 adds no row. Default: every trace.\n"
    "  --progress          progress and rate on stderr (default: only when\n"
    "                      stderr is a terminal)\n"
    "A resumed run takes --traces, --samples, --dtype and --seed from the stored\n"
    "settings, and refuses values that differ. It uses the batch and commit-every\n"
    "stored by the first run unless --batch or --commit-every is given again\n"
    "(each run's batch is recorded in the settings' \"runs\" list).\n"
    "\n"
    "Verification (--verify):\n"
    "  --verify            regenerate the stored rows and compare; prints\n"
    "                      'verified N rows, M mismatches' and names the first\n"
    "                      rows that differ; notes a dataset marked unfinished\n"
    "  --rows START:END    verify rows [START, END) only, e.g. what a time-sliced\n"
    "                      run added (END omitted: the size; default all rows);\n"
    "                      the line then ends 'in rows START:END of SIZE'\n"
    "  --chunk N           rows per rank per read (default 1000; at most the rows\n"
    "                      a rank verifies)\n"
    "  --dataset, --progress as above; other options are refused with --verify.\n"
    "\n"
    "  -V, --version       program, library, HDF5 and MPI versions\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 on success (--verify: every row matches), 1 on failure\n"
    "(--verify: a mismatch; stdout cannot be written), 2 on a command-line\n"
    "mistake (a value out of range, an option that does not apply, --rows\n"
    "beyond the dataset). A failed run removes STORE if it created it and\n"
    "printed no 'committed N' line; otherwise what was committed stays, marked\n"
    "unfinished, for a rerun to resume.\n";

/* Options that make no sense with --verify, or only with it: a usage error
 * rather than silence. */
static int check_mode(const options *o)
{
    const struct {
        bool given;
        const char *name;
    } acquire_only[] = {{o->traces_given, "--traces"},     {o->samples_given, "--samples"},
                        {o->dtype_given, "--dtype"},       {o->batch_given, "--batch"},
                        {o->commit_given, "--commit-every"}, {o->seed_given, "--seed"},
                        {o->rate_given, "--rate"},         {o->max_rows_given, "--max-rows"}},
      verify_only[] = {{o->rows_given, "--rows"}, {o->chunk_given, "--chunk"}};
    for (size_t i = 0; o->verify && i < sizeof acquire_only / sizeof acquire_only[0]; i++)
        if (acquire_only[i].given) {
            cli_usage_error(NULL, "%s does not apply to --verify (which reads the stored "
                            "settings)", acquire_only[i].name);
            return -1;
        }
    for (size_t i = 0; !o->verify && i < sizeof verify_only / sizeof verify_only[0]; i++)
        if (verify_only[i].given) {
            cli_usage_error(NULL, "%s applies only to --verify", verify_only[i].name);
            return -1;
        }
    return 0;
}

static int check_options(options *o)
{
    if (check_mode(o))
        return -1;
    if (!o->dataset[0]) {
        cli_usage_error(NULL, "--dataset must not be empty");
        return -1;
    }
    if (o->dtype_given && (sb_dtype_parse(&o->dtype, o->dtype_text) != 0 ||
                           (o->dtype != SB_INT8 && o->dtype != SB_INT16))) {
        cli_usage_error(NULL, "--dtype must be int8 or int16, got '%s'", o->dtype_text);
        return -1;
    }
    if (o->traces == 0 || o->traces > MAX_TRACES) {
        cli_usage_error(NULL, "--traces must be between 1 and %" PRIu64 ", got %" PRIu64,
                        MAX_TRACES, o->traces);
        return -1;
    }
    if (o->samples < 8 || o->samples > UINT32_MAX) {
        cli_usage_error(NULL, "--samples must be between 8 and %" PRIu32 ", got %" PRIu64,
                        UINT32_MAX, o->samples);
        return -1;
    }
    if (o->batch == 0) {
        cli_usage_error(NULL, "--batch must be at least 1");
        return -1;
    }
    if (o->chunk == 0) {
        cli_usage_error(NULL, "--chunk must be at least 1");
        return -1;
    }
    uint64_t start, end;
    bool end_given;
    if (o->rows_given && (o->rows[0] == ':' || !cli_parse_range(o->rows, &start, &end,
                                                                 &end_given))) {
        cli_usage_error(NULL, "--rows must be START:END or START:, got '%s'", o->rows);
        return -1;
    }
    return 0;
}

static void add_u64(cJSON *obj, const char *key, uint64_t value)
{
    cJSON_AddItemToObject(obj, key, sb_json_number_u64(value));
}

/* The settings asset of a new acquisition. */
static cJSON *settings_json(const sb_trace_model *m, const options *o)
{
    cJSON *s = sb_tm_to_json(m);
    if (!s)
        return NULL;
    cJSON_AddStringToObject(s, "generator", PROG);
    cJSON_AddStringToObject(s, "version", sb_version());
    cJSON_AddItemToObject(s, "dataset", out_json_string(o->dataset));
    add_u64(s, "traces", o->traces);
    add_u64(s, "batch", o->batch);
    add_u64(s, "commit_every", o->commit_every);
    add_u64(s, "ranks", (uint64_t)cli_nranks());
    cJSON *fields = cJSON_AddArrayToObject(s, "fields");
    for (int f = 0; fields && f < 4; f++)
        cJSON_AddItemToArray(fields, cJSON_CreateString(FIELDS[f]));
    cJSON_AddArrayToObject(s, "runs");
    return s;
}

/* A stored setting against an explicit option: refuse rather than mix two
 * acquisitions in one dataset. */
static int same_setting(const options *o, const char *name, bool given, uint64_t value,
                        uint64_t stored)
{
    char shown[1024];
    if (!given || value == stored)
        return 0;
    cli_error("dataset '%s' was acquired with --%s %" PRIu64 ", not %" PRIu64
              "; rerun with the stored settings to resume it, or pick another --dataset",
              out_shown(shown, sizeof shown, o->dataset), name, stored, value);
    return -1;
}

/* A stored positive integer, or `fallback` when absent or not one. */
static uint64_t stored_u64(const cJSON *settings, const char *name, uint64_t fallback)
{
    uint64_t v;
    return sb_json_get_u64(&v, cJSON_GetObjectItemCaseSensitive(settings, name)) == 0 ? v
                                                                                      : fallback;
}

/* The fields' dtypes and shapes: defined up front (so that even an empty
 * dataset says what it will hold) or checked. Collective. */
int prepare_fields(sb_dataset *ds, const sb_trace_model *m, bool define)
{
    for (size_t f = 0; f < 4; f++) {
        size_t index;
        sb_field_info info;
        sb_dtype want = f == 0 ? m->dtype : SB_UINT8;
        uint64_t shape = f == 0 ? m->samples : 16;
        int rc = sb_dataset_field_index(&index, ds, FIELDS[f]);
        if (rc == 0)
            rc = sb_dataset_field_info(&info, ds, index);
        if (prog_failed_ctx(rc, "the dataset has not the fields data, plaintext, ciphertext, key"))
            return -1;
        if (!info.defined && define) {
            if (prog_failed(sb_dataset_define_field(ds, FIELDS[f], want, 1, &shape)))
                return -1;
        } else if (!info.defined || !info.supported || info.dtype != want ||
                   info.row_ndim != 1 || info.row_shape[0] != shape) {
            cli_error("field '%s' is not %s of %" PRIu64 " per row as the settings say",
                      FIELDS[f], sb_dtype_name(want), shape);
            return -1;
        }
    }
    return 0;
}

/* Load a dataset of this program: its settings and model. Collective. */
int load_acquisition(sb_store *store, const options *o, sb_dataset **ds,
                            cJSON **settings, sb_trace_model *model)
{
    char err[256], shown[1024];
    out_shown(shown, sizeof shown, o->dataset);
    if (prog_failed(sb_store_load_dataset(ds, store, o->dataset)))
        return -1;
    if (prog_failed_ctx(sb_dataset_get_json_asset(settings, *ds, SETTINGS_ASSET),
                        "dataset '%s' has no readable '" SETTINGS_ASSET "' asset (not an "
                        PROG " dataset?), refusing to use it", shown))
        return -1;
    if (sb_tm_from_json(model, *settings, err, sizeof err)) {
        cli_error("asset '" SETTINGS_ASSET "' of dataset '%s': %s", shown, err);
        return -1;
    }
    return 0;
}

/* Open or create the dataset; on return *model holds the settings in force
 * and o->traces, batch, commit_every those of this run. */
static int open_acquisition(sb_store *store, options *o, sb_dataset **ds,
                            sb_trace_model *model)
{
    bool exists = false;
    char err[256];
    cJSON *settings = NULL;
    int status = -1;
    if (prog_failed(sb_store_has_dataset(&exists, store, o->dataset)))
        return -1;
    if (!exists) {
        if (sb_tm_init(model, o->seed, (uint32_t)o->samples, o->dtype, err, sizeof err)) {
            cli_error("%s", err);
            return -1;
        }
        if (prog_failed(sb_store_create_dataset(ds, store, o->dataset, o->traces, 4, FIELDS)))
            return -1;
        settings = settings_json(model, o);
        if (prog_failed_if(!settings, "out of memory building the settings"))
            return -1;
    } else {
        if (load_acquisition(store, o, ds, &settings, model))
            goto done;
        uint64_t capacity = sb_dataset_capacity(*ds);
        if (same_setting(o, "traces", o->traces_given, o->traces, capacity) ||
            same_setting(o, "samples", o->samples_given, o->samples, model->samples) ||
            same_setting(o, "seed", o->seed_given, o->seed, model->seed))
            goto done;
        if (o->dtype_given && o->dtype != model->dtype) {
            char shown[1024];
            cli_error("dataset '%s' was acquired with --dtype %s, not %s; rerun with the "
                      "stored settings to resume it, or pick another --dataset",
                      out_shown(shown, sizeof shown, o->dataset), sb_dtype_name(model->dtype),
                      o->dtype_text);
            goto done;
        }
        o->traces = capacity;
        /* A resumed run keeps the pace of the first one unless told otherwise. */
        if (!o->batch_given)
            o->batch = stored_u64(settings, "batch", DEFAULT_BATCH);
        if (o->batch == 0)
            o->batch = DEFAULT_BATCH;
        if (!o->commit_given)
            o->commit_every = stored_u64(settings, "commit_every", DEFAULT_COMMIT_EVERY);
    }
    /* Each run leaves a line: where it started and with how many ranks. */
    cJSON *runs = cJSON_GetObjectItemCaseSensitive(settings, "runs");
    if (!cJSON_IsArray(runs)) {
        cJSON_DeleteItemFromObjectCaseSensitive(settings, "runs");
        runs = cJSON_AddArrayToObject(settings, "runs");
    }
    cJSON *run = cJSON_CreateObject();
    add_u64(run, "start", sb_dataset_size(*ds));
    add_u64(run, "ranks", (uint64_t)cli_nranks());
    add_u64(run, "batch", o->batch);
    cJSON_AddItemToArray(runs, run);
    /* The settings are this program's own asset: updated in place. */
    if (prog_failed(sb_dataset_add_json_asset(*ds, SETTINGS_ASSET, settings, true)))
        goto done;
    /* A new dataset reaches the file in one commit with its settings and its
     * mark: a job killed at once leaves a dataset it can resume, or none. */
    if (!exists && prog_failed(sb_dataset_set_incomplete(*ds, true)))
        goto done;
    status = prepare_fields(*ds, model, !exists || sb_dataset_size(*ds) == 0);
done:
    cJSON_Delete(settings);
    return status;
}

static void sleep_until(double t)
{
    double d = t - cli_now();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

/* A commit counts once "committed N" reached stdout: a script resumes from
 * what it read there, so a line that is lost fails the run at that commit
 * (and a store made by this run and never reported committed goes). */
static int commit(sb_store *store, sb_dataset *ds)
{
    if (prog_failed(sb_dataset_flush(ds)) || prog_failed(sb_store_flush(store)))
        return -1;
    if (cli_rank() == 0)
        printf("committed %" PRIu64 "\n", sb_dataset_size(ds));
    return prog_stdout_ok() ? 0 : -1;
}

/* The next row where a round must stop: a multiple of commit_every. */
static uint64_t next_boundary(uint64_t next, uint64_t every)
{
    uint64_t k = next / every + 1;
    return k > UINT64_MAX / every ? UINT64_MAX : k * every;
}

/* *committed: whether a commit of this run succeeded. */
static int acquire(sb_store *store, options *o, bool *committed)
{
    sb_dataset *ds = NULL;
    sb_trace_model m;
    buffers b = {0};
    int status = -1;
    if (open_acquisition(store, o, &ds, &m))
        goto done;
    uint64_t traces = o->traces, size = sb_dataset_size(ds), next = size;
    uint64_t end = !o->max_rows_given || o->max_rows >= traces - size ? traces
                                                                      : size + o->max_rows;
    size_t row_bytes = (size_t)m.samples * sb_dtype_size(m.dtype);
    /* A round holds at most --batch rows and never more than remain. */
    uint64_t round_max = end - size < o->batch ? end - size : o->batch;
    uint64_t per_rank = prog_block_max(round_max);
    if (prog_failed_if(!alloc_buffers(&b, per_rank, row_bytes),
                       "cannot allocate the batch buffers (%" PRIu64 " rows of %zu bytes); "
                       "lower --batch", per_rank, row_bytes))
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
            uint64_t boundary = next_boundary(next, o->commit_every);
            if (boundary - next < round)
                round = boundary - next;
        }
        uint64_t first, rows;
        prog_block(round, &first, &rows);
        make_rows(&m, next + first, rows, &b);
        if (o->rate && cli_rank() == 0)
            sleep_until(t0 + (double)(next + round - size) / (double)o->rate);
        sb_array cols[4];
        columns_of(cols, &b, &m, rows);
        if (prog_failed(sb_dataset_extend(ds, 4, cols)))
            goto done;
        next += round;
        if (prog_failed_if(sb_dataset_size(ds) != next,
                           "dataset size is %" PRIu64 " after a batch, expected %" PRIu64,
                           sb_dataset_size(ds), next))
            goto done;
        cli_progress_update(&progress, next - size);
        if (next == traces && prog_failed(sb_dataset_set_incomplete(ds, false)))
            goto done;
        if ((o->commit_every && next % o->commit_every == 0) || next == end) {
            if (commit(store, ds))
                goto done;
            *committed = true;
        }
    }
    if (next == size) { /* nothing added: still say what is safe */
        if (next == traces && sb_dataset_is_incomplete(ds) &&
            prog_failed(sb_dataset_set_incomplete(ds, false)))
            goto done;
        if (commit(store, ds))
            goto done;
        *committed = true;
    }
    cli_progress_finish(&progress, next - size);
    if (cli_rank() == 0 && next < traces)
        fprintf(stderr, PROG ": stopped at %" PRIu64 " of %" PRIu64
                        " rows (--max-rows); rerun to resume\n", next, traces);
    status = 0;
done:
    free_buffers(&b);
    if (ds && prog_failed(sb_dataset_close(ds)))
        status = -1;
    return status;
}

static int run(int argc, char **argv)
{
    options o = {.dataset = DEFAULT_DATASET, .dtype = SB_INT8, .traces = DEFAULT_TRACES,
                 .samples = DEFAULT_SAMPLES, .batch = DEFAULT_BATCH,
                 .commit_every = DEFAULT_COMMIT_EVERY, .seed = 1, .chunk = DEFAULT_CHUNK};
    const cli_option opts[] = {
        CLI_STRING("dataset", 0, &o.dataset, &o.dataset_given),
        CLI_U64("traces", 0, &o.traces, &o.traces_given),
        CLI_U64("samples", 0, &o.samples, &o.samples_given),
        CLI_STRING("dtype", 0, &o.dtype_text, &o.dtype_given),
        CLI_U64("batch", 0, &o.batch, &o.batch_given),
        CLI_U64("commit-every", 0, &o.commit_every, &o.commit_given),
        CLI_U64("seed", 0, &o.seed, &o.seed_given),
        CLI_U64("rate", 0, &o.rate, &o.rate_given),
        CLI_U64("max-rows", 0, &o.max_rows, &o.max_rows_given),
        CLI_U64("chunk", 0, &o.chunk, &o.chunk_given),
        CLI_STRING("rows", 0, &o.rows, &o.rows_given),
        CLI_FLAG("progress", 0, &o.progress),
        CLI_FLAG("verify", 0, &o.verify),
    };
    const char *const pos_names[] = {"STORE"};
    const cli_spec spec = {.help = help, .options = opts, .noptions = sizeof opts / sizeof opts[0],
                           .pos_names = pos_names, .npos = 1, .nrequired = 1, .version = true};
    const char *pos[1] = {NULL};
    size_t npos = 0;
    int code = cli_parse(&spec, argc - 1, argv + 1, pos, &npos);
    if (code >= 0)
        return code;
    o.store = pos[0];
    if (check_options(&o))
        return CLI_EXIT_USAGE;

    sb_store *store = NULL;
    bool created = false, committed = false;
    if (o.verify) {
        if (prog_open_store(&store, o.store, SB_READ) != 0)
            return CLI_EXIT_FAILURE;
        code = verify(store, &o);
    } else {
        if (prog_open_output(&store, o.store, &created) != 0)
            return CLI_EXIT_FAILURE;
        code = acquire(store, &o, &committed) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
    }
    if (prog_close_store(store) != 0 && code == CLI_EXIT_OK)
        code = CLI_EXIT_FAILURE;
    /* A store this run made and failed before its first commit is not left
     * behind. */
    if (code != CLI_EXIT_OK && created && !committed)
        prog_remove_created(o.store);
    return code;
}

int main(int argc, char **argv)
{
    return prog_main(argc, argv, PROG, run);
}
