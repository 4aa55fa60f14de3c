/* check: is every dataset of a store sound? One line per problem on stdout,
 * "DATASET: what is wrong", then a summary line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "db.h"

/* Exit status when the store itself cannot be opened: not "unsound", but
 * "could not judge", like a command-line mistake. */
#define CHECK_EXIT_UNOPENABLE 2

static const char check_help[] =
    "Usage: secbench-db check STORE\n"
    "\n"
    "Validate every dataset of STORE (those 'secbench-db ls' lists, including\n"
    "datasets inside another dataset's group and behind soft or external links):\n"
    "  - it loads (attributes _sb_size, _sb_capacity, _sb_is_dataset readable\n"
    "    integers, every field of shape (capacity, ...)),\n"
    "  - its size is within its capacity,\n"
    "  - a dataset holding rows has fields, every field has a dtype this library\n"
    "    supports (a field of another type, a variable-length string say, is\n"
    "    reported with the type's name), and its first and last rows can be read,\n"
    "  - every asset has its flag, readable content matching its dtype and shape,\n"
    "    and a name that is not also a field,\n"
    "  - an asset whose name ends in \".json\" holds valid JSON (other assets may\n"
    "    hold any bytes; secbench does not mark JSON assets otherwise),\n"
    "  - it is not marked unfinished (attribute _sb_incomplete: an export or a\n"
    "    job cut short, or an acquisition not yet complete),\n"
    "  - HDF5 finds it, its fields and assets by name (a failed metadata write can\n"
    "    damage a group's names; the rows are then still read, by walking the\n"
    "    group, and 'secbench-db export' copies them to a sound store).\n"
    "Each problem is printed on stdout as \"DATASET: problem\", then a summary\n"
    "line. Control characters and backslashes in names are escaped.\n"
    "\n"
    "Exit status: 0 if every dataset is sound, 1 if a problem was found, 2 if\n"
    "STORE cannot be opened or on a command-line mistake.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

typedef struct problems {
    char **lines;
    size_t count;
} problems;

static void add(problems *p, const char *dataset, const char *fmt, ...) CLI_PRINTF(3, 4);

