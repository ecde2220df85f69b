/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Longest-prefix match (lpm.h): a multibit trie per family whose entries are
 * "painted" from the prefixes in ascending length order, so that a longer
 * prefix overwrites the shorter ones it lies in and a lookup needs no
 * backtracking: the entry it lands on is the answer.
 *
 * Entry (32 bits): LPM_EXT set -> the low 31 bits number a 256-entry group
 * one stride deeper; otherwise the low 8 bits are the prefix length + 1
 * (0 = no prefix covers this) and LPM_NEG marks a negated entry.
 *
 * Incremental edits (rw_lpm_add/remove, lpm_edit.c) change the structure
 * in place under lock-free readers, so every entry is read and written as
 * one atomic 32-bit word, and groups live in chunks that never move (chunk
 * k holds 64 << k groups): a reader that found a group keeps a valid one.
 */
#include "lpm.h"
#include "../pkt/pkt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LPM_EXT 0x80000000u
#define LPM_NEG 0x100u
#define LPM_GROUP 256

#include "lpm_int.h"

static_assert(LPM_CHUNKS >= 18, "64 * (2^18 - 1) groups cover the 2^23 an entry can name");

/* A new group, every entry a copy of the entry it refines. Returns its
 * number, or -1 when out of memory (or past the 2^23 groups an entry can
 * name). The chunk pointer is published before the group is: a reader
 * reaches a group only through an entry naming it. */
int64_t lpm_group_new(struct lpm_trie *t, uint32_t fill)
{
	uint32_t g = t->ngroups, k = lpm_chunk_of(g);
	uint32_t *grp;

	if (g >= LPM_EXT / LPM_GROUP || k >= LPM_CHUNKS)
		return -1;
	if (!t->chunk[k]) {
		uint32_t *c = malloc(((size_t)64 << k) * LPM_GROUP * sizeof(*c));

		if (unlikely(!c))
			return -1;
		__atomic_store_n(&t->chunk[k], c, __ATOMIC_RELEASE);
		t->bytes += ((size_t)64 << k) * LPM_GROUP * sizeof(*c);
	}
	grp = lpm_group(t, g);
	for (unsigned i = 0; i < LPM_GROUP; i++)
		grp[i] = fill;
	t->ngroups++;
	return g;
}

static void paint(uint32_t *e, size_t from, size_t count, uint32_t v)
{
	for (size_t i = 0; i < count; i++)
		e[from + i] = v;
}

/*
 * Insert a (family bytes, plen). Callers go in ascending plen, so every
 * entry the range covers holds a shorter prefix and no group: painting the
 * range is the whole update.
 */
static int trie_insert(struct lpm_trie *t, const uint8_t *a, unsigned plen, uint32_t v)
{
	size_t idx = 0;
	unsigned pos = t->root_bits;
	uint32_t *tab;

	for (unsigned i = 0; i < t->root_bits / 8; i++)
		idx = idx << 8 | a[i];
	if (plen <= t->root_bits) {
		size_t n = (size_t)1 << (t->root_bits - plen);

		paint(t->root, idx & ~(n - 1), n, v);
		return 0;
	}
	tab = t->root;
	for (;;) {
		uint32_t e = tab[idx];
		int64_t g;

		if (!(e & LPM_EXT)) {
			g = lpm_group_new(t, e);
			if (g < 0)
				return -ENOMEM;
			tab[idx] = LPM_EXT | (uint32_t)g;
		} else {
			g = e & ~LPM_EXT;
		}
		tab = lpm_group(t, (uint32_t)g);
		idx = a[pos / 8];
		if (plen <= pos + 8) {
			size_t n = (size_t)1 << (pos + 8 - plen);

			paint(tab, idx & ~(n - 1), n, v);
			return 0;
		}
		pos += 8;
	}
}

static int cmp_plen(const void *x, const void *y)
{
	const struct rw_table_entry *a = *(const struct rw_table_entry *const *)x;
	const struct rw_table_entry *b = *(const struct rw_table_entry *const *)y;

	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return a < b ? -1 : a > b; /* stable: a later duplicate wins */
}

