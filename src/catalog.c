/* The catalog: create, load, find and remove datasets, as Python does. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "dtype.h"
#include "format.h"
#include "h5path.h"

/* ---- create ------------------------------------------------------------- */

static int check_fields(const char *name, size_t nfields, const char *const *fields)
{
    if (nfields == 0 || !fields)
        return sb__error(SB_ERR_INVALID, "dataset '%s': at least one field is required", name);
    for (size_t i = 0; i < nfields; i++) {
        int rc = sb__member_name("field", name, fields[i]);
        if (rc < 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(fields[i], fields[j]) == 0)
                return sb__error(SB_ERR_INVALID, "dataset '%s': field '%s' is given twice", name,
                                 fields[i]);
    }
    return 0;
}

/* A name below a dataset must not take the place of one of its fields: a
 * field without rows has no HDF5 object yet, so nothing else would stop the
 * group, and the field could never be written. Reads only. */
static int not_a_field(sb_store *s, const char *name)
{
    /* Both buffers before the first HDF5 call: with collective metadata
     * reads, a rank must not stop between them alone. */
    char *prefix = sb__strdup(name), *scratch = sb__strdup(name);
    if (!prefix || !scratch) {
        free(prefix);
        free(scratch);
        return sb__error(SB_ERR_NOMEM, "out of memory creating dataset '%s'", name);
    }
    int rc = 0;
    for (const char *slash = strchr(name, '/'); rc == 0 && slash; slash = strchr(slash + 1, '/')) {
        size_t plen = (size_t)(slash - name);
        memcpy(prefix, name, plen);
        prefix[plen] = '\0';
        const char *part = slash + 1;
        size_t partlen = strcspn(part, "/");
        bool exists = false;
        if (sb__path_exists(&exists, s->file, prefix, scratch) < 0 || !exists)
            break;
        hid_t g = H5Oopen(s->file, prefix, H5P_DEFAULT);
        if (g < 0)
            break;
        bool present = false, is_ds = false;
        char **fields = NULL;
        size_t nfields = 0;
        if (H5Iget_type(g) == H5I_GROUP &&
            sb__attr_read_bool(g, SB_ATTR_IS_DATASET, prefix, &present, &is_ds) == 0 && is_ds &&
            sb__attr_read_strings(g, SB_ATTR_FIELDS, prefix, &fields, &nfields) == 0) {
            for (size_t i = 0; i < nfields && rc == 0; i++)
                if (strlen(fields[i]) == partlen && memcmp(fields[i], part, partlen) == 0)
                    rc = sb__error(SB_ERR_EXISTS,
                                   "dataset '%s' cannot be created: '%s' is a field of dataset '%s'",
                                   name, fields[i], prefix);
        }
        free(fields);
        H5Oclose(g);
    }
    if (rc == 0)
        sb_clear_error();
    free(prefix);
    free(scratch);
    return rc;
}

/* The group, its attributes and the parent groups on the way: HDF5 calls
 * that every rank makes alike, with nothing of the library's to allocate
 * (`scratch` holds strlen(name) + 1 bytes, `packed` the field names). A
 * failure leaves the store as it was. */
static int make_group(hid_t *out, size_t *parents, sb_store *s, const char *name,
                      uint64_t capacity, size_t nfields, const char *packed, size_t width,
                      bool incomplete, char *scratch)
{
    bool exists = false;
    int rc = sb__path_exists(&exists, s->file, name, scratch);
    if (rc < 0)
        return rc;
    if (exists)
        return sb__error(SB_ERR_EXISTS, "dataset '%s' already exists in store '%s'", name, s->path);
    rc = sb__create_parents(s->file, name, parents, scratch);
    if (rc < 0)
        return rc;
    hid_t g = H5Gcreate2(s->file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        rc = sb__h5_error(SB_ERR_IO, "cannot create dataset '%s'", name);
        sb__remove_created(s->file, name, *parents, scratch);
        return rc;
    }
    rc = sb__attr_write_i64(g, SB_ATTR_SIZE, 0);
    if (rc == 0)
        rc = sb__attr_write_bool(g, SB_ATTR_IS_DATASET, true);
    if (rc == 0)
        rc = sb__attr_write_i64(g, SB_ATTR_CAPACITY, (int64_t)capacity);
    if (rc == 0 && nfields)
        rc = sb__attr_write_packed(g, SB_ATTR_FIELDS, nfields, width, packed);
    if (rc == 0 && incomplete)
        rc = sb__attr_write_bool(g, SB_ATTR_INCOMPLETE, true);
    if (rc < 0) {
        H5Gclose(g);
        H5Ldelete(s->file, name, H5P_DEFAULT);
        sb__remove_created(s->file, name, *parents, scratch);
        return rc;
    }
    *out = g;
    return 0;
}

