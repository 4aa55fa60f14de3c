/* The allocation-failure loop, SQLite style: for each call of the public
 * API's serial paths, and for N = 1, 2, ... until the call no longer reaches
 * an Nth allocation, run it again from the same state with its Nth
 * allocation failing (once; then the Nth and every later one). Each run
 * must:
 *   - return SB_ERR_NOMEM with a message saying so (the same code from
 *     sb_last_error_code), its output parameters cleared (they are poisoned
 *     before the call); or return what a clean run returns, with the same
 *     result, when the failed allocation had a way around;
 *   - leave the store as it was: every file of the run's folder (no lock
 *     file left behind), each store read raw with HDF5 (every group,
 *     dataset, attribute, the rows below each size, every asset's bytes) and
 *     through a fresh open of the library, equals what the call's setup
 *     alone leaves (for a close: what was committed before it); a store
 *     open read-only must not change by a byte;
 *   - leave its handles usable: in a second pass the call, repeated on the
 *     same handles with memory enough, gives the clean run's result, and the
 *     store then equals the clean run's;
 *   - leak nothing and free nothing twice: once everything is closed, every
 *     block the library allocated is freed (allocfail.c records each one;
 *     LeakSanitizer checks the same in the asan build).
 *
 * The library is a test-only copy of src/ whose malloc, calloc, realloc,
 * free, strdup and strndup are allocfail.c's; cJSON's hooks go there too, so
 * the nodes the library makes count, and so do operator new and delete
 * (allocfail_new.cpp: the shared-dataset index is C++). HDF5's own
 * allocations are left alone.
 *
 *   test_allocfail [--data DIR] [--dir DIR] [--only TEXT] [--quick] [--stop] [--verbose]
 * reads the stores Python wrote from --data (tests/data; without it, those
 * scenarios are skipped), works in a new folder under --dir (default
 * /dev/shm, else $TMPDIR or /tmp),
 * prints one line per scenario and the figures recorded in README.md;
 * --only runs the scenarios whose name contains TEXT, --quick fails each
 * allocation once and skips the retries, --stop ends at the first failure. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <secbench/storage.h>

#include "allocfail.h"

#include "fixture.h"

/* ---- small tools ---------------------------------------------------------- */

/* ---- what a store holds: digest.c, and --------------------------------------- */

static void digest_bytes(const char *path, text *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        put(out, "unreadable\n");
        return;
    }
    uint64_t h = 1469598103934665603ULL;
    unsigned char buf[65536];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < n; i++) {
            h ^= buf[i];
            h *= 1099511628211ULL;
        }
        total += n;
    }
    fclose(f);
    put(out, "  %zu bytes %016" PRIx64 "\n", total, h);
}

/* Every file of the folder; every HDF5 file of it, raw and through the
 * library, or (bytes) byte for byte. */
static void digest_dir(const char *dir, bool bytes, text *out)
{
    char *names[64];
    size_t n = sbt_list_dir(dir, names, 64);
    for (size_t i = 0; i < n; i++) {
        put(out, "file %s\n", names[i]);
        size_t len = strlen(names[i]);
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (bytes) {
            digest_bytes(path, out);
        } else if (len > 3 && strcmp(names[i] + len - 3, ".h5") == 0) {
            digest_raw(path, out);
            digest_library(path, out);
        }
    }
    sbt_free_names(names, n);
}

/* ---- scenarios ------------------------------------------------------------------ */

/* What a scenario's call hands back (checked cleared on failure). */

enum {
    NO_FILE = 1 << 0,     /* the run starts from an empty folder */
    PY_DTYPES = 1 << 4,   /* store.h5 is tests/data/python-secbench/dtypes.h5 (not the base) */
    PY_ASSETS = 1 << 5,   /* ... assets.h5 */
    PY_LAYOUT = 1 << 6,   /* ... layout.h5 */
    REFERENCE = 1 << 7,   /* ... tests/data/secbench-reference.h5 */
    ONCE_ONLY = 1 << 8,   /* a long walk: its allocations fail one at a time only */
    READS = 1 << 9,       /* the store is open read-only: not a byte of it may change */
    NO_RETRY = 1 << 1,    /* the call frees its handle (close): nothing to retry on */
    BEFORE_DISK = 1 << 2, /* "as it was" = the files before the setup (a close) */
    NO_ERROR = 1 << 3,    /* the call reports failure by a NULL result, no error code */
};

typedef struct ctx {
    const char *dir;
    char path[512], path2[512];
    sbt_outputs o; /* what the call hands back; o.s is the store it works on */
    sb_store *s2;
    sb_dataset *ds, *ds2;
    cJSON *input;
    int visits;
    unsigned char buf[1024];
    text log; /* what a call made of several calls met */
    char index[600]; /* a shared-dataset index (shared_files) */
} ctx;

typedef struct scenario {
    const char *name;
    const char *api; /* the public calls it covers, space-separated */
    unsigned flags;
    unsigned outputs;
    void (*setup)(ctx *);
    int (*op)(ctx *);
} scenario;

static int8_t new_data[3][16];
static uint8_t new_pt[3][4];

static sb_array traces_cols[2];
static void init_rows(void)
{
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 16; j++)
            new_data[i][j] = (int8_t)(100 - i - j);
        for (int j = 0; j < 4; j++)
            new_pt[i][j] = (uint8_t)(200 + i + j);
    }
    traces_cols[0] = sbt_wrap(SB_INT8, 2, (uint64_t[]){3, 16}, new_data);
    traces_cols[1] = sbt_wrap(SB_UINT8, 2, (uint64_t[]){3, 4}, new_pt);
}

static sb_array traces_row[2];
static sb_array wide_cols[9], wide_row[9], empty_cols[2], empty_row[2], slot_cols[2];
static const int16_t wide_values[3] = {7, 8, 9};
static const float slot_x[2][3] = {{1.5f, 2.5f, 3.5f}, {4.5f, 5.5f, 6.5f}};
static const uint8_t slot_y[2] = {11, 12};
static const uint32_t empty_a[2] = {0xdeadbeef, 42};
static const double empty_b[2][2] = {{0.25, 0.5}, {0.75, 1.0}};

static void init_arrays(void)
{
    init_rows();
    traces_row[0] = sbt_wrap(SB_INT8, 1, (uint64_t[]){16}, new_data[0]);
    traces_row[1] = sbt_wrap(SB_UINT8, 1, (uint64_t[]){4}, new_pt[0]);
    for (int i = 0; i < 9; i++) {
        wide_cols[i] = sbt_wrap(SB_INT16, 1, (uint64_t[]){3}, wide_values);
        wide_row[i] = sbt_wrap(SB_INT16, 0, NULL, &wide_values[i % 3]);
    }
    empty_cols[0] = sbt_wrap(SB_UINT32, 1, (uint64_t[]){2}, empty_a);
    empty_cols[1] = sbt_wrap(SB_FLOAT64, 2, (uint64_t[]){2, 2}, empty_b);
    empty_row[0] = sbt_wrap(SB_UINT32, 0, NULL, &empty_a[0]);
    empty_row[1] = sbt_wrap(SB_FLOAT64, 1, (uint64_t[]){2}, empty_b[0]);
    slot_cols[0] = sbt_wrap(SB_FLOAT32, 2, (uint64_t[]){2, 3}, slot_x);
    slot_cols[1] = sbt_wrap(SB_UINT8, 1, (uint64_t[]){2}, slot_y);
}

