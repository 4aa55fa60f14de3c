/* benchmark: the workload of Python's `secbench-db benchmark`: for sizes
 * 1000, 10000, ... up to --max-size, a dataset of int8 traces (1000 samples)
 * and 16-byte plaintexts is written in chunks, then read back in chunks.
 * Under MPI each chunk is split across the ranks (collective extend and
 * collective read), and what is read back is compared with what was written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "db.h"
#include "progress.h"

#define SAMPLES 1000
#define PT_BYTES 16
#define ROW_BYTES (SAMPLES + PT_BYTES)
#define DEFAULT_CHUNK 10000
#define DEFAULT_MAX 100000
#define MIN_SIZE 1000

static const char benchmark_help[] =
    "Usage: secbench-db benchmark STORE [--chunk-size N] [--max-size N] [--progress]\n"
    "                             [--force]\n"
    "\n"
    "Time the storage of traces: for sizes 1000, 10000, ... up to --max-size, create\n"
    "a dataset bench_SIZE of int8 traces of 1000 samples plus 16-byte uint8\n"
    "plaintexts, write it in chunks of --chunk-size rows, then read it back in\n"
    "chunks and check the data. Under mpirun/srun each chunk is split across the\n"
    "ranks. STORE must not exist (as in Python, which opens it with mode \"w-\"):\n"
    "an existing file is refused, untouched, unless --force is given, which\n"
    "TRUNCATES it (every dataset in it is lost). STORE is kept afterwards, unless\n"
    "the command created it and failed (a failed write or read, stdout that\n"
    "cannot be written).\n"
    "\n"
    "Prints on stdout one line per phase, `label,seconds,MB/s`, for example\n"
    "  write_1000,0.012345,82.3\n"
    "  read_1000,0.004567,222.5\n"
    "(MB = 10^6 bytes of trace and plaintext data).\n"
    "\n"
    "Options:\n"
    "  --chunk-size N  rows per chunk, over all ranks (default 10000; at most\n"
    "                  the dataset is held in memory)\n"
    "  --max-size N    largest dataset, at least 1000 (default 100000)\n"
    "  --progress      show progress and rate on stderr (default: only when\n"
    "                  stderr is a terminal)\n"
    "  --force         overwrite STORE if it exists (destroys its content)\n"
    "  -h, --help      show this help\n"
    "\n"
    "Exit status: 0 on success, 1 on failure (STORE exists without --force, a\n"
    "write or read fails, the data read back differs, stdout cannot be\n"
    "written), 2 on a command-line mistake.\n";

typedef struct bench {
    sb_store *store;
    uint64_t chunk;
    bool progress;
    int8_t *traces;     /* this rank's share of one chunk, written every round */
    uint8_t *pts;
    int8_t *traces_in;  /* what is read back */
    uint8_t *pts_in;
} bench;

/* This rank's rows of a round of `rows` rows: [lo, hi). */
static void share(uint64_t rows, uint64_t *lo, uint64_t *hi)
{
    uint64_t count;
    prog_block(rows, lo, &count);
    *hi = *lo + count;
}

static void fill(bench *b, uint64_t rows)
{
    /* xorshift64: cheap, and different on every rank. */
    uint64_t s = 0x9E3779B97F4A7C15ull ^ ((uint64_t)cli_rank() + 1) * 0xBF58476D1CE4E5B9ull;
    for (uint64_t i = 0; i < rows * SAMPLES; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        b->traces[i] = (int8_t)(s >> 56);
    }
    for (uint64_t i = 0; i < rows * PT_BYTES; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        b->pts[i] = (uint8_t)(s >> 56);
    }
}

/* Collective: false (one error line) when stdout does not take the line,
 * which fails the benchmark like a failed write. */
static bool report_line(const char *phase, uint64_t size, double seconds)
{
    double mb = (double)size * ROW_BYTES / 1e6;
    if (cli_rank() == 0)
        printf("%s_%llu,%.6f,%.1f\n", phase, (unsigned long long)size, seconds,
               seconds > 0 ? mb / seconds : 0.0);
    return prog_stdout_ok();
}

/* A phase starts on every rank at once, its meter running; returns the
 * start time. */
static double phase_start(const bench *b, cli_progress *meter, char *label, size_t len,
                          const char *phase, uint64_t size)
{
    snprintf(label, len, "%s_%llu", phase, (unsigned long long)size);
    cli_progress_start(meter, cli_rank() == 0 && cli_progress_wanted(b->progress), label,
                       size, ROW_BYTES);
    MPI_Barrier(MPI_COMM_WORLD);
    return MPI_Wtime();
}

static bool write_phase(bench *b, sb_dataset *ds, uint64_t size, double *seconds)
{
    cli_progress meter;
    char label[64];
    double t0 = phase_start(b, &meter, label, sizeof label, "write", size);
    for (uint64_t done = 0; done < size;) {
        uint64_t rows = size - done < b->chunk ? size - done : b->chunk, lo, hi;
        sb_array cols[2];
        share(rows, &lo, &hi);
        cols[0] = (sb_array){.dtype = SB_INT8, .ndim = 2, .shape = {hi - lo, SAMPLES},
                             .data = b->traces};
        cols[1] = (sb_array){.dtype = SB_UINT8, .ndim = 2, .shape = {hi - lo, PT_BYTES},
                             .data = b->pts};
        if (prog_failed_ctx(sb_dataset_extend(ds, 2, cols), "%s", label))
            return false;
        done += rows;
        cli_progress_update(&meter, done);
    }
    if (prog_failed_ctx(sb_store_flush(b->store), "%s", label))
        return false;
    MPI_Barrier(MPI_COMM_WORLD);
    *seconds = MPI_Wtime() - t0;
    cli_progress_finish(&meter, size);
    return true;
}

