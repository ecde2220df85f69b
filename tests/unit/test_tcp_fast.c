/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fast paths of TCP tracking against the general ones, on random
 * segments and connection states drawn near the fast paths' boundaries:
 * windows and acks around the edges of each check, scaled and unscaled
 * peers, flags, peer states, timeouts and connection flags mostly those of
 * an established connection.
 *
 * - rw_tcp_track_established (src/track/tcp_fast.h) against the full path
 *   (rw_tcp_track_full): a segment it accepts gets the full path's verdict
 *   (pass) and leaves every byte of the connection as the full path does;
 *   one it declines leaves the connection untouched.
 * - rw_state_track's inline path (a packet prepare keyed) against the same
 *   packet unprepared (out of line, through rw_tcp_track): the same
 *   verdict, reason, rule, ct_solid, connection bytes and bucket bound.
 */
#include "t.h"
#include "track/tcp_fast.h"
#include "worker/reasons.h"
#include "track_util.h"


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
	c->flags = (uint8_t)(below(2) | (below(4) ? RW_CF_SOLID : 0) |
			     (below(8) ? 0 : RW_CF_CLOSED));
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
		p->tcp_ack = near(dst->seqlo -
					  ((uint32_t)MAXACKWINDOW << (src->wscale & RW_WS_MASK)),
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

/* Both shards' connection of p: set to the same random state, keeping what
 * ties it to its key and table (INIT_B, V6) and leaving out what needs a
 * proxy or helper set up (PROXY, ALG). */
static void set_both(struct rw_conn *a, struct rw_conn *b, uint64_t now)
{
	struct rw_conn r;
	uint8_t keep = a->flags & (RW_CF_INIT_B | RW_CF_V6);

	rnd_conn(&r);
	r.flags = (uint8_t)((r.flags & (RW_CF_SOLID | RW_CF_CLOSED)) | keep);
	r.last = now - below(1000) * SEC / 100; /* live: the lookup must find it */
	*a = r;
	*b = r;
}

static struct rw_state *shard(void)
{
	struct rw_state_opts o = {.capacity = 64, .hash_key = {7, 9}};

	for (unsigned i = 0; i < RW_TO_MAX; i++)
		o.timeouts[i] = 100 + 10 * i;
	return mk_shard(&o);
}

TEST(inline_track_decides_as_the_out_of_line_path)
{
	struct rw_state *s[2] = {shard(), shard()};
	unsigned long inline_pass = 0, diffs = 0, runs = 0;
	uint64_t now = 1000 * SEC;

	CHECK(s[0] && s[1]);
	if (!s[0] || !s[1])
		goto out;
	for (unsigned i = 0; i < 400000 && !diffs; i++, now += SEC / 1000) {
		struct rw_pkt syn = seg(0, RW_TH_SYN, 1000, 0, 65535, 0);
		struct rw_conn *c[2];
		struct rw_pkt p[2];
		uint32_t rule[2] = {0, 0};
		unsigned reason[2] = {0, 0}, d = below(2);
		int r[2];

		c[0] = conn_of(s[0], syn, now);
		c[1] = conn_of(s[1], syn, now);
		if (!c[0] || !c[1]) {
			/* removed (a reused port's SYN): open it again in both */
			CHECK(!c[0] && !c[1]);
			rw_state_create(s[0], &syn, 5, now);
			rw_state_create(s[1], &syn, 5, now);
			c[0] = conn_of(s[0], syn, now);
			c[1] = conn_of(s[1], syn, now);
			if (!c[0] || !c[1]) {
				CHECK(0);
				break;
			}
		}
		set_both(c[0], c[1], now);
		rnd_seg(&p[0], c[0], d);
		/* the descriptor of a real segment from that side */
		struct rw_pkt addr = seg((int)d, 0, 0, 0, 0, 0);
		memcpy(p[0].saddr, addr.saddr, 16);
		memcpy(p[0].daddr, addr.daddr, 16);
		p[0].sport = addr.sport;
		p[0].dport = addr.dport;
		p[1] = p[0];

		struct rw_pkt *pp = &p[0];
		rw_state_prepare(s[0], &pp, 1);
		rw_state_prefetch(s[0], &pp, 1);
		CHECK(p[0].ct_prep);
		r[0] = rw_state_track(s[0], &p[0], now, &rule[0], &reason[0]);
		r[1] = rw_state_track(s[1], &p[1], now, &rule[1], &reason[1]);
		runs++;
		inline_pass += r[0] == RW_TRACK_PASS && p[0].tcp_flags == RW_TH_ACK &&
			       c[0]->to == RW_TO_TCP_ESTABLISHED;

		uint32_t b = (uint32_t)(((uint8_t *)c[0] - s[0]->t4.entries) / s[0]->t4.esize) /
			     RW_CT_SLOTS;
		bool same = r[0] == r[1] && reason[0] == reason[1] &&
			    p[0].ct_solid == p[1].ct_solid &&
			    (r[0] != RW_TRACK_PASS || rule[0] == rule[1]) &&
			    s[0]->t4.bound[b] == s[1]->t4.bound[b];
		struct rw_conn *after0 = conn_of(s[0], syn, now), *after1 = conn_of(s[1], syn, now);
		same = same && !after0 == !after1 &&
		       (!after0 || memcmp(after0, after1, sizeof(*after0)) == 0);
		if (!same) {
			printf("# segment %u: %d/%d, reason %u/%u, rule %u/%u, solid %u/%u\n", i,
			       r[0], r[1], reason[0], reason[1], rule[0], rule[1], p[0].ct_solid,
			       p[1].ct_solid);
			diffs++;
		}
	}
	printf("# %lu segments, %lu passed on the established path\n", runs, inline_pass);
	CHECK(diffs == 0);
	CHECK(inline_pass > 20000);
out:
	rw_state_destroy(s[0]);
	rw_state_destroy(s[1]);
}
