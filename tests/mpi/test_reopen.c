/* A store written by N ranks loads on every M <= N ranks, on MPI_COMM_SELF
 * and serially; a store written serially loads and grows on N ranks. The file
 * written here is kept (argv[1] = directory) for check_reopen.py (h5py). */
#define _XOPEN_SOURCE 700
#include "mpi_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

/* Same fields, seeds and rounds as check_reopen.py. */
static const mt_field FIELDS[] = {
    {"samples", SB_INT8, 1, {100}},  {"plaintext", SB_UINT8, 1, {16}},
    {"key", SB_UINT8, 1, {16}},      {"t", SB_FLOAT64, 0, {0}},
    {"power", SB_FLOAT32, 2, {2, 5}}, {"valid", SB_BOOL, 0, {0}},
    {"id", SB_INT64, 0, {0}},
};
#define NGEN 7
#define NALL (NGEN + 1) /* + "writer": the rank that wrote the row */

static char out_dir[512];

/* Columns of every field for rows [first, first+n) written by this rank. */
static sb_array *columns(uint64_t first, uint64_t n, int32_t **writer)
{
    sb_array *gen = mt_columns(FIELDS, NGEN, first, n, 0);
    sb_array *all = calloc(NALL, sizeof *all);
    memcpy(all, gen, NGEN * sizeof *all);
    free(gen);
    *writer = malloc((n ? n : 1) * sizeof **writer);
    for (uint64_t i = 0; i < n; i++)
        (*writer)[i] = mt_rank;
    sb_array_wrap(&all[NGEN], SB_INT32, 1, &n, *writer);
    return all;
}

static void free_columns(sb_array *all, int32_t *writer)
{
    mt_columns_free(all, NGEN); /* frees the generic data and the array itself */
    free(writer);
}

static uint64_t total_rows(int n)
{
    uint64_t t = 0;
    for (int r = 0; r < n; r++)
        t += (uint64_t)r * 3 + 1 + (r > 0) + (uint64_t)(n - r);
    return t;
}

/* Writer of every row, in order, for a file written by `n` ranks. */
static int32_t *expected_writers(int n)
{
    int32_t *w = malloc(total_rows(n) * sizeof *w);
    uint64_t k = 0;
    for (int r = 0; r < n; r++)
        for (int i = 0; i < r * 3 + 1; i++)
            w[k++] = r;
    for (int r = 1; r < n; r++)
        w[k++] = r;
    for (int r = 0; r < n; r++)
        for (int i = 0; i < n - r; i++)
            w[k++] = r;
    return w;
}

static void write_file(const char *path)
{
    sb_store_options opts;
    sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION);
    opts.comm = MPI_COMM_WORLD;
    sb_store *st = NULL;
    MT_REQUIRE_OK(sb_store_open(&st, path, SB_CREATE_TRUNCATE, &opts));
    const char *names[NALL];
    for (int i = 0; i < NGEN; i++)
        names[i] = FIELDS[i].name;
    names[NGEN] = "writer";
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(sb_store_create_dataset(&ds, st, "aes/traces", 10 + total_rows(mt_nranks), NALL, names));
    int32_t *w = NULL;
    uint64_t mine = (uint64_t)mt_rank * 3 + 1;
    sb_array *cols = columns(mt_exscan_u64(mine), mine, &w);
    MT_EXPECT_OK(sb_dataset_extend(ds, sb_dataset_nfields(ds), cols));
    free_columns(cols, w);

    /* Appends, rank 0 without a row; the row is a column of one, sliced. */
    uint64_t size = sb_dataset_size(ds);
    cols = columns(size + mt_exscan_u64(mt_rank > 0), 1, &w);
    for (int i = 0; i < NALL; i++) {
        memmove(cols[i].shape, cols[i].shape + 1, (SB_MAX_DIMS - 1) * sizeof cols[i].shape[0]);
        cols[i].ndim--;
    }
    MT_EXPECT_OK(sb_dataset_append(ds, sb_dataset_nfields(ds), mt_rank > 0 ? cols : NULL));
    free_columns(cols, w);

    /* The appended rows are buffered; the extend writes them first. */
    size = sb_dataset_size(ds) + mt_sum_u64(sb_dataset_pending_rows(ds));
    mine = (uint64_t)(mt_nranks - mt_rank);
    cols = columns(size + mt_exscan_u64(mine), mine, &w);
    MT_EXPECT_OK(sb_dataset_extend(ds, sb_dataset_nfields(ds), cols));
    free_columns(cols, w);
    MT_EXPECT(sb_dataset_size(ds) == total_rows(mt_nranks));

    MT_EXPECT_OK(sb_dataset_add_asset_bytes(ds, "raw", "\x00\x01\x02secbench", 11, false));
    float coef[3][2] = {{0.5f, -1}, {2, 3}, {4, 1e-3f}};
    uint64_t shape[2] = {3, 2};
    sb_array arr;
    sb_array_wrap(&arr, SB_FLOAT32, 2, shape, coef);
    MT_EXPECT_OK(sb_dataset_add_asset_array(ds, "coef", &arr, false));
    cJSON *j = cJSON_Parse("{\"ranks\": 0, \"cipher\": \"aes128\", \"rounds\": [1, 10]}");
    cJSON_SetNumberValue(cJSON_GetObjectItem(j, "ranks"), mt_nranks);
    MT_EXPECT_OK(sb_dataset_add_json_asset(ds, "conf", j, false));
    cJSON_Delete(j);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
}

