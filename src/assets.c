/* Assets: HDF5 datasets beside the fields, flagged _sb_is_asset = TRUE. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "assets.h"
#include "commit.h"
#include "dtype.h"
#include "format.h"
#include "h5path.h"

static bool is_asset(hid_t obj)
{
    bool present = false, value = false;
    return sb__attr_read_bool(obj, SB_ATTR_IS_ASSET, "asset", &present, &value) == 0 && value;
}

static int check_asset_name(const sb_dataset *ds, const char *name)
{
    int rc = sb__member_name("asset", ds->name, name);
    if (rc == 0 && sb__dataset_find_field(ds, name))
        rc = sb__error(SB_ERR_INVALID, "dataset '%s': '%s' is a field, not an asset", ds->name, name);
    return rc;
}

/* Open an existing asset; SB_ERR_NOT_FOUND if there is none of that name. */
static int open_asset(sb_dataset *ds, const char *name, hid_t *out)
{
    *out = H5I_INVALID_HID;
    /* By name, or by walking the group if its names are damaged (h5path.c). */
    hid_t d;
    int rc = sb__open_path(&d, ds->group, name, NULL);
    if (rc < 0)
        return rc;
    if (d < 0)
        return sb__error(SB_ERR_NOT_FOUND, "dataset '%s' has no asset '%s'", ds->name, name);
    H5O_info_t info;
    bool is_dataset = H5Oget_info2(d, &info, H5O_INFO_BASIC) >= 0 && info.type == H5O_TYPE_DATASET;
    if (!is_dataset || !is_asset(d)) {
        H5Oclose(d);
        return sb__error(SB_ERR_NOT_FOUND, "dataset '%s': '%s' is not an asset (%s)", ds->name,
                         name,
                         !is_dataset ? "an asset is an HDF5 dataset; this is a group"
                                     : "no " SB_ATTR_IS_ASSET " = TRUE");
    }
    *out = d;
    return 0;
}

static int create_asset(sb_dataset *ds, const char *name, hid_t type, hid_t space,
                        const void *data)
{
    sb_store *s = ds->store;
    hid_t dcpl = sb__dcpl_contiguous();
    hid_t d = dcpl >= 0 ? H5Dcreate2(ds->group, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)
                        : H5I_INVALID_HID;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (d < 0)
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot create asset '%s'", ds->name, name);
    int rc = sb__attr_write_bool(d, SB_ATTR_IS_ASSET, true);
    hssize_t npoints = H5Sget_simple_extent_npoints(space);
    if (rc == 0 && npoints > 0) {
        /* Rank 0 writes the bytes; the others take part with nothing. */
        bool empty = s->coll.parallel && s->coll.rank != 0;
        hid_t fsel = H5Scopy(space), msel = H5Scopy(space);
        if (empty) {
            H5Sselect_none(fsel);
            H5Sselect_none(msel);
        }
        static const char dummy = 0;
        /* Collective only where a failed write reaches every rank (store.h). */
        hid_t dxpl = s->collective_writes ? s->dxpl_coll : s->dxpl_indep;
        if (fsel < 0 || msel < 0 || H5Dwrite(d, type, msel, fsel, dxpl, empty ? &dummy : data) < 0)
            rc = sb__h5_error(SB_ERR_IO, "dataset '%s': cannot write asset '%s'", ds->name, name);
        if (fsel >= 0)
            H5Sclose(fsel);
        if (msel >= 0)
            H5Sclose(msel);
    }
    H5Dclose(d);
    if (rc < 0)
        H5Ldelete(ds->group, name, H5P_DEFAULT);
    return rc;
}

/* Create (or replace) an asset. A replacement is written under a temporary
 * name first, so that a failure leaves the old asset as it was. */
