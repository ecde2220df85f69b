/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Transport headers: TCP with its options, UDP, ICMP and ICMPv6, and their
 * checksums. Everything is bounded by the end of the IP packet (l3_off +
 * l3_len), never by the frame: Ethernet padding is not payload.
 *
 * Order within a header: structure (lengths), then checksum, then meaning
 * (TCP flags), so that a corrupted packet is counted as corrupted rather
 * than as whatever its damaged bits happen to say.
 */
#include "internal.h"

/*
 * Checksum with the pseudo-header (RFC 793/768 for IPv4, RFC 8200 8.1 for
 * IPv6). Both families sum the 32 address bytes of the descriptor: for IPv4
 * the ::ffff prefix adds 0xffff, which is zero in one's complement, so the
 * sum is the IPv4 one. The length/next-header block is laid out as IPv6's;
 * its words sum to the same value as IPv4's zero/protocol/length.
 */
static bool csum_pseudo_ok(const struct rw_pkt *p, const uint8_t *l4, uint32_t n)
{
	uint8_t ph[8] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n,
			 0, 0, 0, p->proto};
	uint64_t s = 0;
	uint32_t w;

	/* Ten 32-bit words summed inline (no carry can leave 64 bits): this
	 * runs for every TCP/UDP packet, the call overhead would dominate. */
	for (int i = 0; i < 16; i += 4) {
		memcpy(&w, p->saddr + i, 4);
		s += w;
		memcpy(&w, p->daddr + i, 4);
		s += w;
	}
	memcpy(&w, ph, 4);
	s += w;
	memcpy(&w, ph + 4, 4);
	s += w;
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return rw_csum_fold(rw_csum_partial(l4, n, (uint32_t)s)) == 0;
}

/* RFC 7323 2.3: a shift above 14 is treated as 14. */
#define TCP_MAX_WSCALE 14

/*
 * MSS, window scale, SACK-permitted, timestamps. A known option with the
 * wrong length is ignored, and a malformed length ends the walk, as Linux's
 * tcp_parse_options() does: the endpoint will read the options the same
 * way, so the tracker sees what the endpoint sees.
 */
static void tcp_options(struct rw_pkt *p, const uint8_t *o, uint32_t n)
{
	uint32_t i = 0, l;

	p->tcp_mss = 0;
	p->tcp_wscale = RW_WSCALE_NONE;
	p->tcp_sackok = 0;
	p->tcp_ts = 0;
	p->tcp_tsval = 0;
	p->tcp_tsecr = 0;
	while (i < n) {
		if (o[i] == 0) /* end of list */
			break;
		if (o[i] == 1) { /* NOP */
			i++;
			continue;
		}
		if (n - i < 2)
			break;
		l = o[i + 1];
		if (l < 2 || l > n - i)
			break;
		if (o[i] == 2 && l == 4) {
			p->tcp_mss = rd16(o + i + 2);
		} else if (o[i] == 3 && l == 3) {
			p->tcp_wscale = RW_MIN(o[i + 2], TCP_MAX_WSCALE);
		} else if (o[i] == 4 && l == 2) {
			p->tcp_sackok = 1;
		} else if (o[i] == 8 && l == 10) {
			p->tcp_ts = 1;
			p->tcp_tsval = rd32(o + i + 2);
			p->tcp_tsecr = rd32(o + i + 6);
		}
		i += l;
	}
}

/*
 * A transport header cut short: in a first fragment that is the tiny
 * fragment attack (RFC 1858, RFC 3128; RFC 7112 for IPv6), where the flags
 * or ports a filter judges are pushed into a later fragment, so it is a
 * fragment-policy drop; in a whole packet it is plain truncation.
 */
static int l4_short(const struct rw_pkt *p, int reason)
{
	return p->flags & RW_PKT_FRAG ? RW_DROP_FRAG : reason;
}

static bool want_csum(const struct rw_pkt *p, const struct rw_parse_opts *o, bool csum_ok)
{
	return o->verify_l4_csum && csum_ok && !(p->flags & RW_PKT_FRAG);
}

static int parse_tcp(struct rw_pkt *p, const uint8_t *th, uint32_t n,
		     const struct rw_parse_opts *o, bool csum_ok)
{
	uint32_t doff;

	if (unlikely(n < 20))
		return l4_short(p, RW_DROP_TCP_SHORT);
	doff = (th[12] >> 4) * 4u;
	if (unlikely(doff < 20))
		return RW_DROP_TCP_SHORT;
	if (unlikely(doff > n))
		return l4_short(p, RW_DROP_TCP_SHORT);
	if (want_csum(p, o, csum_ok) && unlikely(!csum_pseudo_ok(p, th, n)))
		return RW_DROP_L4_CHECKSUM;
	if (unlikely(!tcp_flags_ok(th[13])))
		return RW_DROP_TCP_FLAGS;

	tcp_fixed_fields(p, th);
	tcp_options(p, th + 20, doff - 20);
	p->payload_off = (uint16_t)(p->l4_off + doff);
	p->payload_len = (uint16_t)(n - doff);
	return RW_PASS;
}

