/* Agreement checks of collective calls: when one rank passes other arguments
 * every rank gets SB_ERR_COLLECTIVE (nothing hangs, the file stays sound), and
 * ordinary errors are raised identically on every rank. On one rank there is
 * nobody to disagree with, so the odd call must simply succeed. */
#include "mpi_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static const mt_field TRACE[] = {
    {"samples", SB_INT8, 1, {30}},
    {"label", SB_UINT8, 0, {0}},
};
#define NTRACE 2

static bool odd_one(void)
{
    return mt_nranks > 1 && mt_rank == mt_nranks - 1;
}

/* Collective: rc must be SB_ERR_COLLECTIVE everywhere (0 on a single rank). */
static void expect_disagreement(int rc, const char *what)
{
    int want = mt_nranks > 1 ? SB_ERR_COLLECTIVE : 0;
    MT_EXPECT_MSG(rc == want, "%s: got %s (%d), wanted %s: %s", what, sb_error_name(rc), rc,
                  sb_error_name(want), sb_last_error_message());
    MT_EXPECT_MSG(mt_same_int(rc), "%s: ranks got different codes (%d here)", what, rc);
    if (rc == SB_ERR_COLLECTIVE)
        MT_EXPECT_MSG(sb_last_error_message()[0] != '\0', "%s: empty message", what);
}

/* A store with dataset "good" holding known rows, so that soundness after a
 * refused call is checked against real data. */
static sb_store *make_store(const char *name, sb_dataset **good)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, name, SB_CREATE_TRUNCATE));
    MT_REQUIRE_OK(mt_create(st, "good", mt_scale(100), TRACE, NTRACE, good));
    uint64_t mine = (uint64_t)mt_rank + 2;
    sb_array *cols = mt_columns(TRACE, NTRACE, mt_exscan_u64(mine), mine, 0);
    MT_EXPECT_OK(sb_dataset_extend(*good, sb_dataset_nfields(*good), cols));
    mt_columns_free(cols, NTRACE);
    MT_EXPECT_OK(sb_dataset_add_asset_bytes(*good, "blob", "abc", 3, false));
    return st;
}

static uint64_t good_size(void)
{
    return mt_sum_u64((uint64_t)mt_rank + 2);
}

/* The file still opens (in parallel, and serially on rank 0) and holds
 * exactly `ndatasets` datasets with "good" intact. */
