/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The SYN proxy (synproxy.h has the exchange; docs/synproxy.md the
 * choices). Everything here runs on the worker that owns the connection,
 * on frames it holds: no locks, no allocation.
 */
#include <string.h>
#include "../worker/reasons.h"
#include "synproxy.h"
#include "track.h"

#define SP_TTL 64
/* A silent server gets the SYN again at most once a second, and only when
 * the client speaks (its zero-window probes pace it): no timers needed. */
#define SP_RESEND_NS 1000000000ull

static inline uint16_t ld16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t ld32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline void st16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void st32(uint8_t *b, uint32_t v)
{
	st16(b, (uint16_t)(v >> 16));
	st16(b + 2, (uint16_t)v);
}

void rw_synproxy_init(struct rw_synproxy *sp, const struct rw_syncookie_key *k)
{
	memset(sp, 0, sizeof(*sp));
	sp->key = *k;
}

void rw_synproxy_attach(struct rw_synproxy *sp, struct rw_state *s)
{
	s->sp = sp;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with delta the sum of the ~m
 * and m' words of the fields that changed. */
static void csum_apply(uint8_t sum[2], uint32_t delta)
{
	st16(sum, rw_csum_fold((uint16_t)~ld16(sum) + delta));
}

/* For a 32-bit field (two words). */
void rw_synproxy_csum_replace32(uint8_t sum[2], uint32_t from, uint32_t to)
{
	csum_apply(sum, (uint32_t)(uint16_t)~(from >> 16) + (uint16_t)~(from & 0xffff) +
			(to >> 16) + (to & 0xffff));
}

/* The TCP checksum of tcp[0..len) under the pseudo-header, stored in it. */
static void tcp_csum(uint8_t af, const uint8_t *src, const uint8_t *dst, uint8_t *tcp, unsigned len)
{
	uint8_t ph[40] = {0};
	unsigned n;
	uint16_t c;

	if (af == RW_AF_INET) {
		memcpy(ph, src + 12, 4);
		memcpy(ph + 4, dst + 12, 4);
		ph[9] = RW_PROTO_TCP;
		st16(ph + 10, (uint16_t)len);
		n = 12;
	} else {
		memcpy(ph, src, 16);
		memcpy(ph + 16, dst, 16);
		st32(ph + 32, len);
		ph[39] = RW_PROTO_TCP;
		n = 40;
	}
	tcp[16] = tcp[17] = 0;
	c = rw_csum_fold(rw_csum_partial(tcp, len, rw_csum_partial(ph, n, 0)));
	memcpy(tcp + 16, &c, 2);
}

/*
 * Build a bare TCP segment in buf: tmpl's link header (MACs swapped when
 * reverse), fresh IP and TCP headers between tmpl's endpoints (swapped when
 * reverse), an MSS option when mss. Only the MSS is offered: window scale,
 * SACK and timestamps would need translating too (docs/synproxy.md).
 * Returns the length, 0 when it does not fit.
 */
unsigned rw_synproxy_build(uint8_t *buf, size_t size, const struct rw_pkt *tmpl, bool reverse,
			   uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win, uint16_t mss)
{
	const uint8_t *src = reverse ? tmpl->daddr : tmpl->saddr;
	const uint8_t *dst = reverse ? tmpl->saddr : tmpl->daddr;
	unsigned l2 = tmpl->l3_off, thl = mss ? 24 : 20, iphl = tmpl->af == RW_AF_INET ? 20 : 40;
	uint8_t *ip = buf + l2, *th;

	if (unlikely(l2 < 14 || l2 + iphl + thl > size || l2 > tmpl->len))
		return 0;
	memcpy(buf, tmpl->data, l2);
	if (reverse) {
		uint8_t mac[6];

		memcpy(mac, buf, 6);
		memcpy(buf, buf + 6, 6);
		memcpy(buf + 6, mac, 6);
	}
	memset(ip, 0, iphl);
	if (tmpl->af == RW_AF_INET) {
		uint16_t c;

		ip[0] = 0x45;
		st16(ip + 2, (uint16_t)(iphl + thl));
		st16(ip + 6, 0x4000); /* DF: a handshake segment never needs fragmenting */
		ip[8] = SP_TTL;
		ip[9] = RW_PROTO_TCP;
		memcpy(ip + 12, src + 12, 4);
		memcpy(ip + 16, dst + 12, 4);
		c = rw_csum_fold(rw_csum_partial(ip, 20, 0));
		memcpy(ip + 10, &c, 2);
	} else {
		ip[0] = 0x60;
		st16(ip + 4, (uint16_t)thl);
		ip[6] = RW_PROTO_TCP;
		ip[7] = SP_TTL;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	}
	th = ip + iphl;
	memset(th, 0, thl);
	st16(th, reverse ? tmpl->dport : tmpl->sport);
	st16(th + 2, reverse ? tmpl->sport : tmpl->dport);
	st32(th + 4, seq);
	st32(th + 8, ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = flags;
	st16(th + 14, win);
	if (mss) {
		th[20] = 2; /* kind MSS, length 4 */
		th[21] = 4;
		st16(th + 22, mss);
	}
	tcp_csum(tmpl->af, src, dst, th, thl);
	return l2 + iphl + thl;
}

static bool queue(struct rw_synproxy *sp, const struct rw_pkt *tmpl, bool back, uint64_t now,
		  uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win, uint16_t mss)
{
	struct rw_sp_frame *f;

	if (unlikely(sp->nout >= RW_SP_OUT_MAX)) {
		sp->st.no_room++;
		return false;
	}
	f = &sp->out[sp->nout];
	f->len = (uint16_t)rw_synproxy_build(f->buf, sizeof(f->buf), tmpl, back, seq, ack, flags,
					     win, mss);
	if (unlikely(!f->len))
		return false;
	f->back = back;
	f->ts_ns = now;
	sp->nout++;
	return true;
}

/* ---- the miss path: stateless until the ACK ---------------------------- */

static unsigned answer_syn(struct rw_synproxy *sp, const struct rw_pkt *p, uint64_t now)
{
	uint32_t cookie = rw_syncookie_make(&sp->key, p, now);

	/* window 0 (as pf): the client may not send data before the server's
	 * half is up; the rewritten SYN|ACK of the server opens it */
	if (!queue(sp, p, true, now, cookie, p->tcp_seq + 1, RW_TH_SYN | RW_TH_ACK, 0,
		   rw_syncookie_mss(p->tcp_mss)))
		return RW_DROP_TX_FULL;
	sp->st.synacks++;
	return RW_PASS;
}

/* The live proxied entry of p, or NULL. */
static struct rw_conn *find(struct rw_state *s, const struct rw_pkt *p, uint64_t now)
{
	union rw_key k;
	unsigned side, klen = rw_key_from_pkt(p, &k, &side);

	return klen ? rw_state_lookup(s, &k, klen, now) : NULL;
}

static unsigned complete_cookie(struct rw_synproxy *sp, struct rw_state *s, const struct rw_pkt *p,
				uint32_t rule, uint64_t now)
{
	struct rw_pkt syn = *p;
	struct rw_conn *c;
	bool expired;
	uint16_t mss = rw_syncookie_check(&sp->key, p, now, &expired);
	unsigned r;

	if (unlikely(!mss)) {
		if (expired)
			sp->st.cookies_expired++;
		else
			sp->st.cookies_bad++;
		return RW_DROP_SYNPROXY_COOKIE;
	}
	/* the SYN the client sent, as the cookie remembers it: state is made
	 * from it exactly as for a SYN passed with keep state */
	syn.tcp_flags = RW_TH_SYN;
	syn.tcp_seq = p->tcp_seq - 1;
	syn.tcp_ack = 0;
	syn.payload_len = 0;
	syn.tcp_mss = mss;
	syn.tcp_wscale = RW_WSCALE_NONE;
	syn.tcp_sackok = 0;
	syn.tcp_ts = 0;
	syn.ct_prep = 0;
	r = rw_state_create(s, &syn, rule, now);
	if (unlikely(r != RW_PASS))
		return r;
	c = find(s, &syn, now);
	if (unlikely(!c))
		return RW_DROP_STATE_FULL;
	if (!(c->flags & RW_CF_PROXY)) {
		c->flags |= RW_CF_PROXY;
		c->pkts[1] = p->tcp_ack - 1; /* the cookie, until the server answers */
	}
	if (!queue(sp, &syn, false, now, syn.tcp_seq, 0, RW_TH_SYN, p->tcp_win, mss))
		return RW_DROP_TX_FULL;
	sp->st.cookies_ok++;
	return RW_PASS;
}

unsigned rw_synproxy_miss(struct rw_synproxy *sp, struct rw_state *s, const struct rw_pkt *p,
			  bool as_ack, uint32_t rule, uint64_t now)
{
	if (unlikely(!(p->flags & RW_PKT_L4) || p->proto != RW_PROTO_TCP))
		return RW_DROP_TCP_NO_STATE;
	if (as_ack)
		return complete_cookie(sp, s, p, rule, now);
	if ((p->tcp_flags & (RW_TH_SYN | RW_TH_ACK | RW_TH_RST | RW_TH_FIN)) == RW_TH_SYN)
		return answer_syn(sp, p, now);
	return RW_DROP_TCP_NO_STATE;
}

/* ---- the tracked path ---------------------------------------------------- */

static void set_seq(struct rw_pkt *p, uint32_t v)
{
	uint8_t *th = p->data + p->l4_off;

	rw_synproxy_csum_replace32(th + 16, ld32(th + 4), v);
	st32(th + 4, v);
	p->tcp_seq = v;
}

static void set_ack(struct rw_pkt *p, uint32_t v)
{
	uint8_t *th = p->data + p->l4_off;

	rw_synproxy_csum_replace32(th + 16, ld32(th + 8), v);
	st32(th + 8, v);
	p->tcp_ack = v;
}

/*
 * The server's SYN|ACK becomes, in place, the client's window update: an
 * ACK at seq cookie + 1 with the server's window. Options become NOPs so no
 * length changes; the checksum is computed afresh.
 */
static void synack_to_ack(struct rw_pkt *p, uint32_t seq)
{
	uint8_t *th = p->data + p->l4_off;
	unsigned thl = (th[12] >> 4) * 4u;
	unsigned len = p->l3_len - (p->l4_off - p->l3_off);

	memset(th + 20, 1, thl - 20); /* parse checked 20 <= thl <= len */
	th[13] = RW_TH_ACK;
	st32(th + 4, seq);
	tcp_csum(p->af, p->saddr, p->daddr, th, len);
	p->tcp_flags = RW_TH_ACK;
	p->tcp_seq = seq;
	p->tcp_mss = 0;
}

/* The server answered our SYN: finish both halves. */
static int server_answer(struct rw_state *s, struct rw_conn *c, struct rw_pkt *p, uint64_t now,
			 unsigned *reason)
{
	struct rw_synproxy *sp = s->sp;
	uint32_t cookie = c->pkts[1];
	struct rw_pkt a;
	unsigned ignore;
	int r;

	r = rw_tcp_track(s, c, 1, p, now, reason);
	if (r != RW_TRACK_PASS) {
		/* a SYN|ACK or RST|ACK cannot reopen (that takes a bare SYN),
		 * but a drop must never go out without its reason */
		if (r != RW_TRACK_DROP)
			*reason = RW_DROP_TCP_STATE;
		return RW_TRACK_DROP;
	}
	if (p->tcp_flags & RW_TH_RST) {
		/* refused: the client hears it at the seq it expects from us */
		c->pkts[1] = p->tcp_seq - (cookie + 1);
		set_seq(p, cookie + 1);
		sp->st.refused++;
		return RW_TRACK_PASS;
	}
	c->pkts[1] = p->tcp_seq - cookie; /* server ISN - our ISN */
	/* the server's half: the ACK of its SYN|ACK, in the client's name
	 * and with the client's window; tracked so the server is ESTABLISHED */
	a = *p;
	a.tcp_flags = RW_TH_ACK;
	a.tcp_seq = p->tcp_ack;
	a.tcp_ack = p->tcp_seq + 1;
	a.tcp_win = c->peer[0].max_win;
	a.payload_len = 0;
	memcpy(a.saddr, p->daddr, 16);
	memcpy(a.daddr, p->saddr, 16);
	a.sport = p->dport;
	a.dport = p->sport;
	(void)rw_tcp_track(s, c, 0, &a, now, &ignore);
	if (!queue(sp, p, true, now, a.tcp_seq, a.tcp_ack, RW_TH_ACK, a.tcp_win, 0)) {
		*reason = RW_DROP_TX_FULL;
		return RW_TRACK_DROP;
	}
	synack_to_ack(p, cookie + 1);
	sp->st.completed++;
	return RW_TRACK_PASS;
}

/* Before the server answers: the client waits (window 0), the server's
 * only valid answers are a SYN|ACK or a RST for the client's ISN. */
static int pending(struct rw_state *s, struct rw_conn *c, unsigned d, struct rw_pkt *p, uint64_t now,
		   unsigned *reason)
{
	struct rw_synproxy *sp = s->sp;
	uint8_t fl = p->tcp_flags & (RW_TH_SYN | RW_TH_ACK | RW_TH_RST);

	if (d == 1) {
		if ((fl == (RW_TH_SYN | RW_TH_ACK) || fl == (RW_TH_RST | RW_TH_ACK)) &&
		    p->tcp_ack == c->peer[0].seqlo)
			return server_answer(s, c, p, now, reason);
		*reason = RW_DROP_TCP_STATE;
		return RW_TRACK_DROP;
	}
	/* the client probes its zero window: our SYN may have been lost */
	if (!(fl & (RW_TH_SYN | RW_TH_RST)) && now - c->last >= SP_RESEND_NS &&
	    queue(sp, p, false, now, c->peer[0].seqlo - 1, 0, RW_TH_SYN, c->peer[0].max_win,
		  rw_syncookie_cookie_mss(c->pkts[1]))) {
		c->last = now;
		sp->st.syn_resent++;
	}
	*reason = RW_DROP_SYNPROXY_PENDING;
	return RW_TRACK_DROP;
}

int rw_synproxy_track(struct rw_state *s, struct rw_ctable *t, uint32_t slot, struct rw_conn *c,
		      unsigned d, struct rw_pkt *p, uint64_t now, uint32_t *rule, unsigned *reason)
{
	uint32_t delta;
	int r;

	if (unlikely(!s->sp || p->proto != RW_PROTO_TCP)) {
		*reason = RW_DROP_TCP_STATE;
		return RW_TRACK_DROP;
	}
	if (c->peer[1].state == RW_TCPS_CLOSED) {
		r = pending(s, c, d, p, now, reason);
	} else {
		/* the tracker works in the server's sequence space: the
		 * client's acks are moved into it first, the server's seqs
		 * out of it after */
		delta = c->pkts[1];
		if (d == 0 && (p->tcp_flags & RW_TH_ACK))
			set_ack(p, p->tcp_ack + delta);
		r = rw_tcp_track(s, c, d, p, now, reason);
		if (r == RW_TCP_REOPEN || r == RW_TCP_GONE) {
			/* a fresh SYN after both closed: the proxy answers it anew */
			rw_ctable_remove(t, slot);
			return RW_TRACK_MISS;
		}
		if (r == RW_TRACK_PASS && d == 1)
			set_seq(p, p->tcp_seq - delta);
	}
	if (r != RW_TRACK_PASS)
		return r;
	/* an FTP control connection (marked at the cookie ACK, as keep state
	 * marks at the SYN): the helper reads what the client side carries,
	 * so the server's bytes in the client's numbering (already moved
	 * above), never in a mix of both (docs/alg.md) */
	if (unlikely(c->flags & RW_CF_ALG))
		rw_alg_inspect(s->alg, c, slot, p->af == RW_AF_INET6, d, p, now,
			       s->ctx.to_ms[RW_TO_FTP_EXPECT] * 1000000u);
	/* pkts[1] holds the offset: both directions count in pkts[0] */
	c->pkts[0]++;
	*rule = c->rule;
	return RW_TRACK_PASS;
}

/* ---- ICMP errors quoting a proxied connection ----------------------------- */

bool rw_synproxy_quote_seq(const struct rw_conn *c, unsigned d, uint32_t wire, uint32_t *seq)
{
	/* the client's ISN reaches the server unchanged: its numbers are
	 * the same on both sides */
	if (d == 0) {
		*seq = wire;
		return true;
	}
	/* pkts[1] holds the cookie, not an offset, until the server answers:
	 * what the client saw from "the server" then (the SYN|ACK) came from
	 * the proxy, and the server would not know it */
	if (c->peer[1].state == RW_TCPS_CLOSED)
		return false;
	*seq = wire + c->pkts[1];
	return true;
}

/* The same for one 16-bit word. */
static void csum_replace16(uint8_t sum[2], uint16_t from, uint16_t to)
{
	csum_apply(sum, (uint32_t)(uint16_t)~from + to);
}

unsigned rw_synproxy_quote_fix(const struct rw_pkt *p, const struct rw_quote *q, uint32_t seq)
{
	/* p is the error's descriptor: its bytes are the frame we forward */
	uint8_t *icmp = p->data + p->l4_off, *th = p->data + q->l4_off;
	uint32_t was;

	/* the ICMP checksum sums 16-bit words from the ICMP header on: the
	 * quoted header sits an even distance away (IP headers are multiples
	 * of 4 or 8 bytes), which incremental updates rely on */
	if (unlikely(q->l4_len < 8 || q->l4_off < p->l4_off + 8u ||
		     (uint32_t)q->l4_off + q->l4_len > p->len || ((q->l4_off - p->l4_off) & 1)))
		return RW_DROP_ICMP_ERR_QUOTE;
	was = ld32(th + 4);
	if (was == seq)
		return RW_PASS;
	st32(th + 4, seq);
	rw_synproxy_csum_replace32(icmp + 2, was, seq);
	/* the quoted checksum only when quoted (RFC 792 promises 8 bytes);
	 * stacks do not check it, but a quote of a whole segment stays
	 * consistent, and the ICMP checksum covers the change too */
	if (q->l4_len >= 18) {
		uint16_t old = ld16(th + 16);

		rw_synproxy_csum_replace32(th + 16, was, seq);
		csum_replace16(icmp + 2, old, ld16(th + 16));
	}
	return RW_PASS;
}