/* -- setups -- */

static void open_rw(ctx *c) { REQ(sb_store_open(&c->o.s, c->path, SB_READ_WRITE, NULL)); }
static void open_ro(ctx *c) { REQ(sb_store_open(&c->o.s, c->path, SB_READ, NULL)); }
static void load(ctx *c, sb_dataset **ds, const char *name)
{
    REQ(sb_store_load_dataset(ds, c->o.s, name));
}
static void rw_traces(ctx *c)
{
    open_rw(c);
    load(c, &c->ds, "traces");
}
static void ro_traces(ctx *c)
{
    open_ro(c);
    load(c, &c->ds, "traces");
}
static void rw_wide(ctx *c)
{
    open_rw(c);
    load(c, &c->ds, "wide");
}
static void rw_empty(ctx *c)
{
    open_rw(c);
    load(c, &c->ds, "empty");
}
static void rw_slots(ctx *c)
{
    open_rw(c);
    load(c, &c->ds, "slots");
}
static void rw_traces_writethrough(ctx *c)
{
    rw_traces(c);
    REQ(sb_dataset_set_append_buffer(c->ds, 0));
}
static void rw_wide_writethrough(ctx *c)
{
    rw_wide(c);
    REQ(sb_dataset_set_append_buffer(c->ds, 0));
}
static void rw_traces_buffered(ctx *c)
{
    rw_traces(c);
    REQ(sb_dataset_append(c->ds, 2, traces_row));
}
/* Rows waiting in the append buffers of two datasets, one of 9 fields. */
static void rw_pending(ctx *c)
{
    rw_traces_buffered(c);
    load(c, &c->ds2, "wide");
    REQ(sb_dataset_append(c->ds2, 9, wide_row));
    REQ(sb_dataset_append(c->ds2, 9, wide_row));
}
static void rw_wide_pending(ctx *c)
{
    rw_wide(c);
    REQ(sb_dataset_append(c->ds, 9, wide_row));
}
static void rw_slots_written(ctx *c)
{
    rw_slots(c);
    REQ(sb_dataset_write_at(c->ds, 0, 2, slot_cols));
}
static void json_input(ctx *c) { REQ(sb_json_parse(&c->input, sbt_json_text, strlen(sbt_json_text))); }
static void rw_traces_json(ctx *c)
{
    rw_traces(c);
    json_input(c);
}
static void ro_wide(ctx *c)
{
    open_ro(c);
    load(c, &c->ds, "wide");
}
/* Source opened read-only, destination a new store. */
static void export_stores(ctx *c)
{
    open_ro(c);
    REQ(sb_store_open(&c->s2, c->path2, SB_CREATE_TRUNCATE, NULL));
}
static void export_pending(ctx *c)
{
    rw_pending(c);
    REQ(sb_store_open(&c->s2, c->path2, SB_CREATE_TRUNCATE, NULL));
}

/* -- calls -- */

