/* The collective frame and the small exchanges behind it. On a serial store
 * none of them calls MPI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"

/* FNV-1a: cheap, and only has to tell honest mistakes apart. */
void sb__hash_init(sb_hash *h, const char *op)
{
    h->h = 1469598103934665603ULL;
    sb__hash_str(h, op);
}

void sb__hash_bytes(sb_hash *h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h->h ^= p[i];
        h->h *= 1099511628211ULL;
    }
}

void sb__hash_str(sb_hash *h, const char *s)
{
    if (s)
        sb__hash_bytes(h, s, strlen(s) + 1);
    else
        sb__hash_u64(h, 0x9e3779b97f4a7c15ULL);
}

void sb__hash_u64(sb_hash *h, uint64_t v) { sb__hash_bytes(h, &v, sizeof v); }

static int mpi_failed(int mpirc, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(mpirc, text, &len);
    return sb__error(SB_ERR_IO, "MPI %s failed: %s", what, text);
}

/* A failing rank's key: the larger, the more it explains. A write failure
 * beats any other error (it is the cause of the others), then lower ranks. */
#define KEY_WRITE_FAILURE (1ULL << 40)
#define KEY_RANK_MASK 0xffffffffULL

static uint64_t failing_key(const sb_coll *c, int local_rc, bool write_failure)
{
    if (local_rc >= 0)
        return 0;
    return ((uint64_t)UINT32_MAX - (uint64_t)c->rank) | (write_failure ? KEY_WRITE_FAILURE : 0);
}

/* Write failures caught since the last agreement become this rank's error. */
static int take_write_failures(sb_coll *c, int local_rc, bool *failed)
{
    char what[SB_ERRMSG_MAX - 64];
    *failed = c->io_fault;
    c->io_fault = false;
    if (sb__latch_take(c->latch, what, sizeof what) > 0) {
        *failed = true;
        return sb__error(SB_ERR_IO, "store '%s': %s", c->path, what);
    }
    return *failed && local_rc >= 0 ? sb__error(SB_ERR_IO, "store '%s': a write failed", c->path)
                                    : local_rc;
}

/* Everyone learns the lowest failing rank and gets its code and message. */
static int spread_failure(sb_coll *c, int local_rc, uint64_t key)
{
    if (key == 0)
        return 0;
    int root = (int)(UINT32_MAX - (key & KEY_RANK_MASK));
    struct {
        int code;
        char message[SB_ERRMSG_MAX];
    } msg;
    memset(&msg, 0, sizeof msg);
    if (c->rank == root) {
        msg.code = local_rc;
        strncpy(msg.message, sb_last_error_message(), sizeof msg.message - 1);
    }
    int rc = MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, root, c->comm);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "broadcast of an error");
    /* A rank that failed the same way keeps its own (identical) message. */
    bool same = local_rc == msg.code && strcmp(sb_last_error_message(), msg.message) == 0;
    if (c->rank != root && !same) {
        char text[SB_ERRMSG_MAX + 32];
        /* Say which rank failed: on another rank the cause is not local. */
        snprintf(text, sizeof text, "rank %d: %.*s", root, SB_ERRMSG_MAX - 32, msg.message);
        sb__error_set(msg.code, text);
    }
    return msg.code;
}

int sb__coll_local_write_failures(sb_coll *c, int local_rc)
{
    char what[SB_ERRMSG_MAX - 64];
    if (sb__latch_take(c->latch, what, sizeof what) == 0)
        return local_rc;
    /* Reported now, and again (as a fault) at the next agreement. */
    c->io_fault = true;
    return sb__error(SB_ERR_IO, "store '%s': %s", c->path, what);
}

/* Once every rank knows a write failed, the store takes no more writes. */
static int settle(sb_coll *c, int rc, bool write_failure)
{
    if (write_failure && !c->write_failed) {
        c->write_failed = true;
        free(c->write_failure);
        c->write_failure = sb__strdup(sb_last_error_message());
    }
    return rc;
}

int sb__coll_check_writes(const sb_coll *c, const char *what)
{
    if (!c->write_failed)
        return 0;
    return sb__error(SB_ERR_IO,
                     "%s: store '%s' takes no more writes after a failed one (%s); close it "
                     "and open it again: what was committed before the failure is there",
                     what, c->path, c->write_failure ? c->write_failure : "");
}

