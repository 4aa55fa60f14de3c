/* Does the C library read a store as Python secbench did?
 *
 *   check_expected STORE EXPECTED.json          one fixture dump (format secbench-expected/1)
 *   check_expected --corpus DIR EXPECTED.json    every file of the h5py corpus dump
 *
 * The dumps (tests/data/python-secbench/README.md) hold what the real Python
 * secbench 3.7.1 read: dataset names, load outcomes, fields in Python's
 * order with their dtypes and raw bytes, assets with their bytes, dtypes,
 * shapes and parsed JSON. Every value is compared exactly (raw bytes; JSON
 * numbers by their text or their exact integer). Where the C library knowingly
 * differs from Python, the difference is in `known` below with its reason
 * (the README's compatibility table repeats them); anything else fails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <secbench/storage.h>

static int failures;
static char where[1024];

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL %s: ", where);                                                       \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        failures++;                                                                                \
    } while (0)

/* Where the C library answers otherwise than Python, and why. */
typedef enum { SAME, C_LOADS, C_REFUSES, C_UNSUPPORTED, C_NOT_LISTED, C_LISTED } known_kind;
static const struct {
    const char *file, *name;
    known_kind kind;
    const char *why;
} known[] = {
    /* Python cannot load a dataset that was created and never written (its
     * fields exist only once a row came); C keeps the field names in
     * _sb_fields or loads it with no field, so that it lists, exports and
     * fills. */
    {"layout.h5", "never", C_LOADS, "a dataset never written loads, with no field"},
    {"shapes.h5", "no_field", C_LOADS, "a dataset without fields loads, with no field"},
    /* Python lists a dataset behind an external link by its path in the
     * other file, which it then cannot load; C lists (and loads) the link. */
    {"links.h5", "elsewhere/ds", C_NOT_LISTED, "listed under its link, 'ext'"},
    {"links.h5", "ext", C_LISTED, "the external link to elsewhere/ds, loadable"},
    /* Python loads only listed names; C loads any path that leads to a
     * dataset (a soft link's other name, an external link). */
    {"links.h5", "soft", C_LOADS, "a soft link to a dataset loads by that name"},
    {"links.h5", "b_real", C_LOADS, "the target of a listed soft link loads by its own name"},
    /* cJSON strings end at a NUL: "a\u0000b" cannot be handed out. */
    {NULL, "nul.json", C_REFUSES, "a JSON string with \\u0000"},
    /* Python refuses raw bytes of a scalar asset (h5py slicing); C reads them. */
    {NULL, "zero_d", C_LOADS, "the raw bytes of a 0-d asset"},
    /* h5py carries an LZF filter of its own; Debian's HDF5 has none. */
    {"filters.h5", "lzf", C_UNSUPPORTED, "LZF filter not in this HDF5"},
};

static known_kind known_for(const char *file, const char *name)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if ((!known[i].file || strcmp(known[i].file, file) == 0) &&
            strcmp(known[i].name, name) == 0)
            return known[i].kind;
    return SAME;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* numpy dtype.str -> our dtype name. */
static const char *dtype_of_numpy(const char *s)
{
    static const struct { const char *np, *sb; } map[] = {
        {"|b1", "bool"}, {"|i1", "int8"}, {"|u1", "uint8"}, {"<i2", "int16"},
        {"<u2", "uint16"}, {"<i4", "int32"}, {"<u4", "uint32"}, {"<i8", "int64"},
        {"<u8", "uint64"}, {"<f2", "float16"}, {"<f4", "float32"}, {"<f8", "float64"},
        {"<c8", "complex64"}, {"<c16", "complex128"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].np, s) == 0)
            return map[i].sb;
    static char bytes[16];
    if (strncmp(s, "|S", 2) == 0) {
        snprintf(bytes, sizeof bytes, "S%s", s + 2);
        return bytes;
    }
    return NULL; /* "|O": no dtype in the library */
}

static unsigned char *from_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    unsigned char *out = malloc(n + 1);
    for (size_t i = 0; out && i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    *len = n;
    return out;
}

static bool same_shape(const cJSON *shape, int ndim, const uint64_t *dims)
{
    if (cJSON_GetArraySize(shape) != ndim)
        return false;
    for (int d = 0; d < ndim; d++)
        if ((uint64_t)cJSON_GetArrayItem(shape, d)->valuedouble != dims[d])
            return false;
    return true;
}

