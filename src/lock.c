/* The writer lock.
 *
 * Why a lock file of our own: the MPI-IO driver takes no lock at all, and
 * HDF5's own lock (flock on the store, exclusive for a writer) would also
 * keep every reader out while an acquisition runs. The lock file is held
 * with flock(LOCK_EX), which the kernel drops when the holder dies, so a
 * killed job leaves a stale file that the next writer simply takes over. It
 * holds the holder's host, pid and Slurm job for the message the next
 * writer gets. Where flock does not work (ENOLCK, ENOSYS: some NFS and
 * Lustre mounts, or Lustre mounted with localflock, where flock only sees
 * one node), the file itself is the lock (O_EXCL), and a holder that is gone
 * can only be recognised on its own host. */
#define _DEFAULT_SOURCE /* flock, realpath */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "lock.h"

#define LOCK_MAGIC "secbench-storage writer lock"

struct sb_lock {
    char *lock_path;
    int lock_fd;   /* the lock file, flock'ed (or -1 in the O_EXCL fallback) */
    int store_fd;  /* the store, LOCK_SH while we write it (-1 if none) */
    bool held;     /* the lock file is ours to remove */
};

typedef struct holder {
    char host[256];
    long pid;
    char job[64];
    char since[64];
} holder;

static void describe_self(char *buf, size_t len, const char *store)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    const char *job = getenv("SLURM_JOB_ID");
    char since[64] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(buf, len, LOCK_MAGIC "\nhost=%s\npid=%ld\njob=%s\nsince=%s\nstore=%s\n", host,
             (long)getpid(), job ? job : "", since, store);
}

/* Parse what a lock file says; false if it is not one of ours. */
static bool read_holder(int fd, holder *h)
{
    char buf[2048];
    memset(h, 0, sizeof *h);
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return n == 0; /* empty: being written by its creator, or left by a crash */
    buf[n] = '\0';
    if (strncmp(buf, LOCK_MAGIC, strlen(LOCK_MAGIC)) != 0)
        return false;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "host=", 5) == 0)
            snprintf(h->host, sizeof h->host, "%s", line + 5);
        else if (strncmp(line, "pid=", 4) == 0)
            h->pid = strtol(line + 4, NULL, 10);
        else if (strncmp(line, "job=", 4) == 0)
            snprintf(h->job, sizeof h->job, "%s", line + 4);
        else if (strncmp(line, "since=", 6) == 0)
            snprintf(h->since, sizeof h->since, "%s", line + 6);
    }
    return true;
}

static int locked_error(const char *store, const char *lock_path, const holder *h, const char *advice)
{
    char job[96] = "";
    if (h->job[0])
        snprintf(job, sizeof job, ", Slurm job %s", h->job);
    return sb__error(SB_ERR_LOCKED,
                     "store '%s' is being written by another process (pid %ld on host %s%s, "
                     "since %s; lock file %s): a store takes one writer at a time%s",
                     store, h->pid, h->host[0] ? h->host : "?", job,
                     h->since[0] ? h->since : "?", lock_path, advice);
}

static bool write_all(int fd, const char *text)
{
    size_t len = strlen(text);
    if (ftruncate(fd, 0) != 0)
        return false;
    return pwrite(fd, text, len, 0) == (ssize_t)len;
}

static bool same_host(const holder *h)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    return strcmp(host, h->host) == 0;
}

static bool holder_gone(const holder *h)
{
    return h->pid > 0 && same_host(h) && kill((pid_t)h->pid, 0) != 0 && errno == ESRCH;
}

/* Lustre mounted with localflock (flock coherent on one node only) or
 * without flock: flock cannot be trusted there. */
