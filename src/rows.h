/* Rows in: extend, append and its buffer, write_at and commit_size, field
 * definition, shared by rows.c, append.c and slices.c. */
#ifndef SB_ROWS_H
#define SB_ROWS_H

#include "dataset.h"

/* What one rank brings to a write: its row count and each field's layout. */
typedef struct sb_batch {
    uint64_t nrows;
    sb_row_layout *layouts; /* nfields */
    const void **data;      /* nfields */
    sb_row_layout small_layouts[8];
    const void *small_data[8];
} sb_batch;

int sb__batch_init(sb_batch *b, size_t nfields);
void sb__batch_free(sb_batch *b);
/* The array count of a call: nfields, or (parallel) no arrays at all. */
int sb__batch_check_count(const sb_dataset *ds, size_t n, const void *arrays, const char *what);
/* Validate the arrays of one call. `row`: append (each array is one row),
 * else extend (first dimension = rows). Local. */
int sb__batch_from_arrays(const sb_dataset *ds, const sb_array *arrays, bool row, sb_batch *b);

/* Every rank's rows of one call, in rank order after the size; the size
 * grows (uncommitted). Collective steps; the frame agreed the batches valid. */
int sb__rows_write(sb_dataset *ds, const sb_batch *b);
/* Fields not defined yet take the layouts of the lowest rank bringing rows;
 * *none when no rank brings any. `before` (NULL: none) runs on every rank
 * with the agreed layouts (one per field) before any field is created, and
 * its failure (agreed on) leaves every field as it was. Collective steps. */
typedef int (*sb_layouts_fn)(sb_dataset *ds, const sb_row_layout *layouts);
int sb__rows_define_first(sb_dataset *ds, const sb_batch *b, bool *none, sb_layouts_fn before);
/* Define field `f` with `layout`, in the file from the next commit
 * (collective steps). */
int sb__rows_define(sb_dataset *ds, sb_field *f, const sb_row_layout *layout);
/* Write the rows the append buffer holds, in rank order after the size.
 * Collective steps (every rank calls it at the same append count). */
int sb__rows_write_buffer(sb_dataset *ds);
/* Forget the write_at ranges (after a commit). */
void sb__rows_forget_written(sb_dataset *ds);

#endif
