/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The connection table of one shard: a fixed array of entries (64 bytes for
 * IPv4, 128 for IPv6; one table of each) and, apart from it, a dense index
 * of 8-bit tags, eight per 8-byte bucket. Slot s of bucket b is entry
 * b * 8 + s, so the index costs one byte a slot (11 MB at 10M connections)
 * and stays in the LLC while the entry line is the one cache miss of a
 * lookup.
 *
 * A key hashes (hash.h) to two candidate buckets and a tag: the first
 * bucket from the low 32 bits, the second from the high 32 (never equal to
 * the first), the tag from the top 8 (0 means empty, so 0 maps to 1). A key
 * lives in one of its two buckets; a lookup reads at most those 16 tags and
 * compares the full key of each tag match. Inserts go to the first bucket
 * while it has room, then the second, reclaim expired entries there, then,
 * below the count limit, move entries to their other buckets to make room
 * (cuckoo relocation, bounded), then evict the oldest embryonic entry of
 * the two buckets, or at the count limit one found nearby in slot order,
 * then refuse.
 *
 * Expiry is lazy (a lookup that meets its key expired reclaims it) plus a
 * bounded sweep (rw_ctable_sweep). Memory is mapped once at creation and
 * touched then; nothing here allocates afterwards.
 */
#ifndef RW_CONN_TABLE_H
#define RW_CONN_TABLE_H

#include "../common.h"
#include "../rules/config.h"
#include "key.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define RW_CT_SLOTS 8          /* slots per bucket: 8 tags = 8 bytes */
#define RW_CT_NONE UINT32_MAX

/*
 * Slots per connection of capacity, in eighths: 9/8 leaves 11% of the slots
 * free when the shard is full, enough that two-choice buckets of 8 almost
 * never find both candidates full (see docs/conntrack.md for the numbers).
 */
#define RW_CT_HEADROOM_8THS 9

/* What both tables of a shard share: timeouts, the count limit, counters. */
struct rw_conn_ctx {
	uint64_t to_ms[RW_TO_MAX];
	uint32_t adaptive_start, adaptive_end;
	bool adaptive;         /* adaptive_end > adaptive_start: set with them, so that
				* rw_conn_timeout_ns tests one byte for every packet */
	uint64_t capacity;     /* live entries allowed, both tables together */
	uint64_t capacity_max; /* what the tables were made for: the limit's ceiling */
	uint64_t live;         /* live entries, both tables */
	uint64_t created, expired, removed, evicted, refused;
	uint64_t relocated;    /* inserts that moved entries to their other bucket */
	uint64_t bound_stale;  /* slots the sweep reads whatever the bounds say (timeouts shortened) */
};

struct rw_khash;

struct rw_ctable {
	uint8_t *tags;         /* nbuckets * RW_CT_SLOTS; 0 = free */
	uint32_t *bound;       /* per bucket: a second no later than any of its entries'
				* expiry under the timeouts unscaled (the sweep skips the
				* bucket before it); UINT32_MAX: empty */
	uint8_t *entries;      /* nbuckets * RW_CT_SLOTS * esize */
	uint32_t nbuckets;
	uint32_t esize, klen;
	uint64_t live;
	uint64_t far_cursor;   /* where the next far eviction looks (table.c) */
	struct rw_conn_ctx *ctx;
	const struct rw_khash *kh; /* the keys' hash, for relocation; NULL: none */
	void *map;
	size_t map_len;
	bool hugetlb;          /* backed by hugetlbfs pages (else THP advice) */
	bool pf_l2;            /* entries span more than RW_CT_L2_PF_BYTES: prefetch into L2 */
};

/* Entry regions larger than this are prefetched into L2 rather than L1
 * (rw_prefetch_l2). Measured on this project's VM, alternating both forms
 * in one run: 1.08x at 10 M connections (640 MB), even at 100,000 (7 MB),
 * 0.98x at 16,000 (1 MB), where L1 prefetches win (docs/conntrack.md). */
#define RW_CT_L2_PF_BYTES (8u << 20)

/* Map and pre-fault a table for about `conns` connections. 0 or -errno. */
int rw_ctable_init(struct rw_ctable *t, struct rw_conn_ctx *ctx, uint64_t conns,
		   uint32_t esize, uint32_t klen, char *err, size_t errlen);
