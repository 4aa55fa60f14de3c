/* Dataset rows: append/extend with every dtype, the first row fixing each
 * field's dtype and row shape, refusals that write nothing, reads, get, reset,
 * define_field, write_at/commit_size and the write buffer, in serial. */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secbench/storage.h>

#include "sbt_raw.h"
#include "sbt_util.h"

static char *dir;
static char *path;

static void setup(void) {
    dir = sbt_mkdtemp("dataset");
    path = sbt_join(dir, "d.h5");
}

static void teardown(void) {
    int init = 1;
    MPI_Initialized(&init);
    sbt_rmtree(dir);
    free(path);
    free(dir);
    ck_assert_msg(init == 0, "the library called MPI_Init in a serial program");
}

static sb_store *open_store(sb_open_mode mode) {
    sb_store *s = NULL;
    SBT_OK(sb_store_open(&s, path, mode, NULL));
    return s;
}

static sb_dataset *create(sb_store *s, const char *name, uint64_t cap, size_t n,
                          const char *const *fields) {
    sb_dataset *ds = NULL;
    SBT_OK(sb_store_create_dataset(&ds, s, name, cap, n, fields));
    return ds;
}

static sb_dataset *load(sb_store *s, const char *name) {
    sb_dataset *ds = NULL;
    SBT_OK(sb_store_load_dataset(&ds, s, name));
    return ds;
}

static sb_array arr(sb_dtype t, int ndim, const uint64_t *shape, const void *data) {
    sb_array a;
    SBT_OK(sb_array_wrap(&a, t, ndim, shape, data));
    return a;
}

/* Three fields: "samples" int16 rows of 4, "key" uint8 scalar, "matrix" float32 rows of 2x3.
 * Row r holds s[j] = 100*r - j, k = r + 1, m[j] = r + j / 8. */
static const char *const F3[] = {"samples", "key", "matrix"};

static void make_row(int r, int16_t s[4], uint8_t *k, float m[6], sb_array row[3]) {
    for (int j = 0; j < 4; j++)
        s[j] = (int16_t)(100 * r - j);
    *k = (uint8_t)(r + 1);
    for (int j = 0; j < 6; j++)
        m[j] = (float)r + (float)j / 8.0f;
    row[0] = arr(SB_INT16, 1, (uint64_t[]){4}, s);
    row[1] = arr(SB_UINT8, 0, NULL, k);
    row[2] = arr(SB_FLOAT32, 2, (uint64_t[]){2, 3}, m);
}

static void append_rows(sb_dataset *ds, int from, int to) {
    for (int r = from; r < to; r++) {
        int16_t s[4];
        uint8_t k;
        float m[6];
        sb_array row[3];
        make_row(r, s, &k, m, row);
        SBT_OK(sb_dataset_append(ds, 3, row));
    }
}

static void check_rows(sb_dataset *ds, int from, int to) {
    for (int r = from; r < to; r++) {
        int16_t s[4], s2[4];
        uint8_t k, k2;
        float m[6], m2[6];
        sb_array row[3];
        make_row(r, s, &k, m, row);
        SBT_OK(sb_dataset_read(s2, ds, "samples", (uint64_t)r, 1));
        SBT_OK(sb_dataset_read(&k2, ds, "key", (uint64_t)r, 1));
        SBT_OK(sb_dataset_read(m2, ds, "matrix", (uint64_t)r, 1));
        ck_assert_mem_eq(s, s2, sizeof s);
        ck_assert_uint_eq(k, k2);
        ck_assert_mem_eq(m, m2, sizeof m);
    }
}

START_TEST(getters_and_field_lookup) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "aes/traces", 9, 3, F3);
    ck_assert_str_eq(sb_dataset_name(ds), "aes/traces");
    ck_assert_uint_eq(sb_dataset_capacity(ds), 9);
    ck_assert_uint_eq(sb_dataset_size(ds), 0);
    ck_assert_uint_eq(sb_dataset_nfields(ds), 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(sb_dataset_field(ds, i), F3[i]);
        size_t idx = 99;
        SBT_OK(sb_dataset_field_index(&idx, ds, F3[i]));
        ck_assert_uint_eq(idx, i);
        sb_field_info fi;
        SBT_OK(sb_dataset_field_info(&fi, ds, i));
        ck_assert_str_eq(fi.name, F3[i]);
        ck_assert(!fi.defined);
    }
    ck_assert_ptr_null(sb_dataset_field(ds, 3));
    size_t idx;
    SBT_ERR(sb_dataset_field_index(&idx, ds, "missing"), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("missing");
    sb_field_info fi;
    SBT_FAILS(sb_dataset_field_info(&fi, ds, 3));
    sb_write_report rep;
    memset(&rep, 0xff, sizeof rep);
    sb_dataset_last_write(&rep, ds);
    ck_assert(!rep.valid);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(first_row_fixes_layout) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 9, 3, F3);
    append_rows(ds, 0, 1);
    ck_assert_uint_eq(sb_dataset_size(ds), 1);
    static const struct { sb_dtype t; int nd; uint64_t shape[2]; uint64_t bytes; } want[] = {
        {SB_INT16, 1, {4, 0}, 8}, {SB_UINT8, 0, {0, 0}, 1}, {SB_FLOAT32, 2, {2, 3}, 24}};
    for (size_t i = 0; i < 3; i++) {
        sb_field_info fi;
        SBT_OK(sb_dataset_field_info(&fi, ds, i));
        ck_assert(fi.defined);
        ck_assert_int_eq(fi.dtype, want[i].t);
        ck_assert_int_eq(fi.row_ndim, want[i].nd);
        for (int d = 0; d < want[i].nd; d++)
            ck_assert_uint_eq(fi.row_shape[d], want[i].shape[d]);
        ck_assert_uint_eq(fi.row_bytes, want[i].bytes);
    }
    append_rows(ds, 1, 5);
    check_rows(ds, 0, 5);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    /* and it is all in the file */
    s = open_store(SB_READ);
    ds = load(s, "ds_one");
    ck_assert_uint_eq(sb_dataset_size(ds), 5);
    check_rows(ds, 0, 5);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    int64_t v;
    ck_assert(sbt_raw_attr_i64(path, "ds_one", "_sb_size", &v));
    ck_assert_int_eq(v, 5);
}
END_TEST

