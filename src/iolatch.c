/* The I/O latch: write errors inside HDF5 become the library's to report.
 *
 * HDF5 1.10 does not survive an I/O error that hits one rank of a parallel
 * file: the failing rank leaves H5Fflush / H5Fclose / H5Dwrite early, skipping
 * the MPI collectives that follow inside HDF5 (MPI_File_set_view after a
 * collective write, the metadata cache's sync point, MPI_File_sync,
 * MPI_File_close), while the other ranks wait in them forever. And a failed
 * H5Fclose leaves a half-destroyed file that crashes HDF5 at exit.
 *
 * So for the files the library opens, the write, flush, truncate and close
 * callbacks of HDF5's mpio and sec2 drivers are wrapped: when one fails, the
 * failure is recorded here (what, where, the system's reason), the collective
 * the driver skipped is completed, and HDF5 is told the call succeeded. HDF5
 * then runs the same sequence of collectives on every rank, and the library
 * reads the record at its next agreement point (coll.c), where every rank
 * learns of the failure and the store stops accepting writes.
 *
 * The drivers are patched in place in HDF5's table of registered drivers
 * (H5Iobject_verify on the driver ID gives the class): a copy registered under
 * another name would lose the MPI part of the mpio class, which HDF5 reads
 * past the public struct. Files the library did not open pass through the
 * wrappers untouched. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <mpi.h>

#include "error.h"
#include "iolatch.h"

struct sb_latch {
    sb_latch *next;
    const H5FD_t *file;
    bool claimed; /* handed to a store by sb__latch_disarm */
    MPI_Info info; /* the hints the mpio driver was opened with (its file->info) */
    unsigned failures;
    char what[SB_ERRMSG_MAX]; /* the first failure not yet taken */
};

typedef struct patched_driver {
    H5FD_class_t *cls;  /* HDF5's registered class, patched */
    H5FD_class_t real;  /* its callbacks before patching */
    bool mpi;
} patched_driver;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static patched_driver drivers[2];
static sb_latch *latches;
static _Thread_local bool armed;
static _Thread_local sb_latch *last_opened;
static _Thread_local bool short_of_memory; /* a file opened while armed has no record */
/* The record of the next file opened, allocated by sb__latch_arm: before
 * HDF5's open, so that running short of memory on one rank is known, and
 * agreed on, before the ranks enter that collective. */
static _Thread_local sb_latch *spare;

static const patched_driver *driver_of(const H5FD_t *file)
{
    for (size_t i = 0; i < sizeof drivers / sizeof *drivers; i++)
        if (drivers[i].cls && file->cls == drivers[i].cls)
            return &drivers[i];
    return NULL;
}

static sb_latch *find_locked(const H5FD_t *file)
{
    for (sb_latch *l = latches; l; l = l->next)
        if (l->file == file)
            return l;
    return NULL;
}

static void unlink_locked(sb_latch *gone)
{
    for (sb_latch **p = &latches; *p; p = &(*p)->next)
        if (*p == gone) {
            *p = gone->next;
            return;
        }
}

/* HDF5's innermost messages say what failed at the bottom (the errno text of
 * sec2, MPI's error string): worth carrying into the store's error. */
static herr_t stack_text(unsigned n, const H5E_error2_t *err, void *payload)
{
    char *out = payload;
    if (n < 2 && err->desc) {
        size_t used = strlen(out);
        snprintf(out + used, 200 - used, "%s%s", used ? "; " : "", err->desc);
    }
    return 0;
}

static void record(const H5FD_t *file, const char *failed, int err)
{
    char cause[200] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, stack_text, cause);
    pthread_mutex_lock(&lock);
    sb_latch *l = find_locked(file);
    if (l && l->failures++ == 0)
        snprintf(l->what, sizeof l->what, "%s failed (%s%s%s)", failed,
                 err ? strerror(err) : "", err && cause[0] ? "; HDF5: " : cause[0] ? "HDF5: " : "",
                 cause);
    pthread_mutex_unlock(&lock);
    /* HDF5 is told the call worked: its error stack must not say otherwise. */
    H5Eclear2(H5E_DEFAULT);
}

static bool ours(const H5FD_t *file)
{
    pthread_mutex_lock(&lock);
    bool found = find_locked(file) != NULL;
    pthread_mutex_unlock(&lock);
    return found;
}

static void free_if_derived(MPI_Datatype t)
{
    int ni, na, nd, combiner;
    if (MPI_Type_get_envelope(t, &ni, &na, &nd, &combiner) == MPI_SUCCESS &&
        combiner != MPI_COMBINER_NAMED)
        MPI_Type_free(&t);
}

