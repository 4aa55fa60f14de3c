/* Store: one HDF5 file holding secbench datasets, opened serially or by every
 * rank of an MPI communicator (parallel HDF5, MPI-IO driver).
 *
 * Conventions of the whole API: a function returns 0 or a negative SB_ERR_*
 * code (errors.h); what it hands back goes through output parameters, which
 * always come first (`sb_store_open(&store, ...)`,
 * `sb_store_dataset_names(&names, &count, store)`); on failure they are
 * cleared (NULL, 0). On a parallel store every call marked "collective" is
 * made by every rank with the same arguments: the ranks agree on them and on
 * the outcome, so a call that fails fails on every rank with the same code
 * (the message of the lowest failing rank, prefixed "rank N:" elsewhere) and
 * leaves the store usable. A NULL or closed handle cannot take part: it
 * fails on its own rank only. */
#ifndef SECBENCH_STORE_H
#define SECBENCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MPI's C API only, also in C++ programs: the C++ bindings (removed in
 * MPI 3.0) would need a library of their own at link time. */
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include "secbench/common.h"
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
SB_API int sb_open_mode_parse(sb_open_mode *mode, const char *text);
/* mode -> "r", "r+", "w", "w-", "a" (NULL if unknown). */
SB_API const char *sb_open_mode_string(sb_open_mode mode);

#define SB_STORE_OPTIONS_VERSION 1

typedef struct sb_store_options {
    unsigned version;          /* set by sb_store_options_init */
    /* MPI_COMM_NULL (the default) opens a serial store that makes no MPI call
     * and needs no MPI_Init. Any other communicator: every rank of it opens the
     * store and takes part in every collective call. The library duplicates it. */
    MPI_Comm comm;
    /* MPI-IO hints passed to MPI_File_open (striping_factor, striping_unit,
     * cb_nodes, romio_cb_write...). MPI_INFO_NULL for none. Duplicated. */
    MPI_Info info;
    /* Align every file object of at least `alignment_threshold` bytes to a
     * multiple of `alignment` (set it to the file system stripe size on
     * Lustre/GPFS). 0 = no alignment. */
    uint64_t alignment;
    uint64_t alignment_threshold;
    /* Parallel stores: collective metadata reads (default true). Leave it on
     * at scale: without it every rank reads metadata on its own. */
    bool collective_metadata;
    /* Parallel stores: write metadata with one collective MPI-IO write
     * instead of HDF5's distributed strategy, where each rank writes a share
     * of the dirty entries with independent writes. SB_AUTO: collective on
     * ROMIO; independent on Open MPI's OMPIO, whose collective write reports
     * success when an aggregator's write failed (a commit would then be lost
     * silently, docs/reliability.md). An I/O error in the middle of an
     * independent metadata flush was seen to damage a group's names
     * (finding 10: the library then finds the datasets by walking the group,
     * see sb_dataset_found_by_walk). */
    sb_choice collective_metadata_writes;
    /* Commits (sb_dataset_flush, sb_store_flush, close) also fsync: the rows
     * of a commit reach the disk before the size that covers them, and the
     * size before the commit returns, so committed rows survive a power
     * loss, not only a killed process. Costs two syncs per commit, none
     * between commits. */
    bool fsync;
    /* Who may write the store at once. SB_AUTO (default): one writer. A store
     * opened for writing takes a lock file beside it ("PATH.lock", holding
     * the host, pid and Slurm job of the writer) with flock(); a second
     * writer, from any job, gets SB_ERR_LOCKED naming the holder, while
     * readers (this library, h5py, Python secbench) still open the store. A
     * lock left by a killed job is taken over. Where the file system has no
     * flock (some NFS or Lustre mounts), the lock file alone decides: a
     * holder on this host that is gone is detected, a holder on another host
     * must be removed by hand (the message says how); SB_LOCK_FLOCK=0 in
     * the environment forces that mode where flock seems to work but only
     * within a node. SB_YES: as SB_AUTO but fail (SB_ERR_LOCKED) where
     * flock does not work. SB_NO: no lock file, and no check of the lock a
     * writer using HDF5's locking (h5py) holds on the store. HDF5's own file
     * locking is never used by the library, whatever `locking` says (it would
     * keep readers out). Read-only and temporary stores take no lock. */
    sb_choice locking;
    /* Parallel stores: collective reads (sb_dataset_read_all, export).
     * SB_AUTO: collective, except on Open MPI 4.1.0-4.1.4 with its OMPIO
     * layer, whose read data sieving returns wrong data in some collective
     * reads (open-mpi/ompi#10546; Debian 12 ships 4.1.4), unless
     * OMPI_MCA_io selects ROMIO or OMPI_MCA_fbtl_posix_read_datasieving=0. */
    sb_choice collective_reads;
    /* Parallel stores: collective writes of rows (extend, append, export).
     * SB_AUTO: collective on ROMIO (MPICH, or Open MPI with OMPI_MCA_io=romio),
     * where a failed write still reaches every rank; independent on Open
     * MPI's OMPIO, whose collective write (fcoll vulcan, 4.1) reports success
     * when an aggregator's write failed (docs/reliability.md). Fields that
     * HDF5 can only write collectively (compressed, chunked by h5py) are
     * always written collectively. Assets (written by rank 0) follow it. */
    sb_choice collective_writes;
    /* HDF5 metadata block aggregation size, 0 = HDF5 default. */
    uint64_t meta_block_size;
    /* HDF5's raw-data sieve buffer of serial stores, 0 = off (the default).
     * Off, every write of rows reaches the OS before the size that covers
     * it; on, a failing disk can leave a size that covers rows never written. */
    uint64_t sieve_buffer_size;
} sb_store_options;

