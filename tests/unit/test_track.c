/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The trackers, driven through rw_state_* with descriptors filled by hand
 * (no parser): TCP handshake, data, window violations, RST, teardown and
 * its timeouts, window scaling, SYN retransmits, port reuse; UDP; ICMP
 * echo; ICMP errors with hand-made quotes (and one through the parser).
 */
#include "t.h"
#include "track/track.h"
#include "worker/reasons.h"
#include "track_util.h"

#define MAXACKWINDOW (0xffff + 1500)

static uint32_t tos[RW_TO_MAX];

static struct rw_state *mk(void)
{
	struct rw_state_opts o = {.capacity = 1000, .hash_key = {1, 2}};

	/* distinct per state, so a wrong timeout shows */
	for (unsigned i = 0; i < RW_TO_MAX; i++)
		tos[i] = o.timeouts[i] = 100 + 10 * i;
	return mk_shard(&o);
}

static struct rw_pkt ws(struct rw_pkt p, uint8_t shift)
{
	p.tcp_wscale = shift;
	return p;
}

/* client ISN 1000, server ISN 5000 */
static void handshake(struct rw_state *s, uint16_t win, uint64_t now)
{
	struct rw_pkt syn = seg(0, RW_TH_SYN, 1000, 0, win, 0);
	CHECK_EQ(rw_state_create(s, &syn, 42, now), RW_PASS);
	CHECK_EQ(tr(s, seg(1, RW_TH_SYN | RW_TH_ACK, 5000, 1001, win, 0), now), RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1001, 5001, win, 0), now), RW_TRACK_PASS);
}

TEST(tcp_handshake_and_data_both_ways)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	struct rw_pkt syn = seg(0, RW_TH_SYN, 1000, 0, 65535, 0);
	CHECK_EQ(tr(s, syn, SEC), RW_TRACK_MISS); /* no state yet: rules decide */
	CHECK_EQ(rw_state_create(s, &syn, 42, SEC), RW_PASS);
	CHECK_STR(state_of(s, syn, SEC), "SYN_SENT:CLOSED");
	CHECK_EQ(tr(s, seg(1, RW_TH_SYN | RW_TH_ACK, 5000, 1001, 65535, 0), SEC), RW_TRACK_PASS);
	CHECK_EQ(last_rule, 42);
	CHECK_STR(state_of(s, syn, SEC), "ESTABLISHED:SYN_SENT");
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1001, 5001, 65535, 0), SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, syn, SEC), "ESTABLISHED:ESTABLISHED");
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK | RW_TH_PUSH, 1001, 5001, 65535, 100), SEC), RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK | RW_TH_PUSH, 5001, 1101, 65535, 1400), SEC), RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 6401, 1101, 65535, 1400), SEC), RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1101, 7801, 65535, 0), SEC), RW_TRACK_PASS);
	/* a retransmission of old data passes (within a window back) */
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 5001, 1101, 65535, 1400), SEC), RW_TRACK_PASS);
	struct rw_conn *c = conn_of(s, syn, SEC);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ(c->pkts[0], 4);
		CHECK_EQ(c->pkts[1], 4);
		CHECK_EQ(c->peer[0].seqlo, 1101);
		CHECK_EQ(c->peer[1].seqlo, 7801);
		CHECK(c->flags & RW_CF_SOLID);
	}
	/* a non-SYN never creates state; nor does a SYN|ACK */
	struct rw_pkt other = seg(0, RW_TH_ACK, 1, 1, 100, 0);
	other.sport = 1234;
	CHECK_EQ(rw_state_create(s, &other, 1, SEC), RW_DROP_TCP_NO_STATE);
	other.tcp_flags = RW_TH_SYN | RW_TH_ACK;
	CHECK_EQ(rw_state_create(s, &other, 1, SEC), RW_DROP_TCP_NO_STATE);
	other.tcp_flags = RW_TH_SYN | RW_TH_RST;
	CHECK_EQ(rw_state_create(s, &other, 1, SEC), RW_DROP_TCP_NO_STATE);
	rw_state_destroy(s);
}

/* Expect a drop for check `check` with reason `reason`, then that the
 * state was left as it was (a good segment still passes). */
#define CHECK_DROP(s, pkt, check, reason)                                  \
	do {                                                               \
		CHECK_EQ(tr(s, pkt, SEC), RW_TRACK_DROP);                  \
		CHECK_EQ(last_reason, reason);                             \
		CHECK_EQ((s)->last_check, check);                          \
	} while (0)