static void free_latch(sb_latch *l)
{
    int finalized = 0;
    MPI_Finalized(&finalized); /* HDF5 may close a forgotten file at exit */
    if (l->info != MPI_INFO_NULL && !finalized)
        MPI_Info_free(&l->info);
    free(l);
}

/* A collective write that failed left its file view set: the other ranks are
 * now resetting theirs (a collective), so this rank resets it too, with the
 * same hints as theirs: ROMIO's set_view broadcasts each hint it is given to
 * check it, so another set of hints (MPI_File_get_info has them all) leaves
 * the ranks in different broadcasts. */
static void restore_view(const patched_driver *d, H5FD_t *file)
{
    void *handle = NULL;
    if (!d->real.get_handle || d->real.get_handle(file, H5P_DEFAULT, &handle) < 0 || !handle)
        return;
    MPI_File fh = *(MPI_File *)handle;
    MPI_Offset disp = 0;
    MPI_Datatype etype, ftype;
    char rep[MPI_MAX_DATAREP_STRING];
    if (MPI_File_get_view(fh, &disp, &etype, &ftype, rep) != MPI_SUCCESS)
        return;
    bool viewed = disp != 0 || etype != MPI_BYTE || ftype != MPI_BYTE;
    free_if_derived(etype);
    free_if_derived(ftype);
    if (!viewed)
        return;
    pthread_mutex_lock(&lock);
    sb_latch *l = find_locked(file);
    MPI_Info info = l ? l->info : MPI_INFO_NULL;
    pthread_mutex_unlock(&lock);
    MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", info);
}

static herr_t latch_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size,
                          const void *buf)
{
    const patched_driver *d = driver_of(file);
    errno = 0;
    herr_t rc = d->real.write(file, type, dxpl, addr, size, buf);
    if (rc >= 0 || !ours(file))
        return rc;
    int err = errno;
    if (d->mpi)
        restore_view(d, file);
    char failed[128];
    if (d->mpi && addr == 0 && size <= 1)
        /* HDF5's collective metadata write passes its real extent in an MPI
         * datatype, and a dummy 1 byte at offset 0 here. */
        snprintf(failed, sizeof failed, "writing metadata (a collective write)");
    else
        snprintf(failed, sizeof failed, "writing %llu bytes of %s at offset %llu",
                 (unsigned long long)size, type == H5FD_MEM_DRAW ? "rows" : "metadata",
                 (unsigned long long)addr);
    record(file, failed, err);
    return 0;
}

static herr_t latch_flush(H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    const patched_driver *d = driver_of(file);
    /* The mpio driver's flush is an MPI_File_sync on every H5Fflush. Open MPI
     * 4.1's OMPIO returns from it early, skipping its barrier, when a failed
     * collective write left a request behind: the other ranks then wait in
     * the barrier forever. The library orders its ranks itself (an agreement
     * follows every flush) and syncs to disk when asked to (the fsync
     * option), so its files skip it (which also spares every commit an
     * fsync). */
    if (d->mpi && ours(file))
        return 0;
    errno = 0;
    herr_t rc = d->real.flush ? d->real.flush(file, dxpl, closing) : 0;
    if (rc >= 0 || !ours(file))
        return rc;
    record(file, "syncing the file", errno);
    return 0;
}

static herr_t latch_truncate(H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    const patched_driver *d = driver_of(file);
    errno = 0;
    herr_t rc = d->real.truncate ? d->real.truncate(file, dxpl, closing) : 0;
    if (rc >= 0 || !ours(file))
        return rc;
    record(file, "setting the file size", errno);
    return 0;
}

/* HDF5 has not yet pointed the new file at its class when open returns: one
 * open wrapper per driver. */
static H5FD_t *open_with(const patched_driver *d, const char *name, unsigned flags, hid_t fapl,
                         haddr_t maxaddr)
{
    H5FD_t *file = d->real.open(name, flags, fapl, maxaddr);
    if (!file || !armed)
        return file;
    MPI_Info info = MPI_INFO_NULL;
    if (d->mpi) {
        /* The driver keeps a copy of the fapl's hints; so does the latch.
         * H5Pget_fapl_mpio duplicates the communicator (MPI_Comm_dup, a
         * collective call): every rank makes it, before the allocation
         * below that may fail on one rank only. */
        MPI_Comm comm = MPI_COMM_NULL;
        if (H5Pget_fapl_mpio(fapl, &comm, &info) < 0)
            info = MPI_INFO_NULL;
        if (comm != MPI_COMM_NULL)
            MPI_Comm_free(&comm);
    }
    sb_latch *l = spare ? spare : calloc(1, sizeof *l);
    spare = NULL;
    if (!l) {
        /* Unguarded: the store refuses the file (sb__latch_short). */
        if (info != MPI_INFO_NULL)
            MPI_Info_free(&info);
        short_of_memory = true;
        return file;
    }
    l->file = file;
    l->info = info;
    pthread_mutex_lock(&lock);
    /* A struct at this address was closed long ago; its record is stale. */
    sb_latch *stale = find_locked(file);
    if (stale) {
        unlink_locked(stale);
        free_latch(stale);
    }
    l->next = latches;
    latches = l;
    pthread_mutex_unlock(&lock);
    last_opened = l;
    return file;
}

