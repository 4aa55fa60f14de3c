/* Store: open modes with Python's meaning, temporary stores, dataset
 * creation, listing, filtering and iteration. A plain serial program: it never
 * calls MPI_Init, and checks at the end of each test that nothing did. */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <secbench/storage.h>

#include "sbt_raw.h"
#include "sbt_util.h"

static char *dir;

static void setup(void) { dir = sbt_mkdtemp("store"); }

static void teardown(void) {
    int init = 1;
    MPI_Initialized(&init);
    sbt_rmtree(dir);
    free(dir);
    /* Serial use must need no MPI: nothing in the library may have started it. */
    ck_assert_msg(init == 0, "the library called MPI_Init in a serial program");
}

static sb_dataset *create(sb_store *s, const char *name, uint64_t cap, size_t n,
                          const char *const *fields) {
    sb_dataset *ds = NULL;
    SBT_OK(sb_store_create_dataset(&ds, s, name, cap, n, fields));
    ck_assert_ptr_nonnull(ds);
    return ds;
}

static void append_i32(sb_dataset *ds, int32_t v) {
    sb_array a;
    SBT_OK(sb_array_wrap(&a, SB_INT32, 0, NULL, &v));
    SBT_OK(sb_dataset_append(ds, 1, &a));
}

static const char *const ONE[] = {"x"};

/* ---- open modes --------------------------------------------------------- */

START_TEST(mode_parse_and_string) {
    static const struct { const char *text; sb_open_mode mode; } ok[] = {
        {"r", SB_READ}, {"r+", SB_READ_WRITE}, {"w", SB_CREATE_TRUNCATE},
        {"w-", SB_CREATE}, {"x", SB_CREATE}, {"a", SB_READ_WRITE_CREATE}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sb_open_mode m = (sb_open_mode)99;
        SBT_OK(sb_open_mode_parse(&m, ok[i].text));
        ck_assert_int_eq(m, ok[i].mode);
    }
    static const char *const bad[] = {"", "R", "rw", "w+", "a+", "r ", "read", "-"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sb_open_mode m = SB_READ_WRITE;
        SBT_ERR(sb_open_mode_parse(&m, bad[i]), SB_ERR_INVALID);
        ck_assert_int_eq(m, SB_READ_WRITE);
    }
    sb_open_mode m;
    SBT_ERR(sb_open_mode_parse(&m, NULL), SB_ERR_INVALID);
    SBT_ERR(sb_open_mode_parse(NULL, "r"), SB_ERR_INVALID);
    ck_assert_str_eq(sb_open_mode_string(SB_READ), "r");
    ck_assert_str_eq(sb_open_mode_string(SB_READ_WRITE), "r+");
    ck_assert_str_eq(sb_open_mode_string(SB_CREATE_TRUNCATE), "w");
    ck_assert_str_eq(sb_open_mode_string(SB_CREATE), "w-");
    ck_assert_str_eq(sb_open_mode_string(SB_READ_WRITE_CREATE), "a");
    ck_assert_ptr_null(sb_open_mode_string((sb_open_mode)42));
    /* parse(string(m)) == m for every mode */
    for (int i = SB_READ; i <= SB_READ_WRITE_CREATE; i++) {
        SBT_OK(sb_open_mode_parse(&m, sb_open_mode_string((sb_open_mode)i)));
        ck_assert_int_eq(m, i);
    }
}
END_TEST

