/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Mid-stream pick-up (rw_state_create_loose, for "flags any" rules): state
 * from a segment of a connection already under way, loose windows with the
 * unknown scale, strict ACK checks, RST and FIN as first segment, and that
 * the strict rw_state_create still refuses the same segments.
 */
#include "t.h"
#include "track/track.h"
#include "worker/reasons.h"
#include "track_util.h"

static struct rw_state *mk(void)
{
	struct rw_state_opts o = {.capacity = 100, .hash_key = {3, 4}};

	for (unsigned i = 0; i < RW_TO_MAX; i++)
		o.timeouts[i] = 100;
	return mk_shard(&o);
}

static void live(struct rw_state *s, uint64_t want)
{
	struct rw_state_stats st;

	rw_state_stats(s, &st);
	CHECK_EQ(st.current, want);
}

TEST(strict_create_still_refuses_midstream)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	struct rw_pkt p = seg(0, RW_TH_ACK | RW_TH_PUSH, 1000, 5000, 500, 100);
	CHECK_EQ(rw_state_create(s, &p, 1, SEC), RW_DROP_TCP_NO_STATE);
	p.tcp_flags = RW_TH_SYN | RW_TH_ACK;
	CHECK_EQ(rw_state_create(s, &p, 1, SEC), RW_DROP_TCP_NO_STATE);
	live(s, 0);
	rw_state_destroy(s);
}

TEST(pickup_from_client_data_then_both_directions)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	struct rw_pkt p = seg(0, RW_TH_ACK | RW_TH_PUSH, 1000, 5000, 500, 100);
	CHECK_EQ(rw_state_create_loose(s, &p, 7, SEC), RW_PASS);
	live(s, 1);
	CHECK_STR(state_of(s, p, SEC), "SYN_SENT:CLOSED");
	struct rw_conn *c = conn_of(s, p, SEC);
	CHECK(c && !(c->flags & RW_CF_SOLID)); /* evictable until both spoke */
	/* the server's ACK of those 100 bytes, with data of its own */
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK | RW_TH_PUSH, 5000, 1100, 500, 1000), SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, p, SEC), "ESTABLISHED:SYN_SENT");
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1100, 6000, 500, 0), SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, p, SEC), "ESTABLISHED:ESTABLISHED");
	c = conn_of(s, p, SEC);
	CHECK(c && (c->flags & RW_CF_SOLID));
	CHECK(c && c->to == RW_TO_TCP_ESTABLISHED);
	/* creating again from the same connection is a no-op */
	CHECK_EQ(rw_state_create_loose(s, &p, 7, SEC), RW_PASS);
	live(s, 1);
	rw_state_destroy(s);
}

TEST(pickup_allows_windows_scaled_by_an_unseen_shift)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	/* the client advertises 2000 << 7 = 256000 bytes; we never saw the
	 * shift, yet the server's full window of data must pass */
	struct rw_pkt p = seg(0, RW_TH_ACK, 1000, 5000, 2000, 0);
	CHECK_EQ(rw_state_create_loose(s, &p, 7, SEC), RW_PASS);
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 5000, 1000, 300, 1448), SEC), RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1000, 5000 + 1448, 2000, 0), SEC), RW_TRACK_PASS);
	uint32_t seq = 5000 + 1448;
	for (unsigned i = 0; i < 150; i++, seq += 1448)
		CHECK_EQ(tr(s, seg(1, RW_TH_ACK, seq, 1000, 300, 1448), SEC), RW_TRACK_PASS);
	CHECK(seq - 5000 > 200000);
	/* and the client may send more than 65535 bytes ahead as well */
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1000 + 70000, seq, 2000, 1448), SEC), RW_TRACK_PASS);
	rw_state_destroy(s);
}

