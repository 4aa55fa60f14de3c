/* Workload 4: parallel export. sb_store_export_dataset (rows cut into chunks
 * dealt to the ranks in turn) against a raw MPI-IO copy of the same bytes in
 * the same chunks, dealt the same way: per round, each rank reads its chunk
 * of every field with MPI_File_read_at_all and writes it with
 * MPI_File_write_at_all (with and without a final MPI_File_sync). Peak RSS (VmHWM, reset before each side) is recorded
 * per rank; the CSV keeps the largest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_sb.h"

#define PT_BYTES 16 /* the plaintext field beside the samples */

typedef struct cfg {
    uint64_t bytes, row_bytes, chunk_rows;
    int reps;
    const char *dir, *csv, *hints;
} cfg;

static uint64_t total_rows;

static void make_sources(const cfg *c, const char *sb_path, const char *raw_path,
                         MPI_Info info, int rank, int nranks)
{
    uint64_t per = total_rows / (uint64_t)nranks, lo = per * (uint64_t)rank;
    uint64_t hi = rank == nranks - 1 ? total_rows : lo + per;
    uint64_t batch = c->chunk_rows;
    unsigned char *data = malloc(batch * c->row_bytes), *pt = malloc(batch * PT_BYTES);
    if (!data || !pt)
        bc_die("malloc", "source buffers");

    sb_store_options o;
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    o.comm = MPI_COMM_WORLD;
    o.info = info;
    sb_store *store = NULL;
    sb_dataset *ds = NULL;
    const char *fields[] = {"data", "plaintext"};
    bc_sb(sb_store_open(&store, sb_path, SB_CREATE_TRUNCATE, &o), "sb_store_open");
    bc_sb(sb_store_create_dataset(&ds, store, "bench", total_rows, 2, fields),
          "sb_store_create_dataset");
    uint64_t shape_d[1] = {c->row_bytes}, shape_p[1] = {PT_BYTES};
    bc_sb(sb_dataset_define_field(ds, "data", SB_UINT8, 1, shape_d), "sb_dataset_define_field");
    bc_sb(sb_dataset_define_field(ds, "plaintext", SB_UINT8, 1, shape_p),
          "sb_dataset_define_field");
    MPI_File fh;
    if (rank == 0)
        remove(raw_path);
    MPI_Barrier(MPI_COMM_WORLD);
    if (MPI_File_open(MPI_COMM_WORLD, raw_path, MPI_MODE_CREATE | MPI_MODE_WRONLY, info, &fh))
        bc_die("MPI_File_open", raw_path);
    /* Ranks write independently here (untimed set-up), so uneven blocks are fine. */
    for (uint64_t r = lo; r < hi; r += batch) {
        uint64_t n = hi - r < batch ? hi - r : batch;
        bc_fill(data, n * c->row_bytes, r);
        bc_fill(pt, n * PT_BYTES, r ^ 0xABCDEFULL);
        sb_array cols[2] = {
            {.dtype = SB_UINT8, .ndim = 2, .shape = {n, c->row_bytes}, .data = data},
            {.dtype = SB_UINT8, .ndim = 2, .shape = {n, PT_BYTES}, .data = pt}};
        bc_sb(sb_dataset_write_at(ds, r, 2, cols), "sb_dataset_write_at");
        if (MPI_File_write_at(fh, (MPI_Offset)(r * c->row_bytes), data,
                              (int)(n * c->row_bytes), MPI_BYTE, MPI_STATUS_IGNORE) ||
            MPI_File_write_at(fh, (MPI_Offset)(total_rows * c->row_bytes + r * PT_BYTES), pt,
                              (int)(n * PT_BYTES), MPI_BYTE, MPI_STATUS_IGNORE))
            bc_die("MPI_File_write_at", raw_path);
    }
    MPI_File_close(&fh);
    bc_sb(sb_dataset_commit_size(ds, hi), "sb_dataset_commit_size");
    bc_sb(sb_dataset_close(ds), "sb_dataset_close");
    bc_sb(sb_store_close(store), "sb_store_close");
    free(data);
    free(pt);
}

static double export_library(const cfg *c, const char *src_path, const char *dst_path,
                             MPI_Info info)
{
    sb_store_options o;
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    o.comm = MPI_COMM_WORLD;
    o.info = info;
    sb_store *src = NULL, *dst = NULL;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = cli_now();
    bc_sb(sb_store_open(&src, src_path, SB_READ, &o), "sb_store_open (source)");
    bc_sb(sb_store_open(&dst, dst_path, SB_CREATE_TRUNCATE, &o), "sb_store_open (destination)");
    bc_sb(sb_store_export_dataset(src, "bench", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = c->chunk_rows}),
          "sb_store_export_dataset");
    bc_sb(sb_store_close(dst), "sb_store_close (destination)");
    bc_sb(sb_store_close(src), "sb_store_close (source)");
    return cli_now() - t0;
}

