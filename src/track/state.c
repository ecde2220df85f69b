/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rw_state_* glue: a shard owns an IPv4 table (64-byte entries) and an
 * IPv6 table (128-byte entries, RW_V6_SHARE of the capacity), one count
 * limit over both, and dispatches each packet to its protocol's tracker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../conn/hash.h"
#include "../worker/reasons.h"
#include "synproxy.h"
#include "tcp_fast.h"
#include "track.h"

/*
 * IPv6 connections get their own table sized at 1/RW_V6_SHARE of the
 * capacity: a separate array keeps every IPv4 entry one line (the common
 * case pays nothing for IPv6) and the table code is the same for both.
 */
#define RW_V6_SHARE 4
#define RW_V6_MIN 64

static struct rw_ctable *table_of(struct rw_state *s, uint8_t af)
{
	return af == RW_AF_INET6 ? &s->t6 : &s->t4;
}

void rw_state_set_timeouts(struct rw_state *s, const uint32_t timeouts[RW_TO_MAX])
{
	bool shorter = false;

	for (unsigned i = 0; i < RW_TO_MAX; i++) {
		shorter |= (uint64_t)timeouts[i] * 1000u < s->ctx.to_ms[i];
		s->ctx.to_ms[i] = (uint64_t)timeouts[i] * 1000u;
	}
	/* the sweep's per-bucket bounds assumed the longer timeouts: one
	 * round reading every bucket recomputes them */
	if (shorter)
		s->ctx.bound_stale = rw_ctable_nslots(&s->t4) + rw_ctable_nslots(&s->t6);
}

uint64_t rw_state_set_limits(struct rw_state *s, uint64_t capacity, uint32_t adaptive_start,
			     uint32_t adaptive_end)
{
	/* the tables never grow: a higher limit waits for a restart. A lower
	 * one refuses or evicts new connections until enough old ones end,
	 * as pf does; none is dropped for it. */
	s->ctx.capacity = RW_MAX(RW_MIN(capacity, s->ctx.capacity_max), 1);
	s->ctx.adaptive_start = adaptive_start;
	s->ctx.adaptive_end = adaptive_end;
	s->ctx.adaptive = adaptive_end > adaptive_start;
	return s->ctx.capacity;
}

struct rw_state *rw_state_create_shard(const struct rw_state_opts *o, char *err, size_t errlen)
{
	struct rw_state *s;
	uint64_t cap6;
	int r;

	if (unlikely(o->capacity == 0 || o->capacity > UINT32_MAX)) {
		snprintf(err, errlen, "state capacity %llu out of range (1 .. %u per worker)",
			 (unsigned long long)o->capacity, UINT32_MAX);
		return NULL;
	}
	s = aligned_alloc(RW_CACHELINE, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->ctx.capacity_max = o->capacity;
	rw_state_set_limits(s, o->capacity, o->adaptive_start, o->adaptive_end);
	rw_state_set_timeouts(s, o->timeouts);
	memcpy(s->hash_key, o->hash_key, sizeof(s->hash_key));
	/* a zero key is a caller that forgot: never run unkeyed */
	if (!s->hash_key[0] && !s->hash_key[1] && (r = rw_hash_key_random(s->hash_key)) < 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(-r));
		goto out_free;
	}
	rw_khash_init(&s->kh, s->hash_key, o->hash_sip);
	if (rw_ctable_init(&s->t4, &s->ctx, o->capacity, sizeof(struct rw_entry4),
			   sizeof(struct rw_key4), err, errlen) < 0)
		goto out_free;
	s->t4.kh = &s->kh;
	cap6 = RW_MAX(o->capacity / RW_V6_SHARE, RW_V6_MIN);
	if (rw_ctable_init(&s->t6, &s->ctx, cap6, sizeof(struct rw_entry6), sizeof(struct rw_key6),
			   err, errlen) < 0)
		goto out_t4;
	s->t6.kh = &s->kh;
	s->alg = rw_alg_create(o->worker, o->nworkers);
	if (!s->alg) {
		snprintf(err, errlen, "out of memory");
		goto out_t6;
	}
	return s;

out_t6:
	rw_ctable_fini(&s->t6);
out_t4:
	rw_ctable_fini(&s->t4);
out_free:
	free(s);
	return NULL;
}

