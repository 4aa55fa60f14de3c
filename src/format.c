/* The on-disk format: attributes as Python secbench and h5py write them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dtype.h"
#include "error.h"
#include "format.h"

static int attr_write(hid_t obj, const char *attr, hid_t type, const void *value)
{
    hid_t a = H5I_INVALID_HID, space = H5I_INVALID_HID;
    int rc = 0;
    if (H5Aexists(obj, attr) > 0) {
        a = H5Aopen(obj, attr, H5P_DEFAULT);
        /* Python may have written another type: replace it by ours. */
        if (a >= 0) {
            hid_t t = H5Aget_type(a);
            hid_t s = H5Aget_space(a);
            bool same = t >= 0 && H5Tequal(t, type) > 0 && s >= 0 &&
                        H5Sget_simple_extent_type(s) == H5S_SCALAR;
            if (t >= 0)
                H5Tclose(t);
            if (s >= 0)
                H5Sclose(s);
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
    hid_t t = sb__dtype_h5type(SB_BOOL);
    int8_t v = value ? 1 : 0;
    int rc = t < 0 ? sb__h5_error(SB_ERR_IO, "cannot make the bool type") : attr_write(obj, attr, t, &v);
    if (t >= 0)
        H5Tclose(t);
    return rc;
}

/* Open an attribute holding one value; SB_ERR_NOT_FOUND (silent) if absent. */
static int open_single(hid_t obj, const char *attr, const char *where, hid_t *out, hid_t *type)
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
    if (space >= 0)
        H5Sclose(space);
    /* numpy scalars are scalar dataspaces; a 1-element array has a truth
     * value and a number too. */
    if (npoints != 1) {
        H5Aclose(a);
        return sb__error(SB_ERR_FORMAT, "%s: attribute %s holds %lld values, not one", where,
                         attr, (long long)npoints);
    }
    *out = a;
    *type = H5Aget_type(a);
    if (*type < 0) {
        H5Aclose(a);
        return sb__h5_error(SB_ERR_FORMAT, "%s: cannot read the type of attribute %s", where, attr);
    }
    return 0;
}

/* The value of a one-element number attribute as a double and, for integers,
 * exactly. */
typedef struct number {
    bool integer;
    bool is_unsigned;
    int64_t i;
    uint64_t u;
    double d;
} number;

static int read_number(hid_t a, hid_t type, const char *where, const char *attr, number *n)
{
    H5T_class_t cls = H5Tget_class(type);
    memset(n, 0, sizeof *n);
    herr_t st = -1;
    if (cls == H5T_INTEGER || cls == H5T_ENUM) {
        hid_t base = cls == H5T_ENUM ? H5Tget_super(type) : H5Tcopy(type);
        if (base < 0)
            return sb__h5_error(SB_ERR_FORMAT, "%s: cannot read attribute %s", where, attr);
        n->integer = true;
        n->is_unsigned = H5Tget_sign(base) == H5T_SGN_NONE && H5Tget_size(base) == 8;
        if (cls == H5T_ENUM) {
            /* The enum's integer values, whatever its member names. */
            unsigned char raw[16] = {0};
            hid_t mem = H5Tcopy(H5T_NATIVE_INT64);
            st = H5Tget_size(base) <= 8 ? H5Aread(a, type, raw) : -1;
            if (st >= 0)
                st = H5Tconvert(base, mem, 1, raw, NULL, H5P_DEFAULT);
            if (st >= 0)
                memcpy(&n->i, raw, sizeof n->i);
            H5Tclose(mem);
        } else if (n->is_unsigned) {
            st = H5Aread(a, H5T_NATIVE_UINT64, &n->u);
        } else {
            st = H5Aread(a, H5T_NATIVE_INT64, &n->i);
        }
        if (!n->is_unsigned)
            n->u = (uint64_t)n->i;
        n->d = n->is_unsigned ? (double)n->u : (double)n->i;
        H5Tclose(base);
    } else if (cls == H5T_FLOAT) {
        st = H5Aread(a, H5T_NATIVE_DOUBLE, &n->d);
    } else {
        return SB_ERR_TYPE;
    }
    if (st < 0)
        return sb__h5_error(SB_ERR_FORMAT, "%s: cannot read attribute %s", where, attr);
    return 0;
}

