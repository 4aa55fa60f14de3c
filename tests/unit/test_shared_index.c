/* The shared-dataset index (secbench/shared.h), Python's shared_datasets and
 * load_shared_dataset: listing in the file's order, descriptions relative to
 * the index, paths relative to the current directory, the environment
 * variable, and errors that name the file, the line, the ID and the key.
 * Fixtures: tests/data/index/ (SB_INDEX_DATA). */
#define _GNU_SOURCE /* asprintf */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <secbench/storage.h>

#include "sbt_util.h"

static char *dir;         /* private temp folder */
static const char *data;  /* tests/data/index */
static char cwd[4096];    /* restored after each test (CK_FORK=no runs them in one process) */

static void setup(void)
{
    dir = sbt_mkdtemp("shared");
    data = getenv("SB_INDEX_DATA");
    ck_assert_msg(data != NULL, "SB_INDEX_DATA (tests/data/index) is not set");
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    unsetenv(SB_SHARED_INDEX_ENV);
}

static void teardown(void)
{
    int init = 1;
    MPI_Initialized(&init);
    ck_assert_int_eq(chdir(cwd), 0);
    unsetenv(SB_SHARED_INDEX_ENV);
    sbt_rmtree(dir);
    free(dir);
    ck_assert_msg(init == 0, "the library called MPI_Init in a serial program");
}

/* tests/data/index/<name>, malloc'd. */
static char *fixture(const char *name) { return sbt_join(data, name); }

/* Write `text` to dir/<name>; malloc'd path. */
static char *write_text(const char *name, const char *text)
{
    char *p = sbt_join(dir, name);
    ck_assert(sbt_write_file(p, text, strlen(text)));
    return p;
}

static char *read_text(const char *path)
{
    unsigned char *bytes;
    size_t len;
    ck_assert_msg(sbt_read_file(path, &bytes, &len), "cannot read %s", path);
    char *text = realloc(bytes, len + 1);
    ck_assert_ptr_nonnull(text);
    text[len] = '\0';
    return text;
}

#define STR_OR_NULL_EQ(got, want)                                                        \
    do {                                                                                 \
        if ((want) == NULL)                                                              \
            ck_assert_ptr_null(got);                                                     \
        else                                                                             \
            ck_assert_str_eq((got), (want));                                             \
    } while (0)

/* What tests/data/index/index.toml holds, in its order (Python's tomllib
 * gives this order too). */
static const struct {
    const char *id, *name, *path, *description_file;
} INDEX[] = {
    {"zeta_first", "First in the file, last by name", "stores/zeta.h5", "desc/zeta.md"},
    {"no_name", NULL, "/srv/secbench/no_name.h5", NULL},
    {"dotted.id.v1", "A quoted ID with dots: one dataset, not nested tables",
     "stores/dotted.h5", "/dev/null"},
    {"aes-\xe2\x84\x95-cl\xc3\xa9", "Unicode ID: \xe2\x84\x95, \xc3\xa9",
     "stores/unicode \xc3\xa9.h5", "desc/unicode.md"},
    {"inline", "an inline table", "inline.h5", NULL},
    {"dotted", NULL, "dotted-keys.h5", NULL},
    {"alpha", NULL, "alpha.h5", NULL},
};
#define NINDEX (sizeof INDEX / sizeof INDEX[0])

START_TEST(lists_in_file_order)
{
    char *index = fixture("index.toml");
    sb_shared_dataset *list = NULL;
    size_t n = 99;
    SBT_OK(sb_shared_datasets(&list, &n, index, false));
    ck_assert_uint_eq(n, NINDEX);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(list[i].id, INDEX[i].id);
        STR_OR_NULL_EQ(list[i].name, INDEX[i].name);
        ck_assert_str_eq(list[i].path, INDEX[i].path);
        STR_OR_NULL_EQ(list[i].description_file, INDEX[i].description_file);
        ck_assert_ptr_null(list[i].description); /* not asked for */
    }
    sb_free(list);
    free(index);
}
END_TEST