static int write_asset(sb_dataset *ds, const char *name, hid_t type, hid_t space,
                       const void *data, bool replace)
{
    bool exists = H5Lexists(ds->group, name, H5P_DEFAULT) > 0;
    if (exists) {
        hid_t old;
        int rc = open_asset(ds, name, &old);
        if (rc == SB_ERR_NOMEM)
            return rc;
        if (rc < 0)
            return sb__error(SB_ERR_EXISTS, "dataset '%s': '%s' exists and is not an asset",
                             ds->name, name);
        H5Dclose(old);
        if (!replace)
            return sb__error(SB_ERR_EXISTS,
                             "dataset '%s': asset '%s' already exists (pass replace to overwrite)",
                             ds->name, name);
    }
    if (!exists)
        return create_asset(ds, name, type, space, data);
    char tmp[SB_ERRMSG_MAX];
    snprintf(tmp, sizeof tmp, "%s.sb-replacing", name);
    if (H5Lexists(ds->group, tmp, H5P_DEFAULT) > 0)
        H5Ldelete(ds->group, tmp, H5P_DEFAULT); /* left by a killed job */
    int rc = create_asset(ds, tmp, type, space, data);
    if (rc == 0 && (H5Ldelete(ds->group, name, H5P_DEFAULT) < 0 ||
                    H5Lmove(ds->group, tmp, ds->group, name, H5P_DEFAULT, H5P_DEFAULT) < 0))
        rc = sb__h5_error(SB_ERR_IO, "dataset '%s': cannot replace asset '%s'", ds->name, name);
    /* Committed at once: HDF5 may give the old asset's space to the next
     * object, whose bytes must not land where the file on disk still has
     * the old asset. */
    if (rc == 0)
        rc = sb__store_flush_structure(ds->store);
    return rc;
}

typedef struct new_asset {
    const char *name;
    sb_dtype dtype;
    int ndim;
    const uint64_t *shape;
    const void *data;
    uint64_t nbytes;
    bool replace;
} new_asset;

static int add_asset(sb_dataset *ds, const new_asset *a, const char *what, int local)
{
    sb_call c;
    sb__call_dataset(&c, what, ds);
    sb__call_check(&c, local);
    if (c.rc == 0)
        sb__call_check(&c, sb__store_writable(ds->store, what));
    if (c.rc == 0)
        sb__call_check(&c, check_asset_name(ds, a->name));
    if (c.rc == 0 && a->nbytes > 0 && !a->data)
        sb__call_check(&c, sb__error(SB_ERR_INVALID, "%s: dataset '%s': asset '%s' data is NULL",
                                     what, ds->name, a->name));
    if (c.rc == 0) {
        sb__call_str(&c, a->name);
        sb__call_u64(&c, (uint64_t)a->dtype);
        for (int i = 0; i < a->ndim; i++)
            sb__call_u64(&c, a->shape[i]);
        sb__call_u64(&c, a->replace);
        /* Content too: ranks that computed different metadata must not
         * silently store rank 0's. */
        if (ds->store->coll.parallel)
            sb__call_bytes(&c, a->data, (size_t)a->nbytes);
    }
    int rc = sb__call_enter(&c);
    /* In the file from the next commit, whole (catalog.c). */
    if (rc == 0)
        rc = sb__coll_agree(&ds->store->coll, sb__store_hold_metadata(ds->store));
    if (rc == 0) {
        hsize_t dims[SB_MAX_DIMS];
        for (int i = 0; i < a->ndim; i++)
            dims[i] = a->shape[i];
        hid_t space = a->ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(a->ndim, dims, NULL);
        hid_t type = sb__dtype_h5type(a->dtype);
        int local_rc = space < 0 || type < 0
                           ? sb__h5_error(SB_ERR_IO, "dataset '%s': cannot describe asset '%s'",
                                          ds->name, a->name)
                           : write_asset(ds, a->name, type, space, a->data, a->replace);
        if (type >= 0)
            H5Tclose(type);
        if (space >= 0)
            H5Sclose(space);
        rc = sb__coll_agree(&ds->store->coll, local_rc);
    }
    return sb__call_end(&c, rc);
}

int sb_dataset_add_asset_bytes(sb_dataset *ds, const char *name, const void *data, size_t len,
                               bool replace)
{
    uint64_t shape = len;
    new_asset a = {name, SB_UINT8, 1, &shape, data, len, replace};
    return add_asset(ds, &a, "sb_dataset_add_asset_bytes", 0);
}

