/* Chunked export: rows [0, size) cut into chunk_size chunks dealt to the ranks
 * in turn; each rank reads its chunk and writes it into the copy, one field
 * at a time, so it never holds more than one chunk of one field. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void sb_export_options_init(sb_export_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->version = SB_EXPORT_OPTIONS_VERSION;
    opts->shrink = true;
    opts->chunk_size = SB_EXPORT_DEFAULT_CHUNK;
}

static int check_stores(sb_store *src, sb_store *dst)
{
    int rc = sb__store_check(src, "sb_store_export_dataset (source)");
    if (rc == 0)
        rc = sb__store_check_writable(dst, "sb_store_export_dataset (destination)");
    if (rc < 0)
        return rc;
    if (src->parallel != dst->parallel)
        return sb__error(SB_ERR_INVALID,
                         "export from '%s' to '%s': both stores must be serial or both parallel",
                         src->path, dst->path);
    if (src->parallel) {
        int same = MPI_UNEQUAL;
        MPI_Comm_compare(src->comm, dst->comm, &same);
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
    int rc = sb_dataset_asset_names(from, &names, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = sb__coll_agree(to->store, sb__asset_copy(from, to, names[i]));
    sb_strings_free(names, n);
    return rc;
}

static int define_like(sb_dataset *from, sb_dataset *to)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < from->nfields; i++) {
        const sb_field *f = &from->fields[i];
        if (f->defined)
            rc = sb_dataset_define_field(to, f->name, f->dtype, f->row_ndim, f->row_shape);
    }
    return rc;
}

static int copy_rows(sb_dataset *from, sb_dataset *to, const sb_export_options *o)
{
    sb_store *s = to->store;
    uint64_t rows = from->size, chunk = o->chunk_size;
    uint64_t nchunks = rows / chunk + (rows % chunk != 0);
    uint64_t per_round = (uint64_t)s->nranks;
    uint64_t max_row = 0;
    for (size_t i = 0; i < from->nfields; i++)
        if (from->fields[i].defined && from->fields[i].row_bytes > max_row)
            max_row = from->fields[i].row_bytes;
    if (rows == 0 || max_row == 0)
        return 0;
    int local = 0;
    unsigned char *buf = NULL;
    if (chunk > SIZE_MAX / max_row)
        local = sb__error(SB_ERR_NOMEM, "export of '%s': a chunk of %" PRIu64 " rows does not fit in memory",
                          from->name, chunk);
    else if (!(buf = malloc((size_t)(chunk * max_row))))
        local = sb__error(SB_ERR_NOMEM, "export of '%s': out of memory for a chunk of %" PRIu64 " rows",
                          from->name, chunk);
    int rc = sb__coll_agree(s, local);
    for (uint64_t round = 0; rc == 0 && round * per_round < nchunks; round++) {
        uint64_t c = round * per_round + (uint64_t)s->rank;
        uint64_t start = c < nchunks ? c * chunk : 0;
        uint64_t count = c < nchunks ? (rows - start < chunk ? rows - start : chunk) : 0;
        for (size_t i = 0; rc == 0 && i < from->nfields; i++) {
            sb_field *ff = &from->fields[i], *tf = &to->fields[i];
            if (!ff->defined)
                continue;
            /* A rank whose read failed still takes part in the write (with
             * nothing), so one agreement covers both. */
            local = sb__field_read(from, ff, start, count, buf, s->parallel);
            int w = sb__field_write(to, tf, start, local == 0 ? count : 0, buf, s->parallel);
            rc = sb__coll_agree(s, local < 0 ? local : w);
        }
        if (rc == 0 && o->progress && s->rank == 0) {
            uint64_t done = (round + 1) * per_round * chunk;
            o->progress(done < rows ? done : rows, rows, o->progress_payload);
        }
    }
    free(buf);
    if (rc == 0)
        rc = sb__store_sync_rows(s);
    if (rc == 0)
        rc = sb__coll_agree(s, sb__dataset_write_size(to, rows));
    return rc;
}

