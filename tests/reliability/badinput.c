/* Bad-input test: opens every store of the corpus written by make_corpus.py
 * read-only, lists and loads every dataset, reads every field and asset, and
 * checks each outcome against manifest.json: the error code is one the
 * manifest accepts, the message is not empty and names the file, dataset,
 * attribute or field at fault, and what loads reads back exactly. Crashes and
 * leaks are caught by running it under ASan/valgrind.
 *
 * usage: badinput CORPUS_DIR */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <secbench/storage.h>

static int failures;
static const char *current_file = "";

#define FAIL(...)                                              \
    do {                                                       \
        fprintf(stderr, "FAIL %s: ", current_file);            \
        fprintf(stderr, __VA_ARGS__);                          \
        fputc('\n', stderr);                                   \
        failures++;                                            \
    } while (0)

static const char *code_name(int rc) { return rc == 0 ? "OK" : sb_error_name(rc); }

static bool code_accepted(const cJSON *codes, int rc)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, codes) {
        if (cJSON_IsString(c) && strcmp(c->valuestring, code_name(rc)) == 0)
            return true;
    }
    return false;
}

/* Whether msg names `word`; messages are cut at about 500 bytes, so a very
 * long name only has to appear as far as the message goes. */
static bool names(const char *msg, const char *word)
{
    if (strstr(msg, word))
        return true;
    char head[101];
    if (strlen(word) <= 100)
        return false;
    memcpy(head, word, 100);
    head[100] = '\0';
    return strstr(msg, head) != NULL;
}

static char *codes_text(const cJSON *codes)
{
    return cJSON_PrintUnformatted(codes);
}

/* Checks rc against the accepted codes and, on failure, the message against
 * the words it must contain. Returns true when rc is accepted. */
static bool expect(const char *what, const cJSON *codes, int rc, const cJSON *words)
{
    if (!codes)
        return true;
    if (!code_accepted(codes, rc)) {
        char *txt = codes_text(codes);
        FAIL("%s: got %s (%s), expected one of %s", what, code_name(rc),
             rc ? sb_last_error_message() : "", txt);
        free(txt);
        return false;
    }
    if (rc == 0)
        return true;
    const char *msg = sb_last_error_message();
    if (!msg || !*msg)
        FAIL("%s: %s with an empty message", what, code_name(rc));
    if (sb_last_error_code() != rc)
        FAIL("%s: returned %s but sb_last_error_code() is %s", what, code_name(rc),
             code_name(sb_last_error_code()));
    const cJSON *w;
    cJSON_ArrayForEach(w, words) {
        if (msg && cJSON_IsString(w) && !names(msg, w->valuestring))
            FAIL("%s: message \"%s\" does not name \"%.60s\"", what, msg, w->valuestring);
    }
    return true;
}

static uint64_t fnv1a(const unsigned char *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static const cJSON *find_field(const cJSON *fields, const char *name)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, fields) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(f, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return f;
    }
    return NULL;
}

/* Reads rows [0, size) of field i in bounded pieces, hashing them. */
static int read_field(sb_dataset *ds, const sb_field_info *fi, uint64_t size, uint64_t *hash)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    uint64_t per = fi->row_bytes ? (1u << 20) / fi->row_bytes + 1 : size + 1;
    unsigned char *buf = malloc(per * (fi->row_bytes ? fi->row_bytes : 1));
    if (!buf)
        return SB_ERR_NOMEM;
    int rc = 0;
    for (uint64_t start = 0; start < size && rc == 0; start += per) {
        uint64_t n = size - start < per ? size - start : per;
        rc = sb_dataset_read(buf, ds, fi->name, start, n);
        if (rc == 0)
            h = fnv1a(buf, n * fi->row_bytes, h);
    }
    free(buf);
    *hash = h;
    return rc;
}

