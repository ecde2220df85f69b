/* SPDX-License-Identifier: BSD-2-Clause */
/* Small things every ringwall file needs: branch hints, alignment, sizes. */
#ifndef RW_COMMON_H
#define RW_COMMON_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define RW_CACHELINE 64
#define rw_cache_aligned __attribute__((aligned(RW_CACHELINE)))

#define RW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define RW_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RW_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Ports of one firewall. A bridge has two; the limit keeps per-port arrays
 * fixed-size and lets rules name a set of ports as a 16-bit mask. */
#define RW_MAX_PORTS 16

/* Workers (threads on the fast path). */
#define RW_MAX_WORKERS 64

/* Frames in one receive burst: large enough to amortise the ring work and to
 * give the prefetch pipeline distance, small enough that a burst's descriptors
 * and connection entries stay in L1/L2. */
#define RW_BURST 32

/* Always inlined, and so must be any wrapper whose only effect is a
 * prefetch: GCC counts a prefetch as no side effect, so a call it has not
 * inlined yet to a function that only prefetches is dead code to it. */
static inline __attribute__((always_inline)) void rw_prefetch(const void *p)
{
	__builtin_prefetch(p, 0, 3);
}

static inline __attribute__((always_inline)) void rw_prefetch_w(const void *p)
{
	__builtin_prefetch(p, 1, 3);
}

/* Into L2, not L1 (prefetcht1). For lines of a table far larger than the
 * cache, fetched from DRAM for a burst at a time: on this project's AMD
 * EPYC VM, 32 such prefetches into L1 leave lines missing when they are
 * used (the L1's miss buffers are fewer than 32), where prefetches into L2
 * arrive (docs/conntrack.md, "What this VM's memory allows"). */
static inline __attribute__((always_inline)) void rw_prefetch_l2(const void *p)
{
	__builtin_prefetch(p, 0, 2);
}

#endif
