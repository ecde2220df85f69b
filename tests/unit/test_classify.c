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

#include "classify_util.h"

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
