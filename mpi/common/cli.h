/* Command-line helpers shared by the programs in mpi/: a small long-option
 * parser, and error lines "PROG: error: message" printed once (rank 0) or by
 * the rank that failed, so that `mpirun -n 4` does not repeat every line. */
#ifndef SB_CLI_H
#define SB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes shared by the programs: 2 is what shells and getopt users expect
 * for a command-line mistake. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_USAGE = 2 };

/* Name used in messages ("secbench-db"). Call after MPI_Init so that the rank
 * is known (before it, or without MPI, every process counts as rank 0). */
void cli_init(const char *program);
const char *cli_program(void);
int cli_rank(void);
int cli_nranks(void);

#if defined(__GNUC__) || defined(__clang__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* An error every rank sees the same way (collective failure, bad argument):
 * printed by rank 0 only. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* An error only this rank saw: printed here, with the rank when there are
 * several. */
void cli_error_local(const char *fmt, ...) CLI_PRINTF(1, 2);
/* A command-line mistake: the error line plus a hint naming the help to read
 * (command may be NULL for the program's own help). Rank 0 only. */
void cli_usage_error(const char *command, const char *fmt, ...) CLI_PRINTF(2, 3);

typedef enum cli_opt_kind {
    CLI_OPT_FLAG,   /* bool *, set to true */
    CLI_OPT_STRING, /* const char **, points into argv */
    CLI_OPT_U64     /* uint64_t *, decimal, no sign */
} cli_opt_kind;

typedef struct cli_option {
    const char *name; /* long name without the dashes: "chunk-size" */
    char short_name;  /* 'o' for -o, 0 for none */
    cli_opt_kind kind;
    void *target;
} cli_option;

typedef enum cli_parse_result {
    CLI_PARSE_OK = 0,
    CLI_PARSE_HELP = 1,  /* -h/--help was given: print the help, exit 0 */
    CLI_PARSE_ERROR = 2  /* already reported on rank 0: exit CLI_EXIT_USAGE */
} cli_parse_result;

/* Parse argv[0..argc) (argv[0] is an argument, not the program name):
 * "--name value", "--name=value", "-o value", "-ovalue", "--" ends the
 * options. Positional arguments land in positional[] in order; they are
 * named by pos_names (for messages) and the first `nrequired` are required,
 * at most `npos_names` are accepted. Every rank parses the same argv, so an
 * error is reported by rank 0 alone and seen by all. */
cli_parse_result cli_parse(const char *command, int argc, char **argv,
                           const cli_option *options, size_t noptions,
                           const char *const *pos_names, size_t npos_names,
                           size_t nrequired, const char **positional, size_t *npos);

/* Strict decimal: digits only, no sign, no overflow. */
bool cli_parse_u64(const char *text, uint64_t *value);

#endif
