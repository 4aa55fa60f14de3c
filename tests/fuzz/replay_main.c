/* The regression side of every fuzz target: without libFuzzer, a main() that
 * feeds LLVMFuzzerTestOneInput the files, and every regular file of the
 * directories, given on its command line (not *.md or README files). A
 * target's invariants abort(), so a replay that returns has passed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

static bool replayable(const char *name)
{
    return name[0] != '.' && !strstr(name, ".md") && strncmp(name, "README", 6) != 0;
}

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
            if (replayable(list[k]->d_name) && stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
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
