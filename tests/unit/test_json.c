/* JSON numbers that do not change on the way (json.h): parse, print, exact
 * integers, and JSON assets that come back as they went in. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sbt_util.h"

static char *dir;

static void setup(void) { dir = sbt_mkdtemp("json"); }
static void teardown(void)
{
    sbt_rmtree(dir);
    free(dir);
}

static cJSON *parse(const char *text)
{
    cJSON *doc = NULL;
    SBT_OK(sb_json_parse(&doc, text, strlen(text)));
    return doc;
}

static char *print(const cJSON *doc)
{
    char *out = NULL;
    SBT_OK(sb_json_print(&out, doc));
    return out;
}

/* Text in, the same text out (compact documents). */
static void round_trip(const char *text)
{
    cJSON *doc = parse(text);
    char *out = print(doc);
    ck_assert_msg(strcmp(out, text) == 0, "'%s' came back as '%s'", text, out);
    sb_free(out);
    cJSON_Delete(doc);
}

START_TEST(numbers_keep_their_text)
{
    /* Integers beyond 2^53 (a double would round them), Python's 3.0, the
     * shortest double texts, exponents, -0.0, Python's NaN and Infinity. */
    round_trip("[9007199254740993,1712345678901234567,18446744073709551615,"
               "-9223372036854775808,123456789012345678901234567890]");
    round_trip("[3.0,-0.0,0.30000000000000004,1e-7,5e-324,1.7976931348623157e308,1E+3]");
    round_trip("{\"a\":NaN,\"b\":Infinity,\"c\":-Infinity}");
    round_trip("{\"z\":1,\"a\":{\"x\":[true,false,null,\"\xc2\xb5s \\\"q\\\"\"]},\"e\":{}}");
}
END_TEST

START_TEST(numbers_printed_shortest)
{
    /* Made in C (no text): the shortest text that reads back the same double. */
    cJSON *doc = cJSON_CreateArray();
    cJSON_AddItemToArray(doc, cJSON_CreateNumber(0.1 + 0.2));
    cJSON_AddItemToArray(doc, cJSON_CreateNumber(0.1));
    cJSON_AddItemToArray(doc, cJSON_CreateNumber(3));
    cJSON_AddItemToArray(doc, cJSON_CreateNumber(-2.5e-300));
    cJSON_AddItemToArray(doc, cJSON_CreateNumber(1e22));
    cJSON_AddItemToArray(doc, cJSON_CreateNumber(NAN));
    char *out = print(doc);
    ck_assert_str_eq(out, "[0.30000000000000004,0.1,3,-2.5e-300,1e+22,NaN]");
    sb_free(out);
    /* A number whose value the program changed prints its new value. */
    cJSON_Delete(doc);
    doc = parse("[9007199254740993]");
    cJSON_SetNumberValue(cJSON_GetArrayItem(doc, 0), 0.5);
    out = print(doc);
    ck_assert_str_eq(out, "[0.5]");
    sb_free(out);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(exact_integers)
{
    uint64_t u = 0;
    int64_t i = 0;
    cJSON *doc = parse("[9000000000000001,18446744073709551615,-9223372036854775808,3.0,1e3,"
                       "18446744073709551616,-1,0.5]");
    SBT_OK(sb_json_get_u64(&u, cJSON_GetArrayItem(doc, 0)));
    ck_assert_uint_eq(u, 9000000000000001ULL);
    SBT_OK(sb_json_get_u64(&u, cJSON_GetArrayItem(doc, 1)));
    ck_assert_uint_eq(u, UINT64_MAX);
    SBT_OK(sb_json_get_i64(&i, cJSON_GetArrayItem(doc, 2)));
    ck_assert_int_eq(i, INT64_MIN);
    SBT_OK(sb_json_get_u64(&u, cJSON_GetArrayItem(doc, 3)));
    ck_assert_uint_eq(u, 3);
    SBT_OK(sb_json_get_u64(&u, cJSON_GetArrayItem(doc, 4)));
    ck_assert_uint_eq(u, 1000);
    SBT_ERR(sb_json_get_u64(&u, cJSON_GetArrayItem(doc, 5)), SB_ERR_TYPE); /* 2^64 */
    SBT_ERR(sb_json_get_u64(&u, cJSON_GetArrayItem(doc, 6)), SB_ERR_TYPE);
    SBT_ERR(sb_json_get_i64(&i, cJSON_GetArrayItem(doc, 7)), SB_ERR_TYPE);
    cJSON_Delete(doc);

    /* Made in C: any integer, exactly. */
    doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "seed", sb_json_number_u64(9000000000000001ULL));
    cJSON_AddItemToObject(doc, "max", sb_json_number_u64(UINT64_MAX));
    cJSON_AddItemToObject(doc, "min", sb_json_number_i64(INT64_MIN));
    char *out = print(doc);
    ck_assert_str_eq(out, "{\"seed\":9000000000000001,\"max\":18446744073709551615,"
                          "\"min\":-9223372036854775808}");
    cJSON_Delete(doc);
    doc = parse(out);
    SBT_OK(sb_json_get_u64(&u, cJSON_GetObjectItemCaseSensitive(doc, "seed")));
    ck_assert_uint_eq(u, 9000000000000001ULL);
    sb_free(out);
    cJSON_Delete(doc);
    /* A double beyond 2^53 made by cJSON is no exact integer. */
    cJSON *big = cJSON_CreateNumber(9007199254740994.0 * 4);
    SBT_ERR(sb_json_get_u64(&u, big), SB_ERR_TYPE);
    cJSON_Delete(big);
    SBT_ERR(sb_json_get_u64(&u, NULL), SB_ERR_TYPE);
}
END_TEST

