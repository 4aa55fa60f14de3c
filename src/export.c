/* Chunked export: rows [0, size) cut into chunk_size chunks dealt to the ranks
 * in turn; each rank reads its chunk and writes it into the copy, one field
 * at a time, so it never holds more than one chunk of one field. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "catalog.h"
#include "commit.h"
#include "dtype.h"
#include "h5path.h"
#include "options.h"
#include "rows.h"

static const size_t export_options_size[] = {[1] = sizeof(sb_export_options)};
#define EXPORT_OPTIONS_VERSIONS (sizeof export_options_size / sizeof export_options_size[0])

static void export_defaults(sb_export_options *o)
{
    memset(o, 0, sizeof *o);
    o->version = SB_EXPORT_OPTIONS_VERSION;
    o->shrink = true;
    o->chunk_size = SB_EXPORT_DEFAULT_CHUNK;
}

int sb_export_options_init(sb_export_options *opts, unsigned version)
{
    sb_export_options full;
    export_defaults(&full);
    full.version = version;
    return sb__options_init("sb_export_options_init", opts, &full, version, export_options_size,
                            (unsigned)EXPORT_OPTIONS_VERSIONS);
}

static int import_options(sb_export_options *o, const sb_export_options *given)
{
    export_defaults(o);
    if (!given)
        return 0;
    if (given->version == 0 || given->version >= EXPORT_OPTIONS_VERSIONS)
        return sb__error(SB_ERR_INVALID,
                         "sb_store_export_dataset: options not initialized (call "
                         "sb_export_options_init(&opts, SB_EXPORT_OPTIONS_VERSION)); version %u "
                         "is unknown",
                         given->version);
    memcpy(o, given, export_options_size[given->version]);
    if (o->chunk_size == 0)
        return sb__error(SB_ERR_INVALID, "sb_store_export_dataset: chunk_size must be at least 1");
    return 0;
}

static int check_stores(sb_store *src, sb_store *dst)
{
    int rc = sb__store_writable(dst, "sb_store_export_dataset (destination)");
    if (rc < 0)
        return rc;
    if (src->coll.parallel != dst->coll.parallel)
        return sb__error(SB_ERR_INVALID,
                         "export from '%s' to '%s': both stores must be serial or both parallel",
                         src->path, dst->path);
    if (src->coll.parallel) {
        int same = MPI_UNEQUAL;
        MPI_Comm_compare(src->coll.comm, dst->coll.comm, &same);
        if (same != MPI_IDENT && same != MPI_CONGRUENT)
            return sb__error(SB_ERR_INVALID,
                             "export from '%s' to '%s': the stores are opened by different ranks",
                             src->path, dst->path);
    }
    return 0;
}

static int copy_assets(sb_dataset *from, sb_dataset *to)
{
    char **names = NULL;
    size_t n = 0;
    sb_coll *c = &to->store->coll;
    int rc = sb__coll_agree(c, sb__asset_list(from, &names, &n));
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = sb__coll_agree(c, sb__asset_copy(from, to, names[i]));
    free(names);
    return rc;
}

static int copy_rows(sb_dataset *from, sb_dataset *to, const sb_export_options *o)
{
    sb_store *s = to->store;
    uint64_t rows = from->size, chunk = o->chunk_size < rows ? o->chunk_size : rows;
    uint64_t nchunks = rows ? rows / chunk + (rows % chunk != 0) : 0;
    uint64_t per_round = (uint64_t)s->coll.nranks;
    uint64_t max_row = 0;
    for (size_t i = 0; i < to->nfields; i++)
        if (to->fields[i].row_bytes > max_row)
            max_row = to->fields[i].row_bytes;
    if (rows == 0 || max_row == 0)
        return 0;
    /* The buffer holds min(chunk_size, rows) rows of the widest field. */
    uint64_t bytes = 0;
    unsigned char *buf = NULL;
    int local = 0;
    if (sb__mul_overflows(chunk, max_row, &bytes) || bytes >= SIZE_MAX)
        local = sb__error(SB_ERR_NOMEM, "export of '%s': a chunk of %" PRIu64 " rows of %" PRIu64
                          " bytes does not fit in memory; use a smaller chunk_size",
                          from->name, chunk, max_row);
    else if (!(buf = malloc((size_t)bytes)))
        local = sb__error(SB_ERR_NOMEM, "export of '%s': out of memory for a chunk of %" PRIu64
                          " rows (%" PRIu64 " bytes); use a smaller chunk_size",
                          from->name, chunk, bytes);
    int rc = sb__coll_agree(&s->coll, local);
    for (uint64_t round = 0; rc == 0 && round * per_round < nchunks; round++) {
        uint64_t c = round * per_round + (uint64_t)s->coll.rank;
        uint64_t start = c < nchunks ? c * chunk : 0;
        uint64_t count = c < nchunks ? (rows - start < chunk ? rows - start : chunk) : 0;
        for (size_t i = 0; rc == 0 && i < to->nfields; i++) {
            sb_field *tf = &to->fields[i], *ff = sb__dataset_find_field(from, tf->name);
            if (!tf->defined)
                continue; /* never written: nothing to copy, on every rank */
            uint64_t rounds = sb__xfer_pieces(chunk, tf->row_bytes);
            /* A rank whose read failed still takes part in the write (with
             * nothing), so one agreement covers both. */
            local = sb__field_read(from->store, from->name, ff, start, count, buf, true, rounds);
            int w = sb__field_write(s, to->name, tf, start, local == 0 ? count : 0, buf, true,
                                    rounds, &to->last_write);
            rc = sb__coll_agree(&s->coll, local < 0 ? local : w);
        }
        if (rc == 0 && o->progress && s->coll.rank == 0) {
            uint64_t done = (round + 1) * per_round * chunk;
            o->progress(done < rows ? done : rows, rows, o->progress_payload);
        }
    }
    free(buf);
    if (rc == 0)
        to->size = rows;
    return rc;
}

