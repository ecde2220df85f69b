/* SPDX-License-Identifier: BSD-2-Clause */
/* The connection table: index of tags, entries, lookup, insert, expiry. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../worker/reasons.h"
#include "hash.h"
#include "table.h"

#define HUGE_2M (2u << 20)

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/*
 * One mapping holds the index and then the entries. hugetlbfs pages when the
 * system has them reserved; otherwise ordinary memory aligned to 2 MiB and
 * advised for transparent huge pages, so nobody has to hand-tune hugepages.
 * Every page is touched here so that no page fault lands on the fast path.
 */
static void *map_region(size_t len, bool *hugetlb)
{
	size_t big = round_up(len, HUGE_2M);
	uint8_t *p, *a;

	p = mmap(NULL, big, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	if (p != MAP_FAILED) {
		*hugetlb = true;
		return p;
	}
	*hugetlb = false;
	p = mmap(NULL, big + HUGE_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)round_up((uintptr_t)p, HUGE_2M);
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + big < p + big + HUGE_2M)
		munmap(a + big, (size_t)(p + big + HUGE_2M - (a + big)));
	madvise(a, big, MADV_HUGEPAGE); /* advice only: fine if refused */
	for (size_t off = 0; off < big; off += 4096)
		((volatile uint8_t *)a)[off] = 0;
	return a;
}

int rw_ctable_init(struct rw_ctable *t, struct rw_conn_ctx *ctx, uint64_t conns,
		   uint32_t esize, uint32_t klen, char *err, size_t errlen)
{
	uint64_t nb = (conns * RW_CT_HEADROOM_8THS + 8 * RW_CT_SLOTS - 1) / (8 * RW_CT_SLOTS);
	size_t tags_len, bound_len, len;

	memset(t, 0, sizeof(*t));
	/* two buckets at least, so that the second choice differs; slot
	 * numbers are 32-bit with RW_CT_NONE reserved */
	nb = RW_MAX(nb, 2);
	if (unlikely(nb > (UINT32_MAX - 1) / RW_CT_SLOTS)) {
		snprintf(err, errlen, "connection table of %llu entries is too large",
			 (unsigned long long)conns);
		return -EINVAL;
	}
	tags_len = round_up(nb * RW_CT_SLOTS * sizeof(uint8_t), 4096);
	bound_len = round_up(nb * sizeof(uint32_t), 4096);
	len = tags_len + bound_len + nb * RW_CT_SLOTS * esize;
	t->map = map_region(len, &t->hugetlb);
	if (!t->map) {
		snprintf(err, errlen, "cannot map %zu bytes for the connection table: %s", len,
			 strerror(errno));
		return -ENOMEM;
	}
	t->map_len = round_up(len, HUGE_2M);
	t->tags = t->map;
	t->bound = (uint32_t *)((uint8_t *)t->map + tags_len);
	memset(t->bound, 0xff, nb * sizeof(uint32_t)); /* empty: nothing to expire */
	t->entries = (uint8_t *)t->map + tags_len + bound_len;
	t->nbuckets = (uint32_t)nb;
	t->esize = esize;
	t->klen = klen;
	t->pf_l2 = (uint64_t)nb * RW_CT_SLOTS * esize > RW_CT_L2_PF_BYTES;
	t->ctx = ctx;
	return 0;
}

void rw_ctable_fini(struct rw_ctable *t)
{
	if (t->map)
		munmap(t->map, t->map_len);
	memset(t, 0, sizeof(*t));
}

static void release(struct rw_ctable *t, uint32_t slot)
{
	t->tags[slot] = 0;
	t->live--;
	t->ctx->live--;
}

/* An expired entry leaves: closed TCP connections count as removed (they
 * ended), everything else as expired (it went quiet). */
static void reclaim(struct rw_ctable *t, uint32_t slot)
{
	if (rw_ctable_conn(t, slot)->flags & RW_CF_CLOSED)
		t->ctx->removed++;
	else
		t->ctx->expired++;
	release(t, slot);
}

void rw_ctable_remove(struct rw_ctable *t, uint32_t slot)
{
	t->ctx->removed++;
	release(t, slot);
}

/* rw_ctable_probe without a match in the first bucket (one key in ten,
 * or a new one): fetch the second bucket's line for the lookup to read
 * later. Out of line: the probe loop stays free of its registers. */
