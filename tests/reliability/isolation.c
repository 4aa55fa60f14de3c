/* A write failure belongs to the store it happened in.
 *
 *   sb_rel_isolation FAULTY_DIR CLEAN_DIR [--serial]
 *
 * Run under the faultinject.c shim with SB_FAULT_PREFIX=FAULTY_DIR,
 * SB_FAULT_WAIT_ARM=1 and SB_FAULT_AFTER_CALLS=0: once armed, every write to a
 * file under FAULTY_DIR fails. Two stores are open at once, one in each
 * directory. The faulty one must fail with SB_ERR_IO on every rank and refuse
 * further writes; the clean one, open in the same process the whole time,
 * must not hear of it. Then stores are opened and closed again and again in
 * CLEAN_DIR, so that HDF5 reuses the driver structures (and their addresses)
 * of the failed store: none may inherit its failure. Finally every committed
 * row of both stores is read back. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpi.h>
#include <secbench/storage.h>

#define ROWS 8
#define SAMPLES 256
#define REOPENS 12

static bool serial;
static int rank, nranks = 1;
static int failures;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "FAIL rank %d, line %d: ", rank, __LINE__);         \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, " (last error: %s)\n", sb_last_error_message());  \
            failures++;                                                         \
        }                                                                       \
    } while (0)

static void shim_call(const char *name)
{
    void (*f)(void) = (void (*)(void))(uintptr_t)dlsym(RTLD_DEFAULT, name);
    if (!f) {
        fprintf(stderr, "FAIL: %s not found: run under the faultinject shim\n", name);
        exit(1);
    }
    f();
}

static int same_everywhere(int rc)
{
    if (serial)
        return 1;
    int lo = rc, hi = rc;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi;
}

static int open_store(sb_store **st, const char *dir, const char *name, sb_open_mode mode)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    sb_store_options o;
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    o.comm = serial ? MPI_COMM_NULL : MPI_COMM_WORLD;
    return sb_store_open(st, path, mode, &o);
}

/* Row i of a store tagged `tag`: every sample derived from both. */
static int8_t sample(int tag, uint64_t i, int j)
{
    return (int8_t)((uint64_t)tag * 131 + i * 17 + (uint64_t)j * 7);
}

/* Every rank but the last adds ROWS rows (the last adds none when there are
 * several ranks): a collective extend with a rank that contributes nothing. */
static int extend(sb_dataset *ds, int tag)
{
    uint64_t n = (nranks > 1 && rank == nranks - 1) ? 0 : ROWS;
    uint64_t base = sb_dataset_size(ds) + (uint64_t)rank * ROWS;
    uint64_t index[ROWS];
    int8_t s[ROWS * SAMPLES];
    for (uint64_t k = 0; k < n; k++) {
        index[k] = base + k;
        for (int j = 0; j < SAMPLES; j++)
            s[k * SAMPLES + (uint64_t)j] = sample(tag, base + k, j);
    }
    sb_array cols[2];
    uint64_t sh1[1] = {n}, sh2[2] = {n, SAMPLES};
    sb_array_wrap(&cols[0], SB_UINT64, 1, sh1, index);
    sb_array_wrap(&cols[1], SB_INT8, 2, sh2, s);
    return sb_dataset_extend(ds, 2, cols);
}

static uint64_t rows_per_extend(void)
{
    return (uint64_t)(nranks > 1 ? nranks - 1 : 1) * ROWS;
}

static int create(sb_store *st, sb_dataset **ds)
{
    const char *fields[] = {"index", "samples"};
    return sb_store_create_dataset(ds, st, "traces", 64 * (uint64_t)nranks, 2, fields);
}

