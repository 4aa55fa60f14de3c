/* Assets on a parallel store: bytes, typed arrays and JSON added collectively
 * and read back on every rank, also after reopening in parallel and serially. */
#include "mpi_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char *const FIELDS[] = {"samples", "label"};

static cJSON *make_json(int version)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "device", "stm32f4");
    cJSON_AddNumberToObject(j, "version", version);
    cJSON_AddNumberToObject(j, "gain", 1.5);
    cJSON_AddBoolToObject(j, "averaged", 1);
    cJSON *list = cJSON_AddArrayToObject(j, "channels");
    for (int i = 0; i < 3; i++)
        cJSON_AddItemToArray(list, cJSON_CreateNumber(i * 2));
    cJSON_AddStringToObject(j, "note", "caf\xc3\xa9 \"quoted\"");
    return j;
}

#define NBYTES 1000

static void expect_bytes(sb_dataset *ds, const char *name, const void *want, size_t len)
{
    void *data = NULL;
    size_t got = 0;
    int rc = sb_dataset_get_asset_bytes(&data, &got, ds, name);
    MT_EXPECT_MSG(rc == 0, "get %s: %s", name, sb_last_error_message());
    MT_EXPECT_MSG(rc != 0 || (got == len && (len == 0 || memcmp(data, want, len) == 0)),
                  "asset %s: %zu bytes back, %zu stored, or other content", name, got, len);
    sb_free(data);
}

static void check_assets(sb_dataset *ds, int json_version)
{
    char **names = NULL;
    size_t count = 0;
    MT_EXPECT_OK(sb_dataset_asset_names(&names, &count, ds));
    const char *want[] = {"calib", "config", "raw", "window"};
    MT_EXPECT_MSG(count == 4, "%zu assets", count);
    for (size_t i = 0; i < count && i < 4; i++)
        MT_EXPECT_MSG(strcmp(names[i], want[i]) == 0, "asset %zu is %s, wanted %s", i,
                      names[i], want[i]);
    sb_free(names);

    unsigned char raw[NBYTES];
    mt_fill(SB_UINT8, raw, 0, 1, NBYTES, 3);
    expect_bytes(ds, "raw", raw, NBYTES);
    sb_array info;
    MT_EXPECT_OK(sb_dataset_asset_info(&info, ds, "raw"));
    MT_EXPECT(info.dtype == SB_UINT8 && info.ndim == 1 && info.shape[0] == NBYTES);

    double calib[4][5];
    mt_fill(SB_FLOAT64, calib, 0, 4, 5, 4);
    sb_array arr;
    memset(&arr, 0, sizeof arr);
    MT_EXPECT_OK(sb_dataset_get_asset_array(&arr, ds, "calib"));
    MT_EXPECT(arr.dtype == SB_FLOAT64 && arr.ndim == 2 && arr.shape[0] == 4 &&
              arr.shape[1] == 5);
    MT_EXPECT(arr.data && memcmp(arr.data, calib, sizeof calib) == 0);
    sb_free(arr.data);
    /* Raw bytes of a typed array are its C-ordered data. */
    expect_bytes(ds, "calib", calib, sizeof calib);

    int32_t window[2] = {100, 2500};
    MT_EXPECT_OK(sb_dataset_get_asset_array(&arr, ds, "window"));
    MT_EXPECT(arr.dtype == SB_INT32 && arr.ndim == 1 && arr.shape[0] == 2);
    MT_EXPECT(arr.data && memcmp(arr.data, window, sizeof window) == 0);
    sb_free(arr.data);

    cJSON *json = NULL;
    MT_EXPECT_OK(sb_dataset_get_json_asset(&json, ds, "config"));
    cJSON *expected = make_json(json_version);
    MT_EXPECT_MSG(json && cJSON_Compare(json, expected, 1), "JSON asset differs");
    cJSON_Delete(expected);
    cJSON_Delete(json);
    MT_EXPECT_OK(sb_dataset_asset_info(&info, ds, "config"));
    MT_EXPECT(info.dtype == SB_UINT8 && info.ndim == 1);

    /* A non-JSON asset read as JSON is a format error on every rank. */
    json = NULL;
    int rc = sb_dataset_get_json_asset(&json, ds, "raw");
    MT_EXPECT_MSG(rc == SB_ERR_FORMAT, "raw bytes parsed as JSON: %s", sb_error_name(rc));
    cJSON_Delete(json);
}

