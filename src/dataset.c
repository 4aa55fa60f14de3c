/* Dataset handles: getters, fields by name, the size attribute. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "format.h"

const char *sb_dataset_name(const sb_dataset *ds) { return ds ? ds->name : NULL; }
uint64_t sb_dataset_capacity(const sb_dataset *ds) { return ds ? ds->capacity : 0; }
size_t sb_dataset_nfields(const sb_dataset *ds) { return ds ? ds->nfields : 0; }
sb_store *sb_dataset_store(const sb_dataset *ds) { return ds ? ds->store : NULL; }
uint64_t sb_dataset_pending_rows(const sb_dataset *ds) { return ds ? ds->append.rows : 0; }
bool sb_dataset_is_incomplete(const sb_dataset *ds) { return ds && ds->incomplete; }
bool sb_dataset_found_by_walk(const sb_dataset *ds) { return ds && ds->found_by_walk; }

uint64_t sb_dataset_size(const sb_dataset *ds)
{
    if (!ds)
        return 0;
    /* A serial handle sees its own buffered rows, as Python's size does. */
    bool serial = ds->store && !ds->store->coll.parallel;
    return ds->size + (serial ? ds->append.rows : 0);
}

const char *sb_dataset_field(const sb_dataset *ds, size_t i)
{
    return ds && i < ds->nfields ? ds->fields[i].name : NULL;
}

void sb_dataset_last_write(sb_write_report *report, const sb_dataset *ds)
{
    if (!report)
        return;
    memset(report, 0, sizeof *report);
    if (ds)
        *report = ds->last_write;
}

int sb__dataset_usable(const sb_dataset *ds, const char *what)
{
    if (!ds)
        return sb__error(SB_ERR_INVALID, "%s: dataset is NULL", what);
    if (!ds->store)
        return sb__error(SB_ERR_INVALID, "%s: dataset '%s' is closed (its store was closed)", what,
                         ds->name);
    return 0;
}

void sb__call_dataset(sb_call *c, const char *op, sb_dataset *ds)
{
    int rc = sb__dataset_usable(ds, op);
    sb__call_begin(c, op, rc == 0 ? &ds->store->coll : NULL);
    sb__call_check(c, rc);
    if (rc == 0)
        sb__call_str(c, ds->name);
}

sb_field *sb__dataset_find_field(const sb_dataset *ds, const char *name)
{
    for (size_t i = 0; name && i < ds->nfields; i++)
        if (strcmp(ds->fields[i].name, name) == 0)
            return &ds->fields[i];
    return NULL;
}

int sb_dataset_field_index(size_t *index, const sb_dataset *ds, const char *field)
{
    if (!ds || !field || !index)
        return sb__error(SB_ERR_INVALID, "sb_dataset_field_index: %s is NULL",
                         !index ? "index" : !ds ? "dataset" : "field");
    const sb_field *f = sb__dataset_find_field(ds, field);
    if (!f)
        return sb__error(SB_ERR_NOT_FOUND, "dataset '%s' has no field '%s'", ds->name, field);
    *index = (size_t)(f - ds->fields);
    return 0;
}

int sb_dataset_field_info(sb_field_info *info, const sb_dataset *ds, size_t i)
{
    if (!ds || !info)
        return sb__error(SB_ERR_INVALID, "sb_dataset_field_info: %s is NULL", info ? "dataset" : "info");
    if (i >= ds->nfields)
        return sb__error(SB_ERR_NOT_FOUND, "dataset '%s' has %zu fields, no field %zu", ds->name,
                         ds->nfields, i);
    const sb_field *f = &ds->fields[i];
    memset(info, 0, sizeof *info);
    info->name = f->name;
    info->defined = f->defined;
    info->supported = f->supported;
    info->dtype = f->layout.dtype;
    info->row_ndim = f->layout.row_ndim;
    for (int d = 0; d < f->layout.row_ndim; d++)
        info->row_shape[d] = f->layout.row_shape[d];
    info->row_bytes = f->row_bytes;
    info->type_name = f->defined ? f->type_name : "";
    info->filters = f->filters;
    return 0;
}

