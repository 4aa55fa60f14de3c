/* JSON whose numbers do not change on the way (json.h). The parser is ours
 * because cJSON's keeps a number only as a double; it builds ordinary cJSON
 * trees, with each number's text kept in its valuestring. */
#define _GNU_SOURCE /* newlocale, uselocale: numbers in the C locale whatever the program's */
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

locale_t sb__json_c_locale(void)
{
    static locale_t loc;
    if (!loc)
        loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    return loc;
}

/* ---- parse -------------------------------------------------------------- */

typedef struct parser {
    const char *p, *start, *end;
    int depth;
    char error[160];
} parser;

static bool fail(parser *ps, const char *what)
{
    if (!ps->error[0])
        snprintf(ps->error, sizeof ps->error, "%s at byte %ld", what, (long)(ps->p - ps->start));
    return false;
}

static void skip_space(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
        ps->p += n;
        return true;
    }
    return false;
}

static void put_utf8(char **o, unsigned cp)
{
    unsigned char *u = (unsigned char *)*o;
    if (cp < 0x80) {
        *u++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *u++ = (unsigned char)(0xC0 | (cp >> 6));
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *u++ = (unsigned char)(0xE0 | (cp >> 12));
        *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *u++ = (unsigned char)(0xF0 | (cp >> 18));
        *u++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *o = (char *)u;
}

static bool hex4(parser *ps, unsigned *v)
{
    if (ps->end - ps->p < 4)
        return fail(ps, "truncated \\u escape");
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (unsigned)(c - 'A' + 10);
        else
            return fail(ps, "bad \\u escape");
    }
    return true;
}

/* Length of a valid UTF-8 sequence at p (0 if invalid). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (size_t)(end - p) < n)
        return 0;
    unsigned cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    bool overlong = (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static char *parse_string(parser *ps)
{
    ps->p++; /* the opening quote */
    const char *q = ps->p;
    /* The decoded text is never longer than the source. */
    while (q < ps->end && *q != '"')
        q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
    if (q >= ps->end) {
        fail(ps, "unterminated string");
        return NULL;
    }
    char *out = cJSON_malloc((size_t)(q - ps->p) + 1), *o = out;
    if (!out) {
        fail(ps, "out of memory");
        return NULL;
    }
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            fail(ps, "control character in a string");
            break;
        }
        if (c != '\\') {
            size_t n = utf8_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);
            if (n == 0) {
                fail(ps, "invalid UTF-8 in a string");
                break;
            }
            memcpy(o, ps->p, n);
            o += n;
            ps->p += n;
            continue;
        }
        ps->p++;
        char e = *ps->p++;
        unsigned cp = 0;
        switch (e) {
        case '"': *o++ = '"'; continue;
        case '\\': *o++ = '\\'; continue;
        case '/': *o++ = '/'; continue;
        case 'b': *o++ = '\b'; continue;
        case 'f': *o++ = '\f'; continue;
        case 'n': *o++ = '\n'; continue;
        case 'r': *o++ = '\r'; continue;
        case 't': *o++ = '\t'; continue;
        case 'u': break;
        default: fail(ps, "bad escape in a string"); goto bad;
        }
        if (!hex4(ps, &cp))
            goto bad;
        if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
            ps->p[1] == 'u') {
            const char *back = ps->p;
            unsigned lo = 0;
            ps->p += 2;
            if (!hex4(ps, &lo))
                goto bad;
            if (lo >= 0xDC00 && lo <= 0xDFFF)
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else
                ps->p = back;
        }
        if (cp == 0) {
            fail(ps, "a \\u0000 in a string (cJSON strings end at a NUL)");
            goto bad;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xFFFD; /* a lone surrogate: no UTF-8 for it */
        put_utf8(&o, cp);
    }
    if (ps->error[0])
        goto bad;
    ps->p++; /* the closing quote */
    *o = '\0';
    return out;
bad:
    cJSON_free(out);
    return NULL;
}

static cJSON *number_node(parser *ps, const char *from, const char *to, double value)
{
    cJSON *n = cJSON_CreateNumber(value);
    char *text = n ? cJSON_malloc((size_t)(to - from) + 1) : NULL;
    if (!text) {
        cJSON_Delete(n);
        fail(ps, "out of memory");
        return NULL;
    }
    memcpy(text, from, (size_t)(to - from));
    text[to - from] = '\0';
    n->valuestring = text;
    return n;
}

