/* More than 2 GiB for one rank and one field in one call, on a parallel store.
 *
 * HDF5 1.10's MPI-IO driver passes an int count to MPI, so one transfer of
 * 2 GiB or more fails inside HDF5 ("can't convert from size to size_i"). The
 * library cuts such transfers into pieces (src/fields.c); this suite moves
 * SB_BIG_ROWS rows of 1 MiB (2.2 GiB by default) per rank through every path
 * that takes a caller's rows in one call: extend, read and read_all, write_at,
 * a flush of the append buffer, and export with one chunk per rank. Every row
 * is compared, so the seams between pieces are checked.
 *
 * It needs about 4.5 GiB of memory and 9 GiB of disk per rank, so it is only
 * registered with -DSB_BIG_TESTS=ON (label "big"): see tests/README.md. */
#include "mpi_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_BYTES ((uint64_t)1 << 20)

static uint64_t rows_per_rank(void)
{
    const char *env = getenv("SB_BIG_ROWS");
    uint64_t rows = env && *env ? strtoull(env, NULL, 10) : 0;
    /* 2.2 GiB: more than 2^31 bytes, and not a multiple of the 1 GiB pieces. */
    return rows ? rows : 2253;
}

/* Cheap, so that 2.2 GiB is filled in a second; depends on the global row and
 * the byte, so that a piece written at the wrong offset shows. */
static inline uint8_t byte_at(uint64_t row, uint64_t i)
{
    return (uint8_t)(row * 131u + i * 7u + (i >> 12) + (row >> 8));
}

static void fill_rows(uint8_t *buf, uint64_t first, uint64_t nrows)
{
    for (uint64_t r = 0; r < nrows; r++) {
        uint8_t *p = buf + r * ROW_BYTES;
        for (uint64_t i = 0; i < ROW_BYTES; i++)
            p[i] = byte_at(first + r, i);
    }
}

/* Rows of `buf` (global rows first...) that differ; the first one is reported. */
static uint64_t bad_rows(const uint8_t *buf, uint64_t first, uint64_t nrows, const char *what)
{
    uint8_t *want = malloc(ROW_BYTES);
    uint64_t bad = 0;
    for (uint64_t r = 0; r < nrows; r++) {
        for (uint64_t i = 0; i < ROW_BYTES; i++)
            want[i] = byte_at(first + r, i);
        if (memcmp(want, buf + r * ROW_BYTES, ROW_BYTES) != 0) {
            if (!bad)
                mt_fail_at(__FILE__, __LINE__, "%s: global row %llu differs (byte offset "
                           "%llu in this rank's buffer)", what,
                           (unsigned long long)(first + r),
                           (unsigned long long)(r * ROW_BYTES));
            bad++;
        }
    }
    free(want);
    return bad;
}

static uint8_t *big_alloc(uint64_t bytes)
{
    uint8_t *p = malloc(bytes ? bytes : 1);
    if (!p)
        mt_fail_at(__FILE__, __LINE__, "cannot allocate %llu bytes",
                   (unsigned long long)bytes);
    return p;
}

static sb_array trace_column(uint8_t *data, uint64_t nrows)
{
    sb_array a = {.dtype = SB_INT8, .ndim = 2, .shape = {nrows, ROW_BYTES}, .data = data};
    return a;
}

static sb_array index_column(uint64_t *data, uint64_t first, uint64_t nrows)
{
    for (uint64_t r = 0; r < nrows; r++)
        data[r] = first + r;
    sb_array a = {.dtype = SB_UINT64, .ndim = 1, .shape = {nrows}, .data = data};
    return a;
}

static sb_dataset *create_big(sb_store *st, const char *name)
{
    sb_dataset *ds = NULL;
    const char *fields[] = {"trace", "index"};
    /* One row to spare: the append buffer is never larger than the room left. */
    uint64_t cap = rows_per_rank() * (uint64_t)mt_nranks + 1;
    MT_REQUIRE_OK(sb_store_create_dataset(&ds, st, name, cap, 2, fields));
    return ds;
}