static bool read_phase(bench *b, sb_dataset *ds, uint64_t size, double *seconds)
{
    cli_progress meter;
    char label[64];
    bool same = true;
    double t0 = phase_start(b, &meter, label, sizeof label, "read", size);
    for (uint64_t done = 0; done < size;) {
        uint64_t rows = size - done < b->chunk ? size - done : b->chunk, lo, hi;
        share(rows, &lo, &hi);
        if (prog_failed_ctx(sb_dataset_read_all(b->traces_in, ds, "data", done + lo, hi - lo),
                            "%s", label) ||
            prog_failed_ctx(sb_dataset_read_all(b->pts_in, ds, "plaintext", done + lo, hi - lo),
                            "%s", label))
            return false;
        /* The same rows were written every round, at the same share. */
        same = same && memcmp(b->traces_in, b->traces, (hi - lo) * SAMPLES) == 0 &&
               memcmp(b->pts_in, b->pts, (hi - lo) * PT_BYTES) == 0;
        done += rows;
        cli_progress_update(&meter, done);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    *seconds = MPI_Wtime() - t0;
    if (prog_failed_if(!same, "%s: the rows read back differ from the rows written", label))
        return false;
    cli_progress_finish(&meter, size);
    return true;
}

static bool run_size(bench *b, uint64_t size)
{
    const char *fields[] = {"data", "plaintext"};
    char name[64];
    sb_dataset *ds;
    double wsec = 0, rsec = 0;
    bool ok;
    snprintf(name, sizeof name, "bench_%llu", (unsigned long long)size);
    if (prog_failed(sb_store_create_dataset(&ds, b->store, name, size, 2, fields)))
        return false;
    ok = write_phase(b, ds, size, &wsec) && report_line("write", size, wsec) &&
         read_phase(b, ds, size, &rsec) && report_line("read", size, rsec);
    if (prog_failed(sb_dataset_close(ds)))
        ok = false;
    return ok;
}

int db_cmd_benchmark(int argc, char **argv)
{
    bench b = {.chunk = DEFAULT_CHUNK};
    uint64_t max_size = DEFAULT_MAX;
    bool force = false;
    const cli_option opts[] = {
        CLI_U64("chunk-size", 0, &b.chunk, NULL),
        CLI_U64("max-size", 0, &max_size, NULL),
        CLI_FLAG("progress", 0, &b.progress),
        CLI_FLAG("force", 0, &force),
    };
    const char *const pos_names[] = {"STORE"};
    const cli_spec spec = {.command = "benchmark", .help = benchmark_help, .options = opts,
                           .noptions = sizeof opts / sizeof opts[0], .pos_names = pos_names,
                           .npos = 1, .nrequired = 1};
    const char *pos[1];
    size_t npos;
    bool ok;
    int code = cli_parse(&spec, argc, argv, pos, &npos);
    if (code >= 0)
        return code;
    if (b.chunk == 0) {
        cli_usage_error("benchmark", "--chunk-size must be at least 1");
        return CLI_EXIT_USAGE;
    }
    if (max_size < MIN_SIZE) {
        cli_usage_error("benchmark", "--max-size must be at least %d, got %llu", MIN_SIZE,
                        (unsigned long long)max_size);
        return CLI_EXIT_USAGE;
    }
    /* The largest share of one chunk on any rank, never more than the
     * largest dataset needs. */
    uint64_t rows = prog_block_max(b.chunk < max_size ? b.chunk : max_size);
    bool fits = rows <= SIZE_MAX / SAMPLES;
    b.traces = fits ? malloc((size_t)rows * SAMPLES) : NULL;
    b.pts = fits ? malloc((size_t)rows * PT_BYTES) : NULL;
    b.traces_in = fits ? malloc((size_t)rows * SAMPLES) : NULL;
    b.pts_in = fits ? malloc((size_t)rows * PT_BYTES) : NULL;
    ok = !prog_failed_if(!(b.traces && b.pts && b.traces_in && b.pts_in),
                         "cannot allocate a chunk of %llu rows; lower --chunk-size",
                         (unsigned long long)rows);
    /* What was there before is the user's, even when --force truncates it. */
    bool existed = prog_path_exists(pos[0]);
    if (ok) {
        fill(&b, rows);
        int rc = prog_try_create(&b.store, pos[0], force ? SB_CREATE_TRUNCATE : SB_CREATE);
        if (rc == SB_ERR_EXISTS)
            cli_error("%s; it is left untouched: give a new path, or --force to overwrite it "
                      "(every dataset in it is lost)", prog_error_text());
        ok = rc == 0;
    }
    for (uint64_t size = MIN_SIZE; ok && size <= max_size; size *= 10) {
        ok = run_size(&b, size);
        if (size > UINT64_MAX / 10)
            break;
    }
    if (b.store && prog_close_store(b.store) != 0)
        ok = false;
    /* A store this command made (not one --force took over) goes on failure. */
    if (!ok && b.store && !existed)
        prog_remove_created(pos[0]);
    free(b.traces);
    free(b.pts);
    free(b.traces_in);
    free(b.pts_in);
    return ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
