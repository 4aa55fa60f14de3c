/* The runtime of the programs in mpi/: what secbench-db, sb-acquire and
 * sb-preprocess do alike, as one process or under mpirun/srun.
 *
 * - prog_main: MPI (a plain run is an MPI singleton), the standard
 *   streams, and one exit status agreed by every rank, which counts a
 *   failed write to stdout (a full disk, a closed stdout).
 * - prog_failed*: a failure, on whichever ranks it happened, becomes every
 *   rank's; the lowest failing rank prints the one error line, and only the
 *   first failure of a run prints one.
 * - prog_open_store: a serial store as one process, MPI_COMM_WORLD under
 *   several ranks; prog_open_output creates a store and says whether it did,
 *   so that a command that fails removes only what it made.
 * - prog_block: the rank's contiguous share of n items. */
#ifndef SB_PROG_H
#define SB_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include <secbench/storage.h>

#include "cli.h"

/* The whole main() of a program: the standard streams made safe (a closed
 * stdout is reopened so that writes to it fail instead of landing in the
 * next file opened), MPI_Init, cli_init, run(argc, argv) on every rank;
 * then a check that stdout took everything (rank 0), the worst status of
 * all ranks agreed, MPI_Finalize. Returns the status every rank exits with. */
int prog_main(int argc, char **argv, const char *program, int (*run)(int argc, char **argv));

/* The library's last error message, or its code's name when it is empty. */
const char *prog_error_text(void);

/* Collective: true on every rank when rc < 0 on any rank; the lowest failing
 * rank prints the library's message (which names the store, dataset, field
 * or asset), after "context: " when given.
 * One failure, one line: once an error line was printed (by these functions
 * or cli_error*, on any rank), a later failure is a consequence of it (a
 * flush or close on the way out of a store that takes no more writes after a
 * failed one) and prints nothing; the functions still return true. */
bool prog_failed(int rc);
bool prog_failed_ctx(int rc, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Collective: true on every rank when `bad` on any rank; the lowest such rank
 * prints the message. */
bool prog_failed_if(bool bad, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Collective: whether `ok` holds on every rank (nothing printed). */
bool prog_all(bool ok);

/* Collective: whether everything printed on stdout so far reached it (rank
 * 0 flushes it). Otherwise one error line, "cannot write to standard output:
 * REASON", and false on every rank: a program calls it where it prints what
 * a user or a script acts on (sb-acquire's "committed N", the reports), so
 * that a run whose report is lost fails there and undoes what it created, as
 * any failed run does. */
bool prog_stdout_ok(void);

/* Rank r's contiguous block [*start, *start + *count) of n items over the
 * ranks of MPI_COMM_WORLD (the first n % nranks ranks hold one more). */
void prog_block_of(uint64_t n, int rank, uint64_t *start, uint64_t *count);
void prog_block(uint64_t n, uint64_t *start, uint64_t *count);
/* The largest block any rank holds. */
uint64_t prog_block_max(uint64_t n);

/* Open a store (collective; failures reported as above). A create (SB_CREATE,
 * SB_CREATE_TRUNCATE) that fails removes the file it began when there was
 * none at the path before (a full disk fails a create after the file is
 * made). */
int prog_open_store(sb_store **store, const char *path, sb_open_mode mode);
/* The same, but SB_ERR_EXISTS ("w-" on an existing file) is returned
 * unreported, for the caller to say what to do. */
int prog_try_create(sb_store **store, const char *path, sb_open_mode mode);
/* Open `path` for writing, creating it when it does not exist (*created
 * tells which). */
int prog_open_output(sb_store **store, const char *path, bool *created);
/* Close a store; on failure report it (collective). Returns 0 or the code. */
int prog_close_store(sb_store *store);
/* After a failed command, with the store closed: remove the store file it
 * created (rank 0). Collective. */
void prog_remove_created(const char *path);

/* Whether something is at `path` (rank 0's answer, on every rank; anything
 * but "no such file" counts as there). Collective. */
bool prog_path_exists(const char *path);
/* Whether `path` is a regular file or does not exist; otherwise (a FIFO, a
 * directory, a device) rank 0 says so, naming it. Collective. */
bool prog_regular_or_absent(const char *path);
/* Whether a and b are the same path, or name the same existing file. */
bool prog_same_file(const char *a, const char *b);
/* Whether stdout is the user's terminal (rank 0's answer, on every rank):
 * only a plain run can tell, since under mpirun a rank's stdout is a
 * pseudo-terminal of the launcher whatever the user's is. */
bool prog_stdout_is_tty(void);

#endif