/* After a refused call: size unchanged, old rows unchanged, and row `size`
 * of every field still never written in the file. */
static void check_nothing_written(sb_store *s, sb_dataset *ds, uint64_t size) {
    ck_assert_uint_eq(sb_dataset_size(ds), size);
    check_rows(ds, 0, (int)size);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    for (size_t i = 0; i < 3; i++) {
        char p[32];
        snprintf(p, sizeof p, "ds_one/%s", F3[i]);
        ck_assert_msg(sbt_raw_row_is_zero(path, p, size), "row %u of %s was written",
                      (unsigned)size, p);
    }
    int64_t v;
    ck_assert(sbt_raw_attr_i64(path, "ds_one", "_sb_size", &v));
    ck_assert_int_eq(v, (int64_t)size);
}

START_TEST(append_mismatch_writes_nothing) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 9, 3, F3);
    append_rows(ds, 0, 2);
    int16_t sv[4];
    uint8_t k;
    float m[6];
    sb_array row[3];
    make_row(7, sv, &k, m, row);
    /* dtype of the last field differs: the first two must not land either */
    row[2].dtype = SB_FLOAT64;
    double md[6] = {0};
    row[2].data = md;
    SBT_ERR(sb_dataset_append(ds, 3, row), SB_ERR_TYPE);
    SBT_MSG_HAS("matrix");
    make_row(7, sv, &k, m, row);
    row[2].shape[1] = 2; /* row shape 2x2 instead of 2x3 */
    SBT_ERR(sb_dataset_append(ds, 3, row), SB_ERR_TYPE);
    SBT_MSG_HAS("matrix");
    make_row(7, sv, &k, m, row);
    row[1] = arr(SB_UINT8, 1, (uint64_t[]){1}, &k); /* scalar field given a 1-vector */
    SBT_ERR(sb_dataset_append(ds, 3, row), SB_ERR_TYPE);
    SBT_MSG_HAS("key");
    make_row(7, sv, &k, m, row);
    row[0].dtype = SB_UINT16; /* same size, other dtype */
    SBT_ERR(sb_dataset_append(ds, 3, row), SB_ERR_TYPE);
    SBT_MSG_HAS("samples");
    check_nothing_written(s, ds, 2);
}
END_TEST

START_TEST(extend_mismatch_writes_nothing) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 9, 3, F3);
    append_rows(ds, 0, 3);
    int16_t sv[2][4] = {{1, 2, 3, 4}, {5, 6, 7, 8}};
    uint8_t kv[2] = {9, 9};
    int32_t mv[2][2][3] = {{{1}}};
    sb_array cols[3] = {arr(SB_INT16, 2, (uint64_t[]){2, 4}, sv),
                        arr(SB_UINT8, 1, (uint64_t[]){2}, kv),
                        arr(SB_INT32, 3, (uint64_t[]){2, 2, 3}, mv)};
    SBT_ERR(sb_dataset_extend(ds, 3, cols), SB_ERR_TYPE);
    SBT_MSG_HAS("matrix");
    check_nothing_written(s, ds, 3);
}
END_TEST

START_TEST(first_row_mismatch_in_extend_defines_nothing) {
    /* a refused first extend must leave the fields undefined */
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 9, 3, F3);
    int16_t sv[2][4] = {{1, 2, 3, 4}, {5, 6, 7, 8}};
    uint8_t kv[3] = {9, 9, 9};
    float mv[2][2][3] = {{{1}}};
    sb_array cols[3] = {arr(SB_INT16, 2, (uint64_t[]){2, 4}, sv),
                        arr(SB_UINT8, 1, (uint64_t[]){3}, kv),
                        arr(SB_FLOAT32, 3, (uint64_t[]){2, 2, 3}, mv)};
    SBT_ERR(sb_dataset_extend(ds, 3, cols), SB_ERR_INVALID); /* 2, 3 and 2 rows */
    ck_assert_uint_eq(sb_dataset_size(ds), 0);
    for (size_t i = 0; i < 3; i++) {
        sb_field_info fi;
        SBT_OK(sb_dataset_field_info(&fi, ds, i));
        ck_assert(!fi.defined);
    }
    /* a 3-field row now fixes the layout from scratch */
    append_rows(ds, 0, 1);
    check_rows(ds, 0, 1);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(mismatched_row_counts_write_nothing) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 9, 3, F3);
    append_rows(ds, 0, 1);
    int16_t sv[3][4] = {{1}};
    uint8_t kv[2] = {1, 2};
    float mv[3][2][3] = {{{1}}};
    sb_array cols[3] = {arr(SB_INT16, 2, (uint64_t[]){3, 4}, sv),
                        arr(SB_UINT8, 1, (uint64_t[]){2}, kv),
                        arr(SB_FLOAT32, 3, (uint64_t[]){3, 2, 3}, mv)};
    SBT_ERR(sb_dataset_extend(ds, 3, cols), SB_ERR_INVALID);
    /* a column without a row dimension (a scalar) is not a column */
    uint8_t one = 1;
    cols[1] = arr(SB_UINT8, 0, NULL, &one);
    SBT_FAILS(sb_dataset_extend(ds, 3, cols));
    check_nothing_written(s, ds, 1);
}
END_TEST

