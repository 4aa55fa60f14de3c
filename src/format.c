/* The on-disk format: attributes as Python secbench and h5py write them. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

hid_t sb__bool_type(void)
{
    /* numpy bool through h5py: enum over int8 with FALSE=0, TRUE=1. */
    hid_t t = H5Tenum_create(H5T_STD_I8LE);
    if (t < 0)
        return t;
    int8_t v = 0;
    H5Tenum_insert(t, "FALSE", &v);
    v = 1;
    H5Tenum_insert(t, "TRUE", &v);
    return t;
}

static int attr_write(hid_t obj, const char *attr, hid_t type, const void *value)
{
    hid_t a = H5I_INVALID_HID, space = H5I_INVALID_HID;
    int rc = 0;
    htri_t exists = H5Aexists(obj, attr);
    if (exists > 0) {
        a = H5Aopen(obj, attr, H5P_DEFAULT);
        /* Python may have written another width: replace it by ours. */
        if (a >= 0) {
            hid_t t = H5Aget_type(a);
            bool same = t >= 0 && H5Tequal(t, type) > 0;
            if (t >= 0)
                H5Tclose(t);
            if (!same) {
                H5Aclose(a);
                a = H5I_INVALID_HID;
                if (H5Adelete(obj, attr) < 0)
                    return sb__h5_error(SB_ERR_IO, "cannot replace attribute %s", attr);
            }
        }
    }
    if (a < 0) {
        space = H5Screate(H5S_SCALAR);
        a = H5Acreate2(obj, attr, type, space, H5P_DEFAULT, H5P_DEFAULT);
    }
    if (a < 0 || H5Awrite(a, type, value) < 0)
        rc = sb__h5_error(SB_ERR_IO, "cannot write attribute %s", attr);
    if (a >= 0)
        H5Aclose(a);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

int sb__attr_write_i64(hid_t obj, const char *attr, int64_t value)
{
    return attr_write(obj, attr, H5T_STD_I64LE, &value);
}

int sb__attr_write_bool(hid_t obj, const char *attr, bool value)
{
    hid_t t = sb__bool_type();
    int8_t v = value ? 1 : 0;
    int rc = attr_write(obj, attr, t, &v);
    H5Tclose(t);
    return rc;
}

/* Open a scalar attribute of the given class; codes as sb__attr_read_int. */
static int open_scalar(hid_t obj, const char *attr, const char *where, hid_t *out,
                       hid_t *type)
{
    htri_t exists = H5Aexists(obj, attr);
    if (exists < 0)
        return sb__h5_error(SB_ERR_FORMAT, "%s: cannot look up attribute %s", where, attr);
    if (exists == 0)
        return SB_ERR_NOT_FOUND;
    hid_t a = H5Aopen(obj, attr, H5P_DEFAULT);
    if (a < 0)
        return sb__h5_error(SB_ERR_FORMAT, "%s: cannot open attribute %s", where, attr);
    hid_t space = H5Aget_space(a);
    hssize_t npoints = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int ndims = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (space >= 0)
        H5Sclose(space);
    /* numpy scalars are scalar dataspaces; accept a 1-element array too. */
    if (npoints != 1 || ndims > 1) {
        H5Aclose(a);
        return sb__error(SB_ERR_FORMAT, "%s: attribute %s is not a scalar", where, attr);
    }
    *out = a;
    *type = H5Aget_type(a);
    return 0;
}

int sb__attr_read_int(hid_t obj, const char *attr, const char *where, int64_t *value)
{
    hid_t a, type;
    int rc = open_scalar(obj, attr, where, &a, &type);
    if (rc == SB_ERR_NOT_FOUND)
        return sb__error(SB_ERR_NOT_FOUND, "%s: attribute %s is missing", where, attr);
    if (rc < 0)
        return rc;
    H5T_class_t cls = H5Tget_class(type);
    if (cls != H5T_INTEGER) {
        rc = sb__error(SB_ERR_FORMAT, "%s: attribute %s is not an integer", where, attr);
    } else if (H5Tget_size(type) == 8 && H5Tget_sign(type) == H5T_SGN_NONE) {
        uint64_t u = 0;
        if (H5Aread(a, H5T_NATIVE_UINT64, &u) < 0)
            rc = sb__h5_error(SB_ERR_FORMAT, "%s: cannot read attribute %s", where, attr);
        else if (u > (uint64_t)INT64_MAX)
            rc = sb__error(SB_ERR_FORMAT, "%s: attribute %s is too large", where, attr);
        else
            *value = (int64_t)u;
    } else if (H5Aread(a, H5T_NATIVE_INT64, value) < 0) {
        rc = sb__h5_error(SB_ERR_FORMAT, "%s: cannot read attribute %s", where, attr);
    }
    H5Tclose(type);
    H5Aclose(a);
    return rc;
}

int sb__attr_read_bool(hid_t obj, const char *attr, const char *where, bool *present,
                       bool *value)
{
    hid_t a, type;
    *present = false;
    *value = false;
    int rc = open_scalar(obj, attr, where, &a, &type);
    if (rc == SB_ERR_NOT_FOUND)
        return 0;
    if (rc < 0)
        return rc;
    H5T_class_t cls = H5Tget_class(type);
    if (cls != H5T_ENUM && cls != H5T_INTEGER) {
        rc = sb__error(SB_ERR_FORMAT, "%s: attribute %s is not a boolean", where, attr);
    } else {
        /* Read the enum's integer values whatever its member names. */
        hid_t base = cls == H5T_ENUM ? H5Tget_super(type) : H5Tcopy(type);
        int64_t v = 0;
        hid_t mem = H5Tcopy(H5T_NATIVE_INT64);
        if (base < 0 || H5Tget_size(base) > 8)
            rc = sb__error(SB_ERR_FORMAT, "%s: attribute %s is not a boolean", where, attr);
        else if (cls == H5T_ENUM) {
            unsigned char raw[8] = {0};
            if (H5Aread(a, type, raw) < 0)
                rc = sb__h5_error(SB_ERR_FORMAT, "%s: cannot read attribute %s", where, attr);
            else if (H5Tconvert(base, mem, 1, raw, NULL, H5P_DEFAULT) < 0)
                rc = sb__h5_error(SB_ERR_FORMAT, "%s: cannot read attribute %s", where, attr);
            else
                memcpy(&v, raw, sizeof v);
        } else if (H5Aread(a, H5T_NATIVE_INT64, &v) < 0) {
            rc = sb__h5_error(SB_ERR_FORMAT, "%s: cannot read attribute %s", where, attr);
        }
        if (rc == 0) {
            *present = true;
            *value = v != 0;
        }
        H5Tclose(mem);
        if (base >= 0)
            H5Tclose(base);
    }
    H5Tclose(type);
    H5Aclose(a);
    return rc;
}

int sb__attr_write_strings(hid_t obj, const char *attr, size_t n, const char *const *strings)
{
    /* Fixed-length strings: readable by h5py as numpy 'S' arrays, and safe
     * for parallel HDF5 (no global heap). */
    size_t width = 1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(strings[i]);
        if (len > width)
            width = len;
    }
    char *buf = calloc(n ? n : 1, width);
    if (!buf)
        return sb__error(SB_ERR_NOMEM, "out of memory writing attribute %s", attr);
    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * width, strings[i], strlen(strings[i]));
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, width);
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hsize_t dims = n;
    hid_t space = H5Screate_simple(1, &dims, NULL);
    int rc = 0;
    if (H5Aexists(obj, attr) > 0)
        H5Adelete(obj, attr);
    hid_t a = H5Acreate2(obj, attr, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, type, buf) < 0)
        rc = sb__h5_error(SB_ERR_IO, "cannot write attribute %s", attr);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    free(buf);
    return rc;
}