static void check_sound(const char *name, size_t ndatasets)
{
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, name, SB_READ));
    char **names = NULL;
    size_t count = 0;
    MT_EXPECT_OK(sb_store_dataset_names(&names, &count, st));
    MT_EXPECT_MSG(count == ndatasets, "%zu datasets in %s, wanted %zu", count, name, ndatasets);
    for (size_t i = 0; mt_rank == 0 && count != ndatasets && i < count; i++)
        fprintf(stderr, "  dataset %s\n", names[i]);
    sb_free(names);
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, "good"));
    MT_EXPECT(sb_dataset_size(ds) == good_size());
    mt_check_rows(ds, TRACE, NTRACE, 0, good_size(), 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));

    uint64_t want = good_size();
    if (mt_rank == 0) {
        char path[640];
        mt_path(path, sizeof path, name);
        MT_EXPECT_OK(sb_store_open(&st, path, SB_READ, NULL));
        if (st) {
            MT_EXPECT_OK(sb_store_load_dataset(&ds, st, "good"));
            if (ds) {
                MT_EXPECT(sb_dataset_size(ds) == want);
                mt_check_rows(ds, TRACE, NTRACE, 0, want, 0);
                MT_EXPECT_OK(sb_dataset_close(ds));
            }
            MT_EXPECT_OK(sb_store_close(st));
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

START_TEST(test_create_mismatch)
{
    sb_dataset *good = NULL, *ds = NULL;
    sb_store *st = make_store("create", &good);
    const char *fields[] = {"a", "b", "c"};
    const char *other_fields[] = {"a", "x", "c"};
    bool exists = true;

    int rc = sb_store_create_dataset(&ds, st, odd_one() ? "name2" : "name1", 10, 3, fields);
    expect_disagreement(rc, "create with another name");
    if (rc == 0)
        MT_EXPECT_OK(sb_dataset_close(ds));
    ds = NULL;
    MT_EXPECT_OK(sb_store_has_dataset(&exists, st, "name2"));
    MT_EXPECT_MSG(!exists, "name2 exists after a refused create");
    MT_EXPECT_OK(sb_store_has_dataset(&exists, st, "name1"));
    MT_EXPECT_MSG(exists == (mt_nranks == 1), "name1 exists: %d", exists);

    rc = sb_store_create_dataset(&ds, st, "cap", odd_one() ? 11 : 10, 3, fields);
    expect_disagreement(rc, "create with another capacity");
    if (rc == 0)
        MT_EXPECT_OK(sb_dataset_close(ds));
    ds = NULL;

    rc = sb_store_create_dataset(&ds, st, "fields", 10, 3, odd_one() ? other_fields : fields);
    expect_disagreement(rc, "create with another field name");
    if (rc == 0)
        MT_EXPECT_OK(sb_dataset_close(ds));
    ds = NULL;

    rc = sb_store_create_dataset(&ds, st, "nfields", 10, odd_one() ? 2 : 3, fields);
    expect_disagreement(rc, "create with fewer fields");
    if (rc == 0)
        MT_EXPECT_OK(sb_dataset_close(ds));
    ds = NULL;

    rc = sb_store_load_dataset(&ds, st, odd_one() ? "nope" : "good");
    /* On one rank "nope" is not loaded: the odd rank only exists with n > 1. */
    expect_disagreement(rc, "load of another name");
    if (rc == 0)
        MT_EXPECT_OK(sb_dataset_close(ds));

    /* Same call with the same arguments still works afterwards. */
    MT_EXPECT_OK(sb_store_create_dataset(&ds, st, "after", 10, 3, fields));
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_dataset_close(good));
    MT_EXPECT_OK(sb_store_close(st));
    check_sound("create", mt_nranks == 1 ? 6 : 2);
    mt_end();
}
END_TEST

START_TEST(test_asset_mismatch)
{
    sb_dataset *good = NULL;
    sb_store *st = make_store("assets", &good);
    int rc = sb_dataset_add_asset_bytes(good, "meta", odd_one() ? "xyz" : "xyw", 3, false);
    expect_disagreement(rc, "asset with other bytes");
    rc = sb_dataset_add_asset_bytes(good, odd_one() ? "metb" : "meta2", "xyz", 3, false);
    expect_disagreement(rc, "asset with another name");
    rc = sb_dataset_add_asset_bytes(good, "meta3", "xyz", odd_one() ? 2 : 3, false);
    expect_disagreement(rc, "asset with another length");
    float a[6] = {1, 2, 3, 4, 5, 6};
    uint64_t shape[2] = {2, 3}, other[2] = {3, 2};
    sb_array arr;
    sb_array_wrap(&arr, SB_FLOAT32, 2, odd_one() ? other : shape, a);
    rc = sb_dataset_add_asset_array(good, "arr", &arr, false);
    expect_disagreement(rc, "array asset with another shape");
    cJSON *json = cJSON_CreateObject();
    cJSON_AddNumberToObject(json, "gain", odd_one() ? 2 : 1);
    rc = sb_dataset_add_json_asset(good, "conf", json, false);
    cJSON_Delete(json);
    expect_disagreement(rc, "JSON asset with other content");
    /* Replacing an asset with the same content on every rank but another
     * `replace` flag is a disagreement too. */
    rc = sb_dataset_add_asset_bytes(good, "blob", "abc", 3, odd_one());
    MT_EXPECT_MSG(mt_nranks == 1 ? rc == SB_ERR_EXISTS : rc == SB_ERR_COLLECTIVE,
                  "replace flag differing: %s", sb_error_name(rc));
    MT_EXPECT(mt_same_int(rc));

    char **names = NULL;
    size_t count = 0;
    MT_EXPECT_OK(sb_dataset_asset_names(&names, &count, good));
    size_t want = mt_nranks == 1 ? 6 : 1; /* "blob" only, or every odd call succeeded */
    MT_EXPECT_MSG(count == want, "%zu assets after refused calls, wanted %zu", count, want);
    sb_free(names);
    void *data = NULL;
    size_t len = 0;
    MT_EXPECT_OK(sb_dataset_get_asset_bytes(&data, &len, good, "blob"));
    MT_EXPECT(len == 3 && data && memcmp(data, "abc", 3) == 0);
    sb_free(data);
    MT_EXPECT_OK(sb_dataset_close(good));
    MT_EXPECT_OK(sb_store_close(st));
    check_sound("assets", 1);
    mt_end();
}
END_TEST

START_TEST(test_define_field_mismatch)
{
    sb_dataset *good = NULL, *ds = NULL;
    sb_store *st = make_store("define", &good);
    const char *fields[] = {"a", "b"};
    MT_REQUIRE_OK(sb_store_create_dataset(&ds, st, "d", 20, 2, fields));
    uint64_t shape[1] = {4}, other[1] = {5};
    int rc = sb_dataset_define_field(ds, "a", odd_one() ? SB_INT32 : SB_INT16, 1, shape);
    expect_disagreement(rc, "define_field with another dtype");
    rc = sb_dataset_define_field(ds, "b", SB_UINT8, 1, odd_one() ? other : shape);
    expect_disagreement(rc, "define_field with another row shape");
    sb_field_info info;
    MT_EXPECT_OK(sb_dataset_field_info(&info, ds, 1));
    MT_EXPECT_MSG(info.defined == (mt_nranks == 1), "b defined: %d", info.defined);
    rc = sb_dataset_set_append_buffer(ds, odd_one() ? 3000 : 4000);
    expect_disagreement(rc, "set_append_buffer with another size");
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_dataset_close(good));
    MT_EXPECT_OK(sb_store_close(st));
    check_sound("define", 2);
    mt_end();
}
END_TEST

