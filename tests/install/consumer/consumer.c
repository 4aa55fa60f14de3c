/* A user program built against the *installed* secbench-storage, through
 * pkg-config and through find_package (tests/install/install_test.sh): it
 * includes every installed public header (all_headers.h is generated from the
 * installed include/secbench/ folder), writes a store with rows and a JSON
 * asset, reads both back, and prints the library version.
 * usage: consumer PATH EXPECTED_VERSION */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "all_headers.h"

#define TRY(expr)                                                              \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != 0) {                                                        \
            fprintf(stderr, "%s failed: %s: %s\n", #expr, sb_error_name(rc_),  \
                    sb_last_error_message());                                  \
            return 1;                                                          \
        }                                                                      \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PATH EXPECTED_VERSION\n", argv[0]);
        return 2;
    }
    if (strcmp(sb_version(), argv[2]) != 0) {
        fprintf(stderr, "library version %s, expected %s\n", sb_version(), argv[2]);
        return 1;
    }
    sb_store *s;
    sb_dataset *ds;
    const char *const fields[] = {"x", "n"};
    TRY(sb_store_open(&s, argv[1], SB_CREATE_TRUNCATE, NULL));
    TRY(sb_store_create_dataset(&ds, s, "demo/traces", 4, 2, fields));
    for (int r = 0; r < 3; r++) {
        float x[3] = {(float)r, (float)r + 0.5f, (float)-r};
        uint16_t n = (uint16_t)(100 + r);
        sb_array row[2];
        TRY(sb_array_wrap(&row[0], SB_FLOAT32, 1, (uint64_t[]){3}, x));
        TRY(sb_array_wrap(&row[1], SB_UINT16, 0, NULL, &n));
        TRY(sb_dataset_append(ds, 2, row));
    }
    TRY(sb_dataset_add_asset_bytes(ds, "note", "consumer", 8, false));

    /* cJSON is part of the API: the program calls cJSON itself, and must
     * link with nothing more than what pkg-config / find_package give. */
    cJSON *doc = cJSON_CreateObject();
    if (!doc || !cJSON_AddStringToObject(doc, "scope", "demo") ||
        !cJSON_AddNumberToObject(doc, "samples", 3)) {
        fprintf(stderr, "cJSON could not build the document\n");
        return 1;
    }
    TRY(sb_dataset_add_json_asset(ds, "settings.json", doc, false));
    cJSON_Delete(doc);
    TRY(sb_dataset_close(ds));
    TRY(sb_store_close(s));

    TRY(sb_store_open(&s, argv[1], SB_READ, NULL));
    TRY(sb_store_load_dataset(&ds, s, "demo/traces"));
    float x[3][3];
    uint16_t n[3];
    TRY(sb_dataset_read(x, ds, "x", 0, 3));
    TRY(sb_dataset_read(n, ds, "n", 0, 3));
    int bad = sb_dataset_size(ds) != 3 || sb_dataset_capacity(ds) != 4;
    for (int r = 0; r < 3; r++)
        bad |= x[r][1] != (float)r + 0.5f || x[r][2] != (float)-r || n[r] != 100 + r;
    void *note;
    size_t len;
    TRY(sb_dataset_get_asset_bytes(&note, &len, ds, "note"));
    bad |= len != 8 || memcmp(note, "consumer", 8) != 0;
    sb_free(note);

    cJSON *back;
    TRY(sb_dataset_get_json_asset(&back, ds, "settings.json"));
    const cJSON *scope = cJSON_GetObjectItemCaseSensitive(back, "scope");
    const cJSON *samples = cJSON_GetObjectItemCaseSensitive(back, "samples");
    bad |= !cJSON_IsString(scope) || strcmp(scope->valuestring, "demo") != 0 ||
           !cJSON_IsNumber(samples) || samples->valuedouble != 3;
    char *text = NULL;
    TRY(sb_json_print(&text, back));
    cJSON_Delete(back);
    TRY(sb_dataset_close(ds));
    TRY(sb_store_close(s));
    if (bad) {
        fprintf(stderr, "values read back differ\n");
        return 1;
    }
    printf("consumer ok with secbench-storage %s (HDF5 %s), settings.json %s\n",
           sb_version(), sb_hdf5_version(), text ? text : "?");
    sb_free(text);
    return 0;
}
