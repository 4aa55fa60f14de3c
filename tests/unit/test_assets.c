/* Assets: raw bytes, typed arrays and JSON documents beside a dataset's
 * fields, with replace, listing, info, raw and typed read-back. */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <cjson/cJSON.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secbench/storage.h>

#include "sbt_raw.h"
#include "sbt_util.h"

static char *dir;
static char *path;
static sb_store *store;
static sb_dataset *ds;

static const char *const FIELDS[] = {"samples", "plaintext"};

static void setup(void) {
    dir = sbt_mkdtemp("assets");
    path = sbt_join(dir, "a.h5");
    SBT_OK(sb_store_open(&store, path, SB_CREATE, NULL));
    SBT_OK(sb_store_create_dataset(&ds, store, "aes/traces", 4, 2, FIELDS));
}

static void teardown(void) {
    if (ds)
        sb_dataset_close(ds);
    if (store)
        sb_store_close(store);
    int init = 1;
    MPI_Initialized(&init);
    sbt_rmtree(dir);
    free(path);
    free(dir);
    ck_assert_msg(init == 0, "the library called MPI_Init in a serial program");
}

/* Close and reopen the store so that reads come from the file. */
static void reopen(sb_open_mode mode) {
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(store));
    SBT_OK(sb_store_open(&store, path, mode, NULL));
    SBT_OK(sb_store_load_dataset(&ds, store, "aes/traces"));
}

START_TEST(bytes_round_trip) {
    const unsigned char blob[] = {0, 1, 'b', 'i', 'n', 0, 255, 128, '\n'};
    SBT_OK(sb_dataset_add_asset_bytes(ds, "scope_config", blob, sizeof blob, false));
    reopen(SB_READ);
    void *data = NULL;
    size_t len = 0;
    SBT_OK(sb_dataset_get_asset_bytes(&data, &len, ds, "scope_config"));
    ck_assert_uint_eq(len, sizeof blob);
    ck_assert_mem_eq(data, blob, sizeof blob);
    sb_free(data);
    sb_array info;
    SBT_OK(sb_dataset_asset_info(&info, ds, "scope_config"));
    ck_assert_int_eq(info.dtype, SB_UINT8);
    ck_assert_int_eq(info.ndim, 1);
    ck_assert_uint_eq(info.shape[0], sizeof blob);
    ck_assert_ptr_null(info.data);
    sb_array a;
    SBT_OK(sb_dataset_get_asset_array(&a, ds, "scope_config"));
    ck_assert_int_eq(a.dtype, SB_UINT8);
    ck_assert_int_eq(a.ndim, 1);
    ck_assert_uint_eq(a.shape[0], sizeof blob);
    ck_assert_mem_eq(a.data, blob, sizeof blob);
    sb_free(a.data);
    /* it is not JSON */
    cJSON *j = (cJSON *)&j;
    SBT_ERR(sb_dataset_get_json_asset(&j, ds, "scope_config"), SB_ERR_FORMAT);
    SBT_MSG_HAS("scope_config");
}
END_TEST

