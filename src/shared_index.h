/* Between the index reader (shared_index.cpp) and sb_store_open_shared
 * (shared_open.c). Not installed. */
#ifndef SB_SHARED_INDEX_H
#define SB_SHARED_INDEX_H

/* The "path" of dataset `id` of the index (index_path, else the environment
 * variable), checked as Python's load_shared_dataset checks it: only that
 * dataset's table and its "path" key. *path is malloc'd (free with sb_free),
 * NULL on failure. Errors: those of sb_shared_dataset_lookup. */
int sb__shared_store_path(char **path, const char *id, const char *index_path);

#endif