TEST(tcp_window_violations)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	handshake(s, 1000, SEC);
	/* the server opened 1000 bytes from 1001: seqhi = 2001 */
	CHECK_DROP(s, seg(0, RW_TH_ACK, 1001, 5001, 1000, 1001), RW_TCPC_SEQ_HI, RW_DROP_TCP_WINDOW);
	CHECK_DROP(s, seg(0, RW_TH_ACK, 1500, 5001, 1000, 600), RW_TCPC_SEQ_HI, RW_DROP_TCP_WINDOW);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1001, 5001, 1000, 1000), SEC), RW_TRACK_PASS);
	/* client seqlo is now 2001; more than one server window (1000) back */
	CHECK_DROP(s, seg(0, RW_TH_ACK, 2001 - 1000 - 1, 5001, 1000, 10), RW_TCPC_SEQ_LO,
		   RW_DROP_TCP_WINDOW);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 2001 - 1000, 5001, 1000, 10), SEC), RW_TRACK_PASS);
	/* acking server data never sent: beyond its seqlo (5001) + MAXACKWINDOW */
	CHECK_DROP(s, seg(0, RW_TH_ACK, 2001, 5001 + MAXACKWINDOW + 1, 1000, 0), RW_TCPC_ACK_HI,
		   RW_DROP_TCP_WINDOW);
	/* and beyond the server's own seqhi by far, from the server's side */
	CHECK_DROP(s, seg(1, RW_TH_ACK, 5001, 2001 + MAXACKWINDOW + 1, 1000, 0), RW_TCPC_ACK_HI,
		   RW_DROP_TCP_WINDOW);
	/* acking more than MAXACKWINDOW backwards */
	CHECK_DROP(s, seg(0, RW_TH_ACK, 2001, 5001 - MAXACKWINDOW - 1, 1000, 0), RW_TCPC_ACK_LO,
		   RW_DROP_TCP_WINDOW);
	/* a dropped segment changed nothing: the window is where it was */
	struct rw_conn *c = conn_of(s, seg(0, 0, 0, 0, 0, 0), SEC);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ(c->peer[0].seqlo, 2001);
		CHECK_EQ(c->peer[0].seqhi, 2001);
		CHECK_EQ(c->peer[1].seqlo, 5001);
	}
	CHECK(s->checks[RW_TCPC_SEQ_HI] == 2 && s->checks[RW_TCPC_ACK_HI] == 2);
	/* the server acks; the client may send again */
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 5001, 2001, 1000, 0), SEC), RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 2001, 5001, 1000, 1000), SEC), RW_TRACK_PASS);
	rw_state_destroy(s);
}

TEST(tcp_rst_in_and_out_of_window)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	handshake(s, 65535, SEC);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1001, 5001, 65535, 500), SEC), RW_TRACK_PASS);
	/* inside the window but not at the sender's next seq: a blind guess */
	CHECK_DROP(s, seg(0, RW_TH_RST, 1501 + 1000, 0, 0, 0), RW_TCPC_RST_SEQ,
		   RW_DROP_TCP_RST_WINDOW);
	/* far out of the window (a RST occupies no sequence space, so it is
	 * judged by the exact-match rule alone) */
	CHECK_DROP(s, seg(1, RW_TH_RST | RW_TH_ACK, 5001 + 200000, 1501, 0, 0), RW_TCPC_RST_SEQ,
		   RW_DROP_TCP_RST_WINDOW);
	/* a RST carrying data beyond the window fails the window first */
	CHECK_DROP(s, seg(1, RW_TH_RST | RW_TH_ACK, 5001 + 200000, 1501, 0, 10), RW_TCPC_SEQ_HI,
		   RW_DROP_TCP_RST_WINDOW);
	CHECK_STR(state_of(s, seg(0, 0, 0, 0, 0, 0), SEC), "ESTABLISHED:ESTABLISHED");
	/* exactly at seqlo: accepted, both sides closed */
	CHECK_EQ(tr(s, seg(1, RW_TH_RST | RW_TH_ACK, 5001, 1501, 0, 0), 2 * SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, seg(0, 0, 0, 0, 0, 0), 2 * SEC), "TIME_WAIT:TIME_WAIT");
	struct rw_conn *c = conn_of(s, seg(0, 0, 0, 0, 0, 0), 2 * SEC);
	CHECK(c && c->to == RW_TO_TCP_CLOSED);
	CHECK(c && (c->flags & RW_CF_CLOSED) && !(c->flags & RW_CF_SOLID));
	rw_state_destroy(s);

	/* a server refusing the SYN: RST|ACK with seq 0 answers it */
	s = mk();
	if (!s)
		return;
	struct rw_pkt syn = seg(0, RW_TH_SYN, 1000, 0, 65535, 0);
	rw_state_create(s, &syn, 1, SEC);
	CHECK_EQ(tr(s, seg(1, RW_TH_RST | RW_TH_ACK, 0, 1001, 0, 0), SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, syn, SEC), "TIME_WAIT:TIME_WAIT");
	rw_state_destroy(s);

	/* ...but in SYN-SENT a RST that does not ack the SYN (ack = ISN, not
	 * ISN+1, or no ACK at all) is an injection: dropped, and the real
	 * SYN|ACK still opens the connection (zeek_tcp-rst-inject) */
	s = mk();
	if (!s)
		return;
	rw_state_create(s, &syn, 1, SEC);
	CHECK_DROP(s, seg(1, RW_TH_RST | RW_TH_ACK, 0, 1000, 0, 0), RW_TCPC_RST_SEQ,
		   RW_DROP_TCP_RST_WINDOW);
	CHECK_DROP(s, seg(1, RW_TH_RST, 0, 0, 0, 0), RW_TCPC_RST_SEQ, RW_DROP_TCP_RST_WINDOW);
	CHECK_EQ(tr(s, seg(1, RW_TH_SYN | RW_TH_ACK, 5000, 1001, 65535, 0), SEC), RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1001, 5001, 65535, 0), SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, syn, SEC), "ESTABLISHED:ESTABLISHED");
	rw_state_destroy(s);
}

