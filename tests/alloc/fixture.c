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

static char poison_target;
#define POISON ((void *)&poison_target)

void sbt_poison(sbt_outputs *o, unsigned outputs)
{
    if (outputs & OUT_STORE)
        o->s = POISON;
    if (outputs & OUT_DS)
        o->out = POISON;
    if (outputs & OUT_NAMES) {
        o->names = POISON;
        o->count = 777;
    }
    if (outputs & OUT_FLAG)
        o->flag = true;
    if (outputs & OUT_BYTES) {
        o->bytes = POISON;
        o->len = 777;
    }
    if (outputs & OUT_ARRAY) {
        memset(&o->arr, 0x5a, sizeof o->arr);
        o->arr.data = POISON;
    }
    if (outputs & OUT_GET)
        for (int i = 0; i < 2; i++) {
            memset(&o->got[i], 0x5a, sizeof o->got[i]);
            o->got[i].data = POISON;
        }
    if (outputs & OUT_JSON)
        o->json = POISON;
    if (outputs & OUT_TEXT)
        o->str = POISON;
    if (outputs & OUT_SHARED) {
        o->shared = POISON;
        o->nshared = 777;
    }
}

const char *sbt_not_cleared(const sbt_outputs *o, unsigned outputs)
{
    static const sb_array zero;
    if ((outputs & OUT_STORE) && o->s)
        return "the store";
    if ((outputs & OUT_DS) && o->out)
        return "the dataset";
    if ((outputs & OUT_NAMES) && (o->names || o->count))
        return "the names";
    if ((outputs & OUT_FLAG) && o->flag)
        return "the flag";
    if ((outputs & OUT_BYTES) && (o->bytes || o->len))
        return "the bytes";
    if ((outputs & OUT_ARRAY) && memcmp(&o->arr, &zero, sizeof zero) != 0)
        return "the array";
    if ((outputs & OUT_GET) && (memcmp(&o->got[0], &zero, sizeof zero) != 0 ||
                                memcmp(&o->got[1], &zero, sizeof zero) != 0))
        return "the arrays";
    if ((outputs & (OUT_JSON | OUT_NODE)) && o->json)
        return "the JSON document";
    if ((outputs & OUT_TEXT) && o->str)
        return "the text";
    if ((outputs & OUT_SHARED) && (o->shared || o->nshared))
        return "the shared datasets";
    return NULL;
}

void sbt_unpoison(sbt_outputs *o)
{
    if (o->s == POISON)
        o->s = NULL;
    if (o->out == POISON)
        o->out = NULL;
    if (o->names == (char **)POISON)
        o->names = NULL;
    if (o->bytes == POISON)
        o->bytes = NULL;
    if (o->arr.data == POISON)
        o->arr.data = NULL;
    for (int i = 0; i < 2; i++)
        if (o->got[i].data == POISON)
            o->got[i].data = NULL;
    if (o->json == POISON)
        o->json = NULL;
    if (o->str == POISON)
        o->str = NULL;
    if (o->shared == POISON)
        o->shared = NULL;
}
