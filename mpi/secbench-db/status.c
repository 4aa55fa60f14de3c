/* status and ls: what a store holds. status builds one JSON document and
 * prints it either as JSON (--json, for scripts) or as an indented tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "db.h"

static const char status_help[] =
    "Usage: secbench-db status STORE [--json]\n"
    "\n"
    "Show every dataset of STORE (those 'secbench-db ls' lists): capacity, size,\n"
    "fields (dtype and shape of one row) and assets (dtype and shape). A field or\n"
    "asset of a type this library cannot read is shown with the type's name and\n"
    "\"(unsupported)\". An unfinished dataset (attribute _sb_incomplete: an\n"
    "export or a job that was cut short, or an acquisition not yet complete) is\n"
    "marked \"INCOMPLETE\". Names are shown with control characters and\n"
    "backslashes escaped (\\n, \\t, \\xHH, \\\\).\n"
    "\n"
    "Options:\n"
    "  --json      print one JSON document instead:\n"
    "              {\"store\": PATH, \"datasets\": [{\"name\", \"capacity\", \"size\",\n"
    "               \"incomplete\",\n"
    "               \"fields\": [{\"name\", \"defined\", \"supported\", \"dtype\",\n"
    "                           \"row_shape\"}],\n"
    "               \"assets\": [{\"name\", \"dtype\", \"shape\"}]}]}\n"
    "              Integers are exact. A dataset that fails to load has \"error\"\n"
    "              instead of capacity, size and fields; when STORE cannot be\n"
    "              opened the document is {\"store\", \"error\", \"datasets\": []}.\n"
    "              A name that is not UTF-8 is shown with U+FFFD for its bad\n"
    "              bytes, and NAME_hex (e.g. \"name_hex\") holds its bytes in hex.\n"
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 on success, 1 if STORE cannot be opened or a dataset cannot\n"
    "be loaded (see 'secbench-db check'), 2 on a command-line mistake.\n";

static const char ls_help[] =
    "Usage: secbench-db ls STORE\n"
    "\n"
    "Print the names of the datasets of STORE, one per line, sorted: every\n"
    "dataset Python secbench lists, including those inside another dataset's\n"
    "group and those behind soft or external links. Control characters and\n"
    "backslashes in a name are escaped (\\n, \\t, \\xHH, \\\\), so that each\n"
    "name is one line.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 on success, 1 if STORE cannot be opened or listed, 2 on a\n"
    "command-line mistake.\n";

static cJSON *shape_array(int ndim, const uint64_t *shape)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < ndim; i++)
        cJSON_AddItemToArray(arr, sb_json_number_u64(shape[i]));
    return arr;
}

static void describe_fields(sb_dataset *ds, cJSON *out)
{
    cJSON *fields = cJSON_AddArrayToObject(out, "fields");
    for (size_t i = 0; i < sb_dataset_nfields(ds); i++) {
        sb_field_info fi;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddItemToArray(fields, f);
        if (sb_dataset_field_info(&fi, ds, i) != 0) {
            cJSON_AddStringToObject(f, "error", prog_error_text());
            continue;
        }
        out_json_add_name(f, "name", fi.name);
        cJSON_AddBoolToObject(f, "defined", fi.defined);
        cJSON_AddBoolToObject(f, "supported", fi.supported);
        if (fi.defined) {
            char type[128];
            cJSON_AddStringToObject(f, "dtype", fi.supported ? sb_dtype_name(fi.dtype)
                                                             : out_field_type(type, sizeof type, &fi));
            cJSON_AddItemToObject(f, "row_shape", shape_array(fi.row_ndim, fi.row_shape));
        } else {
            cJSON_AddNullToObject(f, "dtype");
            cJSON_AddNullToObject(f, "row_shape");
        }
    }
}

static void describe_assets(sb_dataset *ds, cJSON *out)
{
    char **names = NULL;
    size_t count = 0;
    cJSON *assets = cJSON_AddArrayToObject(out, "assets");
    if (sb_dataset_asset_names(&names, &count, ds) != 0) {
        cJSON_AddStringToObject(out, "assets_error", prog_error_text());
        return;
    }
    for (size_t i = 0; i < count; i++) {
        sb_array info;
        cJSON *a = cJSON_CreateObject();
        cJSON_AddItemToArray(assets, a);
        out_json_add_name(a, "name", names[i]);
        if (sb_dataset_asset_info(&info, ds, names[i]) != 0) {
            cJSON_AddNullToObject(a, "dtype");
            cJSON_AddNullToObject(a, "shape");
            cJSON_AddItemToObject(a, "error", out_json_string(prog_error_text()));
            continue;
        }
        cJSON_AddStringToObject(a, "dtype", sb_dtype_name(info.dtype));
        cJSON_AddItemToObject(a, "shape", shape_array(info.ndim, info.shape));
    }
    sb_free(names);
}

/* One dataset; returns false (with "error" set) when it cannot be loaded. */
static bool describe_dataset(sb_store *store, const char *name, cJSON *out)
{
    sb_dataset *ds = NULL;
    out_json_add_name(out, "name", name);
    /* Capacity and size are shown only from a dataset that loads: the
     * listing reports unreadable attributes as 0, which would mislead. */
    if (sb_store_load_dataset(&ds, store, name) != 0) {
        cJSON_AddItemToObject(out, "error", out_json_string(prog_error_text()));
        return false;
    }
    out_json_add_u64(out, "capacity", sb_dataset_capacity(ds));
    out_json_add_u64(out, "size", sb_dataset_size(ds));
    cJSON_AddBoolToObject(out, "incomplete", sb_dataset_is_incomplete(ds));
    describe_fields(ds, out);
    describe_assets(ds, out);
    if (sb_dataset_close(ds) != 0) {
        cJSON_AddItemToObject(out, "error", out_json_string(prog_error_text()));
        return false;
    }
    return true;
}

