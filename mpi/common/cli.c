#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>
#include <secbench/storage.h>

static const char *g_program = "secbench";
static int g_rank = 0;
static int g_nranks = 1;
static bool g_error_said = false;
static int g_stdout_errno = 0;

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

static void vreport(const char *rank_tag, const char *kind, const char *fmt, va_list ap)
    CLI_PRINTF(3, 0);

static void vreport(const char *rank_tag, const char *kind, const char *fmt, va_list ap)
{
    /* The line is built first, so that ranks writing at once do not
     * interleave mid-line. */
    char line[4096];
    int n;
    /* What was printed so far comes first when both streams share a file. */
    cli_flush_stdout();
    n = snprintf(line, sizeof line, "%s%s: %s: ", g_program, rank_tag, kind);
    if (n < 0 || (size_t)n >= sizeof line)
        n = 0;
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    /* One line, whatever the message holds. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

#define REPORT_ON_RANK0(kind)   \
    do {                        \
        va_list ap;             \
        if (g_rank != 0)        \
            return;             \
        va_start(ap, fmt);      \
        vreport("", kind, fmt, ap); \
        va_end(ap);             \
    } while (0)

void cli_error(const char *fmt, ...)
{
    g_error_said = true;
    REPORT_ON_RANK0("error");
}

void cli_warning(const char *fmt, ...) { REPORT_ON_RANK0("warning"); }
void cli_note(const char *fmt, ...) { REPORT_ON_RANK0("note"); }

void cli_error_local(const char *fmt, ...)
{
    char tag[32] = "";
    va_list ap;
    g_error_said = true;
    if (g_nranks > 1)
        snprintf(tag, sizeof tag, " (rank %d)", g_rank);
    va_start(ap, fmt);
    vreport(tag, "error", fmt, ap);
    va_end(ap);
}

void cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    g_error_said = true;
    if (g_rank != 0)
        return;
    va_start(ap, fmt);
    vreport("", "error", fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s%s%s --help' for more information.\n", g_program,
            command ? " " : "", command ? command : "");
    fflush(stderr);
}

void cli_print(const char *text)
{
    if (g_rank == 0)
        fputs(text, stdout);
}

bool cli_error_said(void) { return g_error_said; }

int cli_flush_stdout(void)
{
    if (fflush(stdout) == 0)
        return 0;
    int err = errno ? errno : EIO;
    if (g_stdout_errno == 0)
        g_stdout_errno = err;
    return err;
}

int cli_stdout_errno(void) { return g_stdout_errno; }

void cli_print_version(void)
{
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = "unknown";
    int len = 0, initialized = 0;
    if (g_rank != 0)
        return;
    MPI_Initialized(&initialized);
    if (initialized)
        MPI_Get_library_version(mpi, &len);
    mpi[strcspn(mpi, "\n,")] = '\0';
    printf("%s %s (secbench-storage %s)\n", g_program, SB_VERSION_STRING, sb_version());
    printf("HDF5 %s\n", sb_hdf5_version());
    printf("MPI %s\n", mpi);
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

bool cli_parse_size(const char *text, uint64_t *value)
{
    char digits[32];
    size_t n = 0;
    uint64_t v, mul = 1;
    while (text && text[n] >= '0' && text[n] <= '9' && n + 1 < sizeof digits) {
        digits[n] = text[n];
        n++;
    }
    if (n == 0 || (text[n] >= '0' && text[n] <= '9'))
        return false;
    digits[n] = '\0';
    if (!cli_parse_u64(digits, &v))
        return false;
    const char *s = text + n;
    switch (*s) {
    case 'k': case 'K': mul = UINT64_C(1) << 10; s++; break;
    case 'm': case 'M': mul = UINT64_C(1) << 20; s++; break;
    case 'g': case 'G': mul = UINT64_C(1) << 30; s++; break;
    default: break;
    }
    if (mul > 1 && *s == 'i')
        s++;
    if (mul > 1 && *s == 'B')
        s++;
    if (*s != '\0' || (v > 0 && mul > UINT64_MAX / v))
        return false;
    *value = v * mul;
    return true;
}

bool cli_parse_range(const char *text, uint64_t *start, uint64_t *end, bool *end_given)
{
    const char *colon = text ? strchr(text, ':') : NULL;
    char left[32];
    size_t len;
    if (!colon || strchr(colon + 1, ':'))
        return false;
    len = (size_t)(colon - text);
    if (len >= sizeof left)
        return false;
    memcpy(left, text, len);
    left[len] = '\0';
    *start = 0;
    if (len && !cli_parse_u64(left, start))
        return false;
    *end_given = colon[1] != '\0';
    return !*end_given || cli_parse_u64(colon + 1, end);
}

static const cli_option *find_long(const cli_spec *spec, const char *name, size_t len)
{
    for (size_t i = 0; i < spec->noptions; i++)
        if (strlen(spec->options[i].name) == len &&
            strncmp(spec->options[i].name, name, len) == 0)
            return &spec->options[i];
    return NULL;
}

static const cli_option *find_short(const cli_spec *spec, char c)
{
    for (size_t i = 0; i < spec->noptions; i++)
        if (spec->options[i].short_name == c)
            return &spec->options[i];
    return NULL;
}

/* Store `value` (NULL for a flag) into the option's target. `shown` is the
 * option as the user typed it, for messages. */
static bool apply(const cli_spec *spec, const cli_option *opt, const char *shown,
                  const char *value)
{
    uint64_t v = 0;
    if (opt->given)
        *opt->given = true;
    switch (opt->kind) {
    case CLI_OPT_FLAG:
        *(bool *)opt->target = true;
        return true;
    case CLI_OPT_STRING:
        *(const char **)opt->target = value;
        return true;
    case CLI_OPT_U64:
        if (cli_parse_u64(value, (uint64_t *)opt->target))
            return true;
        cli_usage_error(spec->command, "option %s expects a non-negative integer, got '%s'",
                        shown, value);
        return false;
    case CLI_OPT_SIZE:
        if (cli_parse_size(value, (uint64_t *)opt->target))
            return true;
        cli_usage_error(spec->command, "option %s expects a size such as 4096, 64K or 1G, got '%s'",
                        shown, value);
        return false;
    case CLI_OPT_INT:
        if (cli_parse_u64(value, &v) && v <= 1000000000u) {
            *(int *)opt->target = (int)v;
            return true;
        }
        cli_usage_error(spec->command, "option %s expects an integer from 0 to 10^9, got '%s'",
                        shown, value);
        return false;
    }
    return false;
}

static bool is_flag(const char *arg, const char *a, const char *b)
{
    return strcmp(arg, a) == 0 || strcmp(arg, b) == 0;
}

/* One option argument at argv[*i]; false after reporting a mistake. */
static bool parse_option(const cli_spec *spec, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *value = NULL;
    const cli_option *opt;
    char shown[128];
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        opt = find_long(spec, name, len);
        snprintf(shown, sizeof shown, "--%.*s", (int)len, name);
        if (opt && eq)
            value = eq + 1;
    } else {
        opt = find_short(spec, arg[1]);
        snprintf(shown, sizeof shown, "-%c", arg[1]);
        if (opt && arg[2] != '\0')
            value = arg + 2;
    }
    if (!opt) {
        cli_usage_error(spec->command, "unknown option '%s'", arg[1] == '-' ? shown : arg);
        return false;
    }
    if (opt->kind == CLI_OPT_FLAG && value) {
        cli_usage_error(spec->command, "option %s takes no value", shown);
        return false;
    }
    if (opt->kind != CLI_OPT_FLAG && !value) {
        if (*i + 1 >= argc) {
            cli_usage_error(spec->command, "option %s needs a value", shown);
            return false;
        }
        value = argv[++*i];
    }
    return apply(spec, opt, shown, value);
}