static void check_field(sb_dataset *ds, const cJSON *fe, size_t i, uint64_t size, const char *file)
{
    sb_field_info fi;
    if (sb_dataset_field_info(&fi, ds, i) != 0) {
        FAIL("field %zu: %s", i, sb_last_error_message());
        return;
    }
    const char *name = str(fe, "name");
    if (strcmp(fi.name, name) != 0) {
        FAIL("field %zu is '%s', Python's order has '%s'", i, fi.name, name);
        return;
    }
    const char *want = dtype_of_numpy(str(fe, "dtype"));
    if (!want || known_for(file, name) == C_UNSUPPORTED) {
        /* No dtype here: the field loads, and reading it fails naming it. */
        if (fi.supported)
            FAIL("field '%s' (%s) should be unsupported, reads as %s", name, str(fe, "dtype"),
                 sb_dtype_name(fi.dtype));
        sb_array a;
        int rc = sb_dataset_get(&a, ds, 1, &name);
        if (rc != SB_ERR_TYPE || !strstr(sb_last_error_message(), name))
            FAIL("get of unsupported field '%s' gave %s (%s)", name, sb_error_name(rc),
                 sb_last_error_message());
        return;
    }
    if (!fi.supported || strcmp(sb_dtype_name(fi.dtype), want) != 0) {
        FAIL("field '%s' is %s, Python read %s", name,
             fi.supported ? sb_dtype_name(fi.dtype) : fi.type_name, want);
        return;
    }
    if (!same_shape(cJSON_GetObjectItemCaseSensitive(fe, "row_shape"), fi.row_ndim, fi.row_shape))
        FAIL("field '%s': row shape differs", name);
    size_t len = 0;
    unsigned char *expect = from_hex(str(fe, "raw_hex"), &len);
    unsigned char *got = malloc(len + 1);
    int rc = sb_dataset_read(got, ds, name, 0, size);
    if (rc != 0)
        FAIL("field '%s': read: %s", name, sb_last_error_message());
    else if (len != size * fi.row_bytes || memcmp(got, expect, len) != 0)
        FAIL("field '%s': the rows differ from what Python read", name);
    free(expect);
    free(got);
}

/* A parsed JSON value against the dump's tagged tree. */
static bool same_json(const cJSON *ours, const cJSON *tag)
{
    const char *t = str(tag, "t");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(tag, "v");
    if (strcmp(t, "null") == 0)
        return cJSON_IsNull(ours);
    if (strcmp(t, "bool") == 0)
        return cJSON_IsBool(ours) && cJSON_IsTrue(ours) == cJSON_IsTrue(v);
    if (strcmp(t, "str") == 0)
        return cJSON_IsString(ours) && strcmp(ours->valuestring, v->valuestring) == 0;
    if (strcmp(t, "int") == 0) {
        /* Exact: the number's own text, whatever its size. */
        int64_t i;
        uint64_t u;
        char text[32];
        if (sb_json_get_i64(&i, ours) == 0)
            snprintf(text, sizeof text, "%lld", (long long)i);
        else if (sb_json_get_u64(&u, ours) == 0)
            snprintf(text, sizeof text, "%llu", (unsigned long long)u);
        else
            return cJSON_IsNumber(ours) && ours->valuestring &&
                   strcmp(ours->valuestring, v->valuestring) == 0;
        return strcmp(text, v->valuestring) == 0;
    }
    if (strcmp(t, "float") == 0) {
        if (!cJSON_IsNumber(ours))
            return false;
        const char *s = v->valuestring;
        double want = strcmp(s, "nan") == 0 ? NAN : strcmp(s, "inf") == 0 ? INFINITY
                      : strcmp(s, "-inf") == 0 ? -INFINITY : strtod(s, NULL);
        double got = ours->valuedouble;
        return isnan(want) ? isnan(got) : got == want && signbit(got) == signbit(want);
    }
    if (strcmp(t, "list") == 0 || strcmp(t, "object") == 0) {
        bool object = t[0] == 'o';
        if (object ? !cJSON_IsObject(ours) : !cJSON_IsArray(ours))
            return false;
        const cJSON *c = ours->child;
        const cJSON *e;
        cJSON_ArrayForEach(e, v) {
            if (!c)
                return false;
            const cJSON *sub = object ? cJSON_GetArrayItem(e, 1) : e;
            if (object && strcmp(c->string, cJSON_GetArrayItem(e, 0)->valuestring) != 0)
                return false;
            if (!same_json(c, sub))
                return false;
            c = c->next;
        }
        return c == NULL;
    }
    return false;
}