START_TEST(read_modes_need_existing_file) {
    char *path = sbt_join(dir, "missing.h5");
    sb_store *s = (sb_store *)&s;
    SBT_ERR(sb_store_open(&s, path, SB_READ, NULL), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("missing.h5");
    SBT_ERR(sb_store_open(&s, path, SB_READ_WRITE, NULL), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("missing.h5");
    ck_assert(!sbt_exists(path));
    free(path);
}
END_TEST

START_TEST(mode_r_is_read_only) {
    sb_store *s = sbt_open(dir, "a.h5", SB_CREATE);
    sb_dataset *ds = create(s, "d", 4, 1, ONE);
    append_i32(ds, 7);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));

    s = sbt_open(dir, "a.h5", SB_READ);
    ck_assert_int_eq(sb_store_mode(s), SB_READ);
    SBT_OK(sb_store_load_dataset(&ds, s, "d"));
    ck_assert_uint_eq(sb_dataset_size(ds), 1);
    int32_t v = 9;
    sb_array a;
    SBT_OK(sb_array_wrap(&a, SB_INT32, 0, NULL, &v));
    SBT_ERR(sb_dataset_append(ds, 1, &a), SB_ERR_READ_ONLY);
    SBT_ERR(sb_dataset_extend(ds, 1, &a), SB_ERR_READ_ONLY);
    SBT_ERR(sb_dataset_reset(ds), SB_ERR_READ_ONLY);
    SBT_ERR(sb_dataset_add_asset_bytes(ds, "b", "xy", 2, false), SB_ERR_READ_ONLY);
    sb_dataset *other = NULL;
    SBT_ERR(sb_store_create_dataset(&other, s, "e", 3, 1, ONE), SB_ERR_READ_ONLY);
    ck_assert_uint_eq(sb_dataset_size(ds), 1);
    int32_t back = 0;
    SBT_OK(sb_dataset_read(&back, ds, "x", 0, 1));
    ck_assert_int_eq(back, 7);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(mode_r_plus_writes_existing) {
    sb_store *s = sbt_open(dir, "a.h5", SB_CREATE_TRUNCATE);
    sb_dataset *ds = create(s, "d", 4, 1, ONE);
    append_i32(ds, 1);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));

    s = sbt_open(dir, "a.h5", SB_READ_WRITE);
    SBT_OK(sb_store_load_dataset(&ds, s, "d"));
    append_i32(ds, 2);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));

    s = sbt_open(dir, "a.h5", SB_READ);
    SBT_OK(sb_store_load_dataset(&ds, s, "d"));
    ck_assert_uint_eq(sb_dataset_size(ds), 2);
    int32_t back[2];
    SBT_OK(sb_dataset_read(back, ds, "x", 0, 2));
    ck_assert_int_eq(back[0], 1);
    ck_assert_int_eq(back[1], 2);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(mode_w_truncates) {
    sb_store *s = sbt_open(dir, "a.h5", SB_CREATE_TRUNCATE);
    SBT_OK(sb_dataset_close(create(s, "d", 4, 1, ONE)));
    SBT_OK(sb_store_close(s));

    s = sbt_open(dir, "a.h5", SB_CREATE_TRUNCATE);
    char **names = NULL;
    size_t n = 99;
    SBT_OK(sb_store_dataset_names(&names, &n, s));
    ck_assert_uint_eq(n, 0);
    sb_free(names);
    bool exists = true;
    SBT_OK(sb_store_has_dataset(&exists, s, "d"));
    ck_assert(!exists);
    /* the old name is free again */
    SBT_OK(sb_dataset_close(create(s, "d", 2, 1, ONE)));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(mode_w_dash_refuses_existing) {
    sb_store *s = sbt_open(dir, "a.h5", SB_CREATE);
    SBT_OK(sb_dataset_close(create(s, "keep", 4, 1, ONE)));
    SBT_OK(sb_store_close(s));

    char *path = sbt_join(dir, "a.h5");
    unsigned char *before, *after;
    size_t lb, la;
    ck_assert(sbt_read_file(path, &before, &lb));
    SBT_ERR(sb_store_open(&s, path, SB_CREATE, NULL), SB_ERR_EXISTS);
    SBT_MSG_HAS("a.h5");
    ck_assert(sbt_read_file(path, &after, &la));
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(before, after, lb);
    free(before);
    free(after);
    /* a file that is not HDF5 is not overwritten either */
    char *junk = sbt_join(dir, "junk.h5");
    ck_assert(sbt_write_file(junk, "hello", 5));
    SBT_ERR(sb_store_open(&s, junk, SB_CREATE, NULL), SB_ERR_EXISTS);
    free(junk);
    free(path);
}
END_TEST

START_TEST(mode_a_opens_or_creates) {
    char *path = sbt_join(dir, "a.h5");
    ck_assert(!sbt_exists(path));
    sb_store *s = sbt_open(dir, "a.h5", SB_READ_WRITE_CREATE);
    ck_assert(sbt_exists(path));
    sb_dataset *ds = create(s, "d", 4, 1, ONE);
    append_i32(ds, 5);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));

    s = sbt_open(dir, "a.h5", SB_READ_WRITE_CREATE);
    SBT_OK(sb_store_load_dataset(&ds, s, "d"));
    ck_assert_uint_eq(sb_dataset_size(ds), 1);
    append_i32(ds, 6);
    ck_assert_uint_eq(sb_dataset_size(ds), 2);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    free(path);
}
END_TEST

START_TEST(open_not_hdf5_is_format_error) {
    char *path = sbt_join(dir, "text.h5");
    ck_assert(sbt_write_file(path, "this is not an HDF5 file\n", 25));
    sb_store *s;
    SBT_ERR(sb_store_open(&s, path, SB_READ, NULL), SB_ERR_FORMAT);
    SBT_MSG_HAS("text.h5");
    SBT_ERR(sb_store_open(&s, path, SB_READ_WRITE, NULL), SB_ERR_FORMAT);
    SBT_ERR(sb_store_open(&s, path, SB_READ_WRITE_CREATE, NULL), SB_ERR_FORMAT);
    unsigned char *data;
    size_t len;
    ck_assert(sbt_read_file(path, &data, &len));
    ck_assert_uint_eq(len, 25);
    ck_assert_mem_eq(data, "this is not an HDF5 file\n", 25);
    free(data);
    free(path);
}
END_TEST

START_TEST(open_damaged_hdf5_is_format_error) {
    /* the HDF5 signature is there, the rest of the file is cut off */
    sb_store *s = sbt_open(dir, "cut.h5", SB_CREATE);
    sb_dataset *ds;
    SBT_OK(sb_store_create_dataset(&ds, s, "d", 100, 1, (const char *const[]){"x"}));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    char *path = sbt_join(dir, "cut.h5");
    unsigned char *data;
    size_t len;
    ck_assert(sbt_read_file(path, &data, &len));
    ck_assert_uint_gt(len, 200);
    ck_assert(sbt_write_file(path, data, 200));
    free(data);
    SBT_ERR(sb_store_open(&s, path, SB_READ, NULL), SB_ERR_FORMAT);
    SBT_MSG_HAS("cut.h5");
    SBT_ERR(sb_store_open(&s, path, SB_READ_WRITE, NULL), SB_ERR_FORMAT);
    SBT_ERR(sb_store_open(&s, path, SB_CREATE, NULL), SB_ERR_EXISTS);
    free(path);
}
END_TEST

START_TEST(open_bad_arguments) {
    sb_store *s;
    SBT_ERR(sb_store_open(&s, NULL, SB_READ, NULL), SB_ERR_INVALID);
    SBT_ERR(sb_store_open(&s, "", SB_CREATE, NULL), SB_ERR_INVALID);
    SBT_ERR(sb_store_open(NULL, "x.h5", SB_CREATE, NULL), SB_ERR_INVALID);
    char *path = sbt_join(dir, "m.h5");
    SBT_ERR(sb_store_open(&s, path, (sb_open_mode)17, NULL), SB_ERR_INVALID);
    ck_assert(!sbt_exists(path));
    char *nodir = sbt_join(dir, "no/such/folder/x.h5");
    SBT_FAILS(sb_store_open(&s, nodir, SB_CREATE, NULL));
    free(nodir);
    /* A dangling symbolic link: "w-" refuses to follow it, and says why. */
    char *link = sbt_join(dir, "dangling.h5");
    char *target = sbt_join(dir, "nowhere/target.h5");
    ck_assert_int_eq(symlink(target, link), 0);
    SBT_FAILS(sb_store_open(&s, link, SB_CREATE, NULL));
    SBT_MSG_HAS("symbolic link");
    free(target);
    free(link);
    free(path);
}
END_TEST

