/* One writer per store: a second writer (this library in another process, or
 * h5py) is refused with a message naming the holder, readers still get in, a
 * lock left by a killed writer is taken over, and a refused open leaves the
 * file's bytes as they were. The processes are real (fork, python3). */
#define _GNU_SOURCE /* memmem, usleep */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbt_util.h"

static char *dir, *path, *lockpath;

static void setup(void)
{
    dir = sbt_mkdtemp("lock");
    path = sbt_join(dir, "s.h5");
    lockpath = sbt_join(dir, "s.h5.lock");
    unsetenv("SB_LOCK_FLOCK");
}

static void teardown(void)
{
    sbt_rmtree(dir);
    free(path);
    free(lockpath);
    free(dir);
}

/* A store with one committed dataset. */
static void make_store(void)
{
    sb_store *s = NULL;
    sb_dataset *ds = NULL;
    SBT_OK(sb_store_open(&s, path, SB_CREATE_TRUNCATE, NULL));
    SBT_OK(sb_store_create_dataset(&ds, s, "d", 4, 1, (const char *[]){"x"}));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    ck_assert(!sbt_exists(lockpath)); /* dropped at close */
}

/* A child that opens the store for writing, says so on a pipe, and waits
 * for a byte (or to be killed). Returns its pid; *release is the write end. */
static pid_t hold_in_child(int *release)
{
    int ready[2], go[2];
    ck_assert(pipe(ready) == 0 && pipe(go) == 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(go[1]);
        sb_store *s = NULL;
        char ok = sb_store_open(&s, path, SB_READ_WRITE, NULL) == 0 ? 'y' : 'n';
        if (write(ready[1], &ok, 1) != 1)
            _exit(3);
        char c;
        if (read(go[0], &c, 1) < 0)
            _exit(4);
        _exit(s && sb_store_close(s) == 0 ? 0 : 5);
    }
    close(ready[1]);
    close(go[0]);
    char ok = 0;
    ck_assert(read(ready[0], &ok, 1) == 1 && ok == 'y');
    close(ready[0]);
    *release = go[1];
    return pid;
}

static void release_child(pid_t pid, int release)
{
    ck_assert(write(release, "x", 1) == 1);
    close(release);
    int status = 0;
    ck_assert(waitpid(pid, &status, 0) == pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static bool same_bytes(const unsigned char *before, size_t len)
{
    unsigned char *now = NULL;
    size_t n = 0;
    bool same = sbt_read_file(path, &now, &n) && n == len && memcmp(now, before, n) == 0;
    free(now);
    return same;
}

START_TEST(second_writer_is_refused_readers_are_not)
{
    make_store();
    int release;
    pid_t holder = hold_in_child(&release);
    unsigned char *before = NULL;
    size_t len = 0;
    ck_assert(sbt_read_file(path, &before, &len));
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "pid %ld", (long)holder);
    sb_store *s = NULL;
    for (int mode = SB_READ_WRITE; mode <= SB_READ_WRITE_CREATE; mode++) {
        if (mode == SB_CREATE)
            continue; /* "w-" refuses an existing file before any lock */
        SBT_ERR(sb_store_open(&s, path, (sb_open_mode)mode, NULL), SB_ERR_LOCKED);
        SBT_MSG_HAS(pid_text);
        SBT_MSG_HAS("one writer at a time");
        ck_assert_ptr_null(s);
    }
    /* "w" did not truncate it, nothing else touched it. */
    ck_assert(same_bytes(before, len));
    /* A reader gets in, and sees what was committed. */
    SBT_OK(sb_store_open(&s, path, SB_READ, NULL));
    bool exists = false;
    SBT_OK(sb_store_has_dataset(&exists, s, "d"));
    ck_assert(exists);
    SBT_OK(sb_store_close(s));
    release_child(holder, release);
    ck_assert(!sbt_exists(lockpath));
    SBT_OK(sb_store_open(&s, path, SB_READ_WRITE, NULL));
    SBT_OK(sb_store_close(s));
    free(before);
}
END_TEST

START_TEST(a_killed_writer_lock_is_taken_over)
{
    make_store();
    int release;
    pid_t holder = hold_in_child(&release);
    ck_assert(sbt_exists(lockpath));
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    close(release);
    ck_assert(sbt_exists(lockpath)); /* left behind */
    sb_store *s = NULL;
    SBT_OK(sb_store_open(&s, path, SB_READ_WRITE, NULL));
    unsigned char *text = NULL;
    size_t len = 0;
    ck_assert(sbt_read_file(lockpath, &text, &len));
    char mine[32];
    snprintf(mine, sizeof mine, "pid=%ld\n", (long)getpid());
    ck_assert_msg(memmem(text, len, mine, strlen(mine)) != NULL, "lock file: %.*s", (int)len, text);
    free(text);
    SBT_OK(sb_store_close(s));
    ck_assert(!sbt_exists(lockpath));
}
END_TEST

/* Where flock cannot be trusted the lock file alone decides. */
START_TEST(without_flock_the_lock_file_decides)
{
    make_store();
    setenv("SB_LOCK_FLOCK", "0", 1);
    int release;
    pid_t holder = hold_in_child(&release);
    sb_store *s = NULL;
    SBT_ERR(sb_store_open(&s, path, SB_READ_WRITE, NULL), SB_ERR_LOCKED);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    close(release);
    /* Its holder died on this host: taken over. */
    SBT_OK(sb_store_open(&s, path, SB_READ_WRITE, NULL));
    SBT_OK(sb_store_close(s));
    /* A holder on another host cannot be checked: refused, saying what to do. */
    FILE *f = fopen(lockpath, "w");
    fprintf(f, "secbench-storage writer lock\nhost=elsewhere-node17\npid=4242\njob=987\n"
               "since=2026-12-01T10:00:00Z\nstore=%s\n", path);
    fclose(f);
    SBT_ERR(sb_store_open(&s, path, SB_READ_WRITE, NULL), SB_ERR_LOCKED);
    SBT_MSG_HAS("elsewhere-node17");
    SBT_MSG_HAS("Slurm job 987");
    SBT_MSG_HAS("remove");
    unsetenv("SB_LOCK_FLOCK");
}
END_TEST

/* locking = SB_YES: the flock lock or nothing; where flock cannot be
 * trusted the open is refused (and leaves no lock file), where it works it
 * locks as SB_AUTO does. */
START_TEST(locking_yes_needs_flock)
{
    make_store();
    sb_store_options o;
    SBT_OK(sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION));
    o.locking = SB_YES;
    sb_store *s = NULL;
    setenv("SB_LOCK_FLOCK", "0", 1);
    SBT_ERR(sb_store_open(&s, path, SB_READ_WRITE, &o), SB_ERR_LOCKED);
    SBT_MSG_HAS("no working flock");
    ck_assert_ptr_null(s);
    ck_assert(!sbt_exists(lockpath));
    o.locking = SB_AUTO; /* the lock-file fallback */
    SBT_OK(sb_store_open(&s, path, SB_READ_WRITE, &o));
    SBT_OK(sb_store_close(s));
    unsetenv("SB_LOCK_FLOCK");
    o.locking = SB_YES;
    SBT_OK(sb_store_open(&s, path, SB_READ_WRITE, &o));
    ck_assert(sbt_exists(lockpath));
    fflush(NULL);
    pid_t pid = fork(); /* a second writer, SB_AUTO */
    ck_assert(pid >= 0);
    if (pid == 0) {
        sb_store *t = NULL;
        _exit(sb_store_open(&t, path, SB_READ_WRITE, NULL) == SB_ERR_LOCKED ? 0 : 1);
    }
    int status = 0;
    ck_assert(waitpid(pid, &status, 0) == pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "a second writer was not refused while SB_YES held the store");
    SBT_OK(sb_store_close(s));
    ck_assert(!sbt_exists(lockpath));
}
END_TEST