int sb_dataset_add_asset_array(sb_dataset *ds, const char *name, const sb_array *array,
                               bool replace)
{
    const char *what = "sb_dataset_add_asset_array";
    int local = 0;
    uint64_t nbytes = 0;
    if (!array)
        local = sb__error(SB_ERR_INVALID, "%s: array is NULL", what);
    else if (!sb_dtype_valid(array->dtype) || array->ndim < 0 || array->ndim > SB_MAX_DIMS)
        local = sb__error(SB_ERR_INVALID, "%s: asset '%s': invalid dtype %d or ndim %d", what,
                          name ? name : "(null)", (int)array->dtype, array->ndim);
    else if ((nbytes = sb_array_nbytes(array)) == UINT64_MAX || nbytes > (uint64_t)PTRDIFF_MAX)
        local = sb__error(SB_ERR_INVALID, "%s: asset '%s' is too large", what,
                          name ? name : "(null)");
    static const uint64_t no_shape[SB_MAX_DIMS];
    new_asset a = {name, local == 0 ? array->dtype : SB_UINT8, local == 0 ? array->ndim : 0,
                   local == 0 ? array->shape : no_shape, local == 0 ? array->data : NULL,
                   nbytes, replace};
    return add_asset(ds, &a, what, local);
}

int sb_dataset_add_json_asset(sb_dataset *ds, const char *name, const cJSON *json, bool replace)
{
    const char *what = "sb_dataset_add_json_asset";
    char *text = NULL;
    int local = json ? sb_json_print(&text, json)
                     : sb__error(SB_ERR_INVALID, "%s: json is NULL", what);
    uint64_t shape = text ? strlen(text) : 0;
    new_asset a = {name, SB_UINT8, 1, &shape, text, shape, replace};
    int rc = add_asset(ds, &a, what, local);
    free(text);
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct asset_list {
    char **names;
    size_t count, cap;
} asset_list;

static int collect_asset(hid_t obj, const char *name, const H5O_info_t *info, void *payload)
{
    asset_list *l = payload;
    /* Python lists every member flagged as an asset (a flagged group too). */
    if (!is_asset(obj))
        return 0;
    (void)info;
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char **grown = realloc(l->names, cap * sizeof *grown);
        if (!grown)
            return sb__error(SB_ERR_NOMEM, "out of memory listing assets");
        l->names = grown;
        l->cap = cap;
    }
    if (!(l->names[l->count] = sb__strdup(name)))
        return sb__error(SB_ERR_NOMEM, "out of memory listing assets");
    l->count++;
    return 0;
}

int sb__asset_list(sb_dataset *ds, char ***names, size_t *count)
{
    asset_list l = {NULL, 0, 0};
    int rc = sb__members(ds->group, true, collect_asset, &l, NULL);
    *names = NULL;
    *count = 0;
    if (rc == 0 && l.count > 0) {
        *names = sb__strings_pack(l.names, l.count);
        rc = *names ? 0 : SB_ERR_NOMEM;
    }
    if (rc == 0)
        *count = l.count;
    else if (rc != SB_ERR_NOMEM)
        rc = sb__error_wrap(rc, "dataset '%s': cannot list its assets", ds->name);
    for (size_t i = 0; i < l.count; i++)
        free(l.names[i]);
    free(l.names);
    return rc;
}

int sb_dataset_asset_names(char ***names, size_t *count, sb_dataset *ds)
{
    if (names)
        *names = NULL;
    if (count)
        *count = 0;
    sb_call c;
    sb__call_dataset(&c, "sb_dataset_asset_names", ds);
    if (!names || !count)
        sb__call_check(&c, sb__error(SB_ERR_INVALID, "sb_dataset_asset_names: %s is NULL",
                                     names ? "count" : "names"));
    int rc = sb__call_enter(&c);
    if (rc == 0)
        rc = sb__coll_agree(&ds->store->coll, sb__asset_list(ds, names, count));
    if (rc < 0 && names) {
        free(*names);
        *names = NULL;
    }
    if (rc < 0 && count)
        *count = 0;
    return sb__call_end(&c, rc);
}

/* An asset opened and described: HDF5 type, dims, element count. */
typedef struct asset_view {
    hid_t dset, type, space;
    int ndim;
    hsize_t dims[SB_MAX_DIMS];
    uint64_t npoints;
} asset_view;

static void view_close(asset_view *v)
{
    if (v->space >= 0)
        H5Sclose(v->space);
    if (v->type >= 0)
        H5Tclose(v->type);
    if (v->dset >= 0)
        H5Dclose(v->dset);
}