static cJSON *parse_number(parser *ps)
{
    const char *from = ps->p;
    /* Python's json also reads (and writes) NaN and Infinity. */
    if (literal(ps, "NaN"))
        return number_node(ps, from, ps->p, NAN);
    if (literal(ps, "Infinity"))
        return number_node(ps, from, ps->p, INFINITY);
    if (literal(ps, "-Infinity"))
        return number_node(ps, from, ps->p, -INFINITY);
    const char *p = ps->p;
    if (p < ps->end && *p == '-')
        p++;
    if (p < ps->end && *p == '0')
        p++;
    else if (p < ps->end && *p >= '1' && *p <= '9')
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    else {
        fail(ps, "bad number");
        return NULL;
    }
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || *p < '0' || *p > '9') {
            ps->p = p;
            fail(ps, "bad number (digits expected after '.')");
            return NULL;
        }
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= ps->end || *p < '0' || *p > '9') {
            ps->p = p;
            fail(ps, "bad number (digits expected in the exponent)");
            return NULL;
        }
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    char small[64], *copy = (size_t)(p - from) < sizeof small ? small : malloc((size_t)(p - from) + 1);
    if (!copy) {
        fail(ps, "out of memory");
        return NULL;
    }
    memcpy(copy, from, (size_t)(p - from));
    copy[p - from] = '\0';
    double v = strtod_l(copy, NULL, sb__json_c_locale());
    if (copy != small)
        free(copy);
    ps->p = p;
    return number_node(ps, from, p, v);
}

static cJSON *parse_value(parser *ps);

static cJSON *parse_container(parser *ps, bool object)
{
    if (++ps->depth > MAX_DEPTH) {
        fail(ps, "nesting deeper than 512");
        return NULL;
    }
    cJSON *c = object ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!c) {
        fail(ps, "out of memory");
        return NULL;
    }
    ps->p++;
    skip_space(ps);
    char close = object ? '}' : ']';
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return c;
    }
    cJSON *last = NULL;
    for (;;) {
        char *key = NULL;
        if (object) {
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "a string key expected");
                break;
            }
            key = parse_string(ps);
            if (!key)
                break;
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                cJSON_free(key);
                fail(ps, "':' expected");
                break;
            }
            ps->p++;
        }
        cJSON *item = parse_value(ps);
        if (!item) {
            cJSON_free(key);
            break;
        }
        item->string = key;
        /* Appended at the tail in O(1) (cJSON keeps child->prev = last). */
        if (!last) {
            c->child = item;
            item->prev = item;
        } else {
            last->next = item;
            item->prev = last;
            c->child->prev = item;
        }
        last = item;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            return c;
        }
        fail(ps, object ? "',' or '}' expected" : "',' or ']' expected");
        break;
    }
    cJSON_Delete(c);
    return NULL;
}

/* A node cJSON made, or the failure that says why there is none. */
static cJSON *created(parser *ps, cJSON *node)
{
    if (!node)
        fail(ps, "out of memory");
    return node;
}

static cJSON *parse_value(parser *ps)
{
    skip_space(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end of the text");
        return NULL;
    }
    switch (*ps->p) {
    case '{': return parse_container(ps, true);
    case '[': return parse_container(ps, false);
    case '"': {
        char *s = parse_string(ps);
        if (!s)
            return NULL;
        cJSON *n = cJSON_CreateString("");
        if (!n) {
            cJSON_free(s);
            fail(ps, "out of memory");
            return NULL;
        }
        cJSON_free(n->valuestring);
        n->valuestring = s;
        return n;
    }
    case 't':
        if (literal(ps, "true"))
            return created(ps, cJSON_CreateTrue());
        break;
    case 'f':
        if (literal(ps, "false"))
            return created(ps, cJSON_CreateFalse());
        break;
    case 'n':
        if (literal(ps, "null"))
            return created(ps, cJSON_CreateNull());
        break;
    case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6':
    case '7': case '8': case '9': case 'N': case 'I':
        return parse_number(ps);
    default:
        break;
    }
    fail(ps, "unexpected character");
    return NULL;
}

int sb_json_parse(cJSON **out, const char *text, size_t len)
{
    if (!out)
        return sb__error(SB_ERR_INVALID, "sb_json_parse: out is NULL");
    *out = NULL;
    if (!text && len > 0)
        return sb__error(SB_ERR_INVALID, "sb_json_parse: text is NULL");
    parser ps = {text, text, text + len, 0, ""};
    cJSON *doc = parse_value(&ps);
    if (doc) {
        /* Like Python's json.loads: only white space may follow. */
        skip_space(&ps);
        if (ps.p < ps.end) {
            fail(&ps, "extra data after the document");
            cJSON_Delete(doc);
            doc = NULL;
        }
    }
    if (!doc)
        return sb__error(strncmp(ps.error, "out of memory", 13) == 0 ? SB_ERR_NOMEM : SB_ERR_FORMAT,
                         "JSON %s", ps.error[0] ? ps.error : "error");
    *out = doc;
    return 0;
}

