/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Classifier lookup (the fast path): read-only over the structure build.c
 * made (tss.h). A burst of IPv4 keys walks the tables together, one stage
 * per loop as OVS's dpcls does: hash every key under the table's masks (SIMD
 * where the CPU has it), prefetch the bucket heads, prefetch the buckets,
 * then scan; so the cache misses of 32 keys overlap instead of queueing.
 */
#include "tss.h"
#include "lpm.h"

#include <string.h>

static inline uint32_t load_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

static inline uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static inline uint32_t port_bit(uint8_t in_port)
{
	return in_port < RW_MAX_PORTS ? 1u << in_port : 0;
}

/* The checks that live outside the record (rare): TCP flags and tables. */
static bool match_extra(const struct rw_classifier *c, const struct tss_extra *x,
			const struct rw_ckey *k)
{
	if ((k->tcp_flags & x->tcp_flags_mask) != x->tcp_flags)
		return false;
	if (x->src_table >= 0 &&
	    rw_lpm_contains(c->lpm[x->src_table], k->af, k->src) == x->src_neg)
		return false;
	if (x->dst_table >= 0 &&
	    rw_lpm_contains(c->lpm[x->dst_table], k->af, k->dst) == x->dst_neg)
		return false;
	return true;
}

void tss_hash4_burst_scalar(const struct tss_table *t, const uint32_t *s, const uint32_t *d,
			    const uint32_t *p, const uint32_t *pr, uint32_t *slot, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		slot[i] = tss_hash4(s[i] & t->smask[0], d[i] & t->dmask[0], p[i] & t->pmask,
				    pr[i] & t->prmask) >> t->shift;
}

#ifdef TSS_STATS
unsigned long tss_stat_probes, tss_stat_nonempty, tss_stat_recs;
#endif

/* One IPv4 burst, n <= RW_BURST keys, kept compact: the first na entries
 * are the keys some table left can still improve, so that each stage loops
 * over live keys only and SIMD hashes them contiguously. */
struct burst4 {
	uint32_t s[RW_BURST], d[RW_BURST], p[RW_BURST], pr[RW_BURST];
	uint32_t inbit[RW_BURST], best[RW_BURST], slot[RW_BURST];
	uint32_t lo[RW_BURST], hi[RW_BURST];
	uint8_t key[RW_BURST]; /* position in the caller's keys[] and out[] */
};

static inline bool rec4_match(const struct tss_rec4 *r, uint32_t s, uint32_t d, uint32_t p,
			      uint32_t pr, uint32_t inbit)
{
	uint16_t sp = (uint16_t)(p >> 16), dp = (uint16_t)p;

	/* Non-short-circuit: cheaper than a branch per field. */
	return (s >= r->src_lo) & (s <= r->src_hi) & (d >= r->dst_lo) & (d <= r->dst_hi) &
	       (sp >= r->sp_lo) & (sp <= r->sp_hi) & (dp >= r->dp_lo) & (dp <= r->dp_hi) &
	       ((pr & r->proto_mask) == r->proto) & ((r->in_ports & inbit) != 0);
}

static void scan4(const struct rw_classifier *c, const struct rw_ckey *const *keys,
		  struct burst4 *b, unsigned i)
{
	const struct tss_rec4 *recs = c->v4.recs;

	for (uint32_t j = b->lo[i]; j < b->hi[i]; j++) {
		const struct tss_rec4 *r = &recs[j];
		uint32_t rule = r->rule & TSS_RULE_MASK;

		if (rule >= b->best[i])
			return; /* a bucket is in priority order */
		if (!rec4_match(r, b->s[i], b->d[i], b->p[i], b->pr[i], b->inbit[i]))
			continue;
		if ((r->rule & TSS_EXTRA) && !match_extra(c, &c->v4.extra[j], keys[b->key[i]]))
			continue;
		b->best[i] = rule;
		return;
	}
}

static inline void emit4(const struct burst4 *b, unsigned i, int32_t *out)
{
	out[b->key[i]] = b->best[i] == TSS_NONE ? -1 : (int32_t)b->best[i];
}

/* Drop the keys that no table from min_rule on can improve; returns how
 * many stay. */
static unsigned compact4(struct burst4 *b, unsigned na, uint32_t min_rule, int32_t *out)
{
	for (unsigned i = 0; i < na;) {
		if (b->best[i] > min_rule) {
			i++;
			continue;
		}
		emit4(b, i, out);
		na--;
		b->s[i] = b->s[na], b->d[i] = b->d[na], b->p[i] = b->p[na];
		b->pr[i] = b->pr[na], b->inbit[i] = b->inbit[na];
		b->best[i] = b->best[na], b->key[i] = b->key[na];
	}
	return na;
}

static void hash4(const struct rw_classifier *c, const struct tss_table *t, struct burst4 *b,
		  unsigned na)
{
	switch (c->isa) {
	case TSS_ISA_AVX512:
		tss_hash4_burst_avx512(t, b->s, b->d, b->p, b->pr, b->slot, na);
		break;
	case TSS_ISA_AVX2:
		tss_hash4_burst_avx2(t, b->s, b->d, b->p, b->pr, b->slot, na);
		break;
	default:
		tss_hash4_burst_scalar(t, b->s, b->d, b->p, b->pr, b->slot, na);
	}
}