int sb__attr_read_int(hid_t obj, const char *attr, const char *where, int64_t *value)
{
    hid_t a = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int rc = open_single(obj, attr, where, &a, &type);
    if (rc < 0)
        return rc == SB_ERR_NOT_FOUND ? sb__error(rc, "%s: attribute %s is missing", where, attr) : rc;
    number n;
    rc = read_number(a, type, where, attr, &n);
    if (rc == SB_ERR_TYPE)
        rc = sb__error(SB_ERR_FORMAT, "%s: attribute %s is not a number", where, attr);
    else if (rc == 0 && n.integer && n.is_unsigned && n.u > (uint64_t)INT64_MAX)
        rc = sb__error(SB_ERR_FORMAT, "%s: attribute %s = %llu is too large", where, attr,
                       (unsigned long long)n.u);
    else if (rc == 0 && n.integer)
        *value = n.is_unsigned ? (int64_t)n.u : n.i;
    else if (rc == 0 && (!(n.d == floor(n.d)) || n.d < -9.2233720368547758e18 ||
                         n.d >= 9.2233720368547758e18))
        rc = sb__error(SB_ERR_FORMAT, "%s: attribute %s = %g is not an integer", where, attr, n.d);
    else if (rc == 0)
        *value = (int64_t)n.d;
    H5Tclose(type);
    H5Aclose(a);
    return rc;
}

int sb__attr_read_number(hid_t obj, const char *attr, const char *where, long double *value)
{
    hid_t a = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int rc = open_single(obj, attr, where, &a, &type);
    if (rc < 0)
        return rc;
    number n;
    rc = read_number(a, type, where, attr, &n);
    if (rc == SB_ERR_TYPE)
        rc = sb__error(SB_ERR_FORMAT, "%s: attribute %s is not a number", where, attr);
    else if (rc == 0)
        *value = !n.integer ? (long double)n.d : n.is_unsigned ? (long double)n.u : (long double)n.i;
    H5Tclose(type);
    H5Aclose(a);
    return rc;
}

/* Python's truth value of a string: non-empty (h5py drops the padding). */
static int string_truth(hid_t a, hid_t type, const char *where, const char *attr, bool *value)
{
    int rc = 0;
    if (H5Tis_variable_str(type) > 0) {
        char *s = NULL;
        hid_t mem = H5Tcopy(H5T_C_S1);
        H5Tset_size(mem, H5T_VARIABLE);
        H5Tset_cset(mem, H5Tget_cset(type));
        if (H5Aread(a, mem, &s) < 0)
            rc = sb__h5_error(SB_ERR_FORMAT, "%s: cannot read attribute %s", where, attr);
        else
            *value = s && s[0];
        if (s)
            H5free_memory(s);
        H5Tclose(mem);
        return rc;
    }
    size_t size = H5Tget_size(type);
    char *buf = calloc(size + 1, 1);
    if (!buf)
        return sb__error(SB_ERR_NOMEM, "out of memory reading attribute %s", attr);
    if (H5Aread(a, type, buf) < 0)
        rc = sb__h5_error(SB_ERR_FORMAT, "%s: cannot read attribute %s", where, attr);
    bool any = false;
    for (size_t i = 0; i < size; i++)
        any |= buf[i] != '\0' && !(H5Tget_strpad(type) == H5T_STR_SPACEPAD && buf[i] == ' ');
    *value = any;
    free(buf);
    return rc;
}

