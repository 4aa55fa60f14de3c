/* Chunked parallel export: chunk sizes that do not divide the size, shrink,
 * new names, assets, empty and never-written datasets, stores that differ in
 * alignment, the progress callback. */
#include "mpi_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const mt_field TRACE[] = {
    {"samples", SB_INT16, 1, {8}},
    {"plaintext", SB_UINT8, 1, {16}},
    {"label", SB_INT32, 0, {0}},
};
#define NTRACE 3
#define SRC_SIZE 300
#define SRC_CAP 360
#define SMALL_SIZE 41
#define SMALL_CAP 45

static void add_assets(sb_dataset *ds)
{
    unsigned char raw[300];
    mt_fill(SB_UINT8, raw, 0, 1, sizeof raw, 9);
    MT_EXPECT_OK(sb_dataset_add_asset_bytes(ds, "raw", raw, sizeof raw, false));
    float coef[3][2] = {{1, 2}, {3, 4}, {5, 6.5f}};
    uint64_t shape[2] = {3, 2};
    sb_array arr;
    sb_array_wrap(&arr, SB_FLOAT32, 2, shape, coef);
    MT_EXPECT_OK(sb_dataset_add_asset_array(ds, "coef", &arr, false));
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "scope", "picoscope 6404");
    cJSON_AddNumberToObject(j, "rate", 5e9);
    MT_EXPECT_OK(sb_dataset_add_json_asset(ds, "conf", j, false));
    cJSON_Delete(j);
}

static void check_assets(sb_dataset *ds)
{
    char **names = NULL;
    size_t count = 0;
    MT_EXPECT_OK(sb_dataset_asset_names(&names, &count, ds));
    MT_EXPECT_MSG(count == 3, "%zu assets in the copy %s", count, sb_dataset_name(ds));
    sb_free(names);
    unsigned char raw[300];
    mt_fill(SB_UINT8, raw, 0, 1, sizeof raw, 9);
    void *data = NULL;
    size_t len = 0;
    MT_EXPECT_OK(sb_dataset_get_asset_bytes(&data, &len, ds, "raw"));
    MT_EXPECT(len == sizeof raw && data && memcmp(data, raw, len) == 0);
    sb_free(data);
    sb_array arr;
    memset(&arr, 0, sizeof arr);
    MT_EXPECT_OK(sb_dataset_get_asset_array(&arr, ds, "coef"));
    float coef[3][2] = {{1, 2}, {3, 4}, {5, 6.5f}};
    MT_EXPECT(arr.dtype == SB_FLOAT32 && arr.ndim == 2 && arr.shape[0] == 3 &&
              arr.shape[1] == 2 && arr.data && memcmp(arr.data, coef, sizeof coef) == 0);
    sb_free(arr.data);
    cJSON *j = NULL;
    MT_EXPECT_OK(sb_dataset_get_json_asset(&j, ds, "conf"));
    const cJSON *rate = j ? cJSON_GetObjectItemCaseSensitive(j, "rate") : NULL;
    MT_EXPECT(cJSON_IsNumber(rate) && rate->valuedouble == 5e9);
    cJSON_Delete(j);
}

/* The source: SRC_SIZE rows from uneven extends, assets, plus an "empty"
 * dataset (fields defined, no rows) and a "blank" one (never written). */
