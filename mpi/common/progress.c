#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A log gets a line this often; a terminal is redrawn this often. */
#define LOG_INTERVAL 2.0
#define TTY_INTERVAL 0.1

bool cli_progress_wanted(bool forced)
{
    return forced || isatty(STDERR_FILENO);
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress_start(cli_progress *p, bool enabled, const char *label, uint64_t total,
                        double row_bytes)
{
    memset(p, 0, sizeof *p);
    p->enabled = enabled;
    p->tty = enabled && isatty(STDERR_FILENO);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->row_bytes = row_bytes;
    p->start = cli_now();
    p->last_print = p->start;
}

static void draw(cli_progress *p, uint64_t done, double now, bool final)
{
    double elapsed = now - p->start;
    double rows_s = elapsed > 0 ? (double)done / elapsed : 0.0;
    double mb_s = rows_s * p->row_bytes / 1e6;
    char line[256];
    int n;
    if (final)
        n = snprintf(line, sizeof line, "%s: %llu rows in %.3f s, %.0f rows/s, %.1f MB/s",
                     p->label, (unsigned long long)done, elapsed, rows_s, mb_s);
    else if (p->total > 0)
        n = snprintf(line, sizeof line, "%s: %5.1f%% %llu/%llu rows, %.0f rows/s, %.1f MB/s",
                     p->label, 100.0 * (double)done / (double)p->total,
                     (unsigned long long)done, (unsigned long long)p->total, rows_s, mb_s);
    else
        n = snprintf(line, sizeof line, "%s: %llu rows, %.0f rows/s, %.1f MB/s", p->label,
                     (unsigned long long)done, rows_s, mb_s);
    if (n < 0)
        return;
    if (p->tty) {
        int pad = p->last_width > n ? p->last_width - n : 0;
        fprintf(stderr, "\r%s%*s%s", line, pad, "", final ? "\n" : "");
        p->last_width = final ? 0 : n;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
    p->last_print = now;
}

void cli_progress_update(cli_progress *p, uint64_t done)
{
    double now;
    if (!p->enabled)
        return;
    now = cli_now();
    if (now - p->last_print < (p->tty ? TTY_INTERVAL : LOG_INTERVAL))
        return;
    draw(p, done, now, false);
}

void cli_progress_finish(cli_progress *p, uint64_t done)
{
    if (!p->enabled)
        return;
    draw(p, done, cli_now(), true);
    p->enabled = false;
}
