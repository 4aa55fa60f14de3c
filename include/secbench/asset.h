/* Assets: metadata beside a dataset's fields: raw bytes, typed arrays, or
 * JSON documents (stored as their UTF-8 text, as Python does). On a parallel
 * store every asset call is collective; adding checks that all ranks pass
 * the same name and content. */
#ifndef SECBENCH_ASSET_H
#define SECBENCH_ASSET_H

#include <stdbool.h>
#include <stddef.h>

#include "secbench/common.h"
#include "secbench/store.h"
#include "secbench/types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cJSON;

/* Python's add_asset. SB_ERR_EXISTS if the asset exists and !replace;
 * SB_ERR_INVALID if the name is a field. A replaced asset is swapped in one
 * commit: a failure leaves the old one. */
SB_API int sb_dataset_add_asset_bytes(sb_dataset *ds, const char *name, const void *data,
                                      size_t len, bool replace);
SB_API int sb_dataset_add_asset_array(sb_dataset *ds, const char *name,
                                      const sb_array *array, bool replace);
/* Python's add_json_asset: the document as compact JSON text. Numbers keep
 * their exact text when they came from sb_json_parse or sb_json_number_*
 * (json.h); others print as the shortest text that reads back the same double. */
SB_API int sb_dataset_add_json_asset(sb_dataset *ds, const char *name,
                                     const struct cJSON *json, bool replace);

/* Names of the assets, sorted. One block: sb_free(*names). */
SB_API int sb_dataset_asset_names(char ***names, size_t *count, sb_dataset *ds);
/* dtype and shape of an asset (info->data is NULL). SB_ERR_NOT_FOUND if
 * absent, SB_ERR_TYPE naming the HDF5 type if it has no sb_dtype. */
SB_API int sb_dataset_asset_info(sb_array *info, sb_dataset *ds, const char *name);
/* Python's get_asset(raw=True): the stored bytes. sb_free(*data). */
SB_API int sb_dataset_get_asset_bytes(void **data, size_t *len, sb_dataset *ds,
                                      const char *name);
/* Python's get_asset(): the array with its dtype and shape. sb_free(out->data). */
SB_API int sb_dataset_get_asset_array(sb_array *out, sb_dataset *ds, const char *name);
/* Python's get_json_asset, with sb_json_parse (numbers keep their text).
 * SB_ERR_FORMAT if it is not JSON. Free with cJSON_Delete. */
SB_API int sb_dataset_get_json_asset(struct cJSON **json, sb_dataset *ds, const char *name);

#ifdef __cplusplus
}
#endif
#endif