static int op_options_init(ctx *c)
{
    sb_store_options o;
    (void)c;
    return sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
}
static int open_with(ctx *c, sb_open_mode mode)
{
    sb_store_options o;
    REQ(sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION));
    return sb_store_open(&c->o.s, c->path, mode, &o);
}
static int op_open_r(ctx *c) { return open_with(c, SB_READ); }
static int op_open_rplus(ctx *c) { return open_with(c, SB_READ_WRITE); }
static int op_open_w(ctx *c) { return open_with(c, SB_CREATE_TRUNCATE); }
static int op_open_wminus(ctx *c) { return open_with(c, SB_CREATE); }
static int op_open_a(ctx *c) { return open_with(c, SB_READ_WRITE_CREATE); }
static int op_open_r_default(ctx *c) { return sb_store_open(&c->o.s, c->path, SB_READ, NULL); }
static int op_temporary(ctx *c) { return sb_store_temporary(&c->o.s, "scratch"); }
static int op_store_close(ctx *c)
{
    int rc = sb_store_close(c->o.s);
    c->o.s = NULL; /* freed even on failure */
    return rc;
}
static int op_dataset_close(ctx *c)
{
    int rc = sb_dataset_close(c->ds);
    c->ds = NULL;
    return rc;
}
static int op_create(ctx *c)
{
    const char *f[] = {"u", "v"};
    return sb_store_create_dataset(&c->o.out, c->o.s, "fresh", 10, 2, f);
}
static int op_create_nested(ctx *c)
{
    const char *f[] = {"u"};
    return sb_store_create_dataset(&c->o.out, c->o.s, "new/deeper/fresh", 10, 1, f);
}
static int op_create_wide(ctx *c)
{
    const char *f[] = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"};
    return sb_store_create_dataset(&c->o.out, c->o.s, "fresh_wide", 5, 10, f);
}
static int op_create_existing(ctx *c)
{
    const char *f[] = {"u"};
    return sb_store_create_dataset(&c->o.out, c->o.s, "traces", 10, 1, f);
}
static int op_load_traces(ctx *c) { return sb_store_load_dataset(&c->o.out, c->o.s, "traces"); }
static int op_load_nested(ctx *c) { return sb_store_load_dataset(&c->o.out, c->o.s, "aes/keys"); }
static int op_load_wide(ctx *c) { return sb_store_load_dataset(&c->o.out, c->o.s, "wide"); }
static int op_load_empty(ctx *c) { return sb_store_load_dataset(&c->o.out, c->o.s, "empty"); }
static int op_load_missing(ctx *c) { return sb_store_load_dataset(&c->o.out, c->o.s, "nothing/here"); }
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
static int op_has_missing(ctx *c) { return sb_store_has_dataset(&c->o.flag, c->o.s, "aes/nothing"); }
static int op_remove(ctx *c) { return sb_store_remove_dataset(c->o.s, "aes/keys"); }
static int op_remove_missing(ctx *c) { return sb_store_remove_dataset(c->o.s, "nothing"); }
static int op_store_flush(ctx *c) { return sb_store_flush(c->o.s); }
static int op_export(ctx *c) { return sb_store_export_dataset(c->o.s, "traces", c->s2, NULL); }
static int op_export_wide(ctx *c)
{
    sb_export_options o;
    REQ(sb_export_options_init(&o, SB_EXPORT_OPTIONS_VERSION));
    o.chunk_size = 1;
    o.shrink = false;
    return sb_store_export_dataset(c->o.s, "wide", c->s2, &o);
}
static int op_export_nested(ctx *c)
{
    sb_export_options o;
    REQ(sb_export_options_init(&o, SB_EXPORT_OPTIONS_VERSION));
    o.new_name = "copies/of/keys";
    return sb_store_export_dataset(c->o.s, "aes/keys", c->s2, &o);
}
static int op_export_within(ctx *c)
{
    sb_export_options o;
    REQ(sb_export_options_init(&o, SB_EXPORT_OPTIONS_VERSION));
    o.new_name = "traces_copy";
    o.chunk_size = 4;
    return sb_store_export_dataset(c->o.s, "traces", c->o.s, &o);
}
static int op_extend_traces(ctx *c) { return sb_dataset_extend(c->ds, 2, traces_cols); }
static int op_extend_wide(ctx *c) { return sb_dataset_extend(c->ds, 9, wide_cols); }
static int op_extend_empty(ctx *c) { return sb_dataset_extend(c->ds, 2, empty_cols); }
static int op_append_traces(ctx *c) { return sb_dataset_append(c->ds, 2, traces_row); }
static int op_append_wide(ctx *c) { return sb_dataset_append(c->ds, 9, wide_row); }
static int op_append_empty(ctx *c) { return sb_dataset_append(c->ds, 2, empty_row); }
static int op_write_at(ctx *c) { return sb_dataset_write_at(c->ds, 3, 2, slot_cols); }
static int op_commit_size(ctx *c) { return sb_dataset_commit_size(c->ds, 2); }
static int op_read(ctx *c) { return sb_dataset_read(c->buf, c->ds, "data", 2, 5); }
static int op_read_buffered(ctx *c) { return sb_dataset_read(c->buf, c->ds, "plaintext", 8, 3); }
static int op_read_all(ctx *c) { return sb_dataset_read_all(c->buf, c->ds, "plaintext", 0, 10); }
static int op_get(ctx *c)
{
    const char *f[] = {"plaintext", "data"};
    return sb_dataset_get(c->o.got, c->ds, 2, f);
}
static int op_reset(ctx *c) { return sb_dataset_reset(c->ds); }
static int op_dataset_flush(ctx *c) { return sb_dataset_flush(c->ds); }
static int op_define(ctx *c)
{
    return sb_dataset_define_field(c->ds, "b", SB_COMPLEX64, 2, (uint64_t[]){2, 3});
}
static int op_set_buffer(ctx *c) { return sb_dataset_set_append_buffer(c->ds, 64); }
static int op_set_incomplete(ctx *c) { return sb_dataset_set_incomplete(c->ds, true); }
static int op_field_index(ctx *c)
{
    size_t i;
    sb_field_info fi;
    int rc = sb_dataset_field_index(&i, c->ds, "plaintext");
    return rc < 0 ? rc : sb_dataset_field_info(&fi, c->ds, i);
}
static int op_add_bytes(ctx *c) { return sb_dataset_add_asset_bytes(c->ds, "blob", "abc", 3, false); }
static int op_replace_bytes(ctx *c)
{
    return sb_dataset_add_asset_bytes(c->ds, "notes", "replaced", 8, true);
}
static int op_add_bytes_existing(ctx *c)
{
    return sb_dataset_add_asset_bytes(c->ds, "notes", "x", 1, false);
}
static int op_add_array(ctx *c)
{
    static const uint16_t v[4] = {1, 2, 3, 4};
    sb_array a = sbt_wrap(SB_UINT16, 2, (uint64_t[]){2, 2}, v);
    return sb_dataset_add_asset_array(c->ds, "grid", &a, false);
}
static int op_add_json(ctx *c) { return sb_dataset_add_json_asset(c->ds, "copy.json", c->input, false); }
static int op_replace_json(ctx *c)
{
    return sb_dataset_add_json_asset(c->ds, "meta.json", c->input, true);
}
static int op_asset_names(ctx *c) { return sb_dataset_asset_names(&c->o.names, &c->o.count, c->ds); }
static int op_asset_info(ctx *c) { return sb_dataset_asset_info(&c->o.arr, c->ds, "curve"); }
static int op_asset_bytes(ctx *c) { return sb_dataset_get_asset_bytes(&c->o.bytes, &c->o.len, c->ds, "notes"); }
static int op_asset_array(ctx *c) { return sb_dataset_get_asset_array(&c->o.arr, c->ds, "curve"); }
static int op_asset_missing(ctx *c)
{
    return sb_dataset_get_asset_bytes(&c->o.bytes, &c->o.len, c->ds, "nothing");
}
static int op_get_json(ctx *c) { return sb_dataset_get_json_asset(&c->o.json, c->ds, "meta.json"); }
static void ro_traces_json(ctx *c)
{
    ro_traces(c);
    json_input(c);
}
/* Every getter and helper of the API: none of them may allocate. */
static int op_getters(ctx *c)
{
    text *l = &c->log;
    sb_open_mode mode = SB_READ;
    sb_dtype dt = SB_UINT8;
    sb_array a;
    memset(&a, 0, sizeof a);
    sb_write_report wr;
    uint64_t u = 0;
    int64_t i = 0;
    int rc = sb_open_mode_parse(&mode, "r+");
    if (rc == 0)
        rc = sb_dtype_parse(&dt, "S8");
    if (rc == 0)
        rc = sb_array_wrap(&a, dt, 1, (uint64_t[]){3}, c->buf);
    if (rc == 0)
        rc = sb_json_get_u64(&u, cJSON_GetObjectItemCaseSensitive(c->input, "big"));
    if (rc == 0)
        rc = sb_json_get_i64(&i, cJSON_GetObjectItemCaseSensitive(c->input, "neg"));
    sb_dataset_last_write(&wr, c->ds);
    put(l, "%s %s %s %s %d %s\n", sb_version(), sb_hdf5_version(), sb_error_name(SB_ERR_FULL),
        sb_open_mode_string(mode), sb_dtype_valid(dt), sb_dtype_name(dt));
    put(l, "%d %zu %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 "\n", sb_dtype_is_bytes(dt),
        sb_dtype_size(dt), sb_array_count(&a), sb_array_nbytes(&a), u, i);
    put(l, "%s %s %d %d %d %d\n", sb_store_path(c->o.s), sb_open_mode_string(sb_store_mode(c->o.s)),
        sb_store_is_parallel(c->o.s), sb_store_is_temporary(c->o.s), sb_store_rank(c->o.s),
        sb_store_nranks(c->o.s));
    put(l, "%s %" PRIu64 " %" PRIu64 " %zu %s %d %d %" PRIu64 " %d %d\n", sb_dataset_name(c->ds),
        sb_dataset_size(c->ds), sb_dataset_capacity(c->ds), sb_dataset_nfields(c->ds),
        sb_dataset_field(c->ds, 1), sb_dataset_is_incomplete(c->ds),
        sb_dataset_found_by_walk(c->ds), sb_dataset_pending_rows(c->ds),
        sb_dataset_store(c->ds) == c->o.s, wr.valid);
    sb_free(NULL);
    int code = sb_last_error_code();
    put(l, "%d [%s]\n", code, sb_last_error_message());
    sb_clear_error();
    return rc;
}
/* A shared-dataset index beside the store (Python's shared_datasets):
 * quoted and plain IDs, a description file with CRLF line ends. */
