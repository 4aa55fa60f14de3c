/* Shared scaffolding of the MPI test programs.
 *
 * Check runs without fork (forking an MPI process is unsafe), so a failed
 * ck_assert on one rank would longjmp out of a test while the other ranks sit
 * in a collective call. The tests therefore record local failures with
 * MT_EXPECT*, and only assert after an agreement (mt_end, MT_REQUIRE) that
 * every rank reaches at the same point. */
#ifndef SB_TESTS_MPI_COMMON_H
#define SB_TESTS_MPI_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>
#include <mpi.h>

#include <secbench/storage.h>

extern int mt_rank;
extern int mt_nranks;
extern char mt_tmpdir[];

/* MPI_Init, rank/size, then rank 0 makes a unique temp dir and broadcasts it. */
void mt_init(int *argc, char ***argv);
/* Run the suite without fork, agree on the failure count, remove the temp dir,
 * MPI_Finalize. Returns the process exit code (non-zero if any rank failed). */
int mt_run(Suite *suite);
/* A test case whose tests start with a clean local failure count. */
TCase *mt_tcase(const char *name);

/* "<tmpdir>/<name>.h5", the same on every rank. */
void mt_path(char *buf, size_t len, const char *name);
/* Open `name` in the temp dir on MPI_COMM_WORLD (or on `comm`). */
int mt_open(sb_store **store, const char *name, sb_open_mode mode);
int mt_open_comm(sb_store **store, const char *name, sb_open_mode mode, MPI_Comm comm);

/* Capacities sized for up to 4 ranks grow with the rank count beyond:
 * the suites also run at 8 and 16 ranks. */
uint64_t mt_scale(uint64_t capacity);
/* Collective: true when `local` is true on every rank of MPI_COMM_WORLD. */
bool mt_all(bool local);
/* SB_TEST_COLLECTIVE_WRITES=1: the stores are opened with collective writes forced.
 * SB_TEST_COLLECTIVE_METADATA_WRITES=0: with metadata written independently. */
bool mt_collective_writes_forced(void);
/* Whether this test chose the write mode (SB_TEST_COLLECTIVE_WRITES set). */
bool mt_collective_writes_chosen(void);
/* What SB_AUTO must pick for row writes, by the documented rule
 * (store.h): collective on ROMIO (MPICH; Open MPI with OMPI_MCA_io=romio*),
 * independent on Open MPI's OMPIO. */
bool mt_auto_writes_collective(void);
/* Collective: true when every rank passed the same value. */
bool mt_same_u64(uint64_t value);
bool mt_same_int(int value);
/* Collective: true when the string equals rank 0's on this rank (local verdict). */
bool mt_same_as_root(const char *text);
/* Collective sum over MPI_COMM_WORLD. */
uint64_t mt_sum_u64(uint64_t value);
/* Collective: sum of `value` over the ranks below this one. */
uint64_t mt_exscan_u64(uint64_t value);

extern int mt_local_failures;
void mt_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define MT_EXPECT(cond)                                                              \
    do {                                                                             \
        if (!(cond))                                                                 \
            mt_fail_at(__FILE__, __LINE__, "expected %s", #cond);                    \
    } while (0)
#define MT_EXPECT_MSG(cond, ...)                                                     \
    do {                                                                             \
        if (!(cond))                                                                 \
            mt_fail_at(__FILE__, __LINE__, __VA_ARGS__);                             \
    } while (0)
/* A return code: prints the code name and the library's message. */
#define MT_EXPECT_RC(expr, want)                                                     \
    do {                                                                             \
        int mt_rc_ = (expr);                                                         \
        if (mt_rc_ != (want))                                                        \
            mt_fail_at(__FILE__, __LINE__, "%s returned %s (%d), wanted %s: %s",     \
                       #expr, sb_error_name(mt_rc_), mt_rc_, sb_error_name(want),    \
                       sb_last_error_message());                                     \
    } while (0)
#define MT_EXPECT_OK(expr) MT_EXPECT_RC(expr, 0)

/* Collective: if `cond` is false on any rank, every rank fails the test here
 * (after this point the ranks could no longer run the same calls). */
#define MT_REQUIRE(cond)                                                             \
    do {                                                                             \
        bool mt_ok_ = (cond);                                                        \
        if (!mt_ok_)                                                                 \
            mt_fail_at(__FILE__, __LINE__, "required %s (%s)", #cond,                \
                       sb_last_error_message());                                     \
        if (!mt_all(mt_ok_))                                                         \
            ck_abort_msg("%s:%d: a rank failed to get %s", __FILE__, __LINE__,       \
                         #cond);                                                     \
    } while (0)
#define MT_REQUIRE_OK(expr) MT_REQUIRE((expr) == 0)

/* Collective: fail the test on every rank if any rank recorded a failure. */
void mt_end(void);

/* ---- deterministic content: a value depends on (seed, global row, element) ---- */

/* Fill `nrows` rows of `row_elems` elements starting at global row `first`. */
void mt_fill(sb_dtype dtype, void *buf, uint64_t first, uint64_t nrows,
             uint64_t row_elems, unsigned seed);
/* Number of rows of `buf` that differ from mt_fill's content. */
uint64_t mt_mismatches(sb_dtype dtype, const void *buf, uint64_t first, uint64_t nrows,
                       uint64_t row_elems, unsigned seed);

/* A field of a test dataset: name, dtype, row shape. */
typedef struct mt_field {
    const char *name;
    sb_dtype dtype;
    int row_ndim;
    uint64_t row_shape[3];
} mt_field;

uint64_t mt_row_elems(const mt_field *f);
/* Columns for rows [first, first+nrows) of every field (seed = field index +
 * `seed`). Free with mt_columns_free. nrows may be 0 (data still allocated). */
sb_array *mt_columns(const mt_field *fields, size_t nfields, uint64_t first,
                     uint64_t nrows, unsigned seed);
/* One row (not a column): the arrays have the row's shape. */
sb_array *mt_row(const mt_field *fields, size_t nfields, uint64_t row, unsigned seed);
void mt_columns_free(sb_array *cols, size_t nfields);
/* Local: rows [first, first+count) of every field hold mt_fill's content and
 * the field has the expected dtype and row shape. Records failures. */
void mt_check_rows(sb_dataset *ds, const mt_field *fields, size_t nfields,
                   uint64_t first, uint64_t count, unsigned seed);
/* Create a dataset with the fields' names. Collective. */
int mt_create(sb_store *store, const char *name, uint64_t capacity,
              const mt_field *fields, size_t nfields, sb_dataset **out);

/* Rank 0 runs a shell command; every rank gets its exit status. Collective. */
int mt_root_system(const char *command);

#endif