/* Local: everything written by `n` ranks is in the dataset. */
static void check_dataset(sb_dataset *ds, int n)
{
    uint64_t total = total_rows(n);
    MT_EXPECT_MSG(sb_dataset_size(ds) == total, "size %llu, wanted %llu",
                  (unsigned long long)sb_dataset_size(ds), (unsigned long long)total);
    MT_EXPECT(sb_dataset_capacity(ds) == total + 10);
    MT_EXPECT(sb_dataset_nfields(ds) == NALL);
    for (int i = 0; i < NGEN && (size_t)i < sb_dataset_nfields(ds); i++)
        MT_EXPECT(strcmp(sb_dataset_field(ds, (size_t)i), FIELDS[i].name) == 0);
    mt_check_rows(ds, FIELDS, NGEN, 0, total, 0);
    int32_t *want = expected_writers(n), *got = calloc(total, sizeof *got);
    MT_EXPECT_OK(sb_dataset_read(got, ds, "writer", 0, total));
    MT_EXPECT_MSG(memcmp(want, got, total * sizeof *got) == 0, "rows are not in rank order");
    free(want);
    free(got);
    void *data = NULL;
    size_t len = 0;
    MT_EXPECT_OK(sb_dataset_get_asset_bytes(&data, &len, ds, "raw"));
    MT_EXPECT(len == 11 && data && memcmp(data, "\x00\x01\x02secbench", 11) == 0);
    sb_free(data);
    cJSON *j = NULL;
    MT_EXPECT_OK(sb_dataset_get_json_asset(&j, ds, "conf"));
    MT_EXPECT(j && cJSON_GetObjectItem(j, "ranks") &&
              cJSON_GetObjectItem(j, "ranks")->valueint == n);
    cJSON_Delete(j);
    sb_array arr;
    memset(&arr, 0, sizeof arr);
    MT_EXPECT_OK(sb_dataset_get_asset_array(&arr, ds, "coef"));
    MT_EXPECT(arr.dtype == SB_FLOAT32 && arr.ndim == 2 && arr.shape[0] == 3);
    sb_free(arr.data);
}

/* Open on `comm` (MPI_COMM_NULL: serial) and check; collective on comm. */
static void check_file(const char *path, MPI_Comm comm, int n)
{
    sb_store_options opts;
    sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION);
    opts.comm = comm;
    sb_store *st = NULL;
    int rc = sb_store_open(&st, path, SB_READ, &opts);
    MT_EXPECT_MSG(rc == 0, "open %s: %s", path, sb_last_error_message());
    if (rc != 0)
        return;
    MT_EXPECT(sb_store_is_parallel(st) == (comm != MPI_COMM_NULL));
    sb_dataset *ds = NULL;
    rc = sb_store_load_dataset(&ds, st, "aes/traces");
    MT_EXPECT_MSG(rc == 0, "load: %s", sb_last_error_message());
    if (rc == 0) {
        check_dataset(ds, n);
        MT_EXPECT_OK(sb_dataset_close(ds));
    }
    MT_EXPECT_OK(sb_store_close(st));
}

