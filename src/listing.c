/* Listing a store's datasets as Python's Store.datasets() walks it: every
 * group, datasets' own sub-groups included, through hard, soft and external
 * links, each object once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "format.h"
#include "h5path.h"

typedef struct object_key {
    unsigned long fileno;
    haddr_t addr;
} object_key;

typedef struct listing {
    sb_dataset_info *infos;  /* infos[i].name owned */
    size_t count, cap;
    object_key *entered;     /* groups the walk went into, each once */
    size_t nentered, capentered;
    const char *prefix;
} listing;

/* Grows *items (count used of *cap) so that one more fits. */
static bool room_for_one(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return true;
    size_t more = *cap ? 2 * *cap : 16;
    void *grown = realloc(*items, more * size);
    if (!grown)
        return false;
    *items = grown;
    *cap = more;
    return true;
}

static void listing_free(listing *l)
{
    for (size_t i = 0; i < l->count; i++)
        free((char *)l->infos[i].name);
    free(l->infos);
    free(l->entered);
    memset(l, 0, sizeof *l);
}

/* True the first time an object is met: a file may link one group from many
 * places (hard, soft and external links, or damaged names leading back),
 * and a walk that went in every time would never end. Python's walk lists
 * such a dataset once too. */
static int first_entry(listing *l, const H5O_info_t *info, bool *first)
{
    for (size_t i = 0; i < l->nentered; i++)
        if (l->entered[i].fileno == info->fileno && l->entered[i].addr == info->addr) {
            *first = false;
            return 0;
        }
    if (!room_for_one((void **)&l->entered, &l->capentered, l->nentered, sizeof *l->entered))
        return sb__error(SB_ERR_NOMEM, "out of memory listing datasets");
    l->entered[l->nentered++] = (object_key){info->fileno, info->addr};
    *first = true;
    return 0;
}

static int list_group(hid_t group, listing *l);

static int visit_group(hid_t obj, const char *name, const H5O_info_t *info, void *payload)
{
    listing *l = payload;
    if (info->type != H5O_TYPE_GROUP)
        return 0;
    bool first = false;
    int rc = first_entry(l, info, &first);
    if (rc < 0 || !first)
        return rc;
    size_t plen = strlen(l->prefix), nlen = strlen(name);
    char *path = malloc(plen + nlen + 2);
    if (!path)
        return sb__error(SB_ERR_NOMEM, "out of memory listing datasets");
    if (plen)
        snprintf(path, plen + nlen + 2, "%s/%s", l->prefix, name);
    else
        memcpy(path, name, nlen + 1);
    bool present = false, is_ds = false;
    bool damaged = sb__attr_read_bool(obj, SB_ATTR_IS_DATASET, path, &present, &is_ds) < 0;
    if (is_ds || damaged) {
        int64_t cap = 0, size = 0;
        damaged |= sb__attr_read_int(obj, SB_ATTR_CAPACITY, path, &cap) < 0 || cap < 0;
        damaged |= sb__attr_read_int(obj, SB_ATTR_SIZE, path, &size) < 0 || size < 0 || size > cap;
        bool marked = false, incomplete = false;
        if (sb__attr_read_bool(obj, SB_ATTR_INCOMPLETE, path, &marked, &incomplete) < 0)
            damaged = true;
        if (!room_for_one((void **)&l->infos, &l->cap, l->count, sizeof *l->infos)) {
            free(path);
            return sb__error(SB_ERR_NOMEM, "out of memory listing datasets");
        }
        l->infos[l->count++] = (sb_dataset_info){path, cap > 0 ? (uint64_t)cap : 0,
                                                 size > 0 ? (uint64_t)size : 0, incomplete,
                                                 damaged};
        sb_clear_error();
        path = NULL;
    }
    /* Python explores every group, datasets' own sub-groups included. */
    const char *saved = l->prefix;
    l->prefix = path ? path : l->infos[l->count - 1].name;
    rc = list_group(obj, l);
    l->prefix = saved;
    free(path);
    return rc;
}

