/* Fields and row transfers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "dtype.h"
#include "fields.h"
#include "format.h"
#include "store.h"

void sb__field_init(sb_field *f)
{
    memset(f, 0, sizeof *f);
    f->dset = H5I_INVALID_HID;
    f->type = H5I_INVALID_HID;
    f->supported = true;
}

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

uint64_t sb__layout_hash(const sb_row_layout *l)
{
    sb_hash h;
    sb__hash_init(&h, "layout");
    sb__hash_u64(&h, (uint64_t)l->dtype);
    sb__hash_u64(&h, (uint64_t)l->row_ndim);
    for (int d = 0; d < l->row_ndim; d++)
        sb__hash_u64(&h, l->row_shape[d]);
    return h.h;
}

void sb__layout_describe(const sb_row_layout *l, char *buf, size_t len)
{
    const char *name = sb_dtype_name(l->dtype);
    int n = snprintf(buf, len, "%s (", name ? name : "?");
    for (int i = 0; i < l->row_ndim && n > 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, "%s%llu", i ? ", " : "",
                      (unsigned long long)l->row_shape[i]);
    if (n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "%s)", l->row_ndim == 1 ? "," : "");
}

int sb__layout_row_bytes(const sb_row_layout *l, const char *what, uint64_t *bytes)
{
    uint64_t b = sb_dtype_size(l->dtype);
    for (int i = 0; i < l->row_ndim; i++)
        if (sb__mul_overflows(b, l->row_shape[i], &b))
            return sb__error(SB_ERR_INVALID, "%s: a row of this shape does not fit in 2^64 bytes",
                             what);
    *bytes = b;
    return 0;
}

static void set_layout(sb_field *f, const sb_row_layout *l, uint64_t row_bytes)
{
    f->layout = *l;
    f->row_bytes = row_bytes;
    f->defined = true;
    snprintf(f->type_name, sizeof f->type_name, "%s", sb_dtype_name(l->dtype));
}

/* The filters of a field, by name; whether it has any. *missing names the
 * first one this HDF5 cannot run (h5py's LZF, a plugin not installed). */
static bool describe_filters(hid_t dset, char *buf, size_t len, char *missing, size_t mlen)
{
    buf[0] = '\0';
    missing[0] = '\0';
    hid_t dcpl = H5Dget_create_plist(dset);
    if (dcpl < 0)
        return false;
    int n = H5Pget_nfilters(dcpl);
    size_t used = 0;
    for (int i = 0; i < n && used < len; i++) {
        unsigned flags = 0, config = 0;
        size_t nelmts = 0;
        char name[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelmts, NULL, sizeof name,
                                         name, &config);
        const char *label = id == H5Z_FILTER_DEFLATE ? "deflate"
                            : id == H5Z_FILTER_SHUFFLE ? "shuffle"
                            : id == H5Z_FILTER_FLETCHER32 ? "fletcher32"
                            : id == H5Z_FILTER_SZIP ? "szip"
                            : id == H5Z_FILTER_NBIT ? "nbit"
                            : id == H5Z_FILTER_SCALEOFFSET ? "scaleoffset"
                            : name[0] ? name : "unknown filter";
        int k = snprintf(buf + used, len - used, "%s%s", i ? "," : "", label);
        used += k > 0 ? (size_t)k : 0;
        if (!missing[0] && H5Zfilter_avail(id) <= 0)
            snprintf(missing, mlen, "%s (filter %d)", id == 32000 ? "lzf" : label, (int)id);
    }
    H5Pclose(dcpl);
    return n > 0;
}

int sb__field_open(sb_field *f, hid_t dset, const char *dsname, uint64_t capacity)
{
    hid_t type = H5Dget_type(dset);
    hid_t space = H5Dget_space(dset);
    int ndims = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[SB_MAX_DIMS];
    sb_row_layout l;
    memset(&l, 0, sizeof l);
    char what[96] = "";
    int rc = 0;
    if (type < 0 || space < 0 || ndims < 0) {
        rc = sb__h5_error(SB_ERR_FORMAT, "dataset '%s': cannot read field '%s'", dsname, f->name);
    } else if (ndims < 1 || ndims > SB_MAX_DIMS) {
        rc = sb__error(SB_ERR_FORMAT, "dataset '%s': field '%s' has %d dimensions (1 to %d expected)",
                       dsname, f->name, ndims, SB_MAX_DIMS);
    } else {
        H5Sget_simple_extent_dims(space, dims, NULL);
        if (dims[0] != capacity)
            rc = sb__error(SB_ERR_FORMAT,
                           "dataset '%s': field '%s' has %llu rows but the capacity (%s) is %llu",
                           dsname, f->name, (unsigned long long)dims[0], SB_ATTR_CAPACITY,
                           (unsigned long long)capacity);
    }
    if (rc == 0) {
        l.row_ndim = ndims - 1;
        for (int i = 1; i < ndims; i++)
            l.row_shape[i - 1] = dims[i];
        char missing[64];
        f->collective_only = describe_filters(dset, f->filters, sizeof f->filters, missing,
                                              sizeof missing);
        if (missing[0] && sb__dtype_from_h5(type, &l.dtype, what, sizeof what) == 0) {
            /* Loaded all the same: only reading or writing it fails. */
            f->layout = l;
            f->defined = true;
            f->supported = false;
            /* Cut if longer. Looking at the result keeps GCC's
             * -Wformat-truncation (an error in Debug builds, -O0) quiet. */
            if (snprintf(f->type_name, sizeof f->type_name, "%s compressed with %s, which this "
                         "HDF5 cannot decompress", what, missing) < 0)
                f->type_name[0] = '\0';
        } else if (sb__dtype_from_h5(type, &l.dtype, what, sizeof what) == 0) {
            uint64_t bytes = 0;
            rc = sb__layout_row_bytes(&l, f->name, &bytes);
            if (rc == 0) {
                set_layout(f, &l, bytes);
                f->type = sb__dtype_memtype(type, l.dtype);
            }
        } else {
            /* Loaded all the same: only reading or writing it fails. */
            f->layout = l;
            f->defined = true;
            f->supported = false;
            snprintf(f->type_name, sizeof f->type_name, "%s", what);
        }
    }
    if (rc == 0) {
        f->dset = dset;
        dset = H5I_INVALID_HID;
    }
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    return rc;
}