START_TEST(test_reset_mismatch)
{
    sb_dataset *good = NULL, *other = NULL;
    sb_store *st = make_store("reset", &good);
    MT_REQUIRE_OK(mt_create(st, "other", 50, TRACE, NTRACE, &other));
    sb_array *cols = mt_columns(TRACE, NTRACE, mt_exscan_u64(1), 1, 3);
    MT_EXPECT_OK(sb_dataset_extend(other, sb_dataset_nfields(other), cols));
    mt_columns_free(cols, NTRACE);
    int rc = sb_dataset_reset(odd_one() ? other : good);
    expect_disagreement(rc, "reset of another dataset");
    if (mt_nranks > 1) {
        MT_EXPECT(sb_dataset_size(good) == good_size());
        MT_EXPECT(sb_dataset_size(other) == (uint64_t)mt_nranks);
    }
    MT_EXPECT_OK(sb_dataset_close(other));
    MT_EXPECT_OK(sb_dataset_close(good));
    MT_EXPECT_OK(sb_store_close(st));
    if (mt_nranks > 1)
        check_sound("reset", 2);
    mt_end();
}
END_TEST

START_TEST(test_export_mismatch)
{
    sb_dataset *good = NULL;
    sb_store *st = make_store("exportsrc", &good);
    MT_EXPECT_OK(sb_dataset_close(good));
    sb_store *dst = NULL;
    MT_REQUIRE_OK(mt_open(&dst, "exportdst", SB_CREATE_TRUNCATE));
    int rc = sb_store_export_dataset(st, "good", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "copy1", .shrink = true, .chunk_size = odd_one() ? 7 : 8});
    expect_disagreement(rc, "export with another chunk size");
    rc = sb_store_export_dataset(st, "good", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = odd_one() ? "copy3" : "copy2", .shrink = true, .chunk_size = 8});
    expect_disagreement(rc, "export with another new name");
    rc = sb_store_export_dataset(st, "good", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "copy4", .shrink = odd_one(), .chunk_size = 8});
    expect_disagreement(rc, "export with another shrink flag");
    bool exists = true;
    if (mt_nranks > 1) {
        const char *never[] = {"copy1", "copy2", "copy3", "copy4"};
        for (int i = 0; i < 4; i++) {
            MT_EXPECT_OK(sb_store_has_dataset(&exists, dst, never[i]));
            MT_EXPECT_MSG(!exists, "refused export left %s behind", never[i]);
        }
    }
    /* Agreeing ranks export fine afterwards. */
    MT_EXPECT_OK(sb_store_export_dataset(st, "good", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "copy5", .shrink = true, .chunk_size = 3}));
    sb_dataset *copy = NULL;
    MT_REQUIRE_OK(sb_store_load_dataset(&copy, dst, "copy5"));
    mt_check_rows(copy, TRACE, NTRACE, 0, good_size(), 0);
    MT_EXPECT(sb_dataset_size(copy) == good_size());
    MT_EXPECT_OK(sb_dataset_close(copy));
    MT_EXPECT_OK(sb_store_close(dst));
    MT_EXPECT_OK(sb_store_close(st));
    check_sound("exportsrc", 1);
    MT_REQUIRE_OK(mt_open(&dst, "exportdst", SB_READ));
    char **names = NULL;
    size_t count = 0;
    MT_EXPECT_OK(sb_store_dataset_names(&names, &count, dst));
    MT_EXPECT_MSG(count == (mt_nranks > 1 ? 1u : 4u), "%zu datasets in the destination", count);
    sb_free(names);
    MT_EXPECT_OK(sb_store_close(dst));
    mt_end();
}
END_TEST

