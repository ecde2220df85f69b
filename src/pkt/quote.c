/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The packet an ICMP error quotes (RFC 792: IP header + 8 bytes; RFC 4443:
 * as much as fits in the minimum MTU). An error is admitted only when it
 * quotes a tracked connection, so this parser feeds the state lookup and
 * must be as strict as the outer one: every read inside the quote, which
 * itself lies inside the outer packet's IP payload.
 */
#include "internal.h"

/* The 8 transport bytes the tracker matches on. An error about an error is
 * never sent (RFC 1122 3.2.2, RFC 4443 2.4 e), so such a quote is forged. */
static int quote_l4(struct rw_quote *q, const uint8_t *h, uint32_t n)
{
	switch (q->proto) {
	case RW_PROTO_TCP:
	case RW_PROTO_UDP:
		if (unlikely(n < 8))
			return RW_DROP_ICMP_ERR_QUOTE;
		q->sport = rd16(h);
		q->dport = rd16(h + 2);
		if (q->proto == RW_PROTO_TCP)
			q->tcp_seq = rd32(h + 4);
		return RW_PASS;
	case RW_PROTO_ICMP:
	case RW_PROTO_ICMP6:
		if (unlikely(n < 8 || (q->proto == RW_PROTO_ICMP) != (q->af == RW_AF_INET)))
			return RW_DROP_ICMP_ERR_QUOTE;
		q->icmp_type = h[0];
		if (q->af == RW_AF_INET ? h[0] == 0 || h[0] == 8 : h[0] == 128 || h[0] == 129)
			q->icmp_id = rd16(h + 4);
		else if (q->af == RW_AF_INET ? h[0] != 13 && h[0] != 14 && h[0] != 15 &&
						       h[0] != 16 && h[0] != 17 && h[0] != 18
					     : h[0] < 128)
			return RW_DROP_ICMP_ERR_QUOTE;
		return RW_PASS;
	default:
		/* Other protocols are matched by addresses and protocol. */
		return RW_PASS;
	}
}

static int quote4(struct rw_quote *q, const uint8_t *b, uint32_t n)
{
	uint32_t hl, tot;

	if (unlikely(n < 20 || b[0] >> 4 != 4))
		return RW_DROP_ICMP_ERR_QUOTE;
	hl = (b[0] & 0x0fu) * 4;
	tot = rd16(b + 2);
	if (unlikely(hl < 20 || hl > n || tot < hl))
		return RW_DROP_ICMP_ERR_QUOTE;
	/* Only a first fragment carries the ports the error is about. */
	if (unlikely(rd16(b + 6) & 0x1fff))
		return RW_DROP_ICMP_ERR_QUOTE;
	q->af = RW_AF_INET;
	q->proto = b[9];
	rw_addr_map4(q->saddr, b + 12);
	rw_addr_map4(q->daddr, b + 16);
	/* Bytes past the quoted packet's own length are not its header. */
	q->l4_off = (uint16_t)hl;
	q->l4_len = (uint16_t)(RW_MIN(n, tot) - hl);
	return quote_l4(q, b + hl, RW_MIN(n, tot) - hl);
}

static int quote6(struct rw_quote *q, const uint8_t *b, uint32_t n)
{
	struct rw_ip6_chain c;
	uint32_t end;

	if (unlikely(n < 40 || b[0] >> 4 != 6))
		return RW_DROP_ICMP_ERR_QUOTE;
	end = RW_MIN(n, 40u + rd16(b + 4));
	if (unlikely(rw_ip6_walk(b, 40, end, b[6], &c) != RW_PASS))
		return RW_DROP_ICMP_ERR_QUOTE;
	if (unlikely(c.flags & RW_PKT_FRAG_LATER))
		return RW_DROP_ICMP_ERR_QUOTE;
	q->af = RW_AF_INET6;
	q->proto = c.proto;
	memcpy(q->saddr, b + 8, 16);
	memcpy(q->daddr, b + 24, 16);
	q->l4_off = c.l4_off;
	q->l4_len = (uint16_t)(end - c.l4_off);
	return quote_l4(q, b + c.l4_off, end - c.l4_off);
}

int rw_parse_quote(const struct rw_pkt *p, struct rw_quote *q)
{
	uint32_t off = p->payload_off, n = p->payload_len;
	int r;

	q->af = RW_AF_NONE;
	q->proto = 0;
	q->sport = 0;
	q->dport = 0;
	q->icmp_type = 0;
	q->icmp_id = 0;
	q->tcp_seq = 0;
	q->l4_off = 0;
	q->l4_len = 0;
	if (unlikely((p->flags & (RW_PKT_L4 | RW_PKT_ICMP_ERR)) != (RW_PKT_L4 | RW_PKT_ICMP_ERR)))
		return RW_DROP_ICMP_ERR_QUOTE;
	/* The descriptor came from rw_parse, but a quote is attacker data
	 * twice over: re-check the bounds it promises before trusting them. */
	if (unlikely(off + n > p->len || off + n > (uint32_t)p->l3_off + p->l3_len))
		return RW_DROP_ICMP_ERR_QUOTE;
	if (p->af == RW_AF_INET)
		r = quote4(q, p->data + off, n);
	else if (p->af == RW_AF_INET6)
		r = quote6(q, p->data + off, n);
	else
		return RW_DROP_ICMP_ERR_QUOTE;
	/* quote4/6 placed the transport header within the quote; the frame's
	 * offset is what a rewrite needs (bounded by p->len, checked above) */
	if (r == RW_PASS)
		q->l4_off = (uint16_t)(q->l4_off + off);
	else
		q->l4_off = q->l4_len = 0;
	return r;
}
