/* The collective contract where callers get it wrong (issue "Defects in the
 * collective contract"): row counts that wrap, an argument error on one rank
 * only, export memory, write_at gaps and overlaps, buffered appends before an
 * extend, has_dataset agreement, compressed fields written by several ranks.
 * Every refusal must come back the same on every rank, write nothing, and
 * leave the store usable: each case ends with a valid call that works. */
#include "mpi_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <hdf5.h>

static const mt_field ONE[] = {{"x", SB_UINT8, 1, {4}}};

static int odd_rank(void) { return mt_nranks - 1; }
static bool is_odd(void) { return mt_rank == odd_rank(); }

/* Collective: every rank got `want` (and a message naming the culprit). */
static void expect_everywhere(int rc, int want, const char *what)
{
    MT_EXPECT_MSG(rc == want, "%s: got %s, wanted %s: %s", what, sb_error_name(rc),
                  sb_error_name(want), sb_last_error_message());
    MT_EXPECT_MSG(mt_same_int(rc), "%s: the ranks got different codes (%s here)", what,
                  sb_error_name(rc));
    MT_EXPECT_MSG(rc == 0 || sb_last_error_message()[0], "%s: empty message", what);
}

/* The store still works: one more collective extend of one row per rank. */
static void still_usable(sb_dataset *ds, const char *what)
{
    uint64_t before = sb_dataset_size(ds);
    sb_array *cols = mt_columns(ONE, 1, before + (uint64_t)mt_rank, 1, 0);
    int rc = sb_dataset_extend(ds, 1, cols);
    mt_columns_free(cols, 1);
    MT_EXPECT_MSG(rc == 0, "%s: the store no longer takes rows: %s", what,
                  sb_last_error_message());
    MT_EXPECT(sb_dataset_size(ds) == before + (uint64_t)mt_nranks);
}