START_TEST(full_writes_nothing) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 3, 3, F3);
    append_rows(ds, 0, 2);
    int16_t sv[2][4] = {{1}};
    uint8_t kv[2] = {1, 2};
    float mv[2][2][3] = {{{1}}};
    sb_array cols[3] = {arr(SB_INT16, 2, (uint64_t[]){2, 4}, sv),
                        arr(SB_UINT8, 1, (uint64_t[]){2}, kv),
                        arr(SB_FLOAT32, 3, (uint64_t[]){2, 2, 3}, mv)};
    SBT_ERR(sb_dataset_extend(ds, 3, cols), SB_ERR_FULL);
    SBT_MSG_HAS("ds_one");
    ck_assert_uint_eq(sb_dataset_size(ds), 2);
    append_rows(ds, 2, 3);
    ck_assert_uint_eq(sb_dataset_size(ds), 3);
    int16_t s1[4];
    uint8_t k1;
    float m1[6];
    sb_array row[3];
    make_row(9, s1, &k1, m1, row);
    SBT_ERR(sb_dataset_append(ds, 3, row), SB_ERR_FULL);
    ck_assert_uint_eq(sb_dataset_size(ds), 3);
    check_rows(ds, 0, 3);
    /* zero rows still fit in a full dataset */
    cols[0].shape[0] = cols[1].shape[0] = cols[2].shape[0] = 0;
    SBT_OK(sb_dataset_extend(ds, 3, cols));
    ck_assert_uint_eq(sb_dataset_size(ds), 3);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(empty_extend_is_noop) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 5, 3, F3);
    int16_t sv[1][4];
    uint8_t kv[1];
    float mv[1][2][3];
    sb_array cols[3] = {arr(SB_INT16, 2, (uint64_t[]){0, 4}, sv),
                        arr(SB_UINT8, 1, (uint64_t[]){0}, kv),
                        arr(SB_FLOAT32, 3, (uint64_t[]){0, 2, 3}, mv)};
    SBT_OK(sb_dataset_extend(ds, 3, cols));
    ck_assert_uint_eq(sb_dataset_size(ds), 0);
    append_rows(ds, 0, 2);
    SBT_OK(sb_dataset_extend(ds, 3, cols));
    ck_assert_uint_eq(sb_dataset_size(ds), 2);
    check_rows(ds, 0, 2);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    int64_t v;
    ck_assert(sbt_raw_attr_i64(path, "ds_one", "_sb_size", &v));
    ck_assert_int_eq(v, 2);
}
END_TEST

/* One field per dtype; row r, element j holds a value that uses the extremes
 * of each type. */
static const char *const DT_FIELDS[] = {"b", "i8", "u8", "i16", "u16", "i32",
                                        "u32", "i64", "u64", "f32", "f64"};
#define NDT 11
#define DT_ROWS 5

typedef struct dt_cols {
    uint8_t b[DT_ROWS][2];
    int8_t i8[DT_ROWS][2];
    uint8_t u8[DT_ROWS][2];
    int16_t i16[DT_ROWS][2];
    uint16_t u16[DT_ROWS][2];
    int32_t i32[DT_ROWS][2];
    uint32_t u32[DT_ROWS][2];
    int64_t i64[DT_ROWS][2];
    uint64_t u64[DT_ROWS][2];
    float f32[DT_ROWS][2];
    double f64[DT_ROWS][2];
} dt_cols;

static void dt_fill(dt_cols *c) {
    for (int r = 0; r < DT_ROWS; r++)
        for (int j = 0; j < 2; j++) {
            int sign = (r + j) % 2 ? -1 : 1;
            c->b[r][j] = (uint8_t)((r + j) % 2);
            c->i8[r][j] = r == 0 ? (j ? INT8_MIN : INT8_MAX) : (int8_t)(sign * r * 11);
            c->u8[r][j] = r == 0 ? (j ? 0 : UINT8_MAX) : (uint8_t)(r * 50 + j);
            c->i16[r][j] = r == 0 ? (j ? INT16_MIN : INT16_MAX) : (int16_t)(sign * r * 1000);
            c->u16[r][j] = r == 0 ? (j ? 0 : UINT16_MAX) : (uint16_t)(r * 9000 + j);
            c->i32[r][j] = r == 0 ? (j ? INT32_MIN : INT32_MAX) : sign * r * 100000;
            c->u32[r][j] = r == 0 ? (j ? 0 : UINT32_MAX) : (uint32_t)r * 1000000000u + (uint32_t)j;
            c->i64[r][j] = r == 0 ? (j ? INT64_MIN : INT64_MAX) : (int64_t)sign * r * 10000000000LL;
            c->u64[r][j] = r == 0 ? (j ? 0 : UINT64_MAX) : (uint64_t)r << 60 | (uint64_t)j;
            static const float fs[DT_ROWS][2] = {{3.4028235e38f, -1.17549435e-38f},
                                                 {-0.0f, 1.5f}, {1e-45f, -2.75f},
                                                 {INFINITY, -INFINITY}, {0.1f, 16777216.0f}};
            static const double ds[DT_ROWS][2] = {{1.7976931348623157e308, -2.2250738585072014e-308},
                                                  {-0.0, 0.1}, {5e-324, -1e300},
                                                  {-INFINITY, INFINITY}, {3.141592653589793, 2.0}};
            c->f32[r][j] = fs[r][j];
            c->f64[r][j] = ds[r][j];
        }
}

