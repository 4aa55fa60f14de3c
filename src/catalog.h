/* The catalog of a store: creating, loading, listing and removing datasets. */
#ifndef SB_CATALOG_H
#define SB_CATALOG_H

#include "dataset.h"

/* sb_store_create_dataset's work, for callers already inside a frame
 * (export): `allow_no_field` takes the copy of a dataset Python created but
 * never wrote; `incomplete` writes _sb_incomplete in the same commit as the
 * group. Collective steps; the handle is linked to the store. */
int sb__catalog_create(sb_dataset **out, sb_store *s, const char *name, uint64_t capacity,
                       size_t nfields, const char *const *fields, bool incomplete);
/* sb_store_load_dataset's work (collective steps; linked to the store). */
int sb__catalog_load(sb_dataset **out, sb_store *s, const char *name);
/* Remove a dataset's group and commit (collective steps). */
int sb__catalog_remove(sb_store *s, const char *name);
/* The first dataset (by name) that a listing finds below group g, named
 * `name`: *inner is its path (malloc'd), or NULL when there is none. Local. */
int sb__catalog_first_below(hid_t g, const char *name, char **inner);

#endif
