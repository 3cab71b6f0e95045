/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The project's only memory-ordering primitives. Every access to a word that another
 * process (or thread) writes concurrently goes through these, and each caller says which
 * release its acquire pairs with.
 *
 * They are C11 memory orders spelled with the GCC/Clang __atomic builtins, so the same
 * static inline fast paths compile in C11 product code and in the C++ tests, on plain
 * integer fields that live in shared memory (address-free, lock-free for 4 and 8 bytes).
 */
#ifndef VSHM_BARRIER_H
#define VSHM_BARRIER_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* Load that orders every later load/store after it (pairs with a release store). */
#define vshm_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
/* Store that orders every earlier load/store before it (pairs with an acquire load). */
#define vshm_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
/* Single-copy-atomic access with no ordering: for words only this side writes. */
#define vshm_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define vshm_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define vshm_fetch_add(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define vshm_cas(p, expected, desired)                                                \
	__atomic_compare_exchange_n((p), (expected), (desired), 0, __ATOMIC_ACQ_REL, \
				    __ATOMIC_ACQUIRE)

/*
 * Full fence: the store-then-load ordering of the sleep handshake (publish, then read the
 * other side's NEED_WAKEUP flag) is the one place acquire/release is not enough.
 */
static inline void vshm_fence_full(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Spin-wait hint for busy loops. */
static inline void vshm_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	_mm_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif /* VSHM_BARRIER_H */
