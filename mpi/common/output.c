#include "output.h"

#include <stdlib.h>
#include <string.h>

#include <secbench/storage.h>

const char *out_shown(char *buf, size_t len, const char *name)
{
    size_t used = 0;
    if (len == 0)
        return buf;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        char piece[5];
        if (*p == '\\')
            strcpy(piece, "\\\\");
        else if (*p == '\n')
            strcpy(piece, "\\n");
        else if (*p == '\t')
            strcpy(piece, "\\t");
        else if (*p == '\r')
            strcpy(piece, "\\r");
        else if (*p < 0x20 || *p == 0x7f)
            snprintf(piece, sizeof piece, "\\x%02x", *p);
        else
            piece[0] = (char)*p, piece[1] = '\0';
        size_t n = strlen(piece);
        if (used + n >= len)
            break;
        memcpy(buf + used, piece, n);
        used += n;
    }
    buf[used] = '\0';
    return buf;
}

/* Length of the UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_sequence(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

const char *out_field_type(char *buf, size_t len, const sb_field_info *fi)
{
    if (fi->supported)
        snprintf(buf, len, "%s", sb_dtype_name(fi->dtype));
    else
        snprintf(buf, len, "%s (unsupported)", fi->type_name ? fi->type_name : "unknown type");
    return buf;
}

bool out_utf8_valid(const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_sequence(p + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

bool out_is_text(const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t' && p[i] != '\r') || p[i] == 0x7f)
            return false;
    return out_utf8_valid(data, n);
}

cJSON *out_json_string(const char *text)
{
    size_t n = strlen(text);
    if (out_utf8_valid(text, n))
        return cJSON_CreateString(text);
    /* Each bad byte becomes U+FFFD (3 bytes). */
    char *fixed = malloc(3 * n + 1);
    if (!fixed)
        return NULL;
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)text;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_sequence(p + i, n - i);
        if (len == 0) {
            memcpy(fixed + used, "\xEF\xBF\xBD", 3);
            used += 3;
            i++;
        } else {
            memcpy(fixed + used, p + i, len);
            used += len;
            i += len;
        }
    }
    fixed[used] = '\0';
    cJSON *s = cJSON_CreateString(fixed);
    free(fixed);
    return s;
}

void out_json_add_name(cJSON *obj, const char *key, const char *text)
{
    size_t n = strlen(text);
    cJSON_AddItemToObject(obj, key, out_json_string(text));
    if (out_utf8_valid(text, n))
        return;
    char *hex = malloc(2 * n + 1), hkey[96];
    if (!hex)
        return;
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)text[i]);
    snprintf(hkey, sizeof hkey, "%s_hex", key);
    cJSON_AddStringToObject(obj, hkey, hex);
    free(hex);
}

void out_json_add_u64(cJSON *obj, const char *key, uint64_t value)
{
    cJSON_AddItemToObject(obj, key, sb_json_number_u64(value));
}

/* A JSON string literal; the text is UTF-8 already (out_json_string). */
static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void write_value(FILE *f, const cJSON *item, int depth)
{
    if (cJSON_IsArray(item) || cJSON_IsObject(item)) {
        bool object = cJSON_IsObject(item);
        const cJSON *child = item->child;
        fputc(object ? '{' : '[', f);
        for (; child; child = child->next) {
            fprintf(f, "\n%*s", 2 * (depth + 1), "");
            if (object) {
                write_string(f, child->string ? child->string : "");
                fputs(": ", f);
            }
            write_value(f, child, depth + 1);
            if (child->next)
                fputc(',', f);
        }
        if (item->child)
            fprintf(f, "\n%*s", 2 * depth, "");
        fputc(object ? '}' : ']', f);
    } else if (cJSON_IsString(item)) {
        write_string(f, item->valuestring);
    } else {
        /* Numbers (exact), true, false, null. */
        char *text = NULL;
        if (sb_json_print(&text, item) == 0) {
            fputs(text, f);
            sb_free(text);
        } else {
            fputs("null", f);
        }
    }
}

int out_json_write(FILE *f, const cJSON *doc)
{
    write_value(f, doc, 0);
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}