/* The entry's expiry is exactly now + the named timeout. */
#define CHECK_TIMEOUT(s, now, tmo)                                                    \
	do {                                                                          \
		struct rw_conn *c_ = conn_of(s, seg(0, 0, 0, 0, 0, 0), now);          \
		CHECK(c_ != NULL);                                                    \
		if (c_) {                                                             \
			CHECK_EQ(c_->to, tmo);                                        \
			CHECK(rw_conn_expires(&(s)->ctx, c_) == (now) + tos[tmo] * SEC); \
		}                                                                     \
	} while (0)

TEST(tcp_fin_teardown_and_timeouts_per_state)
{
	struct rw_state *s = mk();
	struct rw_state_stats st;
	uint64_t t = SEC;
	if (!s)
		return;
	struct rw_pkt syn = seg(0, RW_TH_SYN, 1000, 0, 65535, 0);
	rw_state_create(s, &syn, 1, t);
	CHECK_TIMEOUT(s, t, RW_TO_TCP_FIRST);
	t += SEC;
	CHECK_EQ(tr(s, seg(1, RW_TH_SYN | RW_TH_ACK, 5000, 1001, 65535, 0), t), RW_TRACK_PASS);
	CHECK_TIMEOUT(s, t, RW_TO_TCP_OPENING);
	t += SEC;
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1001, 5001, 65535, 0), t), RW_TRACK_PASS);
	CHECK_TIMEOUT(s, t, RW_TO_TCP_ESTABLISHED);
	t += SEC;
	/* client closes: half-closed is tcp.closing */
	CHECK_EQ(tr(s, seg(0, RW_TH_FIN | RW_TH_ACK, 1001, 5001, 65535, 0), t), RW_TRACK_PASS);
	CHECK_STR(state_of(s, syn, t), "CLOSING:ESTABLISHED");
	CHECK_TIMEOUT(s, t, RW_TO_TCP_CLOSING);
	t += SEC;
	/* an ACK that does not cover the FIN leaves it CLOSING */
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 5001, 1001, 65535, 0), t), RW_TRACK_PASS);
	CHECK_STR(state_of(s, syn, t), "CLOSING:ESTABLISHED");
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 5001, 1002, 65535, 0), t), RW_TRACK_PASS);
	CHECK_STR(state_of(s, syn, t), "FIN_WAIT_2:ESTABLISHED");
	CHECK_TIMEOUT(s, t, RW_TO_TCP_CLOSING);
	t += SEC;
	CHECK_EQ(tr(s, seg(1, RW_TH_FIN | RW_TH_ACK, 5001, 1002, 65535, 0), t), RW_TRACK_PASS);
	CHECK_STR(state_of(s, syn, t), "FIN_WAIT_2:CLOSING");
	CHECK_TIMEOUT(s, t, RW_TO_TCP_FINWAIT);
	t += SEC;
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1002, 5002, 65535, 0), t), RW_TRACK_PASS);
	CHECK_STR(state_of(s, syn, t), "FIN_WAIT_2:FIN_WAIT_2");
	CHECK_TIMEOUT(s, t, RW_TO_TCP_CLOSED);
	/* a stray FIN|ACK retransmit after the close still passes (loose) */
	CHECK_EQ(tr(s, seg(1, RW_TH_FIN | RW_TH_ACK, 5001, 1002, 65535, 0), t), RW_TRACK_PASS);
	/* expiry is exact, and a closed connection counts as removed */
	uint64_t due = t + tos[RW_TO_TCP_CLOSED] * SEC;
	rw_state_expire(s, due - 1, 100000);
	rw_state_stats(s, &st);
	CHECK_EQ(st.current, 1);
	rw_state_expire(s, due, 100000);
	rw_state_stats(s, &st);
	CHECK_EQ(st.current, 0);
	CHECK_EQ(st.removed, 1);
	CHECK_EQ(st.expired, 0);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1002, 5002, 65535, 0), due), RW_TRACK_MISS);
	rw_state_destroy(s);
}

