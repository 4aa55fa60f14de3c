/* Printing JSON whose numbers keep their text (json.h), and exact integers. */
#define _GNU_SOURCE /* uselocale: numbers in the C locale whatever the program's */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "jsonnum.h"

#define MAX_DEPTH 512

typedef struct buffer {
    char *data;
    size_t len, cap;
    bool failed;
} buffer;

static void put(buffer *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void puts_(buffer *b, const char *s) { put(b, s, strlen(s)); }

/* The number a text holds, parsed in the C locale. */
static bool text_is(const char *text, double v)
{
    if (strcmp(text, "NaN") == 0)
        return isnan(v);
    if (strcmp(text, "Infinity") == 0)
        return isinf(v) && v > 0;
    if (strcmp(text, "-Infinity") == 0)
        return isinf(v) && v < 0;
    char *end = NULL;
    double t = strtod_l(text, &end, sb__json_c_locale());
    return end && *end == '\0' && *text && (t == v || (isnan(t) && isnan(v)));
}

static void print_number(buffer *b, const cJSON *item)
{
    double v = item->valuedouble;
    /* Its own text while its value is unchanged: an integer beyond 2^53,
     * "3.0", "1e3" come back as they were written. */
    if (item->valuestring && text_is(item->valuestring, v)) {
        puts_(b, item->valuestring);
        return;
    }
    if (isnan(v)) {
        puts_(b, "NaN"); /* as Python's json writes it */
        return;
    }
    if (isinf(v)) {
        puts_(b, v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    char text[40];
    locale_t old = uselocale(sb__json_c_locale());
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(text, sizeof text, "%.0f", v);
    } else {
        /* The shortest text that reads back the same double. */
        for (int digits = 15; digits <= 17; digits++) {
            snprintf(text, sizeof text, "%.*g", digits, v);
            if (strtod(text, NULL) == v)
                break;
        }
    }
    uselocale(old);
    puts_(b, text);
}

static void print_string(buffer *b, const char *s)
{
    put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': puts_(b, "\\\""); break;
        case '\\': puts_(b, "\\\\"); break;
        case '\b': puts_(b, "\\b"); break;
        case '\f': puts_(b, "\\f"); break;
        case '\n': puts_(b, "\\n"); break;
        case '\r': puts_(b, "\\r"); break;
        case '\t': puts_(b, "\\t"); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                puts_(b, esc);
            } else {
                put(b, (const char *)p, 1);
            }
        }
    }
    put(b, "\"", 1);
}

static bool print_value(buffer *b, const cJSON *item, int depth)
{
    if (depth > MAX_DEPTH)
        return false;
    switch (item->type & 0xFF) {
    case cJSON_NULL: puts_(b, "null"); return true;
    case cJSON_False: puts_(b, "false"); return true;
    case cJSON_True: puts_(b, "true"); return true;
    case cJSON_Number: print_number(b, item); return true;
    case cJSON_String: print_string(b, item->valuestring); return true;
    case cJSON_Raw:
        if (!item->valuestring)
            return false;
        puts_(b, item->valuestring);
        return true;
    case cJSON_Array:
    case cJSON_Object: {
        bool object = (item->type & 0xFF) == cJSON_Object;
        put(b, object ? "{" : "[", 1);
        for (const cJSON *c = item->child; c; c = c->next) {
            if (c != item->child)
                put(b, ",", 1);
            if (object) {
                print_string(b, c->string);
                put(b, ":", 1);
            }
            if (!print_value(b, c, depth + 1))
                return false;
        }
        put(b, object ? "}" : "]", 1);
        return true;
    }
    default:
        return false;
    }
}

int sb_json_print(char **out, const cJSON *json)
{
    if (!out || !json)
        return sb__error(SB_ERR_INVALID, "sb_json_print: %s is NULL", out ? "json" : "out");
    *out = NULL;
    buffer b = {NULL, 0, 0, false};
    if (!print_value(&b, json, 0)) {
        free(b.data);
        return sb__error(SB_ERR_INVALID, "sb_json_print: the document has an invalid item or is "
                         "nested deeper than %d", MAX_DEPTH);
    }
    if (b.failed || !b.data) {
        free(b.data);
        return sb__error(SB_ERR_NOMEM, "sb_json_print: out of memory");
    }
    *out = b.data;
    return 0;
}

/* ---- exact integers ----------------------------------------------------- */

static cJSON *exact_number(double approx, const char *text)
{
    cJSON *n = cJSON_CreateNumber(approx);
    if (n && !(n->valuestring = cJSON_malloc(strlen(text) + 1))) {
        cJSON_Delete(n);
        return NULL;
    }
    if (n)
        strcpy(n->valuestring, text);
    return n;
}

cJSON *sb_json_number_u64(uint64_t value)
{
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    return exact_number((double)value, text);
}

cJSON *sb_json_number_i64(int64_t value)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)value);
    return exact_number((double)value, text);
}

/* An integer literal: -?[0-9]+ */
static bool integer_text(const char *t)
{
    if (*t == '-')
        t++;
    if (!*t)
        return false;
    for (; *t; t++)
        if (*t < '0' || *t > '9')
            return false;
    return true;
}

static int integer_of(const cJSON *item, bool is_signed, int64_t *i, uint64_t *u)
{
    if (!item || !cJSON_IsNumber(item))
        return sb__error(SB_ERR_TYPE, "JSON item is not a number");
    const char *t = item->valuestring;
    double v = item->valuedouble;
    if (t && text_is(t, v) && integer_text(t)) {
        errno = 0;
        char *end = NULL;
        if (is_signed)
            *i = strtoll(t, &end, 10);
        else if (t[0] == '-')
            return sb__error(SB_ERR_TYPE, "JSON number %s is negative", t);
        else
            *u = strtoull(t, &end, 10);
        if (errno == ERANGE)
            return sb__error(SB_ERR_TYPE, "JSON number %s is out of range", t);
        return 0;
    }
    /* A double: exact only up to 2^53. */
    if (!(v == floor(v)) || fabs(v) > 9007199254740992.0)
        return sb__error(SB_ERR_TYPE, "JSON number %.17g is not an integer a double holds exactly", v);
    if (!is_signed && v < 0)
        return sb__error(SB_ERR_TYPE, "JSON number %.0f is negative", v);
    if (is_signed)
        *i = (int64_t)v;
    else
        *u = (uint64_t)v;
    return 0;
}

int sb_json_get_u64(uint64_t *value, const cJSON *item)
{
    if (!value)
        return sb__error(SB_ERR_INVALID, "sb_json_get_u64: value is NULL");
    int64_t i;
    return integer_of(item, false, &i, value);
}

int sb_json_get_i64(int64_t *value, const cJSON *item)
{
    if (!value)
        return sb__error(SB_ERR_INVALID, "sb_json_get_i64: value is NULL");
    uint64_t u;
    return integer_of(item, true, value, &u);
}
