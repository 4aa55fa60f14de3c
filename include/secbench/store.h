/* Store: one HDF5 file holding secbench datasets, opened serially or by every
 * rank of an MPI communicator (parallel HDF5, MPI-IO driver). */
#ifndef SECBENCH_STORE_H
#define SECBENCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "secbench/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sb_store sb_store;
typedef struct sb_dataset sb_dataset;

/* Python's OpenMode, with its strings. */
typedef enum sb_open_mode {
    SB_READ,              /* "r"  read only, file must exist (default) */
    SB_READ_WRITE,        /* "r+" read/write, file must exist */
    SB_CREATE_TRUNCATE,   /* "w"  create, truncate if it exists */
    SB_CREATE,            /* "w-" create, fail if it exists */
    SB_READ_WRITE_CREATE  /* "a"  read/write if it exists, create otherwise */
} sb_open_mode;

/* "r", "r+", "w", "w-" (also "x"), "a" -> mode. SB_ERR_INVALID on other text. */
int sb_open_mode_parse(const char *text, sb_open_mode *mode);
/* mode -> "r", "r+", "w", "w-", "a" (NULL if unknown). */
const char *sb_open_mode_string(sb_open_mode mode);

#define SB_STORE_OPTIONS_VERSION 1

typedef struct sb_store_options {
    unsigned version;          /* SB_STORE_OPTIONS_VERSION, set by sb_store_options_init */
    /* MPI_COMM_NULL (the default) opens a serial store that makes no MPI call
     * and needs no MPI_Init. Any other communicator: every rank of it opens the
     * store and takes part in every collective call (see dataset.h). The
     * library duplicates it. */
    MPI_Comm comm;
    /* MPI-IO hints passed to MPI_File_open (striping_factor, striping_unit,
     * cb_nodes, romio_cb_write...). MPI_INFO_NULL for none. The library
     * duplicates it. */
    MPI_Info info;
    /* In memory only (HDF5 core driver, no backing file); serial only. */
    bool temporary;
    /* Align every file object of at least `alignment_threshold` bytes to a
     * multiple of `alignment` (set it to the file system stripe size on
     * Lustre/GPFS). 0 = no alignment. */
    uint64_t alignment;
    uint64_t alignment_threshold;
    /* Parallel stores: collective metadata reads (default true). Leave it on
     * at scale: without it every rank reads metadata on its own. */
    bool collective_metadata;
    /* Flush (and close) also fsync the file: rows committed survive a power
     * loss, not only a killed process. Costs a sync per commit. */
    bool fsync;
    /* Rows buffered per rank by sb_dataset_append before a collective write,
     * for datasets opened from this store (0 = write-through, the default). */
    uint64_t write_buffer_rows;
    /* HDF5 file locking: -1 = HDF5's default (the HDF5_USE_FILE_LOCKING
     * environment variable still wins), 0 = off (file systems mounted
     * without flock, e.g. some Lustre), 1 = on. */
    int file_locking;
    /* Parallel stores: collective reads (sb_dataset_read_all, export).
     * -1 = auto: collective, except on Open MPI 4.1.0-4.1.4 with its OMPIO
     * I/O layer, whose read data sieving returns wrong data in some collective
     * reads (open-mpi/ompi#10546; Debian 12 ships 4.1.4): there the reads are
     * done independently unless OMPI_MCA_io selects ROMIO or
     * OMPI_MCA_fbtl_posix_read_datasieving=0. 0 = always independent,
     * 1 = always collective. */
    int collective_reads;
    /* Parallel stores: collective writes of rows (extend, append, export).
     * -1 (the default) and 0 = independent: each rank writes its own
     * contiguous rows of each field, with no MPI collective inside the write.
     * 1 = collective (MPI-IO collective buffering; may help many small
     * appends on a parallel file system). Collective writes survive a failed
     * write with MPICH's ROMIO (tested), not with Open MPI 4.1's OMPIO (fcoll
     * vulcan), which reports success when an aggregator's write failed and
     * then breaks the next MPI_File_sync: there a write error may hang the
     * job or go unnoticed (docs/reliability.md). */
    int collective_writes;
    /* Parallel stores: write metadata with one collective MPI-IO write
     * (H5Pset_coll_metadata_write; default true) instead of HDF5's
     * distributed strategy, where each rank writes a share of the dirty
     * entries on its own. With false, an I/O error in the middle of a
     * metadata flush (a dataset being created) can leave some entries
     * written and others not, and that was seen to damage a group's names
     * so that HDF5 no longer finds an intact dataset (docs/reliability.md,
     * finding 10; the library then finds it by walking the group, see
     * sb_dataset_found_by_walk); with true, the flush is one write per
     * aggregator. */
    bool collective_metadata_writes;
    /* HDF5 metadata block aggregation size, 0 = HDF5 default. */
    uint64_t meta_block_size;
    /* HDF5's raw-data sieve buffer of serial stores, 0 = off (the default).
     * Off, every write of rows reaches the OS before the size that covers
     * it; on, small appends are cheaper but a failing disk can leave a size
     * that covers rows that were never written. */
    uint64_t sieve_buffer_size;
} sb_store_options;

