/* Library error handling shared by the benchmark programs: any failure is
 * fatal, with the library's own message. */
#ifndef SB_BENCH_SB_H
#define SB_BENCH_SB_H

#include <secbench/storage.h>

#include "bench_common.h"

static inline void bc_sb(int rc, const char *what)
{
    if (rc != 0)
        bc_die(what, sb_last_error_message());
}

#endif