uint32_t rw_ctable_probe_second(const struct rw_ctable *t, uint64_t h)
{
	uint32_t b[2];
	uint8_t tag;

	rw_ctable_where(t, h, &b[0], &b[1], &tag);
	rw_ctable_prefetch_line(t, &t->tags[(size_t)b[1] * RW_CT_SLOTS]);
	return RW_CT_NONE;
}

uint32_t rw_ctable_probe2(const struct rw_ctable *t, uint64_t h)
{
	uint32_t b[2];
	uint8_t tag;

	rw_ctable_where(t, h, &b[0], &b[1], &tag);
	return rw_ctable_probe_bucket(t, b[1], tag, t->esize);
}

/* The key at slot if it is live and equal; reclaims it when expired. */
static bool hit(struct rw_ctable *t, uint32_t slot, const void *key, uint64_t now, bool *dead)
{
	if (!rw_ctable_key_eq(t, slot, key, t->klen))
		return false;
	if (rw_conn_expired(t->ctx, rw_ctable_conn(t, slot), now)) {
		reclaim(t, slot);
		*dead = true;
	}
	return true;
}

uint32_t rw_ctable_find_full(struct rw_ctable *t, const void *key, uint64_t h, uint64_t now,
			     uint32_t hint)
{
	uint32_t b[2];
	uint8_t tag;
	bool dead = false;

	/* the hint first, before the buckets are worked out: it is right for
	 * nearly every packet of an established connection */
	tag = rw_ctable_tag(h);
	if (hint < rw_ctable_nslots(t) && t->tags[hint] == tag && hit(t, hint, key, now, &dead))
		return dead ? RW_CT_NONE : hint;
	rw_ctable_where(t, h, &b[0], &b[1], &tag);
	for (unsigned i = 0; i < 2; i++) {
		unsigned m = rw_ctable_match(&t->tags[(size_t)b[i] * RW_CT_SLOTS], tag);
		for (; m; m &= m - 1) {
			uint32_t slot = b[i] * RW_CT_SLOTS + (uint32_t)__builtin_ctz(m);
			if (hit(t, slot, key, now, &dead))
				return dead ? RW_CT_NONE : slot;
		}
	}
	return RW_CT_NONE;
}

/*
 * A free slot, first bucket first, or RW_CT_NONE. Primary-first rather
 * than the emptier bucket: at 89 % load (9/8 slots) it leaves about 10 %
 * of the keys in their second bucket instead of half, so a lookup reads
 * one index line nine times in ten (docs/conntrack.md); relocation makes
 * up for the weaker balance when both are full.
 */
static uint32_t free_slot(const struct rw_ctable *t, const uint32_t b[2])
{
	for (unsigned i = 0; i < 2; i++) {
		unsigned m = rw_ctable_match(&t->tags[(size_t)b[i] * RW_CT_SLOTS], 0);

		if (m)
			return b[i] * RW_CT_SLOTS + (uint32_t)__builtin_ctz(m);
	}
	return RW_CT_NONE;
}

/* Reclaim every expired entry of the two buckets (reads up to 16 lines:
 * only when the cheap paths failed). */
static void reclaim_expired(struct rw_ctable *t, const uint32_t b[2], uint64_t now)
{
	for (unsigned i = 0; i < 2; i++) {
		for (uint32_t s = b[i] * RW_CT_SLOTS; s < (b[i] + 1) * RW_CT_SLOTS; s++) {
			if (t->tags[s] && rw_conn_expired(t->ctx, rw_ctable_conn(t, s), now))
				reclaim(t, s);
		}
	}
}

/* The embryonic (not RW_CF_SOLID) entry of the two buckets that has been
 * quiet longest, or RW_CT_NONE when all are established. */
static uint32_t victim(const struct rw_ctable *t, const uint32_t b[2])
{
	uint32_t best = RW_CT_NONE;
	uint64_t oldest = UINT64_MAX;

	for (unsigned i = 0; i < 2; i++) {
		for (uint32_t s = b[i] * RW_CT_SLOTS; s < (b[i] + 1) * RW_CT_SLOTS; s++) {
			const struct rw_conn *c = rw_ctable_conn(t, s);
			if (t->tags[s] && !(c->flags & RW_CF_SOLID) && c->last < oldest) {
				oldest = c->last;
				best = s;
			}
		}
	}
	return best;
}

