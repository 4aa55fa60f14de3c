/* Store: options, open modes, drivers (sec2, MPI-IO, core), the writer lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpienv.h"
#include "options.h"
#include "store.h"

int sb_open_mode_parse(sb_open_mode *mode, const char *text)
{
    if (!text || !mode)
        return sb__error(SB_ERR_INVALID, "sb_open_mode_parse: %s is NULL", mode ? "text" : "mode");
    static const struct { const char *text; sb_open_mode mode; } modes[] = {
        {"r", SB_READ}, {"r+", SB_READ_WRITE}, {"w", SB_CREATE_TRUNCATE},
        {"w-", SB_CREATE}, {"x", SB_CREATE}, {"a", SB_READ_WRITE_CREATE},
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(text, modes[i].text) == 0) {
            *mode = modes[i].mode;
            return 0;
        }
    }
    return sb__error(SB_ERR_INVALID, "unknown open mode '%s' (expected r, r+, w, w-, a)", text);
}

const char *sb_open_mode_string(sb_open_mode mode)
{
    switch (mode) {
    case SB_READ: return "r";
    case SB_READ_WRITE: return "r+";
    case SB_CREATE_TRUNCATE: return "w";
    case SB_CREATE: return "w-";
    case SB_READ_WRITE_CREATE: return "a";
    }
    return NULL;
}

/* The size of the struct each published version of the header declared: a
 * caller built against version v gets only those bytes written. A field added
 * later goes after the last one, with a new version whose size is
 * offsetof(its first new field)... of the grown struct. */
static const size_t store_options_size[] = {[1] = sizeof(sb_store_options)};
#define STORE_OPTIONS_VERSIONS (sizeof store_options_size / sizeof store_options_size[0])

static void store_options_defaults(sb_store_options *o)
{
    memset(o, 0, sizeof *o);
    o->version = SB_STORE_OPTIONS_VERSION;
    o->comm = MPI_COMM_NULL;
    o->info = MPI_INFO_NULL;
    o->collective_metadata = true;
}

int sb_store_options_init(sb_store_options *opts, unsigned version)
{
    sb_store_options full;
    store_options_defaults(&full);
    full.version = version;
    return sb__options_init("sb_store_options_init", opts, &full, version, store_options_size,
                            (unsigned)STORE_OPTIONS_VERSIONS);
}

static bool choice_valid(sb_choice c) { return c == SB_AUTO || c == SB_NO || c == SB_YES; }

/* The caller's options, whatever their version, as this library's struct. */
/* The caller's options into *o. An error is to be agreed on with the
 * other ranks of o->comm, unless *alone: then not even the communicator can
 * be read (a struct never initialized), and this rank returns by itself. */
static int import_options(sb_store_options *o, const sb_store_options *given, const char *path,
                          bool *alone)
{
    store_options_defaults(o);
    *alone = false;
    if (!given)
        return 0;
    if (given->version == 0) {
        *alone = true;
        return sb__error(SB_ERR_INVALID,
                         "store '%s': options not initialized (call sb_store_options_init(&opts, "
                         "SB_STORE_OPTIONS_VERSION))",
                         path);
    }
    if (given->version >= STORE_OPTIONS_VERSIONS) {
        /* A newer header's struct: members are only ever added at the end,
         * so its comm is where ours is, and every rank can refuse it alike. */
        o->comm = given->comm;
        return sb__error(SB_ERR_INVALID,
                         "store '%s': options version %u is newer than this library's (%u): "
                         "build against the header of the library you run with "
                         "(sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION))",
                         path, given->version, (unsigned)STORE_OPTIONS_VERSIONS - 1);
    }
    memcpy(o, given, store_options_size[given->version]);
    if (!choice_valid(o->locking) || !choice_valid(o->collective_reads) ||
        !choice_valid(o->collective_writes) || !choice_valid(o->collective_metadata_writes))
        return sb__error(SB_ERR_INVALID,
                         "store '%s': locking, collective_reads, collective_writes and "
                         "collective_metadata_writes take SB_AUTO, SB_NO or SB_YES",
                         path);
    if (o->alignment_threshold > 0 && o->alignment == 0)
        return sb__error(SB_ERR_INVALID, "store '%s': alignment_threshold set without alignment",
                         path);
    return 0;
}

