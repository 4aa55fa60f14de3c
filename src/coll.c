/* Collective helpers: argument agreement, error agreement, small exchanges.
 * On a serial store none of them calls MPI. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

static uint64_t failing_key(const sb_store *s, int local_rc, bool write_failure)
{
    if (local_rc >= 0)
        return 0;
    return ((uint64_t)UINT32_MAX - (uint64_t)s->rank) | (write_failure ? KEY_WRITE_FAILURE : 0);
}

/* Write failures caught since the last agreement become this rank's error. */
static int take_write_failures(sb_store *s, int local_rc, bool *failed)
{
    char what[SB_ERRMSG_MAX - 64];
    *failed = s->io_fault;
    s->io_fault = false;
    if (sb__latch_take(s->latch, what, sizeof what) > 0) {
        *failed = true;
        return sb__error(SB_ERR_IO, "store '%s': %s", s->path, what);
    }
    return *failed && local_rc >= 0 ? sb__error(SB_ERR_IO, "store '%s': a write failed", s->path)
                                    : local_rc;
}

/* Everyone learns the lowest failing rank and gets its code and message. */
static int spread_failure(sb_store *s, int local_rc, uint64_t failing_key)
{
    if (failing_key == 0)
        return 0;
    int root = (int)(UINT32_MAX - (failing_key & KEY_RANK_MASK));
    struct {
        int code;
        char message[SB_ERRMSG_MAX];
    } msg;
    memset(&msg, 0, sizeof msg);
    if (s->rank == root) {
        msg.code = local_rc;
        strncpy(msg.message, sb_last_error_message(), sizeof msg.message - 1);
    }
    int rc = MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, root, s->comm);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "broadcast of an error");
    /* A rank that failed the same way keeps its own (identical) message. */
    bool same = local_rc == msg.code && strcmp(sb_last_error_message(), msg.message) == 0;
    if (s->rank != root && !same) {
        char text[SB_ERRMSG_MAX + 32];
        /* Say which rank failed: on another rank the cause is not local. */
        snprintf(text, sizeof text, "rank %d: %.*s", root, SB_ERRMSG_MAX - 32, msg.message);
        sb__error_set(msg.code, text);
    }
    return msg.code;
}

int sb__store_local_write_failures(sb_store *s, int local_rc)
{
    char what[SB_ERRMSG_MAX - 64];
    if (sb__latch_take(s->latch, what, sizeof what) == 0)
        return local_rc;
    /* Reported now, and again (as a fault) at the next agreement. */
    s->io_fault = true;
    return sb__error(SB_ERR_IO, "store '%s': %s", s->path, what);
}

/* Once every rank knows a write failed, the store takes no more writes. */
static int settle(sb_store *s, int rc, bool write_failure)
{
    if (write_failure && !s->write_failed) {
        s->write_failed = true;
        free(s->write_failure);
        s->write_failure = sb__strdup(sb_last_error_message());
    }
    return rc;
}

int sb__coll_begin(sb_store *s, const char *op, const sb_hash *args, int local_rc)
{
    bool wf;
    local_rc = take_write_failures(s, local_rc, &wf);
    if (!s->parallel)
        return settle(s, local_rc, wf);
    /* One reduction: max(h), max(~h) (so min(h)), and the lowest failing rank. */
    uint64_t in[3] = {args->h, ~args->h, failing_key(s, local_rc, wf)}, out[3];
    int rc = MPI_Allreduce(in, out, 3, MPI_UINT64_T, MPI_MAX, s->comm);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "allreduce");
    if (out[2] != 0)
        return settle(s, spread_failure(s, local_rc, out[2]), (out[2] & KEY_WRITE_FAILURE) != 0);
    if (out[0] != ~out[1])
        return sb__error(SB_ERR_COLLECTIVE,
                         "%s: the ranks passed different arguments to this collective call "
                         "(name, capacity, fields, content or options differ); every rank "
                         "must pass the same ones",
                         op);
    return 0;
}

int sb__coll_agree(sb_store *s, int local_rc)
{
    bool wf;
    local_rc = take_write_failures(s, local_rc, &wf);
    if (!s->parallel)
        return settle(s, local_rc, wf);
    uint64_t in = failing_key(s, local_rc, wf), out = 0;
    int rc = MPI_Allreduce(&in, &out, 1, MPI_UINT64_T, MPI_MAX, s->comm);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "allreduce");
    return settle(s, spread_failure(s, local_rc, out), (out & KEY_WRITE_FAILURE) != 0);
}

int sb__coll_allgather_u64(sb_store *s, const uint64_t *local, size_t n, uint64_t *all)
{
    if (!s->parallel) {
        memcpy(all, local, n * sizeof *local);
        return 0;
    }
    int rc = MPI_Allgather(local, (int)n, MPI_UINT64_T, all, (int)n, MPI_UINT64_T, s->comm);
    return rc == MPI_SUCCESS ? 0 : mpi_failed(rc, "allgather");
}

int sb__coll_max_u64(sb_store *s, uint64_t *value)
{
    if (!s->parallel)
        return 0;
    uint64_t in = *value;
    int rc = MPI_Allreduce(&in, value, 1, MPI_UINT64_T, MPI_MAX, s->comm);
    return rc == MPI_SUCCESS ? 0 : mpi_failed(rc, "allreduce");
}

int sb__coll_bcast(sb_store *s, void *buf, size_t len, int root)
{
    if (!s->parallel)
        return 0;
    int rc = MPI_Bcast(buf, (int)len, MPI_BYTE, root, s->comm);
    return rc == MPI_SUCCESS ? 0 : mpi_failed(rc, "broadcast");
}
