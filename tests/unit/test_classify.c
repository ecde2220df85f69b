/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The classifier and the tables against deliberately naive references:
 * a linear first-match over the rw_crule tuples, and a longest-prefix scan
 * over the table entries. Random rule sets are drawn from small pools of
 * prefixes, ports and protocols so that rules overlap in every field.
 */
#include "t.h"
#include "classify/classify.h"
#include "classify/classbench.h"
#include "classify/lpm.h"
#include "classify/tss.h"
#include "pkt/pkt.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* One random differential round: returns the number of mismatches. */
static unsigned diff_round(size_t nrules, size_t ntabs, size_t nkeys, const char *isa)
{
	struct rw_table tabs[4];
	struct rw_lpm *lpm[4];
	struct rw_crule *r = calloc(nrules ? nrules : 1, sizeof(*r));
	struct rw_ckey *k = calloc(nkeys, sizeof(*k));
	const struct rw_ckey **kp = calloc(nkeys, sizeof(*kp));
	int32_t *got = calloc(nkeys, sizeof(*got));
	struct rw_classifier *c;
	struct pools p;
	unsigned bad = 0;
	char err[256];

	mk_pools(&p);
	for (size_t i = 0; i < ntabs; i++) {
		mk_table(&tabs[i], 1 + rn(12), &p);
		lpm[i] = rw_lpm_build(&tabs[i], err, sizeof(err));
		CHECK(lpm[i] != NULL);
	}
	for (size_t i = 0; i < nrules; i++)
		mk_rule(&p, (uint32_t)i, ntabs, &r[i]);
	setenv("RW_CLASSIFY_ISA", isa, 1);
	c = rw_classifier_build(r, nrules, lpm, ntabs, err, sizeof(err));
	CHECK(c != NULL);
	for (size_t i = 0; i < nkeys; i++) {
		mk_key(&p, r, nrules, &k[i]);
		kp[i] = &k[i];
	}
	if (c) {
		/* Bursts of every size up to the worker's, and single keys. */
		for (size_t i = 0; i < nkeys;) {
			size_t want = 1 + rn(RW_BURST + 8); /* RW_MIN evaluates twice */
			unsigned m = (unsigned)RW_MIN(nkeys - i, want);

			rw_classify_burst(c, kp + i, got + i, m);
			i += m;
		}
		for (size_t i = 0; i < nkeys; i++) {
			int32_t want = naive_classify(r, nrules, tabs, &k[i]);

			if (got[i] != want || rw_classify_one(c, &k[i]) != want) {
				if (bad++ < 5)
					printf("#   key %zu (af %u): got %d, want %d\n", i, k[i].af,
					       got[i], want);
			}
		}
	}
	rw_classifier_free(c);
	for (size_t i = 0; i < ntabs; i++) {
		rw_lpm_free(lpm[i]);
		free(tabs[i].entries);
	}
	free(r), free(k), free(kp), free(got);
	unsetenv("RW_CLASSIFY_ISA");
	return bad;
}

static const char *const isas[] = { "scalar", "avx2", "avx512" };

TEST(classify_random_vs_naive)
{
	for (int round = 0; round < 30; round++)
		CHECK_EQ(diff_round(1 + rn(300), 0, 3000, isas[round % 3]), 0);
}

TEST(classify_random_with_tables_and_negation)
{
	for (int round = 0; round < 30; round++)
		CHECK_EQ(diff_round(1 + rn(200), 1 + rn(4), 2000, isas[round % 3]), 0);
}

/* The build's knobs change the table layout, never the answers: the
 * extremes (one rule per bucket, every field hashed, exact-tuple tables)
 * exercise the paths the defaults rarely take. */
