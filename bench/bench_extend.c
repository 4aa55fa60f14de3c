/* Workload 1: collective extend. Every rank appends its rows in batches; the
 * library's sb_dataset_extend against MPI_File_write_at_all of the same bytes
 * at the same offsets into a plain file, same ranks, same hints. The library
 * commits (sb_dataset_flush) every --commit-every batches and at close; the
 * baseline "mpiio-sync" calls MPI_File_sync at the same points, "mpiio" (not
 * with --sync) never. --sync turns the store's fsync option on. Library sides
 * per --write-modes: "sb" (its default), "sb-independent", "sb-collective".
 * The sides alternate (order rotating every repetition), and each is timed
 * twice: observed (open -> extend -> commits -> close) and raw (the write and
 * commit calls only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_sb.h"

typedef struct cfg {
    uint64_t bytes, row_bytes, batch_bytes, commit_every;
    int reps;
    bool sync, keep;
    const char *dir, *csv, *hints, *write_modes;
} cfg;

/* The library sides: its default choice, and each forced. */
static const struct {
    const char *mode, *impl;
    sb_choice collective_writes;
} MODES[] = {{"default", "sb", SB_AUTO},
             {"independent", "sb-independent", SB_NO},
             {"collective", "sb-collective", SB_YES}};
#define NMODES (sizeof MODES / sizeof MODES[0])

static bool commit_due(const cfg *c, uint64_t batch)
{
    return c->commit_every > 0 && (batch + 1) % c->commit_every == 0;
}

typedef struct plan {
    uint64_t rows_per_rank, batch_rows, total_rows;
} plan;

typedef struct times {
    double observed, raw;
} times;

static void path_of(char *buf, size_t len, const cfg *c, const char *stem, const char *ext,
                    MPI_Comm comm)
{
    int nranks;
    MPI_Comm_size(comm, &nranks);
    bc_path(buf, len, c->dir, "%s-np%d%s", stem, nranks, ext);
}

static void remove_file(const char *path, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0)
        remove(path);
    MPI_Barrier(comm);
}

static times run_library(const cfg *c, const plan *p, MPI_Comm comm, MPI_Info info,
                         unsigned char *buf, sb_choice writes, bool *collective)
{
    char path[4096];
    path_of(path, sizeof path, c, "extend-sb", ".h5", comm);
    remove_file(path, comm);
    sb_store_options opts;
    sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION);
    opts.comm = comm;
    opts.info = info;
    opts.fsync = c->sync;
    opts.collective_writes = writes;
    const char *fields[] = {"data"};
    double raw = 0.0;
    MPI_Barrier(comm);
    double t0 = cli_now();
    sb_store *store = NULL;
    sb_dataset *ds = NULL;
    bc_sb(sb_store_open(&store, path, SB_CREATE_TRUNCATE, &opts), "sb_store_open");
    bc_sb(sb_store_create_dataset(&ds, store, "bench", p->total_rows, 1, fields),
          "sb_store_create_dataset");
    uint64_t batch = 0;
    for (uint64_t done = 0; done < p->rows_per_rank; done += p->batch_rows, batch++) {
        uint64_t n = p->rows_per_rank - done < p->batch_rows ? p->rows_per_rank - done
                                                             : p->batch_rows;
        sb_array col = {.dtype = SB_UINT8, .ndim = 2, .shape = {n, c->row_bytes}, .data = buf};
        double tb = cli_now();
        bc_sb(sb_dataset_extend(ds, 1, &col), "sb_dataset_extend");
        if (commit_due(c, batch))
            bc_sb(sb_dataset_flush(ds), "sb_dataset_flush");
        raw += cli_now() - tb;
    }
    double tc = cli_now();
    bc_sb(sb_store_flush(store), "sb_store_flush");
    raw += cli_now() - tc;
    sb_write_report rep;
    sb_dataset_last_write(&rep, ds);
    *collective = rep.valid && rep.collective;
    bc_sb(sb_dataset_close(ds), "sb_dataset_close");
    bc_sb(sb_store_close(store), "sb_store_close");
    times t = {cli_now() - t0, raw};
    if (!c->keep)
        remove_file(path, comm);
    return t;
}

