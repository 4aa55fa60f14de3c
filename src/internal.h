/* Library internals shared by the src/ files. Not installed. */
#ifndef SB_INTERNAL_H
#define SB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>
#include <mpi.h>

#include "secbench/storage.h"

#define SB_ERRMSG_MAX 512
#define SB_ATTR_SIZE "_sb_size"
#define SB_ATTR_CAPACITY "_sb_capacity"
#define SB_ATTR_IS_DATASET "_sb_is_dataset"
#define SB_ATTR_IS_ASSET "_sb_is_asset"
#define SB_ATTR_PRIORITY "_sb_priority"
/* Extension (ignored by Python): the field list, so that a dataset created
 * but never written loads again with its fields. */
#define SB_ATTR_FIELDS "_sb_fields"
/* Extension (ignored by Python): set on an export's copy from its creation
 * until every row, the size and the assets are in, so that a copy cut short
 * by a killed job is told apart from a finished one. */
#define SB_ATTR_INCOMPLETE "_sb_incomplete"

#if defined(__GNUC__)
#define SB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SB_PRINTF(a, b)
#endif

/* ---- error.c ------------------------------------------------------------ */
/* Record an error for this thread and return `code`. */
int sb__error(int code, const char *fmt, ...) SB_PRINTF(2, 3);
/* The same, appending the innermost message of HDF5's error stack. */
int sb__h5_error(int code, const char *fmt, ...) SB_PRINTF(2, 3);
void sb__error_set(int code, const char *message);
/* Keep the last message, change its code (a missing attribute is a format error on load). */
int sb__error_recode(int code);

/* HDF5 prints its error stack to stderr by default; the library never lets it.
 * Every public entry point that calls HDF5 brackets its work with these. */
typedef struct sb_h5_quiet { H5E_auto2_t func; void *data; } sb_h5_quiet;
void sb__quiet_begin(sb_h5_quiet *q);
void sb__quiet_end(const sb_h5_quiet *q);

/* ---- types.c ------------------------------------------------------------ */
bool sb__dtype_valid(sb_dtype dtype);
/* Type used in the file and in memory for a dtype: little-endian standard
 * types (equal to the native ones on the machines we run on, so no conversion
 * and no fallback to independent I/O); bool is h5py's int8 enum. Caller closes. */
hid_t sb__dtype_h5type(sb_dtype dtype);
/* dtype of an HDF5 type; SB_ERR_TYPE if secbench has no dtype for it. */
int sb__dtype_from_h5(hid_t type, sb_dtype *dtype);
/* A name as secbench writes it: non-empty, no leading/trailing '/', no "//",
 * no "." or ".." component. */
int sb__check_name(const char *what, const char *name);
char *sb__strdup(const char *s);

/* ---- coll.c: the small collective helpers ------------------------------ */
typedef struct sb_hash { uint64_t h; } sb_hash;
void sb__hash_init(sb_hash *h, const char *op);
void sb__hash_bytes(sb_hash *h, const void *data, size_t len);
void sb__hash_str(sb_hash *h, const char *s);
void sb__hash_u64(sb_hash *h, uint64_t v);

/* Enter a collective call: checks that every rank passed the same arguments
 * (same hash) and spreads any local failure (local_rc < 0) to every rank, with
 * the message of the lowest failing rank. Serial stores: returns local_rc. */
int sb__coll_begin(sb_store *s, const char *op, const sb_hash *args, int local_rc);
/* Spread a local failure to every rank (lowest failing rank's message). */
int sb__coll_agree(sb_store *s, int local_rc);
/* For the calls that write on one rank alone (sb_dataset_write_at): a write
 * failure caught by the latch, reported by this call and kept for the next
 * agreement. */
int sb__store_local_write_failures(sb_store *s, int local_rc);
/* Gather `n` uint64 of every rank into all[rank * n + i]. */
int sb__coll_allgather_u64(sb_store *s, const uint64_t *local, size_t n, uint64_t *all);
int sb__coll_max_u64(sb_store *s, uint64_t *value);
int sb__coll_bcast(sb_store *s, void *buf, size_t len, int root);

