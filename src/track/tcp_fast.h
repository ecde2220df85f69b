/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The established fast path of the TCP tracker (tcp.c), in a header so that
 * rw_state_track runs it inline: called through rw_tcp_track it cost a
 * call and the registers both functions save around it, ~24 instructions
 * of a ~730-instruction packet (docs/conntrack.md, "Making it fast").
 * Also the sequence arithmetic both share.
 */
#ifndef RW_TRACK_TCP_FAST_H
#define RW_TRACK_TCP_FAST_H
#include "track.h"

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)

/* pf's slack for ACKs: a window plus a fragment's worth ("1500 is an
 * arbitrary fudge factor"). It lets through ACKs of data whose first
 * fragment we saw (so counted short) and ACKs that trail a little. */
#define MAXACKWINDOW (0xffff + 1500)

/* RFC 7323: shifts above 14 are treated as 14. */
#define MAX_WINSHIFT 14

/*
 * The common segment, an ACK or in-order data of an established
 * connection: ACK without SYN/FIN/RST, both peers ESTABLISHED. Then none of
 * the set-up or closing branches of the full path apply (no reuse, no first
 * segment, the ack is judged as sent, update_states changes nothing, the
 * timeout stays ESTABLISHED and the connection SOLID), so when the window
 * checks hold the result is the full path's. A segment that fails one
 * returns false having changed nothing: the full path (rw_tcp_track_full)
 * judges it again and names the failure.
 *
 * This part checks and slides the windows; rw_tcp_track_established below
 * adds what the full path then sets (timeout, time, flags). rw_state_track
 * calls it alone for a connection whose timeout and flags already are
 * those, so that it stores only the time.
 */
static inline bool rw_tcp_slide_established(struct rw_conn *c, unsigned d, const struct rw_pkt *p)
{
	struct rw_peer *src = &c->peer[d], *dst = &c->peer[1 - d]; /* d is 0 or 1 */
	uint32_t lo, len, ack, win, swin, ackmax;
	bool scaled;
	unsigned sws;

	/* both peers ESTABLISHED: symmetric, tested before anything of
	 * src or dst is read */
	if ((p->tcp_flags & (RW_TH_SYN | RW_TH_FIN | RW_TH_RST | RW_TH_ACK)) != RW_TH_ACK ||
	    c->peer[0].state != RW_TCPS_ESTABLISHED || c->peer[1].state != RW_TCPS_ESTABLISHED)
		return false;
	scaled = c->peer[0].wscale && c->peer[1].wscale;
	sws = scaled ? src->wscale & RW_WS_MASK : 0;
	/* both shifts by sws here, once, ahead of the branches */
	win = p->tcp_win;
	swin = win << sws;
	ackmax = ((uint32_t)MAXACKWINDOW << sws) + MAXACKWINDOW;
	/* -MAXACKWINDOW <= ackskew <= MAXACKWINDOW << sws as one unsigned
	 * compare: below the range the sum wraps past the bound, which stays
	 * below 2^31 (shifts are capped at MAX_WINSHIFT) */
	ack = p->tcp_ack;
	if (dst->seqlo - ack + MAXACKWINDOW > ackmax)
		return false;
	/* the seq checks last, so that data slides seqlo where it passes
	 * them. No data (the seq and end of the full path are equal): a pure
	 * ACK is judged at seqlo, where the window check behind it always
	 * holds (a window is below 2^31, whatever the shift) and seqlo does
	 * not move. Its seq is never read. */
	lo = src->seqlo;
	len = p->payload_len;
	if (!len) {
		if (!SEQ_GEQ(src->seqhi, lo))
			return false;
	} else {
		uint32_t seq = p->tcp_seq, end = seq + len;
		unsigned dws = scaled ? dst->wscale & RW_WS_MASK : 0;

		if (!SEQ_GEQ(src->seqhi, end) ||
		    !SEQ_GEQ(seq, lo - ((uint32_t)dst->max_win << dws)))
			return false;
		/* advance() from here on */
		if (SEQ_GT(end, lo))
			src->seqlo = end;
	}
	if (src->max_win < win)
		src->max_win = (uint16_t)win;
	if (SEQ_GEQ(ack + swin, dst->seqhi))
		dst->seqhi = ack + RW_MAX(swin, 1u);
	return true;
}

static inline bool rw_tcp_track_established(struct rw_conn *c, unsigned d, const struct rw_pkt *p,
					     uint64_t now)
{
	if (!rw_tcp_slide_established(c, d, p))
		return false;
	c->to = RW_TO_TCP_ESTABLISHED;
	c->last = now;
	c->flags = (uint8_t)((c->flags & ~RW_CF_CLOSED) | RW_CF_SOLID);
	return true;
}

/* The full path alone (tcp.c), without trying the fast path first: what
 * tests/unit/test_tcp_fast.c holds rw_tcp_track_established to. */
int rw_tcp_track_full(struct rw_state *s, struct rw_conn *c, unsigned d, const struct rw_pkt *p,
		      uint64_t now, unsigned *reason);

#endif
