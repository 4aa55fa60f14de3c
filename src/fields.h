/* Fields: one HDF5 dataset of shape (capacity, *row_shape) per field, and the
 * row transfers that are the library's hot path. */
#ifndef SB_FIELDS_H
#define SB_FIELDS_H

#include <hdf5.h>

#include "base.h"

typedef struct sb_store sb_store;

/* The layout of one row, as the first row gives it. */
typedef struct sb_row_layout {
    sb_dtype dtype;
    int row_ndim;
    uint64_t row_shape[SB_MAX_DIMS - 1];
} sb_row_layout;

typedef struct sb_field {
    char *name;
    hid_t dset;           /* open HDF5 dataset, H5I_INVALID_HID until defined */
    hid_t type;           /* memory type of transfers (== file type when supported) */
    bool defined;
    bool supported;       /* false: an HDF5 type with no sb_dtype */
    bool collective_only; /* filtered: parallel HDF5 writes it only collectively */
    sb_row_layout layout;
    uint64_t row_bytes;
    char type_name[96];
    char filters[96];
} sb_field;

void sb__field_init(sb_field *f);
/* Close the HDF5 handles (the name stays). */
void sb__field_release(sb_field *f);

/* Take over an existing HDF5 dataset `dset` (closed on failure): its type
 * (an unsupported one is kept as such), its shape checked against the
 * capacity as Python checks it. */
int sb__field_open(sb_field *f, hid_t dset, const char *dsname, uint64_t capacity);
/* Create the HDF5 dataset of a field in `group`, with its _sb_priority. */
int sb__field_create(sb_field *f, hid_t group, const char *dsname, uint64_t capacity,
                     const sb_row_layout *layout, int64_t priority);

bool sb__layout_equal(const sb_row_layout *a, const sb_row_layout *b);
uint64_t sb__layout_hash(const sb_row_layout *l);
/* "int8 (1000,)". */
void sb__layout_describe(const sb_row_layout *l, char *buf, size_t len);
/* Bytes of one row; SB_ERR_INVALID (naming `what`) if it does not fit. */
int sb__layout_row_bytes(const sb_row_layout *l, const char *what, uint64_t *bytes);

/* The largest transfer of one field that HDF5 1.10's MPI-IO driver takes in
 * one call (it counts bytes in an int). Larger ones are cut into pieces. */
uint64_t sb__xfer_max_bytes(void);
/* Pieces a transfer of nrows rows of row_bytes is cut into (0 for no rows). */
uint64_t sb__xfer_pieces(uint64_t nrows, uint64_t row_bytes);

/* Write / read rows [offset, offset+nrows) of a field. `collective`: every
 * rank of the store makes this call, in `rounds` H5Dwrite calls agreed on
 * (at least this rank's sb__xfer_pieces); nrows 0 still takes part. The
 * transfer is collective in MPI-IO when the store writes (reads)
 * collectively or the field needs it. `report` (may be NULL) records how
 * MPI-IO did it. */
int sb__field_write(sb_store *s, const char *dsname, sb_field *f, uint64_t offset,
                    uint64_t nrows, const void *data, bool collective, uint64_t rounds,
                    sb_write_report *report);
int sb__field_read(sb_store *s, const char *dsname, sb_field *f, uint64_t offset,
                   uint64_t nrows, void *data, bool collective, uint64_t rounds);

#endif
