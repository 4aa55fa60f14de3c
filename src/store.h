/* The store handle: its file, its ranks, its options, its open datasets. */
#ifndef SB_STORE_H
#define SB_STORE_H

#include <hdf5.h>

#include "coll.h"
#include "lock.h"

struct sb_store {
    hid_t file;          /* H5I_INVALID_HID once closed */
    char *path;
    sb_open_mode mode;
    bool writable;
    bool temporary;
    sb_coll coll;
    MPI_Info info;
    sb_store_options opts;
    hid_t dxpl_coll;     /* collective MPI-IO transfer (H5P_DEFAULT when serial) */
    hid_t dxpl_indep;    /* independent transfer */
    bool collective_reads;  /* false where the MPI-IO layer reads wrong data collectively */
    bool collective_writes; /* false where it loses write errors in collective writes */
    sb_dataset *open_datasets;
    sb_lock *lock;
    /* Metadata held in HDF5's cache since a structural change (evictions
     * off), and the cache configuration to restore at the next commit. */
    bool held;
    H5AC_cache_config_t mdc;
};

/* Start a call on a store: a NULL or closed store fails on this rank alone. */
void sb__call_store(sb_call *c, const char *op, sb_store *s);
int sb__store_usable(const sb_store *s, const char *what);
/* Also not read-only, and no agreed write failure. */
int sb__store_writable(const sb_store *s, const char *what);
/* H5Fflush, then fsync with the fsync option; metadata held since a
 * structural change goes out with it. Local (each rank). */
int sb__store_flush_file(sb_store *s);
/* After a structural change (a dataset, field or asset created or removed):
 * keep HDF5 from writing any metadata until the next commit, so that the
 * file on disk stays as of the last commit whatever happens meanwhile (a
 * killed job), and so that a thousand creates cost one metadata flush, not
 * a thousand. Local, called by every rank at the same point. */
int sb__store_hold_metadata(sb_store *s);
/* Write the metadata held since the last structural change (no fsync). Local. */
int sb__store_flush_structure(sb_store *s);
/* fsync through a descriptor of this rank's own. Local. */
int sb__store_fsync(sb_store *s);
/* Free a store whose file is closed (closing is the commit protocol's, commit.c). */
void sb__store_free(sb_store *s);

#endif