/* The copy's fields: the source's, less those of a type the library cannot
 * read (Python's own export copies every field; ours leaves those out). */
static int make_copy(sb_dataset **out, sb_dataset *from, sb_store *dst, const char *new_name,
                     const sb_export_options *o)
{
    const char **fields = malloc((from->nfields ? from->nfields : 1) * sizeof *fields);
    int rc = sb__coll_agree(&dst->coll, fields ? 0 : sb__error(SB_ERR_NOMEM, "out of memory"));
    if (rc < 0) {
        free(fields); /* made on this rank, failed on another */
        return rc;
    }
    size_t n = 0;
    for (size_t i = 0; i < from->nfields; i++)
        if (from->fields[i].supported)
            fields[n++] = from->fields[i].name;
    uint64_t capacity = o->shrink ? from->size : from->capacity;
    /* _sb_incomplete goes out with the create's commit, before any row: a
     * job killed from here on leaves a copy that says it is unfinished. */
    rc = sb__catalog_create(out, dst, new_name, capacity, n, fields, true);
    free(fields);
    for (size_t i = 0; rc == 0 && i < (*out)->nfields; i++) {
        sb_field *tf = &(*out)->fields[i];
        const sb_field *ff = sb__dataset_find_field(from, tf->name);
        if (ff->defined)
            rc = sb__rows_define(*out, tf, &ff->layout);
    }
    return rc;
}

static void drop_handle(sb_dataset *ds)
{
    if (!ds)
        return;
    sb__dataset_unlink(ds);
    sb__dataset_free(ds);
}

static int export_dataset(sb_store *src, const char *name, sb_store *dst, const char *new_name,
                          const sb_export_options *o)
{
    /* Undoing the copy's parent groups (sb__remove_created) is a change of
     * metadata every rank must make: its memory is agreed on before any. */
    char *scratch = malloc(strlen(new_name) + 1);
    int rc = scratch ? 0 : sb__error(SB_ERR_NOMEM, "export of '%s': out of memory", name);
    rc = sb__coll_agree(&dst->coll, rc);
    /* Rows this process appended to the source are part of it. */
    if (rc == 0)
        rc = sb__commit(src, NULL);
    if (rc == 0 && src == dst && strcmp(name, new_name) == 0)
        rc = sb__error(SB_ERR_EXISTS, "export of '%s': the copy would replace the source", name);
    sb_dataset *from = NULL, *to = NULL;
    if (rc == 0)
        rc = sb__catalog_load(&from, src, name);
    if (rc == 0)
        rc = make_copy(&to, from, dst, new_name, o);
    bool created = to != NULL;
    if (rc == 0)
        rc = copy_rows(from, to, o);
    if (rc == 0)
        rc = copy_assets(from, to);
    /* Rows, size and assets are in: only now may the mark go (kept when the
     * source itself is unfinished). */
    if (rc == 0)
        rc = sb__commit(dst, to);
    if (rc == 0 && !from->incomplete)
        rc = sb__coll_agree(&dst->coll, sb__dataset_mark_incomplete(to, false));
    if (rc == 0)
        rc = sb__commit(dst, to);
    size_t parents = to ? to->created_parents : 0;
    drop_handle(from);
    drop_handle(to);
    /* A store that saw a write fail takes no more writes (not even the
     * removal): the copy stays, and its _sb_incomplete says what it is.
     * Otherwise the copy goes, with the groups made on the way to it. */
    if (rc < 0 && created && !dst->coll.write_failed) {
        sb_saved_error e;
        sb__error_save(&e);
        if (sb__catalog_remove(dst, new_name) == 0 && parents > 0) {
            sb__remove_created(dst->file, new_name, parents, scratch);
            sb__coll_agree(&dst->coll, sb__store_flush_file(dst));
        }
        sb__error_restore(&e);
    }
    free(scratch);
    return rc;
}

int sb_store_export_dataset(sb_store *src, const char *name, sb_store *dst,
                            const sb_export_options *opts)
{
    sb_call c;
    sb__call_store(&c, "sb_store_export_dataset", src);
    sb_export_options o;
    const char *new_name = NULL;
    if (c.rc == 0)
        sb__call_check(&c, import_options(&o, opts));
    if (c.rc == 0)
        sb__call_check(&c, sb__store_usable(dst, "sb_store_export_dataset (destination)"));
    if (c.rc == 0)
        sb__call_check(&c, check_stores(src, dst));
    if (c.rc == 0)
        sb__call_check(&c, sb__dataset_name("dataset", name, &name));
    if (c.rc == 0)
        sb__call_check(&c, sb__dataset_name("new dataset", o.new_name ? o.new_name : name,
                                            &new_name));
    if (c.rc == 0) {
        sb__call_str(&c, name);
        sb__call_str(&c, new_name);
        sb__call_u64(&c, o.shrink);
        sb__call_u64(&c, o.chunk_size);
        sb__call_str(&c, dst->path);
    }
    int rc = sb__call_enter(&c);
    if (rc == 0)
        rc = export_dataset(src, name, dst, new_name, &o);
    return sb__call_end(&c, rc);
}
