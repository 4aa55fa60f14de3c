/* Assets: HDF5 datasets beside the fields, flagged _sb_is_asset = TRUE. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal.h"

static int check_asset_name(sb_dataset *ds, const char *name)
{
    if (!name || !name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return sb__error(SB_ERR_INVALID, "dataset '%s': asset name '%s' is not a plain name",
                         ds->name, name ? name : "(null)");
    for (size_t i = 0; i < ds->nfields; i++)
        if (strcmp(ds->fields[i].name, name) == 0)
            return sb__error(SB_ERR_INVALID, "dataset '%s': '%s' is a field, not an asset",
                             ds->name, name);
    return 0;
}

/* Open an existing asset; SB_ERR_NOT_FOUND if there is none of that name. */
static int open_asset(sb_dataset *ds, const char *name, hid_t *out)
{
    *out = H5I_INVALID_HID;
    /* By name, or by walking the group if its names are damaged (store.c). */
    hid_t d = sb__open_path(ds->group, name, NULL);
    if (d < 0)
        return sb__error(SB_ERR_NOT_FOUND, "dataset '%s' has no asset '%s'", ds->name, name);
    H5O_info_t info;
    if (H5Oget_info2(d, &info, H5O_INFO_BASIC) < 0 || info.type != H5O_TYPE_DATASET) {
        H5Oclose(d);
        return sb__error(SB_ERR_NOT_FOUND, "dataset '%s': '%s' is not an asset", ds->name, name);
    }
    if (!sb__is_asset(d)) {
        H5Dclose(d);
        return sb__error(SB_ERR_NOT_FOUND, "dataset '%s': '%s' is not an asset (no %s = TRUE)",
                         ds->name, name, SB_ATTR_IS_ASSET);
    }
    *out = d;
    return 0;
}

/* Create (or replace) an asset of `type` and `space` and write `data` from
 * rank 0; the other ranks take part with empty selections. */
