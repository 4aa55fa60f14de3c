/* API misuse: NULL pointers to every public function that takes one, out of
 * range arguments, wrong field counts and row counts, capacities no file or
 * memory can hold, read-only stores, and dataset handles used after their
 * store was closed. Each must give its error code with a message, and
 * nothing is written by a refused call. Serial: needs no MPI_Init.
 *
 * usage: misuse SCRATCH_DIR */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <secbench/storage.h>

static int failures;
static int checks;

static const char *code_name(int rc) { return rc == 0 ? "OK" : sb_error_name(rc); }

/* rc must be `want`; a failure must come with a message. */
static void check_code(const char *what, int rc, int want, int line)
{
    checks++;
    if (rc != want) {
        fprintf(stderr, "FAIL line %d: %s gave %s (%s), expected %s\n", line, what,
                code_name(rc), rc ? sb_last_error_message() : "", code_name(want));
        failures++;
    } else if (rc != 0 && !*sb_last_error_message()) {
        fprintf(stderr, "FAIL line %d: %s gave %s with an empty message\n", line, what,
                code_name(rc));
        failures++;
    }
    sb_clear_error();
}

/* rc must be one of two codes (where the header leaves both open). */
static void check_either(const char *what, int rc, int a, int b, int line)
{
    check_code(what, rc, rc == b ? b : a, line);
}

static void check_true(const char *what, bool ok, int line)
{
    checks++;
    if (!ok) {
        fprintf(stderr, "FAIL line %d: %s\n", line, what);
        failures++;
    }
}

#define CODE(expr, want) check_code(#expr, (expr), (want), __LINE__)
#define EITHER(expr, a, b) check_either(#expr, (expr), (a), (b), __LINE__)
#define TRUE_(expr) check_true(#expr, (expr), __LINE__)
#define INV SB_ERR_INVALID

static sb_array row_of(sb_dtype dt, int ndim, const uint64_t *shape, const void *data)
{
    sb_array a;
    memset(&a, 0, sizeof a);
    if (sb_array_wrap(&a, dt, ndim, shape, data) != 0)
        fprintf(stderr, "sb_array_wrap failed: %s\n", sb_last_error_message());
    return a;
}

static void null_types_and_errors(void)
{
    sb_open_mode m;
    sb_dtype dt;
    sb_array a;
    uint64_t shape[2] = {2, 3};
    int x[6] = {0};
    CODE(sb_open_mode_parse(&m, NULL), INV);
    CODE(sb_open_mode_parse(NULL, "r"), INV);
    CODE(sb_open_mode_parse(&m, "rw"), INV);
    CODE(sb_open_mode_parse(&m, ""), INV);
    TRUE_(sb_open_mode_string((sb_open_mode)42) == NULL);
    CODE(sb_dtype_parse(&dt, NULL), INV);
    CODE(sb_dtype_parse(NULL, "int8"), INV);
    CODE(sb_dtype_parse(&dt, "int128"), INV);
    CODE(sb_dtype_parse(&dt, "float128"), INV);
    TRUE_(sb_dtype_size((sb_dtype)99) == 0);
    TRUE_(sb_dtype_name((sb_dtype)99) == NULL);
    TRUE_(sb_dtype_name((sb_dtype)-1) == NULL);
    CODE(sb_array_wrap(NULL, SB_INT32, 2, shape, x), INV);
    CODE(sb_array_wrap(&a, SB_INT32, 2, NULL, x), INV);
    CODE(sb_array_wrap(&a, SB_INT32, SB_MAX_DIMS + 1, shape, x), INV);
    CODE(sb_array_wrap(&a, SB_INT32, -1, shape, x), INV);
    CODE(sb_array_wrap(&a, (sb_dtype)99, 2, shape, x), INV);
    TRUE_(sb_array_count(NULL) == 0);
    TRUE_(sb_array_nbytes(NULL) == 0);
    sb_free(NULL);
    sb_store_options_init(NULL, SB_STORE_OPTIONS_VERSION);
    sb_export_options_init(NULL, SB_EXPORT_OPTIONS_VERSION);
    TRUE_(strcmp(sb_error_name(12345), "SB_ERR_UNKNOWN") == 0);
    TRUE_(sb_last_error_message() != NULL);
}