START_TEST(typed_arrays_keep_dtype_and_shape) {
    int16_t window[3][4];
    for (int i = 0; i < 12; i++)
        (&window[0][0])[i] = (int16_t)(i * 1000 - 5000);
    double cube[2][2][2] = {{{0.5, -1}, {2, 3}}, {{1e300, -0.0}, {7, 8}}};
    uint64_t big[3] = {UINT64_MAX, 0, 1ull << 63};
    uint8_t flags[5] = {1, 0, 1, 1, 0};
    float scalar = 2.5f;
    struct { const char *name; sb_dtype t; int nd; uint64_t shape[3]; const void *data; } in[] = {
        {"window", SB_INT16, 2, {3, 4}, window}, {"cube", SB_FLOAT64, 3, {2, 2, 2}, cube},
        {"big", SB_UINT64, 1, {3}, big}, {"flags", SB_BOOL, 1, {5}, flags},
        {"scalar", SB_FLOAT32, 0, {0}, &scalar}};
    const size_t n = sizeof in / sizeof in[0];
    for (size_t i = 0; i < n; i++) {
        sb_array a;
        SBT_OK(sb_array_wrap(&a, in[i].t, in[i].nd, in[i].shape, in[i].data));
        SBT_OK(sb_dataset_add_asset_array(ds, in[i].name, &a, false));
    }
    reopen(SB_READ);
    for (size_t i = 0; i < n; i++) {
        sb_array info, a;
        SBT_OK(sb_dataset_asset_info(&info, ds, in[i].name));
        ck_assert_int_eq(info.dtype, in[i].t);
        ck_assert_int_eq(info.ndim, in[i].nd);
        for (int d = 0; d < in[i].nd; d++)
            ck_assert_uint_eq(info.shape[d], in[i].shape[d]);
        SBT_OK(sb_dataset_get_asset_array(&a, ds, in[i].name));
        ck_assert_int_eq(a.dtype, in[i].t);
        ck_assert_int_eq(a.ndim, in[i].nd);
        uint64_t nbytes = sb_array_nbytes(&a);
        ck_assert_uint_eq(nbytes, sb_array_nbytes(&info));
        ck_assert_msg(memcmp(a.data, in[i].data, nbytes) == 0, "asset %s differs", in[i].name);
        /* raw read-back: the C-order bytes of the array */
        void *raw = NULL;
        size_t len = 0;
        SBT_OK(sb_dataset_get_asset_bytes(&raw, &len, ds, in[i].name));
        ck_assert_uint_eq(len, nbytes);
        ck_assert_mem_eq(raw, in[i].data, len);
        sb_free(raw);
        sb_free(a.data);
    }
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(store));
    ds = NULL;
    store = NULL;
    /* in the file: a typed HDF5 dataset of that shape, marked as an asset */
    int16_t row[4];
    ck_assert(sbt_raw_read_row(path, "aes/traces/window", 2, row, sizeof row));
    ck_assert_mem_eq(row, window[2], sizeof row);
    ck_assert(sbt_raw_has_attr(path, "aes/traces/window", "_sb_is_asset"));
    ck_assert(!sbt_raw_has_attr(path, "aes/traces/window", "_sb_priority"));
}
END_TEST

START_TEST(json_round_trip) {
    cJSON *doc = cJSON_Parse("{\"device\": \"stm32f3\", \"samples\": 500, \"gain\": 1.5,"
                             " \"tags\": [\"a\", \"b\"], \"unit\": \"\xc2\xb5s\","
                             " \"nested\": {\"ok\": true, \"none\": null}}");
    ck_assert_ptr_nonnull(doc);
    SBT_OK(sb_dataset_add_json_asset(ds, "meta", doc, false));
    reopen(SB_READ);
    cJSON *back = NULL;
    SBT_OK(sb_dataset_get_json_asset(&back, ds, "meta"));
    ck_assert(cJSON_Compare(doc, back, true));
    cJSON_Delete(back);
    /* stored as the UTF-8 text of the document: 1-D uint8 */
    sb_array info;
    SBT_OK(sb_dataset_asset_info(&info, ds, "meta"));
    ck_assert_int_eq(info.dtype, SB_UINT8);
    ck_assert_int_eq(info.ndim, 1);
    void *raw = NULL;
    size_t len = 0;
    SBT_OK(sb_dataset_get_asset_bytes(&raw, &len, ds, "meta"));
    ck_assert_uint_eq(len, info.shape[0]);
    char *text = malloc(len + 1);
    memcpy(text, raw, len);
    text[len] = '\0';
    ck_assert_ptr_nonnull(strstr(text, "\xc2\xb5s"));
    cJSON *again = cJSON_Parse(text);
    ck_assert(cJSON_Compare(doc, again, true));
    cJSON_Delete(again);
    free(text);
    sb_free(raw);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(json_scalars_and_arrays) {
    const char *docs[] = {"[1, 2, 3]", "\"text\"", "42", "[]", "{}"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "j%zu", i);
        cJSON *doc = cJSON_Parse(docs[i]);
        SBT_OK(sb_dataset_add_json_asset(ds, name, doc, false));
        cJSON *back = NULL;
        SBT_OK(sb_dataset_get_json_asset(&back, ds, name));
        ck_assert_msg(cJSON_Compare(doc, back, true), "JSON %s did not come back", docs[i]);
        cJSON_Delete(back);
        cJSON_Delete(doc);
    }
}
END_TEST

