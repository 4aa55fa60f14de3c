/* Python's load_shared_dataset: open the store a shared-dataset index names
 * (the index itself is read by shared_index.cpp). */
#include <stdio.h>
#include <string.h>

#include "coll.h"
#include "shared_index.h"

/* A parallel open: the ranks agree on the lookup (and the ID) before the
 * collective sb_store_open, in the collective frame over the caller's
 * communicator, or a rank that could not read the index would return while
 * the others wait in the open. */
static int agree_on_lookup(const sb_store_options *opts, const char *id, int local_rc)
{
    if (!opts || opts->version == 0 || opts->version > SB_STORE_OPTIONS_VERSION ||
        opts->comm == MPI_COMM_NULL)
        return local_rc; /* serial, or sb_store_open refuses the options */
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized)
        return local_rc; /* sb_store_open says so */
    sb_coll caller = {.parallel = true, .comm = opts->comm, .path = id ? id : ""};
    MPI_Comm_rank(opts->comm, &caller.rank);
    MPI_Comm_size(opts->comm, &caller.nranks);
    sb_call c;
    sb__call_begin(&c, "sb_store_open_shared", &caller);
    sb__call_check(&c, local_rc);
    sb__call_str(&c, id);
    return sb__call_end(&c, sb__call_enter(&c));
}

int sb_store_open_shared(sb_store **out, const char *id, sb_open_mode mode,
                         const sb_store_options *opts, const char *index_path)
{
    if (!out)
        return sb__error(SB_ERR_INVALID, "sb_store_open_shared: store pointer is NULL");
    *out = NULL;
    char *path = NULL;
    int rc = agree_on_lookup(opts, id, sb__shared_store_path(&path, id, index_path));
    if (rc < 0) {
        sb_free(path);
        return rc;
    }
    rc = sb_store_open(out, path, mode, opts);
    if (rc < 0)
        sb__error_wrap(rc, "shared dataset \"%s\"", id);
    sb_free(path);
    return rc;
}
