/* The commit protocol: what reaches the file, and in which order. */
#ifndef SB_COMMIT_H
#define SB_COMMIT_H

#include "dataset.h"

/* Commit one dataset (ds) or every open dataset of the store (ds NULL):
 * buffered rows written, rows synced (fsync option), sizes written, then
 * HDF5's metadata flushed (and synced). Collective steps. */
int sb__commit(sb_store *s, sb_dataset *ds);

#endif