static void null_store(const char *dir)
{
    char path[4096];
    sb_store *st = NULL;
    snprintf(path, sizeof path, "%s/misuse-null.h5", dir);
    CODE(sb_store_open(NULL, path, SB_CREATE_TRUNCATE, NULL), INV);
    CODE(sb_store_open(&st, NULL, SB_CREATE_TRUNCATE, NULL), INV);
    CODE(sb_store_open(&st, path, (sb_open_mode)42, NULL), INV);
    CODE(sb_store_open(&st, "", SB_CREATE_TRUNCATE, NULL), INV);
    TRUE_(st == NULL);
    sb_store_options o;
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    o.version = 9999; /* options from a future header */
    EITHER(sb_store_open(&st, path, SB_CREATE_TRUNCATE, &o), INV, 0);
    if (st)
        CODE(sb_store_close(st), 0);
    st = NULL;
    CODE(sb_store_temporary(NULL, "t"), INV);
    EITHER(sb_store_flush(NULL), INV, 0);
    EITHER(sb_store_close(NULL), INV, 0);
    TRUE_(sb_store_path(NULL) == NULL);
    TRUE_(!sb_store_is_parallel(NULL));
    TRUE_(!sb_store_is_temporary(NULL));

    sb_dataset *ds = NULL;
    const char *fields[] = {"a", "b"};
    const char *dup[] = {"a", "a"};
    const char *withnull[] = {"a", NULL};
    const char *empty[] = {"a", ""};
    CODE(sb_store_open(&st, path, SB_CREATE_TRUNCATE, NULL), 0);
    if (!st)
        return;
    CODE(sb_store_create_dataset(&ds, NULL, "d", 10, 2, fields), INV);
    CODE(sb_store_create_dataset(&ds, st, NULL, 10, 2, fields), INV);
    CODE(sb_store_create_dataset(&ds, st, "", 10, 2, fields), INV);
    CODE(sb_store_create_dataset(&ds, st, "d", 10, 2, NULL), INV);
    CODE(sb_store_create_dataset(&ds, st, "d", 10, 0, fields), INV);
    CODE(sb_store_create_dataset(&ds, st, "d", 10, 2, dup), INV);
    CODE(sb_store_create_dataset(&ds, st, "d", 10, 2, withnull), INV);
    CODE(sb_store_create_dataset(&ds, st, "d", 10, 2, empty), INV);
    CODE(sb_store_create_dataset(NULL, st, "d", 10, 2, fields), INV);
    TRUE_(ds == NULL);
    bool exists = true;
    CODE(sb_store_has_dataset(&exists, st, "d"), 0);
    TRUE_(!exists); /* refused creations leave nothing behind */
    CODE(sb_store_has_dataset(&exists, NULL, "d"), INV);
    CODE(sb_store_has_dataset(&exists, st, NULL), INV);
    CODE(sb_store_has_dataset(NULL, st, "d"), INV);
    CODE(sb_store_load_dataset(&ds, NULL, "d"), INV);
    CODE(sb_store_load_dataset(&ds, st, NULL), INV);
    CODE(sb_store_load_dataset(NULL, st, "d"), INV);
    CODE(sb_store_load_dataset(&ds, st, "d"), SB_ERR_NOT_FOUND);
    char **names = NULL;
    size_t count = 0;
    CODE(sb_store_dataset_names(&names, &count, NULL), INV);
    CODE(sb_store_dataset_names(NULL, &count, st), INV);
    CODE(sb_store_dataset_names(&names, NULL, st), INV);
    CODE(sb_store_foreach_dataset(NULL, NULL, NULL), INV);
    CODE(sb_store_foreach_dataset(st, NULL, NULL), INV);
    CODE(sb_store_export_dataset(NULL, "d", st, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 10}), INV);
    CODE(sb_store_export_dataset(st, NULL, st, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 10}), INV);
    CODE(sb_store_export_dataset(st, "d", NULL, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 10}), INV);
    CODE(sb_store_export_dataset(st, "d", NULL, NULL), INV);
    CODE(sb_store_close(st), 0);
}