static bool flock_trusted(const char *path)
{
    const char *env = getenv("SB_LOCK_FLOCK");
    if (env && strcmp(env, "0") == 0)
        return false;
    FILE *m = fopen("/proc/self/mounts", "r");
    if (!m)
        return true;
    char real[4096];
    if (!realpath(path, real)) {
        fclose(m);
        return true;
    }
    char dev[512], dir[1024], type[64], opts[1024];
    size_t best = 0;
    bool trusted = true;
    while (fscanf(m, "%511s %1023s %63s %1023s %*d %*d", dev, dir, type, opts) == 4) {
        size_t n = strlen(dir);
        bool under = strncmp(real, dir, n) == 0 && (real[n] == '/' || real[n] == '\0' || n == 1);
        if (under && n >= best) {
            best = n;
            trusted = strcmp(type, "lustre") != 0 ||
                      (strstr(opts, "flock") && !strstr(opts, "localflock"));
        }
    }
    fclose(m);
    return trusted;
}

/* Hold the lock file with flock. 1: flock does not work here. */
static int take_flock(sb_lock *l, const char *store, const char *self)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        bool created = true;
        int fd = open(l->lock_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) {
            created = false;
            fd = open(l->lock_path, O_RDWR | O_CLOEXEC);
            if (fd < 0 && errno == ENOENT)
                continue; /* removed by its holder meanwhile */
        }
        if (fd < 0 && errno == ENOENT)
            return sb__error(SB_ERR_NOT_FOUND, "cannot open store '%s' for writing: its "
                             "directory does not exist", store);
        if (fd < 0)
            return sb__error(SB_ERR_IO,
                             "store '%s': cannot create its lock file %s: %s (a writer needs to "
                             "create it beside the store; open with locking = SB_NO to write "
                             "without one)",
                             store, l->lock_path, strerror(errno));
        holder h;
        if (!read_holder(fd, &h)) {
            close(fd);
            return sb__error(SB_ERR_LOCKED,
                             "store '%s': %s exists and is not a secbench-storage lock file; "
                             "move it away to write the store",
                             store, l->lock_path);
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            close(fd);
            if (err == EWOULDBLOCK || err == EAGAIN)
                return locked_error(store, l->lock_path, &h, "");
            if (err == ENOLCK || err == ENOSYS || err == EOPNOTSUPP || err == EINVAL) {
                if (created)
                    unlink(l->lock_path);
                return 1;
            }
            return sb__error(SB_ERR_IO, "store '%s': cannot lock %s: %s", store, l->lock_path,
                             strerror(err));
        }
        /* The previous holder may have removed the file between our open and
         * our flock: then we hold a lock on a file nobody else will see. */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(l->lock_path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev) {
            errno = 0;
            if (!read_holder(fd, &h) || !write_all(fd, self)) {
                int err = errno ? errno : EIO;
                /* Ours (flocked): a file this open made goes, rather than
                 * stay empty beside the store (a full disk). */
                if (created)
                    unlink(l->lock_path);
                close(fd);
                return sb__error(SB_ERR_IO, "store '%s': cannot write its lock file %s: %s",
                                 store, l->lock_path, strerror(err));
            }
            l->lock_fd = fd;
            l->held = true;
            return 0;
        }
        close(fd);
    }
    return sb__error(SB_ERR_LOCKED, "store '%s': its lock file %s keeps changing; another "
                     "writer is starting", store, l->lock_path);
}

/* No flock: the lock file's existence is the lock. */
static int take_exclusive_file(sb_lock *l, const char *store, const char *self)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(l->lock_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            errno = 0;
            bool ok = write_all(fd, self) && fsync(fd) == 0;
            int err = errno ? errno : EIO;
            close(fd);
            if (!ok) {
                unlink(l->lock_path);
                return sb__error(SB_ERR_IO, "store '%s': cannot write its lock file %s: %s", store,
                                 l->lock_path, strerror(err));
            }
            l->held = true;
            return 0;
        }
        if (errno != EEXIST)
            return sb__error(SB_ERR_IO, "store '%s': cannot create its lock file %s: %s", store,
                             l->lock_path, strerror(errno));
        fd = open(l->lock_path, O_RDONLY | O_CLOEXEC);
        holder h;
        bool ours = fd >= 0 && read_holder(fd, &h);
        if (fd >= 0)
            close(fd);
        if (!ours)
            return sb__error(SB_ERR_LOCKED,
                             "store '%s': %s exists and is not a secbench-storage lock file; "
                             "move it away to write the store",
                             store, l->lock_path);
        if (!holder_gone(&h)) {
            char advice[1200];
            snprintf(advice, sizeof advice,
                     "; this file system has no working flock, so a holder on another host "
                     "cannot be checked: if that job is gone, remove %s",
                     l->lock_path);
            return locked_error(store, l->lock_path, &h, same_host(&h) ? "" : advice);
        }
        unlink(l->lock_path); /* its holder died: take it over */
    }
    return sb__error(SB_ERR_LOCKED, "store '%s': its lock file %s keeps coming back", store,
                     l->lock_path);
}

