/* The latency of the MPI collectives the library's calls are made of, and of
 * a few library calls end to end, as the rank count grows (docs/scaling.md).
 * Each operation is called --warmup times, then --batches batches of --reps
 * calls are timed; a batch's time is the slowest rank's, and the figure is the
 * median over the batches, per call:
 *   op,ranks,reps,usec_per_call
 * on stdout (rank 0), and appended to --csv if given. The MPI part uses public
 * MPI only; --library adds the library's calls (public header only) on a store
 * in --dir. Each operation is also made once between MPI_Pcontrol(1, op) and
 * MPI_Pcontrol(0), so that a PMPI shim (mpi_count.c) can count what it calls. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "bench_sb.h"

typedef struct cfg {
    int reps, batches, warmup, lib_reps;
    bool library;
    const char *dir, *csv;
} cfg;

typedef struct ctx {
    MPI_Comm comm;
    int rank, nranks;
    uint64_t in[4], out[4];
    unsigned char bytes[64];
    uint64_t *gathered;
    /* library side */
    sb_store *store;
    sb_dataset *plain, *ext, *inorder, *reversed;
    unsigned char row[64];
    int created;
} ctx;

typedef void (*op_fn)(ctx *x);

static void op_allreduce1(ctx *x) { MPI_Allreduce(x->in, x->out, 1, MPI_UINT64_T, MPI_MAX, x->comm); }
static void op_allreduce3(ctx *x) { MPI_Allreduce(x->in, x->out, 3, MPI_UINT64_T, MPI_MAX, x->comm); }
static void op_allreduce4(ctx *x) { MPI_Allreduce(x->in, x->out, 4, MPI_UINT64_T, MPI_MAX, x->comm); }
static void op_exscan2(ctx *x) { MPI_Exscan(x->in, x->out, 2, MPI_UINT64_T, MPI_SUM, x->comm); }
static void op_bcast64(ctx *x) { MPI_Bcast(x->bytes, 64, MPI_BYTE, 0, x->comm); }
static void op_barrier(ctx *x) { MPI_Barrier(x->comm); }
static void op_allgather1(ctx *x)
{
    MPI_Allgather(x->in, 1, MPI_UINT64_T, x->gathered, 1, MPI_UINT64_T, x->comm);
}

/* ---- library calls -------------------------------------------------------- */

static void lib_flush_unchanged(ctx *x) { bc_sb(sb_dataset_flush(x->plain), "sb_dataset_flush"); }

static void lib_extend_empty(ctx *x)
{
    bc_sb(sb_dataset_extend(x->plain, 0, NULL), "sb_dataset_extend (0 rows)");
}

static sb_array one_row(ctx *x)
{
    sb_array a = {.dtype = SB_UINT8, .ndim = 2, .shape = {1, sizeof x->row}, .data = x->row};
    return a;
}

static void lib_extend_row_flush(ctx *x)
{
    sb_array a = one_row(x);
    bc_sb(sb_dataset_extend(x->ext, 1, &a), "sb_dataset_extend (1 row)");
    bc_sb(sb_dataset_flush(x->ext), "sb_dataset_flush");
}

/* One row per rank at size + rank (in order) or size + P-1-rank (reversed:
 * commit_size's gathering path), then the commit of the new size. */
static void write_commit(ctx *x, sb_dataset *ds, bool reversed)
{
    uint64_t at = sb_dataset_size(ds) + (uint64_t)(reversed ? x->nranks - 1 - x->rank : x->rank);
    sb_array a = one_row(x);
    bc_sb(sb_dataset_write_at(ds, at, 1, &a), "sb_dataset_write_at");
    bc_sb(sb_dataset_commit_size(ds, at + 1), "sb_dataset_commit_size");
}
static void lib_commit_inorder(ctx *x) { write_commit(x, x->inorder, false); }
static void lib_commit_reversed(ctx *x) { write_commit(x, x->reversed, true); }