static void shared_files(ctx *c)
{
    char desc[700];
    snprintf(c->index, sizeof c->index, "%s/index.toml", c->dir);
    snprintf(desc, sizeof desc, "%s/aes_hw.md", c->dir);
    FILE *f = fopen(c->index, "w");
    if (!f)
        sbt_die("cannot write %s", c->index);
    fprintf(f, "# shared datasets\n[datasets.aes_hw]\nname = \"AES on the board\"\n"
               "path = \"%s\"\ndescription_file = \"aes_hw.md\"\nextra = 3\n\n"
               "[datasets.\"quoted.id\"]\npath = \"%s\"\n", c->path, c->path);
    fclose(f);
    f = fopen(desc, "w");
    if (!f)
        sbt_die("cannot write %s", desc);
    fputs("AES-128 on the STM32 board.\r\nKey fixed, plaintexts random.\r\n", f);
    fclose(f);
}
static int op_shared_list(ctx *c) { return sb_shared_datasets(&c->o.shared, &c->o.nshared, c->index, true); }
static int op_shared_lookup(ctx *c)
{
    c->o.nshared = 0;
    int rc = sb_shared_dataset_lookup(&c->o.shared, "quoted.id", c->index, true);
    if (rc == 0)
        c->o.nshared = 1;
    return rc;
}
static int op_open_shared(ctx *c)
{
    return sb_store_open_shared(&c->o.s, "aes_hw", SB_READ, NULL, c->index);
}
static int op_json_parse(ctx *c) { return sb_json_parse(&c->o.json, sbt_json_text, strlen(sbt_json_text)); }
static int op_json_parse_bad(ctx *c)
{
    static const char bad[] = "{\"a\":[1,2,{\"b\":true}],\"c\":nul}";
    return sb_json_parse(&c->o.json, bad, strlen(bad));
}
static int op_json_print(ctx *c) { return sb_json_print(&c->o.str, c->input); }
static int op_json_u64(ctx *c)
{
    c->o.json = sb_json_number_u64(UINT64_MAX);
    return c->o.json ? 0 : SB_ERR_NOMEM;
}
static int op_json_i64(ctx *c)
{
    c->o.json = sb_json_number_i64(INT64_MIN);
    return c->o.json ? 0 : SB_ERR_NOMEM;
}

/* Everything a reader does with a store: list, walk, load every dataset,
 * read every field and every asset (bytes, array, JSON). Errors the store
 * itself causes (a dtype the library cannot read) are logged and the walk
 * goes on; out of memory ends it. */
static int keep_going(ctx *c, const char *what, const char *name, int rc)
{
    if (rc < 0)
        put(&c->log, "%s %s: %s\n", what, name, sb_error_name(rc));
    return rc == SB_ERR_NOMEM ? rc : 0;
}

static int read_dataset(ctx *c, sb_dataset *ds)
{
    int rc = 0;
    put(&c->log, "%s size=%" PRIu64 "\n", sb_dataset_name(ds), sb_dataset_size(ds));
    for (size_t k = 0; rc == 0 && k < sb_dataset_nfields(ds); k++) {
        sb_field_info fi;
        rc = sb_dataset_field_info(&fi, ds, k);
        if (rc < 0 || !fi.defined || !sb_dataset_size(ds))
            continue;
        sb_array a;
        rc = sb_dataset_get(&a, ds, 1, &fi.name);
        if (rc == 0) {
            put(&c->log, "  %s %016" PRIx64 "\n", fi.name,
                fnv(a.data, (size_t)(sb_dataset_size(ds) * fi.row_bytes)));
            sb_free(a.data);
        }
        rc = keep_going(c, "get", fi.name, rc);
    }
    char **assets = NULL;
    size_t na = 0;
    if (rc == 0)
        rc = keep_going(c, "asset_names", sb_dataset_name(ds),
                        sb_dataset_asset_names(&assets, &na, ds));
    for (size_t k = 0; rc == 0 && k < na; k++) {
        void *data = NULL;
        size_t len = 0;
        int r = sb_dataset_get_asset_bytes(&data, &len, ds, assets[k]);
        if (r == 0)
            put(&c->log, "  asset %s %zu %016" PRIx64 "\n", assets[k], len, fnv(data, len));
        sb_free(data);
        rc = keep_going(c, "asset bytes", assets[k], r);
        sb_array a;
        if (rc == 0) {
            r = sb_dataset_get_asset_array(&a, ds, assets[k]);
            if (r == 0)
                sb_free(a.data);
            rc = keep_going(c, "asset array", assets[k], r);
        }
        cJSON *doc = NULL;
        if (rc == 0 && strstr(assets[k], ".json")) {
            r = sb_dataset_get_json_asset(&doc, ds, assets[k]);
            cJSON_Delete(doc);
            rc = keep_going(c, "json asset", assets[k], r);
        }
    }
    sb_free(assets);
    return rc;
}

static int visit_load(const sb_dataset_info *info, void *payload)
{
    ctx *c = payload;
    sb_dataset *ds = NULL;
    int rc = sb_store_load_dataset(&ds, c->o.s, info->name);
    if (rc == 0)
        rc = read_dataset(c, ds);
    else
        rc = keep_going(c, "load", info->name, rc);
    if (ds) {
        int r = sb_dataset_close(ds);
        if (rc == 0)
            rc = keep_going(c, "close", info->name, r);
    }
    return rc;
}

static int op_read_everything(ctx *c)
{
    char **names = NULL;
    size_t n = 0;
    int rc = sb_store_dataset_names(&names, &n, c->o.s);
    for (size_t i = 0; rc == 0 && i < n; i++)
        put(&c->log, "%s\n", names[i]);
    sb_free(names);
    if (rc == 0)
        rc = sb_store_foreach_dataset(c->o.s, visit_load, c);
    return rc;
}

static int op_export_matrix(ctx *c) { return sb_store_export_dataset(c->o.s, "matrix", c->s2, NULL); }
static int op_export_with_assets(ctx *c)
{
    return sb_store_export_dataset(c->o.s, "with_assets", c->s2, NULL);
}

