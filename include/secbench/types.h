/* Element types and the array descriptor used to pass rows and assets. */
#ifndef SECBENCH_TYPES_H
#define SECBENCH_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* numpy dtypes a field or an asset may hold. SB_BOOL is numpy's bool
 * (one byte, 0 or 1), stored as h5py does: an int8 enum FALSE=0, TRUE=1. */
typedef enum sb_dtype {
    SB_BOOL, SB_INT8, SB_UINT8, SB_INT16, SB_UINT16, SB_INT32, SB_UINT32,
    SB_INT64, SB_UINT64, SB_FLOAT32, SB_FLOAT64
} sb_dtype;

#define SB_MAX_DIMS 8

/* A C-ordered (row-major) array. The array does not own `data` unless it was
 * filled by the library (then release it with sb_array_release). */
typedef struct sb_array {
    sb_dtype dtype;
    int ndim;                    /* 0 for a scalar */
    uint64_t shape[SB_MAX_DIMS];
    void *data;
} sb_array;

/* Size in bytes of one element of `dtype` (0 for an unknown dtype). */
size_t sb_dtype_size(sb_dtype dtype);
/* numpy name of a dtype ("int8", "float32", "bool"); NULL if unknown. */
const char *sb_dtype_name(sb_dtype dtype);
/* Inverse of sb_dtype_name. */
int sb_dtype_parse(const char *name, sb_dtype *dtype);

/* Number of elements (product of the shape; 1 for a scalar). */
uint64_t sb_array_count(const sb_array *array);
/* Size in bytes of the array's data. */
uint64_t sb_array_nbytes(const sb_array *array);
/* Fill `array` as a view of `data` with the given shape. Returns 0 or SB_ERR_INVALID. */
int sb_array_wrap(sb_array *array, sb_dtype dtype, int ndim, const uint64_t *shape,
                  const void *data);
/* Free the data of an array the library allocated, and zero it. */
void sb_array_release(sb_array *array);

/* Free a list of strings returned by the library. */
void sb_strings_free(char **strings, size_t count);

#ifdef __cplusplus
}
#endif
#endif
