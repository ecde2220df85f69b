/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP sequence-window tracking, after pf's pf_tcp_track_full (OpenBSD
 * sys/net/pf.c): each peer's seqlo/seqhi/max_win/wscale bound what the next
 * segment may carry. Every condition is named (enum rw_tcp_check) so that a
 * drop says which one failed. docs/conntrack.md explains each.
 */
#include "../worker/reasons.h"
#include "tcp_fast.h"

static const char *const check_texts[RW_TCPC_MAX] = {
#define RW_X_TC(id, text) [RW_TCPC_##id] = text,
	RW_TCP_CHECKS(RW_X_TC)
#undef RW_X_TC
};

const char *rw_tcp_check_text(unsigned check)
{
	return check < RW_TCPC_MAX ? check_texts[check] : "unknown";
}

static uint8_t wscale_opt(const struct rw_pkt *p)
{
	if (p->tcp_wscale == RW_WSCALE_NONE)
		return 0;
	return RW_WS_FLAG | RW_MIN(p->tcp_wscale, MAX_WINSHIFT);
}

/* Sequence space a segment occupies: data, plus one each for SYN and FIN. */
static uint32_t seg_end(const struct rw_pkt *p, uint32_t seq, uint32_t *data_end)
{
	uint32_t end = seq + p->payload_len + !!(p->tcp_flags & RW_TH_SYN);

	*data_end = end;
	return end + !!(p->tcp_flags & RW_TH_FIN);
}

/* Which timeout the pair of states calls for (pf's order of tests). */
static uint8_t tcp_timeout(const struct rw_peer *a, const struct rw_peer *b)
{
	if (a->state >= RW_TCPS_FIN_WAIT_2 && b->state >= RW_TCPS_FIN_WAIT_2)
		return RW_TO_TCP_CLOSED;
	if (a->state >= RW_TCPS_CLOSING && b->state >= RW_TCPS_CLOSING)
		return RW_TO_TCP_FINWAIT;
	if (a->state < RW_TCPS_ESTABLISHED || b->state < RW_TCPS_ESTABLISHED)
		return RW_TO_TCP_OPENING;
	if (a->state >= RW_TCPS_CLOSING || b->state >= RW_TCPS_CLOSING)
		return RW_TO_TCP_CLOSING;
	return RW_TO_TCP_ESTABLISHED;
}

/* Established and not yet closed: the entries a full table keeps. */
static void tcp_flags(struct rw_conn *c)
{
	const struct rw_peer *a = &c->peer[0], *b = &c->peer[1];
	bool closed = a->state >= RW_TCPS_FIN_WAIT_2 && b->state >= RW_TCPS_FIN_WAIT_2;
	bool est = a->state >= RW_TCPS_ESTABLISHED && b->state >= RW_TCPS_ESTABLISHED;

	c->flags &= (uint8_t)~(RW_CF_SOLID | RW_CF_CLOSED);
	if (closed)
		c->flags |= RW_CF_CLOSED;
	else if (est)
		c->flags |= RW_CF_SOLID;
}

unsigned rw_tcp_open(struct rw_conn *c, const struct rw_pkt *p, uint64_t now)
{
	struct rw_peer *src = &c->peer[0], *dst = &c->peer[1];
	uint32_t data_end, end;

	/* only a connection's first SYN opens it (pf's default flags S/SA) */
	if (unlikely((p->tcp_flags & (RW_TH_SYN | RW_TH_ACK | RW_TH_RST)) != RW_TH_SYN))
		return RW_DROP_TCP_NO_STATE;
	end = seg_end(p, p->tcp_seq, &data_end);
	src->seqlo = end;
	/* until the responder's SYN|ACK opens a window, allow a retransmit
	 * of this SYN and one byte more (pf: seq + len + 2) */
	src->seqhi = end + 1;
	src->wscale = wscale_opt(p);
	src->max_win = RW_MAX(p->tcp_win, 1);
	if (src->wscale & RW_WS_MASK) {
		/* a SYN's window is never scaled; keep max_win in the units
		 * later segments use, rounding up */
		unsigned ws = src->wscale & RW_WS_MASK;
		src->max_win = (uint16_t)(((uint32_t)src->max_win + (1u << ws) - 1) >> ws);
	}
	src->state = RW_TCPS_SYN_SENT;
	dst->seqlo = 0;
	dst->seqhi = 1;
	dst->max_win = 1;
	dst->wscale = 0;
	dst->state = RW_TCPS_CLOSED;
	c->to = RW_TO_TCP_FIRST;
	c->last = now;
	tcp_flags(c);
	return RW_PASS;
}

