/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A single-producer single-consumer ring of fixed-size messages: how
 * workers talk (one ring per ordered pair of workers, docs/alg.md). No
 * locks: the producer owns head, the consumer owns tail, each on its own
 * cache line; each side publishes its index with a release store and reads
 * the other's with an acquire load, so a message's bytes are visible before
 * the index that hands it over. Each side keeps a cached copy of the other's
 * index and reloads it only when the ring looks full (producer) or empty
 * (consumer), so a busy pair does not bounce the index lines at every
 * message. A full ring refuses the message: the caller counts the drop.
 */
#ifndef RW_SPSC_H
#define RW_SPSC_H

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../common.h"

struct rw_spsc {
	_Atomic uint32_t head rw_cache_aligned; /* (p) next slot to write */
	uint32_t tail_cache;                    /* (p) last tail seen */
	_Atomic uint32_t tail rw_cache_aligned; /* (c) next slot to read */
	uint32_t head_cache;                    /* (c) last head seen */
	uint32_t mask rw_cache_aligned;         /* slots - 1 (read-only) */
	uint32_t esize;                         /* bytes per message */
	uint8_t *slots;
};

/* slots must be a power of two. NULL when out of memory or bad sizes. */
static inline struct rw_spsc *rw_spsc_create(uint32_t slots, uint32_t esize)
{
	struct rw_spsc *r;

	if (!slots || (slots & (slots - 1)) || !esize || (uint64_t)slots * esize > (1ull << 30))
		return NULL;
	r = aligned_alloc(RW_CACHELINE, sizeof(*r));
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->mask = slots - 1;
	r->esize = esize;
	r->slots = malloc((size_t)slots * esize);
	if (!r->slots) {
		free(r);
		return NULL;
	}
	return r;
}

static inline void rw_spsc_destroy(struct rw_spsc *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

/* Producer: copy msg in. false when full (nothing written). */
static inline bool rw_spsc_push(struct rw_spsc *r, const void *msg)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (h - r->tail_cache > r->mask) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (h - r->tail_cache > r->mask)
			return false;
	}
	memcpy(r->slots + (size_t)(h & r->mask) * r->esize, msg, r->esize);
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return true;
}

/* Consumer: copy the oldest message out. false when empty. */
static inline bool rw_spsc_pop(struct rw_spsc *r, void *msg)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (t == r->head_cache) {
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (t == r->head_cache)
			return false;
	}
	memcpy(msg, r->slots + (size_t)(t & r->mask) * r->esize, r->esize);
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return true;
}

#endif
