/* Errors: every function returns 0 or a negative sb_error code; the message of
 * the last failure on this thread names what was wrong. */
#ifndef SECBENCH_ERRORS_H
#define SECBENCH_ERRORS_H

#include "secbench/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sb_error {
    SB_OK = 0,
    SB_ERR_INVALID = -1,    /* bad argument, misuse of a handle (Python ValueError) */
    SB_ERR_NOT_FOUND = -2,  /* no such file, dataset, field or asset (KeyError) */
    SB_ERR_EXISTS = -3,     /* file or dataset or asset already there */
    SB_ERR_FULL = -4,       /* rows would exceed the dataset capacity (ValueError) */
    SB_ERR_TYPE = -5,       /* dtype or row shape differs from the field's (ValueError) */
    SB_ERR_FORMAT = -6,     /* the file does not follow the secbench format (ValueError) */
    SB_ERR_READ_ONLY = -7,  /* write to a store opened with "r" */
    SB_ERR_IO = -8,         /* HDF5 / MPI-IO / OS failure */
    SB_ERR_NOMEM = -9,      /* allocation failed */
    SB_ERR_COLLECTIVE = -10,/* ranks disagree on the arguments of a collective call */
    SB_ERR_LOCKED = -11     /* another process holds the store (a writer, or HDF5's lock) */
} sb_error;

/* Message of the last error raised on this thread ("" if none). Never NULL. */
SB_API const char *sb_last_error_message(void);
/* Code of the last error raised on this thread (0 if none). */
SB_API int sb_last_error_code(void);
/* Forget the last error. */
SB_API void sb_clear_error(void);
/* Symbolic name of a code ("SB_ERR_FULL"), "SB_ERR_UNKNOWN" for others. */
SB_API const char *sb_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif
