/* Shared datasets: Python's shared-dataset index (secbench.storage
 * shared_datasets / load_shared_dataset, `secbench-db list`).
 *
 * The index is a TOML file that gives an ID to each store a team shares:
 *
 *     [datasets.aes_hw]                  # the ID (any TOML key: "quoted.keys" too)
 *     name = "AES on the STM32 board"    # optional
 *     path = "/data/aes_hw.h5"           # the store, opened as written
 *     description_file = "aes_hw.md"     # optional, relative to the index's folder
 *
 * Its path is the `index_path` argument or, when that is NULL, the environment
 * variable SECBENCH_STORAGE_DATASETS_INDEX (an empty value counts as unset).
 * As in Python, `path` is opened as written (a relative one is relative to the
 * current directory, not to the index), while a relative `description_file`
 * is relative to the folder of the index file; keys other than these three
 * are ignored. The index and description files are read whole, 64 MiB at
 * most each (SB_ERR_IO beyond). */
#ifndef SECBENCH_SHARED_H
#define SECBENCH_SHARED_H

#include <stdbool.h>
#include <stddef.h>

#include "secbench/common.h"
#include "secbench/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The environment variable naming the index when no index_path is given. */
#define SB_SHARED_INDEX_ENV "SECBENCH_STORAGE_DATASETS_INDEX"

/* One [datasets.ID] table of the index. Strings are NUL-terminated; those
 * from the index are UTF-8 (TOML requires it), and the library refuses an
 * index whose ID or values hold a NUL character ("\u0000"). */
typedef struct sb_shared_dataset {
    const char *id;               /* the ID, the key of [datasets.ID] */
    const char *name;             /* "name", NULL if absent */
    const char *path;             /* "path" as written */
    const char *description_file; /* "description_file" as written, NULL if absent */
    /* The text of description_file when it was asked for (load_description)
     * and the key is present, else NULL. Read as Python's read_text() does:
     * "\r\n" and "\r" become "\n"; the bytes are not checked to be UTF-8,
     * but a file holding a NUL byte is refused (SB_ERR_FORMAT). */
    const char *description;
} sb_shared_dataset;

/* Python's shared_datasets(): every dataset of the index, in the order of the
 * file. *out is one block (the array and its strings): free it with
 * sb_free(*out). index_path NULL: SECBENCH_STORAGE_DATASETS_INDEX; neither
 * set: *out = NULL, *count = 0 and 0 is returned (Python returns {}). An
 * empty [datasets] table gives *count = 0 too (and *out = NULL).
 * Errors: SB_ERR_NOT_FOUND (no index file; an index without a [datasets]
 * table, Python's KeyError), SB_ERR_FORMAT (not TOML: file, line, column and
 * the parser's words; a dataset that is not a table, whose "path" is missing,
 * not a string or empty, or whose "name" or "description_file" is not a
 * string: its ID and the key), SB_ERR_IO (the index or a description_file
 * cannot be read, or is a FIFO, which is refused rather than waited on:
 * named), SB_ERR_INVALID, SB_ERR_NOMEM. */
SB_API int sb_shared_datasets(sb_shared_dataset **out, size_t *count, const char *index_path,
                              bool load_description);

/* One dataset of the index by its ID (exact, byte for byte). *out is one
 * block: free it with sb_free(*out). Only that dataset's table is checked,
 * as Python's load_shared_dataset does. Errors: SB_ERR_INVALID (no index
 * configured: pass index_path or set SECBENCH_STORAGE_DATASETS_INDEX),
 * SB_ERR_NOT_FOUND (unknown ID, naming it and the index; no index file),
 * and the errors of sb_shared_datasets. */
SB_API int sb_shared_dataset_lookup(sb_shared_dataset **out, const char *id,
                                    const char *index_path, bool load_description);

/* Python's load_shared_dataset(id, mode, config_path, **kwargs): open the
 * store of dataset `id` of the index with sb_store_open(out, path, mode,
 * opts). As in Python, only the "path" of that dataset is looked at.
 * Collective on opts->comm like sb_store_open: every rank reads the index,
 * and a rank that cannot makes every rank fail with its message (none is
 * left waiting in the open). Errors: those of sb_shared_dataset_lookup, then
 * those of sb_store_open (the message then names the ID too). */
SB_API int sb_store_open_shared(sb_store **out, const char *id, sb_open_mode mode,
                                const sb_store_options *opts, const char *index_path);

#ifdef __cplusplus
}
#endif
#endif