void rw_ctable_fini(struct rw_ctable *t);

static inline uint64_t rw_ctable_nslots(const struct rw_ctable *t)
{
	return (uint64_t)t->nbuckets * RW_CT_SLOTS;
}

static inline struct rw_conn *rw_ctable_conn(const struct rw_ctable *t, uint32_t slot)
{
	return (struct rw_conn *)(t->entries + (size_t)slot * t->esize);
}

static inline const void *rw_ctable_key(const struct rw_ctable *t, uint32_t slot)
{
	return t->entries + (size_t)slot * t->esize + RW_KEY_OFF;
}

/* The tag of hash h: its top 8 bits, 0 (free) moved to 1. */
static inline uint8_t rw_ctable_tag(uint64_t h)
{
	return (uint8_t)(h >> 56) ? (uint8_t)(h >> 56) : 1;
}

/* The first bucket of hash h, from its low 32 bits. */
static inline uint32_t rw_ctable_bucket1(const struct rw_ctable *t, uint64_t h)
{
	return (uint32_t)(((h & 0xffffffffu) * t->nbuckets) >> 32);
}

/* The second bucket of hash h, whose first is b1: from the high 32 bits,
 * never b1. */
static inline uint32_t rw_ctable_bucket2(const struct rw_ctable *t, uint64_t h, uint32_t b1)
{
	uint64_t nb = t->nbuckets;
	uint64_t b = b1 + 1 + (((h >> 32) * (nb - 1)) >> 32); /* b1 + 1 .. b1 + nb - 1 */

	return (uint32_t)(b >= nb ? b - nb : b);
}

/* The two buckets and the tag of hash h. */
static inline void rw_ctable_where(const struct rw_ctable *t, uint64_t h, uint32_t *b1,
				   uint32_t *b2, uint8_t *tag)
{
	*b1 = rw_ctable_bucket1(t, h);
	*b2 = rw_ctable_bucket2(t, h, *b1);
	*tag = rw_ctable_tag(h);
}

/* Bit s set when slot s of the bucket holds tag: one SSE2 byte compare of
 * the 8 lanes where there is SSE2 (every x86-64), a loop elsewhere. */
static inline unsigned rw_ctable_match(const uint8_t *bucket, uint8_t tag)
{
#if defined(__SSE2__) && defined(__x86_64__)
	/* the tag in all 8 low lanes by one multiply (_mm_set1_epi8 takes
	 * four shuffles); the 8 high lanes are zero on both sides and equal,
	 * hence the mask */
	__m128i v = _mm_loadl_epi64((const __m128i *)bucket);
	__m128i eq = _mm_cmpeq_epi8(v, _mm_cvtsi64_si128((long long)(tag * 0x0101010101010101ull)));

	return (unsigned)_mm_movemask_epi8(eq) & 0xffu;
#else
	unsigned mask = 0;
	for (unsigned s = 0; s < RW_CT_SLOTS; s++)
		mask |= (unsigned)(bucket[s] == tag) << s;
	return mask;
#endif
}

static inline uint64_t rw_conn_timeout_ns(const struct rw_conn_ctx *x, unsigned to)
{
	uint64_t ms = x->to_ms[to];

	/* pf's adaptive timeouts: shrink linearly from start to zero at end */
	if (unlikely(x->adaptive) && x->live > x->adaptive_start) {
		if (x->live >= x->adaptive_end)
			return 0;
		ms = ms * (x->adaptive_end - x->live) / (x->adaptive_end - x->adaptive_start);
	}
	return ms * 1000000u;
}

/* A clock that went backwards (two capture files) never expires anything. */
static inline bool rw_conn_expired(const struct rw_conn_ctx *x, const struct rw_conn *c, uint64_t now)
{
	return now >= c->last && now - c->last >= rw_conn_timeout_ns(x, c->to);
}

static inline uint64_t rw_conn_expires(const struct rw_conn_ctx *x, const struct rw_conn *c)
{
	return c->last + rw_conn_timeout_ns(x, c->to);
}

