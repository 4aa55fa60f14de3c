#include "sbt_raw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static hid_t sbt_raw_open(const char *file) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_sec2(fapl);
    /* As the library opens files: HDF5 refuses a second open in one process
     * with another lock setting. */
    H5Pset_file_locking(fapl, 0, 1);
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return f;
}

bool sbt_raw_read_row(const char *file, const char *path, uint64_t row, void *buf,
                      size_t row_bytes) {
    bool ok = false;
    H5E_BEGIN_TRY {
        hid_t f = sbt_raw_open(file);
        hid_t d = f >= 0 ? H5Dopen2(f, path, H5P_DEFAULT) : -1;
        if (d >= 0) {
            hid_t type = H5Dget_type(d);
            hid_t fs = H5Dget_space(d);
            int nd = H5Sget_simple_extent_ndims(fs);
            hsize_t dims[H5S_MAX_RANK], start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
            H5Sget_simple_extent_dims(fs, dims, NULL);
            size_t bytes = H5Tget_size(type);
            for (int i = 0; i < nd; i++) {
                count[i] = dims[i];
                if (i > 0)
                    bytes *= dims[i];
            }
            if (nd >= 1 && row < dims[0] && bytes == row_bytes) {
                start[0] = row;
                count[0] = 1;
                H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
                hid_t ms = H5Screate_simple(nd, count, NULL);
                ok = H5Dread(d, type, ms, fs, H5P_DEFAULT, buf) >= 0;
                H5Sclose(ms);
            }
            H5Sclose(fs);
            H5Tclose(type);
            H5Dclose(d);
        }
        if (f >= 0)
            H5Fclose(f);
    } H5E_END_TRY;
    return ok;
}

bool sbt_raw_row_is_zero(const char *file, const char *path, uint64_t row) {
    bool zero = false;
    size_t row_bytes = 0;
    H5E_BEGIN_TRY {
        hid_t f = sbt_raw_open(file);
        hid_t d = f >= 0 ? H5Dopen2(f, path, H5P_DEFAULT) : -1;
        if (d >= 0) {
            hid_t type = H5Dget_type(d);
            hid_t fs = H5Dget_space(d);
            hsize_t dims[H5S_MAX_RANK];
            int nd = H5Sget_simple_extent_dims(fs, dims, NULL);
            row_bytes = H5Tget_size(type);
            for (int i = 1; i < nd; i++)
                row_bytes *= dims[i];
            H5Sclose(fs);
            H5Tclose(type);
            H5Dclose(d);
        }
        if (f >= 0)
            H5Fclose(f);
    } H5E_END_TRY;
    if (row_bytes == 0)
        return false;
    unsigned char *buf = malloc(row_bytes);
    if (buf && sbt_raw_read_row(file, path, row, buf, row_bytes)) {
        zero = true;
        for (size_t i = 0; i < row_bytes; i++)
            if (buf[i])
                zero = false;
    }
    free(buf);
    return zero;
}

bool sbt_raw_attr_i64(const char *file, const char *obj, const char *attr, int64_t *value) {
    bool ok = false;
    H5E_BEGIN_TRY {
        hid_t f = sbt_raw_open(file);
        hid_t a = f >= 0 ? H5Aopen_by_name(f, obj, attr, H5P_DEFAULT, H5P_DEFAULT) : -1;
        if (a >= 0) {
            ok = H5Aread(a, H5T_NATIVE_INT64, value) >= 0;
            H5Aclose(a);
        }
        if (f >= 0)
            H5Fclose(f);
    } H5E_END_TRY;
    return ok;
}

bool sbt_raw_has_attr(const char *file, const char *obj, const char *attr) {
    htri_t has = 0;
    H5E_BEGIN_TRY {
        hid_t f = sbt_raw_open(file);
        if (f >= 0) {
            has = H5Aexists_by_name(f, obj, attr, H5P_DEFAULT);
            H5Fclose(f);
        }
    } H5E_END_TRY;
    return has > 0;
}

hid_t sbt_raw_bool_type(void) {
    hid_t t = H5Tenum_create(H5T_STD_I8LE);
    int8_t v = 0;
    H5Tenum_insert(t, "FALSE", &v);
    v = 1;
    H5Tenum_insert(t, "TRUE", &v);
    return t;
}

void sbt_raw_put_attr(hid_t obj, const char *name, hid_t type, const void *value) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, type, value);
    H5Aclose(a);
    H5Sclose(sp);
}

void sbt_raw_mark_dataset(hid_t group, int64_t capacity, int64_t size) {
    hid_t bt = sbt_raw_bool_type();
    int8_t yes = 1;
    sbt_raw_put_attr(group, "_sb_size", H5T_STD_I64LE, &size);
    sbt_raw_put_attr(group, "_sb_is_dataset", bt, &yes);
    sbt_raw_put_attr(group, "_sb_capacity", H5T_STD_I64LE, &capacity);
    H5Tclose(bt);
}

hid_t sbt_raw_make_field(hid_t group, const char *name, hid_t type, int ndim,
                         const hsize_t *dims, int64_t priority) {
    hid_t sp = H5Screate_simple(ndim, dims, NULL);
    hid_t d = H5Dcreate2(group, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (H5Tis_variable_str(type) > 0) { /* no bytes make a valid value: leave it unwritten */
        H5Sclose(sp);
        if (priority >= 0)
            sbt_raw_put_attr(d, "_sb_priority", H5T_STD_I64LE, &priority);
        return d;
    }
    size_t n = H5Tget_size(type);
    for (int i = 0; i < ndim; i++)
        n *= dims[i];
    unsigned char *buf = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i & 1); /* 0/1 bytes: valid for every type, bool too */
    H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    free(buf);
    H5Sclose(sp);
    if (priority >= 0)
        sbt_raw_put_attr(d, "_sb_priority", H5T_STD_I64LE, &priority);
    return d;
}

int sbt_disk_dump(const char *file, const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "HDF5_USE_FILE_LOCKING=FALSE h5dump %s '%s' 2>&1", args, file);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int64_t sbt_disk_size(const char *file, const char *ds)
{
    char args[600], out[4096];
    snprintf(args, sizeof args, "-a '/%s/_sb_size'", ds);
    if (sbt_disk_dump(file, args, out, sizeof out) != 0)
        return -1;
    const char *v = strstr(out, "(0): ");
    return v ? strtoll(v + 5, NULL, 10) : -1;
}
