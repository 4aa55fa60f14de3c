/* Paths and group walks. HDF5 finds a name in an old-style group by a binary
 * search over the names of its symbol-table nodes. One name that is not
 * there (a node written, the local heap holding its name not: a write that
 * failed in the middle of a metadata flush) sends the search astray for
 * names that are intact. Walking the group reads every name in turn and
 * still finds them, at the cost of one pass over the group: only done after
 * a lookup by name failed. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "h5path.h"

int sb__path_exists(bool *exists, hid_t loc, const char *path, char *scratch)
{
    /* H5Lexists fails (rather than saying no) when a parent is missing:
     * walk the components. */
    *exists = false;
    char *copy = scratch ? strcpy(scratch, path) : sb__strdup(path);
    if (!copy)
        return sb__error(SB_ERR_NOMEM, "out of memory looking up '%s'", path);
    bool ok = true;
    for (char *p = copy;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            ok = H5Lexists(loc, copy, H5P_DEFAULT) > 0;
            *p = saved;
            if (!ok || saved == '\0')
                break;
        }
    }
    if (copy != scratch)
        free(copy);
    *exists = ok;
    return 0;
}

typedef struct walk_find {
    const char *name;
    hsize_t at;
    bool found;
} walk_find;

static herr_t find_name(hid_t group, const char *name, const H5L_info_t *info, void *payload)
{
    (void)group;
    (void)info;
    walk_find *w = payload;
    if (strcmp(name, w->name) == 0) {
        w->found = true;
        return 1;
    }
    w->at++;
    return 0;
}

static hid_t open_by_walk(hid_t group, const char *name)
{
    walk_find w = {name, 0, false};
    hsize_t idx = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, find_name, &w) < 0 || !w.found)
        return H5I_INVALID_HID;
    return H5Oopen_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, w.at, H5P_DEFAULT);
}

static hid_t open_component(hid_t loc, const char *name, bool *walked)
{
    hid_t next = H5I_INVALID_HID;
    if (H5Lexists(loc, name, H5P_DEFAULT) > 0)
        next = H5Oopen(loc, name, H5P_DEFAULT);
    if (next < 0 && (next = open_by_walk(loc, name)) >= 0 && walked)
        *walked = true;
    return next;
}

int sb__open_path(hid_t *out, hid_t loc, const char *path, bool *walked)
{
    *out = H5I_INVALID_HID;
    /* A plain name (an asset's) is its only component and needs no copy:
     * nothing is allocated between the HDF5 calls of a parallel store, where
     * one rank out of memory would leave the others in them. */
    if (!strchr(path, '/')) {
        *out = open_component(loc, path, walked);
        return 0;
    }
    char *copy = sb__strdup(path);
    if (!copy)
        return sb__error(SB_ERR_NOMEM, "out of memory looking up '%s'", path);
    hid_t cur = loc;
    bool ok = true;
    for (char *p = copy, *comp = copy; ok; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        hid_t next = open_component(cur, comp, walked);
        if (cur != loc)
            H5Oclose(cur);
        cur = next;
        ok = cur >= 0;
        if (saved == '\0')
            break;
        comp = p + 1;
    }
    free(copy);
    *out = ok ? cur : H5I_INVALID_HID;
    return 0;
}

int sb__create_parents(hid_t loc, const char *path, size_t *created, char *scratch)
{
    size_t first = 0;
    if (created)
        *created = 0;
    char *copy = scratch ? strcpy(scratch, path) : sb__strdup(path);
    if (!copy)
        return sb__error(SB_ERR_NOMEM, "out of memory");
    int rc = 0;
    for (char *p = copy; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (H5Lexists(loc, copy, H5P_DEFAULT) <= 0) {
            hid_t g = H5Gcreate2(loc, copy, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (g < 0)
                rc = sb__h5_error(SB_ERR_IO, "cannot create group '%s'", copy);
            else
                H5Gclose(g);
            if (g >= 0 && first == 0)
                first = (size_t)(p - copy);
        }
        *p = '/';
    }
    if (rc < 0)
        sb__remove_created(loc, path, first, copy);
    else if (created)
        *created = first;
    if (copy != scratch)
        free(copy);
    return rc;
}

void sb__remove_created(hid_t loc, const char *path, size_t created, char *scratch)
{
    if (created == 0)
        return;
    /* On a failure path, where memory may be short: on the stack when it fits. */
    char small[256];
    char *prefix = scratch ? scratch : created < sizeof small ? small : malloc(created + 1);
    if (!prefix)
        return;
    memcpy(prefix, path, created);
    prefix[created] = '\0';
    H5Ldelete(loc, prefix, H5P_DEFAULT);
    if (prefix != small && prefix != scratch)
        free(prefix);
}

typedef struct member_walk {
    bool follow_links;
    H5_index_t order;
    sb_member_fn fn;
    void *payload;
    hsize_t index;   /* of the link being visited, in the walk's order */
    bool *walked;
    int rc;
} member_walk;

static herr_t visit_member(hid_t group, const char *name, const H5L_info_t *linfo, void *payload)
{
    member_walk *w = payload;
    hsize_t index = w->index++;
    if (linfo->type != H5L_TYPE_HARD && !w->follow_links)
        return 0;
    hid_t obj = H5I_INVALID_HID;
    if (H5Lexists(group, name, H5P_DEFAULT) > 0)
        obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0 && linfo->type == H5L_TYPE_HARD && *name) {
        /* Listed but not found by name: the group's names are damaged; its
         * index still leads to it. */
        obj = H5Oopen_by_idx(group, ".", w->order, H5_ITER_INC, index, H5P_DEFAULT);
        if (obj >= 0 && w->walked)
            *w->walked = true;
    }
    if (obj < 0) /* a dangling soft or external link: h5py cannot open it either */
        return 0;
    H5O_info_t info;
    int rc = 0;
    if (H5Oget_info2(obj, &info, H5O_INFO_BASIC) >= 0)
        rc = w->fn(obj, name, &info, w->payload);
    H5Oclose(obj);
    if (rc < 0)
        w->rc = rc;
    return rc == 0 ? 0 : 1;
}

int sb__members(hid_t group, bool follow_links, sb_member_fn fn, void *payload, bool *walked)
{
    member_walk w = {follow_links, H5_INDEX_NAME, fn, payload, 0, walked, 0};
    unsigned flags = 0;
    hid_t gcpl = H5Gget_create_plist(group);
    if (gcpl >= 0 && H5Pget_link_creation_order(gcpl, &flags) >= 0 &&
        (flags & H5P_CRT_ORDER_TRACKED))
        w.order = H5_INDEX_CRT_ORDER;
    if (gcpl >= 0)
        H5Pclose(gcpl);
    hsize_t idx = 0;
    herr_t st = H5Literate(group, w.order, H5_ITER_INC, &idx, visit_member, &w);
    if (st < 0 && w.rc == 0 && w.order == H5_INDEX_CRT_ORDER && w.index == 0) {
        /* Tracked but not indexed: HDF5 cannot iterate that order. */
        w.order = H5_INDEX_NAME;
        idx = 0;
        st = H5Literate(group, w.order, H5_ITER_INC, &idx, visit_member, &w);
    }
    if (w.rc < 0)
        return w.rc;
    if (st < 0)
        return sb__h5_error(SB_ERR_FORMAT, "cannot list the members of a group");
    return 0;
}