int sb__field_create(sb_field *f, hid_t group, const char *dsname, uint64_t capacity,
                     const sb_row_layout *layout, int64_t priority)
{
    uint64_t row_bytes = 0, total = 0;
    int rc = sb__layout_row_bytes(layout, f->name, &row_bytes);
    if (rc < 0)
        return rc;
    /* HDF5 would create it (space is allocated at the first write) and then
     * fail that write at an undefined address, a write error that stops the
     * store: refused here, before anything is made. */
    if (sb__mul_overflows(row_bytes, capacity, &total) || total > (uint64_t)INT64_MAX)
        return sb__error(SB_ERR_INVALID,
                         "dataset '%s': field '%s': %llu rows of %llu bytes do not fit in a file "
                         "(at most 2^63 - 1 bytes)",
                         dsname, f->name, (unsigned long long)capacity,
                         (unsigned long long)row_bytes);
    hsize_t dims[SB_MAX_DIMS];
    dims[0] = capacity;
    for (int i = 0; i < layout->row_ndim; i++)
        dims[i + 1] = layout->row_shape[i];
    hid_t space = H5Screate_simple(layout->row_ndim + 1, dims, NULL);
    hid_t type = sb__dtype_h5type(layout->dtype);
    hid_t dcpl = sb__dcpl_contiguous();
    hid_t dset = space >= 0 && type >= 0 && dcpl >= 0
                     ? H5Dcreate2(group, f->name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)
                     : H5I_INVALID_HID;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (dset < 0) {
        if (type >= 0)
            H5Tclose(type);
        return sb__h5_error(SB_ERR_IO, "dataset '%s': cannot create field '%s' (%llu rows)",
                            dsname, f->name, (unsigned long long)capacity);
    }
    rc = sb__attr_write_i64(dset, SB_ATTR_PRIORITY, priority);
    if (rc < 0) {
        H5Dclose(dset);
        H5Ldelete(group, f->name, H5P_DEFAULT);
        H5Tclose(type);
        return rc;
    }
    set_layout(f, layout, row_bytes);
    f->type = type;
    f->dset = dset;
    return 0;
}

/* ---- transfers ---------------------------------------------------------- */

uint64_t sb__xfer_max_bytes(void)
{
    /* Below 2^31: HDF5 1.10's MPI-IO driver turns the byte count of one
     * transfer into an int. SB_XFER_MAX_BYTES lowers it so that tests can
     * cross the seams with little data. */
    static uint64_t max;
    if (max == 0) {
        uint64_t m = 1ULL << 30;
        const char *env = getenv("SB_XFER_MAX_BYTES");
        if (env && *env) {
            unsigned long long v = strtoull(env, NULL, 10);
            if (v > 0 && v < m)
                m = v;
        }
        max = m;
    }
    return max;
}

static uint64_t rows_per_piece(uint64_t row_bytes)
{
    uint64_t per = row_bytes ? sb__xfer_max_bytes() / row_bytes : UINT64_MAX;
    return per ? per : 1;
}

uint64_t sb__xfer_pieces(uint64_t nrows, uint64_t row_bytes)
{
    uint64_t per = rows_per_piece(row_bytes);
    return nrows / per + (nrows % per != 0);
}

