/* Errors and small helpers: codes and names, messages that name the culprit,
 * HDF5's error stack kept off stderr, version strings, dtype and array
 * helpers. */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secbench/storage.h>

#include "sbt_util.h"

static char *dir;

static void setup(void) { dir = sbt_mkdtemp("errors"); }

static void teardown(void) {
    int init = 1;
    MPI_Initialized(&init);
    sbt_rmtree(dir);
    free(dir);
    ck_assert_msg(init == 0, "the library called MPI_Init in a serial program");
}

START_TEST(versions) {
    ck_assert_str_eq(sb_version(), SB_VERSION_STRING);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", SB_VERSION_MAJOR, SB_VERSION_MINOR,
             SB_VERSION_PATCH);
    ck_assert_str_eq(sb_version(), want);
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    snprintf(want, sizeof want, "%u.%u.%u", maj, min, rel);
    ck_assert_str_eq(sb_hdf5_version(), want);
}
END_TEST

START_TEST(error_names) {
    static const struct { int code; const char *name; } all[] = {
        {SB_OK, "SB_OK"}, {SB_ERR_INVALID, "SB_ERR_INVALID"},
        {SB_ERR_NOT_FOUND, "SB_ERR_NOT_FOUND"}, {SB_ERR_EXISTS, "SB_ERR_EXISTS"},
        {SB_ERR_FULL, "SB_ERR_FULL"}, {SB_ERR_TYPE, "SB_ERR_TYPE"},
        {SB_ERR_FORMAT, "SB_ERR_FORMAT"}, {SB_ERR_READ_ONLY, "SB_ERR_READ_ONLY"},
        {SB_ERR_IO, "SB_ERR_IO"}, {SB_ERR_NOMEM, "SB_ERR_NOMEM"},
        {SB_ERR_COLLECTIVE, "SB_ERR_COLLECTIVE"}, {SB_ERR_LOCKED, "SB_ERR_LOCKED"}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ck_assert_str_eq(sb_error_name(all[i].code), all[i].name);
    ck_assert_str_eq(sb_error_name(-12), "SB_ERR_UNKNOWN");
    ck_assert_str_eq(sb_error_name(1), "SB_ERR_UNKNOWN");
    ck_assert_str_eq(sb_error_name(-1000000), "SB_ERR_UNKNOWN");
}
END_TEST

START_TEST(last_error_lifecycle) {
    sb_clear_error();
    ck_assert_ptr_nonnull(sb_last_error_message());
    ck_assert_str_eq(sb_last_error_message(), "");
    ck_assert_int_eq(sb_last_error_code(), 0);
    char *p = sbt_join(dir, "absent-store.h5");
    sb_store *s;
    SBT_ERR(sb_store_open(&s, p, SB_READ, NULL), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("absent-store.h5");
    /* the message stays until the next error or clear, even across successes */
    sb_open_mode m;
    SBT_OK(sb_open_mode_parse(&m, "a"));
    ck_assert_int_eq(sb_last_error_code(), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("absent-store.h5");
    sb_clear_error();
    ck_assert_str_eq(sb_last_error_message(), "");
    ck_assert_int_eq(sb_last_error_code(), 0);
    free(p);
}
END_TEST

/* Each failing call names what was wrong. */
START_TEST(messages_name_the_culprit) {
    char *p = sbt_join(dir, "m.h5");
    sb_store *s;
    SBT_OK(sb_store_open(&s, p, SB_CREATE, NULL));
    const char *const f[] = {"trace_samples", "trace_key"};
    sb_dataset *ds;
    SBT_OK(sb_store_create_dataset(&ds, s, "campaign_7", 2, 2, f));
    sb_dataset *other;
    SBT_ERR(sb_store_create_dataset(&other, s, "campaign_7", 2, 2, f), SB_ERR_EXISTS);
    SBT_MSG_HAS("campaign_7");
    SBT_ERR(sb_store_load_dataset(&other, s, "campaign_8"), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("campaign_8");
    int32_t smp[2] = {1, 2};
    uint8_t key = 3;
    sb_array row[2];
    SBT_OK(sb_array_wrap(&row[0], SB_INT32, 1, (uint64_t[]){2}, smp));
    SBT_OK(sb_array_wrap(&row[1], SB_UINT8, 0, NULL, &key));
    SBT_OK(sb_dataset_append(ds, 2, row));
    SBT_OK(sb_dataset_append(ds, 2, row));
    SBT_ERR(sb_dataset_append(ds, 2, row), SB_ERR_FULL);
    SBT_MSG_HAS("campaign_7");
    SBT_OK(sb_dataset_reset(ds));
    row[1].dtype = SB_INT8;
    SBT_ERR(sb_dataset_append(ds, 2, row), SB_ERR_TYPE);
    SBT_MSG_HAS("trace_key");
    int32_t buf[2];
    SBT_ERR(sb_dataset_read(buf, ds, "trace_nothing", 0, 1), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("trace_nothing");
    void *raw;
    size_t len;
    SBT_ERR(sb_dataset_get_asset_bytes(&raw, &len, ds, "asset_zz"), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("asset_zz");
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    free(p);
}
END_TEST

/* A message that wraps an inner one ("...: <the parser's message>") keeps
 * both intact (the library once formatted the last message into itself). */
START_TEST(wrapped_messages_stay_intact) {
    sb_store *s = sbt_open(dir, "w.h5", SB_CREATE);
    const char *const f[] = {"x"};
    sb_dataset *ds;
    SBT_OK(sb_store_create_dataset(&ds, s, "d", 1, 1, f));
    SBT_OK(sb_dataset_add_asset_bytes(ds, "bad.json", "{\"a\": nope}", 11, false));
    cJSON *doc;
    SBT_ERR(sb_dataset_get_json_asset(&doc, ds, "bad.json"), SB_ERR_FORMAT);
    ck_assert_str_eq(sb_last_error_message(), "dataset 'd': asset 'bad.json' is not valid "
                                              "JSON: JSON unexpected character at byte 6");
    ck_assert_ptr_null(doc);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(hdf5_errors_never_reach_stderr) {
    char *p = sbt_join(dir, "q.h5");
    char *junk = sbt_join(dir, "junk.h5");
    char *missing = sbt_join(dir, "missing.h5");
    ck_assert(sbt_write_file(junk, "not hdf5 at all", 15));
    sb_store *s;
    SBT_OK(sb_store_open(&s, p, SB_CREATE, NULL));
    const char *const f[] = {"v"};
    sb_dataset *ds;
    SBT_OK(sb_store_create_dataset(&ds, s, "d", 3, 1, f));
    int32_t v = 1;
    sb_array a;
    SBT_OK(sb_array_wrap(&a, SB_INT32, 0, NULL, &v));
    SBT_OK(sb_dataset_append(ds, 1, &a));
    SBT_OK(sb_dataset_add_asset_bytes(ds, "notjson", "{{", 2, false));

    sbt_capture cap;
    sbt_stderr_begin(&cap);
    int rcs[12];
    int n = 0;
    sb_store *t;
    sb_dataset *other;
    rcs[n++] = sb_store_open(&t, missing, SB_READ, NULL);
    rcs[n++] = sb_store_open(&t, junk, SB_READ, NULL);
    rcs[n++] = sb_store_open(&t, p, SB_CREATE, NULL);
    rcs[n++] = sb_store_load_dataset(&other, s, "nowhere/deep");
    rcs[n++] = sb_store_create_dataset(&other, s, "d", 3, 1, f);
    rcs[n++] = sb_dataset_read(&v, ds, "v", 2, 5);
    rcs[n++] = sb_dataset_read(&v, ds, "w", 0, 1);
    cJSON *j;
    rcs[n++] = sb_dataset_get_json_asset(&j, ds, "notjson");
    rcs[n++] = sb_dataset_add_asset_bytes(ds, "notjson", "x", 1, false);
    void *raw;
    size_t len;
    rcs[n++] = sb_dataset_get_asset_bytes(&raw, &len, ds, "none");
    rcs[n++] = sb_store_export_dataset(s, "d", s, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "d", .shrink = true, .chunk_size = 1});
    char *text = sbt_stderr_end(&cap);
    ck_assert_msg(text[0] == '\0', "stderr got:\n%s", text);
    free(text);
    for (int i = 0; i < n; i++)
        ck_assert_msg(rcs[i] < 0, "call %d did not fail", i);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    free(p);
    free(junk);
    free(missing);
}
END_TEST

START_TEST(capture_sees_raw_hdf5_errors) {
    /* the check above would be vacuous if the capture missed HDF5's printing:
     * a raw HDF5 call with the default handler must show up in it */
    char *missing = sbt_join(dir, "raw-missing.h5");
    sbt_capture cap;
    sbt_stderr_begin(&cap);
    hid_t f = H5Fopen(missing, H5F_ACC_RDONLY, H5P_DEFAULT);
    char *text = sbt_stderr_end(&cap);
    ck_assert_int_lt(f, 0);
    ck_assert_msg(strstr(text, "HDF5") != NULL, "capture got: '%s'", text);
    free(text);
    free(missing);
}
END_TEST

START_TEST(library_keeps_user_hdf5_error_handler) {
    /* the library silences HDF5 only inside its calls: the user's handler
     * is the same before and after */
    H5E_auto2_t before_fn = NULL, after_fn = NULL;
    void *before_data = NULL, *after_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &before_fn, &before_data);
    char *missing = sbt_join(dir, "missing.h5");
    sb_store *s;
    SBT_ERR(sb_store_open(&s, missing, SB_READ, NULL), SB_ERR_NOT_FOUND);
    H5Eget_auto2(H5E_DEFAULT, &after_fn, &after_data);
    ck_assert(before_fn == after_fn);
    ck_assert_ptr_eq(before_data, after_data);
    free(missing);
}
END_TEST

START_TEST(dtype_helpers) {
    static const struct { sb_dtype t; size_t size; const char *name; } all[] = {
        {SB_BOOL, 1, "bool"}, {SB_INT8, 1, "int8"}, {SB_UINT8, 1, "uint8"},
        {SB_INT16, 2, "int16"}, {SB_UINT16, 2, "uint16"}, {SB_INT32, 4, "int32"},
        {SB_UINT32, 4, "uint32"}, {SB_INT64, 8, "int64"}, {SB_UINT64, 8, "uint64"},
        {SB_FLOAT32, 4, "float32"}, {SB_FLOAT64, 8, "float64"}, {SB_FLOAT16, 2, "float16"},
        {SB_COMPLEX64, 8, "complex64"}, {SB_COMPLEX128, 16, "complex128"},
        {SB_BYTES(1), 1, "S1"}, {SB_BYTES(8), 8, "S8"}, {SB_BYTES(SB_BYTES_MAX), SB_BYTES_MAX, "S16777215"}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        ck_assert_uint_eq(sb_dtype_size(all[i].t), all[i].size);
        ck_assert_str_eq(sb_dtype_name(all[i].t), all[i].name);
        sb_dtype t = (sb_dtype)-1;
        SBT_OK(sb_dtype_parse(&t, all[i].name));
        ck_assert_int_eq(t, all[i].t);
    }
    ck_assert_uint_eq(sb_dtype_size((sb_dtype)14), 0);
    ck_assert_uint_eq(sb_dtype_size((sb_dtype)-1), 0);
    ck_assert_uint_eq(sb_dtype_size(SB_BYTES(0)), 0);
    ck_assert_uint_eq(sb_dtype_size(SB_BYTES(SB_BYTES_MAX + 1)), 0);
    ck_assert(!sb_dtype_valid(SB_BYTES(0)) && sb_dtype_valid(SB_BYTES(3)) && sb_dtype_is_bytes(SB_BYTES(3)));
    ck_assert(!sb_dtype_is_bytes(SB_UINT8));
    ck_assert_ptr_null(sb_dtype_name((sb_dtype)14));
    sb_dtype t;
    SBT_ERR(sb_dtype_parse(&t, "float128"), SB_ERR_INVALID);
    SBT_MSG_HAS("float128");
    SBT_ERR(sb_dtype_parse(&t, "S0"), SB_ERR_INVALID);
    SBT_ERR(sb_dtype_parse(&t, "S16777216"), SB_ERR_INVALID);
    SBT_ERR(sb_dtype_parse(&t, "S8x"), SB_ERR_INVALID);
    SBT_ERR(sb_dtype_parse(&t, "S-1"), SB_ERR_INVALID);
    SBT_ERR(sb_dtype_parse(&t, ""), SB_ERR_INVALID);
    SBT_ERR(sb_dtype_parse(&t, "INT8"), SB_ERR_INVALID);
    SBT_ERR(sb_dtype_parse(&t, NULL), SB_ERR_INVALID);
}
END_TEST

START_TEST(array_helpers) {
    double data[2][3][4] = {{{0}}};
    sb_array a;
    memset(&a, 0x77, sizeof a);
    SBT_OK(sb_array_wrap(&a, SB_FLOAT64, 3, (uint64_t[]){2, 3, 4}, data));
    ck_assert_int_eq(a.dtype, SB_FLOAT64);
    ck_assert_int_eq(a.ndim, 3);
    ck_assert_uint_eq(a.shape[0], 2);
    ck_assert_uint_eq(a.shape[2], 4);
    ck_assert_ptr_eq(a.data, data);
    ck_assert_uint_eq(sb_array_count(&a), 24);
    ck_assert_uint_eq(sb_array_nbytes(&a), 192);
    uint16_t one = 5;
    SBT_OK(sb_array_wrap(&a, SB_UINT16, 0, NULL, &one));
    ck_assert_int_eq(a.ndim, 0);
    ck_assert_uint_eq(sb_array_count(&a), 1);
    ck_assert_uint_eq(sb_array_nbytes(&a), 2);
    SBT_OK(sb_array_wrap(&a, SB_INT8, 2, (uint64_t[]){0, 7}, data));
    ck_assert_uint_eq(sb_array_count(&a), 0);
    ck_assert_uint_eq(sb_array_nbytes(&a), 0);
    uint64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    SBT_ERR(sb_array_wrap(&a, SB_INT8, 9, nine, data), SB_ERR_INVALID);
    SBT_ERR(sb_array_wrap(&a, SB_INT8, -1, nine, data), SB_ERR_INVALID);
    SBT_ERR(sb_array_wrap(&a, (sb_dtype)30, 1, nine, data), SB_ERR_INVALID);
    SBT_ERR(sb_array_wrap(&a, SB_INT8, 2, NULL, data), SB_ERR_INVALID);
    SBT_ERR(sb_array_wrap(NULL, SB_INT8, 1, nine, data), SB_ERR_INVALID);
    SBT_OK(sb_array_wrap(&a, SB_INT8, 8, nine, data));
    ck_assert_uint_eq(sb_array_count(&a), 1);
    /* products that do not fit in 64 bits: UINT64_MAX, never a wrapped value */
    SBT_OK(sb_array_wrap(&a, SB_INT8, 3, (uint64_t[]){1ull << 32, 1ull << 32, 2}, data));
    ck_assert_uint_eq(sb_array_count(&a), UINT64_MAX);
    ck_assert_uint_eq(sb_array_nbytes(&a), UINT64_MAX);
    SBT_OK(sb_array_wrap(&a, SB_FLOAT64, 1, (uint64_t[]){1ull << 61}, data));
    ck_assert_uint_eq(sb_array_count(&a), 1ull << 61);
    ck_assert_uint_eq(sb_array_nbytes(&a), UINT64_MAX); /* 2^61 x 8 bytes */
    SBT_OK(sb_array_wrap(&a, SB_FLOAT64, 1, (uint64_t[]){(1ull << 61) - 1}, data));
    ck_assert_uint_eq(sb_array_nbytes(&a), ((1ull << 61) - 1) * 8);
    SBT_OK(sb_array_wrap(&a, SB_INT8, 2, (uint64_t[]){UINT64_MAX, 0}, data));
    ck_assert_uint_eq(sb_array_count(&a), 0); /* a zero dimension wins */
    /* freeing NULL is harmless */
    sb_free(NULL);
}
END_TEST

int main(void) {
    Suite *su = suite_create("errors");
    TCase *tc = tcase_create("serial");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, versions);
    tcase_add_test(tc, error_names);
    tcase_add_test(tc, last_error_lifecycle);
    tcase_add_test(tc, messages_name_the_culprit);
    tcase_add_test(tc, wrapped_messages_stay_intact);
    tcase_add_test(tc, hdf5_errors_never_reach_stderr);
    tcase_add_test(tc, capture_sees_raw_hdf5_errors);
    tcase_add_test(tc, library_keeps_user_hdf5_error_handler);
    tcase_add_test(tc, dtype_helpers);
    tcase_add_test(tc, array_helpers);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
