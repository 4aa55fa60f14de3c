/* Rows in. Every row takes one path: validated locally, agreed on in the
 * call's frame, placed in rank order after the size (write_rows). Appends
 * go through a buffer first; write_at places rows itself and commit_size
 * checks what it wrote. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "rows.h"

/* What one rank brings to a write: its row count and each field's layout. */
typedef struct batch {
    uint64_t nrows;
    sb_row_layout *layouts; /* nfields */
    const void **data;      /* nfields */
    sb_row_layout small_layouts[8];
    const void *small_data[8];
} batch;

static int batch_init(batch *b, size_t nfields)
{
    b->nrows = 0;
    b->layouts = b->small_layouts;
    b->data = b->small_data;
    if (nfields <= 8)
        return 0;
    b->layouts = calloc(nfields, sizeof *b->layouts);
    b->data = calloc(nfields, sizeof *b->data);
    if (b->layouts && b->data)
        return 0;
    free(b->layouts);
    free(b->data);
    b->layouts = b->small_layouts;
    b->data = b->small_data;
    return sb__error(SB_ERR_NOMEM, "out of memory for a batch of %zu fields", nfields);
}

static void batch_free(batch *b)
{
    if (b->layouts != b->small_layouts)
        free(b->layouts);
    if (b->data != b->small_data)
        free(b->data);
}

static int describe_mismatch(const sb_dataset *ds, size_t i, const sb_row_layout *want,
                             const sb_row_layout *got)
{
    char a[128], b[128];
    sb__layout_describe(want, a, sizeof a);
    sb__layout_describe(got, b, sizeof b);
    return sb__error(SB_ERR_TYPE, "dataset '%s': field '%s' holds rows of %s, got %s", ds->name,
                     ds->fields[i].name, a, b);
}

static int check_count(const sb_dataset *ds, size_t n, const void *arrays, const char *what)
{
    if (!arrays && ds->store->coll.parallel && (n == 0 || n == ds->nfields))
        return 0; /* this rank brings no rows */
    if (!arrays)
        return sb__error(SB_ERR_INVALID, "%s: dataset '%s': arrays are NULL", what, ds->name);
    if (n != ds->nfields)
        return sb__error(SB_ERR_INVALID, "%s: dataset '%s' has %zu fields, %zu arrays given", what,
                         ds->name, ds->nfields, n);
    return 0;
}

/* Validate the arrays of one call. `row` = append (each array is one row),
 * otherwise extend (first dimension = rows). */
static int batch_from_arrays(const sb_dataset *ds, const sb_array *arrays, bool row, batch *b)
{
    b->nrows = 0;
    if (!arrays)
        return 0;
    for (size_t i = 0; i < ds->nfields; i++) {
        const sb_array *a = &arrays[i];
        const sb_field *f = &ds->fields[i];
        if (!sb_dtype_valid(a->dtype))
            return sb__error(SB_ERR_INVALID, "dataset '%s': field '%s': invalid dtype %d", ds->name,
                             f->name, (int)a->dtype);
        int min_ndim = row ? 0 : 1;
        if (a->ndim < min_ndim || a->ndim > SB_MAX_DIMS - (row ? 1 : 0))
            return sb__error(SB_ERR_INVALID, "dataset '%s': field '%s': %s has %d dimensions",
                             ds->name, f->name, row ? "a row" : "a column", a->ndim);
        uint64_t n = row ? 1 : a->shape[0];
        if (i == 0)
            b->nrows = n;
        else if (n != b->nrows)
            return sb__error(SB_ERR_INVALID,
                             "dataset '%s': field '%s' has %" PRIu64 " rows but field '%s' has %" PRIu64,
                             ds->name, f->name, n, ds->fields[0].name, b->nrows);
        sb_row_layout *l = &b->layouts[i];
        memset(l, 0, sizeof *l);
        l->dtype = a->dtype;
        l->row_ndim = row ? a->ndim : a->ndim - 1;
        for (int d = 0; d < l->row_ndim; d++)
            l->row_shape[d] = a->shape[d + (row ? 0 : 1)];
        b->data[i] = a->data;
        uint64_t row_bytes, bytes;
        int rc = sb__layout_row_bytes(l, f->name, &row_bytes);
        if (rc < 0)
            return rc;
        if (sb__mul_overflows(row_bytes, n, &bytes) || bytes > (uint64_t)PTRDIFF_MAX)
            return sb__error(SB_ERR_INVALID,
                             "dataset '%s': field '%s': %" PRIu64 " rows of %" PRIu64
                             " bytes do not fit in memory",
                             ds->name, f->name, n, row_bytes);
    }
    if (b->nrows == 0)
        return 0;
    for (size_t i = 0; i < ds->nfields; i++) {
        const sb_field *f = &ds->fields[i];
        if (!arrays[i].data)
            return sb__error(SB_ERR_INVALID, "dataset '%s': field '%s': data is NULL", ds->name,
                             f->name);
        if (f->defined && !f->supported)
            return sb__error(SB_ERR_TYPE, "dataset '%s': field '%s' holds %s, which "
                             "secbench-storage cannot write", ds->name, f->name, f->type_name);
        if (f->defined && !sb__layout_equal(&f->layout, &b->layouts[i]))
            return describe_mismatch(ds, i, &f->layout, &b->layouts[i]);
    }
    return 0;
}

