/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Link and network layers: Ethernet, up to two VLAN tags, ARP, IPv4 with its
 * options, IPv6 with its extension-header chain. Every read is preceded by a
 * check that the bytes are there (the masscan VERIFY_REMAINING habit); every
 * failure returns the drop reason that names it. docs/parsing.md lists the
 * checks in order.
 */
#include "parse_fast.h"

#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_IPV6 0x86dd

/* Two tags cover 802.1Q and QinQ (802.1ad), which is all a bridge in front
 * of a host or a provider edge should see; a deeper stack is either a
 * misconfiguration or an attempt to hide the EtherType from filters. */
#define RW_MAX_VLAN 2

static int parse_eth(struct rw_pkt *p)
{
	const uint8_t *d = p->data;
	uint32_t off = RW_ETH_HLEN;
	uint16_t et;

	if (unlikely(p->len < RW_ETH_HLEN))
		return RW_DROP_ETH_SHORT;
	et = rd16(d + 12);
	while (et == ETH_P_8021Q || et == ETH_P_8021AD) {
		if (unlikely(p->nvlan == RW_MAX_VLAN))
			return RW_DROP_VLAN_DEPTH;
		if (unlikely(p->len - off < 4))
			return RW_DROP_VLAN_SHORT;
		p->vlan[p->nvlan++] = rd16(d + off) & 0x0fff;
		et = rd16(d + off + 2);
		off += 4;
	}
	p->ethertype = et;
	p->l3_off = (uint16_t)off;
	return RW_PASS;
}

/*
 * ARP: the 8-byte fixed part, then sender and target hardware and protocol
 * addresses of the sizes it declares. Ethernet/IPv4 ARP (the only kind a
 * bridge in front of IPv4 hosts should carry) must declare 6 and 4, so that
 * later stages may read its addresses at fixed offsets.
 */
static int parse_arp(struct rw_pkt *p)
{
	const uint8_t *a = p->data + p->l3_off;
	uint32_t room = p->len - p->l3_off, need;

	p->flags |= RW_PKT_ARP;
	if (unlikely(room < 8))
		return RW_DROP_ARP_SHORT;
	need = 8 + 2u * (a[4] + a[5]);
	if (rd16(a) == 1 && rd16(a + 2) == RW_ETH_P_IP && unlikely(a[4] != 6 || a[5] != 4))
		return RW_DROP_ARP_SHORT;
	if (unlikely(room < need))
		return RW_DROP_ARP_SHORT;
	p->l3_len = (uint16_t)need;
	return RW_PASS;
}

/*
 * IPv4 options (RFC 791): EOL ends the list (the rest is padding), NOP is one
 * byte, every other option has a length byte >= 2 that stays inside the
 * header. Source-route, record-route and timestamp options carry a pointer
 * that must at least point past their own fixed part, as Linux's
 * ip_options_compile() insists. *srcroute tells the caller the L4 checksum
 * was computed against the final destination, not the header's.
 */
static int ip4_options(const uint8_t *o, uint32_t n, bool *srcroute)
{
	uint32_t i = 0, l;

	while (i < n) {
		uint8_t t = o[i];

		if (t == 0)
			break;
		if (t == 1) {
			i++;
			continue;
		}
		if (unlikely(n - i < 2))
			return RW_DROP_IP_OPTIONS;
		l = o[i + 1];
		if (unlikely(l < 2 || l > n - i))
			return RW_DROP_IP_OPTIONS;
		switch (t) {
		case 131: /* LSRR */
		case 137: /* SSRR */
			*srcroute = true;
			/* fall through */
		case 7:   /* RR */
			if (unlikely(l < 3 || o[i + 2] < 4))
				return RW_DROP_IP_OPTIONS;
			break;
		case 68:  /* timestamp */
			if (unlikely(l < 4 || o[i + 2] < 5))
				return RW_DROP_IP_OPTIONS;
			break;
		}
		i += l;
	}
	return RW_PASS;
}

