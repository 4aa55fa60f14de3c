/* status and ls: what a store holds. status builds one JSON document and
 * prints it either as JSON (--json, for scripts) or as an indented tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "db.h"

static const char status_help[] =
    "Usage: secbench-db status STORE [--json]\n"
    "\n"
    "Show every dataset of STORE: capacity, size, fields (dtype and shape of one\n"
    "row) and assets (dtype and shape). A dataset that cannot be loaded is shown\n"
    "with the reason, and the exit status is then 1. An export copy that was cut\n"
    "short (attribute _sb_incomplete) is marked \"INCOMPLETE\".\n"
    "\n"
    "Options:\n"
    "  --json      print one JSON document instead:\n"
    "              {\"store\": PATH, \"datasets\": [{\"name\", \"capacity\", \"size\",\n"
    "               \"incomplete\",\n"
    "               \"fields\": [{\"name\", \"defined\", \"dtype\", \"row_shape\"}],\n"
    "               \"assets\": [{\"name\", \"dtype\", \"shape\"}]}]}\n"
    "              (a dataset that fails to load has \"error\" instead of fields)\n"
    "  -h, --help  show this help\n";

static const char ls_help[] =
    "Usage: secbench-db ls STORE\n"
    "\n"
    "Print the names of the datasets of STORE, one per line, sorted.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

static const char *dtype_text(sb_dtype dtype)
{
    const char *name = sb_dtype_name(dtype);
    return name ? name : "unknown";
}

static cJSON *shape_array(int ndim, const uint64_t *shape)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < ndim; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)shape[i]));
    return arr;
}

static int describe_fields(sb_dataset *ds, cJSON *out)
{
    cJSON *fields = cJSON_AddArrayToObject(out, "fields");
    for (size_t i = 0; i < sb_dataset_nfields(ds); i++) {
        sb_field_info fi;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddItemToArray(fields, f);
        if (sb_dataset_field_info(&fi, ds, i) != 0)
            return -1;
        cJSON_AddStringToObject(f, "name", fi.name);
        cJSON_AddBoolToObject(f, "defined", fi.defined);
        if (fi.defined) {
            cJSON_AddStringToObject(f, "dtype", dtype_text(fi.dtype));
            cJSON_AddItemToObject(f, "row_shape", shape_array(fi.row_ndim, fi.row_shape));
        } else {
            cJSON_AddNullToObject(f, "dtype");
            cJSON_AddNullToObject(f, "row_shape");
        }
    }
    return 0;
}

static int describe_assets(sb_dataset *ds, cJSON *out)
{
    char **names = NULL;
    size_t count = 0;
    cJSON *assets = cJSON_AddArrayToObject(out, "assets");
    if (sb_dataset_asset_names(&names, &count, ds) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        sb_array info;
        cJSON *a = cJSON_CreateObject();
        cJSON_AddItemToArray(assets, a);
        cJSON_AddStringToObject(a, "name", names[i]);
        if (sb_dataset_asset_info(&info, ds, names[i]) != 0) {
            sb_free(names);
            return -1;
        }
        cJSON_AddStringToObject(a, "dtype", dtype_text(info.dtype));
        cJSON_AddItemToObject(a, "shape", shape_array(info.ndim, info.shape));
    }
    sb_free(names);
    return 0;
}

/* One dataset; returns false (with "error" set) when it cannot be shown. */
static bool describe_dataset(sb_store *store, const char *name, cJSON *out)
{
    sb_dataset *ds = NULL;
    bool ok = true;
    cJSON_AddStringToObject(out, "name", name);
    /* Capacity and size are shown only from a dataset that loads: the
     * listing reports unreadable attributes as 0, which would mislead. */
    if (sb_store_load_dataset(&ds, store, name) != 0) {
        cJSON_AddStringToObject(out, "error", db_error_text());
        return false;
    }
    cJSON_AddNumberToObject(out, "capacity", (double)sb_dataset_capacity(ds));
    cJSON_AddNumberToObject(out, "size", (double)sb_dataset_size(ds));
    cJSON_AddBoolToObject(out, "incomplete", sb_dataset_is_incomplete(ds));
    if (describe_fields(ds, out) != 0 || describe_assets(ds, out) != 0) {
        cJSON_AddStringToObject(out, "error", db_error_text());
        ok = false;
    }
    if (sb_dataset_close(ds) != 0 && ok) {
        cJSON_AddStringToObject(out, "error", db_error_text());
        ok = false;
    }
    return ok;
}

/* The document is built above; a member can only be missing if cJSON ran
 * out of memory, which must not crash the printer. */
static const char *text_of(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItem(obj, key);
    return cJSON_IsString(item) ? item->valuestring : "?";
}

static void print_shape(const cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    printf("(");
    for (int i = 0; i < n; i++)
        printf("%s%.0f", i ? ", " : "", cJSON_GetNumberValue(cJSON_GetArrayItem(arr, i)));
    printf(n == 1 ? ",)" : ")");
}