static void dt_columns(dt_cols *c, int first, int rows, sb_array cols[NDT]) {
    static const sb_dtype t[NDT] = {SB_BOOL, SB_INT8, SB_UINT8, SB_INT16, SB_UINT16, SB_INT32,
                                    SB_UINT32, SB_INT64, SB_UINT64, SB_FLOAT32, SB_FLOAT64};
    void *data[NDT] = {c->b[first], c->i8[first], c->u8[first], c->i16[first], c->u16[first],
                       c->i32[first], c->u32[first], c->i64[first], c->u64[first],
                       c->f32[first], c->f64[first]};
    for (int i = 0; i < NDT; i++)
        cols[i] = arr(t[i], 2, (uint64_t[]){(uint64_t)rows, 2}, data[i]);
}

START_TEST(every_dtype_round_trips) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "types", 8, NDT, DT_FIELDS);
    dt_cols c;
    dt_fill(&c);
    sb_array cols[NDT];
    dt_columns(&c, 0, 3, cols);
    SBT_OK(sb_dataset_extend(ds, NDT, cols));
    /* rows 3 and 4 one at a time, as single rows */
    for (int r = 3; r < DT_ROWS; r++) {
        dt_columns(&c, r, 1, cols);
        for (int i = 0; i < NDT; i++) {
            cols[i].ndim = 1;
            cols[i].shape[0] = 2;
        }
        SBT_OK(sb_dataset_append(ds, NDT, cols));
    }
    ck_assert_uint_eq(sb_dataset_size(ds), DT_ROWS);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));

    s = open_store(SB_READ);
    ds = load(s, "types");
    dt_columns(&c, 0, DT_ROWS, cols);
    for (size_t i = 0; i < NDT; i++) {
        sb_field_info fi;
        SBT_OK(sb_dataset_field_info(&fi, ds, i));
        ck_assert_int_eq(fi.dtype, cols[i].dtype);
        ck_assert_uint_eq(fi.row_bytes, 2 * sb_dtype_size(cols[i].dtype));
        sb_array got;
        SBT_OK(sb_dataset_get(&got, ds, 1, (const char *[]){DT_FIELDS[i]}));
        ck_assert_int_eq(got.dtype, cols[i].dtype);
        ck_assert_int_eq(got.ndim, 2);
        ck_assert_uint_eq(got.shape[0], DT_ROWS);
        ck_assert_uint_eq(got.shape[1], 2);
        ck_assert_msg(memcmp(got.data, cols[i].data, sb_array_nbytes(&got)) == 0,
                      "field %s differs", DT_FIELDS[i]);
        sb_free(got.data);
    }
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));

    /* bool is stored as h5py stores numpy bool: an int8 enum FALSE=0, TRUE=1 */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "types/b", H5P_DEFAULT);
    hid_t t = H5Dget_type(d);
    ck_assert_int_eq(H5Tget_class(t), H5T_ENUM);
    ck_assert_int_eq(H5Tget_nmembers(t), 2);
    hid_t super = H5Tget_super(t);
    ck_assert(H5Tequal(super, H5T_STD_I8LE) > 0);
    int8_t v;
    H5Tget_member_value(t, 0, &v);
    char *n0 = H5Tget_member_name(t, 0);
    ck_assert_str_eq(n0, v == 0 ? "FALSE" : "TRUE");
    H5free_memory(n0);
    H5Tclose(super);
    H5Tclose(t);
    H5Dclose(d);
    H5Fclose(f);
}
END_TEST

