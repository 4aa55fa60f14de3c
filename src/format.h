/* The on-disk format: attribute names and how they are read and written as
 * Python secbench (through h5py) reads and writes them. */
#ifndef SB_FORMAT_H
#define SB_FORMAT_H

#include <hdf5.h>

#include "base.h"

#define SB_ATTR_SIZE "_sb_size"
#define SB_ATTR_CAPACITY "_sb_capacity"
#define SB_ATTR_IS_DATASET "_sb_is_dataset"
#define SB_ATTR_IS_ASSET "_sb_is_asset"
#define SB_ATTR_PRIORITY "_sb_priority"
/* Extension (ignored by Python): the field list, so that a dataset created
 * but never written loads again with its fields. */
#define SB_ATTR_FIELDS "_sb_fields"
/* Extension (ignored by Python): an unfinished dataset (an export copy cut
 * short, a job output not finished yet). */
#define SB_ATTR_INCOMPLETE "_sb_incomplete"

int sb__attr_write_i64(hid_t obj, const char *attr, int64_t value);
int sb__attr_write_bool(hid_t obj, const char *attr, bool value);
/* An integer attribute as Python uses it: any integer width, or a float
 * holding an integer (h5py hands Python a float, and Python compares it as a
 * number). SB_ERR_NOT_FOUND (no message) if absent; SB_ERR_FORMAT naming
 * `where` and the attribute otherwise. */
int sb__attr_read_int(hid_t obj, const char *attr, const char *where, int64_t *value);
/* A number attribute of any integer or float type, exactly (a long double
 * holds every int64). SB_ERR_NOT_FOUND (no message) if absent, SB_ERR_FORMAT
 * if it is no number (a string, several values). */
int sb__attr_read_number(hid_t obj, const char *attr, const char *where, long double *value);
/* A flag as Python tests it (`attrs.get(name, False)`): Python truthiness of
 * whatever is stored (h5py's bool enum, a number, a string: non-empty is
 * true). Absent: *present = *value = false. SB_ERR_FORMAT for a value with no
 * truth value (an array of several elements). */
int sb__attr_read_bool(hid_t obj, const char *attr, const char *where, bool *present,
                       bool *value);
int sb__attr_write_strings(hid_t obj, const char *attr, size_t n, const char *const *strings);
/* The same in two steps: the local work (*buf, n names of `width` bytes,
 * free it), then the HDF5 calls, which allocate nothing of the library's. */
int sb__names_fixed(char **buf, size_t *width, size_t n, const char *const *strings);
int sb__attr_write_packed(hid_t obj, const char *attr, size_t n, size_t width, const char *buf);
/* SB_ERR_NOT_FOUND (no message) if absent. */
int sb__attr_read_strings(hid_t obj, const char *attr, const char *where, char ***strings,
                          size_t *n);
/* Creation properties of fields and assets: contiguous, allocated at
 * creation (MPI-IO needs it), never filled (a fill is a full extra write). */
hid_t sb__dcpl_contiguous(void);

#endif