void rw_state_destroy(struct rw_state *s)
{
	if (!s)
		return;
	rw_alg_destroy(s->alg);
	rw_ctable_fini(&s->t6);
	rw_ctable_fini(&s->t4);
	free(s);
}

static_assert(RW_CF_ALG == RW_CF_PINNED, "the table never moves a helper's control connection");
static_assert(RW_CF_INIT_B == 1, "rw_state_track takes the initiator's side as the bit itself");

static uint64_t key_hash(const struct rw_state *s, const union rw_key *k, unsigned klen)
{
	return rw_khash(&s->kh, k, klen);
}

/* ct_prep's values here: any non-zero one means prepared (pkt.h); the
 * prefetch stage tells the IPv4 keys by it without reading af. */
enum { PREP_V4 = 1, PREP_OTHER = 2 };

/* An IPv4 TCP segment with its ports parsed, not a later fragment nor an
 * ICMP error: nearly every packet, told by one test ahead of the general
 * ones (for it they say the same: ports from the header, key prepared). */
static_assert(offsetof(struct rw_pkt, af) == offsetof(struct rw_pkt, nvlan) + 1 &&
		      offsetof(struct rw_pkt, proto) == offsetof(struct rw_pkt, nvlan) + 2 &&
		      offsetof(struct rw_pkt, flags) == offsetof(struct rw_pkt, nvlan) + 3,
	      "prep_tcp4 reads af, proto and flags as one word");

/* Tested as one load, mask and compare of the word nvlan, af, proto, flags
 * (GCC merged af and proto, but tested flags apart: five instructions more
 * a packet). */
static_assert(offsetof(struct rw_pkt, dport) == offsetof(struct rw_pkt, sport) + 2,
	      "prepare loads the ports as one word (rw_ports_word)");

static inline bool prep_tcp4(const struct rw_pkt *q)
{
	const uint32_t fl = RW_PKT_FRAG_LATER | RW_PKT_ICMP_ERR | RW_PKT_L4;
	uint32_t w;

	memcpy(&w, &q->nvlan, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (w & (0xffffu << 8 | fl << 24)) ==
	       ((uint32_t)RW_AF_INET << 8 | (uint32_t)RW_PROTO_TCP << 16 | (uint32_t)RW_PKT_L4 << 24);
#else
	return (w & (0xffffu << 8 | fl)) ==
	       ((uint32_t)RW_AF_INET << 16 | (uint32_t)RW_PROTO_TCP << 8 | (uint32_t)RW_PKT_L4);
#endif
}

/*
 * Up to a burst: the IPv4 keys are gathered and hashed together (the AES
 * rounds of different keys overlap), IPv6 keys one by one. Descriptors are
 * reached through locals: every store through one would otherwise make
 * the compiler load p[i] again. ct_hint is left to the prefetch stage,
 * which sets it for every prepared packet (track reads it only for those).
 * l2 is s->t4.pf_l2, a constant of each instance (rw_state_prepare).
 */
static inline __attribute__((always_inline)) void prepare_burst(struct rw_state *s,
								 struct rw_pkt *const *p,
								 unsigned n, bool l2)
{
	uint64_t h4[RW_BURST];
	struct rw_pkt *q4[RW_BURST];
	unsigned n4 = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rw_pkt *q = p[i];
		union rw_key k;
		unsigned klen, side;
		uint16_t sp, dp;
		uint32_t ports, sa, da;
		uint8_t proto;

		if (likely(prep_tcp4(q))) {
			/* sport and dport side by side: one load */
			memcpy(&ports, &q->sport, 4);
			proto = RW_PROTO_TCP; /* a constant: not loaded again */
		} else if ((q->flags & (RW_PKT_FRAG_LATER | RW_PKT_ICMP_ERR)) ||
			   !rw_key_ports(q, &sp, &dp)) {
			q->ct_prep = 0;
			continue;
		} else if (q->af != RW_AF_INET) {
			klen = rw_key_make(&k, q->af, q->proto, q->saddr, q->daddr, sp, dp, &side);
			q->ct_prep = klen ? PREP_OTHER : 0;
			if (!klen)
				continue;
			q->hash = key_hash(s, &k, klen);
			rw_ctable_prefetch_index(&s->t6, q->hash);
			continue;
		} else {
			ports = rw_ports_word(sp, dp);
			proto = q->proto;
		}
		uint64_t w[2];

		/* built in registers and stored once, whole words, in the
		 * descriptor, where the hash reads it and track after it */
		memcpy(&sa, q->saddr + 12, 4);
		memcpy(&da, q->daddr + 12, 4);
		rw_key4_words_v(w, proto, sa, da, ports, &side);
		memcpy(q->ct_key4, w, sizeof(w));
		q->ct_side = (uint8_t)side;
		q->ct_prep = PREP_V4;
		q4[n4++] = q;
	}
	if (!n4)
		return;
	/* the keys read where they were stored (q4[j]->ct_key4), no packed
	 * copy (the build is -fno-strict-aliasing: the pointer array read
	 * as void pointers) */
	rw_khash16_gather(&s->kh, (const void *const *)q4, offsetof(struct rw_pkt, ct_key4), n4, h4);
	/* a copy the stores to the descriptors cannot alias: its bucket count
	 * and index stay in registers */
	struct rw_ctable t4 = s->t4;

	t4.pf_l2 = l2;
	for (unsigned j = 0; j < n4; j++) {
		q4[j]->hash = h4[j];
		rw_ctable_prefetch_index(&t4, h4[j]);
	}
}

