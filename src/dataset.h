/* The dataset handle: its group, its fields, its sizes, its append buffer. */
#ifndef SB_DATASET_H
#define SB_DATASET_H

#include "fields.h"
#include "store.h"

/* Rows appended and not yet written (rows.c). */
typedef struct sb_append_buffer {
    uint64_t bytes;           /* per rank, as set; 0 = write-through */
    uint64_t capacity;        /* rows it holds; 0 until sized by the first append */
    uint64_t calls;           /* append calls since the last write (equal on all ranks) */
    uint64_t rows;            /* rows held on this rank */
    unsigned char **data;     /* per field: capacity rows */
    sb_row_layout *layouts;   /* per field: layout of the buffered rows */
} sb_append_buffer;

/* Row ranges sb_dataset_write_at wrote since the last commit (rows.c). */
typedef struct sb_ranges {
    uint64_t (*items)[2];     /* [start, end) */
    size_t count, cap;
} sb_ranges;

struct sb_dataset {
    sb_store *store;          /* NULL once its store is closed */
    char *name;
    hid_t group;
    hid_t size_attr;          /* _sb_size, kept open: updated in place */
    uint64_t size;            /* rows in the file, agreed on every rank */
    uint64_t committed;       /* the size the file says (last commit) */
    uint64_t capacity;
    bool incomplete;          /* _sb_incomplete */
    bool found_by_walk;       /* its name lookup fails: the group's names are damaged */
    size_t created_parents;   /* made by its creation: see sb__create_parents */
    size_t nfields;
    sb_field *fields;
    sb_append_buffer append;
    sb_ranges written;
    sb_write_report last_write;
    sb_dataset *next, *prev;  /* the store's open datasets */
};

/* Start a call on a dataset: a NULL or closed handle fails on this rank alone. */
void sb__call_dataset(sb_call *c, const char *op, sb_dataset *ds);
int sb__dataset_usable(const sb_dataset *ds, const char *what);

/* A handle for the group `group` (taken over; closed on failure). */
int sb__dataset_alloc(sb_dataset **out, sb_store *s, const char *name, hid_t group,
                      uint64_t capacity, uint64_t size);
int sb__dataset_add_field(sb_dataset *ds, const char *name);
/* Close the HDF5 handles and drop the buffers (the handle stays). */
void sb__dataset_release(sb_dataset *ds);
void sb__dataset_free(sb_dataset *ds);
void sb__dataset_link(sb_dataset *ds);
void sb__dataset_unlink(sb_dataset *ds);

/* Write `size` into _sb_size (every rank: a metadata change). */
int sb__dataset_write_size(sb_dataset *ds, uint64_t size);
/* Set or remove _sb_incomplete (every rank). */
int sb__dataset_mark_incomplete(sb_dataset *ds, bool incomplete);
/* A field by name, or NULL (no error raised). */
sb_field *sb__dataset_find_field(const sb_dataset *ds, const char *name);

#endif
