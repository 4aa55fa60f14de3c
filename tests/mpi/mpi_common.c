#define _XOPEN_SOURCE 700

#include "mpi_common.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int mt_rank = 0;
int mt_nranks = 1;
char mt_tmpdir[512];
int mt_local_failures = 0;

void mt_init(int *argc, char ***argv)
{
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &mt_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mt_nranks);
    memset(mt_tmpdir, 0, sizeof mt_tmpdir);
    if (mt_rank == 0) {
        const char *base = getenv("TMPDIR");
        snprintf(mt_tmpdir, sizeof mt_tmpdir, "%s/sb-mpi-test-XXXXXX",
                 base && *base ? base : "/tmp");
        if (!mkdtemp(mt_tmpdir)) {
            perror("mkdtemp");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    MPI_Bcast(mt_tmpdir, (int)sizeof mt_tmpdir, MPI_CHAR, 0, MPI_COMM_WORLD);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void reset_failures(void)
{
    mt_local_failures = 0;
    sb_clear_error();
}

TCase *mt_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, reset_failures, NULL);
    return tc;
}

int mt_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, mt_rank == 0 ? CK_NORMAL : CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (failed && mt_rank != 0)
        fprintf(stderr, "[rank %d] %d test(s) failed\n", mt_rank, failed);
    int worst = 0;
    MPI_Allreduce(&failed, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    if (mt_rank == 0) {
        if (getenv("MT_KEEP_TMP"))
            fprintf(stderr, "kept %s\n", mt_tmpdir);
        else
            nftw(mt_tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    MPI_Finalize();
    return worst ? EXIT_FAILURE : EXIT_SUCCESS;
}

void mt_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s.h5", mt_tmpdir, name);
}

int mt_open_comm(sb_store **store, const char *name, sb_open_mode mode, MPI_Comm comm)
{
    char path[640];
    mt_path(path, sizeof path, name);
    sb_store_options opts;
    sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION);
    opts.comm = comm;
    /* The suites run once with the library's choice and once forcing
     * collective writes (which it avoids on Open MPI's OMPIO):
     * SB_TEST_COLLECTIVE_WRITES=1 forces them on, =0 off. */
    const char *cw = getenv("SB_TEST_COLLECTIVE_WRITES");
    if (cw)
        opts.collective_writes = atoi(cw) ? SB_YES : SB_NO;
    /* ... and once with metadata written independently (the option's other path). */
    const char *cm = getenv("SB_TEST_COLLECTIVE_METADATA_WRITES");
    if (cm)
        opts.collective_metadata_writes = atoi(cm) ? SB_YES : SB_NO;
    return sb_store_open(store, path, mode, &opts);
}

uint64_t mt_scale(uint64_t capacity)
{
    return capacity * (uint64_t)((mt_nranks + 3) / 4);
}

bool mt_collective_writes_chosen(void) { return getenv("SB_TEST_COLLECTIVE_WRITES") != NULL; }

