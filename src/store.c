/* Store: open modes, drivers (sec2, MPI-IO, core), listing, flush, close. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int sb_open_mode_parse(const char *text, sb_open_mode *mode)
{
    if (!text || !mode)
        return sb__error(SB_ERR_INVALID, "sb_open_mode_parse: NULL argument");
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

void sb_store_options_init(sb_store_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->version = SB_STORE_OPTIONS_VERSION;
    opts->comm = MPI_COMM_NULL;
    opts->info = MPI_INFO_NULL;
    opts->collective_metadata = true;
    opts->collective_metadata_writes = true;
    opts->file_locking = -1;
    opts->collective_reads = -1;
    opts->collective_writes = -1;
}

const char *sb_store_path(const sb_store *s) { return s ? s->path : NULL; }
sb_open_mode sb_store_mode(const sb_store *s) { return s ? s->mode : SB_READ; }
bool sb_store_is_parallel(const sb_store *s) { return s && s->parallel; }
bool sb_store_is_temporary(const sb_store *s) { return s && s->temporary; }
int sb_store_rank(const sb_store *s) { return s ? s->rank : 0; }
int sb_store_nranks(const sb_store *s) { return s ? s->nranks : 1; }

int sb__store_check(const sb_store *s, const char *what)
{
    if (!s)
        return sb__error(SB_ERR_INVALID, "%s: store is NULL", what);
    if (s->file < 0)
        return sb__error(SB_ERR_INVALID, "%s: store '%s' is closed", what, s->path);
    return 0;
}

int sb__store_check_writable(const sb_store *s, const char *what)
{
    int rc = sb__store_check(s, what);
    if (rc == 0 && !s->writable)
        rc = sb__error(SB_ERR_READ_ONLY, "%s: store '%s' is open read-only (mode \"r\")", what,
                       s->path);
    if (rc == 0 && s->write_failed)
        rc = sb__error(SB_ERR_IO,
                       "%s: store '%s' takes no more writes after a failed one (%s); close it "
                       "and open it again: what was committed before the failure is there",
                       what, s->path, s->write_failure ? s->write_failure : "");
    return rc;
}

void sb__store_link(sb_store *s, sb_dataset *ds)
{
    ds->prev = NULL;
    ds->next = s->open_datasets;
    if (s->open_datasets)
        s->open_datasets->prev = ds;
    s->open_datasets = ds;
}

void sb__store_unlink(sb_store *s, sb_dataset *ds)
{
    if (ds->prev)
        ds->prev->next = ds->next;
    else if (s->open_datasets == ds)
        s->open_datasets = ds->next;
    if (ds->next)
        ds->next->prev = ds->prev;
    ds->next = ds->prev = NULL;
}

bool sb__path_exists(hid_t loc, const char *path)
{
    /* H5Lexists fails (rather than saying no) when a parent is missing:
     * walk the components. */
    char *copy = sb__strdup(path);
    if (!copy)
        return false;
    bool ok = true;
    for (char *p = copy;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            ok = H5Lexists(loc, copy, H5P_DEFAULT) > 0;
            *p = saved;
            if (!ok || saved == '\0')
                break;
        }
    }
    free(copy);
    return ok;
}

/* HDF5 finds a name in an old-style group by a binary search over the names
 * of its symbol-table nodes. One name that is not there (a node written, the
 * local heap holding its name not: a write that failed in the middle of a
 * metadata flush, docs/reliability.md finding 10) sends the search astray for
 * names that are intact. Walking the group reads every name in turn and still
 * finds them, at the cost of one pass over the group: only done after a lookup
 * by name failed. */
typedef struct walk_find {
    const char *name;
    hsize_t at;
    bool found;
} walk_find;

static herr_t find_name(hid_t group, const char *name, const H5L_info_t *info, void *payload)
{
    (void)group;
    (void)info;
    walk_find *w = payload;
    if (strcmp(name, w->name) == 0) {
        w->found = true;
        return 1;
    }
    w->at++;
    return 0;
}

