/* Load checks what it reads: files built here with the raw HDF5 API, broken
 * in one way each, must give SB_ERR_NOT_FOUND or an SB_ERR_FORMAT whose
 * message names the dataset and the attribute (or field) at fault. */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secbench/storage.h>

#include "sbt_raw.h"
#include "sbt_util.h"

static char *dir;
static char *path;
static hid_t file;

static void setup(void) {
    dir = sbt_mkdtemp("load");
    path = sbt_join(dir, "broken.h5");
    file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(file >= 0);
}

static void teardown(void) {
    int init = 1;
    MPI_Initialized(&init);
    sbt_rmtree(dir);
    free(path);
    free(dir);
    ck_assert_msg(init == 0, "the library called MPI_Init in a serial program");
}

static hid_t group(const char *name) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(file, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    ck_assert(g >= 0);
    return g;
}

/* A valid dataset: capacity 6, size 3, field "v" int32 (6, 2). */
static hid_t good_dataset(const char *name, int64_t capacity, int64_t size) {
    hid_t g = group(name);
    sbt_raw_mark_dataset(g, capacity, size);
    H5Dclose(sbt_raw_make_field(g, "v", H5T_STD_I32LE, 2, (hsize_t[]){(hsize_t)capacity, 2}, 0));
    return g;
}

/* Close the file, then expect load(name) to fail with `code` naming `what`. */
static void expect_load(const char *name, int code, const char *what) {
    H5Fclose(file);
    file = -1;
    sb_store *s;
    SBT_OK(sb_store_open(&s, path, SB_READ, NULL));
    sb_dataset *ds = NULL;
    SBT_ERR(sb_store_load_dataset(&ds, s, name), code);
    SBT_MSG_HAS(name);
    if (what)
        SBT_MSG_HAS(what);
    ck_assert_ptr_null(ds);
    SBT_OK(sb_store_close(s));
}

START_TEST(good_file_loads) {
    H5Gclose(good_dataset("grp/ok", 6, 3));
    H5Fclose(file);
    sb_store *s;
    SBT_OK(sb_store_open(&s, path, SB_READ, NULL));
    sb_dataset *ds;
    SBT_OK(sb_store_load_dataset(&ds, s, "grp/ok"));
    ck_assert_uint_eq(sb_dataset_capacity(ds), 6);
    ck_assert_uint_eq(sb_dataset_size(ds), 3);
    ck_assert_uint_eq(sb_dataset_nfields(ds), 1);
    int32_t v[3][2];
    SBT_OK(sb_dataset_read(v, ds, "v", 0, 3));
    /* sbt_raw_make_field writes bytes 0,1,0,1... */
    ck_assert_int_eq(v[0][0], 0x01000100);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(plain_group_is_not_found) {
    H5Gclose(group("plain"));
    expect_load("plain", SB_ERR_NOT_FOUND, NULL);
}
END_TEST

START_TEST(hdf5_dataset_is_not_found) {
    H5Dclose(sbt_raw_make_field(file, "array", H5T_STD_I32LE, 1, (hsize_t[]){4}, -1));
    expect_load("array", SB_ERR_NOT_FOUND, NULL);
}
END_TEST

START_TEST(is_dataset_false_is_not_found) {
    hid_t g = group("no");
    int64_t v = 3;
    int8_t no = 0;
    hid_t bt = sbt_raw_bool_type();
    sbt_raw_put_attr(g, "_sb_size", H5T_STD_I64LE, &v);
    sbt_raw_put_attr(g, "_sb_capacity", H5T_STD_I64LE, &v);
    sbt_raw_put_attr(g, "_sb_is_dataset", bt, &no);
    H5Tclose(bt);
    H5Gclose(g);
    expect_load("no", SB_ERR_NOT_FOUND, NULL);
}
END_TEST

START_TEST(size_above_capacity) {
    H5Gclose(good_dataset("big", 6, 7));
    expect_load("big", SB_ERR_FORMAT, "_sb_size");
}
END_TEST

START_TEST(negative_size) {
    H5Gclose(good_dataset("neg", 6, -1));
    expect_load("neg", SB_ERR_FORMAT, "_sb_size");
}
END_TEST

START_TEST(missing_size) {
    hid_t g = good_dataset("nosize", 6, 3);
    H5Adelete(g, "_sb_size");
    H5Gclose(g);
    expect_load("nosize", SB_ERR_FORMAT, "_sb_size");
}
END_TEST

START_TEST(missing_capacity) {
    hid_t g = good_dataset("nocap", 6, 3);
    H5Adelete(g, "_sb_capacity");
    H5Gclose(g);
    expect_load("nocap", SB_ERR_FORMAT, "_sb_capacity");
}
END_TEST

START_TEST(string_size) {
    hid_t g = good_dataset("strsize", 6, 3);
    H5Adelete(g, "_sb_size");
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 2);
    sbt_raw_put_attr(g, "_sb_size", st, "3");
    H5Tclose(st);
    H5Gclose(g);
    expect_load("strsize", SB_ERR_FORMAT, "_sb_size");
}
END_TEST

