/* The store written by Python secbench 3.7 (tests/data/secbench-reference.h5)
 * read through the library, every value checked against a JSON dump of what
 * h5py reads (tests/interop/dump_reference.py): the committed
 * tests/data/reference-expected.json, and when ctest can run h5py, a fresh
 * dump made at test time.
 *
 * usage: test_reference STORE.h5 EXPECTED.json */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <cjson/cJSON.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secbench/storage.h>

#include "sbt_util.h"

static const char *ref_path;
static const char *expected_path;
static cJSON *expected;
static sb_store *store;

static void setup(void) {
    unsigned char *text;
    size_t len;
    ck_assert_msg(sbt_read_file(expected_path, &text, &len), "cannot read %s", expected_path);
    expected = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    ck_assert_msg(expected != NULL, "%s is not JSON", expected_path);
    SBT_OK(sb_store_open(&store, ref_path, SB_READ, NULL));
}

static void teardown(void) {
    if (store)
        SBT_OK(sb_store_close(store));
    cJSON_Delete(expected);
    int init = 1;
    MPI_Initialized(&init);
    ck_assert_msg(init == 0, "the library called MPI_Init in a serial program");
}

static cJSON *datasets(void) {
    cJSON *d = cJSON_GetObjectItemCaseSensitive(expected, "datasets");
    ck_assert(cJSON_IsObject(d));
    return d;
}

static sb_dtype dtype_of(const cJSON *spec) {
    sb_dtype t;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(spec, "dtype");
    ck_assert(cJSON_IsString(name));
    SBT_OK(sb_dtype_parse(&t, name->valuestring));
    return t;
}

/* Element i of a typed buffer equals the JSON number (or bool) v, bit for bit
 * for floats. */
static void check_value(sb_dtype t, const void *buf, size_t i, const cJSON *v,
                        const char *where) {
    if (t == SB_BOOL) {
        ck_assert_msg(cJSON_IsBool(v), "%s[%zu]: expected a bool", where, i);
        ck_assert_msg(((const uint8_t *)buf)[i] == (cJSON_IsTrue(v) ? 1 : 0), "%s[%zu]",
                      where, i);
        return;
    }
    ck_assert_msg(cJSON_IsNumber(v), "%s[%zu]: not a number", where, i);
    double d = v->valuedouble;
    bool ok;
    switch (t) {
    case SB_INT8: ok = ((const int8_t *)buf)[i] == (int8_t)d; break;
    case SB_UINT8: ok = ((const uint8_t *)buf)[i] == (uint8_t)d; break;
    case SB_INT16: ok = ((const int16_t *)buf)[i] == (int16_t)d; break;
    case SB_UINT16: ok = ((const uint16_t *)buf)[i] == (uint16_t)d; break;
    case SB_INT32: ok = ((const int32_t *)buf)[i] == (int32_t)d; break;
    case SB_UINT32: ok = ((const uint32_t *)buf)[i] == (uint32_t)d; break;
    /* the reference holds no 64-bit integers beyond 2^53 */
    case SB_INT64: ok = ((const int64_t *)buf)[i] == (int64_t)d; break;
    case SB_UINT64: ok = ((const uint64_t *)buf)[i] == (uint64_t)d; break;
    case SB_FLOAT32: {
        float want = (float)d;
        ok = memcmp((const float *)buf + i, &want, sizeof want) == 0;
        break;
    }
    case SB_FLOAT64: ok = memcmp((const double *)buf + i, &d, sizeof d) == 0; break;
    default: ok = false;
    }
    ck_assert_msg(ok, "%s[%zu] differs from the expected %.17g", where, i, d);
}

static void check_values(sb_dtype t, const void *buf, size_t n, const cJSON *values,
                         const char *where) {
    ck_assert_msg(cJSON_IsArray(values), "%s: no values", where);
    ck_assert_int_eq((size_t)cJSON_GetArraySize(values), n);
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, values) check_value(t, buf, i++, v, where);
}

START_TEST(dataset_names) {
    char **names;
    size_t n;
    SBT_OK(sb_store_dataset_names(&names, &n, store));
    cJSON *d = datasets();
    ck_assert_uint_eq(n, (size_t)cJSON_GetArraySize(d));
    /* the dump's keys are sorted, as the library's names must be */
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, d) ck_assert_str_eq(names[i++], item->string);
    sb_free(names);
    ck_assert_uint_eq(n, 3);
    /* groups that are not datasets are neither listed nor loadable */
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(expected, "groups_not_datasets")) {
        bool exists = true;
        SBT_OK(sb_store_has_dataset(&exists, store, g->valuestring));
        ck_assert(!exists);
        sb_dataset *ds;
        SBT_ERR(sb_store_load_dataset(&ds, store, g->valuestring), SB_ERR_NOT_FOUND);
    }
}
END_TEST

