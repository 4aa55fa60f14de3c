/* The C half of the C -> Python -> C round trip driven by roundtrip.py.
 *
 *   interop_roundtrip write PATH   create "rt" (capacity 12, fields a int32 (3),
 *                                  b float64) with rows 0..4 and JSON asset
 *                                  "origin" = {"by": "c"}
 *   interop_roundtrip verify PATH  after Python appended rows 5..8, added the
 *                                  JSON asset "py_note" = {"by": "python", "n": 4}
 *                                  and the dataset "from_py" (capacity 3, field
 *                                  v uint8 (3), rows [[r, r+1, r+2]] for r < 2):
 *                                  check all of it, then append row 9
 * Row r: a = [10r, 10r+1, 10r+2], b = r / 4. */
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

static void append_row(sb_dataset *ds, int r) {
    int32_t a[3] = {10 * r, 10 * r + 1, 10 * r + 2};
    double b = r / 4.0;
    sb_array row[2];
    OK(sb_array_wrap(&row[0], SB_INT32, 1, (uint64_t[]){3}, a));
    OK(sb_array_wrap(&row[1], SB_FLOAT64, 0, NULL, &b));
    OK(sb_dataset_append(ds, 2, row));
}

static void check_json(sb_dataset *ds, const char *name, const char *text) {
    cJSON *doc = NULL, *want = cJSON_Parse(text);
    OK(sb_dataset_get_json_asset(&doc, ds, name));
    CHECK(doc && want && cJSON_Compare(doc, want, true), "asset %s differs from %s", name, text);
    cJSON_Delete(doc);
    cJSON_Delete(want);
}

static int do_write(const char *path) {
    sb_store *s = NULL;
    sb_dataset *ds = NULL;
    const char *const f[] = {"a", "b"};
    OK(sb_store_open(&s, path, SB_CREATE, NULL));
    if (!s)
        return 1;
    OK(sb_store_create_dataset(&ds, s, "rt", 12, 2, f));
    if (!ds)
        return 1;
    for (int r = 0; r < 5; r++)
        append_row(ds, r);
    cJSON *doc = cJSON_Parse("{\"by\": \"c\"}");
    OK(sb_dataset_add_json_asset(ds, "origin", doc, false));
    cJSON_Delete(doc);
    OK(sb_dataset_close(ds));
    OK(sb_store_close(s));
    return failures ? 1 : 0;
}

static int do_verify(const char *path) {
    sb_store *s = NULL;
    sb_dataset *ds = NULL;
    OK(sb_store_open(&s, path, SB_READ_WRITE, NULL));
    if (!s)
        return 1;
    OK(sb_store_load_dataset(&ds, s, "rt"));
    if (!ds)
        return 1;
    CHECK(sb_dataset_size(ds) == 9, "rt size %llu", (unsigned long long)sb_dataset_size(ds));
    CHECK(sb_dataset_nfields(ds) == 2, "rt fields");
    int32_t a[9][3];
    double b[9];
    OK(sb_dataset_read(a, ds, "a", 0, 9));
    OK(sb_dataset_read(b, ds, "b", 0, 9));
    for (int r = 0; r < 9; r++) {
        for (int j = 0; j < 3; j++)
            CHECK(a[r][j] == 10 * r + j, "a[%d][%d] = %d", r, j, a[r][j]);
        CHECK(b[r] == r / 4.0, "b[%d] = %g", r, b[r]);
    }
    char **names = NULL;
    size_t n = 0;
    OK(sb_dataset_asset_names(&names, &n, ds));
    CHECK(n == 2 && strcmp(names[0], "origin") == 0 && strcmp(names[1], "py_note") == 0,
          "assets of rt");
    sb_free(names);
    check_json(ds, "origin", "{\"by\": \"c\"}");
    check_json(ds, "py_note", "{\"by\": \"python\", \"n\": 4}");
    append_row(ds, 9);
    CHECK(sb_dataset_size(ds) == 10, "rt size after append");
    OK(sb_dataset_close(ds));

    OK(sb_store_load_dataset(&ds, s, "from_py"));
    if (ds) {
        CHECK(sb_dataset_capacity(ds) == 3 && sb_dataset_size(ds) == 2, "from_py size");
        uint8_t v[2][3];
        OK(sb_dataset_read(v, ds, "v", 0, 2));
        for (int r = 0; r < 2; r++)
            for (int j = 0; j < 3; j++)
                CHECK(v[r][j] == r + j, "v[%d][%d]", r, j);
        OK(sb_dataset_close(ds));
    }
    OK(sb_store_close(s));
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "write") == 0)
        return do_write(argv[2]);
    if (argc == 3 && strcmp(argv[1], "verify") == 0)
        return do_verify(argv[2]);
    fprintf(stderr, "usage: %s write|verify PATH\n", argv[0]);
    return 2;
}
