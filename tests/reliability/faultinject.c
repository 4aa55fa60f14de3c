/* LD_PRELOAD shim that makes writes to files under a directory fail, to test
 * how the library survives a dying disk. Only file descriptors opened (open,
 * open64, openat, creat and their fortified variants) on a path under
 * SB_FAULT_PREFIX are touched; MPI's own sockets and shared memory are not.
 *
 *   SB_FAULT_PREFIX=/dir         files under /dir are faulty (unset: shim inert)
 *   SB_FAULT_AFTER_CALLS=N       write calls after the first N fail
 *   SB_FAULT_AFTER_BYTES=N       a write that would pass N bytes in total fails
 *   SB_FAULT_FSYNC=N             fsync/fdatasync calls after the first N fail
 *   SB_FAULT_ERRNO=n             errno of the failures (default EIO)
 *   SB_FAULT_TRANSIENT=1         fail one call only, then recover
 *   SB_FAULT_LOG=/file           append one line per injected fault
 *   SB_FAULT_WAIT_ARM=1          count nothing until the program calls
 *                                sb_fault_arm() (e.g. after its first commit)
 *   SB_FAULT_FSYNC_LOSES=N       a power cut in miniature: when an fsync of a
 *                                file fails, every write of at least N bytes
 *                                this process made to that file since its
 *                                last successful fsync is undone (the region
 *                                gets back what it held before), as if the
 *                                kernel had dropped those dirty pages while
 *                                the smaller (metadata) writes reached the
 *                                disk: the worst order a crash can leave.
 *
 * Counters are per process, so under MPI each rank fails at its own moment,
 * which is exactly the case where a rank must not be left alone in an error.
 * Write calls: write, pwrite, pwrite64, writev, pwritev, pwritev64, pwritev2,
 * aio_write (Open MPI's OMPIO uses pwrite/pwritev, ROMIO pwrite/write, HDF5's
 * sec2 driver pwrite/write). A program may call sb_fault_disable() (found with
 * dlsym) to stop injecting, e.g. before checking what survived. */
#define _GNU_SOURCE
#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 65536

static unsigned char tracked[MAX_FDS];
static int configured; /* 0 unread, 1 active, -1 inert */
static char prefix[4096];
static size_t prefix_len;
static long long after_calls = -1, after_bytes = -1, after_fsync = -1, loses = -1;
static int fault_errno = EIO;
static bool transient;
static char log_path[4096];
static long long n_calls, n_bytes, n_fsync, n_faults;
static int disabled;
static int armed = 1;

/* Exported for the test programs. */
void sb_fault_disable(void);
void sb_fault_arm(void);
long long sb_fault_count(void);
void sb_fault_disable(void) { __atomic_store_n(&disabled, 1, __ATOMIC_SEQ_CST); }
void sb_fault_arm(void) { __atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST); }
long long sb_fault_count(void) { return __atomic_load_n(&n_faults, __ATOMIC_SEQ_CST); }

static long long env_ll(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strtoll(v, NULL, 10) : -1;
}

static void configure(void)
{
    if (configured)
        return;
    const char *p = getenv("SB_FAULT_PREFIX");
    if (!p || !*p) {
        configured = -1;
        return;
    }
    snprintf(prefix, sizeof prefix, "%s", p);
    prefix_len = strlen(prefix);
    while (prefix_len > 1 && prefix[prefix_len - 1] == '/')
        prefix[--prefix_len] = '\0';
    after_calls = env_ll("SB_FAULT_AFTER_CALLS");
    after_bytes = env_ll("SB_FAULT_AFTER_BYTES");
    after_fsync = env_ll("SB_FAULT_FSYNC");
    loses = env_ll("SB_FAULT_FSYNC_LOSES");
    long long e = env_ll("SB_FAULT_ERRNO");
    if (e > 0)
        fault_errno = (int)e;
    transient = env_ll("SB_FAULT_TRANSIENT") == 1;
    if (env_ll("SB_FAULT_WAIT_ARM") == 1)
        armed = 0;
    const char *l = getenv("SB_FAULT_LOG");
    if (l)
        snprintf(log_path, sizeof log_path, "%s", l);
    configured = 1;
}

static bool under_prefix(int dirfd, const char *path)
{
    configure();
    if (configured != 1 || !path)
        return false;
    char full[8192];
    if (path[0] == '/') {
        snprintf(full, sizeof full, "%s", path);
    } else {
        char base[4096];
        if (dirfd == AT_FDCWD || dirfd < 0) {
            if (!getcwd(base, sizeof base))
                return false;
        } else {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            ssize_t n = readlink(link, base, sizeof base - 1);
            if (n < 0)
                return false;
            base[n] = '\0';
        }
        snprintf(full, sizeof full, "%s/%s", base, path);
    }
    return strncmp(full, prefix, prefix_len) == 0 &&
           (full[prefix_len] == '/' || full[prefix_len] == '\0');
}

