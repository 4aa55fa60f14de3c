/* An acquisition-like writer for the write-failure tests (full disk,
 * injected I/O errors). Two phases, run as two processes so that the check
 * sees the file as the next job would:
 *
 *   writer write STORE [opts]   fill datasets acq0, acq1, ... (capacity
 *       --capacity rows each) with deterministic rows, committing (flush)
 *       every --commit-every rounds, until a call fails or --max-rows are
 *       written. A failing call must fail on every rank with the same code
 *       (SB_ERR_IO with --expect-io), and nothing may hang (--watchdog).
 *       Writes STORE.committed: rows committed, the failing code.
 *   writer verify STORE [opts]  reopen read-only, and check that every
 *       dataset loads and every row committed before the failure (and every
 *       row below the sizes) reads back exactly.
 *
 * Row i (counted across datasets) holds index = i and samples derived from i
 * only, so the check needs no copy of the data. Each round rank r adds
 * batch * ((r + round) % 3) rows: some ranks contribute nothing.
 *
 * Options: --serial (no MPI at all), --capacity N, --samples N, --batch N,
 * --commit-every N, --max-rows N, --fsync, --expect-io, --watchdog S,
 * --allow-unopenable (verify: a fault before the first commit may leave no
 * store at all), --expect-lost (write: the shim's SB_FAULT_FSYNC_LOSES power
 * cut must have undone some write, or the run tested nothing),
 * --collective-writes / --independent-metadata (the store options
 * collective_writes = 1 / collective_metadata_writes = false), --state FILE (where the write phase leaves its numbers for
 * the verify phase; default STORE.committed; keep it off the full disk). If STORE's directory holds .fsize_limit (written when a
 * tmpfs could not be mounted), the write phase limits the file size with
 * setrlimit(RLIMIT_FSIZE) and ignores SIGXFSZ: the disk "fills" at that size.
 * Under the faultinject.c shim with SB_FAULT_WAIT_ARM=1, faults start after
 * the first commit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mpi.h>
#include <secbench/storage.h>

typedef struct {
    const char *phase, *store, *state;
    bool serial, fsync, expect_io, allow_unopenable, expect_lost;
    int collective_writes;       /* --collective-writes: the option forced to 1 */
    bool independent_metadata;   /* --independent-metadata: collective_metadata_writes off */
    uint64_t capacity, samples, batch, commit_every, max_rows;
    unsigned watchdog;
    int rank, nranks;
    MPI_Comm comm;
} config;

/* The call in progress, for the watchdog's message. */
static const char *volatile doing = "start";

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "writer: watchdog expired: a call hangs in ";
    (void)!write(2, msg, sizeof msg - 1);
    const char *d = doing;
    (void)!write(2, d, strlen(d));
    (void)!write(2, "\n", 1);
    _exit(3);
}

static int64_t all_min(const config *c, int64_t v)
{
    int64_t r = v;
    if (!c->serial)
        MPI_Allreduce(&v, &r, 1, MPI_INT64_T, MPI_MIN, c->comm);
    return r;
}

static int64_t all_max(const config *c, int64_t v)
{
    int64_t r = v;
    if (!c->serial)
        MPI_Allreduce(&v, &r, 1, MPI_INT64_T, MPI_MAX, c->comm);
    return r;
}

static int64_t all_sum(const config *c, int64_t v)
{
    int64_t r = v;
    if (!c->serial)
        MPI_Allreduce(&v, &r, 1, MPI_INT64_T, MPI_SUM, c->comm);
    return r;
}

static int8_t sample(uint64_t i, uint64_t j)
{
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ULL ^ (j + 1) * 0xC2B2AE3D27D4EB4FULL;
    x ^= x >> 29;
    return (int8_t)(x & 0xff);
}

static void fill_rows(uint64_t first, uint64_t n, uint64_t samples, uint64_t *index, int8_t *s)
{
    for (uint64_t k = 0; k < n; k++) {
        index[k] = first + k;
        for (uint64_t j = 0; j < samples; j++)
            s[k * samples + j] = sample(first + k, j);
    }
}

