/* Thread-local last error, and the bridge from HDF5's error stack. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static _Thread_local int last_code;
static _Thread_local char last_message[SB_ERRMSG_MAX];

const char *sb_last_error_message(void) { return last_message; }
int sb_last_error_code(void) { return last_code; }

void sb_clear_error(void)
{
    last_code = 0;
    last_message[0] = '\0';
}

const char *sb_error_name(int code)
{
    switch (code) {
    case SB_OK: return "SB_OK";
    case SB_ERR_INVALID: return "SB_ERR_INVALID";
    case SB_ERR_NOT_FOUND: return "SB_ERR_NOT_FOUND";
    case SB_ERR_EXISTS: return "SB_ERR_EXISTS";
    case SB_ERR_FULL: return "SB_ERR_FULL";
    case SB_ERR_TYPE: return "SB_ERR_TYPE";
    case SB_ERR_FORMAT: return "SB_ERR_FORMAT";
    case SB_ERR_READ_ONLY: return "SB_ERR_READ_ONLY";
    case SB_ERR_IO: return "SB_ERR_IO";
    case SB_ERR_NOMEM: return "SB_ERR_NOMEM";
    case SB_ERR_COLLECTIVE: return "SB_ERR_COLLECTIVE";
    case SB_ERR_LOCKED: return "SB_ERR_LOCKED";
    default: return "SB_ERR_UNKNOWN";
    }
}

void sb__error_set(int code, const char *message)
{
    last_code = code;
    if (message != last_message)
        snprintf(last_message, sizeof last_message, "%s", message ? message : "");
}

int sb__error_wrap(int code, const char *fmt, ...)
{
    char prefix[SB_ERRMSG_MAX], old[SB_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_message, sizeof old);
    return sb__error(code, "%s: %s", prefix, old);
}

int sb__error_recode(int code)
{
    last_code = code;
    return code;
}

void sb__error_save(sb_saved_error *saved)
{
    saved->code = last_code;
    memcpy(saved->message, last_message, sizeof saved->message);
}

int sb__error_restore(const sb_saved_error *saved)
{
    sb__error_set(saved->code, saved->message);
    return saved->code;
}

int sb__error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    last_code = code;
    return code;
}

/* The innermost entry of HDF5's stack is the most specific ("unable to
 * extend file", "No space left on device"...). */
static herr_t innermost(unsigned n, const H5E_error2_t *err, void *payload)
{
    char *out = payload;
    if (n == 0 && err->desc)
        snprintf(out, 160, "%s", err->desc);
    return 0;
}

static herr_t deepest_with_errno(unsigned n, const H5E_error2_t *err, void *payload)
{
    (void)n;
    char *out = payload;
    /* Lower layers (the file drivers) report the system error text. */
    if (err->desc && (strstr(err->desc, "errno") || strstr(err->desc, "space")))
        snprintf(out, 160, "%s", err->desc);
    return 0;
}

int sb__h5_error(int code, const char *fmt, ...)
{
    char what[SB_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    char detail[160] = "", sys[160] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, detail);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, deepest_with_errno, sys);
    if (sys[0])
        return sb__error(code, "%s (HDF5: %s)", what, sys);
    if (detail[0])
        return sb__error(code, "%s (HDF5: %s)", what, detail);
    return sb__error(code, "%s", what);
}

void sb__quiet_begin(sb_h5_quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void sb__quiet_end(const sb_h5_quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->func, q->data); }

typedef struct stack_search {
    const char *text;
    bool found;
} stack_search;

static herr_t search_entry(unsigned n, const H5E_error2_t *err, void *payload)
{
    (void)n;
    stack_search *s = payload;
    if (err->desc && strstr(err->desc, s->text))
        s->found = true;
    return 0;
}

bool sb__h5_stack_has(const char *text)
{
    stack_search s = {text, false};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, search_entry, &s);
    return s.found;
}