static void null_dataset(sb_dataset *ds)
{
    sb_field_info fi;
    size_t idx;
    uint64_t shape[1] = {4};
    int32_t buf[8];
    sb_array arr;
    memset(&arr, 0, sizeof arr);
    void *data = NULL;
    size_t len = 0;
    cJSON *json = NULL;
    char **names = NULL;
    size_t count = 0;
    sb_write_report rep;

    TRUE_(sb_dataset_name(NULL) == NULL);
    TRUE_(sb_dataset_size(NULL) == 0);
    TRUE_(sb_dataset_capacity(NULL) == 0);
    TRUE_(sb_dataset_nfields(NULL) == 0);
    TRUE_(sb_dataset_field(NULL, 0) == NULL);
    TRUE_(sb_dataset_store(NULL) == NULL);
    TRUE_(sb_dataset_pending_rows(NULL) == 0);
    sb_dataset_last_write(&rep, NULL);
    sb_dataset_last_write(NULL, ds);
    CODE(sb_dataset_field_info(&fi, NULL, 0), INV);
    CODE(sb_dataset_field_info(NULL, ds, 0), INV);
    EITHER(sb_dataset_field_info(&fi, ds, 99), INV, SB_ERR_NOT_FOUND);
    CODE(sb_dataset_field_index(&idx, NULL, "a"), INV);
    CODE(sb_dataset_field_index(&idx, ds, NULL), INV);
    CODE(sb_dataset_field_index(NULL, ds, "a"), INV);
    CODE(sb_dataset_define_field(NULL, "a", SB_INT32, 1, shape), INV);
    CODE(sb_dataset_define_field(ds, NULL, SB_INT32, 1, shape), INV);
    CODE(sb_dataset_define_field(ds, "a", SB_INT32, 1, NULL), INV);
    CODE(sb_dataset_define_field(ds, "a", (sb_dtype)99, 1, shape), INV);
    CODE(sb_dataset_define_field(ds, "a", SB_INT32, SB_MAX_DIMS, shape), INV);
    CODE(sb_dataset_define_field(ds, "nope", SB_INT32, 1, shape), SB_ERR_NOT_FOUND);
    CODE(sb_dataset_append(NULL, 1, &arr), INV);
    CODE(sb_dataset_extend(NULL, 1, &arr), INV);
    CODE(sb_dataset_write_at(NULL, 0, 1, &arr), INV);
    CODE(sb_dataset_write_at(ds, 0, 0, NULL), INV);
    CODE(sb_dataset_commit_size(NULL, 0), INV);
    CODE(sb_dataset_read(buf, NULL, "a", 0, 1), INV);
    CODE(sb_dataset_read(buf, ds, NULL, 0, 1), INV);
    CODE(sb_dataset_read(NULL, ds, "a", 0, 1), INV);
    CODE(sb_dataset_read_all(buf, NULL, "a", 0, 1), INV);
    CODE(sb_dataset_read_all(buf, ds, NULL, 0, 1), INV);
    CODE(sb_dataset_read_all(NULL, ds, "a", 0, 1), INV);
    CODE(sb_dataset_get(&arr, NULL, 1, (const char *[]){"a"}), INV);
    CODE(sb_dataset_get(&arr, ds, 1, (const char *[]){NULL}), INV);
    CODE(sb_dataset_get(NULL, ds, 1, (const char *[]){"a"}), INV);
    CODE(sb_dataset_reset(NULL), INV);
    CODE(sb_dataset_set_append_buffer(NULL, 4), INV);
    CODE(sb_dataset_flush(NULL), INV);
    EITHER(sb_dataset_close(NULL), INV, 0);
    CODE(sb_dataset_add_asset_bytes(NULL, "x", "ab", 2, false), INV);
    CODE(sb_dataset_add_asset_bytes(ds, NULL, "ab", 2, false), INV);
    CODE(sb_dataset_add_asset_bytes(ds, "x", NULL, 2, false), INV);
    CODE(sb_dataset_add_asset_array(NULL, "x", &arr, false), INV);
    CODE(sb_dataset_add_asset_array(ds, NULL, &arr, false), INV);
    CODE(sb_dataset_add_asset_array(ds, "x", NULL, false), INV);
    CODE(sb_dataset_add_json_asset(NULL, "x", NULL, false), INV);
    CODE(sb_dataset_add_json_asset(ds, "x", NULL, false), INV);
    CODE(sb_dataset_asset_names(&names, &count, NULL), INV);
    CODE(sb_dataset_asset_names(NULL, &count, ds), INV);
    CODE(sb_dataset_asset_names(&names, NULL, ds), INV);
    CODE(sb_dataset_asset_info(&arr, NULL, "x"), INV);
    CODE(sb_dataset_asset_info(&arr, ds, NULL), INV);
    CODE(sb_dataset_asset_info(NULL, ds, "x"), INV);
    CODE(sb_dataset_get_asset_bytes(&data, &len, NULL, "x"), INV);
    CODE(sb_dataset_get_asset_bytes(&data, &len, ds, NULL), INV);
    CODE(sb_dataset_get_asset_bytes(NULL, &len, ds, "x"), INV);
    CODE(sb_dataset_get_asset_bytes(&data, NULL, ds, "x"), INV);
    CODE(sb_dataset_get_asset_array(&arr, NULL, "x"), INV);
    CODE(sb_dataset_get_asset_array(&arr, ds, NULL), INV);
    CODE(sb_dataset_get_asset_array(NULL, ds, "x"), INV);
    CODE(sb_dataset_get_json_asset(&json, NULL, "x"), INV);
    CODE(sb_dataset_get_json_asset(&json, ds, NULL), INV);
    CODE(sb_dataset_get_json_asset(NULL, ds, "x"), INV);
    CODE(sb_dataset_get_asset_bytes(&data, &len, ds, "x"), SB_ERR_NOT_FOUND);
    TRUE_(sb_dataset_size(ds) == 0);
}