/* ---- the collective write ----------------------------------------------- */

static uint64_t layouts_hash(const sb_dataset *ds, const batch *b)
{
    sb_hash h;
    sb__hash_init(&h, "layouts");
    for (size_t i = 0; i < ds->nfields; i++)
        sb__hash_u64(&h, sb__layout_hash(&b->layouts[i]));
    return h.h;
}

/* What the ranks bring, without gathering per-rank entries (O(log P) per
 * rank, see docs/scaling.md): the total and this rank's offset as exact
 * sums of 32-bit halves (no overflow below 2^32 ranks), and with one MAX
 * reduction the largest count, the lowest rank bringing rows, and whether
 * those ranks agree on the layouts. */
typedef struct plan {
    uint64_t total;       /* UINT64_MAX if it overflows */
    uint64_t before;      /* rows of the lower ranks */
    uint64_t max_rows;
    int first;            /* lowest rank with rows, -1 if none */
    bool layouts_agree;
} plan;

static int make_plan(sb_coll *c, uint64_t nrows, uint64_t hash, plan *p)
{
    memset(p, 0, sizeof *p);
    if (!c->parallel) {
        p->total = p->max_rows = nrows;
        p->first = nrows ? 0 : -1;
        p->layouts_agree = true;
        return 0;
    }
    uint64_t halves[2] = {nrows >> 32, nrows & 0xffffffffu}, sum[2] = {0, 0}, low[2] = {0, 0};
    int rc = MPI_Allreduce(halves, sum, 2, MPI_UINT64_T, MPI_SUM, c->comm);
    if (rc == MPI_SUCCESS)
        rc = MPI_Exscan(halves, low, 2, MPI_UINT64_T, MPI_SUM, c->comm);
    uint64_t mx[4] = {nrows, nrows ? hash : 0, nrows ? ~hash : 0,
                      nrows ? (uint64_t)(c->nranks - c->rank) : 0};
    uint64_t out[4];
    if (rc == MPI_SUCCESS)
        rc = MPI_Allreduce(mx, out, 4, MPI_UINT64_T, MPI_MAX, c->comm);
    if (rc != MPI_SUCCESS)
        return sb__error(SB_ERR_IO, "MPI reduction of row counts failed");
    if (c->rank == 0)
        low[0] = low[1] = 0; /* MPI_Exscan leaves rank 0's result undefined */
    uint64_t hi;
    if (sb__mul_overflows(sum[0], 1ULL << 32, &hi) || sb__add_overflows(hi, sum[1], &p->total))
        p->total = UINT64_MAX;
    p->before = (low[0] << 32) + low[1]; /* <= total */
    p->max_rows = out[0];
    p->first = out[3] ? (int)((uint64_t)c->nranks - out[3]) : -1;
    p->layouts_agree = out[1] == ~out[2] || out[3] == 0;
    return 0;
}

