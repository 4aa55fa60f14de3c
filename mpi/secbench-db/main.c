/* secbench-db: the command users run on secbench stores. MPI is always
 * initialised (a plain run is an MPI singleton), so the same binary works
 * alone, under mpirun and under srun. */
#include <stdio.h>
#include <string.h>

#include <mpi.h>

#include "cli.h"
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
    "  export -o OUT STORE DATASET    copy a dataset into another store\n"
    "  benchmark STORE                time writing and reading traces\n"
    "  check STORE                    validate every dataset\n"
    "  asset STORE DATASET NAME       print an asset (raw, or --json)\n"
    "  help [COMMAND]                 show this help or a command's help\n"
    "\n"
    "Run 'secbench-db COMMAND --help' for a command's options.\n"
    "\n"
    "Exit status: 0 on success, 1 on failure (check: a problem found), 2 on a\n"
    "command-line mistake (check: also a store that cannot be opened).\n";

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"status", db_cmd_status}, {"ls", db_cmd_ls},       {"export", db_cmd_export},
    {"benchmark", db_cmd_benchmark}, {"check", db_cmd_check}, {"asset", db_cmd_asset},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_version(void)
{
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (cli_rank() != 0)
        return;
    MPI_Get_library_version(mpi, &len);
    mpi[strcspn(mpi, "\n,")] = '\0';
    printf("secbench-db %s (secbench-storage %s)\n", SB_VERSION_STRING, sb_version());
    printf("HDF5 %s\n", sb_hdf5_version());
    printf("MPI %s\n", mpi);
}

static int dispatch(int argc, char **argv)
{
    const command *cmd;
    if (argc < 2) {
        cli_usage_error(NULL, "no command given");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        db_print(main_help);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        print_version();
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        char help_flag[] = "--help";
        char *args[] = {help_flag};
        if (argc < 3) {
            db_print(main_help);
            return CLI_EXIT_OK;
        }
        cmd = find_command(argv[2]);
        if (!cmd) {
            cli_usage_error(NULL, "unknown command '%s'", argv[2]);
            return CLI_EXIT_USAGE;
        }
        return cmd->run(1, args);
    }
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
    int status, worst;
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "%s: error: MPI_Init failed\n", DB_PROGRAM);
        return CLI_EXIT_FAILURE;
    }
    cli_init(DB_PROGRAM);
    status = dispatch(argc, argv);
    fflush(stdout);
    /* Every rank leaves with the same status, so that mpirun and srun report
     * the failure whichever rank saw it. */
    MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return worst;
}
