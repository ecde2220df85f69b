/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Classifier build: rules -> merged tuple tables (tss.h, docs/classifier.md).
 *
 * Each rule gets a tuple: for every field the length of the common prefix of
 * its range's ends (a /24 has 24; the port range 1024-2047 has 6; "any" 0).
 * Rules are placed in priority order. A rule joins the first existing table
 * whose tuple is no longer than its own in any field (so the table's masks
 * keep the rule's range inside one bucket) and whose bucket for it holds
 * fewer than `limit` rules; otherwise it opens a table with a coarsened copy
 * of its own tuple, so that later rules of similar shape can share it. This
 * is TupleMerge's idea (Daly, Liu, Torng), done offline.
 */
#include "build.h"
#include "lpm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Masked key of a rule under a table, as the lookup hashes it. */
struct bkey {
	u128 s, d;
	uint32_t p, pr;
};

struct kslot {
	struct bkey k;
	uint32_t count;
	uint32_t used;
};

struct btable {
	uint8_t len[F_N];
	u128 sm, dm;
	uint32_t pm, prm;
	uint32_t min_rule;
	uint32_t *mem; /* indexes into the nrule array, priority order */
	uint32_t nmem, capmem;
	struct kslot *keys; /* open addressing: masked key -> rules with it */
	uint32_t nkeys, capkeys;
};

struct builder {
	unsigned width; /* 32 or 128 */
	struct nrule *r;
	size_t n;
	struct btable *t;
	uint32_t nt, capt;
	struct tss_knobs k;
};

static u128 be128(const uint8_t b[16])
{
	u128 v = 0;

	for (int i = 0; i < 16; i++)
		v = (v << 8) | b[i];
	return v;
}

static unsigned clz128(u128 x)
{
	uint64_t hi = (uint64_t)(x >> 64), lo = (uint64_t)x;

	if (hi)
		return (unsigned)__builtin_clzll(hi);
	if (lo)
		return 64 + (unsigned)__builtin_clzll(lo);
	return 128;
}

/* Length of the common prefix of lo and hi in a width-bit field. */
static uint8_t common_len(u128 lo, u128 hi, unsigned width)
{
	unsigned l = clz128(lo ^ hi);

	return (uint8_t)(l - (128 - width) > width ? width : l - (128 - width));
}

static u128 mask_of(unsigned len, unsigned width)
{
	u128 all = width == 128 ? ~(u128)0 : (((u128)1 << width) - 1);

	if (len == 0)
		return 0;
	return all & ~((((u128)1) << (width - len)) - 1);
}

static unsigned lead_ones8(uint8_t m)
{
	return (unsigned)__builtin_clz((unsigned)(uint8_t)~m << 24 | 0x800000u);
}

bool tss_normalise(const struct rw_crule *c, unsigned width, struct nrule *o)
{
	u128 slo = be128(c->src_lo), shi = be128(c->src_hi);
	u128 dlo = be128(c->dst_lo), dhi = be128(c->dst_hi);

	if (width == 32) {
		/* IPv4 lives at ::ffff:0:0/96; clip the ranges to it. */
		const u128 base = (u128)0xffff << 32, top = base | 0xffffffffu;

		slo = slo < base ? base : slo;
		dlo = dlo < base ? base : dlo;
		shi = shi > top ? top : shi;
		dhi = dhi > top ? top : dhi;
		if (slo > shi || dlo > dhi)
			return false;
		slo -= base, shi -= base, dlo -= base, dhi -= base;
	}
	if (slo > shi || dlo > dhi || c->sport_lo > c->sport_hi || c->dport_lo > c->dport_hi)
		return false;
	memset(o, 0, sizeof(*o));
	o->slo = slo, o->shi = shi, o->dlo = dlo, o->dhi = dhi;
	o->splo = c->sport_lo, o->sphi = c->sport_hi;
	o->dplo = c->dport_lo, o->dphi = c->dport_hi;
	o->pmask = c->proto_mask;
	o->proto = c->proto & c->proto_mask;
	o->in_ports = c->in_ports;
	o->rule = c->rule;
	o->len[F_SRC] = common_len(slo, shi, width);
	o->len[F_DST] = common_len(dlo, dhi, width);
	o->len[F_SP] = common_len(c->sport_lo, c->sport_hi, 16);
	o->len[F_DP] = common_len(c->dport_lo, c->dport_hi, 16);
	o->len[F_PR] = (uint8_t)lead_ones8(c->proto_mask);
	o->ex = (struct tss_extra){ c->tcp_flags & c->tcp_flags_mask, c->tcp_flags_mask,
				    c->src_table_neg, c->dst_table_neg, c->src_table, c->dst_table };
	if (c->src_table < 0)
		o->ex.src_table = -1, o->ex.src_neg = false;
	if (c->dst_table < 0)
		o->ex.dst_table = -1, o->ex.dst_neg = false;
	o->has_extra = c->tcp_flags_mask || o->ex.src_table >= 0 || o->ex.dst_table >= 0;
	return true;
}

static void words(u128 v, uint32_t w[4])
{
	for (int i = 0; i < 4; i++)
		w[i] = (uint32_t)(v >> (96 - 32 * i));
}

static uint32_t bkey_hash(const struct bkey *k, unsigned width)
{
	uint32_t s[4], d[4];

	if (width == 32)
		return tss_hash4((uint32_t)k->s, (uint32_t)k->d, k->p, k->pr);
	words(k->s, s);
	words(k->d, d);
	return tss_hash6(s, d, k->p, k->pr);
}

static void masked_key(const struct btable *t, const struct nrule *r, struct bkey *k)
{
	k->s = r->slo & t->sm;
	k->d = r->dlo & t->dm;
	k->p = ((uint32_t)r->splo << 16 | r->dplo) & t->pm;
	k->pr = r->proto & t->prm;
}

static bool bkey_eq(const struct bkey *a, const struct bkey *b)
{
	return a->s == b->s && a->d == b->d && a->p == b->p && a->pr == b->pr;
}

/* The slot of k in t's key map (empty or holding k). */
static struct kslot *key_find(const struct btable *t, const struct bkey *k, unsigned width)
{
	uint32_t m = t->capkeys - 1, i = bkey_hash(k, width) & m;

	while (t->keys[i].used && !bkey_eq(&t->keys[i].k, k))
		i = (i + 1) & m;
	return &t->keys[i];
}

static int key_grow(struct btable *t, unsigned width)
{
	struct kslot *old = t->keys;
	uint32_t oldcap = t->capkeys;

	t->capkeys = oldcap ? oldcap * 2 : 16;
	t->keys = calloc(t->capkeys, sizeof(*t->keys));
	if (unlikely(!t->keys)) {
		t->keys = old, t->capkeys = oldcap;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < oldcap; i++)
		if (old[i].used)
			*key_find(t, &old[i].k, width) = old[i];
	free(old);
	return 0;
}

static bool fits(const struct btable *t, const struct nrule *r)
{
	for (int f = 0; f < F_N; f++)
		if (t->len[f] > r->len[f])
			return false;
	return true;
}

static int table_add(struct builder *b, struct btable *t, uint32_t ri, const struct bkey *k)
{
	struct kslot *ks;

	if (t->nmem == t->capmem) {
		uint32_t cap = t->capmem ? t->capmem * 2 : 8;
		uint32_t *m = realloc(t->mem, cap * sizeof(*m));

		if (unlikely(!m))
			return -ENOMEM;
		t->mem = m, t->capmem = cap;
	}
	if ((t->nkeys + 1) * 2 > t->capkeys && key_grow(t, b->width))
		return -ENOMEM;
	ks = key_find(t, k, b->width);
	if (!ks->used) {
		ks->used = 1, ks->k = *k, ks->count = 0;
		t->nkeys++;
	}
	ks->count++;
	if (t->nmem == 0)
		t->min_rule = b->r[ri].rule;
	t->mem[t->nmem++] = ri;
	return 0;
}

static struct btable *table_new(struct builder *b, const uint8_t len[F_N])
{
	struct btable *t;

	if (b->nt == b->capt) {
		uint32_t cap = b->capt ? b->capt * 2 : 16;
		struct btable *nt = realloc(b->t, cap * sizeof(*nt));

		if (unlikely(!nt))
			return NULL;
		b->t = nt, b->capt = cap;
	}
	t = &b->t[b->nt++];
	memset(t, 0, sizeof(*t));
	memcpy(t->len, len, F_N);
	t->sm = mask_of(len[F_SRC], b->width);
	t->dm = mask_of(len[F_DST], b->width);
	t->pm = (uint32_t)(mask_of(len[F_SP], 16) << 16 | mask_of(len[F_DP], 16));
	t->prm = (uint32_t)mask_of(len[F_PR], 8);
	return t;
}

static struct btable *table_find(struct builder *b, const uint8_t len[F_N])
{
	for (uint32_t i = 0; i < b->nt; i++)
		if (!memcmp(b->t[i].len, len, F_N))
			return &b->t[i];
	return NULL;
}

/* The tuple a new table gets for rule r: coarser than r's own, so that
 * rules of similar shape share the table (fewer tables to probe). Ports and
 * protocol are either hashed whole or not at all: ranges rarely share a
 * useful prefix. */
void tss_coarsen(const struct tss_knobs *k, unsigned width, const uint8_t in[F_N],
		 uint8_t out[F_N])
{
	unsigned step = width == 32 ? k->step : k->step * 4;

	out[F_SRC] = (uint8_t)(in[F_SRC] - in[F_SRC] % step);
	out[F_DST] = (uint8_t)(in[F_DST] - in[F_DST] % step);
	out[F_SP] = in[F_SP] == 16 && (k->hash_l4 & 1) ? 16 : 0;
	out[F_DP] = in[F_DP] == 16 && (k->hash_l4 & 2) ? 16 : 0;
	out[F_PR] = in[F_PR] == 8 && (k->hash_l4 & 4) ? 8 : 0;
}

static int place(struct builder *b, uint32_t ri)
{
	const struct nrule *r = &b->r[ri];
	uint8_t tup[F_N];
	struct btable *t;
	struct bkey k;

	for (uint32_t i = 0; i < b->nt; i++) {
		t = &b->t[i];
		if (!fits(t, r))
			continue;
		masked_key(t, r, &k);
		if (!t->capkeys || key_find(t, &k, b->width)->count < b->k.limit)
			return table_add(b, t, ri, &k);
	}
	/* Every table that could take it is full there: a table of its own
	 * coarse tuple, else of its exact tuple; if even that exists (rules
	 * identical in every hashed bit), the bucket simply grows. */
	tss_coarsen(&b->k, b->width, r->len, tup);
	t = table_find(b, tup);
	if (t && b->k.exact_fallback) {
		memcpy(tup, r->len, F_N);
		t = table_find(b, tup);
	}
	if (!t)
		t = table_new(b, tup);
	if (unlikely(!t))
		return -ENOMEM;
	masked_key(t, r, &k);
	return table_add(b, t, ri, &k);
}

void tss_fill_rec4(struct tss_rec4 *o, const struct nrule *r)
{
	o->src_lo = (uint32_t)r->slo, o->src_hi = (uint32_t)r->shi;
	o->dst_lo = (uint32_t)r->dlo, o->dst_hi = (uint32_t)r->dhi;
	o->sp_lo = r->splo, o->sp_hi = r->sphi, o->dp_lo = r->dplo, o->dp_hi = r->dphi;
	o->proto = r->proto, o->proto_mask = r->pmask;
	o->in_ports = r->in_ports;
	o->rule = r->rule | (r->has_extra ? TSS_EXTRA : 0);
}

void tss_fill_rec6(struct tss_rec6 *o, const struct nrule *r)
{
	o->src_lo[0] = (uint64_t)(r->slo >> 64), o->src_lo[1] = (uint64_t)r->slo;
	o->src_hi[0] = (uint64_t)(r->shi >> 64), o->src_hi[1] = (uint64_t)r->shi;
	o->dst_lo[0] = (uint64_t)(r->dlo >> 64), o->dst_lo[1] = (uint64_t)r->dlo;
	o->dst_hi[0] = (uint64_t)(r->dhi >> 64), o->dst_hi[1] = (uint64_t)r->dhi;
	o->sp_lo = r->splo, o->sp_hi = r->sphi, o->dp_lo = r->dplo, o->dp_hi = r->dphi;
	o->proto = r->proto, o->proto_mask = r->pmask;
	o->in_ports = r->in_ports;
	o->rule = r->rule | (r->has_extra ? TSS_EXTRA : 0);
}

void tss_table_masks(struct tss_table *o, const uint8_t len[F_N], unsigned width)
{
	u128 sm = mask_of(len[F_SRC], width), dm = mask_of(len[F_DST], width);

	memset(o->smask, 0, sizeof(o->smask));
	memset(o->dmask, 0, sizeof(o->dmask));
	if (width == 32) {
		o->smask[0] = (uint32_t)sm;
		o->dmask[0] = (uint32_t)dm;
	} else {
		words(sm, o->smask);
		words(dm, o->dmask);
	}
	o->pmask = (uint32_t)(mask_of(len[F_SP], 16) << 16 | mask_of(len[F_DP], 16));
	o->prmask = (uint32_t)mask_of(len[F_PR], 8);
	o->slen = len[F_SRC], o->dlen = len[F_DST];
	o->splen = len[F_SP], o->dplen = len[F_DP], o->prlen = len[F_PR];
}

static void emit_masks(struct tss_table *o, const struct btable *t, unsigned width)
{
	tss_table_masks(o, t->len, width);
	o->min_rule = t->min_rule;
}

/* Lay one table's rules out bucket by bucket (a counting sort on the slot,
 * stable, so each bucket stays in priority order) from record *pos on. */
static int emit_table(struct builder *b, const struct btable *t, struct tss_space *sp,
		      struct tss_table *o, uint32_t *pos, size_t *bytes)
{
	uint32_t bits = 1, *slot;
	struct bkey k;

	while ((1u << bits) < t->nkeys * 2 && bits < 30)
		bits++;
	o->nslots = 1u << bits;
	o->shift = 32 - bits;
	o->start = calloc(o->nslots + 1, sizeof(*o->start));
	slot = malloc(t->nmem * sizeof(*slot));
	if (unlikely(!o->start || !slot)) {
		free(slot);
		return -ENOMEM;
	}
	*bytes += (o->nslots + 1) * sizeof(*o->start);
	for (uint32_t i = 0; i < t->nmem; i++) {
		masked_key(t, &b->r[t->mem[i]], &k);
		slot[i] = bkey_hash(&k, b->width) >> o->shift;
		o->start[slot[i] + 1]++;
	}
	o->start[0] = *pos;
	for (uint32_t s = 0; s < o->nslots; s++)
		o->start[s + 1] += o->start[s];
	/* start[s] is now where bucket s begins; fill, then shift back. */
	for (uint32_t i = 0; i < t->nmem; i++) {
		uint32_t at = o->start[slot[i]]++;
		const struct nrule *r = &b->r[t->mem[i]];

		if (b->width == 32)
			tss_fill_rec4((struct tss_rec4 *)sp->recs + at, r);
		else
			tss_fill_rec6((struct tss_rec6 *)sp->recs + at, r);
		if (sp->extra)
			sp->extra[at] = r->ex;
	}
	memmove(o->start + 1, o->start, o->nslots * sizeof(*o->start));
	o->start[0] = *pos;
	*pos += t->nmem;
	free(slot);
	return 0;
}

static int emit(struct builder *b, struct tss_space *sp, size_t *bytes)
{
	size_t recsz = b->width == 32 ? sizeof(struct tss_rec4) : sizeof(struct tss_rec6);
	bool need_extra = false;
	uint32_t pos = 0;

	for (size_t i = 0; i < b->n; i++)
		need_extra |= b->r[i].has_extra;
	sp->nrecs = (uint32_t)b->n;
	sp->ntables = b->nt;
	if (!b->n)
		return 0;
	sp->recs = aligned_alloc(RW_CACHELINE, (b->n * recsz + RW_CACHELINE - 1) /
				 RW_CACHELINE * RW_CACHELINE);
	sp->tables = calloc(b->nt, sizeof(*sp->tables));
	sp->extra = need_extra ? calloc(b->n, sizeof(*sp->extra)) : NULL;
	if (unlikely(!sp->recs || !sp->tables || (need_extra && !sp->extra)))
		return -ENOMEM;
	*bytes += b->n * recsz + b->nt * sizeof(*sp->tables) +
		  (need_extra ? b->n * sizeof(*sp->extra) : 0);
	/* Tables were opened in priority order of their first rule, so they
	 * are already sorted by min_rule, the order lookups probe them in. */
	for (uint32_t i = 0; i < b->nt; i++) {
		emit_masks(&sp->tables[i], &b->t[i], b->width);
		if (emit_table(b, &b->t[i], sp, &sp->tables[i], &pos, bytes))
			return -ENOMEM;
	}
	return 0;
}

static void builder_free(struct builder *b)
{
	for (uint32_t i = 0; i < b->nt; i++) {
		free(b->t[i].mem);
		free(b->t[i].keys);
	}
	free(b->t);
	free(b->r);
}

static unsigned env_uint(const char *name, unsigned def, unsigned lo, unsigned hi)
{
	const char *v = getenv(name);
	unsigned long x;
	char *end;

	if (!v || !*v)
		return def;
	x = strtoul(v, &end, 10);
	return (*end || x < lo || x > hi) ? def : (unsigned)x;
}

static int cmp_rule(const void *a, const void *b)
{
	const struct nrule *x = a, *y = b;

	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int build_space(const struct rw_crule *r, size_t n, uint8_t af,
		       const struct tss_knobs *k, struct tss_space *sp, size_t *bytes)
{
	struct builder b = { .width = af == RW_AF_INET ? 32 : 128, .k = *k };
	bool sorted = true;
	int err = 0;

	b.r = malloc((n ? n : 1) * sizeof(*b.r));
	if (unlikely(!b.r))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (r[i].af != af || !tss_normalise(&r[i], b.width, &b.r[b.n]))
			continue;
		if (b.n && b.r[b.n].rule < b.r[b.n - 1].rule)
			sorted = false;
		b.n++;
	}
	if (!sorted)
		qsort(b.r, b.n, sizeof(*b.r), cmp_rule);
	for (size_t i = 0; i < b.n && !err; i++)
		err = place(&b, (uint32_t)i);
	if (!err)
		err = emit(&b, sp, bytes);
	builder_free(&b);
	return err;
}

void tss_space_free(struct tss_space *sp)
{
	for (uint32_t i = 0; sp->tables && i < sp->ntables; i++)
		free(sp->tables[i].start);
	free(sp->tables);
	free(sp->recs);
	free(sp->extra);
}

void rw_classifier_free(struct rw_classifier *c)
{
	if (!c)
		return;
	tss_space_free(&c->v4);
	tss_space_free(&c->v6);
	free(c->lpm_copy);
	free(c);
}

struct rw_classifier *rw_classifier_build(const struct rw_crule *r, size_t n,
					  struct rw_lpm *const *tables, size_t ntables,
					  char *err, size_t errlen)
{
	struct rw_classifier *c;

	for (size_t i = 0; i < n; i++) {
		int16_t st = r[i].src_table, dt = r[i].dst_table;

		if (unlikely((st >= 0 && ((size_t)st >= ntables || !tables[st])) ||
			     (dt >= 0 && ((size_t)dt >= ntables || !tables[dt])))) {
			snprintf(err, errlen, "rule %u refers to table %d, which does not exist",
				 r[i].rule, st >= 0 && ((size_t)st >= ntables || !tables[st]) ? st : dt);
			return NULL;
		}
		if (unlikely(r[i].rule > TSS_RULE_MASK - 1)) {
			snprintf(err, errlen, "rule index %u too large", r[i].rule);
			return NULL;
		}
	}
	c = calloc(1, sizeof(*c));
	if (unlikely(!c))
		goto out_nomem;
	c->bytes = sizeof(*c);
	if (ntables) {
		c->lpm_copy = malloc(ntables * sizeof(*c->lpm_copy));
		if (unlikely(!c->lpm_copy))
			goto out_nomem;
		memcpy(c->lpm_copy, tables, ntables * sizeof(*tables));
		c->lpm = c->lpm_copy;
		c->nlpm = ntables;
		c->bytes += ntables * sizeof(*tables);
	}
	/* Tuning knobs, documented in docs/classifier.md; the defaults are
	 * what measured best on the ClassBench sets. */
	c->knobs.limit = env_uint("RW_TSS_LIMIT", 64, 1, 1u << 20);
	c->knobs.step = env_uint("RW_TSS_STEP", 12, 1, 32);
	c->knobs.hash_l4 = env_uint("RW_TSS_L4", 0, 0, 7);
	c->knobs.exact_fallback = env_uint("RW_TSS_EXACT", 0, 0, 1);
	if (build_space(r, n, RW_AF_INET, &c->knobs, &c->v4, &c->bytes) ||
	    build_space(r, n, RW_AF_INET6, &c->knobs, &c->v6, &c->bytes))
		goto out_nomem;
	c->isa = tss_isa_select();
	return c;

out_nomem:
	rw_classifier_free(c);
	snprintf(err, errlen, "out of memory building the classifier");
	return NULL;
}

size_t rw_classifier_memory(const struct rw_classifier *c)
{
	return c ? c->bytes : 0;
}

size_t tss_space_bytes(const struct tss_space *sp, unsigned width)
{
	size_t recsz = width == 32 ? sizeof(struct tss_rec4) : sizeof(struct tss_rec6);
	size_t b = (size_t)sp->nrecs * recsz + (size_t)sp->ntables * sizeof(*sp->tables);

	if (sp->extra)
		b += (size_t)sp->nrecs * sizeof(*sp->extra);
	for (uint32_t i = 0; i < sp->ntables; i++)
		b += ((size_t)sp->tables[i].nslots + 1) * sizeof(uint32_t);
	return b;
}