/* Fields every IP packet defines before the transport layer is looked at. */
static void ip_common(struct rw_pkt *p, uint32_t hdr_end)
{
	p->l4_off = (uint16_t)hdr_end;
	p->payload_off = (uint16_t)hdr_end;
	p->payload_len = (uint16_t)(p->l3_off + p->l3_len - hdr_end);
	p->sport = 0;
	p->dport = 0;
	p->icmp_type = 0;
	p->icmp_code = 0;
	p->icmp_id = 0;
}

/*
 * IPv4 fragment checks that need no reassembly state: a fragment that would
 * end past 65,535 bytes (ping of death), a fragment with no data, and a
 * non-final fragment whose data is not a multiple of 8 (a reassembler could
 * not place the next one) are all dropped as RW_DROP_FRAG.
 */
static int frag_sane(uint32_t before, uint32_t off, uint32_t data, bool more)
{
	if (unlikely(before + off + data > 0xffff))
		return RW_DROP_FRAG;
	if (unlikely(data == 0 || (more && (data & 7))))
		return RW_DROP_FRAG;
	return RW_PASS;
}


static int parse_ip4(struct rw_pkt *p, const struct rw_parse_opts *o)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t room = p->len - p->l3_off, hl, tot, fo;
	bool srcroute = false;
	int ret;

	if (unlikely(room < 20))
		return RW_DROP_IP_SHORT;
	if (unlikely(ip[0] >> 4 != 4))
		return RW_DROP_IP_VERSION;
	hl = (ip[0] & 0x0fu) * 4;
	if (unlikely(hl < 20 || hl > room))
		return RW_DROP_IP_IHL;
	tot = rd16(ip + 2);
	if (unlikely(tot < hl || tot > room))
		return RW_DROP_IP_TOTAL_LEN;
	if (unlikely(!rw_ip4_csum_ok(ip, hl)))
		return RW_DROP_IP_CHECKSUM;
	if (hl > 20) {
		ret = ip4_options(ip + 20, hl - 20, &srcroute);
		if (unlikely(ret))
			return ret;
		p->flags |= RW_PKT_IP_OPTS;
	}

	p->af = RW_AF_INET;
	p->proto = ip[9];
	p->ttl = ip[8];
	p->l3_len = (uint16_t)tot;
	rw_addr_map4(p->saddr, ip + 12);
	rw_addr_map4(p->daddr, ip + 16);
	ip_common(p, p->l3_off + hl);

	fo = rd16(ip + 6);
	p->frag_id = rd16(ip + 4);
	p->frag_off = (uint16_t)((fo & RW_IP4_OFFMASK) * 8);
	if (fo & (RW_IP4_MF | RW_IP4_OFFMASK)) {
		p->flags |= RW_PKT_FRAG;
		ret = frag_sane(0, p->frag_off, tot - hl, fo & RW_IP4_MF);
		if (unlikely(ret))
			return ret;
		if (p->frag_off) {
			/* No transport header here: ports stay 0, the
			 * fragment's data is [payload_off, +payload_len). */
			p->flags |= RW_PKT_FRAG_LATER;
			return RW_PASS;
		}
	}
	return rw_parse_l4(p, o, !srcroute);
}

/*
 * Options inside hop-by-hop and destination-options headers (RFC 8200 4.2):
 * Pad1 is one byte, every other option is type, length, data, and must stay
 * inside its header. A Jumbo Payload option means a jumbogram (RFC 2675),
 * which we do not support, and is invalid anyway when the payload length is
 * not zero.
 */
static int ip6_tlvs(const uint8_t *o, uint32_t n)
{
	uint32_t i = 0, l;

	while (i < n) {
		if (o[i] == 0) {
			i++;
			continue;
		}
		if (unlikely(n - i < 2))
			return RW_DROP_IP6_EXT_SHORT;
		l = o[i + 1] + 2u;
		if (unlikely(l > n - i))
			return RW_DROP_IP6_EXT_SHORT;
		if (unlikely(o[i] == 0xc2))
			return RW_DROP_IP6_PAYLOAD_LEN;
		i += l;
	}
	return RW_PASS;
}

enum {
	NH_HOPOPTS = 0,
	NH_ROUTING = 43,
	NH_FRAGMENT = 44,
	NH_AH = 51,
	NH_DSTOPTS = 60,
};