/* Rows rank r adds in a round, given what is left in the dataset; every rank
 * computes the same numbers, so the offsets need no communication. */
static uint64_t rank_rows(const config *c, uint64_t round, int r, uint64_t left)
{
    uint64_t before = 0;
    for (int q = 0; q < r; q++)
        before += c->batch * (((uint64_t)q + round) % 3);
    uint64_t want = c->batch * (((uint64_t)r + round) % 3);
    if (before >= left)
        return 0;
    return want < left - before ? want : left - before;
}

static uint64_t rows_before_rank(const config *c, uint64_t round, int r, uint64_t left)
{
    uint64_t n = 0;
    for (int q = 0; q < r; q++)
        n += rank_rows(c, round, q, left);
    return n;
}

static void fault_arm(void)
{
    void (*arm)(void) = (void (*)(void))(uintptr_t)dlsym(RTLD_DEFAULT, "sb_fault_arm");
    if (arm)
        arm();
}

static long long fault_count(void)
{
    long long (*cnt)(void) = (long long (*)(void))(uintptr_t)dlsym(RTLD_DEFAULT, "sb_fault_count");
    return cnt ? cnt() : 0;
}

/* Bytes the shim's power cut undid (SB_FAULT_FSYNC_LOSES). */
static long long fault_lost_bytes(void)
{
    long long (*lost)(void) =
        (long long (*)(void))(uintptr_t)dlsym(RTLD_DEFAULT, "sb_fault_lost_bytes");
    return lost ? lost() : 0;
}

static void limit_file_size(const config *c)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", c->store);
    snprintf(path, sizeof path, "%s/.fsize_limit", dirname(dir));
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    unsigned long long limit = 0;
    if (fscanf(f, "%llu", &limit) == 1 && limit > 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {(rlim_t)limit, (rlim_t)limit};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            perror("setrlimit");
        if (c->rank == 0)
            printf("no tmpfs: file size limited to %llu bytes\n", limit);
    }
    fclose(f);
}

static int open_store(const config *c, sb_store **st, sb_open_mode mode)
{
    sb_store_options o;
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    o.comm = c->serial ? MPI_COMM_NULL : c->comm;
    o.fsync = c->fsync;
    o.collective_writes = c->collective_writes ? SB_YES : SB_AUTO;
    o.collective_metadata_writes = c->independent_metadata ? SB_NO : SB_AUTO;
    return sb_store_open(st, c->store, mode, &o);
}

/* Every rank must see the same outcome of a collective call. */
static bool agree(const config *c, const char *what, int rc, int *failures)
{
    int64_t lo = all_min(c, rc), hi = all_max(c, rc);
    if (lo != hi) {
        fprintf(stderr, "FAIL rank %d: %s returned %s here but ranks got codes %" PRId64
                        "..%" PRId64 " (%s)\n", c->rank, what, sb_error_name(rc), lo, hi,
                sb_last_error_message());
        (*failures)++;
        return false;
    }
    return true;
}

/* Rank 0 records what is committed after every commit, so that a writer
 * that hangs and is killed still tells the verify phase what must be there. */
static int write_state(const config *c, uint64_t committed, int rc, long long faults,
                       const char *where)
{
    if (c->rank != 0)
        return 0;
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", c->state);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fprintf(f, "%" PRIu64 " %d %lld %s\n", committed, rc, faults, where) > 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, c->state) != 0) {
        fprintf(stderr, "FAIL: cannot write %s\n", c->state);
        return 1;
    }
    return 0;
}

