#define _XOPEN_SOURCE 700
#include "sbt_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void sbt_die(const char *what) {
    perror(what);
    abort();
}

char *sbt_mkdtemp(const char *tag) {
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    size_t len = strlen(base) + strlen(tag) + 32;
    char *path = malloc(len);
    if (!path)
        sbt_die("malloc");
    snprintf(path, len, "%s/sbtest-%s-XXXXXX", base, tag);
    if (!mkdtemp(path))
        sbt_die(path);
    return path;
}

char *sbt_join(const char *dir, const char *name) {
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    if (!path)
        sbt_die("malloc");
    snprintf(path, len, "%s/%s", dir, name);
    return path;
}

static int sbt_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void sbt_rmtree(const char *dir) {
    if (dir)
        nftw(dir, sbt_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool sbt_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

bool sbt_read_file(const char *path, unsigned char **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return false;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        unsigned char *grown = realloc(buf, cap);
        if (!grown)
            free(buf);
        buf = grown;
    }
    fclose(f);
    *data = buf;
    *len = n;
    return true;
}

bool sbt_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

int sbt_count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

void sbt_stderr_begin(sbt_capture *cap) {
    const char *base = getenv("TMPDIR");
    snprintf(cap->path, sizeof cap->path, "%s/sbtest-stderr-XXXXXX",
             base && *base ? base : "/tmp");
    int fd = mkstemp(cap->path);
    if (fd < 0)
        sbt_die("mkstemp");
    fflush(stderr);
    cap->saved_fd = dup(2);
    if (cap->saved_fd < 0 || dup2(fd, 2) < 0)
        sbt_die("dup2");
    close(fd);
}

char *sbt_stderr_end(sbt_capture *cap) {
    fflush(stderr);
    if (dup2(cap->saved_fd, 2) < 0)
        sbt_die("dup2");
    close(cap->saved_fd);
    unsigned char *data = NULL;
    size_t len = 0;
    if (!sbt_read_file(cap->path, &data, &len))
        sbt_die(cap->path);
    unlink(cap->path);
    char *text = malloc(len + 1);
    if (!text)
        sbt_die("malloc");
    memcpy(text, data, len);
    text[len] = '\0';
    free(data);
    return text;
}

sb_store *sbt_open(const char *dir, const char *name, sb_open_mode mode) {
    char *path = sbt_join(dir, name);
    sb_store *s = NULL;
    int rc = sb_store_open(&s, path, mode, NULL);
    if (rc != 0 || !s) {
        fprintf(stderr, "sb_store_open(%s, %s) failed: %d %s\n", path,
                sb_open_mode_string(mode), rc, sb_last_error_message());
        free(path);
        abort();
    }
    free(path);
    return s;
}