/* Defaults for the caller's version of the struct (pass
 * SB_STORE_OPTIONS_VERSION): serial, no hints, collective metadata, one
 * writer. A library newer than the caller's header fills only the fields the
 * caller knows. SB_ERR_INVALID for an unknown version. */
SB_API int sb_store_options_init(sb_store_options *opts, unsigned version);

/* Open or create the store at `path`. opts may be NULL (serial defaults).
 * Collective on opts->comm. Errors: SB_ERR_NOT_FOUND ("r"/"r+" on a missing
 * file), SB_ERR_EXISTS ("w-" on an existing file), SB_ERR_FORMAT (not HDF5,
 * or damaged), SB_ERR_LOCKED (another writer, or HDF5's lock), SB_ERR_IO,
 * SB_ERR_INVALID (a directory, a FIFO or another non-regular file, bad
 * options), SB_ERR_COLLECTIVE (ranks passed other paths or options). Bad
 * options on one rank fail every rank alike, except options never
 * initialized (version 0) and NULL opts: such a rank cannot know the
 * communicator, so it returns (or opens a serial store) by itself, and the
 * other ranks wait for it in the open. */
SB_API int sb_store_open(sb_store **out, const char *path, sb_open_mode mode,
                         const sb_store_options *opts);
/* Python's Store.temporary(name): a serial store living in memory, labelled
 * `name`; it never touches the disk. */
SB_API int sb_store_temporary(sb_store **out, const char *name);
/* Commit every open dataset (buffered rows, sizes), then HDF5's metadata;
 * fsync if asked. Collective. */
SB_API int sb_store_flush(sb_store *store);
/* Commit, close every dataset handle still open (they become closed handles
 * that must still be released with sb_dataset_close), close the file, drop
 * the writer lock and free the store. Collective. The store is freed even
 * when an error is returned. */
SB_API int sb_store_close(sb_store *store);

SB_API const char *sb_store_path(const sb_store *store);
SB_API sb_open_mode sb_store_mode(const sb_store *store);
SB_API bool sb_store_is_parallel(const sb_store *store);
SB_API bool sb_store_is_temporary(const sb_store *store);
/* Rank in the store's communicator and its size (0 and 1 for a serial store). */
SB_API int sb_store_rank(const sb_store *store);
SB_API int sb_store_nranks(const sb_store *store);

/* Create an empty dataset `name` (nested names such as "aes/traces" allowed;
 * a leading '/' is dropped, as Python does) with a fixed capacity (at least
 * 1) and its field names. Collective. Errors: SB_ERR_EXISTS, SB_ERR_INVALID
 * (capacity 0, no field, duplicate or bad name), SB_ERR_READ_ONLY. */
SB_API int sb_store_create_dataset(sb_dataset **out, sb_store *store, const char *name,
                                   uint64_t capacity, size_t nfields,
                                   const char *const *fields);
/* Load an existing dataset. Collective. SB_ERR_NOT_FOUND if `name` is not a
 * dataset; SB_ERR_FORMAT naming the attribute or field that is wrong. */
SB_API int sb_store_load_dataset(sb_dataset **out, sb_store *store, const char *name);
/* *exists = whether `name` is a secbench dataset in the store. Collective. */
SB_API int sb_store_has_dataset(bool *exists, sb_store *store, const char *name);
/* Remove a dataset (its group, fields and assets) from the store. Python has
 * no such call; the space is not returned to the file system (h5repack
 * does). Refused while a handle of this store has it open. Collective. */
SB_API int sb_store_remove_dataset(sb_store *store, const char *name);

/* Names of every dataset, sorted: what Python's dataset_names() lists
 * (datasets inside other datasets' groups, and behind soft and external
 * links, included; each dataset once). One block: sb_free(*names). Collective. */
SB_API int sb_store_dataset_names(char ***names, size_t *count, sb_store *store);

/* What an iteration shows of a dataset without loading it. */
typedef struct sb_dataset_info {
    const char *name;
    uint64_t capacity;
    uint64_t size;
    /* An export copy that was never finished (_sb_incomplete, see
     * sb_dataset_is_incomplete). */
    bool incomplete;
    /* Its attributes do not load (check reports why): a size or capacity
     * that is missing or not an integer. */
    bool damaged;
} sb_dataset_info;

/* Python's Store.datasets(): call `fn` on every dataset in name order. A
 * non-zero return stops the walk; on a parallel store the walk stops on
 * every rank at the same dataset and every rank returns the value of the
 * lowest rank that stopped it. Collective (fn runs on every rank and may
 * make collective calls). */
typedef int (*sb_dataset_visitor)(const sb_dataset_info *info, void *payload);
SB_API int sb_store_foreach_dataset(sb_store *store, sb_dataset_visitor fn, void *payload);

#ifdef __cplusplus
}
#endif
#endif
