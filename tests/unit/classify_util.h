/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by test_classify.c and test_classify_update.c (each includes it
 * once, after t.h): a small deterministic random source, the naive
 * references (a linear first-match over rw_crule tuples, a longest-prefix
 * scan over table entries) and random rules, keys and tables drawn from
 * small pools of prefixes, ports and protocols so that rules overlap in
 * every field. Everything is static: each test binary gets its own copy,
 * and its own random sequence from the same seed.
 */
#ifndef RW_TEST_CLASSIFY_UTIL_H
#define RW_TEST_CLASSIFY_UTIL_H

#include "classify/classify.h"
#include "pkt/pkt.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static uint32_t rn(uint32_t n)
{
	return rnd() % n;
}

/* ---- naive references ---- */

static int naive_lpm(const struct rw_table *t, uint8_t af, const uint8_t a[16], bool *neg)
{
	int best = -1;

	*neg = false;
	for (size_t i = 0; i < t->nentries; i++) {
		const struct rw_table_entry *e = &t->entries[i];
		unsigned off = af == RW_AF_INET ? 96 : 0, bit;
		bool in = e->af == af;

		for (bit = 0; in && bit < e->plen; bit++) {
			unsigned b = off + bit;

			in = ((a[b / 8] ^ e->addr[b / 8]) & (0x80 >> (b % 8))) == 0;
		}
		/* Later duplicates of one prefix win, as in the structure. */
		if (in && (int)e->plen >= best) {
			best = e->plen;
			*neg = e->neg;
		}
	}
	return best;
}

static bool naive_in_table(const struct rw_table *t, uint8_t af, const uint8_t a[16])
{
	bool neg;

	return naive_lpm(t, af, a, &neg) >= 0 && !neg;
}

static int32_t naive_classify(const struct rw_crule *r, size_t n, const struct rw_table *tabs,
			      const struct rw_ckey *k)
{
	for (size_t i = 0; i < n; i++) {
		const struct rw_crule *c = &r[i];

		if (c->af != k->af || k->in_port >= 16 || !(c->in_ports & (1u << k->in_port)))
			continue;
		if ((k->proto & c->proto_mask) != (c->proto & c->proto_mask))
			continue;
		if ((k->tcp_flags & c->tcp_flags_mask) != (c->tcp_flags & c->tcp_flags_mask))
			continue;
		if (memcmp(k->src, c->src_lo, 16) < 0 || memcmp(k->src, c->src_hi, 16) > 0 ||
		    memcmp(k->dst, c->dst_lo, 16) < 0 || memcmp(k->dst, c->dst_hi, 16) > 0)
			continue;
		if (k->sport < c->sport_lo || k->sport > c->sport_hi || k->dport < c->dport_lo ||
		    k->dport > c->dport_hi)
			continue;
		if (c->src_table >= 0 &&
		    naive_in_table(&tabs[c->src_table], k->af, k->src) == c->src_table_neg)
			continue;
		if (c->dst_table >= 0 &&
		    naive_in_table(&tabs[c->dst_table], k->af, k->dst) == c->dst_table_neg)
			continue;
		return (int32_t)c->rule;
	}
	return -1;
}

/* ---- random data ---- */

#define NPOOL 12

struct pools {
	uint8_t addr[2][NPOOL][16]; /* per family: base addresses near each other */
};

static void mk_addr(uint8_t af, uint8_t out[16])
{
	memset(out, 0, 16);
	if (af == RW_AF_INET) {
		out[10] = out[11] = 0xff;
		out[12] = (uint8_t)(10 + rn(2));
		out[13] = (uint8_t)rn(3);
		out[14] = (uint8_t)rn(4);
		out[15] = (uint8_t)rn(256);
	} else {
		out[0] = 0x20, out[1] = 0x01, out[2] = 0x0d, out[3] = 0xb8;
		out[5] = (uint8_t)rn(3);
		out[7] = (uint8_t)rn(3);
		out[15] = (uint8_t)rn(256);
	}
}

/* An address range: a prefix of the pool address, or an arbitrary range
 * between two pool addresses, or everything of the family. */
