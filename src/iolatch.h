/* The I/O latch: write errors inside HDF5's drivers become the library's to
 * report at its next agreement (see iolatch.c for why). */
#ifndef SB_IOLATCH_H
#define SB_IOLATCH_H

#include "base.h"

typedef struct sb_latch sb_latch;
/* Files HDF5 opens on this thread from now on are the library's: their write
 * errors are recorded instead of failing inside HDF5's collectives. */
int sb__latch_arm(bool mpi);
/* Whether a file opened since sb__latch_arm got no record (out of memory):
 * its write errors would not be caught. */
bool sb__latch_short(void);
/* Stop; the record of the file the store just opened (NULL if none). */
sb_latch *sb__latch_disarm(void);
/* Failures recorded since the last call (the first one described in `what`). */
unsigned sb__latch_take(sb_latch *l, char *what, size_t len);
/* After H5Fclose and the last take. */
void sb__latch_release(sb_latch *l);

#endif