static int phase_write(const config *c)
{
    int failures = 0, rc;
    const char *where = "open";
    doing = "open";
    sb_store *st = NULL;
    sb_dataset *ds = NULL;
    const char *fields[] = {"index", "samples"};
    uint64_t committed = 0, total = 0, round = 0, since_commit = 0;
    int dsno = 0;
    uint64_t maxn = c->batch * 2;
    uint64_t *index = malloc(maxn * sizeof *index);
    int8_t *s = malloc(maxn * c->samples);

    if (c->rank == 0) {
        unlink(c->state); /* a stale state would vouch for rows of another run */
        const char *log = getenv("SB_FAULT_LOG"); /* count this run's faults only */
        if (log)
            unlink(log);
    }
    if (!c->serial)
        MPI_Barrier(c->comm);
    limit_file_size(c);
    rc = open_store(c, &st, SB_CREATE_TRUNCATE);
    while (rc == 0 && total < c->max_rows) {
        if (!ds || sb_dataset_size(ds) == c->capacity) {
            if (ds) {
                where = doing = "close full dataset";
                rc = sb_dataset_close(ds);
                ds = NULL;
                if (!agree(c, where, rc, &failures) || rc)
                    break;
            }
            char name[32];
            snprintf(name, sizeof name, "acq%d", dsno++);
            where = doing = "create dataset";
            rc = sb_store_create_dataset(&ds, st, name, c->capacity, 2, fields);
            if (!agree(c, where, rc, &failures) || rc)
                break;
        }
        uint64_t size = sb_dataset_size(ds), left = c->capacity - size;
        uint64_t n = rank_rows(c, round, c->rank, left);
        uint64_t first = total + rows_before_rank(c, round, c->rank, left);
        uint64_t all = rows_before_rank(c, round, c->nranks, left);
        fill_rows(first, n, c->samples, index, s);
        sb_array cols[2];
        uint64_t sh1[1] = {n}, sh2[2] = {n, c->samples};
        sb_array_wrap(&cols[0], SB_UINT64, 1, sh1, index);
        sb_array_wrap(&cols[1], SB_INT8, 2, sh2, s);
        where = doing = "extend";
        rc = sb_dataset_extend(ds, 2, cols);
        if (!agree(c, where, rc, &failures) || rc)
            break;
        if (sb_dataset_size(ds) != size + all) {
            fprintf(stderr, "FAIL rank %d: size %" PRIu64 " after extend, expected %" PRIu64 "\n",
                    c->rank, sb_dataset_size(ds), size + all);
            failures++;
            break;
        }
        total += all;
        round++;
        if (++since_commit >= c->commit_every || sb_dataset_size(ds) == c->capacity ||
            total >= c->max_rows) {
            where = doing = "flush";
            rc = sb_dataset_flush(ds);
            if (!agree(c, where, rc, &failures) || rc)
                break;
            since_commit = 0;
            if (committed == 0)
                fault_arm();
            committed = total;
            failures += write_state(c, committed, 0, 0, "running");
            if (c->rank == 0) {
                printf("committed %" PRIu64 "\n", committed);
                fflush(stdout);
            }
        }
    }
    int failed_rc = rc;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sb_last_error_message());
    if (rc != 0) {
        if (!*msg) {
            fprintf(stderr, "FAIL rank %d: %s failed with an empty message\n", c->rank, where);
            failures++;
        }
        if (c->expect_io && rc != SB_ERR_IO) {
            fprintf(stderr, "FAIL rank %d: %s gave %s (%s), expected SB_ERR_IO\n", c->rank,
                    where, sb_error_name(rc), msg);
            failures++;
        }
    } else if (c->expect_io) {
        fprintf(stderr, "FAIL rank %d: no write failed in %" PRIu64 " rows\n", c->rank, total);
        failures++;
    }
    long long faults = all_sum(c, fault_count());
    long long lost_bytes = all_sum(c, fault_lost_bytes());
    if (c->rank == 0) {
        printf("writer: %s failed with %s (%s) after %" PRIu64 " rows, %" PRIu64
               " committed, %lld faults injected, %lld bytes undone by the power cut\n", where,
               rc ? sb_error_name(rc) : "nothing", msg, total, committed, faults, lost_bytes);
        if (c->expect_lost && lost_bytes == 0) {
            /* The cut must have hit rows in flight, or the test proves nothing. */
            fprintf(stderr, "FAIL: the failed fsync undid no write\n");
            failures++;
        }
        fflush(stdout);
        failures += write_state(c, committed, failed_rc, faults, where);
    }
    /* Releasing after a failure must not hang or crash either; its code is
     * only reported. */
    doing = "sb_dataset_close after the failure";
    rc = ds ? sb_dataset_close(ds) : 0;
    if (rc && c->rank == 0)
        printf("writer: sb_dataset_close: %s (%s)\n", sb_error_name(rc), sb_last_error_message());
    doing = "sb_store_close after the failure";
    rc = st ? sb_store_close(st) : 0;
    if (rc && c->rank == 0)
        printf("writer: sb_store_close: %s (%s)\n", sb_error_name(rc), sb_last_error_message());
    doing = "MPI_Finalize / exit after the failure";
    fflush(stdout);
    free(index);
    free(s);
    return (int)all_max(c, failures);
}