static const scenario scenarios[] = {
    {"options_init", "sb_store_options_init", NO_FILE, 0, NULL, op_options_init},
    {"open r", "sb_store_open", READS, OUT_STORE, NULL, op_open_r},
    {"open r (no options)", "sb_store_open", READS, OUT_STORE, NULL, op_open_r_default},
    {"open r+", "sb_store_open", 0, OUT_STORE, NULL, op_open_rplus},
    {"open w (truncates)", "sb_store_open", 0, OUT_STORE, NULL, op_open_w},
    {"open w- (new file)", "sb_store_open", NO_FILE, OUT_STORE, NULL, op_open_wminus},
    {"open w- (exists)", "sb_store_open", 0, OUT_STORE, NULL, op_open_wminus},
    {"open a (exists)", "sb_store_open", 0, OUT_STORE, NULL, op_open_a},
    {"open a (new file)", "sb_store_open", NO_FILE, OUT_STORE, NULL, op_open_a},
    {"open r (missing)", "sb_store_open", NO_FILE, OUT_STORE, NULL, op_open_r},
    {"temporary", "sb_store_temporary", NO_FILE, OUT_STORE, NULL, op_temporary},
    {"store close", "sb_store_close", NO_RETRY, 0, rw_traces, op_store_close},
    {"store close (rows pending)", "sb_store_close", NO_RETRY | BEFORE_DISK, 0, rw_pending,
     op_store_close},
    {"dataset close (rows pending)", "sb_dataset_close", NO_RETRY | BEFORE_DISK, 0,
     rw_wide_pending, op_dataset_close},
    {"create", "sb_store_create_dataset", 0, OUT_DS, open_rw, op_create},
    {"create nested", "sb_store_create_dataset", 0, OUT_DS, open_rw, op_create_nested},
    {"create 10 fields", "sb_store_create_dataset", 0, OUT_DS, open_rw, op_create_wide},
    {"create existing", "sb_store_create_dataset", 0, OUT_DS, open_rw, op_create_existing},
    {"load", "sb_store_load_dataset", READS, OUT_DS, open_ro, op_load_traces},
    {"load nested", "sb_store_load_dataset", READS, OUT_DS, open_ro, op_load_nested},
    {"load 9 fields", "sb_store_load_dataset", READS, OUT_DS, open_ro, op_load_wide},
    {"load unwritten", "sb_store_load_dataset", READS, OUT_DS, open_ro, op_load_empty},
    {"load missing", "sb_store_load_dataset", READS, OUT_DS, open_ro, op_load_missing},
    {"dataset_names", "sb_store_dataset_names", READS, OUT_NAMES, open_ro, op_names},
    {"foreach", "sb_store_foreach_dataset", READS, 0, open_ro, op_foreach},
    {"has", "sb_store_has_dataset", READS, OUT_FLAG, open_ro, op_has},
    {"has missing", "sb_store_has_dataset", READS, OUT_FLAG, open_ro, op_has_missing},
    {"remove", "sb_store_remove_dataset", 0, 0, open_rw, op_remove},
    {"remove missing", "sb_store_remove_dataset", 0, 0, open_rw, op_remove_missing},
    {"store flush (rows pending)", "sb_store_flush", 0, 0, rw_pending, op_store_flush},
    {"export", "sb_store_export_dataset sb_export_options_init", 0, 0, export_stores, op_export},
    {"export 9 fields, chunks of 1", "sb_store_export_dataset", 0, 0, export_stores,
     op_export_wide},
    {"export nested new name", "sb_store_export_dataset", 0, 0, export_stores, op_export_nested},
    {"export within (rows pending)", "sb_store_export_dataset", 0, 0, rw_pending,
     op_export_within},
    {"export (rows pending)", "sb_store_export_dataset", 0, 0, export_pending, op_export},
    {"extend", "sb_dataset_extend", 0, 0, rw_traces, op_extend_traces},
    {"extend 9 fields", "sb_dataset_extend", 0, 0, rw_wide, op_extend_wide},
    {"extend first rows", "sb_dataset_extend", 0, 0, rw_empty, op_extend_empty},
    {"append (buffer)", "sb_dataset_append", 0, 0, rw_traces, op_append_traces},
    {"append (buffer) 9 fields", "sb_dataset_append", 0, 0, rw_wide, op_append_wide},
    {"append (buffer) first row", "sb_dataset_append", 0, 0, rw_empty, op_append_empty},
    {"append (buffered already)", "sb_dataset_append", 0, 0, rw_traces_buffered,
     op_append_traces},
    {"append write-through", "sb_dataset_append sb_dataset_set_append_buffer", 0, 0,
     rw_traces_writethrough, op_append_traces},
    {"append write-through 9 fields", "sb_dataset_append", 0, 0, rw_wide_writethrough,
     op_append_wide},
    {"write_at", "sb_dataset_write_at", 0, 0, rw_slots, op_write_at},
    {"commit_size", "sb_dataset_commit_size", 0, 0, rw_slots_written, op_commit_size},
    {"read", "sb_dataset_read", READS, 0, ro_traces, op_read},
    {"read (buffered rows)", "sb_dataset_read", 0, 0, rw_traces_buffered, op_read_buffered},
    {"read_all", "sb_dataset_read_all", READS, 0, ro_traces, op_read_all},
    {"get", "sb_dataset_get", READS, OUT_GET, ro_traces, op_get},
    {"reset", "sb_dataset_reset", 0, 0, rw_traces, op_reset},
    {"reset (rows pending)", "sb_dataset_reset", 0, 0, rw_traces_buffered, op_reset},
    {"dataset flush (rows pending)", "sb_dataset_flush", 0, 0, rw_wide_pending,
     op_dataset_flush},
    {"define_field", "sb_dataset_define_field", 0, 0, rw_empty, op_define},
    {"set_append_buffer (rows pending)", "sb_dataset_set_append_buffer", 0, 0, rw_wide_pending,
     op_set_buffer},
    {"set_incomplete", "sb_dataset_set_incomplete", 0, 0, rw_traces, op_set_incomplete},
    {"field_index/field_info", "sb_dataset_field_index sb_dataset_field_info", READS, 0, ro_traces,
     op_field_index},
    {"add_asset_bytes", "sb_dataset_add_asset_bytes", 0, 0, rw_traces, op_add_bytes},
    {"add_asset_bytes replace", "sb_dataset_add_asset_bytes", 0, 0, rw_traces, op_replace_bytes},
    {"add_asset_bytes existing", "sb_dataset_add_asset_bytes", 0, 0, rw_traces,
     op_add_bytes_existing},
    {"add_asset_array", "sb_dataset_add_asset_array", 0, 0, rw_traces, op_add_array},
    {"add_json_asset", "sb_dataset_add_json_asset", 0, 0, rw_traces_json, op_add_json},
    {"add_json_asset replace", "sb_dataset_add_json_asset", 0, 0, rw_traces_json,
     op_replace_json},
    {"asset_names", "sb_dataset_asset_names", READS, OUT_NAMES, ro_traces, op_asset_names},
    {"asset_names 9 fields", "sb_dataset_asset_names", READS, OUT_NAMES, ro_wide, op_asset_names},
    {"asset_info", "sb_dataset_asset_info", READS, OUT_ARRAY, ro_traces, op_asset_info},
    {"get_asset_bytes", "sb_dataset_get_asset_bytes", READS, OUT_BYTES, ro_traces, op_asset_bytes},
    {"get_asset_bytes missing", "sb_dataset_get_asset_bytes", READS, OUT_BYTES, ro_traces,
     op_asset_missing},
    {"get_asset_array", "sb_dataset_get_asset_array", READS, OUT_ARRAY, ro_traces, op_asset_array},
    {"get_json_asset", "sb_dataset_get_json_asset", READS, OUT_JSON, ro_traces, op_get_json},
    {"getters and helpers",
     "sb_version sb_hdf5_version sb_error_name sb_last_error_code sb_last_error_message "
     "sb_clear_error sb_open_mode_parse sb_open_mode_string sb_dtype_parse sb_dtype_valid "
     "sb_dtype_is_bytes sb_dtype_size sb_dtype_name sb_array_wrap sb_array_count "
     "sb_array_nbytes sb_json_get_u64 sb_json_get_i64 sb_free sb_store_path sb_store_mode "
     "sb_store_is_parallel sb_store_is_temporary sb_store_rank sb_store_nranks sb_dataset_name "
     "sb_dataset_size sb_dataset_capacity sb_dataset_nfields sb_dataset_field "
     "sb_dataset_is_incomplete sb_dataset_found_by_walk sb_dataset_pending_rows "
     "sb_dataset_store sb_dataset_last_write",
     READS, 0, ro_traces_json, op_getters},
    {"shared_datasets", "sb_shared_datasets", READS, OUT_SHARED, shared_files, op_shared_list},
    {"shared_dataset_lookup", "sb_shared_dataset_lookup", READS, OUT_SHARED, shared_files,
     op_shared_lookup},
    {"open_shared", "sb_store_open_shared", READS, OUT_STORE, shared_files, op_open_shared},
    {"json_parse", "sb_json_parse", NO_FILE, OUT_JSON, NULL, op_json_parse},
    {"json_parse (syntax error)", "sb_json_parse", NO_FILE, OUT_JSON, NULL, op_json_parse_bad},
    {"json_print", "sb_json_print", NO_FILE, OUT_TEXT, json_input, op_json_print},
    {"json_number_u64", "sb_json_number_u64", NO_FILE | NO_ERROR, OUT_NODE, NULL, op_json_u64},
    {"json_number_i64", "sb_json_number_i64", NO_FILE | NO_ERROR, OUT_NODE, NULL, op_json_i64},
    /* Stores Python secbench and h5py wrote (tests/data): every dtype, every
     * kind of asset, the layouts Python leaves. */
    {"python dtypes.h5: read everything", "", PY_DTYPES | ONCE_ONLY | READS, 0, open_ro,
     op_read_everything},
    {"python assets.h5: read everything", "", PY_ASSETS | ONCE_ONLY | READS, 0, open_ro,
     op_read_everything},
    {"python layout.h5: read everything", "", PY_LAYOUT | ONCE_ONLY | READS, 0, open_ro,
     op_read_everything},
    {"reference: read everything", "", REFERENCE | ONCE_ONLY | READS, 0, open_ro,
     op_read_everything},
    {"python dtypes.h5: export matrix", "", PY_DTYPES | ONCE_ONLY, 0, export_stores, op_export_matrix},
    {"python assets.h5: export with_assets", "", PY_ASSETS | ONCE_ONLY, 0, export_stores,
     op_export_with_assets},
};
#define NSCENARIOS (sizeof scenarios / sizeof scenarios[0])

