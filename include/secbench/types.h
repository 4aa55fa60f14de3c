/* Element types and the array descriptor used to pass rows and assets. */
#ifndef SECBENCH_TYPES_H
#define SECBENCH_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secbench/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* numpy dtypes a field or an asset may hold, stored with the HDF5 types h5py
 * uses, so that Python reads them back as the same dtype:
 * - SB_BOOL: one byte, 0 or 1; in the file h5py's int8 enum FALSE=0, TRUE=1.
 * - SB_FLOAT16: IEEE half precision; in memory its 16 bits (uint16_t).
 * - SB_COMPLEX64 / SB_COMPLEX128: in memory {real, imaginary} as two float /
 *   two double; in the file h5py's compound of members "r" and "i".
 * - SB_BYTES(n): numpy 'S<n>', n bytes per element (1 <= n <= SB_BYTES_MAX),
 *   a fixed-length, null-padded HDF5 string. */
typedef enum sb_dtype {
    SB_BOOL, SB_INT8, SB_UINT8, SB_INT16, SB_UINT16, SB_INT32, SB_UINT32,
    SB_INT64, SB_UINT64, SB_FLOAT32, SB_FLOAT64, SB_FLOAT16, SB_COMPLEX64,
    SB_COMPLEX128,
    SB_BYTES_BASE = 0x1000000 /* not a dtype: SB_BYTES(n) counts from here */
} sb_dtype;

#define SB_BYTES_MAX 0xFFFFFF
#define SB_BYTES(n) ((sb_dtype)(SB_BYTES_BASE + (n)))

#define SB_MAX_DIMS 8

/* A C-ordered (row-major) array. The array does not own `data` unless a
 * getter of the library filled it (then free it with sb_free(array.data)). */
typedef struct sb_array {
    sb_dtype dtype;
    int ndim;                    /* 0 for a scalar */
    uint64_t shape[SB_MAX_DIMS];
    void *data;
} sb_array;

/* Whether `dtype` is one of the above (SB_BYTES(n) with n in range included). */
SB_API bool sb_dtype_valid(sb_dtype dtype);
/* Whether `dtype` is SB_BYTES(n) for some n. */
SB_API bool sb_dtype_is_bytes(sb_dtype dtype);
/* Size in bytes of one element of `dtype` (0 for an invalid dtype). */
SB_API size_t sb_dtype_size(sb_dtype dtype);
/* numpy name of a dtype ("int8", "float16", "complex64", "S8"); NULL if
 * invalid. The name of SB_BYTES(n) lives in a thread-local buffer that the
 * next call on this thread may reuse. */
SB_API const char *sb_dtype_name(sb_dtype dtype);
/* Inverse of sb_dtype_name ("S8" gives SB_BYTES(8)). SB_ERR_INVALID naming
 * the text otherwise. */
SB_API int sb_dtype_parse(sb_dtype *dtype, const char *name);

/* Number of elements (product of the shape; 1 for a scalar); 0 for an
 * invalid descriptor, UINT64_MAX if the product does not fit. */
SB_API uint64_t sb_array_count(const sb_array *array);
/* Size in bytes of the array's data; UINT64_MAX if it does not fit. */
SB_API uint64_t sb_array_nbytes(const sb_array *array);
/* Fill `array` as a view of `data` with the given shape. Returns 0 or SB_ERR_INVALID. */
SB_API int sb_array_wrap(sb_array *array, sb_dtype dtype, int ndim, const uint64_t *shape,
                         const void *data);

#ifdef __cplusplus
}
#endif
#endif
