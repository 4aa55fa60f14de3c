/* What a store holds, as text to compare: shared by the allocation-failure
 * loops (test_allocfail.c, serial; test_allocfail_mpi.c, parallel). The
 * library called here is the test-only copy (tests/alloc/CMakeLists.txt). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <secbench/storage.h>

#include "fixture.h"

const char *sbt_program = "test_allocfail";

void put(text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            sbt_die("vsnprintf failed");
        if (t->p && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap <= t->len + (size_t)n)
            cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p)
            sbt_die("out of memory");
        t->p = p;
        t->cap = cap;
    }
}

void text_free(text *t)
{
    free(t->p);
    memset(t, 0, sizeof *t);
}

const char *text_str(const text *t) { return t->p ? t->p : ""; }

uint64_t fnv(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out)
        sbt_die("cannot copy %s to %s: %s", from, to, strerror(errno));
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            sbt_die("cannot write %s", to);
    fclose(in);
    if (fclose(out) != 0)
        sbt_die("cannot write %s", to);
}

/* ---- what a store holds ------------------------------------------------------ */

/* An integer attribute (integer or h5py's int8 bool enum); false if absent. */
static bool attr_int(hid_t obj, const char *name, int64_t *value)
{
    if (H5Aexists(obj, name) <= 0)
        return false;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    bool ok = false;
    if (t >= 0 && H5Tget_class(t) == H5T_INTEGER) {
        ok = H5Aread(a, H5T_NATIVE_INT64, value) >= 0;
    } else if (t >= 0 && H5Tget_class(t) == H5T_ENUM && H5Tget_size(t) == 1) {
        int8_t v = 0;
        ok = H5Aread(a, t, &v) >= 0;
        *value = v;
    }
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return ok;
}

static void put_type(text *out, hid_t t)
{
    put(out, " class=%d size=%zu", (int)H5Tget_class(t), H5Tget_size(t));
    if (H5Tget_class(t) == H5T_INTEGER)
        put(out, " sign=%d", (int)H5Tget_sign(t));
}

static herr_t raw_attr(hid_t loc, const char *name, const H5A_info_t *info, void *payload)
{
    (void)info;
    text *out = payload;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    put(out, "  @%s", name);
    put_type(out, t);
    put(out, " n=%lld", (long long)n);
    if (H5Tis_variable_str(t) > 0 || H5Tdetect_class(t, H5T_VLEN) > 0) {
        put(out, " (variable-length)\n");
    } else {
        size_t bytes = (size_t)n * H5Tget_size(t);
        unsigned char *buf = calloc(bytes + 1, 1);
        if (!buf || H5Aread(a, t, buf) < 0)
            put(out, " unreadable\n");
        else
            put(out, " value=%016" PRIx64 "\n", fnv(buf, bytes));
        free(buf);
    }
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return 0;
}

/* A field is a dataset without _sb_is_asset in a group with _sb_is_dataset:
 * only its rows below the group's _sb_size belong to the store (a failed
 * write may leave others, which no reader ever sees). */
static hsize_t rows_that_count(hid_t file, const char *path, hid_t dset, hsize_t rows)
{
    int64_t v = 0;
    if (attr_int(dset, "_sb_is_asset", &v) && v)
        return rows;
    char parent[1024];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(parent, sizeof parent, "/");
    hid_t g = H5Oopen(file, parent, H5P_DEFAULT);
    if (g < 0)
        return rows;
    int64_t is_ds = 0, size = 0;
    if (attr_int(g, "_sb_is_dataset", &is_ds) && is_ds && attr_int(g, "_sb_size", &size) &&
        size >= 0 && (hsize_t)size < rows)
        rows = (hsize_t)size;
    H5Oclose(g);
    return rows;
}

typedef struct raw_walk {
    hid_t file;
    text *out;
} raw_walk;