static void add(problems *p, const char *dataset, const char *fmt, ...)
{
    char msg[1024], *line;
    char **grown;
    va_list ap;
    int n;
    char name[1024];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dataset = out_shown(name, sizeof name, dataset);
    n = snprintf(NULL, 0, "%s: %s", dataset, msg);
    line = malloc((size_t)n + 1);
    grown = realloc(p->lines, (p->count + 1) * sizeof *grown);
    if (!line || !grown) {
        free(line);
        if (grown)
            p->lines = grown;
        return;
    }
    snprintf(line, (size_t)n + 1, "%s: %s", dataset, msg);
    p->lines = grown;
    p->lines[p->count++] = line;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void check_fields(sb_dataset *ds, const char *name, problems *p)
{
    uint64_t size = sb_dataset_size(ds);
    size_t nfields = sb_dataset_nfields(ds);
    if (nfields == 0 && size > 0)
        add(p, name, "holds %llu rows but has no field", (unsigned long long)size);
    for (size_t i = 0; i < nfields; i++) {
        sb_field_info fi;
        void *row;
        if (sb_dataset_field_info(&fi, ds, i) != 0) {
            add(p, name, "field %zu: %s", i, prog_error_text());
            continue;
        }
        if (fi.defined && !fi.supported) {
            add(p, name, "field %s is of type %s, which this library cannot read or copy "
                "(export leaves it out)", fi.name, fi.type_name ? fi.type_name : "unknown");
            continue;
        }
        if (!fi.defined) {
            if (size > 0)
                add(p, name, "field %s has no data although the size is %llu", fi.name,
                    (unsigned long long)size);
            continue;
        }
        if (size == 0)
            continue;
        row = malloc(fi.row_bytes ? fi.row_bytes : 1);
        if (!row) {
            add(p, name, "field %s: out of memory for one row", fi.name);
            continue;
        }
        if (sb_dataset_read(row, ds, fi.name, 0, 1) != 0 ||
            sb_dataset_read(row, ds, fi.name, size - 1, 1) != 0)
            add(p, name, "field %s: rows cannot be read: %s", fi.name, prog_error_text());
        free(row);
    }
}

static void check_asset(sb_dataset *ds, const char *name, const char *asset, problems *p)
{
    sb_array info;
    void *data = NULL;
    size_t len = 0, index;
    if (sb_dataset_field_index(&index, ds, asset) == 0)
        add(p, name, "asset %s has the name of a field", asset);
    if (sb_dataset_asset_info(&info, ds, asset) != 0) {
        add(p, name, "asset %s: %s", asset, prog_error_text());
        return;
    }
    if (sb_dataset_get_asset_bytes(&data, &len, ds, asset) != 0) {
        add(p, name, "asset %s cannot be read: %s", asset, prog_error_text());
        return;
    }
    if ((uint64_t)len != sb_array_nbytes(&info))
        add(p, name, "asset %s holds %zu bytes, its dtype and shape say %llu", asset, len,
            (unsigned long long)sb_array_nbytes(&info));
    if (ends_with(asset, ".json")) {
        cJSON *json = NULL;
        if (sb_json_parse(&json, data, len) != 0)
            add(p, name, "asset %s is named .json but does not hold valid JSON", asset);
        cJSON_Delete(json);
    }
    sb_free(data);
}

typedef struct walk {
    sb_store *store;
    problems p;
    size_t datasets;
} walk;

static int check_dataset(const sb_dataset_info *info, void *payload)
{
    walk *w = payload;
    problems *p = &w->p;
    const char *name = info->name;
    sb_dataset *ds;
    char **assets = NULL;
    size_t nassets = 0;
    w->datasets++;
    /* Loading checks the attributes, size against capacity and every
     * field's first dimension; its message names what is wrong. */
    if (sb_store_load_dataset(&ds, w->store, name) != 0) {
        add(p, name, "cannot be loaded%s: %s", info->damaged ? " (damaged attributes)" : "",
            prog_error_text());
        return 0;
    }
    if (info->damaged)
        add(p, name, "its attributes _sb_size or _sb_capacity are damaged");
    /* Its rows may all read back fine: only the mark says rows, size or
     * assets never arrived. */
    if (sb_dataset_is_incomplete(ds))
        add(p, name,
            "unfinished (_sb_incomplete): an export or a job that wrote it was cut short, or "
            "an acquisition is not complete yet (size %llu of capacity %llu); rows, size or "
            "assets may be missing: resume the acquisition, or remove it ('secbench-db rm') "
            "and make it again",
            (unsigned long long)sb_dataset_size(ds), (unsigned long long)sb_dataset_capacity(ds));
    if (sb_dataset_found_by_walk(ds))
        add(p, name,
            "cannot be found by its name: a name next to it in its group is damaged (a failed "
            "metadata write); its %llu rows were found by walking the group, but h5py and "
            "Python secbench will not find them: copy it to a new store with "
            "'secbench-db export'",
            (unsigned long long)sb_dataset_size(ds));
    if (sb_dataset_size(ds) > sb_dataset_capacity(ds))
        add(p, name, "size %llu exceeds capacity %llu",
            (unsigned long long)sb_dataset_size(ds),
            (unsigned long long)sb_dataset_capacity(ds));
    check_fields(ds, name, p);
    if (sb_dataset_asset_names(&assets, &nassets, ds) != 0) {
        add(p, name, "assets cannot be listed: %s", prog_error_text());
    } else {
        for (size_t i = 0; i < nassets; i++)
            check_asset(ds, name, assets[i], p);
        sb_free(assets);
    }
    if (sb_dataset_close(ds) != 0)
        add(p, name, "cannot be closed: %s", prog_error_text());
    return 0;
}

int db_cmd_check(int argc, char **argv)
{
    const char *const pos_names[] = {"STORE"};
    const cli_spec spec = {.command = "check", .help = check_help, .pos_names = pos_names,
                           .npos = 1, .nrequired = 1};
    const char *pos[1];
    size_t npos;
    walk w = {0};
    char store[4096];
    int code = cli_parse(&spec, argc, argv, pos, &npos);
    if (code >= 0)
        return code;
    if (prog_open_store(&w.store, pos[0], SB_READ) != 0)
        return CHECK_EXIT_UNOPENABLE;
    if (sb_store_foreach_dataset(w.store, check_dataset, &w) != 0)
        add(&w.p, pos[0], "the datasets cannot be listed: %s", prog_error_text());
    if (sb_store_close(w.store) != 0)
        add(&w.p, pos[0], "cannot be closed: %s", prog_error_text());

    out_shown(store, sizeof store, pos[0]);
    if (cli_rank() == 0) {
        for (size_t i = 0; i < w.p.count; i++)
            printf("%s\n", w.p.lines[i]);
        if (w.p.count == 0)
            printf("%s: %zu dataset%s, all sound\n", store, w.datasets,
                   w.datasets == 1 ? "" : "s");
        else
            printf("%s: %zu problem%s in %zu dataset%s\n", store, w.p.count,
                   w.p.count == 1 ? "" : "s", w.datasets, w.datasets == 1 ? "" : "s");
    }
    for (size_t i = 0; i < w.p.count; i++)
        free(w.p.lines[i]);
    free(w.p.lines);
    return w.p.count == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
