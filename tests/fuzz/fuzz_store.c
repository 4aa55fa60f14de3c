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
