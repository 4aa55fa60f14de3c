/* dtypes in the file: the HDF5 types h5py writes for each numpy dtype, and
 * the way back from any HDF5 type. Names of datasets, fields and assets. */
#ifndef SB_DTYPE_H
#define SB_DTYPE_H

#include <hdf5.h>

#include "base.h"

/* HDF5 type of a dtype, the same in the file and in memory (little-endian
 * standard types, equal to the native ones on the machines we run on, so no
 * conversion happens and MPI-IO never falls back to independent I/O).
 * Caller closes. H5I_INVALID_HID for an invalid dtype. */
hid_t sb__dtype_h5type(sb_dtype dtype);
/* The dtype of an HDF5 type. SB_ERR_TYPE when secbench-storage has none; in
 * both cases `what` (len bytes) says what the type is in words. Raises no
 * error message. */
int sb__dtype_from_h5(hid_t type, sb_dtype *dtype, char *what, size_t len);
/* The memory type to read or write elements of file type `file_type` as
 * `dtype`: for bytes the file's own string type (padding kept as stored),
 * otherwise sb__dtype_h5type. Caller closes. */
hid_t sb__dtype_memtype(hid_t file_type, sb_dtype dtype);

/* A dataset name as Python takes it: leading '/' dropped (Python's
 * name.lstrip("/")). Then checked as secbench writes names: non-empty, no
 * trailing '/', no "//", no "." or ".." component. *out points into `name`. */
int sb__dataset_name(const char *what, const char *name, const char **out);
/* A field or asset name: one plain path component. */
int sb__member_name(const char *what, const char *dataset, const char *name);

#endif