/* A float holding an integer is a capacity to Python (it compares it with
 * the fields' rows as a number); one that does not is refused. */
START_TEST(float_capacity) {
    hid_t g = good_dataset("fcap", 6, 3);
    H5Adelete(g, "_sb_capacity");
    double c = 6.0;
    sbt_raw_put_attr(g, "_sb_capacity", H5T_IEEE_F64LE, &c);
    H5Gclose(g);
    g = good_dataset("fcap_half", 6, 3);
    H5Adelete(g, "_sb_capacity");
    c = 6.5;
    sbt_raw_put_attr(g, "_sb_capacity", H5T_IEEE_F64LE, &c);
    H5Gclose(g);
    H5Fclose(file);
    file = -1;
    sb_store *s;
    SBT_OK(sb_store_open(&s, path, SB_READ, NULL));
    sb_dataset *ds = NULL;
    SBT_OK(sb_store_load_dataset(&ds, s, "fcap"));
    ck_assert_uint_eq(sb_dataset_capacity(ds), 6);
    SBT_OK(sb_dataset_close(ds));
    SBT_ERR(sb_store_load_dataset(&ds, s, "fcap_half"), SB_ERR_FORMAT);
    SBT_MSG_HAS("_sb_capacity");
    SBT_MSG_HAS("not an integer");
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(array_capacity) {
    hid_t g = good_dataset("acap", 6, 3);
    H5Adelete(g, "_sb_capacity");
    int64_t c[2] = {6, 6};
    hid_t sp = H5Screate_simple(1, (hsize_t[]){2}, NULL);
    hid_t a = H5Acreate2(g, "_sb_capacity", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, c);
    H5Aclose(a);
    H5Sclose(sp);
    H5Gclose(g);
    expect_load("acap", SB_ERR_FORMAT, "_sb_capacity");
}
END_TEST

/* Python tests the flag for its truth: a non-empty string is true, an empty
 * one false, a float by its value. */
START_TEST(string_is_dataset) {
    const struct { const char *name; const char *text; double number; bool is_ds; } cases[] = {
        {"str_yes", "yes", 0, true}, {"str_false", "false", 0, true}, {"str_empty", "", 0, false},
        {"float_one", NULL, 1.0, true}, {"float_zero", NULL, 0.0, false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hid_t g = good_dataset(cases[i].name, 6, 3);
        H5Adelete(g, "_sb_is_dataset");
        if (cases[i].text) {
            char text[5] = {0};
            memcpy(text, cases[i].text, strlen(cases[i].text));
            hid_t st = H5Tcopy(H5T_C_S1);
            H5Tset_size(st, 5);
            sbt_raw_put_attr(g, "_sb_is_dataset", st, text);
            H5Tclose(st);
        } else {
            sbt_raw_put_attr(g, "_sb_is_dataset", H5T_IEEE_F64LE, &cases[i].number);
        }
        H5Gclose(g);
    }
    H5Fclose(file);
    file = -1;
    sb_store *s;
    SBT_OK(sb_store_open(&s, path, SB_READ, NULL));
    char **names;
    size_t n;
    SBT_OK(sb_store_dataset_names(&names, &n, s));
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(names[0], "float_one");
    ck_assert_str_eq(names[1], "str_false");
    ck_assert_str_eq(names[2], "str_yes");
    sb_free(names);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sb_dataset *ds = NULL;
        if (cases[i].is_ds) {
            SBT_OK(sb_store_load_dataset(&ds, s, cases[i].name));
            SBT_OK(sb_dataset_close(ds));
        } else {
            SBT_ERR(sb_store_load_dataset(&ds, s, cases[i].name), SB_ERR_NOT_FOUND);
        }
    }
    SBT_OK(sb_store_close(s));
}
END_TEST

/* _sb_fields (fixed-length strings, as the library writes them) with a name
 * no field can have: empty, a path, or one given twice. */
static void fields_attr(hid_t g, const char *const *names, size_t n) {
    char buf[4][8] = {{0}};
    for (size_t i = 0; i < n; i++)
        snprintf(buf[i], sizeof buf[i], "%s", names[i]);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 8);
    hsize_t dim = n;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t a = H5Acreate2(g, "_sb_fields", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(a >= 0 && H5Awrite(a, t, buf) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

START_TEST(bad_declared_field_names) {
    static const char *const cases[3][2] = {{"v", ""}, {"v", "zz/x"}, {"w", "w"}};
    for (int k = 0; k < 3; k++) {
        char name[16];
        snprintf(name, sizeof name, "d%d", k);
        hid_t g = good_dataset(name, 6, 0);
        fields_attr(g, cases[k], 2);
        H5Gclose(g);
    }
    const char *what[3] = {"''", "'zz/x'", "twice 'w'"};
    for (int k = 0; k < 3; k++) {
        char name[16];
        snprintf(name, sizeof name, "d%d", k);
        if (file < 0)
            file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        expect_load(name, SB_ERR_FORMAT, what[k]);
    }
}
END_TEST

START_TEST(field_rows_differ_from_capacity) {
    hid_t g = group("short");
    sbt_raw_mark_dataset(g, 6, 3);
    H5Dclose(sbt_raw_make_field(g, "good", H5T_STD_I32LE, 1, (hsize_t[]){6}, 0));
    H5Dclose(sbt_raw_make_field(g, "trunc", H5T_STD_I32LE, 2, (hsize_t[]){5, 2}, 1));
    H5Gclose(g);
    expect_load("short", SB_ERR_FORMAT, "trunc");
}
END_TEST

/* A field of a type the library has no dtype for (a variable-length
 * string) does not hide the dataset: it loads, and only that field fails,
 * naming itself and its type. */
START_TEST(unsupported_field_type) {
    hid_t g = group("weird");
    sbt_raw_mark_dataset(g, 4, 2);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, H5T_VARIABLE);
    H5Dclose(sbt_raw_make_field(g, "text", st, 1, (hsize_t[]){4}, 1));
    H5Tclose(st);
    H5Dclose(sbt_raw_make_field(g, "num", H5T_STD_I16LE, 1, (hsize_t[]){4}, 0));
    H5Gclose(g);
    H5Fclose(file);
    file = -1;
    sb_store *s;
    SBT_OK(sb_store_open(&s, path, SB_READ, NULL));
    sb_dataset *ds = NULL;
    SBT_OK(sb_store_load_dataset(&ds, s, "weird"));
    ck_assert_uint_eq(sb_dataset_nfields(ds), 2);
    sb_field_info fi;
    SBT_OK(sb_dataset_field_info(&fi, ds, 1));
    ck_assert_str_eq(fi.name, "text");
    ck_assert(fi.defined && !fi.supported);
    ck_assert_str_eq(fi.type_name, "variable-length string");
    int16_t v[2];
    SBT_OK(sb_dataset_read(v, ds, "num", 0, 2));
    char *p[2];
    SBT_ERR(sb_dataset_read(p, ds, "text", 0, 2), SB_ERR_TYPE);
    SBT_MSG_HAS("'text'");
    SBT_MSG_HAS("variable-length string");
    sb_array a;
    SBT_ERR(sb_dataset_get(&a, ds, 1, (const char *[]){"text"}), SB_ERR_TYPE);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(python_tolerances) {
    /* what Python writes in the wild: int32 capacity and size, a field without
     * _sb_priority, a sub-group inside the dataset group, an intermediate group */
    hid_t g = group("wild/inner");
    int32_t cap = 4, size = 2;
    hid_t bt = sbt_raw_bool_type();
    int8_t yes = 1;
    sbt_raw_put_attr(g, "_sb_size", H5T_STD_I32LE, &size);
    sbt_raw_put_attr(g, "_sb_is_dataset", bt, &yes);
    sbt_raw_put_attr(g, "_sb_capacity", H5T_STD_I32LE, &cap);
    H5Tclose(bt);
    H5Dclose(sbt_raw_make_field(g, "only", H5T_STD_U16LE, 1, (hsize_t[]){4}, -1));
    hid_t sub = H5Gcreate2(g, "subgroup", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(sub);
    H5Gclose(g);
    H5Fclose(file);
    file = -1;
    sb_store *s;
    SBT_OK(sb_store_open(&s, path, SB_READ, NULL));
    char **names;
    size_t n;
    SBT_OK(sb_store_dataset_names(&names, &n, s));
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(names[0], "wild/inner");
    sb_free(names);
    sb_dataset *ds;
    SBT_OK(sb_store_load_dataset(&ds, s, "wild/inner"));
    ck_assert_uint_eq(sb_dataset_capacity(ds), 4);
    ck_assert_uint_eq(sb_dataset_size(ds), 2);
    ck_assert_uint_eq(sb_dataset_nfields(ds), 1);
    ck_assert_str_eq(sb_dataset_field(ds, 0), "only");
    uint16_t v[2];
    SBT_OK(sb_dataset_read(v, ds, "only", 0, 2));
    ck_assert_uint_eq(v[0], 0x0100);
    ck_assert_uint_eq(v[1], 0x0100);
    SBT_OK(sb_dataset_close(ds));
    SBT_ERR(sb_store_load_dataset(&ds, s, "wild"), SB_ERR_NOT_FOUND);
    SBT_ERR(sb_store_load_dataset(&ds, s, "wild/inner/subgroup"), SB_ERR_NOT_FOUND);
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(priority_order_and_big_endian) {
    /* Python's order: a stable sort by _sb_priority (missing = 0) over
     * h5py's order of the group (names here); a big-endian field reads back
     * as native numbers */
    hid_t g = group("mixed");
    sbt_raw_mark_dataset(g, 3, 2);
    H5Dclose(sbt_raw_make_field(g, "zz_first", H5T_STD_I8LE, 1, (hsize_t[]){3}, 0));
    H5Dclose(sbt_raw_make_field(g, "c_noprio", H5T_STD_I8LE, 1, (hsize_t[]){3}, -1));
    H5Dclose(sbt_raw_make_field(g, "b_noprio", H5T_STD_I8LE, 1, (hsize_t[]){3}, -1));
    H5Dclose(sbt_raw_make_field(g, "a_second", H5T_STD_I8LE, 1, (hsize_t[]){3}, 1));
    hid_t sp = H5Screate_simple(1, (hsize_t[]){3}, NULL);
    hid_t d = H5Dcreate2(g, "be", H5T_STD_I32BE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int32_t v[3] = {-2, 70000, 5};
    H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    int64_t prio = 2;
    sbt_raw_put_attr(d, "_sb_priority", H5T_STD_I64LE, &prio);
    H5Dclose(d);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(file);
    file = -1;
    sb_store *s;
    SBT_OK(sb_store_open(&s, path, SB_READ, NULL));
    sb_dataset *ds;
    SBT_OK(sb_store_load_dataset(&ds, s, "mixed"));
    const char *want[] = {"b_noprio", "c_noprio", "zz_first", "a_second", "be"};
    ck_assert_uint_eq(sb_dataset_nfields(ds), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(sb_dataset_field(ds, i), want[i]);
    int32_t back[2];
    SBT_OK(sb_dataset_read(back, ds, "be", 0, 2));
    ck_assert_int_eq(back[0], -2);
    ck_assert_int_eq(back[1], 70000);
    sb_field_info fi;
    SBT_OK(sb_dataset_field_info(&fi, ds, 4));
    ck_assert_int_eq(fi.dtype, SB_INT32);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(datasets_listing_skips_broken_groups_quietly) {
    /* listing must not print HDF5 errors while probing groups */
    H5Gclose(good_dataset("a/fine", 6, 3));
    H5Gclose(group("b/plain"));
    H5Fclose(file);
    file = -1;
    sbt_capture cap;
    sbt_stderr_begin(&cap);
    sb_store *s;
    int rc = sb_store_open(&s, path, SB_READ, NULL);
    char **names = NULL;
    size_t n = 0;
    int rc2 = rc == 0 ? sb_store_dataset_names(&names, &n, s) : rc;
    sb_dataset *ds;
    int rc3 = rc == 0 ? sb_store_load_dataset(&ds, s, "b/plain") : rc;
    if (rc == 0)
        sb_store_close(s);
    char *text = sbt_stderr_end(&cap);
    ck_assert_msg(text[0] == '\0', "stderr got: %s", text);
    free(text);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(rc2, 0);
    ck_assert_int_eq(rc3, SB_ERR_NOT_FOUND);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(names[0], "a/fine");
    sb_free(names);
}
END_TEST

int main(void) {
    Suite *su = suite_create("load_format");
    TCase *tc = tcase_create("serial");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, good_file_loads);
    tcase_add_test(tc, plain_group_is_not_found);
    tcase_add_test(tc, hdf5_dataset_is_not_found);
    tcase_add_test(tc, is_dataset_false_is_not_found);
    tcase_add_test(tc, size_above_capacity);
    tcase_add_test(tc, negative_size);
    tcase_add_test(tc, missing_size);
    tcase_add_test(tc, missing_capacity);
    tcase_add_test(tc, string_size);
    tcase_add_test(tc, float_capacity);
    tcase_add_test(tc, array_capacity);
    tcase_add_test(tc, string_is_dataset);
    tcase_add_test(tc, field_rows_differ_from_capacity);
    tcase_add_test(tc, bad_declared_field_names);
    tcase_add_test(tc, unsupported_field_type);
    tcase_add_test(tc, python_tolerances);
    tcase_add_test(tc, priority_order_and_big_endian);
    tcase_add_test(tc, datasets_listing_skips_broken_groups_quietly);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