/* Rows and fields that do not fit: refused with nothing written. */
static void wrong_rows(sb_dataset *ds)
{
    int32_t a4[4] = {1, 2, 3, 4}, a8[8] = {0};
    double d4[4] = {0};
    uint64_t s4[1] = {4}, s3[1] = {3}, s24[2] = {2, 4}, s14[2] = {1, 4};
    sb_array row[2] = {row_of(SB_INT32, 1, s4, a4), row_of(SB_INT32, 0, s4, a4)};
    CODE(sb_dataset_append(ds, 2, row), 0);
    TRUE_(sb_dataset_size(ds) == 1);
    sb_array badshape[2] = {row_of(SB_INT32, 1, s3, a4), row_of(SB_INT32, 0, s4, a4)};
    CODE(sb_dataset_append(ds, 2, badshape), SB_ERR_TYPE);
    sb_array badtype[2] = {row_of(SB_FLOAT64, 1, s4, d4), row_of(SB_INT32, 0, s4, a4)};
    CODE(sb_dataset_append(ds, 2, badtype), SB_ERR_TYPE);
    /* extend: the fields disagree on the row count */
    sb_array cols[2] = {row_of(SB_INT32, 2, s24, a8), row_of(SB_INT32, 1, s3, a4)};
    CODE(sb_dataset_extend(ds, 2, cols), INV);
    sb_array cols_ok[2] = {row_of(SB_INT32, 2, s14, a4), row_of(SB_INT32, 1, (uint64_t[]){1}, a4)};
    CODE(sb_dataset_extend(ds, 2, cols_ok), 0);
    TRUE_(sb_dataset_size(ds) == 2);
    CODE(sb_dataset_read(a8, ds, "a", 2, 1), INV);  /* at the size */
    CODE(sb_dataset_read(a8, ds, "a", UINT64_MAX, 2), INV); /* start + count overflows */
    CODE(sb_dataset_read(a8, ds, "nope", 0, 1), SB_ERR_NOT_FOUND);
    CODE(sb_dataset_write_at(ds, 9, 2, cols_ok), 0);
    EITHER(sb_dataset_write_at(ds, 10, 2, cols_ok), SB_ERR_FULL, INV); /* past the capacity */
    EITHER(sb_dataset_commit_size(ds, 11), INV, SB_ERR_FULL);
    CODE(sb_dataset_add_asset_bytes(ds, "a", "xy", 2, false), INV); /* a field's name */
    CODE(sb_dataset_add_asset_bytes(ds, "meta", "xy", 2, false), 0);
    CODE(sb_dataset_add_asset_bytes(ds, "meta", "xy", 2, false), SB_ERR_EXISTS);
    TRUE_(sb_dataset_size(ds) == 2);
}

/* Capacities whose bytes overflow 64 bits or any file system: an error,
 * never a crash or an attempt to allocate them. */
static void huge_capacity(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/misuse-huge.h5", dir);
    sb_store *st = NULL;
    CODE(sb_store_open(&st, path, SB_CREATE_TRUNCATE, NULL), 0);
    if (!st)
        return;
    static const uint64_t caps[] = {(uint64_t)1 << 60, (uint64_t)1 << 62, UINT64_MAX,
                                    (uint64_t)INT64_MAX + 1};
    static char kib[1024];
    uint64_t s[1] = {sizeof kib};
    const char *fields[] = {"samples"};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "huge%zu", i);
        sb_dataset *ds = NULL;
        int rc = sb_store_create_dataset(&ds, st, name, caps[i], 1, fields);
        checks++;
        if (rc != 0) {
            if (rc != INV && rc != SB_ERR_NOMEM && rc != SB_ERR_IO) {
                fprintf(stderr, "FAIL: create capacity %llu gave %s\n",
                        (unsigned long long)caps[i], code_name(rc));
                failures++;
            }
            continue;
        }
        if (caps[i] > (uint64_t)INT64_MAX) {
            fprintf(stderr, "FAIL: capacity %llu accepted; _sb_capacity is an int64\n",
                    (unsigned long long)caps[i]);
            failures++;
        }
        sb_array row = row_of(SB_INT8, 1, s, kib);
        rc = sb_dataset_append(ds, 2, &row);
        if (rc != INV && rc != SB_ERR_NOMEM && rc != SB_ERR_IO) {
            fprintf(stderr, "FAIL: 1 KiB row into capacity %llu gave %s\n",
                    (unsigned long long)caps[i], code_name(rc));
            failures++;
        }
        TRUE_(sb_dataset_size(ds) == 0);
        sb_clear_error();
        sb_dataset_close(ds);
    }
    sb_clear_error();
    sb_store_close(st);
    /* The store still opens afterwards. */
    st = NULL;
    CODE(sb_store_open(&st, path, SB_READ, NULL), 0);
    if (st)
        CODE(sb_store_close(st), 0);
}

