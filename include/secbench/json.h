/* JSON numbers that do not change on the way. cJSON keeps every number as a
 * double, so an integer above 2^53 is rounded, and its printer may shorten a
 * double ("0.30000000000000004" becomes "0.3"). These functions keep a
 * number's exact text in the cJSON node (in its valuestring, which
 * cJSON_Delete frees) as long as its value is not changed, and print every
 * other number as the shortest text that reads back the same double. Use
 * sb_json_print rather than cJSON_Print on documents that hold such numbers. */
#ifndef SECBENCH_JSON_H
#define SECBENCH_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "secbench/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cJSON;

/* Parse `len` bytes of JSON (RFC 8259; only white space may follow the
 * document, as Python's json.loads). Numbers keep their text. SB_ERR_FORMAT
 * naming the byte offset on a syntax error. Free with cJSON_Delete. */
SB_API int sb_json_parse(struct cJSON **out, const char *text, size_t len);
/* Compact JSON text of a document; numbers as described above. sb_free(*out). */
SB_API int sb_json_print(char **out, const struct cJSON *json);

/* A number node holding an exact integer (any uint64_t or int64_t). */
SB_API struct cJSON *sb_json_number_u64(uint64_t value);
SB_API struct cJSON *sb_json_number_i64(int64_t value);
/* The exact integer of a number node: from its text when it has one, else
 * from its double when that is an integer. SB_ERR_TYPE if the node is not a
 * number, not an integer, or out of range. */
SB_API int sb_json_get_u64(uint64_t *value, const struct cJSON *item);
SB_API int sb_json_get_i64(int64_t *value, const struct cJSON *item);

#ifdef __cplusplus
}
#endif
#endif
