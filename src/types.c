/* dtypes, arrays and names. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct {
    const char *name;
    size_t size;
} dtype_table[] = {
    [SB_BOOL] = {"bool", 1},     [SB_INT8] = {"int8", 1},       [SB_UINT8] = {"uint8", 1},
    [SB_INT16] = {"int16", 2},   [SB_UINT16] = {"uint16", 2},   [SB_INT32] = {"int32", 4},
    [SB_UINT32] = {"uint32", 4}, [SB_INT64] = {"int64", 8},     [SB_UINT64] = {"uint64", 8},
    [SB_FLOAT32] = {"float32", 4}, [SB_FLOAT64] = {"float64", 8},
};

bool sb__dtype_valid(sb_dtype dtype) { return (unsigned)dtype <= (unsigned)SB_FLOAT64; }

size_t sb_dtype_size(sb_dtype dtype) { return sb__dtype_valid(dtype) ? dtype_table[dtype].size : 0; }

const char *sb_dtype_name(sb_dtype dtype)
{
    return sb__dtype_valid(dtype) ? dtype_table[dtype].name : NULL;
}

int sb_dtype_parse(const char *name, sb_dtype *dtype)
{
    if (!name || !dtype)
        return sb__error(SB_ERR_INVALID, "sb_dtype_parse: NULL argument");
    for (int i = 0; i <= (int)SB_FLOAT64; i++) {
        if (strcmp(name, dtype_table[i].name) == 0) {
            *dtype = (sb_dtype)i;
            return 0;
        }
    }
    return sb__error(SB_ERR_INVALID, "unknown dtype '%s' (expected bool, int8..uint64, float32, float64)",
                     name);
}

uint64_t sb_array_count(const sb_array *a)
{
    if (!a || a->ndim < 0 || a->ndim > SB_MAX_DIMS)
        return 0;
    uint64_t n = 1;
    for (int i = 0; i < a->ndim; i++)
        n *= a->shape[i];
    return n;
}

uint64_t sb_array_nbytes(const sb_array *a)
{
    return a ? sb_array_count(a) * sb_dtype_size(a->dtype) : 0;
}

int sb_array_wrap(sb_array *a, sb_dtype dtype, int ndim, const uint64_t *shape, const void *data)
{
    if (!a)
        return sb__error(SB_ERR_INVALID, "sb_array_wrap: array is NULL");
    if (!sb__dtype_valid(dtype))
        return sb__error(SB_ERR_INVALID, "sb_array_wrap: invalid dtype %d", (int)dtype);
    if (ndim < 0 || ndim > SB_MAX_DIMS || (ndim > 0 && !shape))
        return sb__error(SB_ERR_INVALID, "sb_array_wrap: ndim %d out of [0, %d] or shape NULL",
                         ndim, SB_MAX_DIMS);
    memset(a, 0, sizeof *a);
    a->dtype = dtype;
    a->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        a->shape[i] = shape[i];
    a->data = (void *)data;
    return 0;
}

void sb_array_release(sb_array *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

void sb_strings_free(char **strings, size_t count)
{
    if (!strings)
        return;
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

void sb_free(void *ptr) { free(ptr); }

char *sb__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

hid_t sb__dtype_h5type(sb_dtype dtype)
{
    switch (dtype) {
    case SB_BOOL: return sb__bool_type();
    case SB_INT8: return H5Tcopy(H5T_STD_I8LE);
    case SB_UINT8: return H5Tcopy(H5T_STD_U8LE);
    case SB_INT16: return H5Tcopy(H5T_STD_I16LE);
    case SB_UINT16: return H5Tcopy(H5T_STD_U16LE);
    case SB_INT32: return H5Tcopy(H5T_STD_I32LE);
    case SB_UINT32: return H5Tcopy(H5T_STD_U32LE);
    case SB_INT64: return H5Tcopy(H5T_STD_I64LE);
    case SB_UINT64: return H5Tcopy(H5T_STD_U64LE);
    case SB_FLOAT32: return H5Tcopy(H5T_IEEE_F32LE);
    case SB_FLOAT64: return H5Tcopy(H5T_IEEE_F64LE);
    }
    return H5I_INVALID_HID;
}

int sb__dtype_from_h5(hid_t type, sb_dtype *dtype)
{
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    if (cls == H5T_ENUM) {
        /* numpy bool as h5py writes it: int8 base, FALSE=0, TRUE=1. */
        hid_t base = H5Tget_super(type);
        bool ok = base >= 0 && H5Tget_size(base) == 1 && H5Tget_nmembers(type) == 2;
        if (base >= 0)
            H5Tclose(base);
        if (ok) {
            char *m0 = H5Tget_member_name(type, 0), *m1 = H5Tget_member_name(type, 1);
            int8_t v0 = -1, v1 = -1;
            H5Tget_member_value(type, 0, &v0);
            H5Tget_member_value(type, 1, &v1);
            ok = m0 && m1 && ((strcmp(m0, "FALSE") == 0 && v0 == 0 && strcmp(m1, "TRUE") == 0 && v1 == 1) ||
                              (strcmp(m1, "FALSE") == 0 && v1 == 0 && strcmp(m0, "TRUE") == 0 && v0 == 1));
            H5free_memory(m0);
            H5free_memory(m1);
        }
        if (ok) {
            *dtype = SB_BOOL;
            return 0;
        }
        return SB_ERR_TYPE;
    }
    if (cls == H5T_INTEGER) {
        bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
        switch (size) {
        case 1: *dtype = is_signed ? SB_INT8 : SB_UINT8; return 0;
        case 2: *dtype = is_signed ? SB_INT16 : SB_UINT16; return 0;
        case 4: *dtype = is_signed ? SB_INT32 : SB_UINT32; return 0;
        case 8: *dtype = is_signed ? SB_INT64 : SB_UINT64; return 0;
        default: return SB_ERR_TYPE;
        }
    }
    if (cls == H5T_FLOAT) {
        if (size == 4 && H5Tequal(type, H5T_IEEE_F32LE) > 0) { *dtype = SB_FLOAT32; return 0; }
        if (size == 8 && H5Tequal(type, H5T_IEEE_F64LE) > 0) { *dtype = SB_FLOAT64; return 0; }
        if (size == 4 && H5Tequal(type, H5T_IEEE_F32BE) > 0) { *dtype = SB_FLOAT32; return 0; }
        if (size == 8 && H5Tequal(type, H5T_IEEE_F64BE) > 0) { *dtype = SB_FLOAT64; return 0; }
        return SB_ERR_TYPE;
    }
    return SB_ERR_TYPE;
}

int sb__check_name(const char *what, const char *name)
{
    if (!name)
        return sb__error(SB_ERR_INVALID, "%s name is NULL", what);
    size_t n = strlen(name);
    if (n == 0)
        return sb__error(SB_ERR_INVALID, "%s name is empty", what);
    if (n > 4096)
        return sb__error(SB_ERR_INVALID, "%s name is longer than 4096 bytes", what);
    if (name[0] == '/' || name[n - 1] == '/' || strstr(name, "//"))
        return sb__error(SB_ERR_INVALID,
                         "%s name '%s' is not a relative path (leading, trailing or double '/')",
                         what, name);
    const char *p = name;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return sb__error(SB_ERR_INVALID, "%s name '%s' has a '.' or '..' component", what, name);
        p += len;
        if (*p == '/')
            p++;
    }
    return 0;
}
