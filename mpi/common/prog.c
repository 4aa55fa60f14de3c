#define _POSIX_C_SOURCE 200809L
#include "prog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mpi.h>

/* A closed standard stream would be the next file opened (a store!), and
 * what is printed would land in it. Reopen /dev/null in the other
 * direction, so that any I/O on it fails and is reported. */
static void guard_standard_streams(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int got = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
        if (got >= 0 && got != fd) {
            dup2(got, fd);
            close(got);
        }
    }
}

/* Whether a launcher started this process, read before MPI_Init (an Open MPI
 * singleton sets the same variables in its own environment). */
static bool g_launched = false;

static int prog_init(int *argc, char ***argv, const char *program)
{
    guard_standard_streams();
    g_launched = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_RANK") || getenv("PMIX_RANK") ||
                 getenv("SLURM_STEP_ID");
    cli_init(program);
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        cli_error("MPI_Init failed");
        return CLI_EXIT_FAILURE;
    }
    cli_init(program);
    return 0;
}

/* Why stdout did not take everything printed on it (an errno), or 0. The
 * reason of the first failed flush is kept (cli_flush_stdout): a full disk
 * is "No space left on device" wherever it was first seen. Rank 0. */
static int stdout_error(bool close_it)
{
    int err = cli_flush_stdout();
    if (err == 0 && ferror(stdout))
        err = cli_stdout_errno() ? cli_stdout_errno() : EIO;
    if (close_it && fclose(stdout) != 0 && err == 0)
        err = errno;
    return err;
}

/* Every printed line said the truth: a full disk or a closed stdout must not
 * look like success. The line is printed unless an error was printed already
 * (by prog_stdout_ok on the way, or a failure the run reported). */
static int prog_finish(int status)
{
    int worst = status, err = cli_rank() == 0 ? stdout_error(true) : 0;
    if (prog_failed_if(err != 0, "cannot write to standard output: %s", strerror(err)) &&
        status == CLI_EXIT_OK)
        status = CLI_EXIT_FAILURE;
    /* Every rank leaves with the same status, so that mpirun and srun report
     * the failure whichever rank saw it. */
    MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return worst;
}

int prog_main(int argc, char **argv, const char *program, int (*run)(int argc, char **argv))
{
    int status = prog_init(&argc, &argv, program);
    return status != 0 ? status : prog_finish(run(argc, argv));
}

const char *prog_error_text(void)
{
    const char *msg = sb_last_error_message();
    return msg[0] ? msg : sb_error_name(sb_last_error_code());
}

/* The lowest rank where `bad` holds, or -1 when none. */
static int lowest_bad(bool bad)
{
    int nranks = cli_nranks(), mine = bad ? cli_rank() : nranks, first = nranks;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return first == nranks ? -1 : first;
}

/* Set on every rank once a failure was reported (prog_failed* are
 * collective, so every rank knows it alike). */
static bool g_reported = false;

/* Collective, once `first` (a failing rank) is known: whether an error line
 * was printed before on any rank. A failure after the first one is a
 * consequence of it (a store that takes no more writes after a failed one,
 * a close that cannot flush): the status says it, a second line would not
 * say more. */