static void check_fields(sb_dataset *ds, const char *dsname, const cJSON *exp)
{
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(exp, "fields");
    const cJSON *reads = cJSON_GetObjectItemCaseSensitive(exp, "field_reads");
    bool any_order = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(exp, "fields_any_order"));
    size_t n = sb_dataset_nfields(ds);
    uint64_t size = sb_dataset_size(ds);
    char what[1400];

    if (cJSON_IsArray(fields) && (size_t)cJSON_GetArraySize(fields) != n)
        FAIL("%s: %zu fields, expected %d", dsname, n, cJSON_GetArraySize(fields));
    if (sb_dataset_field(ds, n) != NULL)
        FAIL("%s: sb_dataset_field(n) is not NULL", dsname);
    for (size_t i = 0; i < n; i++) {
        sb_field_info fi;
        int rc = sb_dataset_field_info(&fi, ds, i);
        if (rc) {
            FAIL("%s: field_info(%zu): %s %s", dsname, i, code_name(rc), sb_last_error_message());
            continue;
        }
        snprintf(what, sizeof what, "%s: read field %s", dsname, fi.name);
        uint64_t hash = 0;
        rc = fi.defined ? read_field(ds, &fi, size, &hash) : 0;
        const cJSON *fexp = cJSON_IsArray(fields)
            ? (any_order ? find_field(fields, fi.name) : cJSON_GetArrayItem(fields, (int)i))
            : NULL;
        const cJSON *rexp = cJSON_GetObjectItemCaseSensitive(reads, fi.name);
        if (rexp) {
            if (!fi.defined)
                rc = sb_dataset_read(NULL, ds, fi.name, 0, 0);
            expect(what, rexp, rc, NULL);
            continue;
        }
        if (rc) {
            FAIL("%s: %s (%s)", what, code_name(rc), sb_last_error_message());
            continue;
        }
        if (!cJSON_IsArray(fields))
            continue;
        if (!fexp) {
            FAIL("%s: unexpected field %s at %zu", dsname, fi.name, i);
            continue;
        }
        const char *ename = cJSON_GetObjectItemCaseSensitive(fexp, "name")->valuestring;
        if (strcmp(ename, fi.name) != 0)
            FAIL("%s: field %zu is %s, expected %s", dsname, i, fi.name, ename);
        const char *edt = cJSON_GetObjectItemCaseSensitive(fexp, "dtype")->valuestring;
        if (!fi.defined || !sb_dtype_name(fi.dtype) || strcmp(sb_dtype_name(fi.dtype), edt) != 0)
            FAIL("%s: dtype %s, expected %s", what,
                 fi.defined ? sb_dtype_name(fi.dtype) : "undefined", edt);
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(fexp, "row_shape");
        bool same = cJSON_GetArraySize(shape) == fi.row_ndim;
        for (int d = 0; same && d < fi.row_ndim; d++)
            same = (uint64_t)cJSON_GetArrayItem(shape, d)->valuedouble == fi.row_shape[d];
        if (!same)
            FAIL("%s: row shape differs (ndim %d)", what, fi.row_ndim);
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)hash);
        const char *ehash = cJSON_GetObjectItemCaseSensitive(fexp, "hash")->valuestring;
        if (strcmp(hex, ehash) != 0)
            FAIL("%s: content hash %s, expected %s", what, hex, ehash);
        /* Rows at or past the size are not data: refused, never read. */
        if (fi.defined && fi.row_bytes) {
            unsigned char *one = malloc(fi.row_bytes);
            rc = one ? sb_dataset_read(one, ds, fi.name, size, 1) : SB_ERR_NOMEM;
            if (rc != SB_ERR_INVALID)
                FAIL("%s: reading row %llu (= size) gave %s, expected SB_ERR_INVALID", what,
                     (unsigned long long)size, code_name(rc));
            else if (!names(sb_last_error_message(), fi.name) &&
                     !names(sb_last_error_message(), dsname))
                FAIL("%s: out-of-range message \"%s\" names neither field nor dataset", what,
                     sb_last_error_message());
            free(one);
        }
        sb_array whole;
        memset(&whole, 0, sizeof whole);
        rc = sb_dataset_get(&whole, ds, 1, (const char *[]){fi.name});
        if (rc)
            FAIL("%s: sb_dataset_get: %s %s", what, code_name(rc), sb_last_error_message());
        else if (whole.ndim != fi.row_ndim + 1 || whole.shape[0] != size)
            FAIL("%s: sb_dataset_get shape (ndim %d, %llu rows)", what, whole.ndim,
                 (unsigned long long)whole.shape[0]);
        sb_free(whole.data);
    }
    size_t idx;
    int rc = sb_dataset_field_index(&idx, ds, "no such field");
    if (rc != SB_ERR_NOT_FOUND)
        FAIL("%s: field_index of a missing field gave %s", dsname, code_name(rc));
}