TEST(classify_layout_knobs)
{
	static const char *const knobs[][4] = {
		{ "1", "1", "7", "1" }, { "1", "32", "7", "0" }, { "4", "8", "3", "1" },
		{ "1000", "12", "0", "0" }, { "2", "4", "5", "1" },
	};

	for (size_t i = 0; i < RW_ARRAY_SIZE(knobs); i++) {
		setenv("RW_TSS_LIMIT", knobs[i][0], 1);
		setenv("RW_TSS_STEP", knobs[i][1], 1);
		setenv("RW_TSS_L4", knobs[i][2], 1);
		setenv("RW_TSS_EXACT", knobs[i][3], 1);
		for (int round = 0; round < 6; round++)
			CHECK_EQ(diff_round(1 + rn(400), rn(3), 2000, isas[round % 3]), 0);
	}
	unsetenv("RW_TSS_LIMIT"), unsetenv("RW_TSS_STEP");
	unsetenv("RW_TSS_L4"), unsetenv("RW_TSS_EXACT");
}

TEST(classify_empty_and_no_match)
{
	struct rw_classifier *c;
	struct rw_ckey k = { .af = RW_AF_INET, .proto = 6 };
	char err[128];

	c = rw_classifier_build(NULL, 0, NULL, 0, err, sizeof(err));
	CHECK(c != NULL);
	CHECK_EQ(rw_classify_one(c, &k), -1);
	k.af = RW_AF_INET6;
	CHECK_EQ(rw_classify_one(c, &k), -1);
	k.af = RW_AF_NONE;
	CHECK_EQ(rw_classify_one(c, &k), -1);
	CHECK(rw_classifier_memory(c) > 0);
	rw_classifier_free(c);
}

TEST(classify_bad_table_reference)
{
	struct rw_crule r = { .af = RW_AF_INET, .in_ports = 0xffff, .src_table = 3,
			      .dst_table = -1 };
	char err[128] = "";

	CHECK(rw_classifier_build(&r, 1, NULL, 0, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "table 3") != NULL);
}

/* First match means priority, not specificity: a broad early rule beats a
 * narrow later one. */
TEST(classify_first_match_not_longest)
{
	struct rw_crule r[2];
	struct rw_ckey k = { .af = RW_AF_INET, .proto = 6, .sport = 1, .dport = 80 };
	struct rw_classifier *c;
	char err[128];

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 2; i++) {
		r[i].rule = (uint32_t)i;
		r[i].af = RW_AF_INET;
		r[i].in_ports = 0xffff;
		r[i].src_table = r[i].dst_table = -1;
		r[i].src_lo[10] = r[i].src_lo[11] = r[i].src_hi[10] = r[i].src_hi[11] = 0xff;
		memset(r[i].src_hi + 12, 0xff, 4);
		memcpy(r[i].dst_lo, r[i].src_lo, 16);
		memcpy(r[i].dst_hi, r[i].src_hi, 16);
		r[i].sport_hi = r[i].dport_hi = 65535;
	}
	r[1].dport_lo = r[1].dport_hi = 80; /* narrower, later */
	memcpy(k.src, r[0].src_lo, 16);
	memcpy(k.dst, r[0].src_lo, 16);
	c = rw_classifier_build(r, 2, NULL, 0, err, sizeof(err));
	CHECK(c != NULL);
	CHECK_EQ(rw_classify_one(c, &k), 0);
	rw_classifier_free(c);
	c = rw_classifier_build(r + 1, 1, NULL, 0, err, sizeof(err));
	CHECK_EQ(rw_classify_one(c, &k), 1);
	rw_classifier_free(c);
}

/* ---- tables ---- */

