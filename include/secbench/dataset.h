/* Dataset: a fixed-capacity table of named fields (one row per trace) plus
 * assets (asset.h). On a parallel store every call is collective (same
 * arguments on every rank) except the getters, sb_dataset_read and
 * sb_dataset_write_at. */
#ifndef SECBENCH_DATASET_H
#define SECBENCH_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secbench/common.h"
#include "secbench/store.h"
#include "secbench/types.h"

#ifdef __cplusplus
extern "C" {
#endif

SB_API const char *sb_dataset_name(const sb_dataset *ds);
/* Rows in the dataset as this handle sees them: on a serial store, rows
 * appended and still in the append buffer count (Python's size after
 * append); on a parallel store, the rows written by the last collective
 * write (the same on every rank). Other readers see the size of the last
 * commit (sb_dataset_flush, sb_store_flush, close). */
SB_API uint64_t sb_dataset_size(const sb_dataset *ds);
SB_API uint64_t sb_dataset_capacity(const sb_dataset *ds);
SB_API size_t sb_dataset_nfields(const sb_dataset *ds);
/* Name of field i in Python's field order, NULL if out of range. */
SB_API const char *sb_dataset_field(const sb_dataset *ds, size_t i);
SB_API sb_store *sb_dataset_store(const sb_dataset *ds);
/* True for a dataset whose export was cut short (the copy still carries the
 * `_sb_incomplete` attribute, see docs/format.md) or an output that a job
 * marked unfinished: rows below the size are sound, but rows, size or assets
 * may be missing. Remove it (sb_store_remove_dataset) and make it again. */
SB_API bool sb_dataset_is_incomplete(const sb_dataset *ds);
/* Mark a dataset unfinished (`_sb_incomplete`: a job's output while the job
 * runs, so that a job killed half-way leaves a dataset that says so) or
 * finished. Committed at once. Collective. */
SB_API int sb_dataset_set_incomplete(sb_dataset *ds, bool incomplete);
/* True for a dataset that HDF5 cannot find by its name, because a name
 * stored next to it in its group is damaged (docs/reliability.md finding
 * 10): the library found it by walking the group. Its rows are intact, but
 * h5py and Python secbench will not find it: export it to a new store. */
SB_API bool sb_dataset_found_by_walk(const sb_dataset *ds);

typedef struct sb_field_info {
    const char *name;
    bool defined;       /* false until the first row (or sb_dataset_define_field) */
    /* false for a field whose HDF5 type has no sb_dtype (a variable-length
     * string, a reference...): the dataset loads, but reading or writing
     * that field fails naming it and its type. */
    bool supported;
    sb_dtype dtype;     /* valid when defined and supported */
    int row_ndim;       /* dimensions of one row (0: one scalar per row) */
    uint64_t row_shape[SB_MAX_DIMS - 1];
    uint64_t row_bytes; /* bytes of one row */
    /* The element type in words: the numpy name, or what the unsupported
     * HDF5 type is ("variable-length string"). Valid while the handle is. */
    const char *type_name;
    /* HDF5 filters on the field (compression: "deflate", "shuffle"...),
     * comma-separated, "" for none. Valid while the handle is. */
    const char *filters;
} sb_field_info;

SB_API int sb_dataset_field_info(sb_field_info *info, const sb_dataset *ds, size_t i);
/* Index of a field by name; SB_ERR_NOT_FOUND if there is none. */
SB_API int sb_dataset_field_index(size_t *index, const sb_dataset *ds, const char *field);

/* Fix a field's dtype and row shape before any row arrives, so that ranks can
 * write_at without a first collective extend. Collective. SB_ERR_TYPE if the
 * field is already defined otherwise. */
SB_API int sb_dataset_define_field(sb_dataset *ds, const char *field, sb_dtype dtype,
                                   int row_ndim, const uint64_t *row_shape);

/* Python's append: one row, `row` holds one array per field (nfields of
 * them, in field order), each the shape of one row. The first row fixes each
 * field's dtype and row shape; a later mismatch is SB_ERR_TYPE and nothing
 * is added; SB_ERR_FULL when the dataset is full (at this call).
 * Rows go through an append buffer (sb_dataset_set_append_buffer): written
 * in blocks, committed at sb_dataset_flush / sb_store_flush / close. This
 * handle reads them back at once (sb_dataset_read, serial stores).
 * Parallel stores: collective; a rank with no row passes 0, NULL (or
 * nfields, NULL); rows land in rank order. */
SB_API int sb_dataset_append(sb_dataset *ds, size_t nfields, const sb_array *row);

/* Python's extend: many rows, `columns` holds one array per field whose
 * first dimension is the row count (equal across fields). Zero rows is a
 * no-op. Rows appended before are written first. Parallel stores:
 * collective; each rank passes its own rows (zero rows allowed, or 0, NULL,
 * or ncolumns, NULL), they land one rank after another after the current
 * size, in rank order; the new size is known on every rank afterwards. If
 * the total overflows the capacity every rank fails and nothing is written. The rows are in the
 * file when the call returns; other readers see them from the next commit. */
SB_API int sb_dataset_extend(sb_dataset *ds, size_t ncolumns, const sb_array *columns);

/* Rows at an explicit offset, for ranks that own preassigned slices of a
 * parallel store. Independent (not collective); every field must be defined
 * (sb_dataset_define_field) and be writable independently (not compressed).
 * The size does not change until sb_dataset_commit_size. */
SB_API int sb_dataset_write_at(sb_dataset *ds, uint64_t offset, size_t ncolumns,
                               const sb_array *columns);
/* Collective: the new size is the largest `local_end` of any rank (never
 * smaller than the current size), committed at once. Refused, nothing
 * changing: SB_ERR_FULL when a `local_end` is beyond the capacity;
 * SB_ERR_INVALID when rows between the current size and the new one were
 * not written by sb_dataset_write_at since the last commit, or when two
 * ranks wrote the same rows. */
SB_API int sb_dataset_commit_size(sb_dataset *ds, uint64_t local_end);

/* Read `count` rows of `field` from `start` into `buf` (count * row_bytes
 * bytes, the field's dtype). Rows must be inside [0, size). Independent. */
SB_API int sb_dataset_read(void *buf, sb_dataset *ds, const char *field, uint64_t start,
                           uint64_t count);
/* The same, collective: each rank reads its own range (count 0 allowed). */
SB_API int sb_dataset_read_all(void *buf, sb_dataset *ds, const char *field, uint64_t start,
                               uint64_t count);
/* Python's get(*fields): rows [0, size) of each of `nfields` fields into new
 * arrays out[0..nfields) (shape (size, *row_shape)); free each out[i].data
 * with sb_free. All or nothing. Independent. */
SB_API int sb_dataset_get(sb_array *out, sb_dataset *ds, size_t nfields,
                          const char *const *fields);

/* Size back to 0, committed at once (later rows overwrite the old ones). Collective. */
SB_API int sb_dataset_reset(sb_dataset *ds);

#define SB_APPEND_BUFFER_DEFAULT (4u << 20)
/* Bytes of appended rows a rank buffers before writing them (default
 * SB_APPEND_BUFFER_DEFAULT; at least one row). 0 = write-through: every
 * append writes its row and commits the size at once, as Python does.
 * Writes what was buffered first. Collective. */
SB_API int sb_dataset_set_append_buffer(sb_dataset *ds, uint64_t bytes);
/* Rows appended on this rank and not yet written. */
SB_API uint64_t sb_dataset_pending_rows(const sb_dataset *ds);
/* Commit: write buffered rows, then the size that covers them, then HDF5's
 * metadata (and fsync if asked). Collective. */
SB_API int sb_dataset_flush(sb_dataset *ds);

/* How the last write of rows on this rank went through MPI-IO (parallel
 * stores): whether HDF5 really did a collective write, and if not the
 * H5D_mpio_no_collective_cause bits it gave. */
typedef struct sb_write_report {
    bool valid;               /* a parallel write of rows happened */
    bool collective;          /* H5Pget_mpio_actual_io_mode said collective */
    bool asked_collective;    /* the store asked for a collective write */
    uint32_t local_cause;     /* H5Pget_mpio_no_collective_cause, this rank */
    uint32_t global_cause;    /* ... all ranks */
} sb_write_report;
SB_API void sb_dataset_last_write(sb_write_report *report, const sb_dataset *ds);

/* Commit the dataset's rows (when some are not committed yet) and free the
 * handle. Collective while its store is open. What carries no rows (a new
 * dataset, fields, assets) is committed by the store's next commit:
 * sb_store_flush, sb_store_close, or a flush or close with rows. */
SB_API int sb_dataset_close(sb_dataset *ds);

#ifdef __cplusplus
}
#endif
#endif