/* The document is built above; a member can only be missing if cJSON ran
 * out of memory, which must not crash the printer. */
static const char *text_of(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) ? item->valuestring : "?";
}

static unsigned long long u64_of(const cJSON *item)
{
    uint64_t v = 0;
    sb_json_get_u64(&v, item);
    return (unsigned long long)v;
}

static void print_shape(const cJSON *arr)
{
    const cJSON *item;
    int n = cJSON_GetArraySize(arr), i = 0;
    printf("(");
    cJSON_ArrayForEach(item, arr)
        printf("%s%llu", i++ ? ", " : "", u64_of(item));
    printf(n == 1 ? ",)" : ")");
}

/* A name of the document, escaped for a line. */
static const char *shown(char *buf, size_t len, const cJSON *obj)
{
    return out_shown(buf, len, text_of(obj, "name"));
}

/* "  KIND NAME: DTYPE SHAPE", or what stands for the type when there is none
 * (NULL: the item's error). */
static void print_typed(const char *kind, const cJSON *item, const char *shape_key,
                        const char *untyped)
{
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    char name[1024];
    printf("  %s %s: ", kind, shown(name, sizeof name, item));
    if (cJSON_IsString(dtype)) {
        printf("%s ", dtype->valuestring);
        print_shape(cJSON_GetObjectItemCaseSensitive(item, shape_key));
        printf("\n");
    } else if (untyped) {
        printf("%s\n", untyped);
    } else {
        printf("unreadable: %s\n", text_of(item, "error"));
    }
}

static void print_dataset(const cJSON *d)
{
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(d, "capacity");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(d, "error");
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(d, "fields");
    const cJSON *item;
    char name[1024];
    printf("%s", shown(name, sizeof name, d));
    if (cap)
        printf(": size %llu, capacity %llu", u64_of(cJSON_GetObjectItemCaseSensitive(d, "size")),
               u64_of(cap));
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "incomplete")))
        printf(", INCOMPLETE (unfinished: cut short or not yet complete; see "
               "'secbench-db check')");
    printf("\n");
    cJSON_ArrayForEach(item, fields) {
        print_typed("field", item, "row_shape", "undefined (no row written yet)");
    }
    if (fields && cJSON_GetArraySize(fields) == 0)
        printf("  (no fields)\n");
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(d, "assets")) {
        print_typed("asset", item, "shape", NULL);
    }
    if (err)
        printf("  error: %s\n", err->valuestring);
}