static void check_assets(sb_dataset *ds, const char *dsname, const cJSON *exp)
{
    const cJSON *assets = cJSON_GetObjectItemCaseSensitive(exp, "assets");
    char **names = NULL;
    size_t count = 0;
    char what[1400];
    int rc = sb_dataset_asset_names(&names, &count, ds);
    if (rc) {
        FAIL("%s: asset_names: %s %s", dsname, code_name(rc), sb_last_error_message());
        return;
    }
    if (cJSON_IsObject(assets) && (size_t)cJSON_GetArraySize(assets) != count)
        FAIL("%s: %zu assets, expected %d", dsname, count, cJSON_GetArraySize(assets));
    for (size_t i = 0; i < count; i++) {
        const cJSON *aexp = cJSON_GetObjectItemCaseSensitive(assets, names[i]);
        const cJSON *words = cJSON_GetObjectItemCaseSensitive(aexp, "message");
        if (cJSON_IsObject(assets) && !aexp)
            FAIL("%s: unexpected asset %s", dsname, names[i]);
        void *data = NULL;
        size_t len = 0;
        snprintf(what, sizeof what, "%s: asset %s bytes", dsname, names[i]);
        rc = sb_dataset_get_asset_bytes(&data, &len, ds, names[i]);
        const cJSON *codes = cJSON_GetObjectItemCaseSensitive(aexp, "bytes");
        if (codes)
            expect(what, codes, rc, words);
        else if (rc)
            FAIL("%s: %s %s", what, code_name(rc), sb_last_error_message());
        const cJSON *elen = cJSON_GetObjectItemCaseSensitive(aexp, "length");
        if (rc == 0 && cJSON_IsNumber(elen) && (double)len != elen->valuedouble)
            FAIL("%s: %zu bytes, expected %.0f", what, len, elen->valuedouble);
        sb_free(data);

        cJSON *json = NULL;
        snprintf(what, sizeof what, "%s: asset %s as JSON", dsname, names[i]);
        rc = sb_dataset_get_json_asset(&json, ds, names[i]);
        expect(what, cJSON_GetObjectItemCaseSensitive(aexp, "json"), rc, words);
        if (rc == 0 && !json)
            FAIL("%s: OK but no document", what);
        cJSON_Delete(json);

        sb_array arr;
        memset(&arr, 0, sizeof arr);
        snprintf(what, sizeof what, "%s: asset %s as array", dsname, names[i]);
        rc = sb_dataset_get_asset_array(&arr, ds, names[i]);
        codes = cJSON_GetObjectItemCaseSensitive(aexp, "array");
        if (codes)
            expect(what, codes, rc, words);
        else if (rc)
            FAIL("%s: %s %s", what, code_name(rc), sb_last_error_message());
        sb_free(arr.data);
    }
    sb_free(names);
    void *data = NULL;
    size_t len = 0;
    rc = sb_dataset_get_asset_bytes(&data, &len, ds, "no such asset");
    if (rc != SB_ERR_NOT_FOUND)
        FAIL("%s: a missing asset gave %s", dsname, code_name(rc));
    if (rc == 0)
        sb_free(data);
}

static void check_dataset(sb_store *st, const char *name, const cJSON *exp)
{
    static const char *ok_json = "{\"load\":[\"OK\"]}";
    cJSON *fallback = NULL;
    if (!exp)
        exp = fallback = cJSON_Parse(ok_json);
    char what[1200];
    snprintf(what, sizeof what, "load %.1100s", name);
    sb_dataset *ds = NULL;
    sb_clear_error();
    int rc = sb_store_load_dataset(&ds, st, name);
    expect(what, cJSON_GetObjectItemCaseSensitive(exp, "load"), rc,
           cJSON_GetObjectItemCaseSensitive(exp, "message"));
    if (rc == 0 && !ds)
        FAIL("%s: OK without a handle", what);
    if (rc != 0 || !ds) {
        if (ds)
            FAIL("%s: failed but set *out", what);
        cJSON_Delete(fallback);
        return;
    }
    if (strcmp(sb_dataset_name(ds), name) != 0)
        FAIL("%s: name is \"%s\"", what, sb_dataset_name(ds));
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(exp, "size");
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(exp, "capacity");
    if (cJSON_IsNumber(size) && (double)sb_dataset_size(ds) != size->valuedouble)
        FAIL("%s: size %llu, expected %.0f", what, (unsigned long long)sb_dataset_size(ds),
             size->valuedouble);
    if (cJSON_IsNumber(cap) && (double)sb_dataset_capacity(ds) != cap->valuedouble)
        FAIL("%s: capacity %llu, expected %.0f", what,
             (unsigned long long)sb_dataset_capacity(ds), cap->valuedouble);
    if (sb_dataset_size(ds) > sb_dataset_capacity(ds))
        FAIL("%s: size above capacity accepted", what);
    check_fields(ds, name, exp);
    check_assets(ds, name, exp);
    /* Read-only store: writing is refused, not attempted. */
    rc = sb_dataset_reset(ds);
    if (rc != SB_ERR_READ_ONLY)
        FAIL("%s: reset on a read-only store gave %s", what, code_name(rc));
    rc = sb_dataset_close(ds);
    if (rc)
        FAIL("%s: close: %s %s", what, code_name(rc), sb_last_error_message());
    cJSON_Delete(fallback);
}

