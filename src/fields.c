/* Fields: one HDF5 dataset of shape (capacity, *row_shape) per field, and the
 * row transfers that are the library's hot path. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

void sb__field_release(sb_field *f)
{
    if (f->dset >= 0)
        H5Dclose(f->dset);
    if (f->type >= 0)
        H5Tclose(f->type);
    f->dset = H5I_INVALID_HID;
    f->type = H5I_INVALID_HID;
}

bool sb__layout_equal(const sb_row_layout *a, const sb_row_layout *b)
{
    if (a->dtype != b->dtype || a->row_ndim != b->row_ndim)
        return false;
    for (int i = 0; i < a->row_ndim; i++)
        if (a->row_shape[i] != b->row_shape[i])
            return false;
    return true;
}

void sb__layout_of_field(const sb_field *f, sb_row_layout *out)
{
    memset(out, 0, sizeof *out);
    out->dtype = f->dtype;
    out->row_ndim = f->row_ndim;
    for (int i = 0; i < f->row_ndim; i++)
        out->row_shape[i] = f->row_shape[i];
}

int sb__layout_describe(const sb_row_layout *l, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s (", sb_dtype_name(l->dtype) ? sb_dtype_name(l->dtype) : "?");
    for (int i = 0; i < l->row_ndim && n > 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, "%s%llu", i ? ", " : "",
                      (unsigned long long)l->row_shape[i]);
    if (n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "%s)", l->row_ndim == 1 ? "," : "");
    return 0;
}

static void set_layout(sb_field *f, const sb_row_layout *l)
{
    f->dtype = l->dtype;
    f->row_ndim = l->row_ndim;
    f->row_bytes = sb_dtype_size(l->dtype);
    for (int i = 0; i < l->row_ndim; i++) {
        f->row_shape[i] = l->row_shape[i];
        f->row_bytes *= l->row_shape[i];
    }
    f->defined = true;
}

int sb__field_open(sb_dataset *ds, sb_field *f, hid_t dset)
{
    hid_t type = H5Dget_type(dset);
    hid_t space = H5Dget_space(dset);
    int rc = 0;
    sb_row_layout l;
    memset(&l, 0, sizeof l);
    int ndims = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[SB_MAX_DIMS];
    if (type < 0 || space < 0 || ndims < 0) {
        rc = sb__h5_error(SB_ERR_FORMAT, "dataset '%s': cannot read field '%s'", ds->name, f->name);
    } else if (ndims < 1 || ndims > SB_MAX_DIMS) {
        rc = sb__error(SB_ERR_FORMAT, "dataset '%s': field '%s' has %d dimensions (1 to %d expected)",
                       ds->name, f->name, ndims, SB_MAX_DIMS);
    } else if (sb__dtype_from_h5(type, &l.dtype) < 0) {
        rc = sb__error(SB_ERR_FORMAT, "dataset '%s': field '%s' has a dtype secbench-storage does not "
                       "support (only bool, integers and float32/64)", ds->name, f->name);
    } else {
        H5Sget_simple_extent_dims(space, dims, NULL);
        if (dims[0] != ds->capacity) {
            rc = sb__error(SB_ERR_FORMAT,
                           "dataset '%s': field '%s' has %llu rows but the capacity (_sb_capacity) is %llu",
                           ds->name, f->name, (unsigned long long)dims[0],
                           (unsigned long long)ds->capacity);
        } else {
            l.row_ndim = ndims - 1;
            for (int i = 1; i < ndims; i++)
                l.row_shape[i - 1] = dims[i];
            set_layout(f, &l);
            /* Reads and writes use the native type of the dtype: equal to the
             * file's little-endian type here, so no conversion happens. */
            f->type = sb__dtype_h5type(l.dtype);
            f->dset = dset;
            dset = H5I_INVALID_HID;
        }
    }
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    return rc;
}