/*
 * Cuckoo relocation: when both buckets of a new key are full, look for a
 * chain of entries that can each move to their other bucket, ending at a
 * bucket with a free slot, breadth first (shortest chain) over at most
 * RELOC_NODES buckets; then move the chain from its far end, so that every
 * entry is findable at every moment, and return the slot freed in one of
 * the key's own buckets. An entry's other bucket comes from hashing its key
 * again (t->kh). Entries of helper control connections stay put: the helper
 * remembers them by slot.
 */
#define RELOC_NODES 64

struct reloc_node {
	uint32_t bucket;
	int16_t parent;      /* index of the node whose entry moves here; -1: root */
	uint8_t pslot;       /* that entry's slot in the parent's bucket */
};

static uint32_t other_bucket(const struct rw_ctable *t, uint32_t slot)
{
	uint32_t b1, b2;
	uint8_t tag;

	rw_ctable_where(t, rw_khash(t->kh, rw_ctable_key(t, slot), t->klen), &b1, &b2, &tag);
	return slot / RW_CT_SLOTS == b1 ? b2 : b1;
}

static void move_entry(struct rw_ctable *t, uint32_t from, uint32_t to)
{
	uint32_t *bt = &t->bound[to / RW_CT_SLOTS], bf = t->bound[from / RW_CT_SLOTS];

	memcpy(rw_ctable_conn(t, to), rw_ctable_conn(t, from), t->esize);
	t->tags[to] = t->tags[from];
	t->tags[from] = 0;
	*bt = RW_MIN(*bt, bf); /* the old bucket's bound covers the entry */
}

static uint32_t relocate(struct rw_ctable *t, const uint32_t b[2])
{
	struct reloc_node q[RELOC_NODES];
	unsigned head = 0, n = 0;

	if (!t->kh)
		return RW_CT_NONE;
	q[n++] = (struct reloc_node){b[0], -1, 0};
	q[n++] = (struct reloc_node){b[1], -1, 0};
	for (; head < n; head++) {
		for (unsigned s = 0; s < RW_CT_SLOTS; s++) {
			uint32_t from = q[head].bucket * RW_CT_SLOTS + s, alt;
			unsigned m;

			if (rw_ctable_conn(t, from)->flags & RW_CF_PINNED)
				continue;
			alt = other_bucket(t, from);
			m = rw_ctable_match(&t->tags[(size_t)alt * RW_CT_SLOTS], 0);
			if (m) {
				/* found: move from the far end back to the root */
				uint32_t to = alt * RW_CT_SLOTS + (uint32_t)__builtin_ctz(m);
				int i = (int)head;

				move_entry(t, from, to);
				while (q[i].parent >= 0) {
					uint32_t up = (uint32_t)q[q[i].parent].bucket * RW_CT_SLOTS + q[i].pslot;

					move_entry(t, up, from);
					from = up;
					i = q[i].parent;
				}
				t->ctx->relocated++;
				return from;
			}
			if (n < RELOC_NODES && alt != q[head].bucket)
				q[n++] = (struct reloc_node){alt, (int16_t)head, (uint8_t)s};
		}
	}
	return RW_CT_NONE;
}

/*
 * At the count limit with only established entries in the key's two
 * buckets: evict an embryonic entry from elsewhere, the first found going
 * on from a cursor (at most FAR_SCAN slots, read in order), then take a
 * free slot of the two buckets or make one by relocation. First-bucket-
 * first placement packs some buckets with established connections; this
 * keeps a SYN flood churning embryonic entries among themselves there too.
 * RW_CT_NONE when none was found (or no slot could be made after all).
 */
#define FAR_SCAN 256

static uint32_t far_victim(struct rw_ctable *t, const uint32_t b[2])
{
	uint64_t n = rw_ctable_nslots(t);

	for (unsigned i = 0; i < FAR_SCAN; i++) {
		uint32_t s = (uint32_t)(t->far_cursor++ % n);
		const struct rw_conn *c = rw_ctable_conn(t, s);

		if (!t->tags[s] || (c->flags & (RW_CF_SOLID | RW_CF_PINNED)))
			continue;
		t->ctx->evicted++;
		release(t, s);
		s = free_slot(t, b);
		return s != RW_CT_NONE ? s : relocate(t, b);
	}
	return RW_CT_NONE;
}

