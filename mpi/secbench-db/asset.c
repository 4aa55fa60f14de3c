/* asset: print one asset of a dataset. */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "db.h"

static const char asset_help[] =
    "Usage: secbench-db asset STORE DATASET NAME [--json | --raw]\n"
    "\n"
    "Write the asset NAME of DATASET to stdout. By default the stored bytes are\n"
    "written unchanged (a typed array as its raw C-order, little-endian bytes),\n"
    "so that `secbench-db asset ... > file` gives back exactly what was stored,\n"
    "JSON or not. When stdout is a terminal (as one process: under mpirun or\n"
    "srun a rank cannot tell), an asset that is not text (not UTF-8, or holding\n"
    "control characters) is not written: a one-line summary (dtype, shape,\n"
    "bytes) is printed instead, unless --raw is given.\n"
    "\n"
    "Options:\n"
    "  --json      parse the asset as JSON and print it indented (numbers exactly\n"
    "              as stored); fails (exit 1) if the asset is not valid JSON\n"
    "  --raw       write the bytes even to a terminal\n"
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 on success, 1 on failure (no such store, dataset or asset;\n"
    "not JSON with --json; stdout cannot be written), 2 on a command-line mistake.\n";

static int print_json(const char *name, const void *data, size_t len)
{
    cJSON *json = NULL;
    if (sb_json_parse(&json, data, len) != 0) {
        char shown[1024];
        cli_error("asset '%s' is not valid JSON (%s); drop --json for the raw bytes",
                  out_shown(shown, sizeof shown, name), prog_error_text());
        return CLI_EXIT_FAILURE;
    }
    if (cli_rank() == 0)
        out_json_write(stdout, json);
    cJSON_Delete(json);
    return CLI_EXIT_OK;
}

/* What a terminal gets instead of binary bytes. */
static void print_summary(sb_dataset *ds, const char *name, size_t len)
{
    sb_array info;
    char shown[1024], shape[256] = "?";
    const char *dtype = "bytes";
    if (sb_dataset_asset_info(&info, ds, name) == 0) {
        dtype = sb_dtype_name(info.dtype);
        db_shape_text(shape, sizeof shape, info.ndim, info.shape);
    }
    if (cli_rank() == 0)
        printf("asset %s: %s %s, %zu bytes of binary data, not written to a terminal "
               "(redirect stdout to a file, or pass --raw)\n",
               out_shown(shown, sizeof shown, name), dtype, shape, len);
}

int db_cmd_asset(int argc, char **argv)
{
    bool json = false, raw = false;
    const cli_option opts[] = {CLI_FLAG("json", 0, &json), CLI_FLAG("raw", 0, &raw)};
    const char *const pos_names[] = {"STORE", "DATASET", "NAME"};
    const cli_spec spec = {.command = "asset", .help = asset_help, .options = opts,
                           .noptions = 2, .pos_names = pos_names, .npos = 3, .nrequired = 3};
    const char *pos[3];
    size_t npos, len = 0;
    sb_store *store;
    sb_dataset *ds = NULL;
    void *data = NULL;
    int status = CLI_EXIT_FAILURE;
    int code = cli_parse(&spec, argc, argv, pos, &npos);
    if (code >= 0)
        return code;
    if (json && raw) {
        cli_usage_error("asset", "--json and --raw exclude each other");
        return CLI_EXIT_USAGE;
    }
    if (prog_open_store(&store, pos[0], SB_READ) != 0)
        return CLI_EXIT_FAILURE;
    if (!prog_failed(sb_store_load_dataset(&ds, store, pos[1])) &&
        !prog_failed(sb_dataset_get_asset_bytes(&data, &len, ds, pos[2]))) {
        if (json)
            status = print_json(pos[2], data, len);
        else if (!raw && prog_stdout_is_tty() && !out_is_text(data, len))
            print_summary(ds, pos[2], len), status = CLI_EXIT_OK;
        else if (cli_rank() == 0 && len > 0)
            status = fwrite(data, 1, len, stdout) == len ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
        else
            status = CLI_EXIT_OK;
    }
    sb_free(data);
    if (ds)
        sb_dataset_close(ds);
    if (prog_close_store(store) != 0)
        status = CLI_EXIT_FAILURE;
    return status;
}