static uint64_t verify_dataset(const config *c, sb_dataset *ds, uint64_t base, int *failures)
{
    uint64_t size = sb_dataset_size(ds), bad = 0;
    uint64_t per = (size + (uint64_t)c->nranks - 1) / (uint64_t)c->nranks;
    uint64_t lo = per * (uint64_t)c->rank, hi = lo + per < size ? lo + per : size;
    uint64_t *index = malloc(c->batch * sizeof *index + 8);
    int8_t *s = malloc(c->batch * c->samples + 1);
    for (uint64_t at = lo; at < hi; at += c->batch) {
        uint64_t n = hi - at < c->batch ? hi - at : c->batch;
        int rc = sb_dataset_read(index, ds, "index", at, n);
        if (rc == 0)
            rc = sb_dataset_read(s, ds, "samples", at, n);
        if (rc) {
            fprintf(stderr, "FAIL rank %d: read rows %" PRIu64 "+%" PRIu64 " of %s: %s %s\n",
                    c->rank, at, n, sb_dataset_name(ds), sb_error_name(rc),
                    sb_last_error_message());
            (*failures)++;
            bad += n;
            continue;
        }
        for (uint64_t k = 0; k < n; k++) {
            uint64_t i = base + at + k;
            bool ok = index[k] == i;
            for (uint64_t j = 0; ok && j < c->samples; j++)
                ok = s[k * c->samples + j] == sample(i, j);
            if (!ok) {
                if (bad < 5)
                    fprintf(stderr, "FAIL rank %d: row %" PRIu64 " of %s (global %" PRIu64
                                    ") is wrong\n", c->rank, at + k, sb_dataset_name(ds), i);
                bad++;
            }
        }
    }
    free(index);
    free(s);
    return bad;
}

static int phase_verify(const config *c)
{
    int failures = 0;
    unsigned long long committed = 0;
    long long faults = 0;
    int failed_rc = 0;
    const char *path = c->state;
    FILE *f = fopen(path, "r");
    if (f && fscanf(f, "%llu %d %lld", &committed, &failed_rc, &faults) != 3) {
        fprintf(stderr, "FAIL: %s is unreadable\n", path);
        fclose(f);
        return 1;
    }
    if (f)
        fclose(f);
    else if (c->rank == 0)
        printf("verify: no %s: the writer died before its first commit\n", path);
    sb_store *st = NULL;
    int rc = open_store(c, &st, SB_READ);
    if (!agree(c, "reopen", rc, &failures))
        return 1;
    if (rc) {
        if (committed == 0 && c->allow_unopenable) {
            if (c->rank == 0)
                printf("verify: nothing committed and the store does not open (%s: %s)\n",
                       sb_error_name(rc), sb_last_error_message());
            return 0;
        }
        fprintf(stderr, "FAIL rank %d: the store does not reopen: %s %s\n", c->rank,
                sb_error_name(rc), sb_last_error_message());
        return 1;
    }
    uint64_t total = 0, bad = 0;
    int nsets = 0;
    for (int k = 0;; k++) {
        char name[32];
        snprintf(name, sizeof name, "acq%d", k);
        bool exists = false;
        rc = sb_store_has_dataset(&exists, st, name);
        if (rc || !exists)
            break;
        sb_dataset *ds = NULL;
        rc = sb_store_load_dataset(&ds, st, name);
        if (rc) {
            fprintf(stderr, "FAIL rank %d: load %s: %s %s\n", c->rank, name, sb_error_name(rc),
                    sb_last_error_message());
            failures++;
            break;
        }
        if (sb_dataset_capacity(ds) != c->capacity) {
            fprintf(stderr, "FAIL: %s capacity %" PRIu64 "\n", name, sb_dataset_capacity(ds));
            failures++;
        }
        bad += verify_dataset(c, ds, (uint64_t)k * c->capacity, &failures);
        total += sb_dataset_size(ds);
        nsets++;
        sb_dataset_close(ds);
        if (total < (uint64_t)(k + 1) * c->capacity)
            break; /* later datasets never got a row */
    }
    sb_store_close(st);
    bad = (uint64_t)all_sum(c, (int64_t)bad);
    uint64_t lost = total < committed ? committed - total : 0;
    if (c->rank == 0)
        printf("verify: %d datasets, %" PRIu64 " rows readable, %llu committed, %" PRIu64
               " wrong, %" PRIu64 " lost, %lld faults injected, failure was %s\n",
               nsets, total, committed, bad, lost, faults,
               failed_rc ? sb_error_name(failed_rc) : "none");
    if (lost || bad) {
        if (c->rank == 0)
            fprintf(stderr, "FAIL: %" PRIu64 " committed rows lost, %" PRIu64 " wrong\n", lost,
                    bad);
        failures++;
    }
    return (int)all_max(c, failures);
}