START_TEST(options_and_getters) {
    sb_store_options o;
    memset(&o, 0xab, sizeof o);
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    ck_assert_uint_eq(o.version, SB_STORE_OPTIONS_VERSION);
    ck_assert(o.comm == MPI_COMM_NULL);
    ck_assert(o.info == MPI_INFO_NULL);
    ck_assert_uint_eq(o.alignment, 0);
    ck_assert(o.collective_metadata);
    ck_assert(!o.fsync);
    ck_assert_int_eq(o.locking, SB_AUTO);
    ck_assert_int_eq(o.collective_reads, SB_AUTO);
    ck_assert_int_eq(o.collective_writes, SB_AUTO);
    ck_assert_uint_eq(o.meta_block_size, 0);
    ck_assert_uint_eq(o.sieve_buffer_size, 0);

    char *path = sbt_join(dir, "g.h5");
    o.fsync = true;
    sb_store *s = NULL;
    SBT_OK(sb_store_open(&s, path, SB_CREATE, &o));
    ck_assert_str_eq(sb_store_path(s), path);
    ck_assert_int_eq(sb_store_mode(s), SB_CREATE);
    ck_assert(!sb_store_is_parallel(s));
    ck_assert(!sb_store_is_temporary(s));
    ck_assert_int_eq(sb_store_rank(s), 0);
    ck_assert_int_eq(sb_store_nranks(s), 1);
    sb_dataset *ds = create(s, "d", 3, 1, ONE);
    ck_assert_ptr_eq(sb_dataset_store(ds), s);
    append_i32(ds, 3);
    SBT_OK(sb_store_flush(s));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));

    for (int lock = 0; lock <= 1; lock++) {
        o.locking = lock ? SB_AUTO : SB_NO;
        SBT_OK(sb_store_open(&s, path, SB_READ, &o));
        SBT_OK(sb_store_load_dataset(&ds, s, "d"));
        ck_assert_uint_eq(sb_dataset_size(ds), 1);
        SBT_OK(sb_dataset_close(ds));
        SBT_OK(sb_store_close(s));
    }
    o.version = 0;
    SBT_ERR(sb_store_open(&s, path, SB_READ, &o), SB_ERR_INVALID);
    o.version = SB_STORE_OPTIONS_VERSION + 1; /* a newer header than this library */
    SBT_ERR(sb_store_open(&s, path, SB_READ, &o), SB_ERR_INVALID);
    SBT_MSG_HAS("sb_store_options_init");
    SBT_ERR(sb_store_options_init(&o, 0), SB_ERR_INVALID);
    SBT_MSG_HAS("sb_store_options_init: unknown version 0");
    SBT_ERR(sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION + 1), SB_ERR_INVALID);
    SBT_MSG_HAS("unknown version");
    SBT_ERR(sb_store_options_init(NULL, SB_STORE_OPTIONS_VERSION), SB_ERR_INVALID);
    SBT_MSG_HAS("sb_store_options_init: opts is NULL");
    sb_export_options eo;
    memset(&eo, 0x5a, sizeof eo);
    SBT_ERR(sb_export_options_init(&eo, SB_EXPORT_OPTIONS_VERSION + 1), SB_ERR_INVALID);
    SBT_MSG_HAS("sb_export_options_init: unknown version");
    ck_assert_uint_eq(eo.version, 0x5a5a5a5au); /* a refused init writes nothing */
    SBT_ERR(sb_export_options_init(NULL, SB_EXPORT_OPTIONS_VERSION), SB_ERR_INVALID);
    SBT_MSG_HAS("sb_export_options_init: opts is NULL");
    SBT_OK(sb_export_options_init(&eo, SB_EXPORT_OPTIONS_VERSION));
    ck_assert_uint_eq(eo.version, SB_EXPORT_OPTIONS_VERSION);
    ck_assert(eo.shrink);
    ck_assert_uint_gt(eo.chunk_size, 0);
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    o.collective_writes = (sb_choice)7;
    SBT_ERR(sb_store_open(&s, path, SB_READ, &o), SB_ERR_INVALID);
    SBT_MSG_HAS("SB_AUTO");
    free(path);
}
END_TEST

START_TEST(alignment_option) {
    sb_store_options o;
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    o.alignment = 65536;
    o.alignment_threshold = 1;
    char *path = sbt_join(dir, "aligned.h5");
    sb_store *s = NULL;
    SBT_OK(sb_store_open(&s, path, SB_CREATE, &o));
    const char *const f2[] = {"x", "y"};
    sb_dataset *ds = create(s, "d", 5, 2, f2);
    int32_t x[3] = {1, 2, 3};
    uint8_t y[3] = {4, 5, 6};
    sb_array cols[2];
    SBT_OK(sb_array_wrap(&cols[0], SB_INT32, 1, (uint64_t[]){3}, x));
    SBT_OK(sb_array_wrap(&cols[1], SB_UINT8, 1, (uint64_t[]){3}, y));
    SBT_OK(sb_dataset_extend(ds, 2, cols));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    const char *names[] = {"d/x", "d/y"};
    for (int i = 0; i < 2; i++) {
        hid_t d = H5Dopen2(f, names[i], H5P_DEFAULT);
        haddr_t off = H5Dget_offset(d);
        ck_assert_msg(off != HADDR_UNDEF && off % 65536 == 0, "%s at offset %llu", names[i],
                      (unsigned long long)off);
        H5Dclose(d);
    }
    H5Fclose(f);
    free(path);
}
END_TEST