TEST(tcp_window_scaling)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	/* both SYNs carry the option: client shift 7, server shift 8 */
	struct rw_pkt syn = ws(seg(0, RW_TH_SYN, 1000, 0, 65535, 0), 7);
	rw_state_create(s, &syn, 1, SEC);
	CHECK_EQ(tr(s, ws(seg(1, RW_TH_SYN | RW_TH_ACK, 5000, 1001, 65535, 0), 8), SEC),
		 RW_TRACK_PASS);
	/* the client advertises 1000 << 7 = 128000 bytes */
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1001, 5001, 1000, 0), SEC), RW_TRACK_PASS);
	struct rw_conn *c = conn_of(s, syn, SEC);
	CHECK(c && c->peer[1].seqhi == 5001 + 128000);
	/* the server may send past 64 KiB, up to the scaled window */
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 5001 + 120000, 1001, 100, 1000), SEC), RW_TRACK_PASS);
	CHECK_DROP(s, seg(1, RW_TH_ACK, 5001 + 128000, 1001, 100, 1), RW_TCPC_SEQ_HI,
		   RW_DROP_TCP_WINDOW);
	rw_state_destroy(s);

	/* only the client offers: no scaling either way */
	s = mk();
	if (!s)
		return;
	rw_state_create(s, &syn, 1, SEC);
	CHECK_EQ(tr(s, seg(1, RW_TH_SYN | RW_TH_ACK, 5000, 1001, 65535, 0), SEC), RW_TRACK_PASS);
	c = conn_of(s, syn, SEC);
	/* the client's SYN window, stored scaled down, was restored */
	CHECK(c && c->peer[0].wscale == 0 && c->peer[0].max_win == 65535);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1001, 5001, 1000, 0), SEC), RW_TRACK_PASS);
	/* seqhi never shrinks (data may be in flight): it stays one unscaled
	 * client window (65535) past the SYN|ACK, where scaling took it to
	 * 128000 above */
	CHECK(c && c->peer[1].seqhi == 5001 + 65535);
	CHECK_DROP(s, seg(1, RW_TH_ACK, 5001 + 65000, 1001, 100, 1000), RW_TCPC_SEQ_HI,
		   RW_DROP_TCP_WINDOW);
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 5001 + 64000, 1001, 100, 1000), SEC), RW_TRACK_PASS);
	rw_state_destroy(s);
}

TEST(tcp_syn_retransmission_and_synack_handling)
{
	struct rw_state *s = mk();
	struct rw_state_stats st;
	if (!s)
		return;
	struct rw_pkt syn = seg(0, RW_TH_SYN, 1000, 0, 65535, 0);
	rw_state_create(s, &syn, 1, SEC);
	/* the SYN again (state exists: the worker tracks it, it passes) */
	CHECK_EQ(tr(s, syn, 2 * SEC), RW_TRACK_PASS);
	CHECK_EQ(tr(s, syn, 4 * SEC), RW_TRACK_PASS);
	/* creating for it again is harmless: one entry */
	CHECK_EQ(rw_state_create(s, &syn, 1, 4 * SEC), RW_PASS);
	rw_state_stats(s, &st);
	CHECK_EQ(st.created, 1);
	/* a SYN with another ISN far away is not this connection's */
	CHECK_EQ(tr(s, seg(0, RW_TH_SYN, 900000, 0, 65535, 0), 4 * SEC), RW_TRACK_DROP);
	/* a SYN|ACK acking the wrong ISN is refused and leaves no trace */
	CHECK_DROP(s, seg(1, RW_TH_SYN | RW_TH_ACK, 7000, 1001 + 100000, 65535, 0), RW_TCPC_ACK_HI,
		   RW_DROP_TCP_WINDOW);
	CHECK_STR(state_of(s, syn, 4 * SEC), "SYN_SENT:CLOSED");
	/* the real one, and its retransmission */
	CHECK_EQ(tr(s, seg(1, RW_TH_SYN | RW_TH_ACK, 5000, 1001, 65535, 0), 5 * SEC), RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(1, RW_TH_SYN | RW_TH_ACK, 5000, 1001, 65535, 0), 6 * SEC), RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1001, 5001, 65535, 0), 6 * SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, syn, 6 * SEC), "ESTABLISHED:ESTABLISHED");
	rw_state_destroy(s);
}