START_TEST(test_open_mismatch)
{
    char path[640];
    mt_path(path, sizeof path, odd_one() ? "open_b" : "open_a");
    sb_store_options opts;
    sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION);
    opts.comm = MPI_COMM_WORLD;
    sb_store *st = NULL;
    int rc = sb_store_open(&st, path, SB_CREATE_TRUNCATE, &opts);
    expect_disagreement(rc, "open of another path");
    if (rc == 0)
        MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

/* One rank's options are wrong (a newer struct version, a choice out of
 * range, a threshold without alignment): every rank refuses the open alike,
 * nothing is created, and a valid open follows. */
START_TEST(test_open_bad_options_on_one_rank)
{
    char path[640];
    mt_path(path, sizeof path, "badopts");
    if (mt_rank == 0)
        unlink(path);
    MPI_Barrier(MPI_COMM_WORLD);
    bool wrong = mt_rank == mt_nranks - 1; /* at one rank, that rank */
    for (int how = 0; how < 3; how++) {
        sb_store_options opts;
        sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION);
        opts.comm = MPI_COMM_WORLD;
        if (wrong && how == 0)
            opts.version = SB_STORE_OPTIONS_VERSION + 6;
        if (wrong && how == 1)
            opts.locking = (sb_choice)9;
        if (wrong && how == 2)
            opts.alignment_threshold = 5;
        sb_store *st = NULL;
        int rc = sb_store_open(&st, path, SB_CREATE, &opts);
        MT_EXPECT_MSG(rc == SB_ERR_INVALID, "case %d: got %s: %s", how, sb_error_name(rc),
                      sb_last_error_message());
        MT_EXPECT_MSG(mt_same_int(rc), "case %d: ranks got different codes (%d here)", how, rc);
        MT_EXPECT(st == NULL);
        MT_EXPECT_MSG(access(path, F_OK) != 0, "case %d: the refused open created the file", how);
        if (rc == 0)
            sb_store_close(st);
    }
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "badopts", SB_CREATE));
    MT_EXPECT_OK(sb_store_close(st));
    mt_end();
}
END_TEST