static void make_source(void)
{
    static bool made = false;
    if (made)
        return;
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "source", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_create(st, "src", SRC_CAP, TRACE, NTRACE, &ds));
    uint64_t done = 0;
    for (int round = 0; done < SRC_SIZE; round++) {
        uint64_t want = (uint64_t)(mt_rank * 13 + round * 29) % 97 + 1;
        uint64_t total = mt_sum_u64(want), before = mt_exscan_u64(want);
        /* The last round trims to exactly SRC_SIZE rows. */
        uint64_t left = SRC_SIZE - done, mine = want;
        if (total > left)
            mine = before >= left ? 0 : (before + want > left ? left - before : want);
        sb_array *cols = mt_columns(TRACE, NTRACE, done + before, mine, 0);
        MT_EXPECT_OK(sb_dataset_extend(ds, sb_dataset_nfields(ds), cols));
        mt_columns_free(cols, NTRACE);
        done = sb_dataset_size(ds);
        MT_REQUIRE(done <= SRC_SIZE && round < 1000);
    }
    add_assets(ds);
    MT_EXPECT_OK(sb_dataset_close(ds));
    /* "small": the first SMALL_SIZE rows of "src", written by the last rank alone. */
    MT_REQUIRE_OK(mt_create(st, "small", SMALL_CAP, TRACE, NTRACE, &ds));
    uint64_t mine = mt_rank == mt_nranks - 1 ? SMALL_SIZE : 0;
    sb_array *cols = mt_columns(TRACE, NTRACE, 0, mine, 0);
    MT_EXPECT_OK(sb_dataset_extend(ds, sb_dataset_nfields(ds), cols));
    mt_columns_free(cols, NTRACE);
    add_assets(ds);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_REQUIRE_OK(mt_create(st, "empty", 50, TRACE, NTRACE, &ds));
    for (size_t i = 0; i < NTRACE; i++)
        MT_EXPECT_OK(sb_dataset_define_field(ds, TRACE[i].name, TRACE[i].dtype,
                                             TRACE[i].row_ndim, TRACE[i].row_shape));
    add_assets(ds);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_REQUIRE_OK(mt_create(st, "blank", 40, TRACE, NTRACE, &ds));
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    made = true;
}

/* Load `name` from `st` and check it is a faithful copy of the source. */
static void check_copy(sb_store *st, const char *name, uint64_t size, uint64_t capacity,
                       bool assets)
{
    sb_dataset *ds = NULL;
    int rc = sb_store_load_dataset(&ds, st, name);
    MT_EXPECT_MSG(rc == 0, "load of the copy %s: %s", name, sb_last_error_message());
    if (rc != 0)
        return;
    MT_EXPECT_MSG(sb_dataset_size(ds) == size, "%s: size %llu, wanted %llu", name,
                  (unsigned long long)sb_dataset_size(ds), (unsigned long long)size);
    MT_EXPECT_MSG(sb_dataset_capacity(ds) == capacity, "%s: capacity %llu, wanted %llu", name,
                  (unsigned long long)sb_dataset_capacity(ds), (unsigned long long)capacity);
    MT_EXPECT(sb_dataset_nfields(ds) == NTRACE);
    for (size_t i = 0; i < NTRACE && i < sb_dataset_nfields(ds); i++) {
        const char *f = sb_dataset_field(ds, i);
        MT_EXPECT_MSG(f && strcmp(f, TRACE[i].name) == 0, "%s: field %zu is %s", name, i,
                      f ? f : "(null)");
    }
    mt_check_rows(ds, TRACE, NTRACE, 0, size, 0);
    if (assets)
        check_assets(ds);
    MT_EXPECT_MSG(!sb_dataset_is_incomplete(ds), "%s: a finished copy is marked incomplete",
                  name);
    MT_EXPECT(mt_all(!sb_dataset_is_incomplete(ds)));
    MT_EXPECT_OK(sb_dataset_close(ds));
}