static void check_asset(sb_dataset *ds, const cJSON *ae, const char *file)
{
    const char *name = str(ae, "name");
    known_kind k = known_for(file, name);
    sb_array info;
    if (!str(ae, "dtype")) {
        /* A group flagged as an asset: Python lists it and cannot read it. */
        if (sb_dataset_asset_info(&info, ds, name) == 0)
            FAIL("asset '%s' reads, where Python could not (%s)", name,
                 str(cJSON_GetObjectItemCaseSensitive(ae, "get"), "error"));
        return;
    }
    const char *want = dtype_of_numpy(str(ae, "dtype"));
    if (sb_dataset_asset_info(&info, ds, name) != 0)
        FAIL("asset '%s': info: %s", name, sb_last_error_message());
    else if (!want || strcmp(sb_dtype_name(info.dtype), want) != 0 ||
             !same_shape(cJSON_GetObjectItemCaseSensitive(ae, "shape"), info.ndim, info.shape))
        FAIL("asset '%s': %s of another shape, Python read %s", name, sb_dtype_name(info.dtype),
             str(ae, "dtype"));
    void *bytes = NULL;
    size_t len = 0;
    int rc = sb_dataset_get_asset_bytes(&bytes, &len, ds, name);
    const char *hex = str(ae, "raw_hex");
    if (hex) {
        size_t n = 0;
        unsigned char *expect = from_hex(hex, &n);
        if (rc != 0 || n != len || memcmp(bytes, expect, n) != 0)
            FAIL("asset '%s': its bytes differ from Python's (%s)", name,
                 rc ? sb_last_error_message() : "content");
        free(expect);
    } else if (rc != 0 && k != C_LOADS) {
        FAIL("asset '%s': bytes: %s", name, sb_last_error_message());
    }
    sb_free(bytes);
    const cJSON *tree = cJSON_GetObjectItemCaseSensitive(ae, "json");
    if (!tree)
        return;
    cJSON *doc = NULL;
    rc = sb_dataset_get_json_asset(&doc, ds, name);
    if (k == C_REFUSES) {
        if (rc != SB_ERR_FORMAT)
            FAIL("JSON asset '%s': expected SB_ERR_FORMAT, got %s", name, sb_error_name(rc));
    } else if (rc != 0) {
        FAIL("JSON asset '%s': %s", name, sb_last_error_message());
    } else if (!same_json(doc, tree)) {
        FAIL("JSON asset '%s' differs from what Python's json read", name);
    } else {
        /* And it writes back as the same document (numbers exact). */
        char *text = NULL;
        cJSON *again = NULL;
        if (sb_json_print(&text, doc) != 0 || sb_json_parse(&again, text, strlen(text)) != 0 ||
            !same_json(again, tree))
            FAIL("JSON asset '%s' does not survive sb_json_print", name);
        cJSON_Delete(again);
        sb_free(text);
    }
    cJSON_Delete(doc);
}

static void check_dataset(sb_store *s, const cJSON *de, const char *file)
{
    const char *name = str(de, "name");
    snprintf(where, sizeof where, "%s: %s", file, name);
    const cJSON *load = cJSON_GetObjectItemCaseSensitive(de, "load");
    bool python_ok = cJSON_IsString(load) && strcmp(load->valuestring, "ok") == 0;
    known_kind k = known_for(file, name);
    sb_dataset *ds = NULL;
    int rc = sb_store_load_dataset(&ds, s, name);
    if (!python_ok) {
        if (rc == 0 && k != C_LOADS && k != C_NOT_LISTED && k != C_LISTED)
            FAIL("loads, where Python raised %s", str(load, "error"));
        if (rc != 0 && k == C_LOADS)
            FAIL("does not load: %s", sb_last_error_message());
        if (rc != 0 && !strstr(sb_last_error_message(), name) && rc != SB_ERR_NOT_FOUND)
            FAIL("the error does not name the dataset: %s", sb_last_error_message());
        sb_dataset_close(ds);
        return;
    }
    if (rc != 0) {
        FAIL("does not load: %s", sb_last_error_message());
        return;
    }
    uint64_t size = (uint64_t)cJSON_GetObjectItemCaseSensitive(de, "size")->valuedouble;
    uint64_t cap = (uint64_t)cJSON_GetObjectItemCaseSensitive(de, "capacity")->valuedouble;
    if (sb_dataset_size(ds) != size || sb_dataset_capacity(ds) != cap)
        FAIL("size %llu / capacity %llu, Python read %llu / %llu",
             (unsigned long long)sb_dataset_size(ds), (unsigned long long)sb_dataset_capacity(ds),
             (unsigned long long)size, (unsigned long long)cap);
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(de, "fields");
    if ((size_t)cJSON_GetArraySize(fields) != sb_dataset_nfields(ds))
        FAIL("%zu fields, Python read %d", sb_dataset_nfields(ds), cJSON_GetArraySize(fields));
    else
        for (size_t i = 0; i < sb_dataset_nfields(ds); i++)
            check_field(ds, cJSON_GetArrayItem(fields, (int)i), i, size, file);
    const cJSON *assets = cJSON_GetObjectItemCaseSensitive(de, "assets");
    char **names = NULL;
    size_t n = 0;
    if (sb_dataset_asset_names(&names, &n, ds) != 0 || n != (size_t)cJSON_GetArraySize(assets))
        FAIL("%zu assets, Python listed %d", n, cJSON_GetArraySize(assets));
    for (size_t i = 0; i < n && i < (size_t)cJSON_GetArraySize(assets); i++) {
        const cJSON *ae = cJSON_GetArrayItem(assets, (int)i);
        if (strcmp(names[i], str(ae, "name")) != 0)
            FAIL("asset %zu is '%s', Python's order has '%s'", i, names[i], str(ae, "name"));
        else
            check_asset(ds, ae, file);
    }
    sb_free(names);
    sb_dataset_close(ds);
}