/* ---- temporary stores --------------------------------------------------- */

static void fill_temporary(sb_store *s) {
    ck_assert(sb_store_is_temporary(s));
    ck_assert(!sb_store_is_parallel(s));
    sb_dataset *ds = create(s, "aes/traces", 8, 1, ONE);
    for (int i = 0; i < 5; i++)
        append_i32(ds, i * 3);
    SBT_OK(sb_dataset_add_asset_bytes(ds, "note", "abc", 3, false));
    SBT_OK(sb_store_flush(s));
    int32_t back[5];
    SBT_OK(sb_dataset_read(back, ds, "x", 0, 5));
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(back[i], i * 3);
    char **names;
    size_t n;
    SBT_OK(sb_store_dataset_names(&names, &n, s));
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(names[0], "aes/traces");
    sb_free(names);
    SBT_OK(sb_dataset_close(ds));
}

START_TEST(temporary_never_touches_existing_file) {
    /* an HDF5 store and a non-HDF5 file both stay byte-identical */
    sb_store *s = sbt_open(dir, "real.h5", SB_CREATE);
    SBT_OK(sb_dataset_close(create(s, "on_disk", 4, 1, ONE)));
    SBT_OK(sb_store_close(s));
    char *real = sbt_join(dir, "real.h5");
    char *junk = sbt_join(dir, "junk.bin");
    ck_assert(sbt_write_file(junk, "\x00\x01junk", 6));
    const char *paths[] = {real, junk};
    for (int k = 0; k < 2; k++) {
        unsigned char *before, *after;
        size_t lb, la;
        ck_assert(sbt_read_file(paths[k], &before, &lb));
        SBT_OK(sb_store_temporary(&s, paths[k]));
        fill_temporary(s);
        /* the file's own dataset is not visible: the store starts empty in memory */
        bool exists = true;
        SBT_OK(sb_store_has_dataset(&exists, s, "on_disk"));
        ck_assert(!exists);
        SBT_OK(sb_store_close(s));
        ck_assert(sbt_read_file(paths[k], &after, &la));
        ck_assert_uint_eq(la, lb);
        ck_assert_mem_eq(before, after, lb);
        free(before);
        free(after);
    }
    ck_assert_int_eq(sbt_count_entries(dir), 2);
    free(real);
    free(junk);
}
END_TEST

START_TEST(temporary_creates_no_file) {
    char *path = sbt_join(dir, "ghost.h5");
    sb_store *s;
    SBT_OK(sb_store_temporary(&s, path));
    fill_temporary(s);
    ck_assert_str_eq(sb_store_path(s), path);
    SBT_OK(sb_store_close(s));
    ck_assert(!sbt_exists(path));
    /* twice with one label: two stores, no collision, nothing on disk */
    sb_store *t;
    SBT_OK(sb_store_temporary(&s, path));
    SBT_OK(sb_store_temporary(&t, path));
    fill_temporary(s);
    fill_temporary(t);
    SBT_OK(sb_store_close(t));
    SBT_OK(sb_store_close(s));
    ck_assert(!sbt_exists(path));
    ck_assert_int_eq(sbt_count_entries(dir), 0);
    /* a relative label, as Python allows, creates nothing in the working dir either */
    SBT_OK(sb_store_temporary(&s, "sbtest-label-only"));
    fill_temporary(s);
    SBT_OK(sb_store_close(s));
    ck_assert(!sbt_exists("sbtest-label-only"));
    free(path);
}
END_TEST

START_TEST(two_temporaries_same_name_are_independent) {
    sb_store *a, *b;
    SBT_OK(sb_store_temporary(&a, "same"));
    SBT_OK(sb_store_temporary(&b, "same"));
    SBT_OK(sb_dataset_close(create(a, "only_in_a", 2, 1, ONE)));
    bool exists = true;
    SBT_OK(sb_store_has_dataset(&exists, b, "only_in_a"));
    ck_assert(!exists);
    SBT_OK(sb_store_close(a));
    SBT_OK(sb_store_close(b));
}
END_TEST

/* ---- create / load / list ---------------------------------------------- */