static unsigned lpm_round(size_t n, size_t nkeys)
{
	struct rw_table t;
	struct rw_lpm *l;
	struct pools p;
	unsigned bad = 0;
	char err[128];

	mk_pools(&p);
	mk_table(&t, n, &p);
	l = rw_lpm_build(&t, err, sizeof(err));
	CHECK(l != NULL);
	for (size_t i = 0; l && i < nkeys; i++) {
		uint8_t af = rn(2) ? RW_AF_INET : RW_AF_INET6, a[16];
		bool n1, n2;
		int want, got;

		if (n && rn(3)) { /* near an entry: shares a prefix of some length */
			const struct rw_table_entry *e = &t.entries[rn((uint32_t)n)];

			af = e->af;
			memcpy(a, e->addr, 16);
			a[15 - rn(af == RW_AF_INET ? 4 : 16)] ^= (uint8_t)(1u << rn(8));
		} else {
			mk_addr(af, a);
		}
		want = naive_lpm(&t, af, a, &n1);
		got = rw_lpm_lookup(l, af, a, &n2);
		if (want != got || (want >= 0 && n1 != n2) ||
		    rw_lpm_contains(l, af, a) != naive_in_table(&t, af, a)) {
			if (bad++ < 5)
				printf("#   lpm: af %u got /%d neg %d, want /%d neg %d\n", af, got, n2,
				       want, n1);
		}
	}
	rw_lpm_free(l);
	free(t.entries);
	return bad;
}

TEST(lpm_random_vs_naive)
{
	for (int round = 0; round < 40; round++)
		CHECK_EQ(lpm_round(rn(200), 2000), 0);
}

TEST(lpm_default_route_and_host)
{
	struct rw_table_entry e[3] = {
		{ .af = RW_AF_INET, .plen = 0 },
		{ .af = RW_AF_INET, .plen = 32, .neg = 1 },
		{ .af = RW_AF_INET6, .plen = 128 },
	};
	struct rw_table t = { .name = "x", .entries = e, .nentries = 3 };
	uint8_t a[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };
	struct rw_lpm *l;
	char err[128];
	bool neg;

	memcpy(e[1].addr, a, 16);
	e[2].addr[0] = 0x20;
	l = rw_lpm_build(&t, err, sizeof(err));
	CHECK(l != NULL);
	CHECK_EQ(rw_lpm_lookup(l, RW_AF_INET, a, &neg), 32);
	CHECK(neg && !rw_lpm_contains(l, RW_AF_INET, a));
	a[15] = 2;
	CHECK_EQ(rw_lpm_lookup(l, RW_AF_INET, a, &neg), 0);
	CHECK(rw_lpm_contains(l, RW_AF_INET, a));
	CHECK(rw_lpm_contains(l, RW_AF_INET6, e[2].addr));
	a[0] = 0x20;
	CHECK(!rw_lpm_contains(l, RW_AF_INET6, a));
	CHECK(!rw_lpm_contains(l, RW_AF_NONE, a));
	rw_lpm_free(l);

	e[0].plen = 33; /* bad length: an error, not a crash */
	CHECK(rw_lpm_build(&t, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "prefix length") != NULL);
}

/* A million IPv4 prefixes (routing-table shaped: mostly /24, some shorter,
 * a few longer) and twenty thousand IPv6 ones (/32 to /64): built, then sampled against
 * the naive scan. */
TEST(lpm_million_prefixes)
{
	const size_t n4 = 1000000, n6 = 20000, n = n4 + n6;
	struct rw_table t = { .name = "big" };
	struct rw_lpm *l;
	unsigned bad = 0;
	char err[128];

	t.entries = calloc(n, sizeof(*t.entries));
	t.nentries = n;
	for (size_t i = 0; i < n; i++) {
		struct rw_table_entry *e = &t.entries[i];
		uint32_t x = rnd() ^ rnd() << 16;

		if (i < n4) {
			static const uint8_t lens[] = { 24, 24, 24, 24, 24, 22, 20, 19, 16, 24,
							24, 24, 24, 24, 24, 24, 23, 21, 18, 24,
							24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
							24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
							24, 24, 24, 24, 24, 24, 24, 28, 32, 32 };

			e->af = RW_AF_INET;
			e->plen = lens[rn(RW_ARRAY_SIZE(lens))];
			e->addr[10] = e->addr[11] = 0xff;
			memcpy(e->addr + 12, &x, 4);
		} else {
			e->af = RW_AF_INET6;
			e->plen = (uint8_t)(32 + rn(33));
			e->addr[0] = 0x20, e->addr[1] = 0x01, e->addr[2] = (uint8_t)rn(4);
			memcpy(e->addr + 3, &x, 4);
			e->addr[7] = (uint8_t)rnd();
		}
		e->neg = rn(50) == 0;
	}
	l = rw_lpm_build(&t, err, sizeof(err));
	CHECK(l != NULL);
	for (int i = 0; l && i < 50; i++) {
		const struct rw_table_entry *e = &t.entries[rn((uint32_t)n)];
		uint8_t a[16];
		bool n1, n2;

		memcpy(a, e->addr, 16);
		a[15] ^= (uint8_t)rn(4);
		if (naive_lpm(&t, e->af, a, &n1) != rw_lpm_lookup(l, e->af, a, &n2) || n1 != n2)
			bad++;
	}
	CHECK_EQ(bad, 0);
	printf("#   1.02M prefixes: %zu MB allocated\n", rw_lpm_memory(l) >> 20);
	rw_lpm_free(l);
	free(t.entries);
}