/* On the rare path where layouts disagree: name a field and two ranks. */
static int explain_disagreement(sb_dataset *ds, const batch *b)
{
    sb_coll *c = &ds->store->coll;
    size_t nf = ds->nfields;
    uint64_t *mine = calloc(nf + 1, sizeof *mine);
    uint64_t *all = calloc((nf + 1) * (size_t)c->nranks, sizeof *all);
    int rc = mine && all ? 0 : SB_ERR_NOMEM;
    rc = sb__coll_agree(c, rc < 0 ? sb__error(rc, "out of memory") : 0);
    if (rc == 0) {
        mine[0] = b->nrows;
        for (size_t i = 0; i < nf && b->nrows; i++)
            mine[1 + i] = sb__layout_hash(&b->layouts[i]);
        rc = sb__coll_allgather_u64(c, mine, nf + 1, all);
    }
    for (int r = 0, first = -1; rc == 0 && r < c->nranks; r++) {
        const uint64_t *e = &all[(size_t)r * (nf + 1)];
        if (e[0] == 0)
            continue;
        if (first < 0) {
            first = r;
            continue;
        }
        for (size_t i = 0; i < nf; i++)
            if (all[(size_t)first * (nf + 1) + 1 + i] != e[1 + i]) {
                rc = sb__error(SB_ERR_TYPE,
                               "dataset '%s': ranks %d and %d passed rows of different dtypes or "
                               "shapes for field '%s'; every rank must pass the same",
                               ds->name, first, r, ds->fields[i].name);
                break;
            }
    }
    if (rc == 0)
        rc = sb__error(SB_ERR_TYPE, "dataset '%s': the ranks passed rows of different layouts",
                       ds->name);
    free(mine);
    free(all);
    return rc;
}

/* Fields not yet defined take the layouts of the lowest rank with rows. */
static int define_from(sb_dataset *ds, int root, const batch *b)
{
    sb_store *s = ds->store;
    size_t nf = ds->nfields;
    bool undefined = false;
    for (size_t i = 0; i < nf; i++)
        undefined |= !ds->fields[i].defined;
    if (!undefined)
        return 0;
    sb_row_layout *layouts = calloc(nf, sizeof *layouts);
    int rc = sb__coll_agree(&s->coll, layouts ? 0 : sb__error(SB_ERR_NOMEM, "out of memory"));
    if (rc < 0) {
        free(layouts);
        return rc;
    }
    if (s->coll.rank == root)
        memcpy(layouts, b->layouts, nf * sizeof *layouts);
    rc = sb__coll_bcast(&s->coll, layouts, nf * sizeof *layouts, root);
    int local = 0;
    for (size_t i = 0; rc == 0 && local == 0 && i < nf; i++)
        if (!ds->fields[i].defined)
            local = sb__field_create(&ds->fields[i], ds->group, ds->name, ds->capacity,
                                     &layouts[i], (int64_t)i);
    free(layouts);
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, local);
    /* A new field is a structural change: committed at once, so that a
     * killed job never leaves a half-made object header behind. */
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, sb__store_flush_file(s));
    return rc;
}

/* Every rank's rows of one call, in rank order after the size. The call's
 * frame already agreed that every rank's batch is valid. */
static int write_rows(sb_dataset *ds, const batch *b)
{
    sb_store *s = ds->store;
    plan p;
    int rc = make_plan(&s->coll, b->nrows, b->nrows ? layouts_hash(ds, b) : 0, &p);
    if (rc < 0)
        return sb__coll_agree(&s->coll, rc);
    if (p.total == 0)
        return 0;
    if (!p.layouts_agree)
        return explain_disagreement(ds, b);
    if (p.total > ds->capacity - ds->size)
        return sb__error(SB_ERR_FULL,
                         "dataset '%s' is full: %" PRIu64 " rows + %s%" PRIu64 " new exceed its "
                         "capacity %" PRIu64 "; nothing was written",
                         ds->name, ds->size, p.total == UINT64_MAX ? "more than " : "",
                         p.total == UINT64_MAX ? UINT64_MAX : p.total, ds->capacity);
    rc = define_from(ds, p.first, b);
    if (rc < 0)
        return rc;
    uint64_t offset = ds->size + p.before;
    int local = 0;
    for (size_t i = 0; i < ds->nfields; i++) {
        sb_field *f = &ds->fields[i];
        uint64_t rounds = sb__xfer_pieces(p.max_rows, f->row_bytes);
        /* Every rank takes part in every field's transfer, even after a
         * local failure, or the others would wait for it. */
        int r = sb__field_write(s, ds->name, f, offset, local == 0 ? b->nrows : 0,
                                b->nrows ? b->data[i] : NULL, true, rounds, &ds->last_write);
        if (r < 0 && local == 0)
            local = r;
    }
    rc = sb__coll_agree(&s->coll, local);
    if (rc == 0)
        ds->size += p.total;
    return rc;
}