TEST(pickup_keeps_ack_checks_strict)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	struct rw_pkt p = seg(0, RW_TH_ACK | RW_TH_PUSH, 1000, 5000, 500, 100);
	CHECK_EQ(rw_state_create_loose(s, &p, 7, SEC), RW_PASS);
	/* the "server" acks 200000 bytes the client never sent: forged */
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 5000, 1100 + 200000, 500, 0), SEC), RW_TRACK_DROP);
	CHECK_EQ(last_reason, RW_DROP_TCP_WINDOW);
	CHECK_STR(state_of(s, p, SEC), "SYN_SENT:CLOSED"); /* the drop left no trace */
	/* the real reply still passes */
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 5000, 1100, 500, 0), SEC), RW_TRACK_PASS);
	/* a RST must now hit the exact sequence number */
	CHECK_EQ(tr(s, seg(0, RW_TH_RST, 1100 + 5000, 0, 0, 0), SEC), RW_TRACK_DROP);
	CHECK_EQ(last_reason, RW_DROP_TCP_RST_WINDOW);
	CHECK_EQ(tr(s, seg(0, RW_TH_RST, 1100, 0, 0, 0), SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, p, SEC), "TIME_WAIT:TIME_WAIT");
	rw_state_destroy(s);
}

static int first_conn(const struct rw_conn_info *ci, void *arg)
{
	*(struct rw_conn_info *)arg = *ci;
	return 1;
}

TEST(pickup_from_the_server_side_makes_it_the_initiator)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	struct rw_pkt p = seg(1, RW_TH_ACK, 5000, 1000, 500, 1400);
	CHECK_EQ(rw_state_create_loose(s, &p, 7, SEC), RW_PASS);
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1000, 6400, 500, 0), SEC), RW_TRACK_PASS);
	CHECK_EQ(tr(s, seg(1, RW_TH_ACK, 6400, 1000, 500, 0), SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, p, SEC), "ESTABLISHED:ESTABLISHED");
	struct rw_conn_info got = {0};
	rw_state_walk(s, first_conn, &got);
	CHECK_EQ(got.sport, S_PORT); /* the server spoke first here */
	rw_state_destroy(s);
}

TEST(pickup_rst_passes_without_state_fin_starts_closing)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	struct rw_pkt rst = seg(0, RW_TH_RST | RW_TH_ACK, 1000, 5000, 0, 0);
	CHECK_EQ(rw_state_create_loose(s, &rst, 7, SEC), RW_PASS);
	live(s, 0);
	struct rw_pkt fin = seg(0, RW_TH_FIN | RW_TH_ACK, 1000, 5000, 500, 0);
	CHECK_EQ(rw_state_create_loose(s, &fin, 7, SEC), RW_PASS);
	CHECK_STR(state_of(s, fin, SEC), "CLOSING:CLOSED");
	/* the server acks the FIN (seq 1000 + 1) and closes too */
	CHECK_EQ(tr(s, seg(1, RW_TH_FIN | RW_TH_ACK, 5000, 1001, 500, 0), SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, fin, SEC), "FIN_WAIT_2:CLOSING");
	CHECK_EQ(tr(s, seg(0, RW_TH_ACK, 1001, 5001, 500, 0), SEC), RW_TRACK_PASS);
	CHECK_STR(state_of(s, fin, SEC), "FIN_WAIT_2:FIN_WAIT_2");
	rw_state_destroy(s);
}

TEST(loose_create_of_a_first_syn_is_the_strict_one)
{
	struct rw_state *s = mk();
	if (!s)
		return;
	struct rw_pkt syn = seg(0, RW_TH_SYN, 1000, 0, 65535, 0);
	syn.tcp_wscale = 7;
	CHECK_EQ(rw_state_create_loose(s, &syn, 7, SEC), RW_PASS);
	struct rw_conn *c = conn_of(s, syn, SEC);
	CHECK(c && c->peer[0].wscale == (RW_WS_FLAG | 7));
	CHECK(c && c->peer[0].seqlo == 1001);
	CHECK_STR(state_of(s, syn, SEC), "SYN_SENT:CLOSED");
	/* UDP is unaffected by the flag */
	struct rw_pkt u = seg(0, 0, 0, 0, 0, 10);
	u.proto = RW_PROTO_UDP;
	CHECK_EQ(rw_state_create_loose(s, &u, 7, SEC), RW_PASS);
	live(s, 2);
	rw_state_destroy(s);
}
