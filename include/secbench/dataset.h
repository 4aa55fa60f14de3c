/* Dataset: a fixed-capacity table of named fields (one row per trace) plus
 * assets. On a parallel store every call is collective (same arguments on
 * every rank) except the getters, sb_dataset_read and sb_dataset_write_at. */
#ifndef SECBENCH_DATASET_H
#define SECBENCH_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secbench/store.h"
#include "secbench/types.h"

#ifdef __cplusplus
extern "C" {
#endif

const char *sb_dataset_name(const sb_dataset *ds);
/* Rows committed to the file (same on every rank after a collective call). */
uint64_t sb_dataset_size(const sb_dataset *ds);
uint64_t sb_dataset_capacity(const sb_dataset *ds);
size_t sb_dataset_nfields(const sb_dataset *ds);
/* Name of field i in creation order, NULL if out of range. */
const char *sb_dataset_field(const sb_dataset *ds, size_t i);
sb_store *sb_dataset_store(const sb_dataset *ds);
/* True for a dataset whose export was cut short (the copy still carries the
 * `_sb_incomplete` attribute, see docs/format.md): its rows below the size
 * are sound, but rows, size or assets may be missing, because the copy was
 * never finished. Export it again (after removing it) rather than use it. */
bool sb_dataset_is_incomplete(const sb_dataset *ds);
/* True for a dataset that HDF5 cannot find by its name, because a name
 * stored next to it in its group is damaged (a write that failed half-way
 * through a metadata flush, docs/reliability.md finding 10): the library
 * found it by walking the group. Its rows are intact, but h5py and Python
 * secbench will not find it: export it to a new store. */
bool sb_dataset_found_by_walk(const sb_dataset *ds);

typedef struct sb_field_info {
    const char *name;
    bool defined;       /* false until the first row (or sb_dataset_define_field) */
    sb_dtype dtype;     /* valid when defined */
    int row_ndim;       /* dimensions of one row (0: one scalar per row) */
    uint64_t row_shape[SB_MAX_DIMS - 1];
    uint64_t row_bytes; /* bytes of one row */
} sb_field_info;

int sb_dataset_field_info(const sb_dataset *ds, size_t i, sb_field_info *info);
/* Index of a field by name; SB_ERR_NOT_FOUND if there is none. */
int sb_dataset_field_index(const sb_dataset *ds, const char *field, size_t *index);

/* Fix a field's dtype and row shape before any row arrives, so that ranks can
 * write_at without a first collective extend. Collective. SB_ERR_TYPE if the
 * field is already defined otherwise. */
int sb_dataset_define_field(sb_dataset *ds, const char *field, sb_dtype dtype,
                            int row_ndim, const uint64_t *row_shape);

/* Add one row: `row` holds one array per field, in field order, each the shape
 * of one row. The first row fixes each field's dtype and row shape; a later
 * mismatch is SB_ERR_TYPE and nothing is written. SB_ERR_FULL when full.
 * Parallel stores: collective; a rank with no row passes NULL; rows land in
 * rank order. With a write buffer, rows are kept until it fills (counted in
 * calls, so every rank flushes at the same call) or until flush/close. */
int sb_dataset_append(sb_dataset *ds, const sb_array *row);

/* Add many rows: `columns` holds one array per field whose first dimension is
 * the row count (equal across fields). Zero rows is a no-op. Parallel stores:
 * collective; each rank passes its own rows (zero allowed, NULL too), they
 * land one rank after another after the current size, in rank order, with a
 * collective MPI-IO write; the new size is known on every rank afterwards. If
 * the total overflows the capacity every rank fails and nothing is written. */
int sb_dataset_extend(sb_dataset *ds, const sb_array *columns);

/* The same with the number of arrays given, checked against the field count
 * (Python's ValueError for a wrong number of values). */
int sb_dataset_append_n(sb_dataset *ds, size_t nfields, const sb_array *row);
int sb_dataset_extend_n(sb_dataset *ds, size_t ncolumns, const sb_array *columns);

/* Write rows at an explicit offset without changing the size: for ranks that
 * own preassigned slices. Independent (not collective); fields must be
 * defined. Follow with sb_dataset_commit_size. */
int sb_dataset_write_at(sb_dataset *ds, uint64_t offset, const sb_array *columns);
/* Collective: the new size is the largest `local_end` of any rank (never
 * smaller than the current size, never above the capacity). */
int sb_dataset_commit_size(sb_dataset *ds, uint64_t local_end);

/* Read `count` rows of `field` from `start` into `buf` (count * row_bytes
 * bytes, the field's dtype). Rows must be inside [0, size). Independent. */
int sb_dataset_read(sb_dataset *ds, const char *field, uint64_t start, uint64_t count,
                    void *buf);
/* The same, collective: each rank reads its own range (count 0 allowed). */
int sb_dataset_read_all(sb_dataset *ds, const char *field, uint64_t start,
                        uint64_t count, void *buf);
/* Python's get(field): rows [0, size) of a field into a new array (shape
 * (size, *row_shape)); release with sb_array_release. Independent. */
int sb_dataset_get(sb_dataset *ds, const char *field, sb_array *out);

/* Size back to 0 (data is overwritten by later rows). Collective. */
int sb_dataset_reset(sb_dataset *ds);

/* Buffer `rows` appended rows per rank before writing (0 = write-through).
 * Collective. Flushes what was buffered before. */
int sb_dataset_set_write_buffer(sb_dataset *ds, uint64_t rows);
/* Rows appended on this rank and not yet written. */
uint64_t sb_dataset_pending_rows(const sb_dataset *ds);
/* Write buffered rows and update the size in the file. Collective. */
int sb_dataset_flush(sb_dataset *ds);

/* How the last write of rows on this rank went through MPI-IO (parallel
 * stores): whether HDF5 really did a collective write, and if not the
 * H5D_mpio_no_collective_cause bits it gave. Lets users and tests check that
 * nothing silently fell back to independent I/O. */
typedef struct sb_write_report {
    bool valid;               /* a parallel write of rows happened */
    bool collective;          /* H5Pget_mpio_actual_io_mode said collective */
    bool asked_collective;    /* the store asked for a collective write (its
                                 collective_writes option, -1 resolved) */
    uint32_t local_cause;     /* H5Pget_mpio_no_collective_cause, this rank */
    uint32_t global_cause;    /* ... all ranks */
} sb_write_report;
void sb_dataset_last_write(const sb_dataset *ds, sb_write_report *report);

/* Flush and free the handle. Collective while its store is open. */
int sb_dataset_close(sb_dataset *ds);

#ifdef __cplusplus
}
#endif
#endif