/* ---- append buffer ------------------------------------------------------ */

static int buffer_alloc(sb_dataset *ds)
{
    sb_append_buffer *ab = &ds->append;
    uint64_t row_bytes = 0;
    for (size_t i = 0; i < ds->nfields; i++)
        row_bytes += ds->fields[i].row_bytes;
    /* Equal on every rank: the fields are defined before the first row is
     * buffered (sb_dataset_append). */
    uint64_t rows = row_bytes ? ab->bytes / row_bytes : 1;
    if (rows == 0)
        rows = 1;
    uint64_t room = ds->capacity - ds->size;
    if (rows > room)
        rows = room ? room : 1;
    uint64_t total = rows * row_bytes;
    ab->data = calloc(ds->nfields, sizeof *ab->data);
    ab->layouts = calloc(ds->nfields, sizeof *ab->layouts);
    unsigned char *block = total < SIZE_MAX ? malloc((size_t)total + 1) : NULL;
    if (!ab->data || !ab->layouts || !block) {
        free(block);
        free(ab->data);
        free(ab->layouts);
        ab->data = NULL;
        ab->layouts = NULL;
        return sb__error(SB_ERR_NOMEM, "dataset '%s': out of memory for an append buffer of %" PRIu64
                         " rows (%" PRIu64 " bytes); set a smaller one with sb_dataset_set_append_buffer",
                         ds->name, rows, total);
    }
    for (size_t i = 0, at = 0; i < ds->nfields; i++) {
        ab->data[i] = block + at;
        ab->layouts[i] = ds->fields[i].layout;
        at += (size_t)(rows * ds->fields[i].row_bytes);
    }
    ab->capacity = rows;
    return 0;
}

static void buffer_drop(sb_dataset *ds)
{
    sb_append_buffer *ab = &ds->append;
    if (ab->data) {
        free(ab->data[0]);
        free(ab->data);
    }
    free(ab->layouts);
    ab->data = NULL;
    ab->layouts = NULL;
    ab->rows = ab->calls = ab->capacity = 0;
}

int sb__rows_write_buffer(sb_dataset *ds)
{
    sb_append_buffer *ab = &ds->append;
    if (ab->calls == 0 && ab->rows == 0)
        return 0;
    batch b;
    int rc = batch_init(&b, ds->nfields);
    rc = sb__coll_agree(&ds->store->coll, rc);
    if (rc < 0)
        return rc;
    b.nrows = ab->rows;
    for (size_t i = 0; i < ds->nfields && ab->data; i++) {
        b.layouts[i] = ab->layouts[i];
        b.data[i] = ab->data[i];
    }
    uint64_t dropped = ab->rows;
    rc = write_rows(ds, &b);
    batch_free(&b);
    ab->rows = 0;
    ab->calls = 0;
    if (rc < 0 && dropped > 0) {
        char msg[SB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s (%" PRIu64 " appended rows of this rank were dropped)",
                 sb_last_error_message(), dropped);
        sb__error_set(rc, msg);
    }
    return rc;
}

/* The common case of an acquisition loop, with no call into HDF5 or MPI:
 * one row copied into the buffer. False when the full path must run. */
static bool append_fast(sb_dataset *ds, size_t n, const sb_array *row)
{
    if (!ds)
        return false;
    sb_append_buffer *ab = &ds->append;
    const sb_store *s = ds->store;
    if (!s || s->coll.parallel || !s->writable || s->coll.write_failed || !ab->data || !row ||
        n != ds->nfields || ab->rows + 1 >= ab->capacity ||
        ds->size + ab->rows + 1 > ds->capacity)
        return false;
    for (size_t i = 0; i < n; i++) {
        const sb_row_layout *l = &ab->layouts[i];
        if (row[i].dtype != l->dtype || row[i].ndim != l->row_ndim || !row[i].data)
            return false;
        for (int d = 0; d < l->row_ndim; d++)
            if (row[i].shape[d] != l->row_shape[d])
                return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t bytes = ds->fields[i].row_bytes;
        memcpy(ab->data[i] + ab->rows * bytes, row[i].data, (size_t)bytes);
    }
    ab->rows++;
    ab->calls++;
    return true;
}

