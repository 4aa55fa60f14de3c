/* Command line of the programs in mpi/ and bench/: one long-option parser,
 * and the one-line messages "PROG: error: ..." printed once whatever the
 * rank count (rank 0 for what every rank knows, the failing rank otherwise).
 * It needs no MPI: before MPI_Init, or without MPI, the process is rank 0 of 1. */
#ifndef SB_CLI_H
#define SB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit status of every program: 0 success, 1 failure, 2 a command-line
 * mistake (what getopt users and shells expect). */
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

/* An error every rank knows alike (a bad argument, a collective failure):
 * printed by rank 0 only. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* An error only this rank saw: printed here, naming the rank when there
 * are several. */
void cli_error_local(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "PROG: warning: ..." / "PROG: note: ...", rank 0 only. */
void cli_warning(const char *fmt, ...) CLI_PRINTF(1, 2);
void cli_note(const char *fmt, ...) CLI_PRINTF(1, 2);
/* A command-line mistake: the error line plus a hint naming the help to read
 * (command NULL: the program's own help). Rank 0 only. */
void cli_usage_error(const char *command, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Text on stdout, rank 0 only. */
void cli_print(const char *text);

/* Whether this process printed an error line (cli_error counts on every
 * rank that calls it, since every rank knows that error alike), so that a
 * failure that follows from it prints no second line. */
bool cli_error_said(void);
/* fflush(stdout), keeping the errno of the first failure: glibc drops the
 * buffer of a failed flush, so a later flush succeeds and only ferror()
 * is left, without the reason. Returns 0 or that errno. */
int cli_flush_stdout(void);
/* The errno of the first failed write to stdout seen by cli_flush_stdout,
 * or 0. */
int cli_stdout_errno(void);

typedef enum cli_opt_kind {
    CLI_OPT_FLAG,   /* bool *, set to true */
    CLI_OPT_STRING, /* const char **, points into argv */
    CLI_OPT_U64,    /* uint64_t *, decimal digits only, the whole range */
    CLI_OPT_SIZE,   /* uint64_t *, digits with an optional K, M, G suffix (x 1024^n) */
    CLI_OPT_INT     /* int *, decimal, 0 .. 10^9 */
} cli_opt_kind;

typedef struct cli_option {
    const char *name;  /* long name without the dashes: "chunk-size" */
    char short_name;   /* 'o' for -o, 0 for none */
    cli_opt_kind kind;
    void *target;
    bool *given;       /* set to true when the option appears (NULL: not kept) */
    const char *help;  /* for generated help (bench/); NULL where the help is written out */
} cli_option;

#define CLI_FLAG(n, s, t) {.name = (n), .short_name = (s), .kind = CLI_OPT_FLAG, .target = (t)}
#define CLI_STRING(n, s, t, g) \
    {.name = (n), .short_name = (s), .kind = CLI_OPT_STRING, .target = (t), .given = (g)}
#define CLI_U64(n, s, t, g) \
    {.name = (n), .short_name = (s), .kind = CLI_OPT_U64, .target = (t), .given = (g)}

/* What a command accepts. */
typedef struct cli_spec {
    const char *command;           /* "export"; NULL for the program itself */
    const char *help;              /* the --help text; NULL: generated from summary */
    const char *summary;           /* first lines of a generated help */
    const cli_option *options;
    size_t noptions;
    const char *const *pos_names;  /* names of the positional arguments, for messages */
    size_t npos;                   /* at most this many */
    size_t nrequired;              /* the first nrequired are required */
    bool version;                  /* --version / -V print the versions */
} cli_spec;

/* Parse argv[0..argc) (argv[0] is an argument, not the program name):
 * "--name value", "--name=value", "-o value", "-ovalue", "--" ends the
 * options; positional arguments land in positional[] in order. Every rank
 * parses the same argv, so rank 0 alone reports. Returns -1 when the
 * command is to run, otherwise the exit status to return at once: 0 after
 * printing the help (-h, --help) or the versions, CLI_EXIT_USAGE after a
 * mistake. */
int cli_parse(const cli_spec *spec, int argc, char **argv, const char **positional,
              size_t *npos);

/* The help of a spec without written help: summary, then one line per option. */
void cli_print_generated_help(const cli_spec *spec);

/* The versions: "PROG VERSION (secbench-storage VERSION)", "HDF5 ...",
 * "MPI ..." (rank 0). */
void cli_print_version(void);

/* Strict decimal: digits only, no sign, no overflow. */
bool cli_parse_u64(const char *text, uint64_t *value);
/* Digits with an optional K/M/G suffix (powers of 1024, "KiB"/"KB" accepted). */
bool cli_parse_size(const char *text, uint64_t *value);

/* "START:END", either side may be empty: START is then 0, and END is left
 * to the caller (*end_given false). Checks no bounds: false on another form. */
bool cli_parse_range(const char *text, uint64_t *start, uint64_t *end, bool *end_given);

#endif