/* Reads this rank's rows back with one read_all (collective) and one read
 * (independent) of the whole range, and checks the index field. */
static void check_slice(sb_dataset *ds, uint64_t first, uint64_t nrows, const char *what)
{
    uint8_t *buf = big_alloc(nrows * ROW_BYTES);
    MT_REQUIRE(buf != NULL);
    char label[128];
    memset(buf, 0, nrows * ROW_BYTES);
    MT_EXPECT_OK(sb_dataset_read_all(buf, ds, "trace", first, nrows));
    snprintf(label, sizeof label, "%s, read_all", what);
    MT_EXPECT(bad_rows(buf, first, nrows, label) == 0);
    memset(buf, 0, nrows * ROW_BYTES);
    MT_EXPECT_OK(sb_dataset_read(buf, ds, "trace", first, nrows));
    snprintf(label, sizeof label, "%s, read", what);
    MT_EXPECT(bad_rows(buf, first, nrows, label) == 0);
    free(buf);

    uint64_t *idx = malloc(nrows * sizeof *idx);
    MT_EXPECT_OK(sb_dataset_read(idx, ds, "index", first, nrows));
    uint64_t wrong = 0;
    for (uint64_t r = 0; r < nrows; r++)
        wrong += idx[r] != first + r;
    MT_EXPECT_MSG(wrong == 0, "%s: %llu index values wrong", what, (unsigned long long)wrong);
    free(idx);
}

static void remove_store(const char *name)
{
    char path[600];
    mt_path(path, sizeof path, name);
    MPI_Barrier(MPI_COMM_WORLD);
    if (mt_rank == 0)
        remove(path);
    MPI_Barrier(MPI_COMM_WORLD);
}

START_TEST(test_extend_one_call)
{
    uint64_t n = rows_per_rank(), first = n * (uint64_t)mt_rank;
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "extend", SB_CREATE_TRUNCATE));
    sb_dataset *ds = create_big(st, "big");
    uint8_t *data = big_alloc(n * ROW_BYTES);
    uint64_t *idx = malloc(n * sizeof *idx);
    MT_REQUIRE(data != NULL && idx != NULL);
    fill_rows(data, first, n);
    sb_array cols[2] = {trace_column(data, n), index_column(idx, first, n)};
    MT_EXPECT_OK(sb_dataset_extend(ds, 2, cols));
    free(data);
    free(idx);
    MT_EXPECT(sb_dataset_size(ds) == n * (uint64_t)mt_nranks);
    check_slice(ds, first, n, "extend");
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    remove_store("extend");
    mt_end();
}
END_TEST

START_TEST(test_write_at_one_call)
{
    uint64_t n = rows_per_rank(), first = n * (uint64_t)mt_rank;
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "write_at", SB_CREATE_TRUNCATE));
    sb_dataset *ds = create_big(st, "big");
    uint64_t row_shape[1] = {ROW_BYTES};
    MT_EXPECT_OK(sb_dataset_define_field(ds, "trace", SB_INT8, 1, row_shape));
    MT_EXPECT_OK(sb_dataset_define_field(ds, "index", SB_UINT64, 0, NULL));
    uint8_t *data = big_alloc(n * ROW_BYTES);
    uint64_t *idx = malloc(n * sizeof *idx);
    MT_REQUIRE(data != NULL && idx != NULL);
    fill_rows(data, first, n);
    sb_array cols[2] = {trace_column(data, n), index_column(idx, first, n)};
    MT_EXPECT_OK(sb_dataset_write_at(ds, first, 2, cols));
    free(data);
    free(idx);
    MT_EXPECT_OK(sb_dataset_commit_size(ds, first + n));
    MT_EXPECT(sb_dataset_size(ds) == n * (uint64_t)mt_nranks);
    check_slice(ds, first, n, "write_at");
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    remove_store("write_at");
    mt_end();
}
END_TEST