static int append_row(sb_dataset *ds, const batch *b)
{
    sb_store *s = ds->store;
    sb_append_buffer *ab = &ds->append;
    /* The fields are defined by the first row, as Python does, so that every
     * later row is checked against them on its own rank at once. */
    plan p;
    int rc = 0;
    bool undefined = false;
    for (size_t i = 0; i < ds->nfields; i++)
        undefined |= !ds->fields[i].defined;
    if (undefined) {
        rc = make_plan(&s->coll, b->nrows, b->nrows ? layouts_hash(ds, b) : 0, &p);
        if (rc == 0 && p.first >= 0 && !p.layouts_agree)
            return explain_disagreement(ds, b);
        if (rc == 0 && p.first >= 0)
            rc = define_from(ds, p.first, b);
        if (rc < 0 || p.first < 0)
            return rc;
    }
    /* Write-through, or so close to the capacity that buffered rows of all
     * ranks could overflow it: this row goes out now, counted exactly. */
    uint64_t worst;
    bool near_full = sb__mul_overflows(ab->calls + 1, (uint64_t)s->coll.nranks, &worst) ||
                     worst > ds->capacity - ds->size;
    if (ab->bytes == 0 || (s->coll.parallel && near_full)) {
        rc = sb__rows_write_buffer(ds);
        if (rc == 0)
            rc = write_rows(ds, b);
        if (rc == 0 && ab->bytes == 0)
            rc = sb__commit(s, ds);
        return rc;
    }
    if (!s->coll.parallel && ds->size + ab->rows + 1 > ds->capacity)
        return sb__error(SB_ERR_FULL, "dataset '%s' is full (capacity %" PRIu64 ")", ds->name,
                         ds->capacity);
    if (!ab->data)
        rc = sb__coll_agree(&s->coll, buffer_alloc(ds));
    if (rc < 0)
        return rc;
    if (b->nrows) {
        for (size_t i = 0; i < ds->nfields; i++) {
            uint64_t bytes = ds->fields[i].row_bytes;
            memcpy(ab->data[i] + ab->rows * bytes, b->data[i], (size_t)bytes);
        }
        ab->rows++;
    }
    ab->calls++;
    if (ab->calls >= ab->capacity)
        rc = sb__rows_write_buffer(ds);
    return rc;
}

int sb_dataset_append(sb_dataset *ds, size_t nfields, const sb_array *row)
{
    if (append_fast(ds, nfields, row))
        return 0;
    sb_call c;
    sb__call_dataset(&c, "sb_dataset_append", ds);
    if (c.rc == 0)
        sb__call_check(&c, sb__store_writable(ds->store, "sb_dataset_append"));
    if (c.rc == 0)
        sb__call_check(&c, check_count(ds, nfields, row, "sb_dataset_append"));
    batch b;
    bool have_batch = c.rc == 0 && sb__call_check(&c, batch_init(&b, ds->nfields)) == 0;
    if (have_batch)
        sb__call_check(&c, batch_from_arrays(ds, row, true, &b));
    int rc = sb__call_enter(&c);
    if (rc == 0)
        rc = append_row(ds, &b);
    if (have_batch)
        batch_free(&b);
    return sb__call_end(&c, rc);
}

int sb_dataset_extend(sb_dataset *ds, size_t ncolumns, const sb_array *columns)
{
    sb_call c;
    sb__call_dataset(&c, "sb_dataset_extend", ds);
    if (c.rc == 0)
        sb__call_check(&c, sb__store_writable(ds->store, "sb_dataset_extend"));
    if (c.rc == 0)
        sb__call_check(&c, check_count(ds, ncolumns, columns, "sb_dataset_extend"));
    batch b;
    bool have_batch = c.rc == 0 && sb__call_check(&c, batch_init(&b, ds->nfields)) == 0;
    if (have_batch)
        sb__call_check(&c, batch_from_arrays(ds, columns, false, &b));
    /* One rank's own rows already too many: said at once (the total of all
     * ranks is checked once they agree). */
    uint64_t pending = c.rc == 0 && !ds->store->coll.parallel ? ds->append.rows : 0;
    if (c.rc == 0 && b.nrows > ds->capacity - ds->size - pending)
        sb__call_check(&c, sb__error(SB_ERR_FULL,
                                     "dataset '%s' is full: %" PRIu64 " rows + %" PRIu64
                                     " new exceed its capacity %" PRIu64 "; nothing was written",
                                     ds->name, ds->size + pending, b.nrows, ds->capacity));
    int rc = sb__call_enter(&c);
    /* Rows appended before come first. */
    if (rc == 0)
        rc = sb__rows_write_buffer(ds);
    if (rc == 0)
        rc = write_rows(ds, &b);
    if (have_batch)
        batch_free(&b);
    return sb__call_end(&c, rc);
}

