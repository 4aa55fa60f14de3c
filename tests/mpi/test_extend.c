/* Collective extend: uneven and empty contributions land in rank order, the
 * write really is collective, many dtypes and row shapes, scalar fields. */
#include "mpi_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mt_field TRACE[] = {
    {"samples", SB_INT16, 1, {50}},
    {"plaintext", SB_UINT8, 1, {16}},
    {"label", SB_INT32, 0, {0}},
};
#define NTRACE (sizeof TRACE / sizeof TRACE[0])

/* Collective: this rank contributes `mine` rows (NULL columns when use_null);
 * checks return code, new size on every rank and that the write was
 * collective. Returns the new size. */
static uint64_t extend_round(sb_dataset *ds, const mt_field *fields, size_t nfields,
                             uint64_t mine, bool use_null, unsigned seed)
{
    uint64_t before = sb_dataset_size(ds);
    uint64_t offset = before + mt_exscan_u64(mine);
    uint64_t total = mt_sum_u64(mine);
    sb_array *cols = use_null ? NULL : mt_columns(fields, nfields, offset, mine, seed);
    MT_EXPECT_OK(sb_dataset_extend(ds, sb_dataset_nfields(ds), cols));
    mt_columns_free(cols, nfields);
    uint64_t after = sb_dataset_size(ds);
    MT_EXPECT_MSG(after == before + total, "size %llu after extend, wanted %llu",
                  (unsigned long long)after, (unsigned long long)(before + total));
    MT_EXPECT_MSG(mt_same_u64(after), "ranks disagree on the size (%llu here)",
                  (unsigned long long)after);
    if (total > 0) {
        sb_write_report rep;
        sb_dataset_last_write(&rep, ds);
        MT_EXPECT_MSG(rep.valid, "no write report after a parallel extend");
        /* HDF5 1.10 reports a collective write even on one rank: what the
         * store asked for is what happened, nothing fell back silently. */
        MT_EXPECT_MSG(rep.collective == rep.asked_collective,
                      "extend asked for a%s write and got a%s one: local cause 0x%x, global 0x%x",
                      rep.asked_collective ? " collective" : "n independent",
                      rep.collective ? " collective" : "n independent", rep.local_cause,
                      rep.global_cause);
        MT_EXPECT_MSG(rep.asked_collective || !mt_collective_writes_forced(),
                      "collective writes were forced but the store did not ask for one");
        MT_EXPECT_MSG(mt_collective_writes_chosen() ||
                          rep.asked_collective == mt_auto_writes_collective(),
                      "collective_writes = SB_AUTO asked for a%s write on this MPI-IO layer",
                      rep.asked_collective ? " collective" : "n independent");
    }
    return after;
}

