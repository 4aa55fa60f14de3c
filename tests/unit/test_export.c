/* Serial export: rows [0, size) chunk by chunk, shrink, new_name, assets,
 * refusals, empty and never-written datasets. */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <cjson/cJSON.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>
#include <secbench/storage.h>

#include "sbt_raw.h"
#include "sbt_util.h"

static char *dir;
static sb_store *src;
static sb_store *dst;

/* Source "aes/traces": capacity 10, size 7, fields "samples" int16 (5),
 * "key" uint8 scalar, "ok" bool scalar; row r: samples[j] = r*10 - j,
 * key = 3r, ok = r odd. Assets: bytes "raw", int32 (2,3) "window", JSON "cfg". */
#define CAP 10
#define SIZE 7
static const char *const FIELDS[] = {"samples", "key", "ok"};

static void fill_source(void) {
    sb_dataset *ds;
    SBT_OK(sb_store_create_dataset(&ds, src, "aes/traces", CAP, 3, FIELDS));
    int16_t smp[SIZE][5];
    uint8_t key[SIZE], ok[SIZE];
    for (int r = 0; r < SIZE; r++) {
        for (int j = 0; j < 5; j++)
            smp[r][j] = (int16_t)(r * 10 - j);
        key[r] = (uint8_t)(3 * r);
        ok[r] = (uint8_t)(r % 2);
    }
    sb_array cols[3];
    SBT_OK(sb_array_wrap(&cols[0], SB_INT16, 2, (uint64_t[]){SIZE, 5}, smp));
    SBT_OK(sb_array_wrap(&cols[1], SB_UINT8, 1, (uint64_t[]){SIZE}, key));
    SBT_OK(sb_array_wrap(&cols[2], SB_BOOL, 1, (uint64_t[]){SIZE}, ok));
    SBT_OK(sb_dataset_extend(ds, 3, cols));
    SBT_OK(sb_dataset_add_asset_bytes(ds, "raw", "\x00\x01\x02zz", 5, false));
    int32_t win[2][3] = {{1, 2, 3}, {-4, -5, -6}};
    sb_array w;
    SBT_OK(sb_array_wrap(&w, SB_INT32, 2, (uint64_t[]){2, 3}, win));
    SBT_OK(sb_dataset_add_asset_array(ds, "window", &w, false));
    cJSON *doc = cJSON_Parse("{\"a\": [1, 2], \"b\": \"c\"}");
    SBT_OK(sb_dataset_add_json_asset(ds, "cfg", doc, false));
    cJSON_Delete(doc);
    SBT_OK(sb_dataset_close(ds));
}

static void setup(void) {
    dir = sbt_mkdtemp("export");
    char *p = sbt_join(dir, "src.h5");
    SBT_OK(sb_store_open(&src, p, SB_CREATE, NULL));
    free(p);
    p = sbt_join(dir, "dst.h5");
    SBT_OK(sb_store_open(&dst, p, SB_CREATE, NULL));
    free(p);
    fill_source();
}

static void teardown(void) {
    if (src)
        sb_store_close(src);
    if (dst)
        sb_store_close(dst);
    int init = 1;
    MPI_Initialized(&init);
    sbt_rmtree(dir);
    free(dir);
    ck_assert_msg(init == 0, "the library called MPI_Init in a serial program");
}

static void reopen_dst(void) {
    SBT_OK(sb_store_close(dst));
    char *p = sbt_join(dir, "dst.h5");
    SBT_OK(sb_store_open(&dst, p, SB_READ_WRITE, NULL));
    free(p);
}

