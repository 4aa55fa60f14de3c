/* dtypes, arrays, names, and the memory the library hands out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype.h"
#include "error.h"

static const struct {
    const char *name;
    size_t size;
} dtype_table[] = {
    [SB_BOOL] = {"bool", 1},         [SB_INT8] = {"int8", 1},
    [SB_UINT8] = {"uint8", 1},       [SB_INT16] = {"int16", 2},
    [SB_UINT16] = {"uint16", 2},     [SB_INT32] = {"int32", 4},
    [SB_UINT32] = {"uint32", 4},     [SB_INT64] = {"int64", 8},
    [SB_UINT64] = {"uint64", 8},     [SB_FLOAT32] = {"float32", 4},
    [SB_FLOAT64] = {"float64", 8},   [SB_FLOAT16] = {"float16", 2},
    [SB_COMPLEX64] = {"complex64", 8}, [SB_COMPLEX128] = {"complex128", 16},
};
#define NAMED_DTYPES (sizeof dtype_table / sizeof dtype_table[0])

bool sb_dtype_is_bytes(sb_dtype dtype)
{
    unsigned v = (unsigned)dtype;
    return v > (unsigned)SB_BYTES_BASE && v <= (unsigned)SB_BYTES_BASE + SB_BYTES_MAX;
}

bool sb_dtype_valid(sb_dtype dtype)
{
    return (unsigned)dtype < NAMED_DTYPES || sb_dtype_is_bytes(dtype);
}

size_t sb_dtype_size(sb_dtype dtype)
{
    if ((unsigned)dtype < NAMED_DTYPES)
        return dtype_table[dtype].size;
    return sb_dtype_is_bytes(dtype) ? (size_t)dtype - (size_t)SB_BYTES_BASE : 0;
}

const char *sb_dtype_name(sb_dtype dtype)
{
    static _Thread_local char bytes_name[16];
    if ((unsigned)dtype < NAMED_DTYPES)
        return dtype_table[dtype].name;
    if (!sb_dtype_is_bytes(dtype))
        return NULL;
    snprintf(bytes_name, sizeof bytes_name, "S%zu", sb_dtype_size(dtype));
    return bytes_name;
}

int sb_dtype_parse(sb_dtype *dtype, const char *name)
{
    if (!dtype || !name)
        return sb__error(SB_ERR_INVALID, "sb_dtype_parse: %s is NULL", dtype ? "name" : "dtype");
    for (size_t i = 0; i < NAMED_DTYPES; i++) {
        if (strcmp(name, dtype_table[i].name) == 0) {
            *dtype = (sb_dtype)i;
            return 0;
        }
    }
    if (name[0] == 'S' && name[1] >= '1' && name[1] <= '9' && strlen(name) <= 9) {
        char *end = NULL;
        unsigned long n = strtoul(name + 1, &end, 10);
        if (*end == '\0' && n >= 1 && n <= SB_BYTES_MAX) {
            *dtype = SB_BYTES(n);
            return 0;
        }
    }
    return sb__error(SB_ERR_INVALID,
                     "unknown dtype '%s' (expected bool, int8..int64, uint8..uint64, float16, "
                     "float32, float64, complex64, complex128 or S<n>)",
                     name);
}

uint64_t sb_array_count(const sb_array *a)
{
    if (!a || a->ndim < 0 || a->ndim > SB_MAX_DIMS)
        return 0;
    uint64_t n = 1;
    for (int i = 0; i < a->ndim; i++)
        if (sb__mul_overflows(n, a->shape[i], &n))
            return UINT64_MAX;
    return n;
}

uint64_t sb_array_nbytes(const sb_array *a)
{
    if (!a)
        return 0;
    uint64_t count = sb_array_count(a), bytes;
    if (count == UINT64_MAX || sb__mul_overflows(count, sb_dtype_size(a->dtype), &bytes))
        return UINT64_MAX;
    return bytes;
}

int sb_array_wrap(sb_array *a, sb_dtype dtype, int ndim, const uint64_t *shape, const void *data)
{
    if (!a)
        return sb__error(SB_ERR_INVALID, "sb_array_wrap: array is NULL");
    if (!sb_dtype_valid(dtype))
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

void sb_free(void *ptr) { free(ptr); }

char *sb__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char **sb__strings_pack(char *const *strings, size_t count)
{
    if (count == 0)
        return NULL;
    size_t bytes = count * sizeof(char *);
    for (size_t i = 0; i < count; i++)
        bytes += strlen(strings[i]) + 1;
    char **out = malloc(bytes);
    if (!out) {
        sb__error(SB_ERR_NOMEM, "out of memory for a list of %zu names", count);
        return NULL;
    }
    char *p = (char *)(out + count);
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(strings[i]) + 1;
        memcpy(p, strings[i], n);
        out[i] = p;
        p += n;
    }
    return out;
}

/* ---- HDF5 types --------------------------------------------------------- */

