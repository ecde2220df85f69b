/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP and every IP protocol without its own tracker: a pseudo-connection
 * that only remembers who has sent. Timeouts as pf's: *.first after the
 * first packet, *.single while only one side talks, *.multiple once both
 * have (pf waits for one more packet after the reply; we switch at the
 * reply, which is when the flow has proved two-way).
 */
#include "track.h"

static void set_timeout(struct rw_conn *c, uint8_t proto, bool multiple)
{
	if (proto == RW_PROTO_UDP)
		c->to = multiple ? RW_TO_UDP_MULTIPLE : RW_TO_UDP_SINGLE;
	else
		c->to = multiple ? RW_TO_OTHER_MULTIPLE : RW_TO_OTHER_SINGLE;
}

void rw_udp_open(struct rw_conn *c, uint8_t proto, uint64_t now)
{
	c->peer[0].state = RW_PEER_SINGLE;
	c->peer[1].state = RW_PEER_NO_TRAFFIC;
	c->to = proto == RW_PROTO_UDP ? RW_TO_UDP_FIRST : RW_TO_OTHER_FIRST;
	c->last = now;
}

void rw_udp_track(struct rw_conn *c, unsigned d, uint8_t proto, uint64_t now)
{
	struct rw_peer *src = &c->peer[d], *dst = &c->peer[!d];

	if (src->state < RW_PEER_SINGLE)
		src->state = RW_PEER_SINGLE;
	if (dst->state >= RW_PEER_SINGLE)
		src->state = dst->state = RW_PEER_MULTIPLE;
	/* a flow with a reply is no longer embryonic: a full table keeps it */
	if (src->state == RW_PEER_MULTIPLE)
		c->flags |= RW_CF_SOLID;
	set_timeout(c, proto, src->state == RW_PEER_MULTIPLE);
	c->last = now;
}

#define PEER_ROW(a) { a ":NO_TRAFFIC", a ":SINGLE", a ":MULTIPLE" }
static const char *const peer_names[RW_PEER_MAX][RW_PEER_MAX] = {
	PEER_ROW("NO_TRAFFIC"), PEER_ROW("SINGLE"), PEER_ROW("MULTIPLE"),
};

const char *rw_udp_state_name(const struct rw_conn *c)
{
	unsigned a = c->peer[0].state, b = c->peer[1].state;

	if (a >= RW_PEER_MAX || b >= RW_PEER_MAX)
		return "?";
	return peer_names[a][b];
}