/* One extension header at data[off]: its length in *hl, after checking it
 * lies before end; c collects what it says. */
static int ip6_ext(const uint8_t *d, uint32_t off, uint32_t end, uint8_t nh, uint32_t *hl,
		   struct rw_ip6_chain *c)
{
	const uint8_t *h = d + off;
	uint16_t fo;

	if (unlikely(end - off < 8)) /* every extension header is >= 8 bytes */
		return RW_DROP_IP6_EXT_SHORT;
	switch (nh) {
	case NH_HOPOPTS:
	case NH_DSTOPTS:
		*hl = (h[1] + 1u) * 8;
		if (unlikely(*hl > end - off))
			return RW_DROP_IP6_EXT_SHORT;
		c->flags |= RW_PKT_IP_OPTS;
		return ip6_tlvs(h + 2, *hl - 2);
	case NH_ROUTING:
		*hl = (h[1] + 1u) * 8;
		if (unlikely(*hl > end - off))
			return RW_DROP_IP6_EXT_SHORT;
		/* Type 0 turns any host into a packet reflector (RFC 5095
		 * deprecated it; pf drops it too). */
		if (unlikely(h[2] == 0 && h[3] != 0))
			return RW_DROP_IP_OPTIONS;
		c->route_pending |= h[3] != 0;
		c->flags |= RW_PKT_IP_OPTS;
		return RW_PASS;
	case NH_FRAGMENT:
		*hl = 8;
		fo = rd16(h + 2);
		c->has_frag = true;
		c->frag_hdr_off = (uint16_t)off;
		c->frag_off = fo & 0xfff8;
		c->frag_more = fo & 1;
		c->frag_id = rd32(h + 4);
		/* RFC 6946: offset 0 without M is an atomic fragment, a whole
		 * packet that only carries the header; not a fragment. */
		if (c->frag_off || c->frag_more)
			c->flags |= RW_PKT_FRAG;
		if (c->frag_off)
			c->flags |= RW_PKT_FRAG_LATER;
		return RW_PASS;
	default: /* NH_AH: length in 4-byte units minus 2 (RFC 4302) */
		*hl = (h[1] + 2u) * 4;
		if (unlikely(*hl < 12 || *hl > end - off))
			return RW_DROP_IP6_EXT_SHORT;
		return RW_PASS;
	}
}

static bool ip6_is_ext(uint8_t nh)
{
	return nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_FRAGMENT || nh == NH_AH ||
	       nh == NH_DSTOPTS;
}

/*
 * The chain: hop-by-hop only first (RFC 8200 4.1), one routing and one
 * fragment header at most (pf's rule; two are never legitimate), no more
 * than RW_IP6_MAX_EXT headers. The walk stops at the first header that is
 * not one of the five we walk: TCP/UDP/ICMPv6, ESP (50, encrypted from here
 * on), No Next Header (59), or any other protocol; that is c->proto. It also
 * stops after a non-first fragment's header: what follows is fragment data.
 */
int rw_ip6_walk(const uint8_t *d, uint32_t off, uint32_t end, uint8_t nh, struct rw_ip6_chain *c)
{
	bool seen_rt = false;
	uint32_t hl = 0;
	unsigned n;
	int ret;

	c->flags = 0;
	c->frag_id = 0;
	c->frag_off = 0;
	c->frag_hdr_off = 0;
	c->frag_more = false;
	c->has_frag = false;
	c->route_pending = false;

	for (n = 0; ip6_is_ext(nh); n++) {
		if (unlikely(n == RW_IP6_MAX_EXT))
			return RW_DROP_IP6_EXT_CHAIN;
		if (unlikely((nh == NH_HOPOPTS && n) || (nh == NH_FRAGMENT && c->has_frag) ||
			     (nh == NH_ROUTING && seen_rt)))
			return RW_DROP_IP6_EXT_CHAIN;
		seen_rt |= nh == NH_ROUTING;
		ret = ip6_ext(d, off, end, nh, &hl, c);
		if (unlikely(ret))
			return ret;
		nh = d[off];
		off += hl;
		if (c->flags & RW_PKT_FRAG_LATER)
			break;
	}
	c->proto = nh;
	c->l4_off = (uint16_t)off;
	return RW_PASS;
}