START_TEST(loads_descriptions_relative_to_the_index)
{
    char *index = fixture("index.toml");
    char *zeta_md = fixture("desc/zeta.md"), *unicode_md = fixture("desc/unicode.md");
    char *zeta = read_text(zeta_md), *unicode = read_text(unicode_md);
    /* From anywhere: a relative description_file follows the index's folder. */
    ck_assert_int_eq(chdir(dir), 0);
    sb_shared_dataset *list = NULL;
    size_t n = 0;
    SBT_OK(sb_shared_datasets(&list, &n, index, true));
    ck_assert_uint_eq(n, NINDEX);
    ck_assert_str_eq(list[0].description, zeta);
    ck_assert_ptr_null(list[1].description);       /* no description_file */
    ck_assert_str_eq(list[2].description, "");     /* absolute: /dev/null */
    ck_assert_str_eq(list[3].description, unicode);
    for (size_t i = 4; i < n; i++)
        ck_assert_ptr_null(list[i].description);
    sb_free(list);

    /* A relative index path: its folder is relative to the current directory. */
    ck_assert_int_eq(chdir(data), 0);
    SBT_OK(sb_shared_datasets(&list, &n, "index.toml", true));
    ck_assert_str_eq(list[0].description, zeta);
    sb_free(list);
    ck_assert_int_eq(chdir(".."), 0);
    SBT_OK(sb_shared_datasets(&list, &n, "index/index.toml", true));
    ck_assert_str_eq(list[3].description, unicode);
    sb_free(list);
    free(zeta);
    free(unicode);
    free(zeta_md);
    free(unicode_md);
    free(index);
}
END_TEST

START_TEST(absolute_description_file)
{
    char *zeta_md = fixture("desc/zeta.md");
    char *zeta = read_text(zeta_md);
    char text[8192];
    snprintf(text, sizeof text, "[datasets.abs]\npath = \"a.h5\"\ndescription_file = \"%s\"\n",
             zeta_md);
    char *index = write_text("abs.toml", text);
    sb_shared_dataset *one = NULL;
    SBT_OK(sb_shared_dataset_lookup(&one, "abs", index, true));
    ck_assert_str_eq(one->description_file, zeta_md);
    ck_assert_str_eq(one->description, zeta);
    sb_free(one);
    free(index);
    free(zeta);
    free(zeta_md);
}
END_TEST

/* Python's read_text(): universal newlines. */
START_TEST(description_newlines_as_python_reads_them)
{
    char *md = write_text("crlf.md", "one\r\ntwo\rthree\nfour\r\r\nend");
    free(md);
    char *index = write_text("crlf.toml", "[datasets.crlf]\npath = \"c.h5\"\n"
                                          "description_file = \"crlf.md\"\n");
    sb_shared_dataset *one = NULL;
    SBT_OK(sb_shared_dataset_lookup(&one, "crlf", index, true));
    ck_assert_str_eq(one->description, "one\ntwo\nthree\nfour\n\nend");
    sb_free(one);
    free(index);
}
END_TEST

START_TEST(description_read_only_when_asked)
{
    char *index = fixture("missing_description.toml");
    sb_shared_dataset *list = NULL;
    size_t n = 0;
    SBT_OK(sb_shared_datasets(&list, &n, index, false));
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(list[1].description_file, "desc/absent.md");
    sb_free(list);
    SBT_ERR(sb_shared_datasets(&list, &n, index, true), SB_ERR_IO);
    SBT_MSG_HAS("desc/absent.md");
    SBT_MSG_HAS("undescribed");
    ck_assert_ptr_null(list);
    ck_assert_uint_eq(n, 0);
    /* The lookup of another dataset does not read it. */
    sb_shared_dataset *one = NULL;
    SBT_OK(sb_shared_dataset_lookup(&one, "fine", index, true));
    ck_assert_ptr_null(one->description);
    sb_free(one);
    SBT_ERR(sb_shared_dataset_lookup(&one, "undescribed", index, true), SB_ERR_IO);
    SBT_MSG_HAS("desc/absent.md");
    ck_assert_ptr_null(one);
    free(index);
}
END_TEST