void rw_state_prepare(struct rw_state *s, struct rw_pkt *const *p, unsigned n)
{
	for (unsigned i = 0; i < n; i += RW_BURST) {
		unsigned m = RW_MIN(n - i, (unsigned)RW_BURST);

		if (s->t4.pf_l2)
			prepare_burst(s, p + i, m, true);
		else
			prepare_burst(s, p + i, m, false);
	}
}

/*
 * Up to a burst: the IPv4 keys' first buckets matched inline, those with no
 * match (one in ten, or new) get their second bucket's line prefetched and
 * are matched in a second pass, rather than meet both misses in the track
 * stage. t4 is a copy the hint stores cannot alias (its fields stay in
 * registers) with its prefetch level the constant l2: one instance of the
 * loop per level, no test of it per packet (rw_state_prefetch picks).
 */
static inline __attribute__((always_inline)) void prefetch_burst(struct rw_state *s,
								  struct rw_pkt *const *p,
								  unsigned n, bool l2)
{
	struct rw_ctable t4 = s->t4;
	/* the second pass's work: an IPv4 key's second bucket as the first
	 * pass found it (the tag is taken from the hash again there: kept,
	 * it cost a move on every first-bucket hit); b2 RW_CT_NONE for an
	 * IPv6 key */
	struct {
		struct rw_pkt *q;
		uint64_t h;
		uint32_t b2;
	} second[RW_BURST];
	unsigned ns = 0;

	t4.pf_l2 = l2;
	for (unsigned i = 0; i < n; i++) {
		struct rw_pkt *q = p[i];

		if (likely(q->ct_prep == PREP_V4)) {
			uint64_t h = q->hash;
			uint32_t b1 = rw_ctable_bucket1(&t4, h);
			unsigned m = rw_ctable_match(&t4.tags[(size_t)b1 * RW_CT_SLOTS],
						     rw_ctable_tag(h));

			if (likely(m)) {
				q->ct_hint = rw_ctable_prefetch_match(&t4, b1, m,
								      sizeof(struct rw_entry4));
				continue;
			}
			uint32_t b2 = rw_ctable_bucket2(&t4, h, b1);

			rw_ctable_prefetch_line(&t4, &t4.tags[(size_t)b2 * RW_CT_SLOTS]);
			second[ns].q = q;
			second[ns].h = h;
			second[ns++].b2 = b2;
		} else if (q->ct_prep) {
			q->ct_hint = rw_ctable_probe(&s->t6, q->hash);
			if (q->ct_hint == RW_CT_NONE) {
				second[ns].q = q;
				second[ns++].b2 = RW_CT_NONE;
			}
		}
	}
	for (unsigned j = 0; j < ns; j++) {
		if (likely(second[j].b2 != RW_CT_NONE))
			second[j].q->ct_hint = rw_ctable_probe_bucket(&t4, second[j].b2,
								     rw_ctable_tag(second[j].h),
								     sizeof(struct rw_entry4));
		else
			second[j].q->ct_hint = rw_ctable_probe2(&s->t6, second[j].q->hash);
	}
}