/* The copy `name` in dst holds the source's rows, fields and assets. */
static void check_copy(const char *name, uint64_t capacity) {
    sb_dataset *ds;
    SBT_OK(sb_store_load_dataset(&ds, dst, name));
    ck_assert_uint_eq(sb_dataset_size(ds), SIZE);
    ck_assert_uint_eq(sb_dataset_capacity(ds), capacity);
    ck_assert_uint_eq(sb_dataset_nfields(ds), 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(sb_dataset_field(ds, i), FIELDS[i]);
    sb_array got;
    SBT_OK(sb_dataset_get(&got, ds, 1, (const char *[]){"samples"}));
    ck_assert_int_eq(got.dtype, SB_INT16);
    ck_assert_uint_eq(got.shape[0], SIZE);
    ck_assert_uint_eq(got.shape[1], 5);
    const int16_t *smp = got.data;
    for (int r = 0; r < SIZE; r++)
        for (int j = 0; j < 5; j++)
            ck_assert_int_eq(smp[r * 5 + j], r * 10 - j);
    sb_free(got.data);
    uint8_t key[SIZE], ok[SIZE];
    SBT_OK(sb_dataset_read(key, ds, "key", 0, SIZE));
    SBT_OK(sb_dataset_read(ok, ds, "ok", 0, SIZE));
    sb_field_info fi;
    SBT_OK(sb_dataset_field_info(&fi, ds, 2));
    ck_assert_int_eq(fi.dtype, SB_BOOL);
    for (int r = 0; r < SIZE; r++) {
        ck_assert_uint_eq(key[r], 3 * r);
        ck_assert_uint_eq(ok[r], r % 2);
    }
    char **names;
    size_t n;
    SBT_OK(sb_dataset_asset_names(&names, &n, ds));
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(names[0], "cfg");
    ck_assert_str_eq(names[1], "raw");
    ck_assert_str_eq(names[2], "window");
    sb_free(names);
    void *raw;
    size_t len;
    SBT_OK(sb_dataset_get_asset_bytes(&raw, &len, ds, "raw"));
    ck_assert_uint_eq(len, 5);
    ck_assert_mem_eq(raw, "\x00\x01\x02zz", 5);
    sb_free(raw);
    sb_array w;
    SBT_OK(sb_dataset_get_asset_array(&w, ds, "window"));
    ck_assert_int_eq(w.dtype, SB_INT32);
    ck_assert_int_eq(w.ndim, 2);
    ck_assert_uint_eq(w.shape[0], 2);
    ck_assert_uint_eq(w.shape[1], 3);
    ck_assert_int_eq(((int32_t *)w.data)[5], -6);
    sb_free(w.data);
    cJSON *doc, *want = cJSON_Parse("{\"a\": [1, 2], \"b\": \"c\"}");
    SBT_OK(sb_dataset_get_json_asset(&doc, ds, "cfg"));
    ck_assert(cJSON_Compare(doc, want, true));
    cJSON_Delete(doc);
    cJSON_Delete(want);
    ck_assert(!sb_dataset_is_incomplete(ds));
    SBT_OK(sb_dataset_close(ds));
}

START_TEST(shrink_true_and_false) {
    SBT_OK(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 100000}));
    SBT_OK(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "full/copy", .shrink = false, .chunk_size = 100000}));
    reopen_dst();
    check_copy("aes/traces", SIZE);
    check_copy("full/copy", CAP);
}
END_TEST

START_TEST(chunk_sizes) {
    const uint64_t chunks[] = {1, 2, 3, 4, 6, 7, 8, 1000};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%zu", i);
        SBT_OK(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = name, .shrink = true, .chunk_size = chunks[i]}));
    }
    reopen_dst();
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%zu", i);
        check_copy(name, SIZE);
    }
    SBT_ERR(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "zero", .shrink = true, .chunk_size = 0}), SB_ERR_INVALID);
    bool exists = true;
    SBT_OK(sb_store_has_dataset(&exists, dst, "zero"));
    ck_assert(!exists);
}
END_TEST

START_TEST(into_same_store_and_temporary) {
    SBT_OK(sb_store_export_dataset(src, "aes/traces", src, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "copy", .shrink = true, .chunk_size = 3}));
    sb_store *tmp;
    SBT_OK(sb_store_temporary(&tmp, "t"));
    SBT_OK(sb_store_export_dataset(src, "copy", tmp, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = false, .chunk_size = 2}));
    /* and back from the temporary store to the file */
    SBT_OK(sb_store_export_dataset(tmp, "copy", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "from_tmp", .shrink = true, .chunk_size = 5}));
    SBT_OK(sb_store_close(tmp));
    reopen_dst();
    check_copy("from_tmp", SIZE);
    sb_dataset *ds;
    SBT_OK(sb_store_load_dataset(&ds, src, "copy"));
    ck_assert_uint_eq(sb_dataset_size(ds), SIZE);
    SBT_OK(sb_dataset_close(ds));
}
END_TEST