static hid_t open_by_walk(hid_t group, const char *name)
{
    walk_find w = {name, 0, false};
    hsize_t idx = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, find_name, &w) < 0 || !w.found)
        return H5I_INVALID_HID;
    return H5Oopen_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, w.at, H5P_DEFAULT);
}

hid_t sb__open_path(hid_t loc, const char *path, bool *walked)
{
    char *copy = sb__strdup(path);
    if (!copy)
        return H5I_INVALID_HID;
    hid_t cur = loc;
    bool ok = true;
    for (char *p = copy, *comp = copy; ok; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        hid_t next = H5I_INVALID_HID;
        if (H5Lexists(cur, comp, H5P_DEFAULT) > 0)
            next = H5Oopen(cur, comp, H5P_DEFAULT);
        if (next < 0 && (next = open_by_walk(cur, comp)) >= 0 && walked)
            *walked = true;
        if (cur != loc)
            H5Oclose(cur);
        cur = next;
        ok = cur >= 0;
        if (saved == '\0')
            break;
        comp = p + 1;
    }
    free(copy);
    return ok ? cur : H5I_INVALID_HID;
}

hid_t sb__open_visited(hid_t group, const char *name, hsize_t index, bool *walked)
{
    if (H5Lexists(group, name, H5P_DEFAULT) > 0) {
        hid_t o = H5Oopen(group, name, H5P_DEFAULT);
        if (o >= 0)
            return o;
    }
    /* Listed but not found by name: the group's names are damaged
     * (open_by_walk); its index still leads to it. */
    if (!*name)
        return H5I_INVALID_HID;
    hid_t o = H5Oopen_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, H5P_DEFAULT);
    if (o >= 0 && walked)
        *walked = true;
    return o;
}

int sb__create_parents(hid_t loc, const char *path)
{
    char *copy = sb__strdup(path);
    if (!copy)
        return sb__error(SB_ERR_NOMEM, "out of memory");
    int rc = 0;
    for (char *p = copy; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (H5Lexists(loc, copy, H5P_DEFAULT) <= 0) {
            hid_t g = H5Gcreate2(loc, copy, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (g < 0)
                rc = sb__h5_error(SB_ERR_IO, "cannot create group '%s'", copy);
            else
                H5Gclose(g);
        }
        *p = '/';
    }
    free(copy);
    return rc;
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
    s->comm = MPI_COMM_NULL;
    s->info = MPI_INFO_NULL;
    s->rank = 0;
    s->nranks = 1;
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
    if (s->parallel) {
        if (s->info != MPI_INFO_NULL)
            MPI_Info_free(&s->info);
        if (s->comm != MPI_COMM_NULL)
            MPI_Comm_free(&s->comm);
    }
    sb__latch_release(s->latch);
    free(s->write_failure);
    free(s->path);
    free(s);
}

static hid_t make_fapl(sb_store *s)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return fapl;
    const sb_store_options *o = &s->opts;
    if (s->temporary) {
        H5Pset_fapl_core(fapl, 1 << 20, 0);
    } else if (s->parallel) {
        H5Pset_fapl_mpio(fapl, s->comm, s->info);
        if (o->collective_metadata)
            H5Pset_all_coll_metadata_ops(fapl, 1);
        if (o->collective_metadata_writes)
            H5Pset_coll_metadata_write(fapl, 1);
    }
    if (o->alignment > 0)
        H5Pset_alignment(fapl, o->alignment_threshold ? o->alignment_threshold : 1, o->alignment);
    if (o->file_locking >= 0)
        H5Pset_file_locking(fapl, o->file_locking > 0, 1);
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
enum { PATH_MISSING = 0, PATH_HDF5 = 1, PATH_OTHER = 2, PATH_ERROR = 3 };

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
    if (access(path, write ? R_OK | W_OK : R_OK) != 0)
        *err = errno; /* reported only if HDF5 then fails to open it */
    htri_t ok = H5Fis_hdf5(path);
    return ok > 0 ? PATH_HDF5 : PATH_OTHER;
}