/* The handle over the group `g` (which it takes, and closes on failure):
 * local allocations, which can fail on one rank only. */
static int wrap_group(sb_dataset **out, sb_store *s, const char *name, hid_t g,
                      uint64_t capacity, size_t nfields, const char *const *fields,
                      bool incomplete, size_t parents)
{
    sb_dataset *ds = NULL;
    int rc = sb__dataset_alloc(&ds, s, name, g, capacity, 0);
    if (rc == 0) {
        ds->incomplete = incomplete;
        ds->created_parents = parents;
    }
    for (size_t i = 0; rc == 0 && i < nfields; i++)
        rc = sb__dataset_add_field(ds, fields[i]);
    if (rc < 0) {
        sb__dataset_free(ds);
        return rc;
    }
    *out = ds;
    return 0;
}

int sb__catalog_create(sb_dataset **out, sb_store *s, const char *name, uint64_t capacity,
                       size_t nfields, const char *const *fields, bool incomplete)
{
    sb_dataset *ds = NULL;
    hid_t g = H5I_INVALID_HID;
    size_t parents = 0;
    /* The memory the HDF5 calls below need, allocated and agreed on first:
     * HDF5's metadata changes must be the same on every rank, so a rank out
     * of memory must stop every rank before the first of them (H5Lexists
     * included: its reads are collective). */
    char *scratch = malloc(strlen(name) + 1), *packed = NULL;
    size_t width = 0;
    int rc = scratch ? 0 : sb__error(SB_ERR_NOMEM, "out of memory creating dataset '%s'", name);
    if (rc == 0 && nfields)
        rc = sb__names_fixed(&packed, &width, nfields, fields);
    rc = sb__coll_agree(&s->coll, rc);
    /* A structural change reaches the file at the next commit, whole: until
     * then HDF5 writes no metadata (a killed job leaves no half-made group). */
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, sb__store_hold_metadata(s));
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, not_a_field(s, name));
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, make_group(&g, &parents, s, name, capacity, nfields,
                                                 packed, width, incomplete, scratch));
    free(packed);
    if (rc < 0) {
        free(scratch);
        return rc;
    }
    rc = sb__coll_agree(&s->coll, wrap_group(&ds, s, name, g, capacity, nfields, fields,
                                             incomplete, parents));
    if (rc < 0) {
        /* Removing the group changes the file's metadata: every rank does it,
         * also those whose handle was made. */
        sb__dataset_free(ds);
        H5Ldelete(s->file, name, H5P_DEFAULT);
        sb__remove_created(s->file, name, parents, scratch);
    }
    free(scratch);
    if (rc < 0)
        return rc;
    sb__dataset_link(ds);
    *out = ds;
    return 0;
}

int sb_store_create_dataset(sb_dataset **out, sb_store *s, const char *name, uint64_t capacity,
                            size_t nfields, const char *const *fields)
{
    if (out)
        *out = NULL;
    sb_call c;
    sb__call_store(&c, "sb_store_create_dataset", s);
    if (!out)
        sb__call_check(&c, sb__error(SB_ERR_INVALID, "sb_store_create_dataset: out is NULL"));
    if (c.rc == 0)
        sb__call_check(&c, sb__store_writable(s, "sb_store_create_dataset"));
    if (c.rc == 0)
        sb__call_check(&c, sb__dataset_name("dataset", name, &name));
    if (c.rc == 0 && capacity == 0)
        sb__call_check(&c, sb__error(SB_ERR_INVALID,
                                     "dataset '%s': capacity must be at least 1 (as in Python)",
                                     name));
    if (c.rc == 0 && capacity > (uint64_t)INT64_MAX)
        sb__call_check(&c, sb__error(SB_ERR_INVALID,
                                     "dataset '%s': capacity %" PRIu64 " is above 2^63-1", name,
                                     capacity));
    if (c.rc == 0)
        sb__call_check(&c, check_fields(name, nfields, fields));
    if (c.rc == 0) {
        sb__call_str(&c, name);
        sb__call_u64(&c, capacity);
        for (size_t i = 0; i < nfields; i++)
            sb__call_str(&c, fields[i]);
    }
    int rc = sb__call_enter(&c);
    if (rc == 0)
        rc = sb__catalog_create(out, s, name, capacity, nfields, fields, false);
    return sb__call_end(&c, rc);
}