START_TEST(create_errors) {
    sb_store *s = sbt_open(dir, "c.h5", SB_CREATE);
    sb_dataset *ds = create(s, "campaign", 4, 1, ONE);
    sb_dataset *other = (sb_dataset *)&other;
    SBT_ERR(sb_store_create_dataset(&other, s, "campaign", 4, 1, ONE), SB_ERR_EXISTS);
    SBT_MSG_HAS("campaign");
    SBT_ERR(sb_store_create_dataset(&other, s, "nofields", 4, 0, NULL), SB_ERR_INVALID);
    SBT_MSG_HAS("nofields");
    const char *const dup[] = {"plaintext", "key", "plaintext"};
    SBT_ERR(sb_store_create_dataset(&other, s, "dup", 4, 3, dup), SB_ERR_INVALID);
    SBT_MSG_HAS("plaintext");
    const char *const empty_field[] = {"a", ""};
    SBT_ERR(sb_store_create_dataset(&other, s, "ef", 4, 2, empty_field), SB_ERR_INVALID);
    const char *const null_field[] = {"a", NULL};
    SBT_ERR(sb_store_create_dataset(&other, s, "nf", 4, 2, null_field), SB_ERR_INVALID);
    SBT_ERR(sb_store_create_dataset(&other, s, "", 4, 1, ONE), SB_ERR_INVALID);
    SBT_ERR(sb_store_create_dataset(&other, s, NULL, 4, 1, ONE), SB_ERR_INVALID);
    SBT_ERR(sb_store_create_dataset(&other, s, "a//b", 4, 1, ONE), SB_ERR_INVALID);
    SBT_ERR(sb_store_create_dataset(NULL, s, "x", 4, 1, ONE), SB_ERR_INVALID);
    /* A name that takes the place of a field without rows yet ("x" of
     * "campaign", or a path through it). */
    SBT_ERR(sb_store_create_dataset(&other, s, "campaign/x", 4, 1, ONE), SB_ERR_EXISTS);
    SBT_MSG_HAS("field");
    SBT_ERR(sb_store_create_dataset(&other, s, "campaign/x/deeper", 4, 1, ONE), SB_ERR_EXISTS);
    /* nothing half-made stays behind */
    char **names;
    size_t n;
    SBT_OK(sb_store_dataset_names(&names, &n, s));
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(names[0], "campaign");
    sb_free(names);
    /* The field still takes its first row. */
    append_i32(ds, 3);
    SBT_OK(sb_dataset_flush(ds));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

/* Removing a dataset takes nothing else with it: one that holds other
 * datasets (nested names) is refused, naming one, and stays as it was. */
START_TEST(remove_keeps_nested_datasets) {
    sb_store *s = sbt_open(dir, "rm.h5", SB_CREATE);
    sb_dataset *outer = create(s, "outer", 4, 1, ONE);
    sb_dataset *inner = create(s, "outer/sub", 4, 1, ONE);
    append_i32(inner, 5);
    SBT_OK(sb_dataset_close(inner));
    SBT_OK(sb_dataset_close(outer));
    SBT_ERR(sb_store_remove_dataset(s, "outer"), SB_ERR_INVALID);
    SBT_MSG_HAS("outer/sub");
    char **names;
    size_t n;
    SBT_OK(sb_store_dataset_names(&names, &n, s));
    ck_assert_uint_eq(n, 2);
    sb_free(names);
    /* Inside first, then the outer one. */
    SBT_OK(sb_store_remove_dataset(s, "outer/sub"));
    SBT_OK(sb_store_remove_dataset(s, "outer"));
    SBT_OK(sb_store_dataset_names(&names, &n, s));
    ck_assert_uint_eq(n, 0);
    sb_free(names);
    SBT_ERR(sb_store_remove_dataset(s, "outer"), SB_ERR_NOT_FOUND);
    SBT_OK(sb_store_close(s));
}
END_TEST

/* A dataset with an open handle is not removed under it; a removal is
 * committed at once (another process no longer finds the group). */
START_TEST(remove_refuses_open_and_commits_at_once) {
    sb_store *s = sbt_open(dir, "rmo.h5", SB_CREATE);
    sb_dataset *ds = create(s, "held", 4, 1, ONE);
    append_i32(ds, 7);
    SBT_OK(sb_dataset_close(create(s, "gone", 4, 1, ONE)));
    SBT_OK(sb_store_flush(s));
    char path[1024], out[8192];
    snprintf(path, sizeof path, "%s/rmo.h5", dir);
    ck_assert_int_eq(sbt_disk_dump(path, "-H -g /gone", out, sizeof out), 0);
    SBT_ERR(sb_store_remove_dataset(s, "held"), SB_ERR_INVALID);
    SBT_MSG_HAS("close its handle first");
    ck_assert_uint_eq(sb_dataset_size(ds), 1); /* the handle still works */
    append_i32(ds, 8);
    SBT_OK(sb_store_remove_dataset(s, "gone"));
    ck_assert_int_ne(sbt_disk_dump(path, "-H -g /gone", out, sizeof out), 0);
    ck_assert_int_eq(sbt_disk_dump(path, "-H -g /held", out, sizeof out), 0);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_remove_dataset(s, "held"));
    SBT_OK(sb_store_close(s));
}
END_TEST

/* A directory is not a store, whatever the mode. */
START_TEST(directory_is_refused) {
    static const sb_open_mode modes[] = {SB_READ, SB_READ_WRITE, SB_CREATE_TRUNCATE,
                                         SB_CREATE, SB_READ_WRITE_CREATE};
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/folder.h5", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        sb_store *s = (sb_store *)&s;
        int rc = sb_store_open(&s, sub, modes[i], NULL);
        ck_assert_msg(rc == SB_ERR_INVALID, "mode %s: %s", sb_open_mode_string(modes[i]),
                      sb_error_name(rc));
        ck_assert_ptr_null(s);
        SBT_MSG_HAS("folder.h5");
        SBT_MSG_HAS("Is a directory");
    }
    struct stat st;
    ck_assert_int_eq(stat(sub, &st), 0);
    ck_assert(S_ISDIR(st.st_mode)); /* still there */
}
END_TEST

