/* Loads the store write_python_stores.py wrote with h5py, the way Python
 * secbench writes stores, and checks every value with the rules documented
 * there.
 *
 * usage: interop_check_python PATH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <secbench/storage.h>

static int failures;

#define CHECK(cond, ...)                                                                \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            failures++;                                                                 \
            fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond);             \
            fprintf(stderr, __VA_ARGS__);                                               \
            fprintf(stderr, " (last error: %s)\n", sb_last_error_message());            \
        }                                                                               \
    } while (0)

#define OK(expr) CHECK((expr) == 0, "%s", #expr)

static sb_dataset *load(sb_store *s, const char *name, uint64_t cap, uint64_t size,
                        size_t nfields, const char *const *fields) {
    sb_dataset *ds = NULL;
    int rc = sb_store_load_dataset(&ds, s, name);
    CHECK(rc == 0, "load %s: %s", name, sb_error_name(rc));
    if (rc != 0)
        return NULL;
    CHECK(sb_dataset_capacity(ds) == cap, "%s capacity %llu", name,
          (unsigned long long)sb_dataset_capacity(ds));
    CHECK(sb_dataset_size(ds) == size, "%s size %llu", name,
          (unsigned long long)sb_dataset_size(ds));
    CHECK(sb_dataset_nfields(ds) == nfields, "%s has %zu fields", name, sb_dataset_nfields(ds));
    for (size_t i = 0; i < nfields && i < sb_dataset_nfields(ds); i++)
        CHECK(strcmp(sb_dataset_field(ds, i), fields[i]) == 0, "%s field %zu is %s", name, i,
              sb_dataset_field(ds, i));
    return ds;
}

/* get(field) and check dtype and shape; returns the data (free with release). */
static int get(sb_dataset *ds, const char *field, sb_dtype t, int ndim, const uint64_t *shape,
               sb_array *out) {
    int rc = sb_dataset_get(out, ds, 1, (const char *[]){field});
    CHECK(rc == 0, "get %s", field);
    if (rc != 0)
        return -1;
    CHECK(out->dtype == t, "%s dtype %s", field, sb_dtype_name(out->dtype));
    CHECK(out->ndim == ndim, "%s ndim %d", field, out->ndim);
    for (int d = 0; d < ndim && d < out->ndim; d++)
        CHECK(out->shape[d] == shape[d], "%s shape[%d] = %llu", field, d,
              (unsigned long long)out->shape[d]);
    return out->dtype == t && out->ndim == ndim ? 0 : -1;
}

static void check_traces(sb_store *s) {
    const char *const f[] = {"trace", "label", "energy", "ids"};
    sb_dataset *ds = load(s, "py/traces", 10, 6, 4, f);
    if (!ds)
        return;
    sb_array a;
    if (get(ds, "trace", SB_INT16, 2, (uint64_t[]){6, 8}, &a) == 0) {
        for (int r = 0; r < 6; r++)
            for (int j = 0; j < 8; j++)
                CHECK(((int16_t *)a.data)[r * 8 + j] == 100 * r - 3 * j, "trace[%d][%d]", r, j);
        sb_free(a.data);
    }
    if (get(ds, "label", SB_BOOL, 1, (uint64_t[]){6}, &a) == 0) {
        for (int r = 0; r < 6; r++)
            CHECK(((uint8_t *)a.data)[r] == (r % 2 == 1), "label[%d]", r);
        sb_free(a.data);
    }
    if (get(ds, "energy", SB_FLOAT32, 1, (uint64_t[]){6}, &a) == 0) {
        for (int r = 0; r < 6; r++)
            CHECK(((float *)a.data)[r] == 0.5f * (float)r - 1.0f, "energy[%d]", r);
        sb_free(a.data);
    }
    if (get(ds, "ids", SB_UINT64, 3, (uint64_t[]){6, 2, 2}, &a) == 0) {
        for (int r = 0; r < 6; r++)
            for (int k = 0; k < 4; k++)
                CHECK(((uint64_t *)a.data)[r * 4 + k] == 1000u * (uint64_t)r + (uint64_t)k + (1ull << 40),
                      "ids[%d][%d]", r, k);
        sb_free(a.data);
    }
    char **names = NULL;
    size_t n = 0;
    OK(sb_dataset_asset_names(&names, &n, ds));
    CHECK(n == 3, "%zu assets", n);
    const char *want[] = {"blob", "conf", "grid"};
    for (size_t i = 0; i < n && i < 3; i++)
        CHECK(strcmp(names[i], want[i]) == 0, "asset %zu is %s", i, names[i]);
    sb_free(names);
    void *raw = NULL;
    size_t len = 0;
    OK(sb_dataset_get_asset_bytes(&raw, &len, ds, "blob"));
    CHECK(len == 8 && raw && memcmp(raw, "\x00py\xff" "blob", 8) == 0, "blob content");
    sb_free(raw);
    if (sb_dataset_get_asset_array(&a, ds, "grid") == 0) {
        CHECK(a.dtype == SB_INT16 && a.ndim == 2 && a.shape[0] == 3 && a.shape[1] == 4, "grid shape");
        for (int i = 0; i < 12 && a.dtype == SB_INT16; i++)
            CHECK(((int16_t *)a.data)[i] == i - 6, "grid[%d]", i);
        sb_free(a.data);
    } else {
        CHECK(0, "grid not readable");
    }
    cJSON *doc = NULL;
    cJSON *want_doc = cJSON_Parse("{\"device\": \"cw308\", \"rate\": 1.5e9, \"list\": [1, 2, 3],"
                                  " \"\xc2\xb5\": \"ok\"}");
    OK(sb_dataset_get_json_asset(&doc, ds, "conf"));
    CHECK(doc && cJSON_Compare(doc, want_doc, true), "conf JSON differs");
    cJSON_Delete(doc);
    cJSON_Delete(want_doc);
    /* the sub-group "extra" is neither a field nor an asset */
    size_t idx;
    CHECK(sb_dataset_field_index(&idx, ds, "extra") == SB_ERR_NOT_FOUND, "extra is a field");
    sb_array info;
    CHECK(sb_dataset_asset_info(&info, ds, "extra") == SB_ERR_NOT_FOUND, "extra is an asset");
    OK(sb_dataset_close(ds));
}