/* ---- load --------------------------------------------------------------- */

/* A field as found in the group, before Python's ordering. */
typedef struct found_field {
    char *name;
    hid_t dset;
    long double priority; /* Python compares ints and floats exactly: so does a long double */
    size_t seen;        /* position in h5py's iteration order */
    bool declared_only; /* named by _sb_fields, no HDF5 dataset yet */
} found_field;

typedef struct found_list {
    found_field *items;
    size_t count;
    const char *dsname;
} found_list;

static int push_found(found_list *l, const char *name, hid_t dset, long double priority,
                      bool declared_only)
{
    found_field *items = realloc(l->items, (l->count + 1) * sizeof *items);
    if (!items)
        return sb__error(SB_ERR_NOMEM, "out of memory loading dataset '%s'", l->dsname);
    l->items = items;
    found_field *f = &items[l->count];
    f->name = sb__strdup(name);
    if (!f->name)
        return sb__error(SB_ERR_NOMEM, "out of memory loading dataset '%s'", l->dsname);
    f->dset = dset;
    f->priority = priority;
    f->seen = l->count;
    f->declared_only = declared_only;
    l->count++;
    return 0;
}

static int collect_field(hid_t obj, const char *name, const H5O_info_t *info, void *payload)
{
    found_list *l = payload;
    if (info->type != H5O_TYPE_DATASET)
        return 0; /* sub-groups of a dataset are ignored, as Python does */
    char where[SB_ERRMSG_MAX / 2];
    snprintf(where, sizeof where, "dataset '%s', member '%s'", l->dsname, name);
    bool present = false, is_asset = false;
    int rc = sb__attr_read_bool(obj, SB_ATTR_IS_ASSET, where, &present, &is_asset);
    if (rc < 0 || is_asset)
        return rc;
    /* Python: attrs.get("_sb_priority", 0), any number. */
    long double priority = 0;
    snprintf(where, sizeof where, "dataset '%s', field '%s'", l->dsname, name);
    rc = sb__attr_read_number(obj, SB_ATTR_PRIORITY, where, &priority);
    if (rc == SB_ERR_NOT_FOUND) {
        priority = 0;
        rc = 0;
    }
    if (rc < 0)
        return rc;
    hid_t keep = H5Iinc_ref(obj) >= 0 ? obj : H5I_INVALID_HID;
    if (keep < 0)
        return sb__h5_error(SB_ERR_FORMAT, "%s: cannot keep it open", where);
    rc = push_found(l, name, keep, priority, false);
    if (rc < 0)
        H5Dclose(keep);
    return rc;
}

/* Python's order: a stable sort by _sb_priority over h5py's iteration order.
 * Fields only declared by _sb_fields (never created) sort as their position
 * in it, after the created ones of the same priority. */
static int cmp_found(const void *a, const void *b)
{
    const found_field *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    if (x->declared_only != y->declared_only)
        return x->declared_only ? 1 : -1;
    return x->seen < y->seen ? -1 : x->seen > y->seen;
}

