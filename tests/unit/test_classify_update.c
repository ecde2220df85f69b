/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Incremental edits against the specification "an edited classifier
 * answers exactly as a fresh build of the edited rule set": random
 * sequences of rule insertions and removals (at any position, so that
 * every later rule is renumbered), each followed by a comparison with a
 * fresh build and with a naive linear matcher; and table entries added
 * and removed in place against a naive longest-prefix scan.
 */
#include "t.h"
#include "classify/classify.h"
#include "classify/lpm.h"
#include "classify/tss.h"
#include "pkt/pkt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify_util.h"

/* ---- the model: the edited rule set, flattened, in rule order ---- */

struct model {
	struct rw_crule *t;
	size_t nt, cap;
	uint32_t nrules;
};

static void model_insert(struct model *m, uint32_t pos, const struct rw_crule *r, size_t n)
{
	size_t at = 0;

	if (!m->t || m->nt + n > m->cap) {
		m->cap = (m->nt + n) * 2 + 1;
		m->t = realloc(m->t, m->cap * sizeof(*m->t));
	}
	for (size_t i = 0; i < m->nt; i++) {
		if (m->t[i].rule < pos)
			at = i + 1;
		else
			m->t[i].rule++;
	}
	if (m->nt > at)
		memmove(m->t + at + n, m->t + at, (m->nt - at) * sizeof(*m->t));
	for (size_t i = 0; i < n; i++) {
		m->t[at + i] = r[i];
		m->t[at + i].rule = pos;
	}
	m->nt += n;
	m->nrules++;
}

static void model_remove(struct model *m, uint32_t pos)
{
	size_t o = 0;

	for (size_t i = 0; i < m->nt; i++) {
		if (m->t[i].rule == pos)
			continue;
		m->t[o] = m->t[i];
		m->t[o++].rule -= m->t[i].rule > pos;
	}
	m->nt = o;
	m->nrules--;
}

/* Compare c with a fresh build of m and with the naive matcher; returns
 * the mismatches. */
static unsigned compare(const struct rw_classifier *c, const struct model *m, const struct pools *p,
			const struct rw_table *tabs, struct rw_lpm *const *lpm, size_t ntabs,
			size_t nkeys)
{
	struct rw_ckey *k = calloc(nkeys, sizeof(*k));
	const struct rw_ckey **kp = calloc(nkeys, sizeof(*kp));
	int32_t *got = calloc(nkeys, sizeof(*got)), *fresh = calloc(nkeys, sizeof(*fresh));
	struct rw_classifier *f;
	unsigned bad = 0;
	char err[256];

	f = rw_classifier_build(m->t, m->nt, lpm, ntabs, err, sizeof(err));
	CHECK(f != NULL);
	for (size_t i = 0; i < nkeys; i++) {
		mk_key(p, m->t, m->nt, &k[i]);
		kp[i] = &k[i];
	}
	rw_classify_burst(c, kp, got, (unsigned)nkeys);
	if (f)
		rw_classify_burst(f, kp, fresh, (unsigned)nkeys);
	for (size_t i = 0; f && i < nkeys; i++) {
		int32_t want = naive_classify(m->t, m->nt, tabs, &k[i]);

		if ((got[i] != want || fresh[i] != want) && bad++ < 5)
			printf("#   key %zu (af %u): edited %d, fresh %d, naive %d\n", i, k[i].af,
			       got[i], fresh[i], want);
	}
	rw_classifier_free(f);
	free(k), free(kp), free(got), free(fresh);
	return bad;
}

/* One random sequence of edits from a random start; the mismatches. */
static unsigned edit_round(size_t nrules, size_t ntabs, unsigned nedits, const char *isa)
{
	struct rw_table tabs[4];
	struct rw_lpm *lpm[4];
	struct model m = { 0 };
	struct rw_classifier *c;
	struct pools p;
	unsigned bad = 0;
	char err[256];

	mk_pools(&p);
	for (size_t i = 0; i < ntabs; i++) {
		mk_table(&tabs[i], 1 + rn(12), &p);
		lpm[i] = rw_lpm_build(&tabs[i], err, sizeof(err));
	}
	for (uint32_t i = 0; i < nrules; i++) {
		struct rw_crule r[3];
		size_t n = rn(4); /* 0: a rule with no tuples (arp) still has an index */

		for (size_t j = 0; j < n; j++)
			mk_rule(&p, i, ntabs, &r[j]);
		model_insert(&m, i, r, n);
	}
	setenv("RW_CLASSIFY_ISA", isa, 1);
	c = rw_classifier_build(m.t, m.nt, lpm, ntabs, err, sizeof(err));
	CHECK(c != NULL);
	for (unsigned e = 0; c && e < nedits && !bad; e++) {
		struct rw_classifier *nc;

		if (m.nrules && rn(2)) {
			uint32_t pos = rn(m.nrules);

			nc = rw_classifier_remove(c, pos, err, sizeof(err));
			model_remove(&m, pos);
		} else {
			struct rw_crule r[3];
			size_t n = rn(4);
			uint32_t pos = rn(m.nrules + 1);

			for (size_t j = 0; j < n; j++)
				mk_rule(&p, 12345, ntabs, &r[j]);
			nc = rw_classifier_insert(c, pos, r, n, err, sizeof(err));
			model_insert(&m, pos, r, n);
		}
		CHECK(nc != NULL);
		rw_classifier_free(c);
		c = nc;
		if (c)
			bad += compare(c, &m, &p, tabs, lpm, ntabs, 300);
	}
	rw_classifier_free(c);
	for (size_t i = 0; i < ntabs; i++) {
		rw_lpm_free(lpm[i]);
		free(tabs[i].entries);
	}
	free(m.t);
	unsetenv("RW_CLASSIFY_ISA");
	return bad;
}

