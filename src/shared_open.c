/* Python's load_shared_dataset: open the store a shared-dataset index names
 * (the index itself is read by shared_index.cpp). */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "shared_index.h"

/* A parallel open: the ranks must agree on the lookup before the collective
 * sb_store_open, or a rank that could not read the index would return while
 * the others wait in the open. Every rank gets the lowest failing rank's code
 * and message (prefixed "rank N:" elsewhere), as sb__coll_agree does for a
 * store. */
static int agree_on_lookup(const sb_store_options *opts, int local_rc)
{
    if (!opts || opts->version != SB_STORE_OPTIONS_VERSION || opts->comm == MPI_COMM_NULL ||
        opts->temporary)
        return local_rc; /* serial, or sb_store_open refuses the options on every rank */
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized)
        return local_rc; /* sb_store_open says so */
    int rank, nranks;
    MPI_Comm_rank(opts->comm, &rank);
    MPI_Comm_size(opts->comm, &nranks);
    int mine = local_rc < 0 ? rank : nranks, lowest = nranks;
    if (MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, opts->comm) != MPI_SUCCESS)
        return sb__error(SB_ERR_IO, "shared dataset: MPI allreduce failed");
    if (lowest == nranks)
        return 0;
    struct {
        int code;
        char message[SB_ERRMSG_MAX];
    } msg;
    memset(&msg, 0, sizeof msg);
    if (rank == lowest) {
        msg.code = local_rc;
        strncpy(msg.message, sb_last_error_message(), sizeof msg.message - 1);
    }
    if (MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, lowest, opts->comm) != MPI_SUCCESS)
        return sb__error(SB_ERR_IO, "shared dataset: MPI broadcast of an error failed");
    /* A rank that failed the same way keeps its own (identical) message. */
    bool same = local_rc == msg.code && strcmp(sb_last_error_message(), msg.message) == 0;
    if (rank == lowest || same)
        return msg.code;
    return sb__error(msg.code, "rank %d: %.*s", lowest, SB_ERRMSG_MAX - 32, msg.message);
}

int sb_store_open_shared(sb_store **out, const char *id, sb_open_mode mode,
                         const sb_store_options *opts, const char *index_path)
{
    if (!out)
        return sb__error(SB_ERR_INVALID, "sb_store_open_shared: store pointer is NULL");
    *out = NULL;
    char *path = NULL;
    int rc = agree_on_lookup(opts, sb__shared_store_path(&path, id, index_path));
    if (rc < 0) {
        sb_free(path);
        return rc;
    }
    rc = sb_store_open(out, path, mode, opts);
    if (rc < 0) {
        char why[SB_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", sb_last_error_message());
        sb__error(rc, "shared dataset \"%s\": %.*s", id, SB_ERRMSG_MAX - 64, why);
    }
    sb_free(path);
    return rc;
}
