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