static void check_listing(sb_store *st, const cJSON *entry)
{
    char **names = NULL;
    size_t count = 0;
    int rc = sb_store_dataset_names(&names, &count, st);
    if (!expect("dataset_names", cJSON_GetObjectItemCaseSensitive(entry, "list"), rc, NULL) ||
        rc != 0)
        return;
    const cJSON *listed = cJSON_GetObjectItemCaseSensitive(entry, "listed");
    const cJSON *must = cJSON_GetObjectItemCaseSensitive(entry, "listed_must_include");
    const cJSON *dsets = cJSON_GetObjectItemCaseSensitive(entry, "datasets");
    if (cJSON_IsArray(listed)) {
        bool same = (size_t)cJSON_GetArraySize(listed) == count;
        for (size_t i = 0; same && i < count; i++)
            same = strcmp(cJSON_GetArrayItem(listed, (int)i)->valuestring, names[i]) == 0;
        if (!same) {
            char *txt = cJSON_PrintUnformatted(listed);
            FAIL("dataset_names gave %zu names (first \"%.80s\"), expected %s", count,
                 count ? names[0] : "", txt);
            free(txt);
        }
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, must) {
        bool found = false;
        for (size_t i = 0; i < count; i++)
            found = found || strcmp(names[i], m->valuestring) == 0;
        if (!found)
            FAIL("dataset_names lost the sound dataset %s", m->valuestring);
    }
    for (size_t i = 1; i < count; i++)
        if (strcmp(names[i - 1], names[i]) >= 0)
            FAIL("dataset_names not sorted at %zu", i);
    /* Whatever is listed loads as the manifest says (OK when it is silent). */
    for (size_t i = 0; i < count; i++) {
        bool exists = false;
        rc = sb_store_has_dataset(&exists, st, names[i]);
        if (rc || !exists)
            FAIL("has_dataset(%s) = %s/%d for a listed name", names[i], code_name(rc), exists);
        if (!cJSON_GetObjectItemCaseSensitive(dsets, names[i]))
            check_dataset(st, names[i], NULL);
    }
    sb_free(names);
}

static void check_file(const char *dir, const cJSON *entry)
{
    const char *file = cJSON_GetObjectItemCaseSensitive(entry, "file")->valuestring;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    current_file = file;
    sb_store *st = NULL;
    sb_clear_error();
    int rc = sb_store_open(&st, path, SB_READ, NULL);
    expect("open", cJSON_GetObjectItemCaseSensitive(entry, "open"), rc,
           cJSON_GetObjectItemCaseSensitive(entry, "open_message"));
    if (rc != 0) {
        if (st)
            FAIL("open failed but set *store");
        return;
    }
    check_listing(st, entry);
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(entry, "datasets")) {
        check_dataset(st, d->string, d);
    }
    rc = sb_store_close(st);
    if (rc)
        FAIL("close: %s %s", code_name(rc), sb_last_error_message());
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", argv[1]);
    char *text = slurp(path);
    cJSON *manifest = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(manifest, "files");
    if (!cJSON_IsArray(files) || cJSON_GetArraySize(files) == 0) {
        fprintf(stderr, "%s: no usable manifest\n", path);
        cJSON_Delete(manifest);
        return 2;
    }
    const cJSON *entry;
    int nfiles = 0;
    cJSON_ArrayForEach(entry, files) {
        int before = failures;
        check_file(argv[1], entry);
        printf("%s %s\n", failures == before ? "ok  " : "FAIL",
               cJSON_GetObjectItemCaseSensitive(entry, "file")->valuestring);
        nfiles++;
    }
    cJSON_Delete(manifest);
    printf("%d corpus files, %d failures\n", nfiles, failures);
    return failures ? 1 : 0;
}