int sb__dataset_alloc(sb_dataset **out, sb_store *s, const char *name, hid_t group,
                      uint64_t capacity, uint64_t size)
{
    sb_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->name = sb__strdup(name))) {
        free(ds);
        H5Gclose(group);
        return sb__error(SB_ERR_NOMEM, "out of memory opening dataset '%s'", name);
    }
    ds->store = s;
    ds->group = group;
    ds->size_attr = H5I_INVALID_HID;
    ds->capacity = capacity;
    ds->size = ds->committed = size;
    ds->append.bytes = SB_APPEND_BUFFER_DEFAULT;
    *out = ds;
    return 0;
}

int sb__dataset_add_field(sb_dataset *ds, const char *name)
{
    sb_field *f = realloc(ds->fields, (ds->nfields + 1) * sizeof *f);
    if (!f)
        return sb__error(SB_ERR_NOMEM, "out of memory");
    ds->fields = f;
    f = &ds->fields[ds->nfields];
    sb__field_init(f);
    if (!(f->name = sb__strdup(name)))
        return sb__error(SB_ERR_NOMEM, "out of memory");
    ds->nfields++;
    return 0;
}

static void append_buffer_free(sb_append_buffer *b)
{
    if (b->data) {
        /* The arrays are one block. */
        free(b->data[0]);
        free(b->data);
    }
    free(b->layouts);
    b->data = NULL;
    b->layouts = NULL;
    b->rows = b->calls = b->capacity = 0;
}

void sb__dataset_release(sb_dataset *ds)
{
    for (size_t i = 0; i < ds->nfields; i++)
        sb__field_release(&ds->fields[i]);
    if (ds->size_attr >= 0)
        H5Aclose(ds->size_attr);
    ds->size_attr = H5I_INVALID_HID;
    if (ds->group >= 0)
        H5Gclose(ds->group);
    ds->group = H5I_INVALID_HID;
    append_buffer_free(&ds->append);
    free(ds->written.items);
    memset(&ds->written, 0, sizeof ds->written);
}

void sb__dataset_free(sb_dataset *ds)
{
    if (!ds)
        return;
    sb__dataset_release(ds);
    for (size_t i = 0; i < ds->nfields; i++)
        free(ds->fields[i].name);
    free(ds->fields);
    free(ds->name);
    free(ds);
}

void sb__dataset_link(sb_dataset *ds)
{
    sb_store *s = ds->store;
    /* At the end: commits walk the list in the order every rank opened it. */
    ds->next = NULL;
    ds->prev = NULL;
    sb_dataset **p = &s->open_datasets;
    while (*p) {
        ds->prev = *p;
        p = &(*p)->next;
    }
    *p = ds;
}

void sb__dataset_unlink(sb_dataset *ds)
{
    sb_store *s = ds->store;
    if (ds->prev)
        ds->prev->next = ds->next;
    else if (s && s->open_datasets == ds)
        s->open_datasets = ds->next;
    if (ds->next)
        ds->next->prev = ds->prev;
    ds->next = ds->prev = NULL;
}

int sb__dataset_write_size(sb_dataset *ds, uint64_t size)
{
    int64_t value = (int64_t)size;
    if (ds->size_attr < 0) {
        /* First update: also turns a Python int32 attribute into int64. */
        int rc = sb__attr_write_i64(ds->group, SB_ATTR_SIZE, value);
        if (rc < 0)
            return sb__error_wrap(rc, "dataset '%s': cannot update its size", ds->name);
        ds->size_attr = H5Aopen(ds->group, SB_ATTR_SIZE, H5P_DEFAULT);
    } else if (H5Awrite(ds->size_attr, H5T_NATIVE_INT64, &value) < 0) {
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot update its size", ds->name);
    }
    ds->committed = size;
    return 0;
}

int sb__dataset_mark_incomplete(sb_dataset *ds, bool incomplete)
{
    if (ds->incomplete == incomplete)
        return 0;
    int rc = 0;
    if (incomplete)
        rc = sb__attr_write_bool(ds->group, SB_ATTR_INCOMPLETE, true);
    else if (H5Adelete(ds->group, SB_ATTR_INCOMPLETE) < 0)
        rc = sb__h5_error(SB_ERR_IO, "dataset '%s': cannot remove %s", ds->name, SB_ATTR_INCOMPLETE);
    if (rc == 0)
        ds->incomplete = incomplete;
    return rc;
}
