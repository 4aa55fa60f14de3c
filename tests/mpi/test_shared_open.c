/* sb_store_open_shared on MPI_COMM_WORLD: every rank reads the index and
 * opens the store collectively; a rank that cannot read the index, or that
 * finds another path, makes every rank fail (nothing hangs in the open). */
#define _XOPEN_SOURCE 700
#include "mpi_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool odd_one(void) { return mt_nranks > 1 && mt_rank == mt_nranks - 1; }

/* Rank 0 writes <tmpdir>/<name>: [datasets.<id>] path = <tmpdir>/<store>.h5;
 * every rank gets the index path. Collective. */
static void write_index(char *index, size_t len, const char *name, const char *id,
                        const char *store)
{
    snprintf(index, len, "%s/%s", mt_tmpdir, name);
    int ok = 1;
    if (mt_rank == 0) {
        char path[1024];
        mt_path(path, sizeof path, store);
        FILE *f = fopen(index, "w");
        ok = f && fprintf(f, "[datasets.%s]\nname = \"MPI\"\npath = \"%s\"\n", id, path) > 0;
        if (f)
            ok = fclose(f) == 0 && ok;
    }
    MT_REQUIRE(mt_all(ok != 0));
}

static sb_store_options world(void)
{
    sb_store_options o;
    sb_store_options_init(&o, SB_STORE_OPTIONS_VERSION);
    o.comm = MPI_COMM_WORLD;
    return o;
}

START_TEST(test_open_shared_collectively)
{
    char index[1024];
    write_index(index, sizeof index, "index.toml", "mpi", "shared");
    sb_store_options o = world();
    sb_store *st = NULL;
    MT_REQUIRE_OK(sb_store_open_shared(&st, "mpi", SB_READ_WRITE_CREATE, &o, index));
    MT_EXPECT(sb_store_is_parallel(st));
    MT_EXPECT(sb_store_nranks(st) == mt_nranks);
    const char *fields[] = {"x"};
    sb_dataset *ds = NULL;
    MT_EXPECT_OK(sb_store_create_dataset(&ds, st, "d", 4, 1, fields));
    if (ds)
        MT_EXPECT_OK(sb_dataset_close(ds));
    MT_EXPECT_OK(sb_store_close(st));
    /* Read only, through the environment variable this time. */
    setenv(SB_SHARED_INDEX_ENV, index, 1);
    MT_REQUIRE_OK(sb_store_open_shared(&st, "mpi", SB_READ, &o, NULL));
    bool exists = false;
    MT_EXPECT_OK(sb_store_has_dataset(&exists, st, "d"));
    MT_EXPECT(exists);
    MT_EXPECT_OK(sb_store_close(st));
    unsetenv(SB_SHARED_INDEX_ENV);
    mt_end();
}
END_TEST

/* The last rank's index is missing: every rank fails with its error. */
START_TEST(test_one_rank_cannot_read_the_index)
{
    char index[1024], absent[1024];
    write_index(index, sizeof index, "index2.toml", "mpi", "shared2");
    snprintf(absent, sizeof absent, "%s/absent.toml", mt_tmpdir);
    sb_store_options o = world();
    sb_store *st = (sb_store *)&st;
    int rc = sb_store_open_shared(&st, "mpi", SB_READ_WRITE_CREATE, &o,
                                  odd_one() ? absent : index);
    if (mt_nranks == 1) {
        MT_EXPECT_OK(rc);
        MT_EXPECT_OK(sb_store_close(st));
    } else {
        MT_EXPECT_RC(rc, SB_ERR_NOT_FOUND);
        MT_EXPECT(st == NULL);
        MT_EXPECT_MSG(strstr(sb_last_error_message(), "absent.toml") != NULL,
                      "message does not name the index: %s", sb_last_error_message());
        if (!odd_one()) {
            char want[32];
            snprintf(want, sizeof want, "rank %d: ", mt_nranks - 1);
            MT_EXPECT_MSG(strncmp(sb_last_error_message(), want, strlen(want)) == 0,
                          "message does not say which rank failed: %s",
                          sb_last_error_message());
        }
    }
    MT_EXPECT(mt_same_int(rc));
    mt_end();
}
END_TEST

/* The variable is set on rank 0 only: the others have no index. */
START_TEST(test_index_configured_on_some_ranks)
{
    char index[1024];
    write_index(index, sizeof index, "index3.toml", "mpi", "shared3");
    if (mt_rank == 0)
        setenv(SB_SHARED_INDEX_ENV, index, 1);
    else
        unsetenv(SB_SHARED_INDEX_ENV);
    sb_store_options o = world();
    sb_store *st = NULL;
    int rc = sb_store_open_shared(&st, "mpi", SB_READ_WRITE_CREATE, &o, NULL);
    if (mt_nranks == 1) {
        MT_EXPECT_OK(rc);
        MT_EXPECT_OK(sb_store_close(st));
    } else {
        MT_EXPECT_RC(rc, SB_ERR_INVALID);
        MT_EXPECT_MSG(strstr(sb_last_error_message(), SB_SHARED_INDEX_ENV) != NULL,
                      "message does not name the variable: %s", sb_last_error_message());
    }
    MT_EXPECT(mt_same_int(rc));
    unsetenv(SB_SHARED_INDEX_ENV);
    mt_end();
}
END_TEST

/* Same ID, another path on the last rank: sb_store_open's agreement refuses. */
START_TEST(test_ranks_find_other_paths)
{
    char index[1024], other[1024];
    write_index(index, sizeof index, "index4.toml", "mpi", "shared4");
    write_index(other, sizeof other, "other4.toml", "mpi", "elsewhere4");
    sb_store_options o = world();
    sb_store *st = NULL;
    int rc = sb_store_open_shared(&st, "mpi", SB_READ_WRITE_CREATE, &o,
                                  odd_one() ? other : index);
    if (mt_nranks == 1) {
        MT_EXPECT_OK(rc);
        MT_EXPECT_OK(sb_store_close(st));
    } else {
        MT_EXPECT_RC(rc, SB_ERR_COLLECTIVE);
        MT_EXPECT_MSG(strstr(sb_last_error_message(), "\"mpi\"") != NULL,
                      "message does not name the ID: %s", sb_last_error_message());
    }
    MT_EXPECT(mt_same_int(rc));
    mt_end();
}
END_TEST

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    Suite *s = suite_create("mpi_shared_open");
    TCase *tc = mt_tcase("shared_open");
    tcase_add_test(tc, test_open_shared_collectively);
    tcase_add_test(tc, test_one_rank_cannot_read_the_index);
    tcase_add_test(tc, test_index_configured_on_some_ranks);
    tcase_add_test(tc, test_ranks_find_other_paths);
    suite_add_tcase(s, tc);
    return mt_run(s);
}