static int export_dataset(sb_store *src, const char *name, sb_store *dst,
                          const sb_export_options *o)
{
    const char *new_name = o->new_name ? o->new_name : name;
    int local = check_stores(src, dst);
    if (local == 0)
        local = sb__check_name("dataset", name);
    if (local == 0)
        local = sb__check_name("new dataset", new_name);
    if (local == 0 && o->chunk_size == 0)
        local = sb__error(SB_ERR_INVALID, "export of '%s': chunk_size must be at least 1", name);
    if (local < 0 && (!src || src->file < 0 || !src->parallel || !dst || !dst->parallel))
        return local;
    sb_hash h;
    sb__hash_init(&h, "export");
    if (local == 0) {
        sb__hash_str(&h, name);
        sb__hash_str(&h, new_name);
        sb__hash_u64(&h, o->shrink);
        sb__hash_u64(&h, o->chunk_size);
        sb__hash_str(&h, dst->path);
    }
    int rc = sb__coll_begin(src, "sb_store_export_dataset", &h, local);
    if (rc < 0)
        return rc;
    if (src == dst && strcmp(name, new_name) == 0)
        return sb__error(SB_ERR_EXISTS, "export of '%s': the copy would replace the source", name);

    sb_dataset *from = NULL, *to = NULL;
    rc = sb_store_load_dataset(src, name, &from);
    if (rc < 0)
        return rc;
    const char **fields = malloc((from->nfields ? from->nfields : 1) * sizeof *fields);
    rc = sb__coll_agree(src, fields ? 0 : sb__error(SB_ERR_NOMEM, "out of memory"));
    if (rc == 0) {
        for (size_t i = 0; i < from->nfields; i++)
            fields[i] = from->fields[i].name;
        uint64_t capacity = o->shrink ? from->size : from->capacity;
        /* _sb_incomplete goes out with the create's flush, before any row:
         * a job killed from here on leaves a copy that says it is unfinished. */
        rc = sb__create_dataset(dst, new_name, capacity, from->nfields, fields, true, true,
                                &to);
    }
    free(fields);
    bool created = rc == 0;
    if (rc == 0)
        rc = define_like(from, to);
    if (rc == 0)
        rc = copy_rows(from, to, o);
    if (rc == 0)
        rc = copy_assets(from, to);
    /* Rows, size and assets are in: only now may the marker go, in the same
     * flush that makes the assets durable. */
    if (rc == 0)
        rc = sb__coll_agree(dst, sb__dataset_clear_incomplete(to));
    if (rc == 0)
        rc = sb_dataset_flush(to);
    sb_dataset_close(from);
    if (to)
        sb_dataset_close(to);
    /* A store that saw a write fail takes no more writes (not even the
     * unlink): the copy stays, and its _sb_incomplete says what it is. */
    if (rc < 0 && created && !dst->write_failed) {
        /* Leave no half copy behind; keep the error that stopped us. */
        int code = sb_last_error_code();
        char msg[SB_ERRMSG_MAX];
        strncpy(msg, sb_last_error_message(), sizeof msg - 1);
        msg[sizeof msg - 1] = '\0';
        sb_h5_quiet q;
        sb__quiet_begin(&q);
        sb__coll_agree(dst, sb__dataset_unlink(dst, new_name));
        sb__store_flush_file(dst);
        sb__quiet_end(&q);
        sb__error_set(code, msg);
    }
    return rc;
}

int sb_store_export_dataset_ext(sb_store *src, const char *name, sb_store *dst,
                                const sb_export_options *opts)
{
    sb_export_options defaults;
    sb_export_options_init(&defaults);
    const sb_export_options *o = opts ? opts : &defaults;
    if (o->version != SB_EXPORT_OPTIONS_VERSION)
        return sb__error(SB_ERR_INVALID,
                         "sb_store_export_dataset_ext: options not initialized (call sb_export_options_init)");
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    int rc = export_dataset(src, name, dst, o);
    sb__quiet_end(&q);
    return rc;
}

int sb_store_export_dataset(sb_store *src, const char *name, sb_store *dst, const char *new_name,
                            bool shrink, uint64_t chunk_size)
{
    sb_export_options o;
    sb_export_options_init(&o);
    o.new_name = new_name;
    o.shrink = shrink;
    o.chunk_size = chunk_size;
    return sb_store_export_dataset_ext(src, name, dst, &o);
}
