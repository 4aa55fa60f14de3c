/* What both allocation-failure loops set up the same way: dying on a failed
 * set-up call, the work folder, and the base store every scenario starts
 * from (fixture.c). */
#ifndef SBT_FIXTURE_H
#define SBT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include <secbench/storage.h>

#include "digest.h"

/* Prints "<sbt_program>: <message>", calls sbt_on_die if set (the parallel
 * loop aborts the job there), and exits with 2. */
void sbt_die(const char *fmt, ...) PRINTF_LIKE(1, 2);
extern void (*sbt_on_die)(void);

/* A call of the test's own set-up that must work (in the parallel loop,
 * collective calls fail alike on every rank, so every rank dies here). */
#define REQ(expr)                                                                         \
    do {                                                                                  \
        int req_rc_ = (expr);                                                             \
        if (req_rc_ != 0)                                                                 \
            sbt_die("%s:%d: %s returned %s: %s", __FILE__, __LINE__, #expr,               \
                    sb_error_name(req_rc_), sb_last_error_message());                     \
    } while (0)

/* The folder's entries (not . and ..), sorted, each strdup'ed: at most max. */
size_t sbt_list_dir(const char *dir, char **names, size_t max);
void sbt_free_names(char **names, size_t n);
/* Removes every file of the folder (it holds no folder). */
void sbt_empty_dir(const char *dir);

sb_array sbt_wrap(sb_dtype dtype, int ndim, const uint64_t *shape, const void *data);

/* A JSON document with every kind of value, escapes and numbers past int64. */
extern const char sbt_json_text[];

/* The base store, written serially at path; capacities that rows are written
 * into scale with ranks (the parallel loop's ranks each write their own):
 *   traces    capacity 64, data int8 (16,), plaintext uint8 (4,), 10 rows;
 *             assets notes (bytes), curve (float64 2x3), meta.json
 *   aes/keys  nested, capacity 8, key uint8 (2,), 3 rows
 *   wide      9 int16 fields (more than the 8 a batch keeps on the stack), 2 rows,
 *             capacity 16 per rank, asset w
 *   empty     fields a, b, never written (known from _sb_fields only), capacity 4 per rank
 *   slots     x float32 (3,), y uint8, defined up front, no row, capacity 8 per rank */
void sbt_make_base(const char *path, uint64_t ranks);

/* What a scenario's call hands back. Each is poisoned before the call and
 * must be cleared by a call that fails. */
typedef struct sbt_outputs {
    sb_store *s; /* also the store every call works on */
    sb_dataset *out;
    char **names;
    size_t count;
    bool flag;
    void *bytes;
    size_t len;
    sb_array arr;
    sb_array got[2];
    cJSON *json;
    char *str;
    sb_shared_dataset *shared;
    size_t nshared;
} sbt_outputs;

/* Which of them a scenario's call hands back. */
enum {
    OUT_STORE = 1 << 0,   /* s */
    OUT_DS = 1 << 1,      /* out */
    OUT_NAMES = 1 << 2,   /* names, count */
    OUT_FLAG = 1 << 3,    /* flag */
    OUT_BYTES = 1 << 4,   /* bytes, len */
    OUT_ARRAY = 1 << 5,   /* arr */
    OUT_GET = 1 << 6,     /* got[0..1] */
    OUT_JSON = 1 << 7,    /* json */
    OUT_TEXT = 1 << 8,    /* str */
    OUT_NODE = 1 << 9,    /* json, from a constructor that returns NULL on failure */
    OUT_SHARED = 1 << 10, /* shared, nshared */
};

void sbt_poison(sbt_outputs *o, unsigned outputs);
/* Which outputs a failed call left set (NULL: all are cleared). */
const char *sbt_not_cleared(const sbt_outputs *o, unsigned outputs);
/* Outputs left poisoned by a call that did not reach them: not ours to free. */
void sbt_unpoison(sbt_outputs *o);

#endif
