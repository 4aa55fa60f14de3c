/* list: Python's `secbench-db list`, the datasets of the shared-dataset index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static const char list_help[] =
    "Usage: secbench-db list [-l] [INDEX]\n"
    "\n"
    "List the shared datasets of the index INDEX, a TOML file, or of the file\n"
    "named by the environment variable " SB_SHARED_INDEX_ENV " when INDEX\n"
    "is not given (neither: nothing is listed), as Python's `secbench-db list`:\n"
    "one block per [datasets.ID] table, in the order of the file:\n"
    "    ID:\n"
    "        Name: NAME          (None when the table has no name)\n"
    "        Path: PATH\n"
    "        Description:        (with -l: the text of description_file,\n"
    "    <text indented by 8>     stripped, relative to the index's folder)\n"
    "    <empty line>\n"
    "\n"
    "Options:\n"
    "  -l, --long  also print each dataset's description (none: empty)\n"
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 on success, 1 if the index (or a description file) cannot\n"
    "be read or is not a valid index, 2 on a command-line mistake.\n";

/* Python's str.isspace() on one byte (ASCII, and the separators \\x1c-\\x1f). */
static bool space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* print(textwrap.indent(text.strip(), " " * 8)): every line that is not
 * only white space gets the prefix. */
static void print_description(const char *text)
{
    const char *end = text + strlen(text);
    while (text < end && space(*text))
        text++;
    while (end > text && space(end[-1]))
        end--;
    while (text < end) {
        const char *nl = memchr(text, '\n', (size_t)(end - text));
        const char *stop = nl ? nl : end;
        bool blank = true;
        for (const char *p = text; p < stop; p++)
            blank = blank && space(*p);
        printf("%s%.*s%s", blank ? "" : "        ", (int)(stop - text), text, nl ? "\n" : "");
        text = nl ? nl + 1 : end;
    }
    printf("\n");
}

int db_cmd_list(int argc, char **argv)
{
    bool long_format = false;
    const cli_option opts[] = {CLI_FLAG("long", 'l', &long_format)};
    const char *const pos_names[] = {"INDEX"};
    const cli_spec spec = {.command = "list", .help = list_help, .options = opts,
                           .noptions = 1, .pos_names = pos_names, .npos = 1, .nrequired = 0};
    const char *pos[1] = {NULL};
    size_t npos, count = 0;
    sb_shared_dataset *datasets = NULL;
    int code = cli_parse(&spec, argc, argv, pos, &npos);
    if (code >= 0)
        return code;
    /* Reading a FIFO would wait for a writer: refuse it first. */
    const char *index = pos[0] ? pos[0] : getenv(SB_SHARED_INDEX_ENV);
    if (index && index[0] && !prog_regular_or_absent(index))
        return CLI_EXIT_FAILURE;
    if (prog_failed(sb_shared_datasets(&datasets, &count, pos[0], long_format)))
        return CLI_EXIT_FAILURE;
    for (size_t i = 0; i < count && cli_rank() == 0; i++) {
        const sb_shared_dataset *d = &datasets[i];
        printf("%s:\n", d->id);
        printf("    Name: %s\n", d->name ? d->name : "None");
        printf("    Path: %s\n", d->path);
        if (long_format) {
            printf("    Description:\n");
            print_description(d->description ? d->description : "");
        }
        printf("\n");
    }
    sb_free(datasets);
    return CLI_EXIT_OK;
}
