// base/: a cache prefetch hint the optimiser keeps. Depends on nothing.
#pragma once

namespace base {

/// Asks the CPU to start loading the cache line that holds `*address` into every cache level.
/// Reads nothing, changes nothing, never faults. `address` must not be null.
///
/// Not a bare __builtin_prefetch: GCC 12 deletes that builtin where it is the only effect of a
/// branch or a loop (it counts as having no side effect), which removed every warm-up step of
/// records/ but the first. An asm statement marked volatile is always kept.
inline void prefetch(const void* address) noexcept {
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(address)));
#elif defined(__aarch64__)
    asm volatile("prfm pldl1keep, %0" : : "Q"(*static_cast<const char*>(address)));
#else
    __builtin_prefetch(address);
#endif
}

} // namespace base