/* The store itself: shared while we write, so that a writer using HDF5's
 * locking (h5py, Python secbench) is refused, and readers are not;
 * exclusive for the moment of a truncation, which no reader may see. */
static int lock_store_file(sb_lock *l, const char *store, bool truncating)
{
    int fd = open(store, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : sb__error(SB_ERR_IO, "cannot open store '%s': %s", store,
                                               strerror(errno));
    if (flock(fd, (truncating ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
        int err = errno;
        close(fd);
        if (err == EWOULDBLOCK || err == EAGAIN)
            return sb__error(SB_ERR_LOCKED,
                             "store '%s' is open in another program that holds HDF5's file lock "
                             "on it (%s; an h5py or Python secbench writer, say): close it "
                             "there first",
                             store, truncating ? "truncating it would pull it from under a "
                                                 "reader or writer"
                                               : "a writer");
        return 0; /* no flock on this file system: nothing to share */
    }
    if (truncating)
        flock(fd, LOCK_SH | LOCK_NB); /* converted at once: readers may come in */
    l->store_fd = fd;
    return 0;
}

int sb__lock_check_reader(const char *path, sb_choice mode)
{
    if (mode == SB_NO)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0; /* HDF5's open reports it */
    int rc = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0 && (errno == EWOULDBLOCK || errno == EAGAIN))
        rc = sb__error(SB_ERR_LOCKED,
                       "store '%s' is locked by another process: a writer holds HDF5's file "
                       "lock on it (h5py or Python secbench writing it); open it when that "
                       "writer is done, or with locking = SB_NO to read it anyway",
                       path);
    close(fd);
    return rc;
}

int sb__lock_acquire(sb_lock **out, const char *path, sb_choice mode, bool truncating)
{
    *out = NULL;
    if (mode == SB_NO)
        return 0;
    sb_lock *l = calloc(1, sizeof *l);
    size_t n = strlen(path);
    if (l)
        l->lock_path = malloc(n + 6);
    if (!l || !l->lock_path) {
        free(l);
        return sb__error(SB_ERR_NOMEM, "out of memory locking store '%s'", path);
    }
    memcpy(l->lock_path, path, n);
    memcpy(l->lock_path + n, ".lock", 6);
    l->lock_fd = l->store_fd = -1;
    char self[4096 + 512];
    describe_self(self, sizeof self, path);

    int rc = flock_trusted(path) ? take_flock(l, path, self) : 1;
    if (rc == 1) {
        if (mode == SB_YES)
            rc = sb__error(SB_ERR_LOCKED,
                           "store '%s': this file system offers no working flock (locking = "
                           "SB_YES); use SB_AUTO for the lock-file fallback",
                           path);
        else
            rc = take_exclusive_file(l, path, self);
    }
    if (rc == 0)
        rc = lock_store_file(l, path, truncating);
    if (rc < 0) {
        sb_saved_error e;
        sb__error_save(&e);
        sb__lock_release(l);
        return sb__error_restore(&e);
    }
    *out = l;
    return 0;
}

void sb__lock_release(sb_lock *l)
{
    if (!l)
        return;
    if (l->store_fd >= 0)
        close(l->store_fd);
    /* Removed while still held, so that nobody takes a lock on a file that
     * is about to disappear (take_flock checks the inode for that). */
    if (l->held)
        unlink(l->lock_path);
    if (l->lock_fd >= 0)
        close(l->lock_fd);
    free(l->lock_path);
    free(l);
}