static double export_mpiio(const cfg *c, const char *src_path, const char *dst_path,
                           MPI_Info info, int rank, int nranks, bool sync)
{
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = cli_now();
    MPI_File in, out;
    if (MPI_File_open(MPI_COMM_WORLD, src_path, MPI_MODE_RDONLY, info, &in) ||
        MPI_File_open(MPI_COMM_WORLD, dst_path, MPI_MODE_CREATE | MPI_MODE_WRONLY, info, &out))
        bc_die("MPI_File_open", dst_path);
    unsigned char *buf = malloc(c->chunk_rows * c->row_bytes);
    if (!buf)
        bc_die("malloc", "copy chunk");
    uint64_t nchunks = (total_rows + c->chunk_rows - 1) / c->chunk_rows;
    uint64_t rounds = (nchunks + (uint64_t)nranks - 1) / (uint64_t)nranks;
    const uint64_t widths[2] = {c->row_bytes, PT_BYTES};
    const uint64_t bases[2] = {0, total_rows * c->row_bytes};
    for (uint64_t round = 0; round < rounds; round++) {
        uint64_t chunk = round * (uint64_t)nranks + (uint64_t)rank, start = 0, n = 0;
        if (chunk < nchunks) {
            start = chunk * c->chunk_rows;
            n = total_rows - start < c->chunk_rows ? total_rows - start : c->chunk_rows;
        }
        for (int f = 0; f < 2; f++) {
            MPI_Offset off = (MPI_Offset)(bases[f] + start * widths[f]);
            int count = (int)(n * widths[f]);
            if (MPI_File_read_at_all(in, off, buf, count, MPI_BYTE, MPI_STATUS_IGNORE) ||
                MPI_File_write_at_all(out, off, buf, count, MPI_BYTE, MPI_STATUS_IGNORE))
                bc_die("MPI-IO copy", dst_path);
        }
    }
    free(buf);
    if (sync && MPI_File_sync(out) != MPI_SUCCESS)
        bc_die("MPI_File_sync", dst_path);
    MPI_File_close(&out);
    MPI_File_close(&in);
    return cli_now() - t0;
}

/* The copies must hold what the source holds: size and first row of the
 * library's copy, length of the raw copy. */
static void verify_copies(const cfg *c, const char *dst_sb, const char *dst_raw)
{
    sb_store *store = NULL;
    sb_dataset *ds = NULL;
    bc_sb(sb_store_open(&store, dst_sb, SB_READ, NULL), "sb_store_open (exported copy)");
    bc_sb(sb_store_load_dataset(&ds, store, "bench"), "sb_store_load_dataset (exported copy)");
    if (sb_dataset_size(ds) != total_rows)
        bc_die("verifying the export", "the copy has another number of rows than the source");
    size_t n = (size_t)(c->row_bytes / 8 * 8);
    unsigned char *got = malloc(c->row_bytes), *want = malloc(n ? n : 1);
    if (!got || !want)
        bc_die("malloc", "verify");
    bc_sb(sb_dataset_read(got, ds, "data", 0, 1), "sb_dataset_read (exported copy)");
    bc_fill(want, n, 0);
    if (memcmp(got, want, n) != 0)
        bc_die("verifying the export", "the first row of the copy differs from the source");
    free(got);
    free(want);
    bc_sb(sb_dataset_close(ds), "sb_dataset_close");
    bc_sb(sb_store_close(store), "sb_store_close");
    FILE *f = fopen(dst_raw, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 ||
        (uint64_t)ftell(f) != total_rows * (c->row_bytes + PT_BYTES))
        bc_die("verifying the raw copy", dst_raw);
    fclose(f);
}

