/* The row buffers of sb-acquire and the model rows they hold. */
#include <stdlib.h>
#include <string.h>

#include "acquire.h"

bool alloc_buffers(buffers *b, uint64_t rows, size_t row_bytes)
{
    size_t n = rows ? (size_t)rows : 1;
    if (rows > SIZE_MAX / (row_bytes > 16 ? row_bytes : 16))
        return false;
    b->data = malloc(n * row_bytes);
    b->pt = malloc(n * 16);
    b->ct = malloc(n * 16);
    b->key = malloc(n * 16);
    return b->data && b->pt && b->ct && b->key;
}

void free_buffers(buffers *b)
{
    free(b->data);
    free(b->pt);
    free(b->ct);
    free(b->key);
}

void columns_of(sb_array cols[4], const buffers *b, const sb_trace_model *m,
                       uint64_t rows)
{
    uint64_t shape_data[2] = {rows, m->samples}, shape16[2] = {rows, 16};
    sb_array_wrap(&cols[0], m->dtype, 2, shape_data, b->data);
    sb_array_wrap(&cols[1], SB_UINT8, 2, shape16, b->pt);
    sb_array_wrap(&cols[2], SB_UINT8, 2, shape16, b->ct);
    sb_array_wrap(&cols[3], SB_UINT8, 2, shape16, b->key);
}

void make_rows(const sb_trace_model *m, uint64_t first, uint64_t rows, buffers *b)
{
    size_t row_bytes = (size_t)m->samples * sb_dtype_size(m->dtype);
    for (uint64_t k = 0; k < rows; k++) {
        sb_tm_inputs(m, first + k, b->pt + 16 * k, b->ct + 16 * k);
        memcpy(b->key + 16 * k, m->key, 16);
        sb_tm_samples(m, first + k, b->pt + 16 * k, b->data + row_bytes * k);
    }
}