void rw_state_prefetch(struct rw_state *s, struct rw_pkt *const *p, unsigned n)
{
	for (unsigned i = 0; i < n; i += RW_BURST) {
		unsigned m = RW_MIN(n - i, (unsigned)RW_BURST);

		if (s->t4.pf_l2)
			prefetch_burst(s, p + i, m, true);
		else
			prefetch_burst(s, p + i, m, false);
	}
}

struct rw_conn *rw_state_lookup(struct rw_state *s, const union rw_key *k, unsigned klen,
				uint64_t now)
{
	struct rw_ctable *t = klen == sizeof(struct rw_key6) ? &s->t6 : &s->t4;
	uint32_t slot = rw_ctable_find(t, k, key_hash(s, k, klen), now, RW_CT_NONE);

	return slot == RW_CT_NONE ? NULL : rw_ctable_conn(t, slot);
}

/* The slot of p's live connection, using what prepare/prefetch left. */
static uint32_t find_pkt(struct rw_state *s, struct rw_pkt *p, const void *k,
			 unsigned klen, uint64_t now, uint64_t *h)
{
	uint32_t hint = RW_CT_NONE;

	if (p->ct_prep) {
		*h = p->hash;
		hint = p->ct_hint;
		p->ct_prep = 0; /* consumed: a reused descriptor never sees it stale */
	} else {
		*h = key_hash(s, k, klen);
	}
	return rw_ctable_find(table_of(s, p->af), k, *h, now, hint);
}

static void reopen(struct rw_state *s, struct rw_conn *c, const struct rw_pkt *p, uint64_t now)
{
	uint32_t rule = c->rule;
	uint8_t keep = c->flags & (RW_CF_INIT_B | RW_CF_V6 | RW_CF_ALG);
	uint16_t alg = c->pad; /* a control connection stays one; its SYN resets the lines */

	memset(c, 0, sizeof(*c));
	c->rule = rule;
	c->flags = keep;
	c->pad = alg;
	rw_tcp_open(c, p, now);
	s->ctx.removed++;
	s->ctx.created++;
}

static enum rw_track_result track_error(struct rw_state *s, struct rw_pkt *p, uint64_t now,
					uint32_t *rule, unsigned *reason)
{
	struct rw_quote q;

	memset(&q, 0, sizeof(q));
	if (unlikely(rw_parse_quote(p, &q) != RW_PASS)) {
		*reason = RW_DROP_ICMP_ERR_QUOTE;
		return RW_TRACK_DROP;
	}
	return rw_state_icmp_error(s, p, &q, now, rule, reason);
}

/* A miss that a helper announced: state under the control connection's
 * rule, before the rules see it (docs/alg.md). */
static enum rw_track_result track_expected(struct rw_state *s, struct rw_pkt *p, uint64_t now,
					   uint32_t *rule, unsigned *reason)
{
	uint32_t ref;
	unsigned r;

	if (likely(!s->alg->nexp) || !rw_alg_match(s->alg, p, now, &ref))
		return RW_TRACK_MISS;
	r = rw_state_create(s, p, ref, now);
	if (unlikely(r != RW_PASS)) {
		*reason = r;
		return RW_TRACK_DROP;
	}
	*rule = ref;
	return RW_TRACK_PASS;
}

/* Packets without a key of their own: fragment tails (the worker's
 * fragment policy decides) and ICMP errors (judged by what they quote). */
static __attribute__((noinline)) enum rw_track_result track_keyless(struct rw_state *s,
								   struct rw_pkt *p, uint64_t now,
								   uint32_t *rule, unsigned *reason)
{
	if (p->flags & RW_PKT_FRAG_LATER)
		return RW_TRACK_MISS;
	return track_error(s, p, now, rule, reason);
}

/*
 * Everything after the lookup that the inline path of rw_state_track
 * leaves to others: the SYN proxy, the full TCP tracker, a helper's
 * inspection, UDP and ICMP, a change of timeout. c is p's connection,
 * p->ct_side the side p came from. Out of line, with six arguments, so
 * that rw_state_track reaches it by a jump, and with the entry rather than
 * its slot, which would take one more register there.
 */
