/* SPDX-License-Identifier: BSD-2-Clause */
/* Layout of a built table, shared by lpm.c (build, lookup) and lpm_edit.c
 * (in-place edits). Internal to src/classify/. */
#ifndef RW_CLASSIFY_LPM_INT_H
#define RW_CLASSIFY_LPM_INT_H

#include "lpm.h"
#include "../pkt/pkt.h"

#define LPM_EXT 0x80000000u
#define LPM_NEG 0x100u
#define LPM_GROUP 256
#define LPM_CHUNKS 18

struct lpm_trie {
	uint32_t *root;      /* 2^root_bits entries, or NULL: family has no entries */
	unsigned root_bits;  /* 24 for IPv4 (DIR-24-8), 16 for IPv6 */
	unsigned alen;       /* address bytes: 4 or 16 */
	uint32_t *chunk[LPM_CHUNKS]; /* chunk k: groups 64 * (2^k - 1) on, 64 << k of them */
	uint32_t ngroups;
	size_t bytes;
};

/* One prefix the table holds, for edits (lpm_edit.c): open addressing. */
struct lpm_pfx {
	uint8_t addr[16]; /* masked to plen */
	uint8_t af, plen, neg, used;
};

struct rw_lpm {
	struct lpm_trie t4, t6;
	struct lpm_pfx *set; /* built on the first edit; NULL until then */
	size_t nset, capset;
};

static inline uint32_t lpm_chunk_of(uint32_t g)
{
	return 31u - (uint32_t)__builtin_clz((g >> 6) + 1);
}

static inline uint32_t *lpm_group(const struct lpm_trie *t, uint32_t g)
{
	uint32_t k = lpm_chunk_of(g);
	uint32_t *c = __atomic_load_n(&t->chunk[k], __ATOMIC_ACQUIRE);

	return c + (size_t)(g - 64u * ((1u << k) - 1)) * LPM_GROUP;
}

/* Entries are single words that edits replace atomically. */
static inline uint32_t lpm_load(const uint32_t *e)
{
	return __atomic_load_n(e, __ATOMIC_ACQUIRE);
}

int64_t lpm_group_new(struct lpm_trie *t, uint32_t fill);
void lpm_trie_init(struct lpm_trie *t, uint8_t af);
void lpm_trie_free(struct lpm_trie *t);

#endif