TEST(tcp_reuse_after_time_wait)
{
	struct rw_state *s = mk();
	struct rw_state_stats st;
	if (!s)
		return;
	handshake(s, 65535, SEC);
	CHECK_EQ(tr(s, seg(0, RW_TH_RST, 1001, 0, 0, 0), SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, seg(0, 0, 0, 0, 0, 0), SEC), "TIME_WAIT:TIME_WAIT");
	/* the client opens again on the same ports with a new ISN */
	CHECK_EQ(tr(s, seg(0, RW_TH_SYN, 777777, 0, 65535, 0), 2 * SEC), RW_TRACK_PASS);
	CHECK_EQ(last_rule, 42);
	CHECK_STR(state_of(s, seg(0, 0, 0, 0, 0, 0), 2 * SEC), "SYN_SENT:CLOSED");
	CHECK_EQ(tr(s, seg(1, RW_TH_SYN | RW_TH_ACK, 9000, 777778, 65535, 0), 2 * SEC),
		 RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 777778, 9001, 65535, 0), 2 * SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, seg(0, 0, 0, 0, 0, 0), 2 * SEC), "ESTABLISHED:ESTABLISHED");
	rw_state_stats(s, &st);
	CHECK_EQ(st.current, 1);
	CHECK_EQ(st.created, 2);

	/* closed again; now the server opens towards the client: the old state
	 * goes and the rules decide about the new direction */
	CHECK_EQ(tr(s, seg(1, RW_TH_RST, 9001, 0, 0, 0), 3 * SEC), RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(1, RW_TH_SYN, 1, 0, 65535, 0), 3 * SEC), RW_TRACK_MISS);
	rw_state_stats(s, &st);
	CHECK_EQ(st.current, 0);
	struct rw_pkt rsyn = seg(1, RW_TH_SYN, 1, 0, 65535, 0);
	CHECK_EQ(rw_state_create(s, &rsyn, 7, 3 * SEC), RW_PASS);
	CHECK_EQ(tr(s, seg(0, RW_TH_SYN | RW_TH_ACK, 50, 2, 65535, 0), 3 * SEC), RW_TRACK_PASS);
	CHECK_EQ(last_rule, 7);
	/* a SYN on an established connection is not a reuse */
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 2, 51, 65535, 0), 3 * SEC), RW_TRACK_PASS);
	CHECK(tr(s, seg(1, RW_TH_SYN, 99999, 0, 65535, 0), 3 * SEC) == RW_TRACK_DROP);
	rw_state_destroy(s);
}

static struct rw_pkt udp(int dir)
{
	struct rw_pkt p = seg(dir, 0, 0, 0, 0, 0);
	p.proto = RW_PROTO_UDP;
	p.sport = dir ? 53 : 5353;
	p.dport = dir ? 5353 : 53;
	return p;
}