unsigned rw_ctable_insert(struct rw_ctable *t, const void *key, uint64_t h, uint64_t now,
			  uint32_t *slot)
{
	struct rw_conn_ctx *x = t->ctx;
	uint32_t b[2], s;
	uint8_t tag;

	rw_ctable_where(t, h, &b[0], &b[1], &tag);
	s = free_slot(t, b);
	if (likely(s != RW_CT_NONE && x->live < x->capacity))
		goto take;
	reclaim_expired(t, b, now);
	s = free_slot(t, b);
	if (s != RW_CT_NONE && x->live < x->capacity)
		goto take;
	/* room in the count but not in these two buckets: make some */
	if (s == RW_CT_NONE && x->live < x->capacity && (s = relocate(t, b)) != RW_CT_NONE)
		goto take;
	s = victim(t, b);
	if (s == RW_CT_NONE) {
		if (x->live >= x->capacity && (s = far_victim(t, b)) != RW_CT_NONE)
			goto take;
		x->refused++;
		return RW_DROP_STATE_FULL;
	}
	x->evicted++;
	release(t, s);
take:
	memset(rw_ctable_conn(t, s), 0, t->esize);
	memcpy(t->entries + (size_t)s * t->esize + RW_KEY_OFF, key, t->klen);
	t->tags[s] = tag;
	t->live++;
	x->live++;
	x->created++;
	*slot = s;
	return RW_PASS;
}

/*
 * True when no entry of bucket b can have expired at now: its bound (a
 * lower bound of the entries' expiry under the unscaled timeouts) is still
 * ahead. Not trusted while adaptive scaling shortens timeouts, nor for a
 * round after a reload shortened some (bound_stale).
 */
static bool bucket_quiet(const struct rw_ctable *t, uint32_t b, uint64_t now)
{
	const struct rw_conn_ctx *x = t->ctx;

	if (x->bound_stale || (x->adaptive_end > x->adaptive_start && x->live > x->adaptive_start))
		return false;
	return now < (uint64_t)t->bound[b] * 1000000000u;
}

/* The bound of a bucket whose every slot was just looked at. */
static uint32_t bucket_bound(const struct rw_ctable *t, uint32_t b)
{
	uint64_t lo = UINT32_MAX;

	for (uint32_t s = b * RW_CT_SLOTS; s < (b + 1) * RW_CT_SLOTS; s++) {
		const struct rw_conn *c;

		if (!t->tags[s])
			continue;
		c = rw_ctable_conn(t, s);
		lo = RW_MIN(lo, (c->last + t->ctx->to_ms[c->to] * 1000000u) / 1000000000u);
	}
	return (uint32_t)lo;
}

unsigned rw_ctable_sweep(struct rw_ctable *t, uint64_t now, uint64_t from, uint64_t n)
{
	uint64_t end = RW_MIN(from + n, rw_ctable_nslots(t));
	unsigned got = 0;

	for (uint64_t s = from; s < end;) {
		uint32_t b = (uint32_t)(s / RW_CT_SLOTS);
		uint64_t bend = RW_MIN(end, (uint64_t)(b + 1) * RW_CT_SLOTS);
		bool whole = s == (uint64_t)b * RW_CT_SLOTS && bend == (uint64_t)(b + 1) * RW_CT_SLOTS;

		if (bucket_quiet(t, b, now)) {
			s = bend;
			continue;
		}
		for (; s < bend; s++) {
			if (t->tags[s] && rw_conn_expired(t->ctx, rw_ctable_conn(t, (uint32_t)s), now)) {
				reclaim(t, (uint32_t)s);
				got++;
			}
		}
		if (whole)
			t->bound[b] = bucket_bound(t, b);
	}
	t->ctx->bound_stale -= RW_MIN(t->ctx->bound_stale, end > from ? end - from : 0);
	return got;
}

void rw_ctable_flush(struct rw_ctable *t)
{
	t->ctx->removed += t->live;
	t->ctx->live -= t->live;
	t->live = 0;
	memset(t->tags, 0, rw_ctable_nslots(t) * sizeof(uint8_t));
	memset(t->bound, 0xff, (size_t)t->nbuckets * sizeof(uint32_t));
}
