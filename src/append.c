/* Appends: rows kept in a buffer and written in blocks (one collective write
 * per block on a parallel store, all ranks at the same call), committed at
 * flush and close. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "rows.h"

/* Bytes of one row of field i: in `layouts` (fields about to be defined)
 * or in the field itself (NULL). */
static uint64_t field_row_bytes(const sb_dataset *ds, const sb_row_layout *layouts, size_t i)
{
    uint64_t bytes = 0;
    if (!layouts)
        return ds->fields[i].row_bytes;
    sb__layout_row_bytes(&layouts[i], ds->fields[i].name, &bytes); /* checked with the row */
    return bytes;
}

/* The buffer for rows of `layouts` (NULL: the fields' own). */
static int buffer_alloc(sb_dataset *ds, const sb_row_layout *layouts)
{
    sb_append_buffer *ab = &ds->append;
    uint64_t row_bytes = 0;
    for (size_t i = 0; i < ds->nfields; i++)
        row_bytes += field_row_bytes(ds, layouts, i);
    /* Equal on every rank: the layouts are agreed on before the first row
     * is buffered (sb_dataset_append). */
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
        ab->layouts[i] = layouts ? layouts[i] : ds->fields[i].layout;
        at += (size_t)(rows * field_row_bytes(ds, layouts, i));
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
    sb_batch b;
    int rc = sb__batch_init(&b, ds->nfields);
    rc = sb__coll_agree(&ds->store->coll, rc);
    if (rc < 0) {
        sb__batch_free(&b); /* made on this rank, failed on another */
        return rc;
    }
    b.nrows = ab->rows;
    for (size_t i = 0; i < ds->nfields && ab->data; i++) {
        b.layouts[i] = ab->layouts[i];
        b.data[i] = ab->data[i];
    }
    uint64_t dropped = ab->rows;
    rc = sb__rows_write(ds, &b);
    sb__batch_free(&b);
    ab->rows = 0;
    ab->calls = 0;
    if (rc < 0 && dropped > 0) {
        char msg[SB_ERRMSG_MAX + 64];
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

/* The buffer of the first row, made before its fields are created: out of
 * memory for it then leaves them undefined (sb__rows_define_first). */
static int buffer_first(sb_dataset *ds, const sb_row_layout *layouts)
{
    return ds->append.data ? 0 : buffer_alloc(ds, layouts);
}

static int append_row(sb_dataset *ds, const sb_batch *b)
{
    sb_store *s = ds->store;
    sb_append_buffer *ab = &ds->append;
    /* Write-through, or so close to the capacity that buffered rows of all
     * ranks could overflow it: this row goes out now, counted exactly. */
    uint64_t worst;
    bool near_full = sb__mul_overflows(ab->calls + 1, (uint64_t)s->coll.nranks, &worst) ||
                     worst > ds->capacity - ds->size;
    bool through = ab->bytes == 0 || (s->coll.parallel && near_full);
    /* The fields are defined by the first row, as Python does, so that every
     * later row is checked against them on its own rank at once. */
    bool none = false, had_buffer = ab->data != NULL;
    int rc = sb__rows_define_first(ds, b, &none, through ? NULL : buffer_first);
    if (rc < 0 && !had_buffer && ab->data)
        buffer_drop(ds);
    if (rc < 0 || none)
        return rc;
    if (through) {
        rc = sb__rows_write_buffer(ds);
        if (rc == 0)
            rc = sb__rows_write(ds, b);
        if (rc == 0 && ab->bytes == 0)
            rc = sb__commit(s, ds);
        return rc;
    }
    if (!s->coll.parallel && ds->size + ab->rows + 1 > ds->capacity)
        return sb__error(SB_ERR_FULL, "dataset '%s' is full (capacity %" PRIu64 ")", ds->name,
                         ds->capacity);
    if (!ab->data)
        rc = sb__coll_agree(&s->coll, buffer_alloc(ds, NULL));
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
        sb__call_check(&c, sb__batch_check_count(ds, nfields, row, "sb_dataset_append"));
    sb_batch b;
    bool have_batch = c.rc == 0 && sb__call_check(&c, sb__batch_init(&b, ds->nfields)) == 0;
    if (have_batch)
        sb__call_check(&c, sb__batch_from_arrays(ds, row, true, &b));
    int rc = sb__call_enter(&c);
    if (rc == 0)
        rc = append_row(ds, &b);
    if (have_batch)
        sb__batch_free(&b);
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