START_TEST(invalid_json_is_format_error) {
    const char *bad[] = {"{not json", "{\"a\": 1,}", "", "\xff\xfe"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "bad%zu", i);
        SBT_OK(sb_dataset_add_asset_bytes(ds, name, bad[i], strlen(bad[i]), false));
        cJSON *j = NULL;
        SBT_ERR(sb_dataset_get_json_asset(&j, ds, name), SB_ERR_FORMAT);
        SBT_MSG_HAS(name);
        ck_assert_ptr_null(j);
    }
    /* a typed array is not JSON either */
    int32_t v[2] = {1, 2};
    sb_array a;
    SBT_OK(sb_array_wrap(&a, SB_INT32, 1, (uint64_t[]){2}, v));
    SBT_OK(sb_dataset_add_asset_array(ds, "ints", &a, false));
    cJSON *j = NULL;
    SBT_ERR(sb_dataset_get_json_asset(&j, ds, "ints"), SB_ERR_FORMAT);
}
END_TEST

START_TEST(replace_rules) {
    SBT_OK(sb_dataset_add_asset_bytes(ds, "note", "first", 5, false));
    SBT_ERR(sb_dataset_add_asset_bytes(ds, "note", "second", 6, false), SB_ERR_EXISTS);
    SBT_MSG_HAS("note");
    int32_t v[2] = {1, 2};
    sb_array a;
    SBT_OK(sb_array_wrap(&a, SB_INT32, 1, (uint64_t[]){2}, v));
    SBT_ERR(sb_dataset_add_asset_array(ds, "note", &a, false), SB_ERR_EXISTS);
    cJSON *doc = cJSON_CreateNumber(3);
    SBT_ERR(sb_dataset_add_json_asset(ds, "note", doc, false), SB_ERR_EXISTS);
    void *raw;
    size_t len;
    SBT_OK(sb_dataset_get_asset_bytes(&raw, &len, ds, "note"));
    ck_assert_uint_eq(len, 5);
    ck_assert_mem_eq(raw, "first", 5);
    sb_free(raw);
    /* replace may change length, dtype and shape; a replacement is committed
     * at once (another process reads the new one now) */
    SBT_OK(sb_store_flush(store));
    char out[8192];
    ck_assert_int_eq(sbt_disk_dump(path, "-H -d /aes/traces/note", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "( 5 )"));
    SBT_OK(sb_dataset_add_asset_bytes(ds, "note", "second!", 7, true));
    ck_assert_int_eq(sbt_disk_dump(path, "-H -d /aes/traces/note", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "( 7 )"));
    SBT_OK(sb_dataset_get_asset_bytes(&raw, &len, ds, "note"));
    ck_assert_uint_eq(len, 7);
    ck_assert_mem_eq(raw, "second!", 7);
    sb_free(raw);
    SBT_OK(sb_dataset_add_asset_array(ds, "note", &a, true));
    sb_array info;
    SBT_OK(sb_dataset_asset_info(&info, ds, "note"));
    ck_assert_int_eq(info.dtype, SB_INT32);
    ck_assert_uint_eq(info.shape[0], 2);
    SBT_OK(sb_dataset_add_json_asset(ds, "note", doc, true));
    cJSON *back;
    SBT_OK(sb_dataset_get_json_asset(&back, ds, "note"));
    ck_assert(cJSON_Compare(doc, back, true));
    cJSON_Delete(back);
    cJSON_Delete(doc);
    /* replace=true on a new name just adds it */
    SBT_OK(sb_dataset_add_asset_bytes(ds, "fresh", "x", 1, true));
    char **names;
    size_t n;
    SBT_OK(sb_dataset_asset_names(&names, &n, ds));
    ck_assert_uint_eq(n, 2);
    sb_free(names);
}
END_TEST

START_TEST(names_listing_sorted_without_fields) {
    char **names = NULL;
    size_t n = 9;
    SBT_OK(sb_dataset_asset_names(&names, &n, ds));
    ck_assert_uint_eq(n, 0);
    sb_free(names);
    /* fields exist in the file once rows arrive: they are not assets */
    int16_t smp[3] = {1, 2, 3};
    uint8_t pt = 4;
    sb_array row[2];
    SBT_OK(sb_array_wrap(&row[0], SB_INT16, 1, (uint64_t[]){3}, smp));
    SBT_OK(sb_array_wrap(&row[1], SB_UINT8, 0, NULL, &pt));
    SBT_OK(sb_dataset_append(ds, 2, row));
    const char *order[] = {"zeta", "alpha", "Mid", "beta_2"};
    for (size_t i = 0; i < 4; i++)
        SBT_OK(sb_dataset_add_asset_bytes(ds, order[i], "v", 1, false));
    reopen(SB_READ);
    SBT_OK(sb_dataset_asset_names(&names, &n, ds));
    ck_assert_uint_eq(n, 4);
    const char *sorted[] = {"Mid", "alpha", "beta_2", "zeta"};
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(names[i], sorted[i]);
    sb_free(names);
    ck_assert_uint_eq(sb_dataset_nfields(ds), 2);
    ck_assert_str_eq(sb_dataset_field(ds, 0), "samples");
    ck_assert_str_eq(sb_dataset_field(ds, 1), "plaintext");
}
END_TEST