static int select_rows(sb_field *f, uint64_t offset, uint64_t nrows, hid_t *mem, hid_t *file)
{
    hsize_t start[SB_MAX_DIMS] = {0}, count[SB_MAX_DIMS];
    count[0] = nrows;
    for (int i = 0; i < f->layout.row_ndim; i++)
        count[i + 1] = f->layout.row_shape[i];
    start[0] = offset;
    *mem = H5I_INVALID_HID;
    *file = H5Dget_space(f->dset);
    if (*file < 0)
        return -1;
    if (nrows == 0) {
        /* Nothing from this rank, but it still takes part in the transfer. */
        hsize_t one = 1;
        *mem = H5Screate_simple(1, &one, NULL);
        if (*mem >= 0)
            H5Sselect_none(*mem);
        H5Sselect_none(*file);
    } else {
        *mem = H5Screate_simple(f->layout.row_ndim + 1, count, NULL);
        if (H5Sselect_hyperslab(*file, H5S_SELECT_SET, start, NULL, count, NULL) < 0) {
            if (*mem >= 0)
                H5Sclose(*mem);
            *mem = H5I_INVALID_HID;
        }
    }
    if (*mem < 0) {
        H5Sclose(*file);
        return -1;
    }
    return 0;
}

static void record_io_mode(hid_t dxpl, bool asked, sb_write_report *report)
{
    H5D_mpio_actual_io_mode_t mode = H5D_MPIO_NO_COLLECTIVE;
    uint32_t local = 0, global = 0;
    H5Pget_mpio_actual_io_mode(dxpl, &mode);
    H5Pget_mpio_no_collective_cause(dxpl, &local, &global);
    report->valid = true;
    report->asked_collective = asked;
    report->collective = mode != H5D_MPIO_NO_COLLECTIVE;
    report->local_cause = local;
    report->global_cause = global;
}

static int unsupported(const char *dsname, const sb_field *f, const char *verb)
{
    return sb__error(SB_ERR_TYPE, "dataset '%s': field '%s' holds %s, which secbench-storage "
                     "cannot %s", dsname, f->name, f->type_name, verb);
}

/* One field's rows in pieces HDF5 accepts: rank-local count of pieces, and
 * empty transfers up to `rounds` so that collective calls line up. */
static int transfer(sb_store *s, const char *dsname, sb_field *f, uint64_t offset,
                    uint64_t nrows, unsigned char *data, bool write, bool collective,
                    uint64_t rounds, sb_write_report *report)
{
    bool mpi_coll = collective && s->coll.parallel &&
                    (write ? s->collective_writes || f->collective_only : s->collective_reads);
    hid_t dxpl = mpi_coll ? s->dxpl_coll : s->dxpl_indep;
    uint64_t per = rows_per_piece(f->row_bytes);
    uint64_t pieces = sb__xfer_pieces(nrows, f->row_bytes);
    /* Every rank of a collective call makes the same number of calls, even
     * where MPI-IO transfers independently: HDF5 may still meet collectively
     * inside one (metadata). */
    if (!collective || rounds < pieces)
        rounds = pieces;
    int rc = 0;
    for (uint64_t i = 0; i < rounds; i++) {
        uint64_t at = i * per < nrows ? i * per : nrows;
        uint64_t n = nrows - at < per ? nrows - at : per;
        hid_t mem, file;
        if (select_rows(f, offset + at, n, &mem, &file) < 0) {
            if (rc == 0)
                rc = sb__h5_error(SB_ERR_IO, "dataset '%s': cannot select rows of field '%s'",
                                  dsname, f->name);
            continue;
        }
        static unsigned char dummy;
        unsigned char *p = n ? data + at * f->row_bytes : &dummy;
        herr_t st = write ? H5Dwrite(f->dset, f->type, mem, file, dxpl, p)
                          : H5Dread(f->dset, f->type, mem, file, dxpl, p);
        H5Sclose(mem);
        H5Sclose(file);
        if (st < 0 && rc == 0)
            rc = sb__h5_error(SB_ERR_IO, "dataset '%s': cannot %s %llu rows at %llu %s field '%s'",
                              dsname, write ? "write" : "read", (unsigned long long)n,
                              (unsigned long long)(offset + at), write ? "into" : "of", f->name);
        /* A failed piece does not stop the others: collective calls must
         * line up on every rank. */
    }
    if (write && collective && report && s->coll.parallel)
        record_io_mode(dxpl, mpi_coll, report);
    return rc;
}

int sb__field_write(sb_store *s, const char *dsname, sb_field *f, uint64_t offset,
                    uint64_t nrows, const void *data, bool collective, uint64_t rounds,
                    sb_write_report *report)
{
    if (!f->supported) {
        /* Still take part in the others' collective transfers? Nothing to
         * take part in: no rank can write this field. */
        return unsupported(dsname, f, "write");
    }
    return transfer(s, dsname, f, offset, nrows, (unsigned char *)data, true, collective, rounds,
                    report);
}

int sb__field_read(sb_store *s, const char *dsname, sb_field *f, uint64_t offset,
                   uint64_t nrows, void *data, bool collective, uint64_t rounds)
{
    if (!f->supported)
        return unsupported(dsname, f, "read");
    return transfer(s, dsname, f, offset, nrows, data, false, collective, rounds, NULL);
}
