#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

static const char *g_program = "secbench";
static int g_rank = 0;
static int g_nranks = 1;

void cli_init(const char *program)
{
    int initialized = 0, finalized = 0;
    g_program = program;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized) {
        MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
        MPI_Comm_size(MPI_COMM_WORLD, &g_nranks);
    }
}

const char *cli_program(void) { return g_program; }
int cli_rank(void) { return g_rank; }
int cli_nranks(void) { return g_nranks; }

static void vreport(const char *rank_tag, const char *fmt, va_list ap) CLI_PRINTF(2, 0);

static void vreport(const char *rank_tag, const char *fmt, va_list ap)
{
    /* One fprintf per piece is fine: stderr is unbuffered, but the line is
     * built first so that ranks writing at once do not interleave mid-line. */
    char line[2048];
    int n;
    /* What was printed so far comes first when both streams share a file. */
    fflush(stdout);
    n = snprintf(line, sizeof line, "%s%s: error: ", g_program, rank_tag);
    if (n < 0 || (size_t)n >= sizeof line)
        n = 0;
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    if (g_rank != 0)
        return;
    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void cli_error_local(const char *fmt, ...)
{
    char tag[32] = "";
    va_list ap;
    if (g_nranks > 1)
        snprintf(tag, sizeof tag, " (rank %d)", g_rank);
    va_start(ap, fmt);
    vreport(tag, fmt, ap);
    va_end(ap);
}

void cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    if (g_rank != 0)
        return;
    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
    if (command)
        fprintf(stderr, "Try '%s %s --help' for more information.\n", g_program, command);
    else
        fprintf(stderr, "Try '%s --help' for more information.\n", g_program);
    fflush(stderr);
}

bool cli_parse_u64(const char *text, uint64_t *value)
{
    char *end = NULL;
    unsigned long long v;
    if (!text || text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *value = (uint64_t)v;
    return true;
}

static const cli_option *find_long(const cli_option *options, size_t n, const char *name,
                                   size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

static const cli_option *find_short(const cli_option *options, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (options[i].short_name == c)
            return &options[i];
    return NULL;
}

/* Store `value` (NULL for a flag) into the option's target. `shown` is the
 * option as the user typed it, for messages. */
static bool apply(const char *command, const cli_option *opt, const char *shown,
                  const char *value)
{
    switch (opt->kind) {
    case CLI_OPT_FLAG:
        *(bool *)opt->target = true;
        return true;
    case CLI_OPT_STRING:
        *(const char **)opt->target = value;
        return true;
    case CLI_OPT_U64:
        if (!cli_parse_u64(value, (uint64_t *)opt->target)) {
            cli_usage_error(command, "option %s expects a non-negative integer, got '%s'",
                            shown, value);
            return false;
        }
        return true;
    }
    return false;
}

cli_parse_result cli_parse(const char *command, int argc, char **argv,
                           const cli_option *options, size_t noptions,
                           const char *const *pos_names, size_t npos_names,
                           size_t nrequired, const char **positional, size_t *npos)
{
    bool only_positional = false;
    *npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (*npos >= npos_names) {
                cli_usage_error(command, "unexpected argument '%s'", arg);
                return CLI_PARSE_ERROR;
            }
            positional[(*npos)++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return CLI_PARSE_HELP;

        const cli_option *opt;
        const char *value = NULL;
        char shown[128];
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            opt = find_long(options, noptions, name, len);
            snprintf(shown, sizeof shown, "--%.*s", (int)len, name);
            if (!opt) {
                cli_usage_error(command, "unknown option '%s'", shown);
                return CLI_PARSE_ERROR;
            }
            if (eq) {
                if (opt->kind == CLI_OPT_FLAG) {
                    cli_usage_error(command, "option %s takes no value", shown);
                    return CLI_PARSE_ERROR;
                }
                value = eq + 1;
            }
        } else {
            opt = find_short(options, noptions, arg[1]);
            snprintf(shown, sizeof shown, "-%c", arg[1]);
            if (!opt) {
                cli_usage_error(command, "unknown option '%s'", arg);
                return CLI_PARSE_ERROR;
            }
            if (arg[2] != '\0') {
                if (opt->kind == CLI_OPT_FLAG) {
                    cli_usage_error(command, "option %s takes no value", shown);
                    return CLI_PARSE_ERROR;
                }
                value = arg + 2;
            }
        }
        if (opt->kind != CLI_OPT_FLAG && !value) {
            if (i + 1 >= argc) {
                cli_usage_error(command, "option %s needs a value", shown);
                return CLI_PARSE_ERROR;
            }
            value = argv[++i];
        }
        if (!apply(command, opt, shown, value))
            return CLI_PARSE_ERROR;
    }
    if (*npos < nrequired) {
        cli_usage_error(command, "missing argument %s", pos_names[*npos]);
        return CLI_PARSE_ERROR;
    }
    return CLI_PARSE_OK;
}
