/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TCP fast path (src/track/tcp_fast.h) against the full path
 * (rw_tcp_track_full) on random segments and connection states: a segment
 * the fast path accepts must get the full path's verdict (pass) and leave
 * every byte of the connection as the full path leaves it; a segment it
 * declines must leave the connection untouched (the full path then judges
 * it). The states are drawn near the fast path's boundaries: windows and
 * acks around the edges of each check, scaled and unscaled peers, flags
 * and peer states mostly those of an established connection.
 */
#include "t.h"
#include "track/tcp_fast.h"
#include "worker/reasons.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: fixed seed, so a failure repeats */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* A value near base: often exactly at an edge, else within span. */
static uint32_t near(uint32_t base, uint32_t span)
{
	switch (below(4)) {
	case 0:
		return base + below(3) - 1;
	case 1:
		return (uint32_t)rnd();
	default:
		return base + below(2 * span + 1) - span;
	}
}

static uint8_t rnd_wscale(void)
{
	switch (below(4)) {
	case 0:
		return 0;
	case 1:
		return RW_WS_UNKNOWN | MAX_WINSHIFT;
	default:
		return (uint8_t)(RW_WS_FLAG | below(MAX_WINSHIFT + 1));
	}
}

static void rnd_peer(struct rw_peer *pe, bool est)
{
	pe->seqlo = (uint32_t)rnd();
	pe->seqhi = near(pe->seqlo, 1u << below(31));
	pe->max_win = below(3) ? (uint16_t)rnd() : (uint16_t)below(3);
	pe->wscale = rnd_wscale();
	pe->state = est ? RW_TCPS_ESTABLISHED : (uint8_t)below(RW_TCPS_MAX);
}

static void rnd_conn(struct rw_conn *c)
{
	bool est = below(8) != 0;

	memset(c, 0, sizeof(*c));
	rnd_peer(&c->peer[0], est);
	rnd_peer(&c->peer[1], est && below(16) != 0);
	c->last = rnd();
	c->rule = (uint32_t)rnd();
	c->pkts[0] = (uint32_t)rnd();
	c->pkts[1] = (uint32_t)rnd();
	c->flags = (uint8_t)(below(2) | (below(4) ? RW_CF_SOLID : 0) | (below(8) ? 0 : RW_CF_CLOSED));
	c->to = below(4) ? RW_TO_TCP_ESTABLISHED : (uint8_t)below(RW_TO_MAX);
}

static void rnd_seg(struct rw_pkt *p, const struct rw_conn *c, unsigned d)
{
	const struct rw_peer *src = &c->peer[d], *dst = &c->peer[d ^ 1];
	unsigned shift = dst->wscale & RW_WS_MASK;

	memset(p, 0, sizeof(*p));
	p->af = RW_AF_INET;
	p->proto = RW_PROTO_TCP;
	p->flags = RW_PKT_L4;
	p->tcp_flags = below(4) ? (uint8_t)(RW_TH_ACK | (below(2) ? RW_TH_PUSH : 0))
				: (uint8_t)rnd();
	p->tcp_wscale = RW_WSCALE_NONE;
	p->payload_len = below(2) ? 0 : (below(2) ? (uint16_t)below(1500) : (uint16_t)rnd());
	/* seq around seqlo (retransmissions reach back one scaled window) or
	 * ending around seqhi */
	switch (below(3)) {
	case 0:
		p->tcp_seq = near(src->seqlo, 1600);
		break;
	case 1:
		p->tcp_seq = near(src->seqlo - ((uint32_t)dst->max_win << shift), 1600);
		break;
	default:
		p->tcp_seq = near(src->seqhi - p->payload_len, 1600);
		break;
	}
	/* ack around the peer's seqlo and the two edges of the skew check */
	switch (below(3)) {
	case 0:
		p->tcp_ack = near(dst->seqlo, 1600);
		break;
	case 1:
		p->tcp_ack = near(dst->seqlo + MAXACKWINDOW, 16);
		break;
	default:
		p->tcp_ack = near(dst->seqlo - ((uint32_t)MAXACKWINDOW << (src->wscale & RW_WS_MASK)),
				  16);
		break;
	}
	p->tcp_win = below(4) ? (uint16_t)rnd() : (uint16_t)below(2);
}

TEST(fast_path_decides_as_the_full_path)
{
	struct rw_state *s = aligned_alloc(RW_CACHELINE, sizeof(*s));
	unsigned long accepted = 0, declined = 0, pure_acks = 0, scaled = 0;

	CHECK(s != NULL);
	if (!s)
		return;
	memset(s, 0, sizeof(*s)); /* the full path reads only its check counters */
	for (unsigned i = 0; i < 2000000; i++) {
		struct rw_conn c0, fast, full;
		struct rw_pkt p;
		unsigned d = below(2), reason = 0;
		uint64_t now = rnd();

		rnd_conn(&c0);
		rnd_seg(&p, &c0, d);
		fast = c0;
		full = c0;
		if (rw_tcp_track_established(&fast, d, &p, now)) {
			int r = rw_tcp_track_full(s, &full, d, &p, now, &reason);

			accepted++;
			pure_acks += p.payload_len == 0;
			scaled += c0.peer[0].wscale && c0.peer[1].wscale;
			if (r != RW_TRACK_PASS || memcmp(&fast, &full, sizeof(fast)) != 0) {
				printf("# segment %u: full path %d (reason %u), or another "
				       "connection\n", i, r, reason);
				CHECK(0);
				break;
			}
		} else {
			declined++;
			if (memcmp(&fast, &c0, sizeof(c0)) != 0) {
				printf("# segment %u: declined but changed the connection\n", i);
				CHECK(0);
				break;
			}
		}
	}
	printf("# %lu accepted (%lu pure ACKs, %lu scaled), %lu declined\n", accepted, pure_acks,
	       scaled, declined);
	/* the draw reaches both sides of the fast path's checks */
	CHECK(accepted > 100000 && pure_acks > 30000 && accepted - pure_acks > 30000);
	CHECK(scaled > 30000 && accepted - scaled > 30000);
	CHECK(declined > 100000);
	free(s);
}