int sb__attr_read_strings(hid_t obj, const char *attr, const char *where, char ***strings,
                          size_t *n)
{
    *strings = NULL;
    *n = 0;
    htri_t exists = H5Aexists(obj, attr);
    if (exists <= 0)
        return exists < 0 ? sb__h5_error(SB_ERR_FORMAT, "%s: cannot look up %s", where, attr)
                          : SB_ERR_NOT_FOUND;
    hid_t a = H5Aopen(obj, attr, H5P_DEFAULT);
    hid_t type = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    hid_t space = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    int rc = 0;
    if (a < 0 || type < 0 || space < 0 || H5Tget_class(type) != H5T_STRING ||
        H5Tis_variable_str(type) != 0 || H5Sget_simple_extent_ndims(space) != 1) {
        rc = sb__error(SB_ERR_FORMAT, "%s: attribute %s is not a 1-D array of fixed strings",
                       where, attr);
        goto done;
    }
    hssize_t count = H5Sget_simple_extent_npoints(space);
    size_t width = H5Tget_size(type);
    char *buf = calloc((size_t)count + 1, width);
    char **out = calloc((size_t)count + 1, sizeof *out);
    if (!buf || !out) {
        free(buf);
        free(out);
        rc = sb__error(SB_ERR_NOMEM, "out of memory reading %s", attr);
        goto done;
    }
    if (H5Aread(a, type, buf) < 0) {
        free(buf);
        free(out);
        rc = sb__h5_error(SB_ERR_FORMAT, "%s: cannot read attribute %s", where, attr);
        goto done;
    }
    for (hssize_t i = 0; i < count; i++) {
        out[i] = calloc(width + 1, 1);
        if (!out[i]) {
            sb_strings_free(out, (size_t)i);
            free(buf);
            rc = sb__error(SB_ERR_NOMEM, "out of memory reading %s", attr);
            goto done;
        }
        memcpy(out[i], buf + (size_t)i * width, width);
    }
    free(buf);
    *strings = out;
    *n = (size_t)count;
done:
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

hid_t sb__dcpl_contiguous(void)
{
    /* Contiguous like Python's; allocated at creation (MPI-IO needs it) and
     * never filled: a fill would cost one full extra write of the field. */
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_layout(dcpl, H5D_CONTIGUOUS);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
    return dcpl;
}