int sb_dataset_set_append_buffer(sb_dataset *ds, uint64_t bytes)
{
    sb_call c;
    sb__call_dataset(&c, "sb_dataset_set_append_buffer", ds);
    if (c.rc == 0)
        sb__call_u64(&c, bytes);
    int rc = sb__call_enter(&c);
    if (rc == 0 && ds->store->writable)
        rc = sb__rows_write_buffer(ds);
    if (rc == 0) {
        buffer_drop(ds);
        ds->append.bytes = bytes;
    }
    return sb__call_end(&c, rc);
}

/* ---- fields defined up front -------------------------------------------- */

int sb__rows_define(sb_dataset *ds, sb_field *f, const sb_row_layout *layout)
{
    sb_store *s = ds->store;
    int rc = sb__coll_agree(&s->coll, sb__field_create(f, ds->group, ds->name, ds->capacity, layout,
                                                       (int64_t)(f - ds->fields)));
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, sb__store_flush_file(s));
    return rc;
}

int sb_dataset_define_field(sb_dataset *ds, const char *field, sb_dtype dtype, int row_ndim,
                            const uint64_t *row_shape)
{
    sb_call c;
    sb__call_dataset(&c, "sb_dataset_define_field", ds);
    sb_field *f = NULL;
    sb_row_layout l;
    memset(&l, 0, sizeof l);
    if (c.rc == 0)
        sb__call_check(&c, sb__store_writable(ds->store, "sb_dataset_define_field"));
    if (c.rc == 0 && !(f = sb__dataset_find_field(ds, field)))
        sb__call_check(&c, field ? sb__error(SB_ERR_NOT_FOUND, "dataset '%s' has no field '%s'",
                                             ds->name, field)
                                 : sb__error(SB_ERR_INVALID, "sb_dataset_define_field: field is NULL"));
    if (c.rc == 0 && !sb_dtype_valid(dtype))
        sb__call_check(&c, sb__error(SB_ERR_INVALID, "dataset '%s': field '%s': invalid dtype %d",
                                     ds->name, field, (int)dtype));
    if (c.rc == 0 && (row_ndim < 0 || row_ndim > SB_MAX_DIMS - 1 || (row_ndim > 0 && !row_shape)))
        sb__call_check(&c, sb__error(SB_ERR_INVALID,
                                     "dataset '%s': field '%s': row_ndim %d out of [0, %d] or "
                                     "row_shape NULL",
                                     ds->name, field, row_ndim, SB_MAX_DIMS - 1));
    if (c.rc == 0) {
        l.dtype = dtype;
        l.row_ndim = row_ndim;
        for (int d = 0; d < row_ndim; d++)
            l.row_shape[d] = row_shape[d];
        uint64_t bytes;
        sb__call_check(&c, sb__layout_row_bytes(&l, field, &bytes));
    }
    if (c.rc == 0 && f->defined && !(f->supported && sb__layout_equal(&f->layout, &l)))
        sb__call_check(&c, describe_mismatch(ds, (size_t)(f - ds->fields), &f->layout, &l));
    if (c.rc == 0) {
        sb__call_str(&c, field);
        sb__call_u64(&c, sb__layout_hash(&l));
    }
    int rc = sb__call_enter(&c);
    if (rc == 0 && !f->defined)
        rc = sb__rows_define(ds, f, &l);
    return sb__call_end(&c, rc);
}

/* ---- explicit offsets --------------------------------------------------- */

void sb__rows_forget_written(sb_dataset *ds) { ds->written.count = 0; }

/* Keep [start, end) among this rank's written ranges, merged. */
static int remember_written(sb_dataset *ds, uint64_t start, uint64_t end)
{
    sb_ranges *r = &ds->written;
    for (size_t i = 0; i < r->count; i++) {
        if (start <= r->items[i][1] && end >= r->items[i][0]) {
            if (start < r->items[i][0])
                r->items[i][0] = start;
            if (end > r->items[i][1])
                r->items[i][1] = end;
            return 0;
        }
    }
    if (r->count == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 8;
        void *grown = realloc(r->items, cap * sizeof *r->items);
        if (!grown)
            return sb__error(SB_ERR_NOMEM, "out of memory recording written rows");
        r->items = grown;
        r->cap = cap;
    }
    r->items[r->count][0] = start;
    r->items[r->count][1] = end;
    r->count++;
    return 0;
}

