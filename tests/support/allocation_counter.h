// Counts heap allocations, for the tests that hold the query path to its promise
// of not allocating. Replaces the global operator new and delete: include it in
// exactly one source file of a test binary.
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace geosteer::testing {

inline std::atomic<bool> g_counting_allocations{false};
inline std::atomic<long> g_allocations{0};

inline void* counted_allocation(size_t size) {
  if (g_counting_allocations.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

// Counts allocations between construction and stop().
class AllocationCounter {
 public:
  AllocationCounter() {
    g_allocations = 0;
    g_counting_allocations = true;
  }
  ~AllocationCounter() { g_counting_allocations = false; }
  long stop() {
    g_counting_allocations = false;
    return g_allocations.load();
  }
};

}  // namespace geosteer::testing

void* operator new(size_t size) { return geosteer::testing::counted_allocation(size); }
void* operator new[](size_t size) { return geosteer::testing::counted_allocation(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them): left to the
// library, they would come from its allocator and reach the free() above, which
// ASan reports as a mismatch.
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  try {
    return geosteer::testing::counted_allocation(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