static times run_mpiio(const cfg *c, const plan *p, MPI_Comm comm, MPI_Info info,
                       unsigned char *buf, bool sync)
{
    char path[4096];
    path_of(path, sizeof path, c, "extend-mpiio", ".bin", comm);
    remove_file(path, comm);
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    double raw = 0.0;
    MPI_Barrier(comm);
    double t0 = cli_now();
    MPI_File fh;
    if (MPI_File_open(comm, path, MPI_MODE_CREATE | MPI_MODE_WRONLY, info, &fh) != MPI_SUCCESS)
        bc_die("MPI_File_open", path);
    uint64_t size = 0; /* rows already in the file, as the library counts them */
    uint64_t batch = 0;
    for (uint64_t done = 0; done < p->rows_per_rank; done += p->batch_rows, batch++) {
        uint64_t n = p->rows_per_rank - done < p->batch_rows ? p->rows_per_rank - done
                                                             : p->batch_rows;
        MPI_Offset off = (MPI_Offset)((size + (uint64_t)rank * n) * c->row_bytes);
        double tb = cli_now();
        if (MPI_File_write_at_all(fh, off, buf, (int)(n * c->row_bytes), MPI_BYTE,
                                  MPI_STATUS_IGNORE) != MPI_SUCCESS)
            bc_die("MPI_File_write_at_all", path);
        if (sync && commit_due(c, batch) && MPI_File_sync(fh) != MPI_SUCCESS)
            bc_die("MPI_File_sync", path);
        raw += cli_now() - tb;
        size += n * (uint64_t)nranks;
    }
    double tc = cli_now();
    if (sync && MPI_File_sync(fh) != MPI_SUCCESS)
        bc_die("MPI_File_sync", path);
    raw += cli_now() - tc;
    MPI_File_close(&fh);
    times t = {cli_now() - t0, raw};
    if (!c->keep)
        remove_file(path, comm);
    return t;
}

