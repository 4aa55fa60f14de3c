/* Rows in: every row takes one path, validated locally, agreed on in the
 * call's frame, and placed in rank order after the size (sb__rows_write).
 * Appends reach it through their buffer (append.c), explicit offsets have
 * their own (slices.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "rows.h"

int sb__batch_init(sb_batch *b, size_t nfields)
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
    return sb__error(SB_ERR_NOMEM, "out of memory for a sb_batch of %zu fields", nfields);
}

void sb__batch_free(sb_batch *b)
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

int sb__batch_check_count(const sb_dataset *ds, size_t n, const void *arrays, const char *what)
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
int sb__batch_from_arrays(const sb_dataset *ds, const sb_array *arrays, bool row, sb_batch *b)
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

static uint64_t layouts_hash(const sb_dataset *ds, const sb_batch *b)
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
    /* Below 2^63 (SB_MAX_REDUCIBLE), where 0 is the smallest value whatever
     * the MPI's order, so that ranks without rows take no part. A count
     * above 2^63-1 is capped: the total (exact) then exceeds any capacity. */
    uint64_t h = sb__hash63(hash);
    uint64_t mx[4] = {nrows < SB_MAX_REDUCIBLE ? nrows : SB_MAX_REDUCIBLE,
                      nrows ? h : 0, nrows ? h ^ SB_MAX_REDUCIBLE : 0,
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
    p->layouts_agree = out[1] == (out[2] ^ SB_MAX_REDUCIBLE) || out[3] == 0;
    return 0;
}

/* On the rare path where layouts disagree: name a field and two ranks. */
static int explain_disagreement(sb_dataset *ds, const sb_batch *b)
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

/* Fields not yet defined take the layouts of the lowest rank with rows
 * (`before`: see sb__rows_define_first). */
static int define_from(sb_dataset *ds, int root, const sb_batch *b, sb_layouts_fn before)
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
    if (rc == 0 && before)
        rc = sb__coll_agree(&s->coll, before(ds, layouts));
    /* New fields reach the file at the next commit, whole (catalog.c). */
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, sb__store_hold_metadata(s));
    int local = 0;
    for (size_t i = 0; rc == 0 && local == 0 && i < nf; i++)
        if (!ds->fields[i].defined)
            local = sb__field_create(&ds->fields[i], ds->group, ds->name, ds->capacity,
                                     &layouts[i], (int64_t)i);
    free(layouts);
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, local);
    return rc;
}

/* Every rank's rows of one call, in rank order after the size. The call's
 * frame already agreed that every rank's sb_batch is valid. */
int sb__rows_write(sb_dataset *ds, const sb_batch *b)
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
    rc = define_from(ds, p.first, b, NULL);
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

int sb__rows_define_first(sb_dataset *ds, const sb_batch *b, bool *none, sb_layouts_fn before)
{
    *none = false;
    bool undefined = false;
    for (size_t i = 0; i < ds->nfields; i++)
        undefined |= !ds->fields[i].defined;
    if (!undefined)
        return 0;
    plan p;
    int rc = make_plan(&ds->store->coll, b->nrows, b->nrows ? layouts_hash(ds, b) : 0, &p);
    if (rc < 0)
        return sb__coll_agree(&ds->store->coll, rc);
    *none = p.first < 0;
    if (*none)
        return 0;
    if (!p.layouts_agree)
        return explain_disagreement(ds, b);
    return define_from(ds, p.first, b, before);
}

int sb_dataset_extend(sb_dataset *ds, size_t ncolumns, const sb_array *columns)
{
    sb_call c;
    sb__call_dataset(&c, "sb_dataset_extend", ds);
    if (c.rc == 0)
        sb__call_check(&c, sb__store_writable(ds->store, "sb_dataset_extend"));
    if (c.rc == 0)
        sb__call_check(&c, sb__batch_check_count(ds, ncolumns, columns, "sb_dataset_extend"));
    sb_batch b;
    bool have_batch = c.rc == 0 && sb__call_check(&c, sb__batch_init(&b, ds->nfields)) == 0;
    if (have_batch)
        sb__call_check(&c, sb__batch_from_arrays(ds, columns, false, &b));
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
        rc = sb__rows_write(ds, &b);
    if (have_batch)
        sb__batch_free(&b);
    return sb__call_end(&c, rc);
}

/* ---- fields defined up front -------------------------------------------- */

int sb__rows_define(sb_dataset *ds, sb_field *f, const sb_row_layout *layout)
{
    sb_store *s = ds->store;
    int rc = sb__coll_agree(&s->coll, sb__store_hold_metadata(s));
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, sb__field_create(f, ds->group, ds->name, ds->capacity,
                                                       layout, (int64_t)(f - ds->fields)));
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