/*
 * The UDP length must hold the header and fit the IP payload; trailing
 * bytes after it are ignored, as the endpoint will. In a first fragment it
 * is the whole datagram's length, so only the lower bound applies.
 * Checksum 0 means "none" over IPv4 and is invalid over IPv6 (RFC 8200 8.1).
 */
static int parse_udp(struct rw_pkt *p, const uint8_t *uh, uint32_t n,
		     const struct rw_parse_opts *o, bool csum_ok)
{
	bool frag = p->flags & RW_PKT_FRAG;
	uint32_t ulen;

	if (unlikely(n < 8))
		return l4_short(p, RW_DROP_UDP_SHORT);
	ulen = rd16(uh + 4);
	if (unlikely(ulen < 8 || (!frag && ulen > n)))
		return RW_DROP_UDP_SHORT;
	if (want_csum(p, o, csum_ok)) {
		if (rd16(uh + 6) == 0) {
			if (unlikely(p->af == RW_AF_INET6))
				return RW_DROP_L4_CHECKSUM;
		} else if (unlikely(!csum_pseudo_ok(p, uh, ulen))) {
			return RW_DROP_L4_CHECKSUM;
		}
	}
	p->sport = rd16(uh);
	p->dport = rd16(uh + 2);
	p->payload_off = (uint16_t)(p->l4_off + 8);
	p->payload_len = (uint16_t)((frag ? n : ulen) - 8);
	return RW_PASS;
}

static bool icmp_is_echo(uint8_t af, uint8_t type)
{
	return af == RW_AF_INET ? type == 0 || type == 8 : type == 128 || type == 129;
}

/* Errors: unreachable, source quench, redirect, time exceeded, parameter
 * problem (RFC 792); unreachable, too big, time exceeded, parameter problem
 * (RFC 4443). */
static bool icmp_is_err(uint8_t af, uint8_t type)
{
	if (af == RW_AF_INET)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/* ICMP (no pseudo-header) and ICMPv6 (with one). The 8-byte header is type,
 * code, checksum and four bytes whose meaning depends on the type. */
static int parse_icmp(struct rw_pkt *p, const uint8_t *ih, uint32_t n,
		      const struct rw_parse_opts *o, bool csum_ok)
{
	if (unlikely(n < 8))
		return l4_short(p, RW_DROP_ICMP_SHORT);
	if (want_csum(p, o, csum_ok)) {
		bool ok = p->af == RW_AF_INET ? rw_csum_fold(rw_csum_partial(ih, n, 0)) == 0
					      : csum_pseudo_ok(p, ih, n);
		if (unlikely(!ok))
			return RW_DROP_L4_CHECKSUM;
	}
	p->icmp_type = ih[0];
	p->icmp_code = ih[1];
	if (icmp_is_echo(p->af, ih[0]))
		p->icmp_id = rd16(ih + 4);
	if (icmp_is_err(p->af, ih[0]))
		p->flags |= RW_PKT_ICMP_ERR;
	p->payload_off = (uint16_t)(p->l4_off + 8);
	p->payload_len = (uint16_t)(n - 8);
	return RW_PASS;
}

int rw_parse_l4(struct rw_pkt *p, const struct rw_parse_opts *o, bool csum_ok)
{
	const uint8_t *h = p->data + p->l4_off;
	uint32_t n = p->l3_off + p->l3_len - p->l4_off;
	int ret;

	switch (p->proto) {
	case RW_PROTO_TCP:
		ret = parse_tcp(p, h, n, o, csum_ok);
		break;
	case RW_PROTO_UDP:
		ret = parse_udp(p, h, n, o, csum_ok);
		break;
	case RW_PROTO_ICMP:
	case RW_PROTO_ICMP6:
		/* ICMPv4 in IPv6 or ICMPv6 in IPv4 has no meaning to either
		 * stack; pf drops both, and so do we. */
		if (unlikely((p->proto == RW_PROTO_ICMP) != (p->af == RW_AF_INET)))
			return RW_DROP_ICMP_FAMILY;
		ret = parse_icmp(p, h, n, o, csum_ok);
		break;
	default:
		/* ESP, No Next Header, GRE, SCTP...: judged by protocol
		 * and addresses; payload_* cover what follows the IP
		 * header chain. */
		return RW_PASS;
	}
	if (likely(ret == RW_PASS))
		p->flags |= RW_PKT_L4;
	return ret;
}