static const char *const isas[] = { "scalar", "avx2", "avx512" };

TEST(update_random_edits_vs_fresh_build)
{
	for (int round = 0; round < 24; round++)
		CHECK_EQ(edit_round(rn(200), rn(4), 60, isas[round % 3]), 0);
}

/* From nothing to something and back to nothing; and the edge positions. */
TEST(update_from_empty_to_empty)
{
	for (int round = 0; round < 6; round++)
		CHECK_EQ(edit_round(0, rn(2), 80, isas[round % 3]), 0);
}

/* The placement follows the knobs as the build does: one rule per bucket
 * (every insert spills into new tables), every field hashed, exact tuples. */
TEST(update_layout_knobs)
{
	static const char *const knobs[][4] = {
		{ "1", "1", "7", "1" }, { "1", "32", "7", "0" }, { "2", "4", "5", "1" },
	};

	for (size_t i = 0; i < RW_ARRAY_SIZE(knobs); i++) {
		setenv("RW_TSS_LIMIT", knobs[i][0], 1);
		setenv("RW_TSS_STEP", knobs[i][1], 1);
		setenv("RW_TSS_L4", knobs[i][2], 1);
		setenv("RW_TSS_EXACT", knobs[i][3], 1);
		for (int round = 0; round < 4; round++)
			CHECK_EQ(edit_round(rn(150), rn(3), 40, isas[round % 3]), 0);
	}
	unsetenv("RW_TSS_LIMIT"), unsetenv("RW_TSS_STEP");
	unsetenv("RW_TSS_L4"), unsetenv("RW_TSS_EXACT");
}

/* The edit must not change the classifier it started from: readers are
 * still using it. */
TEST(update_leaves_the_old_classifier_intact)
{
	struct rw_crule r[2];
	struct rw_ckey k = { .af = RW_AF_INET, .proto = RW_PROTO_TCP, .dport = 80 };
	struct rw_classifier *c, *nc, *nc2;
	char err[256];

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 2; i++) {
		r[i].rule = (uint32_t)i;
		r[i].af = RW_AF_INET;
		r[i].in_ports = 0xffff;
		r[i].src_table = r[i].dst_table = -1;
		memset(r[i].src_hi, 0xff, 16), memset(r[i].dst_hi, 0xff, 16);
		r[i].src_lo[10] = r[i].src_lo[11] = r[i].dst_lo[10] = r[i].dst_lo[11] = 0xff;
		r[i].sport_hi = r[i].dport_hi = 65535;
	}
	k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
	c = rw_classifier_build(r, 2, NULL, 0, err, sizeof(err));
	CHECK(c != NULL);
	if (!c)
		return;
	nc = rw_classifier_insert(c, 0, &r[1], 1, err, sizeof(err));
	nc2 = rw_classifier_remove(c, 0, err, sizeof(err));
	CHECK(nc && nc2);
	CHECK_EQ(rw_classify_one(c, &k), 0);
	if (nc)
		CHECK_EQ(rw_classify_one(nc, &k), 0);
	if (nc2)
		CHECK_EQ(rw_classify_one(nc2, &k), 0); /* old rule 1 is now rule 0 */
	rw_classifier_free(nc2);
	nc2 = nc ? rw_classifier_remove(nc, 0, err, sizeof(err)) : NULL;
	if (nc2)
		CHECK_EQ(rw_classify_one(nc2, &k), 0);
	rw_classifier_free(nc);
	rw_classifier_free(nc2);
	rw_classifier_free(c);
}