int cli_parse(const cli_spec *spec, int argc, char **argv, const char **positional,
              size_t *npos)
{
    bool only_positional = false;
    *npos = 0;
    /* Help and version win over any mistake elsewhere on the line. */
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (is_flag(argv[i], "--help", "-h")) {
            if (spec->help)
                cli_print(spec->help);
            else
                cli_print_generated_help(spec);
            return CLI_EXIT_OK;
        }
        if (spec->version && is_flag(argv[i], "--version", "-V")) {
            cli_print_version();
            return CLI_EXIT_OK;
        }
    }
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (*npos >= spec->npos) {
                cli_usage_error(spec->command, "unexpected argument '%s'", arg);
                return CLI_EXIT_USAGE;
            }
            positional[(*npos)++] = arg;
        } else if (strcmp(arg, "--") == 0) {
            only_positional = true;
        } else if (!parse_option(spec, argc, argv, &i)) {
            return CLI_EXIT_USAGE;
        }
    }
    if (*npos < spec->nrequired) {
        cli_usage_error(spec->command, "missing argument %s", spec->pos_names[*npos]);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

void cli_print_generated_help(const cli_spec *spec)
{
    if (g_rank != 0)
        return;
    printf("%s\n\nOptions:\n", spec->summary ? spec->summary : g_program);
    for (size_t i = 0; i < spec->noptions; i++) {
        const cli_option *o = &spec->options[i];
        const char *arg = o->kind == CLI_OPT_SIZE     ? " SIZE"
                          : o->kind == CLI_OPT_STRING ? " TEXT"
                          : o->kind == CLI_OPT_FLAG   ? ""
                                                      : " N";
        char left[64];
        snprintf(left, sizeof left, "--%s%s", o->name, arg);
        printf("  %-18s %s\n", left, o->help ? o->help : "");
    }
    printf("  %-18s %s\n", "-h, --help", "show this help");
    printf("SIZE takes K, M, G suffixes (powers of 1024).\n"
           "Exit status: 0 on success, 1 on failure, 2 on a command-line mistake.\n");
}