static void check_fields(sb_dataset *ds, const cJSON *spec) {
    const char *name = sb_dataset_name(ds);
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(spec, "fields");
    uint64_t size = (uint64_t)cJSON_GetObjectItemCaseSensitive(spec, "size")->valuedouble;
    ck_assert_uint_eq(sb_dataset_nfields(ds), (size_t)cJSON_GetArraySize(fields));
    size_t i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, fields) {
        const char *fname = cJSON_GetObjectItemCaseSensitive(f, "name")->valuestring;
        char where[128];
        snprintf(where, sizeof where, "%s/%s", name, fname);
        /* order: by _sb_priority */
        ck_assert_str_eq(sb_dataset_field(ds, i), fname);
        sb_field_info fi;
        SBT_OK(sb_dataset_field_info(&fi, ds, i));
        ck_assert(fi.defined);
        sb_dtype t = dtype_of(f);
        ck_assert_int_eq(fi.dtype, t);
        const cJSON *rs = cJSON_GetObjectItemCaseSensitive(f, "row_shape");
        ck_assert_int_eq(fi.row_ndim, cJSON_GetArraySize(rs));
        uint64_t row_elems = 1;
        for (int d = 0; d < fi.row_ndim; d++) {
            uint64_t dim = (uint64_t)cJSON_GetArrayItem(rs, d)->valuedouble;
            ck_assert_uint_eq(fi.row_shape[d], dim);
            row_elems *= dim;
        }
        ck_assert_uint_eq(fi.row_bytes, row_elems * sb_dtype_size(t));
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(f, "values");
        /* get(): the whole field */
        sb_array got;
        SBT_OK(sb_dataset_get(&got, ds, 1, (const char *[]){fname}));
        ck_assert_int_eq(got.dtype, t);
        ck_assert_int_eq(got.ndim, fi.row_ndim + 1);
        ck_assert_uint_eq(got.shape[0], size);
        check_values(t, got.data, (size_t)(size * row_elems), values, where);
        sb_free(got.data);
        /* read(): every row on its own, and two uneven halves */
        if (size > 0) {
            unsigned char *buf = malloc((size_t)(size * fi.row_bytes));
            for (uint64_t r = 0; r < size; r++)
                SBT_OK(sb_dataset_read(buf + r * fi.row_bytes, ds, fname, r, 1));
            check_values(t, buf, (size_t)(size * row_elems), values, where);
            memset(buf, 0, (size_t)(size * fi.row_bytes));
            uint64_t half = size / 3;
            SBT_OK(sb_dataset_read(buf, ds, fname, 0, half));
            SBT_OK(sb_dataset_read(buf + half * fi.row_bytes, ds, fname, half, size - half));
            check_values(t, buf, (size_t)(size * row_elems), values, where);
            free(buf);
        }
        /* rows past the size exist in the file but are not readable */
        unsigned char one[1024];
        ck_assert_uint_le(fi.row_bytes, sizeof one);
        SBT_ERR(sb_dataset_read(one, ds, fname, size, 1), SB_ERR_INVALID);
        i++;
    }
}

static void check_assets(sb_dataset *ds, const cJSON *spec) {
    const char *name = sb_dataset_name(ds);
    const cJSON *assets = cJSON_GetObjectItemCaseSensitive(spec, "assets");
    char **names;
    size_t n;
    SBT_OK(sb_dataset_asset_names(&names, &n, ds));
    ck_assert_uint_eq(n, (size_t)cJSON_GetArraySize(assets));
    size_t i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, assets) {
        char where[128];
        snprintf(where, sizeof where, "%s asset %s", name, a->string);
        ck_assert_str_eq(names[i], a->string);
        sb_dtype t = dtype_of(a);
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(a, "shape");
        sb_array info;
        SBT_OK(sb_dataset_asset_info(&info, ds, a->string));
        ck_assert_int_eq(info.dtype, t);
        ck_assert_int_eq(info.ndim, cJSON_GetArraySize(shape));
        uint64_t count = 1;
        for (int d = 0; d < info.ndim; d++) {
            uint64_t dim = (uint64_t)cJSON_GetArrayItem(shape, d)->valuedouble;
            ck_assert_uint_eq(info.shape[d], dim);
            count *= dim;
        }
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(a, "values");
        sb_array arr;
        SBT_OK(sb_dataset_get_asset_array(&arr, ds, a->string));
        ck_assert_int_eq(arr.dtype, t);
        ck_assert_uint_eq(sb_array_count(&arr), count);
        check_values(t, arr.data, (size_t)count, values, where);
        void *raw;
        size_t len;
        SBT_OK(sb_dataset_get_asset_bytes(&raw, &len, ds, a->string));
        ck_assert_uint_eq(len, count * sb_dtype_size(t));
        ck_assert_mem_eq(raw, arr.data, len);
        sb_free(raw);
        sb_free(arr.data);
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(a, "json");
        cJSON *doc = NULL;
        if (want) {
            SBT_OK(sb_dataset_get_json_asset(&doc, ds, a->string));
            ck_assert_msg(cJSON_Compare(doc, want, true), "%s: JSON differs", where);
            cJSON_Delete(doc);
        } else {
            SBT_ERR(sb_dataset_get_json_asset(&doc, ds, a->string), SB_ERR_FORMAT);
            SBT_MSG_HAS(a->string);
        }
        i++;
    }
    sb_free(names);
}