static int view_open(sb_dataset *ds, const char *name, asset_view *v)
{
    memset(v, 0, sizeof *v);
    v->dset = v->type = v->space = H5I_INVALID_HID;
    int rc = open_asset(ds, name, &v->dset);
    if (rc < 0)
        return rc;
    v->type = H5Dget_type(v->dset);
    v->space = H5Dget_space(v->dset);
    v->ndim = v->space >= 0 ? H5Sget_simple_extent_ndims(v->space) : -1;
    if (v->type < 0 || v->ndim < 0 || v->ndim > SB_MAX_DIMS) {
        view_close(v);
        return sb__error(SB_ERR_FORMAT, "dataset '%s': asset '%s' has an unreadable shape", ds->name,
                         name);
    }
    H5Sget_simple_extent_dims(v->space, v->dims, NULL);
    v->npoints = (uint64_t)H5Sget_simple_extent_npoints(v->space);
    return 0;
}

static int read_view(sb_dataset *ds, const char *name, asset_view *v, hid_t memtype, void **out,
                     size_t *len)
{
    /* Variable-length data would come back as heap pointers, not bytes. */
    if (H5Tis_variable_str(memtype) > 0 || H5Tdetect_class(memtype, H5T_VLEN) > 0 ||
        H5Tdetect_class(memtype, H5T_REFERENCE) > 0) {
        char what[96];
        sb_dtype dt;
        sb__dtype_from_h5(v->type, &dt, what, sizeof what);
        return sb__error(SB_ERR_TYPE, "dataset '%s': asset '%s' holds %s; only fixed-size assets "
                         "can be read", ds->name, name, what);
    }
    size_t elem = H5Tget_size(memtype);
    if (elem == 0 || (v->npoints > 0 && v->npoints > (SIZE_MAX - 1) / elem))
        return sb__error(SB_ERR_FORMAT, "dataset '%s': asset '%s' is too large", ds->name, name);
    size_t bytes = (size_t)v->npoints * elem;
    void *buf = malloc(bytes + 1);
    if (!buf)
        return sb__error(SB_ERR_NOMEM, "dataset '%s': out of memory reading asset '%s' (%zu bytes)",
                         ds->name, name, bytes);
    if (bytes > 0 && H5Dread(v->dset, memtype, H5S_ALL, H5S_ALL, ds->store->dxpl_indep, buf) < 0) {
        free(buf);
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot read asset '%s'", ds->name, name);
    }
    ((char *)buf)[bytes] = '\0';
    *out = buf;
    *len = bytes;
    return 0;
}

/* Every asset getter: enter together, open the asset, read it, fail together. */
typedef int (*view_reader)(sb_dataset *ds, const char *name, asset_view *v, void *out);

static int read_asset(sb_dataset *ds, const char *name, const char *what, view_reader fn,
                      void *out, int local)
{
    sb_call c;
    sb__call_dataset(&c, what, ds);
    sb__call_check(&c, local);
    if (c.rc == 0 && !name)
        sb__call_check(&c, sb__error(SB_ERR_INVALID, "%s: dataset '%s': asset name is NULL", what,
                                     ds->name));
    if (c.rc == 0)
        sb__call_str(&c, name);
    int rc = sb__call_enter(&c);
    if (rc == 0) {
        asset_view v;
        rc = view_open(ds, name, &v);
        if (rc == 0) {
            rc = fn(ds, name, &v, out);
            view_close(&v);
        }
        rc = sb__coll_agree(&ds->store->coll, rc);
    }
    return sb__call_end(&c, rc);
}

/* dtype and shape of an asset into an sb_array (data untouched). */
static int describe_view(sb_dataset *ds, const char *name, asset_view *v, void *out)
{
    sb_array *a = out;
    a->ndim = v->ndim;
    for (int i = 0; i < v->ndim; i++)
        a->shape[i] = v->dims[i];
    char what[96];
    if (sb__dtype_from_h5(v->type, &a->dtype, what, sizeof what) < 0)
        return sb__error(SB_ERR_TYPE, "dataset '%s': asset '%s' holds %s, which has no dtype in "
                         "secbench-storage (read it as bytes)", ds->name, name, what);
    return 0;
}

typedef struct raw_out {
    void **data;
    size_t *len;
} raw_out;