START_TEST(a_foreign_lock_file_is_left_alone)
{
    make_store();
    const char *text = "not ours\n";
    ck_assert(sbt_write_file(lockpath, text, strlen(text)));
    sb_store *s = NULL;
    SBT_ERR(sb_store_open(&s, path, SB_READ_WRITE, NULL), SB_ERR_LOCKED);
    SBT_MSG_HAS("not a secbench-storage lock file");
    unsigned char *now = NULL;
    size_t n = 0;
    ck_assert(sbt_read_file(lockpath, &now, &n) && n == strlen(text) && !memcmp(now, text, n));
    free(now);
    /* locking = SB_NO writes without any lock (and leaves that file). */
    sb_store_options o;
    SBT_OK(sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION));
    o.locking = SB_NO;
    SBT_OK(sb_store_open(&s, path, SB_READ_WRITE, &o));
    SBT_OK(sb_store_close(s));
    ck_assert(sbt_exists(lockpath));
}
END_TEST

/* h5py, with HDF5's own lock: a writer there keeps ours out (and readers:
 * HDF5 would refuse them too); our writer keeps an h5py writer out, not an
 * h5py reader. */
static pid_t python(const char *code, const char *mode)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        execl("/usr/bin/python3", "python3", "-c", code, path, mode, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int python_status(const char *code, const char *mode)
{
    int status = 0;
    pid_t pid = python(code, mode);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(h5py_and_the_writer_lock)
{
    make_store();
    const char *hold = "import h5py, sys, time\n"
                       "f = h5py.File(sys.argv[1], sys.argv[2])\n"
                       "open(sys.argv[1] + '.ready', 'w').close()\n"
                       "time.sleep(60)\n";
    char *ready = sbt_join(dir, "s.h5.ready");
    pid_t py = python(hold, "r+");
    for (int i = 0; i < 200 && !sbt_exists(ready); i++)
        usleep(50000);
    ck_assert_msg(sbt_exists(ready), "h5py did not open the store");
    sb_store *s = NULL;
    SBT_ERR(sb_store_open(&s, path, SB_READ_WRITE, NULL), SB_ERR_LOCKED);
    SBT_MSG_HAS("HDF5's file lock");
    SBT_ERR(sb_store_open(&s, path, SB_READ, NULL), SB_ERR_LOCKED);
    SBT_MSG_HAS("locked by another process");
    kill(py, SIGKILL);
    waitpid(py, NULL, 0);

    /* Ours writes: h5py cannot open it for writing, can for reading. */
    SBT_OK(sb_store_open(&s, path, SB_READ_WRITE, NULL));
    const char *try_open = "import h5py, sys\n"
                           "try:\n"
                           "    h5py.File(sys.argv[1], sys.argv[2]).close()\n"
                           "except OSError as e:\n"
                           "    sys.exit(3 if 'lock' in str(e) else 4)\n";
    ck_assert_int_eq(python_status(try_open, "r+"), 3);
    ck_assert_int_eq(python_status(try_open, "r"), 0);
    SBT_OK(sb_store_close(s));
    ck_assert_int_eq(python_status(try_open, "r+"), 0);
    free(ready);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("lock");
    TCase *tc = tcase_create("serial");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, second_writer_is_refused_readers_are_not);
    tcase_add_test(tc, a_killed_writer_lock_is_taken_over);
    tcase_add_test(tc, without_flock_the_lock_file_decides);
    tcase_add_test(tc, locking_yes_needs_flock);
    tcase_add_test(tc, a_foreign_lock_file_is_left_alone);
    tcase_add_test(tc, h5py_and_the_writer_lock);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