START_TEST(existing_destination_refused) {
    SBT_OK(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 4}));
    SBT_ERR(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 4}), SB_ERR_EXISTS);
    SBT_MSG_HAS("aes/traces");
    SBT_ERR(sb_store_export_dataset(src, "aes/traces", src, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 4}), SB_ERR_EXISTS);
    /* the first copy is untouched */
    check_copy("aes/traces", SIZE);
    /* a dataset of another shape under that name is not overwritten either */
    sb_dataset *other;
    const char *const f[] = {"q"};
    SBT_OK(sb_store_create_dataset(&other, dst, "taken", 2, 1, f));
    SBT_OK(sb_dataset_close(other));
    SBT_ERR(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "taken", .shrink = true, .chunk_size = 4}), SB_ERR_EXISTS);
    SBT_OK(sb_store_load_dataset(&other, dst, "taken"));
    ck_assert_uint_eq(sb_dataset_capacity(other), 2);
    ck_assert_str_eq(sb_dataset_field(other, 0), "q");
    SBT_OK(sb_dataset_close(other));
}
END_TEST

START_TEST(export_errors) {
    SBT_ERR(sb_store_export_dataset(src, "missing", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 4}), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("missing");
    SBT_ERR(sb_store_export_dataset(src, "aes", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 4}), SB_ERR_NOT_FOUND);
    SBT_ERR(sb_store_export_dataset(src, "aes/traces", NULL, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 4}), SB_ERR_INVALID);
    SBT_ERR(sb_store_export_dataset(NULL, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 4}), SB_ERR_INVALID);
    SBT_ERR(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "", .shrink = true, .chunk_size = 4}), SB_ERR_INVALID);
    /* read-only destination */
    SBT_OK(sb_store_close(dst));
    char *p = sbt_join(dir, "dst.h5");
    SBT_OK(sb_store_open(&dst, p, SB_READ, NULL));
    free(p);
    SBT_ERR(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 4}), SB_ERR_READ_ONLY);
    char **names;
    size_t n;
    SBT_OK(sb_store_dataset_names(&names, &n, dst));
    ck_assert_uint_eq(n, 0);
    sb_free(names);
}
END_TEST

START_TEST(empty_and_never_written) {
    sb_dataset *ds;
    const char *const f2[] = {"alpha", "beta"};
    SBT_OK(sb_store_create_dataset(&ds, src, "never", 5, 2, f2));
    SBT_OK(sb_dataset_close(ds));
    /* "emptied": written, then reset */
    SBT_OK(sb_store_create_dataset(&ds, src, "emptied", 5, 2, f2));
    float a[2] = {1, 2};
    int8_t b[2] = {3, 4};
    sb_array cols[2];
    SBT_OK(sb_array_wrap(&cols[0], SB_FLOAT32, 1, (uint64_t[]){2}, a));
    SBT_OK(sb_array_wrap(&cols[1], SB_INT8, 1, (uint64_t[]){2}, b));
    SBT_OK(sb_dataset_extend(ds, 2, cols));
    SBT_OK(sb_dataset_reset(ds));
    SBT_OK(sb_dataset_close(ds));
    const char *names[] = {"never", "emptied"};
    for (int i = 0; i < 2; i++) {
        SBT_OK(sb_store_export_dataset(src, names[i], dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = false, .chunk_size = 2}));
        char shrunk[32];
        snprintf(shrunk, sizeof shrunk, "%s_shrunk", names[i]);
        SBT_OK(sb_store_export_dataset(src, names[i], dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = shrunk, .shrink = true, .chunk_size = 2}));
    }
    reopen_dst();
    for (int i = 0; i < 2; i++) {
        SBT_OK(sb_store_load_dataset(&ds, dst, names[i]));
        ck_assert_uint_eq(sb_dataset_size(ds), 0);
        ck_assert_uint_eq(sb_dataset_capacity(ds), 5);
        ck_assert_uint_eq(sb_dataset_nfields(ds), 2);
        ck_assert_str_eq(sb_dataset_field(ds, 0), "alpha");
        ck_assert_str_eq(sb_dataset_field(ds, 1), "beta");
        /* the copy takes rows */
        SBT_OK(sb_dataset_extend(ds, 2, cols));
        ck_assert_uint_eq(sb_dataset_size(ds), 2);
        SBT_OK(sb_dataset_close(ds));
        char shrunk[32];
        snprintf(shrunk, sizeof shrunk, "%s_shrunk", names[i]);
        SBT_OK(sb_store_load_dataset(&ds, dst, shrunk));
        ck_assert_uint_eq(sb_dataset_size(ds), 0);
        ck_assert_uint_eq(sb_dataset_nfields(ds), 2);
        SBT_OK(sb_dataset_close(ds));
    }
    /* "emptied" had fixed its dtypes: the full copy keeps them */
    SBT_OK(sb_store_load_dataset(&ds, dst, "emptied"));
    sb_field_info fi;
    SBT_OK(sb_dataset_field_info(&fi, ds, 1));
    ck_assert(fi.defined);
    ck_assert_int_eq(fi.dtype, SB_INT8);
    SBT_OK(sb_dataset_close(ds));
}
END_TEST

