/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared between the files of src/pkt only (and parse_fast.h, which the
 * worker includes for the parser's inline fast path): byte readers that
 * never assume alignment, the IPv6 extension-header walker (used for packets
 * and for the packets ICMPv6 errors quote) and the transport parser entry.
 */
#ifndef RW_PKT_INTERNAL_H
#define RW_PKT_INTERNAL_H

#include <string.h>
#include "pkt.h"
#include "../worker/reasons.h"

static inline uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* addr16 = ::ffff:a.b.c.d */
static inline void rw_addr_map4(uint8_t dst[16], const uint8_t v4[4])
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memcpy(dst, pfx, 12);
	memcpy(dst + 12, v4, 4);
}

/*
 * The flag combinations a TCP segment may carry, after PSH, ECE and CWR are
 * set aside: Linux conntrack's tcp_valid_flags[] list. Anything else (no
 * flags: null scan; FIN alone or FIN|PSH|URG: FIN and Xmas scans; SYN with
 * FIN or RST; RST with FIN; URG or FIN without ACK except SYN|URG) is not
 * sent by any stack and is dropped. The bit for combination f is bit f of
 * the mask, f being the byte with PSH/ECE/CWR cleared (< 64).
 */
#define F(x) (1ull << (x))
static const uint64_t tcp_valid_flags =
	F(RW_TH_SYN) | F(RW_TH_SYN | RW_TH_URG) | F(RW_TH_SYN | RW_TH_ACK) |
	F(RW_TH_RST) | F(RW_TH_RST | RW_TH_ACK) |
	F(RW_TH_FIN | RW_TH_ACK) | F(RW_TH_FIN | RW_TH_ACK | RW_TH_URG) |
	F(RW_TH_ACK) | F(RW_TH_ACK | RW_TH_URG);
#undef F

static inline bool tcp_flags_ok(uint8_t f)
{
	f &= (uint8_t)~(RW_TH_PUSH | RW_TH_ECE | RW_TH_CWR);
	return tcp_valid_flags >> f & 1;
}

/* rw_parse without its fast path (parse.c): every frame through the
 * general parser. For tests that check the fast path against it. */
int rw_parse_general(struct rw_pkt *p, uint8_t *data, uint32_t len, const struct rw_parse_opts *o);

/* rw_parse's fast path alone (parse.c): true when it took the frame (and
 * filled p), false when rw_parse would hand it to the general parser. For
 * tests that check it takes the frames it should. */
bool rw_parse_fast(struct rw_pkt *p, uint8_t *data, uint32_t len);

/* The fixed part of a TCP header (th, 20 bytes, already checked) into p:
 * ports, sequence numbers, flags, window. Options are the caller's. Always
 * inlined: with the parser's fast path expanded several times (rw_parse,
 * the tests' rw_parse_fast, the worker's parse loop) GCC would otherwise
 * call it, once a packet. */
static inline __attribute__((always_inline)) void tcp_fixed_fields(struct rw_pkt *p, const uint8_t *th)
{
	p->sport = rd16(th);
	p->dport = rd16(th + 2);
	p->tcp_seq = rd32(th + 4);
	p->tcp_ack = rd32(th + 8);
	p->tcp_flags = th[13];
	p->tcp_win = rd16(th + 14);
}

/*
 * At most this many extension headers before the upper-layer header. Real
 * traffic carries at most three (hop-by-hop, fragment, destination options,
 * or AH); eight leaves room for odd but legal chains while bounding the work
 * an attacker can buy with one packet (RFC 7045 asks us to walk the chain,
 * not to walk it forever).
 */
#define RW_IP6_MAX_EXT 8

/* What the walk over an IPv6 extension-header chain found. */
struct rw_ip6_chain {
	uint32_t frag_id;
	uint16_t l4_off;       /* upper-layer header (or where the walk stopped) */
	uint16_t frag_off;     /* fragment offset in bytes */
	uint16_t frag_hdr_off; /* offset of the fragment header, 0 when none */
	uint8_t proto;         /* upper-layer protocol */
	uint8_t flags;         /* RW_PKT_FRAG, RW_PKT_FRAG_LATER, RW_PKT_IP_OPTS */
	bool frag_more;        /* M bit of the fragment header */
	bool has_frag;         /* a fragment header was seen (atomic ones too) */
	bool route_pending;    /* a routing header with segments left > 0 */
};

/*
 * Walk the chain that starts at data[off] with next-header nh, never reading
 * at or past data[end]. Returns RW_PASS or a drop reason.
 */
int rw_ip6_walk(const uint8_t *data, uint32_t off, uint32_t end, uint8_t nh,
		struct rw_ip6_chain *c);

/*
 * Parse the transport header at p->l4_off (p->proto, p->af, p->flags, the
 * addresses and p->l3_len set). Bounded by the IP packet's end. Sets
 * RW_PKT_L4 and the transport fields on success. csum_ok is false when the
 * pseudo-header destination is not the one in the IP header (source routing
 * still under way), so the L4 checksum cannot be checked here.
 */
int rw_parse_l4(struct rw_pkt *p, const struct rw_parse_opts *o, bool csum_ok);

#endif
