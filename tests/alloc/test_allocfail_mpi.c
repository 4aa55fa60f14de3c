/* The allocation-failure loop over the PARALLEL API: the contract of a
 * parallel store (README "Parallel semantics", src/coll.c) is that every
 * collective call returns the same code on every rank, leaves the store
 * usable and as it was, and never hangs, even when only one rank fails. An
 * allocation failure on one rank is that case.
 *
 * For each scenario, every rank opens a parallel store (a fresh copy of a
 * base store, on MPI_COMM_WORLD) and does the scenario's setup; then only
 * rank R arms the failure of its Nth allocation (allocfail.c), every rank
 * makes the call, and:
 *   - every rank returns the same code (MPI_Allreduce MIN and MAX); when
 *     R's Nth allocation was reached, an error, SB_ERR_NOMEM (or, where the
 *     failed allocation had a way around, success with the clean run's
 *     store); sb_last_error_code() says the same, outputs are cleared;
 *   - the store is still usable: sb_store_flush and sb_store_dataset_names
 *     succeed on every rank, then every handle and the store close cleanly;
 *   - nothing stays open in HDF5 and nothing leaks, on any rank;
 *   - after everybody closed, rank 0 reads the folder (every file; each
 *     store raw with HDF5 and through a serial open of the library, digest.c)
 *     and finds it as the setup alone leaves it (or, if the call succeeded,
 *     as the clean run leaves it);
 *   - nothing hangs: a watchdog (alarm) prints the scenario, R and N and
 *     aborts (ctest's TIMEOUT is the last resort).
 * N runs 1, 2, ... until the call no longer reaches an Nth allocation on R.
 * R is the last rank, and rank 1 too at 3 ranks or more (--rank R: that
 * rank only).
 *
 *   mpiexec -n 2 test_allocfail_mpi [--dir DIR] [--only TEXT] [--rank R] [--stop] [--verbose]
 * works in a new folder under --dir (default /dev/shm, else $TMPDIR or /tmp);
 * --only runs the scenarios whose name contains TEXT (=NAME: that one),
 * --stop ends at the first failure; SBT_WATCHDOG=S sets the watchdog (60 s)
 * and SBT_ALLOC_BACKTRACE=1 prints where each failed allocation was made. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <mpi.h>
#include <secbench/storage.h>

#include "allocfail.h"
#include "fixture.h"

static int rank, nranks;

static void abort_job(void) { MPI_Abort(MPI_COMM_WORLD, 2); }

/* ---- the watchdog ---------------------------------------------------------- */

/* Seconds a run may take (SBT_WATCHDOG overrides). */
static unsigned watchdog_seconds = 60;
static char watch_label[512];

static void on_alarm(int sig)
{
    (void)sig;
    static const char head[] = "test_allocfail_mpi: HANG: ";
    ssize_t w = write(2, head, sizeof head - 1);
    w = write(2, watch_label, strlen(watch_label));
    w = write(2, "\n", 1);
    (void)w;
    abort();
}

static void watch(const char *scenario, const char *what, int R, unsigned long n)
{
    snprintf(watch_label, sizeof watch_label,
             "rank %d stuck for %d s in scenario '%s' (%s; rank %d failing allocation %lu)", rank,
             watchdog_seconds, scenario, what, R, n);
    alarm(watchdog_seconds);
}

/* ---- the folder ------------------------------------------------------------- */

static char work_root[512], run_dir[600], base_path[640];

static void remove_work(void)
{
    if (rank != 0 || !work_root[0])
        return;
    sbt_empty_dir(run_dir);
    rmdir(run_dir);
    char base_dir[600];
    snprintf(base_dir, sizeof base_dir, "%s/base", work_root);
    sbt_empty_dir(base_dir);
    rmdir(base_dir);
    rmdir(work_root);
}

/* Rank 0: every file of the folder, each store raw and through the library. */
static void digest_dir(const char *dir, text *out)
{
    char *names[64];
    size_t n = sbt_list_dir(dir, names, 64);
    for (size_t i = 0; i < n; i++) {
        put(out, "file %s\n", names[i]);
        size_t len = strlen(names[i]);
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (len > 3 && strcmp(names[i] + len - 3, ".h5") == 0) {
            digest_raw(path, out);
            digest_library(path, out);
        }
        free(names[i]);
    }
}

/* ---- each rank's rows --------------------------------------------------------- */

static int8_t my_data[2][16];
static uint8_t my_pt[2][4];
static int16_t my_wide[2];
static uint32_t my_a[2];
static double my_b[2][2];
static float my_x[2][3];
static uint8_t my_y[2];
static sb_array traces_cols[2], traces_row[2], wide_cols[9], wide_row[9], empty_cols[2],
    slot_cols[2];