bool mt_auto_writes_collective(void)
{
    char version[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int len = 0;
    MPI_Get_library_version(version, &len);
    if (!strstr(version, "Open MPI"))
        return true;
    const char *io = getenv("OMPI_MCA_io");
    return io && strstr(io, "romio") && !strstr(io, "^romio");
}

bool mt_collective_writes_forced(void)
{
    const char *cw = getenv("SB_TEST_COLLECTIVE_WRITES");
    return cw && atoi(cw) == 1;
}

int mt_open(sb_store **store, const char *name, sb_open_mode mode)
{
    return mt_open_comm(store, name, mode, MPI_COMM_WORLD);
}

bool mt_all(bool local)
{
    int in = local ? 1 : 0, out = 0;
    MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    return out != 0;
}

bool mt_same_u64(uint64_t value)
{
    uint64_t lo = 0, hi = 0;
    MPI_Allreduce(&value, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&value, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi;
}

bool mt_same_int(int value)
{
    return mt_same_u64((uint64_t)(int64_t)value);
}

bool mt_same_as_root(const char *text)
{
    int len = mt_rank == 0 ? (int)strlen(text) : 0;
    MPI_Bcast(&len, 1, MPI_INT, 0, MPI_COMM_WORLD);
    char *root = calloc((size_t)len + 1, 1);
    if (mt_rank == 0)
        memcpy(root, text, (size_t)len);
    MPI_Bcast(root, len + 1, MPI_CHAR, 0, MPI_COMM_WORLD);
    bool same = strcmp(root, text) == 0;
    free(root);
    return same;
}

uint64_t mt_sum_u64(uint64_t value)
{
    uint64_t sum = 0;
    MPI_Allreduce(&value, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    return sum;
}

uint64_t mt_exscan_u64(uint64_t value)
{
    uint64_t before = 0;
    MPI_Exscan(&value, &before, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    return mt_rank == 0 ? 0 : before; /* MPI_Exscan leaves rank 0 undefined */
}

void mt_fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[rank %d/%d] %s:%d: ", mt_rank, mt_nranks, file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    mt_local_failures++;
}

void mt_end(void)
{
    uint64_t total = mt_sum_u64((uint64_t)mt_local_failures);
    mt_local_failures = 0;
    ck_assert_msg(total == 0, "%llu failed expectation(s) across %d rank(s), see stderr",
                  (unsigned long long)total, mt_nranks);
}

/* ---- content ---- */

static void put_value(sb_dtype dtype, unsigned char *p, uint64_t v)
{
    switch (dtype) {
    case SB_BOOL: { uint8_t x = (uint8_t)((v / 3) & 1); memcpy(p, &x, 1); break; }
    case SB_INT8: { int8_t x = (int8_t)((int)(v % 251) - 125); memcpy(p, &x, 1); break; }
    case SB_UINT8: { uint8_t x = (uint8_t)(v % 253); memcpy(p, &x, 1); break; }
    case SB_INT16: { int16_t x = (int16_t)((int32_t)(v % 65521) - 32760); memcpy(p, &x, 2); break; }
    case SB_UINT16: { uint16_t x = (uint16_t)(v % 65521); memcpy(p, &x, 2); break; }
    case SB_INT32: { int32_t x = (int32_t)((int64_t)(v % 4000000007ULL) - 2000000000); memcpy(p, &x, 4); break; }
    case SB_UINT32: { uint32_t x = (uint32_t)(v % 4294967291ULL); memcpy(p, &x, 4); break; }
    case SB_INT64: { uint64_t x = v * 2654435761ULL; memcpy(p, &x, 8); break; }
    case SB_UINT64: { uint64_t x = v * 11400714819323198485ULL; memcpy(p, &x, 8); break; }
    case SB_FLOAT32: { float x = (float)(v % 1000003) * 0.25f - 1000.0f; memcpy(p, &x, 4); break; }
    case SB_FLOAT64: { double x = (double)v * 0.125 - 12345.5; memcpy(p, &x, 8); break; }
    case SB_FLOAT16: { uint16_t x = (uint16_t)(v % 0x7C00); memcpy(p, &x, 2); break; }
    case SB_COMPLEX64: { float x[2] = {(float)(v % 1009), -(float)(v % 1013)}; memcpy(p, x, 8); break; }
    case SB_COMPLEX128: { double x[2] = {(double)v * 0.5, -(double)v}; memcpy(p, x, 16); break; }
    default: /* bytes */
        for (size_t i = 0; i < sb_dtype_size(dtype); i++)
            p[i] = (unsigned char)(v * 31 + i);
        break;
    }
}

static uint64_t value_of(unsigned seed, uint64_t row, uint64_t e)
{
    return (uint64_t)seed * 100003u + row * 131u + e * 7u;
}

void mt_fill(sb_dtype dtype, void *buf, uint64_t first, uint64_t nrows,
             uint64_t row_elems, unsigned seed)
{
    size_t es = sb_dtype_size(dtype);
    unsigned char *p = buf;
    for (uint64_t r = 0; r < nrows; r++)
        for (uint64_t e = 0; e < row_elems; e++, p += es)
            put_value(dtype, p, value_of(seed, first + r, e));
}

uint64_t mt_mismatches(sb_dtype dtype, const void *buf, uint64_t first, uint64_t nrows,
                       uint64_t row_elems, unsigned seed)
{
    size_t row_bytes = sb_dtype_size(dtype) * row_elems;
    unsigned char *want = malloc(row_bytes ? row_bytes : 1);
    const unsigned char *got = buf;
    uint64_t bad = 0;
    for (uint64_t r = 0; r < nrows; r++) {
        mt_fill(dtype, want, first + r, 1, row_elems, seed);
        if (memcmp(want, got + r * row_bytes, row_bytes) != 0)
            bad++;
    }
    free(want);
    return bad;
}

uint64_t mt_row_elems(const mt_field *f)
{
    uint64_t n = 1;
    for (int d = 0; d < f->row_ndim; d++)
        n *= f->row_shape[d];
    return n;
}

static sb_array *make_arrays(const mt_field *fields, size_t nfields, uint64_t first,
                             uint64_t nrows, unsigned seed, bool column)
{
    sb_array *cols = calloc(nfields, sizeof *cols);
    for (size_t i = 0; i < nfields; i++) {
        const mt_field *f = &fields[i];
        uint64_t elems = mt_row_elems(f);
        size_t bytes = (size_t)(nrows * elems * sb_dtype_size(f->dtype));
        cols[i].dtype = f->dtype;
        int d = 0;
        if (column)
            cols[i].shape[d++] = nrows;
        for (int k = 0; k < f->row_ndim; k++)
            cols[i].shape[d++] = f->row_shape[k];
        cols[i].ndim = d;
        /* Never NULL: a zero-row column still points somewhere valid. */
        cols[i].data = malloc(bytes ? bytes : 1);
        mt_fill(f->dtype, cols[i].data, first, nrows, elems, seed + (unsigned)i);
    }
    return cols;
}

sb_array *mt_columns(const mt_field *fields, size_t nfields, uint64_t first,
                     uint64_t nrows, unsigned seed)
{
    return make_arrays(fields, nfields, first, nrows, seed, true);
}

sb_array *mt_row(const mt_field *fields, size_t nfields, uint64_t row, unsigned seed)
{
    return make_arrays(fields, nfields, row, 1, seed, false);
}

void mt_columns_free(sb_array *cols, size_t nfields)
{
    if (!cols)
        return;
    for (size_t i = 0; i < nfields; i++)
        free(cols[i].data);
    free(cols);
}

void mt_check_rows(sb_dataset *ds, const mt_field *fields, size_t nfields,
                   uint64_t first, uint64_t count, unsigned seed)
{
    for (size_t i = 0; i < nfields; i++) {
        const mt_field *f = &fields[i];
        size_t idx = 0;
        int rc = sb_dataset_field_index(&idx, ds, f->name);
        MT_EXPECT_MSG(rc == 0, "field %s not found: %s", f->name, sb_last_error_message());
        if (rc != 0)
            continue;
        sb_field_info info;
        rc = sb_dataset_field_info(&info, ds, idx);
        MT_EXPECT_MSG(rc == 0 && info.defined, "field %s not defined (rc %d)", f->name, rc);
        if (rc != 0 || !info.defined)
            continue;
        MT_EXPECT_MSG(info.dtype == f->dtype, "field %s has dtype %s, wanted %s", f->name,
                      sb_dtype_name(info.dtype), sb_dtype_name(f->dtype));
        MT_EXPECT_MSG(info.row_ndim == f->row_ndim, "field %s has row_ndim %d, wanted %d",
                      f->name, info.row_ndim, f->row_ndim);
        bool shape_ok = info.row_ndim == f->row_ndim;
        for (int d = 0; shape_ok && d < f->row_ndim; d++)
            shape_ok = info.row_shape[d] == f->row_shape[d];
        MT_EXPECT_MSG(shape_ok, "field %s has another row shape", f->name);
        uint64_t elems = mt_row_elems(f);
        MT_EXPECT_MSG(info.row_bytes == elems * sb_dtype_size(f->dtype),
                      "field %s: row_bytes %llu", f->name, (unsigned long long)info.row_bytes);
        if (count == 0 || info.dtype != f->dtype || !shape_ok)
            continue;
        size_t bytes = (size_t)(count * elems * sb_dtype_size(f->dtype));
        void *buf = malloc(bytes);
        rc = sb_dataset_read(buf, ds, f->name, first, count);
        MT_EXPECT_MSG(rc == 0, "read %s [%llu, +%llu): %s", f->name,
                      (unsigned long long)first, (unsigned long long)count,
                      sb_last_error_message());
        if (rc == 0) {
            uint64_t bad = mt_mismatches(f->dtype, buf, first, count, elems,
                                         seed + (unsigned)i);
            MT_EXPECT_MSG(bad == 0, "field %s: %llu of %llu rows from %llu differ", f->name,
                          (unsigned long long)bad, (unsigned long long)count,
                          (unsigned long long)first);
        }
        free(buf);
    }
}

int mt_create(sb_store *store, const char *name, uint64_t capacity,
              const mt_field *fields, size_t nfields, sb_dataset **out)
{
    const char *names[16];
    for (size_t i = 0; i < nfields && i < 16; i++)
        names[i] = fields[i].name;
    return sb_store_create_dataset(out, store, name, capacity, nfields, names);
}

int mt_root_system(const char *command)
{
    int status = 0;
    if (mt_rank == 0) {
        fflush(NULL);
        int rc = system(command);
        status = rc == -1 ? -1 : (WIFEXITED(rc) ? WEXITSTATUS(rc) : 128);
    }
    MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return status;
}