static H5FD_t *latch_open_mpio(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr)
{
    return open_with(&drivers[0], name, flags, fapl, maxaddr);
}

static H5FD_t *latch_open_sec2(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr)
{
    return open_with(&drivers[1], name, flags, fapl, maxaddr);
}

static herr_t latch_close(H5FD_t *file)
{
    const patched_driver *d = driver_of(file);
    pthread_mutex_lock(&lock);
    sb_latch *l = find_locked(file);
    pthread_mutex_unlock(&lock);
    errno = 0;
    herr_t rc = d->real.close(file);
    if (!l)
        return rc;
    if (rc < 0)
        record(file, "closing the file", errno);
    pthread_mutex_lock(&lock);
    if (!l->claimed) {
        /* Opened and closed by HDF5 while the library was opening the store
         * (a second open of a file already open shares the first's). */
        if (last_opened == l)
            last_opened = NULL;
        unlink_locked(l);
        free_latch(l);
    } else {
        /* The store takes what the close recorded, then releases it. */
        l->file = NULL;
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

/* HDF5 keeps its own copy of each driver's class and gives no public way to
 * it but through an open file: a throw-away open of /dev/null. */
static H5FD_class_t *registered_class(bool mpi)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return NULL;
    herr_t st = mpi ? H5Pset_fapl_mpio(fapl, MPI_COMM_SELF, MPI_INFO_NULL) : H5Pset_fapl_sec2(fapl);
    H5FD_t *f = st < 0 ? NULL : H5FDopen("/dev/null", H5F_ACC_RDONLY, fapl, HADDR_UNDEF);
    H5Pclose(fapl);
    if (!f)
        return NULL;
    H5FD_class_t *cls = (H5FD_class_t *)f->cls;
    H5FDclose(f);
    return cls;
}

static int patch(patched_driver *d, H5FD_class_t *cls, bool mpi,
                 H5FD_t *(*open)(const char *, unsigned, hid_t, haddr_t))
{
    if (!cls)
        return -1;
    if (cls->write == latch_write)
        return 0;
    /* First use, or HDF5 was closed and opened again (H5close): patch the
     * class HDF5 now has. */
    d->cls = cls;
    d->real = *cls;
    d->mpi = mpi;
    cls->open = open;
    cls->close = latch_close;
    cls->write = latch_write;
    cls->flush = latch_flush;
    cls->truncate = latch_truncate;
    return 0;
}

int sb__latch_arm(bool mpi)
{
    /* Not under the lock: once patched, the throw-away close goes through
     * latch_close, which takes it. */
    H5FD_class_t *cls = registered_class(mpi);
    pthread_mutex_lock(&lock);
    int rc = mpi ? patch(&drivers[0], cls, true, latch_open_mpio)
                 : patch(&drivers[1], cls, false, latch_open_sec2);
    pthread_mutex_unlock(&lock);
    if (rc < 0)
        return sb__h5_error(SB_ERR_IO, "cannot set up the I/O error latch on HDF5's %s driver",
                            mpi ? "mpio" : "sec2");
    free(spare);
    spare = calloc(1, sizeof *spare);
    if (!spare)
        return sb__error(SB_ERR_NOMEM, "out of memory setting up the I/O error latch");
    armed = true;
    last_opened = NULL;
    short_of_memory = false;
    return 0;
}

bool sb__latch_short(void) { return short_of_memory; }

sb_latch *sb__latch_disarm(void)
{
    armed = false;
    free(spare);
    spare = NULL;
    sb_latch *l = last_opened;
    last_opened = NULL;
    if (l) {
        pthread_mutex_lock(&lock);
        l->claimed = true;
        pthread_mutex_unlock(&lock);
    }
    return l;
}

unsigned sb__latch_take(sb_latch *l, char *what, size_t len)
{
    if (!l)
        return 0;
    pthread_mutex_lock(&lock);
    unsigned n = l->failures;
    if (n && what && len)
        snprintf(what, len, "%s", l->what);
    l->failures = 0;
    pthread_mutex_unlock(&lock);
    return n;
}

void sb__latch_release(sb_latch *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&lock);
    unlink_locked(l);
    pthread_mutex_unlock(&lock);
    free_latch(l);
}