const char *sb_store_path(const sb_store *s) { return s ? s->path : NULL; }
sb_open_mode sb_store_mode(const sb_store *s) { return s ? s->mode : SB_READ; }
bool sb_store_is_parallel(const sb_store *s) { return s && s->coll.parallel; }
bool sb_store_is_temporary(const sb_store *s) { return s && s->temporary; }
int sb_store_rank(const sb_store *s) { return s ? s->coll.rank : 0; }
int sb_store_nranks(const sb_store *s) { return s ? s->coll.nranks : 1; }

int sb__store_usable(const sb_store *s, const char *what)
{
    if (!s)
        return sb__error(SB_ERR_INVALID, "%s: store is NULL", what);
    if (s->file < 0)
        return sb__error(SB_ERR_INVALID, "%s: store '%s' is closed", what, s->path);
    return 0;
}

int sb__store_writable(const sb_store *s, const char *what)
{
    int rc = sb__store_usable(s, what);
    if (rc == 0 && !s->writable)
        rc = sb__error(SB_ERR_READ_ONLY, "%s: store '%s' is open read-only (mode \"r\")", what,
                       s->path);
    if (rc == 0)
        rc = sb__coll_check_writes(&s->coll, what);
    return rc;
}

void sb__call_store(sb_call *c, const char *op, sb_store *s)
{
    int rc = sb__store_usable(s, op);
    sb__call_begin(c, op, rc == 0 ? &s->coll : NULL);
    sb__call_check(c, rc);
}

static sb_store *store_alloc(const char *path, sb_open_mode mode, const sb_store_options *o)
{
    sb_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->path = sb__strdup(path);
    if (!s->path) {
        free(s);
        return NULL;
    }
    s->file = H5I_INVALID_HID;
    s->mode = mode;
    s->opts = *o;
    s->coll.comm = MPI_COMM_NULL;
    s->coll.rank = 0;
    s->coll.nranks = 1;
    s->coll.path = s->path;
    s->info = MPI_INFO_NULL;
    s->dxpl_coll = H5P_DEFAULT;
    s->dxpl_indep = H5P_DEFAULT;
    return s;
}

static void store_free(sb_store *s)
{
    if (!s)
        return;
    if (s->dxpl_coll != H5P_DEFAULT)
        H5Pclose(s->dxpl_coll);
    if (s->dxpl_indep != H5P_DEFAULT)
        H5Pclose(s->dxpl_indep);
    if (s->info != MPI_INFO_NULL)
        MPI_Info_free(&s->info);
    if (s->coll.comm != MPI_COMM_NULL)
        MPI_Comm_free(&s->coll.comm);
    sb__lock_release(s->lock);
    sb__latch_release(s->coll.latch);
    free(s->coll.write_failure);
    free(s->path);
    free(s);
}

static hid_t make_fapl(const sb_store *s)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return fapl;
    const sb_store_options *o = &s->opts;
    if (s->temporary) {
        H5Pset_fapl_core(fapl, 1 << 20, 0);
    } else if (s->coll.parallel) {
        H5Pset_fapl_mpio(fapl, s->coll.comm, s->info);
        if (o->collective_metadata)
            H5Pset_all_coll_metadata_ops(fapl, 1);
        bool coll_meta = o->collective_metadata_writes == SB_AUTO ? sb__mpi_io_is_romio()
                                                                 : o->collective_metadata_writes == SB_YES;
        H5Pset_coll_metadata_write(fapl, coll_meta);
    }
    if (o->alignment > 0)
        H5Pset_alignment(fapl, o->alignment_threshold ? o->alignment_threshold : 1, o->alignment);
    /* The library locks the way lock.c says, never with HDF5's lock: an
     * exclusive HDF5 lock held by a writer would keep readers out, and HDF5
     * refuses to open one file twice in a process with two lock settings.
     * (HDF5_USE_FILE_LOCKING still overrides this.) */
    H5Pset_file_locking(fapl, 0, 1);
    if (o->meta_block_size > 0)
        H5Pset_meta_block_size(fapl, o->meta_block_size);
    /* HDF5's sieve buffer would hold written rows in memory past the
     * H5Dwrite that returned success, so a later flush could write the size
     * covering them and then fail to write them (a full disk). Off unless
     * asked for: rows reach the OS before their size does. */
    H5Pset_sieve_buf_size(fapl, o->sieve_buffer_size);
    return fapl;
}