START_TEST(load_missing_and_non_datasets) {
    sb_store *s = sbt_open(dir, "l.h5", SB_CREATE);
    SBT_OK(sb_dataset_close(create(s, "aes/traces", 4, 1, ONE)));
    sb_dataset *ds = (sb_dataset *)&ds;
    SBT_ERR(sb_store_load_dataset(&ds, s, "nope"), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("nope");
    /* an intermediate group is not a dataset */
    SBT_ERR(sb_store_load_dataset(&ds, s, "aes"), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("aes");
    SBT_ERR(sb_store_load_dataset(&ds, s, "aes/traces/x"), SB_ERR_NOT_FOUND);
    SBT_ERR(sb_store_load_dataset(&ds, s, "aes/nope/deeper"), SB_ERR_NOT_FOUND);
    bool exists = true;
    SBT_OK(sb_store_has_dataset(&exists, s, "aes"));
    ck_assert(!exists);
    SBT_OK(sb_store_has_dataset(&exists, s, "nope/x"));
    ck_assert(!exists);
    SBT_OK(sb_store_has_dataset(&exists, s, "aes/traces"));
    ck_assert(exists);
    SBT_OK(sb_store_load_dataset(&ds, s, "aes/traces"));
    ck_assert_str_eq(sb_dataset_name(ds), "aes/traces");
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

static const char *const SORTED_NAMES[] = {"a", "aes/traces", "aes/traces2", "b/c/d", "zeta"};

static sb_store *store_with_many(void) {
    sb_store *s = sbt_open(dir, "m.h5", SB_CREATE);
    /* created out of order, capacities 10*(index in SORTED_NAMES + 1) */
    const int order[] = {4, 1, 0, 3, 2};
    for (int k = 0; k < 5; k++) {
        int i = order[k];
        sb_dataset *ds = create(s, SORTED_NAMES[i], 10 * (uint64_t)(i + 1), 1, ONE);
        for (int r = 0; r < i; r++)
            append_i32(ds, r);
        SBT_OK(sb_dataset_close(ds));
    }
    return s;
}

START_TEST(names_sorted_nested) {
    sb_store *s = store_with_many();
    for (int pass = 0; pass < 2; pass++) {
        char **names = NULL;
        size_t n = 0;
        SBT_OK(sb_store_dataset_names(&names, &n, s));
        ck_assert_uint_eq(n, 5);
        for (size_t i = 0; i < n; i++)
            ck_assert_str_eq(names[i], SORTED_NAMES[i]);
        sb_free(names);
        SBT_OK(sb_store_close(s));
        s = sbt_open(dir, "m.h5", SB_READ);
    }
    SBT_OK(sb_store_close(s));
}
END_TEST

/* Python's datasets(callback) with a filter: a visitor that keeps some. */
typedef struct kept {
    int calls;
    size_t n;
    char names[8][32];
    uint64_t min_capacity;
    bool nonempty_a;
} kept;

static int keep(const sb_dataset_info *info, void *payload) {
    kept *k = payload;
    k->calls++;
    ck_assert_ptr_nonnull(info->name);
    ck_assert(!info->damaged);
    bool want = info->capacity >= k->min_capacity &&
                (!k->nonempty_a || (info->size > 0 && info->name[0] == 'a'));
    if (want)
        snprintf(k->names[k->n++], sizeof k->names[0], "%s", info->name);
    return 0;
}

START_TEST(datasets_with_filter) {
    sb_store *s = store_with_many();
    kept k = {0, 0, {{0}}, 30, false};
    SBT_OK(sb_store_foreach_dataset(s, keep, &k));
    ck_assert_int_eq(k.calls, 5);
    ck_assert_uint_eq(k.n, 3);
    ck_assert_str_eq(k.names[0], "aes/traces2");
    ck_assert_str_eq(k.names[1], "b/c/d");
    ck_assert_str_eq(k.names[2], "zeta");
    k = (kept){0, 0, {{0}}, 0, true};
    SBT_OK(sb_store_foreach_dataset(s, keep, &k));
    ck_assert_uint_eq(k.n, 2);
    ck_assert_str_eq(k.names[0], "aes/traces");
    ck_assert_str_eq(k.names[1], "aes/traces2");
    char **names;
    size_t n;
    SBT_OK(sb_store_dataset_names(&names, &n, s));
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(names[i], SORTED_NAMES[i]);
    sb_free(names);
    SBT_OK(sb_store_close(s));
}
END_TEST

typedef struct walk { int seen; int stop_at; } walk;

static int visit(const sb_dataset_info *info, void *payload) {
    walk *w = payload;
    ck_assert_str_eq(info->name, SORTED_NAMES[w->seen]);
    ck_assert_uint_eq(info->capacity, 10 * (uint64_t)(w->seen + 1));
    ck_assert_uint_eq(info->size, (uint64_t)w->seen);
    w->seen++;
    return w->seen == w->stop_at ? 42 : 0;
}

START_TEST(foreach_in_order_and_stops) {
    sb_store *s = store_with_many();
    walk w = {0, -1};
    SBT_OK(sb_store_foreach_dataset(s, visit, &w));
    ck_assert_int_eq(w.seen, 5);
    w = (walk){0, 2};
    ck_assert_int_eq(sb_store_foreach_dataset(s, visit, &w), 42);
    ck_assert_int_eq(w.seen, 2);
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(empty_store_lists_nothing) {
    sb_store *s = sbt_open(dir, "e.h5", SB_CREATE);
    char **names = NULL;
    size_t n = 7;
    SBT_OK(sb_store_dataset_names(&names, &n, s));
    ck_assert_uint_eq(n, 0);
    sb_free(names);
    walk w = {0, -1};
    SBT_OK(sb_store_foreach_dataset(s, visit, &w));
    ck_assert_int_eq(w.seen, 0);
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(created_never_written_reloads_fields) {
    sb_store *s = sbt_open(dir, "n.h5", SB_CREATE);
    const char *const f3[] = {"samples", "plaintext", "key"};
    SBT_OK(sb_dataset_close(create(s, "fresh", 6, 3, f3)));
    SBT_OK(sb_store_close(s));

    s = sbt_open(dir, "n.h5", SB_READ_WRITE);
    sb_dataset *ds;
    SBT_OK(sb_store_load_dataset(&ds, s, "fresh"));
    ck_assert_uint_eq(sb_dataset_nfields(ds), 3);
    ck_assert_uint_eq(sb_dataset_capacity(ds), 6);
    ck_assert_uint_eq(sb_dataset_size(ds), 0);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(sb_dataset_field(ds, i), f3[i]);
        sb_field_info fi;
        SBT_OK(sb_dataset_field_info(&fi, ds, i));
        ck_assert(!fi.defined);
    }
    int16_t samples[4] = {1, -2, 3, -4};
    uint8_t pt[2] = {9, 8};
    uint8_t key = 5;
    sb_array row[3];
    SBT_OK(sb_array_wrap(&row[0], SB_INT16, 1, (uint64_t[]){4}, samples));
    SBT_OK(sb_array_wrap(&row[1], SB_UINT8, 1, (uint64_t[]){2}, pt));
    SBT_OK(sb_array_wrap(&row[2], SB_UINT8, 0, NULL, &key));
    SBT_OK(sb_dataset_append(ds, 3, row));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));

    s = sbt_open(dir, "n.h5", SB_READ);
    SBT_OK(sb_store_load_dataset(&ds, s, "fresh"));
    ck_assert_uint_eq(sb_dataset_size(ds), 1);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(sb_dataset_field(ds, i), f3[i]);
    int16_t back[4];
    SBT_OK(sb_dataset_read(back, ds, "samples", 0, 1));
    ck_assert_mem_eq(back, samples, sizeof samples);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(closed_store_leaves_closed_handles) {
    sb_store *s = sbt_open(dir, "h.h5", SB_CREATE);
    sb_dataset *ds = create(s, "d", 4, 1, ONE);
    append_i32(ds, 1);
    SBT_OK(sb_store_close(s));
    int32_t v = 2, back;
    sb_array a;
    SBT_OK(sb_array_wrap(&a, SB_INT32, 0, NULL, &v));
    SBT_FAILS(sb_dataset_append(ds, 1, &a));
    SBT_FAILS(sb_dataset_extend(ds, 1, &a));
    SBT_FAILS(sb_dataset_read(&back, ds, "x", 0, 1));
    SBT_FAILS(sb_dataset_reset(ds));
    SBT_FAILS(sb_dataset_flush(ds));
    SBT_FAILS(sb_dataset_add_asset_bytes(ds, "a", "b", 1, false));
    sb_array got;
    SBT_FAILS(sb_dataset_get(&got, ds, 1, (const char *[]){"x"}));
    char **names;
    size_t n;
    SBT_FAILS(sb_dataset_asset_names(&names, &n, ds));
    ck_assert_ptr_null(sb_dataset_store(ds));
    sb_dataset_close(ds);

    /* the rows written before the close are in the file */
    s = sbt_open(dir, "h.h5", SB_READ);
    SBT_OK(sb_store_load_dataset(&ds, s, "d"));
    ck_assert_uint_eq(sb_dataset_size(ds), 1);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
}
END_TEST

START_TEST(null_handles_are_errors) {
    SBT_ERR(sb_store_close(NULL), SB_ERR_INVALID);
    SBT_ERR(sb_store_flush(NULL), SB_ERR_INVALID);
    sb_dataset *ds;
    SBT_ERR(sb_store_load_dataset(&ds, NULL, "x"), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_append(NULL, 0, NULL), SB_ERR_INVALID);
    SBT_ERR(sb_dataset_close(NULL), SB_ERR_INVALID);
    char **names;
    size_t n;
    SBT_ERR(sb_store_dataset_names(&names, &n, NULL), SB_ERR_INVALID);
}
END_TEST


/* ---- a group whose names are damaged ---------------------------------- */

/* Docs/reliability.md finding 10: a metadata flush that fails half-way can
 * leave a symbol-table entry whose name never reached the group's local heap.
 * Simulated here by spoiling one name in the heap: "acq1" becomes "\x01cq1",
 * which sorts before "acq0" and sends HDF5's binary search for "acq0" astray. */
static bool spoil_name(const char *path, const char *name) {
    unsigned char *data = NULL;
    size_t len = 0;
    if (!sbt_read_file(path, &data, &len))
        return false;
    size_t n = strlen(name) + 1, hits = 0, at = 0;
    /* In a local heap a name follows the zero padding of the one before
     * (the extension attribute packs field names without it). */
    for (size_t i = 1; i + n <= len; i++)
        if (data[i - 1] == 0 && memcmp(data + i, name, n) == 0) {
            hits++;
            at = i;
        }
    bool ok = hits == 1;
    if (ok) {
        data[at] = 0x01;
        ok = sbt_write_file(path, data, len);
    }
    free(data);
    return ok;
}

/* Spoils `spoiled`, then checks the premise: HDF5 itself no longer finds
 * the intact `hidden` by its name. */
static void spoil_and_hide(const char *path, const char *spoiled, const char *hidden) {
    ck_assert_msg(spoil_name(path, spoiled), "the name '%s' is not stored once in %s", spoiled,
                  path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    H5E_BEGIN_TRY { ck_assert_int_le(H5Lexists(f, hidden, H5P_DEFAULT), 0); } H5E_END_TRY;
    H5Fclose(f);
}


START_TEST(damaged_names_still_reach_the_rows) {
    char *p = sbt_join(dir, "damaged.h5");
    sb_store *s = NULL;
    SBT_OK(sb_store_open(&s, p, SB_CREATE_TRUNCATE, NULL));
    for (int k = 0; k < 2; k++) {
        char name[8];
        snprintf(name, sizeof name, "acq%d", k);
        sb_dataset *ds = create(s, name, 10, 1, ONE);
        for (int32_t v = 0; v < 5; v++)
            append_i32(ds, 100 * k + v);
        SBT_OK(sb_dataset_close(ds));
    }
    SBT_OK(sb_store_close(s));
    spoil_and_hide(p, "acq1", "acq0");

    SBT_OK(sb_store_open(&s, p, SB_READ, NULL));
    bool exists = false;
    SBT_OK(sb_store_has_dataset(&exists, s, "acq0"));
    ck_assert(exists);
    sb_dataset *ds = NULL;
    SBT_OK(sb_store_load_dataset(&ds, s, "acq0"));
    ck_assert(sb_dataset_found_by_walk(ds));
    ck_assert_uint_eq(sb_dataset_size(ds), 5);
    int32_t rows[5];
    SBT_OK(sb_dataset_read(rows, ds, "x", 0, 5));
    for (int32_t v = 0; v < 5; v++)
        ck_assert_int_eq(rows[v], v);
    SBT_OK(sb_dataset_close(ds));
    /* Listed under its name. The spoiled name is what the file now says
     * acq1 is called: listed too, and loads under it (its rows can be
     * rescued as well). */
    char **names = NULL;
    size_t n = 0;
    SBT_OK(sb_store_dataset_names(&names, &n, s));
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(names[0], "\x01" "cq1");
    ck_assert_str_eq(names[1], "acq0");
    SBT_OK(sb_store_load_dataset(&ds, s, names[0]));
    SBT_OK(sb_dataset_read(rows, ds, "x", 0, 5));
    ck_assert_int_eq(rows[0], 100);
    SBT_OK(sb_dataset_close(ds));
    sb_free(names);
    SBT_ERR(sb_store_load_dataset(&ds, s, "nothing"), SB_ERR_NOT_FOUND);

    /* The way out: export to a new store, where every name is sound. */
    char *q = sbt_join(dir, "rescued.h5");
    sb_store *out = NULL;
    SBT_OK(sb_store_open(&out, q, SB_CREATE_TRUNCATE, NULL));
    SBT_OK(sb_store_export_dataset(s, "acq0", out, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 100}));
    SBT_OK(sb_store_close(out));
    SBT_OK(sb_store_close(s));
    SBT_OK(sb_store_open(&out, q, SB_READ, NULL));
    SBT_OK(sb_store_load_dataset(&ds, out, "acq0"));
    ck_assert(!sb_dataset_found_by_walk(ds));
    SBT_OK(sb_dataset_read(rows, ds, "x", 0, 5));
    ck_assert_int_eq(rows[4], 4);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(out));
    free(q);
    free(p);
}
END_TEST

/* The same inside a dataset's group: a spoiled field name hides the field
 * next to it, which the load used to leave out without a word. */
START_TEST(damaged_field_names_still_reach_the_rows) {
    char *p = sbt_join(dir, "damaged_fields.h5");
    sb_store *s = NULL;
    SBT_OK(sb_store_open(&s, p, SB_CREATE_TRUNCATE, NULL));
    static const char *const FIELDS[] = {"alpha", "bravo"};
    sb_dataset *ds = create(s, "fx", 10, 2, FIELDS);
    int32_t a[3] = {7, 8, 9}, b[3] = {-1, -2, -3};
    uint64_t shape[1] = {3};
    sb_array cols[2];
    SBT_OK(sb_array_wrap(&cols[0], SB_INT32, 1, shape, a));
    SBT_OK(sb_array_wrap(&cols[1], SB_INT32, 1, shape, b));
    SBT_OK(sb_dataset_extend(ds, 2, cols));
    SBT_OK(sb_dataset_add_asset_bytes(ds, "notes", "hello", 5, false));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    spoil_and_hide(p, "bravo", "fx/alpha");

    SBT_OK(sb_store_open(&s, p, SB_READ, NULL));
    SBT_OK(sb_store_load_dataset(&ds, s, "fx"));
    ck_assert(sb_dataset_found_by_walk(ds));
    /* (bravo is there under its spoiled name; its declared name, from the
     * extension attribute, has no field behind it.) */
    ck_assert_str_eq(sb_dataset_field(ds, 0), "alpha");
    int32_t rows[3];
    SBT_OK(sb_dataset_read(rows, ds, "alpha", 0, 3));
    ck_assert_int_eq(rows[0], 7);
    ck_assert_int_eq(rows[2], 9);
    void *bytes = NULL;
    size_t len = 0;
    SBT_OK(sb_dataset_get_asset_bytes(&bytes, &len, ds, "notes"));
    ck_assert_uint_eq(len, 5);
    ck_assert(memcmp(bytes, "hello", 5) == 0);
    sb_free(bytes);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    free(p);
}
END_TEST

int main(void) {
    Suite *su = suite_create("store");
    TCase *tc = tcase_create("serial");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, mode_parse_and_string);
    tcase_add_test(tc, read_modes_need_existing_file);
    tcase_add_test(tc, mode_r_is_read_only);
    tcase_add_test(tc, mode_r_plus_writes_existing);
    tcase_add_test(tc, mode_w_truncates);
    tcase_add_test(tc, mode_w_dash_refuses_existing);
    tcase_add_test(tc, mode_a_opens_or_creates);
    tcase_add_test(tc, open_not_hdf5_is_format_error);
    tcase_add_test(tc, open_damaged_hdf5_is_format_error);
    tcase_add_test(tc, open_bad_arguments);
    tcase_add_test(tc, options_and_getters);
    tcase_add_test(tc, remove_refuses_open_and_commits_at_once);
    tcase_add_test(tc, directory_is_refused);
    tcase_add_test(tc, alignment_option);
    tcase_add_test(tc, temporary_never_touches_existing_file);
    tcase_add_test(tc, temporary_creates_no_file);
    tcase_add_test(tc, two_temporaries_same_name_are_independent);
    tcase_add_test(tc, create_errors);
    tcase_add_test(tc, remove_keeps_nested_datasets);
    tcase_add_test(tc, load_missing_and_non_datasets);
    tcase_add_test(tc, names_sorted_nested);
    tcase_add_test(tc, datasets_with_filter);
    tcase_add_test(tc, foreach_in_order_and_stops);
    tcase_add_test(tc, empty_store_lists_nothing);
    tcase_add_test(tc, created_never_written_reloads_fields);
    tcase_add_test(tc, closed_store_leaves_closed_handles);
    tcase_add_test(tc, null_handles_are_errors);
    tcase_add_test(tc, damaged_names_still_reach_the_rows);
    tcase_add_test(tc, damaged_field_names_still_reach_the_rows);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
