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

struct lpm_trie {
	uint32_t *root;      /* 2^root_bits entries, or NULL: family has no entries */
	unsigned root_bits;  /* 24 for IPv4 (DIR-24-8), 16 for IPv6 */
	unsigned alen;       /* address bytes: 4 or 16 */
	uint32_t *groups;    /* ngroups * LPM_GROUP entries */
	uint32_t ngroups, capgroups;
};

struct rw_lpm {
	struct lpm_trie t4, t6;
};

/* A new group, every entry a copy of the entry it refines. Returns its
 * number, or -1 when out of memory (or past the 2^31 groups an entry can
 * name). */
static int64_t group_new(struct lpm_trie *t, uint32_t fill)
{
	if (t->ngroups == t->capgroups) {
		uint32_t cap = t->capgroups ? t->capgroups * 2 : 64;
		uint32_t *g;

		if (cap > LPM_EXT / LPM_GROUP)
			return -1;
		g = realloc(t->groups, (size_t)cap * LPM_GROUP * sizeof(*g));
		if (unlikely(!g))
			return -1;
		t->groups = g, t->capgroups = cap;
	}
	for (unsigned i = 0; i < LPM_GROUP; i++)
		t->groups[(size_t)t->ngroups * LPM_GROUP + i] = fill;
	return t->ngroups++;
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
			bool in_groups = tab != t->root;
			size_t off = in_groups ? (size_t)(tab - t->groups) : 0;

			g = group_new(t, e);
			if (g < 0)
				return -ENOMEM;
			/* group_new may move the groups. */
			if (in_groups)
				tab = t->groups + off;
			tab[idx] = LPM_EXT | (uint32_t)g;
		} else {
			g = e & ~LPM_EXT;
		}
		tab = t->groups + (size_t)g * LPM_GROUP;
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

	t->alen = af == RW_AF_INET ? 4 : 16;
	t->root_bits = af == RW_AF_INET ? 24 : 16;
	for (size_t i = 0; i < tab->nentries; i++)
		n += tab->entries[i].af == af;
	if (!n)
		return 0;
	v = malloc(n * sizeof(*v));
	/* calloc: the IPv4 root is 64 MB of which a small table touches
	 * little; the kernel backs only the pages painted. */
	t->root = calloc((size_t)1 << t->root_bits, sizeof(*t->root));
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

	*neg = false;
	if (af == RW_AF_INET) {
		t = &l->t4;
		if (!t->root)
			return -1;
		e = t->root[(uint32_t)addr[12] << 16 | (uint32_t)addr[13] << 8 | addr[14]];
		if (e & LPM_EXT)
			e = t->groups[(size_t)(e & ~LPM_EXT) * LPM_GROUP + addr[15]];
	} else if (af == RW_AF_INET6) {
		t = &l->t6;
		if (!t->root)
			return -1;
		e = t->root[(uint32_t)addr[0] << 8 | addr[1]];
		for (unsigned i = 2; i < 16 && (e & LPM_EXT); i++)
			e = t->groups[(size_t)(e & ~LPM_EXT) * LPM_GROUP + addr[i]];
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
	if (!t->root)
		return 0;
	return ((size_t)1 << t->root_bits) * sizeof(uint32_t) +
	       (size_t)t->capgroups * LPM_GROUP * sizeof(uint32_t);
}

size_t rw_lpm_memory(const struct rw_lpm *l)
{
	return l ? sizeof(*l) + trie_memory(&l->t4) + trie_memory(&l->t6) : 0;
}

void rw_lpm_free(struct rw_lpm *l)
{
	if (!l)
		return;
	free(l->t4.root);
	free(l->t4.groups);
	free(l->t6.root);
	free(l->t6.groups);
	free(l);
}
