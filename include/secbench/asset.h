/* Assets: metadata blobs stored beside a dataset's fields: raw bytes, typed
 * arrays, or JSON documents (stored as their UTF-8 text, as Python does).
 * On a parallel store every asset call is collective; adding checks that all
 * ranks pass the same name and content. */
#ifndef SECBENCH_ASSET_H
#define SECBENCH_ASSET_H

#include <stdbool.h>
#include <stddef.h>

#include "secbench/store.h"
#include "secbench/types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cJSON;

/* SB_ERR_EXISTS if the asset exists and !replace; SB_ERR_INVALID if the name is
 * a field. */
int sb_dataset_add_asset_bytes(sb_dataset *ds, const char *name, const void *data,
                               size_t len, bool replace);
int sb_dataset_add_asset_array(sb_dataset *ds, const char *name, const sb_array *array,
                               bool replace);
int sb_dataset_add_json_asset(sb_dataset *ds, const char *name, const struct cJSON *json,
                              bool replace);

/* Names of the assets, sorted. Free with sb_strings_free. */
int sb_dataset_asset_names(sb_dataset *ds, char ***names, size_t *count);
/* dtype and shape of an asset (info->data is NULL). SB_ERR_NOT_FOUND if absent. */
int sb_dataset_asset_info(sb_dataset *ds, const char *name, sb_array *info);
/* Python's get_asset(raw=True): the stored bytes. Free *data with sb_free. */
int sb_dataset_get_asset_bytes(sb_dataset *ds, const char *name, void **data, size_t *len);
/* Python's get_asset(): the array with its dtype and shape. */
int sb_dataset_get_asset_array(sb_dataset *ds, const char *name, sb_array *out);
/* Parse a JSON asset; SB_ERR_FORMAT if it is not JSON. Free with cJSON_Delete. */
int sb_dataset_get_json_asset(sb_dataset *ds, const char *name, struct cJSON **json);

/* Free memory the library returned (asset bytes). */
void sb_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