/* Prefetch the index line of hash h's first bucket: inserts fill first
 * buckets first, so nine keys in ten are there (rw_ctable_probe fetches
 * the second when the first has no match). Always inlined: GCC takes a
 * function whose only effect is a prefetch for one without side effects
 * and deletes calls to it that it has not inlined yet (GCC 12 did so here:
 * for three sessions no index line was ever prefetched; docs/conntrack.md). */
/* Prefetch a line of t's index or entries, into L1 or (large tables) L2. */
static inline __attribute__((always_inline)) void rw_ctable_prefetch_line(const struct rw_ctable *t,
									    const void *p)
{
	if (t->pf_l2)
		rw_prefetch_l2(p);
	else
		rw_prefetch_w(p);
}

static inline __attribute__((always_inline)) void rw_ctable_prefetch_index(const struct rw_ctable *t,
									     uint64_t h)
{
	rw_ctable_prefetch_line(t, &t->tags[(size_t)rw_ctable_bucket1(t, h) * RW_CT_SLOTS]);
}

/* rw_ctable_probe's way out when the first bucket has no match. */
uint32_t rw_ctable_probe_second(const struct rw_ctable *t, uint64_t h);

/* The slot of the first match m (non-zero, rw_ctable_match) in bucket b,
 * its entry prefetched. esize is t->esize, a constant where the caller
 * knows it. */
static inline __attribute__((always_inline)) uint32_t rw_ctable_prefetch_match(const struct rw_ctable *t,
										 uint32_t b, unsigned m,
										 uint32_t esize)
{
	uint32_t slot = b * RW_CT_SLOTS + (uint32_t)__builtin_ctz(m);
	const uint8_t *e = t->entries + (size_t)slot * esize;

	rw_ctable_prefetch_line(t, e);
	if (esize > RW_CACHELINE)
		rw_ctable_prefetch_line(t, e + RW_CACHELINE);
	return slot;
}

/* First slot of bucket b whose tag matches (no key compare), its entry
 * prefetched; or RW_CT_NONE. */
static inline __attribute__((always_inline)) uint32_t rw_ctable_probe_bucket(const struct rw_ctable *t,
									       uint32_t b, uint8_t tag,
									       uint32_t esize)
{
	unsigned m = rw_ctable_match(&t->tags[(size_t)b * RW_CT_SLOTS], tag);

	return m ? rw_ctable_prefetch_match(t, b, m, esize) : RW_CT_NONE;
}

/* First slot of h's first bucket whose tag matches h (no key compare), its
 * entry prefetched; or RW_CT_NONE, with the second bucket's index line
 * prefetched. esize is t->esize, a constant where the caller knows it. */
static inline uint32_t rw_ctable_probe_sized(const struct rw_ctable *t, uint64_t h,
					     uint32_t esize)
{
	uint32_t b1 = rw_ctable_bucket1(t, h);
	unsigned m = rw_ctable_match(&t->tags[(size_t)b1 * RW_CT_SLOTS], rw_ctable_tag(h));

	/* inline for the nine keys in ten found in their first bucket */
	if (likely(m))
		return rw_ctable_prefetch_match(t, b1, m, esize);
	return rw_ctable_probe_second(t, h);
}

static inline uint32_t rw_ctable_probe(const struct rw_ctable *t, uint64_t h)
{
	return rw_ctable_probe_sized(t, h, t->esize);
}

/* The same in the second bucket, for a probe that found nothing in the
 * first (its line was prefetched then): entry prefetched, or RW_CT_NONE. */
uint32_t rw_ctable_probe2(const struct rw_ctable *t, uint64_t h);

/* The key at slot equals key (klen bytes, a multiple of 8): compared as
 * 64-bit words, two for IPv4 and five for IPv6, no call into libc. */
static inline bool rw_ctable_key_eq_at(const uint8_t *a, const void *key, uint32_t klen)
{
	const uint8_t *b = key;
	uint64_t x, y, d = 0;

	if (likely(klen == 16)) { /* IPv4: two words, no loop */
		uint64_t x1, y1;

		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&x1, a + 8, 8);
		memcpy(&y1, b + 8, 8);
		return ((x ^ y) | (x1 ^ y1)) == 0;
	}
	for (uint32_t off = 0; off < klen; off += 8) {
		memcpy(&x, a + off, 8);
		memcpy(&y, b + off, 8);
		d |= x ^ y;
	}
	return d == 0;
}