START_TEST(scalar_and_multidim_rows) {
    sb_store *s = open_store(SB_CREATE);
    const char *const f2[] = {"scalar", "cube"};
    sb_dataset *ds = create(s, "nd", 10, 2, f2);
    double sc[3] = {0.5, -1.5, 2.5};
    int32_t cube[3][2][3][4];
    for (int i = 0; i < 3 * 24; i++)
        (&cube[0][0][0][0])[i] = i * 7 - 100;
    sb_array cols[2] = {arr(SB_FLOAT64, 1, (uint64_t[]){3}, sc),
                        arr(SB_INT32, 4, (uint64_t[]){3, 2, 3, 4}, cube)};
    SBT_OK(sb_dataset_extend(ds, 2, cols));
    double one = 9.0;
    sb_array row[2] = {arr(SB_FLOAT64, 0, NULL, &one),
                       arr(SB_INT32, 3, (uint64_t[]){2, 3, 4}, cube[1])};
    SBT_OK(sb_dataset_append(ds, 2, row));
    sb_field_info fi;
    SBT_OK(sb_dataset_field_info(&fi, ds, 1));
    ck_assert_int_eq(fi.row_ndim, 3);
    ck_assert_uint_eq(fi.row_shape[0], 2);
    ck_assert_uint_eq(fi.row_shape[1], 3);
    ck_assert_uint_eq(fi.row_shape[2], 4);
    ck_assert_uint_eq(fi.row_bytes, 96);
    SBT_OK(sb_dataset_field_info(&fi, ds, 0));
    ck_assert_int_eq(fi.row_ndim, 0);
    ck_assert_uint_eq(fi.row_bytes, 8);
    sb_array got;
    SBT_OK(sb_dataset_get(&got, ds, 1, (const char *[]){"cube"}));
    ck_assert_int_eq(got.ndim, 4);
    ck_assert_uint_eq(got.shape[0], 4);
    ck_assert_uint_eq(got.shape[3], 4);
    ck_assert_mem_eq(got.data, cube, sizeof cube);
    ck_assert_mem_eq((char *)got.data + sizeof cube, cube[1], sizeof cube[1]);
    sb_free(got.data);
    SBT_OK(sb_dataset_get(&got, ds, 1, (const char *[]){"scalar"}));
    ck_assert_int_eq(got.ndim, 1);
    ck_assert_uint_eq(got.shape[0], 4);
    const double want[4] = {0.5, -1.5, 2.5, 9.0};
    ck_assert_mem_eq(got.data, want, sizeof want);
    sb_free(got.data);
    /* a 1-D row where a scalar was fixed is a mismatch */
    sb_array bad[2] = {arr(SB_FLOAT64, 1, (uint64_t[]){1}, &one),
                       arr(SB_INT32, 3, (uint64_t[]){2, 3, 4}, cube[1])};
    SBT_ERR(sb_dataset_append(ds, 2, bad), SB_ERR_TYPE);
    ck_assert_uint_eq(sb_dataset_size(ds), 4);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(read_ranges) {
    sb_store *s = open_store(SB_CREATE);
    const char *const f1[] = {"v"};
    sb_dataset *ds = create(s, "ranges", 20, 1, f1);
    uint16_t v[12][3];
    for (int i = 0; i < 36; i++)
        (&v[0][0])[i] = (uint16_t)(i * 1237);
    sb_array col = arr(SB_UINT16, 2, (uint64_t[]){12, 3}, v);
    SBT_OK(sb_dataset_extend(ds, 1, &col));
    uint16_t buf[13][3];
    for (uint64_t start = 0; start < 12; start++)
        for (uint64_t count = 1; start + count <= 12; count++) {
            memset(buf, 0xee, sizeof buf);
            SBT_OK(sb_dataset_read(buf, ds, "v", start, count));
            ck_assert_mem_eq(buf, v[start], count * sizeof v[0]);
            /* nothing written past count rows */
            ck_assert_uint_eq(buf[count][0], 0xeeee);
        }
    SBT_OK(sb_dataset_read(buf, ds, "v", 12, 0));
    SBT_ERR(sb_dataset_read(buf, ds, "v", 11, 2), SB_ERR_INVALID);
    SBT_MSG_HAS("ranges");
    SBT_ERR(sb_dataset_read(buf, ds, "v", 12, 1), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_read(buf, ds, "v", 0, 13), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_read(buf, ds, "v", UINT64_MAX, 2), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_read(buf, ds, "v", 1, UINT64_MAX), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_read(buf, ds, "nope", 0, 1), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("nope");
    SBT_ERR(sb_dataset_read(NULL, ds, "v", 0, 1), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_read(buf, ds, NULL, 0, 1), SB_ERR_INVALID);
    sb_array got;
    SBT_ERR(sb_dataset_get(&got, ds, 1, (const char *[]){"nope"}), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("nope");
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(reset_rewinds) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 9, 3, F3);
    append_rows(ds, 0, 4);
    SBT_OK(sb_dataset_flush(ds));
    ck_assert_int_eq(sbt_disk_size(path, "ds_one"), 4);
    SBT_OK(sb_dataset_reset(ds));
    ck_assert_uint_eq(sb_dataset_size(ds), 0);
    /* a reset commits at once: another process sees the size 0 now */
    ck_assert_int_eq(sbt_disk_size(path, "ds_one"), 0);
    int16_t b[4];
    SBT_ERR(sb_dataset_read(b, ds, "samples", 0, 1), SB_ERR_INVALID);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    int64_t v;
    ck_assert(sbt_raw_attr_i64(path, "ds_one", "_sb_size", &v));
    ck_assert_int_eq(v, 0);

    s = open_store(SB_READ_WRITE);
    ds = load(s, "ds_one");
    ck_assert_uint_eq(sb_dataset_size(ds), 0);
    /* fields keep their layout after a reset */
    sb_field_info fi;
    SBT_OK(sb_dataset_field_info(&fi, ds, 2));
    ck_assert(fi.defined);
    ck_assert_int_eq(fi.dtype, SB_FLOAT32);
    append_rows(ds, 10, 12);
    ck_assert_uint_eq(sb_dataset_size(ds), 2);
    int16_t s10[4];
    SBT_OK(sb_dataset_read(s10, ds, "samples", 0, 1));
    ck_assert_int_eq(s10[0], 1000);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(define_field_rules) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 9, 3, F3);
    SBT_OK(sb_dataset_define_field(ds, "samples", SB_INT16, 1, (uint64_t[]){4}));
    SBT_OK(sb_dataset_define_field(ds, "key", SB_UINT8, 0, NULL));
    sb_field_info fi;
    SBT_OK(sb_dataset_field_info(&fi, ds, 0));
    ck_assert(fi.defined);
    ck_assert_int_eq(fi.dtype, SB_INT16);
    ck_assert_uint_eq(fi.row_bytes, 8);
    /* the same definition again is fine, another one is not */
    SBT_OK(sb_dataset_define_field(ds, "samples", SB_INT16, 1, (uint64_t[]){4}));
    SBT_ERR(sb_dataset_define_field(ds, "samples", SB_INT32, 1, (uint64_t[]){4}), SB_ERR_TYPE);
    SBT_MSG_HAS("samples");
    SBT_ERR(sb_dataset_define_field(ds, "samples", SB_INT16, 1, (uint64_t[]){5}), SB_ERR_TYPE);
    SBT_ERR(sb_dataset_define_field(ds, "zz", SB_INT16, 0, NULL), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("zz");
    SBT_ERR(sb_dataset_define_field(ds, "matrix", (sb_dtype)77, 0, NULL), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_define_field(ds, "matrix", SB_FLOAT32, -1, NULL), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_define_field(ds, "matrix", SB_FLOAT32, SB_MAX_DIMS, (uint64_t[SB_MAX_DIMS]){1}),
            SB_ERR_INVALID);
    /* "m" is defined by its first row; "s" refuses a row of another dtype */
    int16_t sv[4];
    uint8_t k;
    float m[6];
    sb_array row[3];
    make_row(1, sv, &k, m, row);
    int32_t wide[4] = {0};
    row[0] = arr(SB_INT32, 1, (uint64_t[]){4}, wide);
    SBT_ERR(sb_dataset_append(ds, 3, row), SB_ERR_TYPE);
    ck_assert_uint_eq(sb_dataset_size(ds), 0);
    SBT_OK(sb_dataset_field_info(&fi, ds, 2));
    ck_assert(!fi.defined);
    append_rows(ds, 0, 2);
    check_rows(ds, 0, 2);
    SBT_ERR(sb_dataset_define_field(ds, "matrix", SB_FLOAT64, 2, (uint64_t[]){2, 3}), SB_ERR_TYPE);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

/* Capacity x row bytes beyond a file: refused where the field is made, with
 * nothing made, and the store keeps taking writes. */
START_TEST(field_larger_than_a_file) {
    sb_store *s = open_store(SB_CREATE);
    const char *one[] = {"data"};
    sb_dataset *huge = create(s, "huge", 1ULL << 62, 1, one);
    double row[8] = {0};
    sb_array a = arr(SB_FLOAT64, 1, (uint64_t[]){8}, row);
    SBT_ERR(sb_dataset_append(huge, 1, &a), SB_ERR_INVALID);
    SBT_MSG_HAS("data");
    SBT_MSG_HAS("do not fit in a file");
    SBT_ERR(sb_dataset_define_field(huge, "data", SB_INT8, 1, (uint64_t[]){UINT64_MAX}),
            SB_ERR_INVALID);
    sb_field_info fi;
    SBT_OK(sb_dataset_field_info(&fi, huge, 0));
    ck_assert(!fi.defined);
    SBT_OK(sb_dataset_close(huge));
    /* The store still writes. */
    sb_dataset *small = create(s, "small", 4, 1, one);
    SBT_OK(sb_dataset_append(small, 1, &a));
    SBT_OK(sb_dataset_flush(small));
    ck_assert_uint_eq(sb_dataset_size(small), 1);
    SBT_OK(sb_dataset_close(small));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(write_at_and_commit_size) {
    sb_store *s = open_store(SB_CREATE);
    const char *const f2[] = {"a", "b"};
    sb_dataset *ds = create(s, "w", 10, 2, f2);
    int32_t a[3] = {7, 8, 9};
    double b[3][2] = {{1, 2}, {3, 4}, {5, 6}};
    sb_array cols[2] = {arr(SB_INT32, 1, (uint64_t[]){3}, a),
                        arr(SB_FLOAT64, 2, (uint64_t[]){3, 2}, b)};
    /* fields must be defined first */
    SBT_FAILS(sb_dataset_write_at(ds, 0, 2, cols));
    SBT_OK(sb_dataset_define_field(ds, "a", SB_INT32, 0, NULL));
    SBT_OK(sb_dataset_define_field(ds, "b", SB_FLOAT64, 1, (uint64_t[]){2}));
    SBT_OK(sb_dataset_write_at(ds, 4, 2, cols));
    ck_assert_uint_eq(sb_dataset_size(ds), 0);
    SBT_OK(sb_dataset_write_at(ds, 0, 2, cols));
    /* row 3 was never written: no size may cover it */
    SBT_ERR(sb_dataset_commit_size(ds, 7), SB_ERR_INVALID);
    SBT_MSG_HAS("rows [3, 4)");
    ck_assert_uint_eq(sb_dataset_size(ds), 0);
    sb_array one[2] = {arr(SB_INT32, 1, (uint64_t[]){1}, a), arr(SB_FLOAT64, 2, (uint64_t[]){1, 2}, b)};
    SBT_OK(sb_dataset_write_at(ds, 3, 2, one));
    SBT_OK(sb_dataset_commit_size(ds, 7));
    ck_assert_uint_eq(sb_dataset_size(ds), 7);
    /* committed at once: another process reads the size now */
    ck_assert_int_eq(sbt_disk_size(path, "w"), 7);
    int32_t ra[7];
    SBT_OK(sb_dataset_read(ra, ds, "a", 0, 7));
    const int32_t want[7] = {7, 8, 9, 7, 7, 8, 9};
    ck_assert_mem_eq(ra, want, sizeof want);
    double rb[3][2];
    SBT_OK(sb_dataset_read(rb, ds, "b", 4, 3));
    ck_assert_mem_eq(rb, b, sizeof b);
    /* the size never shrinks and never passes the capacity */
    SBT_OK(sb_dataset_commit_size(ds, 5));
    ck_assert_uint_eq(sb_dataset_size(ds), 7);
    SBT_ERR(sb_dataset_commit_size(ds, 11), SB_ERR_FULL);
    SBT_MSG_HAS("beyond its capacity 10");
    ck_assert_uint_eq(sb_dataset_size(ds), 7);
    /* past the capacity, or another dtype: refused */
    SBT_FAILS(sb_dataset_write_at(ds, 8, 2, cols));
    cols[0].dtype = SB_UINT32;
    SBT_ERR(sb_dataset_write_at(ds, 0, 2, cols), SB_ERR_TYPE);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    int64_t v;
    ck_assert(sbt_raw_attr_i64(path, "w", "_sb_size", &v));
    ck_assert_int_eq(v, 7);
    ck_assert(sbt_raw_row_is_zero(path, "w/a", 9));
}
END_TEST

/* Bytes of one row of F3: int16 (4,), uint8, float32 (2, 3). */
#define F3_ROW_BYTES (8 + 1 + 24)

START_TEST(append_buffer) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 9, 3, F3);
    SBT_OK(sb_dataset_set_append_buffer(ds, 4 * F3_ROW_BYTES));
    append_rows(ds, 0, 3);
    /* Buffered, yet this handle sees them, as Python's size and get do. */
    ck_assert_uint_eq(sb_dataset_pending_rows(ds), 3);
    ck_assert_uint_eq(sb_dataset_size(ds), 3);
    check_rows(ds, 0, 3);
    append_rows(ds, 3, 4); /* fills the buffer: written */
    ck_assert_uint_eq(sb_dataset_pending_rows(ds), 0);
    ck_assert_uint_eq(sb_dataset_size(ds), 4);
    check_rows(ds, 0, 4);
    append_rows(ds, 4, 6);
    ck_assert_uint_eq(sb_dataset_pending_rows(ds), 2);
    check_rows(ds, 2, 6); /* across the file and the buffer */
    sb_array got;
    SBT_OK(sb_dataset_get(&got, ds, 1, (const char *[]){"key"}));
    ck_assert_uint_eq(got.shape[0], 6);
    sb_free(got.data);
    /* a bad row is refused at once, not at flush time */
    int16_t sv[4];
    uint8_t k;
    float m[6];
    sb_array row[3];
    make_row(1, sv, &k, m, row);
    row[1].dtype = SB_INT8;
    SBT_ERR(sb_dataset_append(ds, 3, row), SB_ERR_TYPE);
    ck_assert_uint_eq(sb_dataset_pending_rows(ds), 2);
    SBT_OK(sb_dataset_flush(ds));
    ck_assert_uint_eq(sb_dataset_pending_rows(ds), 0);
    ck_assert_uint_eq(sb_dataset_size(ds), 6);
    check_rows(ds, 0, 6);
    /* changing the buffer writes what it held; 0 is write-through */
    append_rows(ds, 6, 7);
    SBT_OK(sb_dataset_set_append_buffer(ds, 0));
    ck_assert_uint_eq(sb_dataset_pending_rows(ds), 0);
    ck_assert_uint_eq(sb_dataset_size(ds), 7);
    append_rows(ds, 7, 8);
    ck_assert_uint_eq(sb_dataset_pending_rows(ds), 0);
    /* buffered rows count against the capacity */
    SBT_OK(sb_dataset_set_append_buffer(ds, 5 * F3_ROW_BYTES));
    append_rows(ds, 8, 9);
    make_row(9, sv, &k, m, row);
    SBT_ERR(sb_dataset_append(ds, 3, row), SB_ERR_FULL);
    ck_assert_uint_eq(sb_dataset_size(ds), 9);
    /* closing the dataset writes them */
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    s = open_store(SB_READ);
    ds = load(s, "ds_one");
    ck_assert_uint_eq(sb_dataset_size(ds), 9);
    check_rows(ds, 0, 9);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

/* The _sb_size the file on disk holds now: read from a copy, since HDF5
 * would show this process its own cache. */
static int64_t committed_size(const char *name) {
    unsigned char *bytes = NULL;
    size_t len = 0;
    ck_assert(sbt_read_file(path, &bytes, &len));
    char *copy = sbt_join(dir, "snapshot.h5");
    ck_assert(sbt_write_file(copy, bytes, len));
    free(bytes);
    int64_t v = -1;
    ck_assert(sbt_raw_attr_i64(copy, name, "_sb_size", &v));
    remove(copy);
    free(copy);
    return v;
}

/* Appends are buffered by default; a store close, or a store flush, writes
 * them and commits their size. */
START_TEST(default_buffer_and_store_close_flushes) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 9, 3, F3);
    append_rows(ds, 0, 2);
    ck_assert_uint_eq(sb_dataset_pending_rows(ds), 2);
    ck_assert_uint_eq(sb_dataset_size(ds), 2);
    SBT_OK(sb_store_close(s)); /* the dataset handle is still open */
    sb_dataset_close(ds);
    s = open_store(SB_READ);
    ds = load(s, "ds_one");
    ck_assert_uint_eq(sb_dataset_size(ds), 2);
    check_rows(ds, 0, 2);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    /* and sb_store_flush writes buffered rows and commits their size */
    s = open_store(SB_READ_WRITE);
    ds = load(s, "ds_one");
    append_rows(ds, 2, 3);
    ck_assert_uint_eq(sb_dataset_pending_rows(ds), 1);
    ck_assert_int_eq(committed_size("ds_one"), 2); /* not before a commit */
    SBT_OK(sb_store_flush(s));
    ck_assert_uint_eq(sb_dataset_pending_rows(ds), 0);
    ck_assert_uint_eq(sb_dataset_size(ds), 3);
    ck_assert_int_eq(committed_size("ds_one"), 3);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(bad_row_arrays) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 9, 3, F3);
    int16_t sv[4];
    uint8_t k;
    float m[6];
    sb_array row[3];
    make_row(0, sv, &k, m, row);
    row[0].data = NULL;
    SBT_ERR(sb_dataset_append(ds, 3, row), SB_ERR_INVALID);
    make_row(0, sv, &k, m, row);
    row[2].dtype = (sb_dtype)99;
    SBT_ERR(sb_dataset_append(ds, 3, row), SB_ERR_INVALID);
    make_row(0, sv, &k, m, row);
    row[2].ndim = SB_MAX_DIMS + 1;
    SBT_ERR(sb_dataset_append(ds, 3, row), SB_ERR_INVALID);
    make_row(0, sv, &k, m, row);
    row[0].ndim = SB_MAX_DIMS; /* a row of 8 dims does not fit a field of 8 dims + rows */
    SBT_FAILS(sb_dataset_append(ds, 3, row));
    ck_assert_uint_eq(sb_dataset_size(ds), 0);
    sb_field_info fi;
    SBT_OK(sb_dataset_field_info(&fi, ds, 0));
    ck_assert(!fi.defined);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(wrong_field_count_writes_nothing) {
    sb_store *s = open_store(SB_CREATE);
    sb_dataset *ds = create(s, "ds_one", 9, 3, F3);
    append_rows(ds, 0, 1);
    int16_t sv[4];
    uint8_t k;
    float m[6];
    sb_array row[3];
    make_row(1, sv, &k, m, row);
    SBT_ERR(sb_dataset_append(ds, 2, row), SB_ERR_INVALID);
    SBT_MSG_HAS("3 fields");
    SBT_ERR(sb_dataset_append(ds, 4, row), SB_ERR_INVALID);
    sb_array cols[3] = {arr(SB_INT16, 2, (uint64_t[]){1, 4}, sv), arr(SB_UINT8, 1, (uint64_t[]){1}, &k),
                        arr(SB_FLOAT32, 3, (uint64_t[]){1, 2, 3}, m)};
    SBT_ERR(sb_dataset_extend(ds, 2, cols), SB_ERR_INVALID);
    check_nothing_written(s, ds, 1);
    s = open_store(SB_READ_WRITE);
    ds = load(s, "ds_one");
    SBT_OK(sb_dataset_append(ds, 3, row));
    SBT_OK(sb_dataset_extend(ds, 3, cols));
    ck_assert_uint_eq(sb_dataset_size(ds), 3);
    check_rows(ds, 0, 2);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

int main(void) {
    Suite *su = suite_create("dataset");
    TCase *tc = tcase_create("serial");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, getters_and_field_lookup);
    tcase_add_test(tc, first_row_fixes_layout);
    tcase_add_test(tc, append_mismatch_writes_nothing);
    tcase_add_test(tc, extend_mismatch_writes_nothing);
    tcase_add_test(tc, first_row_mismatch_in_extend_defines_nothing);
    tcase_add_test(tc, mismatched_row_counts_write_nothing);
    tcase_add_test(tc, full_writes_nothing);
    tcase_add_test(tc, empty_extend_is_noop);
    tcase_add_test(tc, every_dtype_round_trips);
    tcase_add_test(tc, scalar_and_multidim_rows);
    tcase_add_test(tc, read_ranges);
    tcase_add_test(tc, reset_rewinds);
    tcase_add_test(tc, define_field_rules);
    tcase_add_test(tc, field_larger_than_a_file);
    tcase_add_test(tc, write_at_and_commit_size);
    tcase_add_test(tc, append_buffer);
    tcase_add_test(tc, default_buffer_and_store_close_flushes);
    tcase_add_test(tc, bad_row_arrays);
    tcase_add_test(tc, wrong_field_count_writes_nothing);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