/* What rank 0 found on disk, shared so every rank takes the same branch. */
/* What HDF5's "unable to open file" leaves out when a create fails. */
static const char *why_not_created(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        return ": it is a symbolic link to a file that does not exist";
    const char *slash = strrchr(path, '/');
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (slash == path)
        snprintf(dir, sizeof dir, "/");
    if (access(dir, W_OK) != 0)
        return errno == ENOENT ? ": its folder does not exist" : ": its folder is not writable";
    return "";
}

enum { PATH_MISSING = 0, PATH_HDF5 = 1, PATH_OTHER = 2, PATH_ERROR = 3, PATH_SPECIAL = 4 };

static int probe_path(const char *path, bool write, int *err)
{
    struct stat st;
    *err = 0;
    if (stat(path, &st) != 0) {
        *err = errno;
        return errno == ENOENT ? PATH_MISSING : PATH_ERROR;
    }
    if (S_ISDIR(st.st_mode)) {
        *err = EISDIR;
        return PATH_ERROR;
    }
    /* A FIFO or a device would block HDF5's first read forever. */
    if (!S_ISREG(st.st_mode))
        return PATH_SPECIAL;
    if (access(path, write ? R_OK | W_OK : R_OK) != 0)
        *err = errno; /* reported only if HDF5 then fails to open it */
    return H5Fis_hdf5(path) > 0 ? PATH_HDF5 : PATH_OTHER;
}

