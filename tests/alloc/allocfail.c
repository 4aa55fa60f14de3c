/* Counting, failing allocators for the test-only copy of the library. This
 * file is compiled normally: malloc and free here are libc's. */
#include <execinfo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allocfail.h"

/* ---- the record of live blocks: open addressing, linear probing ---------- */

/* Keys are stored masked, so that a leaked block is unreachable for
 * LeakSanitizer (the table does not count as a reference to it). */
#define MASK ((uintptr_t)0xa5a5a5a5a5a5a5a5ULL)

typedef struct slot {
    uintptr_t key; /* masked pointer, 0 = empty */
    unsigned long seq;
    size_t size;
} slot;

static slot *table;
static size_t table_cap, table_used;
static unsigned long seq, foreign;

static size_t hash_of(uintptr_t key, size_t cap)
{
    uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 17) & (cap - 1);
}

static void table_put(slot *t, size_t cap, slot s)
{
    size_t i = hash_of(s.key, cap);
    while (t[i].key)
        i = (i + 1) & (cap - 1);
    t[i] = s;
}

static void record(void *p, size_t size, unsigned long at)
{
    if (table_used * 2 >= table_cap) {
        size_t cap = table_cap ? table_cap * 2 : 1024;
        slot *t = calloc(cap, sizeof *t);
        if (!t)
            abort(); /* the test itself is out of memory */
        for (size_t i = 0; i < table_cap; i++)
            if (table[i].key)
                table_put(t, cap, table[i]);
        free(table);
        table = t;
        table_cap = cap;
    }
    table_put(table, table_cap, (slot){(uintptr_t)p ^ MASK, at, size});
    table_used++;
}

/* Remove p; false if it was not recorded. */
static bool forget(void *p)
{
    if (!table_cap)
        return false;
    uintptr_t key = (uintptr_t)p ^ MASK;
    size_t i = hash_of(key, table_cap);
    while (table[i].key && table[i].key != key)
        i = (i + 1) & (table_cap - 1);
    if (!table[i].key)
        return false;
    /* Backward-shift deletion keeps every probe chain unbroken. */
    size_t hole = i;
    for (size_t j = (i + 1) & (table_cap - 1); table[j].key; j = (j + 1) & (table_cap - 1)) {
        size_t home = hash_of(table[j].key, table_cap);
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            table[hole] = table[j];
            hole = j;
        }
    }
    table[hole].key = 0;
    table_used--;
    return true;
}

/* ---- the countdown --------------------------------------------------------- */

static bool armed;
static unsigned long fail_at, calls, failed;
static sbt_fail_mode mode;

/* One allocation call: whether it must fail, and its sequence number. */
static bool must_fail(unsigned long *at)
{
    *at = seq++;
    if (!armed)
        return false;
    calls++;
    if (fail_at == 0 || calls < fail_at || (mode == SBT_FAIL_ONCE && calls > fail_at))
        return false;
    failed++;
    /* SBT_ALLOC_BACKTRACE=1: where the failed allocation was made (addresses
     * for addr2line -e PROGRAM -f -i). */
    if (getenv("SBT_ALLOC_BACKTRACE")) {
        void *frames[32];
        int n = backtrace(frames, 32);
        fprintf(stderr, "allocation %lu fails here:\n", calls);
        backtrace_symbols_fd(frames, n, 2);
    }
    return true;
}

void sbt_alloc_arm(unsigned long n, sbt_fail_mode m)
{
    armed = true;
    fail_at = n;
    mode = m;
    calls = failed = 0;
}

sbt_alloc_report sbt_alloc_disarm(void)
{
    armed = false;
    return (sbt_alloc_report){calls, failed};
}

size_t sbt_alloc_live(void) { return table_used; }
unsigned long sbt_alloc_foreign_frees(void) { return foreign; }
unsigned long sbt_alloc_next_seq(void) { return seq; }

void sbt_alloc_print_live(FILE *out, unsigned long from, size_t max)
{
    size_t shown = 0;
    for (size_t i = 0; i < table_cap && shown < max; i++)
        if (table[i].key) {
            long rel = (long)table[i].seq - (long)from;
            fprintf(out, "    live block of %zu bytes from allocation %s%ld\n", table[i].size,
                    rel >= 0 ? "#" : "before the call: ", rel >= 0 ? rel + 1 : rel);
            shown++;
        }
}

/* ---- the allocators --------------------------------------------------------- */

void *sbt_alloc_malloc(size_t size)
{
    unsigned long at;
    if (must_fail(&at))
        return NULL;
    void *p = malloc(size ? size : 1);
    if (p)
        record(p, size, at);
    return p;
}

void *sbt_alloc_calloc(size_t count, size_t size)
{
    unsigned long at;
    if (must_fail(&at))
        return NULL;
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p)
        record(p, count * size, at);
    return p;
}

void *sbt_alloc_realloc(void *ptr, size_t size)
{
    unsigned long at;
    if (must_fail(&at))
        return NULL; /* ptr stays valid, as with a real failure */
    if (ptr && !forget(ptr)) {
        foreign++;
        return NULL;
    }
    void *p = realloc(ptr, size ? size : 1);
    if (p)
        record(p, size, at);
    else if (ptr)
        record(ptr, 0, at);
    return p;
}

void sbt_alloc_free(void *ptr)
{
    if (!ptr)
        return;
    if (!forget(ptr)) {
        foreign++; /* not ours: leave it alone rather than corrupt the heap */
        return;
    }
    free(ptr);
}

char *sbt_alloc_strdup(const char *s) { return sbt_alloc_strndup(s, strlen(s)); }

char *sbt_alloc_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = sbt_alloc_malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}
