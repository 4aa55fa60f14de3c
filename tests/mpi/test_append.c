/* Collective append (one row or NULL per rank) and write-behind buffering. */
#include "mpi_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mt_field TRACE[] = {
    {"samples", SB_FLOAT32, 1, {40}},
    {"key", SB_UINT8, 1, {16}},
    {"label", SB_UINT16, 0, {0}},
};
#define NTRACE (sizeof TRACE / sizeof TRACE[0])

START_TEST(test_append_row_or_null)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "append", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_create(st, "t", 100, TRACE, NTRACE, &ds));
    /* Write-through: every append is a collective write of its rows. */
    MT_REQUIRE_OK(sb_dataset_set_append_buffer(ds, 0));
    for (int k = 0; k < 6; k++) {
        /* Round 0 starts with rank 0 passing NULL, so the fields are defined
         * by whichever ranks do have a row. */
        bool mine = (mt_rank + k) % 2 == 1;
        uint64_t before = sb_dataset_size(ds);
        uint64_t row = before + mt_exscan_u64(mine);
        uint64_t total = mt_sum_u64(mine);
        sb_array *r = mine ? mt_row(TRACE, NTRACE, row, 0) : NULL;
        MT_EXPECT_OK(sb_dataset_append(ds, sb_dataset_nfields(ds), r));
        mt_columns_free(r, NTRACE);
        MT_EXPECT_MSG(sb_dataset_size(ds) == before + total, "round %d: size %llu, want %llu",
                      k, (unsigned long long)sb_dataset_size(ds),
                      (unsigned long long)(before + total));
        MT_EXPECT(mt_same_u64(sb_dataset_size(ds)));
        MT_EXPECT(sb_dataset_pending_rows(ds) == 0);
        if (total > 0 && mt_nranks > 1) {
            sb_write_report rep;
            sb_dataset_last_write(&rep, ds);
            MT_EXPECT_MSG(rep.valid && rep.collective == rep.asked_collective &&
                              (rep.asked_collective || !mt_collective_writes_forced()),
                          "append round %d: asked collective %d, got %d (valid %d, cause "
                          "0x%x/0x%x)", k, rep.asked_collective, rep.collective, rep.valid,
                          rep.local_cause, rep.global_cause);
        }
    }
    uint64_t size = sb_dataset_size(ds);
    mt_check_rows(ds, TRACE, NTRACE, 0, size, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    MT_REQUIRE_OK(mt_open(&st, "append", SB_READ));
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, "t"));
    MT_EXPECT(sb_dataset_size(ds) == size);
    mt_check_rows(ds, TRACE, NTRACE, 0, size, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

/* With buffering, the order of rows across ranks depends on when buffers are
 * written, so each row carries its writer and its sequence number. */
static const char *const TAGGED[] = {"rank", "seq", "samples"};
#define SAMPLES 20
/* Bytes of one TAGGED row: int32, int32, int16 (20,). */
#define TAGGED_ROW (4 + 4 + 2 * SAMPLES)

static int append_tagged(sb_dataset *ds, bool have, int32_t seq)
{
    if (!have)
        return sb_dataset_append(ds, 0, NULL);
    int32_t rank = mt_rank;
    int16_t samples[SAMPLES];
    mt_fill(SB_INT16, samples, (uint64_t)mt_rank * 1000 + (uint64_t)seq, 1, SAMPLES, 1);
    sb_array row[3];
    uint64_t shape[1] = {SAMPLES};
    sb_array_wrap(&row[0], SB_INT32, 0, NULL, &rank);
    sb_array_wrap(&row[1], SB_INT32, 0, NULL, &seq);
    sb_array_wrap(&row[2], SB_INT16, 1, shape, samples);
    return sb_dataset_append(ds, 3, row);
}

/* Every rank's rows are all there, once, in the order that rank appended them. */
static void check_tagged(sb_dataset *ds, uint64_t appended_here)
{
    uint64_t *counts = calloc((size_t)mt_nranks, sizeof *counts);
    MPI_Allgather(&appended_here, 1, MPI_UINT64_T, counts, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    uint64_t size = sb_dataset_size(ds), total = 0;
    for (int r = 0; r < mt_nranks; r++)
        total += counts[r];
    MT_EXPECT_MSG(size == total, "size %llu, %llu rows appended", (unsigned long long)size,
                  (unsigned long long)total);
    int32_t *rank = calloc(size + 1, sizeof *rank), *seq = calloc(size + 1, sizeof *seq);
    int16_t *samples = calloc((size + 1) * SAMPLES, sizeof *samples);
    int64_t *next = calloc((size_t)mt_nranks, sizeof *next);
    if (size) {
        MT_EXPECT_OK(sb_dataset_read(rank, ds, "rank", 0, size));
        MT_EXPECT_OK(sb_dataset_read(seq, ds, "seq", 0, size));
        MT_EXPECT_OK(sb_dataset_read(samples, ds, "samples", 0, size));
    }
    for (uint64_t i = 0; i < size; i++) {
        int32_t r = rank[i];
        if (r < 0 || r >= mt_nranks) {
            MT_EXPECT_MSG(false, "row %llu: writer %d", (unsigned long long)i, r);
            continue;
        }
        MT_EXPECT_MSG(seq[i] == next[r], "row %llu: rank %d seq %d, wanted %lld",
                      (unsigned long long)i, r, seq[i], (long long)next[r]);
        next[r] = seq[i] + 1;
        MT_EXPECT_MSG(mt_mismatches(SB_INT16, samples + i * SAMPLES,
                                    (uint64_t)r * 1000 + (uint64_t)seq[i], 1, SAMPLES, 1) == 0,
                      "row %llu: samples differ", (unsigned long long)i);
    }
    for (int r = 0; r < mt_nranks; r++)
        MT_EXPECT_MSG((uint64_t)next[r] == counts[r], "rank %d: %lld rows found, %llu appended",
                      r, (long long)next[r], (unsigned long long)counts[r]);
    free(counts);
    free(rank);
    free(seq);
    free(samples);
    free(next);
}

/* Invariant of buffering: what is committed plus what every rank holds is
 * everything appended, and no rank holds more than the buffer. */
static void check_pending(sb_dataset *ds, uint64_t appended_here, uint64_t buffer)
{
    uint64_t pending = sb_dataset_pending_rows(ds);
    MT_EXPECT_MSG(pending <= buffer, "%llu rows pending, buffer of %llu",
                  (unsigned long long)pending, (unsigned long long)buffer);
    uint64_t all_pending = mt_sum_u64(pending), all = mt_sum_u64(appended_here);
    uint64_t size = sb_dataset_size(ds);
    MT_EXPECT_MSG(size + all_pending == all, "size %llu + pending %llu != appended %llu",
                  (unsigned long long)size, (unsigned long long)all_pending,
                  (unsigned long long)all);
    MT_EXPECT(mt_same_u64(size));
}

START_TEST(test_write_buffer)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "buffered", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(sb_store_create_dataset(&ds, st, "b", 200, 3, TAGGED));
    MT_REQUIRE_OK(sb_dataset_set_append_buffer(ds, 4 * TAGGED_ROW));
    uint64_t mine = 0;
    for (int call = 0; call < 10; call++) {
        /* Rank 1 has nothing on odd calls. */
        bool have = !(mt_rank == 1 && call % 2 == 1);
        MT_EXPECT_OK(append_tagged(ds, have, (int32_t)mine));
        mine += have;
        if (call == 0) {
            MT_EXPECT_MSG(sb_dataset_pending_rows(ds) == 1, "%llu rows pending after one append",
                          (unsigned long long)sb_dataset_pending_rows(ds));
            MT_EXPECT_MSG(sb_dataset_size(ds) == 0, "a buffered row was committed at once");
        }
        check_pending(ds, mine, 4);
    }
    MT_EXPECT_MSG(sb_dataset_size(ds) > 0, "10 appends with a buffer of 4 never wrote");
    MT_EXPECT_OK(sb_dataset_flush(ds));
    MT_EXPECT(sb_dataset_pending_rows(ds) == 0);
    check_tagged(ds, mine);
    if (mt_nranks > 1) {
        sb_write_report rep;
        sb_dataset_last_write(&rep, ds);
        MT_EXPECT_MSG(rep.valid && rep.collective == rep.asked_collective &&
                          (rep.asked_collective || !mt_collective_writes_forced()),
                      "buffered flush: asked collective %d, got %d (0x%x)", rep.asked_collective,
                      rep.collective, rep.global_cause);
    }

    /* Rows still buffered are written by close. */
    for (int call = 0; call < 3; call++) {
        MT_EXPECT_OK(append_tagged(ds, true, (int32_t)mine));
        mine++;
    }
    MT_EXPECT(sb_dataset_pending_rows(ds) == 3);
    check_pending(ds, mine, 4);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, "b"));
    check_tagged(ds, mine);

    /* Switching the buffer off flushes what was held. */
    MT_EXPECT_OK(sb_dataset_set_append_buffer(ds, 8 * TAGGED_ROW));
    MT_EXPECT_OK(append_tagged(ds, mt_rank % 2 == 0, (int32_t)mine));
    mine += mt_rank % 2 == 0;
    MT_EXPECT_OK(sb_dataset_set_append_buffer(ds, 0));
    MT_EXPECT(sb_dataset_pending_rows(ds) == 0);
    check_tagged(ds, mine);

    /* And by closing the store while the dataset handle is still open. */
    MT_EXPECT_OK(sb_dataset_set_append_buffer(ds, 8 * TAGGED_ROW));
    MT_EXPECT_OK(append_tagged(ds, true, (int32_t)mine));
    mine++;
    MT_EXPECT_OK(append_tagged(ds, mt_rank != 0, (int32_t)mine));
    mine += mt_rank != 0;
    MT_EXPECT_OK(sb_store_close(st));
    sb_dataset_close(ds); /* a closed handle is still released */
    MT_REQUIRE_OK(mt_open(&st, "buffered", SB_READ));
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, "b"));
    check_tagged(ds, mine);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