static void init_rows(void)
{
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 16; j++)
            my_data[i][j] = (int8_t)(rank * 31 + i * 7 - j);
        for (int j = 0; j < 4; j++)
            my_pt[i][j] = (uint8_t)(200 + rank * 5 + i + j);
        my_wide[i] = (int16_t)(rank * 100 + i);
        my_a[i] = 0xdead0000u + (uint32_t)(rank * 2 + i);
        my_b[i][0] = rank + 0.25 * i;
        my_b[i][1] = -rank - 0.5 * i;
        for (int j = 0; j < 3; j++)
            my_x[i][j] = (float)(rank * 10 + i * 3 + j) + 0.5f;
        my_y[i] = (uint8_t)(rank * 2 + i);
    }
    traces_cols[0] = sbt_wrap(SB_INT8, 2, (uint64_t[]){2, 16}, my_data);
    traces_cols[1] = sbt_wrap(SB_UINT8, 2, (uint64_t[]){2, 4}, my_pt);
    traces_row[0] = sbt_wrap(SB_INT8, 1, (uint64_t[]){16}, my_data[0]);
    traces_row[1] = sbt_wrap(SB_UINT8, 1, (uint64_t[]){4}, my_pt[0]);
    for (int i = 0; i < 9; i++) {
        wide_cols[i] = sbt_wrap(SB_INT16, 1, (uint64_t[]){2}, my_wide);
        wide_row[i] = sbt_wrap(SB_INT16, 0, NULL, &my_wide[i % 2]);
    }
    empty_cols[0] = sbt_wrap(SB_UINT32, 1, (uint64_t[]){2}, my_a);
    empty_cols[1] = sbt_wrap(SB_FLOAT64, 2, (uint64_t[]){2, 2}, my_b);
    slot_cols[0] = sbt_wrap(SB_FLOAT32, 2, (uint64_t[]){2, 3}, my_x);
    slot_cols[1] = sbt_wrap(SB_UINT8, 1, (uint64_t[]){2}, my_y);
}

/* ---- scenarios ------------------------------------------------------------------ */


enum {
    NO_FILE = 1 << 0,     /* the run starts from an empty folder */
    INDEPENDENT = 1 << 1, /* not collective: R fails, the other ranks succeed */
    ANY_ERROR = 1 << 2,   /* the call's error may be another than SB_ERR_NOMEM (see op) */
    BEFORE_DISK = 1 << 3, /* "as it was" = the files before the setup */
    EITHER = 1 << 4,      /* a failed call may leave the setup's store or the clean run's */
};

typedef struct ctx {
    char path[700], path2[700];
    sbt_outputs o; /* what the call hands back; o.s is the store it works on */
    sb_store *s2;
    sb_dataset *ds;
    cJSON *input;
    int visits;
    int local_rc; /* what a call made of two saw of its first part on this rank */
    unsigned char buf[4096];
} ctx;

typedef struct scenario {
    const char *name;
    unsigned flags;
    unsigned outputs;
    void (*setup)(ctx *);
    int (*op)(ctx *);
} scenario;

static int open_par(sb_store **s, const char *path, sb_open_mode mode)
{
    sb_store_options o;
    REQ(sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION));
    o.comm = MPI_COMM_WORLD;
    return sb_store_open(s, path, mode, &o);
}

/* -- setups -- */

static void open_rw(ctx *c) { REQ(open_par(&c->o.s, c->path, SB_READ_WRITE)); }
static void open_ro(ctx *c) { REQ(open_par(&c->o.s, c->path, SB_READ)); }
static void rw_load(ctx *c, const char *name)
{
    open_rw(c);
    REQ(sb_store_load_dataset(&c->ds, c->o.s, name));
}
static void rw_traces(ctx *c) { rw_load(c, "traces"); }
static void rw_wide(ctx *c) { rw_load(c, "wide"); }
static void rw_empty(ctx *c) { rw_load(c, "empty"); }
static void rw_slots(ctx *c) { rw_load(c, "slots"); }
static void ro_traces(ctx *c)
{
    open_ro(c);
    REQ(sb_store_load_dataset(&c->ds, c->o.s, "traces"));
}
static void rw_traces_writethrough(ctx *c)
{
    rw_traces(c);
    REQ(sb_dataset_set_append_buffer(c->ds, 0));
}
static void rw_traces_pending(ctx *c)
{
    rw_traces(c);
    REQ(sb_dataset_append(c->ds, 2, traces_row));
}
static void rw_wide_pending(ctx *c)
{
    rw_wide(c);
    REQ(sb_dataset_append(c->ds, 9, wide_row));
}
static void rw_slots_written(ctx *c)
{
    rw_slots(c);
    REQ(sb_dataset_write_at(c->ds, 2 * (uint64_t)rank, 2, slot_cols));
}
static void rw_traces_json(ctx *c)
{
    rw_traces(c);
    REQ(sb_json_parse(&c->input, sbt_json_text, strlen(sbt_json_text)));
}
static void export_stores(ctx *c)
{
    open_ro(c);
    REQ(open_par(&c->s2, c->path2, SB_CREATE_TRUNCATE));
}
static void export_pending(ctx *c)
{
    rw_traces_pending(c);
    REQ(open_par(&c->s2, c->path2, SB_CREATE_TRUNCATE));
}