TEST(udp_first_single_multiple)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	struct rw_pkt q = udp(0);
	CHECK_EQ(tr(s, q, SEC), RW_TRACK_MISS);
	CHECK_EQ(rw_state_create(s, &q, 3, SEC), RW_PASS);
	struct rw_conn *c = conn_of(s, q, SEC);
	CHECK(c && c->to == RW_TO_UDP_FIRST && !(c->flags & RW_CF_SOLID));
	CHECK_EQ(tr(s, q, 2 * SEC), RW_TRACK_PASS);
	CHECK(c && c->to == RW_TO_UDP_SINGLE);
	CHECK_EQ(tr(s, udp(1), 3 * SEC), RW_TRACK_PASS);
	CHECK_EQ(last_rule, 3);
	CHECK(c && c->to == RW_TO_UDP_MULTIPLE && (c->flags & RW_CF_SOLID));
	if (c)
		CHECK_STR(rw_udp_state_name(c), "MULTIPLE:MULTIPLE");
	CHECK(conn_of(s, q, 3 * SEC + tos[RW_TO_UDP_MULTIPLE] * SEC - 1) != NULL);
	CHECK(conn_of(s, q, 3 * SEC + tos[RW_TO_UDP_MULTIPLE] * SEC) == NULL);

	/* other protocols: addresses and protocol */
	struct rw_pkt gre = seg(0, 0, 0, 0, 0, 0);
	gre.proto = 47, gre.flags = 0, gre.sport = gre.dport = 0;
	CHECK_EQ(rw_state_create(s, &gre, 4, SEC), RW_PASS);
	struct rw_pkt gre_back = seg(1, 0, 0, 0, 0, 0);
	gre_back.proto = 47, gre_back.flags = 0, gre_back.sport = gre_back.dport = 0;
	CHECK_EQ(tr(s, gre_back, 2 * SEC), RW_TRACK_PASS);
	c = conn_of(s, gre, 2 * SEC);
	CHECK(c && c->to == RW_TO_OTHER_MULTIPLE);
	/* fragment tails are never tracked here */
	gre_back.flags |= RW_PKT_FRAG | RW_PKT_FRAG_LATER;
	CHECK_EQ(tr(s, gre_back, 2 * SEC), RW_TRACK_MISS);
	rw_state_destroy(s);
}

static struct rw_pkt icmp(int dir, uint8_t type, uint16_t id)
{
	struct rw_pkt p = seg(dir, 0, 0, 0, 0, 0);
	p.proto = RW_PROTO_ICMP;
	p.sport = p.dport = 0;
	p.icmp_type = type;
	p.icmp_id = id;
	return p;
}

TEST(icmp_echo_state)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	/* a reply without state: the rules decide (they usually block) */
	CHECK_EQ(tr(s, icmp(1, 0, 77), SEC), RW_TRACK_MISS);
	struct rw_pkt req = icmp(0, 8, 77);
	CHECK_EQ(rw_state_create(s, &req, 5, SEC), RW_PASS);
	struct rw_conn *c = conn_of(s, req, SEC);
	CHECK(c && c->to == RW_TO_ICMP_FIRST);
	CHECK_EQ(tr(s, icmp(1, 0, 77), SEC), RW_TRACK_PASS);
	CHECK_EQ(last_rule, 5);
	CHECK(c && c->to == RW_TO_ICMP_ERROR && (c->flags & RW_CF_SOLID));
	CHECK_EQ(tr(s, icmp(0, 8, 77), SEC), RW_TRACK_PASS);
	/* another identifier is another conversation */
	CHECK_EQ(tr(s, icmp(1, 0, 78), SEC), RW_TRACK_MISS);
	/* the server pinging back with the same id: not this state's */
	CHECK_EQ(tr(s, icmp(1, 8, 77), SEC), RW_TRACK_MISS);
	/* a reply creates nothing */
	struct rw_pkt rep = icmp(1, 0, 99);
	CHECK_EQ(rw_state_create(s, &rep, 5, SEC), RW_PASS);
	CHECK_EQ(tr(s, rep, SEC), RW_TRACK_MISS);

	/* ICMPv6 echo */
	struct rw_pkt r6 = {.af = RW_AF_INET6, .proto = RW_PROTO_ICMP6, .flags = RW_PKT_L4,
			    .icmp_type = 128, .icmp_id = 5};
	r6.saddr[0] = r6.daddr[0] = 0xfe, r6.saddr[15] = 1, r6.daddr[15] = 2;
	CHECK_EQ(rw_state_create(s, &r6, 6, SEC), RW_PASS);
	struct rw_pkt a6 = r6;
	memcpy(a6.saddr, r6.daddr, 16), memcpy(a6.daddr, r6.saddr, 16);
	a6.icmp_type = 129;
	CHECK_EQ(tr(s, a6, SEC), RW_TRACK_PASS);
	CHECK_EQ(last_rule, 6);
	rw_state_destroy(s);
}

/* An ICMP error from a router R to dst (the quote's source). */
static struct rw_pkt icmp_err(uint32_t to_ip)
{
	struct rw_pkt p = {.af = RW_AF_INET, .proto = RW_PROTO_ICMP,
			   .flags = RW_PKT_L4 | RW_PKT_ICMP_ERR, .icmp_type = 3, .icmp_code = 3};
	v4(p.saddr, 0x0a0000feu);
	v4(p.daddr, to_ip);
	return p;
}