static hid_t bool_type(void)
{
    /* numpy bool through h5py: enum over int8 with FALSE=0, TRUE=1. */
    hid_t t = H5Tenum_create(H5T_STD_I8LE);
    int8_t v = 0;
    if (t >= 0 && (H5Tenum_insert(t, "FALSE", &v) < 0 || (v = 1, H5Tenum_insert(t, "TRUE", &v) < 0))) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

static hid_t half_type(void)
{
    /* h5py's IEEE half: sign bit 15, exponent bits 10-14 (bias 15), mantissa 0-9. */
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t >= 0 && (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 ||
                   H5Tset_ebias(t, 15) < 0)) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

static hid_t complex_type(hid_t part)
{
    /* h5py's complex: a compound of "r" then "i". */
    size_t size = H5Tget_size(part);
    hid_t t = H5Tcreate(H5T_COMPOUND, 2 * size);
    if (t >= 0 && (H5Tinsert(t, "r", 0, part) < 0 || H5Tinsert(t, "i", size, part) < 0)) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

static hid_t bytes_type(size_t n)
{
    /* numpy 'S<n>' through h5py: fixed-length, null-padded ASCII. */
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, n) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
                   H5Tset_cset(t, H5T_CSET_ASCII) < 0)) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

hid_t sb__dtype_h5type(sb_dtype dtype)
{
    if (sb_dtype_is_bytes(dtype))
        return bytes_type(sb_dtype_size(dtype));
    switch (dtype) {
    case SB_BOOL: return bool_type();
    case SB_INT8: return H5Tcopy(H5T_STD_I8LE);
    case SB_UINT8: return H5Tcopy(H5T_STD_U8LE);
    case SB_INT16: return H5Tcopy(H5T_STD_I16LE);
    case SB_UINT16: return H5Tcopy(H5T_STD_U16LE);
    case SB_INT32: return H5Tcopy(H5T_STD_I32LE);
    case SB_UINT32: return H5Tcopy(H5T_STD_U32LE);
    case SB_INT64: return H5Tcopy(H5T_STD_I64LE);
    case SB_UINT64: return H5Tcopy(H5T_STD_U64LE);
    case SB_FLOAT16: return half_type();
    case SB_FLOAT32: return H5Tcopy(H5T_IEEE_F32LE);
    case SB_FLOAT64: return H5Tcopy(H5T_IEEE_F64LE);
    case SB_COMPLEX64: return complex_type(H5T_IEEE_F32LE);
    case SB_COMPLEX128: return complex_type(H5T_IEEE_F64LE);
    default: return H5I_INVALID_HID;
    }
}

hid_t sb__dtype_memtype(hid_t file_type, sb_dtype dtype)
{
    return sb_dtype_is_bytes(dtype) ? H5Tcopy(file_type) : sb__dtype_h5type(dtype);
}

static bool is_bool_enum(hid_t type)
{
    hid_t base = H5Tget_super(type);
    bool ok = base >= 0 && H5Tget_size(base) == 1 && H5Tget_nmembers(type) == 2;
    if (base >= 0)
        H5Tclose(base);
    if (!ok)
        return false;
    char *m0 = H5Tget_member_name(type, 0), *m1 = H5Tget_member_name(type, 1);
    int8_t v0 = -1, v1 = -1;
    H5Tget_member_value(type, 0, &v0);
    H5Tget_member_value(type, 1, &v1);
    ok = m0 && m1 &&
         ((strcmp(m0, "FALSE") == 0 && v0 == 0 && strcmp(m1, "TRUE") == 0 && v1 == 1) ||
          (strcmp(m1, "FALSE") == 0 && v1 == 0 && strcmp(m0, "TRUE") == 0 && v0 == 1));
    H5free_memory(m0);
    H5free_memory(m1);
    return ok;
}

static bool is_half(hid_t type)
{
    size_t spos, epos, esize, mpos, msize;
    return H5Tget_size(type) == 2 && H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0 &&
           spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 &&
           H5Tget_ebias(type) == 15;
}

static int float_dtype(hid_t type, sb_dtype *dtype)
{
    size_t spos, epos, esize, mpos, msize;
    if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0)
        return SB_ERR_TYPE;
    size_t size = H5Tget_size(type);
    if (is_half(type))
        *dtype = SB_FLOAT16;
    else if (size == 4 && esize == 8 && msize == 23 && H5Tget_ebias(type) == 127)
        *dtype = SB_FLOAT32;
    else if (size == 8 && esize == 11 && msize == 52 && H5Tget_ebias(type) == 1023)
        *dtype = SB_FLOAT64;
    else
        return SB_ERR_TYPE;
    return 0;
}

