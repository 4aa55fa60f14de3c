/* Assets: HDF5 datasets beside the fields, flagged _sb_is_asset = TRUE. */
#ifndef SB_ASSETS_H
#define SB_ASSETS_H

#include "dataset.h"

/* Names of the assets of a dataset, in h5py's order (one block, sb_free). Local. */
int sb__asset_list(sb_dataset *ds, char ***names, size_t *count);
/* Copy one asset as it is (type, shape, bytes) into another dataset.
 * Collective (every rank calls it, rank 0 writes the bytes). */
int sb__asset_copy(sb_dataset *src, sb_dataset *dst, const char *name);

#endif
