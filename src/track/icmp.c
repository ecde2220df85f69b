/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP and ICMPv6: echo state (a request opens it, keyed by addresses and
 * identifier; replies from the responder pass), and errors, which pass
 * only when the packet they quote belongs to a tracked connection.
 */
#include <string.h>
#include "../worker/reasons.h"
#include "synproxy.h"
#include "track.h"

void rw_icmp_open(struct rw_conn *c, uint64_t now)
{
	c->peer[0].state = RW_PEER_SINGLE;
	c->to = RW_TO_ICMP_FIRST;
	c->last = now;
}

enum rw_track_result rw_icmp_track(struct rw_conn *c, unsigned d, const struct rw_pkt *p,
				   uint64_t now)
{
	/* requests go initiator -> responder and replies back; anything else
	 * (the responder pinging with the same identifier) is the rules' call */
	bool ok = d == 0 ? rw_icmp_is_echo_req(p->proto, p->icmp_type)
			 : rw_icmp_is_echo_rep(p->proto, p->icmp_type);

	if (!ok)
		return RW_TRACK_MISS;
	c->peer[d].state = RW_PEER_SINGLE;
	if (c->peer[1].state >= RW_PEER_SINGLE)
		c->flags |= RW_CF_SOLID; /* answered: a full table keeps it */
	/* pf refreshes an echo state with the icmp.error timeout */
	c->to = RW_TO_ICMP_ERROR;
	c->last = now;
	return RW_TRACK_PASS;
}

/* The quoted packet's ports as the connection key wants them; false when
 * the quote cannot belong to any state (an ICMP message not an echo). */
static bool quote_ports(const struct rw_quote *q, uint16_t *sp, uint16_t *dp)
{
	switch (q->proto) {
	case RW_PROTO_TCP:
	case RW_PROTO_UDP:
		*sp = q->sport, *dp = q->dport;
		return true;
	case RW_PROTO_ICMP:
	case RW_PROTO_ICMP6:
		if (!rw_icmp_is_echo_req(q->proto, q->icmp_type) &&
		    !rw_icmp_is_echo_rep(q->proto, q->icmp_type))
			return false;
		*sp = *dp = q->icmp_id;
		return true;
	default:
		*sp = *dp = 0;
		return true;
	}
}

/*
 * A quoted TCP segment of c sent by role d: it must be one its sender could
 * have sent (rw_tcp_quote_ok). A connection the SYN proxy splices numbers
 * the server's bytes differently on each side, as pf's modulated states do:
 * the seq is checked in the tracker's numbering and, when it differs, the
 * quote is rewritten into the numbering of the host the error goes to (its
 * stack drops an error quoting a seq it never sent: no PMTU discovery).
 * RW_PASS or a drop reason.
 */
static unsigned quote_tcp(struct rw_state *s, const struct rw_conn *c, unsigned d,
			  const struct rw_pkt *p, const struct rw_quote *q)
{
	bool proxied = c->flags & RW_CF_PROXY;
	uint32_t seq = q->tcp_seq;

	if (proxied && !rw_synproxy_quote_seq(c, d, q->tcp_seq, &seq))
		return RW_DROP_ICMP_ERR_NOSTATE;
	if (!rw_tcp_quote_ok(c, d, seq)) {
		s->last_check = RW_TCPC_QUOTE_SEQ;
		s->checks[RW_TCPC_QUOTE_SEQ]++;
		return RW_DROP_ICMP_ERR_NOSTATE;
	}
	if (proxied && seq != q->tcp_seq)
		return rw_synproxy_quote_fix(p, q, seq);
	return RW_PASS;
}

enum rw_track_result rw_state_icmp_error(struct rw_state *s, const struct rw_pkt *p,
					 const struct rw_quote *q, uint64_t now, uint32_t *rule,
					 unsigned *reason)
{
	union rw_key k;
	struct rw_conn *c;
	unsigned klen, side, d, r;
	uint16_t sp, dp;

	*reason = RW_DROP_ICMP_ERR_NOSTATE;
	/* the quote travelled the other way: it was sent by the host the
	 * error is addressed to, in the error's family */
	if (unlikely(q->af != p->af || memcmp(q->saddr, p->daddr, 16) != 0))
		return RW_TRACK_DROP;
	if (!quote_ports(q, &sp, &dp))
		return RW_TRACK_DROP;
	klen = rw_key_make(&k, q->af, q->proto, q->saddr, q->daddr, sp, dp, &side);
	if (unlikely(!klen))
		return RW_TRACK_DROP;
	c = rw_state_lookup(s, &k, klen, now);
	if (!c)
		return RW_TRACK_DROP;
	d = side ^ !!(c->flags & RW_CF_INIT_B);
	if (q->proto == RW_PROTO_TCP) {
		r = quote_tcp(s, c, d, p, q);
		if (r != RW_PASS) {
			*reason = r;
			return RW_TRACK_DROP;
		}
	}
	*rule = c->rule;
	*reason = RW_PASS;
	return RW_TRACK_PASS;
}