START_TEST(asset_errors) {
    SBT_ERR(sb_dataset_add_asset_bytes(ds, "samples", "x", 1, false), SB_ERR_INVALID);
    SBT_MSG_HAS("samples");
    SBT_ERR(sb_dataset_add_asset_bytes(ds, "plaintext", "x", 1, true), SB_ERR_INVALID);
    cJSON *doc = cJSON_CreateObject();
    SBT_ERR(sb_dataset_add_json_asset(ds, "samples", doc, false), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_add_json_asset(ds, "j", NULL, false), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_add_asset_bytes(ds, "", "x", 1, false), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_add_asset_bytes(ds, NULL, "x", 1, false), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_add_asset_bytes(ds, "nul", NULL, 3, false), SB_ERR_INVALID);
    sb_array a;
    uint8_t b = 1;
    SBT_OK(sb_array_wrap(&a, SB_UINT8, 0, NULL, &b));
    a.dtype = (sb_dtype)50;
    SBT_ERR(sb_dataset_add_asset_array(ds, "badtype", &a, false), SB_ERR_INVALID);
    void *raw = NULL;
    size_t len;
    SBT_ERR(sb_dataset_get_asset_bytes(&raw, &len, ds, "absent"), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("absent");
    sb_array info;
    SBT_ERR(sb_dataset_asset_info(&info, ds, "absent"), SB_ERR_NOT_FOUND);
    SBT_ERR(sb_dataset_get_asset_array(&info, ds, "absent"), SB_ERR_NOT_FOUND);
    cJSON *j;
    SBT_ERR(sb_dataset_get_json_asset(&j, ds, "absent"), SB_ERR_NOT_FOUND);
    /* a field is not an asset */
    SBT_ERR(sb_dataset_asset_info(&info, ds, "samples"), SB_ERR_NOT_FOUND);
    char **names;
    size_t n;
    SBT_OK(sb_dataset_asset_names(&names, &n, ds));
    ck_assert_uint_eq(n, 0);
    sb_free(names);
    cJSON_Delete(doc);
    /* read-only store */
    reopen(SB_READ);
    SBT_ERR(sb_dataset_add_asset_bytes(ds, "ro", "x", 1, false), SB_ERR_READ_ONLY);
    SBT_OK(sb_array_wrap(&a, SB_UINT8, 0, NULL, &b));
    SBT_ERR(sb_dataset_add_asset_array(ds, "ro", &a, true), SB_ERR_READ_ONLY);
}
END_TEST

START_TEST(assets_in_temporary_store) {
    sb_store *t;
    sb_dataset *d;
    SBT_OK(sb_store_temporary(&t, "mem"));
    SBT_OK(sb_store_create_dataset(&d, t, "x", 2, 1, FIELDS));
    cJSON *doc = cJSON_Parse("{\"k\": [1, 2]}");
    SBT_OK(sb_dataset_add_json_asset(d, "cfg", doc, false));
    cJSON *back;
    SBT_OK(sb_dataset_get_json_asset(&back, d, "cfg"));
    ck_assert(cJSON_Compare(doc, back, true));
    cJSON_Delete(back);
    cJSON_Delete(doc);
    SBT_OK(sb_dataset_close(d));
    SBT_OK(sb_store_close(t));
}
END_TEST

int main(void) {
    Suite *su = suite_create("assets");
    TCase *tc = tcase_create("serial");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, bytes_round_trip);
    tcase_add_test(tc, typed_arrays_keep_dtype_and_shape);
    tcase_add_test(tc, json_round_trip);
    tcase_add_test(tc, json_scalars_and_arrays);
    tcase_add_test(tc, invalid_json_is_format_error);
    tcase_add_test(tc, replace_rules);
    tcase_add_test(tc, names_listing_sorted_without_fields);
    tcase_add_test(tc, asset_errors);
    tcase_add_test(tc, assets_in_temporary_store);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
