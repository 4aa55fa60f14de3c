/* Fuzz target: the input bytes are JSON for sb_json_parse (JSON assets are
 * text that anyone may have written). A document that parses must print,
 * parse again, and print to the same text (numbers keep their text, so the
 * round trip is exact); a failed parse leaves NULL and a message. Built with
 * libFuzzer (-DSB_FUZZ=ON), or with replay_main.c as the regression ctest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <secbench/storage.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_json: invariant broken: %s (last error: %s)\n", what,
                sb_last_error_message());
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *doc = (cJSON *)1;
    int rc = sb_json_parse(&doc, (const char *)data, size);
    if (rc != 0) {
        check(doc == NULL && (rc == SB_ERR_FORMAT || rc == SB_ERR_NOMEM),
              "a failed parse leaves NULL and SB_ERR_FORMAT");
        check(sb_last_error_message()[0] != '\0', "a failed parse says why");
        return 0;
    }
    char *once = NULL, *twice = NULL;
    check(sb_json_print(&once, doc) == 0, "a parsed document prints");
    cJSON *again = NULL;
    check(sb_json_parse(&again, once, strlen(once)) == 0, "printed text parses");
    check(sb_json_print(&twice, again) == 0, "and prints again");
    check(strcmp(once, twice) == 0, "print(parse(print(doc))) == print(doc)");
    /* Exact integers come back exact. */
    uint64_t u1, u2;
    if (cJSON_IsNumber(doc) && sb_json_get_u64(&u1, doc) == 0)
        check(sb_json_get_u64(&u2, again) == 0 && u1 == u2, "an integer keeps its value");
    sb_free(once);
    sb_free(twice);
    cJSON_Delete(doc);
    cJSON_Delete(again);
    return 0;
}