/* ---- iolatch.c: write errors inside HDF5, reported by the library ------- */
typedef struct sb_latch sb_latch;
/* Files HDF5 opens on this thread from now on are the library's: their write
 * errors are recorded instead of failing inside HDF5's collectives. */
int sb__latch_arm(bool mpi);
/* Stop; the record of the file the store just opened (NULL if none). */
sb_latch *sb__latch_disarm(void);
/* Failures recorded since the last call (the first one described in `what`). */
unsigned sb__latch_take(sb_latch *l, char *what, size_t len);
/* After H5Fclose and the last take. */
void sb__latch_release(sb_latch *l);

/* ---- store -------------------------------------------------------------- */
struct sb_store {
    hid_t file;
    char *path;
    sb_open_mode mode;
    bool writable;
    bool temporary;
    bool parallel;
    MPI_Comm comm;
    MPI_Info info;
    int rank;
    int nranks;
    sb_store_options opts;
    hid_t dxpl_coll;   /* collective MPI-IO transfer (H5P_DEFAULT when serial) */
    hid_t dxpl_indep;  /* independent transfer */
    bool collective_reads; /* false where the MPI-IO layer reads wrong data collectively */
    bool collective_writes; /* false where it loses write errors in collective writes */
    sb_dataset *open_datasets;
    sb_latch *latch;      /* write errors inside HDF5 (NULL for temporary stores) */
    bool io_fault;        /* a write failed outside HDF5 (fsync), not yet agreed on */
    /* Set on every rank once a write failure is agreed on: HDF5's view of the
     * file may then differ from the disk, so nothing more is written. */
    bool write_failed;
    char *write_failure;  /* its message, repeated to later writes */
};

int sb__store_check(const sb_store *s, const char *what);
int sb__store_check_writable(const sb_store *s, const char *what);
int sb__store_flush_file(sb_store *s);
/* fsync the file on every rank (the fsync option). */
int sb__store_fsync(sb_store *s);
/* With the fsync option, rows reach the disk before any size that covers
 * them (a power cut may reorder what was not synced). Collective. */
int sb__store_sync_rows(sb_store *s);
void sb__store_link(sb_store *s, sb_dataset *ds);
void sb__store_unlink(sb_store *s, sb_dataset *ds);
/* Whether a link path exists (every component), without HDF5 errors. */
bool sb__path_exists(hid_t loc, const char *path);
/* Open the object at `path`, finding each component by name or, where that
 * fails, by walking its group (damaged names, see store.c); *walked (may be
 * NULL) is set when a walk was needed. H5I_INVALID_HID when not found. */
hid_t sb__open_path(hid_t loc, const char *path, bool *walked);
/* Open the link `name`, at `index` in its group's name order, that an
 * H5Literate over the group is visiting: by name, or by index when the name
 * lookup fails (damaged names; *walked, may be NULL, is then set). */
hid_t sb__open_visited(hid_t group, const char *name, hsize_t index, bool *walked);
/* Create the groups on the way to `path` (not `path` itself). */
int sb__create_parents(hid_t loc, const char *path);

/* ---- fields.c ----------------------------------------------------------- */
typedef struct sb_field {
    char *name;
    hid_t dset;          /* open HDF5 dataset, H5I_INVALID_HID until defined */
    hid_t type;          /* file == memory type */
    bool defined;
    sb_dtype dtype;
    int row_ndim;
    uint64_t row_shape[SB_MAX_DIMS - 1];
    uint64_t row_bytes;
} sb_field;

/* Layout of one row, as the first row gives it. */
typedef struct sb_row_layout {
    sb_dtype dtype;
    int row_ndim;
    uint64_t row_shape[SB_MAX_DIMS - 1];
} sb_row_layout;

