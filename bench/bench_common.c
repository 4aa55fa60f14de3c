#define _POSIX_C_SOURCE 200809L
#include "bench_common.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int bc_parse(int argc, char **argv, const cli_option *opts, size_t nopts, const char *summary)
{
    const char *slash = strrchr(argv[0], '/');
    const cli_spec spec = {.summary = summary, .options = opts, .noptions = nopts};
    size_t npos = 0;
    cli_init(slash ? slash + 1 : argv[0]);
    return cli_parse(&spec, argc - 1, argv + 1, NULL, &npos);
}

int bc_csv_row(const char *path, const char *workload, int ranks, uint64_t bytes,
               int rep, const char *impl, double seconds, long rss_kib)
{
    if (!path || !*path)
        return 0;
    FILE *f = fopen(path, "a");
    if (!f) {
        fprintf(stderr, "cannot append to CSV '%s': %s\n", path, strerror(errno));
        return -1;
    }
    /* Where an append stream starts is implementation-defined: ask for the end. */
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) == 0)
        fprintf(f, "workload,ranks,bytes,rep,impl,seconds,MBps,peak_rss_kib\n");
    double mbps = (seconds > 0 && bytes > 0) ? (double)bytes / seconds / 1e6 : 0.0;
    fprintf(f, "%s,%d,%" PRIu64 ",%d,%s,%.9f,%.3f,", workload, ranks, bytes, rep, impl,
            seconds, mbps);
    if (rss_kib >= 0)
        fprintf(f, "%ld", rss_kib);
    fprintf(f, "\n");
    return fclose(f) == 0 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bc_median(double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double bc_min(const double *v, size_t n)
{
    double m = n ? v[0] : 0.0;
    for (size_t i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

long bc_peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

void bc_reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

int bc_drop_cache(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fdatasync(fd);
    if (rc == 0)
        rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0 ? 0 : -1;
    close(fd);
    return rc;
}

void bc_fill(void *buf, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    unsigned char *p = buf;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
    for (; i < n; i++)
        p[i] = (unsigned char)(x >> (8 * (i % 8)));
}

void bc_die(const char *what, const char *detail)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    int rank = 0;
    if (init && !fin)
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr, "bench (rank %d): %s failed: %s\n", rank, what, detail ? detail : "");
    if (init && !fin)
        MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

double bc_max(double v, MPI_Comm comm)
{
    double out = v;
    MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, comm);
    return out;
}

long bc_max_long(long v, MPI_Comm comm)
{
    long out = v;
    MPI_Allreduce(&v, &out, 1, MPI_LONG, MPI_MAX, comm);
    return out;
}

MPI_Info bc_info_from_hints(const char *hints)
{
    if (!hints || !*hints)
        return MPI_INFO_NULL;
    MPI_Info info;
    MPI_Info_create(&info);
    char *copy = strdup(hints);
    if (!copy)
        bc_die("strdup", "out of memory");
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            bc_die("--hints", "expected key=value[,key=value...]");
        *eq = '\0';
        MPI_Info_set(info, tok, eq + 1);
    }
    free(copy);
    return info;
}

void bc_path(char *buf, size_t len, const char *dir, const char *fmt, ...)
{
    int n = snprintf(buf, len, "%s/", dir && *dir ? dir : ".");
    if (n < 0 || (size_t)n >= len)
        bc_die("path", "directory name too long");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, len - (size_t)n, fmt, ap);
    va_end(ap);
}

void bc_record(bc_run *run, const char *workload, uint64_t bytes, int rep,
               const char *impl, double seconds, long rss_kib)
{
    if (run->rank != 0)
        return;
    if (bc_csv_row(run->csv, workload, run->ranks, bytes, rep, impl, seconds, rss_kib) != 0)
        bc_die("writing the CSV", run->csv);
    bc_series *s = NULL;
    for (int i = 0; i < run->nseries; i++)
        if (strcmp(run->series[i].workload, workload) == 0 &&
            strcmp(run->series[i].impl, impl) == 0)
            s = &run->series[i];
    if (!s) {
        if (run->nseries == BC_MAX_SERIES)
            return;
        s = &run->series[run->nseries++];
        memset(s, 0, sizeof *s);
        snprintf(s->workload, sizeof s->workload, "%s", workload);
        snprintf(s->impl, sizeof s->impl, "%s", impl);
        s->bytes = bytes;
    }
    if (s->n < BC_MAX_REPS)
        s->secs[s->n++] = seconds;
}

void bc_print_summary(bc_run *run, const char *baseline)
{
    if (run->rank != 0)
        return;
    printf("%-34s %5s %-12s %4s %12s %12s %10s %8s\n", "workload", "ranks", "impl", "reps",
           "median_s", "min_s", "MB/s(med)", "ratio");
    for (int i = 0; i < run->nseries; i++) {
        bc_series *s = &run->series[i];
        double tmp[BC_MAX_REPS];
        memcpy(tmp, s->secs, sizeof(double) * (size_t)s->n);
        double med = bc_median(tmp, (size_t)s->n), mn = bc_min(s->secs, (size_t)s->n);
        double base_med = 0.0;
        for (int j = 0; j < run->nseries; j++)
            if (strcmp(run->series[j].workload, s->workload) == 0 &&
                strcmp(run->series[j].impl, baseline) == 0) {
                memcpy(tmp, run->series[j].secs, sizeof(double) * (size_t)run->series[j].n);
                base_med = bc_median(tmp, (size_t)run->series[j].n);
            }
        double mbps = med > 0 && s->bytes ? (double)s->bytes / med / 1e6 : 0.0;
        printf("%-34s %5d %-12s %4d %12.6f %12.6f %10.1f ", s->workload, run->ranks, s->impl,
               s->n, med, mn, mbps);
        if (base_med > 0 && med > 0)
            printf("%8.3f\n", base_med / med);
        else
            printf("%8s\n", "-");
    }
    fflush(stdout);
}
