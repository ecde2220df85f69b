/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One table entry added or removed in place (lpm.h: rw_lpm_add/remove),
 * under readers that take no lock.
 *
 * Every address's answer is one 32-bit entry, so an edit is a sequence of
 * atomic entry stores: a reader sees each address either before or after
 * the edit, never a torn entry. A group a prefix needs is filled with the
 * answer it refines before the entry naming it is published, and groups
 * never move or go away while the table lives (lpm.c). Adding P/len stores
 * P's answer into every entry of P's range that holds a prefix no longer
 * than len; removing it stores, into the entries that still hold P's
 * length, the answer of the longest shorter prefix covering P, found in a
 * set of the table's prefixes built on the first edit.
 */
#include "lpm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void mask_addr(const struct rw_table_entry *e, uint8_t out[16])
{
	unsigned base = e->af == RW_AF_INET ? 96 : 0;

	memcpy(out, e->addr, 16);
	for (unsigned b = base + e->plen; b < 128; b++)
		out[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
}

static uint32_t pfx_hash(uint8_t af, uint8_t plen, const uint8_t a[16])
{
	uint64_t h = (uint64_t)af << 8 | plen, w[2];

	memcpy(w, a, 16);
	h = (h ^ w[0]) * 0x9e3779b97f4a7c15ull;
	h = (h ^ w[1]) * 0xc2b2ae3d27d4eb4full;
	return (uint32_t)(h >> 32);
}

static struct lpm_pfx *set_find(const struct rw_lpm *l, uint8_t af, uint8_t plen,
				const uint8_t a[16])
{
	size_t m = l->capset - 1, i = pfx_hash(af, plen, a) & m;

	while (l->set[i].used && !(l->set[i].af == af && l->set[i].plen == plen &&
				   !memcmp(l->set[i].addr, a, 16)))
		i = (i + 1) & m;
	return &l->set[i];
}

static int set_grow(struct rw_lpm *l)
{
	struct lpm_pfx *old = l->set;
	size_t oldcap = l->capset;

	l->capset = oldcap ? oldcap * 2 : 64;
	l->set = calloc(l->capset, sizeof(*l->set));
	if (unlikely(!l->set)) {
		l->set = old, l->capset = oldcap;
		return -ENOMEM;
	}
	l->nset = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].used)
			*set_find(l, old[i].af, old[i].plen, old[i].addr) = old[i], l->nset++;
	free(old);
	return 0;
}

/* Insert or replace (a later entry of one prefix wins, as in the build). */
static int set_put(struct rw_lpm *l, const struct rw_table_entry *e)
{
	struct lpm_pfx *p;
	uint8_t a[16];

	if ((l->nset + 1) * 2 > l->capset && set_grow(l))
		return -ENOMEM;
	mask_addr(e, a);
	p = set_find(l, e->af, e->plen, a);
	if (!p->used)
		l->nset++;
	*p = (struct lpm_pfx){ .af = e->af, .plen = e->plen, .neg = e->neg, .used = 1 };
	memcpy(p->addr, a, 16);
	return 0;
}

/* Delete slot i and re-place the cluster after it (linear probing). */
static void set_del(struct rw_lpm *l, struct lpm_pfx *p)
{
	size_t m = l->capset - 1, i = (size_t)(p - l->set);

	l->set[i].used = 0;
	l->nset--;
	for (i = (i + 1) & m; l->set[i].used; i = (i + 1) & m) {
		struct lpm_pfx x = l->set[i];

		l->set[i].used = 0;
		*set_find(l, x.af, x.plen, x.addr) = x;
	}
}

static int set_init(struct rw_lpm *l, const struct rw_table *t)
{
	if (set_grow(l))
		return -ENOMEM;
	for (size_t i = 0; t && i < t->nentries; i++)
		if (set_put(l, &t->entries[i]))
			return -ENOMEM;
	return 0;
}

/* Store v into the entries of tab[from, from + n) that should take it,
 * descending into groups: add -> those holding a prefix no longer than
 * len (or none); remove -> those holding exactly len. */
