/* Walking HDF5 paths and groups the way h5py does, and finding objects whose
 * names a failed metadata write damaged (docs/reliability.md, finding 10). */
#ifndef SB_H5PATH_H
#define SB_H5PATH_H

#include <hdf5.h>

#include "base.h"

/* *exists = whether every component of `path` exists, without HDF5
 * errors. 0, or SB_ERR_NOMEM (raised). `scratch`: NULL, or strlen(path) + 1
 * bytes to work in, so that nothing is allocated (on a parallel store,
 * memory is allocated and agreed on before HDF5 is called). */
int sb__path_exists(bool *exists, hid_t loc, const char *path, char *scratch);
/* Open the object at `path`, finding each component by name or, where that
 * fails, by walking its group; *walked (may be NULL) is set when a walk was
 * needed. *out is H5I_INVALID_HID when it is not found, which is not an
 * error: the call returns 0, or SB_ERR_NOMEM (raised; never for a plain
 * name, which is opened without allocating). */
int sb__open_path(hid_t *out, hid_t loc, const char *path, bool *walked);
/* Create the groups on the way to `path` (not `path` itself). *created
 * (may be NULL) is the length of the prefix of `path` naming the topmost
 * group this call created, 0 if it created none: what sb__remove_created
 * takes to undo it. `scratch` as for sb__path_exists. */
int sb__create_parents(hid_t loc, const char *path, size_t *created, char *scratch);
/* Undo sb__create_parents: unlink the topmost group it created (and so
 * everything below it). Best effort: nothing is reported. `scratch` as for
 * sb__path_exists: without it, a prefix of 256 bytes or more is allocated,
 * and a rank out of memory would keep the group in its view of the file. */
void sb__remove_created(hid_t loc, const char *path, size_t created, char *scratch);

/* Visit the members of a group in h5py's order: creation order where the
 * group tracks it, else name order. Each member is opened (hard links, and
 * soft and external links when follow_links; dangling links are skipped)
 * and passed to fn, which must not close it. fn returns 0 to go on, a
 * negative error to stop with it, a positive value to stop without error.
 * A member found only by its index sets *walked (may be NULL). */
typedef int (*sb_member_fn)(hid_t obj, const char *name, const H5O_info_t *info, void *payload);
int sb__members(hid_t group, bool follow_links, sb_member_fn fn, void *payload, bool *walked);

#endif
