/* Rows at explicit offsets (sb_dataset_write_at), for ranks that own
 * preassigned slices, and the commit that checks what they wrote. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "rows.h"

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
        rc = sb__batch_check_count(ds, ncolumns, columns, what);
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
    sb_batch b;
    rc = sb__batch_init(&b, ds->nfields);
    if (rc == 0)
        rc = sb__batch_from_arrays(ds, columns, false, &b);
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
    sb__batch_free(&b);
    return rc;
}

/* The common case in O(log P) per rank (docs/scaling.md): every rank wrote
 * at most one range, and in rank order the ranges follow each other from
 * `from` without a gap or an overlap. Then the union is [from, max end),
 * and it covers [from, to) when max end >= to. *fast is false when any rank
 * is outside that case; check_written then gathers every range. */
static int check_written_in_order(sb_dataset *ds, uint64_t from, uint64_t to, bool *fast)
{
    sb_coll *c = &ds->store->coll;
    const sb_ranges *mine = &ds->written;
    *fast = false;
    if (!c->parallel)
        return 0;
    bool one = mine->count == 1 && mine->items[0][1] < SB_MAX_REDUCIBLE;
    uint64_t end = one ? mine->items[0][1] : 0, below = 0;
    /* The largest end of the lower ranks: where this rank's range must start. */
    if (MPI_Exscan(&end, &below, 1, MPI_UINT64_T, MPI_MAX, c->comm) != MPI_SUCCESS)
        return sb__error(SB_ERR_IO, "MPI scan of written rows failed");
    if (c->rank == 0)
        below = 0; /* MPI_Exscan leaves rank 0's result undefined */
    bool ok = mine->count == 0 || (one && mine->items[0][0] == (below > from ? below : from));
    uint64_t in[2] = {ok ? 0 : 1, end}, out[2];
    if (MPI_Allreduce(in, out, 2, MPI_UINT64_T, MPI_MAX, c->comm) != MPI_SUCCESS)
        return sb__error(SB_ERR_IO, "MPI reduction of written rows failed");
    /* No rows written: nothing to cover unless the size grows. A gap at the
     * end (max end < to) is left to the full check, which names it. */
    *fast = out[0] == 0 && (out[1] == 0 ? to == from : out[1] >= to);
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Whether the ranks' written ranges cover [from, to) and never overlap
 * across ranks. Collective: the in-order case costs two reductions, any
 * other gathers every rank's ranges (O(P) per rank). */
static int check_written(sb_dataset *ds, uint64_t from, uint64_t to)
{
    bool fast = false;
    int rc = check_written_in_order(ds, from, to, &fast);
    if (rc < 0 || fast)
        return rc;

    sb_coll *c = &ds->store->coll;
    const sb_ranges *mine = &ds->written;
    uint64_t n = mine->count;
    uint64_t *counts = calloc((size_t)c->nranks, sizeof *counts);
    rc = sb__coll_agree(c, counts ? 0 : sb__error(SB_ERR_NOMEM, "out of memory"));
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
    /* By start; equal starts keep no particular order (the overlap check
     * below does not depend on it). */
    if (rc == 0 && total > 1)
        qsort(all, (size_t)total, 3 * sizeof *all, by_start);
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