static int open_file(sb_store *s)
{
    int state[2] = {PATH_MISSING, 0};
    if (s->rank == 0)
        state[0] = probe_path(s->path, s->mode != SB_READ, &state[1]);
    int brc = sb__coll_bcast(s, state, sizeof state, 0);
    if (brc < 0)
        return brc;
    const char *mode = sb_open_mode_string(s->mode);
    if (state[0] == PATH_ERROR)
        return sb__error(SB_ERR_IO, "cannot open store '%s': %s", s->path, strerror(state[1]));

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
    case SB_READ_WRITE_CREATE:
        create = state[0] == PATH_MISSING;
        break;
    default:
        return sb__error(SB_ERR_INVALID, "invalid open mode %d", (int)s->mode);
    }
    if (!create && state[0] == PATH_OTHER)
        return sb__error(SB_ERR_FORMAT, "store '%s' is not an HDF5 file", s->path);

    hid_t fapl = make_fapl(s);
    if (fapl < 0)
        return sb__h5_error(SB_ERR_IO, "cannot set up file access for '%s'", s->path);
    int rc = sb__latch_arm(s->parallel);
    if (rc < 0) {
        H5Pclose(fapl);
        return rc;
    }
    if (create)
        s->file = H5Fcreate(s->path, s->mode == SB_CREATE ? H5F_ACC_EXCL : H5F_ACC_TRUNC,
                            H5P_DEFAULT, fapl);
    else
        s->file = H5Fopen(s->path, s->mode == SB_READ ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl);
    s->latch = sb__latch_disarm();
    H5Pclose(fapl);
    if (s->file < 0 && create)
        return sb__h5_error(SB_ERR_IO, "cannot create store '%s' (mode \"%s\")", s->path, mode);
    if (s->file < 0 && state[1] != 0)
        return sb__error(SB_ERR_IO, "cannot open store '%s' (mode \"%s\"): %s", s->path, mode,
                         strerror(state[1]));
    if (s->file < 0)
        /* Readable, HDF5 signature present, yet HDF5 cannot open it: damaged. */
        return sb__h5_error(SB_ERR_FORMAT, "store '%s' is damaged: HDF5 cannot open it", s->path);
    s->writable = s->mode != SB_READ;
    return 0;
}

static bool romio_selected(void)
{
    const char *io = getenv("OMPI_MCA_io");
    return io && strstr(io, "romio") && !strstr(io, "^romio");
}

/* Open MPI 4.1.0-4.1.4's OMPIO reads wrong data in collective reads that use
 * data sieving (open-mpi/ompi#10546, fixed in 4.1.5). Independent reads of
 * our contiguous row ranges never sieve. */
static bool collective_reads_safe(void)
{
    char version[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int len = 0;
    MPI_Get_library_version(version, &len);
    const char *v = strstr(version, "Open MPI v4.1.");
    if (!v)
        return true;
    int patch = atoi(v + strlen("Open MPI v4.1."));
    if (patch >= 5)
        return true;
    const char *ds = getenv("OMPI_MCA_fbtl_posix_read_datasieving");
    if (romio_selected())
        return true;
    return ds && strcmp(ds, "0") == 0;
}

static int setup_parallel(sb_store *s, const sb_store_options *o)
{
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized)
        return sb__error(SB_ERR_INVALID,
                         "store '%s': a communicator was given but MPI is not initialized", s->path);
    if (MPI_Comm_dup(o->comm, &s->comm) != MPI_SUCCESS)
        return sb__error(SB_ERR_INVALID, "store '%s': cannot duplicate the communicator", s->path);
    s->parallel = true;
    MPI_Comm_rank(s->comm, &s->rank);
    MPI_Comm_size(s->comm, &s->nranks);
    if (o->info != MPI_INFO_NULL && MPI_Info_dup(o->info, &s->info) != MPI_SUCCESS)
        return sb__error(SB_ERR_INVALID, "store '%s': cannot duplicate the MPI_Info", s->path);
    s->collective_reads = o->collective_reads < 0 ? collective_reads_safe() : o->collective_reads > 0;
    /* Independent unless asked: see collective_writes in store.h. */
    s->collective_writes = o->collective_writes > 0;
    s->dxpl_coll = H5Pcreate(H5P_DATASET_XFER);
    s->dxpl_indep = H5Pcreate(H5P_DATASET_XFER);
    if (s->dxpl_coll < 0 || s->dxpl_indep < 0 ||
        H5Pset_dxpl_mpio(s->dxpl_coll, H5FD_MPIO_COLLECTIVE) < 0 ||
        H5Pset_dxpl_mpio(s->dxpl_indep, H5FD_MPIO_INDEPENDENT) < 0)
        return sb__h5_error(SB_ERR_IO, "store '%s': cannot set up MPI-IO transfers", s->path);
    return 0;
}