void sb__field_release(sb_field *f);
int sb__field_open(sb_dataset *ds, sb_field *f, hid_t dset);
/* Create the HDF5 dataset of a field (collective on parallel stores). */
int sb__field_create(sb_dataset *ds, sb_field *f, const sb_row_layout *layout);
bool sb__layout_equal(const sb_row_layout *a, const sb_row_layout *b);
void sb__layout_of_field(const sb_field *f, sb_row_layout *out);
int sb__layout_describe(const sb_row_layout *l, char *buf, size_t len);
/* Write/read rows [offset, offset+nrows) of a field; nrows 0 still takes part
 * in a collective transfer (H5Sselect_none). */
int sb__field_write(sb_dataset *ds, sb_field *f, uint64_t offset, uint64_t nrows,
                    const void *data, bool collective);
int sb__field_read(sb_dataset *ds, sb_field *f, uint64_t offset, uint64_t nrows, void *data,
                   bool collective);

/* ---- dataset ------------------------------------------------------------ */
struct sb_dataset {
    sb_store *store;     /* NULL once the store is closed */
    char *name;
    hid_t group;
    hid_t size_attr;     /* _sb_size, kept open: updated in place on every write */
    uint64_t size;
    uint64_t capacity;
    bool incomplete;     /* _sb_incomplete: an export copy not finished */
    bool found_by_walk;  /* its name lookup fails: the group's names are damaged */
    size_t nfields;
    sb_field *fields;
    /* write-behind buffer of appended rows */
    uint64_t wb_capacity;   /* rows per rank, 0 = write-through */
    uint64_t wb_calls;      /* append calls since the last flush (equal on all ranks) */
    uint64_t wb_rows;       /* rows held on this rank */
    unsigned char **wb_data;  /* per field: wb_capacity rows */
    sb_row_layout *wb_layouts; /* per field: layout of the buffered rows */
    sb_write_report last_write;
    sb_dataset *next;
    sb_dataset *prev;
};

int sb__dataset_check(const sb_dataset *ds, const char *what);
/* sb_store_create_dataset, also for the copy of a dataset Python left without
 * any field (created, never written): export must carry it over. `incomplete`
 * writes _sb_incomplete in the same commit as the group (export's copy). */
int sb__create_dataset(sb_store *s, const char *name, uint64_t capacity, size_t nfields,
                       const char *const *fields, bool allow_no_field, bool incomplete,
                       sb_dataset **out);
int sb__dataset_write_size(sb_dataset *ds, uint64_t size);
int sb__dataset_alloc(sb_store *s, const char *name, hid_t group, uint64_t capacity,
                      uint64_t size, sb_dataset **out);
void sb__dataset_release_handles(sb_dataset *ds);
/* Remove _sb_incomplete once an export's copy is whole (every rank: the
 * metadata change must be the same everywhere). Not collective by itself. */
int sb__dataset_clear_incomplete(sb_dataset *ds);
/* Drop a dataset group (used to roll back a failed export). */
int sb__dataset_unlink(sb_store *s, const char *name);
bool sb__is_asset(hid_t obj);

/* ---- assets.c ----------------------------------------------------------- */
/* Copy one asset as it is (type, shape, bytes) into another dataset. */
int sb__asset_copy(sb_dataset *src, sb_dataset *dst, const char *name);

/* ---- format.c ----------------------------------------------------------- */
hid_t sb__bool_type(void);
int sb__attr_write_i64(hid_t obj, const char *attr, int64_t value);
int sb__attr_write_bool(hid_t obj, const char *attr, bool value);
/* Read an integer scalar attribute of any width; SB_ERR_NOT_FOUND if absent,
 * SB_ERR_FORMAT (naming `where` and the attribute) if not an integer scalar. */
int sb__attr_read_int(hid_t obj, const char *attr, const char *where, int64_t *value);
/* Read a bool attribute (h5py's enum or any integer); *value false if absent. */
int sb__attr_read_bool(hid_t obj, const char *attr, const char *where, bool *present,
                       bool *value);
int sb__attr_write_strings(hid_t obj, const char *attr, size_t n, const char *const *strings);
int sb__attr_read_strings(hid_t obj, const char *attr, const char *where, char ***strings,
                          size_t *n);
/* Property lists for datasets: contiguous, allocated early, never filled. */
hid_t sb__dcpl_contiguous(void);

#endif
