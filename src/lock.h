/* One writer per store: the lock file beside it (PATH.lock, with flock), and
 * a shared flock on the store itself that keeps HDF5-locking writers (h5py,
 * Python secbench) out while readers still get in. */
#ifndef SB_LOCK_H
#define SB_LOCK_H

#include "base.h"

typedef struct sb_lock sb_lock;

/* Take the writer lock of the store at `path` for this process (one rank of
 * a job takes it for all). `truncating`: the open is about to truncate an
 * existing file, so no reader may have it open either. SB_ERR_LOCKED naming
 * the holder when another writer has it. */
int sb__lock_acquire(sb_lock **out, const char *path, sb_choice mode, bool truncating);
/* A reader's check: SB_ERR_LOCKED while a program holds HDF5's exclusive
 * lock on the store (h5py writing it), as HDF5 itself would refuse. */
int sb__lock_check_reader(const char *path, sb_choice mode);
/* Drop it: the lock file is removed. NULL is a no-op. */
void sb__lock_release(sb_lock *lock);

#endif