int main(int argc, char **argv)
{
    cfg c = {.bytes = 1ULL << 30, .row_bytes = 4096, .batch_bytes = 4ULL << 20, .reps = 5,
             .dir = ".", .csv = NULL, .hints = NULL, .write_modes = "default"};
    const cli_option opts[] = {
        BC_OPT("bytes", CLI_OPT_SIZE, &c.bytes, "total bytes over all ranks (default 1G)"),
        BC_OPT("row-bytes", CLI_OPT_SIZE, &c.row_bytes, "bytes of one row (default 4K; 1K..64K)"),
        BC_OPT("batch-bytes", CLI_OPT_SIZE, &c.batch_bytes, "bytes per rank per extend (default 4M)"),
        BC_OPT("reps", CLI_OPT_INT, &c.reps, "repetitions of each side (default 5)"),
        BC_OPT("sync", CLI_OPT_FLAG, &c.sync, "fsync on both sides (store fsync option / MPI_File_sync)"),
        BC_OPT("dir", CLI_OPT_STRING, &c.dir, "directory of the files written (default .)"),
        BC_OPT("csv", CLI_OPT_STRING, &c.csv, "append one row per measurement to this CSV"),
        BC_OPT("hints", CLI_OPT_STRING, &c.hints, "MPI-IO hints key=value,... for both sides"),
        BC_OPT("keep", CLI_OPT_FLAG, &c.keep, "keep the files written by the last repetition"),
        BC_OPT("commit-every", CLI_OPT_SIZE, &c.commit_every,
         "commit (sb_dataset_flush; MPI_File_sync on mpiio-sync) every K batches, and at "
         "close (default 0: at close only)"),
        BC_OPT("write-modes", CLI_OPT_STRING, &c.write_modes,
         "library sides, comma list of default,independent,collective (default: default)"),
    };
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int prc = bc_parse(argc, argv, opts, sizeof opts / sizeof *opts, "bench_extend: collective extend vs MPI_File_write_at_all");
    if (prc >= 0) {
        MPI_Finalize();
        return prc;
    }
    if (c.row_bytes == 0 || c.reps < 1 || c.reps > BC_MAX_REPS || c.batch_bytes == 0)
        bc_die("arguments", "--row-bytes, --batch-bytes must be > 0 and --reps in 1..64");
    plan p;
    p.rows_per_rank = c.bytes / c.row_bytes / (uint64_t)nranks;
    if (p.rows_per_rank == 0)
        p.rows_per_rank = 1;
    p.batch_rows = c.batch_bytes / c.row_bytes ? c.batch_bytes / c.row_bytes : 1;
    if (p.batch_rows > p.rows_per_rank)
        p.batch_rows = p.rows_per_rank;
    if (p.batch_rows * c.row_bytes > (uint64_t)1 << 30)
        bc_die("arguments", "one batch must stay below 1 GiB (an MPI count is an int)");
    p.total_rows = p.rows_per_rank * (uint64_t)nranks;
    uint64_t total = p.total_rows * c.row_bytes;

    unsigned char *buf = malloc(p.batch_rows * c.row_bytes);
    if (!buf)
        bc_die("malloc", "batch buffer");
    bc_fill(buf, p.batch_rows * c.row_bytes, (uint64_t)rank + 1);
    MPI_Info info = bc_info_from_hints(c.hints);

    char wl_obs[96], wl_raw[96], suffix[32] = "";
    if (c.sync)
        snprintf(suffix, sizeof suffix, c.commit_every ? "-sync-k%llu" : "-sync",
                 (unsigned long long)c.commit_every);
    snprintf(wl_obs, sizeof wl_obs, "extend-observed-r%llu%s", (unsigned long long)c.row_bytes,
             suffix);
    snprintf(wl_raw, sizeof wl_raw, "extend-raw-r%llu%s", (unsigned long long)c.row_bytes,
             suffix);
    bc_run run = {.csv = c.csv, .ranks = nranks, .rank = rank};
    /* The sides: the library's write modes asked for, then the baselines:
     * "mpiio-sync" syncs where the library commits (like-with-like under
     * --sync), "mpiio" never syncs (like-with-like without it). */
    const char *impls[NMODES + 2];
    int modes[NMODES + 2], nimpl = 0;
    for (size_t m = 0; m < NMODES; m++)
        if (strstr(c.write_modes, MODES[m].mode)) {
            modes[nimpl] = (int)m;
            impls[nimpl++] = MODES[m].impl;
        }
    if (nimpl == 0)
        bc_die("--write-modes", "expected a list of default, independent, collective");
    int nlib = nimpl;
    modes[nimpl] = -1;
    impls[nimpl++] = "mpiio-sync";
    if (!c.sync) {
        modes[nimpl] = -2;
        impls[nimpl++] = "mpiio";
    }
    bool default_collective = false;
    for (int r = 0; r < c.reps; r++) {
        /* Rotate the order, so no side always inherits another's dirty pages
         * being written back. */
        for (int k = 0; k < nimpl; k++) {
            int which = (k + r) % nimpl;
            times t;
            if (which < nlib) {
                bool coll = false;
                t = run_library(&c, &p, MPI_COMM_WORLD, info, buf,
                                MODES[modes[which]].collective_writes, &coll);
                if (modes[which] == 0)
                    default_collective = coll;
            } else {
                t = run_mpiio(&c, &p, MPI_COMM_WORLD, info, buf, modes[which] == -1);
            }
            t.observed = bc_max(t.observed, MPI_COMM_WORLD);
            t.raw = bc_max(t.raw, MPI_COMM_WORLD);
            bc_record(&run, wl_obs, total, r + 1, impls[which], t.observed, -1);
            bc_record(&run, wl_raw, total, r + 1, impls[which], t.raw, -1);
        }
    }
    if (rank == 0) {
        printf("# extend: %d ranks, %llu bytes, rows of %llu bytes, %llu rows per batch per "
               "rank, sync=%s, commit every %llu batches, the default writes %s\n",
               nranks, (unsigned long long)total, (unsigned long long)c.row_bytes,
               (unsigned long long)p.batch_rows, c.sync ? "yes" : "no",
               (unsigned long long)c.commit_every,
               default_collective ? "collectively" : "independently");
    }
    bc_print_summary(&run, "mpiio-sync");
    if (!c.sync)
        bc_print_summary(&run, "mpiio");
    if (info != MPI_INFO_NULL)
        MPI_Info_free(&info);
    free(buf);
    MPI_Finalize();
    return 0;
}