/* Python's reference store: "empty" is a dataset Python created and never
 * wrote, so it has no field at all; its copy must still be a dataset. */
START_TEST(python_datasets_export) {
    const char *ref = getenv("SB_REFERENCE_H5");
    ck_assert_msg(ref != NULL, "SB_REFERENCE_H5 is not set (ctest sets it)");
    sb_store *py;
    SBT_OK(sb_store_open(&py, ref, SB_READ, NULL));
    SBT_OK(sb_store_export_dataset(py, "empty", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = false, .chunk_size = 3}));
    SBT_OK(sb_store_export_dataset(py, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "traces", .shrink = true, .chunk_size = 7}));
    sb_dataset *a, *b;
    SBT_OK(sb_store_load_dataset(&a, dst, "empty"));
    ck_assert_uint_eq(sb_dataset_capacity(a), 5);
    ck_assert_uint_eq(sb_dataset_size(a), 0);
    ck_assert_uint_eq(sb_dataset_nfields(a), 0);
    SBT_OK(sb_dataset_close(a));
    SBT_OK(sb_store_load_dataset(&a, py, "aes/traces"));
    SBT_OK(sb_store_load_dataset(&b, dst, "traces"));
    ck_assert_uint_eq(sb_dataset_capacity(b), sb_dataset_size(a));
    ck_assert_uint_eq(sb_dataset_nfields(b), sb_dataset_nfields(a));
    for (size_t i = 0; i < sb_dataset_nfields(a); i++) {
        sb_array x, y;
        ck_assert_str_eq(sb_dataset_field(a, i), sb_dataset_field(b, i));
        SBT_OK(sb_dataset_get(&x, a, 1, (const char *[]){sb_dataset_field(a, i)}));
        SBT_OK(sb_dataset_get(&y, b, 1, (const char *[]){sb_dataset_field(b, i)}));
        ck_assert_int_eq(x.dtype, y.dtype);
        ck_assert_uint_eq(sb_array_nbytes(&x), sb_array_nbytes(&y));
        ck_assert_mem_eq(x.data, y.data, sb_array_nbytes(&x));
        sb_free(x.data);
        sb_free(y.data);
    }
    void *p1, *p2;
    size_t n1, n2;
    SBT_OK(sb_dataset_get_asset_bytes(&p1, &n1, a, "meta"));
    SBT_OK(sb_dataset_get_asset_bytes(&p2, &n2, b, "meta"));
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(p1, p2, n1);
    sb_free(p1);
    sb_free(p2);
    SBT_OK(sb_dataset_close(a));
    SBT_OK(sb_dataset_close(b));
    SBT_OK(sb_store_close(py));
}
END_TEST

typedef struct progress { uint64_t calls, last_done, total; } progress;

static void on_progress(uint64_t done, uint64_t total, void *payload) {
    progress *p = payload;
    ck_assert_uint_ge(done, p->last_done);
    p->calls++;
    p->last_done = done;
    p->total = total;
}