static int open_file(sb_store *s)
{
    int state[2] = {PATH_MISSING, 0};
    const char *mode = sb_open_mode_string(s->mode);
    s->writable = s->mode != SB_READ;
    if (s->coll.rank == 0)
        state[0] = probe_path(s->path, s->writable, &state[1]);
    int rc = sb__coll_bcast(&s->coll, state, sizeof state, 0);
    if (rc < 0)
        return rc;
    if (state[0] == PATH_ERROR)
        return sb__error(SB_ERR_INVALID, "cannot open store '%s': %s", s->path, strerror(state[1]));
    if (state[0] == PATH_SPECIAL)
        return sb__error(SB_ERR_INVALID,
                         "cannot open store '%s': not a regular file (a FIFO, socket or device)",
                         s->path);
    bool create;
    switch (s->mode) {
    case SB_READ:
    case SB_READ_WRITE:
        if (state[0] == PATH_MISSING)
            return sb__error(SB_ERR_NOT_FOUND, "store '%s' does not exist (mode \"%s\")", s->path,
                             mode);
        create = false;
        break;
    case SB_CREATE:
        if (state[0] != PATH_MISSING)
            return sb__error(SB_ERR_EXISTS, "store '%s' already exists (mode \"w-\")", s->path);
        create = true;
        break;
    case SB_CREATE_TRUNCATE:
        create = true;
        break;
    default:
        create = state[0] == PATH_MISSING;
        break;
    }
    if (!create && state[0] == PATH_OTHER)
        return sb__error(SB_ERR_FORMAT, "store '%s' is not an HDF5 file", s->path);

    /* One writer: rank 0 takes the lock for the job. A reader only checks
     * that no HDF5-locking writer (h5py) holds the file, as HDF5 would. */
    int local = 0;
    if (s->coll.rank == 0 && s->writable)
        local = sb__lock_acquire(&s->lock, s->path, s->opts.locking,
                                 create && state[0] != PATH_MISSING);
    else if (s->coll.rank == 0)
        local = sb__lock_check_reader(s->path, s->opts.locking);
    rc = sb__coll_agree(&s->coll, local);
    if (rc < 0)
        return rc;

    /* The file access list and the latch's record are local work that can
     * fail on one rank: agreed on before HDF5's collective open. */
    hid_t fapl = make_fapl(s);
    int local_rc = fapl < 0 ? sb__h5_error(SB_ERR_IO, "cannot set up file access for '%s'", s->path)
                            : sb__latch_arm(s->coll.parallel);
    bool latched = fapl >= 0 && local_rc == 0;
    rc = sb__coll_agree(&s->coll, local_rc);
    if (rc < 0) {
        if (latched)
            sb__latch_release(sb__latch_disarm());
        if (fapl >= 0)
            H5Pclose(fapl);
        return rc;
    }
    if (create)
        s->file = H5Fcreate(s->path, s->mode == SB_CREATE ? H5F_ACC_EXCL : H5F_ACC_TRUNC,
                            H5P_DEFAULT, fapl);
    else
        s->file = H5Fopen(s->path, s->writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
    bool unguarded = sb__latch_short();
    s->coll.latch = sb__latch_disarm();
    H5Pclose(fapl);
    /* A rank whose latch could not be allocated would meet a write error
     * inside HDF5 alone and leave the others in its collectives: the ranks
     * agree on it before the first collective flush, and then all close the
     * file (a collective) and remove it if they made it. */
    if (s->coll.parallel) {
        rc = sb__coll_agree(&s->coll,
                            s->file >= 0 && unguarded
                                ? sb__error(SB_ERR_NOMEM, "out of memory opening store '%s'", s->path)
                                : 0);
        if (rc < 0) {
            if (s->file >= 0)
                H5Fclose(s->file);
            s->file = H5I_INVALID_HID;
            if (create && state[0] == PATH_MISSING && s->coll.rank == 0)
                unlink(s->path);
            return rc;
        }
    }
    /* A new file is an empty store on disk at once (H5Fcreate writes no
     * superblock until a flush): a job killed before its first commit
     * leaves that, not a file HDF5 cannot open. */
    if (s->file >= 0 && create && H5Fflush(s->file, H5F_SCOPE_LOCAL) < 0)
        rc = sb__h5_error(SB_ERR_IO, "cannot write the new store '%s'", s->path);
    else if (s->file >= 0)
        rc = 0;
    else if (sb__h5_stack_has("unable to lock file"))
        rc = sb__error(SB_ERR_LOCKED,
                       "store '%s' is locked by another process (HDF5 file locking: a writer "
                       "such as h5py or Python secbench has it open)",
                       s->path);
    else if (create)
        rc = sb__h5_error(SB_ERR_IO, "cannot create store '%s' (mode \"%s\")%s", s->path, mode,
                          why_not_created(s->path));
    else if (state[1] != 0)
        rc = sb__error(SB_ERR_IO, "cannot open store '%s' (mode \"%s\"): %s", s->path, mode,
                       strerror(state[1]));
    else /* readable, HDF5 signature present, yet HDF5 cannot open it */
        rc = sb__h5_error(SB_ERR_FORMAT, "store '%s' is damaged: HDF5 cannot open it", s->path);
    return sb__coll_agree(&s->coll, rc);
}

/* ROMIO's data sieving locks the file region (fcntl) around a strided write
 * and, when the write fails, returns without unlocking it (MPICH 4.0.2): the
 * next collective write of another rank then waits for that lock forever,
 * and closing the store after a failed metadata write hangs. Rows are
 * contiguous per rank and HDF5's metadata small, so sieving buys nothing:
 * off, unless the caller's hints say otherwise. */
static int romio_hints(sb_store *s)
{
    if (!sb__mpi_io_is_romio())
        return 0;
    int set = 0;
    char value[16];
    if (s->info == MPI_INFO_NULL && MPI_Info_create(&s->info) != MPI_SUCCESS)
        return sb__error(SB_ERR_NOMEM, "store '%s': cannot create an MPI_Info", s->path);
    MPI_Info_get(s->info, "romio_ds_write", (int)sizeof value - 1, value, &set);
    if (!set && MPI_Info_set(s->info, "romio_ds_write", "disable") != MPI_SUCCESS)
        return sb__error(SB_ERR_NOMEM, "store '%s': cannot set an MPI-IO hint", s->path);
    return 0;
}

static int setup_parallel(sb_store *s, const sb_store_options *o)
{
    if (MPI_Comm_dup(o->comm, &s->coll.comm) != MPI_SUCCESS)
        return sb__error(SB_ERR_INVALID, "store '%s': cannot duplicate the communicator", s->path);
    s->coll.parallel = true;
    MPI_Comm_rank(s->coll.comm, &s->coll.rank);
    MPI_Comm_size(s->coll.comm, &s->coll.nranks);
    if (o->info != MPI_INFO_NULL && MPI_Info_dup(o->info, &s->info) != MPI_SUCCESS)
        return sb__error(SB_ERR_INVALID, "store '%s': cannot duplicate the MPI_Info", s->path);
    int rc = romio_hints(s);
    if (rc < 0)
        return rc;
    s->dxpl_coll = H5Pcreate(H5P_DATASET_XFER);
    s->dxpl_indep = H5Pcreate(H5P_DATASET_XFER);
    if (s->dxpl_coll < 0 || s->dxpl_indep < 0 ||
        H5Pset_dxpl_mpio(s->dxpl_coll, H5FD_MPIO_COLLECTIVE) < 0 ||
        H5Pset_dxpl_mpio(s->dxpl_indep, H5FD_MPIO_INDEPENDENT) < 0)
        return sb__h5_error(SB_ERR_IO, "store '%s': cannot set up MPI-IO transfers", s->path);
    return 0;
}

/* Choices that depend on the MPI-IO layer, made once the file is open. */
static void choose_transfers(sb_store *s)
{
    const sb_store_options *o = &s->opts;
    if (!s->coll.parallel)
        return;
    s->collective_reads = o->collective_reads == SB_AUTO ? sb__mpi_collective_reads_safe()
                                                         : o->collective_reads == SB_YES;
    s->collective_writes = o->collective_writes == SB_AUTO ? sb__mpi_io_is_romio()
                                                           : o->collective_writes == SB_YES;
}

static int open_temporary(sb_store *s)
{
    /* The core driver keyed by a unique name: two temporary stores with
     * the same label never collide, and no file on disk is touched. */
    static atomic_ulong counter;
    char name[64];
    snprintf(name, sizeof name, "sb-temporary-%ld-%lu", (long)getpid(),
             (unsigned long)atomic_fetch_add(&counter, 1));
    s->temporary = true;
    s->writable = true;
    s->mode = SB_CREATE_TRUNCATE;
    hid_t fapl = make_fapl(s);
    s->file = fapl < 0 ? H5I_INVALID_HID : H5Fcreate(name, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (s->file < 0)
        return sb__h5_error(SB_ERR_IO, "cannot create temporary store '%s'", s->path);
    return 0;
}

/* The first agreement of an open runs on the caller's communicator: the
 * store's own duplicate does not exist yet, and a rank whose arguments are
 * wrong must still tell the others. */
static int agree_on_open(const sb_store_options *o, const char *path, sb_open_mode mode, int local)
{
    sb_coll caller = {.comm = MPI_COMM_NULL, .nranks = 1, .path = path ? path : ""};
    if (o->comm != MPI_COMM_NULL) {
        caller.parallel = true;
        caller.comm = o->comm;
        MPI_Comm_rank(o->comm, &caller.rank);
        MPI_Comm_size(o->comm, &caller.nranks);
    }
    sb_call c;
    sb__call_begin(&c, "sb_store_open", &caller);
    sb__call_check(&c, local);
    sb__call_str(&c, path);
    sb__call_u64(&c, (uint64_t)mode);
    sb__call_u64(&c, o->alignment);
    sb__call_u64(&c, o->alignment_threshold);
    sb__call_u64(&c, o->collective_metadata);
    sb__call_u64(&c, (uint64_t)o->collective_metadata_writes);
    sb__call_u64(&c, o->fsync);
    sb__call_u64(&c, (uint64_t)o->locking);
    sb__call_u64(&c, (uint64_t)o->collective_reads);
    sb__call_u64(&c, (uint64_t)o->collective_writes);
    sb__call_u64(&c, o->meta_block_size);
    return sb__call_end(&c, sb__call_enter(&c));
}

int sb_store_open(sb_store **out, const char *path, sb_open_mode mode,
                  const sb_store_options *opts)
{
    if (!out)
        return sb__error(SB_ERR_INVALID, "sb_store_open: out is NULL");
    *out = NULL;
    sb_store_options o;
    bool alone = false;
    int local = import_options(&o, opts, path ? path : "(null)", &alone);
    if (local < 0 && alone)
        return local;
    if (o.comm != MPI_COMM_NULL) {
        int initialized = 0, finalized = 0;
        MPI_Initialized(&initialized);
        MPI_Finalized(&finalized);
        if (!initialized || finalized)
            return sb__error(SB_ERR_INVALID,
                             "store '%s': a communicator was given but MPI is not initialized",
                             path ? path : "(null)");
    }
    if (local == 0 && (!path || !*path))
        local = sb__error(SB_ERR_INVALID, "sb_store_open: path is %s", path ? "empty" : "NULL");
    else if (local == 0 && !sb_open_mode_string(mode))
        local = sb__error(SB_ERR_INVALID, "store '%s': invalid open mode %d", path, (int)mode);
    sb_store *s = local == 0 ? store_alloc(path, mode, &o) : NULL;
    if (local == 0 && !s)
        local = sb__error(SB_ERR_NOMEM, "out of memory opening '%s'", path);
    int rc = agree_on_open(&o, path, mode, local);
    if (rc < 0) {
        store_free(s);
        return rc;
    }
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    if (o.comm != MPI_COMM_NULL)
        rc = sb__coll_agree(&s->coll, setup_parallel(s, &o));
    if (rc == 0)
        rc = open_file(s);
    if (rc == 0)
        choose_transfers(s);
    sb__quiet_end(&q);
    if (rc < 0) {
        if (s->file >= 0)
            H5Fclose(s->file);
        store_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int sb_store_temporary(sb_store **out, const char *name)
{
    if (!out)
        return sb__error(SB_ERR_INVALID, "sb_store_temporary: out is NULL");
    *out = NULL;
    if (!name)
        return sb__error(SB_ERR_INVALID, "sb_store_temporary: name is NULL");
    sb_store_options o;
    store_options_defaults(&o);
    sb_store *s = store_alloc(name, SB_CREATE_TRUNCATE, &o);
    if (!s)
        return sb__error(SB_ERR_NOMEM, "out of memory opening '%s'", name);
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    int rc = open_temporary(s);
    sb__quiet_end(&q);
    if (rc < 0) {
        store_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int sb__store_fsync(sb_store *s)
{
    /* HDF5 1.10 has no public fsync, and the library skips the mpio driver's
     * MPI_File_sync (iolatch.c): every rank syncs through a descriptor of its
     * own, since on a parallel file system a client's fsync covers the pages
     * that client wrote. */
    if (s->temporary)
        return 0;
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        /* After a failed fsync the kernel may have dropped the dirty pages:
         * like any failed write, the store stops here. */
        s->coll.io_fault = true;
        return sb__error(SB_ERR_IO, "cannot fsync store '%s': %s", s->path, strerror(err));
    }
    close(fd);
    return 0;
}

int sb__store_hold_metadata(sb_store *s)
{
    if (s->held || s->temporary)
        return 0;
    H5AC_cache_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.version = H5AC__CURR_CACHE_CONFIG_VERSION;
    if (H5Fget_mdc_config(s->file, &cfg) < 0)
        return sb__h5_error(SB_ERR_IO, "store '%s': cannot read its metadata cache setup", s->path);
    s->mdc = cfg;
    /* HDF5 lets evictions go only with every automatic resize off. */
    cfg.evictions_enabled = 0;
    cfg.incr_mode = H5C_incr__off;
    cfg.flash_incr_mode = H5C_flash_incr__off;
    cfg.decr_mode = H5C_decr__off;
    if (H5Fset_mdc_config(s->file, &cfg) < 0)
        return sb__h5_error(SB_ERR_IO, "store '%s': cannot hold its metadata", s->path);
    s->held = true;
    return 0;
}

int sb__store_flush_structure(sb_store *s)
{
    if (!s->writable)
        return 0;
    int rc = sb__coll_check_writes(&s->coll, "flush");
    if (rc < 0)
        return rc;
    if (H5Fflush(s->file, H5F_SCOPE_LOCAL) < 0)
        return sb__h5_error(SB_ERR_IO, "cannot flush store '%s'", s->path);
    if (s->held) {
        /* Written: the cache may evict again. */
        if (H5Fset_mdc_config(s->file, &s->mdc) < 0)
            return sb__h5_error(SB_ERR_IO, "store '%s': cannot restore its metadata cache",
                                s->path);
        s->held = false;
    }
    return 0;
}

int sb__store_flush_file(sb_store *s)
{
    int rc = sb__store_flush_structure(s);
    if (rc == 0 && s->writable && s->opts.fsync)
        rc = sb__store_fsync(s);
    return rc;
}

void sb__store_free(sb_store *s) { store_free(s); }