/* Serial store, no hints, no alignment, collective metadata on. */
void sb_store_options_init(sb_store_options *opts);

/* Open or create the store at `path`. opts may be NULL (serial defaults).
 * Collective on opts->comm. Errors: SB_ERR_NOT_FOUND ("r"/"r+" on a missing
 * file), SB_ERR_EXISTS ("w-" on an existing file), SB_ERR_FORMAT (not HDF5),
 * SB_ERR_IO, SB_ERR_INVALID, SB_ERR_COLLECTIVE (ranks passed other paths). */
int sb_store_open(sb_store **store, const char *path, sb_open_mode mode,
                  const sb_store_options *opts);
/* A serial store living in memory, labelled `name`; it never touches the disk. */
int sb_store_temporary(sb_store **store, const char *name);
/* Flush buffered rows and HDF5 caches to the file (fsync if asked). Collective. */
int sb_store_flush(sb_store *store);
/* Flush, close every dataset handle still open (they become closed handles that
 * must still be released with sb_dataset_close), close the file and free the
 * store. Collective. The store is freed even when an error is returned. */
int sb_store_close(sb_store *store);

const char *sb_store_path(const sb_store *store);
sb_open_mode sb_store_mode(const sb_store *store);
bool sb_store_is_parallel(const sb_store *store);
bool sb_store_is_temporary(const sb_store *store);
/* Rank in the store's communicator and its size (0 and 1 for a serial store). */
int sb_store_rank(const sb_store *store);
int sb_store_nranks(const sb_store *store);

/* Create an empty dataset `name` (nested names such as "aes/traces" allowed)
 * with a fixed capacity and its field names. Collective. Errors:
 * SB_ERR_EXISTS, SB_ERR_INVALID (no field, duplicate or bad name),
 * SB_ERR_READ_ONLY. */
int sb_store_create_dataset(sb_store *store, const char *name, uint64_t capacity,
                            size_t nfields, const char *const *fields,
                            sb_dataset **out);
/* Load an existing dataset. Collective. SB_ERR_NOT_FOUND if `name` is not a
 * dataset; SB_ERR_FORMAT naming the attribute or field that is wrong. */
int sb_store_load_dataset(sb_store *store, const char *name, sb_dataset **out);
/* *exists = whether `name` is a secbench dataset in the store. Collective. */
int sb_store_has_dataset(sb_store *store, const char *name, bool *exists);

/* Names of every dataset, sorted. Free with sb_strings_free. Collective. */
int sb_store_dataset_names(sb_store *store, char ***names, size_t *count);

/* What an iteration shows of a dataset without loading it. */
typedef struct sb_dataset_info {
    const char *name;
    uint64_t capacity;
    uint64_t size;
    /* An export copy that was never finished (_sb_incomplete, see
     * sb_dataset_is_incomplete): a filter can leave such copies out. */
    bool incomplete;
} sb_dataset_info;

/* Python's Store.datasets(callback): keep the datasets the filter returns
 * true for (NULL keeps all); names sorted. Free with sb_strings_free. */
typedef bool (*sb_dataset_filter)(const sb_dataset_info *info, void *payload);
int sb_store_datasets(sb_store *store, sb_dataset_filter filter, void *payload,
                      char ***names, size_t *count);
/* Call `fn` on every dataset in name order; a non-zero return stops the walk
 * and is returned. Collective (fn runs on every rank). */
typedef int (*sb_dataset_visitor)(const sb_dataset_info *info, void *payload);
int sb_store_foreach_dataset(sb_store *store, sb_dataset_visitor fn, void *payload);

#define SB_EXPORT_OPTIONS_VERSION 1
#define SB_EXPORT_DEFAULT_CHUNK 100000

typedef struct sb_export_options {
    unsigned version;      /* SB_EXPORT_OPTIONS_VERSION */
    const char *new_name;  /* NULL: keep the source name */
    bool shrink;           /* capacity of the copy = size (default true) */
    uint64_t chunk_size;   /* rows per chunk (default 100000) */
    /* Called on rank 0 after each round of chunks (rows done, rows in all). */
    void (*progress)(uint64_t rows_done, uint64_t rows_total, void *payload);
    void *progress_payload;
} sb_export_options;

void sb_export_options_init(sb_export_options *opts);

/* Copy dataset `name` of `src` into `dst` (fields, rows [0, size), assets).
 * On parallel stores the rows are cut into chunk_size chunks dealt to the
 * ranks in turn, so each rank holds at most one chunk in memory. Collective on
 * both stores (which must share the same ranks). SB_ERR_EXISTS if the
 * destination name is taken; on failure the partial copy is removed. Until
 * the copy is finished it carries `_sb_incomplete` (sb_dataset_is_incomplete):
 * that is what a killed job leaves, and what stays when a write to `dst`
 * failed (that store takes no more writes, not even the removal). */
int sb_store_export_dataset(sb_store *src, const char *name, sb_store *dst,
                            const char *new_name, bool shrink, uint64_t chunk_size);
int sb_store_export_dataset_ext(sb_store *src, const char *name, sb_store *dst,
                                const sb_export_options *opts);

#ifdef __cplusplus
}
#endif
#endif