static void fill(const struct lpm_trie *t, uint32_t *tab, size_t from, size_t n, unsigned len,
		 uint32_t v, bool add)
{
	for (size_t i = from; i < from + n; i++) {
		uint32_t e = lpm_load(&tab[i]), el;

		if (e & LPM_EXT) {
			fill(t, lpm_group(t, e & ~LPM_EXT), 0, LPM_GROUP, len, v, add);
			continue;
		}
		el = e & 0xff;
		if (add ? el <= len + 1 : el == len + 1)
			__atomic_store_n(&tab[i], v, __ATOMIC_RELEASE);
	}
}

static int trie_edit(struct lpm_trie *t, const uint8_t *a, unsigned len, uint32_t v, bool add)
{
	unsigned pos = t->root_bits;
	size_t idx = 0;
	uint32_t *tab;

	if (!t->root) {
		uint32_t *root;

		if (!add)
			return 0;
		root = calloc((size_t)1 << t->root_bits, sizeof(*root));
		if (unlikely(!root))
			return -ENOMEM;
		t->bytes += ((size_t)1 << t->root_bits) * sizeof(*root);
		__atomic_store_n(&t->root, root, __ATOMIC_RELEASE);
	}
	for (unsigned i = 0; i < t->root_bits / 8; i++)
		idx = idx << 8 | a[i];
	if (len <= t->root_bits) {
		size_t n = (size_t)1 << (t->root_bits - len);

		fill(t, t->root, idx & ~(n - 1), n, len, v, add);
		return 0;
	}
	tab = t->root;
	for (;;) {
		uint32_t e = lpm_load(&tab[idx]);
		int64_t g;

		if (!(e & LPM_EXT)) {
			if (!add)
				return 0; /* nothing this long was ever painted here */
			g = lpm_group_new(t, e);
			if (g < 0)
				return -ENOMEM;
			__atomic_store_n(&tab[idx], LPM_EXT | (uint32_t)g, __ATOMIC_RELEASE);
		} else {
			g = e & ~LPM_EXT;
		}
		tab = lpm_group(t, (uint32_t)g);
		idx = a[pos / 8];
		if (len <= pos + 8) {
			size_t n = (size_t)1 << (pos + 8 - len);

			fill(t, tab, idx & ~(n - 1), n, len, v, add);
			return 0;
		}
		pos += 8;
	}
}

static bool valid(const struct rw_table_entry *e)
{
	return (e->af == RW_AF_INET && e->plen <= 32) || (e->af == RW_AF_INET6 && e->plen <= 128);
}

int rw_lpm_add(struct rw_lpm *l, const struct rw_table *t, const struct rw_table_entry *e)
{
	struct lpm_trie *tr = e->af == RW_AF_INET ? &l->t4 : &l->t6;
	uint8_t a[16];

	if (unlikely(!valid(e)))
		return -EINVAL;
	if (!l->set && set_init(l, t))
		return -ENOMEM;
	if (set_put(l, e))
		return -ENOMEM;
	mask_addr(e, a);
	return trie_edit(tr, e->af == RW_AF_INET ? a + 12 : a, e->plen,
			 (uint32_t)(e->plen + 1) | (e->neg ? LPM_NEG : 0), true);
}

int rw_lpm_remove(struct rw_lpm *l, const struct rw_table *t, const struct rw_table_entry *e)
{
	struct lpm_trie *tr = e->af == RW_AF_INET ? &l->t4 : &l->t6;
	struct rw_table_entry q = *e;
	struct lpm_pfx *p;
	uint32_t w = 0;
	uint8_t a[16];

	if (unlikely(!valid(e)))
		return -EINVAL;
	if (!l->set && set_init(l, t))
		return -ENOMEM;
	mask_addr(e, a);
	p = set_find(l, e->af, e->plen, a);
	if (!p->used)
		return -ENOENT;
	set_del(l, p);
	/* The answer P hid: the longest shorter prefix that covers it. */
	while (q.plen-- > 0) {
		uint8_t qa[16];

		mask_addr(&q, qa);
		p = set_find(l, q.af, q.plen, qa);
		if (p->used) {
			w = (uint32_t)(p->plen + 1) | (p->neg ? LPM_NEG : 0);
			break;
		}
	}
	return trie_edit(tr, e->af == RW_AF_INET ? a + 12 : a, e->plen, w, false);
}