static int parse_ip6(struct rw_pkt *p, const struct rw_parse_opts *o)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t room = p->len - p->l3_off, plen, end;
	struct rw_ip6_chain c;
	int ret;

	if (unlikely(room < 40))
		return RW_DROP_IP6_SHORT;
	if (unlikely(ip[0] >> 4 != 6))
		return RW_DROP_IP_VERSION;
	plen = rd16(ip + 4);
	/* Payload length 0 with hop-by-hop first is a jumbogram (RFC 2675). */
	if (unlikely(plen == 0 && ip[6] == NH_HOPOPTS))
		return RW_DROP_IP6_PAYLOAD_LEN;
	if (unlikely(40 + plen > room))
		return RW_DROP_IP6_PAYLOAD_LEN;
	end = p->l3_off + 40 + plen;
	ret = rw_ip6_walk(p->data, p->l3_off + 40, end, ip[6], &c);
	if (unlikely(ret))
		return ret;

	p->af = RW_AF_INET6;
	p->proto = c.proto;
	p->ttl = ip[7];
	p->l3_len = (uint16_t)(40 + plen);
	p->flags |= c.flags;
	p->frag_id = c.frag_id;
	p->frag_off = c.frag_off;
	memcpy(p->saddr, ip + 8, 16);
	memcpy(p->daddr, ip + 24, 16);
	ip_common(p, c.l4_off);

	if (c.flags & RW_PKT_FRAG) {
		/* Reassembled payload = unfragmentable headers + offset +
		 * this fragment's data; RFC 8200 4.5 drops it past 65,535. */
		uint32_t before = c.frag_hdr_off - (p->l3_off + 40u);
		uint32_t data = end - (c.frag_hdr_off + 8u);

		ret = frag_sane(before, c.frag_off, data, c.frag_more);
		if (unlikely(ret))
			return ret;
		if (c.flags & RW_PKT_FRAG_LATER)
			return RW_PASS;
	}
	return rw_parse_l4(p, o, !c.route_pending);
}

/* What a NULL rw_parse_opts means: nothing verified beyond the headers. */
static const struct rw_parse_opts parse_defaults;

int rw_parse(struct rw_pkt *p, uint8_t *data, uint32_t len, const struct rw_parse_opts *o)
{
	/* L4 checksums verified in software are the general parser's job; it
	 * also stands in for a NULL o. */
	if (likely(!(o && o->verify_l4_csum)) && likely(rw_parse_fast_inline(p, data, len)))
		return RW_PASS;
	return rw_parse_general(p, data, len, o);
}

bool rw_parse_fast(struct rw_pkt *p, uint8_t *data, uint32_t len)
{
	return rw_parse_fast_inline(p, data, len);
}

int rw_parse_general(struct rw_pkt *p, uint8_t *data, uint32_t len, const struct rw_parse_opts *o)
{
	int ret;

	/* Only what every reader may look at whatever happens next; each
	 * stage below defines the fields it owns (docs/parsing.md). */
	p->data = data;
	p->len = RW_MIN(len, RW_FRAME_MAX);
	p->flags = 0;
	p->af = RW_AF_NONE;
	p->proto = 0;
	p->nvlan = 0;
	p->ethertype = 0;
	p->l3_off = 0;
	p->l3_len = 0;
	p->l4_off = 0;
	p->payload_off = 0;
	p->payload_len = 0;
	if (!o)
		o = &parse_defaults;

	ret = parse_eth(p);
	if (unlikely(ret))
		return ret;
	switch (p->ethertype) {
	case RW_ETH_P_IP:
		return parse_ip4(p, o);
	case ETH_P_IPV6:
		return parse_ip6(p, o);
	case ETH_P_ARP:
		return parse_arp(p);
	default:
		/* Not ours to judge here: the worker applies the non-IP policy. */
		p->l3_len = (uint16_t)(p->len - p->l3_off);
		return RW_PASS;
	}
}