START_TEST(test_uneven_counts)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "uneven", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_create(st, "traces", 1000, TRACE, NTRACE, &ds));
    uint64_t mine = (uint64_t)mt_rank * 3 + 1;
    uint64_t size = extend_round(ds, TRACE, NTRACE, mine, false, 0);
    uint64_t want = 0;
    for (int r = 0; r < mt_nranks; r++)
        want += (uint64_t)r * 3 + 1;
    MT_EXPECT(size == want);
    /* Every rank checks every row, not only its own. */
    mt_check_rows(ds, TRACE, NTRACE, 0, size, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));

    MT_REQUIRE_OK(mt_open(&st, "uneven", SB_READ));
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, "traces"));
    MT_EXPECT(sb_dataset_size(ds) == want);
    MT_EXPECT(sb_dataset_capacity(ds) == 1000);
    mt_check_rows(ds, TRACE, NTRACE, 0, want, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

START_TEST(test_zero_and_null_ranks)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "zeros", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_create(st, "t", 500, TRACE, NTRACE, &ds));
    int r = mt_rank, last = mt_nranks - 1;
    /* Rank 0 passes NULL first: the fields are defined by the other ranks' rows. */
    extend_round(ds, TRACE, NTRACE, r == 0 ? 0 : (uint64_t)r + 1, r == 0, 0);
    /* Even ranks pass zero-row columns. */
    extend_round(ds, TRACE, NTRACE, r % 2 == 0 ? 0 : 2, false, 0);
    /* Nobody writes: a no-op that must still return on every rank. */
    extend_round(ds, TRACE, NTRACE, 0, r % 2 == 1, 0);
    /* Only the last rank writes. */
    extend_round(ds, TRACE, NTRACE, r == last ? 5 : 0, r != last && r % 2 == 0, 0);
    /* Only rank 0 writes. */
    uint64_t size = extend_round(ds, TRACE, NTRACE, r == 0 ? 3 : 0, r != 0, 0);
    uint64_t want = 0;
    for (int q = 1; q < mt_nranks; q++)
        want += (uint64_t)q + 1 + (q % 2 ? 2 : 0);
    want += 5 + 3;
    MT_EXPECT_MSG(size == want, "size %llu, wanted %llu", (unsigned long long)size,
                  (unsigned long long)want);
    mt_check_rows(ds, TRACE, NTRACE, 0, size, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

START_TEST(test_repeated_extends)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "repeated", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_create(st, "t", 4000, TRACE, NTRACE, &ds));
    uint64_t size = 0;
    for (int round = 0; round < 12; round++) {
        uint64_t mine = (uint64_t)((mt_rank * 7 + round * 5) % 11);
        size = extend_round(ds, TRACE, NTRACE, mine, false, 0);
    }
    mt_check_rows(ds, TRACE, NTRACE, 0, size, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

static const sb_dtype ALL_DTYPES[] = {SB_BOOL, SB_INT8, SB_UINT8, SB_INT16, SB_UINT16,
                                      SB_INT32, SB_UINT32, SB_INT64, SB_UINT64,
                                      SB_FLOAT32, SB_FLOAT64, SB_FLOAT16, SB_COMPLEX64,
                                      SB_COMPLEX128, SB_BYTES(1), SB_BYTES(8), SB_BYTES(13)};

START_TEST(test_dtypes_and_shapes)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "dtypes", SB_CREATE_TRUNCATE));
    size_t ndt = sizeof ALL_DTYPES / sizeof ALL_DTYPES[0];
    for (size_t k = 0; k < ndt; k++) {
        sb_dtype dt = ALL_DTYPES[k];
        mt_field f[4] = {
            {"scalar", dt, 0, {0}},
            {"vector", dt, 1, {3}},
            {"matrix", dt, 2, {2, 3}},
            {"cube", dt, 3, {2, 1, 4}},
        };
        char name[64];
        snprintf(name, sizeof name, "dt/%s", sb_dtype_name(dt));
        sb_dataset *ds = NULL;
        MT_REQUIRE_OK(mt_create(st, name, mt_scale(64), f, 4, &ds));
        extend_round(ds, f, 4, (uint64_t)mt_rank + 1, false, (unsigned)k);
        uint64_t size = extend_round(ds, f, 4, mt_rank % 2 ? 0 : 2, false, (unsigned)k);
        mt_check_rows(ds, f, 4, 0, size, (unsigned)k);
        MT_EXPECT_OK(sb_dataset_close(ds));
    }
    /* Fields of different dtypes side by side. */
    mt_field mixed[5] = {
        {"b", SB_BOOL, 1, {5}}, {"f", SB_FLOAT64, 0, {0}}, {"u", SB_UINT64, 1, {2}},
        {"h", SB_FLOAT32, 2, {3, 3}}, {"i", SB_INT8, 0, {0}},
    };
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_create(st, "mixed", mt_scale(100), mixed, 5, &ds));
    uint64_t size = extend_round(ds, mixed, 5, (uint64_t)(mt_nranks - mt_rank) * 2, false, 40);
    mt_check_rows(ds, mixed, 5, 0, size, 40);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));

    /* Everything again from a fresh open. */
    MT_REQUIRE_OK(mt_open(&st, "dtypes", SB_READ));
    for (size_t k = 0; k < ndt; k++) {
        sb_dtype dt = ALL_DTYPES[k];
        mt_field f[4] = {
            {"scalar", dt, 0, {0}}, {"vector", dt, 1, {3}},
            {"matrix", dt, 2, {2, 3}}, {"cube", dt, 3, {2, 1, 4}},
        };
        char name[64];
        snprintf(name, sizeof name, "dt/%s", sb_dtype_name(dt));
        MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, name));
        uint64_t want = mt_sum_u64((uint64_t)mt_rank + 1 + (mt_rank % 2 ? 0 : 2));
        MT_EXPECT(sb_dataset_size(ds) == want);
        mt_check_rows(ds, f, 4, 0, want, (unsigned)k);
        MT_EXPECT_OK(sb_dataset_close(ds));
    }
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

