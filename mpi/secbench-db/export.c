/* export: the chunked, parallel copy of one dataset into another store. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "db.h"
#include "progress.h"

static const char export_help[] =
    "Usage: secbench-db export -o OUT STORE DATASET [--rename NAME]\n"
    "                          [--chunk-size N] [--no-shrink] [--progress]\n"
    "\n"
    "Copy DATASET of STORE (rows [0, size), fields and assets) into the store OUT,\n"
    "which is created if missing (mode \"a\"). Under mpirun/srun every rank takes\n"
    "part: rows are cut into chunks dealt to the ranks in turn, so each rank holds\n"
    "at most one chunk in memory.\n"
    "\n"
    "Options:\n"
    "  -o, --output OUT    destination store (required)\n"
    "  --rename NAME       name of the copy (default: DATASET)\n"
    "  --chunk-size N      rows per chunk (default 100000)\n"
    "  --no-shrink         keep the source capacity (default: capacity = size)\n"
    "  --progress          show progress and rate on stderr (default: only when\n"
    "                      stderr is a terminal)\n"
    "  -h, --help          show this help\n";

static void on_progress(uint64_t done, uint64_t total, void *payload)
{
    (void)total;
    cli_progress_update(payload, done);
}

/* Opening one file twice (once read-only) would fail inside HDF5 with a
 * cryptic message, or worse; say it plainly instead. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Bytes in one row over all fields, for MB/s. */
static int row_bytes_of(sb_store *src, const char *name, double *row_bytes, uint64_t *rows)
{
    sb_dataset *ds;
    int rc = sb_store_load_dataset(&ds, src, name);
    *row_bytes = 0;
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < sb_dataset_nfields(ds); i++) {
        sb_field_info fi;
        if (sb_dataset_field_info(&fi, ds, i) == 0 && fi.defined)
            *row_bytes += (double)fi.row_bytes;
    }
    *rows = sb_dataset_size(ds);
    return sb_dataset_close(ds);
}

int db_cmd_export(int argc, char **argv)
{
    const char *out = NULL, *new_name = NULL;
    uint64_t chunk = SB_EXPORT_DEFAULT_CHUNK;
    bool no_shrink = false, progress = false;
    const cli_option opts[] = {
        {"output", 'o', CLI_OPT_STRING, &out},
        {"rename", 0, CLI_OPT_STRING, &new_name},
        {"chunk-size", 0, CLI_OPT_U64, &chunk},
        {"no-shrink", 0, CLI_OPT_FLAG, &no_shrink},
        {"progress", 0, CLI_OPT_FLAG, &progress},
    };
    const char *const pos_names[] = {"STORE", "DATASET"};
    const char *pos[2];
    size_t npos;
    sb_store *src = NULL, *dst = NULL;
    sb_export_options eo;
    cli_progress meter;
    double row_bytes;
    uint64_t rows = 0;
    int status = CLI_EXIT_OK;
    char what[512];

    switch (cli_parse("export", argc, argv, opts, sizeof opts / sizeof opts[0], pos_names, 2,
                      2, pos, &npos)) {
    case CLI_PARSE_HELP: db_print(export_help); return CLI_EXIT_OK;
    case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
    case CLI_PARSE_OK: break;
    }
    if (!out) {
        cli_usage_error("export", "missing the destination store: -o OUT");
        return CLI_EXIT_USAGE;
    }
    if (chunk == 0) {
        cli_usage_error("export", "--chunk-size must be at least 1");
        return CLI_EXIT_USAGE;
    }
    if (new_name && new_name[0] == '\0') {
        cli_usage_error("export", "--rename needs a non-empty name");
        return CLI_EXIT_USAGE;
    }
    if (same_file(out, pos[0])) {
        cli_error("%s and %s are the same file; export into another store", out, pos[0]);
        return CLI_EXIT_FAILURE;
    }
    if (db_open_store(pos[0], SB_READ, &src) != 0)
        return CLI_EXIT_FAILURE;
    if (row_bytes_of(src, pos[1], &row_bytes, &rows) != 0) {
        snprintf(what, sizeof what, "cannot load dataset '%s' of %s", pos[1], pos[0]);
        db_report(what);
        sb_store_close(src);
        return CLI_EXIT_FAILURE;
    }
    if (db_open_store(out, SB_READ_WRITE_CREATE, &dst) != 0) {
        sb_store_close(src);
        return CLI_EXIT_FAILURE;
    }

    snprintf(what, sizeof what, "export %s", pos[1]);
    cli_progress_start(&meter, cli_rank() == 0 && cli_progress_wanted(progress), what, rows,
                       row_bytes);
    sb_export_options_init(&eo, SB_EXPORT_OPTIONS_VERSION);
    eo.new_name = new_name;
    eo.shrink = !no_shrink;
    eo.chunk_size = chunk;
    eo.progress = on_progress;
    eo.progress_payload = &meter;
    if (sb_store_export_dataset(src, pos[1], dst, &eo) != 0) {
        snprintf(what, sizeof what, "cannot export '%s' of %s into %s", pos[1], pos[0], out);
        db_report(what);
        status = CLI_EXIT_FAILURE;
    }
    if (sb_store_close(dst) != 0 && status == CLI_EXIT_OK) {
        snprintf(what, sizeof what, "cannot close %s", out);
        db_report(what);
        status = CLI_EXIT_FAILURE;
    }
    sb_store_close(src);
    if (status == CLI_EXIT_OK)
        cli_progress_finish(&meter, rows);
    return status;
}