int sb__attr_read_bool(hid_t obj, const char *attr, const char *where, bool *present,
                       bool *value)
{
    hid_t a = H5I_INVALID_HID, type = H5I_INVALID_HID;
    *present = false;
    *value = false;
    int rc = open_single(obj, attr, where, &a, &type);
    if (rc == SB_ERR_NOT_FOUND)
        return 0;
    if (rc < 0)
        return rc;
    bool v = false;
    if (H5Tget_class(type) == H5T_STRING) {
        rc = string_truth(a, type, where, attr, &v);
    } else {
        number n;
        rc = read_number(a, type, where, attr, &n);
        if (rc == SB_ERR_TYPE)
            rc = sb__error(SB_ERR_FORMAT, "%s: attribute %s has no truth value (not a number, "
                           "bool or string)", where, attr);
        v = n.integer ? n.u != 0 : n.d != 0.0;
    }
    if (rc == 0) {
        *present = true;
        *value = v;
    }
    H5Tclose(type);
    H5Aclose(a);
    return rc;
}

int sb__names_fixed(char **buf, size_t *width, size_t n, const char *const *strings)
{
    /* Fixed-length strings: readable by h5py as numpy 'S' arrays, and safe
     * for parallel HDF5 (no global heap). */
    size_t w = 1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(strings[i]);
        if (len > w)
            w = len;
    }
    *buf = calloc(n ? n : 1, w);
    if (!*buf)
        return sb__error(SB_ERR_NOMEM, "out of memory packing %zu names", n);
    for (size_t i = 0; i < n; i++)
        memcpy(*buf + i * w, strings[i], strlen(strings[i]));
    *width = w;
    return 0;
}

int sb__attr_write_packed(hid_t obj, const char *attr, size_t n, size_t width, const char *buf)
{
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
    return rc;
}

int sb__attr_write_strings(hid_t obj, const char *attr, size_t n, const char *const *strings)
{
    char *buf = NULL;
    size_t width = 0;
    int rc = sb__names_fixed(&buf, &width, n, strings);
    if (rc < 0)
        return sb__error(SB_ERR_NOMEM, "out of memory writing attribute %s", attr);
    rc = sb__attr_write_packed(obj, attr, n, width, buf);
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
    char *buf = NULL, **out = NULL;
    if (a < 0 || type < 0 || space < 0 || H5Tget_class(type) != H5T_STRING ||
        H5Tis_variable_str(type) != 0 || H5Sget_simple_extent_ndims(space) != 1) {
        rc = sb__error(SB_ERR_FORMAT, "%s: attribute %s is not a 1-D array of fixed strings",
                       where, attr);
        goto done;
    }
    hssize_t count = H5Sget_simple_extent_npoints(space);
    size_t width = H5Tget_size(type);
    buf = calloc((size_t)count + 1, width);
    out = calloc((size_t)count + 1, sizeof *out);
    if (!buf || !out) {
        rc = sb__error(SB_ERR_NOMEM, "out of memory reading %s", attr);
        goto done;
    }
    if (H5Aread(a, type, buf) < 0) {
        rc = sb__h5_error(SB_ERR_FORMAT, "%s: cannot read attribute %s", where, attr);
        goto done;
    }
    for (hssize_t i = 0; i < count; i++) {
        out[i] = calloc(width + 1, 1);
        if (!out[i]) {
            rc = sb__error(SB_ERR_NOMEM, "out of memory reading %s", attr);
            goto done;
        }
        memcpy(out[i], buf + (size_t)i * width, width);
    }
    *strings = sb__strings_pack(out, (size_t)count);
    if (!*strings && count > 0)
        rc = SB_ERR_NOMEM;
    else
        *n = (size_t)count;
done:
    if (out)
        for (hssize_t i = 0; out[i]; i++)
            free(out[i]);
    free(out);
    free(buf);
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
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl >= 0 && (H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 ||
                      H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
                      H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0)) {
        H5Pclose(dcpl);
        return H5I_INVALID_HID;
    }
    return dcpl;
}
