/* secbench-db: the command users run on secbench stores. MPI is always
 * initialised (a plain run is an MPI singleton), so the same binary works
 * alone, under mpirun and under srun. */
#include <stdio.h>
#include <string.h>

#include "db.h"

static const char main_help[] =
    "Usage: secbench-db [--help] [--version] COMMAND [ARGS...]\n"
    "\n"
    "Inspect, check, export and benchmark secbench stores (HDF5 files written by\n"
    "Python secbench.storage or secbench-storage). Runs as one process, or under\n"
    "mpirun/srun where every rank takes part (export and benchmark then spread\n"
    "their I/O over the ranks; output comes from rank 0).\n"
    "\n"
    "Commands:\n"
    "  status STORE [--json]          datasets, capacity, size, fields, assets\n"
    "  ls STORE                       dataset names, one per line\n"
    "  check STORE                    validate every dataset\n"
    "  asset STORE DATASET NAME       print an asset (raw, or --json)\n"
    "  export -o OUT STORE DATASET    copy a dataset into another store\n"
    "  rm STORE DATASET               remove a dataset (--force unless unfinished)\n"
    "  benchmark STORE                time writing and reading traces (new file)\n"
    "  list [-l] [INDEX]              the shared datasets of an index (TOML)\n"
    "  help [COMMAND]                 show this help or a command's help\n"
    "\n"
    "Run 'secbench-db COMMAND --help' for a command's options.\n"
    "\n"
    "Exit status: 0 on success, 1 on failure, 2 on a command-line mistake;\n"
    "check: 1 when it finds a problem, 2 also when the store cannot be opened.\n"
    "A failed write to standard output (a full disk) is a failure.\n";

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"status", db_cmd_status},       {"ls", db_cmd_ls},       {"check", db_cmd_check},
    {"asset", db_cmd_asset},         {"export", db_cmd_export}, {"rm", db_cmd_rm},
    {"benchmark", db_cmd_benchmark}, {"list", db_cmd_list},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void db_shape_text(char *buf, size_t len, int ndim, const uint64_t *shape)
{
    size_t used = 0;
    int n;
    if (len == 0)
        return;
    n = snprintf(buf, len, "(");
    used = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < ndim && used < len; i++) {
        n = snprintf(buf + used, len - used, "%s%llu", i ? ", " : "",
                     (unsigned long long)shape[i]);
        if (n < 0)
            return;
        used += (size_t)n;
    }
    if (used < len)
        snprintf(buf + used, len - used, ndim == 1 ? ",)" : ")");
}

/* "help", "help COMMAND", "help help". */
static int help(int argc, char **argv)
{
    char help_flag[] = "--help";
    char *args[] = {help_flag};
    const command *cmd;
    if (argc < 3 || strcmp(argv[2], "help") == 0) {
        if (argc > 3) {
            cli_usage_error(NULL, "help takes one COMMAND, got '%s' too", argv[3]);
            return CLI_EXIT_USAGE;
        }
        cli_print(main_help);
        return CLI_EXIT_OK;
    }
    cmd = find_command(argv[2]);
    if (!cmd || argc > 3) {
        cli_usage_error(NULL, cmd ? "help takes one COMMAND, got '%s' too"
                                  : "unknown command '%s'", argv[cmd ? 3 : 2]);
        return CLI_EXIT_USAGE;
    }
    return cmd->run(1, args);
}

static int dispatch(int argc, char **argv)
{
    const command *cmd;
    if (argc < 2) {
        cli_usage_error(NULL, "no command given");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_print(main_help);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        cli_print_version();
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0)
        return help(argc, argv);
    if (argv[1][0] == '-') {
        cli_usage_error(NULL, "unknown option '%s'", argv[1]);
        return CLI_EXIT_USAGE;
    }
    cmd = find_command(argv[1]);
    if (!cmd) {
        cli_usage_error(NULL, "unknown command '%s'", argv[1]);
        return CLI_EXIT_USAGE;
    }
    return cmd->run(argc - 2, argv + 2);
}

int main(int argc, char **argv)
{
    return prog_main(argc, argv, "secbench-db", dispatch);
}
