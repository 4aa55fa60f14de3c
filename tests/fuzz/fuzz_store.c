/* Fuzz target: the input bytes are a store file. The public API has no
 * in-memory image to open (temporary stores start empty), so each input is
 * written to a file in /dev/shm, opened read-only, and walked the way a user
 * would: list the datasets, load each, read every field and asset.
 *
 * Built two ways: with clang -fsanitize=fuzzer (libFuzzer's main, -DSB_FUZZ=ON)
 * and, without SB_LIBFUZZER, as a plain program whose main() replays the
 * files and directories given on its command line (the regression ctest). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <secbench/storage.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reading stops at this many bytes per field: a 4 KiB input can claim a
 * terabyte field, and walking it would test the disk, not the library. */
#define READ_BUDGET (8u << 20)
#define READ_PIECE (1u << 20)

static void walk_field(sb_dataset *ds, size_t i)
{
    sb_field_info fi;
    if (sb_dataset_field_info(&fi, ds, i) != 0 || !fi.defined || fi.row_bytes == 0)
        return;
    uint64_t size = sb_dataset_size(ds);
    uint64_t per = READ_PIECE / fi.row_bytes;
    if (per == 0)
        per = 1;
    if (per * fi.row_bytes > READ_BUDGET)
        return;
    unsigned char *buf = malloc(per * fi.row_bytes);
    if (!buf)
        return;
    uint64_t budget = READ_BUDGET;
    for (uint64_t at = 0; at < size && budget >= per * fi.row_bytes; at += per) {
        uint64_t n = size - at < per ? size - at : per;
        if (sb_dataset_read(buf, ds, fi.name, at, n) != 0)
            break;
        budget -= n * fi.row_bytes;
    }
    /* Past the end: must be refused, never read. */
    (void)sb_dataset_read(buf, ds, fi.name, size, 1);
    free(buf);
    if (size * fi.row_bytes <= READ_BUDGET && size <= READ_BUDGET) {
        sb_array whole;
        memset(&whole, 0, sizeof whole);
        if (sb_dataset_get(&whole, ds, 1, (const char *[]){fi.name}) == 0)
            sb_free(whole.data);
    }
}

static void walk_assets(sb_dataset *ds)
{
    char **names = NULL;
    size_t count = 0;
    if (sb_dataset_asset_names(&names, &count, ds) != 0)
        return;
    for (size_t i = 0; i < count; i++) {
        sb_array info;
        memset(&info, 0, sizeof info);
        if (sb_dataset_asset_info(&info, ds, names[i]) != 0)
            continue;
        uint64_t nbytes = sb_array_nbytes(&info);
        if (nbytes > READ_BUDGET)
            continue;
        void *bytes = NULL;
        size_t len = 0;
        if (sb_dataset_get_asset_bytes(&bytes, &len, ds, names[i]) == 0)
            sb_free(bytes);
        sb_array arr;
        memset(&arr, 0, sizeof arr);
        if (sb_dataset_get_asset_array(&arr, ds, names[i]) == 0)
            sb_free(arr.data);
        cJSON *json = NULL;
        if (sb_dataset_get_json_asset(&json, ds, names[i]) == 0)
            cJSON_Delete(json);
    }
    sb_free(names);
}

static void walk_store(const char *path)
{
    sb_store *st = NULL;
    if (sb_store_open(&st, path, SB_READ, NULL) != 0)
        return;
    char **names = NULL;
    size_t count = 0;
    if (sb_store_dataset_names(&names, &count, st) == 0) {
        for (size_t k = 0; k < count; k++) {
            sb_dataset *ds = NULL;
            if (sb_store_load_dataset(&ds, st, names[k]) != 0)
                continue;
            for (size_t i = 0; i < sb_dataset_nfields(ds); i++)
                walk_field(ds, i);
            walk_assets(ds);
            sb_dataset_close(ds);
        }
        sb_free(names);
    }
    sb_store_close(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/dev/shm/sb-fuzz-%ld.h5", (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return 0;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    if (done == size)
        walk_store(path);
    unlink(path);
    return 0;
}

#ifndef SB_LIBFUZZER
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (!buf || got != (size_t)n) {
        free(buf);
        fprintf(stderr, "%s: cannot read\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput(buf, got);
    free(buf);
    printf("replayed %s (%zu bytes)\n", path, got);
    return 0;
}

/* Replays files, and every regular file of the directories, given. */
int main(int argc, char **argv)
{
    int bad = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            perror(argv[i]);
            bad++;
            continue;
        }
        if (!S_ISDIR(sb.st_mode)) {
            bad += replay_file(argv[i]);
            files++;
            continue;
        }
        struct dirent **list = NULL;
        int n = scandir(argv[i], &list, NULL, alphasort);
        for (int k = 0; k < n; k++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", argv[i], list[k]->d_name);
            if (list[k]->d_name[0] != '.' && stat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
                !strstr(list[k]->d_name, ".json") && !strstr(list[k]->d_name, ".md")) {
                bad += replay_file(p);
                files++;
            }
            free(list[k]);
        }
        free(list);
    }
    printf("%d inputs replayed without a crash\n", files);
    return bad ? 1 : 0;
}
#endif