static bool said_before(void)
{
    int said = g_reported || cli_error_said(), any = said;
    if (!g_reported)
        MPI_Allreduce(&said, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    g_reported = true;
    return any != 0;
}

static void report(int first, const char *line)
{
    if (first != cli_rank())
        return;
    if (first == 0)
        cli_error("%s", line);
    else
        cli_error_local("%s", line);
}

bool prog_failed(int rc)
{
    int first = lowest_bad(rc < 0);
    if (first >= 0 && !said_before())
        report(first, prog_error_text());
    return first >= 0;
}

/* Collective: the line is built on the lowest failing rank only. */
static bool vfail(bool bad, bool with_library, const char *fmt, va_list ap) CLI_PRINTF(3, 0);

static bool vfail(bool bad, bool with_library, const char *fmt, va_list ap)
{
    int first = lowest_bad(bad);
    if (first >= 0 && !said_before() && first == cli_rank()) {
        char line[3072];
        int n = vsnprintf(line, sizeof line, fmt, ap);
        if (with_library && n >= 0 && (size_t)n < sizeof line)
            snprintf(line + n, sizeof line - (size_t)n, ": %s", prog_error_text());
        report(first, line);
    }
    return first >= 0;
}

bool prog_failed_ctx(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool failed = vfail(rc < 0, true, fmt, ap);
    va_end(ap);
    return failed;
}

bool prog_failed_if(bool bad, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool failed = vfail(bad, false, fmt, ap);
    va_end(ap);
    return failed;
}

bool prog_all(bool ok)
{
    return lowest_bad(!ok) < 0;
}

bool prog_stdout_ok(void)
{
    int err = cli_rank() == 0 ? stdout_error(false) : 0;
    return !prog_failed_if(err != 0, "cannot write to standard output: %s", strerror(err));
}

void prog_block_of(uint64_t n, int rank, uint64_t *start, uint64_t *count)
{
    uint64_t nranks = (uint64_t)cli_nranks(), r = (uint64_t)rank;
    uint64_t q = n / nranks, rem = n % nranks;
    *start = r * q + (r < rem ? r : rem);
    *count = q + (r < rem ? 1 : 0);
}

void prog_block(uint64_t n, uint64_t *start, uint64_t *count)
{
    prog_block_of(n, cli_rank(), start, count);
}

uint64_t prog_block_max(uint64_t n)
{
    uint64_t start, count;
    prog_block_of(n, 0, &start, &count);
    return count;
}

/* Open with `mode`; SB_ERR_EXISTS is returned unreported when asked (the
 * library fails a collective open alike on every rank). */
static int open_mode(sb_store **store, const char *path, sb_open_mode mode, bool exists_ok)
{
    /* A create that fails (a full disk) may leave the file it began: it goes
     * when there was none before. */
    bool absent = (mode == SB_CREATE || mode == SB_CREATE_TRUNCATE) && !prog_path_exists(path);
    sb_store_options opts;
    sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION);
    /* One process: a serial store, no MPI-IO. Several: every rank opens the
     * file and takes part in every collective call. */
    if (cli_nranks() > 1)
        opts.comm = MPI_COMM_WORLD;
    int rc = sb_store_open(store, path, mode, &opts);
    if (exists_ok && rc == SB_ERR_EXISTS)
        return rc;
    if (prog_failed(rc)) {
        if (rc == 0)
            sb_store_close(*store); /* another rank failed: nobody goes on */
        *store = NULL;
        if (absent)
            prog_remove_created(path);
        return rc < 0 ? rc : SB_ERR_COLLECTIVE;
    }
    return 0;
}

int prog_open_store(sb_store **store, const char *path, sb_open_mode mode)
{
    return open_mode(store, path, mode, false);
}

int prog_try_create(sb_store **store, const char *path, sb_open_mode mode)
{
    return open_mode(store, path, mode, true);
}

int prog_open_output(sb_store **store, const char *path, bool *created)
{
    /* "w-" first: it fails if the file exists, so that *created is exact. */
    int rc = open_mode(store, path, SB_CREATE, true);
    *created = rc == 0;
    return rc == SB_ERR_EXISTS ? open_mode(store, path, SB_READ_WRITE, false) : rc;
}

int prog_close_store(sb_store *store)
{
    int rc = sb_store_close(store);
    return prog_failed(rc) ? (rc < 0 ? rc : SB_ERR_IO) : 0;
}

void prog_remove_created(const char *path)
{
    if (cli_rank() == 0)
        unlink(path);
    MPI_Barrier(MPI_COMM_WORLD);
}

bool prog_path_exists(const char *path)
{
    struct stat st;
    int exists = cli_rank() != 0 || lstat(path, &st) == 0 || errno != ENOENT;
    MPI_Bcast(&exists, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return exists != 0;
}

bool prog_regular_or_absent(const char *path)
{
    struct stat st;
    int bad = 0;
    if (cli_rank() == 0 && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        bad = S_ISDIR(st.st_mode) ? 2 : 1;
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (bad)
        cli_error("'%s' is not a regular file (%s)", path,
                  bad == 2 ? "a directory" : "a FIFO, socket or device");
    return bad == 0;
}

bool prog_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (strcmp(a, b) == 0)
        return true;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Under a launcher a rank's stdout may be a pseudo-terminal of the launcher's
 * own (Open MPI's mpirun makes one) whatever the user's stdout is. */
static bool under_launcher(void)
{
    return cli_nranks() > 1 || g_launched;
}

bool prog_stdout_is_tty(void)
{
    int tty = cli_rank() == 0 && !under_launcher() ? isatty(STDOUT_FILENO) : 0;
    MPI_Bcast(&tty, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return tty != 0;
}