int sb_dataset_write_at(sb_dataset *ds, uint64_t offset, size_t ncolumns, const sb_array *columns)
{
    const char *what = "sb_dataset_write_at";
    int rc = sb__dataset_usable(ds, what);
    if (rc == 0)
        rc = sb__store_writable(ds->store, what);
    if (rc == 0 && !columns)
        rc = sb__error(SB_ERR_INVALID, "%s: dataset '%s': columns are NULL", what, ds->name);
    if (rc == 0)
        rc = check_count(ds, ncolumns, columns, what);
    for (size_t i = 0; rc == 0 && i < ds->nfields; i++) {
        const sb_field *f = &ds->fields[i];
        if (!f->defined)
            rc = sb__error(SB_ERR_INVALID,
                           "%s: dataset '%s': field '%s' has no dtype yet; call "
                           "sb_dataset_define_field (collective) first",
                           what, ds->name, f->name);
        else if (f->collective_only)
            rc = sb__error(SB_ERR_INVALID,
                           "%s: dataset '%s': field '%s' is compressed (%s): HDF5 writes such a "
                           "field only collectively; use sb_dataset_extend",
                           what, ds->name, f->name, f->filters);
    }
    if (rc < 0)
        return rc;
    batch b;
    rc = batch_init(&b, ds->nfields);
    if (rc == 0)
        rc = batch_from_arrays(ds, columns, false, &b);
    uint64_t end = 0;
    if (rc == 0 && b.nrows > 0 && (sb__add_overflows(offset, b.nrows, &end) || end > ds->capacity))
        rc = sb__error(SB_ERR_FULL,
                       "%s: dataset '%s': %" PRIu64 " rows at offset %" PRIu64
                       " go beyond its capacity %" PRIu64,
                       what, ds->name, b.nrows, offset, ds->capacity);
    if (rc == 0 && b.nrows > 0) {
        sb_h5_quiet q;
        sb__quiet_begin(&q);
        for (size_t i = 0; rc == 0 && i < ds->nfields; i++)
            rc = sb__field_write(ds->store, ds->name, &ds->fields[i], offset, b.nrows, b.data[i],
                                 false, 0, NULL);
        sb__quiet_end(&q);
        rc = sb__coll_local_write_failures(&ds->store->coll, rc);
        if (rc == 0)
            rc = remember_written(ds, offset, end);
    }
    batch_free(&b);
    return rc;
}

/* Whether the ranks' written ranges cover [from, to) and never overlap
 * across ranks. Collective (gathers every rank's ranges). */