START_TEST(test_chunk_sizes)
{
    make_source();
    sb_store *src = NULL, *dst = NULL;
    MT_REQUIRE_OK(mt_open(&src, "source", SB_READ));
    MT_REQUIRE_OK(mt_open(&dst, "chunks", SB_CREATE_TRUNCATE));
    struct { uint64_t chunk; bool shrink; } cases[] = {
        {7, true}, {SRC_SIZE, true}, {5000, false}, {SRC_SIZE - 1, true}, {64, false},
        {SRC_SIZE + 1, true}, {111, false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char name[64];
        snprintf(name, sizeof name, "copy/chunk%llu", (unsigned long long)cases[c].chunk);
        int rc = sb_store_export_dataset(src, "src", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = name, .shrink = cases[c].shrink, .chunk_size = cases[c].chunk});
        MT_EXPECT_MSG(rc == 0, "export with chunk %llu: %s", (unsigned long long)cases[c].chunk,
                      sb_last_error_message());
        MT_EXPECT(mt_same_int(rc));
        check_copy(dst, name, SRC_SIZE, cases[c].shrink ? SRC_SIZE : SRC_CAP, true);
    }
    /* Tiny chunks cost one collective round per chunk: a smaller source. */
    struct { uint64_t chunk; bool shrink; } tiny[] = {{1, false}, {3, true}, {2, true}};
    for (size_t c = 0; c < sizeof tiny / sizeof tiny[0]; c++) {
        char name[64];
        snprintf(name, sizeof name, "copy/small%llu", (unsigned long long)tiny[c].chunk);
        MT_EXPECT_OK(sb_store_export_dataset(src, "small", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = name, .shrink = tiny[c].shrink, .chunk_size = tiny[c].chunk}));
        check_copy(dst, name, SMALL_SIZE, tiny[c].shrink ? SMALL_SIZE : SMALL_CAP, true);
    }
    /* No new name: the copy keeps the source's. */
    MT_EXPECT_OK(sb_store_export_dataset(src, "src", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = 77}));
    check_copy(dst, "src", SRC_SIZE, SRC_SIZE, true);
    /* The name is taken now: refused everywhere, the copy left alone. */
    int rc = sb_store_export_dataset(src, "src", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = false, .chunk_size = 77});
    MT_EXPECT_MSG(rc == SB_ERR_EXISTS, "export onto an existing name: %s", sb_error_name(rc));
    MT_EXPECT(mt_same_int(rc));
    check_copy(dst, "src", SRC_SIZE, SRC_SIZE, true);
    MT_EXPECT_OK(sb_store_close(dst));
    MT_EXPECT_OK(sb_store_close(src));

    /* Everything is still there after reopening, on every rank. */
    MT_REQUIRE_OK(mt_open(&dst, "chunks", SB_READ));
    char **names = NULL;
    size_t count = 0;
    MT_EXPECT_OK(sb_store_dataset_names(&names, &count, dst));
    MT_EXPECT_MSG(count == 11, "%zu datasets in the destination", count);
    sb_free(names);
    check_copy(dst, "copy/chunk7", SRC_SIZE, SRC_SIZE, true);
    check_copy(dst, "copy/small1", SMALL_SIZE, SMALL_CAP, true);
    MT_EXPECT_OK(sb_store_close(dst));

    /* In the file itself, as another reader sees it: every rank removed the
     * export's _sb_incomplete, and the last flush wrote that. */
    char cmd[2048], path[640];
    mt_path(path, sizeof path, "chunks");
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import sys, h5py\n"
             "f = h5py.File(sys.argv[1], 'r')\n"
             "ds = []\n"
             "f.visititems(lambda n, o: ds.append(n) if o.attrs.get('_sb_is_dataset') else None)\n"
             "left = [n for n in ds if '_sb_incomplete' in f[n].attrs]\n"
             "sys.exit(0 if len(ds) == 11 and not left else print('datasets', ds, 'marked', left) "
             "or 1)\" '%s'",
             path);
    int status = mt_root_system(cmd);
    MT_EXPECT_MSG(status == 0, "h5py found _sb_incomplete on a finished copy (status %d)", status);
    mt_end();
}
END_TEST

START_TEST(test_export_same_store)
{
    make_source();
    sb_store *st = NULL;
    /* A writable copy of the source, exported into itself under a new name. */
    MT_REQUIRE_OK(mt_open(&st, "source", SB_READ));
    sb_store *dst = NULL;
    MT_REQUIRE_OK(mt_open(&dst, "same", SB_CREATE_TRUNCATE));
    MT_EXPECT_OK(sb_store_export_dataset(st, "src", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = false, .chunk_size = 100}));
    MT_EXPECT_OK(sb_store_close(st));
    MT_EXPECT_OK(sb_store_export_dataset(dst, "src", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "again", .shrink = true, .chunk_size = 33}));
    check_copy(dst, "again", SRC_SIZE, SRC_SIZE, true);
    check_copy(dst, "src", SRC_SIZE, SRC_CAP, true);
    MT_EXPECT_OK(sb_store_close(dst));
    mt_end();
}
END_TEST

typedef struct progress_log {
    uint64_t calls, last_done, total, bad_order, bad_total;
} progress_log;

static void on_progress(uint64_t done, uint64_t total, void *payload)
{
    progress_log *log = payload;
    if (log->calls && done <= log->last_done)
        log->bad_order++;
    if (log->calls && total != log->total)
        log->bad_total++;
    log->calls++;
    log->last_done = done;
    log->total = total;
}

