/* secbench-db: inspect, check, export, remove and benchmark secbench stores,
 * as one process or under mpirun/srun. Each command lives in its own file
 * and returns an exit status (cli.h); every rank runs it with the same
 * arguments, and what it prints comes from rank 0. */
#ifndef SB_DB_H
#define SB_DB_H

#include <stddef.h>
#include <stdint.h>

#include <secbench/storage.h>

#include "output.h"
#include "prog.h"

int db_cmd_status(int argc, char **argv);
int db_cmd_ls(int argc, char **argv);
int db_cmd_export(int argc, char **argv);
int db_cmd_benchmark(int argc, char **argv);
int db_cmd_check(int argc, char **argv);
int db_cmd_asset(int argc, char **argv);
int db_cmd_rm(int argc, char **argv);
int db_cmd_list(int argc, char **argv);

/* numpy-style shape text: "()", "(500,)", "(3, 4)". */
void db_shape_text(char *buf, size_t len, int ndim, const uint64_t *shape);

#endif
