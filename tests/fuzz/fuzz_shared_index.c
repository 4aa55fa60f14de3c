/* Fuzz target: the input bytes are a shared-dataset index (TOML, see
 * secbench/shared.h). Each input is written to an index in /dev/shm, in a
 * folder that also holds description files (desc.md, d/desc.md) for
 * relative description_file values to find; it is listed with and
 * without descriptions, and every ID listed is looked up again, which must
 * give the same dataset. A failed call must leave NULL outputs and a message.
 *
 * Built two ways: with clang -fsanitize=fuzzer (libFuzzer's main, -DSB_FUZZ=ON)
 * and, without SB_LIBFUZZER, as a plain program whose main() replays the
 * files and directories given on its command line (the regression ctest). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <secbench/storage.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char index_path[128];

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_shared_index: invariant broken: %s (last error: %s)\n", what,
                sb_last_error_message());
        abort();
    }
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* One folder for every fuzzing process (libFuzzer's fork mode ends its
 * children without atexit): the description files, created once, and an
 * index per process, removed after each input. */
#define FOLDER_SHM "/dev/shm/sb-fuzz-index"
#define FOLDER_TMP "/tmp/sb-fuzz-index"

static void write_file(const char *path, const void *data, size_t size, int flags)
{
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0600);
    if (fd < 0)
        return;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, (const char *)data + done, size - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
}

static bool prepare(void)
{
    if (index_path[0])
        return true;
    const char *folder = FOLDER_SHM;
    if (mkdir(folder, 0700) != 0 && errno != EEXIST) {
        folder = FOLDER_TMP;
        if (mkdir(folder, 0700) != 0 && errno != EEXIST)
            return false;
    }
    char p[128];
    snprintf(p, sizeof p, "%s/desc.md", folder);
    write_file(p, "a\r\ndescription\r", 16, O_EXCL);
    snprintf(p, sizeof p, "%s/d", folder);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/d/desc.md", folder);
    write_file(p, "nested\n", 7, O_EXCL);
    snprintf(index_path, sizeof index_path, "%s/index-%ld.toml", folder, (long)getpid());
    return true;
}

static void walk(bool load_description)
{
    sb_shared_dataset *list = (sb_shared_dataset *)&list;
    size_t count = 99;
    int rc = sb_shared_datasets(&list, &count, index_path, load_description);
    if (rc != 0) {
        check(rc < 0 && list == NULL && count == 0, "failed listing leaves NULL, 0");
        check(sb_last_error_message()[0] != '\0', "failed listing leaves a message");
        return;
    }
    check((count == 0) == (list == NULL), "empty listing is NULL");
    for (size_t i = 0; i < count; i++) {
        const sb_shared_dataset *d = &list[i];
        check(d->id && d->path && d->path[0], "listed dataset has an ID and a path");
        check(load_description ? (d->description != NULL) == (d->description_file != NULL)
                               : d->description == NULL,
              "description present exactly when asked and described");
        sb_shared_dataset *one = NULL;
        rc = sb_shared_dataset_lookup(&one, d->id, index_path, load_description);
        check(rc == 0 && one, "a listed ID is found again");
        check(same(one->id, d->id) && same(one->name, d->name) && same(one->path, d->path) &&
                  same(one->description_file, d->description_file) &&
                  same(one->description, d->description),
              "lookup gives what the listing gave");
        sb_free(one);
    }
    sb_free(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!prepare())
        return 0;
    write_file(index_path, data, size, O_TRUNC);
    walk(false);
    walk(true);
    /* An ID that is usually absent, and the empty one. */
    sb_shared_dataset *one = NULL;
    if (sb_shared_dataset_lookup(&one, "a", index_path, true) == 0)
        sb_free(one);
    else
        check(one == NULL, "failed lookup leaves NULL");
    if (sb_shared_dataset_lookup(&one, "", index_path, false) == 0)
        sb_free(one);
    unlink(index_path);
    return 0;
}