static struct rw_quote quote(int dir, uint8_t proto, uint32_t seq)
{
	struct rw_quote q = {.af = RW_AF_INET, .proto = proto, .tcp_seq = seq};
	v4(dir ? q.saddr : q.daddr, S_IP);
	v4(dir ? q.daddr : q.saddr, C_IP);
	q.sport = dir ? S_PORT : C_PORT;
	q.dport = dir ? C_PORT : S_PORT;
	return q;
}

TEST(icmp_error_needs_a_tracked_quote)
{
	struct rw_state *s = mk();
	uint32_t rule = 0;
	unsigned reason = 0;
	if (!s)
		return;
	handshake(s, 65535, SEC);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1001, 5001, 65535, 1000), SEC), RW_TRACK_PASS);
	struct rw_pkt e = icmp_err(C_IP);
	/* quoting the client's segment, seq inside its window: passes */
	struct rw_quote q = quote(0, RW_PROTO_TCP, 1001);
	CHECK_EQ(rw_state_icmp_error(s, &e, &q, SEC, &rule, &reason), RW_TRACK_PASS);
	CHECK_EQ(rule, 42);
	/* a seq no segment of the client could carry: forged */
	q = quote(0, RW_PROTO_TCP, 1001 + 500000);
	CHECK_EQ(rw_state_icmp_error(s, &e, &q, SEC, &rule, &reason), RW_TRACK_DROP);
	CHECK_EQ(reason, RW_DROP_ICMP_ERR_NOSTATE);
	CHECK_EQ(s->last_check, RW_TCPC_QUOTE_SEQ);
	q = quote(0, RW_PROTO_TCP, 1001 - 70000);
	CHECK_EQ(rw_state_icmp_error(s, &e, &q, SEC, &rule, &reason), RW_TRACK_DROP);
	/* quoting the server's segment, sent to the server */
	struct rw_pkt es = icmp_err(S_IP);
	q = quote(1, RW_PROTO_TCP, 5001);
	CHECK_EQ(rw_state_icmp_error(s, &es, &q, SEC, &rule, &reason), RW_TRACK_PASS);
	/* ... but addressed to the client it is not an error about that */
	CHECK_EQ(rw_state_icmp_error(s, &e, &q, SEC, &rule, &reason), RW_TRACK_DROP);
	CHECK_EQ(reason, RW_DROP_ICMP_ERR_NOSTATE);
	/* quoting a connection nobody tracks */
	q = quote(0, RW_PROTO_TCP, 1001);
	q.sport = 1;
	CHECK_EQ(rw_state_icmp_error(s, &e, &q, SEC, &rule, &reason), RW_TRACK_DROP);
	CHECK_EQ(reason, RW_DROP_ICMP_ERR_NOSTATE);
	/* UDP: exists or not */
	struct rw_pkt u = udp(0);
	rw_state_create(s, &u, 8, SEC);
	q = quote(0, RW_PROTO_UDP, 0);
	q.sport = 5353, q.dport = 53;
	CHECK_EQ(rw_state_icmp_error(s, &e, &q, SEC, &rule, &reason), RW_TRACK_PASS);
	CHECK_EQ(rule, 8);
	q.dport = 54;
	CHECK_EQ(rw_state_icmp_error(s, &e, &q, SEC, &rule, &reason), RW_TRACK_DROP);
	/* an echo request quoted by a time-exceeded */
	struct rw_pkt req = icmp(0, 8, 33);
	rw_state_create(s, &req, 9, SEC);
	q = quote(0, RW_PROTO_ICMP, 0);
	q.sport = q.dport = 0, q.icmp_type = 8, q.icmp_id = 33;
	CHECK_EQ(rw_state_icmp_error(s, &e, &q, SEC, &rule, &reason), RW_TRACK_PASS);
	CHECK_EQ(rule, 9);
	q.icmp_id = 34;
	CHECK_EQ(rw_state_icmp_error(s, &e, &q, SEC, &rule, &reason), RW_TRACK_DROP);
	rw_state_destroy(s);
}