static __attribute__((noinline)) enum rw_track_result track_conn(struct rw_state *s,
								 struct rw_pkt *p, uint64_t now,
								 uint32_t *rule, unsigned *reason,
								 struct rw_conn *c)
{
	struct rw_ctable *t = table_of(s, p->af);
	uint32_t slot = (uint32_t)(((uint8_t *)c - t->entries) / t->esize);
	unsigned d = p->ct_side ^ (c->flags & RW_CF_INIT_B), to;
	int r;

	/* the SYN proxy splices this one: it tracks and translates (synproxy.c) */
	if (unlikely(c->flags & RW_CF_PROXY)) {
		int pr = rw_synproxy_track(s, t, slot, c, d, p, now, rule, reason);

		p->ct_solid = pr == RW_TRACK_PASS && (c->flags & RW_CF_SOLID);
		return (enum rw_track_result)pr;
	}
	to = c->to;
	if (likely(p->proto == RW_PROTO_TCP)) {
		r = rw_tcp_track(s, c, d, p, now, reason);
		if (unlikely(r != RW_TRACK_PASS)) {
			if (r == RW_TCP_GONE) {
				rw_ctable_remove(t, slot);
				return RW_TRACK_MISS;
			}
			if (r != RW_TCP_REOPEN)
				return (enum rw_track_result)r;
			reopen(s, c, p, now);
		}
		if (unlikely(c->flags & RW_CF_ALG))
			rw_alg_inspect(s->alg, c, slot, p->af == RW_AF_INET6, d, p, now,
				       s->ctx.to_ms[RW_TO_FTP_EXPECT] * 1000000u);
	} else if (rw_proto_is_icmp(p->proto)) {
		if (rw_icmp_track(c, d, p, now) != RW_TRACK_PASS)
			return RW_TRACK_MISS;
	} else {
		rw_udp_track(c, d, p->proto, now);
	}
	/* a shorter timeout (closing, say) may expire it before its bucket's
	 * bound: lower the bound (a write only on such transitions) */
	if (unlikely(c->to != to) && s->ctx.to_ms[c->to] < s->ctx.to_ms[to])
		rw_ctable_note_expiry(t, slot, c->last + s->ctx.to_ms[c->to] * 1000000u);
	/* flags read once: the stores below could alias it as far as the
	 * compiler knows */
	uint8_t fl = c->flags;
	c->pkts[d]++;
	*rule = c->rule;
	p->ct_solid = !!(fl & RW_CF_SOLID);
	return RW_TRACK_PASS;
}

/* A packet prepare did not key as IPv4 (IPv6, or a caller that skipped
 * the stages): its key built and looked up here. */
static __attribute__((noinline)) enum rw_track_result track_unprepared(struct rw_state *s,
								       struct rw_pkt *p, uint64_t now,
								       uint32_t *rule, unsigned *reason)
{
	union rw_key k;
	unsigned klen, side;
	uint32_t slot;
	uint64_t h;

	klen = rw_key_from_pkt(p, &k, &side);
	if (unlikely(!klen))
		return RW_TRACK_MISS;
	slot = find_pkt(s, p, &k, klen, now, &h);
	if (unlikely(slot == RW_CT_NONE))
		return track_expected(s, p, now, rule, reason);
	p->ct_side = (uint8_t)side;
	return track_conn(s, p, now, rule, reason, rw_ctable_conn(table_of(s, p->af), slot));
}

/* An IPv4 packet prepare keyed whose hint did not hold its live entry. */
static __attribute__((noinline)) enum rw_track_result track_lookup4(struct rw_state *s,
								    struct rw_pkt *p, uint64_t now,
								    uint32_t *rule, unsigned *reason)
{
	uint32_t slot = rw_ctable_find_sized(&s->t4, p->ct_key4, sizeof(struct rw_key4),
					     sizeof(struct rw_entry4), p->hash, now, p->ct_hint);

	if (unlikely(slot == RW_CT_NONE))
		return track_expected(s, p, now, rule, reason);
	return track_conn(s, p, now, rule, reason, rw_ctable_conn(&s->t4, slot));
}

static_assert(offsetof(struct rw_conn, to) == offsetof(struct rw_conn, flags) + 1,
	      "rw_state_track reads flags and to as one word");

/* A connection's flags and timeout index as one 16-bit word: loaded once,
 * for the side (conn_init_b) and for the test of the fast path
 * (conn_solid_established), where GCC loaded and tested them apart. */