static int trie_build(struct lpm_trie *t, const struct rw_table *tab, uint8_t af)
{
	const struct rw_table_entry **v;
	size_t n = 0;
	int rc = 0;

	lpm_trie_init(t, af);
	for (size_t i = 0; i < tab->nentries; i++)
		n += tab->entries[i].af == af;
	if (!n)
		return 0;
	v = malloc(n * sizeof(*v));
	/* calloc: the IPv4 root is 64 MB of which a small table touches
	 * little; the kernel backs only the pages painted. */
	t->root = calloc((size_t)1 << t->root_bits, sizeof(*t->root));
	t->bytes += ((size_t)1 << t->root_bits) * sizeof(*t->root);
	if (unlikely(!v || !t->root)) {
		free(v);
		return -ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < tab->nentries; i++)
		if (tab->entries[i].af == af)
			v[n++] = &tab->entries[i];
	qsort(v, n, sizeof(*v), cmp_plen);
	for (size_t i = 0; i < n && !rc; i++) {
		const uint8_t *a = af == RW_AF_INET ? v[i]->addr + 12 : v[i]->addr;

		rc = trie_insert(t, a, v[i]->plen,
				 (uint32_t)(v[i]->plen + 1) | (v[i]->neg ? LPM_NEG : 0));
	}
	free(v);
	return rc;
}

struct rw_lpm *rw_lpm_build(const struct rw_table *t, char *err, size_t errlen)
{
	struct rw_lpm *l;

	for (size_t i = 0; i < t->nentries; i++) {
		const struct rw_table_entry *e = &t->entries[i];

		if (unlikely((e->af != RW_AF_INET && e->af != RW_AF_INET6) ||
			     e->plen > (e->af == RW_AF_INET ? 32 : 128))) {
			snprintf(err, errlen, "table <%s>: entry %zu: bad family or prefix length",
				 t->name, i);
			return NULL;
		}
	}
	l = calloc(1, sizeof(*l));
	if (unlikely(!l))
		goto out_nomem;
	lpm_trie_init(&l->t4, RW_AF_INET);
	lpm_trie_init(&l->t6, RW_AF_INET6);
	if (trie_build(&l->t4, t, RW_AF_INET) || trie_build(&l->t6, t, RW_AF_INET6))
		goto out_nomem;
	return l;

out_nomem:
	rw_lpm_free(l);
	snprintf(err, errlen, "table <%s>: out of memory", t->name);
	return NULL;
}

int rw_lpm_lookup(const struct rw_lpm *l, uint8_t af, const uint8_t addr[16], bool *neg)
{
	const struct lpm_trie *t;
	uint32_t e;

	const uint32_t *root;

	*neg = false;
	if (af == RW_AF_INET) {
		t = &l->t4;
		root = __atomic_load_n(&t->root, __ATOMIC_ACQUIRE);
		if (!root)
			return -1;
		e = lpm_load(&root[(uint32_t)addr[12] << 16 | (uint32_t)addr[13] << 8 | addr[14]]);
		if (e & LPM_EXT)
			e = lpm_load(&lpm_group(t, e & ~LPM_EXT)[addr[15]]);
	} else if (af == RW_AF_INET6) {
		t = &l->t6;
		root = __atomic_load_n(&t->root, __ATOMIC_ACQUIRE);
		if (!root)
			return -1;
		e = lpm_load(&root[(uint32_t)addr[0] << 8 | addr[1]]);
		for (unsigned i = 2; i < 16 && (e & LPM_EXT); i++)
			e = lpm_load(&lpm_group(t, e & ~LPM_EXT)[addr[i]]);
	} else {
		return -1;
	}
	*neg = e & LPM_NEG;
	return (int)(e & 0xff) - 1;
}

bool rw_lpm_contains(const struct rw_lpm *l, uint8_t af, const uint8_t addr[16])
{
	bool neg;

	return rw_lpm_lookup(l, af, addr, &neg) >= 0 && !neg;
}

static size_t trie_memory(const struct lpm_trie *t)
{
	return t->bytes;
}

size_t rw_lpm_memory(const struct rw_lpm *l)
{
	return l ? sizeof(*l) + trie_memory(&l->t4) + trie_memory(&l->t6) : 0;
}

void rw_lpm_free(struct rw_lpm *l)
{
	if (!l)
		return;
	lpm_trie_free(&l->t4);
	lpm_trie_free(&l->t6);
	free(l->set);
	free(l);
}

void lpm_trie_init(struct lpm_trie *t, uint8_t af)
{
	t->alen = af == RW_AF_INET ? 4 : 16;
	t->root_bits = af == RW_AF_INET ? 24 : 16;
}

void lpm_trie_free(struct lpm_trie *t)
{
	free(t->root);
	for (unsigned k = 0; k < LPM_CHUNKS; k++)
		free(t->chunk[k]);
}