/* The same through rw_state_track and the real quote parser. */
TEST(icmp_error_through_the_parser)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	struct rw_pkt u = udp(0);
	rw_state_create(s, &u, 8, SEC);
	/* quoted: IPv4 header C -> S, proto 17, then UDP 5353 -> 53 */
	uint8_t b[28] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0};
	b[12] = 10, b[15] = 1;             /* 10.0.0.1 */
	b[16] = 192, b[17] = 168, b[19] = 1; /* 192.168.0.1 */
	b[20] = 5353 >> 8, b[21] = 5353 & 0xff, b[23] = 53;
	struct rw_pkt e = icmp_err(C_IP);
	e.data = b, e.len = sizeof(b), e.l3_off = 0, e.l3_len = sizeof(b);
	e.payload_off = 0, e.payload_len = sizeof(b);
	CHECK_EQ(tr(s, e, SEC), RW_TRACK_PASS);
	CHECK_EQ(last_rule, 8);
	b[23] = 54; /* another port */
	CHECK_EQ(tr(s, e, SEC), RW_TRACK_DROP);
	CHECK_EQ(last_reason, RW_DROP_ICMP_ERR_NOSTATE);
	e.payload_len = 10; /* truncated quote */
	CHECK_EQ(tr(s, e, SEC), RW_TRACK_DROP);
	CHECK_EQ(last_reason, RW_DROP_ICMP_ERR_QUOTE);
	rw_state_destroy(s);
}

struct walk_out {
	struct rw_conn_info last;
	int n;
};

static int walk_cb(const struct rw_conn_info *ci, void *arg)
{
	struct walk_out *w = arg;
	w->last = *ci;
	w->n++;
	return 0;
}

TEST(walk_reports_initiator_first)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	/* the server (higher address) initiates: the key's side 1 */
	struct rw_pkt syn = seg(1, RW_TH_SYN, 1, 0, 100, 0);
	rw_state_create(s, &syn, 3, SEC);
	struct walk_out w = {.n = 0};
	rw_state_walk(s, walk_cb, &w);
	struct rw_conn_info got = w.last;
	CHECK_EQ(w.n, 1);
	CHECK(memcmp(got.saddr, syn.saddr, 16) == 0 && got.sport == S_PORT);
	CHECK(memcmp(got.daddr, syn.daddr, 16) == 0 && got.dport == C_PORT);
	CHECK_STR(got.state, "SYN_SENT:CLOSED");
	CHECK_EQ(got.rule, 3);
	CHECK(got.expires_ns == SEC + tos[RW_TO_TCP_FIRST] * SEC);
	rw_state_flush(s);
	struct rw_state_stats st;
	rw_state_stats(s, &st);
	CHECK_EQ(st.current, 0);
	CHECK_EQ(st.removed, 1);
	rw_state_destroy(s);
}

/* rw_key4_words (the words prepare stores) against the key written field
 * by field, endpoints ordered as rw_ep_cmp orders them (memcmp of the
 * addresses, then the ports): the same bytes and the same side. */
TEST(ipv4_key_words_are_the_key_bytes)
{
	uint64_t x = 88172645463325252ull;
	unsigned swapped = 0;

	for (unsigned i = 0; i < 100000; i++) {
		uint8_t sa[16], da[16];
		uint16_t sp, dp;
		uint8_t proto;
		struct rw_key4 want;
		uint64_t w[2];
		unsigned side, want_side;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v4(sa, (uint32_t)x);
		/* equal addresses, and addresses one byte apart, now and then,
		 * so that the ports and each byte decide */
		uint32_t one_byte_off = (uint32_t)x ^ (0xffu << (8 * (i % 16 / 4)));
		v4(da, i % 4 == 0 ? (uint32_t)x : i % 4 == 1 ? one_byte_off : (uint32_t)(x >> 32));
		sp = (uint16_t)(x >> 13);
		dp = i % 8 == 0 ? sp : (uint16_t)(x >> 41);
		proto = (uint8_t)(x >> 57);
		want_side = rw_ep_cmp(sa + 12, sp, da + 12, dp, 4) > 0;
		memset(&want, 0, sizeof(want));
		memcpy(&want.addr[0], (want_side ? da : sa) + 12, 4);
		memcpy(&want.addr[1], (want_side ? sa : da) + 12, 4);
		want.port[0] = want_side ? dp : sp;
		want.port[1] = want_side ? sp : dp;
		want.proto = proto;
		rw_key4_words(w, proto, sa, da, sp, dp, &side);
		swapped += side;
		if (memcmp(w, &want, sizeof(want)) != 0 || side != want_side) {
			printf("# key %u differs (side %u, want %u)\n", i, side, want_side);
			CHECK(0);
			break;
		}
	}
	CHECK(swapped > 30000 && swapped < 70000);
}