/* Rows [from, to) of every field written with write_at as a sentinel pattern
 * (seed 77), so that "nothing was written" can be checked after a failure. */
static void write_sentinel(sb_dataset *ds, const mt_field *f, size_t nf, uint64_t from,
                           uint64_t to)
{
    if (mt_rank == 0 && to > from) {
        sb_array *cols = mt_columns(f, nf, from, to - from, 77);
        MT_EXPECT_OK(sb_dataset_write_at(ds, from, sb_dataset_nfields(ds), cols));
        mt_columns_free(cols, nf);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

static void expect_same_error(int rc, int want, const char *must_name)
{
    MT_EXPECT_MSG(rc == want, "got %s (%d), wanted %s: %s", sb_error_name(rc), rc,
                  sb_error_name(want), sb_last_error_message());
    MT_EXPECT_MSG(mt_same_int(rc), "ranks got different codes (%d here)", rc);
    const char *msg = sb_last_error_message();
    MT_EXPECT_MSG(msg[0] != '\0', "empty error message");
    MT_EXPECT_MSG(!must_name || strstr(msg, must_name), "message '%s' does not name '%s'",
                  msg, must_name);
}

START_TEST(test_overflow_full)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "full", SB_CREATE_TRUNCATE));
    uint64_t n = (uint64_t)mt_nranks;
    uint64_t first = 2 * n, second = n * (n + 1) / 2;
    uint64_t cap = first + second - 1; /* the second round overflows by one row */
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_create(st, "fullset", cap, TRACE, NTRACE, &ds));
    extend_round(ds, TRACE, NTRACE, 2, false, 0);
    write_sentinel(ds, TRACE, NTRACE, first, cap);

    uint64_t off = first + mt_exscan_u64((uint64_t)mt_rank + 1);
    sb_array *cols = mt_columns(TRACE, NTRACE, off, (uint64_t)mt_rank + 1, 0);
    int rc = sb_dataset_extend(ds, sb_dataset_nfields(ds), cols);
    mt_columns_free(cols, NTRACE);
    expect_same_error(rc, SB_ERR_FULL, "fullset");
    MT_EXPECT(sb_dataset_size(ds) == first);

    /* One rank alone overflows while the others pass nothing. */
    uint64_t big = mt_rank == mt_nranks - 1 ? cap : 0;
    cols = mt_columns(TRACE, NTRACE, 0, big, 5);
    rc = sb_dataset_extend(ds, sb_dataset_nfields(ds), (big || mt_rank % 2 == 0) ? cols : NULL);
    mt_columns_free(cols, NTRACE);
    expect_same_error(rc, SB_ERR_FULL, NULL);
    MT_EXPECT(sb_dataset_size(ds) == first);

    /* The failed calls wrote nothing: the sentinel rows are intact. */
    MT_EXPECT_OK(sb_dataset_commit_size(ds, cap));
    MT_EXPECT(sb_dataset_size(ds) == cap);
    mt_check_rows(ds, TRACE, NTRACE, 0, first, 0);
    mt_check_rows(ds, TRACE, NTRACE, first, cap - first, 77);

    /* Exactly filling the capacity works; one more row is FULL. */
    MT_EXPECT_OK(sb_dataset_reset(ds));
    extend_round(ds, TRACE, NTRACE, mt_rank == 0 ? cap - (n - 1) : 1, false, 3);
    MT_EXPECT(sb_dataset_size(ds) == cap);
    cols = mt_columns(TRACE, NTRACE, 0, 1, 3);
    rc = sb_dataset_extend(ds, sb_dataset_nfields(ds), mt_rank == 0 ? cols : NULL);
    mt_columns_free(cols, NTRACE);
    expect_same_error(rc, SB_ERR_FULL, NULL);
    mt_check_rows(ds, TRACE, NTRACE, 0, cap, 3);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

