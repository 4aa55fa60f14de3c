/* Workload 3: collective read, each rank its own block of rows, in batches:
 * sb_dataset_read_all against MPI_File_read_at_all of the same bytes from a
 * plain file holding them. Both files are written once, untimed. By default
 * the reads hit the page cache (the files were just written); --cold drops
 * each file's pages (fdatasync + POSIX_FADV_DONTNEED) before every read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_sb.h"

typedef struct cfg {
    uint64_t bytes, row_bytes, batch_bytes;
    int reps;
    bool cold;
    const char *dir, *csv, *hints;
} cfg;

typedef struct times {
    double observed, raw;
} times;

static uint64_t rows_per_rank, batch_rows;

static uint64_t batch_at(uint64_t done)
{
    return rows_per_rank - done < batch_rows ? rows_per_rank - done : batch_rows;
}

/* The same rows into both files: rank r holds rows [r*R, (r+1)*R). */
static void write_inputs(const cfg *c, const char *sb_path, const char *raw_path,
                         MPI_Info info, unsigned char *buf, int rank, int nranks)
{
    sb_store_options o;
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    o.comm = MPI_COMM_WORLD;
    o.info = info;
    sb_store *store = NULL;
    sb_dataset *ds = NULL;
    const char *fields[] = {"data"};
    bc_sb(sb_store_open(&store, sb_path, SB_CREATE_TRUNCATE, &o), "sb_store_open");
    bc_sb(sb_store_create_dataset(&ds, store, "bench", rows_per_rank * (uint64_t)nranks, 1, fields), "sb_store_create_dataset");
    /* Each rank writes its own block at its offset (the preassigned-slices
     * path), so that blocks stay contiguous whatever the batch size. */
    uint64_t row_shape[1] = {c->row_bytes};
    bc_sb(sb_dataset_define_field(ds, "data", SB_UINT8, 1, row_shape),
          "sb_dataset_define_field");
    for (uint64_t done = 0; done < rows_per_rank; done += batch_rows) {
        bc_fill(buf, batch_at(done) * c->row_bytes, ((uint64_t)rank << 32) + done);
        sb_array col = {.dtype = SB_UINT8, .ndim = 2, .shape = {batch_at(done), c->row_bytes},
                        .data = buf};
        bc_sb(sb_dataset_write_at(ds, (uint64_t)rank * rows_per_rank + done, 1, &col),
              "sb_dataset_write_at");
    }
    bc_sb(sb_dataset_commit_size(ds, ((uint64_t)rank + 1) * rows_per_rank),
          "sb_dataset_commit_size");
    bc_sb(sb_dataset_close(ds), "sb_dataset_close");
    bc_sb(sb_store_close(store), "sb_store_close");

    MPI_File fh;
    if (rank == 0)
        remove(raw_path);
    MPI_Barrier(MPI_COMM_WORLD);
    if (MPI_File_open(MPI_COMM_WORLD, raw_path, MPI_MODE_CREATE | MPI_MODE_WRONLY, info, &fh))
        bc_die("MPI_File_open", raw_path);
    for (uint64_t done = 0; done < rows_per_rank; done += batch_rows) {
        MPI_Offset off = (MPI_Offset)(((uint64_t)rank * rows_per_rank + done) * c->row_bytes);
        bc_fill(buf, batch_at(done) * c->row_bytes, ((uint64_t)rank << 32) + done);
        if (MPI_File_write_at_all(fh, off, buf,
                                  (int)(batch_at(done) * c->row_bytes), MPI_BYTE,
                                  MPI_STATUS_IGNORE))
            bc_die("MPI_File_write_at_all", raw_path);
    }
    MPI_File_close(&fh);
}

static void maybe_drop(const cfg *c, const char *path, int rank)
{
    if (c->cold && rank == 0 && bc_drop_cache(path) != 0)
        bc_die("dropping the page cache of", path);
    MPI_Barrier(MPI_COMM_WORLD);
}

static times read_library(const char *path, MPI_Info info, unsigned char *buf,
                          int rank)
{
    sb_store_options o;
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    o.comm = MPI_COMM_WORLD;
    o.info = info;
    sb_store *store = NULL;
    sb_dataset *ds = NULL;
    double raw = 0.0;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = cli_now();
    bc_sb(sb_store_open(&store, path, SB_READ, &o), "sb_store_open");
    bc_sb(sb_store_load_dataset(&ds, store, "bench"), "sb_store_load_dataset");
    for (uint64_t done = 0; done < rows_per_rank; done += batch_rows) {
        double tb = cli_now();
        bc_sb(sb_dataset_read_all(buf, ds, "data", (uint64_t)rank * rows_per_rank + done, batch_at(done)), "sb_dataset_read_all");
        raw += cli_now() - tb;
    }
    bc_sb(sb_dataset_close(ds), "sb_dataset_close");
    bc_sb(sb_store_close(store), "sb_store_close");
    return (times){cli_now() - t0, raw};
}

static times read_mpiio(const cfg *c, const char *path, MPI_Info info, unsigned char *buf,
                        int rank)
{
    double raw = 0.0;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = cli_now();
    MPI_File fh;
    if (MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDONLY, info, &fh))
        bc_die("MPI_File_open", path);
    for (uint64_t done = 0; done < rows_per_rank; done += batch_rows) {
        MPI_Offset off = (MPI_Offset)(((uint64_t)rank * rows_per_rank + done) * c->row_bytes);
        double tb = cli_now();
        if (MPI_File_read_at_all(fh, off, buf, (int)(batch_at(done) * c->row_bytes), MPI_BYTE,
                                 MPI_STATUS_IGNORE))
            bc_die("MPI_File_read_at_all", path);
        raw += cli_now() - tb;
    }
    MPI_File_close(&fh);
    return (times){cli_now() - t0, raw};
}

