/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rw_parse's fast path, inline: the common frame (untagged IPv4 without
 * options carrying TCP with no options or NOP, NOP, timestamp) parsed in one
 * pass. In a header so that the worker's parse loop runs it without a call
 * (and knows from its answer, not by reading the descriptor back, that the
 * packet goes on to the connection table); rw_parse in parse.c runs the same
 * code. Anything it declines goes to rw_parse_general, which names the
 * reason. tests/unit/test_parse_fast.c checks the two agree.
 */
#ifndef RW_PKT_PARSE_FAST_H
#define RW_PKT_PARSE_FAST_H

#include <arpa/inet.h>
#include <stddef.h>

#include "internal.h"

#define RW_ETH_HLEN 14
#define RW_ETH_P_IP 0x0800
#define RW_IP4_MF 0x2000
#define RW_IP4_OFFMASK 0x1fff

/* The parser's offsets are 16 bits: no IP packet is longer than 65,535
 * bytes, so a longer frame (a capture of a GRO/TSO super-frame) is parsed as
 * if it ended there and its IP length check fails. */
#define RW_FRAME_MAX 0xffff

static inline uint64_t rw_ld32(const uint8_t *b)
{
	uint32_t w;

	memcpy(&w, b, 4);
	return w;
}

static inline uint64_t rw_ld64(const uint8_t *b)
{
	uint64_t w;

	memcpy(&w, b, 8);
	return w;
}

/* x + y with the carry out of bit 63 added back in (one's complement
 * addition in 64 bits; add, adc on x86). x + y + 1 cannot wrap when the
 * first add did. */
static inline uint64_t rw_add_c64(uint64_t x, uint64_t y)
{
	uint64_t s = x + y;

	return s + (s < y);
}

/*
 * The header checksum, inline for the 20-byte header nearly every packet
 * has. Summed as two 64-bit words and a 32-bit one with end-around carries:
 * 2^64 = 1 modulo 0xffff, so the sum s is the 16-bit one's complement sum
 * modulo 0xffff, and s is 0 only for an all-zero header. The header is right
 * when that sum folds to 0xffff: s is a non-zero multiple of 0xffff. Tested
 * without folding: s * (0xffff's inverse modulo 2^64) is s / 0xffff when
 * that is whole, at most UINT64_MAX / 0xffff, and above it otherwise; the
 * - 1 sends s = 0 above it too.
 */
static inline bool rw_ip4_csum_ok(const uint8_t *ip, uint32_t hl)
{
	const uint64_t inv = 0xfffefffefffeffffull; /* 0xffff * inv = 1 mod 2^64 */
	uint64_t s;

	if (unlikely(hl != 20))
		return rw_csum_fold(rw_csum_partial(ip, hl, 0)) == 0;
	s = rw_add_c64(rw_add_c64(rw_ld64(ip), rw_ld64(ip + 8)), rw_ld32(ip + 16));
	return s * inv - 1 < UINT64_MAX / 0xffff;
}

/* NOP, NOP, timestamp (kind 8, length 10): the only options Linux puts on
 * an established connection's segments unless SACK blocks are due. */
#define RW_TCP_OPT_NOP_NOP_TS 0x0101080au

/*
 * Two neighbouring big-endian fields of the frame (16 or 32 bits each) into
 * the two neighbouring host-order fields of the descriptor that hold them,
 * in the same order: one load, one byte swap, one rotate and one store
 * instead of two of each. On a little-endian host the swap of the pair
 * leaves the first field in the high half and the rotate brings it back to
 * the low half, which the store puts first. The callers check with
 * static_assert that the descriptor's fields are neighbours.
 */
