/* Ranks owning preassigned slices: define_field, independent write_at,
 * collective commit_size; then independent reads of arbitrary ranges and a
 * collective read_all where each rank reads its own range. */
#include "mpi_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mt_field TRACE[] = {
    {"samples", SB_INT16, 1, {32}},
    {"key", SB_UINT8, 2, {4, 4}},
    {"time", SB_FLOAT64, 0, {0}},
};
#define NTRACE 3
#define SLICE 10

static void define_all(sb_dataset *ds)
{
    for (size_t i = 0; i < NTRACE; i++)
        MT_EXPECT_OK(sb_dataset_define_field(ds, TRACE[i].name, TRACE[i].dtype,
                                             TRACE[i].row_ndim, TRACE[i].row_shape));
}

/* Rank r owns rows [r*SLICE, (r+1)*SLICE); the last rank fills only part of
 * its slice and rank 0 fills it in two pieces, the second one first. */
static uint64_t write_slices(sb_dataset *ds)
{
    uint64_t start = (uint64_t)mt_rank * SLICE;
    uint64_t len = mt_rank == mt_nranks - 1 ? SLICE - 3 : SLICE;
    if (mt_rank == 0) {
        sb_array *b = mt_columns(TRACE, NTRACE, start + 4, len - 4, 0);
        MT_EXPECT_OK(sb_dataset_write_at(ds, start + 4, sb_dataset_nfields(ds), b));
        mt_columns_free(b, NTRACE);
        sb_array *a = mt_columns(TRACE, NTRACE, start, 4, 0);
        MT_EXPECT_OK(sb_dataset_write_at(ds, start, sb_dataset_nfields(ds), a));
        mt_columns_free(a, NTRACE);
    } else {
        sb_array *a = mt_columns(TRACE, NTRACE, start, len, 0);
        MT_EXPECT_OK(sb_dataset_write_at(ds, start, sb_dataset_nfields(ds), a));
        mt_columns_free(a, NTRACE);
    }
    MT_EXPECT_MSG(sb_dataset_size(ds) == 0, "write_at changed the size to %llu",
                  (unsigned long long)sb_dataset_size(ds));
    return start + len;
}

START_TEST(test_write_at_commit)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "slices", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    uint64_t cap = (uint64_t)mt_nranks * SLICE;
    MT_REQUIRE_OK(mt_create(st, "s", cap, TRACE, NTRACE, &ds));

    /* Before define_field there is no dtype to write with. */
    sb_array *early = mt_columns(TRACE, NTRACE, 0, 1, 0);
    int rc = sb_dataset_write_at(ds, (uint64_t)mt_rank, sb_dataset_nfields(ds), early);
    mt_columns_free(early, NTRACE);
    MT_EXPECT_MSG(rc < 0, "write_at before the fields are defined returned %d", rc);

    define_all(ds);
    /* Redefining the same way is harmless; otherwise it is a type error. */
    MT_EXPECT_OK(sb_dataset_define_field(ds, "time", SB_FLOAT64, 0, NULL));
    uint64_t other_shape[1] = {33};
    rc = sb_dataset_define_field(ds, "samples", SB_INT16, 1, other_shape);
    MT_EXPECT_MSG(rc == SB_ERR_TYPE, "redefining samples: %s", sb_error_name(rc));
    MT_EXPECT(mt_same_int(rc));

    uint64_t end = write_slices(ds);
    /* A write past the capacity fails locally and changes nothing. */
    sb_array *over = mt_columns(TRACE, NTRACE, cap - 1, 2, 5);
    rc = sb_dataset_write_at(ds, cap - 1, sb_dataset_nfields(ds), over);
    mt_columns_free(over, NTRACE);
    MT_EXPECT_MSG(rc < 0, "write_at of rows [cap-1, cap+1) returned %d", rc);

    /* Rank 0 reports nothing new: commit takes the largest end. */
    MT_EXPECT_OK(sb_dataset_commit_size(ds, mt_rank == 0 && mt_nranks > 1 ? 0 : end));
    uint64_t want = cap - 3;
    MT_EXPECT_MSG(sb_dataset_size(ds) == want, "size %llu after commit, wanted %llu",
                  (unsigned long long)sb_dataset_size(ds), (unsigned long long)want);
    mt_check_rows(ds, TRACE, NTRACE, 0, want, 0);

    /* Committing a smaller end never shrinks. */
    MT_EXPECT_OK(sb_dataset_commit_size(ds, 1));
    MT_EXPECT(sb_dataset_size(ds) == want);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));

    /* The size was written to the file; check from a fresh parallel open. */
    MT_REQUIRE_OK(mt_open(&st, "slices", SB_READ));
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, "s"));
    MT_EXPECT(sb_dataset_size(ds) == want);
    MT_EXPECT(sb_dataset_capacity(ds) == cap);
    mt_check_rows(ds, TRACE, NTRACE, 0, want, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

/* A dataset of `n` rows written by collective extends, left open. */
static sb_store *make_filled(const char *name, uint64_t n, sb_dataset **ds)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, name, SB_CREATE_TRUNCATE));
    MT_REQUIRE_OK(mt_create(st, "r", n, TRACE, NTRACE, ds));
    uint64_t per = n / (uint64_t)mt_nranks;
    uint64_t mine = mt_rank == mt_nranks - 1 ? n - per * (uint64_t)(mt_nranks - 1) : per;
    sb_array *cols = mt_columns(TRACE, NTRACE, per * (uint64_t)mt_rank, mine, 0);
    MT_EXPECT_OK(sb_dataset_extend(*ds, sb_dataset_nfields(*ds), cols));
    mt_columns_free(cols, NTRACE);
    MT_REQUIRE(sb_dataset_size(*ds) == n);
    return st;
}