/* ---- ClassBench reader ---- */

static char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/rw-test-cb-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

TEST(classbench_rules_and_trace)
{
	const char *rules = "@10.0.0.0/8\t192.168.1.1/32\t0 : 65535\t80 : 80\t0x06/0xFF\t0x0000/0x0000\n"
			    "@0.0.0.0/0\t0.0.0.0/0\t0 : 65535\t0 : 65535\t0x00/0x00\t0x0000/0x0000\n";
	const char *trace = "167772161\t3232235777\t1234\t80\t6\t0\t0\n"
			    "167772161\t3232235777\t1234\t81\t6\t0\t1\n";
	struct rw_crule *r = NULL;
	struct rw_ckey *k = NULL;
	size_t nr = 0, nk = 0;
	char err[256], *p;
	struct rw_classifier *c;

	p = write_tmp(rules);
	CHECK(p && rw_cb_read_rules(p, &r, &nr, err, sizeof(err)) == 0);
	if (p)
		unlink(p);
	CHECK_EQ(nr, 2);
	if (nr != 2)
		return;
	CHECK_EQ(r[0].src_lo[12], 10);
	CHECK_EQ(r[0].src_hi[13], 255);
	CHECK_EQ(r[0].proto_mask, 0xff);
	CHECK_EQ(r[1].proto_mask, 0);
	p = write_tmp(trace);
	CHECK(p && rw_cb_read_trace(p, &k, &nk, err, sizeof(err)) == 0);
	if (p)
		unlink(p);
	CHECK_EQ(nk, 2);
	if (nk != 2) {
		free(r);
		return;
	}
	c = rw_classifier_build(r, nr, NULL, 0, err, sizeof(err));
	CHECK_EQ(rw_classify_one(c, &k[0]), 0);
	CHECK_EQ(rw_classify_one(c, &k[1]), 1);
	rw_classifier_free(c);
	free(r);
	free(k);
}

TEST(classbench_bad_input)
{
	struct rw_crule *r = NULL;
	struct rw_ckey *k = NULL;
	size_t n = 0;
	char err[256], *p;

	p = write_tmp("@10.0.0.0/8\t1.1.1.1/32\t0 : 65535\t80 : 80\t0x06/0xFF\t0/0\n"
		      "@10.0.0.0/33\t1.1.1.1/32\t0 : 65535\t80 : 80\t0x06/0xFF\t0/0\n");
	CHECK(p && rw_cb_read_rules(p, &r, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, ":2:") != NULL);
	unlink(p);
	p = write_tmp("1 2 3 99999 6\n");
	CHECK(p && rw_cb_read_trace(p, &k, &n, err, sizeof(err)) == -1);
	unlink(p);
	CHECK(rw_cb_read_rules("/nonexistent/x", &r, &n, err, sizeof(err)) == -1);
	CHECK(rw_cb_read_trace("/nonexistent/x.xz", &k, &n, err, sizeof(err)) == -1);
}