/* Appends are buffered by default. */
START_TEST(test_default_buffer)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "defbuf", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(sb_store_create_dataset(&ds, st, "b", 50, 3, TAGGED));
    MT_EXPECT_OK(append_tagged(ds, true, 0));
    MT_EXPECT_MSG(sb_dataset_pending_rows(ds) == 1, "the default did not buffer");
    MT_EXPECT(sb_dataset_size(ds) == 0);
    MT_EXPECT_OK(append_tagged(ds, true, 1));
    check_pending(ds, 2, 50);
    MT_EXPECT_OK(sb_dataset_flush(ds));
    MT_EXPECT(sb_dataset_pending_rows(ds) == 0);
    check_tagged(ds, 2);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

START_TEST(test_append_full)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "appendfull", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    uint64_t cap = (uint64_t)mt_nranks + 1;
    MT_REQUIRE_OK(mt_create(st, "f", cap, TRACE, NTRACE, &ds));
    sb_array *r = mt_row(TRACE, NTRACE, (uint64_t)mt_rank, 0);
    MT_EXPECT_OK(sb_dataset_append(ds, sb_dataset_nfields(ds), r));
    mt_columns_free(r, NTRACE);
    /* n + 1 capacity, n rows in: a second row from every rank overflows when n > 1,
     * and from the single rank it just fits. */
    r = mt_row(TRACE, NTRACE, (uint64_t)mt_nranks + (uint64_t)mt_rank, 0);
    int rc = sb_dataset_append(ds, sb_dataset_nfields(ds), r);
    mt_columns_free(r, NTRACE);
    if (mt_nranks > 1) {
        MT_EXPECT_MSG(rc == SB_ERR_FULL, "got %s: %s", sb_error_name(rc),
                      sb_last_error_message());
        MT_EXPECT(sb_dataset_size(ds) == (uint64_t)mt_nranks);
    } else {
        MT_EXPECT_OK(rc);
        MT_EXPECT(sb_dataset_size(ds) == cap);
    }
    MT_EXPECT(mt_same_int(rc));
    mt_check_rows(ds, TRACE, NTRACE, 0, sb_dataset_size(ds), 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    Suite *s = suite_create("mpi_append");
    TCase *tc = mt_tcase("append");
    tcase_add_test(tc, test_append_row_or_null);
    tcase_add_test(tc, test_write_buffer);
    tcase_add_test(tc, test_default_buffer);
    tcase_add_test(tc, test_append_full);
    suite_add_tcase(s, tc);
    return mt_run(s);
}
