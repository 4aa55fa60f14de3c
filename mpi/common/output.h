/* What the programs print: names made safe for a line of text, JSON whose
 * strings are valid UTF-8 and whose integers are exact. */
#ifndef SB_OUTPUT_H
#define SB_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <secbench/storage.h>

/* `name` for one line of text: a backslash as "\\", control characters as
 * "\n", "\t", "\r" or "\xHH", so that a name never breaks a line or the
 * terminal. Truncated to len - 1 bytes. Returns buf. */
const char *out_shown(char *buf, size_t len, const char *name);

/* The type of a field in words: its dtype, or the name of a type this
 * library does not support followed by " (unsupported)". Returns buf. */
const char *out_field_type(char *buf, size_t len, const sb_field_info *fi);

/* Whether the n bytes are valid UTF-8 (no overlong forms, no surrogates). */
bool out_utf8_valid(const void *data, size_t n);
/* Whether the n bytes are text a terminal can show: valid UTF-8 without
 * control characters other than newline, tab and carriage return. */
bool out_is_text(const void *data, size_t n);

/* A JSON string of `text`; bytes that are not UTF-8 become U+FFFD. */
cJSON *out_json_string(const char *text);
/* obj[key] = text as above; when text is not UTF-8, obj[key "_hex"] also
 * holds its bytes in hex, so that a script can recover it. */
void out_json_add_name(cJSON *obj, const char *key, const char *text);
/* An exact integer member. */
void out_json_add_u64(cJSON *obj, const char *key, uint64_t value);

/* The document, indented by two spaces, then a newline; numbers printed by
 * sb_json_print (exact integers, shortest doubles). Returns 0, or -1 when
 * the stream failed. */
int out_json_write(FILE *f, const cJSON *doc);

#endif