START_TEST(test_row_counts_that_wrap)
{
    sb_store *st = NULL;
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_open(&st, "wrap", SB_CREATE_TRUNCATE));
    uint64_t cap = 10 * (uint64_t)mt_nranks;
    MT_REQUIRE_OK(mt_create(st, "d", cap, ONE, 1, &ds));
    uint8_t buf[64] = {0};
    sb_array col;
    /* An unsigned underflow in the caller: 2^64 - 2 rows. */
    uint64_t huge = is_odd() ? UINT64_MAX - 1 : 1;
    sb_array_wrap(&col, SB_UINT8, 2, (uint64_t[]){huge, 4}, buf);
    int rc = sb_dataset_extend(ds, 1, &col);
    MT_EXPECT_MSG(rc == SB_ERR_INVALID || rc == SB_ERR_FULL, "2^64-2 rows: %s",
                  sb_error_name(rc));
    MT_EXPECT(mt_same_int(rc));
    MT_EXPECT(sb_dataset_size(ds) == 0);
    /* Rows a rank could hold but the capacity cannot: FULL everywhere. */
    huge = is_odd() ? (1ULL << 60) : 2;
    sb_array_wrap(&col, SB_UINT8, 2, (uint64_t[]){huge, 4}, buf);
    expect_everywhere(sb_dataset_extend(ds, 1, &col), SB_ERR_FULL, "2^60 rows on one rank");
    /* Each rank's rows fit, their sum does not: nothing is written. */
    uint64_t mine = 11;
    uint8_t *many = calloc(mine, 4);
    sb_array_wrap(&col, SB_UINT8, 2, (uint64_t[]){mine, 4}, many);
    expect_everywhere(sb_dataset_extend(ds, 1, &col), SB_ERR_FULL, "a sum above the capacity");
    free(many);
    MT_EXPECT(sb_dataset_size(ds) == 0);
    still_usable(ds, "after wrapping counts");
    mt_check_rows(ds, ONE, 1, 0, sb_dataset_size(ds), 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

static int count_datasets(const sb_dataset_info *info, void *payload)
{
    (void)info;
    (*(int *)payload)++;
    return 0;
}

START_TEST(test_argument_error_on_one_rank)
{
    sb_store *st = NULL;
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_open(&st, "args", SB_CREATE_TRUNCATE));
    MT_REQUIRE_OK(mt_create(st, "d", 100, ONE, 1, &ds));
    MT_EXPECT_OK(sb_dataset_add_asset_bytes(ds, "blob", "abc", 3, false));
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "k", 1);
    MT_EXPECT_OK(sb_dataset_add_json_asset(ds, "conf.json", doc, false));
    char **names = NULL;
    size_t n = 0;
    bool exists = false;
    void *bytes = NULL;
    size_t len = 0;
    cJSON *back = NULL;
    sb_array info;
    /* The odd rank passes NULL where an output goes. */
    expect_everywhere(sb_dataset_asset_names(is_odd() ? NULL : &names, &n, ds), SB_ERR_INVALID,
                      "asset_names, NULL names on one rank");
    sb_free(names);
    expect_everywhere(sb_store_dataset_names(&names, is_odd() ? NULL : &n, st), SB_ERR_INVALID,
                      "dataset_names, NULL count on one rank");
    sb_free(names);
    expect_everywhere(sb_store_has_dataset(is_odd() ? NULL : &exists, st, "d"), SB_ERR_INVALID,
                      "has_dataset, NULL exists on one rank");
    expect_everywhere(sb_dataset_get_asset_bytes(&bytes, is_odd() ? NULL : &len, ds, "blob"),
                      SB_ERR_INVALID, "get_asset_bytes, NULL len on one rank");
    sb_free(bytes);
    expect_everywhere(sb_dataset_get_json_asset(is_odd() ? NULL : &back, ds, "conf.json"),
                      SB_ERR_INVALID, "get_json_asset, NULL out on one rank");
    cJSON_Delete(back);
    expect_everywhere(sb_dataset_asset_info(is_odd() ? NULL : &info, ds, "blob"), SB_ERR_INVALID,
                      "asset_info, NULL info on one rank");
    int seen = 0;
    expect_everywhere(sb_store_foreach_dataset(st, is_odd() ? NULL : count_datasets, &seen),
                      SB_ERR_INVALID, "foreach, NULL visitor on one rank");
    /* A NULL array, a bad dtype on one rank. */
    expect_everywhere(sb_dataset_add_json_asset(ds, "j2.json", is_odd() ? NULL : doc, false),
                      SB_ERR_INVALID, "add_json_asset, NULL document on one rank");
    MT_EXPECT_MSG(strstr(sb_last_error_message(), "sb_dataset_add_json_asset") != NULL,
                  "the JSON call's error names another function: %s", sb_last_error_message());
    uint8_t row[4] = {1, 2, 3, 4};
    sb_array bad;
    sb_array_wrap(&bad, SB_UINT8, 2, (uint64_t[]){1, 4}, row);
    if (is_odd())
        bad.dtype = (sb_dtype)77;
    expect_everywhere(sb_dataset_extend(ds, 1, &bad), SB_ERR_INVALID, "extend, bad dtype on one rank");
    sb_array_wrap(&bad, SB_UINT8, 1, (uint64_t[]){4}, is_odd() ? NULL : row);
    expect_everywhere(sb_dataset_append(ds, 1, &bad), SB_ERR_INVALID, "append, NULL data on one rank");
    expect_everywhere(sb_dataset_define_field(ds, "x", is_odd() ? (sb_dtype)77 : SB_UINT8, 1,
                                              (uint64_t[]){4}),
                      SB_ERR_INVALID, "define_field, bad dtype on one rank");
    sb_export_options o;
    sb_export_options_init(&o, SB_EXPORT_OPTIONS_VERSION);
    o.new_name = "copy";
    if (is_odd())
        memset(&o, 0, sizeof o); /* never initialised */
    expect_everywhere(sb_store_export_dataset(st, "d", st, &o), SB_ERR_INVALID,
                      "export, uninitialised options on one rank");
    uint8_t got[8];
    expect_everywhere(sb_dataset_read_all(is_odd() ? NULL : got, ds, "x", 0,
                                          sb_dataset_size(ds) ? 1 : 0),
                      sb_dataset_size(ds) ? SB_ERR_INVALID : 0, "read_all, NULL buffer on one rank");
    /* The store took none of it and still works. */
    MT_EXPECT_OK(sb_store_has_dataset(&exists, st, "copy"));
    MT_EXPECT(!exists);
    still_usable(ds, "after argument errors");
    MT_EXPECT_OK(sb_store_foreach_dataset(st, count_datasets, &seen));
    MT_EXPECT(seen == 1);
    cJSON_Delete(doc);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