/* ---- one run ------------------------------------------------------------------- */


/* What the call handed back, to compare a run that succeeded with the clean one. */
static void describe(const ctx *c, unsigned outputs, int rc, text *out)
{
    put(out, "rc=%s", sb_error_name(rc));
    if (rc < 0)
        return;
    if ((outputs & OUT_STORE) && c->o.s)
        put(out, " store=%s mode=%s", sb_store_path(c->o.s), sb_open_mode_string(sb_store_mode(c->o.s)));
    if ((outputs & OUT_DS) && c->o.out) {
        put(out, " dataset=%s size=%" PRIu64 " fields=", sb_dataset_name(c->o.out),
            sb_dataset_size(c->o.out));
        for (size_t i = 0; i < sb_dataset_nfields(c->o.out); i++)
            put(out, "%s,", sb_dataset_field(c->o.out, i));
    }
    if (outputs & OUT_NAMES) {
        put(out, " names=");
        for (size_t i = 0; i < c->o.count; i++)
            put(out, "%s,", c->o.names[i]);
    }
    if (outputs & OUT_FLAG)
        put(out, " flag=%d", c->o.flag);
    if (outputs & OUT_BYTES)
        put(out, " bytes=%zu:%016" PRIx64, c->o.len, fnv(c->o.bytes, c->o.len));
    if (outputs & OUT_ARRAY) {
        put(out, " array=%d/%d", (int)c->o.arr.dtype, c->o.arr.ndim);
        for (int i = 0; i < c->o.arr.ndim; i++)
            put(out, "x%" PRIu64, c->o.arr.shape[i]);
        if (c->o.arr.data)
            put(out, " data=%016" PRIx64, fnv(c->o.arr.data, (size_t)sb_array_nbytes(&c->o.arr)));
    }
    if (outputs & OUT_GET)
        for (int i = 0; i < 2; i++)
            put(out, " got=%016" PRIx64, fnv(c->o.got[i].data, (size_t)sb_array_nbytes(&c->o.got[i])));
    if ((outputs & (OUT_JSON | OUT_NODE)) && c->o.json) {
        char *t = NULL;
        REQ(sb_json_print(&t, c->o.json));
        put(out, " json=%s", t);
        sb_free(t);
    }
    if ((outputs & OUT_TEXT) && c->o.str)
        put(out, " text=%s", c->o.str);
    for (size_t i = 0; (outputs & OUT_SHARED) && i < c->o.nshared; i++) {
        const sb_shared_dataset *d = &c->o.shared[i];
        put(out, " shared=[%s|%s|%s|%s|%s]", d->id, d->name ? d->name : "-", d->path,
            d->description_file ? d->description_file : "-",
            d->description ? d->description : "-");
    }
    put(out, " visits=%d/%zu read=%016" PRIx64, c->visits, c->o.len, fnv(c->buf, sizeof c->buf));
    if (c->log.len)
        put(out, "\n%s", text_str(&c->log));
}

/* Free what the call handed back, close every handle; false if a close failed. */
static bool teardown(ctx *c, text *why)
{
    bool ok = true;
    sb_free(c->o.names);
    sb_free(c->o.bytes);
    sb_free(c->o.arr.data);
    for (int i = 0; i < 2; i++)
        sb_free(c->o.got[i].data);
    cJSON_Delete(c->o.json);
    cJSON_Delete(c->input);
    sb_free(c->o.str);
    sb_free(c->o.shared);
    text_free(&c->log);
    sb_dataset **handles[] = {&c->o.out, &c->ds2, &c->ds};
    for (size_t i = 0; i < 3; i++)
        if (*handles[i]) {
            int rc = sb_dataset_close(*handles[i]);
            if (rc < 0) {
                put(why, "closing a dataset afterwards failed: %s: %s; ", sb_error_name(rc),
                    sb_last_error_message());
                ok = false;
            }
        }
    sb_store **stores[] = {&c->s2, &c->o.s};
    for (size_t i = 0; i < 2; i++)
        if (*stores[i]) {
            int rc = sb_store_close(*stores[i]);
            if (rc < 0) {
                put(why, "closing a store afterwards failed: %s: %s; ", sb_error_name(rc),
                    sb_last_error_message());
                ok = false;
            }
        }
    return ok;
}

static char base_path[700];
static char work_root[512]; /* the run's own folder, removed at exit */

/* Best effort (also at exit after a failure): no sbt_die() here. */
static void remove_work(void)
{
    if (!work_root[0])
        return;
    for (int i = 0; i < 2; i++) {
        char sub[600], path[900];
        snprintf(sub, sizeof sub, "%s/%s", work_root, i ? "base" : "run");
        DIR *d = opendir(sub);
        for (struct dirent *e; d && (e = readdir(d));) {
            snprintf(path, sizeof path, "%s/%s", sub, e->d_name);
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlink(path);
        }
        if (d)
            closedir(d);
        rmdir(sub);
    }
    rmdir(work_root);
}
static const char *data_dir; /* tests/data, for the stores Python wrote */