/* -- calls -- */

static int op_open_r(ctx *c) { return open_par(&c->o.s, c->path, SB_READ); }
static int op_open_rplus(ctx *c) { return open_par(&c->o.s, c->path, SB_READ_WRITE); }
static int op_open_w(ctx *c) { return open_par(&c->o.s, c->path, SB_CREATE_TRUNCATE); }
static int op_open_wminus(ctx *c) { return open_par(&c->o.s, c->path, SB_CREATE); }
static int op_open_a(ctx *c) { return open_par(&c->o.s, c->path, SB_READ_WRITE_CREATE); }
static int op_store_flush(ctx *c) { return sb_store_flush(c->o.s); }
static int op_create(ctx *c)
{
    const char *f[] = {"u", "v"};
    return sb_store_create_dataset(&c->o.out, c->o.s, "fresh", 10, 2, f);
}
static int op_create_nested(ctx *c)
{
    const char *f[] = {"u", "v", "w"};
    return sb_store_create_dataset(&c->o.out, c->o.s, "new/deeper/fresh", 10, 3, f);
}
static int op_load_traces(ctx *c) { return sb_store_load_dataset(&c->o.out, c->o.s, "traces"); }
static int op_load_nested(ctx *c) { return sb_store_load_dataset(&c->o.out, c->o.s, "aes/keys"); }
static int op_load_wide(ctx *c) { return sb_store_load_dataset(&c->o.out, c->o.s, "wide"); }
static int op_load_empty(ctx *c) { return sb_store_load_dataset(&c->o.out, c->o.s, "empty"); }
static int op_names(ctx *c) { return sb_store_dataset_names(&c->o.names, &c->o.count, c->o.s); }
static int count_visit(const sb_dataset_info *info, void *payload)
{
    ctx *c = payload;
    c->visits++;
    c->o.len += (size_t)info->size;
    return 0;
}
static int op_foreach(ctx *c) { return sb_store_foreach_dataset(c->o.s, count_visit, c); }
static int op_has(ctx *c) { return sb_store_has_dataset(&c->o.flag, c->o.s, "aes/keys"); }
static int op_remove(ctx *c) { return sb_store_remove_dataset(c->o.s, "aes/keys"); }
static int export_with(ctx *c, const char *name, const char *new_name, uint64_t chunk,
                       sb_store *dst)
{
    sb_export_options o;
    REQ(sb_export_options_init(&o, SB_EXPORT_OPTIONS_VERSION));
    o.new_name = new_name;
    o.chunk_size = chunk;
    return sb_store_export_dataset(c->o.s, name, dst, &o);
}
static int op_export(ctx *c) { return export_with(c, "traces", NULL, 3, c->s2); }
static int op_export_wide(ctx *c) { return export_with(c, "wide", NULL, 1, c->s2); }
static int op_export_nested(ctx *c) { return export_with(c, "aes/keys", "copies/of/keys", 1, c->s2); }
static int op_export_within(ctx *c) { return export_with(c, "traces", "traces_copy", 4, c->o.s); }
static int op_extend_all(ctx *c) { return sb_dataset_extend(c->ds, 2, traces_cols); }
static int op_extend_even(ctx *c)
{
    return rank % 2 == 0 ? sb_dataset_extend(c->ds, 2, traces_cols) : sb_dataset_extend(c->ds, 0, NULL);
}
static int op_extend_last(ctx *c)
{
    return rank == nranks - 1 ? sb_dataset_extend(c->ds, 2, traces_cols)
                              : sb_dataset_extend(c->ds, 0, NULL);
}
static int op_extend_wide(ctx *c) { return sb_dataset_extend(c->ds, 9, wide_cols); }
static int op_extend_first(ctx *c)
{
    return rank == 0 ? sb_dataset_extend(c->ds, 0, NULL) : sb_dataset_extend(c->ds, 2, empty_cols);
}
static int op_append(ctx *c) { return sb_dataset_append(c->ds, 2, traces_row); }
static int op_append_some(ctx *c)
{
    return rank % 2 ? sb_dataset_append(c->ds, 0, NULL) : sb_dataset_append(c->ds, 2, traces_row);
}
static int op_append_flush(ctx *c)
{
    int rc = sb_dataset_append(c->ds, 2, traces_row);
    return rc < 0 ? rc : sb_dataset_flush(c->ds);
}
static int op_append_wide(ctx *c) { return sb_dataset_append(c->ds, 9, wide_row); }
static int op_dataset_flush(ctx *c) { return sb_dataset_flush(c->ds); }
static int op_dataset_close(ctx *c)
{
    int rc = sb_dataset_close(c->ds);
    c->ds = NULL; /* freed even on failure */
    return rc;
}
static int op_write_at(ctx *c) { return sb_dataset_write_at(c->ds, 2 * (uint64_t)rank, 2, slot_cols); }
static int op_commit_size(ctx *c) { return sb_dataset_commit_size(c->ds, 2 * (uint64_t)rank + 2); }
/* The slices pattern: each rank writes its slice, then every rank commits,
 * whatever its write returned (the commit is collective): a slice that was
 * not written must make the commit refuse on every rank. */
