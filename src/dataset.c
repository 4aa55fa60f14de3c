/* Dataset: create, load, rows in (append, extend, write_at), rows out, size. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- handles ------------------------------------------------------------ */

const char *sb_dataset_name(const sb_dataset *ds) { return ds ? ds->name : NULL; }
uint64_t sb_dataset_size(const sb_dataset *ds) { return ds ? ds->size : 0; }
uint64_t sb_dataset_capacity(const sb_dataset *ds) { return ds ? ds->capacity : 0; }
size_t sb_dataset_nfields(const sb_dataset *ds) { return ds ? ds->nfields : 0; }
sb_store *sb_dataset_store(const sb_dataset *ds) { return ds ? ds->store : NULL; }
uint64_t sb_dataset_pending_rows(const sb_dataset *ds) { return ds ? ds->wb_rows : 0; }
bool sb_dataset_is_incomplete(const sb_dataset *ds) { return ds && ds->incomplete; }
bool sb_dataset_found_by_walk(const sb_dataset *ds) { return ds && ds->found_by_walk; }

const char *sb_dataset_field(const sb_dataset *ds, size_t i)
{
    return ds && i < ds->nfields ? ds->fields[i].name : NULL;
}

void sb_dataset_last_write(const sb_dataset *ds, sb_write_report *report)
{
    if (!report)
        return;
    memset(report, 0, sizeof *report);
    if (ds)
        *report = ds->last_write;
}

int sb__dataset_check(const sb_dataset *ds, const char *what)
{
    if (!ds)
        return sb__error(SB_ERR_INVALID, "%s: dataset is NULL", what);
    if (!ds->store)
        return sb__error(SB_ERR_INVALID, "%s: dataset '%s' is closed (its store was closed)", what,
                         ds->name);
    return 0;
}

int sb_dataset_field_index(const sb_dataset *ds, const char *field, size_t *index)
{
    if (!ds || !field || !index)
        return sb__error(SB_ERR_INVALID, "sb_dataset_field_index: NULL argument");
    for (size_t i = 0; i < ds->nfields; i++) {
        if (strcmp(ds->fields[i].name, field) == 0) {
            *index = i;
            return 0;
        }
    }
    return sb__error(SB_ERR_NOT_FOUND, "dataset '%s' has no field '%s'", ds->name, field);
}

int sb_dataset_field_info(const sb_dataset *ds, size_t i, sb_field_info *info)
{
    if (!ds || !info)
        return sb__error(SB_ERR_INVALID, "sb_dataset_field_info: NULL argument");
    if (i >= ds->nfields)
        return sb__error(SB_ERR_NOT_FOUND, "dataset '%s' has %zu fields, no field %zu", ds->name,
                         ds->nfields, i);
    const sb_field *f = &ds->fields[i];
    memset(info, 0, sizeof *info);
    info->name = f->name;
    info->defined = f->defined;
    info->dtype = f->dtype;
    info->row_ndim = f->row_ndim;
    for (int d = 0; d < f->row_ndim; d++)
        info->row_shape[d] = f->row_shape[d];
    info->row_bytes = f->row_bytes;
    return 0;
}

static void wb_free(sb_dataset *ds)
{
    if (ds->wb_data) {
        for (size_t i = 0; i < ds->nfields; i++)
            free(ds->wb_data[i]);
        free(ds->wb_data);
    }
    free(ds->wb_layouts);
    ds->wb_layouts = NULL;
    ds->wb_data = NULL;
    ds->wb_rows = 0;
    ds->wb_calls = 0;
}

void sb__dataset_release_handles(sb_dataset *ds)
{
    for (size_t i = 0; i < ds->nfields; i++)
        sb__field_release(&ds->fields[i]);
    if (ds->size_attr >= 0)
        H5Aclose(ds->size_attr);
    ds->size_attr = H5I_INVALID_HID;
    if (ds->group >= 0)
        H5Gclose(ds->group);
    ds->group = H5I_INVALID_HID;
    wb_free(ds);
}

static void dataset_free(sb_dataset *ds)
{
    if (!ds)
        return;
    sb__dataset_release_handles(ds);
    for (size_t i = 0; i < ds->nfields; i++)
        free(ds->fields[i].name);
    free(ds->fields);
    free(ds->name);
    free(ds);
}

int sb__dataset_alloc(sb_store *s, const char *name, hid_t group, uint64_t capacity,
                      uint64_t size, sb_dataset **out)
{
    sb_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->name = sb__strdup(name))) {
        free(ds);
        return sb__error(SB_ERR_NOMEM, "out of memory opening dataset '%s'", name);
    }
    ds->store = s;
    ds->group = group;
    ds->size_attr = H5I_INVALID_HID;
    ds->capacity = capacity;
    ds->size = size;
    ds->wb_capacity = s->opts.write_buffer_rows;
    *out = ds;
    return 0;
}

static int add_field(sb_dataset *ds, const char *name)
{
    sb_field *f = realloc(ds->fields, (ds->nfields + 1) * sizeof *f);
    if (!f)
        return sb__error(SB_ERR_NOMEM, "out of memory");
    ds->fields = f;
    f = &ds->fields[ds->nfields];
    memset(f, 0, sizeof *f);
    f->dset = H5I_INVALID_HID;
    f->type = H5I_INVALID_HID;
    if (!(f->name = sb__strdup(name)))
        return sb__error(SB_ERR_NOMEM, "out of memory");
    ds->nfields++;
    return 0;
}

int sb__dataset_write_size(sb_dataset *ds, uint64_t size)
{
    int64_t value = (int64_t)size;
    if (ds->size_attr < 0) {
        /* First update: also turns a Python int32 attribute into int64. */
        int rc = sb__attr_write_i64(ds->group, SB_ATTR_SIZE, value);
        if (rc < 0)
            return sb__error(rc, "dataset '%s': cannot update its size: %s", ds->name,
                             sb_last_error_message());
        ds->size_attr = H5Aopen(ds->group, SB_ATTR_SIZE, H5P_DEFAULT);
    } else if (H5Awrite(ds->size_attr, H5T_NATIVE_INT64, &value) < 0) {
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot update its size", ds->name);
    }
    ds->size = size;
    return 0;
}

