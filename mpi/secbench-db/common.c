#include "db.h"

#include <stdio.h>

#include <mpi.h>

#include "cli.h"

int db_open_store(const char *path, sb_open_mode mode, sb_store **store)
{
    sb_store_options opts;
    int rc;
    sb_store_options_init(&opts, SB_STORE_OPTIONS_VERSION);
    /* One process: a serial store, no MPI-IO needed. Several: every rank
     * opens the file, so export and benchmark spread the I/O. */
    if (cli_nranks() > 1)
        opts.comm = MPI_COMM_WORLD;
    rc = sb_store_open(store, path, mode, &opts);
    if (rc != 0) {
        cli_error("cannot open %s: %s", path, db_error_text());
        *store = NULL;
    }
    return rc;
}

const char *db_error_text(void)
{
    const char *msg = sb_last_error_message();
    return msg[0] ? msg : sb_error_name(sb_last_error_code());
}

void db_report(const char *what)
{
    cli_error("%s: %s", what, db_error_text());
}

void db_shape_text(char *buf, size_t len, int ndim, const uint64_t *shape)
{
    size_t used = 0;
    int n;
    if (len == 0)
        return;
    buf[0] = '\0';
    n = snprintf(buf, len, "(");
    used = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < ndim && used < len; i++) {
        n = snprintf(buf + used, len - used, "%s%llu", i ? ", " : "",
                     (unsigned long long)shape[i]);
        if (n < 0)
            return;
        used += (size_t)n;
    }
    if (used < len)
        snprintf(buf + used, len - used, ndim == 1 ? ",)" : ")");
}

void db_print(const char *text)
{
    if (cli_rank() == 0)
        fputs(text, stdout);
}