static int load_fields(sb_dataset *ds)
{
    found_list l = {NULL, 0, ds->name};
    bool walked = false;
    int rc = sb__members(ds->group, true, collect_field, &l, &walked);
    ds->found_by_walk |= walked;

    /* The extension: fields created but never written, so not in the group. */
    char **declared = NULL;
    size_t ndeclared = 0;
    if (rc == 0) {
        char where[SB_ERRMSG_MAX / 2];
        snprintf(where, sizeof where, "dataset '%s'", ds->name);
        int r = sb__attr_read_strings(ds->group, SB_ATTR_FIELDS, where, &declared, &ndeclared);
        if (r < 0 && r != SB_ERR_NOT_FOUND)
            rc = r;
    }
    size_t created = l.count;
    for (size_t i = 0; rc == 0 && i < ndeclared; i++) {
        /* A name that is no member name, or given twice, would make a field
         * no write can create. */
        bool twice = false;
        for (size_t j = 0; j < i && !twice; j++)
            twice = strcmp(declared[i], declared[j]) == 0;
        if (!declared[i][0] || strchr(declared[i], '/') || twice) {
            rc = sb__error(SB_ERR_FORMAT, "dataset '%s': %s holds %s'%s', which is no field name",
                           ds->name, SB_ATTR_FIELDS, twice ? "twice " : "", declared[i]);
            break;
        }
        bool known = false;
        for (size_t j = 0; j < created && !known; j++)
            known = strcmp(declared[i], l.items[j].name) == 0;
        if (!known)
            rc = push_found(&l, declared[i], H5I_INVALID_HID, (long double)i, true);
    }
    free(declared);
    if (rc == 0 && l.count > 1)
        qsort(l.items, l.count, sizeof *l.items, cmp_found);
    for (size_t i = 0; i < l.count; i++) {
        if (rc == 0)
            rc = sb__dataset_add_field(ds, l.items[i].name);
        if (rc == 0 && l.items[i].dset >= 0) {
            rc = sb__field_open(&ds->fields[ds->nfields - 1], l.items[i].dset, ds->name,
                                ds->capacity);
            l.items[i].dset = H5I_INVALID_HID;
        }
        if (l.items[i].dset >= 0)
            H5Dclose(l.items[i].dset);
        free(l.items[i].name);
    }
    free(l.items);
    return rc;
}

static hid_t open_group(sb_store *s, const char *name, bool *walked, int *rc)
{
    hid_t g;
    *rc = sb__open_path(&g, s->file, name, walked);
    H5O_info_t info;
    if (*rc == 0 && g < 0) {
        *rc = sb__error(SB_ERR_NOT_FOUND, "store '%s' has no dataset '%s'", s->path, name);
    } else if (g >= 0 &&
               (H5Oget_info2(g, &info, H5O_INFO_BASIC) < 0 || info.type != H5O_TYPE_GROUP)) {
        H5Oclose(g);
        g = H5I_INVALID_HID;
        *rc = sb__error(SB_ERR_NOT_FOUND, "'%s' in store '%s' is not a dataset (not a group)",
                        name, s->path);
    }
    return g;
}

static int load_local(sb_dataset **out, sb_store *s, const char *name)
{
    bool walked = false;
    int rc = 0;
    hid_t g = open_group(s, name, &walked, &rc);
    if (g < 0)
        return rc;
    char where[SB_ERRMSG_MAX / 2];
    snprintf(where, sizeof where, "dataset '%s'", name);
    bool present = false, is_ds = false, incomplete = false;
    int64_t capacity = 0, size = 0;
    rc = sb__attr_read_bool(g, SB_ATTR_IS_DATASET, where, &present, &is_ds);
    if (rc == 0 && !is_ds)
        rc = sb__error(SB_ERR_NOT_FOUND, "'%s' in store '%s' is not a dataset (%s is %s)", name,
                       s->path, SB_ATTR_IS_DATASET, present ? "false" : "missing");
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
    rc = sb__dataset_alloc(&ds, s, name, g, (uint64_t)capacity, (uint64_t)size);
    if (rc < 0)
        return rc;
    ds->incomplete = incomplete;
    ds->found_by_walk = walked;
    rc = load_fields(ds);
    if (rc < 0) {
        sb__dataset_free(ds);
        return rc;
    }
    *out = ds;
    return 0;
}

int sb__catalog_load(sb_dataset **out, sb_store *s, const char *name)
{
    sb_dataset *ds = NULL;
    int rc = sb__coll_agree(&s->coll, load_local(&ds, s, name));
    if (rc < 0) {
        sb__dataset_free(ds);
        return rc;
    }
    sb__dataset_link(ds);
    *out = ds;
    return 0;
}

int sb_store_load_dataset(sb_dataset **out, sb_store *s, const char *name)
{
    if (out)
        *out = NULL;
    sb_call c;
    sb__call_store(&c, "sb_store_load_dataset", s);
    if (!out)
        sb__call_check(&c, sb__error(SB_ERR_INVALID, "sb_store_load_dataset: out is NULL"));
    if (c.rc == 0)
        sb__call_check(&c, sb__dataset_name("dataset", name, &name));
    if (c.rc == 0)
        sb__call_str(&c, name);
    int rc = sb__call_enter(&c);
    if (rc == 0)
        rc = sb__catalog_load(out, s, name);
    return sb__call_end(&c, rc);
}