int sb__dataset_clear_incomplete(sb_dataset *ds)
{
    if (!ds->incomplete)
        return 0;
    if (H5Adelete(ds->group, SB_ATTR_INCOMPLETE) < 0)
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot remove %s", ds->name,
                            SB_ATTR_INCOMPLETE);
    ds->incomplete = false;
    return 0;
}

int sb__dataset_unlink(sb_store *s, const char *name)
{
    if (H5Ldelete(s->file, name, H5P_DEFAULT) < 0)
        return sb__h5_error(SB_ERR_IO, "cannot remove dataset '%s'", name);
    return 0;
}

bool sb__is_asset(hid_t obj)
{
    bool present = false, value = false;
    return sb__attr_read_bool(obj, SB_ATTR_IS_ASSET, "asset", &present, &value) == 0 && present &&
           value;
}

/* ---- create ------------------------------------------------------------- */

static int check_create_args(sb_store *s, const char *name, uint64_t capacity, size_t nfields,
                             const char *const *fields, bool allow_no_field, sb_dataset **out)
{
    if (!out)
        return sb__error(SB_ERR_INVALID, "sb_store_create_dataset: out is NULL");
    int rc = sb__store_check_writable(s, "sb_store_create_dataset");
    if (rc == 0)
        rc = sb__check_name("dataset", name);
    if (rc < 0)
        return rc;
    if (capacity > (uint64_t)INT64_MAX)
        return sb__error(SB_ERR_INVALID, "dataset '%s': capacity %" PRIu64 " is above 2^63-1", name,
                         capacity);
    if ((nfields == 0 && !allow_no_field) || (nfields > 0 && !fields))
        return sb__error(SB_ERR_INVALID, "dataset '%s': at least one field is required", name);
    for (size_t i = 0; i < nfields; i++) {
        if (!fields[i] || !fields[i][0])
            return sb__error(SB_ERR_INVALID, "dataset '%s': field %zu has no name", name, i);
        if (strchr(fields[i], '/') || strcmp(fields[i], ".") == 0 || strcmp(fields[i], "..") == 0)
            return sb__error(SB_ERR_INVALID, "dataset '%s': field name '%s' is not a plain name",
                             name, fields[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(fields[i], fields[j]) == 0)
                return sb__error(SB_ERR_INVALID, "dataset '%s': field '%s' is given twice", name,
                                 fields[i]);
    }
    return 0;
}

static int create_local(sb_store *s, const char *name, uint64_t capacity, size_t nfields,
                        const char *const *fields, bool incomplete, sb_dataset **out)
{
    if (sb__path_exists(s->file, name))
        return sb__error(SB_ERR_EXISTS, "dataset '%s' already exists in store '%s'", name, s->path);
    int rc = sb__create_parents(s->file, name);
    if (rc < 0)
        return rc;
    hid_t g = H5Gcreate2(s->file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return sb__h5_error(SB_ERR_IO, "cannot create dataset '%s'", name);
    rc = sb__attr_write_bool(g, SB_ATTR_IS_DATASET, true);
    if (rc == 0)
        rc = sb__attr_write_i64(g, SB_ATTR_CAPACITY, (int64_t)capacity);
    if (rc == 0)
        rc = sb__attr_write_i64(g, SB_ATTR_SIZE, 0);
    if (rc == 0)
        rc = nfields ? sb__attr_write_strings(g, SB_ATTR_FIELDS, nfields, fields) : 0;
    if (rc == 0 && incomplete)
        rc = sb__attr_write_bool(g, SB_ATTR_INCOMPLETE, true);
    sb_dataset *ds = NULL;
    if (rc == 0)
        rc = sb__dataset_alloc(s, name, g, capacity, 0, &ds);
    if (rc == 0)
        ds->incomplete = incomplete;
    for (size_t i = 0; rc == 0 && i < nfields; i++)
        rc = add_field(ds, fields[i]);
    if (rc < 0) {
        if (ds)
            dataset_free(ds); /* closes g */
        else
            H5Gclose(g);
        H5Ldelete(s->file, name, H5P_DEFAULT);
        return rc;
    }
    *out = ds;
    return 0;
}

int sb_store_create_dataset(sb_store *s, const char *name, uint64_t capacity, size_t nfields,
                            const char *const *fields, sb_dataset **out)
{
    return sb__create_dataset(s, name, capacity, nfields, fields, false, false, out);
}

int sb__create_dataset(sb_store *s, const char *name, uint64_t capacity, size_t nfields,
                       const char *const *fields, bool allow_no_field, bool incomplete,
                       sb_dataset **out)
{
    int rc = check_create_args(s, name, capacity, nfields, fields, allow_no_field, out);
    if (out)
        *out = NULL;
    if (rc < 0 && (!s || s->file < 0 || !s->parallel))
        return rc;
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    sb_hash h;
    sb__hash_init(&h, "create_dataset");
    if (rc == 0) {
        sb__hash_str(&h, name);
        sb__hash_u64(&h, capacity);
        for (size_t i = 0; i < nfields; i++)
            sb__hash_str(&h, fields[i]);
    }
    rc = sb__coll_begin(s, "sb_store_create_dataset", &h, rc);
    sb_dataset *ds = NULL;
    if (rc == 0)
        rc = sb__coll_agree(s, create_local(s, name, capacity, nfields, fields, incomplete, &ds));
    if (rc == 0)
        rc = sb__coll_agree(s, sb__store_flush_file(s));
    if (rc < 0 && ds) {
        dataset_free(ds);
        ds = NULL;
    }
    if (ds) {
        sb__store_link(s, ds);
        *out = ds;
    }
    sb__quiet_end(&q);
    return rc;
}

/* ---- load --------------------------------------------------------------- */

typedef struct found_field {
    char *name;
    hid_t dset;
    int64_t priority;
    bool has_priority;
} found_field;

typedef struct found_list {
    found_field *items;
    size_t count;
    int rc;
    const char *where;
    hsize_t index;  /* of the link being visited */
    bool walked;    /* a field was found only by its index (damaged names) */
} found_list;

static herr_t collect_fields(hid_t group, const char *name, const H5L_info_t *linfo, void *payload)
{
    found_list *l = payload;
    hsize_t index = l->index++;
    if (linfo->type != H5L_TYPE_HARD)
        return 0;
    H5O_info_t oinfo;
    hid_t d = sb__open_visited(group, name, index, &l->walked);
    if (d < 0)
        return 0;
    if (H5Oget_info2(d, &oinfo, H5O_INFO_BASIC) < 0 || oinfo.type != H5O_TYPE_DATASET) {
        H5Oclose(d);
        return 0; /* sub-groups of a dataset are ignored, as Python does */
    }
    bool present = false, is_asset = false;
    char where[SB_ERRMSG_MAX / 2];
    snprintf(where, sizeof where, "dataset '%s', object '%s'", l->where, name);
    int rc = sb__attr_read_bool(d, SB_ATTR_IS_ASSET, where, &present, &is_asset);
    if (rc < 0) {
        H5Dclose(d);
        l->rc = rc;
        return -1;
    }
    if (is_asset) {
        H5Dclose(d);
        return 0;
    }
    found_field *items = realloc(l->items, (l->count + 1) * sizeof *items);
    if (!items) {
        H5Dclose(d);
        l->rc = sb__error(SB_ERR_NOMEM, "out of memory");
        return -1;
    }
    l->items = items;
    found_field *f = &items[l->count];
    memset(f, 0, sizeof *f);
    f->dset = d;
    f->name = sb__strdup(name);
    l->count++;
    if (!f->name) {
        l->rc = sb__error(SB_ERR_NOMEM, "out of memory");
        return -1;
    }
    if (H5Aexists(d, SB_ATTR_PRIORITY) > 0) {
        snprintf(where, sizeof where, "dataset '%s', field '%s'", l->where, name);
        rc = sb__attr_read_int(d, SB_ATTR_PRIORITY, where, &f->priority);
        if (rc < 0) {
            l->rc = rc;
            return -1;
        }
        f->has_priority = true;
    }
    return 0;
}

static int cmp_found(const void *a, const void *b)
{
    /* Python sorts by _sb_priority; a field without one goes last, by name. */
    const found_field *x = a, *y = b;
    if (x->has_priority != y->has_priority)
        return x->has_priority ? -1 : 1;
    if (x->has_priority && x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int load_fields(sb_dataset *ds)
{
    found_list l = {NULL, 0, 0, ds->name, 0, false};
    hsize_t idx = 0;
    if (H5Literate(ds->group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_fields, &l) < 0 && l.rc == 0)
        l.rc = sb__h5_error(SB_ERR_FORMAT, "dataset '%s': cannot list its fields", ds->name);
    ds->found_by_walk |= l.walked;
    int rc = l.rc;
    if (rc == 0 && l.count > 1)
        qsort(l.items, l.count, sizeof *l.items, cmp_found);

    /* The extension attribute fixes the order and keeps fields never written. */
    char **declared = NULL;
    size_t ndeclared = 0;
    if (rc == 0) {
        char where[SB_ERRMSG_MAX / 2];
        snprintf(where, sizeof where, "dataset '%s'", ds->name);
        int r = sb__attr_read_strings(ds->group, SB_ATTR_FIELDS, where, &declared, &ndeclared);
        if (r < 0 && r != SB_ERR_NOT_FOUND)
            rc = r;
    }
    for (size_t i = 0; rc == 0 && i < ndeclared; i++)
        rc = add_field(ds, declared[i]);
    for (size_t i = 0; rc == 0 && i < l.count; i++) {
        bool known = false;
        for (size_t j = 0; j < ndeclared && !known; j++)
            known = strcmp(declared[j], l.items[i].name) == 0;
        if (!known)
            rc = add_field(ds, l.items[i].name);
    }
    for (size_t i = 0; i < l.count; i++) {
        if (rc == 0) {
            size_t k = 0;
            sb_dataset_field_index(ds, l.items[i].name, &k);
            rc = sb__field_open(ds, &ds->fields[k], l.items[i].dset);
        } else {
            H5Dclose(l.items[i].dset);
        }
        free(l.items[i].name);
    }
    free(l.items);
    sb_strings_free(declared, ndeclared);
    return rc;
}

static int load_local(sb_store *s, const char *name, sb_dataset **out)
{
    bool walked = false;
    hid_t g = H5I_INVALID_HID;
    H5O_info_t info;
    if (sb__path_exists(s->file, name)) {
        if (H5Oexists_by_name(s->file, name, H5P_DEFAULT) <= 0)
            return sb__error(SB_ERR_NOT_FOUND,
                             "store '%s' has no dataset '%s' (a link to nothing)", s->path, name);
        if (H5Oget_info_by_name2(s->file, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
            return sb__h5_error(SB_ERR_FORMAT, "cannot inspect '%s' in store '%s'", name, s->path);
        if (info.type != H5O_TYPE_GROUP)
            return sb__error(SB_ERR_NOT_FOUND, "'%s' in store '%s' is not a dataset (not a group)",
                             name, s->path);
        g = H5Gopen2(s->file, name, H5P_DEFAULT);
        if (g < 0)
            return sb__h5_error(SB_ERR_FORMAT, "cannot open dataset '%s'", name);
    } else {
        /* Not found by name: a damaged group may still hold it (store.c). */
        g = sb__open_path(s->file, name, &walked);
        if (g < 0)
            return sb__error(SB_ERR_NOT_FOUND, "store '%s' has no dataset '%s'", s->path, name);
        if (H5Oget_info2(g, &info, H5O_INFO_BASIC) < 0 || info.type != H5O_TYPE_GROUP) {
            H5Oclose(g);
            return sb__error(SB_ERR_NOT_FOUND, "'%s' in store '%s' is not a dataset (not a group)",
                             name, s->path);
        }
    }
    char where[SB_ERRMSG_MAX / 2];
    snprintf(where, sizeof where, "dataset '%s'", name);
    bool present = false, is_ds = false, incomplete = false;
    int64_t capacity = 0, size = 0;
    int rc = sb__attr_read_bool(g, SB_ATTR_IS_DATASET, where, &present, &is_ds);
    if (rc == 0 && !(present && is_ds))
        rc = sb__error(SB_ERR_NOT_FOUND, "'%s' in store '%s' is not a dataset (no %s = TRUE)", name,
                       s->path, SB_ATTR_IS_DATASET);
    /* Absent (every dataset but an unfinished export copy) reads as false. */
    if (rc == 0)
        rc = sb__attr_read_bool(g, SB_ATTR_INCOMPLETE, where, &present, &incomplete);
    if (rc == 0) {
        rc = sb__attr_read_int(g, SB_ATTR_CAPACITY, where, &capacity);
        if (rc == SB_ERR_NOT_FOUND)
            rc = sb__error_recode(SB_ERR_FORMAT);
    }
    if (rc == 0 && capacity < 0)
        rc = sb__error(SB_ERR_FORMAT, "dataset '%s': %s is negative (%" PRId64 ")", name,
                       SB_ATTR_CAPACITY, capacity);
    if (rc == 0) {
        rc = sb__attr_read_int(g, SB_ATTR_SIZE, where, &size);
        if (rc == SB_ERR_NOT_FOUND)
            rc = sb__error_recode(SB_ERR_FORMAT);
    }
    if (rc == 0 && (size < 0 || size > capacity))
        rc = sb__error(SB_ERR_FORMAT, "dataset '%s': %s = %" PRId64 " is outside [0, %s = %" PRId64 "]",
                       name, SB_ATTR_SIZE, size, SB_ATTR_CAPACITY, capacity);
    if (rc < 0) {
        H5Gclose(g);
        return rc;
    }
    sb_dataset *ds = NULL;
    rc = sb__dataset_alloc(s, name, g, (uint64_t)capacity, (uint64_t)size, &ds);
    if (rc < 0) {
        H5Gclose(g);
        return rc;
    }
    ds->incomplete = incomplete;
    ds->found_by_walk = walked;
    rc = load_fields(ds);
    if (rc < 0) {
        dataset_free(ds);
        return rc;
    }
    *out = ds;
    return 0;
}

int sb_store_load_dataset(sb_store *s, const char *name, sb_dataset **out)
{
    int rc = out ? 0 : sb__error(SB_ERR_INVALID, "sb_store_load_dataset: out is NULL");
    if (out)
        *out = NULL;
    if (rc == 0)
        rc = sb__store_check(s, "sb_store_load_dataset");
    if (rc == 0)
        rc = sb__check_name("dataset", name);
    if (rc < 0 && (!s || s->file < 0 || !s->parallel))
        return rc;
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    sb_hash h;
    sb__hash_init(&h, "load_dataset");
    sb__hash_str(&h, rc == 0 ? name : NULL);
    rc = sb__coll_begin(s, "sb_store_load_dataset", &h, rc);
    sb_dataset *ds = NULL;
    if (rc == 0)
        rc = sb__coll_agree(s, load_local(s, name, &ds));
    if (rc < 0 && ds) {
        dataset_free(ds);
        ds = NULL;
    }
    if (ds) {
        sb__store_link(s, ds);
        *out = ds;
    }
    sb__quiet_end(&q);
    return rc;
}

/* ---- rows in ------------------------------------------------------------ */

/* What one rank brings to a write: its row count and each field's layout. */
typedef struct batch {
    uint64_t nrows;
    sb_row_layout *layouts; /* nfields */
    const void **data;      /* nfields */
} batch;

static int describe_mismatch(sb_dataset *ds, size_t i, const sb_row_layout *want,
                             const sb_row_layout *got, int code)
{
    char a[128], b[128];
    sb__layout_describe(want, a, sizeof a);
    sb__layout_describe(got, b, sizeof b);
    return sb__error(code, "dataset '%s': field '%s' holds rows of %s, got %s", ds->name,
                     ds->fields[i].name, a, b);
}

/* Validate the arrays of one call. `row` = append (each array is one row),
 * otherwise extend (first dimension = rows). */
static int batch_from_arrays(sb_dataset *ds, const sb_array *arrays, bool row, batch *b)
{
    b->nrows = 0;
    if (!arrays)
        return 0;
    for (size_t i = 0; i < ds->nfields; i++) {
        const sb_array *a = &arrays[i];
        if (!sb__dtype_valid(a->dtype))
            return sb__error(SB_ERR_INVALID, "dataset '%s': field '%s': invalid dtype %d", ds->name,
                             ds->fields[i].name, (int)a->dtype);
        int min_ndim = row ? 0 : 1;
        if (a->ndim < min_ndim || a->ndim > SB_MAX_DIMS - (row ? 1 : 0))
            return sb__error(SB_ERR_INVALID, "dataset '%s': field '%s': %s has %d dimensions",
                             ds->name, ds->fields[i].name, row ? "row" : "column", a->ndim);
        uint64_t n = row ? 1 : a->shape[0];
        if (i == 0)
            b->nrows = n;
        else if (n != b->nrows)
            return sb__error(SB_ERR_INVALID,
                             "dataset '%s': field '%s' has %" PRIu64 " rows but field '%s' has %" PRIu64,
                             ds->name, ds->fields[i].name, n, ds->fields[0].name, b->nrows);
        sb_row_layout *l = &b->layouts[i];
        memset(l, 0, sizeof *l);
        l->dtype = a->dtype;
        l->row_ndim = row ? a->ndim : a->ndim - 1;
        for (int d = 0; d < l->row_ndim; d++)
            l->row_shape[d] = a->shape[d + (row ? 0 : 1)];
        b->data[i] = a->data;
    }
    if (b->nrows == 0)
        return 0;
    for (size_t i = 0; i < ds->nfields; i++) {
        if (!arrays[i].data)
            return sb__error(SB_ERR_INVALID, "dataset '%s': field '%s': data is NULL", ds->name,
                             ds->fields[i].name);
        if (ds->fields[i].defined) {
            sb_row_layout want;
            sb__layout_of_field(&ds->fields[i], &want);
            if (!sb__layout_equal(&want, &b->layouts[i]))
                return describe_mismatch(ds, i, &want, &b->layouts[i], SB_ERR_TYPE);
        }
    }
    return 0;
}

static uint64_t layout_hash(const sb_row_layout *l)
{
    sb_hash h;
    sb__hash_init(&h, "layout");
    sb__hash_u64(&h, (uint64_t)l->dtype);
    sb__hash_u64(&h, (uint64_t)l->row_ndim);
    for (int d = 0; d < l->row_ndim; d++)
        sb__hash_u64(&h, l->row_shape[d]);
    return h.h;
}

static int define_fields_from(sb_dataset *ds, int root, sb_row_layout *layouts)
{
    sb_store *s = ds->store;
    int rc = sb__coll_bcast(s, layouts, ds->nfields * sizeof *layouts, root);
    if (rc < 0)
        return rc;
    bool created = false;
    int local = 0;
    for (size_t i = 0; i < ds->nfields && local == 0; i++) {
        if (!ds->fields[i].defined) {
            local = sb__field_create(ds, &ds->fields[i], &layouts[i]);
            created = true;
        }
    }
    rc = sb__coll_agree(s, local);
    /* A new field is a structural change: commit it at once so that a killed
     * job never leaves a half-made object header behind. */
    if (rc == 0 && created)
        rc = sb__coll_agree(s, sb__store_flush_file(s));
    return rc;
}

/* The one path every row takes: validated locally, agreed collectively,
 * placed in rank order after the current size. */
static int write_batch(sb_dataset *ds, int local_rc, batch *b)
{
    sb_store *s = ds->store;
    size_t nf = ds->nfields, per = 2 + nf;
    uint64_t *mine = calloc(per, sizeof *mine);
    uint64_t *all = calloc(per * (size_t)s->nranks, sizeof *all);
    int rc = 0;
    if (!mine || !all) {
        free(mine);
        free(all);
        /* Cannot even take part: tell the others through the agreement. */
        return sb__coll_agree(s, sb__error(SB_ERR_NOMEM, "out of memory"));
    }
    mine[0] = local_rc < 0 ? 1 : 0;
    mine[1] = local_rc < 0 ? 0 : b->nrows;
    for (size_t i = 0; i < nf && mine[1] > 0; i++)
        mine[2 + i] = layout_hash(&b->layouts[i]);
    rc = sb__coll_allgather_u64(s, mine, per, all);
    bool any_failed = false;
    for (int r = 0; rc == 0 && r < s->nranks; r++)
        any_failed |= all[(size_t)r * per] != 0;
    if (rc == 0 && any_failed)
        rc = sb__coll_agree(s, local_rc);

    uint64_t total = 0, before = 0;
    int first = -1;
    for (int r = 0; rc == 0 && r < s->nranks; r++) {
        const uint64_t *e = &all[(size_t)r * per];
        if (e[1] == 0)
            continue;
        if (r < s->rank)
            before += e[1];
        total += e[1];
        if (first < 0) {
            first = r;
            continue;
        }
        const uint64_t *f0 = &all[(size_t)first * per];
        for (size_t i = 0; i < nf; i++) {
            if (f0[2 + i] != e[2 + i]) {
                rc = sb__error(SB_ERR_TYPE,
                               "dataset '%s': ranks %d and %d passed rows of different dtypes or "
                               "shapes for field '%s'; every rank must pass the same",
                               ds->name, first, r, ds->fields[i].name);
                break;
            }
        }
    }
    free(mine);
    free(all);
    if (rc < 0 || total == 0)
        return rc;
    if (total > ds->capacity - ds->size)
        return sb__error(SB_ERR_FULL,
                         "dataset '%s' is full: %" PRIu64 " rows + %" PRIu64 " new exceed its capacity %" PRIu64,
                         ds->name, ds->size, total, ds->capacity);

    bool undefined = false;
    for (size_t i = 0; i < nf; i++)
        undefined |= !ds->fields[i].defined;
    if (undefined) {
        sb_row_layout *layouts = calloc(nf, sizeof *layouts);
        if (!layouts)
            return sb__coll_agree(s, sb__error(SB_ERR_NOMEM, "out of memory"));
        if (s->rank == first)
            memcpy(layouts, b->layouts, nf * sizeof *layouts);
        rc = define_fields_from(ds, first, layouts);
        free(layouts);
        if (rc < 0)
            return rc;
    }

    uint64_t offset = ds->size + before;
    uint64_t mine_rows = local_rc < 0 ? 0 : b->nrows;
    int local = 0;
    for (size_t i = 0; i < nf; i++) {
        /* Every rank takes part in every field's transfer, even after a local
         * failure, or the others would wait for it. */
        int r = sb__field_write(ds, &ds->fields[i], offset, local == 0 ? mine_rows : 0,
                                b->data ? b->data[i] : NULL, s->parallel);
        if (r < 0 && local == 0)
            local = r;
    }
    rc = sb__coll_agree(s, local);
    if (rc == 0)
        rc = sb__store_sync_rows(s);
    if (rc == 0)
        rc = sb__coll_agree(s, sb__dataset_write_size(ds, ds->size + total));
    return rc;
}

static int rows_in(sb_dataset *ds, const sb_array *arrays, bool row, const char *what)
{
    int rc = sb__dataset_check(ds, what);
    if (rc < 0)
        return rc;
    sb_store *s = ds->store;
    if (!s->writable)
        rc = sb__store_check_writable(s, what);
    else if (!arrays && !s->parallel)
        rc = sb__error(SB_ERR_INVALID, "%s: dataset '%s': arrays are NULL", what, ds->name);
    sb_row_layout layouts[64], *lp = layouts;
    const void *data[64], **dp = data;
    if (ds->nfields > 64) {
        lp = calloc(ds->nfields, sizeof *lp);
        dp = calloc(ds->nfields, sizeof *dp);
        if (!lp || !dp)
            rc = sb__error(SB_ERR_NOMEM, "out of memory");
    }
    batch b = {0, lp, dp};
    if (rc == 0)
        rc = batch_from_arrays(ds, arrays, row, &b);
    if (rc == 0 && !s->parallel && b.nrows == 0)
        goto done; /* an empty extend is a no-op */
    if (rc < 0 && !s->parallel)
        goto done;
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    rc = write_batch(ds, rc, &b);
    sb__quiet_end(&q);
done:
    if (lp != layouts) {
        free(lp);
        free(dp);
    }
    return rc;
}

int sb_dataset_extend(sb_dataset *ds, const sb_array *columns)
{
    return rows_in(ds, columns, false, "sb_dataset_extend");
}

static int check_count(const sb_dataset *ds, size_t n, const char *what)
{
    int rc = sb__dataset_check(ds, what);
    if (rc == 0 && n != ds->nfields)
        rc = sb__error(SB_ERR_INVALID, "%s: dataset '%s' has %zu fields, %zu arrays given", what,
                       ds->name, ds->nfields, n);
    return rc;
}

int sb_dataset_extend_n(sb_dataset *ds, size_t ncolumns, const sb_array *columns)
{
    int rc = check_count(ds, ncolumns, "sb_dataset_extend_n");
    if (rc < 0 && ds && ds->store && ds->store->parallel)
        return write_batch(ds, rc, &(batch){0, NULL, NULL});
    return rc < 0 ? rc : sb_dataset_extend(ds, columns);
}

/* ---- write-behind buffer ------------------------------------------------ */

/* Buffered rows go out as one extend. Every rank flushes at the same append
 * call (calls are counted, not rows), so the collective write lines up. */
static int wb_flush(sb_dataset *ds)
{
    sb_store *s = ds->store;
    if (!s->parallel && ds->wb_rows == 0) {
        ds->wb_calls = 0;
        return 0;
    }
    sb_array *cols = NULL;
    int rc = 0;
    if (ds->wb_rows > 0) {
        cols = calloc(ds->nfields, sizeof *cols);
        if (!cols)
            rc = sb__error(SB_ERR_NOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < ds->nfields; i++) {
            const sb_row_layout *l = &ds->wb_layouts[i];
            cols[i].dtype = l->dtype;
            cols[i].ndim = l->row_ndim + 1;
            cols[i].shape[0] = ds->wb_rows;
            for (int d = 0; d < l->row_ndim; d++)
                cols[i].shape[d + 1] = l->row_shape[d];
            cols[i].data = ds->wb_data[i];
        }
    }
    uint64_t dropped = ds->wb_rows;
    if (rc < 0 && s->parallel)
        rc = sb__coll_agree(s, rc);
    else if (rc == 0)
        rc = rows_in(ds, cols, false, "sb_dataset_flush");
    free(cols);
    ds->wb_rows = 0;
    ds->wb_calls = 0;
    if (rc < 0 && dropped > 0) {
        char msg[SB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s (%" PRIu64 " buffered rows of this rank were dropped)",
                 sb_last_error_message(), dropped);
        sb__error_set(rc, msg);
    }
    return rc;
}

static int wb_push(sb_dataset *ds, const sb_array *row)
{
    sb_row_layout layouts[64];
    const void *data[64];
    if (ds->nfields > 64)
        return sb__error(SB_ERR_INVALID, "dataset '%s': buffered append supports at most 64 fields",
                         ds->name);
    batch b = {0, layouts, data};
    int rc = batch_from_arrays(ds, row, true, &b);
    if (rc < 0)
        return rc;
    if (ds->wb_rows > 0) {
        for (size_t i = 0; i < ds->nfields; i++)
            if (!sb__layout_equal(&ds->wb_layouts[i], &layouts[i]))
                return describe_mismatch(ds, i, &ds->wb_layouts[i], &layouts[i], SB_ERR_TYPE);
    } else if (!ds->wb_data) {
        ds->wb_layouts = calloc(ds->nfields, sizeof *ds->wb_layouts);
        ds->wb_data = calloc(ds->nfields, sizeof *ds->wb_data);
        if (!ds->wb_layouts || !ds->wb_data) {
            wb_free(ds);
            return sb__error(SB_ERR_NOMEM, "out of memory");
        }
    }
    if (ds->wb_rows == 0) {
        for (size_t i = 0; i < ds->nfields; i++) {
            free(ds->wb_data[i]);
            ds->wb_layouts[i] = layouts[i];
            uint64_t bytes = sb_dtype_size(layouts[i].dtype);
            for (int d = 0; d < layouts[i].row_ndim; d++)
                bytes *= layouts[i].row_shape[d];
            ds->wb_data[i] = malloc(bytes * ds->wb_capacity + 1);
            if (!ds->wb_data[i]) {
                wb_free(ds);
                return sb__error(SB_ERR_NOMEM, "out of memory for the write buffer of '%s'", ds->name);
            }
        }
    }
    if (!ds->store->parallel && ds->size + ds->wb_rows + 1 > ds->capacity)
        return sb__error(SB_ERR_FULL, "dataset '%s' is full (capacity %" PRIu64 ")", ds->name,
                         ds->capacity);
    for (size_t i = 0; i < ds->nfields; i++) {
        uint64_t bytes = sb_array_nbytes(&row[i]);
        memcpy(ds->wb_data[i] + ds->wb_rows * bytes, row[i].data, bytes);
    }
    ds->wb_rows++;
    return 0;
}

int sb_dataset_append(sb_dataset *ds, const sb_array *row)
{
    int rc = sb__dataset_check(ds, "sb_dataset_append");
    if (rc < 0)
        return rc;
    if (ds->wb_capacity == 0)
        return rows_in(ds, row, true, "sb_dataset_append");
    if (!ds->store->writable)
        rc = sb__store_check_writable(ds->store, "sb_dataset_append");
    else if (!row && !ds->store->parallel)
        rc = sb__error(SB_ERR_INVALID, "sb_dataset_append: dataset '%s': row is NULL", ds->name);
    else if (row)
        rc = wb_push(ds, row);
    /* Counted even when this rank failed, so that all ranks flush together. */
    ds->wb_calls++;
    if (ds->wb_calls >= ds->wb_capacity) {
        int r = wb_flush(ds);
        if (rc == 0)
            rc = r;
    }
    return rc;
}

int sb_dataset_append_n(sb_dataset *ds, size_t nfields, const sb_array *row)
{
    int rc = check_count(ds, nfields, "sb_dataset_append_n");
    if (rc < 0 && ds && ds->store && ds->store->parallel && ds->wb_capacity == 0)
        return write_batch(ds, rc, &(batch){0, NULL, NULL});
    if (rc < 0 && ds && ds->store && ds->store->parallel && ds->wb_capacity > 0) {
        /* Still count the call (and flush if due) so all ranks stay aligned. */
        int code = sb_last_error_code();
        char msg[SB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", sb_last_error_message());
        sb_dataset_append(ds, NULL);
        sb__error_set(code, msg);
    }
    return rc < 0 ? rc : sb_dataset_append(ds, row);
}

int sb_dataset_set_write_buffer(sb_dataset *ds, uint64_t rows)
{
    int rc = sb__dataset_check(ds, "sb_dataset_set_write_buffer");
    if (rc < 0)
        return rc;
    sb_hash h;
    sb__hash_init(&h, "set_write_buffer");
    sb__hash_str(&h, ds->name);
    sb__hash_u64(&h, rows);
    sb__hash_u64(&h, ds->wb_calls);
    rc = sb__coll_begin(ds->store, "sb_dataset_set_write_buffer", &h, 0);
    if (rc == 0)
        rc = wb_flush(ds);
    wb_free(ds);
    if (rc == 0)
        ds->wb_capacity = rows;
    return rc;
}

int sb_dataset_flush(sb_dataset *ds)
{
    int rc = sb__dataset_check(ds, "sb_dataset_flush");
    if (rc < 0)
        return rc;
    sb_store *s = ds->store;
    sb_hash h;
    sb__hash_init(&h, "dataset_flush");
    sb__hash_str(&h, ds->name);
    sb__hash_u64(&h, ds->wb_calls);
    rc = sb__coll_begin(s, "sb_dataset_flush", &h, 0);
    if (rc == 0 && ds->wb_capacity > 0)
        rc = wb_flush(ds);
    if (rc == 0 && s->writable) {
        sb_h5_quiet q;
        sb__quiet_begin(&q);
        rc = sb__coll_agree(s, sb__store_flush_file(s));
        sb__quiet_end(&q);
    }
    return rc;
}

/* ---- explicit offsets --------------------------------------------------- */

int sb_dataset_write_at(sb_dataset *ds, uint64_t offset, const sb_array *columns)
{
    int rc = sb__dataset_check(ds, "sb_dataset_write_at");
    if (rc == 0)
        rc = sb__store_check_writable(ds->store, "sb_dataset_write_at");
    if (rc == 0 && !columns)
        rc = sb__error(SB_ERR_INVALID, "sb_dataset_write_at: dataset '%s': columns are NULL", ds->name);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < ds->nfields; i++)
        if (!ds->fields[i].defined)
            return sb__error(SB_ERR_INVALID,
                             "sb_dataset_write_at: dataset '%s': field '%s' has no dtype yet; "
                             "call sb_dataset_define_field (collective) first",
                             ds->name, ds->fields[i].name);
    sb_row_layout layouts[64];
    const void *data[64];
    if (ds->nfields > 64)
        return sb__error(SB_ERR_INVALID, "dataset '%s': write_at supports at most 64 fields", ds->name);
    batch b = {0, layouts, data};
    rc = batch_from_arrays(ds, columns, false, &b);
    if (rc < 0 || b.nrows == 0)
        return rc;
    if (offset > ds->capacity || b.nrows > ds->capacity - offset)
        return sb__error(SB_ERR_FULL,
                         "dataset '%s': rows [%" PRIu64 ", %" PRIu64 ") are beyond its capacity %" PRIu64,
                         ds->name, offset, offset + b.nrows, ds->capacity);
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    for (size_t i = 0; rc == 0 && i < ds->nfields; i++)
        rc = sb__field_write(ds, &ds->fields[i], offset, b.nrows, b.data[i], false);
    sb__quiet_end(&q);
    return sb__store_local_write_failures(ds->store, rc);
}

int sb_dataset_commit_size(sb_dataset *ds, uint64_t local_end)
{
    int rc = sb__dataset_check(ds, "sb_dataset_commit_size");
    if (rc < 0)
        return rc;
    sb_store *s = ds->store;
    int local = sb__store_check_writable(s, "sb_dataset_commit_size");
    if (local == 0 && local_end > ds->capacity)
        local = sb__error(SB_ERR_FULL, "sb_dataset_commit_size: dataset '%s': end %" PRIu64
                          " is beyond its capacity %" PRIu64, ds->name, local_end, ds->capacity);
    sb_hash h;
    sb__hash_init(&h, "commit_size");
    sb__hash_str(&h, ds->name);
    rc = sb__coll_begin(s, "sb_dataset_commit_size", &h, local);
    uint64_t end = local_end;
    if (rc == 0)
        rc = sb__coll_max_u64(s, &end);
    if (rc == 0 && end > ds->size) {
        sb_h5_quiet q;
        sb__quiet_begin(&q);
        rc = sb__store_sync_rows(s);
        if (rc == 0)
            rc = sb__coll_agree(s, sb__dataset_write_size(ds, end));
        sb__quiet_end(&q);
    }
    return rc;
}

int sb_dataset_define_field(sb_dataset *ds, const char *field, sb_dtype dtype, int row_ndim,
                            const uint64_t *row_shape)
{
    int rc = sb__dataset_check(ds, "sb_dataset_define_field");
    if (rc < 0)
        return rc;
    sb_store *s = ds->store;
    size_t idx = 0;
    sb_row_layout l;
    memset(&l, 0, sizeof l);
    int local = sb__store_check_writable(s, "sb_dataset_define_field");
    if (local == 0 && !field)
        local = sb__error(SB_ERR_INVALID, "sb_dataset_define_field: field is NULL");
    if (local == 0)
        local = sb_dataset_field_index(ds, field, &idx);
    if (local == 0 && !sb__dtype_valid(dtype))
        local = sb__error(SB_ERR_INVALID, "dataset '%s': field '%s': invalid dtype %d", ds->name,
                          field, (int)dtype);
    if (local == 0 && (row_ndim < 0 || row_ndim > SB_MAX_DIMS - 1 || (row_ndim > 0 && !row_shape)))
        local = sb__error(SB_ERR_INVALID, "dataset '%s': field '%s': row_ndim %d out of [0, %d]",
                          ds->name, field, row_ndim, SB_MAX_DIMS - 1);
    if (local == 0) {
        l.dtype = dtype;
        l.row_ndim = row_ndim;
        for (int d = 0; d < row_ndim; d++)
            l.row_shape[d] = row_shape[d];
    }
    sb_hash h;
    sb__hash_init(&h, "define_field");
    sb__hash_str(&h, ds->name);
    sb__hash_str(&h, local == 0 ? field : NULL);
    sb__hash_u64(&h, layout_hash(&l));
    rc = sb__coll_begin(s, "sb_dataset_define_field", &h, local);
    if (rc < 0)
        return rc;
    sb_field *f = &ds->fields[idx];
    if (f->defined) {
        sb_row_layout have;
        sb__layout_of_field(f, &have);
        return sb__layout_equal(&have, &l) ? 0 : describe_mismatch(ds, idx, &have, &l, SB_ERR_TYPE);
    }
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    rc = sb__coll_agree(s, sb__field_create(ds, f, &l));
    if (rc == 0)
        rc = sb__coll_agree(s, sb__store_flush_file(s));
    sb__quiet_end(&q);
    return rc;
}

/* ---- rows out ----------------------------------------------------------- */

static int check_read(sb_dataset *ds, const char *what, const char *field, uint64_t start,
                      uint64_t count, void *buf, sb_field **out)
{
    int rc = sb__dataset_check(ds, what);
    size_t idx = 0;
    if (rc == 0 && !field)
        rc = sb__error(SB_ERR_INVALID, "%s: dataset '%s': field is NULL", what, ds->name);
    if (rc == 0)
        rc = sb_dataset_field_index(ds, field, &idx);
    if (rc < 0)
        return rc;
    if (start > ds->size || count > ds->size - start)
        return sb__error(SB_ERR_INVALID,
                         "%s: dataset '%s', field '%s': rows [%" PRIu64 ", %" PRIu64
                         ") are outside [0, size = %" PRIu64 ")",
                         what, ds->name, field, start, start + count, ds->size);
    if (count > 0 && !buf)
        return sb__error(SB_ERR_INVALID, "%s: dataset '%s': buffer is NULL", what, ds->name);
    *out = &ds->fields[idx];
    return 0;
}

int sb_dataset_read(sb_dataset *ds, const char *field, uint64_t start, uint64_t count, void *buf)
{
    sb_field *f = NULL;
    int rc = check_read(ds, "sb_dataset_read", field, start, count, buf, &f);
    if (rc < 0 || count == 0)
        return rc;
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    rc = sb__field_read(ds, f, start, count, buf, false);
    sb__quiet_end(&q);
    return rc;
}

int sb_dataset_read_all(sb_dataset *ds, const char *field, uint64_t start, uint64_t count,
                        void *buf)
{
    sb_field *f = NULL;
    int local = check_read(ds, "sb_dataset_read_all", field, start, count, buf, &f);
    if (!ds || !ds->store)
        return local;
    sb_store *s = ds->store;
    sb_hash h;
    sb__hash_init(&h, "read_all");
    sb__hash_str(&h, ds->name);
    sb__hash_str(&h, local == 0 ? field : NULL);
    int rc = sb__coll_begin(s, "sb_dataset_read_all", &h, local);
    if (rc < 0)
        return rc;
    if (!f->defined) /* never written: size is 0, so every count is 0 */
        return 0;
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    rc = sb__coll_agree(s, sb__field_read(ds, f, start, count, buf, s->parallel));
    sb__quiet_end(&q);
    return rc;
}

int sb_dataset_get(sb_dataset *ds, const char *field, sb_array *out)
{
    if (!out)
        return sb__error(SB_ERR_INVALID, "sb_dataset_get: out is NULL");
    memset(out, 0, sizeof *out);
    sb_field *f = NULL;
    int rc = check_read(ds, "sb_dataset_get", field, 0, 0, NULL, &f);
    if (rc < 0)
        return rc;
    if (!f->defined)
        return sb__error(SB_ERR_NOT_FOUND,
                         "dataset '%s': field '%s' has no data yet (no row was ever written)",
                         ds->name, field);
    out->dtype = f->dtype;
    out->ndim = f->row_ndim + 1;
    out->shape[0] = ds->size;
    for (int d = 0; d < f->row_ndim; d++)
        out->shape[d + 1] = f->row_shape[d];
    out->data = malloc(ds->size * f->row_bytes + 1);
    if (!out->data) {
        memset(out, 0, sizeof *out);
        return sb__error(SB_ERR_NOMEM, "dataset '%s': out of memory reading field '%s'", ds->name,
                         field);
    }
    rc = sb_dataset_read(ds, field, 0, ds->size, out->data);
    if (rc < 0)
        sb_array_release(out);
    return rc;
}

/* ---- reset and close ---------------------------------------------------- */

int sb_dataset_reset(sb_dataset *ds)
{
    int rc = sb__dataset_check(ds, "sb_dataset_reset");
    if (rc < 0)
        return rc;
    sb_store *s = ds->store;
    sb_hash h;
    sb__hash_init(&h, "reset");
    sb__hash_str(&h, ds->name);
    rc = sb__coll_begin(s, "sb_dataset_reset", &h, sb__store_check_writable(s, "sb_dataset_reset"));
    if (rc < 0)
        return rc;
    ds->wb_rows = 0;
    ds->wb_calls = 0;
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    rc = sb__coll_agree(s, sb__dataset_write_size(ds, 0));
    sb__quiet_end(&q);
    return rc;
}

int sb_dataset_close(sb_dataset *ds)
{
    if (!ds)
        return sb__error(SB_ERR_INVALID, "sb_dataset_close: dataset is NULL");
    int rc = 0;
    sb_store *s = ds->store;
    if (s) {
        if (s->writable && (ds->wb_capacity > 0))
            rc = sb_dataset_flush(ds);
        sb__store_unlink(s, ds);
    }
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    dataset_free(ds);
    sb__quiet_end(&q);
    return rc;
}
