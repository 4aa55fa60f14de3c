/* What every file of the library includes: the public API, and the few
 * helpers too small for a module of their own. */
#ifndef SB_BASE_H
#define SB_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secbench/storage.h"

#if defined(__GNUC__)
#define SB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SB_PRINTF(a, b)
#endif

/* Counts, offsets and sizes come from callers (and from other ranks): every
 * sum and product of them is checked. True when the result does not fit. */
static inline bool sb__add_overflows(uint64_t a, uint64_t b, uint64_t *sum)
{
    return __builtin_add_overflow(a, b, sum);
}

static inline bool sb__mul_overflows(uint64_t a, uint64_t b, uint64_t *product)
{
    return __builtin_mul_overflow(a, b, product);
}

/* A copy of `s` (malloc), NULL when out of memory. */
char *sb__strdup(const char *s);

/* One allocation holding `count` pointers followed by the strings they point
 * to, so that sb_free(list) frees it all. NULL (with SB_ERR_NOMEM raised)
 * when out of memory; NULL without error for count 0. */
char **sb__strings_pack(char *const *strings, size_t count);

#endif