static int check_written(sb_dataset *ds, uint64_t from, uint64_t to)
{
    sb_coll *c = &ds->store->coll;
    const sb_ranges *mine = &ds->written;
    uint64_t n = mine->count;
    uint64_t *counts = calloc((size_t)c->nranks, sizeof *counts);
    int rc = sb__coll_agree(c, counts ? 0 : sb__error(SB_ERR_NOMEM, "out of memory"));
    if (rc == 0)
        rc = sb__coll_allgather_u64(c, &n, 1, counts);
    if (rc < 0) {
        free(counts);
        return rc;
    }
    uint64_t total = 0;
    for (int r = 0; r < c->nranks; r++)
        total += counts[r];
    /* Each item: start, end, rank. */
    uint64_t *all = calloc(total ? total * 3 : 1, sizeof *all);
    uint64_t *local = calloc(n ? n * 3 : 1, sizeof *local);
    int *recv = calloc((size_t)c->nranks, sizeof *recv), *displ = calloc((size_t)c->nranks, sizeof *displ);
    rc = sb__coll_agree(c, all && local && recv && displ ? 0 : sb__error(SB_ERR_NOMEM, "out of memory"));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        local[3 * i] = mine->items[i][0];
        local[3 * i + 1] = mine->items[i][1];
        local[3 * i + 2] = (uint64_t)c->rank;
    }
    if (rc == 0 && c->parallel) {
        for (int r = 0, at = 0; r < c->nranks; r++) {
            recv[r] = (int)(counts[r] * 3);
            displ[r] = at;
            at += recv[r];
        }
        if (MPI_Allgatherv(local, (int)(n * 3), MPI_UINT64_T, all, recv, displ, MPI_UINT64_T,
                           c->comm) != MPI_SUCCESS)
            rc = sb__error(SB_ERR_IO, "MPI gather of written rows failed");
    } else if (rc == 0) {
        memcpy(all, local, (size_t)(n * 3) * sizeof *all);
    }
    free(local);
    free(recv);
    free(displ);
    free(counts);
    /* Sort by start (insertion sort over typically one range per rank). */
    for (uint64_t i = 1; rc == 0 && i < total; i++)
        for (uint64_t j = i; j > 0 && all[3 * (j - 1)] > all[3 * j]; j--)
            for (int k = 0; k < 3; k++) {
                uint64_t t = all[3 * j + k];
                all[3 * j + k] = all[3 * (j - 1) + k];
                all[3 * (j - 1) + k] = t;
            }
    uint64_t covered = from, reach = 0;
    int reach_rank = -1;
    for (uint64_t i = 0; rc == 0 && i < total; i++) {
        uint64_t s = all[3 * i], e = all[3 * i + 1];
        int r = (int)all[3 * i + 2];
        if (s < reach && r != reach_rank)
            rc = sb__error(SB_ERR_INVALID,
                           "sb_dataset_commit_size: dataset '%s': ranks %d and %d both wrote rows "
                           "[%" PRIu64 ", %" PRIu64 "); the size is not changed",
                           ds->name, reach_rank, r, s, e < reach ? e : reach);
        if (e > reach) {
            reach = e;
            reach_rank = r;
        }
        if (rc == 0 && s > covered && covered < to)
            rc = sb__error(SB_ERR_INVALID,
                           "sb_dataset_commit_size: dataset '%s': rows [%" PRIu64 ", %" PRIu64
                           ") were not written since the last commit; the size stays %" PRIu64,
                           ds->name, covered, s < to ? s : to, from);
        if (e > covered && s <= covered)
            covered = e;
    }
    if (rc == 0 && covered < to)
        rc = sb__error(SB_ERR_INVALID,
                       "sb_dataset_commit_size: dataset '%s': rows [%" PRIu64 ", %" PRIu64
                       ") were not written since the last commit; the size stays %" PRIu64,
                       ds->name, covered, to, from);
    free(all);
    return rc;
}

int sb_dataset_commit_size(sb_dataset *ds, uint64_t local_end)
{
    sb_call c;
    sb__call_dataset(&c, "sb_dataset_commit_size", ds);
    if (c.rc == 0)
        sb__call_check(&c, sb__store_writable(ds->store, "sb_dataset_commit_size"));
    if (c.rc == 0 && local_end > ds->capacity)
        sb__call_check(&c, sb__error(SB_ERR_FULL,
                                     "sb_dataset_commit_size: dataset '%s': end %" PRIu64
                                     " is beyond its capacity %" PRIu64,
                                     ds->name, local_end, ds->capacity));
    int rc = sb__call_enter(&c);
    uint64_t end = local_end;
    if (rc == 0)
        rc = sb__coll_max_u64(&ds->store->coll, &end);
    if (rc == 0)
        rc = sb__rows_write_buffer(ds);
    if (rc == 0)
        rc = check_written(ds, ds->size, end > ds->size ? end : ds->size);
    if (rc == 0 && end > ds->size)
        ds->size = end;
    if (rc == 0)
        rc = sb__commit(ds->store, ds);
    if (rc == 0)
        sb__rows_forget_written(ds);
    return sb__call_end(&c, rc);
}

/* ---- reset -------------------------------------------------------------- */

int sb_dataset_reset(sb_dataset *ds)
{
    sb_call c;
    sb__call_dataset(&c, "sb_dataset_reset", ds);
    if (c.rc == 0)
        sb__call_check(&c, sb__store_writable(ds->store, "sb_dataset_reset"));
    int rc = sb__call_enter(&c);
    if (rc == 0) {
        /* Rows still buffered were appended before the reset: Python would
         * have written and then forgotten them. The size 0 is committed at
         * once, before any new row can overwrite an old one. */
        ds->append.rows = 0;
        ds->append.calls = 0;
        sb__rows_forget_written(ds);
        ds->size = 0;
        rc = sb__commit(ds->store, ds);
    }
    return sb__call_end(&c, rc);
}
