/* rm: remove a dataset from a store. */
#include "db.h"

static const char rm_help[] =
    "Usage: secbench-db rm STORE DATASET [--force]\n"
    "\n"
    "Remove DATASET (its fields and assets) from STORE. A dataset marked\n"
    "unfinished (_sb_incomplete: left by an export or a job that was cut short,\n"
    "see 'secbench-db check') is removed as asked; any other dataset only with\n"
    "--force. The file does not shrink (h5repack gives the space back); Python\n"
    "secbench has no such command.\n"
    "\n"
    "Options:\n"
    "  --force     remove a finished dataset too\n"
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 when removed, 1 on failure (no such store or dataset, the\n"
    "store is being written by another job, a finished dataset without\n"
    "--force), 2 on a command-line mistake.\n";

int db_cmd_rm(int argc, char **argv)
{
    bool force = false;
    const cli_option opts[] = {CLI_FLAG("force", 0, &force)};
    const char *const pos_names[] = {"STORE", "DATASET"};
    const cli_spec spec = {.command = "rm", .help = rm_help, .options = opts, .noptions = 1,
                           .pos_names = pos_names, .npos = 2, .nrequired = 2};
    const char *pos[2];
    size_t npos;
    sb_store *store;
    sb_dataset *ds = NULL;
    char shown[1024];
    int status = CLI_EXIT_FAILURE;
    int code = cli_parse(&spec, argc, argv, pos, &npos);
    if (code >= 0)
        return code;
    /* Look first with a reader: a refusal must not touch the file. */
    if (prog_open_store(&store, pos[0], SB_READ) != 0)
        return CLI_EXIT_FAILURE;
    bool incomplete = false;
    if (!prog_failed(sb_store_load_dataset(&ds, store, pos[1]))) {
        incomplete = sb_dataset_is_incomplete(ds);
        sb_dataset_close(ds);
        status = CLI_EXIT_OK;
    }
    if (prog_close_store(store) != 0 || status != CLI_EXIT_OK)
        return CLI_EXIT_FAILURE;
    out_shown(shown, sizeof shown, pos[1]);
    if (!incomplete && !force) {
        cli_error("dataset '%s' is finished (not marked unfinished): pass --force to remove it",
                  shown);
        return CLI_EXIT_FAILURE;
    }
    if (prog_open_store(&store, pos[0], SB_READ_WRITE) != 0)
        return CLI_EXIT_FAILURE;
    status = prog_failed(sb_store_remove_dataset(store, pos[1])) ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
    if (prog_close_store(store) != 0)
        status = CLI_EXIT_FAILURE;
    return status;
}