static void check_others(sb_store *s) {
    const char *const only[] = {"only"};
    sb_dataset *ds = load(s, "py/legacy", 5, 3, 1, only);
    sb_array a;
    if (ds && get(ds, "only", SB_FLOAT64, 1, (uint64_t[]){3}, &a) == 0) {
        for (int r = 0; r < 3; r++)
            CHECK(((double *)a.data)[r] == r * r + 0.125, "only[%d]", r);
        sb_free(a.data);
    }
    if (ds)
        OK(sb_dataset_close(ds));

    const char *const za[] = {"z", "a"};
    ds = load(s, "top", 2, 2, 2, za);
    if (ds) {
        int8_t z[2] = {0}, av[2] = {0};
        OK(sb_dataset_read(z, ds, "z", 0, 2));
        OK(sb_dataset_read(av, ds, "a", 0, 2));
        for (int r = 0; r < 2; r++) {
            CHECK(z[r] == -r - 1, "z[%d] = %d", r, z[r]);
            CHECK(av[r] == r + 1, "a[%d] = %d", r, av[r]);
        }
        OK(sb_dataset_close(ds));
    }
    ds = load(s, "empty_py", 4, 0, 0, NULL);
    if (ds)
        OK(sb_dataset_close(ds));

    sb_dataset *none = NULL;
    CHECK(sb_store_load_dataset(&none, s, "py") == SB_ERR_NOT_FOUND, "py loads");
    CHECK(sb_store_load_dataset(&none, s, "py/notes") == SB_ERR_NOT_FOUND, "py/notes loads");
    CHECK(sb_store_load_dataset(&none, s, "py/traces/extra") == SB_ERR_NOT_FOUND, "extra loads");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH\n", argv[0]);
        return 2;
    }
    sb_store *s = NULL;
    int rc = sb_store_open(&s, argv[1], SB_READ, NULL);
    if (rc != 0) {
        fprintf(stderr, "open %s: %s\n", argv[1], sb_last_error_message());
        return 1;
    }
    char **names = NULL;
    size_t n = 0;
    OK(sb_store_dataset_names(&names, &n, s));
    const char *want[] = {"empty_py", "py/legacy", "py/traces", "top"};
    CHECK(n == 4, "%zu datasets", n);
    for (size_t i = 0; i < n && i < 4; i++)
        CHECK(strcmp(names[i], want[i]) == 0, "dataset %zu is %s", i, names[i]);
    sb_free(names);
    check_traces(s);
    check_others(s);
    OK(sb_store_close(s));
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("Python-written store reads back in C\n");
    return 0;
}