/* h5py's complex: two members "r" and "i", floats of one size, packed. */
static int complex_dtype(hid_t type, sb_dtype *dtype)
{
    if (H5Tget_nmembers(type) != 2)
        return SB_ERR_TYPE;
    int rc = 0;
    size_t part = 0;
    for (unsigned m = 0; m < 2 && rc == 0; m++) {
        char *name = H5Tget_member_name(type, m);
        hid_t mt = H5Tget_member_type(type, m);
        sb_dtype f;
        bool ok = name && strcmp(name, m == 0 ? "r" : "i") == 0 && mt >= 0 &&
                  H5Tget_class(mt) == H5T_FLOAT && float_dtype(mt, &f) == 0 &&
                  (f == SB_FLOAT32 || f == SB_FLOAT64) &&
                  H5Tget_member_offset(type, m) == (m == 0 ? 0 : part);
        if (ok && m == 0)
            part = H5Tget_size(mt);
        ok = ok && H5Tget_size(mt) == part;
        if (!ok)
            rc = SB_ERR_TYPE;
        H5free_memory(name);
        if (mt >= 0)
            H5Tclose(mt);
    }
    if (rc == 0 && H5Tget_size(type) == 2 * part)
        *dtype = part == 4 ? SB_COMPLEX64 : SB_COMPLEX128;
    else
        rc = SB_ERR_TYPE;
    return rc;
}

int sb__dtype_from_h5(hid_t type, sb_dtype *dtype, char *what, size_t len)
{
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    int rc = SB_ERR_TYPE;
    switch (cls) {
    case H5T_INTEGER: {
        bool s = H5Tget_sign(type) == H5T_SGN_2;
        rc = 0;
        switch (size) {
        case 1: *dtype = s ? SB_INT8 : SB_UINT8; break;
        case 2: *dtype = s ? SB_INT16 : SB_UINT16; break;
        case 4: *dtype = s ? SB_INT32 : SB_UINT32; break;
        case 8: *dtype = s ? SB_INT64 : SB_UINT64; break;
        default: rc = SB_ERR_TYPE; snprintf(what, len, "%zu-byte integer", size);
        }
        break;
    }
    case H5T_FLOAT:
        rc = float_dtype(type, dtype);
        if (rc < 0)
            snprintf(what, len, "%zu-byte float of a layout numpy has no dtype for", size);
        break;
    case H5T_ENUM:
        if (is_bool_enum(type)) {
            *dtype = SB_BOOL;
            rc = 0;
        } else {
            snprintf(what, len, "enum of %d members", H5Tget_nmembers(type));
        }
        break;
    case H5T_COMPOUND:
        rc = complex_dtype(type, dtype);
        if (rc < 0)
            snprintf(what, len, "compound of %d members", H5Tget_nmembers(type));
        break;
    case H5T_STRING:
        if (H5Tis_variable_str(type) > 0) {
            snprintf(what, len, "variable-length string");
        } else if (size >= 1 && size <= SB_BYTES_MAX) {
            *dtype = SB_BYTES(size);
            rc = 0;
        } else {
            snprintf(what, len, "%zu-byte string", size);
        }
        break;
    case H5T_REFERENCE: snprintf(what, len, "reference"); break;
    case H5T_VLEN: snprintf(what, len, "variable-length sequence"); break;
    case H5T_ARRAY: snprintf(what, len, "HDF5 array type"); break;
    case H5T_OPAQUE: snprintf(what, len, "opaque type"); break;
    case H5T_BITFIELD: snprintf(what, len, "bitfield"); break;
    case H5T_TIME: snprintf(what, len, "time type"); break;
    default: snprintf(what, len, "unknown HDF5 type class %d", (int)cls); break;
    }
    if (rc == 0)
        snprintf(what, len, "%s", sb_dtype_name(*dtype));
    return rc;
}

/* ---- names -------------------------------------------------------------- */

static int check_path(const char *what, const char *name)
{
    size_t n = strlen(name);
    if (n == 0)
        return sb__error(SB_ERR_INVALID, "%s name is empty", what);
    if (n > 4096)
        return sb__error(SB_ERR_INVALID, "%s name is longer than 4096 bytes", what);
    if (name[n - 1] == '/' || strstr(name, "//"))
        return sb__error(SB_ERR_INVALID, "%s name '%s' has a trailing or double '/'", what, name);
    for (const char *p = name; *p;) {
        size_t len = strcspn(p, "/");
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return sb__error(SB_ERR_INVALID, "%s name '%s' has a '.' or '..' component", what,
                             name);
        p += len;
        if (*p == '/')
            p++;
    }
    return 0;
}

int sb__dataset_name(const char *what, const char *name, const char **out)
{
    if (!name)
        return sb__error(SB_ERR_INVALID, "%s name is NULL", what);
    while (*name == '/')
        name++;
    int rc = check_path(what, name);
    if (rc == 0)
        *out = name;
    return rc;
}

int sb__member_name(const char *what, const char *dataset, const char *name)
{
    if (!name || !name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return sb__error(SB_ERR_INVALID, "dataset '%s': %s name '%s' is not a plain name", dataset,
                         what, name ? name : "(null)");
    return 0;
}