START_TEST(empty_and_missing_datasets_table)
{
    char *empty = fixture("empty_datasets.toml"), *none = fixture("no_datasets.toml");
    sb_shared_dataset *list = (sb_shared_dataset *)1;
    size_t n = 99;
    SBT_OK(sb_shared_datasets(&list, &n, empty, true));
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(list);
    sb_free(list);
    /* No [datasets] at all: Python's shared_datasets raises KeyError, and
     * its load_shared_dataset finds no ID: SB_ERR_NOT_FOUND for both. */
    SBT_ERR(sb_shared_datasets(&list, &n, none, false), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("no_datasets.toml");
    SBT_MSG_HAS("[datasets]");
    sb_shared_dataset *one = NULL;
    SBT_ERR(sb_shared_dataset_lookup(&one, "x", none, false), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("\"x\"");
    SBT_MSG_HAS("[datasets]");
    SBT_ERR(sb_shared_dataset_lookup(&one, "x", empty, false), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("\"x\"");
    SBT_MSG_HAS("empty_datasets.toml");
    free(empty);
    free(none);
}
END_TEST

/* A bad index: both calls fail with the code, and the message names what. */
static void expect_bad(const char *file, const char *id, int code, const char *const *needles)
{
    char *index = fixture(file);
    sb_shared_dataset *list = (sb_shared_dataset *)1;
    size_t n = 99;
    SBT_ERR(sb_shared_datasets(&list, &n, index, false), code);
    ck_assert_ptr_null(list);
    ck_assert_uint_eq(n, 0);
    for (const char *const *w = needles; *w; w++)
        SBT_MSG_HAS(*w);
    if (id) {
        sb_shared_dataset *one = (sb_shared_dataset *)1;
        SBT_ERR(sb_shared_dataset_lookup(&one, id, index, false), code);
        ck_assert_ptr_null(one);
        for (const char *const *w = needles; *w; w++)
            SBT_MSG_HAS(*w);
    }
    free(index);
}

START_TEST(syntax_error_names_file_line_column)
{
    /* toml++'s words, at the line and column Python's tomllib reports too. */
    expect_bad("syntax_error.toml", "fine", SB_ERR_FORMAT,
               (const char *const[]){"syntax_error.toml:3:17", "invalid TOML", NULL});
    expect_bad("duplicate_id.toml", "twice", SB_ERR_FORMAT,
               (const char *const[]){"duplicate_id.toml:4:", "twice", NULL});
    /* Headers on which toml++ 3.3 broke an assertion (aborting a build
     * without NDEBUG: this suite's ASan+UBSan build is one). */
    expect_bad("bad_table_header.toml", "x", SB_ERR_FORMAT,
               (const char *const[]){"bad_table_header.toml:4:", "invalid TOML", NULL});
    expect_bad("bad_array_header.toml", "x", SB_ERR_FORMAT,
               (const char *const[]){"bad_array_header.toml:1:", "invalid TOML", NULL});
}
END_TEST

START_TEST(bad_datasets_name_the_id_and_the_key)
{
    expect_bad("no_path.toml", "broken", SB_ERR_FORMAT,
               (const char *const[]){"no_path.toml:4:", "\"broken\"", "\"path\"", NULL});
    expect_bad("path_not_string.toml", "number", SB_ERR_FORMAT,
               (const char *const[]){"path_not_string.toml:5:", "\"number\"", "\"path\"",
                                     "integer", NULL});
    expect_bad("empty_path.toml", "blank", SB_ERR_FORMAT,
               (const char *const[]){"\"blank\"", "\"path\" is empty", NULL});
    expect_bad("name_not_string.toml", "listed", SB_ERR_FORMAT,
               (const char *const[]){"\"listed\"", "\"name\"", "array", NULL});
    expect_bad("description_not_string.toml", "described", SB_ERR_FORMAT,
               (const char *const[]){"\"described\"", "\"description_file\"", "date", NULL});
    expect_bad("entry_not_table.toml", "plain", SB_ERR_FORMAT,
               (const char *const[]){"entry_not_table.toml:2:", "\"plain\"", "not a table",
                                     NULL});
    expect_bad("datasets_not_table.toml", "x", SB_ERR_FORMAT,
               (const char *const[]){"datasets_not_table.toml:1:", "\"datasets\"", "string",
                                     NULL});
    /* C strings end at NUL: an ID or a path holding one is refused. */
    expect_bad("nul_id.toml", NULL, SB_ERR_FORMAT,
               (const char *const[]){"nul_id.toml:1:", "\"a\\x00b\"", "NUL", NULL});
    expect_bad("nul_path.toml", "nul", SB_ERR_FORMAT,
               (const char *const[]){"\"nul\"", "\"path\"", "NUL", NULL});
    /* Control characters and quotes of an ID are escaped in the message. */
    expect_bad("control_id.toml", "tab\there \"quoted\"", SB_ERR_FORMAT,
               (const char *const[]){"\"tab\\x09here \\\"quoted\\\"\"", "\"path\"", NULL});
}
END_TEST

/* Non-ASCII characters where toml++ 3.3 checks for whitespace reached
 * __builtin_unreachable (marzer/tomlplusplus#190, #295; the ASan+UBSan build
 * of this suite catches it): a value as Python's tomllib reads it, and an
 * error. */
START_TEST(non_ascii_where_whitespace_may_be)
{
    char *index = fixture("unicode_after_backslash.toml");
    sb_shared_dataset *one = NULL;
    SBT_OK(sb_shared_dataset_lookup(&one, "section", index, false));
    ck_assert_str_eq(one->path, "\xc2\xa7.h5");
    sb_free(one);
    free(index);
    expect_bad("unicode_statement.toml", "x", SB_ERR_FORMAT,
               (const char *const[]){"unicode_statement.toml:3:1", "invalid TOML", NULL});
}
END_TEST

/* Python's load_shared_dataset looks at the dataset asked for only: the
 * others may be broken. */
START_TEST(lookup_checks_only_its_dataset)
{
    char *index = fixture("no_path.toml");
    sb_shared_dataset *one = NULL;
    SBT_OK(sb_shared_dataset_lookup(&one, "fine", index, true));
    ck_assert_str_eq(one->id, "fine");
    ck_assert_str_eq(one->path, "fine.h5");
    ck_assert_ptr_null(one->name);
    sb_free(one);
    free(index);
}
END_TEST

START_TEST(lookup_by_id)
{
    char *index = fixture("index.toml");
    for (size_t i = 0; i < NINDEX; i++) {
        sb_shared_dataset *one = NULL;
        SBT_OK(sb_shared_dataset_lookup(&one, INDEX[i].id, index, false));
        ck_assert_str_eq(one->id, INDEX[i].id);
        STR_OR_NULL_EQ(one->name, INDEX[i].name);
        ck_assert_str_eq(one->path, INDEX[i].path);
        STR_OR_NULL_EQ(one->description_file, INDEX[i].description_file);
        ck_assert_ptr_null(one->description);
        sb_free(one);
    }
    sb_shared_dataset *one = (sb_shared_dataset *)1;
    /* IDs are exact: no nesting through dots, no case folding, no trimming. */
    static const char *const unknown[] = {"dotted.id", "id", "Alpha", "alpha ", "",
                                          "title", "inline.path"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        SBT_ERR(sb_shared_dataset_lookup(&one, unknown[i], index, false), SB_ERR_NOT_FOUND);
        ck_assert_ptr_null(one);
        SBT_MSG_HAS("index.toml");
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", unknown[i]);
        SBT_MSG_HAS(quoted);
    }
    free(index);
}
END_TEST

START_TEST(missing_or_unreadable_index)
{
    char *absent = sbt_join(dir, "absent.toml");
    sb_shared_dataset *list = NULL, *one = NULL;
    size_t n = 0;
    SBT_ERR(sb_shared_datasets(&list, &n, absent, false), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("absent.toml");
    SBT_ERR(sb_shared_dataset_lookup(&one, "x", absent, false), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("absent.toml");
    /* A folder is no index. */
    SBT_ERR(sb_shared_datasets(&list, &n, dir, false), SB_ERR_IO);
    SBT_MSG_HAS(dir);
    /* A FIFO, as index or description_file, is refused without waiting for
     * a writer. */
    char *fifo = sbt_join(dir, "index.fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    SBT_ERR(sb_shared_datasets(&list, &n, fifo, false), SB_ERR_IO);
    SBT_MSG_HAS("FIFO");
    char *text = NULL;
    ck_assert_int_gt(asprintf(&text, "[datasets.f]\npath = \"f.h5\"\ndescription_file = \"%s\"\n",
                              fifo), 0);
    char *index = write_text("fifo.toml", text);
    SBT_ERR(sb_shared_dataset_lookup(&one, "f", index, true), SB_ERR_IO);
    SBT_MSG_HAS("FIFO");
    free(index);
    free(text);
    free(fifo);
    /* Past 64 MiB, an index or a description_file is refused (a sparse
     * file: nothing is written to disk). */
    char *big = sbt_join(dir, "big.toml");
    FILE *bf = fopen(big, "w");
    ck_assert_ptr_nonnull(bf);
    fputs("# big\n", bf);
    fclose(bf);
    ck_assert_int_eq(truncate(big, (64 << 20) + 1), 0);
    SBT_ERR(sb_shared_datasets(&list, &n, big, false), SB_ERR_IO);
    SBT_MSG_HAS("larger than 64 MiB");
    ck_assert_int_gt(asprintf(&text, "[datasets.b]\npath = \"b.h5\"\ndescription_file = \"%s\"\n",
                              big), 0);
    index = write_text("bigdesc.toml", text);
    SBT_ERR(sb_shared_dataset_lookup(&one, "b", index, true), SB_ERR_IO);
    SBT_MSG_HAS("larger than 64 MiB");
    free(index);
    free(text);
    /* ... and exactly 64 MiB is read (a comment and NULs: not TOML, but read). */
    ck_assert_int_eq(truncate(big, 64 << 20), 0);
    SBT_ERR(sb_shared_datasets(&list, &n, big, false), SB_ERR_FORMAT);
    free(big);
    /* A description holding a NUL byte is not text. */
    char *nul = sbt_join(dir, "nul.txt");
    bf = fopen(nul, "wb");
    ck_assert_ptr_nonnull(bf);
    fwrite("ab\0cd", 1, 5, bf);
    fclose(bf);
    ck_assert_int_gt(asprintf(&text, "[datasets.z]\npath = \"z.h5\"\ndescription_file = \"%s\"\n",
                              nul), 0);
    index = write_text("nuldesc.toml", text);
    SBT_ERR(sb_shared_dataset_lookup(&one, "z", index, true), SB_ERR_FORMAT);
    SBT_MSG_HAS("NUL byte");
    SBT_OK(sb_shared_dataset_lookup(&one, "z", index, false)); /* not read unless asked */
    sb_free(one);
    one = NULL;
    free(index);
    free(text);
    free(nul);
    /* Arguments. */
    SBT_ERR(sb_shared_datasets(NULL, &n, absent, false), SB_ERR_INVALID);
    SBT_ERR(sb_shared_datasets(&list, NULL, absent, false), SB_ERR_INVALID);
    SBT_ERR(sb_shared_datasets(&list, &n, "", false), SB_ERR_INVALID);
    SBT_ERR(sb_shared_dataset_lookup(NULL, "x", absent, false), SB_ERR_INVALID);
    SBT_ERR(sb_shared_dataset_lookup(&one, NULL, absent, false), SB_ERR_INVALID);
    SBT_ERR(sb_shared_dataset_lookup(&one, "x", "", false), SB_ERR_INVALID);
    free(absent);
}
END_TEST

START_TEST(environment_variable)
{
    char *index = fixture("index.toml"), *absent = sbt_join(dir, "absent.toml");
    sb_shared_dataset *list = (sb_shared_dataset *)1, *one = NULL;
    size_t n = 99;
    /* Neither an argument nor the variable: Python returns {}. */
    unsetenv(SB_SHARED_INDEX_ENV);
    SBT_OK(sb_shared_datasets(&list, &n, NULL, true));
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(list);
    /* ... and load_shared_dataset raises ValueError: set the variable. */
    SBT_ERR(sb_shared_dataset_lookup(&one, "alpha", NULL, false), SB_ERR_INVALID);
    SBT_MSG_HAS(SB_SHARED_INDEX_ENV);
    sb_store *st = (sb_store *)1;
    SBT_ERR(sb_store_open_shared(&st, "alpha", SB_READ, NULL, NULL), SB_ERR_INVALID);
    SBT_MSG_HAS(SB_SHARED_INDEX_ENV);
    ck_assert_ptr_null(st);
    /* An empty variable counts as unset. */
    setenv(SB_SHARED_INDEX_ENV, "", 1);
    SBT_OK(sb_shared_datasets(&list, &n, NULL, true));
    ck_assert_uint_eq(n, 0);
    SBT_ERR(sb_shared_dataset_lookup(&one, "alpha", NULL, false), SB_ERR_INVALID);

    setenv(SB_SHARED_INDEX_ENV, index, 1);
    SBT_OK(sb_shared_datasets(&list, &n, NULL, true));
    ck_assert_uint_eq(n, NINDEX);
    ck_assert_str_eq(list[0].id, INDEX[0].id);
    sb_free(list);
    SBT_OK(sb_shared_dataset_lookup(&one, "alpha", NULL, false));
    ck_assert_str_eq(one->path, "alpha.h5");
    sb_free(one);
    /* The argument wins over the variable. */
    SBT_ERR(sb_shared_datasets(&list, &n, absent, false), SB_ERR_NOT_FOUND);
    setenv(SB_SHARED_INDEX_ENV, absent, 1);
    SBT_ERR(sb_shared_datasets(&list, &n, NULL, false), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("absent.toml");
    SBT_OK(sb_shared_datasets(&list, &n, index, false));
    ck_assert_uint_eq(n, NINDEX);
    sb_free(list);
    free(index);
    free(absent);
}
END_TEST

/* A store with dataset "traces" at dir/<name>. */
static char *make_store(const char *name)
{
    char *path = sbt_join(dir, name);
    sb_store *st = NULL;
    SBT_OK(sb_store_open(&st, path, SB_CREATE, NULL));
    const char *fields[] = {"samples"};
    sb_dataset *ds = NULL;
    SBT_OK(sb_store_create_dataset(&ds, st, "traces", 10, 1, fields));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(st));
    return path;
}

static bool has_dataset(sb_store *st, const char *name)
{
    bool exists = false;
    SBT_OK(sb_store_has_dataset(&exists, st, name));
    return exists;
}

START_TEST(open_shared_in_each_mode)
{
    char *store = make_store("shared.h5"), *fresh = sbt_join(dir, "fresh.h5");
    char text[8192];
    snprintf(text, sizeof text,
             "[datasets.campaign]\nname = \"a campaign\"\npath = \"%s\"\n"
             "[datasets.fresh]\npath = \"%s\"\n",
             store, fresh);
    char *index = write_text("index.toml", text);
    const char *fields[] = {"x"};
    sb_dataset *ds = NULL;
    sb_store *st = NULL;

    /* "r", Python's default */
    SBT_OK(sb_store_open_shared(&st, "campaign", SB_READ, NULL, index));
    ck_assert_str_eq(sb_store_path(st), store);
    ck_assert_int_eq(sb_store_mode(st), SB_READ);
    ck_assert(has_dataset(st, "traces"));
    SBT_ERR(sb_store_create_dataset(&ds, st, "more", 10, 1, fields), SB_ERR_READ_ONLY);
    SBT_OK(sb_store_close(st));

    /* "r+" */
    SBT_OK(sb_store_open_shared(&st, "campaign", SB_READ_WRITE, NULL, index));
    SBT_OK(sb_store_create_dataset(&ds, st, "more", 10, 1, fields));
    SBT_OK(sb_dataset_close(ds));
    SBT_OK(sb_store_close(st));

    /* "w-" on an existing store: its error, naming the ID too */
    st = (sb_store *)1;
    SBT_ERR(sb_store_open_shared(&st, "campaign", SB_CREATE, NULL, index), SB_ERR_EXISTS);
    SBT_MSG_HAS("\"campaign\"");
    SBT_MSG_HAS("shared.h5");
    ck_assert_ptr_null(st);

    /* "r" on a store that is not there yet, then "a" creates it */
    SBT_ERR(sb_store_open_shared(&st, "fresh", SB_READ, NULL, index), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("\"fresh\"");
    SBT_MSG_HAS("fresh.h5");
    ck_assert(!sbt_exists(fresh));
    SBT_OK(sb_store_open_shared(&st, "fresh", SB_READ_WRITE_CREATE, NULL, index));
    ck_assert_int_eq(sb_store_mode(st), SB_READ_WRITE_CREATE);
    SBT_OK(sb_store_close(st));
    ck_assert(sbt_exists(fresh));

    /* "w" truncates */
    SBT_OK(sb_store_open_shared(&st, "campaign", SB_CREATE_TRUNCATE, NULL, index));
    ck_assert(!has_dataset(st, "traces"));
    SBT_OK(sb_store_close(st));

    /* options are passed on */
    sb_store_options opts;
    sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION);
    opts.version = 0;
    SBT_ERR(sb_store_open_shared(&st, "campaign", SB_READ, &opts, index), SB_ERR_INVALID);
    SBT_MSG_HAS("sb_store_options_init");

    /* unknown ID, and arguments */
    SBT_ERR(sb_store_open_shared(&st, "nope", SB_READ, NULL, index), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("\"nope\"");
    SBT_MSG_HAS("index.toml");
    SBT_ERR(sb_store_open_shared(NULL, "campaign", SB_READ, NULL, index), SB_ERR_INVALID);
    SBT_ERR(sb_store_open_shared(&st, NULL, SB_READ, NULL, index), SB_ERR_INVALID);

    /* through the environment variable */
    setenv(SB_SHARED_INDEX_ENV, index, 1);
    SBT_OK(sb_store_open_shared(&st, "campaign", SB_READ, NULL, NULL));
    ck_assert_str_eq(sb_store_path(st), store);
    SBT_OK(sb_store_close(st));
    free(index);
    free(store);
    free(fresh);
}
END_TEST

/* `path` is opened as written: relative to the current directory, not to
 * the index (Python: Store.open(Path(path))). */
START_TEST(open_shared_path_relative_to_cwd)
{
    char *sub = sbt_join(dir, "sub");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    char *index = sbt_join(sub, "index.toml");
    const char *text = "[datasets.rel]\npath = \"rel.h5\"\n";
    ck_assert(sbt_write_file(index, text, strlen(text)));
    char *beside_index = sbt_join(sub, "rel.h5");
    sb_store *st = NULL;
    SBT_OK(sb_store_open(&st, beside_index, SB_CREATE, NULL));
    SBT_OK(sb_store_close(st));

    ck_assert_int_eq(chdir(dir), 0); /* dir/rel.h5 does not exist */
    SBT_ERR(sb_store_open_shared(&st, "rel", SB_READ, NULL, index), SB_ERR_NOT_FOUND);
    SBT_MSG_HAS("\"rel\"");
    SBT_MSG_HAS("rel.h5");
    ck_assert_int_eq(chdir(sub), 0);
    SBT_OK(sb_store_open_shared(&st, "rel", SB_READ, NULL, index));
    ck_assert_str_eq(sb_store_path(st), "rel.h5");
    SBT_OK(sb_store_close(st));
    /* Only "path" matters to the open, as in Python: a broken name does not. */
    const char *odd = "[datasets.rel]\npath = \"rel.h5\"\nname = 3\ndescription_file = []\n";
    ck_assert(sbt_write_file(index, odd, strlen(odd)));
    SBT_OK(sb_store_open_shared(&st, "rel", SB_READ, NULL, index));
    SBT_OK(sb_store_close(st));
    sb_shared_dataset *one = NULL;
    SBT_ERR(sb_shared_dataset_lookup(&one, "rel", index, false), SB_ERR_FORMAT);
    SBT_MSG_HAS("\"name\"");
    free(beside_index);
    free(index);
    free(sub);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("shared_index");
    TCase *tc = tcase_create("serial");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, lists_in_file_order);
    tcase_add_test(tc, loads_descriptions_relative_to_the_index);
    tcase_add_test(tc, absolute_description_file);
    tcase_add_test(tc, description_newlines_as_python_reads_them);
    tcase_add_test(tc, description_read_only_when_asked);
    tcase_add_test(tc, empty_and_missing_datasets_table);
    tcase_add_test(tc, syntax_error_names_file_line_column);
    tcase_add_test(tc, bad_datasets_name_the_id_and_the_key);
    tcase_add_test(tc, non_ascii_where_whitespace_may_be);
    tcase_add_test(tc, lookup_checks_only_its_dataset);
    tcase_add_test(tc, lookup_by_id);
    tcase_add_test(tc, missing_or_unreadable_index);
    tcase_add_test(tc, environment_variable);
    tcase_add_test(tc, open_shared_in_each_mode);
    tcase_add_test(tc, open_shared_path_relative_to_cwd);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