static inline void rw_be16_pair(void *dst, const uint8_t *src)
{
	uint32_t v;

	memcpy(&v, src, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
	v = v >> 16 | v << 16;
#endif
	memcpy(dst, &v, 4);
}

static inline void rw_be32_pair(void *dst, const uint8_t *src)
{
	uint64_t v;

	memcpy(&v, src, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
	v = v >> 32 | v << 32;
#endif
	memcpy(dst, &v, 8);
}

/*
 * Constant neighbouring fields stored as one 32-bit immediate. Written out
 * field by field, GCC 12 merged them but loaded the merged value from
 * .rodata, in the worker's parse loop: a load and a store where one store
 * does (two instructions a packet for the two groups below).
 */
static inline void rw_st32_const(void *dst, uint32_t v)
{
	memcpy(dst, &v, 4);
}

static inline void rw_st16_pair(void *dst, uint16_t a, uint16_t b)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	rw_st32_const(dst, (uint32_t)a | (uint32_t)b << 16);
#else
	rw_st32_const(dst, (uint32_t)a << 16 | b);
#endif
}

static inline void rw_st8_quad(void *dst, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	rw_st32_const(dst, (uint32_t)a | (uint32_t)b << 8 | (uint32_t)c << 16 | (uint32_t)d << 24);
#else
	rw_st32_const(dst, (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
#endif
}

/* Four neighbouring 16-bit fields as one 64-bit store (two of them vary).
 * Each value must be below 2^16 (not truncated here: a value the caller
 * has bounded needs no masking instruction). */
static inline void rw_st16_quad(void *dst, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v = a | b << 16 | c << 32 | d << 48;
#else
	uint64_t v = a << 48 | b << 32 | c << 16 | d;
#endif

	memcpy(dst, &v, 8);
}

static_assert(offsetof(struct rw_pkt, payload_off) == offsetof(struct rw_pkt, l3_len) + 2 &&
		      offsetof(struct rw_pkt, payload_len) == offsetof(struct rw_pkt, l3_len) + 4 &&
		      offsetof(struct rw_pkt, ethertype) == offsetof(struct rw_pkt, l3_len) + 6,
	      "rw_fast_fill stores l3_len .. ethertype as one word");

static_assert(offsetof(struct rw_pkt, l4_off) == offsetof(struct rw_pkt, l3_off) + 2 &&
		      offsetof(struct rw_pkt, af) == offsetof(struct rw_pkt, nvlan) + 1 &&
		      offsetof(struct rw_pkt, proto) == offsetof(struct rw_pkt, nvlan) + 2 &&
		      offsetof(struct rw_pkt, flags) == offsetof(struct rw_pkt, nvlan) + 3,
	      "rw_fast_fill stores these groups as one word");

static_assert(offsetof(struct rw_pkt, dport) == offsetof(struct rw_pkt, sport) + 2 &&
		      offsetof(struct rw_pkt, tcp_ack) == offsetof(struct rw_pkt, tcp_seq) + 4 &&
		      offsetof(struct rw_pkt, tcp_tsecr) == offsetof(struct rw_pkt, tcp_tsval) + 4,
	      "rw_fast_fill stores these pairs as one word");

/*
 * The descriptor of a frame rw_parse_fast_inline accepted, every field the
 * general path would write, in the order they lie in struct rw_pkt. Inlined
 * once for each TCP header length, so that doff and the timestamp option's
 * presence are constants there. Neighbouring fields that are always 0 here
 * are cleared as one span: GCC 12 merges neighbouring constant stores in
 * rw_parse, but not inside the worker's parse loop, where this is inlined
 * too.
 */
static inline __attribute__((always_inline)) void
rw_fast_fill(struct rw_pkt *restrict p, uint8_t *restrict d, uint32_t len, uint32_t tot,
	     uint16_t id, uint32_t doff, bool ts)
{
	const uint8_t *ip = d + RW_ETH_HLEN, *th = ip + 20;

	p->data = d;
	p->len = len;
	rw_st16_pair(&p->l3_off, RW_ETH_HLEN, RW_ETH_HLEN + 20); /* l3_off, l4_off */
	/* l3_len, payload_off, payload_len, ethertype; the caller checked
	 * 20 + doff <= tot <= RW_FRAME_MAX */
	rw_st16_quad(&p->l3_len, tot, RW_ETH_HLEN + 20 + doff, tot - 20 - doff, RW_ETH_P_IP);
	/* nvlan, af, proto, flags */
	rw_st8_quad(&p->nvlan, 0, RW_AF_INET, RW_PROTO_TCP, RW_PKT_L4);
	p->ttl = ip[8];
	/* icmp_type, icmp_code, icmp_id */
	memset(&p->icmp_type, 0, offsetof(struct rw_pkt, tcp_flags) - offsetof(struct rw_pkt, icmp_type));
	rw_be16_pair(&p->sport, th); /* sport, dport */
	p->tcp_flags = th[13];
	p->tcp_wscale = RW_WSCALE_NONE;
	/* tcp_sackok, tcp_ts, tcp_mss; then tcp_ts */
	memset(&p->tcp_sackok, 0, offsetof(struct rw_pkt, tcp_win) - offsetof(struct rw_pkt, tcp_sackok));
	p->tcp_ts = ts;
	p->tcp_win = rd16(th + 14);
	rw_be32_pair(&p->tcp_seq, th + 4); /* tcp_seq, tcp_ack */
	if (ts)
		rw_be32_pair(&p->tcp_tsval, th + 24); /* tcp_tsval, tcp_tsecr */
	else
		memset(&p->tcp_tsval, 0, 8);
	p->frag_id = id;
	p->frag_off = 0;
	rw_addr_map4(p->saddr, ip + 12);
	rw_addr_map4(p->daddr, ip + 16);
}

/*
 * The common frame in one pass: untagged Ethernet, IPv4 without options and
 * not a fragment, TCP without options or with just NOP, NOP, timestamp, L4
 * checksums not verified here. Writes exactly the fields the general path
 * would write for such a frame, with the same values (tests/unit/
 * test_parse_fast.c compares the two on mutated frames). Returns false,
 * having written nothing a caller may rely on, for any other frame or any
 * failed check: the general path then parses it and names the reason.
 * The ways out are marked unlikely: inlined into the worker's loop, GCC
 * otherwise weighted the fill as rarely run and loaded its constants there
 * once a packet instead of once a burst.
 */
static inline __attribute__((always_inline)) bool
rw_parse_fast_inline(struct rw_pkt *restrict p, uint8_t *restrict d, uint32_t len)
{
	const uint8_t *ip = d + RW_ETH_HLEN, *th = ip + 20;
	uint32_t tot_id, tot, doff;
	uint16_t fo;

	/* 54 <= len <= RW_FRAME_MAX as one unsigned compare */
	if (unlikely(len - (RW_ETH_HLEN + 40) > RW_FRAME_MAX - (RW_ETH_HLEN + 40)))
		return false;
	/* Flags and fragment offset tested as they lie in memory (the mask
	 * byte-swapped instead of the field: one test instruction). */
	memcpy(&fo, ip + 6, 2);
	if (unlikely(rd16(d + 12) != RW_ETH_P_IP || ip[0] != 0x45 || ip[9] != RW_PROTO_TCP ||
		     (fo & htons(RW_IP4_MF | RW_IP4_OFFMASK)) || !rw_ip4_csum_ok(ip, 20) ||
		     !tcp_flags_ok(th[13])))
		return false;
	/* 40 <= tot <= len - 14 in one compare (len >= 54 is known):
	 * tot - 40 wraps when tot is too short. */
	tot_id = rd32(ip + 2); /* total length and ID: one load, one byte swap */
	tot = tot_id >> 16;
	if (unlikely(tot - 40 > len - (RW_ETH_HLEN + 40)))
		return false;
	doff = th[12] >> 4;
	if (doff == 5) {
		rw_fast_fill(p, d, len, tot, (uint16_t)tot_id, 20, false);
		return true;
	}
	if (likely(doff == 8 && tot >= 52 && rd32(th + 20) == RW_TCP_OPT_NOP_NOP_TS)) {
		rw_fast_fill(p, d, len, tot, (uint16_t)tot_id, 32, true);
		return true;
	}
	return false;
}

#endif