START_TEST(test_progress)
{
    make_source();
    sb_store *src = NULL, *dst = NULL;
    MT_REQUIRE_OK(mt_open(&src, "source", SB_READ));
    MT_REQUIRE_OK(mt_open(&dst, "progress", SB_CREATE_TRUNCATE));
    progress_log log;
    memset(&log, 0, sizeof log);
    sb_export_options opts;
    sb_export_options_init(&opts, SB_EXPORT_OPTIONS_VERSION);
    MT_EXPECT(opts.shrink && opts.chunk_size == SB_EXPORT_DEFAULT_CHUNK && !opts.new_name);
    opts.new_name = "p";
    opts.chunk_size = 29;
    opts.progress = on_progress;
    opts.progress_payload = &log;
    MT_EXPECT_OK(sb_store_export_dataset(src, "src", dst, &opts));
    uint64_t chunks = (SRC_SIZE + 28) / 29;
    if (mt_rank == 0) {
        MT_EXPECT_MSG(log.calls >= 1 && log.calls <= chunks, "%llu progress calls",
                      (unsigned long long)log.calls);
        MT_EXPECT_MSG(log.bad_order == 0, "progress went backwards or stood still");
        MT_EXPECT_MSG(log.bad_total == 0, "progress total changed");
        MT_EXPECT_MSG(log.last_done == SRC_SIZE && log.total == SRC_SIZE,
                      "progress ended at %llu of %llu", (unsigned long long)log.last_done,
                      (unsigned long long)log.total);
    } else {
        MT_EXPECT_MSG(log.calls == 0, "progress called %llu times on rank %d",
                      (unsigned long long)log.calls, mt_rank);
    }
    check_copy(dst, "p", SRC_SIZE, SRC_SIZE, true);

    /* Options with shrink off and the progress of an empty export. */
    memset(&log, 0, sizeof log);
    opts.new_name = "pe";
    opts.shrink = false;
    MT_EXPECT_OK(sb_store_export_dataset(src, "empty", dst, &opts));
    check_copy(dst, "pe", 0, 50, true);
    MT_EXPECT(log.calls == 0 || (log.last_done == 0 && log.total == 0));
    MT_EXPECT_OK(sb_store_close(dst));
    MT_EXPECT_OK(sb_store_close(src));
    mt_end();
}
END_TEST

START_TEST(test_empty_and_blank)
{
    make_source();
    sb_store *src = NULL, *dst = NULL;
    MT_REQUIRE_OK(mt_open(&src, "source", SB_READ));
    MT_REQUIRE_OK(mt_open(&dst, "empties", SB_CREATE_TRUNCATE));
    MT_EXPECT_OK(sb_store_export_dataset(src, "empty", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "e_shrunk", .shrink = true, .chunk_size = 10}));
    MT_EXPECT_OK(sb_store_export_dataset(src, "empty", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "e_full", .shrink = false, .chunk_size = 10}));
    MT_EXPECT_OK(sb_store_export_dataset(src, "blank", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "b_shrunk", .shrink = true, .chunk_size = 10}));
    MT_EXPECT_OK(sb_store_export_dataset(src, "blank", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "b_full", .shrink = false, .chunk_size = 1}));
    MT_EXPECT_OK(sb_store_close(dst));
    MT_EXPECT_OK(sb_store_close(src));

    MT_REQUIRE_OK(mt_open(&dst, "empties", SB_READ_WRITE));
    /* Python's shrink: capacity = size, here 0. */
    check_copy(dst, "e_shrunk", 0, 0, true);
    check_copy(dst, "e_full", 0, 50, true);
    const char *blank[] = {"b_shrunk", "b_full"};
    for (int k = 0; k < 2; k++) {
        sb_dataset *ds = NULL;
        MT_REQUIRE_OK(sb_store_load_dataset(&ds, dst, blank[k]));
        MT_EXPECT(sb_dataset_size(ds) == 0);
        MT_EXPECT(sb_dataset_capacity(ds) == (k == 0 ? 0u : 40u));
        MT_EXPECT_MSG(sb_dataset_nfields(ds) == NTRACE, "%s: %zu fields", blank[k],
                      sb_dataset_nfields(ds));
        for (size_t i = 0; i < sb_dataset_nfields(ds) && i < NTRACE; i++) {
            sb_field_info info;
            MT_EXPECT_OK(sb_dataset_field_info(&info, ds, i));
            MT_EXPECT(strcmp(info.name, TRACE[i].name) == 0 && !info.defined);
        }
        if (k == 1) {
            /* The never-written copy is still a usable dataset. */
            uint64_t mine = mt_rank == 0 ? 2 : 1;
            sb_array *cols = mt_columns(TRACE, NTRACE, mt_exscan_u64(mine), mine, 0);
            MT_EXPECT_OK(sb_dataset_extend(ds, sb_dataset_nfields(ds), cols));
            mt_columns_free(cols, NTRACE);
            mt_check_rows(ds, TRACE, NTRACE, 0, (uint64_t)mt_nranks + 1, 0);
        }
        MT_EXPECT_OK(sb_dataset_close(ds));
    }
    MT_EXPECT_OK(sb_store_close(dst));
    mt_end();
}
END_TEST