int sb__field_create(sb_dataset *ds, sb_field *f, const sb_row_layout *layout)
{
    hsize_t dims[SB_MAX_DIMS];
    dims[0] = ds->capacity;
    for (int i = 0; i < layout->row_ndim; i++)
        dims[i + 1] = layout->row_shape[i];
    hid_t space = H5Screate_simple(layout->row_ndim + 1, dims, NULL);
    hid_t type = sb__dtype_h5type(layout->dtype);
    hid_t dcpl = sb__dcpl_contiguous();
    hid_t dset = H5Dcreate2(ds->group, f->name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (dset < 0) {
        H5Tclose(type);
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot create field '%s' (%llu rows)",
                            ds->name, f->name, (unsigned long long)ds->capacity);
    }
    size_t index = (size_t)(f - ds->fields);
    int rc = sb__attr_write_i64(dset, SB_ATTR_PRIORITY, (int64_t)index);
    if (rc < 0) {
        H5Dclose(dset);
        H5Ldelete(ds->group, f->name, H5P_DEFAULT);
        H5Tclose(type);
        return rc;
    }
    set_layout(f, layout);
    f->type = type;
    f->dset = dset;
    return 0;
}

static int row_selection(sb_field *f, uint64_t offset, uint64_t nrows, hid_t *mem, hid_t *file)
{
    hsize_t start[SB_MAX_DIMS] = {0}, count[SB_MAX_DIMS];
    count[0] = nrows;
    for (int i = 0; i < f->row_ndim; i++)
        count[i + 1] = f->row_shape[i];
    start[0] = offset;
    *file = H5Dget_space(f->dset);
    if (*file < 0)
        return -1;
    if (nrows == 0) {
        /* Nothing from this rank, but it still takes part in the transfer. */
        hsize_t one = 1;
        *mem = H5Screate_simple(1, &one, NULL);
        H5Sselect_none(*mem);
        H5Sselect_none(*file);
    } else {
        *mem = H5Screate_simple(f->row_ndim + 1, count, NULL);
        H5Sselect_hyperslab(*file, H5S_SELECT_SET, start, NULL, count, NULL);
    }
    return *mem < 0 ? -1 : 0;
}

static void record_io_mode(sb_dataset *ds, hid_t dxpl, bool asked)
{
    if (!ds->store->parallel)
        return;
    H5D_mpio_actual_io_mode_t mode = H5D_MPIO_NO_COLLECTIVE;
    uint32_t local = 0, global = 0;
    H5Pget_mpio_actual_io_mode(dxpl, &mode);
    H5Pget_mpio_no_collective_cause(dxpl, &local, &global);
    ds->last_write.valid = true;
    ds->last_write.asked_collective = asked;
    ds->last_write.collective = mode != H5D_MPIO_NO_COLLECTIVE;
    ds->last_write.local_cause = local;
    ds->last_write.global_cause = global;
}

int sb__field_write(sb_dataset *ds, sb_field *f, uint64_t offset, uint64_t nrows,
                    const void *data, bool collective)
{
    hid_t mem, file;
    sb_store *s = ds->store;
    if (row_selection(f, offset, nrows, &mem, &file) < 0)
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot select rows of field '%s'", ds->name,
                            f->name);
    bool coll = collective && s->collective_writes;
    hid_t dxpl = coll ? s->dxpl_coll : s->dxpl_indep;
    static const char dummy = 0;
    herr_t st = H5Dwrite(f->dset, f->type, mem, file, dxpl, nrows ? data : &dummy);
    H5Sclose(mem);
    H5Sclose(file);
    if (st < 0)
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot write %llu rows at %llu into field '%s'",
                            ds->name, (unsigned long long)nrows, (unsigned long long)offset,
                            f->name);
    if (collective)
        record_io_mode(ds, dxpl, coll);
    return 0;
}

int sb__field_read(sb_dataset *ds, sb_field *f, uint64_t offset, uint64_t nrows, void *data,
                   bool collective)
{
    hid_t mem, file;
    sb_store *s = ds->store;
    if (row_selection(f, offset, nrows, &mem, &file) < 0)
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot select rows of field '%s'", ds->name,
                            f->name);
    char dummy = 0;
    bool coll = collective && s->collective_reads;
    herr_t st = H5Dread(f->dset, f->type, mem, file, coll ? s->dxpl_coll : s->dxpl_indep,
                        nrows ? data : &dummy);
    H5Sclose(mem);
    H5Sclose(file);
    if (st < 0)
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot read %llu rows at %llu of field '%s'",
                            ds->name, (unsigned long long)nrows, (unsigned long long)offset, f->name);
    return 0;
}