START_TEST(syntax_errors_say_where)
{
    static const struct { const char *text; const char *says; } bad[] = {
        {"", "end"}, {"{", "key"}, {"[1,]", "unexpected"}, {"{\"a\" 1}", "':'"},
        {"[1] 2", "extra data"}, {"01", "extra data"}, {"1.", "digits"}, {"-", "number"},
        {"\"\\x\"", "escape"}, {"\"a\tb\"", "control"}, {"\"\\u0000\"", "NUL"},
        {"\"\xff\"", "UTF-8"}, {"\"\\ud800", "unterminated"}, {"tru", "unexpected"},
        {"{\"a\":1,}", "string key"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        cJSON *doc = (cJSON *)1;
        int rc = sb_json_parse(&doc, bad[k].text, strlen(bad[k].text));
        ck_assert_msg(rc == SB_ERR_FORMAT, "'%s' parsed (%d)", bad[k].text, rc);
        ck_assert_ptr_null(doc);
        ck_assert_msg(strstr(sb_last_error_message(), bad[k].says) &&
                          strstr(sb_last_error_message(), "byte"),
                      "'%s': message '%s' does not say '%s' at a byte", bad[k].text,
                      sb_last_error_message(), bad[k].says);
    }
    /* Nesting is bounded (no stack overflow on hostile input). */
    char deep[4000];
    memset(deep, '[', sizeof deep);
    cJSON *doc = NULL;
    SBT_ERR(sb_json_parse(&doc, deep, sizeof deep), SB_ERR_FORMAT);
    SBT_MSG_HAS("deeper");
    /* White space around the document is fine, as for Python's json.loads. */
    doc = parse(" \n{\"a\" : [ 1 , 2 ] }\r\n\t");
    char *out = print(doc);
    ck_assert_str_eq(out, "{\"a\":[1,2]}");
    sb_free(out);
    cJSON_Delete(doc);
    /* Surrogate pairs and escapes decode to UTF-8. */
    doc = parse("\"\\ud83d\\ude42 \\u00e9\\/\"");
    ck_assert_str_eq(doc->valuestring, "\xf0\x9f\x99\x82 \xc3\xa9/");
    cJSON_Delete(doc);
}
END_TEST

START_TEST(json_assets_come_back_unchanged)
{
    char *path = sbt_join(dir, "j.h5");
    sb_store *s = NULL;
    SBT_OK(sb_store_open(&s, path, SB_CREATE, NULL));
    sb_dataset *ds = NULL;
    SBT_OK(sb_store_create_dataset(&ds, s, "d", 4, 1, (const char *[]){"x"}));
    const char *text = "{\"seed\":9000000000000001,\"sum\":0.30000000000000004,\"three\":3.0,"
                       "\"big\":1712345678901234567,\"nan\":NaN}";
    cJSON *doc = parse(text);
    SBT_OK(sb_dataset_add_json_asset(ds, "a.json", doc, false));
    cJSON_Delete(doc);
    cJSON *back = NULL;
    SBT_OK(sb_dataset_get_json_asset(&back, ds, "a.json"));
    char *out = print(back);
    ck_assert_str_eq(out, text);
    sb_free(out);
    cJSON_Delete(back);
    /* The stored bytes are that text. */
    void *bytes = NULL;
    size_t len = 0;
    SBT_OK(sb_dataset_get_asset_bytes(&bytes, &len, ds, "a.json"));
    ck_assert_uint_eq(len, strlen(text));
    ck_assert(memcmp(bytes, text, len) == 0);
    sb_free(bytes);
    /* An export copies a JSON asset byte for byte, spacing and all. */
    const char *spaced = "{ \"a\": 1.50,\n  \"b\": [1, 2] }";
    SBT_OK(sb_dataset_add_asset_bytes(ds, "spaced.json", spaced, strlen(spaced), false));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_export_dataset(s, "d", s, &(sb_export_options){
        .version = SB_EXPORT_OPTIONS_VERSION, .new_name = "copy", .shrink = false,
        .chunk_size = 1}));
    SBT_OK(sb_store_load_dataset(&ds, s, "copy"));
    SBT_OK(sb_dataset_get_asset_bytes(&bytes, &len, ds, "spaced.json"));
    ck_assert_uint_eq(len, strlen(spaced));
    ck_assert(memcmp(bytes, spaced, len) == 0);
    sb_free(bytes);
    /* What is not JSON says so, naming the asset. */
    SBT_OK(sb_dataset_add_asset_bytes(ds, "bad.json", "{\"a\":", 5, false));
    SBT_ERR(sb_dataset_get_json_asset(&back, ds, "bad.json"), SB_ERR_FORMAT);
    SBT_MSG_HAS("bad.json");
    SBT_MSG_HAS("byte 5");
    ck_assert_ptr_null(back);
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(s));
    free(path);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("json");
    TCase *tc = tcase_create("serial");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, numbers_keep_their_text);
    tcase_add_test(tc, numbers_printed_shortest);
    tcase_add_test(tc, exact_integers);
    tcase_add_test(tc, syntax_errors_say_where);
    tcase_add_test(tc, json_assets_come_back_unchanged);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