static void print_tree(const cJSON *doc)
{
    const cJSON *datasets = cJSON_GetObjectItem(doc, "datasets");
    const cJSON *d;
    int n = cJSON_GetArraySize(datasets);
    printf("%s: %d dataset%s\n", text_of(doc, "store"), n,
           n == 1 ? "" : "s");
    cJSON_ArrayForEach(d, datasets) {
        const cJSON *cap = cJSON_GetObjectItem(d, "capacity");
        const cJSON *size = cJSON_GetObjectItem(d, "size");
        const cJSON *err = cJSON_GetObjectItem(d, "error");
        const cJSON *fields = cJSON_GetObjectItem(d, "fields");
        const cJSON *assets = cJSON_GetObjectItem(d, "assets");
        const cJSON *item;
        printf("%s", text_of(d, "name"));
        if (cap && size)
            printf(": size %.0f, capacity %.0f", size->valuedouble, cap->valuedouble);
        if (cJSON_IsTrue(cJSON_GetObjectItem(d, "incomplete")))
            printf(", INCOMPLETE (export cut short, see 'secbench-db check')");
        printf("\n");
        cJSON_ArrayForEach(item, fields) {
            const cJSON *dtype = cJSON_GetObjectItem(item, "dtype");
            printf("  field %s: ", text_of(item, "name"));
            if (cJSON_IsString(dtype)) {
                printf("%s ", dtype->valuestring);
                print_shape(cJSON_GetObjectItem(item, "row_shape"));
                printf("\n");
            } else {
                printf("undefined (no row written yet)\n");
            }
        }
        if (fields && cJSON_GetArraySize(fields) == 0)
            printf("  (no fields)\n");
        cJSON_ArrayForEach(item, assets) {
            printf("  asset %s: %s ", text_of(item, "name"),
                   text_of(item, "dtype"));
            print_shape(cJSON_GetObjectItem(item, "shape"));
            printf("\n");
        }
        if (err)
            printf("  error: %s\n", err->valuestring);
    }
}

int db_cmd_status(int argc, char **argv)
{
    bool json = false;
    const cli_option opts[] = {{"json", 0, CLI_OPT_FLAG, &json}};
    const char *const pos_names[] = {"STORE"};
    const char *pos[1];
    size_t npos;
    sb_store *store;
    char **names = NULL;
    size_t count = 0;
    cJSON *doc, *datasets;
    int failures = 0, rc;

    switch (cli_parse("status", argc, argv, opts, 1, pos_names, 1, 1, pos, &npos)) {
    case CLI_PARSE_HELP: db_print(status_help); return CLI_EXIT_OK;
    case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
    case CLI_PARSE_OK: break;
    }
    if (db_open_store(pos[0], SB_READ, &store) != 0)
        return CLI_EXIT_FAILURE;
    if (sb_store_dataset_names(&names, &count, store) != 0) {
        cli_error("cannot list the datasets of %s: %s", pos[0], db_error_text());
        sb_store_close(store);
        return CLI_EXIT_FAILURE;
    }
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "store", pos[0]);
    datasets = cJSON_AddArrayToObject(doc, "datasets");
    for (size_t i = 0; i < count; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToArray(datasets, d);
        if (!describe_dataset(store, names[i], d))
            failures++;
    }
    sb_free(names);
    rc = sb_store_close(store);
    if (cli_rank() == 0) {
        if (json) {
            char *text = cJSON_Print(doc);
            if (text)
                printf("%s\n", text);
            cJSON_free(text);
        } else {
            print_tree(doc);
        }
    }
    cJSON_Delete(doc);
    if (rc != 0) {
        db_report("closing the store");
        return CLI_EXIT_FAILURE;
    }
    if (failures > 0) {
        cli_error("%d dataset%s of %s could not be read (see 'secbench-db check')", failures,
                  failures == 1 ? "" : "s", pos[0]);
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

int db_cmd_ls(int argc, char **argv)
{
    const char *const pos_names[] = {"STORE"};
    const char *pos[1];
    size_t npos, count = 0;
    char **names = NULL;
    sb_store *store;
    int rc;

    switch (cli_parse("ls", argc, argv, NULL, 0, pos_names, 1, 1, pos, &npos)) {
    case CLI_PARSE_HELP: db_print(ls_help); return CLI_EXIT_OK;
    case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
    case CLI_PARSE_OK: break;
    }
    if (db_open_store(pos[0], SB_READ, &store) != 0)
        return CLI_EXIT_FAILURE;
    rc = sb_store_dataset_names(&names, &count, store);
    if (rc != 0) {
        cli_error("cannot list the datasets of %s: %s", pos[0], db_error_text());
        sb_store_close(store);
        return CLI_EXIT_FAILURE;
    }
    for (size_t i = 0; i < count && cli_rank() == 0; i++)
        printf("%s\n", names[i]);
    sb_free(names);
    if (sb_store_close(store) != 0) {
        db_report("closing the store");
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}
