/* Rows out: independent reads, collective reads, Python's get. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

/* Rows this handle can read: on a serial store its buffered rows too. */
static uint64_t readable_rows(const sb_dataset *ds)
{
    return ds->size + (ds->store->coll.parallel ? 0 : ds->append.rows);
}

static int check_read(sb_dataset *ds, const char *what, const char *field, uint64_t start,
                      uint64_t count, const void *buf, sb_field **out)
{
    *out = NULL;
    int rc = sb__dataset_usable(ds, what);
    if (rc < 0)
        return rc;
    if (!field)
        return sb__error(SB_ERR_INVALID, "%s: dataset '%s': field is NULL", what, ds->name);
    sb_field *f = sb__dataset_find_field(ds, field);
    if (!f)
        return sb__error(SB_ERR_NOT_FOUND, "dataset '%s' has no field '%s'", ds->name, field);
    uint64_t rows = readable_rows(ds);
    if (start > rows || count > rows - start)
        return sb__error(SB_ERR_INVALID,
                         "%s: dataset '%s', field '%s': %" PRIu64 " rows from row %" PRIu64
                         " go beyond its size %" PRIu64,
                         what, ds->name, field, count, start, rows);
    if (count > 0 && !buf)
        return sb__error(SB_ERR_INVALID, "%s: dataset '%s': buffer is NULL", what, ds->name);
    if (count > 0 && f->defined && !f->supported)
        return sb__error(SB_ERR_TYPE, "dataset '%s': field '%s' holds %s, which secbench-storage "
                         "cannot read", ds->name, field, f->type_name);
    *out = f;
    return 0;
}

/* Rows at and after the size live in the append buffer. */
static void read_buffered(const sb_dataset *ds, const sb_field *f, uint64_t start, uint64_t count,
                          unsigned char *buf)
{
    const sb_append_buffer *ab = &ds->append;
    size_t i = (size_t)(f - ds->fields);
    memcpy(buf, ab->data[i] + (start - ds->size) * f->row_bytes, (size_t)(count * f->row_bytes));
}

int sb_dataset_read(void *buf, sb_dataset *ds, const char *field, uint64_t start, uint64_t count)
{
    sb_field *f = NULL;
    int rc = check_read(ds, "sb_dataset_read", field, start, count, buf, &f);
    if (rc < 0 || count == 0)
        return rc;
    uint64_t in_file = start < ds->size ? (count < ds->size - start ? count : ds->size - start) : 0;
    if (in_file > 0) {
        sb_h5_quiet q;
        sb__quiet_begin(&q);
        rc = sb__field_read(ds->store, ds->name, f, start, in_file, buf, false, 0);
        sb__quiet_end(&q);
    }
    if (rc == 0 && count > in_file)
        read_buffered(ds, f, start + in_file, count - in_file,
                      (unsigned char *)buf + in_file * f->row_bytes);
    return rc;
}

int sb_dataset_read_all(void *buf, sb_dataset *ds, const char *field, uint64_t start,
                        uint64_t count)
{
    sb_call c;
    sb__call_dataset(&c, "sb_dataset_read_all", ds);
    sb_field *f = NULL;
    if (c.rc == 0)
        sb__call_check(&c, check_read(ds, "sb_dataset_read_all", field, start, count, buf, &f));
    if (c.rc == 0)
        sb__call_str(&c, field);
    int rc = sb__call_enter(&c);
    uint64_t max_rows = count;
    if (rc == 0)
        rc = sb__coll_max_u64(&ds->store->coll, &max_rows);
    if (rc == 0 && f->defined) {
        uint64_t in_file = start < ds->size ? (count < ds->size - start ? count : ds->size - start) : 0;
        rc = sb__field_read(ds->store, ds->name, f, start, in_file, buf, true,
                            sb__xfer_pieces(max_rows, f->row_bytes));
        if (rc == 0 && count > in_file)
            read_buffered(ds, f, start + in_file, count - in_file,
                          (unsigned char *)buf + in_file * f->row_bytes);
        rc = sb__coll_agree(&ds->store->coll, rc);
    }
    return sb__call_end(&c, rc);
}

int sb_dataset_get(sb_array *out, sb_dataset *ds, size_t nfields, const char *const *fields)
{
    if (!out)
        return sb__error(SB_ERR_INVALID, "sb_dataset_get: out is NULL");
    memset(out, 0, nfields * sizeof *out);
    int rc = sb__dataset_usable(ds, "sb_dataset_get");
    if (rc == 0 && nfields > 0 && !fields)
        rc = sb__error(SB_ERR_INVALID, "sb_dataset_get: fields is NULL");
    uint64_t rows = rc == 0 ? readable_rows(ds) : 0;
    for (size_t k = 0; rc == 0 && k < nfields; k++) {
        sb_field *f = NULL;
        rc = check_read(ds, "sb_dataset_get", fields[k], 0, 0, NULL, &f);
        if (rc == 0 && !f->defined)
            rc = sb__error(SB_ERR_NOT_FOUND,
                           "dataset '%s': field '%s' has no data yet (no row was ever written)",
                           ds->name, fields[k]);
        if (rc == 0 && rows > 0 && !f->supported)
            rc = sb__error(SB_ERR_TYPE, "dataset '%s': field '%s' holds %s, which "
                           "secbench-storage cannot read", ds->name, fields[k], f->type_name);
        uint64_t bytes = 0;
        if (rc == 0 && (sb__mul_overflows(rows, f->row_bytes, &bytes) || bytes >= SIZE_MAX))
            rc = sb__error(SB_ERR_NOMEM, "dataset '%s': field '%s' does not fit in memory",
                           ds->name, fields[k]);
        if (rc < 0)
            break;
        sb_array *a = &out[k];
        a->dtype = f->layout.dtype;
        a->ndim = f->layout.row_ndim + 1;
        a->shape[0] = rows;
        for (int d = 0; d < f->layout.row_ndim; d++)
            a->shape[d + 1] = f->layout.row_shape[d];
        a->data = malloc((size_t)bytes + 1);
        if (!a->data)
            rc = sb__error(SB_ERR_NOMEM, "dataset '%s': out of memory reading field '%s' (%" PRIu64
                           " bytes)", ds->name, fields[k], bytes);
        if (rc == 0)
            rc = sb_dataset_read(a->data, ds, fields[k], 0, rows);
    }
    if (rc < 0) {
        for (size_t k = 0; k < nfields; k++)
            free(out[k].data);
        memset(out, 0, nfields * sizeof *out);
    }
    return rc;
}