static const char *source_of(const scenario *sc, char *buf, size_t len)
{
    static const struct {
        unsigned flag;
        const char *file;
    } sources[] = {{PY_DTYPES, "python-secbench/dtypes.h5"},
                   {PY_ASSETS, "python-secbench/assets.h5"},
                   {PY_LAYOUT, "python-secbench/layout.h5"},
                   {REFERENCE, "secbench-reference.h5"}};
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        if (sc->flags & sources[i].flag) {
            if (!data_dir)
                return NULL;
            snprintf(buf, len, "%s/%s", data_dir, sources[i].file);
            return buf;
        }
    return base_path;
}

static void prepare(ctx *c, const scenario *sc, const char *dir)
{
    memset(c, 0, sizeof *c);
    c->dir = dir;
    snprintf(c->path, sizeof c->path, "%s/store.h5", dir);
    snprintf(c->path2, sizeof c->path2, "%s/copy.h5", dir);
    sbt_empty_dir(dir);
    char buf[1024];
    if (!(sc->flags & NO_FILE))
        copy_file(source_of(sc, buf, sizeof buf), c->path);
}

typedef enum run_kind {
    RUN_CLEAN,  /* no failure: the reference */
    RUN_BEFORE, /* the setup alone: the "as it was" reference */
    RUN_FAIL,   /* the Nth allocation fails; the store must be as it was */
    RUN_RETRY,  /* the same, then the call again without failure */
} run_kind;

typedef struct outcome {
    int rc;
    sbt_alloc_report alloc;
    text result; /* describe() */
    text store;  /* digest_dir() after everything is closed */
    text problems;
} outcome;

static void outcome_free(outcome *o)
{
    text_free(&o->result);
    text_free(&o->store);
    text_free(&o->problems);
}

static void run(const scenario *sc, const char *dir, run_kind kind, unsigned long n,
                sbt_fail_mode mode, outcome *o)
{
    memset(o, 0, sizeof *o);
    ctx c;
    prepare(&c, sc, dir);
    size_t live0 = sbt_alloc_live();
    unsigned long seq0 = sbt_alloc_next_seq();
    unsigned long foreign0 = sbt_alloc_foreign_frees();
    if (kind == RUN_BEFORE && (sc->flags & BEFORE_DISK)) {
        digest_dir(dir, sc->flags & READS, &o->store);
        return;
    }
    if (sc->setup)
        sc->setup(&c);
    if (kind != RUN_BEFORE) {
        sbt_poison(&c.o, sc->outputs);
        sb_clear_error();
        seq0 = sbt_alloc_next_seq();
        sbt_alloc_arm(kind == RUN_CLEAN ? 0 : n, mode);
        o->rc = sc->op(&c);
        o->alloc = sbt_alloc_disarm();
        if (o->rc < 0 && !(sc->flags & NO_ERROR)) {
            const char *msg = sb_last_error_message();
            if (sb_last_error_code() != o->rc)
                put(&o->problems, "sb_last_error_code() is %s, not the %s returned; ",
                    sb_error_name(sb_last_error_code()), sb_error_name(o->rc));
            if (!msg[0])
                put(&o->problems, "empty error message; ");
            else if (o->rc == SB_ERR_NOMEM && !strstr(msg, "memory"))
                put(&o->problems, "the message does not say memory ran out: \"%s\"; ", msg);
        }
        if (o->rc < 0) {
            const char *what = sbt_not_cleared(&c.o, sc->outputs);
            if (what)
                put(&o->problems, "%s output not cleared on failure; ", what);
        }
        sbt_unpoison(&c.o);
        describe(&c, sc->outputs, o->rc, &o->result);
        if (kind == RUN_RETRY && o->alloc.failed && o->rc < 0) {
            /* The same call on the same handles, now with memory enough. */
            sb_free(c.o.names);
            c.o.names = NULL;
            c.o.count = 0;
            c.visits = 0;
            c.o.len = 0;
            text_free(&c.log);
            sbt_poison(&c.o, sc->outputs);
            o->rc = sc->op(&c);
            sbt_unpoison(&c.o);
            text_free(&o->result);
            describe(&c, sc->outputs, o->rc, &o->result);
        }
    }
    if (!teardown(&c, &o->problems))
        put(&o->problems, "(after the call returned %s); ", sb_error_name(o->rc));
    if (sbt_alloc_live() != live0) {
        put(&o->problems, "%zu block(s) leaked; ", sbt_alloc_live() - live0);
        fprintf(stderr, "  leaked by scenario '%s' (allocations counted from the call's first):\n",
                sc->name);
        sbt_alloc_print_live(stderr, seq0, 10);
    }
    if (sbt_alloc_foreign_frees() != foreign0)
        put(&o->problems, "%lu free(s) of blocks not allocated by the library (double free?); ",
            sbt_alloc_foreign_frees() - foreign0);
    digest_dir(dir, sc->flags & READS, &o->store);
    if (sbt_alloc_live() != live0)
        put(&o->problems, "reading the store back leaked; ");
}

/* ---- the loop ---------------------------------------------------------------------- */

