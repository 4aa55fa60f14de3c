/* Workload 2: serial append, one trace at a time, as an acquisition loop
 * does: `samples` int8 samples plus three 16-byte uint8 fields (plaintext,
 * ciphertext, key). The library as it comes (appends buffered), the library
 * write-through, and fwrite of the same bytes into one stream. Each side's time
 * covers open/create, the loop and close (with fsync on both sides under
 * --sync). The h5py side is bench/append_h5py.py, alternated by run.sh. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_sb.h"

#define POOL 64 /* distinct traces cycled through, generated untimed */

typedef struct cfg {
    int traces, samples, reps, rep_base;
    bool sync;
    const char *dir, *csv;
} cfg;

static unsigned char *pool_samples, *pool_fields;

/* The library's default (appends buffered), or write-through (every append
 * written and committed at once, as Python secbench does). */
static double run_library(const cfg *c, const char *path, bool write_through)
{
    remove(path);
    sb_store_options o;
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    o.fsync = c->sync;
    const char *names[] = {"data", "plaintext", "ciphertext", "key"};
    double t0 = cli_now();
    sb_store *store = NULL;
    sb_dataset *ds = NULL;
    bc_sb(sb_store_open(&store, path, SB_CREATE_TRUNCATE, &o), "sb_store_open");
    bc_sb(sb_store_create_dataset(&ds, store, "traces", (uint64_t)c->traces, 4, names),
          "sb_store_create_dataset");
    if (write_through)
        bc_sb(sb_dataset_set_append_buffer(ds, 0), "sb_dataset_set_append_buffer");
    sb_array row[4] = {
        {.dtype = SB_INT8, .ndim = 1, .shape = {(uint64_t)c->samples}},
        {.dtype = SB_UINT8, .ndim = 1, .shape = {16}},
        {.dtype = SB_UINT8, .ndim = 1, .shape = {16}},
        {.dtype = SB_UINT8, .ndim = 1, .shape = {16}},
    };
    for (int i = 0; i < c->traces; i++) {
        int p = i % POOL;
        row[0].data = pool_samples + (size_t)p * (size_t)c->samples;
        for (int f = 0; f < 3; f++)
            row[f + 1].data = pool_fields + (size_t)(p * 3 + f) * 16;
        bc_sb(sb_dataset_append(ds, 4, row), "sb_dataset_append");
    }
    bc_sb(sb_dataset_close(ds), "sb_dataset_close");
    bc_sb(sb_store_close(store), "sb_store_close");
    return cli_now() - t0;
}

static double run_fwrite(const cfg *c, const char *path)
{
    remove(path);
    double t0 = cli_now();
    FILE *f = fopen(path, "wb");
    if (!f)
        bc_die("fopen", path);
    for (int i = 0; i < c->traces; i++) {
        int p = i % POOL;
        if (fwrite(pool_samples + (size_t)p * (size_t)c->samples, 1, (size_t)c->samples, f) !=
            (size_t)c->samples)
            bc_die("fwrite", path);
        for (int k = 0; k < 3; k++)
            if (fwrite(pool_fields + (size_t)(p * 3 + k) * 16, 1, 16, f) != 16)
                bc_die("fwrite", path);
    }
    if (c->sync && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        bc_die("fsync", path);
    if (fclose(f) != 0)
        bc_die("fclose", path);
    return cli_now() - t0;
}

int main(int argc, char **argv)
{
    cfg c = {.traces = 20000, .samples = 1000, .reps = 5, .rep_base = 1,
             .dir = "."};
    const cli_option opts[] = {
        BC_OPT("traces", CLI_OPT_INT, &c.traces, "traces appended per repetition (default 20000)"),
        BC_OPT("samples", CLI_OPT_INT, &c.samples, "int8 samples per trace (default 1000)"),
        BC_OPT("reps", CLI_OPT_INT, &c.reps, "repetitions of each side (default 5)"),
        BC_OPT("rep-base", CLI_OPT_INT, &c.rep_base, "number of the first repetition (default 1)"),
        BC_OPT("sync", CLI_OPT_FLAG, &c.sync, "fsync at close on every side"),
        BC_OPT("dir", CLI_OPT_STRING, &c.dir, "directory of the files (default .)"),
        BC_OPT("csv", CLI_OPT_STRING, &c.csv, "append one row per measurement to this CSV"),
    };
    int prc = bc_parse(argc, argv, opts, sizeof opts / sizeof *opts,
                       "bench_append: serial one-trace-at-a-time append vs fwrite");
    if (prc >= 0)
        return prc;
    if (c.traces < 1 || c.samples < 1 || c.reps < 1 || c.reps > BC_MAX_REPS)
        bc_die("arguments", "--traces, --samples >= 1 and --reps in 1..64");
    pool_samples = malloc((size_t)POOL * (size_t)c.samples);
    pool_fields = malloc((size_t)POOL * 3 * 16);
    if (!pool_samples || !pool_fields)
        bc_die("malloc", "trace pool");
    bc_fill(pool_samples, (size_t)POOL * (size_t)c.samples, 1);
    bc_fill(pool_fields, (size_t)POOL * 3 * 16, 2);

    char sb_path[4096], raw_path[4096], wl[64];
    bc_path(sb_path, sizeof sb_path, c.dir, "append-sb.h5");
    bc_path(raw_path, sizeof raw_path, c.dir, "append-fwrite.bin");
    snprintf(wl, sizeof wl, "append-s%d%s", c.samples, c.sync ? "-sync" : "");
    uint64_t bytes = (uint64_t)c.traces * (uint64_t)(c.samples + 48);
    bc_run run = {.csv = c.csv, .ranks = 1, .rank = 0};
    for (int r = 0; r < c.reps; r++) {
        /* Rotate the order so no side always runs right after another's writes. */
        for (int k = 0; k < 3; k++) {
            int which = (k + r + c.rep_base - 1) % 3;
            double t = which == 0   ? run_library(&c, sb_path, false)
                       : which == 1 ? run_fwrite(&c, raw_path)
                                    : run_library(&c, sb_path, true);
            const char *impl = which == 0 ? "sb" : which == 1 ? "fwrite" : "sb-writethrough";
            bc_record(&run, wl, bytes, c.rep_base + r, impl, t, -1);
        }
    }
    printf("# append: %d traces of %d int8 samples + 3 x 16 bytes, default buffer and "
           "write-through, sync=%s; appends/s (median): see MB/s x 1e6 / %d\n",
           c.traces, c.samples, c.sync ? "yes" : "no", c.samples + 48);
    bc_print_summary(&run, "fwrite");
    remove(sb_path);
    remove(raw_path);
    free(pool_samples);
    free(pool_fields);
    return 0;
}
