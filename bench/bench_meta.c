/* Workload 5: metadata. In stores of N datasets (N from --counts): create the
 * N datasets (fields named, no rows yet, as create_dataset leaves them, but
 * the middle one gets one row), reopen, list the names, and load that middle
 * dataset --loads times. Serial store, compared
 * with the same steps through h5py (bench/meta_h5py.py, alternated by run.sh).
 * One CSV row per step and count: workload meta-<step>-n<N>, bytes = N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_sb.h"

typedef struct cfg {
    const char *counts, *dir, *csv;
    int reps, rep_base, loads;
} cfg;

static void name_of(char *buf, size_t len, int i)
{
    snprintf(buf, len, "ds_%06d", i);
}

/* One row goes into the dataset that will be loaded, right after it is
 * created (one append among N creates, the same on the h5py side), so that
 * loading reads real field metadata (dtype, shape, priority). */
static void add_row(sb_dataset *ds)
{
    int8_t samples[1000];
    uint8_t pt[16];
    bc_fill(samples, sizeof samples, 7);
    bc_fill(pt, sizeof pt, 8);
    sb_array row[2] = {{.dtype = SB_INT8, .ndim = 1, .shape = {1000}, .data = samples},
                       {.dtype = SB_UINT8, .ndim = 1, .shape = {16}, .data = pt}};
    bc_sb(sb_dataset_append(ds, 2, row), "sb_dataset_append");
}

static double create_store(const char *path, int n)
{
    remove(path);
    const char *fields[] = {"data", "plaintext"};
    char name[32];
    double t0 = cli_now();
    sb_store *store = NULL;
    bc_sb(sb_store_open(&store, path, SB_CREATE_TRUNCATE, NULL), "sb_store_open");
    for (int i = 0; i < n; i++) {
        sb_dataset *ds = NULL;
        name_of(name, sizeof name, i);
        bc_sb(sb_store_create_dataset(&ds, store, name, 100, 2, fields),
              "sb_store_create_dataset");
        if (i == n / 2)
            add_row(ds);
        bc_sb(sb_dataset_close(ds), "sb_dataset_close");
    }
    bc_sb(sb_store_close(store), "sb_store_close");
    return cli_now() - t0;
}

static void measure(const cfg *c, bc_run *run, int n, int rep)
{
    char path[4096], target[32], wl[64];
    bc_path(path, sizeof path, c->dir, "meta-sb.h5");
    name_of(target, sizeof target, n / 2);

    double t_create = create_store(path, n);

    sb_store *store = NULL;
    double t0 = cli_now();
    bc_sb(sb_store_open(&store, path, SB_READ, NULL), "sb_store_open");
    double t_open = cli_now() - t0;

    char **names = NULL;
    size_t count = 0;
    t0 = cli_now();
    bc_sb(sb_store_dataset_names(&names, &count, store), "sb_store_dataset_names");
    double t_list = cli_now() - t0;
    if (count != (size_t)n)
        bc_die("sb_store_dataset_names", "returned another number of datasets than created");
    sb_free(names);

    t0 = cli_now();
    for (int i = 0; i < c->loads; i++) {
        sb_dataset *ds = NULL;
        bc_sb(sb_store_load_dataset(&ds, store, target), "sb_store_load_dataset");
        if (sb_dataset_size(ds) != 1)
            bc_die("sb_store_load_dataset", "the loaded dataset does not hold its one row");
        bc_sb(sb_dataset_close(ds), "sb_dataset_close");
    }
    double t_load = (cli_now() - t0) / c->loads;
    bc_sb(sb_store_close(store), "sb_store_close");
    remove(path);

    const char *steps[] = {"create", "open", "list", "load"};
    double secs[] = {t_create, t_open, t_list, t_load};
    for (int s = 0; s < 4; s++) {
        snprintf(wl, sizeof wl, "meta-%s-n%d", steps[s], n);
        bc_record(run, wl, (uint64_t)n, rep, "sb", secs[s], -1);
    }
}

int main(int argc, char **argv)
{
    cfg c = {.counts = "10,1000,10000", .dir = ".", .reps = 5, .rep_base = 1, .loads = 20};
    const cli_option opts[] = {
        BC_OPT("counts", CLI_OPT_STRING, &c.counts, "dataset counts, comma separated (default 10,1000,10000)"),
        BC_OPT("reps", CLI_OPT_INT, &c.reps, "repetitions (default 5)"),
        BC_OPT("rep-base", CLI_OPT_INT, &c.rep_base, "number of the first repetition (default 1)"),
        BC_OPT("loads", CLI_OPT_INT, &c.loads, "loads averaged per measurement (default 20)"),
        BC_OPT("dir", CLI_OPT_STRING, &c.dir, "directory of the store (default .)"),
        BC_OPT("csv", CLI_OPT_STRING, &c.csv, "append one row per measurement to this CSV"),
    };
    int prc = bc_parse(argc, argv, opts, sizeof opts / sizeof *opts,
                       "bench_meta: create / open / list / load one in stores of N datasets");
    if (prc >= 0)
        return prc;
    if (c.reps < 1 || c.reps > BC_MAX_REPS || c.loads < 1)
        bc_die("arguments", "--reps in 1..64, --loads >= 1");
    bc_run run = {.csv = c.csv, .ranks = 1, .rank = 0};
    for (int r = 0; r < c.reps; r++) {
        const char *p = c.counts;
        while (*p) {
            char *end = NULL;
            long n = strtol(p, &end, 10);
            if (end == p || n < 1 || n > 10000000 || (*end && *end != ','))
                bc_die("--counts", "expected positive integers separated by commas");
            measure(&c, &run, (int)n, c.rep_base + r);
            p = *end ? end + 1 : end;
        }
    }
    bc_print_summary(&run, "h5py");
    return 0;
}