void sb__call_begin(sb_call *c, const char *op, sb_coll *coll)
{
    c->coll = coll;
    c->op = op;
    c->rc = 0;
    sb__hash_init(&c->args, op);
    sb__quiet_begin(&c->quiet);
}

int sb__call_check(sb_call *c, int rc)
{
    if (c->rc == 0 && rc < 0)
        c->rc = rc;
    return c->rc;
}

int sb__call_enter(sb_call *c)
{
    sb_coll *coll = c->coll;
    if (!coll)
        return c->rc < 0 ? c->rc : sb__error(SB_ERR_INVALID, "%s: no store", c->op);
    bool wf;
    int local_rc = take_write_failures(coll, c->rc, &wf);
    if (!coll->parallel)
        return settle(coll, local_rc, wf);
    /* One reduction: max(h), max(~h) (so min(h)), and the lowest failing
     * rank; h and ~h in 63 bits (SB_MAX_REDUCIBLE). */
    uint64_t h = sb__hash63(c->args.h);
    uint64_t in[3] = {h, h ^ SB_MAX_REDUCIBLE, failing_key(coll, local_rc, wf)}, out[3];
    int rc = MPI_Allreduce(in, out, 3, MPI_UINT64_T, MPI_MAX, coll->comm);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "allreduce");
    if (out[2] != 0)
        return settle(coll, spread_failure(coll, local_rc, out[2]),
                      (out[2] & KEY_WRITE_FAILURE) != 0);
    if (out[0] != (out[1] ^ SB_MAX_REDUCIBLE))
        return sb__error(SB_ERR_COLLECTIVE,
                         "%s: the ranks passed different arguments to this collective call "
                         "(names, sizes, fields, content or options differ); every rank must "
                         "pass the same ones",
                         c->op);
    return 0;
}

int sb__call_end(sb_call *c, int rc)
{
    sb__quiet_end(&c->quiet);
    return rc;
}

int sb__coll_agree(sb_coll *c, int local_rc)
{
    bool wf;
    local_rc = take_write_failures(c, local_rc, &wf);
    if (!c->parallel)
        return settle(c, local_rc, wf);
    uint64_t in = failing_key(c, local_rc, wf), out = 0;
    int rc = MPI_Allreduce(&in, &out, 1, MPI_UINT64_T, MPI_MAX, c->comm);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "allreduce");
    return settle(c, spread_failure(c, local_rc, out), (out & KEY_WRITE_FAILURE) != 0);
}

int sb__coll_allgather_u64(sb_coll *c, const uint64_t *local, size_t n, uint64_t *all)
{
    if (!c->parallel) {
        memcpy(all, local, n * sizeof *local);
        return 0;
    }
    int rc = MPI_Allgather(local, (int)n, MPI_UINT64_T, all, (int)n, MPI_UINT64_T, c->comm);
    return rc == MPI_SUCCESS ? 0 : mpi_failed(rc, "allgather");
}

int sb__coll_max_u64(sb_coll *c, uint64_t *value)
{
    if (!c->parallel)
        return 0;
    uint64_t in = *value < SB_MAX_REDUCIBLE ? *value : SB_MAX_REDUCIBLE;
    int rc = MPI_Allreduce(&in, value, 1, MPI_UINT64_T, MPI_MAX, c->comm);
    return rc == MPI_SUCCESS ? 0 : mpi_failed(rc, "allreduce");
}

int sb__coll_bcast(sb_coll *c, void *buf, size_t len, int root)
{
    if (!c->parallel)
        return 0;
    int rc = MPI_Bcast(buf, (int)len, MPI_BYTE, root, c->comm);
    return rc == MPI_SUCCESS ? 0 : mpi_failed(rc, "broadcast");
}

int sb__coll_first_nonzero(sb_coll *c, int *value)
{
    if (!c->parallel)
        return 0;
    /* The lowest rank with a value, then its value. */
    int mine = *value != 0 ? c->rank : c->nranks, first = c->nranks;
    int rc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c->comm);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "allreduce");
    if (first == c->nranks) {
        *value = 0;
        return 0;
    }
    rc = MPI_Bcast(value, 1, MPI_INT, first, c->comm);
    return rc == MPI_SUCCESS ? 0 : mpi_failed(rc, "broadcast");
}