static int check_options(const sb_store_options *o, const char *path)
{
    if (o->version != SB_STORE_OPTIONS_VERSION)
        return sb__error(SB_ERR_INVALID,
                         "store '%s': options not initialized (call sb_store_options_init)", path);
    if (o->temporary && o->comm != MPI_COMM_NULL)
        return sb__error(SB_ERR_INVALID,
                         "store '%s': a temporary (in-memory) store is serial; pass comm = "
                         "MPI_COMM_NULL", path);
    if (o->alignment_threshold > 0 && o->alignment == 0)
        return sb__error(SB_ERR_INVALID, "store '%s': alignment_threshold set without alignment",
                         path);
    return 0;
}

static int store_open(sb_store **out, const char *path, sb_open_mode mode,
                      const sb_store_options *opts)
{
    if (!out)
        return sb__error(SB_ERR_INVALID, "sb_store_open: store pointer is NULL");
    *out = NULL;
    if (!path || !*path)
        return sb__error(SB_ERR_INVALID, "sb_store_open: path is %s", path ? "empty" : "NULL");
    sb_store_options defaults;
    sb_store_options_init(&defaults);
    const sb_store_options *o = opts ? opts : &defaults;
    int rc = check_options(o, path);
    if (rc < 0)
        return rc;
    if (!sb_open_mode_string(mode))
        return sb__error(SB_ERR_INVALID, "store '%s': invalid open mode %d", path, (int)mode);

    sb_store *s = store_alloc(path, mode, o);
    if (!s)
        return sb__error(SB_ERR_NOMEM, "out of memory opening '%s'", path);
    if (o->temporary) {
        /* The core driver keyed by a unique name: two temporary stores with
         * the same label never collide, and no file on disk is touched. */
        static atomic_ulong counter;
        char name[64];
        snprintf(name, sizeof name, "sb-temporary-%ld-%lu", (long)getpid(),
                 (unsigned long)atomic_fetch_add(&counter, 1));
        s->temporary = true;
        hid_t fapl = make_fapl(s);
        s->file = H5Fcreate(name, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
        H5Pclose(fapl);
        if (s->file < 0) {
            rc = sb__h5_error(SB_ERR_IO, "cannot create temporary store '%s'", path);
            store_free(s);
            return rc;
        }
        s->writable = true;
        s->mode = SB_CREATE_TRUNCATE;
        *out = s;
        return 0;
    }
    if (o->comm != MPI_COMM_NULL) {
        rc = setup_parallel(s, o);
        if (rc < 0) {
            store_free(s);
            return rc;
        }
    }
    sb_hash h;
    sb__hash_init(&h, "open");
    sb__hash_str(&h, path);
    sb__hash_u64(&h, (uint64_t)mode);
    sb__hash_u64(&h, o->alignment);
    sb__hash_u64(&h, o->alignment_threshold);
    sb__hash_u64(&h, o->collective_metadata);
    sb__hash_u64(&h, o->collective_metadata_writes);
    rc = sb__coll_begin(s, "sb_store_open", &h, 0);
    if (rc == 0)
        rc = sb__coll_agree(s, open_file(s));
    if (rc < 0) {
        if (s->file >= 0)
            H5Fclose(s->file);
        store_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int sb_store_open(sb_store **out, const char *path, sb_open_mode mode,
                  const sb_store_options *opts)
{
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    int rc = store_open(out, path, mode, opts);
    sb__quiet_end(&q);
    return rc;
}

int sb_store_temporary(sb_store **out, const char *name)
{
    sb_store_options o;
    sb_store_options_init(&o);
    o.temporary = true;
    return sb_store_open(out, name, SB_CREATE_TRUNCATE, &o);
}

int sb__store_flush_file(sb_store *s)
{
    if (!s->writable)
        return 0;
    if (s->write_failed)
        return sb__store_check_writable(s, "flush");
    if (H5Fflush(s->file, H5F_SCOPE_LOCAL) < 0)
        return sb__h5_error(SB_ERR_IO, "cannot flush store '%s'", s->path);
    if (s->opts.fsync && !s->temporary)
        return sb__store_fsync(s);
    return 0;
}

int sb__store_sync_rows(sb_store *s)
{
    if (!s->opts.fsync || s->temporary)
        return 0;
    return sb__coll_agree(s, sb__store_fsync(s));
}

int sb__store_fsync(sb_store *s)
{
    /* HDF5 1.10 has no public fsync, and the library skips the mpio driver's
     * MPI_File_sync (iolatch.c): every rank syncs through a descriptor of its
     * own, since on a parallel file system a client's fsync covers the pages
     * that client wrote. */
    int fd = open(s->path, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        /* After a failed fsync the kernel may have dropped the dirty pages:
         * like any failed write, the store stops here. */
        s->io_fault = true;
        return sb__error(SB_ERR_IO, "cannot fsync store '%s': %s", s->path, strerror(err));
    }
    close(fd);
    return 0;
}

int sb_store_flush(sb_store *s)
{
    int rc = sb__store_check(s, "sb_store_flush");
    if (rc < 0)
        return rc;
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    sb_hash h;
    sb__hash_init(&h, "flush");
    rc = sb__coll_begin(s, "sb_store_flush", &h, 0);
    for (sb_dataset *ds = s->open_datasets; ds && rc == 0; ds = ds->next)
        rc = sb_dataset_flush(ds);
    if (rc == 0)
        rc = sb__coll_agree(s, sb__store_flush_file(s));
    sb__quiet_end(&q);
    return rc;
}

int sb_store_close(sb_store *s)
{
    if (!s)
        return sb__error(SB_ERR_INVALID, "sb_store_close: store is NULL");
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    int rc = 0;
    if (s->file >= 0) {
        sb_hash h;
        sb__hash_init(&h, "close");
        rc = sb__coll_begin(s, "sb_store_close", &h, 0);
        /* Write what the open handles still buffer, then close them: they
         * stay allocated as closed handles until sb_dataset_close. */
        for (sb_dataset *ds = s->open_datasets; ds; ds = ds->next) {
            int r = rc == 0 ? sb_dataset_flush(ds) : 0;
            if (r < 0 && rc == 0)
                rc = r;
        }
        while (s->open_datasets) {
            sb_dataset *ds = s->open_datasets;
            sb__store_unlink(s, ds);
            sb__dataset_release_handles(ds);
            ds->store = NULL;
        }
        int r = sb__coll_agree(s, sb__store_flush_file(s));
        if (r < 0 && rc == 0)
            rc = r;
        /* The close writes what HDF5 still holds; its write errors are latched
         * and agreed on like any other (HDF5 itself never sees the close fail,
         * which in 1.10 leaves a file that crashes it at exit). */
        r = H5Fclose(s->file) < 0 ? sb__h5_error(SB_ERR_IO, "cannot close store '%s'", s->path) : 0;
        s->file = H5I_INVALID_HID;
        r = sb__coll_agree(s, r);
        if (r < 0 && rc == 0)
            rc = r;
    }
    store_free(s);
    sb__quiet_end(&q);
    return rc;
}

/* ---- listing ------------------------------------------------------------ */

/* Datasets found by a walk; infos[i].name is owned (malloc'd). */
typedef struct name_list {
    sb_dataset_info *infos;
    size_t count, cap;
    int rc;
    haddr_t *entered; /* groups the walk went into, each once */
    size_t nentered, capentered;
} name_list;

/* Grows *items (count used of *cap) so that one more fits. */
static bool room_for_one(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return true;
    size_t more = *cap ? 2 * *cap : 16;
    void *grown = realloc(*items, more * size);
    if (!grown)
        return false;
    *items = grown;
    *cap = more;
    return true;
}

static int list_push(name_list *l, const char *name, uint64_t capacity, uint64_t size,
                     bool incomplete)
{
    if (!room_for_one((void **)&l->infos, &l->cap, l->count, sizeof *l->infos))
        return SB_ERR_NOMEM;
    char *copy = sb__strdup(name);
    if (!copy)
        return SB_ERR_NOMEM;
    l->infos[l->count++] = (sb_dataset_info){copy, capacity, size, incomplete};
    return 0;
}

static void list_free(name_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free((char *)l->infos[i].name);
    free(l->infos);
    free(l->entered);
    memset(l, 0, sizeof *l);
}

/* True the first time a group is met: a file may link one group from many
 * places, or from inside itself (hard links up the tree, or damaged names
 * leading back), and a walk that went in every time would never end. */
static bool first_entry(name_list *l, haddr_t addr)
{
    for (size_t i = 0; i < l->nentered; i++)
        if (l->entered[i] == addr)
            return false;
    if (!room_for_one((void **)&l->entered, &l->capentered, l->nentered, sizeof *l->entered))
        return false;
    l->entered[l->nentered++] = addr;
    return true;
}

typedef struct walk_ctx {
    name_list *list;
    const char *prefix;
    hsize_t index; /* of the link being visited, in the walk's order */
} walk_ctx;

static herr_t walk_group(hid_t group, const char *name, const H5L_info_t *linfo, void *payload);

static int walk(hid_t group, const char *prefix, name_list *list)
{
    walk_ctx ctx = {list, prefix, 0};
    hsize_t idx = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, walk_group, &ctx) < 0 && list->rc == 0)
        list->rc = sb__h5_error(SB_ERR_IO, "cannot list group '%s'", *prefix ? prefix : "/");
    return list->rc;
}

static herr_t walk_group(hid_t group, const char *name, const H5L_info_t *linfo, void *payload)
{
    walk_ctx *ctx = payload;
    hsize_t index = ctx->index++;
    if (linfo->type != H5L_TYPE_HARD)
        return 0;
    H5O_info_t oinfo;
    hid_t g = sb__open_visited(group, name, index, NULL);
    if (g < 0)
        return 0;
    if (H5Oget_info2(g, &oinfo, H5O_INFO_BASIC) < 0 || oinfo.type != H5O_TYPE_GROUP) {
        H5Oclose(g);
        return 0;
    }
    size_t plen = strlen(ctx->prefix), nlen = strlen(name);
    char *path = malloc(plen + nlen + 2);
    if (!path) {
        H5Gclose(g);
        ctx->list->rc = sb__error(SB_ERR_NOMEM, "out of memory listing datasets");
        return -1;
    }
    if (plen)
        sprintf(path, "%s/%s", ctx->prefix, name);
    else
        memcpy(path, name, nlen + 1);
    bool present = false, is_ds = false;
    int rc = sb__attr_read_bool(g, SB_ATTR_IS_DATASET, path, &present, &is_ds);
    if (rc == 0 && present && is_ds) {
        /* A dataset: its sub-groups are not datasets of the store. A broken
         * size or capacity still lists (load reports it). */
        int64_t cap = 0, size = 0;
        if (sb__attr_read_int(g, SB_ATTR_CAPACITY, path, &cap) < 0)
            cap = 0;
        if (sb__attr_read_int(g, SB_ATTR_SIZE, path, &size) < 0)
            size = 0;
        bool marked = false, incomplete = false;
        if (sb__attr_read_bool(g, SB_ATTR_INCOMPLETE, path, &marked, &incomplete) < 0)
            marked = incomplete = true; /* load refuses it: do not vouch for it */
        if (list_push(ctx->list, path, cap > 0 ? (uint64_t)cap : 0, size > 0 ? (uint64_t)size : 0,
                      marked && incomplete) < 0)
            ctx->list->rc = sb__error(SB_ERR_NOMEM, "out of memory listing datasets");
    } else if (first_entry(ctx->list, oinfo.addr)) {
        walk(g, path, ctx->list);
    }
    free(path);
    H5Gclose(g);
    return ctx->list->rc < 0 ? -1 : 0;
}

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const sb_dataset_info *)a)->name, ((const sb_dataset_info *)b)->name);
}