int sb_store_has_dataset(bool *exists, sb_store *s, const char *name)
{
    if (exists)
        *exists = false;
    sb_call c;
    sb__call_store(&c, "sb_store_has_dataset", s);
    if (!exists)
        sb__call_check(&c, sb__error(SB_ERR_INVALID, "sb_store_has_dataset: exists is NULL"));
    if (c.rc == 0)
        sb__call_check(&c, sb__dataset_name("dataset", name, &name));
    if (c.rc == 0)
        sb__call_str(&c, name);
    int rc = sb__call_enter(&c);
    if (rc == 0) {
        hid_t g;
        int local = sb__open_path(&g, s->file, name, NULL);
        H5O_info_t info;
        if (g >= 0 && H5Oget_info2(g, &info, H5O_INFO_BASIC) >= 0 && info.type == H5O_TYPE_GROUP) {
            /* As the listing counts it: a flag with no truth value still
             * names a dataset (one that does not load). */
            bool present = false, value = false;
            int r = sb__attr_read_bool(g, SB_ATTR_IS_DATASET, name, &present, &value);
            if (r == SB_ERR_NOMEM)
                local = r;
            else
                *exists = r < 0 || value;
        }
        if (g >= 0)
            H5Oclose(g);
        if (local == 0)
            sb_clear_error();
        /* Out of memory on one rank is every rank's failure. */
        rc = sb__coll_agree(&s->coll, local);
        if (rc < 0)
            *exists = false;
    }
    return sb__call_end(&c, rc);
}

/* ---- remove ------------------------------------------------------------- */

static bool open_below(const sb_store *s, const char *name)
{
    size_t n = strlen(name);
    for (const sb_dataset *ds = s->open_datasets; ds; ds = ds->next)
        if (strncmp(ds->name, name, n) == 0 && (ds->name[n] == '\0' || ds->name[n] == '/'))
            return true;
    return false;
}

int sb__catalog_remove(sb_store *s, const char *name)
{
    int rc = sb__coll_agree(&s->coll, sb__store_hold_metadata(s));
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, H5Ldelete(s->file, name, H5P_DEFAULT) < 0
                                          ? sb__h5_error(SB_ERR_IO, "cannot remove dataset '%s' "
                                                         "from store '%s'", name, s->path)
                                          : 0);
    /* Gone from the file at once: a removal is asked for to free the name. */
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, sb__store_flush_file(s));
    return rc;
}

int sb_store_remove_dataset(sb_store *s, const char *name)
{
    sb_call c;
    sb__call_store(&c, "sb_store_remove_dataset", s);
    if (c.rc == 0)
        sb__call_check(&c, sb__store_writable(s, "sb_store_remove_dataset"));
    if (c.rc == 0)
        sb__call_check(&c, sb__dataset_name("dataset", name, &name));
    if (c.rc == 0)
        sb__call_str(&c, name);
    if (c.rc == 0 && open_below(s, name))
        sb__call_check(&c, sb__error(SB_ERR_INVALID,
                                     "dataset '%s' is open in store '%s': close its handle first",
                                     name, s->path));
    int rc = sb__call_enter(&c);
    if (rc == 0) {
        bool walked = false;
        int local = 0;
        hid_t g = open_group(s, name, &walked, &local);
        if (g >= 0) {
            bool present = false, is_ds = false;
            local = sb__attr_read_bool(g, SB_ATTR_IS_DATASET, name, &present, &is_ds);
            if (local == 0 && !is_ds)
                local = sb__error(SB_ERR_NOT_FOUND, "'%s' in store '%s' is not a dataset", name,
                                  s->path);
            if (local == 0 && walked)
                local = sb__error(SB_ERR_FORMAT, "dataset '%s' is found only by walking its group "
                                  "(damaged names): HDF5 cannot remove it by name", name);
            /* Removing the group would take the datasets listed inside it
             * along, which nobody asked for. */
            char *inner = NULL;
            if (local == 0)
                local = sb__catalog_first_below(g, name, &inner);
            if (local == 0 && inner)
                local = sb__error(SB_ERR_INVALID,
                                  "dataset '%s' holds dataset '%s': remove the datasets inside "
                                  "it first",
                                  name, inner);
            free(inner);
            H5Gclose(g);
        }
        rc = sb__coll_agree(&s->coll, local);
    }
    if (rc == 0)
        rc = sb__catalog_remove(s, name);
    return sb__call_end(&c, rc);
}