/*
 * pf's state creation for a segment that is not a first SYN ("flags any"):
 * the sender becomes the initiator at seqlo = the end of what it sent, with
 * one byte of room as after a SYN; the other side is CLOSED until it speaks
 * (first_from_responder then opens its window from this sender's window).
 * Unlike pf, both scales are marked unknown with the largest shift: a
 * connection picked up mid-stream almost always negotiated scaling, and
 * judging its scaled windows as unscaled would drop its first full window.
 * The ACK checks stay strict, so nothing can ack data never sent.
 */
void rw_tcp_pickup(struct rw_conn *c, const struct rw_pkt *p, uint64_t now)
{
	struct rw_peer *src = &c->peer[0], *dst = &c->peer[1];
	uint32_t data_end, end = seg_end(p, p->tcp_seq, &data_end);

	src->seqlo = end;
	src->seqhi = end + 1;
	src->wscale = RW_WS_UNKNOWN | MAX_WINSHIFT;
	src->max_win = RW_MAX(p->tcp_win, 1);
	/* a FIN already sent is a close we will not see again */
	src->state = (p->tcp_flags & RW_TH_FIN) ? RW_TCPS_CLOSING : RW_TCPS_SYN_SENT;
	dst->seqlo = 0;
	dst->seqhi = 1;
	dst->max_win = 1;
	dst->wscale = RW_WS_UNKNOWN | MAX_WINSHIFT;
	dst->state = RW_TCPS_CLOSED;
	c->to = RW_TO_TCP_FIRST;
	c->last = now;
	tcp_flags(c);
}

/*
 * The first segment from the responder sets its side up (pf's "first
 * packet from this end"): window scaling is on only when both SYNs carried
 * the option, and the responder's seqhi starts one initiator window ahead.
 */
static void first_from_responder(struct rw_peer *src, struct rw_peer *dst, const struct rw_pkt *p,
				 uint32_t *win, unsigned *sws, unsigned *dws)
{
	uint32_t data_end, end = seg_end(p, p->tcp_seq, &data_end);

	if ((p->tcp_flags & RW_TH_SYN) && (dst->wscale & RW_WS_FLAG)) {
		src->wscale = wscale_opt(p);
		if (src->wscale & RW_WS_FLAG) {
			*sws = src->wscale & RW_WS_MASK;
			*win = (*win + (1u << *sws) - 1) >> *sws;
			*dws = dst->wscale & RW_WS_MASK;
		} else {
			/* the responder declined: undo the initiator's scaling */
			dst->max_win = (uint16_t)RW_MIN(0xffffu, (uint32_t)dst->max_win
							     << (dst->wscale & RW_WS_MASK));
			dst->wscale = 0;
		}
	}
	src->seqlo = p->tcp_seq;
	if (src->state < RW_TCPS_SYN_SENT)
		src->state = RW_TCPS_SYN_SENT;
	uint32_t open = RW_MAX(1u, (uint32_t)dst->max_win << *dws);
	if (src->seqhi == 1 || SEQ_GEQ(end + open, src->seqhi))
		src->seqhi = end + open;
	if (*win > src->max_win)
		src->max_win = (uint16_t)*win;
}

/* The strict checks of pf's first branch; RW_TCPC_OK when all hold. */
static unsigned window_check(const struct rw_peer *src, const struct rw_peer *dst,
			     const struct rw_pkt *p, uint32_t seq, uint32_t data_end,
			     int32_t ackskew, unsigned sws, unsigned dws)
{
	uint32_t orig = p->tcp_seq;

	/* the last byte must fit in the window the peer advertised */
	if (!SEQ_GEQ(src->seqhi, data_end))
		return RW_TCPC_SEQ_HI;
	/* a retransmission may go back at most one peer window */
	if (!SEQ_GEQ(seq, src->seqlo - ((uint32_t)dst->max_win << dws)))
		return RW_TCPC_SEQ_LO;
	/* no acking of data the peer has not sent (one fragment of slack) */
	if (ackskew < -MAXACKWINDOW)
		return RW_TCPC_ACK_HI;
	/* nor acking more than a window backwards */
	if (ackskew > (MAXACKWINDOW << sws))
		return RW_TCPC_ACK_LO;
	/* a RST must sit exactly at the sender's next seq (+-1): blind
	 * injection then needs the exact number, not just one in the window */
	if ((p->tcp_flags & RW_TH_RST) && orig != src->seqlo && orig != src->seqlo + 1 &&
	    orig + 1 != src->seqlo)
		return RW_TCPC_RST_SEQ;
	return RW_TCPC_OK;
}