START_TEST(every_dataset_every_value) {
    const cJSON *spec;
    int checked = 0;
    cJSON_ArrayForEach(spec, datasets()) {
        sb_dataset *ds;
        SBT_OK(sb_store_load_dataset(&ds, store, spec->string));
        ck_assert_str_eq(sb_dataset_name(ds), spec->string);
        ck_assert_uint_eq(sb_dataset_capacity(ds),
                          (uint64_t)cJSON_GetObjectItemCaseSensitive(spec, "capacity")->valuedouble);
        ck_assert_uint_eq(sb_dataset_size(ds),
                          (uint64_t)cJSON_GetObjectItemCaseSensitive(spec, "size")->valuedouble);
        check_fields(ds, spec);
        check_assets(ds, spec);
        SBT_OK(sb_dataset_close(ds));
        checked++;
    }
    ck_assert_int_eq(checked, 3);
}
END_TEST

typedef struct seen { int n; const cJSON *datasets; } seen;

static int visit(const sb_dataset_info *info, void *payload) {
    seen *s = payload;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(s->datasets, info->name);
    ck_assert_msg(spec != NULL, "unexpected dataset %s", info->name);
    ck_assert_uint_eq(info->capacity,
                      (uint64_t)cJSON_GetObjectItemCaseSensitive(spec, "capacity")->valuedouble);
    ck_assert_uint_eq(info->size,
                      (uint64_t)cJSON_GetObjectItemCaseSensitive(spec, "size")->valuedouble);
    s->n++;
    return 0;
}

START_TEST(foreach_sees_sizes_and_capacities) {
    seen s = {0, datasets()};
    SBT_OK(sb_store_foreach_dataset(store, visit, &s));
    ck_assert_int_eq(s.n, cJSON_GetArraySize(s.datasets));
}
END_TEST

START_TEST(read_only_leaves_file_untouched) {
    SBT_OK(sb_store_close(store));
    store = NULL;
    unsigned char *before, *after;
    size_t lb, la;
    ck_assert(sbt_read_file(ref_path, &before, &lb));
    SBT_OK(sb_store_open(&store, ref_path, SB_READ, NULL));
    sb_dataset *ds;
    SBT_OK(sb_store_load_dataset(&ds, store, "aes/traces"));
    uint8_t key = 1;
    sb_array a;
    SBT_OK(sb_array_wrap(&a, SB_UINT8, 0, NULL, &key));
    SBT_ERR(sb_dataset_add_asset_array(ds, "k", &a, false), SB_ERR_READ_ONLY);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(store));
    store = NULL;
    ck_assert(sbt_read_file(ref_path, &after, &la));
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(before, after, lb);
    free(before);
    free(after);
}
END_TEST

START_TEST(export_of_reference_keeps_values) {
    /* a copy into a temporary store reads back identical */
    sb_store *tmp;
    SBT_OK(sb_store_temporary(&tmp, "ref-copy"));
    SBT_OK(sb_store_export_dataset(store, "aes/traces", tmp, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 7}));
    sb_dataset *ds;
    SBT_OK(sb_store_load_dataset(&ds, tmp, "aes/traces"));
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(datasets(), "aes/traces");
    ck_assert_uint_eq(sb_dataset_capacity(ds),
                      (uint64_t)cJSON_GetObjectItemCaseSensitive(spec, "size")->valuedouble);
    check_fields(ds, spec);
    check_assets(ds, spec);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(tmp));
}
END_TEST

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s STORE.h5 EXPECTED.json\n", argv[0]);
        return 2;
    }
    ref_path = argv[1];
    expected_path = argv[2];
    Suite *su = suite_create("reference");
    TCase *tc = tcase_create("python-written");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, dataset_names);
    tcase_add_test(tc, every_dataset_every_value);
    tcase_add_test(tc, foreach_sees_sizes_and_capacities);
    tcase_add_test(tc, read_only_leaves_file_untouched);
    tcase_add_test(tc, export_of_reference_keeps_values);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
