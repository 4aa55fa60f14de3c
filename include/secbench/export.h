/* Export: copy a dataset (fields, rows [0, size), assets) into another store,
 * as Python's Store.export_dataset does, spread over the ranks. */
#ifndef SECBENCH_EXPORT_H
#define SECBENCH_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "secbench/common.h"
#include "secbench/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SB_EXPORT_OPTIONS_VERSION 1
#define SB_EXPORT_DEFAULT_CHUNK 100000

typedef struct sb_export_options {
    unsigned version;      /* set by sb_export_options_init */
    const char *new_name;  /* NULL: keep the source name */
    bool shrink;           /* capacity of the copy = size (default true) */
    uint64_t chunk_size;   /* rows per chunk (default 100000, at least 1) */
    /* Called on rank 0 after each round of chunks (rows done, rows in all). */
    void (*progress)(uint64_t rows_done, uint64_t rows_total, void *payload);
    void *progress_payload;
} sb_export_options;

/* Defaults for the caller's version of the struct (pass
 * SB_EXPORT_OPTIONS_VERSION). SB_ERR_INVALID for an unknown version. */
SB_API int sb_export_options_init(sb_export_options *opts, unsigned version);

/* Copy dataset `name` of `src` into `dst` (opts NULL: defaults). On parallel
 * stores rows [0, size) are cut into chunks dealt to the ranks in turn; a
 * rank holds at most min(chunk_size, rows) rows of one field in memory.
 * Assets are copied byte for byte. Fields of a type the library does not
 * support are left out (sb_field_info.supported tells them). Collective on
 * both stores (which must share the same ranks). SB_ERR_EXISTS if the
 * destination name is taken (nothing is replaced). Until the copy is
 * finished it carries `_sb_incomplete` (sb_dataset_is_incomplete), as does
 * the copy of a dataset that is itself incomplete; on failure the partial
 * copy is removed, unless a write to `dst` failed (that store then takes no
 * more writes, and the copy's mark says what it is). */
SB_API int sb_store_export_dataset(sb_store *src, const char *name, sb_store *dst,
                                   const sb_export_options *opts);

#ifdef __cplusplus
}
#endif
#endif
