/* A progress and rate meter for long work (export, benchmark, jobs): one
 * line on stderr showing rows done, rows/s and MB/s. On a terminal the line
 * is redrawn in place; otherwise (--progress into a log) a line is printed at
 * most every few seconds, plus a final one. Only the rank that owns the
 * meter prints: start it enabled on rank 0 only. */
#ifndef SB_PROGRESS_H
#define SB_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cli_progress {
    bool enabled;
    bool tty;
    char label[64];
    uint64_t total;       /* rows expected, 0 if unknown */
    double row_bytes;     /* bytes per row, for MB/s */
    double start;
    double last_print;
    int last_width;       /* chars drawn on the tty line, to blank leftovers */
} cli_progress;

/* Whether a meter should run: asked for (--progress) or stderr is a terminal. */
bool cli_progress_wanted(bool forced);

/* Monotonic seconds. */
double cli_now(void);

void cli_progress_start(cli_progress *p, bool enabled, const char *label, uint64_t total,
                        double row_bytes);
void cli_progress_update(cli_progress *p, uint64_t done);
/* Final line: rows, seconds, rows/s, MB/s. */
void cli_progress_finish(cli_progress *p, uint64_t done);

#endif
