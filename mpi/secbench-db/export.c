/* export: the chunked, parallel copy of one dataset into another store. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "progress.h"

static const char export_help[] =
    "Usage: secbench-db export -o OUT STORE DATASET [--rename NAME]\n"
    "                          [-c N | --chunk-size N] [--no-shrink] [--progress]\n"
    "\n"
    "Copy DATASET of STORE (rows [0, size), fields and assets) into the store OUT,\n"
    "which is created if missing. Nothing in OUT is replaced: a dataset of the\n"
    "same name already there is an error (pick another with --rename). Under\n"
    "mpirun/srun every rank takes part: rows are cut into chunks dealt to the\n"
    "ranks in turn, so each rank holds at most one chunk (never more rows than\n"
    "the dataset has) in memory.\n"
    "\n"
    "A copy of a dataset marked unfinished (_sb_incomplete) keeps the mark, and a\n"
    "warning says so. Fields of a type this library cannot read are left out,\n"
    "with a warning naming them. If the export fails, the partial copy is\n"
    "removed (or, when OUT cannot be written any more, left marked unfinished),\n"
    "and OUT itself is removed if this command created it.\n"
    "\n"
    "Options:\n"
    "  -o, --output OUT      destination store (required)\n"
    "  --rename NAME         name of the copy (default: DATASET)\n"
    "  -c, --chunk-size N    rows per chunk (default 100000)\n"
    "  --no-shrink           keep the source capacity (default: capacity = size)\n"
    "  --progress            show progress and rate on stderr (default: only when\n"
    "                        stderr is a terminal)\n"
    "  -h, --help            show this help\n"
    "\n"
    "Exit status: 0 on success, 1 on failure, 2 on a command-line mistake.\n";

static void on_progress(uint64_t done, uint64_t total, void *payload)
{
    (void)total;
    cli_progress_update(payload, done);
}

/* Look at the source before copying: bytes per row (for MB/s), rows, and
 * the warnings (unfinished, unsupported fields). Collective. */
static int inspect(sb_store *src, const char *name, double *row_bytes, uint64_t *rows)
{
    sb_dataset *ds;
    char shown[1024], type[128];
    *row_bytes = 0;
    if (prog_failed(sb_store_load_dataset(&ds, src, name)))
        return -1;
    out_shown(shown, sizeof shown, name);
    for (size_t i = 0; i < sb_dataset_nfields(ds); i++) {
        sb_field_info fi;
        if (sb_dataset_field_info(&fi, ds, i) != 0 || !fi.defined)
            continue;
        if (fi.supported)
            *row_bytes += (double)fi.row_bytes;
        else
            cli_warning("field '%s' of '%s' is left out: its type, %s, is not one this "
                        "library can copy", fi.name, shown, out_field_type(type, sizeof type, &fi));
    }
    *rows = sb_dataset_size(ds);
    if (sb_dataset_is_incomplete(ds))
        cli_warning("dataset '%s' is marked unfinished (_sb_incomplete); the copy keeps the "
                    "mark", shown);
    return prog_failed(sb_dataset_close(ds)) ? -1 : 0;
}

int db_cmd_export(int argc, char **argv)
{
    const char *out = NULL, *new_name = NULL;
    uint64_t chunk = SB_EXPORT_DEFAULT_CHUNK;
    bool no_shrink = false, progress = false;
    const cli_option opts[] = {
        CLI_STRING("output", 'o', &out, NULL),
        CLI_STRING("rename", 0, &new_name, NULL),
        CLI_U64("chunk-size", 'c', &chunk, NULL),
        CLI_FLAG("no-shrink", 0, &no_shrink),
        CLI_FLAG("progress", 0, &progress),
    };
    const char *const pos_names[] = {"STORE", "DATASET"};
    const cli_spec spec = {.command = "export", .help = export_help, .options = opts,
                           .noptions = sizeof opts / sizeof opts[0], .pos_names = pos_names,
                           .npos = 2, .nrequired = 2};
    const char *pos[2];
    size_t npos;
    sb_store *src = NULL, *dst = NULL;
    sb_export_options eo;
    cli_progress meter;
    double row_bytes;
    uint64_t rows = 0;
    bool created = false;
    int status = CLI_EXIT_FAILURE;
    int code = cli_parse(&spec, argc, argv, pos, &npos);
    if (code >= 0)
        return code;
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
    if (prog_same_file(out, pos[0])) {
        cli_usage_error("export", "%s and %s are the same file; export into another store",
                        out, pos[0]);
        return CLI_EXIT_USAGE;
    }
    if (prog_open_store(&src, pos[0], SB_READ) != 0)
        return CLI_EXIT_FAILURE;
    if (inspect(src, pos[1], &row_bytes, &rows) != 0 ||
        prog_open_output(&dst, out, &created) != 0) {
        prog_close_store(src);
        return CLI_EXIT_FAILURE;
    }

    char label[1100], shown[1024];
    snprintf(label, sizeof label, "export %s", out_shown(shown, sizeof shown, pos[1]));
    cli_progress_start(&meter, cli_rank() == 0 && cli_progress_wanted(progress), label, rows,
                       row_bytes);
    sb_export_options_init(&eo, SB_EXPORT_OPTIONS_VERSION);
    eo.new_name = new_name;
    eo.shrink = !no_shrink;
    eo.chunk_size = chunk;
    eo.progress = on_progress;
    eo.progress_payload = &meter;
    int rc = sb_store_export_dataset(src, pos[1], dst, &eo);
    /* The library fails a collective call alike on every rank. */
    if (rc == SB_ERR_EXISTS)
        prog_failed_if(true, "%s; pick another name with --rename, or remove it with "
                       "'secbench-db rm'", prog_error_text());
    else if (!prog_failed(rc))
        status = CLI_EXIT_OK;
    if (prog_close_store(dst) != 0)
        status = CLI_EXIT_FAILURE;
    prog_close_store(src);
    if (status == CLI_EXIT_OK)
        cli_progress_finish(&meter, rows);
    else if (created)
        prog_remove_created(out);
    return status;
}