static int list_sorted(sb_store *s, name_list *l)
{
    memset(l, 0, sizeof *l);
    hid_t root = H5Gopen2(s->file, "/", H5P_DEFAULT);
    if (root < 0)
        return sb__h5_error(SB_ERR_IO, "cannot open the root group of '%s'", s->path);
    H5O_info_t info;
    if (H5Oget_info2(root, &info, H5O_INFO_BASIC) >= 0)
        first_entry(l, info.addr);
    int rc = walk(root, "", l);
    H5Gclose(root);
    if (rc == 0 && l->count > 1)
        qsort(l->infos, l->count, sizeof *l->infos, cmp_info);
    return rc;
}

int sb_store_datasets(sb_store *s, sb_dataset_filter filter, void *payload, char ***names,
                      size_t *count)
{
    int rc = sb__store_check(s, "sb_store_datasets");
    if (rc == 0 && (!names || !count))
        rc = sb__error(SB_ERR_INVALID, "sb_store_datasets: names or count is NULL");
    if (rc < 0)
        return rc;
    *names = NULL;
    *count = 0;
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    name_list l;
    rc = sb__coll_agree(s, list_sorted(s, &l));
    char **out = NULL;
    size_t kept = 0;
    if (rc == 0 && l.count > 0) {
        out = malloc(l.count * sizeof *out);
        if (!out)
            rc = sb__error(SB_ERR_NOMEM, "out of memory listing datasets");
    }
    for (size_t i = 0; rc == 0 && i < l.count; i++) {
        if (!filter || filter(&l.infos[i], payload)) {
            out[kept++] = (char *)l.infos[i].name;
            l.infos[i].name = NULL;
        }
    }
    if (rc == 0 && kept == 0) {
        free(out);
        out = NULL;
    }
    if (rc == 0) {
        *names = out;
        *count = kept;
    }
    list_free(&l);
    sb__quiet_end(&q);
    return rc;
}

