/* Helpers shared by the serial Check suites and the interop programs:
 * private temporary folders (so suites can run in parallel), file snapshots,
 * stderr capture and assertion macros that print the library's message. */
#ifndef SBT_UTIL_H
#define SBT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <secbench/storage.h>

/* A new private folder under $TMPDIR (or /tmp); malloc'd path. Aborts on failure. */
char *sbt_mkdtemp(const char *tag);
/* dir + "/" + name, malloc'd. */
char *sbt_join(const char *dir, const char *name);
/* Remove a folder and everything in it. */
void sbt_rmtree(const char *dir);
bool sbt_exists(const char *path);
/* Whole file into a malloc'd buffer; false if it cannot be read. */
bool sbt_read_file(const char *path, unsigned char **data, size_t *len);
bool sbt_write_file(const char *path, const void *data, size_t len);
/* Number of entries in a folder (without . and ..), -1 on error. */
int sbt_count_entries(const char *dir);

/* Send fd 2 to a fresh temporary file; sbt_stderr_end puts it back and returns
 * what was written there (malloc'd, NUL-terminated). */
typedef struct sbt_capture { int saved_fd; char path[256]; } sbt_capture;
void sbt_stderr_begin(sbt_capture *cap);
char *sbt_stderr_end(sbt_capture *cap);

/* A store (serial) at dir/name opened with mode; aborts the test on failure. */
sb_store *sbt_open(const char *dir, const char *name, sb_open_mode mode);

#define SBT_OK(expr)                                                              \
    do {                                                                          \
        int sbt_rc_ = (expr);                                                     \
        ck_assert_msg(sbt_rc_ == 0, "%s failed: %d %s: %s", #expr, sbt_rc_,       \
                      sb_error_name(sbt_rc_), sb_last_error_message());           \
    } while (0)

/* The call fails with `code` and leaves a non-empty message behind. */
#define SBT_ERR(expr, code)                                                       \
    do {                                                                          \
        int sbt_rc_ = (expr);                                                     \
        ck_assert_msg(sbt_rc_ == (code), "%s returned %d (%s), expected %s; msg: %s", \
                      #expr, sbt_rc_, sb_error_name(sbt_rc_), sb_error_name(code), \
                      sb_last_error_message());                                   \
        ck_assert_msg(sb_last_error_message()[0] != '\0',                         \
                      "%s left an empty error message", #expr);                   \
        ck_assert_int_eq(sb_last_error_code(), (code));                           \
    } while (0)

/* The call fails (any negative code) with a non-empty message. */
#define SBT_FAILS(expr)                                                           \
    do {                                                                          \
        int sbt_rc_ = (expr);                                                     \
        ck_assert_msg(sbt_rc_ < 0, "%s returned %d, expected an error", #expr,    \
                      sbt_rc_);                                                   \
        ck_assert_msg(sb_last_error_message()[0] != '\0',                         \
                      "%s left an empty error message", #expr);                   \
    } while (0)

/* The last error message mentions `what` (a dataset, field, path...). */
#define SBT_MSG_HAS(what)                                                         \
    ck_assert_msg(strstr(sb_last_error_message(), (what)) != NULL,                \
                  "error message \"%s\" does not name \"%s\"",                   \
                  sb_last_error_message(), (what))

#endif