static void track(int fd, bool yes)
{
    if (fd >= 0 && fd < MAX_FDS)
        tracked[fd] = yes;
}

static bool is_tracked(int fd)
{
    return configured == 1 && fd >= 0 && fd < MAX_FDS && tracked[fd] &&
           __atomic_load_n(&armed, __ATOMIC_SEQ_CST) && !__atomic_load_n(&disabled, __ATOMIC_SEQ_CST);
}

static void log_fault(const char *call, int fd, size_t len)
{
    long long n = __atomic_add_fetch(&n_faults, 1, __ATOMIC_SEQ_CST);
    if (!log_path[0])
        return;
    static ssize_t (*real_write)(int, const void *, size_t);
    if (!real_write)
        real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    int (*real_open)(const char *, int, ...) =
        (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    int lfd = real_open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (lfd < 0)
        return;
    char line[256];
    int k = snprintf(line, sizeof line, "pid %d fault %lld: %s(fd %d, %zu bytes) errno %d\n",
                     (int)getpid(), n, call, fd, len, fault_errno);
    if (k > 0)
        (void)!real_write(lfd, line, (size_t)k);
    close(lfd);
}

/* Decides whether this write on fd fails; counts it otherwise. */
static bool fail_write(const char *call, int fd, size_t len)
{
    if (!is_tracked(fd))
        return false;
    long long calls = __atomic_add_fetch(&n_calls, 1, __ATOMIC_SEQ_CST);
    long long bytes = __atomic_add_fetch(&n_bytes, (long long)len, __ATOMIC_SEQ_CST);
    bool fail = (after_calls >= 0 && calls > after_calls) ||
                (after_bytes >= 0 && bytes > after_bytes);
    if (fail && transient && __atomic_load_n(&n_faults, __ATOMIC_SEQ_CST) > 0)
        fail = false;
    if (fail) {
        log_fault(call, fd, len);
        errno = fault_errno;
    }
    return fail;
}

/* --- the undo log of SB_FAULT_FSYNC_LOSES ---------------------------------- */
typedef struct undo {
    dev_t dev;
    ino_t ino;
    off_t off;
    size_t len, had; /* `had` bytes existed before the write; the rest was past EOF */
    unsigned char *old;
} undo;

static pthread_mutex_t undo_lock = PTHREAD_MUTEX_INITIALIZER;
static undo *undos;
static size_t n_undos, cap_undos;
static long long n_lost_bytes;

long long sb_fault_lost_bytes(void);
long long sb_fault_lost_bytes(void) { return __atomic_load_n(&n_lost_bytes, __ATOMIC_SEQ_CST); }

/* Before a write of len bytes at off (off < 0: the fd's position) on fd. */
static void remember(int fd, off_t off, size_t len)
{
    if (loses < 0 || (long long)len < loses || !is_tracked(fd))
        return;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    if (off < 0 && (off = lseek(fd, 0, SEEK_CUR)) < 0)
        return;
    unsigned char *old = calloc(1, len);
    if (!old)
        return;
    ssize_t got = pread(fd, old, len, off); /* write-only fds: counted as past EOF */
    pthread_mutex_lock(&undo_lock);
    if (n_undos == cap_undos) {
        size_t cap = cap_undos ? 2 * cap_undos : 64;
        undo *u = realloc(undos, cap * sizeof *u);
        if (!u) {
            pthread_mutex_unlock(&undo_lock);
            free(old);
            return;
        }
        undos = u;
        cap_undos = cap;
    }
    undos[n_undos++] = (undo){st.st_dev, st.st_ino, off, len, got > 0 ? (size_t)got : 0, old};
    pthread_mutex_unlock(&undo_lock);
}

/* An fsync of fd succeeded (durable: its file's writes are kept) or
 * failed (they are lost: undone, newest first). */
static void settle_undos(int fd, bool durable)
{
    if (loses < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return;
    pthread_mutex_lock(&undo_lock);
    int wfd = -1;
    size_t kept = 0;
    for (size_t i = n_undos; i-- > 0;) {
        undo *u = &undos[i];
        if (u->dev != st.st_dev || u->ino != st.st_ino)
            continue;
        if (!durable) {
            if (wfd < 0) {
                char self[64];
                snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
                int (*real_open)(const char *, int, ...) =
                    (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
                wfd = real_open(self, O_WRONLY);
            }
            /* What was past EOF reads back as zeros (calloc). */
            ssize_t (*real_pwrite)(int, const void *, size_t, off_t) =
                (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
            if (wfd >= 0 && real_pwrite(wfd, u->old, u->len, u->off) == (ssize_t)u->len)
                __atomic_add_fetch(&n_lost_bytes, (long long)u->len, __ATOMIC_SEQ_CST);
        }
        free(u->old);
        u->old = NULL;
    }
    for (size_t i = 0; i < n_undos; i++)
        if (undos[i].old)
            undos[kept++] = undos[i];
    n_undos = kept;
    pthread_mutex_unlock(&undo_lock);
    if (wfd >= 0) {
        int (*real_close)(int) = (int (*)(int))dlsym(RTLD_NEXT, "close");
        real_close(wfd);
    }
}

/* The next definition of `name` (libc's), typed as ours. */
#define REAL(name) static __typeof__(&name) real_##name; \
    if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

static int do_open(const char *sym, int dirfd, const char *path, int flags, mode_t mode)
{
    int fd;
    if (strcmp(sym, "openat") == 0 || strcmp(sym, "openat64") == 0) {
        int (*f)(int, const char *, int, ...) =
            (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, sym);
        fd = f(dirfd, path, flags, mode);
    } else {
        int (*f)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
        fd = f(path, flags, mode);
    }
    if (fd >= 0)
        track(fd, under_prefix(dirfd, path));
    return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return do_open("open", AT_FDCWD, path, flags, m);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return do_open("open64", AT_FDCWD, path, flags, m);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return do_open("openat", dirfd, path, flags, m);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return do_open("openat64", dirfd, path, flags, m);
}

int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __open_2(const char *path, int flags) { return do_open("open", AT_FDCWD, path, flags, 0); }
int __open64_2(const char *path, int flags) { return do_open("open64", AT_FDCWD, path, flags, 0); }

int creat(const char *path, mode_t mode)
{
    return do_open("open", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int creat64(const char *path, mode_t mode)
{
    return do_open("open64", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int close(int fd)
{
    REAL(close);
    track(fd, false);
    return real_close(fd);
}

int dup(int fd)
{
    REAL(dup);
    int nfd = real_dup(fd);
    if (nfd >= 0)
        track(nfd, fd >= 0 && fd < MAX_FDS && tracked[fd]);
    return nfd;
}

int dup2(int fd, int nfd)
{
    REAL(dup2);
    int r = real_dup2(fd, nfd);
    if (r >= 0)
        track(r, fd >= 0 && fd < MAX_FDS && tracked[fd]);
    return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write);
    if (fail_write("write", fd, n))
        return -1;
    remember(fd, -1, n);
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite);
    if (fail_write("pwrite", fd, n))
        return -1;
    remember(fd, off, n);
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite64);
    if (fail_write("pwrite64", fd, n))
        return -1;
    remember(fd, off, n);
    return real_pwrite64(fd, buf, n, off);
}

static size_t iov_len(const struct iovec *iov, int cnt)
{
    size_t n = 0;
    for (int i = 0; i < cnt; i++)
        n += iov[i].iov_len;
    return n;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    REAL(writev);
    if (fail_write("writev", fd, iov_len(iov, cnt)))
        return -1;
    remember(fd, -1, iov_len(iov, cnt));
    return real_writev(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    REAL(pwritev);
    if (fail_write("pwritev", fd, iov_len(iov, cnt)))
        return -1;
    remember(fd, off, iov_len(iov, cnt));
    return real_pwritev(fd, iov, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
    REAL(pwritev64);
    if (fail_write("pwritev64", fd, iov_len(iov, cnt)))
        return -1;
    remember(fd, off, iov_len(iov, cnt));
    return real_pwritev64(fd, iov, cnt, off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    REAL(pwritev2);
    if (fail_write("pwritev2", fd, iov_len(iov, cnt)))
        return -1;
    remember(fd, off, iov_len(iov, cnt));
    return real_pwritev2(fd, iov, cnt, off, flags);
}

int aio_write(struct aiocb *cb)
{
    REAL(aio_write);
    if (fail_write("aio_write", cb->aio_fildes, cb->aio_nbytes))
        return -1;
    return real_aio_write(cb);
}

static bool fail_sync(const char *call, int fd)
{
    if (!is_tracked(fd) || after_fsync < 0)
        return false;
    if (__atomic_add_fetch(&n_fsync, 1, __ATOMIC_SEQ_CST) <= after_fsync)
        return false;
    log_fault(call, fd, 0);
    errno = fault_errno;
    return true;
}

int fsync(int fd)
{
    REAL(fsync);
    if (fail_sync("fsync", fd)) {
        settle_undos(fd, false);
        errno = fault_errno;
        return -1;
    }
    int rc = real_fsync(fd);
    if (rc == 0)
        settle_undos(fd, true);
    return rc;
}

int fdatasync(int fd)
{
    REAL(fdatasync);
    if (fail_sync("fdatasync", fd)) {
        settle_undos(fd, false);
        errno = fault_errno;
        return -1;
    }
    int rc = real_fdatasync(fd);
    if (rc == 0)
        settle_undos(fd, true);
    return rc;
}
