/* What the parts of sb-acquire share: its options, its row buffers, and
 * the calls that load an acquisition dataset. */
#ifndef SB_ACQUIRE_H
#define SB_ACQUIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <secbench/storage.h>

#include "tracemodel.h"

#define PROG "sb-acquire"
#define SETTINGS_ASSET "acquisition.json"

/* The fields of an acquisition dataset, in this order. */
extern const char *const FIELDS[4];

typedef struct options {
    const char *store, *dataset, *dtype_text, *rows;
    sb_dtype dtype;
    uint64_t traces, samples, batch, commit_every, seed, rate, max_rows, chunk;
    bool traces_given, samples_given, dtype_given, batch_given, commit_given, seed_given,
        rate_given, max_rows_given, chunk_given, rows_given, dataset_given;
    bool progress, verify;
} options;

typedef struct buffers {
    uint8_t *data, *pt, *ct, *key;
} buffers;

/* Room for `rows` rows (at least one); false when it does not fit. */
bool alloc_buffers(buffers *b, uint64_t rows, size_t row_bytes);
void free_buffers(buffers *b);
/* The four columns of `rows` rows held in b. */
void columns_of(sb_array cols[4], const buffers *b, const sb_trace_model *m, uint64_t rows);
/* Rows [first, first + rows) of the model into b. */
void make_rows(const sb_trace_model *m, uint64_t first, uint64_t rows, buffers *b);

/* Check (and with `define`, define) the dtypes and shapes of the fields. */
int prepare_fields(sb_dataset *ds, const sb_trace_model *m, bool define);
/* Load a dataset of this program: its settings and model. Collective. */
int load_acquisition(sb_store *store, const options *o, sb_dataset **ds, cJSON **settings,
                     sb_trace_model *model);

/* --verify: an exit status. Collective. */
int verify(sb_store *store, const options *o);

#endif