/*
 * pf's loose branch: while the peer has not answered, or once either side
 * is closed, accept a segment within MAXACKWINDOW of the window. It covers
 * stacks that send data before the SYN|ACK and the stray FIN|ACKs that
 * follow a close.
 */
static bool loose_ok(const struct rw_peer *src, const struct rw_peer *dst, uint32_t seq,
		     uint32_t data_end)
{
	return (dst->state < RW_TCPS_SYN_SENT || dst->state >= RW_TCPS_FIN_WAIT_2 ||
		src->state >= RW_TCPS_FIN_WAIT_2) &&
	       SEQ_GEQ(src->seqhi + MAXACKWINDOW, data_end) &&
	       SEQ_GEQ(seq, src->seqlo - MAXACKWINDOW);
}

/* Slide both windows after an accepted segment. */
static void advance(struct rw_peer *src, struct rw_peer *dst, uint32_t win, uint32_t end,
		    uint32_t ack, unsigned sws)
{
	if (src->max_win < win)
		src->max_win = (uint16_t)win;
	if (SEQ_GT(end, src->seqlo))
		src->seqlo = end;
	/* what the peer may send now ends at this ack plus this window */
	if (SEQ_GEQ(ack + (win << sws), dst->seqhi))
		dst->seqhi = ack + RW_MAX(win << sws, 1u);
}

static void update_states(struct rw_peer *src, struct rw_peer *dst, uint8_t fl, uint32_t ack)
{
	if ((fl & RW_TH_SYN) && src->state < RW_TCPS_SYN_SENT)
		src->state = RW_TCPS_SYN_SENT;
	if ((fl & RW_TH_FIN) && src->state < RW_TCPS_CLOSING)
		src->state = RW_TCPS_CLOSING;
	if (fl & RW_TH_ACK) {
		if (dst->state == RW_TCPS_SYN_SENT)
			dst->state = RW_TCPS_ESTABLISHED;
		/* stricter than pf: only an ACK that covers the FIN */
		else if (dst->state == RW_TCPS_CLOSING && SEQ_GEQ(ack, dst->seqlo))
			dst->state = RW_TCPS_FIN_WAIT_2;
	}
	if (fl & RW_TH_RST)
		src->state = dst->state = RW_TCPS_TIME_WAIT;
}

/* Everything else: pf's pf_tcp_track_full. Out of line, so that the fast
 * path does not pay for saving the registers this one needs. */
static __attribute__((noinline)) int track_full(struct rw_state *s, struct rw_conn *c, unsigned d,
						const struct rw_pkt *p, uint64_t now,
						unsigned *reason)
{
	struct rw_peer *src = &c->peer[d], *dst = &c->peer[!d];
	struct rw_peer saved[2] = {c->peer[0], c->peer[1]};
	uint8_t fl = p->tcp_flags;
	uint32_t win = p->tcp_win, seq = p->tcp_seq, ack, end, data_end;
	unsigned sws = 0, dws = 0, check;

	/* port reuse: a fresh SYN on a connection both sides have closed */
	if ((fl & (RW_TH_SYN | RW_TH_ACK)) == RW_TH_SYN && src->state >= RW_TCPS_FIN_WAIT_2 &&
	    dst->state >= RW_TCPS_FIN_WAIT_2)
		return d == 0 ? RW_TCP_REOPEN : RW_TCP_GONE;

	/* windows are scaled once both SYNs agreed, and never on a SYN */
	if (src->wscale && dst->wscale && !(fl & RW_TH_SYN)) {
		sws = src->wscale & RW_WS_MASK;
		dws = dst->wscale & RW_WS_MASK;
	}
	if (src->state == RW_TCPS_CLOSED) {
		/* RFC 9293 3.10.7.3: in SYN-SENT a RST is acceptable only if it
		 * acknowledges the SYN; one with any other ack (a blind
		 * injection) would kill a handshake the endpoints complete */
		if (unlikely(fl & RW_TH_RST) &&
		    (!(fl & RW_TH_ACK) || p->tcp_ack != dst->seqlo)) {
			s->last_check = RW_TCPC_RST_SEQ;
			s->checks[RW_TCPC_RST_SEQ]++;
			*reason = RW_DROP_TCP_RST_WINDOW;
			return RW_TRACK_DROP;
		}
		first_from_responder(src, dst, p, &win, &sws, &dws);
	}
	end = seg_end(p, seq, &data_end);

	ack = p->tcp_ack;
	/* without ACK (or with the zero ack of a broken RST, or before the
	 * peer spoke) the ack cannot be judged: let it pass the skew check */
	if (!(fl & RW_TH_ACK) || (ack == 0 && (fl & RW_TH_RST)) || dst->state < RW_TCPS_SYN_SENT)
		ack = dst->seqlo;
	/* a segment without data or SYN/FIN occupies no sequence space: judge
	 * it at seqlo (pf eases these so pure ACKs never fail on seq) */
	if (seq == end) {
		seq = src->seqlo;
		data_end = end = seq;
	}
	int32_t ackskew = (int32_t)(dst->seqlo - ack);

	check = window_check(src, dst, p, seq, data_end, ackskew, sws, dws);
	if (likely(check == RW_TCPC_OK)) {
		advance(src, dst, win, end, ack, sws);
		update_states(src, dst, fl, p->tcp_ack);
		c->to = tcp_timeout(src, dst);
		c->last = now;
		tcp_flags(c);
		return RW_TRACK_PASS;
	}
	if (loose_ok(src, dst, seq, data_end)) {
		advance(src, dst, win, end, ack, sws);
		if ((fl & RW_TH_FIN) && src->state < RW_TCPS_CLOSING)
			src->state = RW_TCPS_CLOSING;
		if (fl & RW_TH_RST)
			src->state = dst->state = RW_TCPS_TIME_WAIT;
		tcp_flags(c);
		return RW_TRACK_PASS;
	}
	/* a dropped segment leaves no trace (pf keeps the first-packet
	 * set-up; undoing it stops a forged SYN|ACK from pinning seqlo) */
	c->peer[0] = saved[0];
	c->peer[1] = saved[1];
	s->last_check = check;
	s->checks[check]++;
	*reason = (fl & RW_TH_RST) ? RW_DROP_TCP_RST_WINDOW : RW_DROP_TCP_WINDOW;
	return RW_TRACK_DROP;
}