static int open_aligned(sb_store **st, const char *name, sb_open_mode mode, uint64_t align)
{
    char path[640];
    mt_path(path, sizeof path, name);
    sb_store_options opts;
    sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION);
    opts.comm = MPI_COMM_WORLD;
    opts.alignment = align;
    opts.alignment_threshold = 1;
    return sb_store_open(st, path, mode, &opts);
}

START_TEST(test_alignment)
{
    make_source();
    sb_store *src = NULL, *dst = NULL;
    MT_REQUIRE_OK(mt_open(&src, "source", SB_READ));
    MT_REQUIRE_OK(open_aligned(&dst, "aligned", SB_CREATE_TRUNCATE, 4096));
    MT_EXPECT_OK(sb_store_export_dataset(src, "src", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "a7", .shrink = true, .chunk_size = 37}));
    MT_EXPECT_OK(sb_store_export_dataset(src, "src", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "a256", .shrink = false, .chunk_size = 256}));
    check_copy(dst, "a7", SRC_SIZE, SRC_SIZE, true);
    MT_EXPECT_OK(sb_store_close(src));

    /* And back from the aligned store into one with other MPI-IO hints. */
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "cb_buffer_size", "65536");
    MPI_Info_set(info, "romio_cb_write", "enable");
    char ppath[640];
    mt_path(ppath, sizeof ppath, "unaligned");
    sb_store_options popts;
    sb_store_options_init(&popts, SB_STORE_OPTIONS_VERSION);
    popts.comm = MPI_COMM_WORLD;
    popts.info = info;
    sb_store *plain = NULL;
    int prc = sb_store_open(&plain, ppath, SB_CREATE_TRUNCATE, &popts);
    MPI_Info_free(&info); /* the store keeps its own copy */
    MT_REQUIRE(prc == 0);
    MT_EXPECT_OK(sb_store_export_dataset(dst, "a256", plain, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "back", .shrink = true, .chunk_size = 13}));
    check_copy(plain, "back", SRC_SIZE, SRC_SIZE, true);
    MT_EXPECT_OK(sb_store_close(plain));
    MT_EXPECT_OK(sb_store_close(dst));

    MT_REQUIRE_OK(mt_open(&dst, "aligned", SB_READ));
    check_copy(dst, "a256", SRC_SIZE, SRC_CAP, true);
    MT_EXPECT_OK(sb_store_close(dst));

    /* The alignment really reached the file: every field starts on 4096. */
    char cmd[2048], path[640];
    mt_path(path, sizeof path, "aligned");
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import sys, h5py\n"
             "f = h5py.File(sys.argv[1], 'r')\n"
             "offs = [f[d][k].id.get_offset() for d in ('a7', 'a256') for k in "
             "('samples', 'plaintext', 'label')]\n"
             "sys.exit(0 if all(o is not None and o %% 4096 == 0 for o in offs) else "
             "print('offsets', offs) or 1)\" '%s'",
             path);
    int status = mt_root_system(cmd);
    MT_EXPECT_MSG(status == 0, "h5py found unaligned fields (status %d)", status);
    mt_end();
}
END_TEST

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    Suite *s = suite_create("mpi_export");
    TCase *tc = mt_tcase("export");
    tcase_add_test(tc, test_chunk_sizes);
    tcase_add_test(tc, test_export_same_store);
    tcase_add_test(tc, test_progress);
    tcase_add_test(tc, test_empty_and_blank);
    tcase_add_test(tc, test_alignment);
    suite_add_tcase(s, tc);
    return mt_run(s);
}