/* The last batch read must be what was written there. */
static void verify_last(const cfg *c, const unsigned char *buf, int rank, const char *who)
{
    uint64_t last = (rows_per_rank - 1) / batch_rows * batch_rows;
    size_t n = batch_at(last) * c->row_bytes;
    unsigned char *want = malloc(n);
    if (!want)
        bc_die("malloc", "verify");
    bc_fill(want, n, ((uint64_t)rank << 32) + last);
    if (memcmp(want, buf, n) != 0)
        bc_die("verifying the bytes read by", who);
    free(want);
}

int main(int argc, char **argv)
{
    cfg c = {.bytes = 1ULL << 30, .row_bytes = 4096, .batch_bytes = 16ULL << 20, .reps = 5,
             .dir = "."};
    const cli_option opts[] = {
        BC_OPT("bytes", CLI_OPT_SIZE, &c.bytes, "total bytes over all ranks (default 1G)"),
        BC_OPT("row-bytes", CLI_OPT_SIZE, &c.row_bytes, "bytes of one row (default 4K)"),
        BC_OPT("batch-bytes", CLI_OPT_SIZE, &c.batch_bytes, "bytes per rank per read (default 16M)"),
        BC_OPT("reps", CLI_OPT_INT, &c.reps, "repetitions of each side (default 5)"),
        BC_OPT("cold", CLI_OPT_FLAG, &c.cold, "drop the file's page cache before each read"),
        BC_OPT("dir", CLI_OPT_STRING, &c.dir, "directory of the files (default .)"),
        BC_OPT("csv", CLI_OPT_STRING, &c.csv, "append one row per measurement to this CSV"),
        BC_OPT("hints", CLI_OPT_STRING, &c.hints, "MPI-IO hints key=value,... for both sides"),
    };
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int prc = bc_parse(argc, argv, opts, sizeof opts / sizeof *opts, "bench_read: collective read vs MPI_File_read_at_all");
    if (prc >= 0) {
        MPI_Finalize();
        return prc;
    }
    if (c.row_bytes == 0 || c.batch_bytes == 0 || c.reps < 1 || c.reps > BC_MAX_REPS)
        bc_die("arguments", "--row-bytes, --batch-bytes must be > 0 and --reps in 1..64");
    rows_per_rank = c.bytes / c.row_bytes / (uint64_t)nranks;
    if (rows_per_rank == 0)
        rows_per_rank = 1;
    batch_rows = c.batch_bytes / c.row_bytes ? c.batch_bytes / c.row_bytes : 1;
    if (batch_rows > rows_per_rank)
        batch_rows = rows_per_rank;
    uint64_t total = rows_per_rank * (uint64_t)nranks * c.row_bytes;

    char sb_path[4096], raw_path[4096];
    bc_path(sb_path, sizeof sb_path, c.dir, "read-sb-np%d.h5", nranks);
    bc_path(raw_path, sizeof raw_path, c.dir, "read-mpiio-np%d.bin", nranks);
    MPI_Info info = bc_info_from_hints(c.hints);
    unsigned char *buf = malloc(batch_rows * c.row_bytes);
    if (!buf)
        bc_die("malloc", "read buffer");
    write_inputs(&c, sb_path, raw_path, info, buf, rank, nranks);

    char wl_obs[96], wl_raw[96];
    snprintf(wl_obs, sizeof wl_obs, "read-observed-r%llu%s", (unsigned long long)c.row_bytes,
             c.cold ? "-cold" : "");
    snprintf(wl_raw, sizeof wl_raw, "read-raw-r%llu%s", (unsigned long long)c.row_bytes,
             c.cold ? "-cold" : "");
    bc_run run = {.csv = c.csv, .ranks = nranks, .rank = rank};
    for (int r = 0; r < c.reps; r++) {
        for (int k = 0; k < 2; k++) {
            bool lib = (k == 0) == (r % 2 == 0);
            maybe_drop(&c, lib ? sb_path : raw_path, rank);
            memset(buf, 0, batch_rows * c.row_bytes);
            times t = lib ? read_library(sb_path, info, buf, rank)
                          : read_mpiio(&c, raw_path, info, buf, rank);
            verify_last(&c, buf, rank, lib ? "the library" : "MPI-IO");
            t.observed = bc_max(t.observed, MPI_COMM_WORLD);
            t.raw = bc_max(t.raw, MPI_COMM_WORLD);
            bc_record(&run, wl_obs, total, r + 1, lib ? "sb" : "mpiio", t.observed, -1);
            bc_record(&run, wl_raw, total, r + 1, lib ? "sb" : "mpiio", t.raw, -1);
        }
    }
    if (rank == 0)
        printf("# read: %d ranks, %llu bytes, %llu rows per batch per rank, page cache: %s\n",
               nranks, (unsigned long long)total, (unsigned long long)batch_rows,
               c.cold ? "dropped before each read (disk)" : "warm (memory)");
    bc_print_summary(&run, "mpiio");
    if (rank == 0) {
        remove(sb_path);
        remove(raw_path);
    }
    if (info != MPI_INFO_NULL)
        MPI_Info_free(&info);
    free(buf);
    MPI_Finalize();
    return 0;
}