static void print_tree(const cJSON *doc)
{
    const cJSON *datasets = cJSON_GetObjectItemCaseSensitive(doc, "datasets");
    const cJSON *d;
    int n = cJSON_GetArraySize(datasets);
    char store[4096];
    printf("%s: %d dataset%s\n", out_shown(store, sizeof store, text_of(doc, "store")), n,
           n == 1 ? "" : "s");
    cJSON_ArrayForEach(d, datasets)
        print_dataset(d);
}

/* The names of the datasets of an open store (collective), reported on
 * failure. */
static int list_names(char ***names, size_t *count, sb_store *store)
{
    return prog_failed(sb_store_dataset_names(names, count, store)) ? -1 : 0;
}

int db_cmd_status(int argc, char **argv)
{
    bool json = false;
    const cli_option opts[] = {CLI_FLAG("json", 0, &json)};
    const char *const pos_names[] = {"STORE"};
    const cli_spec spec = {.command = "status", .help = status_help, .options = opts,
                           .noptions = 1, .pos_names = pos_names, .npos = 1, .nrequired = 1};
    const char *pos[1];
    size_t npos, count = 0;
    sb_store *store = NULL;
    char **names = NULL;
    int failures = 0, status = CLI_EXIT_OK;
    int code = cli_parse(&spec, argc, argv, pos, &npos);
    if (code >= 0)
        return code;

    cJSON *doc = cJSON_CreateObject();
    out_json_add_name(doc, "store", pos[0]);
    if (prog_open_store(&store, pos[0], SB_READ) != 0 || list_names(&names, &count, store)) {
        /* A script reading the JSON sees the failure in it too. */
        cJSON_AddItemToObject(doc, "error", out_json_string(prog_error_text()));
        status = CLI_EXIT_FAILURE;
    }
    cJSON *datasets = cJSON_AddArrayToObject(doc, "datasets");
    for (size_t i = 0; i < count; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToArray(datasets, d);
        if (!describe_dataset(store, names[i], d))
            failures++;
    }
    sb_free(names);
    if (store && prog_close_store(store) != 0)
        status = CLI_EXIT_FAILURE;
    if (cli_rank() == 0 && (json || status == CLI_EXIT_OK)) {
        if (json)
            out_json_write(stdout, doc);
        else
            print_tree(doc);
    }
    cJSON_Delete(doc);
    if (failures > 0) {
        cli_error("%d dataset%s of %s could not be loaded (see 'secbench-db check')", failures,
                  failures == 1 ? "" : "s", pos[0]);
        status = CLI_EXIT_FAILURE;
    }
    return status;
}

int db_cmd_ls(int argc, char **argv)
{
    const char *const pos_names[] = {"STORE"};
    const cli_spec spec = {.command = "ls", .help = ls_help, .pos_names = pos_names,
                           .npos = 1, .nrequired = 1};
    const char *pos[1];
    size_t npos, count = 0;
    char **names = NULL;
    sb_store *store;
    int code = cli_parse(&spec, argc, argv, pos, &npos);
    if (code >= 0)
        return code;
    if (prog_open_store(&store, pos[0], SB_READ) != 0)
        return CLI_EXIT_FAILURE;
    int rc = list_names(&names, &count, store);
    for (size_t i = 0; rc == 0 && i < count && cli_rank() == 0; i++) {
        char name[4096];
        printf("%s\n", out_shown(name, sizeof name, names[i]));
    }
    sb_free(names);
    if (prog_close_store(store) != 0)
        rc = -1;
    return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