START_TEST(test_independent_reads)
{
    sb_dataset *ds = NULL;
    const uint64_t n = 301;
    sb_store *st = make_filled("reads", n, &ds);
    /* Ranks read different ranges, with no collective call in between. */
    uint64_t mid = (uint64_t)mt_rank * 37 % n;
    uint64_t starts[] = {0, n - 1, mid, 100, 5};
    uint64_t counts[] = {n, 1, n - mid < 13 ? n - mid : 13, 0, 200};
    for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++)
        mt_check_rows(ds, TRACE, NTRACE, starts[k], counts[k], 0);
    for (uint64_t s = (uint64_t)mt_rank; s < n; s += 50)
        mt_check_rows(ds, TRACE, NTRACE, s, (n - s) < 7 ? n - s : 7, 0);

    int16_t buf[2 * 32];
    int rc = sb_dataset_read(buf, ds, "samples", n - 1, 2);
    MT_EXPECT_MSG(rc == SB_ERR_INVALID, "read past the size: %s", sb_error_name(rc));
    rc = sb_dataset_read(buf, ds, "nope", 0, 1);
    MT_EXPECT_MSG(rc == SB_ERR_NOT_FOUND, "read of a missing field: %s", sb_error_name(rc));

    sb_array all;
    memset(&all, 0, sizeof all);
    MT_EXPECT_OK(sb_dataset_get(&all, ds, 1, (const char *[]){"key"}));
    MT_EXPECT(all.dtype == SB_UINT8 && all.ndim == 3 && all.shape[0] == n &&
              all.shape[1] == 4 && all.shape[2] == 4);
    if (all.data)
        MT_EXPECT(mt_mismatches(SB_UINT8, all.data, 0, n, 16, 1) == 0);
    sb_free(all.data);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

START_TEST(test_read_all)
{
    sb_dataset *ds = NULL;
    const uint64_t n = 257;
    sb_store *st = make_filled("readall", n, &ds);
    for (int round = 0; round < 3; round++) {
        /* Own ranges, some overlapping, odd ranks reading nothing on round 1. */
        uint64_t start = ((uint64_t)mt_rank * 61 + (uint64_t)round * 17) % n;
        uint64_t count = (round == 1 && mt_rank % 2) ? 0 : (n - start < 40 ? n - start : 40);
        if (round == 2 && mt_rank == 0) {
            start = 0;
            count = n;
        }
        for (size_t i = 0; i < NTRACE; i++) {
            uint64_t elems = mt_row_elems(&TRACE[i]);
            size_t bytes = (size_t)(count * elems * sb_dtype_size(TRACE[i].dtype));
            void *buf = malloc(bytes ? bytes : 1);
            int rc = sb_dataset_read_all(buf, ds, TRACE[i].name, start, count);
            MT_EXPECT_MSG(rc == 0, "read_all %s round %d: %s", TRACE[i].name, round,
                          sb_last_error_message());
            uint64_t bad = rc == 0 ? mt_mismatches(TRACE[i].dtype, buf, start, count, elems,
                                                   (unsigned)i)
                                   : 0;
            MT_EXPECT_MSG(bad == 0, "read_all %s [%llu,+%llu) round %d: %llu rows differ",
                          TRACE[i].name, (unsigned long long)start, (unsigned long long)count,
                          round, (unsigned long long)bad);
            free(buf);
        }
    }
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

START_TEST(test_read_only_store_reads)
{
    sb_dataset *ds = NULL;
    sb_store *st = make_filled("roreads", mt_scale(64), &ds);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    MT_REQUIRE_OK(mt_open(&st, "roreads", SB_READ));
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, "r"));
    uint64_t start = (uint64_t)mt_rank * 5, count = mt_rank == 1 ? 0 : 11;
    int16_t *buf = malloc(11 * 32 * sizeof *buf);
    MT_EXPECT_OK(sb_dataset_read_all(buf, ds, "samples", start, count));
    MT_EXPECT(mt_mismatches(SB_INT16, buf, start, count, 32, 0) == 0);
    free(buf);
    mt_check_rows(ds, TRACE, NTRACE, 0, mt_scale(64), 0);
    /* Writes to a read-only store fail everywhere. */
    sb_array *cols = mt_columns(TRACE, NTRACE, mt_scale(64), 1, 0);
    int rc = sb_dataset_extend(ds, sb_dataset_nfields(ds), cols);
    mt_columns_free(cols, NTRACE);
    MT_EXPECT_MSG(rc == SB_ERR_READ_ONLY || rc == SB_ERR_FULL, "extend on a read-only store: %s",
                  sb_error_name(rc));
    MT_EXPECT(mt_same_int(rc));
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    Suite *s = suite_create("mpi_slices");
    TCase *tc = mt_tcase("slices");
    tcase_add_test(tc, test_write_at_commit);
    tcase_add_test(tc, test_independent_reads);
    tcase_add_test(tc, test_read_all);
    tcase_add_test(tc, test_read_only_store_reads);
    suite_add_tcase(s, tc);
    return mt_run(s);
}