static void lookup4(const struct rw_classifier *c, const struct rw_ckey *const *keys,
		    const uint8_t *idx, unsigned n, int32_t *out)
{
	const struct tss_space *sp = &c->v4;
	const struct tss_rec4 *recs = sp->recs;
	struct burst4 b;
	unsigned na = n;

	for (unsigned i = 0; i < n; i++) {
		const struct rw_ckey *k = keys[idx[i]];

		b.s[i] = load_be32(k->src + 12);
		b.d[i] = load_be32(k->dst + 12);
		b.p[i] = (uint32_t)k->sport << 16 | k->dport;
		b.pr[i] = k->proto;
		b.inbit[i] = port_bit(k->in_port);
		b.best[i] = TSS_NONE;
		b.key[i] = idx[i];
	}
	for (uint32_t ti = 0; ti < sp->ntables && na; ti++) {
		const struct tss_table *t = &sp->tables[ti];

		na = compact4(&b, na, t->min_rule, out);
		if (!na)
			break; /* later tables start at even worse rules */
		hash4(c, t, &b, na);
		for (unsigned i = 0; i < na; i++)
			rw_prefetch(&t->start[b.slot[i]]);
		for (unsigned i = 0; i < na; i++) {
			b.lo[i] = t->start[b.slot[i]];
			b.hi[i] = t->start[b.slot[i] + 1];
			if (b.lo[i] < b.hi[i])
				rw_prefetch(&recs[b.lo[i]]);
		}
		for (unsigned i = 0; i < na; i++)
			scan4(c, keys, &b, i);
#ifdef TSS_STATS
		tss_stat_probes += na;
		for (unsigned i = 0; i < na; i++)
			tss_stat_nonempty += b.lo[i] < b.hi[i], tss_stat_recs += b.hi[i] - b.lo[i];
#endif
	}
	for (unsigned i = 0; i < na; i++)
		emit4(&b, i, out);
}

/* IPv6, one key at a time: the rule sets we measure are IPv4, and a 128-bit
 * key does not fit the 32-bit SIMD lanes as neatly. */
static inline bool u128_le(const uint64_t a[2], const uint64_t b[2])
{
	return a[0] < b[0] || (a[0] == b[0] && a[1] <= b[1]);
}

static bool rec6_match(const struct tss_rec6 *r, const uint64_t s[2], const uint64_t d[2],
		       uint16_t sp, uint16_t dp, uint8_t pr, uint32_t inbit)
{
	return u128_le(r->src_lo, s) && u128_le(s, r->src_hi) && u128_le(r->dst_lo, d) &&
	       u128_le(d, r->dst_hi) && sp >= r->sp_lo && sp <= r->sp_hi && dp >= r->dp_lo &&
	       dp <= r->dp_hi && (pr & r->proto_mask) == r->proto && (r->in_ports & inbit);
}

static int32_t lookup6(const struct rw_classifier *c, const struct rw_ckey *k)
{
	const struct tss_space *sp = &c->v6;
	const struct tss_rec6 *recs = sp->recs;
	uint32_t sw[4], dw[4], ms[4], md[4], best = TSS_NONE;
	uint32_t p = (uint32_t)k->sport << 16 | k->dport, inbit = port_bit(k->in_port);
	uint64_t s[2] = { load_be64(k->src), load_be64(k->src + 8) };
	uint64_t d[2] = { load_be64(k->dst), load_be64(k->dst + 8) };

	for (int i = 0; i < 4; i++) {
		sw[i] = load_be32(k->src + 4 * i);
		dw[i] = load_be32(k->dst + 4 * i);
	}
	for (uint32_t ti = 0; ti < sp->ntables && best > sp->tables[ti].min_rule; ti++) {
		const struct tss_table *t = &sp->tables[ti];
		uint32_t slot, lo, hi;

		for (int i = 0; i < 4; i++) {
			ms[i] = sw[i] & t->smask[i];
			md[i] = dw[i] & t->dmask[i];
		}
		slot = tss_hash6(ms, md, p & t->pmask, k->proto & t->prmask) >> t->shift;
		lo = t->start[slot];
		hi = t->start[slot + 1];
		for (uint32_t j = lo; j < hi; j++) {
			uint32_t rule = recs[j].rule & TSS_RULE_MASK;

			if (rule >= best)
				break;
			if (!rec6_match(&recs[j], s, d, k->sport, k->dport, k->proto, inbit))
				continue;
			if ((recs[j].rule & TSS_EXTRA) && !match_extra(c, &sp->extra[j], k))
				continue;
			best = rule;
			break;
		}
	}
	return best == TSS_NONE ? -1 : (int32_t)best;
}

void rw_classify_burst(const struct rw_classifier *c, const struct rw_ckey *const *keys,
		       int32_t *out, unsigned n)
{
	while (n) {
		unsigned m = RW_MIN(n, RW_BURST), n4 = 0;
		uint8_t idx4[RW_BURST];

		for (unsigned i = 0; i < m; i++) {
			if (keys[i]->af == RW_AF_INET)
				idx4[n4++] = (uint8_t)i;
			else if (keys[i]->af == RW_AF_INET6)
				out[i] = lookup6(c, keys[i]);
			else
				out[i] = -1;
		}
		if (n4)
			lookup4(c, keys, idx4, n4, out);
		keys += m, out += m, n -= m;
	}
}

int32_t rw_classify_one(const struct rw_classifier *c, const struct rw_ckey *key)
{
	int32_t r;

	rw_classify_burst(c, &key, &r, 1);
	return r;
}