static void closed_handles(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/misuse-closed.h5", dir);
    sb_store *st = NULL;
    sb_dataset *ds = NULL;
    const char *fields[] = {"a", "b"};
    CODE(sb_store_open(&st, path, SB_CREATE_TRUNCATE, NULL), 0);
    if (!st)
        return;
    CODE(sb_store_create_dataset(&ds, st, "d", 10, 2, fields), 0);
    if (!ds) {
        sb_store_close(st);
        return;
    }
    null_dataset(ds);
    wrong_rows(ds);
    CODE(sb_store_close(st), 0);
    /* ds outlives its store: a closed handle, refused but safe to release */
    int32_t a4[4] = {1, 2, 3, 4}, out[8];
    uint64_t s4[1] = {4};
    sb_array row[2] = {row_of(SB_INT32, 1, s4, a4), row_of(SB_INT32, 0, s4, a4)};
    void *data = NULL;
    size_t len = 0;
    CODE(sb_dataset_append(ds, 2, row), INV);
    CODE(sb_dataset_read(out, ds, "a", 0, 1), INV);
    CODE(sb_dataset_flush(ds), INV);
    CODE(sb_dataset_reset(ds), INV);
    CODE(sb_dataset_get_asset_bytes(&data, &len, ds, "meta"), INV);
    CODE(sb_dataset_add_asset_bytes(ds, "m2", "x", 1, false), INV);
    (void)sb_dataset_store(ds);
    CODE(sb_dataset_close(ds), 0);

    /* What was committed before the store closed is there; the refused calls
     * wrote nothing. */
    CODE(sb_store_open(&st, path, SB_READ, NULL), 0);
    if (!st)
        return;
    ds = NULL;
    CODE(sb_store_load_dataset(&ds, st, "d"), 0);
    if (ds) {
        TRUE_(sb_dataset_size(ds) == 2);
        CODE(sb_dataset_read(out, ds, "a", 0, 2), 0);
        TRUE_(out[0] == 1 && out[3] == 4 && out[4] == 1 && out[7] == 4);
        const char *f[] = {"x"};
        sb_dataset *other = NULL;
        CODE(sb_store_create_dataset(&other, st, "e", 5, 1, f), SB_ERR_READ_ONLY);
        CODE(sb_dataset_append(ds, 2, row), SB_ERR_READ_ONLY);
        CODE(sb_dataset_add_asset_bytes(ds, "m3", "x", 1, false), SB_ERR_READ_ONLY);
        TRUE_(sb_dataset_size(ds) == 2);
        CODE(sb_dataset_close(ds), 0);
    }
    CODE(sb_store_close(st), 0);
}

static void open_modes(const char *dir)
{
    char path[4096];
    sb_store *st = NULL;
    snprintf(path, sizeof path, "%s/misuse-absent.h5", dir);
    unlink(path);
    CODE(sb_store_open(&st, path, SB_READ, NULL), SB_ERR_NOT_FOUND);
    CODE(sb_store_open(&st, path, SB_READ_WRITE, NULL), SB_ERR_NOT_FOUND);
    snprintf(path, sizeof path, "%s/misuse-closed.h5", dir);
    CODE(sb_store_open(&st, path, SB_CREATE, NULL), SB_ERR_EXISTS);
    snprintf(path, sizeof path, "%s/no/such/dir/x.h5", dir);
    EITHER(sb_store_open(&st, path, SB_CREATE_TRUNCATE, NULL), SB_ERR_IO, SB_ERR_NOT_FOUND);
    TRUE_(st == NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    null_types_and_errors();
    null_store(argv[1]);
    closed_handles(argv[1]);
    open_modes(argv[1]);
    huge_capacity(argv[1]);
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