START_TEST(test_written_by_n_read_by_m)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/written_np%d.h5", out_dir, mt_nranks);
    write_file(path);
    check_file(path, MPI_COMM_WORLD, mt_nranks);
    /* Fewer ranks than wrote it: the first M ranks open it on their own. */
    for (int m = 1; m < mt_nranks; m++) {
        MPI_Comm sub = MPI_COMM_NULL;
        MPI_Comm_split(MPI_COMM_WORLD, mt_rank < m ? 0 : MPI_UNDEFINED, mt_rank, &sub);
        if (sub != MPI_COMM_NULL) {
            check_file(path, sub, mt_nranks);
            MPI_Comm_free(&sub);
        }
        MPI_Barrier(MPI_COMM_WORLD);
    }
    if (mt_rank == 0) {
        check_file(path, MPI_COMM_SELF, mt_nranks);
        check_file(path, MPI_COMM_NULL, mt_nranks);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    mt_end();
}
END_TEST

START_TEST(test_written_serially_grown_in_parallel)
{
    char path[640];
    mt_path(path, sizeof path, "serial");
    const uint64_t first = 37;
    if (mt_rank == 0) {
        sb_store *st = NULL;
        MT_EXPECT_OK(sb_store_open(&st, path, SB_CREATE_TRUNCATE, NULL));
        sb_dataset *ds = NULL;
        if (st)
            MT_EXPECT_OK(mt_create(st, "s", 200, FIELDS, NGEN, &ds));
        if (ds) {
            sb_array *cols = mt_columns(FIELDS, NGEN, 0, first, 0);
            MT_EXPECT_OK(sb_dataset_extend(ds, sb_dataset_nfields(ds), cols));
            mt_columns_free(cols, NGEN);
            MT_EXPECT_OK(sb_dataset_add_asset_bytes(ds, "note", "serial", 6, false));
            MT_EXPECT_OK(sb_dataset_close(ds));
        }
        if (st)
            MT_EXPECT_OK(sb_store_close(st));
    }
    MT_REQUIRE(mt_local_failures == 0);
    sb_store *st = NULL;
    MT_REQUIRE_OK(mt_open(&st, "serial", SB_READ_WRITE));
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, st, "s"));
    MT_EXPECT(sb_dataset_size(ds) == first);
    mt_check_rows(ds, FIELDS, NGEN, 0, first, 0);
    uint64_t mine = (uint64_t)mt_rank + 2;
    sb_array *cols = mt_columns(FIELDS, NGEN, first + mt_exscan_u64(mine), mine, 0);
    MT_EXPECT_OK(sb_dataset_extend(ds, sb_dataset_nfields(ds), cols));
    mt_columns_free(cols, NGEN);
    uint64_t size = first + mt_sum_u64(mine);
    MT_EXPECT(sb_dataset_size(ds) == size);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    if (mt_rank == 0) {
        MT_EXPECT_OK(sb_store_open(&st, path, SB_READ, NULL));
        if (st) {
            MT_EXPECT_OK(sb_store_load_dataset(&ds, st, "s"));
            if (ds) {
                MT_EXPECT(sb_dataset_size(ds) == size);
                mt_check_rows(ds, FIELDS, NGEN, 0, size, 0);
                MT_EXPECT_OK(sb_dataset_close(ds));
            }
            MT_EXPECT_OK(sb_store_close(st));
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    mt_end();
}
END_TEST

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    snprintf(out_dir, sizeof out_dir, "%s", argc > 1 ? argv[1] : mt_tmpdir);
    if (mt_rank == 0 && mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        perror(out_dir);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    Suite *s = suite_create("mpi_reopen");
    TCase *tc = mt_tcase("reopen");
    tcase_add_test(tc, test_written_by_n_read_by_m);
    tcase_add_test(tc, test_written_serially_grown_in_parallel);
    suite_add_tcase(s, tc);
    return mt_run(s);
}