typedef struct figures {
    unsigned scenarios;
    unsigned long runs, injected, nomem, fallbacks, expected_errors, failures;
    unsigned long most_allocations;
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

static void report(const scenario *sc, const char *kind, unsigned long n, sbt_fail_mode mode,
                   const char *what, figures *fig)
{
    fig->failures++;
    fprintf(stderr, "FAIL %s [%s, allocation %lu failing%s]: %s\n", sc->name, kind, n,
            mode == SBT_FAIL_ONCE ? " once" : " and after", what);
    if (opt_stop)
        exit(1);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void loop(const scenario *sc, const char *dir, bool quick, figures *fig)
{
    double t0 = now();
    outcome clean, before;
    run(sc, dir, RUN_CLEAN, 0, SBT_FAIL_ONCE, &clean);
    run(sc, dir, RUN_BEFORE, 0, SBT_FAIL_ONCE, &before);
    if (clean.problems.len)
        report(sc, "clean run", 0, SBT_FAIL_ONCE, text_str(&clean.problems), fig);
    if (before.problems.len)
        report(sc, "setup alone", 0, SBT_FAIL_ONCE, text_str(&before.problems), fig);
    unsigned long total = clean.alloc.calls;
    if (total > fig->most_allocations)
        fig->most_allocations = total;
    unsigned long nomem = 0, fallbacks = 0, expected = 0, runs = 0;
    for (int m = 0; m < (quick || (sc->flags & ONCE_ONLY) ? 1 : 2); m++) {
        sbt_fail_mode mode = m == 0 ? SBT_FAIL_ONCE : SBT_FAIL_FROM;
        for (int r = 0; r < (quick || (sc->flags & NO_RETRY) ? 1 : 2); r++) {
            run_kind kind = r == 0 ? RUN_FAIL : RUN_RETRY;
            const char *kname = r == 0 ? "store as it was" : "retry on the same handles";
            for (unsigned long n = 1;; n++) {
                if (n > total + 1 || n > 100000) {
                    report(sc, kname, n, mode, "the call keeps allocating (not deterministic?)", fig);
                    break;
                }
                outcome o;
                run(sc, dir, kind, n, mode, &o);
                runs++;
                if (!o.alloc.failed) {
                    /* Past its last allocation: the call ran clean. */
                    if (n != total + 1)
                        report(sc, kname, n, mode, "fewer allocations than in the clean run", fig);
                    outcome_free(&o);
                    break;
                }
                fig->injected += o.alloc.failed;
                bool failed = o.rc < 0 && o.rc != clean.rc;
                const outcome *want = failed && kind == RUN_FAIL ? &before : &clean;
                if (o.problems.len)
                    report(sc, kname, n, mode, text_str(&o.problems), fig);
                if (failed && kind == RUN_FAIL && o.rc != SB_ERR_NOMEM) {
                    char what[700];
                    snprintf(what, sizeof what, "returned %s, not SB_ERR_NOMEM (clean: %s)",
                             sb_error_name(o.rc), sb_error_name(clean.rc));
                    report(sc, kname, n, mode, what, fig);
                }
                if (kind == RUN_FAIL && !failed && strcmp(text_str(&o.result), text_str(&clean.result))) {
                    report(sc, kname, n, mode, "succeeded with another result than the clean run", fig);
                    first_difference(text_str(&clean.result), text_str(&o.result));
                }
                if (kind == RUN_RETRY && strcmp(text_str(&o.result), text_str(&clean.result))) {
                    report(sc, kname, n, mode, "the call, repeated, does not give the clean result", fig);
                    first_difference(text_str(&clean.result), text_str(&o.result));
                }
                if (strcmp(text_str(&o.store), text_str(&want->store))) {
                    report(sc, kname, n, mode,
                           want == &before ? "the store is not as it was before the call"
                                           : "the store differs from the clean run's",
                           fig);
                    first_difference(text_str(&want->store), text_str(&o.store));
                }
                if (kind == RUN_FAIL && failed && o.rc == SB_ERR_NOMEM)
                    nomem++;
                else if (kind == RUN_FAIL && !failed && clean.rc == 0)
                    fallbacks++; /* the failed allocation had a way around */
                else if (kind == RUN_FAIL && !failed)
                    expected++; /* the call's own error came first */
                if (opt_verbose)
                    printf("    %s n=%lu %s: %s\n", kname, n,
                           mode == SBT_FAIL_ONCE ? "once" : "from", sb_error_name(o.rc));
                outcome_free(&o);
            }
        }
    }
    fig->runs += runs;
    fig->nomem += nomem;
    fig->fallbacks += fallbacks;
    fig->expected_errors += expected;
    printf("  %-34s %3lu allocations %-24s %4lu runs: %4lu SB_ERR_NOMEM, %lu fallback, %lu own error "
           "(%.1f s)\n",
           sc->name, total, clean.rc < 0 ? sb_error_name(clean.rc) : "", runs, nomem, fallbacks,
           expected, now() - t0);
    fflush(stdout);
    outcome_free(&clean);
    outcome_free(&before);
}

/* The public calls the scenarios cover, each once. */
static unsigned count_calls(const char *only)
{
    static char seen[128][64];
    unsigned n = 0;
    for (size_t i = 0; i < NSCENARIOS; i++) {
        if (only && !strstr(scenarios[i].name, only))
            continue;
        char list[1024];
        snprintf(list, sizeof list, "%s", scenarios[i].api);
        for (char *save = NULL, *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            bool known = false;
            for (unsigned k = 0; k < n && !known; k++)
                known = strcmp(seen[k], w) == 0;
            if (!known && n < 128)
                snprintf(seen[n++], sizeof seen[0], "%s", w);
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *only = NULL, *parent = NULL;
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            parent = argv[++i];
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--stop") == 0)
            opt_stop = true;
        else if (strcmp(argv[i], "--verbose") == 0)
            opt_verbose = true;
        else
            sbt_die("unknown argument %s", argv[i]);
    }
    /* cJSON's nodes come from the same counting allocators as the library's. */
    cJSON_Hooks hooks = {sbt_alloc_malloc, sbt_alloc_free};
    cJSON_InitHooks(&hooks);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* The loop would pass vacuously if the library's allocations did not
     * come here (a build of the library with its own malloc). */
    sbt_alloc_arm(0, SBT_FAIL_ONCE);
    sb_store *probe;
    REQ(sb_store_temporary(&probe, "probe"));
    REQ(sb_store_close(probe));
    if (sbt_alloc_disarm().calls == 0 || sbt_alloc_live() != 0)
        sbt_die("the library's allocations do not go through allocfail.c: is this the test-only "
            "copy of the library (tests/alloc/CMakeLists.txt)?");
    double t0 = now();

    /* Thousands of stores are opened for writing, each taking a lock file
     * that is fsynced: in memory (/dev/shm) when there is one. */
    if (!parent) {
        struct stat st;
        parent = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
                     ? "/dev/shm"
                 : getenv("TMPDIR") ? getenv("TMPDIR")
                                    : "/tmp";
    }
    char *workdir = work_root, dir[600], base_dir[600];
    snprintf(workdir, sizeof work_root, "%s/sb-allocfail-XXXXXX", parent);
    if (!mkdtemp(workdir))
        sbt_die("cannot make a folder in %s: %s", parent, strerror(errno));
    atexit(remove_work);
    snprintf(dir, sizeof dir, "%s/run", workdir);
    snprintf(base_dir, sizeof base_dir, "%s/base", workdir);
    mkdir(dir, 0755);
    mkdir(base_dir, 0755);
    sbt_empty_dir(base_dir);
    snprintf(base_path, sizeof base_path, "%s/base.h5", base_dir);
    sbt_make_base(base_path, 1);
    init_arrays();

    figures fig = {0};
    printf("allocation-failure loop over the serial API (%s)\n",
           quick ? "failing once, store checks only" : "failing once and from then on; "
                                                      "store checks and retries");
    for (size_t i = 0; i < NSCENARIOS; i++) {
        if (only && !strstr(scenarios[i].name, only))
            continue;
        char buf[1024];
        if (!source_of(&scenarios[i], buf, sizeof buf)) {
            printf("  %-34s skipped (no --data folder)\n", scenarios[i].name);
            continue;
        }
        fig.scenarios++;
        loop(&scenarios[i], dir, quick, &fig);
    }
    remove_work();
    work_root[0] = '\0';
    if (sbt_alloc_live() != 0) {
        fprintf(stderr, "FAIL: %zu block(s) still allocated at the end\n", sbt_alloc_live());
        sbt_alloc_print_live(stderr, 0, 10);
        fig.failures++;
    }
    double secs = now() - t0;
    printf("allocfail: %u scenarios over %u public calls; %lu allocations failed in %lu runs "
           "(%lu SB_ERR_NOMEM, %lu fallbacks, %lu own errors); at most %lu allocations in a "
           "call; %lu failures found; %.1f s\n",
           fig.scenarios, count_calls(only), fig.injected, fig.runs, fig.nomem, fig.fallbacks,
           fig.expected_errors, fig.most_allocations, fig.failures, secs);
    return fig.failures ? 1 : 0;
}