static int op_write_commit(ctx *c)
{
    c->local_rc = sb_dataset_write_at(c->ds, 2 * (uint64_t)rank, 2, slot_cols);
    return sb_dataset_commit_size(c->ds, 2 * (uint64_t)rank + 2);
}
static int op_read_all(ctx *c)
{
    return sb_dataset_read_all(c->buf, c->ds, "data", (uint64_t)rank % 10, 3);
}
static int op_reset(ctx *c) { return sb_dataset_reset(c->ds); }
static int op_define(ctx *c)
{
    return sb_dataset_define_field(c->ds, "b", SB_COMPLEX64, 2, (uint64_t[]){2, 3});
}
static int op_set_buffer(ctx *c) { return sb_dataset_set_append_buffer(c->ds, 64); }
static int op_set_incomplete(ctx *c) { return sb_dataset_set_incomplete(c->ds, true); }
static int op_add_bytes(ctx *c) { return sb_dataset_add_asset_bytes(c->ds, "blob", "abc", 3, false); }
static int op_replace_bytes(ctx *c)
{
    return sb_dataset_add_asset_bytes(c->ds, "notes", "replaced", 8, true);
}
static int op_add_array(ctx *c)
{
    static const uint16_t v[4] = {1, 2, 3, 4};
    sb_array a = sbt_wrap(SB_UINT16, 2, (uint64_t[]){2, 2}, v);
    return sb_dataset_add_asset_array(c->ds, "grid", &a, false);
}
static int op_add_json(ctx *c) { return sb_dataset_add_json_asset(c->ds, "copy.json", c->input, false); }
static int op_replace_json(ctx *c) { return sb_dataset_add_json_asset(c->ds, "meta.json", c->input, true); }
static int op_asset_names(ctx *c) { return sb_dataset_asset_names(&c->o.names, &c->o.count, c->ds); }
static int op_asset_info(ctx *c) { return sb_dataset_asset_info(&c->o.arr, c->ds, "curve"); }
static int op_asset_bytes(ctx *c) { return sb_dataset_get_asset_bytes(&c->o.bytes, &c->o.len, c->ds, "notes"); }
static int op_asset_array(ctx *c) { return sb_dataset_get_asset_array(&c->o.arr, c->ds, "curve"); }
static int op_get_json(ctx *c) { return sb_dataset_get_json_asset(&c->o.json, c->ds, "meta.json"); }