/* The default chunk is 100,000 rows; two rows of 2 MB must not ask for 200 GB. */
START_TEST(test_export_buffer_follows_the_data)
{
    static const mt_field BIG[] = {{"trace", SB_INT8, 1, {2u << 20}}};
    sb_store *st = NULL;
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_open(&st, "bigrows", SB_CREATE_TRUNCATE));
    MT_REQUIRE_OK(mt_create(st, "d", 2, BIG, 1, &ds));
    sb_array *cols = mt_columns(BIG, 1, 0, mt_rank == 0 ? 2 : 0, 0);
    MT_EXPECT_OK(sb_dataset_extend(ds, 1, cols));
    mt_columns_free(cols, 1);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_export_dataset(st, "d", st, &(sb_export_options){
        .version = SB_EXPORT_OPTIONS_VERSION, .new_name = "copy", .shrink = true,
        .chunk_size = SB_EXPORT_DEFAULT_CHUNK}));
    MT_EXPECT_OK(sb_store_load_dataset(&ds, st, "copy"));
    MT_EXPECT(sb_dataset_size(ds) == 2);
    mt_check_rows(ds, BIG, 1, 0, 2, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

START_TEST(test_commit_size_covers_written_rows_only)
{
    sb_store *st = NULL;
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_open(&st, "gaps", SB_CREATE_TRUNCATE));
    MT_REQUIRE_OK(mt_create(st, "d", 20 * (uint64_t)mt_nranks, ONE, 1, &ds));
    MT_REQUIRE_OK(sb_dataset_define_field(ds, "x", SB_UINT8, 1, (uint64_t[]){4}));
    /* Rank r owns rows [10r, 10r+10); the odd rank writes nothing yet. */
    uint64_t first = 10 * (uint64_t)mt_rank;
    sb_array *cols = mt_columns(ONE, 1, first, 10, 0);
    if (!is_odd() || mt_nranks == 1)
        MT_EXPECT_OK(sb_dataset_write_at(ds, first, 1, cols));
    uint64_t end = 10 * (uint64_t)mt_nranks;
    int rc = sb_dataset_commit_size(ds, first + 10);
    if (mt_nranks == 1) {
        expect_everywhere(rc, 0, "one rank, all written");
    } else {
        expect_everywhere(rc, SB_ERR_INVALID, "a gap left by one rank");
        MT_EXPECT(sb_dataset_size(ds) == 0);
        if (is_odd())
            MT_EXPECT_OK(sb_dataset_write_at(ds, first, 1, cols));
        expect_everywhere(sb_dataset_commit_size(ds, first + 10), 0, "gap filled");
    }
    MT_EXPECT(sb_dataset_size(ds) == end);
    /* Two ranks writing the same rows: refused, whatever was written. */
    if (mt_nranks > 1 && mt_rank < 2)
        MT_EXPECT_OK(sb_dataset_write_at(ds, end, 1, cols));
    rc = sb_dataset_commit_size(ds, end + 10);
    expect_everywhere(rc, mt_nranks > 1 ? SB_ERR_INVALID : SB_ERR_INVALID,
                      mt_nranks > 1 ? "two ranks wrote one range" : "rows never written");
    MT_EXPECT(sb_dataset_size(ds) == end);
    mt_columns_free(cols, 1);
    mt_check_rows(ds, ONE, 1, 0, end, 0);
    /* After a reset, the old rows are not rows: nothing written, nothing covered. */
    MT_EXPECT_OK(sb_dataset_reset(ds));
    expect_everywhere(sb_dataset_commit_size(ds, 5), SB_ERR_INVALID, "old rows after a reset");
    MT_EXPECT(sb_dataset_size(ds) == 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

/* Ranks whose slices are not in rank order, and ranks with several ranges
 * each, take the full check (every range gathered); the same rows commit. */
START_TEST(test_commit_size_any_order)
{
    sb_store *st = NULL;
    sb_dataset *ds = NULL;
    uint64_t p = (uint64_t)mt_nranks, r = (uint64_t)mt_rank;
    MT_REQUIRE_OK(mt_open(&st, "anyorder", SB_CREATE_TRUNCATE));
    MT_REQUIRE_OK(mt_create(st, "d", 12 * p, ONE, 1, &ds));
    MT_REQUIRE_OK(sb_dataset_define_field(ds, "x", SB_UINT8, 1, (uint64_t[]){4}));
    /* Rank r writes slice P-1-r of rows [0, 10P). */
    uint64_t first = 10 * (p - 1 - r);
    sb_array *cols = mt_columns(ONE, 1, first, 10, 0);
    MT_EXPECT_OK(sb_dataset_write_at(ds, first, 1, cols));
    mt_columns_free(cols, 1);
    expect_everywhere(sb_dataset_commit_size(ds, first + 10), 0, "slices in reverse order");
    MT_EXPECT(sb_dataset_size(ds) == 10 * p);
    /* Rank r writes rows 10P + r and 11P + r: two ranges each, interleaved. */
    for (uint64_t k = 0; k < 2; k++) {
        uint64_t at = (10 + k) * p + r;
        sb_array *row = mt_columns(ONE, 1, at, 1, 0);
        MT_EXPECT_OK(sb_dataset_write_at(ds, at, 1, row));
        mt_columns_free(row, 1);
    }
    expect_everywhere(sb_dataset_commit_size(ds, 11 * p + r + 1), 0, "interleaved rows");
    MT_EXPECT(sb_dataset_size(ds) == 12 * p);
    mt_check_rows(ds, ONE, 1, 0, 12 * p, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

START_TEST(test_appended_rows_come_before_a_later_extend)
{
    sb_store *st = NULL;
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_open(&st, "order", SB_CREATE_TRUNCATE));
    MT_REQUIRE_OK(mt_create(st, "d", 10 * (uint64_t)mt_nranks, ONE, 1, &ds));
    /* Row k of the dataset holds mt_fill's row k: appended rows 0..P-1 (one
     * per rank, rank order), then extended rows P..3P-1 (two per rank). */
    sb_array *row = mt_row(ONE, 1, (uint64_t)mt_rank, 0);
    MT_EXPECT_OK(sb_dataset_append(ds, 1, row));
    mt_columns_free(row, 1);
    MT_EXPECT(sb_dataset_pending_rows(ds) == 1); /* buffered: the default */
    sb_array *cols = mt_columns(ONE, 1, (uint64_t)mt_nranks + 2 * (uint64_t)mt_rank, 2, 0);
    MT_EXPECT_OK(sb_dataset_extend(ds, 1, cols));
    mt_columns_free(cols, 1);
    MT_EXPECT(sb_dataset_size(ds) == 3 * (uint64_t)mt_nranks);
    MT_EXPECT_OK(sb_dataset_flush(ds));
    mt_check_rows(ds, ONE, 1, 0, 3 * (uint64_t)mt_nranks, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

START_TEST(test_has_dataset_agrees)
{
    sb_store *st = NULL;
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_open(&st, "has", SB_CREATE_TRUNCATE));
    MT_REQUIRE_OK(mt_create(st, "here", 10, ONE, 1, &ds));
    bool exists = false;
    int rc = sb_store_has_dataset(&exists, st, is_odd() && mt_nranks > 1 ? "absent" : "here");
    expect_everywhere(rc, mt_nranks > 1 ? SB_ERR_COLLECTIVE : 0, "has_dataset with other names");
    MT_EXPECT_OK(sb_store_has_dataset(&exists, st, "/here")); /* Python drops a leading '/' */
    MT_EXPECT(exists);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

/* foreach: rank r stops at the (r+1)-th dataset with the value 10 + r, the
 * last rank never stops: every rank must stop at the first of those
 * datasets (rank 0's), visit the same ones and return rank 0's value; a
 * visitor that stops on one rank only stops them all there too. */
typedef struct walk {
    int visits;
    int stop_at; /* visit number that stops (1-based), 0: never */
    int value;
    char last[64];
} walk;

static int stopping_visitor(const sb_dataset_info *info, void *payload)
{
    walk *w = payload;
    w->visits++;
    snprintf(w->last, sizeof w->last, "%s", info->name);
    return w->visits == w->stop_at ? w->value : 0;
}

/* A visitor's value is no error: no message comes with it. */
static void expect_value_everywhere(int rc, int want, const char *what)
{
    MT_EXPECT_MSG(rc == want, "%s: got %d, wanted %d", what, rc, want);
    MT_EXPECT_MSG(mt_same_int(rc), "%s: the ranks got different values (%d here)", what, rc);
}

START_TEST(test_foreach_stops_alike)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "walk", SB_CREATE_TRUNCATE));
    static const char *const names[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) {
        sb_dataset *ds = NULL;
        MT_REQUIRE_OK(mt_create(st, names[i], 4, ONE, 1, &ds));
        MT_EXPECT_OK(sb_dataset_close(ds));
    }
    walk w = {0, mt_nranks > 1 && mt_rank == mt_nranks - 1 ? 0 : mt_rank + 1, 10 + mt_rank, ""};
    int rc = sb_store_foreach_dataset(st, stopping_visitor, &w);
    expect_value_everywhere(rc, 10, "foreach stopped by every rank but the last");
    MT_EXPECT_MSG(w.visits == 1 && strcmp(w.last, "a") == 0,
                  "rank %d walked on after the stop: %d visits, last '%s'", mt_rank, w.visits,
                  w.last);
    /* Only the last rank stops, at the third dataset. */
    walk one = {0, mt_rank == mt_nranks - 1 ? 3 : 0, -7, ""};
    rc = sb_store_foreach_dataset(st, stopping_visitor, &one);
    expect_value_everywhere(rc, -7, "foreach stopped by one rank");
    MT_EXPECT_MSG(one.visits == 3 && strcmp(one.last, "c") == 0,
                  "rank %d: %d visits, last '%s' (wanted 3, 'c')", mt_rank, one.visits, one.last);
    /* Nobody stops: the whole walk, 0. */
    walk all = {0, 0, 0, ""};
    expect_everywhere(sb_store_foreach_dataset(st, stopping_visitor, &all), 0, "full walk");
    MT_EXPECT(all.visits == 5 && strcmp(all.last, "e") == 0);
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

/* A field h5py made chunked and gzip-compressed: HDF5 writes it only
 * collectively, whatever the store's write mode. */
START_TEST(test_compressed_fields_from_several_ranks)
{
    char path[640];
    mt_path(path, sizeof path, "gzip");
    uint64_t cap = 8 * (uint64_t)mt_nranks;
    if (mt_rank == 0) {
        hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
        H5Pset_file_locking(fapl, 0, 1);
        hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
        hid_t g = H5Gcreate2(f, "z", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int64_t v = 0, c = (int64_t)cap;
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(g, "_sb_size", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_INT64, &v);
        H5Aclose(a);
        a = H5Acreate2(g, "_sb_capacity", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_INT64, &c);
        H5Aclose(a);
        hid_t bt = H5Tenum_create(H5T_STD_I8LE);
        int8_t f0 = 0, t1 = 1;
        H5Tenum_insert(bt, "FALSE", &f0);
        H5Tenum_insert(bt, "TRUE", &t1);
        a = H5Acreate2(g, "_sb_is_dataset", bt, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, bt, &t1);
        H5Aclose(a);
        H5Tclose(bt);
        hsize_t dims[2] = {cap, 4}, chunk[2] = {4, 4};
        hid_t fsp = H5Screate_simple(2, dims, NULL);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(dcpl, 2, chunk);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
        hid_t d = H5Dcreate2(g, "x", H5T_STD_U8LE, fsp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        a = H5Acreate2(d, "_sb_priority", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_INT64, &v);
        H5Aclose(a);
        H5Dclose(d);
        H5Pclose(dcpl);
        H5Sclose(fsp);
        H5Sclose(sp);
        H5Gclose(g);
        H5Fclose(f);
        H5Pclose(fapl);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    sb_store *st = NULL;
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_open(&st, "gzip", SB_READ_WRITE));
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, "z"));
    sb_field_info fi;
    MT_EXPECT_OK(sb_dataset_field_info(&fi, ds, 0));
    MT_EXPECT_MSG(strstr(fi.filters, "deflate") != NULL, "filters: '%s'", fi.filters);
    /* Uneven rows, the odd rank none. */
    uint64_t mine = is_odd() && mt_nranks > 1 ? 0 : 3;
    sb_array *cols = mt_columns(ONE, 1, mt_exscan_u64(mine), mine, 0);
    MT_EXPECT_OK(sb_dataset_extend(ds, 1, cols));
    uint64_t total = mt_sum_u64(mine);
    MT_EXPECT(sb_dataset_size(ds) == total);
    /* write_at cannot write it alone: refused up front, naming the filter. */
    MT_EXPECT_RC(sb_dataset_write_at(ds, total, 1, cols), SB_ERR_INVALID);
    MT_EXPECT(strstr(sb_last_error_message(), "deflate") != NULL);
    mt_columns_free(cols, 1);
    MT_EXPECT_OK(sb_dataset_flush(ds));
    mt_check_rows(ds, ONE, 1, 0, total, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    Suite *s = suite_create("mpi_contract");
    TCase *tc = mt_tcase("contract");
    tcase_add_test(tc, test_row_counts_that_wrap);
    tcase_add_test(tc, test_argument_error_on_one_rank);
    tcase_add_test(tc, test_export_buffer_follows_the_data);
    tcase_add_test(tc, test_commit_size_covers_written_rows_only);
    tcase_add_test(tc, test_commit_size_any_order);
    tcase_add_test(tc, test_appended_rows_come_before_a_later_extend);
    tcase_add_test(tc, test_has_dataset_agrees);
    tcase_add_test(tc, test_foreach_stops_alike);
    tcase_add_test(tc, test_compressed_fields_from_several_ranks);
    suite_add_tcase(s, tc);
    return mt_run(s);
}