static int parse(config *c, int argc, char **argv)
{
    if (argc < 3)
        return -1;
    c->phase = argv[1];
    c->store = argv[2];
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NUM(opt, field) \
        if (strcmp(a, opt) == 0 && v) { c->field = strtoull(v, NULL, 10); i++; continue; }
        NUM("--capacity", capacity)
        NUM("--samples", samples)
        NUM("--batch", batch)
        NUM("--commit-every", commit_every)
        NUM("--max-rows", max_rows)
        NUM("--watchdog", watchdog)
#undef NUM
        if (strcmp(a, "--serial") == 0) c->serial = true;
        else if (strcmp(a, "--fsync") == 0) c->fsync = true;
        else if (strcmp(a, "--expect-io") == 0) c->expect_io = true;
        else if (strcmp(a, "--allow-unopenable") == 0) c->allow_unopenable = true;
        else if (strcmp(a, "--expect-lost") == 0) c->expect_lost = true;
        else if (strcmp(a, "--collective-writes") == 0) c->collective_writes = 1;
        else if (strcmp(a, "--independent-metadata") == 0) c->independent_metadata = true;
        else if (strcmp(a, "--state") == 0 && v) { c->state = v; i++; }
        else return -1;
    }
    if (strcmp(c->phase, "write") != 0 && strcmp(c->phase, "verify") != 0)
        return -1;
    if (!c->state) {
        static char def[4200];
        snprintf(def, sizeof def, "%s.committed", c->store);
        c->state = def;
    }
    return c->capacity && c->batch && c->commit_every ? 0 : -1;
}

int main(int argc, char **argv)
{
    config c = {.capacity = 1000, .samples = 1000, .batch = 16, .commit_every = 3,
                .max_rows = UINT64_MAX, .watchdog = 120, .nranks = 1, .comm = MPI_COMM_NULL};
    if (parse(&c, argc, argv) != 0) {
        fprintf(stderr, "usage: %s write|verify STORE [--serial] [--capacity N] [--samples N]"
                        " [--batch N] [--commit-every N] [--max-rows N] [--fsync]"
                        " [--expect-io] [--expect-lost] [--watchdog S] [--allow-unopenable]"
                        " [--state FILE] [--collective-writes] [--independent-metadata]\n", argv[0]);
        return 2;
    }
    signal(SIGALRM, on_alarm);
    alarm(c.watchdog);
    if (!c.serial) {
        MPI_Init(&argc, &argv);
        c.comm = MPI_COMM_WORLD;
        MPI_Comm_rank(c.comm, &c.rank);
        MPI_Comm_size(c.comm, &c.nranks);
    }
    int failures = strcmp(c.phase, "write") == 0 ? phase_write(&c) : phase_verify(&c);
    if (!c.serial)
        MPI_Finalize();
    return failures ? 1 : 0;
}
