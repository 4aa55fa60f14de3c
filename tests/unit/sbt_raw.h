/* Raw HDF5 access for tests: look at what the library really put in a file
 * (with the store closed), or build files the library must refuse. */
#ifndef SBT_RAW_H
#define SBT_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

/* Read row `row` of the HDF5 dataset at `path` (inside `file`) into buf, in
 * the dataset's own file type. Returns false when anything fails. */
bool sbt_raw_read_row(const char *file, const char *path, uint64_t row, void *buf,
                      size_t row_bytes);
/* Whether row `row` of the HDF5 dataset holds only zero bytes (never written). */
bool sbt_raw_row_is_zero(const char *file, const char *path, uint64_t row);
/* Read an integer scalar attribute of object `obj` (any width). */
bool sbt_raw_attr_i64(const char *file, const char *obj, const char *attr, int64_t *value);
/* Whether `obj` has an attribute `attr`. */
bool sbt_raw_has_attr(const char *file, const char *obj, const char *attr);

/* What ANOTHER process reads from the file now (h5dump, HDF5's file locking
 * off), not this process's HDF5 caches: what a commit really put on disk
 * while the store is still open. h5dump's output for `args` (e.g.
 * "-a /ds/_sb_size") into out; returns h5dump's exit status. */
int sbt_disk_dump(const char *file, const char *args, char *out, size_t cap);
/* _sb_size of dataset `ds` as another process reads it; -1 if unreadable. */
int64_t sbt_disk_size(const char *file, const char *ds);

/* h5py's bool type: an enum over int8 with FALSE=0 and TRUE=1. Caller closes. */
hid_t sbt_raw_bool_type(void);
/* Write a scalar attribute of the given type (file type == memory type). */
void sbt_raw_put_attr(hid_t obj, const char *name, hid_t type, const void *value);
/* Make `group` a secbench dataset group as Python does. */
void sbt_raw_mark_dataset(hid_t group, int64_t capacity, int64_t size);
/* A contiguous field of shape (dim0, row...) filled with bytes 0,1,0,1... */
hid_t sbt_raw_make_field(hid_t group, const char *name, hid_t type, int ndim,
                         const hsize_t *dims, int64_t priority);

#endif