/* The library prefixes an error raised on another rank with "rank K: ". */
static const char *without_rank_prefix(const char *msg)
{
    const char *p = msg;
    if (strncmp(p, "rank ", 5) != 0)
        return msg;
    p += 5;
    if (*p < '0' || *p > '9')
        return msg;
    while (*p >= '0' && *p <= '9')
        p++;
    return strncmp(p, ": ", 2) == 0 ? p + 2 : msg;
}

/* Collective: same code everywhere, same message as rank 0 (but for the rank
 * prefix), naming `name`. */
static void expect_same_error(int rc, int want, const char *name)
{
    const char *msg = sb_last_error_message();
    MT_EXPECT_MSG(rc == want, "got %s (%d), wanted %s: %s", sb_error_name(rc), rc,
                  sb_error_name(want), msg);
    MT_EXPECT_MSG(mt_same_int(rc), "ranks got different codes (%d here)", rc);
    MT_EXPECT_MSG(mt_same_as_root(without_rank_prefix(msg)), "message differs from rank 0's: '%s'",
                  msg);
    MT_EXPECT_MSG(!name || strstr(msg, name) != NULL, "message '%s' does not name '%s'", msg,
                  name ? name : "");
    MT_EXPECT(sb_last_error_code() == want);
}

START_TEST(test_same_error_everywhere)
{
    sb_dataset *good = NULL, *ds = NULL;
    sb_store *st = make_store("errors", &good);
    int rc = sb_store_load_dataset(&ds, st, "missing/set");
    expect_same_error(rc, SB_ERR_NOT_FOUND, "missing/set");
    MT_EXPECT(ds == NULL);
    const char *fields[] = {"x"};
    rc = sb_store_create_dataset(&ds, st, "good", 10, 1, fields);
    expect_same_error(rc, SB_ERR_EXISTS, "good");
    rc = sb_dataset_add_asset_bytes(good, "blob", "x", 1, false);
    expect_same_error(rc, SB_ERR_EXISTS, "blob");
    rc = sb_dataset_add_asset_bytes(good, "samples", "x", 1, true);
    expect_same_error(rc, SB_ERR_INVALID, "samples");
    void *data = NULL;
    size_t len = 0;
    rc = sb_dataset_get_asset_bytes(&data, &len, good, "nothing");
    expect_same_error(rc, SB_ERR_NOT_FOUND, "nothing");
    rc = sb_store_export_dataset(st, "absent", st, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "x", .shrink = true, .chunk_size = 10});
    expect_same_error(rc, SB_ERR_NOT_FOUND, "absent");
    MT_EXPECT_OK(sb_dataset_close(good));
    MT_EXPECT_OK(sb_store_close(st));

    sb_store *missing = NULL;
    rc = mt_open(&missing, "no_such_file", SB_READ);
    expect_same_error(rc, SB_ERR_NOT_FOUND, "no_such_file");
    rc = mt_open(&missing, "errors", SB_CREATE);
    expect_same_error(rc, SB_ERR_EXISTS, "errors");
    MT_REQUIRE_OK(mt_open(&st, "errors", SB_READ));
    rc = sb_store_create_dataset(&ds, st, "ro", 10, 1, fields);
    expect_same_error(rc, SB_ERR_READ_ONLY, NULL);
    MT_EXPECT_OK(sb_store_close(st));
    check_sound("errors", 1);
    mt_end();
}
END_TEST

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    Suite *s = suite_create("mpi_agreement");
    TCase *tc = mt_tcase("agreement");
    tcase_add_test(tc, test_create_mismatch);
    tcase_add_test(tc, test_asset_mismatch);
    tcase_add_test(tc, test_define_field_mismatch);
    tcase_add_test(tc, test_reset_mismatch);
    tcase_add_test(tc, test_export_mismatch);
    tcase_add_test(tc, test_open_mismatch);
    tcase_add_test(tc, test_open_bad_options_on_one_rank);
    tcase_add_test(tc, test_same_error_everywhere);
    suite_add_tcase(s, tc);
    return mt_run(s);
}
