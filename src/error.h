/* The thread-local last error, and the bridge from HDF5's error stack. */
#ifndef SB_ERROR_H
#define SB_ERROR_H

#include <hdf5.h>

#include "base.h"

#define SB_ERRMSG_MAX 512

/* Record an error for this thread and return `code`. */
int sb__error(int code, const char *fmt, ...) SB_PRINTF(2, 3);
/* The same, appending the innermost message of HDF5's error stack. */
int sb__h5_error(int code, const char *fmt, ...) SB_PRINTF(2, 3);
void sb__error_set(int code, const char *message);
/* Put "<fmt>: " before the last message (safely: it is the buffer the
 * message is formatted into), with `code`. */
int sb__error_wrap(int code, const char *fmt, ...) SB_PRINTF(2, 3);
/* Keep the last message, change its code (a missing attribute is a format error on load). */
int sb__error_recode(int code);

/* A failure kept aside while cleaning up, then raised again. */
typedef struct sb_saved_error {
    int code;
    char message[SB_ERRMSG_MAX];
} sb_saved_error;
void sb__error_save(sb_saved_error *saved);
int sb__error_restore(const sb_saved_error *saved);

/* HDF5 prints its error stack to stderr by default; the library never lets
 * it: the collective frame (coll.h) brackets every public call with these. */
typedef struct sb_h5_quiet {
    H5E_auto2_t func;
    void *data;
} sb_h5_quiet;
void sb__quiet_begin(sb_h5_quiet *q);
void sb__quiet_end(const sb_h5_quiet *q);

/* Whether HDF5's current error stack mentions `text` (to tell a lock
 * conflict from a damaged file, say). */
bool sb__h5_stack_has(const char *text);

#endif