static void check_store(const char *path, const char *file, const cJSON *dump)
{
    sb_store *s = NULL;
    snprintf(where, sizeof where, "%s", file);
    if (sb_store_open(&s, path, SB_READ, NULL) != 0) {
        FAIL("open: %s", sb_last_error_message());
        return;
    }
    /* The listing: Python's names, less and plus the known differences. */
    char **names = NULL;
    size_t n = 0;
    if (sb_store_dataset_names(&names, &n, s) != 0)
        FAIL("dataset_names: %s", sb_last_error_message());
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(dump, "dataset_names");
    const cJSON *w;
    cJSON_ArrayForEach(w, want) {
        bool listed = false;
        for (size_t i = 0; i < n; i++)
            listed |= strcmp(names[i], w->valuestring) == 0;
        if (listed == (known_for(file, w->valuestring) == C_NOT_LISTED))
            FAIL("'%s' is %s", w->valuestring, listed ? "listed (known not to be)" : "not listed");
    }
    for (size_t i = 0; i < n; i++) {
        bool python = false;
        cJSON_ArrayForEach(w, want) python |= strcmp(names[i], w->valuestring) == 0;
        if (!python && known_for(file, names[i]) != C_LISTED)
            FAIL("lists '%s', which Python does not", names[i]);
    }
    sb_free(names);
    const cJSON *de;
    cJSON_ArrayForEach(de, cJSON_GetObjectItemCaseSensitive(dump, "datasets"))
        check_dataset(s, de, file);
    cJSON_ArrayForEach(de, cJSON_GetObjectItemCaseSensitive(dump, "probes"))
        check_dataset(s, de, file);
    sb_store_close(s);
}

static cJSON *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    size_t got = text ? fread(text, 1, (size_t)n, f) : 0;
    fclose(f);
    /* cJSON's own parser: the dumps hold every exact value as a string, and
     * strings with NULs (which sb_json_parse refuses, cJSON cuts). */
    cJSON *doc = got == (size_t)n ? cJSON_ParseWithLength(text, (size_t)n) : NULL;
    free(text);
    return doc;
}

int main(int argc, char **argv)
{
    bool corpus = argc == 4 && strcmp(argv[1], "--corpus") == 0;
    if (argc != 3 && !corpus) {
        fprintf(stderr, "usage: check_expected STORE EXPECTED.json | --corpus DIR EXPECTED.json\n");
        return 2;
    }
    cJSON *dump = read_json(argv[argc - 1]);
    if (!dump) {
        fprintf(stderr, "cannot read %s\n", argv[argc - 1]);
        return 2;
    }
    int stores = 0;
    if (corpus) {
        const cJSON *fe;
        cJSON_ArrayForEach(fe, cJSON_GetObjectItemCaseSensitive(dump, "files")) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[2], str(fe, "file"));
            check_store(path, str(fe, "file"), fe);
            stores++;
        }
    } else {
        const char *slash = strrchr(argv[1], '/');
        check_store(argv[1], slash ? slash + 1 : argv[1], dump);
        stores++;
    }
    cJSON_Delete(dump);
    printf("%d store(s) checked against Python secbench's reading, %d failure(s)\n", stores,
           failures);
    return failures ? 1 : 0;
}
