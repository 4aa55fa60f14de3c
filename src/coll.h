/* The collective frame: every public call on a store goes through it.
 *
 *   sb_call c;
 *   sb__call_begin(&c, "sb_dataset_reset", coll);  // HDF5 quiet from here
 *   sb__call_check(&c, <local argument checks>);    // first failure kept
 *   sb__call_str(&c, name);                          // arguments to agree on
 *   int rc = sb__call_enter(&c);                     // one allreduce
 *   if (rc == 0) rc = <work, its steps agreed with sb__coll_agree>;
 *   return sb__call_end(&c, rc);                     // HDF5 as it was
 *
 * sb__call_enter spreads a local failure of any rank to every rank (the
 * lowest failing rank's code and message; a failed write beats anything) and
 * then checks that the ranks passed the same arguments, so an argument error
 * on one rank never leaves the others inside a collective. On a serial store
 * no MPI call is made. Internal paths (export, close) call the work
 * functions directly, never the public entry points, so one public call is
 * one frame. */
#ifndef SB_COLL_H
#define SB_COLL_H

#include <mpi.h>

#include "error.h"
#include "iolatch.h"

/* What a store's ranks share to agree: the communicator, and the state of
 * write failures (a store that saw one takes no more writes). */
typedef struct sb_coll {
    bool parallel;
    MPI_Comm comm;        /* the store's duplicate; MPI_COMM_NULL when serial */
    int rank;
    int nranks;
    const char *path;     /* for messages */
    sb_latch *latch;      /* write errors inside HDF5 (NULL: none watched) */
    bool io_fault;        /* a write failed outside HDF5 (fsync), not yet agreed on */
    bool write_failed;    /* agreed on every rank: HDF5's view may differ from the disk */
    char *write_failure;  /* its message, repeated to later writes */
} sb_coll;

typedef struct sb_hash {
    uint64_t h;
} sb_hash;
void sb__hash_init(sb_hash *h, const char *op);
void sb__hash_bytes(sb_hash *h, const void *data, size_t len);
void sb__hash_str(sb_hash *h, const char *s);
void sb__hash_u64(sb_hash *h, uint64_t v);

typedef struct sb_call {
    sb_coll *coll;  /* NULL: no store to agree through (NULL or closed handle) */
    const char *op;
    sb_hash args;
    int rc;         /* first local failure */
    sb_h5_quiet quiet;
} sb_call;

void sb__call_begin(sb_call *c, const char *op, sb_coll *coll);
/* Keep the first local failure; returns the call's local state. */
int sb__call_check(sb_call *c, int rc);
static inline void sb__call_str(sb_call *c, const char *s) { sb__hash_str(&c->args, s); }
static inline void sb__call_u64(sb_call *c, uint64_t v) { sb__hash_u64(&c->args, v); }
static inline void sb__call_bytes(sb_call *c, const void *p, size_t n)
{
    sb__hash_bytes(&c->args, p, n);
}
/* The agreement: 0 on every rank, or the same error on every rank. */
int sb__call_enter(sb_call *c);
int sb__call_end(sb_call *c, int rc);

/* One step of work agreed on: every rank returns the same code. */
int sb__coll_agree(sb_coll *coll, int local_rc);
/* For the calls that write on one rank alone (sb_dataset_write_at): a write
 * failure caught by the latch, reported by this call and kept for the next
 * agreement. */
int sb__coll_local_write_failures(sb_coll *coll, int local_rc);
/* Raise the store's refusal of writes after an agreed write failure (0 if none). */
int sb__coll_check_writes(const sb_coll *coll, const char *what);
/* Gather `n` uint64 of every rank into all[rank * n + i]. */
int sb__coll_allgather_u64(sb_coll *coll, const uint64_t *local, size_t n, uint64_t *all);
/* The largest `value` of any rank. Values must stay below 2^63 (see
 * SB_MAX_REDUCIBLE): callers pass counts bounded by a capacity. */
int sb__coll_max_u64(sb_coll *coll, uint64_t *value);
/* Every value reduced with MPI_MAX stays at or below this: MPICH 4.0.2
 * compares MPI_UINT64_T as signed in MPI_MAX (and Open MPI 4.1 does so for
 * MPI_UNSIGNED_LONG), so above 2^63-1 the result depends on the MPI. Below
 * it both orders agree. */
#define SB_MAX_REDUCIBLE ((uint64_t)INT64_MAX)
/* A 63-bit digest of a hash, for MPI_MAX reductions. */
static inline uint64_t sb__hash63(uint64_t h) { return h >> 1; }
int sb__coll_bcast(sb_coll *coll, void *buf, size_t len, int root);
/* Agree on an int each rank computed: every rank gets the value of the lowest
 * rank whose value is not 0 (0 if none). */
int sb__coll_first_nonzero(sb_coll *coll, int *value);

#endif