int rw_tcp_track(struct rw_state *s, struct rw_conn *c, unsigned d, const struct rw_pkt *p,
		 uint64_t now, unsigned *reason)
{
	if (likely(rw_tcp_track_established(c, d, p, now)))
		return RW_TRACK_PASS;
	return track_full(s, c, d, p, now, reason);
}

int rw_tcp_track_full(struct rw_state *s, struct rw_conn *c, unsigned d, const struct rw_pkt *p,
		      uint64_t now, unsigned *reason)
{
	return track_full(s, c, d, p, now, reason);
}

bool rw_tcp_quote_ok(const struct rw_conn *c, unsigned d, uint32_t seq)
{
	const struct rw_peer *src = &c->peer[d], *dst = &c->peer[!d];
	unsigned dws = (src->wscale && dst->wscale) ? dst->wscale & RW_WS_MASK : 0;

	/* the quoted segment must be one its sender could have sent: not past
	 * seqhi, not more than a window behind seqlo (pf_test_state_icmp) */
	return SEQ_GEQ(src->seqhi, seq) &&
	       SEQ_GEQ(seq, src->seqlo - ((uint32_t)dst->max_win << dws));
}

/* "INITIATOR:RESPONDER" as pfctl -ss shows it, without formatting. */
#define TCPS_ROW(a)                                                                      \
	{ a ":CLOSED", a ":LISTEN", a ":SYN_SENT", a ":SYN_RCVD", a ":ESTABLISHED",      \
	  a ":CLOSE_WAIT", a ":FIN_WAIT_1", a ":CLOSING", a ":LAST_ACK", a ":FIN_WAIT_2", \
	  a ":TIME_WAIT" }
static const char *const tcps_names[RW_TCPS_MAX][RW_TCPS_MAX] = {
	TCPS_ROW("CLOSED"), TCPS_ROW("LISTEN"), TCPS_ROW("SYN_SENT"),
	TCPS_ROW("SYN_RCVD"), TCPS_ROW("ESTABLISHED"), TCPS_ROW("CLOSE_WAIT"),
	TCPS_ROW("FIN_WAIT_1"), TCPS_ROW("CLOSING"), TCPS_ROW("LAST_ACK"),
	TCPS_ROW("FIN_WAIT_2"), TCPS_ROW("TIME_WAIT"),
};

const char *rw_tcp_state_name(const struct rw_conn *c)
{
	unsigned a = c->peer[0].state, b = c->peer[1].state;

	if (a >= RW_TCPS_MAX || b >= RW_TCPS_MAX)
		return "?";
	return tcps_names[a][b];
}
