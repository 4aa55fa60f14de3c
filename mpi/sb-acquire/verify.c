/* sb-acquire --verify: read the stored rows back, collectively, and compare
 * them with the model. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <mpi.h>

#include "acquire.h"
#include "output.h"
#include "prog.h"
#include "progress.h"

/* Compare rows [first, first + rows) as read against the model; returns how
 * many rows differ and names the first few. */
static uint64_t compare_rows(const sb_trace_model *m, uint64_t first, uint64_t rows,
                             const buffers *got, buffers *want, uint64_t *reported)
{
    size_t row_bytes = (size_t)m->samples * sb_dtype_size(m->dtype);
    uint64_t bad = 0;
    make_rows(m, first, rows, want);
    for (uint64_t k = 0; k < rows; k++) {
        const char *which = NULL;
        if (memcmp(got->data + k * row_bytes, want->data + k * row_bytes, row_bytes))
            which = "data";
        else if (memcmp(got->pt + 16 * k, want->pt + 16 * k, 16))
            which = "plaintext";
        else if (memcmp(got->ct + 16 * k, want->ct + 16 * k, 16))
            which = "ciphertext";
        else if (memcmp(got->key + 16 * k, want->key + 16 * k, 16))
            which = "key";
        if (!which)
            continue;
        bad++;
        if ((*reported)++ < 5)
            fprintf(stderr, PROG ": row %" PRIu64 ": %s differs from the model\n", first + k,
                    which);
    }
    return bad;
}

/* The rows --rows asks for, within [0, size). */
static int rows_to_verify(const options *o, uint64_t size, uint64_t *start, uint64_t *end)
{
    bool end_given = false;
    *start = 0;
    *end = size;
    if (!o->rows_given)
        return 0;
    cli_parse_range(o->rows, start, end, &end_given); /* checked in check_options */
    if (!end_given)
        *end = size;
    if (*start > *end || *end > size) {
        cli_usage_error(NULL, "--rows %s is not within the %" PRIu64 " rows of the dataset "
                        "(need START <= END <= %" PRIu64 ")", o->rows, size, size);
        return -1;
    }
    return 0;
}

int verify(sb_store *store, const options *o)
{
    sb_dataset *ds = NULL;
    cJSON *settings = NULL;
    sb_trace_model m;
    buffers got = {0}, want = {0};
    int status = CLI_EXIT_FAILURE;
    uint64_t start, end;
    if (load_acquisition(store, o, &ds, &settings, &m))
        goto done;
    uint64_t size = sb_dataset_size(ds);
    if (rows_to_verify(o, size, &start, &end)) {
        status = CLI_EXIT_USAGE;
        goto done;
    }
    if (size > 0 && prepare_fields(ds, &m, false))
        goto done;
    size_t row_bytes = (size_t)m.samples * sb_dtype_size(m.dtype);
    uint64_t mine_start, mine;
    prog_block(end - start, &mine_start, &mine);
    mine_start += start;
    uint64_t biggest = prog_block_max(end - start);
    /* Memory for one read: never more rows than a rank verifies. */
    uint64_t chunk = o->chunk < biggest ? o->chunk : (biggest ? biggest : 1);
    uint64_t rounds = (biggest + chunk - 1) / chunk;
    if (prog_failed_if(!alloc_buffers(&got, chunk, row_bytes) ||
                           !alloc_buffers(&want, chunk, row_bytes),
                       "cannot allocate the read buffers (%" PRIu64 " rows); lower --chunk",
                       chunk))
        goto done;
    cli_progress progress;
    cli_progress_start(&progress, cli_rank() == 0 && cli_progress_wanted(o->progress),
                       PROG " --verify", end - start, (double)(row_bytes + 48));
    uint64_t checked = 0, bad = 0, reported = 0;
    /* Every rank makes the same number of collective reads, empty ones too. */
    for (uint64_t k = 0; k < rounds; k++) {
        uint64_t off = k * chunk < mine ? k * chunk : mine;
        uint64_t rows = mine - off < chunk ? mine - off : chunk;
        uint64_t first = mine_start + off;
        void *dst[4] = {got.data, got.pt, got.ct, got.key};
        for (size_t f = 0; f < 4; f++)
            if (prog_failed(sb_dataset_read_all(dst[f], ds, FIELDS[f], first, rows)))
                goto done;
        bad += compare_rows(&m, first, rows, &got, &want, &reported);
        checked += rows;
        /* Rank 0 holds the largest block: its count stands for the round. */
        uint64_t seen = (k + 1) * chunk * (uint64_t)cli_nranks();
        cli_progress_update(&progress, seen < end - start ? seen : end - start);
    }
    uint64_t local[2] = {checked, bad}, total[2];
    MPI_Allreduce(local, total, 2, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    cli_progress_finish(&progress, total[0]);
    if (cli_rank() == 0) {
        printf("verified %" PRIu64 " rows, %" PRIu64 " mismatches", total[0], total[1]);
        if (o->rows_given)
            printf(" in rows %" PRIu64 ":%" PRIu64 " of %" PRIu64, start, end, size);
        printf("\n");
        cli_flush_stdout();
    }
    if (sb_dataset_is_incomplete(ds) || size < sb_dataset_capacity(ds))
        cli_note("dataset '%s' is unfinished (%" PRIu64 " of %" PRIu64 " rows%s); run " PROG
                 " again to resume it", o->dataset, size, sb_dataset_capacity(ds),
                 sb_dataset_is_incomplete(ds) ? ", marked _sb_incomplete" : "");
    status = total[1] == 0 && total[0] == end - start ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
done:
    cJSON_Delete(settings);
    free_buffers(&got);
    free_buffers(&want);
    if (ds && prog_failed(sb_dataset_close(ds)))
        status = CLI_EXIT_FAILURE;
    return status;
}