static inline bool rw_ctable_key_eq(const struct rw_ctable *t, uint32_t slot, const void *key,
				    uint32_t klen)
{
	return rw_ctable_key_eq_at(rw_ctable_key(t, slot), key, klen);
}

/* The search rw_ctable_find falls back on: the hint again, then both
 * buckets; reclaims an entry it finds expired. */
uint32_t rw_ctable_find_full(struct rw_ctable *t, const void *key, uint64_t h, uint64_t now,
			     uint32_t hint);

/*
 * Find key (klen bytes, == t->klen; esize == t->esize: constants where the
 * caller knows them, the IPv4 table's say, so that their test and multiply
 * fold away). hint is a slot the prefetch stage found (or
 * RW_CT_NONE); it is only a hint and is checked. An entry found expired is
 * reclaimed and not returned. Returns the slot or RW_CT_NONE.
 *
 * Inline for the case of nearly every packet of an established connection:
 * the hint holds the key, live. Anything else (no hint, another key, an
 * expired entry to reclaim) goes out of line, which checks the hint again
 * and so returns what it always did.
 */
static inline bool rw_ctable_hint_live(const struct rw_ctable *t, const void *key, uint32_t klen,
					uint32_t esize, uint64_t now, uint32_t hint)
{
	/* Any tag will do, not only the key's: a slot is live when its tag
	 * is not 0, and a live slot that holds the key is the key's (a key
	 * lives in one slot, under the tag of its hash: insert and relocation
	 * write both together). A free slot's tag is 0 whatever stale key its
	 * entry still holds. Not computing the tag saved ~4 instructions. */
	if (likely(hint < rw_ctable_nslots(t)) && t->tags[hint] != 0) {
		/* formed only for a slot of the table: RW_CT_NONE is not one */
		const struct rw_conn *c = (const struct rw_conn *)(t->entries + (size_t)hint * esize);

		return rw_ctable_key_eq_at((const uint8_t *)c + RW_KEY_OFF, key, klen) &&
		       !rw_conn_expired(t->ctx, c, now);
	}
	return false;
}

static inline uint32_t rw_ctable_find_sized(struct rw_ctable *t, const void *key, uint32_t klen,
					    uint32_t esize, uint64_t h, uint64_t now, uint32_t hint)
{
	if (rw_ctable_hint_live(t, key, klen, esize, now, hint))
		return hint;
	return rw_ctable_find_full(t, key, h, now, hint);
}

/* rw_ctable_find_sized with the table's own sizes. */
static inline uint32_t rw_ctable_find(struct rw_ctable *t, const void *key, uint64_t h,
				      uint64_t now, uint32_t hint)
{
	return rw_ctable_find_sized(t, key, t->klen, t->esize, h, now, hint);
}

/*
 * Insert key, which must not be live in the table (find it first). On
 * success *slot holds an entry with the key written and the body zeroed,
 * and 0 is returned; RW_DROP_STATE_FULL when nothing could be freed. The
 * caller sets the entry's last and to, then tells the table its expiry
 * (rw_ctable_note_expiry): the sweep relies on it.
 */
unsigned rw_ctable_insert(struct rw_ctable *t, const void *key, uint64_t h, uint64_t now,
			  uint32_t *slot);

/* Remove a live entry (counted as removed). */
void rw_ctable_remove(struct rw_ctable *t, uint32_t slot);

/* A new entry's expiry, or one that came earlier (its timeout index
 * changed to a shorter one): lower its bucket's bound to exp_ns. */
static inline void rw_ctable_note_expiry(struct rw_ctable *t, uint32_t slot, uint64_t exp_ns)
{
	uint32_t *b = &t->bound[slot / RW_CT_SLOTS];
	uint64_t sec = exp_ns / 1000000000u;

	if (sec < *b)
		*b = (uint32_t)sec;
}

/* Check slots [from, from + n) for expiry; returns entries reclaimed. A
 * bucket whose bound says none of its entries can have expired is passed
 * over without reading its entries (docs/conntrack.md, "Expiry"). */
unsigned rw_ctable_sweep(struct rw_ctable *t, uint64_t now, uint64_t from, uint64_t n);

/* Drop every entry (counted as removed). */
void rw_ctable_flush(struct rw_ctable *t);

#endif
