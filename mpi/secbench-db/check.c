/* check: is every dataset of a store sound? One line per problem on stdout,
 * "DATASET: what is wrong", then a summary line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "db.h"

/* Exit status when the store itself cannot be opened: not "unsound", but
 * "could not judge", like a command-line mistake. */
#define CHECK_EXIT_UNOPENABLE 2

static const char check_help[] =
    "Usage: secbench-db check STORE\n"
    "\n"
    "Validate every dataset of STORE:\n"
    "  - it loads (attributes _sb_size, _sb_capacity, _sb_is_dataset readable,\n"
    "    every field of shape (capacity, ...)),\n"
    "  - its size is within its capacity,\n"
    "  - a dataset holding rows has fields, and every field has a dtype, and its\n"
    "    first and last rows can be read,\n"
    "  - every asset has its flag, readable content matching its dtype and shape,\n"
    "    and a name that is not also a field,\n"
    "  - an asset whose name ends in \".json\" holds valid JSON (other assets may\n"
    "    hold any bytes; secbench does not mark JSON assets otherwise),\n"
    "  - it is not an export copy that was cut short (attribute _sb_incomplete),\n"
    "  - HDF5 finds it, its fields and assets by name (a failed metadata write can\n"
    "    damage a group's names; the rows are then still read, by walking the\n"
    "    group, and 'secbench-db export' copies them to a sound store).\n"
    "Each problem is printed on stdout as \"DATASET: problem\".\n"
    "\n"
    "Exit status: 0 if every dataset is sound, 1 if a problem was found, 2 if\n"
    "STORE cannot be opened (or on a command-line mistake).\n"
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
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
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
            add(p, name, "field %zu: %s", i, db_error_text());
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
            add(p, name, "field %s: rows cannot be read: %s", fi.name, db_error_text());
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
        add(p, name, "asset %s: %s", asset, db_error_text());
        return;
    }
    if (sb_dataset_get_asset_bytes(&data, &len, ds, asset) != 0) {
        add(p, name, "asset %s cannot be read: %s", asset, db_error_text());
        return;
    }
    if ((uint64_t)len != sb_array_nbytes(&info))
        add(p, name, "asset %s holds %zu bytes, its dtype and shape say %llu", asset, len,
            (unsigned long long)sb_array_nbytes(&info));
    if (ends_with(asset, ".json")) {
        cJSON *json = cJSON_ParseWithLength(data, len);
        if (!json)
            add(p, name, "asset %s is named .json but does not hold valid JSON", asset);
        cJSON_Delete(json);
    }
    sb_free(data);
}

static void check_dataset(sb_store *store, const char *name, problems *p)
{
    sb_dataset *ds;
    char **assets = NULL;
    size_t nassets = 0;
    /* Loading checks the attributes, size against capacity and every
     * field's first dimension; its message names what is wrong. */
    if (sb_store_load_dataset(&ds, store, name) != 0) {
        add(p, name, "cannot be loaded: %s", db_error_text());
        return;
    }
    /* Its rows may all read back fine: only the marker says rows, size or
     * assets never arrived. */
    if (sb_dataset_is_incomplete(ds))
        add(p, name,
            "dataset '%s' is an unfinished export copy (_sb_incomplete): the export was cut "
            "short, so rows, size or assets may be missing (size %llu of capacity %llu); "
            "remove it and export again",
            name, (unsigned long long)sb_dataset_size(ds),
            (unsigned long long)sb_dataset_capacity(ds));
    if (sb_dataset_found_by_walk(ds))
        add(p, name,
            "dataset '%s' cannot be found by its name: a name next to it in its group is "
            "damaged (a failed metadata write); its %llu rows were found by walking the group, "
            "but h5py and Python secbench will not find them: copy it to a new store with "
            "'secbench-db export'",
            name, (unsigned long long)sb_dataset_size(ds));
    if (sb_dataset_size(ds) > sb_dataset_capacity(ds))
        add(p, name, "size %llu exceeds capacity %llu",
            (unsigned long long)sb_dataset_size(ds),
            (unsigned long long)sb_dataset_capacity(ds));
    check_fields(ds, name, p);
    if (sb_dataset_asset_names(&assets, &nassets, ds) != 0) {
        add(p, name, "assets cannot be listed: %s", db_error_text());
    } else {
        for (size_t i = 0; i < nassets; i++)
            check_asset(ds, name, assets[i], p);
        sb_free(assets);
    }
    if (sb_dataset_close(ds) != 0)
        add(p, name, "cannot be closed: %s", db_error_text());
}

int db_cmd_check(int argc, char **argv)
{
    const char *const pos_names[] = {"STORE"};
    const char *pos[1];
    size_t npos;
    sb_store *store;
    char **names = NULL;
    size_t count = 0;
    problems p = {0};
    size_t datasets = 0;
    int status;

    switch (cli_parse("check", argc, argv, NULL, 0, pos_names, 1, 1, pos, &npos)) {
    case CLI_PARSE_HELP: db_print(check_help); return CLI_EXIT_OK;
    case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
    case CLI_PARSE_OK: break;
    }
    if (db_open_store(pos[0], SB_READ, &store) != 0)
        return CHECK_EXIT_UNOPENABLE;
    if (sb_store_dataset_names(&names, &count, store) != 0) {
        add(&p, pos[0], "the datasets cannot be listed: %s", db_error_text());
    } else {
        datasets = count;
        for (size_t i = 0; i < count; i++)
            check_dataset(store, names[i], &p);
        sb_free(names);
    }
    if (sb_store_close(store) != 0)
        add(&p, pos[0], "cannot be closed: %s", db_error_text());

    if (cli_rank() == 0) {
        for (size_t i = 0; i < p.count; i++)
            printf("%s\n", p.lines[i]);
        if (p.count == 0)
            printf("%s: %zu dataset%s, all sound\n", pos[0], datasets,
                   datasets == 1 ? "" : "s");
        else
            printf("%s: %zu problem%s in %zu dataset%s\n", pos[0], p.count,
                   p.count == 1 ? "" : "s", datasets, datasets == 1 ? "" : "s");
    }
    status = p.count == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
    for (size_t i = 0; i < p.count; i++)
        free(p.lines[i]);
    free(p.lines);
    return status;
}
