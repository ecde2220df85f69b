/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal layout of a built classifier, shared by build.c (writes it once)
 * and lookup.c (reads it on the fast path). Not for other modules.
 *
 * The classifier is a tuple-space search with merged tuples (TupleMerge,
 * docs/classifier.md): rules are spread over a few hash tables; each table
 * hashes a prefix of every field (its "tuple": bits of source, destination,
 * source port, destination port, protocol) and a bucket holds the rules whose
 * ranges lie inside that prefix, in priority order. A lookup probes the
 * tables in the order of the best rule each holds and stops when no table
 * left can beat the match it has.
 *
 * IPv4 and IPv6 have separate table sets ("spaces"): an IPv4 record is 32
 * bytes, two per cache line, and its hash works on 32-bit words that SIMD
 * computes 8 or 16 keys at a time.
 */
#ifndef RW_CLASSIFY_TSS_H
#define RW_CLASSIFY_TSS_H

#include "classify.h"
#include "../pkt/pkt.h"

/* rec.rule: the rule index, with this bit when the record has checks beyond
 * the record (TCP flags, tables): see struct tss_extra. */
#define TSS_EXTRA 0x80000000u
#define TSS_RULE_MASK 0x7fffffffu
#define TSS_NONE 0xffffffffu /* no match yet: larger than every rule */

/* One IPv4 rule, host order, 32 bytes: two per cache line. */
struct tss_rec4 {
	uint32_t src_lo, src_hi, dst_lo, dst_hi;
	uint16_t sp_lo, sp_hi, dp_lo, dp_hi;
	uint8_t proto, proto_mask; /* proto is stored already masked */
	uint16_t in_ports;
	uint32_t rule;
};
static_assert(sizeof(struct tss_rec4) == 32, "two IPv4 records per cache line");

/* One IPv6 rule: addresses as (high, low) 64-bit halves, host order. */
struct tss_rec6 {
	uint64_t src_lo[2], src_hi[2], dst_lo[2], dst_hi[2];
	uint16_t sp_lo, sp_hi, dp_lo, dp_hi;
	uint8_t proto, proto_mask;
	uint16_t in_ports;
	uint32_t rule;
};

/* Checks that few rules need, kept out of the record so that the common
 * record stays small. Indexed by record position. */
struct tss_extra {
	uint8_t tcp_flags, tcp_flags_mask;
	bool src_neg, dst_neg;
	int16_t src_table, dst_table; /* -1: none */
};

/* One merged tuple: a hash table over masked key fields. */
struct tss_table {
	uint32_t min_rule;  /* best (lowest) rule inside: lets a lookup stop */
	uint32_t shift;     /* slot = hash >> shift (32 - log2 slots) */
	uint32_t smask[4], dmask[4]; /* IPv4: word 0 only; IPv6: four words, MSW first */
	uint32_t pmask;     /* (sport << 16 | dport) mask */
	uint32_t prmask;    /* protocol mask */
	uint32_t *start;    /* slots + 1 offsets into the space's records */
	uint32_t nslots;
	uint8_t slen, dlen, splen, dplen, prlen; /* the tuple, for docs and tests */
};

struct tss_space {
	struct tss_table *tables; /* sorted by min_rule */
	uint32_t ntables;
	uint32_t nrecs;
	void *recs;               /* struct tss_rec4 or tss_rec6 [nrecs] */
	struct tss_extra *extra;  /* [nrecs] or NULL when no record needs it */
};

enum tss_isa { TSS_ISA_SCALAR, TSS_ISA_AVX2, TSS_ISA_AVX512 };

/* Layout knobs (docs/classifier.md), read once at build and kept so that
 * incremental edits place rules as the build would. */
struct tss_knobs {
	unsigned limit; /* rules per bucket before a rule looks elsewhere */
	unsigned step;  /* address lengths of new tables are multiples of it */
	unsigned hash_l4;
	bool exact_fallback;
};

struct rw_classifier {
	struct tss_space v4, v6;
	struct tss_knobs knobs;
	struct rw_lpm *const *lpm; /* the caller's tables (not owned) */
	size_t nlpm;
	struct rw_lpm **lpm_copy;  /* our copy of the pointer array */
	size_t bytes;
	enum tss_isa isa;
};

/*
 * The IPv4 hash of a masked key: multiply-add of 32-bit words, then a final
 * mix; the top bits pick the slot. Plain 32-bit lane arithmetic, so that the
 * AVX2 and AVX-512 paths compute exactly this for 8 or 16 keys at once.
 */
#define TSS_H1 0x9e3779b1u
#define TSS_H2 0x85ebca77u
#define TSS_H3 0xc2b2ae3du
#define TSS_H4 0x27d4eb2fu
#define TSS_H5 0x165667b1u

static inline uint32_t tss_hash4(uint32_t s, uint32_t d, uint32_t p, uint32_t pr)
{
	uint32_t h = s * TSS_H1 + d * TSS_H2 + p * TSS_H3 + pr * TSS_H4;

	h ^= h >> 15;
	h *= TSS_H5;
	return h ^ (h >> 13);
}

/* IPv6: the same over ten words. */
static inline uint32_t tss_hash6(const uint32_t s[4], const uint32_t d[4], uint32_t p,
				 uint32_t pr)
{
	uint32_t h = pr * TSS_H4 + p * TSS_H3;

	for (int i = 0; i < 4; i++) {
		h += s[i] * (TSS_H1 + 2u * (uint32_t)i);
		h += d[i] * (TSS_H2 + 2u * (uint32_t)i);
		h = (h << 7) | (h >> 25);
	}
	h ^= h >> 15;
	h *= TSS_H5;
	return h ^ (h >> 13);
}

/* Per-ISA hash of up to RW_BURST IPv4 keys under one table's masks. */
void tss_hash4_burst_scalar(const struct tss_table *t, const uint32_t *s, const uint32_t *d,
			    const uint32_t *p, const uint32_t *pr, uint32_t *slot, unsigned n);
void tss_hash4_burst_avx2(const struct tss_table *t, const uint32_t *s, const uint32_t *d,
			  const uint32_t *p, const uint32_t *pr, uint32_t *slot, unsigned n);
void tss_hash4_burst_avx512(const struct tss_table *t, const uint32_t *s, const uint32_t *d,
			    const uint32_t *p, const uint32_t *pr, uint32_t *slot, unsigned n);

/* The ISA this machine supports best, or the one RW_CLASSIFY_ISA names
 * ("scalar", "avx2", "avx512") when the machine has it. */
enum tss_isa tss_isa_select(void);
const char *tss_isa_name(enum tss_isa isa);

#endif
