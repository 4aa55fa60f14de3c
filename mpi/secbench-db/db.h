/* secbench-db: inspect, check, export and benchmark secbench stores, as one
 * process or under mpirun/srun. Each command lives in its own file and
 * returns a CLI_EXIT_* code; every rank runs it with the same arguments. */
#ifndef SB_DB_H
#define SB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <secbench/storage.h>

#define DB_PROGRAM "secbench-db"

int db_cmd_status(int argc, char **argv);
int db_cmd_ls(int argc, char **argv);
int db_cmd_export(int argc, char **argv);
int db_cmd_benchmark(int argc, char **argv);
int db_cmd_check(int argc, char **argv);
int db_cmd_asset(int argc, char **argv);

/* Open a store: serial when the program runs as one process, otherwise on
 * MPI_COMM_WORLD so that every rank takes part. On failure the error is
 * reported (rank 0) as "cannot open PATH: reason" and the code returned. */
int db_open_store(const char *path, sb_open_mode mode, sb_store **store);

/* The library's last error message, or its code's name when the message is
 * empty, so that no error line ends in nothing. */
const char *db_error_text(void);

/* Report the library's last error after `what` failed: "what: message". */
void db_report(const char *what);

/* numpy-style shape text: "()", "(500,)", "(3, 4)". */
void db_shape_text(char *buf, size_t len, int ndim, const uint64_t *shape);

/* Print `text` to stdout on rank 0 only. */
void db_print(const char *text);

#endif