static const scenario scenarios[] = {
    {"open r", 0, OUT_STORE, NULL, op_open_r},
    {"open r+", 0, OUT_STORE, NULL, op_open_rplus},
    {"open w (truncates)", 0, OUT_STORE, NULL, op_open_w},
    {"open w- (new file)", NO_FILE, OUT_STORE, NULL, op_open_wminus},
    {"open a (exists)", 0, OUT_STORE, NULL, op_open_a},
    {"open a (new file)", NO_FILE, OUT_STORE, NULL, op_open_a},
    {"create", 0, OUT_DS, open_rw, op_create},
    {"create nested", 0, OUT_DS, open_rw, op_create_nested},
    {"define_field", 0, 0, rw_empty, op_define},
    {"load", 0, OUT_DS, open_ro, op_load_traces},
    {"load nested", 0, OUT_DS, open_ro, op_load_nested},
    {"load 9 fields", 0, OUT_DS, open_rw, op_load_wide},
    {"load unwritten", 0, OUT_DS, open_rw, op_load_empty},
    {"dataset_names", 0, OUT_NAMES, open_ro, op_names},
    {"foreach", 0, 0, open_ro, op_foreach},
    {"has", 0, OUT_FLAG, open_ro, op_has},
    {"remove", 0, 0, open_rw, op_remove},
    {"extend (rows on every rank)", 0, 0, rw_traces, op_extend_all},
    {"extend (rows on even ranks)", 0, 0, rw_traces, op_extend_even},
    {"extend (rows on the last rank)", 0, 0, rw_traces, op_extend_last},
    {"extend 9 fields", 0, 0, rw_wide, op_extend_wide},
    {"extend first rows (not on rank 0)", 0, 0, rw_empty, op_extend_first},
    {"append", 0, 0, rw_traces, op_append},
    {"append (even ranks)", 0, 0, rw_traces, op_append_some},
    {"append + dataset flush", 0, 0, rw_traces, op_append_flush},
    {"append 9 fields (rows pending)", 0, 0, rw_wide_pending, op_append_wide},
    {"append write-through", 0, 0, rw_traces_writethrough, op_append},
    {"dataset flush (rows pending)", 0, 0, rw_wide_pending, op_dataset_flush},
    {"store flush (rows pending)", 0, 0, rw_traces_pending, op_store_flush},
    {"dataset close (rows pending)", BEFORE_DISK | EITHER, 0, rw_wide_pending, op_dataset_close},
    {"set_append_buffer (rows pending)", 0, 0, rw_wide_pending, op_set_buffer},
    {"write_at", INDEPENDENT, 0, rw_slots, op_write_at},
    {"commit_size", 0, 0, rw_slots_written, op_commit_size},
    {"write_at + commit_size", ANY_ERROR, 0, rw_slots, op_write_commit},
    {"read_all", 0, 0, ro_traces, op_read_all},
    {"reset", 0, 0, rw_traces, op_reset},
    {"reset (rows pending)", 0, 0, rw_traces_pending, op_reset},
    {"set_incomplete", 0, 0, rw_traces, op_set_incomplete},
    {"add_asset_bytes", 0, 0, rw_traces, op_add_bytes},
    {"add_asset_bytes replace", 0, 0, rw_traces, op_replace_bytes},
    {"add_asset_array", 0, 0, rw_traces, op_add_array},
    {"add_json_asset", 0, 0, rw_traces_json, op_add_json},
    {"add_json_asset replace", 0, 0, rw_traces_json, op_replace_json},
    {"asset_names", 0, OUT_NAMES, ro_traces, op_asset_names},
    {"asset_info", 0, OUT_ARRAY, ro_traces, op_asset_info},
    {"get_asset_bytes", 0, OUT_BYTES, ro_traces, op_asset_bytes},
    {"get_asset_array", 0, OUT_ARRAY, ro_traces, op_asset_array},
    {"get_json_asset", 0, OUT_JSON, ro_traces, op_get_json},
    {"export, chunks of 3", 0, 0, export_stores, op_export},
    {"export 9 fields, chunks of 1", 0, 0, export_stores, op_export_wide},
    {"export nested, new name", 0, 0, export_stores, op_export_nested},
    {"export (rows pending)", 0, 0, export_pending, op_export},
    {"export within the store", 0, 0, rw_traces_pending, op_export_within},
};
#define NSCENARIOS (sizeof scenarios / sizeof scenarios[0])

/* ---- one run ------------------------------------------------------------------- */


typedef enum run_kind {
    RUN_CLEAN,  /* no failure: the reference */
    RUN_BEFORE, /* the setup alone */
    RUN_FAIL,   /* R's Nth allocation fails */
} run_kind;

typedef struct outcome {
    int rc;               /* this rank's */
    int rc_min, rc_max;   /* over the ranks */
    int local_rc;         /* R's first part of a call of two (broadcast) */
    unsigned long calls;  /* R's allocation calls (broadcast) */
    unsigned long failed; /* R's failed allocations (broadcast) */
    text store;           /* rank 0: the folder after everything closed */
    text problems;        /* this rank's */
} outcome;

static void outcome_free(outcome *o)
{
    text_free(&o->store);
    text_free(&o->problems);
}

