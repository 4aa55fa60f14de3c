/* The commit protocol, and the calls that end with one: flush and close.
 *
 * Order (what a reader or a crash can see): the rows, and the datasets,
 * fields and assets created since the last commit (HDF5 held their
 * metadata, store.c), then (with the fsync option) a sync so that they are
 * on the disk, then the sizes that cover the rows, then HDF5's metadata,
 * then a sync of that. Between commits nothing but rows is written: extend
 * and append never touch the size, so a commit costs the same whether it
 * covers one batch or a thousand, and a thousand creates cost one flush. */
#include <stdlib.h>

#include "commit.h"
#include "rows.h"

int sb__commit(sb_store *s, sb_dataset *only)
{
    if (!s->writable)
        return 0;
    int rc = 0;
    bool resize = false;
    for (sb_dataset *ds = only ? only : s->open_datasets; ds && rc == 0;
         ds = only ? NULL : ds->next) {
        rc = sb__rows_write_buffer(ds);
        resize |= ds->size != ds->committed;
    }
    /* New objects first, on their own: a size must never reach the disk in
     * a flush that a full disk cut before the fields it covers. */
    bool structure = s->held;
    if (rc == 0 && structure && resize)
        rc = sb__coll_agree(&s->coll, sb__store_flush_structure(s));
    if (rc == 0 && resize && s->opts.fsync)
        rc = sb__coll_agree(&s->coll, sb__store_fsync(s));
    for (sb_dataset *ds = only ? only : s->open_datasets; ds && rc == 0;
         ds = only ? NULL : ds->next)
        if (ds->size != ds->committed)
            rc = sb__coll_agree(&s->coll, sb__dataset_write_size(ds, ds->size));
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, sb__store_flush_file(s));
    return rc;
}

int sb_dataset_flush(sb_dataset *ds)
{
    sb_call c;
    sb__call_dataset(&c, "sb_dataset_flush", ds);
    int rc = sb__call_enter(&c);
    if (rc == 0)
        rc = sb__commit(ds->store, ds);
    return sb__call_end(&c, rc);
}

int sb_store_flush(sb_store *s)
{
    sb_call c;
    sb__call_store(&c, "sb_store_flush", s);
    int rc = sb__call_enter(&c);
    if (rc == 0)
        rc = sb__commit(s, NULL);
    return sb__call_end(&c, rc);
}

int sb_dataset_set_incomplete(sb_dataset *ds, bool incomplete)
{
    sb_call c;
    sb__call_dataset(&c, "sb_dataset_set_incomplete", ds);
    if (c.rc == 0)
        sb__call_check(&c, sb__store_writable(ds->store, "sb_dataset_set_incomplete"));
    sb__call_u64(&c, incomplete);
    int rc = sb__call_enter(&c);
    /* Finished: the rows and their size first, then the mark goes. */
    if (rc == 0 && !incomplete)
        rc = sb__commit(ds->store, ds);
    if (rc == 0)
        rc = sb__coll_agree(&ds->store->coll, sb__dataset_mark_incomplete(ds, incomplete));
    if (rc == 0)
        rc = sb__commit(ds->store, ds);
    return sb__call_end(&c, rc);
}

/* What closing a handle commits: its rows, when some are not committed yet.
 * New datasets, fields and assets alone wait for the store's next commit
 * (flush, close, or rows of any dataset): a handle's close is no point of
 * durability in Python either, and a commit per closed handle made a loop
 * of create + close cost one metadata flush each, which HDF5 makes O(the
 * metadata cached): quadratic in the datasets created. */
static int commit_on_close(sb_store *s, sb_dataset *ds)
{
    if (!s->writable)
        return 0;
    int rc = sb__rows_write_buffer(ds);
    if (rc == 0 && ds->size != ds->committed)
        rc = sb__commit(s, ds);
    return rc;
}

int sb_dataset_close(sb_dataset *ds)
{
    if (!ds)
        return sb__error(SB_ERR_INVALID, "sb_dataset_close: dataset is NULL");
    int rc = 0;
    if (ds->store) {
        sb_call c;
        sb__call_dataset(&c, "sb_dataset_close", ds);
        rc = sb__call_enter(&c);
        if (rc == 0)
            rc = commit_on_close(ds->store, ds);
        sb__dataset_unlink(ds);
        sb__call_end(&c, rc);
    }
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    sb__dataset_free(ds);
    sb__quiet_end(&q);
    return rc;
}

int sb_store_close(sb_store *s)
{
    if (!s)
        return sb__error(SB_ERR_INVALID, "sb_store_close: store is NULL");
    int rc = 0;
    sb_call c;
    sb__call_store(&c, "sb_store_close", s);
    if (s->file >= 0) {
        rc = sb__call_enter(&c);
        if (rc == 0)
            rc = sb__commit(s, NULL);
        /* Handles still open become closed handles, released by sb_dataset_close. */
        while (s->open_datasets) {
            sb_dataset *ds = s->open_datasets;
            sb__dataset_unlink(ds);
            sb__dataset_release(ds);
            ds->store = NULL;
        }
        /* The close writes what HDF5 still holds; its write errors are latched
         * and agreed on like any other (HDF5 itself never sees the close fail,
         * which in 1.10 leaves a file that crashes it at exit). */
        int r = H5Fclose(s->file) < 0 ? sb__h5_error(SB_ERR_IO, "cannot close store '%s'", s->path) : 0;
        s->file = H5I_INVALID_HID;
        r = sb__coll_agree(&s->coll, r);
        if (r < 0 && rc == 0)
            rc = r;
    }
    sb__call_end(&c, 0);
    sb__store_free(s);
    return rc;
}