static void lib_load_close(ctx *x)
{
    sb_dataset *ds = NULL;
    bc_sb(sb_store_load_dataset(&ds, x->store, "extend"), "sb_store_load_dataset");
    bc_sb(sb_dataset_close(ds), "sb_dataset_close");
}

static void lib_has(ctx *x)
{
    bool exists = false;
    bc_sb(sb_store_has_dataset(&exists, x->store, "extend"), "sb_store_has_dataset");
}

static void lib_names(ctx *x)
{
    char **names = NULL;
    size_t n = 0;
    bc_sb(sb_store_dataset_names(&names, &n, x->store), "sb_store_dataset_names");
    sb_free(names);
}

static void lib_asset_replace(ctx *x)
{
    bc_sb(sb_dataset_add_asset_bytes(x->plain, "asset", x->bytes, sizeof x->bytes, true),
          "sb_dataset_add_asset_bytes");
}

static void lib_asset_get(ctx *x)
{
    void *data = NULL;
    size_t len = 0;
    bc_sb(sb_dataset_get_asset_bytes(&data, &len, x->plain, "asset"), "sb_dataset_get_asset_bytes");
    sb_free(data);
}

static void lib_read_all(ctx *x)
{
    unsigned char buf[sizeof x->row];
    uint64_t n = sb_dataset_size(x->ext) > (uint64_t)x->rank ? 1 : 0;
    bc_sb(sb_dataset_read_all(buf, x->ext, "data", n ? (uint64_t)x->rank : 0, n),
          "sb_dataset_read_all");
}

static void lib_create_close(ctx *x)
{
    char name[64];
    snprintf(name, sizeof name, "created/d%d", x->created++);
    const char *fields[] = {"data"};
    sb_dataset *ds = NULL;
    bc_sb(sb_store_create_dataset(&ds, x->store, name, 1, 1, fields), "sb_store_create_dataset");
    bc_sb(sb_dataset_close(ds), "sb_dataset_close");
}

/* ---- timing --------------------------------------------------------------- */

static void report(const cfg *c, const ctx *x, const char *op, int reps, double usec)
{
    if (x->rank != 0)
        return;
    printf("%s,%d,%d,%.3f\n", op, x->nranks, reps, usec);
    fflush(stdout);
    if (c->csv && *c->csv) {
        FILE *f = fopen(c->csv, "a");
        if (!f)
            bc_die("opening the CSV", c->csv);
        if (fseek(f, 0, SEEK_END) == 0 && ftell(f) == 0)
            fprintf(f, "op,ranks,reps,usec_per_call\n");
        fprintf(f, "%s,%d,%d,%.3f\n", op, x->nranks, reps, usec);
        fclose(f);
    }
}

static void measure(const cfg *c, ctx *x, const char *op, op_fn fn, int reps)
{
    for (int i = 0; i < c->warmup; i++)
        fn(x);
    MPI_Barrier(x->comm);
    MPI_Pcontrol(1, op);
    fn(x);
    MPI_Pcontrol(0);
    double per_batch[BC_MAX_REPS];
    int nb = c->batches;
    for (int b = 0; b < nb; b++) {
        MPI_Barrier(x->comm);
        double t0 = MPI_Wtime();
        for (int i = 0; i < reps; i++)
            fn(x);
        double t = MPI_Wtime() - t0;
        per_batch[b] = bc_max(t, x->comm) / reps;
    }
    report(c, x, op, reps, 1e6 * bc_median(per_batch, (size_t)nb));
}

static sb_dataset *rows_dataset(ctx *x, const char *name, uint64_t capacity)
{
    const char *fields[] = {"data"};
    const uint64_t shape[] = {sizeof x->row};
    sb_dataset *ds = NULL;
    bc_sb(sb_store_create_dataset(&ds, x->store, name, capacity, 1, fields),
          "sb_store_create_dataset");
    bc_sb(sb_dataset_define_field(ds, "data", SB_UINT8, 1, shape), "sb_dataset_define_field");
    return ds;
}