static inline uint16_t conn_flags_to(const struct rw_conn *c)
{
	uint16_t w;

	memcpy(&w, &c->flags, 2);
	return w;
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CONN_FLAGS_SHIFT 0 /* flags in the word's low byte, to in its high one */
#define CONN_TO_SHIFT 8
#else
#define CONN_FLAGS_SHIFT 8
#define CONN_TO_SHIFT 0
#endif

/* RW_CF_INIT_B of the word's flags */
static inline unsigned conn_init_b(uint16_t w)
{
	return (unsigned)(w >> CONN_FLAGS_SHIFT) & RW_CF_INIT_B;
}

/* No proxy or helper, SOLID, not CLOSED, and the established timeout. */
static inline bool conn_solid_established(uint16_t w)
{
	const unsigned fl = RW_CF_PROXY | RW_CF_ALG | RW_CF_SOLID | RW_CF_CLOSED;

	return (w & (fl << CONN_FLAGS_SHIFT | 0xffu << CONN_TO_SHIFT)) ==
	       ((unsigned)RW_CF_SOLID << CONN_FLAGS_SHIFT | (unsigned)RW_TO_TCP_ESTABLISHED << CONN_TO_SHIFT);
}

/*
 * Inline here only what nearly every packet needs: an IPv4 packet that
 * prepare keyed, its hint live, a TCP segment the established fast path
 * accepts on a SOLID connection with no proxy, no helper and the
 * established timeout already (so that nothing about its expiry changes).
 * Everything else is reached by a jump, so that this path saves no
 * registers unless it gets past the key compare.
 */
enum rw_track_result rw_state_track(struct rw_state *s, struct rw_pkt *p, uint64_t now,
				    uint32_t *rule, unsigned *reason)
{
	struct rw_conn *c;
	uint32_t hint;
	uint16_t ft;
	unsigned d;

	/* PREP_V4 alone says IPv4, neither a fragment tail nor an ICMP error
	 * (prepare keys no others as such): one test ahead of the others */
	if (unlikely(p->ct_prep != PREP_V4)) {
		if (p->flags & (RW_PKT_FRAG_LATER | RW_PKT_ICMP_ERR))
			return track_keyless(s, p, now, rule, reason);
		return track_unprepared(s, p, now, rule, reason);
	}
	/* prepare built the key (the same bytes rw_key_from_pkt gives) and
	 * prefetch the hint: consumed here, so that a reused descriptor never
	 * sees them stale */
	p->ct_prep = 0;
	hint = p->ct_hint;
	if (unlikely(!rw_ctable_hint_live(&s->t4, p->ct_key4, sizeof(struct rw_key4),
					  sizeof(struct rw_entry4), now, hint)))
		return track_lookup4(s, p, now, rule, reason);
	c = (struct rw_conn *)(s->t4.entries + (size_t)hint * sizeof(struct rw_entry4));
	ft = conn_flags_to(c);
	d = p->ct_side ^ conn_init_b(ft);
	/* no proxy or helper; SOLID, not CLOSED and the established timeout
	 * already: what rw_tcp_track_established would set, so only the time
	 * is stored */
	if (likely(p->proto == RW_PROTO_TCP && conn_solid_established(ft)) &&
	    likely(rw_tcp_slide_established(c, d, p))) {
		c->last = now;
		c->pkts[d]++;
		*rule = c->rule;
		p->ct_solid = 1;
		return RW_TRACK_PASS;
	}
	return track_conn(s, p, now, rule, reason, c);
}

static unsigned create(struct rw_state *s, struct rw_pkt *p, uint32_t rule, uint64_t now,
		       bool loose)
{
	struct rw_ctable *t = table_of(s, p->af);
	struct rw_conn *c;
	union rw_key k;
	unsigned klen, side, ret;
	uint32_t slot;
	uint64_t h;

	/* nothing to keep for fragment tails, ICMP errors, non-echo ICMP */
	if (p->flags & (RW_PKT_FRAG_LATER | RW_PKT_ICMP_ERR))
		return RW_PASS;
	klen = rw_key_from_pkt(p, &k, &side);
	if (!klen)
		return RW_PASS;
	bool first_syn = (p->tcp_flags & (RW_TH_SYN | RW_TH_ACK | RW_TH_RST)) == RW_TH_SYN;
	if (p->proto == RW_PROTO_TCP && !first_syn) {
		if (unlikely(!loose))
			return RW_DROP_TCP_NO_STATE;
		/* a RST ends whatever it belongs to: an entry for it would
		 * only hold a slot until it expires */
		if (p->tcp_flags & RW_TH_RST)
			return RW_PASS;
	}
	/* echo replies pass by rule but only a request opens echo state */
	if (rw_proto_is_icmp(p->proto) && !rw_icmp_is_echo_req(p->proto, p->icmp_type))
		return RW_PASS;
	slot = find_pkt(s, p, &k, klen, now, &h);
	if (slot != RW_CT_NONE)
		return RW_PASS; /* already tracked (a race inside one burst) */
	ret = rw_ctable_insert(t, &k, h, now, &slot);
	if (ret != RW_PASS)
		return ret;
	c = rw_ctable_conn(t, slot);
	c->rule = rule;
	c->flags = (side ? RW_CF_INIT_B : 0) | (p->af == RW_AF_INET6 ? RW_CF_V6 : 0);
	if (p->proto == RW_PROTO_TCP && first_syn)
		rw_tcp_open(c, p, now);
	else if (p->proto == RW_PROTO_TCP)
		rw_tcp_pickup(c, p, now);
	else if (rw_proto_is_icmp(p->proto))
		rw_icmp_open(c, now);
	else
		rw_udp_open(c, p->proto, now);
	c->pkts[0] = 1;
	/* the table's contract: tell it the new entry's expiry */
	rw_ctable_note_expiry(t, slot, RW_MIN(c->last, now) + s->ctx.to_ms[c->to] * 1000000u);
	return RW_PASS;
}

unsigned rw_state_create(struct rw_state *s, struct rw_pkt *p, uint32_t rule, uint64_t now)
{
	return create(s, p, rule, now, false);
}

unsigned rw_state_create_loose(struct rw_state *s, struct rw_pkt *p, uint32_t rule, uint64_t now)
{
	return create(s, p, rule, now, true);
}

int rw_state_mark_alg(struct rw_state *s, const struct rw_pkt *p, unsigned helper, uint64_t now)
{
	struct rw_ctable *t = table_of(s, p->af);
	union rw_key k;
	unsigned klen, side;
	uint32_t slot;

	klen = rw_key_from_pkt(p, &k, &side);
	if (!klen || helper == RW_ALG_NONE || helper >= RW_ALG_MAX)
		return -ENOENT;
	slot = rw_ctable_find(t, &k, key_hash(s, &k, klen), now, RW_CT_NONE);
	if (slot == RW_CT_NONE)
		return -ENOENT;
	rw_alg_mark(rw_ctable_conn(t, slot), helper);
	return 0;
}

struct rw_alg *rw_state_alg(struct rw_state *s)
{
	return s->alg;
}

static uint64_t total_slots(const struct rw_state *s)
{
	return rw_ctable_nslots(&s->t4) + rw_ctable_nslots(&s->t6);
}

static void sweep(struct rw_state *s, uint64_t now, unsigned budget)
{
	uint64_t n4 = rw_ctable_nslots(&s->t4), total = total_slots(s);

	/* one cursor walks the IPv4 slots then the IPv6 ones, so both tables
	 * get swept in proportion to their size */
	while (budget) {
		uint64_t k;

		if (s->cursor >= total)
			s->cursor = 0;
		if (s->cursor < n4) {
			k = RW_MIN(budget, n4 - s->cursor);
			rw_ctable_sweep(&s->t4, now, s->cursor, k);
		} else {
			k = RW_MIN(budget, total - s->cursor);
			rw_ctable_sweep(&s->t6, now, s->cursor - n4, k);
		}
		s->cursor += k;
		budget -= (unsigned)k;
	}
}

void rw_state_expire(struct rw_state *s, uint64_t now, unsigned budget)
{
	rw_alg_expire(s->alg, now, RW_MIN(budget, 64u));
	sweep(s, now, budget);
}

/*
 * Paced: the sweep covers every slot once per "timeout interval" (pf's
 * purge interval, 10 s by default; RW_SWEEP_NS when it is set to 0),
 * however many packets pass, so its cost per packet falls as the rate
 * rises (at 10M connections and 20 Mpps, about 0.06 slots a packet against
 * 0.5 for a fixed 16 a burst). pace_ns advances by the time the slots
 * swept were worth; a sweep that falls behind (more than max due) drops
 * the backlog rather than catching up in one burst. Lookups and inserts
 * reclaim what they meet expired, so a late sweep only delays counters.
 */
void rw_state_expire_paced(struct rw_state *s, uint64_t now, unsigned max)
{
	uint64_t total = total_slots(s), n, period;

	rw_alg_expire(s->alg, now, RW_MIN(max, 64u));
	if (now <= s->pace_ns) {
		s->pace_ns = now; /* a clock that went back (replays) starts again */
		return;
	}
	period = s->ctx.to_ms[RW_TO_INTERVAL] ? s->ctx.to_ms[RW_TO_INTERVAL] * 1000000u : RW_SWEEP_NS;
	n = (uint64_t)((__uint128_t)(now - s->pace_ns) * total / period);
	if (!n)
		return;
	if (n > max) {
		n = max;
		s->pace_ns = now;
	} else {
		s->pace_ns += (uint64_t)((__uint128_t)n * period / total);
	}
	sweep(s, now, (unsigned)n);
}

void rw_state_flush(struct rw_state *s)
{
	rw_ctable_flush(&s->t4);
	rw_ctable_flush(&s->t6);
	rw_alg_flush(s->alg);
}

void rw_state_stats(const struct rw_state *s, struct rw_state_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->created = s->ctx.created;
	out->expired = s->ctx.expired;
	out->removed = s->ctx.removed;
	out->evicted = s->ctx.evicted;
	out->refused = s->ctx.refused;
	out->relocated = s->ctx.relocated;
	out->current = s->ctx.live;
	out->limit = s->ctx.capacity;
	out->limit_max = s->ctx.capacity_max;
	out->current_v4 = s->t4.live;
	out->current_v6 = s->t6.live;
	out->alg = s->alg->st;
}

/* Fill the control plane's view of one entry. */
static void conn_info(const struct rw_state *s, const struct rw_ctable *t, uint32_t slot,
		      struct rw_conn_info *ci)
{
	const struct rw_conn *c = rw_ctable_conn(t, slot);
	const void *key = rw_ctable_key(t, slot);
	unsigned ini = !!(c->flags & RW_CF_INIT_B);
	static const uint8_t v4pfx[12] = {[10] = 0xff, [11] = 0xff};

	memset(ci, 0, sizeof(*ci));
	if (t == &s->t6) {
		const struct rw_key6 *k = key;
		ci->af = RW_AF_INET6;
		ci->proto = k->proto;
		memcpy(ci->saddr, k->addr[ini], 16);
		memcpy(ci->daddr, k->addr[!ini], 16);
		ci->sport = k->port[ini];
		ci->dport = k->port[!ini];
	} else {
		const struct rw_key4 *k = key;
		ci->af = RW_AF_INET;
		ci->proto = k->proto;
		memcpy(ci->saddr, v4pfx, 12);
		memcpy(ci->daddr, v4pfx, 12);
		memcpy(ci->saddr + 12, &k->addr[ini], 4);
		memcpy(ci->daddr + 12, &k->addr[!ini], 4);
		ci->sport = k->port[ini];
		ci->dport = k->port[!ini];
	}
	ci->state = ci->proto == RW_PROTO_TCP ? rw_tcp_state_name(c) : rw_udp_state_name(c);
	ci->expires_ns = rw_conn_expires(&s->ctx, c);
	ci->rule = c->rule;
	ci->packets[0] = c->pkts[0];
	ci->packets[1] = c->pkts[1];
	if (c->flags & RW_CF_PROXY) {
		/* its pkts[1] is the server's sequence offset, not a count */
		ci->proxied = true;
		ci->packets[1] = 0;
	}
}

void rw_state_walk(struct rw_state *s, int (*cb)(const struct rw_conn_info *, void *), void *arg)
{
	const struct rw_ctable *ts[2] = {&s->t4, &s->t6};

	for (unsigned i = 0; i < 2; i++) {
		for (uint64_t slot = 0; slot < rw_ctable_nslots(ts[i]); slot++) {
			struct rw_conn_info ci;

			if (!ts[i]->tags[slot])
				continue;
			conn_info(s, ts[i], (uint32_t)slot, &ci);
			if (cb(&ci, arg))
				return;
		}
	}
}