static int list_group(hid_t group, listing *l)
{
    return sb__members(group, true, visit_group, l, NULL);
}

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const sb_dataset_info *)a)->name, ((const sb_dataset_info *)b)->name);
}

static int list_sorted(sb_store *s, listing *l)
{
    memset(l, 0, sizeof *l);
    l->prefix = "";
    hid_t root = H5Gopen2(s->file, "/", H5P_DEFAULT);
    if (root < 0)
        return sb__h5_error(SB_ERR_IO, "cannot open the root group of '%s'", s->path);
    H5O_info_t info;
    bool first;
    int rc = H5Oget_info2(root, &info, H5O_INFO_BASIC) >= 0 ? first_entry(l, &info, &first) : 0;
    if (rc == 0)
        rc = list_group(root, l);
    H5Gclose(root);
    if (rc < 0 && rc != SB_ERR_NOMEM)
        rc = sb__error_wrap(rc, "cannot list the datasets of store '%s'", s->path);
    if (rc == 0 && l->count > 1)
        qsort(l->infos, l->count, sizeof *l->infos, cmp_info);
    return rc;
}

int sb__catalog_first_below(hid_t g, const char *name, char **inner)
{
    listing l;
    memset(&l, 0, sizeof l);
    l.prefix = name;
    *inner = NULL;
    H5O_info_t info;
    bool first;
    int rc = H5Oget_info2(g, &info, H5O_INFO_BASIC) >= 0 ? first_entry(&l, &info, &first) : 0;
    if (rc == 0)
        rc = list_group(g, &l);
    if (rc == 0 && l.count > 0) {
        if (l.count > 1)
            qsort(l.infos, l.count, sizeof *l.infos, cmp_info);
        *inner = sb__strdup(l.infos[0].name);
        if (!*inner)
            rc = sb__error(SB_ERR_NOMEM, "out of memory listing datasets");
    }
    listing_free(&l);
    return rc;
}

int sb_store_dataset_names(char ***names, size_t *count, sb_store *s)
{
    if (names)
        *names = NULL;
    if (count)
        *count = 0;
    sb_call c;
    sb__call_store(&c, "sb_store_dataset_names", s);
    if (!names || !count)
        sb__call_check(&c, sb__error(SB_ERR_INVALID, "sb_store_dataset_names: %s is NULL",
                                     names ? "count" : "names"));
    int rc = sb__call_enter(&c);
    listing l;
    memset(&l, 0, sizeof l);
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, list_sorted(s, &l));
    if (rc == 0 && l.count > 0) {
        char **flat = malloc(l.count * sizeof *flat);
        for (size_t i = 0; flat && i < l.count; i++)
            flat[i] = (char *)l.infos[i].name;
        *names = flat ? sb__strings_pack(flat, l.count) : NULL;
        free(flat);
        rc = sb__coll_agree(&s->coll, *names ? 0 : sb__error(SB_ERR_NOMEM, "out of memory listing datasets"));
        if (rc == 0)
            *count = l.count;
        else {
            free(*names);
            *names = NULL;
        }
    }
    listing_free(&l);
    return sb__call_end(&c, rc);
}

int sb_store_foreach_dataset(sb_store *s, sb_dataset_visitor fn, void *payload)
{
    sb_call c;
    sb__call_store(&c, "sb_store_foreach_dataset", s);
    if (!fn)
        sb__call_check(&c, sb__error(SB_ERR_INVALID, "sb_store_foreach_dataset: visitor is NULL"));
    int rc = sb__call_enter(&c);
    listing l;
    memset(&l, 0, sizeof l);
    if (rc == 0)
        rc = sb__coll_agree(&s->coll, list_sorted(s, &l));
    /* The visitor runs with HDF5's printing as the caller had it. */
    sb__call_end(&c, 0);
    for (size_t i = 0; rc == 0 && i < l.count; i++) {
        int stop = fn(&l.infos[i], payload);
        /* Every rank stops at the same dataset, with the same value. */
        int r = sb__coll_first_nonzero(&s->coll, &stop);
        rc = r < 0 ? r : stop;
    }
    listing_free(&l);
    return rc;
}