TEST(update_refuses_bad_input)
{
	struct rw_crule r;
	struct rw_classifier *c;
	char err[256] = "";

	memset(&r, 0, sizeof(r));
	r.af = RW_AF_INET;
	r.src_table = 3; /* no tables */
	r.dst_table = -1;
	c = rw_classifier_build(NULL, 0, NULL, 0, err, sizeof(err));
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(rw_classifier_insert(c, 0, &r, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "table") != NULL);
	r.src_table = -1;
	r.af = 0;
	CHECK(rw_classifier_insert(c, 0, &r, 1, err, sizeof(err)) == NULL);
	CHECK(rw_classifier_insert(c, TSS_RULE_MASK, NULL, 0, err, sizeof(err)) == NULL);
	rw_classifier_free(c);
}

/* ---- table entries edited in place ---- */

static bool same_prefix(const struct rw_table_entry *a, const struct rw_table_entry *b)
{
	unsigned base = a->af == RW_AF_INET ? 96 : 0;

	if (a->af != b->af || a->plen != b->plen)
		return false;
	for (unsigned bit = base; bit < base + a->plen; bit++)
		if ((a->addr[bit / 8] ^ b->addr[bit / 8]) & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static void table_remove(struct rw_table *t, const struct rw_table_entry *e)
{
	size_t o = 0;

	for (size_t i = 0; i < t->nentries; i++)
		if (!same_prefix(&t->entries[i], e))
			t->entries[o++] = t->entries[i];
	t->nentries = o;
}

static unsigned lpm_check(const struct rw_lpm *l, const struct rw_table *t, const struct pools *p)
{
	unsigned bad = 0;

	for (int i = 0; i < 400; i++) {
		uint8_t af = rn(2) ? RW_AF_INET : RW_AF_INET6, a[16];
		int want, got;
		bool wn, gn;

		memcpy(a, p->addr[af == RW_AF_INET6][rn(NPOOL)], 16);
		a[15] ^= (uint8_t)rn(4);
		if (rn(4) == 0)
			mk_addr(af, a);
		want = naive_lpm(t, af, a, &wn);
		got = rw_lpm_lookup(l, af, a, &gn);
		if ((got != want || (want >= 0 && gn != wn)) && bad++ < 5)
			printf("#   af %u: got /%d%s, want /%d%s\n", af, got, gn ? " neg" : "", want,
			       wn ? " neg" : "");
	}
	return bad;
}

TEST(lpm_random_edits_vs_naive)
{
	for (int round = 0; round < 20; round++) {
		struct rw_table t;
		struct rw_lpm *l;
		struct pools p;
		char err[256];
		unsigned bad = 0;

		mk_pools(&p);
		mk_table(&t, rn(30), &p);
		t.entries = realloc(t.entries, (t.nentries + 200) * sizeof(*t.entries));
		l = rw_lpm_build(&t, err, sizeof(err));
		CHECK(l != NULL);
		for (int e = 0; l && e < 120 && !bad; e++) {
			struct rw_table_entry x;

			if (t.nentries && rn(2)) {
				x = t.entries[rn((uint32_t)t.nentries)];
				x.neg = (uint8_t)rn(2); /* the flag does not name the prefix */
				CHECK_EQ(rw_lpm_remove(l, &t, &x), 0);
				table_remove(&t, &x);
				CHECK_EQ(rw_lpm_remove(l, &t, &x), -ENOENT);
			} else {
				struct rw_table one;

				mk_table(&one, 1, &p);
				x = one.entries[0];
				free(one.entries);
				CHECK_EQ(rw_lpm_add(l, &t, &x), 0);
				table_remove(&t, &x); /* a re-add replaces */
				t.entries[t.nentries++] = x;
			}
			bad += lpm_check(l, &t, &p);
		}
		CHECK_EQ(bad, 0);
		rw_lpm_free(l);
		free(t.entries);
	}
}

TEST(lpm_edit_refuses_bad_entries)
{
	struct rw_table t = { .name = "t" };
	struct rw_table_entry e = { .af = RW_AF_INET, .plen = 33 };
	struct rw_lpm *l;
	char err[256];

	l = rw_lpm_build(&t, err, sizeof(err));
	CHECK(l != NULL);
	if (!l)
		return;
	CHECK_EQ(rw_lpm_add(l, &t, &e), -EINVAL);
	e.af = 7, e.plen = 8;
	CHECK_EQ(rw_lpm_add(l, &t, &e), -EINVAL);
	e.af = RW_AF_INET6, e.plen = 129;
	CHECK_EQ(rw_lpm_remove(l, &t, &e), -EINVAL);
	e.plen = 64;
	CHECK_EQ(rw_lpm_remove(l, &t, &e), -ENOENT);
	rw_lpm_free(l);
}