static herr_t raw_object(hid_t root, const char *name, const H5O_info_t *info, void *payload)
{
    raw_walk *w = payload;
    text *out = w->out;
    hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
    if (obj < 0) {
        put(out, "? %s unopenable\n", name);
        return 0;
    }
    if (info->type == H5O_TYPE_DATASET) {
        hid_t t = H5Dget_type(obj), sp = H5Dget_space(obj);
        int nd = H5Sget_simple_extent_ndims(sp);
        hsize_t dims[H5S_MAX_RANK] = {0};
        H5Sget_simple_extent_dims(sp, dims, NULL);
        put(out, "D %s", name);
        put_type(out, t);
        put(out, " dims=");
        for (int i = 0; i < nd; i++)
            put(out, "%s%llu", i ? "x" : "", (unsigned long long)dims[i]);
        size_t row = H5Tget_size(t);
        for (int i = 1; i < nd; i++)
            row *= (size_t)dims[i];
        hsize_t rows = nd > 0 ? rows_that_count(w->file, name, obj, dims[0]) : 1;
        size_t bytes = (size_t)rows * row;
        unsigned char *buf = calloc(bytes + 1, 1);
        herr_t st = -1;
        if (buf && bytes == 0) {
            st = 0;
        } else if (buf && nd > 0) {
            hsize_t start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
            memcpy(count, dims, sizeof dims);
            count[0] = rows;
            hid_t fsel = H5Scopy(sp), msel = H5Screate_simple(nd, count, NULL);
            H5Sselect_hyperslab(fsel, H5S_SELECT_SET, start, NULL, count, NULL);
            st = H5Dread(obj, t, msel, fsel, H5P_DEFAULT, buf);
            H5Sclose(fsel);
            H5Sclose(msel);
        } else if (buf) {
            st = H5Dread(obj, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        }
        if (st < 0)
            put(out, " rows=%llu unreadable\n", (unsigned long long)rows);
        else
            put(out, " rows=%llu data=%016" PRIx64 "\n", (unsigned long long)rows,
                fnv(buf, bytes));
        free(buf);
        H5Sclose(sp);
        H5Tclose(t);
    } else {
        put(out, "%c %s\n", info->type == H5O_TYPE_GROUP ? 'G' : 'O', name);
    }
    hsize_t idx = 0;
    H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, raw_attr, out);
    H5Oclose(obj);
    return 0;
}

void digest_raw(const char *path, text *out)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_file_locking(fapl, 0, 1);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f < 0) {
        put(out, "raw: HDF5 cannot open it\n");
        return;
    }
    raw_walk w = {f, out};
    H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, raw_object, &w, H5O_INFO_BASIC);
    H5Fclose(f);
}

/* What a fresh open of the library reads: datasets, sizes, fields, rows, assets. */
void digest_library(const char *path, text *out)
{
    sb_store *s = NULL;
    char **names = NULL;
    size_t n = 0;
    int rc = sb_store_open(&s, path, SB_READ, NULL);
    if (rc == 0)
        rc = sb_store_dataset_names(&names, &n, s);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sb_dataset *ds = NULL;
        rc = sb_store_load_dataset(&ds, s, names[i]);
        if (rc < 0)
            break;
        put(out, "lib %s size=%" PRIu64 " capacity=%" PRIu64 " incomplete=%d\n", names[i],
            sb_dataset_size(ds), sb_dataset_capacity(ds), sb_dataset_is_incomplete(ds));
        for (size_t k = 0; rc == 0 && k < sb_dataset_nfields(ds); k++) {
            sb_field_info fi;
            rc = sb_dataset_field_info(&fi, ds, k);
            if (rc < 0)
                break;
            put(out, "  field %s defined=%d dtype=%d shape=", fi.name, fi.defined, (int)fi.dtype);
            for (int d = 0; d < fi.row_ndim; d++)
                put(out, "%s%" PRIu64, d ? "x" : "", fi.row_shape[d]);
            if (fi.defined && sb_dataset_size(ds) > 0) {
                sb_array a;
                const char *field = fi.name;
                rc = sb_dataset_get(&a, ds, 1, &field);
                if (rc == 0) {
                    put(out, " rows=%016" PRIx64,
                        fnv(a.data, (size_t)(sb_dataset_size(ds) * fi.row_bytes)));
                    sb_free(a.data);
                }
            }
            put(out, "\n");
        }
        char **assets = NULL;
        size_t na = 0;
        if (rc == 0)
            rc = sb_dataset_asset_names(&assets, &na, ds);
        for (size_t k = 0; rc == 0 && k < na; k++) {
            void *data = NULL;
            size_t len = 0;
            rc = sb_dataset_get_asset_bytes(&data, &len, ds, assets[k]);
            if (rc == 0)
                put(out, "  asset %s %zu bytes %016" PRIx64 "\n", assets[k], len, fnv(data, len));
            sb_free(data);
        }
        sb_free(assets);
        int crc = sb_dataset_close(ds);
        if (rc == 0)
            rc = crc;
    }
    sb_free(names);
    if (s) {
        int crc = sb_store_close(s);
        if (rc == 0)
            rc = crc;
    }
    if (rc < 0)
        put(out, "lib: %s: %s\n", sb_error_name(rc), sb_last_error_message());
}