START_TEST(test_parallel_assets)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "assets", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(sb_store_create_dataset(&ds, st, "aes/traces", 20, 2, FIELDS));

    unsigned char raw[NBYTES];
    mt_fill(SB_UINT8, raw, 0, 1, NBYTES, 3);
    MT_EXPECT_OK(sb_dataset_add_asset_bytes(ds, "raw", raw, NBYTES, false));
    double calib[4][5];
    mt_fill(SB_FLOAT64, calib, 0, 4, 5, 4);
    sb_array arr;
    uint64_t shape[2] = {4, 5};
    sb_array_wrap(&arr, SB_FLOAT64, 2, shape, calib);
    MT_EXPECT_OK(sb_dataset_add_asset_array(ds, "calib", &arr, false));
    int32_t window[2] = {100, 2500};
    uint64_t wshape[1] = {2};
    sb_array_wrap(&arr, SB_INT32, 1, wshape, window);
    MT_EXPECT_OK(sb_dataset_add_asset_array(ds, "window", &arr, false));
    cJSON *json = make_json(1);
    MT_EXPECT_OK(sb_dataset_add_json_asset(ds, "config", json, false));
    cJSON_Delete(json);

    /* Not replaced without replace=true, replaced with it. */
    json = make_json(2);
    int rc = sb_dataset_add_json_asset(ds, "config", json, false);
    MT_EXPECT_MSG(rc == SB_ERR_EXISTS, "re-adding config: %s", sb_error_name(rc));
    MT_EXPECT(mt_same_int(rc));
    check_assets(ds, 1);
    MT_EXPECT_OK(sb_dataset_add_json_asset(ds, "config", json, true));
    cJSON_Delete(json);
    check_assets(ds, 2);

    /* An asset may not take a field's name. */
    rc = sb_dataset_add_asset_bytes(ds, "label", raw, 4, true);
    MT_EXPECT_MSG(rc == SB_ERR_INVALID, "asset named like a field: %s", sb_error_name(rc));
    MT_EXPECT(mt_same_int(rc));

    /* Rows and assets side by side. */
    uint64_t shape_s[2] = {(uint64_t)mt_rank + 1, 8};
    int16_t samples[4 * 8];
    int64_t labels[4];
    uint64_t first = mt_exscan_u64((uint64_t)mt_rank + 1);
    mt_fill(SB_INT16, samples, first, (uint64_t)mt_rank + 1, 8, 0);
    mt_fill(SB_INT64, labels, first, (uint64_t)mt_rank + 1, 1, 1);
    sb_array cols[2];
    sb_array_wrap(&cols[0], SB_INT16, 2, shape_s, samples);
    sb_array_wrap(&cols[1], SB_INT64, 1, shape_s, labels);
    MT_EXPECT_OK(sb_dataset_extend(ds, 2, cols));
    check_assets(ds, 2);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));

    MT_REQUIRE_OK(mt_open(&st, "assets", SB_READ));
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, "aes/traces"));
    check_assets(ds, 2);
    MT_EXPECT(sb_dataset_nfields(ds) == 2);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));

    /* Rank 0 alone, on MPI_COMM_SELF and serially. */
    if (mt_rank == 0) {
        MT_EXPECT_OK(mt_open_comm(&st, "assets", SB_READ, MPI_COMM_SELF));
        if (st) {
            MT_EXPECT_OK(sb_store_load_dataset(&ds, st, "aes/traces"));
            if (ds) {
                check_assets(ds, 2);
                MT_EXPECT_OK(sb_dataset_close(ds));
            }
            MT_EXPECT_OK(sb_store_close(st));
        }
        MT_EXPECT_OK(mt_open_comm(&st, "assets", SB_READ_WRITE, MPI_COMM_NULL));
        if (st) {
            MT_EXPECT(!sb_store_is_parallel(st));
            MT_EXPECT_OK(sb_store_load_dataset(&ds, st, "aes/traces"));
            if (ds) {
                check_assets(ds, 2);
                /* Serially added assets are seen by every rank afterwards. */
                MT_EXPECT_OK(sb_dataset_add_asset_bytes(ds, "raw", "0123", 4, true));
                MT_EXPECT_OK(sb_dataset_close(ds));
            }
            MT_EXPECT_OK(sb_store_close(st));
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    MT_REQUIRE_OK(mt_open(&st, "assets", SB_READ));
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, "aes/traces"));
    expect_bytes(ds, "raw", "0123", 4);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

START_TEST(test_many_assets)
{
    /* Many small collective calls in a row must neither hang nor drift apart. */
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "many", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(sb_store_create_dataset(&ds, st, "d", 5, 2, FIELDS));
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "a%02d", i);
        uint16_t v[3] = {(uint16_t)i, (uint16_t)(i * 2), (uint16_t)(i * 3)};
        uint64_t shape[1] = {3};
        sb_array arr;
        sb_array_wrap(&arr, SB_UINT16, 1, shape, v);
        MT_EXPECT_OK(sb_dataset_add_asset_array(ds, name, &arr, false));
    }
    char **names = NULL;
    size_t count = 0;
    MT_EXPECT_OK(sb_dataset_asset_names(&names, &count, ds));
    MT_EXPECT(count == 40);
    for (size_t i = 0; i < count; i++) {
        sb_array arr;
        memset(&arr, 0, sizeof arr);
        MT_EXPECT_OK(sb_dataset_get_asset_array(&arr, ds, names[i]));
        const uint16_t *v = arr.data;
        MT_EXPECT(arr.dtype == SB_UINT16 && arr.shape[0] == 3 && v && v[2] == 3 * i &&
                  v[1] == 2 * i);
        sb_free(arr.data);
    }
    sb_free(names);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    Suite *s = suite_create("mpi_assets");
    TCase *tc = mt_tcase("assets");
    tcase_add_test(tc, test_parallel_assets);
    tcase_add_test(tc, test_many_assets);
    suite_add_tcase(s, tc);
    return mt_run(s);
}
