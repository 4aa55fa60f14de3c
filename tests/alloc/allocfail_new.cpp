// operator new and delete through allocfail.c's allocators, so that the
// library's C++ allocations (the shared-dataset index) are counted and can
// fail like its C ones; a failed allocation throws std::bad_alloc, as the
// standard one does.
#include <cstddef>
#include <new>

extern "C" {
#include "allocfail.h"
}

void *operator new(std::size_t size)
{
    void *p = sbt_alloc_malloc(size ? size : 1);
    if (!p)
        throw std::bad_alloc();
    return p;
}

void *operator new[](std::size_t size) { return operator new(size); }

void *operator new(std::size_t size, const std::nothrow_t &) noexcept
{
    return sbt_alloc_malloc(size ? size : 1);
}

void *operator new[](std::size_t size, const std::nothrow_t &) noexcept
{
    return sbt_alloc_malloc(size ? size : 1);
}

void operator delete(void *p) noexcept { sbt_alloc_free(p); }
void operator delete[](void *p) noexcept { sbt_alloc_free(p); }
void operator delete(void *p, std::size_t) noexcept { sbt_alloc_free(p); }
void operator delete[](void *p, std::size_t) noexcept { sbt_alloc_free(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { sbt_alloc_free(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { sbt_alloc_free(p); }