/* Collective: rc of every rank, for a message. */
static void put_codes(text *out, int rc)
{
    int *all = malloc(sizeof(int) * (size_t)nranks);
    MPI_Allgather(&rc, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
    for (int r = 0; r < nranks; r++)
        put(out, "%srank %d %s", r ? ", " : "", r, sb_error_name(all[r]));
    free(all);
}

static bool all_ok(int rc)
{
    int worst = 0;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return worst == 0;
}

/* Every handle closed, collectively, in a fixed order; failures noted. */
static void teardown(ctx *c, text *problems)
{
    int rc;
    if (c->o.out && (rc = sb_dataset_close(c->o.out)) != 0)
        put(problems, "closing the new dataset: %s: %s; ", sb_error_name(rc), sb_last_error_message());
    if (c->ds && (rc = sb_dataset_close(c->ds)) != 0)
        put(problems, "closing the dataset: %s: %s; ", sb_error_name(rc), sb_last_error_message());
    if (c->s2 && (rc = sb_store_close(c->s2)) != 0)
        put(problems, "closing the second store: %s: %s; ", sb_error_name(rc), sb_last_error_message());
    if (c->o.s && (rc = sb_store_close(c->o.s)) != 0)
        put(problems, "closing the store: %s: %s; ", sb_error_name(rc), sb_last_error_message());
    sb_free(c->o.names);
    sb_free(c->o.bytes);
    sb_free(c->o.arr.data);
    cJSON_Delete(c->o.json);
    cJSON_Delete(c->input);
    memset(c, 0, sizeof *c);
}

static void run(const scenario *sc, int R, run_kind kind, unsigned long n, outcome *o)
{
    memset(o, 0, sizeof *o);
    ctx c;
    memset(&c, 0, sizeof c);
    snprintf(c.path, sizeof c.path, "%s/store.h5", run_dir);
    snprintf(c.path2, sizeof c.path2, "%s/copy.h5", run_dir);
    if (rank == 0) {
        sbt_empty_dir(run_dir);
        if (!(sc->flags & NO_FILE))
            copy_file(base_path, c.path);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (kind == RUN_BEFORE && (sc->flags & BEFORE_DISK)) {
        if (rank == 0)
            digest_dir(run_dir, &o->store);
        return;
    }
    watch(sc->name, kind == RUN_CLEAN ? "clean run" : kind == RUN_BEFORE ? "setup alone" : "failing run",
          R, n);
    size_t live0 = sbt_alloc_live();
    unsigned long seq0 = sbt_alloc_next_seq(), foreign0 = sbt_alloc_foreign_frees();
    if (sc->setup)
        sc->setup(&c);
    int rc = 0;
    if (kind != RUN_BEFORE) {
        sbt_poison(&c.o, sc->outputs);
        sb_clear_error();
        c.local_rc = 0;
        seq0 = sbt_alloc_next_seq();
        sbt_alloc_arm(kind == RUN_FAIL && rank == R ? n : 0, SBT_FAIL_ONCE);
        rc = sc->op(&c);
        sbt_alloc_report rep = sbt_alloc_disarm();
        if (rc < 0) {
            if (sb_last_error_code() != rc)
                put(&o->problems, "sb_last_error_code() is %s, not the %s returned; ",
                    sb_error_name(sb_last_error_code()), sb_error_name(rc));
            const char *msg = sb_last_error_message();
            if (!msg[0])
                put(&o->problems, "empty error message; ");
            else if (rc == SB_ERR_NOMEM && rank == R && !strstr(msg, "memory"))
                put(&o->problems, "the message does not say memory ran out: \"%s\"; ", msg);
            const char *what = sbt_not_cleared(&c.o, sc->outputs);
            if (what)
                put(&o->problems, "%s output not cleared on failure; ", what);
        }
        sbt_unpoison(&c.o);
        unsigned long r_rep[3] = {rep.calls, rep.failed, (unsigned long)(long)c.local_rc};
        MPI_Bcast(r_rep, 3, MPI_UNSIGNED_LONG, R, MPI_COMM_WORLD);
        o->calls = r_rep[0];
        o->failed = r_rep[1];
        o->local_rc = (int)(long)r_rep[2];
    }
    o->rc = rc;
    MPI_Allreduce(&rc, &o->rc_min, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&rc, &o->rc_max, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (!(sc->flags & INDEPENDENT) && o->rc_min != o->rc_max) {
        put(&o->problems, "the ranks returned different codes: ");
        put_codes(&o->problems, rc);
        put(&o->problems, "; ");
    } else if (sc->flags & INDEPENDENT) {
        if (rank != R && rc != 0)
            put(&o->problems, "rank %d, which did not fail, returned %s; ", rank, sb_error_name(rc));
    }
    /* Still usable: a commit and a listing on every rank. */
    if (c.o.s) {
        int frc = sb_store_flush(c.o.s);
        if (!all_ok(frc))
            put(&o->problems, "sb_store_flush after the call: %s: %s; ", sb_error_name(frc),
                sb_last_error_message());
        char **names = NULL;
        size_t count = 0;
        int nrc = sb_store_dataset_names(&names, &count, c.o.s);
        if (!all_ok(nrc))
            put(&o->problems, "sb_store_dataset_names after the call: %s: %s; ",
                sb_error_name(nrc), sb_last_error_message());
        sb_free(names);
    }
    teardown(&c, &o->problems);
    ssize_t open_objects = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open_objects != 0)
        put(&o->problems, "%zd HDF5 object(s) left open; ", open_objects);
    if (sbt_alloc_live() != live0) {
        put(&o->problems, "%zu block(s) leaked; ", sbt_alloc_live() - live0);
        fprintf(stderr, "  [rank %d] leaked by '%s' (allocations counted from the call's first):\n",
                rank, sc->name);
        sbt_alloc_print_live(stderr, seq0, 10);
    }
    if (sbt_alloc_foreign_frees() != foreign0)
        put(&o->problems, "%lu free(s) of blocks the library did not allocate; ",
            sbt_alloc_foreign_frees() - foreign0);
    alarm(0);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0)
        digest_dir(run_dir, &o->store);
}

/* ---- the loop ---------------------------------------------------------------------- */

typedef struct figures {
    unsigned scenarios;
    unsigned long runs, nomem, fallbacks, other_errors, failures;
} figures;

static bool opt_verbose, opt_stop;

static void first_difference(const char *a, const char *b)
{
    size_t line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    const char *ea = strchr(la, '\n'), *eb = strchr(lb, '\n');
    fprintf(stderr, "    line %zu expected: %.*s\n    line %zu got:      %.*s\n", line,
            (int)(ea ? ea - la : (ptrdiff_t)strlen(la)), la, line,
            (int)(eb ? eb - lb : (ptrdiff_t)strlen(lb)), lb);
}

/* Collective: every rank's problems printed, counted once. */
static bool report(const scenario *sc, int R, unsigned long n, const text *problems,
                   figures *fig)
{
    int mine = problems->len ? 1 : 0, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (mine)
        fprintf(stderr, "FAIL %s [rank %d failing allocation %lu] on rank %d: %s\n", sc->name, R, n,
                rank, text_str(problems));
    if (any) {
        fig->failures++;
        if (opt_stop) {
            MPI_Barrier(MPI_COMM_WORLD);
            remove_work();
            MPI_Finalize();
            exit(1);
        }
    }
    return any != 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void loop(const scenario *sc, int R, figures *fig)
{
    double t0 = now();
    outcome clean, before;
    run(sc, R, RUN_CLEAN, 0, &clean);
    run(sc, R, RUN_BEFORE, 0, &before);
    if (clean.rc_max != 0 || clean.rc_min != 0)
        put(&clean.problems, "the clean run returned %s: %s; ", sb_error_name(clean.rc),
            sb_last_error_message());
    report(sc, R, 0, &clean.problems, fig);
    report(sc, R, 0, &before.problems, fig);
    unsigned long total = clean.calls, runs = 0, nomem = 0, fallbacks = 0, others = 0;
    for (unsigned long n = 1;; n++) {
        if (n > total + 1 || n > 100000) {
            text t = {0};
            if (rank == 0)
                put(&t, "the call keeps allocating (not deterministic?)");
            report(sc, R, n, &t, fig);
            text_free(&t);
            break;
        }
        outcome o;
        run(sc, R, RUN_FAIL, n, &o);
        runs++;
        if (!o.failed) {
            if (n != total + 1 && rank == 0)
                put(&o.problems, "fewer allocations than in the clean run (%lu, not %lu); ", n - 1,
                    total);
            report(sc, R, n, &o.problems, fig);
            outcome_free(&o);
            break;
        }
        /* R's code decides what the call did. */
        int r_rc = o.rc;
        MPI_Bcast(&r_rc, 1, MPI_INT, R, MPI_COMM_WORLD);
        bool failed = r_rc < 0;
        if (failed && rank == R && !(sc->flags & ANY_ERROR) && r_rc != SB_ERR_NOMEM)
                put(&o.problems, "returned %s, not SB_ERR_NOMEM: %s; ", sb_error_name(r_rc),
                    sb_last_error_message());
        if (rank == 0) {
            const outcome *want = failed ? &before : &clean;
            bool same = strcmp(text_str(&o.store), text_str(&want->store)) == 0;
            if (!same && failed && (sc->flags & EITHER))
                same = strcmp(text_str(&o.store), text_str(&clean.store)) == 0;
            if (!same) {
                put(&o.problems, "%s; ", failed ? "the store is not as it was before the call"
                                                : "the call succeeded, but the store differs from "
                                                  "the clean run's");
                fprintf(stderr, "  %s [rank %d failing allocation %lu]:\n", sc->name, R, n);
                first_difference(text_str(&want->store), text_str(&o.store));
            }
        }
        if (failed && r_rc == SB_ERR_NOMEM)
            nomem++;
        else if (failed)
            others++;
        else
            fallbacks++;
        if (opt_verbose && rank == 0)
            printf("    R=%d n=%lu: %s\n", R, n, sb_error_name(r_rc));
        report(sc, R, n, &o.problems, fig);
        outcome_free(&o);
    }
    fig->runs += runs;
    fig->nomem += nomem;
    fig->fallbacks += fallbacks;
    fig->other_errors += others;
    if (rank == 0) {
        printf("  %-36s R=%d %3lu allocations %4lu runs: %4lu SB_ERR_NOMEM, %lu fallback, %lu other "
               "error (%.1f s)\n",
               sc->name, R, total, runs, nomem, fallbacks, others, now() - t0);
        fflush(stdout);
    }
    outcome_free(&clean);
    outcome_free(&before);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    static char program[64];
    snprintf(program, sizeof program, "test_allocfail_mpi [rank %d]", rank);
    sbt_program = program;
    sbt_on_die = abort_job;
    const char *only = NULL, *parent = NULL;
    int only_rank = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            parent = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--rank") == 0 && i + 1 < argc)
            only_rank = atoi(argv[++i]);
        else if (strcmp(argv[i], "--stop") == 0)
            opt_stop = true;
        else if (strcmp(argv[i], "--verbose") == 0)
            opt_verbose = true;
        else
            sbt_die("unknown argument %s", argv[i]);
    }
    if (only_rank >= nranks)
        sbt_die("--rank %d: there are %d ranks", only_rank, nranks);
    if (getenv("SBT_WATCHDOG") && atoi(getenv("SBT_WATCHDOG")) > 0)
        watchdog_seconds = (unsigned)atoi(getenv("SBT_WATCHDOG"));
    signal(SIGALRM, on_alarm);
    cJSON_Hooks hooks = {sbt_alloc_malloc, sbt_alloc_free};
    cJSON_InitHooks(&hooks);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    init_rows();

    if (rank == 0) {
        if (!parent) {
            struct stat st;
            parent = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
                             access("/dev/shm", W_OK) == 0
                         ? "/dev/shm"
                     : getenv("TMPDIR") ? getenv("TMPDIR")
                                        : "/tmp";
        }
        snprintf(work_root, sizeof work_root, "%s/sb-allocfail-mpi-XXXXXX", parent);
        if (!mkdtemp(work_root))
            sbt_die("cannot make a folder in %s: %s", parent, strerror(errno));
    }
    MPI_Bcast(work_root, sizeof work_root, MPI_CHAR, 0, MPI_COMM_WORLD);
    snprintf(run_dir, sizeof run_dir, "%s/run", work_root);
    char base_dir[600];
    snprintf(base_dir, sizeof base_dir, "%s/base", work_root);
    snprintf(base_path, sizeof base_path, "%s/base.h5", base_dir);
    if (rank == 0) {
        mkdir(run_dir, 0755);
        mkdir(base_dir, 0755);
        /* The library's allocations must come here, or the loop passes vacuously. */
        sbt_alloc_arm(0, SBT_FAIL_ONCE);
        sbt_make_base(base_path, (uint64_t)nranks);
        if (sbt_alloc_disarm().calls == 0 || sbt_alloc_live() != 0)
            sbt_die("the library's allocations do not go through allocfail.c");
    }
    MPI_Barrier(MPI_COMM_WORLD);

    int ranks_to_fail[2], nfail = 0;
    if (only_rank >= 0) {
        ranks_to_fail[nfail++] = only_rank;
    } else {
        ranks_to_fail[nfail++] = nranks - 1;
        if (nranks >= 3)
            ranks_to_fail[nfail++] = 1;
    }
    double t0 = now();
    figures fig = {0};
    if (rank == 0)
        printf("allocation-failure loop over the parallel API at %d ranks: one rank's allocation "
               "fails\n",
               nranks);
    for (size_t i = 0; i < NSCENARIOS; i++) {
        if (only && (only[0] == '=' ? strcmp(scenarios[i].name, only + 1) != 0
                                    : !strstr(scenarios[i].name, only)))
            continue;
        fig.scenarios++;
        for (int k = 0; k < nfail; k++)
            loop(&scenarios[i], ranks_to_fail[k], &fig);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    remove_work();
    if (sbt_alloc_live() != 0) {
        fprintf(stderr, "FAIL [rank %d]: %zu block(s) still allocated at the end\n", rank,
                sbt_alloc_live());
        sbt_alloc_print_live(stderr, 0, 10);
        fig.failures++;
    }
    unsigned long failures = 0;
    MPI_Allreduce(&fig.failures, &failures, 1, MPI_UNSIGNED_LONG, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0)
        printf("allocfail_mpi: %d ranks, %u scenarios, %d failing rank(s); %lu runs (%lu "
               "SB_ERR_NOMEM, %lu fallbacks, %lu other errors); %lu failures found; %.1f s\n",
               nranks, fig.scenarios, nfail, fig.runs, fig.nomem, fig.fallbacks, fig.other_errors,
               failures, now() - t0);
    MPI_Finalize();
    return failures ? 1 : 0;
}