int sb_store_dataset_names(sb_store *s, char ***names, size_t *count)
{
    return sb_store_datasets(s, NULL, NULL, names, count);
}

int sb_store_foreach_dataset(sb_store *s, sb_dataset_visitor fn, void *payload)
{
    int rc = sb__store_check(s, "sb_store_foreach_dataset");
    if (rc == 0 && !fn)
        rc = sb__error(SB_ERR_INVALID, "sb_store_foreach_dataset: visitor is NULL");
    if (rc < 0)
        return rc;
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    name_list l;
    rc = sb__coll_agree(s, list_sorted(s, &l));
    sb__quiet_end(&q);
    for (size_t i = 0; rc == 0 && i < l.count; i++)
        rc = fn(&l.infos[i], payload);
    list_free(&l);
    return rc;
}

int sb_store_has_dataset(sb_store *s, const char *name, bool *exists)
{
    int rc = sb__store_check(s, "sb_store_has_dataset");
    if (rc == 0 && !exists)
        rc = sb__error(SB_ERR_INVALID, "sb_store_has_dataset: exists is NULL");
    if (rc == 0)
        rc = sb__check_name("dataset", name);
    if (rc < 0)
        return rc;
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    *exists = false;
    {
        hid_t g = sb__open_path(s->file, name, NULL);
        H5O_info_t info;
        if (g >= 0 && H5Oget_info2(g, &info, H5O_INFO_BASIC) >= 0 && info.type == H5O_TYPE_GROUP) {
            bool present = false, value = false;
            if (sb__attr_read_bool(g, SB_ATTR_IS_DATASET, name, &present, &value) == 0)
                *exists = present && value;
        }
        if (g >= 0)
            H5Oclose(g);
    }
    sb_clear_error();
    sb__quiet_end(&q);
    return 0;
}