/* An append buffer larger than 2 GiB, flushed in one collective write. */
START_TEST(test_append_buffer_flush)
{
    uint64_t n = rows_per_rank(), first = n * (uint64_t)mt_rank;
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "append", SB_CREATE_TRUNCATE));
    sb_dataset *ds = create_big(st, "big");
    /* Room for one row more than this rank appends: the flush below writes them all. */
    MT_EXPECT_OK(sb_dataset_set_append_buffer(ds, (n + 1) * (ROW_BYTES + 8)));
    uint8_t *row = big_alloc(ROW_BYTES);
    MT_REQUIRE(row != NULL);
    for (uint64_t r = 0; r < n; r++) {
        uint64_t index = first + r;
        fill_rows(row, first + r, 1);
        sb_array cells[2] = {
            {.dtype = SB_INT8, .ndim = 1, .shape = {ROW_BYTES}, .data = row},
            {.dtype = SB_UINT64, .ndim = 0, .data = &index},
        };
        MT_EXPECT_OK(sb_dataset_append(ds, 2, cells));
    }
    free(row);
    MT_EXPECT_MSG(sb_dataset_pending_rows(ds) == n, "%llu rows pending, wanted all %llu",
                  (unsigned long long)sb_dataset_pending_rows(ds), (unsigned long long)n);
    MT_EXPECT_OK(sb_dataset_flush(ds));
    MT_EXPECT(sb_dataset_size(ds) == n * (uint64_t)mt_nranks);
    check_slice(ds, first, n, "append");
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    remove_store("append");
    mt_end();
}
END_TEST

/* One chunk per rank: each rank moves n rows of 1 MiB through one read and
 * one write of the copy. */
START_TEST(test_export_one_chunk)
{
    uint64_t n = rows_per_rank(), first = n * (uint64_t)mt_rank;
    sb_store *src = NULL, *dst = NULL;
    MT_REQUIRE_OK(mt_open(&src, "export_src", SB_CREATE_TRUNCATE));
    sb_dataset *ds = create_big(src, "big");
    uint8_t *data = big_alloc(n * ROW_BYTES);
    uint64_t *idx = malloc(n * sizeof *idx);
    MT_REQUIRE(data != NULL && idx != NULL);
    fill_rows(data, first, n);
    sb_array cols[2] = {trace_column(data, n), index_column(idx, first, n)};
    MT_EXPECT_OK(sb_dataset_extend(ds, 2, cols));
    free(data);
    free(idx);
    MT_EXPECT_OK(sb_dataset_close(ds));

    MT_REQUIRE_OK(mt_open(&dst, "export_dst", SB_CREATE_TRUNCATE));
    sb_export_options opts;
    MT_REQUIRE_OK(sb_export_options_init(&opts, SB_EXPORT_OPTIONS_VERSION));
    opts.chunk_size = n;
    MT_EXPECT_OK(sb_store_export_dataset(src, "big", dst, &opts));
    MT_EXPECT_OK(sb_store_close(src));
    remove_store("export_src");

    sb_dataset *copy = NULL;
    MT_REQUIRE_OK(sb_store_load_dataset(&copy, dst, "big"));
    MT_EXPECT(sb_dataset_size(copy) == n * (uint64_t)mt_nranks);
    MT_EXPECT(!sb_dataset_is_incomplete(copy));
    check_slice(copy, first, n, "export");
    MT_EXPECT_OK(sb_dataset_close(copy));
    MT_EXPECT_OK(sb_store_close(dst));
    remove_store("export_dst");
    mt_end();
}
END_TEST

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    Suite *s = suite_create("mpi_big");
    TCase *tc = mt_tcase("big");

    tcase_add_test(tc, test_extend_one_call);
    tcase_add_test(tc, test_write_at_one_call);
    tcase_add_test(tc, test_append_buffer_flush);
    tcase_add_test(tc, test_export_one_chunk);
    suite_add_tcase(s, tc);
    return mt_run(s);
}
