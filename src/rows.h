/* Rows in: extend, append and its buffer, write_at and commit_size, field
 * definition. */
#ifndef SB_ROWS_H
#define SB_ROWS_H

#include "dataset.h"

/* Write the rows the append buffer holds, in rank order after the size.
 * Collective steps (every rank calls it at the same append count). */
int sb__rows_write_buffer(sb_dataset *ds);
/* Define field `f` with `layout` and commit the new field (collective steps). */
int sb__rows_define(sb_dataset *ds, sb_field *f, const sb_row_layout *layout);
/* Forget the write_at ranges (after a commit). */
void sb__rows_forget_written(sb_dataset *ds);

#endif