static void run_library(const cfg *c, ctx *x)
{
    char path[4096];
    bc_path(path, sizeof path, c->dir, "collectives-np%d.h5", x->nranks);
    sb_store_options opts;
    sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION);
    opts.comm = x->comm;
    MPI_Pcontrol(1, "sb_store_open(w)");
    bc_sb(sb_store_open(&x->store, path, SB_CREATE_TRUNCATE, &opts), "sb_store_open");
    MPI_Pcontrol(0);
    /* Every call that writes a row per rank runs warmup + 1 + batches x reps times. */
    uint64_t calls = (uint64_t)c->warmup + 1 + (uint64_t)c->batches * (uint64_t)c->lib_reps;
    uint64_t capacity = calls * (uint64_t)x->nranks;
    const char *fields[] = {"data"};
    bc_sb(sb_store_create_dataset(&x->plain, x->store, "plain", 1, 1, fields),
          "sb_store_create_dataset");
    MPI_Pcontrol(1, "create_dataset+define_field");
    x->ext = rows_dataset(x, "extend", capacity);
    MPI_Pcontrol(0);
    x->inorder = rows_dataset(x, "inorder", capacity);
    x->reversed = rows_dataset(x, "reversed", capacity);
    MPI_Pcontrol(1, "sb_store_flush(after 4 creates)");
    bc_sb(sb_store_flush(x->store), "sb_store_flush");
    MPI_Pcontrol(0);
    bc_fill(x->row, sizeof x->row, (uint64_t)x->rank + 1);

    measure(c, x, "sb_dataset_flush(unchanged)", lib_flush_unchanged, c->lib_reps);
    measure(c, x, "sb_dataset_extend(0 rows)", lib_extend_empty, c->lib_reps);
    measure(c, x, "sb_dataset_extend(1 row)+flush", lib_extend_row_flush, c->lib_reps);
    measure(c, x, "write_at+commit_size(in order)", lib_commit_inorder, c->lib_reps);
    measure(c, x, "write_at+commit_size(reversed)", lib_commit_reversed, c->lib_reps);
    measure(c, x, "create_dataset+close", lib_create_close, c->lib_reps);
    measure(c, x, "load_dataset+close", lib_load_close, c->lib_reps);
    measure(c, x, "has_dataset", lib_has, c->lib_reps);
    measure(c, x, "dataset_names", lib_names, c->lib_reps);
    lib_asset_replace(x);
    measure(c, x, "add_asset_bytes(replace)", lib_asset_replace, c->lib_reps);
    measure(c, x, "get_asset_bytes", lib_asset_get, c->lib_reps);
    measure(c, x, "read_all(1 row per rank)", lib_read_all, c->lib_reps);

    /* Made once, for the PMPI shim's counts only. */
    sb_export_options eo;
    sb_export_options_init(&eo, SB_EXPORT_OPTIONS_VERSION);
    eo.new_name = "exported";
    MPI_Pcontrol(1, "sb_store_export_dataset");
    bc_sb(sb_store_export_dataset(x->store, "extend", x->store, &eo), "sb_store_export_dataset");
    MPI_Pcontrol(0);
    MPI_Pcontrol(1, "sb_dataset_set_incomplete");
    bc_sb(sb_dataset_set_incomplete(x->plain, true), "sb_dataset_set_incomplete");
    MPI_Pcontrol(0);
    MPI_Pcontrol(1, "sb_dataset_reset");
    bc_sb(sb_dataset_reset(x->ext), "sb_dataset_reset");
    MPI_Pcontrol(0);
    sb_array a = {.dtype = SB_UINT8, .ndim = 1, .shape = {sizeof x->row}, .data = x->row};
    MPI_Pcontrol(1, "sb_dataset_append(first row)");
    bc_sb(sb_dataset_append(x->ext, 1, &a), "sb_dataset_append");
    MPI_Pcontrol(0);
    MPI_Pcontrol(1, "sb_dataset_append(buffered row)");
    bc_sb(sb_dataset_append(x->ext, 1, &a), "sb_dataset_append");
    MPI_Pcontrol(0);
    MPI_Pcontrol(1, "sb_dataset_flush(2 appended rows)");
    bc_sb(sb_dataset_flush(x->ext), "sb_dataset_flush");
    MPI_Pcontrol(0);
    MPI_Pcontrol(1, "sb_store_remove_dataset");
    bc_sb(sb_store_remove_dataset(x->store, "created/d0"), "sb_store_remove_dataset");
    MPI_Pcontrol(0);

    sb_dataset *all[] = {x->plain, x->ext, x->inorder, x->reversed};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        bc_sb(sb_dataset_close(all[i]), "sb_dataset_close");
    MPI_Pcontrol(1, "sb_store_close");
    bc_sb(sb_store_close(x->store), "sb_store_close");
    MPI_Pcontrol(0);
    MPI_Pcontrol(1, "sb_store_open(r)");
    bc_sb(sb_store_open(&x->store, path, SB_READ, &opts), "sb_store_open");
    MPI_Pcontrol(0);
    bc_sb(sb_store_close(x->store), "sb_store_close");
    if (x->rank == 0)
        remove(path);
}