START_TEST(test_mismatched_types)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "mismatch", SB_CREATE_TRUNCATE));
    int last = mt_nranks - 1;
    const size_t cap = 200;

    /* Before any row: ranks disagree on the dtype of the first rows. */
    if (mt_nranks > 1) {
        sb_dataset *ds = NULL;
        MT_REQUIRE_OK(mt_create(st, "fresh", cap, TRACE, NTRACE, &ds));
        mt_field f[NTRACE];
        memcpy(f, TRACE, sizeof f);
        if (mt_rank == last)
            f[2].dtype = SB_FLOAT32;
        sb_array *cols = mt_columns(f, NTRACE, 0, 2, 0);
        int rc = sb_dataset_extend(ds, sb_dataset_nfields(ds), cols);
        mt_columns_free(cols, NTRACE);
        expect_same_error(rc, SB_ERR_TYPE, NULL);
        MT_EXPECT(sb_dataset_size(ds) == 0);
        sb_field_info info;
        MT_EXPECT_OK(sb_dataset_field_info(&info, ds, 2));
        MT_EXPECT_MSG(!info.defined, "a refused first extend defined field %s", info.name);
        /* The same with another row shape. */
        memcpy(f, TRACE, sizeof f);
        if (mt_rank == last)
            f[0].row_shape[0] = 49;
        cols = mt_columns(f, NTRACE, 0, 1, 0);
        rc = sb_dataset_extend(ds, sb_dataset_nfields(ds), cols);
        mt_columns_free(cols, NTRACE);
        expect_same_error(rc, SB_ERR_TYPE, NULL);
        MT_EXPECT(sb_dataset_size(ds) == 0);
        /* And the dataset is still usable. */
        extend_round(ds, TRACE, NTRACE, 1, false, 0);
        mt_check_rows(ds, TRACE, NTRACE, 0, (uint64_t)mt_nranks, 0);
        MT_EXPECT_OK(sb_dataset_close(ds));
    }

    /* After the first rows fixed the fields. */
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_create(st, "fixed", cap, TRACE, NTRACE, &ds));
    uint64_t size = extend_round(ds, TRACE, NTRACE, 3, false, 0);
    write_sentinel(ds, TRACE, NTRACE, size, cap);
    struct { int field; sb_dtype dtype; uint64_t dim0; int ndim; } cases[] = {
        {0, SB_INT32, 50, 1},  /* dtype */
        {0, SB_INT16, 51, 1},  /* row length */
        {1, SB_UINT8, 16, 2},  /* row rank: (16, 1) instead of (16,) */
        {2, SB_UINT32, 0, 0},  /* signedness of a scalar field */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mt_field f[NTRACE];
        memcpy(f, TRACE, sizeof f);
        if (mt_rank == last) {
            mt_field *g = &f[cases[c].field];
            g->dtype = cases[c].dtype;
            g->row_ndim = cases[c].ndim;
            g->row_shape[0] = cases[c].dim0;
            g->row_shape[1] = 1;
        }
        sb_array *cols = mt_columns(f, NTRACE, size, 2, 9);
        int rc = sb_dataset_extend(ds, sb_dataset_nfields(ds), cols);
        mt_columns_free(cols, NTRACE);
        expect_same_error(rc, SB_ERR_TYPE, NULL);
        MT_EXPECT_MSG(sb_dataset_size(ds) == size, "case %zu changed the size", c);
    }
    MT_EXPECT_OK(sb_dataset_commit_size(ds, cap));
    mt_check_rows(ds, TRACE, NTRACE, 0, size, 0);
    mt_check_rows(ds, TRACE, NTRACE, size, cap - size, 77);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    Suite *s = suite_create("mpi_extend");
    TCase *tc = mt_tcase("extend");
    tcase_add_test(tc, test_uneven_counts);
    tcase_add_test(tc, test_zero_and_null_ranks);
    tcase_add_test(tc, test_repeated_extends);
    tcase_add_test(tc, test_dtypes_and_shapes);
    tcase_add_test(tc, test_overflow_full);
    tcase_add_test(tc, test_mismatched_types);
    suite_add_tcase(s, tc);
    return mt_run(s);
}
