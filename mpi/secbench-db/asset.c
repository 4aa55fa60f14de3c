/* asset: print one asset of a dataset. */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "db.h"

static const char asset_help[] =
    "Usage: secbench-db asset STORE DATASET NAME [--json]\n"
    "\n"
    "Write the asset NAME of DATASET to stdout. By default the stored bytes are\n"
    "written unchanged (a typed array as its raw C-order, little-endian bytes),\n"
    "so that `secbench-db asset ... > file` gives back exactly what was stored,\n"
    "JSON or not.\n"
    "\n"
    "Options:\n"
    "  --json      parse the asset as JSON and pretty-print it; fails (exit 1) if\n"
    "              the asset is not valid JSON\n"
    "  -h, --help  show this help\n";

static int print_json(const char *dataset, const char *name, const void *data, size_t len)
{
    cJSON *json = cJSON_ParseWithLength(data, len);
    char *text;
    if (!json) {
        cli_error("asset '%s' of dataset '%s' is not valid JSON (drop --json for the raw "
                  "bytes)", name, dataset);
        return CLI_EXIT_FAILURE;
    }
    text = cJSON_Print(json);
    cJSON_Delete(json);
    if (!text) {
        cli_error("out of memory while printing asset '%s'", name);
        return CLI_EXIT_FAILURE;
    }
    if (cli_rank() == 0)
        printf("%s\n", text);
    cJSON_free(text);
    return CLI_EXIT_OK;
}

int db_cmd_asset(int argc, char **argv)
{
    bool json = false;
    const cli_option opts[] = {{"json", 0, CLI_OPT_FLAG, &json}};
    const char *const pos_names[] = {"STORE", "DATASET", "NAME"};
    const char *pos[3];
    size_t npos, len = 0;
    sb_store *store;
    sb_dataset *ds;
    void *data = NULL;
    char what[512];
    int status = CLI_EXIT_OK;

    switch (cli_parse("asset", argc, argv, opts, 1, pos_names, 3, 3, pos, &npos)) {
    case CLI_PARSE_HELP: db_print(asset_help); return CLI_EXIT_OK;
    case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
    case CLI_PARSE_OK: break;
    }
    if (db_open_store(pos[0], SB_READ, &store) != 0)
        return CLI_EXIT_FAILURE;
    if (sb_store_load_dataset(&ds, store, pos[1]) != 0) {
        snprintf(what, sizeof what, "cannot load dataset '%s' of %s", pos[1], pos[0]);
        db_report(what);
        sb_store_close(store);
        return CLI_EXIT_FAILURE;
    }
    if (sb_dataset_get_asset_bytes(&data, &len, ds, pos[2]) != 0) {
        snprintf(what, sizeof what, "cannot read asset '%s' of dataset '%s'", pos[2], pos[1]);
        db_report(what);
        status = CLI_EXIT_FAILURE;
    } else if (json) {
        status = print_json(pos[1], pos[2], data, len);
    } else if (cli_rank() == 0 && len > 0 && fwrite(data, 1, len, stdout) != len) {
        cli_error_local("cannot write asset '%s' to stdout", pos[2]);
        status = CLI_EXIT_FAILURE;
    }
    sb_free(data);
    sb_dataset_close(ds);
    sb_store_close(store);
    return status;
}
