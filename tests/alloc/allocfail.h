/* The allocators of the test-only copy of the library (tests/alloc/
 * CMakeLists.txt compiles src/ again with malloc, calloc, realloc, free,
 * strdup and strndup renamed to these), and of cJSON (cJSON_InitHooks), so
 * that the library's own allocations, and only those, can be made to fail:
 * HDF5's and libc's internal allocations go on as usual.
 *
 * Every block handed out is recorded (masked, so that LeakSanitizer still
 * sees a leaked block as unreachable) with its sequence number and size:
 * sbt_alloc_live() counts the blocks not yet freed, and a free of a block
 * these functions never handed out (a double free, or memory of HDF5 or
 * libc given to free) is counted as foreign. */
#ifndef SBT_ALLOCFAIL_H
#define SBT_ALLOCFAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

void *sbt_alloc_malloc(size_t size);
void *sbt_alloc_calloc(size_t count, size_t size);
void *sbt_alloc_realloc(void *ptr, size_t size);
void sbt_alloc_free(void *ptr);
char *sbt_alloc_strdup(const char *s);
char *sbt_alloc_strndup(const char *s, size_t n);

typedef enum sbt_fail_mode {
    SBT_FAIL_ONCE, /* only the nth allocation fails */
    SBT_FAIL_FROM  /* the nth and every later one fail (memory stays short) */
} sbt_fail_mode;

/* Count allocations from now on; the nth (1-based) fails. n = 0: count only. */
void sbt_alloc_arm(unsigned long n, sbt_fail_mode mode);

typedef struct sbt_alloc_report {
    unsigned long calls;  /* allocation calls since sbt_alloc_arm */
    unsigned long failed; /* of them, made to fail */
} sbt_alloc_report;
/* Stop counting and failing. */
sbt_alloc_report sbt_alloc_disarm(void);

/* Blocks handed out and not freed. */
size_t sbt_alloc_live(void);
/* Frees of blocks that were not handed out here. */
unsigned long sbt_alloc_foreign_frees(void);
/* Sequence number of the next allocation call. */
unsigned long sbt_alloc_next_seq(void);
/* Print the live blocks (at most max), numbered from sequence `from` on. */
void sbt_alloc_print_live(FILE *out, unsigned long from, size_t max);

#endif