START_TEST(export_ext_options) {
    sb_export_options o;
    memset(&o, 0x5a, sizeof o);
    sb_export_options_init(&o, SB_EXPORT_OPTIONS_VERSION);
    ck_assert_uint_eq(o.version, SB_EXPORT_OPTIONS_VERSION);
    ck_assert_ptr_null(o.new_name);
    ck_assert(o.shrink);
    ck_assert_uint_eq(o.chunk_size, SB_EXPORT_DEFAULT_CHUNK);
    ck_assert(o.progress == NULL);
    progress p = {0, 0, 0};
    o.new_name = "ext";
    o.chunk_size = 3;
    o.progress = on_progress;
    o.progress_payload = &p;
    SBT_OK(sb_store_export_dataset(src, "aes/traces", dst, &o));
    ck_assert_uint_ge(p.calls, 1);
    ck_assert_uint_eq(p.last_done, SIZE);
    ck_assert_uint_eq(p.total, SIZE);
    check_copy("ext", SIZE);
    o.version = 0;
    o.new_name = "ext2";
    SBT_ERR(sb_store_export_dataset(src, "aes/traces", dst, &o), SB_ERR_INVALID);
}
END_TEST

/* A finished export leaves no _sb_incomplete on the copy, in the file. */
START_TEST(finished_export_has_no_marker) {
    SBT_OK(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "done", .shrink = true, .chunk_size = 2}));
    SBT_OK(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "done1", .shrink = false, .chunk_size = SIZE}));
    check_copy("done", SIZE);
    SBT_OK(sb_store_close(dst));
    dst = NULL;
    char *p = sbt_join(dir, "dst.h5");
    const char *copies[] = {"done", "done1"};
    for (int i = 0; i < 2; i++) {
        /* The file opened and the group is there: a false "no marker" is real. */
        ck_assert(sbt_raw_has_attr(p, copies[i], "_sb_is_dataset"));
        ck_assert_msg(!sbt_raw_has_attr(p, copies[i], "_sb_incomplete"),
                      "the finished copy %s still has _sb_incomplete", copies[i]);
    }
    free(p);
    p = sbt_join(dir, "src.h5");
    ck_assert(sbt_raw_has_attr(p, "aes/traces", "_sb_is_dataset"));
    ck_assert(!sbt_raw_has_attr(p, "aes/traces", "_sb_incomplete"));
    free(p);
}
END_TEST

/* The job dies in the middle of the copy: after the first chunk, in the
 * progress callback, without closing anything (as SIGKILL would). */
static void die_after_first_chunk(uint64_t done, uint64_t total, void *payload) {
    (void)done;
    (void)total;
    (void)payload;
    _exit(3);
}

static int note_incomplete(const sb_dataset_info *info, void *payload) {
    if (strcmp(info->name, "aes/traces") == 0)
        *(bool *)payload = info->incomplete;
    else
        ck_assert_msg(!info->incomplete, "%s listed as incomplete", info->name);
    return 0;
}


START_TEST(cut_export_leaves_nothing) {
    SBT_OK(sb_store_close(dst));
    dst = NULL;
    char *cut = sbt_join(dir, "cut.h5");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        sb_store *out = NULL;
        if (sb_store_open(&out, cut, SB_CREATE, NULL) != 0)
            _exit(1);
        sb_export_options o;
        sb_export_options_init(&o, SB_EXPORT_OPTIONS_VERSION);
        o.chunk_size = 2;
        o.progress = die_after_first_chunk;
        sb_store_export_dataset(src, "aes/traces", out, &o);
        _exit(2); /* the copy was not cut: the test proves nothing */
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3,
                  "the exporting child did not die mid-copy (status %d)", status);

    /* The copy was never committed: the file is the empty store it was
     * after its creation (no half copy that could pass for a whole one). */
    ck_assert(!sbt_raw_has_attr(cut, "aes/traces", "_sb_is_dataset"));
    sb_store *in = NULL;
    SBT_OK(sb_store_open(&in, cut, SB_READ_WRITE, NULL));
    char **names = NULL;
    size_t n = 99;
    SBT_OK(sb_store_dataset_names(&names, &n, in));
    ck_assert_uint_eq(n, 0);
    /* The name is free: the export runs again, to the end this time. */
    SBT_OK(sb_store_export_dataset(src, "aes/traces", in, NULL));
    sb_dataset *ds = NULL;
    SBT_OK(sb_store_load_dataset(&ds, in, "aes/traces"));
    ck_assert(!sb_dataset_is_incomplete(ds));
    ck_assert_uint_eq(sb_dataset_size(ds), SIZE);

    /* A dataset marked unfinished (a job's output) exports as unfinished:
     * a copy of unfinished rows is no more finished than they are. */
    SBT_OK(sb_dataset_set_incomplete(ds, true));
    bool seen = false;
    SBT_OK(sb_store_foreach_dataset(in, note_incomplete, &seen));
    ck_assert(seen);
    SBT_OK(sb_store_export_dataset(in, "aes/traces", in, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "again", .shrink = true, .chunk_size = 1}));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_load_dataset(&ds, in, "again"));
    ck_assert(sb_dataset_is_incomplete(ds));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(in));
    ck_assert(sbt_raw_has_attr(cut, "again", "_sb_incomplete"));
    free(cut);
}
END_TEST

