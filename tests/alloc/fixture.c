/* The set-up both allocation-failure loops share (fixture.h). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fixture.h"

void (*sbt_on_die)(void);

void sbt_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", sbt_program);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    if (sbt_on_die)
        sbt_on_die();
    exit(2);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t sbt_list_dir(const char *dir, char **names, size_t max)
{
    DIR *d = opendir(dir);
    if (!d)
        sbt_die("cannot list %s: %s", dir, strerror(errno));
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == max)
            sbt_die("more than %zu entries in %s", max, dir);
        if (!(names[n++] = strdup(e->d_name)))
            sbt_die("out of memory");
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    return n;
}

void sbt_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
}

void sbt_empty_dir(const char *dir)
{
    char *names[64];
    size_t n = sbt_list_dir(dir, names, 64);
    for (size_t i = 0; i < n; i++) {
        char path[1200];
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path)
            sbt_die("path too long: %s/%s", dir, names[i]);
        if (unlink(path) != 0)
            sbt_die("cannot remove %s: %s", path, strerror(errno));
    }
    sbt_free_names(names, n);
}

sb_array sbt_wrap(sb_dtype dtype, int ndim, const uint64_t *shape, const void *data)
{
    sb_array a;
    REQ(sb_array_wrap(&a, dtype, ndim, shape, data));
    return a;
}

const char sbt_json_text[] =
    "{\"name\":\"aes\",\"n\":3,\"pi\":3.14159,\"big\":18446744073709551615,\"neg\":-12,"
    "\"flags\":[true,false,null],\"nested\":{\"s\":\"caf\\u00e9 \\\"q\\\"\",\"e\":[],\"o\":{}},"
    "\"long\":1234567890123456789012345678901234567890123456789012345678901234567890}";

void sbt_make_base(const char *path, uint64_t ranks)
{
    static int8_t data[10][16];
    static uint8_t pt[10][4];
    for (int i = 0; i < 10; i++) {
        for (int j = 0; j < 16; j++)
            data[i][j] = (int8_t)(i * 16 + j - 80);
        for (int j = 0; j < 4; j++)
            pt[i][j] = (uint8_t)(i * 7 + j);
    }
    sb_store *s;
    sb_dataset *ds;
    REQ(sb_store_open(&s, path, SB_CREATE_TRUNCATE, NULL));

    const char *tf[] = {"data", "plaintext"};
    REQ(sb_store_create_dataset(&ds, s, "traces", 64, 2, tf));
    sb_array cols[2] = {sbt_wrap(SB_INT8, 2, (uint64_t[]){10, 16}, data),
                        sbt_wrap(SB_UINT8, 2, (uint64_t[]){10, 4}, pt)};
    REQ(sb_dataset_extend(ds, 2, cols));
    REQ(sb_dataset_add_asset_bytes(ds, "notes", "hello, asset", 12, false));
    static const double curve[2][3] = {{1, 2, 3}, {4.5, 5.5, 6.5}};
    sb_array ca = sbt_wrap(SB_FLOAT64, 2, (uint64_t[]){2, 3}, curve);
    REQ(sb_dataset_add_asset_array(ds, "curve", &ca, false));
    cJSON *doc;
    REQ(sb_json_parse(&doc, sbt_json_text, strlen(sbt_json_text)));
    REQ(sb_dataset_add_json_asset(ds, "meta.json", doc, false));
    cJSON_Delete(doc);
    REQ(sb_dataset_close(ds));

    const char *kf[] = {"key"};
    static const uint8_t keys[3][2] = {{1, 2}, {3, 4}, {5, 6}};
    REQ(sb_store_create_dataset(&ds, s, "aes/keys", 8, 1, kf));
    sb_array kc = sbt_wrap(SB_UINT8, 2, (uint64_t[]){3, 2}, keys);
    REQ(sb_dataset_extend(ds, 1, &kc));
    REQ(sb_dataset_close(ds));

    const char *wf[] = {"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"};
    static const int16_t wv[2] = {-1, 1};
    REQ(sb_store_create_dataset(&ds, s, "wide", 16 * ranks, 9, wf));
    sb_array wc[9];
    for (int i = 0; i < 9; i++)
        wc[i] = sbt_wrap(SB_INT16, 1, (uint64_t[]){2}, wv);
    REQ(sb_dataset_extend(ds, 9, wc));
    REQ(sb_dataset_add_asset_bytes(ds, "w", "w", 1, false));
    REQ(sb_dataset_close(ds));

    const char *ef[] = {"a", "b"};
    REQ(sb_store_create_dataset(&ds, s, "empty", 4 * ranks, 2, ef));
    REQ(sb_dataset_close(ds));

    const char *sf[] = {"x", "y"};
    REQ(sb_store_create_dataset(&ds, s, "slots", 8 * ranks, 2, sf));
    REQ(sb_dataset_define_field(ds, "x", SB_FLOAT32, 1, (uint64_t[]){3}));
    REQ(sb_dataset_define_field(ds, "y", SB_UINT8, 0, NULL));
    REQ(sb_dataset_close(ds));
    REQ(sb_store_close(s));
}