int main(int argc, char **argv)
{
    cfg c = {.reps = 200, .batches = 7, .warmup = 20, .lib_reps = 10, .dir = "."};
    const cli_option opts[] = {
        BC_OPT("reps", CLI_OPT_INT, &c.reps, "MPI calls per timed batch (default 200)"),
        BC_OPT("batches", CLI_OPT_INT, &c.batches, "timed batches; the median is reported (default 7)"),
        BC_OPT("warmup", CLI_OPT_INT, &c.warmup, "untimed calls first (default 20)"),
        BC_OPT("library", CLI_OPT_FLAG, &c.library, "also time library calls on a store in --dir"),
        BC_OPT("lib-reps", CLI_OPT_INT, &c.lib_reps, "library calls per timed batch (default 10)"),
        BC_OPT("dir", CLI_OPT_STRING, &c.dir, "directory of the store (default .)"),
        BC_OPT("csv", CLI_OPT_STRING, &c.csv, "append the rows to this CSV too"),
    };
    MPI_Init(&argc, &argv);
    int prc = bc_parse(argc, argv, opts, sizeof opts / sizeof *opts,
                       "bench_collectives: latency of MPI collectives and library calls vs ranks");
    if (prc >= 0) {
        MPI_Finalize();
        return prc;
    }
    if (c.reps < 1 || c.lib_reps < 1 || c.warmup < 0 || c.batches < 1 || c.batches > BC_MAX_REPS)
        bc_die("arguments", "--reps and --lib-reps >= 1, --warmup >= 0, --batches in 1..64");
    ctx x;
    memset(&x, 0, sizeof x);
    x.comm = MPI_COMM_WORLD;
    MPI_Comm_rank(x.comm, &x.rank);
    MPI_Comm_size(x.comm, &x.nranks);
    x.gathered = calloc((size_t)x.nranks, sizeof *x.gathered);
    if (!x.gathered)
        bc_die("calloc", "allgather buffer");
    for (int i = 0; i < 4; i++)
        x.in[i] = (uint64_t)x.rank + (uint64_t)i;
    if (x.rank == 0)
        printf("op,ranks,reps,usec_per_call\n");
    measure(&c, &x, "MPI_Allreduce(1 x uint64)", op_allreduce1, c.reps);
    measure(&c, &x, "MPI_Allreduce(3 x uint64)", op_allreduce3, c.reps);
    measure(&c, &x, "MPI_Allreduce(4 x uint64)", op_allreduce4, c.reps);
    measure(&c, &x, "MPI_Exscan(2 x uint64)", op_exscan2, c.reps);
    measure(&c, &x, "MPI_Bcast(64 bytes)", op_bcast64, c.reps);
    measure(&c, &x, "MPI_Barrier", op_barrier, c.reps);
    measure(&c, &x, "MPI_Allgather(1 x uint64)", op_allgather1, c.reps);
    if (c.library)
        run_library(&c, &x);
    free(x.gathered);
    MPI_Finalize();
    return 0;
}