/* Marker values as other writers may store them: h5py's enum FALSE, a plain
 * integer, a wrong type. */
START_TEST(marker_values_on_load) {
    SBT_OK(sb_store_export_dataset(src, "aes/traces", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "m", .shrink = true, .chunk_size = 100}));
    SBT_OK(sb_store_close(dst));
    dst = NULL;
    char *p = sbt_join(dir, "dst.h5");
    struct { hid_t type; int8_t value; bool incomplete; } cases[] = {
        {sbt_raw_bool_type(), 0, false},
        {sbt_raw_bool_type(), 1, true},
        {H5Tcopy(H5T_STD_I8LE), 1, true},
        {H5Tcopy(H5T_STD_U8LE), 0, false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
        ck_assert_int_ge(f, 0);
        hid_t g = H5Gopen2(f, "m", H5P_DEFAULT);
        ck_assert_int_ge(g, 0);
        if (H5Aexists(g, "_sb_incomplete") > 0)
            H5Adelete(g, "_sb_incomplete");
        sbt_raw_put_attr(g, "_sb_incomplete", cases[c].type, &cases[c].value);
        H5Tclose(cases[c].type);
        H5Gclose(g);
        H5Fclose(f);
        sb_store *in = NULL;
        SBT_OK(sb_store_open(&in, p, SB_READ, NULL));
        sb_dataset *ds = NULL;
        SBT_OK(sb_store_load_dataset(&ds, in, "m"));
        ck_assert_msg(sb_dataset_is_incomplete(ds) == cases[c].incomplete, "case %zu", c);
        ck_assert_uint_eq(sb_dataset_size(ds), SIZE);
        SBT_OK(sb_dataset_close(ds));
        SBT_OK(sb_store_close(in));
    }
    /* No truth value (two of them, as Python would say): the dataset does
     * not load, and the message says why. */
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gopen2(f, "m", H5P_DEFAULT);
    H5Adelete(g, "_sb_incomplete");
    int8_t two[2] = {1, 1};
    hid_t sp = H5Screate_simple(1, (hsize_t[]){2}, NULL);
    hid_t a = H5Acreate2(g, "_sb_incomplete", H5T_STD_I8LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT8, two);
    H5Aclose(a);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(f);
    sb_store *in = NULL;
    SBT_OK(sb_store_open(&in, p, SB_READ, NULL));
    sb_dataset *ds = NULL;
    SBT_ERR(sb_store_load_dataset(&ds, in, "m"), SB_ERR_FORMAT);
    SBT_MSG_HAS("_sb_incomplete");
    SBT_MSG_HAS("'m'");
    ck_assert(!sb_dataset_is_incomplete(NULL));
    SBT_OK(sb_store_close(in));
    free(p);
}
END_TEST

int main(void) {
    Suite *su = suite_create("export");
    TCase *tc = tcase_create("serial");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, shrink_true_and_false);
    tcase_add_test(tc, chunk_sizes);
    tcase_add_test(tc, into_same_store_and_temporary);
    tcase_add_test(tc, existing_destination_refused);
    tcase_add_test(tc, export_errors);
    tcase_add_test(tc, empty_and_never_written);
    tcase_add_test(tc, python_datasets_export);
    tcase_add_test(tc, export_ext_options);
    tcase_add_test(tc, finished_export_has_no_marker);
    tcase_add_test(tc, cut_export_leaves_nothing);
    tcase_add_test(tc, marker_values_on_load);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
