/* Shared helpers of the benchmark programs: the CSV every
 * program appends to, timing statistics, peak RSS and page-cache control.
 * Everything here is plain libc (+ MPI for the collective helpers), so that
 * the baselines and the library are measured through the same harness. */
#ifndef SB_BENCH_COMMON_H
#define SB_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "cli.h"
#include "progress.h"

/* Options use the programs' parser (mpi/common/cli.h); the clock is theirs
 * too (cli_now, mpi/common/progress.h). */
#define BC_OPT(n, k, t, h) {.name = (n), .kind = (k), .target = (t), .help = (h)}

/* Parse argv with those options (no positional argument). Returns -1 to
 * run, else the exit status: 0 after --help, 2 after a mistake. */
int bc_parse(int argc, char **argv, const cli_option *opts, size_t nopts, const char *summary);

/* One CSV row: workload,ranks,bytes,rep,impl,seconds,MBps,peak_rss_kib.
 * Writes the header first when the file is new or empty. rss_kib < 0: blank. */
int bc_csv_row(const char *path, const char *workload, int ranks, uint64_t bytes,
               int rep, const char *impl, double seconds, long rss_kib);

/* Median and minimum of a sample (the array is sorted in place). */
double bc_median(double *v, size_t n);
double bc_min(const double *v, size_t n);

/* Peak RSS (VmHWM) in KiB, and a reset of it to the current RSS (Linux
 * /proc/self/clear_refs "5"), so each measurement sees only its own peak. */
long bc_peak_rss_kib(void);
void bc_reset_peak_rss(void);

/* Write dirty pages of `path` to disk and drop its pages from the page cache,
 * so that the next read comes from the disk. Returns 0 or -1 (errno). */
int bc_drop_cache(const char *path);

/* Deterministic bytes, different per seed. */
void bc_fill(void *buf, size_t n, uint64_t seed);

/* Abort every rank with a message naming what failed. */
void bc_die(const char *what, const char *detail);

/* Largest value over the ranks of comm. */
double bc_max(double v, MPI_Comm comm);
long bc_max_long(long v, MPI_Comm comm);

/* MPI_Info built from "key=value,key=value" (NULL or "" -> MPI_INFO_NULL). */
MPI_Info bc_info_from_hints(const char *hints);

/* Measurements of one program run, kept for the summary it prints. */
#define BC_MAX_REPS 64
#define BC_MAX_SERIES 48
typedef struct bc_series {
    char workload[96];
    char impl[32];
    uint64_t bytes;
    double secs[BC_MAX_REPS];
    int n;
} bc_series;

typedef struct bc_run {
    const char *csv; /* NULL: no CSV */
    int ranks;
    int rank;        /* only rank 0 writes */
    bc_series series[BC_MAX_SERIES];
    int nseries;
} bc_run;

/* Record one measurement: a CSV row (rank 0) and the series for the summary. */
void bc_record(bc_run *run, const char *workload, uint64_t bytes, int rep,
               const char *impl, double seconds, long rss_kib);
/* Print, per workload, median and min of each impl and the throughput ratio
 * impl/baseline (baseline median time / impl median time) on rank 0. */
void bc_print_summary(bc_run *run, const char *baseline);

/* "<dir>/<name>" into buf, name formatted like printf (names carry the rank
 * count so that runs at several rank counts can share a directory). */
void bc_path(char *buf, size_t len, const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