static void mk_range(const struct pools *p, uint8_t af, uint8_t lo[16], uint8_t hi[16])
{
	const uint8_t *a = p->addr[af == RW_AF_INET6][rn(NPOOL)];
	unsigned base = af == RW_AF_INET ? 96 : 0, bits = 128 - base;
	unsigned kind = rn(10);

	if (kind < 6) {
		unsigned plen = kind == 0 ? 0 : rn(bits + 1);

		memcpy(lo, a, 16);
		memcpy(hi, a, 16);
		for (unsigned b = base + plen; b < 128; b++) {
			lo[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
			hi[b / 8] |= (uint8_t)(0x80 >> (b % 8));
		}
	} else {
		const uint8_t *b = p->addr[af == RW_AF_INET6][rn(NPOOL)];

		if (memcmp(a, b, 16) <= 0)
			memcpy(lo, a, 16), memcpy(hi, b, 16);
		else
			memcpy(lo, b, 16), memcpy(hi, a, 16);
	}
}

static void mk_ports(uint16_t *lo, uint16_t *hi)
{
	static const uint16_t edges[] = { 0, 20, 22, 53, 80, 443, 1023, 1024, 8080, 65535 };
	uint16_t a = edges[rn(RW_ARRAY_SIZE(edges))], b = edges[rn(RW_ARRAY_SIZE(edges))];

	switch (rn(4)) {
	case 0: *lo = 0, *hi = 65535; break;
	case 1: *lo = *hi = a; break;
	default: *lo = RW_MIN(a, b), *hi = RW_MAX(a, b);
	}
}

static void mk_rule(const struct pools *p, uint32_t idx, size_t ntabs, struct rw_crule *r)
{
	static const uint8_t masks[] = { 0, 0xff, 0xff, 0xf0, 0x0f };

	memset(r, 0, sizeof(*r));
	r->rule = idx;
	r->af = rn(3) ? RW_AF_INET : RW_AF_INET6;
	r->in_ports = rn(3) ? 0xffff : (uint16_t)(1 + rn(0xffff));
	r->proto_mask = masks[rn(RW_ARRAY_SIZE(masks))];
	r->proto = (uint8_t)(rn(2) ? RW_PROTO_TCP : RW_PROTO_UDP);
	if (rn(4) == 0) {
		r->tcp_flags_mask = RW_TH_SYN | RW_TH_ACK;
		r->tcp_flags = rn(2) ? RW_TH_SYN : 0;
	}
	r->src_table = r->dst_table = -1;
	if (ntabs && rn(5) == 0) {
		r->src_table = (int16_t)rn((uint32_t)ntabs);
		r->src_table_neg = rn(2);
	}
	if (ntabs && rn(6) == 0) {
		r->dst_table = (int16_t)rn((uint32_t)ntabs);
		r->dst_table_neg = rn(2);
	}
	mk_range(p, r->af, r->src_lo, r->src_hi);
	mk_range(p, r->af, r->dst_lo, r->dst_hi);
	mk_ports(&r->sport_lo, &r->sport_hi);
	mk_ports(&r->dport_lo, &r->dport_hi);
	if (rn(50) == 0) /* an empty range: never matches */
		r->sport_lo = 100, r->sport_hi = 99;
}

static void pick_in(const uint8_t lo[16], const uint8_t hi[16], uint8_t out[16])
{
	/* lo, hi, or lo with random low bits clipped to hi. */
	switch (rn(3)) {
	case 0: memcpy(out, lo, 16); break;
	case 1: memcpy(out, hi, 16); break;
	default:
		memcpy(out, lo, 16);
		out[15] = (uint8_t)rnd();
		if (memcmp(out, hi, 16) > 0)
			memcpy(out, hi, 16);
		if (memcmp(out, lo, 16) < 0)
			memcpy(out, lo, 16);
	}
}

/* Keys near rules (so that most match something, often several) and some
 * anywhere (the no-match path). */
static void mk_key(const struct pools *p, const struct rw_crule *r, size_t n, struct rw_ckey *k)
{
	memset(k, 0, sizeof(*k));
	k->proto = (uint8_t)(rn(2) ? RW_PROTO_TCP : RW_PROTO_UDP);
	k->tcp_flags = (uint8_t)rnd();
	k->in_port = (uint8_t)(rn(20) == 0 ? 16 + rn(3) : rn(16));
	k->sport = (uint16_t)rnd();
	k->dport = (uint16_t)rnd();
	if (n && rn(5)) {
		const struct rw_crule *c = &r[rn((uint32_t)n)];

		k->af = c->af;
		pick_in(c->src_lo, c->src_hi, k->src);
		pick_in(c->dst_lo, c->dst_hi, k->dst);
		if (rn(4) && c->sport_lo <= c->sport_hi)
			k->sport = (uint16_t)(c->sport_lo + rn((uint32_t)c->sport_hi - c->sport_lo + 1));
		if (rn(4) && c->dport_lo <= c->dport_hi)
			k->dport = (uint16_t)(c->dport_lo + rn((uint32_t)c->dport_hi - c->dport_lo + 1));
		return;
	}
	k->af = rn(10) == 0 ? RW_AF_NONE : rn(2) ? RW_AF_INET : RW_AF_INET6;
	(void)p;
	mk_addr(k->af == RW_AF_INET6 ? RW_AF_INET6 : RW_AF_INET, k->src);
	mk_addr(k->af == RW_AF_INET6 ? RW_AF_INET6 : RW_AF_INET, k->dst);
}

static void mk_table(struct rw_table *t, size_t n, const struct pools *p)
{
	memset(t, 0, sizeof(*t));
	strcpy(t->name, "t");
	t->entries = calloc(n ? n : 1, sizeof(*t->entries));
	t->nentries = n;
	for (size_t i = 0; i < n; i++) {
		struct rw_table_entry *e = &t->entries[i];

		e->af = rn(3) ? RW_AF_INET : RW_AF_INET6;
		memcpy(e->addr, p->addr[e->af == RW_AF_INET6][rn(NPOOL)], 16);
		e->plen = (uint8_t)rn(e->af == RW_AF_INET ? 33 : 129);
		e->neg = rn(4) == 0;
	}
}

static void mk_pools(struct pools *p)
{
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < NPOOL; i++)
			mk_addr(f ? RW_AF_INET6 : RW_AF_INET, p->addr[f][i]);
}

#endif