static int write_asset(sb_dataset *ds, const char *name, hid_t type, hid_t space,
                       const void *data, bool replace)
{
    sb_store *s = ds->store;
    if (H5Lexists(ds->group, name, H5P_DEFAULT) > 0) {
        hid_t old;
        int rc = open_asset(ds, name, &old);
        if (rc < 0)
            return sb__error(SB_ERR_EXISTS, "dataset '%s': '%s' exists and is not an asset",
                             ds->name, name);
        H5Dclose(old);
        if (!replace)
            return sb__error(SB_ERR_EXISTS,
                             "dataset '%s': asset '%s' already exists (pass replace to overwrite)",
                             ds->name, name);
        if (H5Ldelete(ds->group, name, H5P_DEFAULT) < 0)
            return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot replace asset '%s'", ds->name, name);
    }
    hid_t dcpl = sb__dcpl_contiguous();
    hid_t d = H5Dcreate2(ds->group, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    if (d < 0)
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot create asset '%s'", ds->name, name);
    int rc = sb__attr_write_bool(d, SB_ATTR_IS_ASSET, true);
    hssize_t npoints = H5Sget_simple_extent_npoints(space);
    if (rc == 0 && npoints > 0) {
        hid_t fsel = H5Scopy(space), msel = H5Scopy(space);
        if (s->parallel && s->rank != 0) {
            H5Sselect_none(fsel);
            H5Sselect_none(msel);
        }
        static const char dummy = 0;
        bool empty = s->parallel && s->rank != 0;
        if (H5Dwrite(d, type, msel, fsel, s->dxpl_coll, empty ? &dummy : data) < 0)
            rc = sb__h5_error(SB_ERR_IO, "dataset '%s': cannot write asset '%s'", ds->name, name);
        H5Sclose(fsel);
        H5Sclose(msel);
    }
    H5Dclose(d);
    return rc;
}

static int add_asset(sb_dataset *ds, const char *name, sb_dtype dtype, int ndim,
                     const uint64_t *shape, const void *data, uint64_t nbytes, bool replace,
                     const char *what)
{
    int rc = sb__dataset_check(ds, what);
    if (rc < 0)
        return rc;
    sb_store *s = ds->store;
    int local = sb__store_check_writable(s, what);
    if (local == 0)
        local = check_asset_name(ds, name);
    if (local == 0 && nbytes > 0 && !data)
        local = sb__error(SB_ERR_INVALID, "%s: dataset '%s': asset '%s' data is NULL", what,
                          ds->name, name);
    sb_hash h;
    sb__hash_init(&h, "add_asset");
    if (local == 0) {
        sb__hash_str(&h, ds->name);
        sb__hash_str(&h, name);
        sb__hash_u64(&h, (uint64_t)dtype);
        for (int i = 0; i < ndim; i++)
            sb__hash_u64(&h, shape[i]);
        sb__hash_u64(&h, replace);
        /* Content too: ranks that computed different metadata must not
         * silently store rank 0's. */
        if (s->parallel)
            sb__hash_bytes(&h, data, nbytes);
    }
    rc = sb__coll_begin(s, what, &h, local);
    if (rc < 0)
        return rc;
    hsize_t dims[SB_MAX_DIMS];
    for (int i = 0; i < ndim; i++)
        dims[i] = shape[i];
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    hid_t space = ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(ndim, dims, NULL);
    hid_t type = sb__dtype_h5type(dtype);
    local = write_asset(ds, name, type, space, data, replace);
    H5Tclose(type);
    H5Sclose(space);
    rc = sb__coll_agree(s, local);
    if (rc == 0)
        rc = sb__coll_agree(s, sb__store_flush_file(s));
    sb__quiet_end(&q);
    return rc;
}

int sb_dataset_add_asset_bytes(sb_dataset *ds, const char *name, const void *data, size_t len,
                               bool replace)
{
    uint64_t shape = len;
    return add_asset(ds, name, SB_UINT8, 1, &shape, data, len, replace,
                     "sb_dataset_add_asset_bytes");
}

int sb_dataset_add_asset_array(sb_dataset *ds, const char *name, const sb_array *array,
                               bool replace)
{
    if (!array)
        return sb__error(SB_ERR_INVALID, "sb_dataset_add_asset_array: array is NULL");
    if (!sb__dtype_valid(array->dtype) || array->ndim < 0 || array->ndim > SB_MAX_DIMS)
        return sb__error(SB_ERR_INVALID, "sb_dataset_add_asset_array: asset '%s': invalid dtype or ndim",
                         name ? name : "(null)");
    return add_asset(ds, name, array->dtype, array->ndim, array->shape, array->data,
                     sb_array_nbytes(array), replace, "sb_dataset_add_asset_array");
}

int sb_dataset_add_json_asset(sb_dataset *ds, const char *name, const cJSON *json, bool replace)
{
    if (!json)
        return sb__error(SB_ERR_INVALID, "sb_dataset_add_json_asset: json is NULL");
    char *text = cJSON_PrintUnformatted(json);
    if (!text)
        return sb__error(SB_ERR_NOMEM, "sb_dataset_add_json_asset: cannot serialize asset '%s'",
                         name ? name : "(null)");
    int rc = sb_dataset_add_asset_bytes(ds, name, text, strlen(text), replace);
    cJSON_free(text);
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct asset_list {
    char **names;
    size_t count;
    int rc;
    hsize_t index; /* of the link being visited */
} asset_list;

static herr_t collect_asset(hid_t group, const char *name, const H5L_info_t *linfo, void *payload)
{
    asset_list *l = payload;
    hsize_t index = l->index++;
    if (linfo->type != H5L_TYPE_HARD)
        return 0;
    H5O_info_t info;
    hid_t d = sb__open_visited(group, name, index, NULL);
    bool asset = d >= 0 && H5Oget_info2(d, &info, H5O_INFO_BASIC) >= 0 &&
                 info.type == H5O_TYPE_DATASET && sb__is_asset(d);
    if (d >= 0)
        H5Oclose(d);
    if (!asset)
        return 0;
    char **n = realloc(l->names, (l->count + 1) * sizeof *n);
    if (!n || !(n[l->count] = sb__strdup(name))) {
        if (n)
            l->names = n;
        l->rc = sb__error(SB_ERR_NOMEM, "out of memory listing assets");
        return -1;
    }
    l->names = n;
    l->count++;
    return 0;
}

/* Asset reads open HDF5 objects, which is collective metadata on a parallel
 * store: enter together, fail together. */
static int enter_read(sb_dataset *ds, const char *name, const char *what)
{
    int rc = sb__dataset_check(ds, what);
    if (rc < 0)
        return rc;
    int local = 0;
    if (name != NULL || strcmp(what, "sb_dataset_asset_names") != 0)
        local = name ? 0 : sb__error(SB_ERR_INVALID, "%s: dataset '%s': asset name is NULL", what,
                                     ds->name);
    sb_hash h;
    sb__hash_init(&h, what);
    sb__hash_str(&h, ds->name);
    sb__hash_str(&h, name);
    return sb__coll_begin(ds->store, what, &h, local);
}

int sb_dataset_asset_names(sb_dataset *ds, char ***names, size_t *count)
{
    if (!names || !count)
        return sb__error(SB_ERR_INVALID, "sb_dataset_asset_names: names or count is NULL");
    *names = NULL;
    *count = 0;
    int rc = enter_read(ds, NULL, "sb_dataset_asset_names");
    if (rc < 0)
        return rc;
    asset_list l = {NULL, 0, 0, 0};
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    hsize_t idx = 0;
    if (H5Literate(ds->group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_asset, &l) < 0 && l.rc == 0)
        l.rc = sb__h5_error(SB_ERR_IO, "dataset '%s': cannot list assets", ds->name);
    sb__quiet_end(&q);
    rc = sb__coll_agree(ds->store, l.rc);
    if (rc < 0) {
        sb_strings_free(l.names, l.count);
        return rc;
    }
    *names = l.names;
    *count = l.count;
    return 0;
}

/* Open an asset and describe it: HDF5 type, dims, element count. */
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
        H5Tget_class(memtype) == H5T_REFERENCE)
        return sb__error(SB_ERR_TYPE, "dataset '%s': asset '%s' holds variable-length data; only "
                         "fixed-size assets can be read", ds->name, name);
    size_t elem = H5Tget_size(memtype);
    if (elem == 0 || (v->npoints > 0 && v->npoints > SIZE_MAX / elem))
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

static int read_asset(sb_dataset *ds, const char *name, const char *what, view_reader fn, void *out)
{
    int rc = enter_read(ds, name, what);
    if (rc < 0)
        return rc;
    sb_h5_quiet q;
    sb__quiet_begin(&q);
    asset_view v;
    rc = view_open(ds, name, &v);
    if (rc == 0) {
        rc = fn(ds, name, &v, out);
        view_close(&v);
    }
    sb__quiet_end(&q);
    return sb__coll_agree(ds->store, rc);
}

/* dtype and shape of an asset into an sb_array (data untouched). */
static int describe_view(sb_dataset *ds, const char *name, asset_view *v, void *out)
{
    sb_array *a = out;
    a->ndim = v->ndim;
    for (int i = 0; i < v->ndim; i++)
        a->shape[i] = v->dims[i];
    if (sb__dtype_from_h5(v->type, &a->dtype) < 0)
        return sb__error(SB_ERR_TYPE, "dataset '%s': asset '%s' has a dtype secbench-storage does "
                         "not support (read it as bytes)", ds->name, name);
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
    hid_t mem = sb__dtype_from_h5(v->type, &dt) == 0 ? sb__dtype_h5type(dt) : H5Tcopy(v->type);
    int rc = read_view(ds, name, v, mem, r->data, r->len);
    H5Tclose(mem);
    return rc;
}

static int read_array(sb_dataset *ds, const char *name, asset_view *v, void *out)
{
    sb_array *a = out;
    int rc = describe_view(ds, name, v, a);
    if (rc < 0)
        return rc;
    hid_t mem = sb__dtype_h5type(a->dtype);
    size_t len = 0;
    rc = read_view(ds, name, v, mem, &a->data, &len);
    H5Tclose(mem);
    return rc;
}

int sb_dataset_asset_info(sb_dataset *ds, const char *name, sb_array *info)
{
    if (!info)
        return sb__error(SB_ERR_INVALID, "sb_dataset_asset_info: info is NULL");
    memset(info, 0, sizeof *info);
    return read_asset(ds, name, "sb_dataset_asset_info", describe_view, info);
}

int sb_dataset_get_asset_bytes(sb_dataset *ds, const char *name, void **data, size_t *len)
{
    if (!data || !len)
        return sb__error(SB_ERR_INVALID, "sb_dataset_get_asset_bytes: data or len is NULL");
    *data = NULL;
    *len = 0;
    raw_out r = {data, len};
    return read_asset(ds, name, "sb_dataset_get_asset_bytes", read_raw, &r);
}

int sb_dataset_get_asset_array(sb_dataset *ds, const char *name, sb_array *out)
{
    if (!out)
        return sb__error(SB_ERR_INVALID, "sb_dataset_get_asset_array: out is NULL");
    memset(out, 0, sizeof *out);
    int rc = read_asset(ds, name, "sb_dataset_get_asset_array", read_array, out);
    if (rc < 0)
        sb_array_release(out);
    return rc;
}

int sb_dataset_get_json_asset(sb_dataset *ds, const char *name, cJSON **json)
{
    if (!json)
        return sb__error(SB_ERR_INVALID, "sb_dataset_get_json_asset: json is NULL");
    *json = NULL;
    void *text = NULL;
    size_t len = 0;
    int rc = sb_dataset_get_asset_bytes(ds, name, &text, &len);
    if (rc < 0)
        return rc;
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    /* Like Python's json.loads: only white space may follow the document. */
    while (doc && end && (size_t)(end - (const char *)text) < len &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r' || *end == '\0'))
        end++;
    if (doc && end && (size_t)(end - (const char *)text) < len) {
        cJSON_Delete(doc);
        long off = (long)(end - (const char *)text);
        free(text);
        return sb__error(SB_ERR_FORMAT, "dataset '%s': asset '%s' is not valid JSON (extra data at byte %ld)",
                         ds->name, name, off);
    }
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        long off = at ? (long)(at - (const char *)text) : -1;
        free(text);
        return sb__error(SB_ERR_FORMAT, "dataset '%s': asset '%s' is not valid JSON (error near byte %ld)",
                         ds->name, name, off);
    }
    free(text);
    *json = doc;
    return 0;
}

int sb__asset_copy(sb_dataset *src, sb_dataset *dst, const char *name)
{
    asset_view v;
    int rc = view_open(src, name, &v);
    void *data = NULL;
    size_t len = 0;
    if (rc == 0)
        rc = read_view(src, name, &v, v.type, &data, &len);
    if (rc == 0)
        rc = write_asset(dst, name, v.type, v.space, data, false);
    free(data);
    view_close(&v);
    return rc;
}