static void remove_on_root(const char *path, int rank)
{
    if (rank == 0)
        remove(path);
    MPI_Barrier(MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
    cfg c = {.bytes = 1ULL << 30, .row_bytes = 1000, .chunk_rows = 65536, .reps = 5,
             .dir = "."};
    const cli_option opts[] = {
        BC_OPT("bytes", CLI_OPT_SIZE, &c.bytes, "bytes of the dataset (default 1G)"),
        BC_OPT("row-bytes", CLI_OPT_SIZE, &c.row_bytes, "bytes of one trace (default 1000) + 16 plaintext"),
        BC_OPT("chunk-rows", CLI_OPT_SIZE, &c.chunk_rows, "rows per export chunk (default 65536)"),
        BC_OPT("reps", CLI_OPT_INT, &c.reps, "repetitions of each side (default 5)"),
        BC_OPT("dir", CLI_OPT_STRING, &c.dir, "directory of the files (default .)"),
        BC_OPT("csv", CLI_OPT_STRING, &c.csv, "append one row per measurement to this CSV"),
        BC_OPT("hints", CLI_OPT_STRING, &c.hints, "MPI-IO hints key=value,... for both sides"),
    };
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int prc = bc_parse(argc, argv, opts, sizeof opts / sizeof *opts, "bench_export: parallel export vs a raw MPI-IO chunked copy");
    if (prc >= 0) {
        MPI_Finalize();
        return prc;
    }
    if (c.row_bytes == 0 || c.chunk_rows == 0 || c.reps < 1 || c.reps > BC_MAX_REPS ||
        c.chunk_rows * c.row_bytes > (uint64_t)1 << 30)
        bc_die("arguments", "--row-bytes, --chunk-rows > 0, one chunk < 1 GiB, --reps 1..64");
    total_rows = c.bytes / (c.row_bytes + PT_BYTES);
    if (total_rows == 0)
        total_rows = 1;
    uint64_t total = total_rows * (c.row_bytes + PT_BYTES);
    char src_sb[4096], src_raw[4096], dst_sb[4096], dst_raw[4096];
    bc_path(src_sb, sizeof src_sb, c.dir, "export-src-np%d.h5", nranks);
    bc_path(src_raw, sizeof src_raw, c.dir, "export-src-np%d.bin", nranks);
    bc_path(dst_sb, sizeof dst_sb, c.dir, "export-dst-np%d.h5", nranks);
    bc_path(dst_raw, sizeof dst_raw, c.dir, "export-dst-np%d.bin", nranks);
    MPI_Info info = bc_info_from_hints(c.hints);
    make_sources(&c, src_sb, src_raw, info, rank, nranks);

    bc_run run = {.csv = c.csv, .ranks = nranks, .rank = rank};
    long chunk_kib = (long)(c.chunk_rows * (c.row_bytes + PT_BYTES) / 1024);
    /* The library's export ends with flushes of the destination, and HDF5's
     * MPI-IO driver syncs on every flush: "mpiio-copy-sync" syncs the copy
     * once before closing it (like with like), "mpiio-copy" never does. */
    const char *impls[3] = {"sb", "mpiio-copy-sync", "mpiio-copy"};
    long worst_rss[3] = {0, 0, 0};
    for (int r = 0; r < c.reps; r++) {
        for (int k = 0; k < 3; k++) {
            int which = (k + r) % 3;
            remove_on_root(which == 0 ? dst_sb : dst_raw, rank);
            bc_reset_peak_rss();
            double t = which == 0 ? export_library(&c, src_sb, dst_sb, info)
                                  : export_mpiio(&c, src_raw, dst_raw, info, rank, nranks,
                                                 which == 1);
            long rss = bc_max_long(bc_peak_rss_kib(), MPI_COMM_WORLD);
            if (rss > worst_rss[which])
                worst_rss[which] = rss;
            t = bc_max(t, MPI_COMM_WORLD);
            bc_record(&run, "export", total, r + 1, impls[which], t, rss);
        }
    }
    if (rank == 0)
        printf("# export: %d ranks, %llu bytes (%llu rows of %llu+%d bytes), chunk %llu rows "
               "= %ld KiB; peak RSS per rank (max): library %ld KiB, MPI-IO copy %ld KiB; "
               "target chunk + 64 MiB = %ld KiB\n",
               nranks, (unsigned long long)total, (unsigned long long)total_rows,
               (unsigned long long)c.row_bytes, PT_BYTES, (unsigned long long)c.chunk_rows,
               chunk_kib, worst_rss[0], worst_rss[1] > worst_rss[2] ? worst_rss[1] : worst_rss[2],
               chunk_kib + 65536);
    bc_print_summary(&run, "mpiio-copy-sync");
    if (rank == 0) {
        verify_copies(&c, dst_sb, dst_raw);
        remove(src_sb);
        remove(src_raw);
        remove(dst_sb);
        remove(dst_raw);
    }
    if (info != MPI_INFO_NULL)
        MPI_Info_free(&info);
    MPI_Finalize();
    return 0;
}
