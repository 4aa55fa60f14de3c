/* Versioned options structs (sb_store_options, sb_export_options): the
 * caller's header says which version it holds; members are only ever added
 * at the end, so version v of a struct is the first size_of[v] bytes of the
 * library's own. */
#ifndef SB_OPTIONS_H
#define SB_OPTIONS_H

#include <stddef.h>

/* The public *_options_init: copies the first size_of[version] bytes of
 * `defaults` (whose version member the caller set to `version`) to `opts`.
 * SB_ERR_INVALID, naming `fn`, for a NULL opts or a version outside
 * 1 .. versions - 1. */
int sb__options_init(const char *fn, void *opts, const void *defaults, unsigned version,
                     const size_t *size_of, unsigned versions);

#endif
