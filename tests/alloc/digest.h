/* Text buffers and the digest of a store (digest.c), shared by the
 * allocation-failure loops. */
#ifndef SBT_DIGEST_H
#define SBT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF_LIKE(a, b)
#endif

/* The program's name in messages of the helpers that exit (default "test_allocfail"). */
extern const char *sbt_program;

typedef struct text {
    char *p;
    size_t len, cap;
} text;

void put(text *t, const char *fmt, ...) PRINTF_LIKE(2, 3);
void text_free(text *t);
const char *text_str(const text *t);
uint64_t fnv(const void *data, size_t len);
void copy_file(const char *from, const char *to);

/* The store read raw with HDF5: every group, dataset (the rows that count:
 * below the dataset's _sb_size), attribute. */
void digest_raw(const char *path, text *out);
/* What a fresh serial open of the library reads: datasets, sizes, fields,
 * rows, assets. */
void digest_library(const char *path, text *out);

#endif