static int read_raw(sb_dataset *ds, const char *name, asset_view *v, void *out)
{
    /* numpy's tobytes(): native order for the dtypes we know, the file's
     * bytes for anything else. */
    raw_out *r = out;
    sb_dtype dt;
    char what[96];
    hid_t mem = sb__dtype_from_h5(v->type, &dt, what, sizeof what) == 0
                    ? sb__dtype_memtype(v->type, dt)
                    : H5Tcopy(v->type);
    int rc = mem < 0 ? sb__h5_error(SB_ERR_IO, "dataset '%s': asset '%s': no memory type", ds->name, name)
                     : read_view(ds, name, v, mem, r->data, r->len);
    if (mem >= 0)
        H5Tclose(mem);
    return rc;
}

static int read_array(sb_dataset *ds, const char *name, asset_view *v, void *out)
{
    sb_array *a = out;
    int rc = describe_view(ds, name, v, a);
    if (rc < 0)
        return rc;
    hid_t mem = sb__dtype_memtype(v->type, a->dtype);
    size_t len = 0;
    rc = read_view(ds, name, v, mem, &a->data, &len);
    H5Tclose(mem);
    return rc;
}

int sb_dataset_asset_info(sb_array *info, sb_dataset *ds, const char *name)
{
    int local = info ? 0 : sb__error(SB_ERR_INVALID, "sb_dataset_asset_info: info is NULL");
    if (info)
        memset(info, 0, sizeof *info);
    int rc = read_asset(ds, name, "sb_dataset_asset_info", describe_view, info, local);
    if (rc < 0 && info)
        memset(info, 0, sizeof *info);
    return rc;
}

int sb_dataset_get_asset_bytes(void **data, size_t *len, sb_dataset *ds, const char *name)
{
    int local = data && len ? 0 : sb__error(SB_ERR_INVALID, "sb_dataset_get_asset_bytes: %s is NULL",
                                            data ? "len" : "data");
    if (data)
        *data = NULL;
    if (len)
        *len = 0;
    raw_out r = {data, len};
    int rc = read_asset(ds, name, "sb_dataset_get_asset_bytes", read_raw, &r, local);
    /* The bytes this rank read, when another rank failed. */
    if (rc < 0 && data) {
        free(*data);
        *data = NULL;
    }
    if (rc < 0 && len)
        *len = 0;
    return rc;
}

int sb_dataset_get_asset_array(sb_array *out, sb_dataset *ds, const char *name)
{
    int local = out ? 0 : sb__error(SB_ERR_INVALID, "sb_dataset_get_asset_array: out is NULL");
    if (out)
        memset(out, 0, sizeof *out);
    int rc = read_asset(ds, name, "sb_dataset_get_asset_array", read_array, out, local);
    if (rc < 0 && out) {
        free(out->data);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

static int read_json(sb_dataset *ds, const char *name, asset_view *v, void *out)
{
    void *text = NULL;
    size_t len = 0;
    raw_out r = {&text, &len};
    int rc = read_raw(ds, name, v, &r);
    if (rc == 0) {
        rc = sb_json_parse((cJSON **)out, text, len);
        if (rc < 0 && rc != SB_ERR_NOMEM)
            rc = sb__error_wrap(rc, "dataset '%s': asset '%s' is not valid JSON", ds->name, name);
    }
    free(text);
    return rc;
}

int sb_dataset_get_json_asset(cJSON **json, sb_dataset *ds, const char *name)
{
    int local = json ? 0 : sb__error(SB_ERR_INVALID, "sb_dataset_get_json_asset: json is NULL");
    if (json)
        *json = NULL;
    int rc = read_asset(ds, name, "sb_dataset_get_json_asset", read_json, json, local);
    if (rc < 0 && json && *json) {
        cJSON_Delete(*json);
        *json = NULL;
    }
    return rc;
}

int sb__asset_copy(sb_dataset *src, sb_dataset *dst, const char *name)
{
    asset_view v;
    int rc = view_open(src, name, &v);
    void *data = NULL;
    size_t len = 0;
    if (rc == 0)
        rc = read_view(src, name, &v, v.type, &data, &len);
    /* The read is this rank's alone (its buffer can fail on one rank); the
     * write changes the copy's metadata, which must stay alike on every rank. */
    rc = sb__coll_agree(&dst->store->coll, rc);
    if (rc == 0)
        rc = write_asset(dst, name, v.type, v.space, data, false);
    free(data);
    view_close(&v);
    return rc;
}
