// A C++ program on the installed headers: every public header, the C API
// only (no MPI C++ bindings to link), a serial temporary store.
#include <secbench/asset.h>
#include <secbench/common.h>
#include <secbench/dataset.h>
#include <secbench/errors.h>
#include <secbench/export.h>
#include <secbench/json.h>
#include <secbench/shared.h>
#include <secbench/storage.h>
#include <secbench/store.h>
#include <secbench/types.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

static int failed(const char *what)
{
    std::fprintf(stderr, "%s: %s\n", what, sb_last_error_message());
    return 1;
}

int main()
{
    sb_store *store = nullptr;
    if (sb_store_temporary(&store, "cxx") != 0)
        return failed("sb_store_temporary");
    const char *fields[] = {"data"};
    sb_dataset *ds = nullptr;
    if (sb_store_create_dataset(&ds, store, "traces", 4, 1, fields) != 0)
        return failed("sb_store_create_dataset");
    std::int16_t row[3] = {1, -2, 3};
    std::uint64_t shape[1] = {3};
    sb_array a;
    sb_array_wrap(&a, SB_INT16, 1, shape, row);
    if (sb_dataset_append(ds, 1, &a) != 0)
        return failed("sb_dataset_append");
    std::int16_t back[3] = {0, 0, 0};
    if (sb_dataset_read(back, ds, "data", 0, 1) != 0)
        return failed("sb_dataset_read");
    if (std::memcmp(back, row, sizeof row) != 0) {
        std::fprintf(stderr, "read back other values\n");
        return 1;
    }
    if (sb_dataset_close(ds) != 0 || sb_store_close(store) != 0)
        return failed("close");
    std::printf("cxx consumer ok %s\n", sb_version());
    return 0;
}