/* Reads every row below the size and checks it (rank 0 reads all). */
static void verify(const char *dir, const char *name, int tag, uint64_t at_least)
{
    sb_store *st = NULL;
    sb_dataset *ds = NULL;
    int rc = open_store(&st, dir, name, SB_READ);
    CHECK(rc == 0, "%s/%s does not reopen: %s", dir, name, sb_error_name(rc));
    if (rc)
        return;
    rc = sb_store_load_dataset(&ds, st, "traces");
    CHECK(rc == 0, "%s/%s: traces does not load", dir, name);
    if (rc == 0) {
        uint64_t size = sb_dataset_size(ds);
        CHECK(size >= at_least, "%s/%s holds %" PRIu64 " rows, %" PRIu64 " were committed", dir,
              name, size, at_least);
        uint64_t index[1];
        int8_t s[SAMPLES];
        uint64_t bad = 0;
        for (uint64_t i = 0; rank == 0 && i < size; i++) {
            if (sb_dataset_read(index, ds, "index", i, 1) || sb_dataset_read(s, ds, "samples", i, 1)) {
                bad++;
                continue;
            }
            bool ok = index[0] == i;
            for (int j = 0; ok && j < SAMPLES; j++)
                ok = s[j] == sample(tag, i, j);
            bad += !ok;
        }
        CHECK(bad == 0, "%s/%s: %" PRIu64 " of %" PRIu64 " rows are wrong", dir, name, bad, size);
        sb_dataset_close(ds);
    }
    sb_store_close(st);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s FAULTY_DIR CLEAN_DIR [--serial]\n", argv[0]);
        return 2;
    }
    const char *faulty_dir = argv[1], *clean_dir = argv[2];
    serial = argc > 3 && strcmp(argv[3], "--serial") == 0;
    if (!serial) {
        MPI_Init(&argc, &argv);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    }
    alarm(120); /* a hang is a failure too */

    sb_store *bad = NULL, *good = NULL;
    sb_dataset *bad_ds = NULL, *good_ds = NULL;
    int rc = open_store(&bad, faulty_dir, "faulty.h5", SB_CREATE_TRUNCATE);
    CHECK(rc == 0, "open the faulty store");
    rc = rc ? rc : open_store(&good, clean_dir, "clean.h5", SB_CREATE_TRUNCATE);
    CHECK(rc == 0, "open the clean store");
    if (rc)
        goto out;
    CHECK(create(bad, &bad_ds) == 0, "create in the faulty store");
    CHECK(create(good, &good_ds) == 0, "create in the clean store");
    if (failures)
        goto out;
    CHECK(extend(bad_ds, 1) == 0 && sb_dataset_flush(bad_ds) == 0, "first commit, faulty store");
    CHECK(extend(good_ds, 2) == 0 && sb_dataset_flush(good_ds) == 0, "first commit, clean store");
    uint64_t bad_committed = sb_dataset_size(bad_ds);

    shim_call("sb_fault_arm"); /* from here on, every write under FAULTY_DIR fails */
    rc = extend(bad_ds, 1);
    if (rc == 0)
        rc = sb_dataset_flush(bad_ds);
    CHECK(rc == SB_ERR_IO, "a write to the faulty store gave %s, expected SB_ERR_IO",
          sb_error_name(rc));
    CHECK(same_everywhere(rc), "ranks disagree on the failure");
    rc = sb_dataset_flush(bad_ds);
    CHECK(rc == SB_ERR_IO, "the failed store accepted a flush (%s)", sb_error_name(rc));

    /* The clean store, open all along, knows nothing of it. */
    for (int k = 0; k < 3; k++) {
        rc = extend(good_ds, 2);
        CHECK(rc == 0, "extend of the clean store after the other failed: %s", sb_error_name(rc));
        rc = sb_dataset_flush(good_ds);
        CHECK(rc == 0, "flush of the clean store after the other failed: %s", sb_error_name(rc));
    }
    uint64_t good_committed = sb_dataset_size(good_ds);
    CHECK(good_committed == 4 * rows_per_extend(), "clean store holds %" PRIu64 " rows",
          good_committed);

    sb_dataset_close(bad_ds);
    bad_ds = NULL;
    rc = sb_store_close(bad);
    bad = NULL;
    CHECK(same_everywhere(rc), "ranks disagree on closing the failed store");

    /* New stores take over the failed store's driver structures. */
    for (int k = 0; k < REOPENS; k++) {
        char name[32];
        snprintf(name, sizeof name, "again%d.h5", k);
        sb_store *st = NULL;
        sb_dataset *ds = NULL;
        rc = open_store(&st, clean_dir, name, SB_CREATE_TRUNCATE);
        CHECK(rc == 0, "open %s after the failure: %s", name, sb_error_name(rc));
        if (rc)
            break;
        rc = create(st, &ds);
        rc = rc ? rc : extend(ds, 3 + k);
        rc = rc ? rc : sb_dataset_flush(ds);
        CHECK(rc == 0, "write %s after the failure: %s", name, sb_error_name(rc));
        if (ds)
            sb_dataset_close(ds);
        rc = sb_store_close(st);
        CHECK(rc == 0, "close %s after the failure: %s", name, sb_error_name(rc));
    }

    sb_dataset_close(good_ds);
    good_ds = NULL;
    rc = sb_store_close(good);
    good = NULL;
    CHECK(rc == 0, "close the clean store: %s", sb_error_name(rc));

    shim_call("sb_fault_disable");
    verify(faulty_dir, "faulty.h5", 1, bad_committed);
    verify(clean_dir, "clean.h5", 2, good_committed);
    for (int k = 0; k < REOPENS; k++) {
        char name[32];
        snprintf(name, sizeof name, "again%d.h5", k);
        verify(clean_dir, name, 3 + k, rows_per_extend());
    }
out:
    if (bad_ds)
        sb_dataset_close(bad_ds);
    if (good_ds)
        sb_dataset_close(good_ds);
    if (bad)
        sb_store_close(bad);
    if (good)
        sb_store_close(good);
    int total = failures;
    if (!serial)
        MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("isolation: %s (%d failed checks)\n", total ? "FAILED" : "ok", total);
    if (!serial)
        MPI_Finalize();
    return total ? 1 : 0;
}
