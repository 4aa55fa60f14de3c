/* Export memory stays bounded: exporting a dataset 64 times larger than one
 * chunk must not grow any rank's peak RSS by more than a chunk plus a fixed
 * margin (it would grow by the dataset, or by a rank's share of it, if a rank
 * held more than one chunk at a time). */
#include "mpi_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Freed chunk buffers must really be freed for RSS to mean anything: under
 * AddressSanitizer the quarantine would keep every one of them. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=0:detect_leaks=0";
}

#define ROW_ELEMS 2048                            /* int16 samples: 4 KiB a row */
#define ROW_BYTES (ROW_ELEMS * 2)
#define CHUNK_ROWS 256                            /* 1 MiB a chunk */
#define DATASET_ROWS (64 * CHUNK_ROWS)            /* 64 MiB */
#define MARGIN_BYTES (8ull << 20)

/* Peak resident set (VmHWM) in bytes, from /proc/self/status. */
static uint64_t peak_rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    unsigned long long kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return (uint64_t)kib * 1024;
}

/* Start a new peak at the current RSS (Linux >= 4.0), so that memory the
 * process touched earlier cannot hide growth during the export. */
static bool reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return false;
    bool ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* The meter itself: touching `bytes` of new memory must show as growth, or
 * a passing bound would prove nothing. */
static uint64_t metered_growth_of_touching(size_t bytes)
{
    reset_peak();
    bool reset = reset_peak();
    MT_EXPECT_MSG(reset, "cannot reset the peak RSS through /proc/self/clear_refs");
    uint64_t before = peak_rss();
    volatile unsigned char *p = malloc(bytes);
    for (size_t i = 0; p && i < bytes; i += 4096)
        p[i] = (unsigned char)i;
    uint64_t growth = peak_rss() - before;
    free((void *)p);
    return growth;
}

static const mt_field FIELDS[] = {
    {"samples", SB_INT16, 1, {ROW_ELEMS}},
    {"label", SB_UINT8, 0, {0}},
};

/* Source rows written in rounds of at most one chunk per rank, so that
 * writing never needs more memory than exporting is allowed to. */
static void write_source(sb_dataset *ds, uint64_t rows)
{
    for (uint64_t done = 0; done < rows;) {
        uint64_t left = rows - done, before = (uint64_t)mt_rank * CHUNK_ROWS, mine = 0;
        if (before < left)
            mine = left - before < CHUNK_ROWS ? left - before : CHUNK_ROWS;
        sb_array *cols = mt_columns(FIELDS, 2, done + before, mine, 0);
        MT_EXPECT_OK(sb_dataset_extend(ds, sb_dataset_nfields(ds), cols));
        mt_columns_free(cols, 2);
        done = sb_dataset_size(ds);
        MT_REQUIRE(done > 0);
    }
}

START_TEST(test_export_memory_bounded)
{
    sb_store *src = NULL, *dst = NULL;
    MT_REQUIRE_OK(mt_open(&src, "big_src", SB_CREATE_TRUNCATE));
    MT_REQUIRE_OK(mt_open(&dst, "big_dst", SB_CREATE_TRUNCATE));
    sb_dataset *ds = NULL;
    MT_REQUIRE_OK(mt_create(src, "warmup", 4 * CHUNK_ROWS, FIELDS, 2, &ds));
    write_source(ds, 4 * CHUNK_ROWS);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_REQUIRE_OK(mt_create(src, "big", DATASET_ROWS, FIELDS, 2, &ds));
    write_source(ds, DATASET_ROWS);
    MT_REQUIRE(sb_dataset_size(ds) == DATASET_ROWS);
    MT_EXPECT_OK(sb_dataset_close(ds));
    /* The first export pays for one-time set-up (MPI-IO buffers, HDF5 caches). */
    MT_EXPECT_OK(sb_store_export_dataset(src, "warmup", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = NULL, .shrink = true, .chunk_size = CHUNK_ROWS}));

    uint64_t before = peak_rss();
    MT_EXPECT_MSG(before > 0, "no VmHWM in /proc/self/status");
    double t0 = MPI_Wtime();
    int rc = sb_store_export_dataset(src, "big", dst, &(sb_export_options){.version = SB_EXPORT_OPTIONS_VERSION, .new_name = "copy", .shrink = true, .chunk_size = CHUNK_ROWS});
    double seconds = MPI_Wtime() - t0;
    uint64_t growth = peak_rss() - before;
    MT_EXPECT_MSG(rc == 0, "export: %s", sb_last_error_message());

    uint64_t chunk_bytes = (uint64_t)CHUNK_ROWS * (ROW_BYTES + 1);
    uint64_t dataset_bytes = (uint64_t)DATASET_ROWS * (ROW_BYTES + 1);
    uint64_t worst = 0;
    MPI_Allreduce(&growth, &worst, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    if (mt_rank == 0)
        printf("export of %.0f MiB in %.2f s on %d rank(s): peak RSS grew by at most "
               "%.2f MiB (bound %.2f MiB)\n",
               (double)dataset_bytes / (1 << 20), seconds, mt_nranks,
               (double)worst / (1 << 20), (double)(chunk_bytes + MARGIN_BYTES) / (1 << 20));
    MT_EXPECT_MSG(growth <= chunk_bytes + MARGIN_BYTES,
                  "peak RSS grew by %llu bytes during export (chunk %llu, margin %llu)",
                  (unsigned long long)growth, (unsigned long long)chunk_bytes,
                  (unsigned long long)MARGIN_BYTES);
    MT_EXPECT(growth < dataset_bytes / 4);
    /* 40 MiB is above glibc's largest mmap threshold (32 MiB): fresh pages,
     * not freed heap that is still resident. */
    uint64_t probe = metered_growth_of_touching((size_t)40 << 20);
    MT_EXPECT_MSG(probe >= (36ull << 20), "touching 40 MiB grew the peak by only %llu bytes",
                  (unsigned long long)probe);

    /* The copy is right, checked in slices to stay within the same bound. */
    MT_REQUIRE_OK(sb_store_load_dataset(&ds, dst, "copy"));
    MT_EXPECT(sb_dataset_size(ds) == DATASET_ROWS);
    for (uint64_t s = (uint64_t)mt_rank * CHUNK_ROWS; s < DATASET_ROWS;
         s += (uint64_t)mt_nranks * CHUNK_ROWS)
        mt_check_rows(ds, FIELDS, 2, s, CHUNK_ROWS, 0);
    MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(dst));
    MT_EXPECT_OK(sb_store_close(src));
    mt_end();
}
END_TEST

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    Suite *s = suite_create("mpi_export_memory");
    TCase *tc = mt_tcase("memory");
    tcase_add_test(tc, test_export_memory_bounded);
    suite_add_tcase(s, tc);
    return mt_run(s);
}
