/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A burst whose every packet state passes on a connection established both
 * ways leaves from the array it arrived in (worker.c, finish_burst), and
 * the rule counters of such packets are added once per run of the same
 * rule (rule_run_add). Both must count exactly what the general path
 * counts. A real engine on two pcap ports; port b's transmit is wrapped so
 * that it takes at most tx_limit frames a call and records which it got.
 *
 *   a: UDP 10.0.0.1:1000 -> 10.0.0.2:53   (t=1, creates the state, rule 0)
 *   a: UDP 10.0.0.1:2000 -> 10.0.0.2:53   (t=1, creates the state, rule 1)
 *   b: the replies to both                (t=2: both established)
 *   a: one burst of NB at t=3, the flows in the order ABAAB..., each frame
 *      carrying its position in the burst as its first payload byte
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkt/pkt.h"
#include "worker/engine.h"
#include "t.h"
#include "frame_util.h"
#include "engine_util.h"

#define NB 12
static const char order[NB + 1] = "ABAABBBAAABA";

static unsigned tx_limit;          /* frames limited_tx takes a call */
static char dir[32];
static const struct rw_port_ops *real_ops;
static struct rw_port_ops limited_ops;
static uint8_t got[64];            /* payload byte of each frame port b sent */
static uint16_t got_sport[64];
static unsigned ngot;

static void dump(pcap_dumper_t *d, long usec, uint32_t src, uint16_t sport, uint32_t dst,
		 uint16_t dport, uint8_t tag)
{
	uint8_t f[FRAME_LEN];
	struct pcap_pkthdr ph = {.ts = {.tv_sec = 1, .tv_usec = usec}, .caplen = FRAME_LEN,
				 .len = FRAME_LEN};

	eth_udp4(f, src, sport, dst, dport)[0] = tag;
	pcap_dump((u_char *)d, &ph, f);
}

static void write_caps(void)
{
	pcap_t *h = pcap_open_dead(DLT_EN10MB, 65535);
	char path[64];
	pcap_dumper_t *d;

	snprintf(path, sizeof(path), "%s/a.pcap", dir);
	if (!(d = pcap_dump_open(h, path)))
		abort();
	dump(d, 1, 0x0a000001, 1000, 0x0a000002, 53, 0xa0);
	dump(d, 1, 0x0a000001, 2000, 0x0a000002, 53, 0xa1);
	for (unsigned i = 0; i < NB; i++)
		dump(d, 3, 0x0a000001, order[i] == 'A' ? 1000 : 2000, 0x0a000002, 53, (uint8_t)i);
	pcap_dump_close(d);
	snprintf(path, sizeof(path), "%s/b.pcap", dir);
	if (!(d = pcap_dump_open(h, path)))
		abort();
	dump(d, 2, 0x0a000002, 53, 0x0a000001, 1000, 0xb0);
	dump(d, 2, 0x0a000002, 53, 0x0a000001, 2000, 0xb1);
	pcap_dump_close(d);
	pcap_close(h);
}

/* Port b's transmit: the first tx_limit frames of each call, recorded. */
static unsigned limited_tx(struct rw_port *p, unsigned q, struct rw_frame *f, unsigned n)
{
	unsigned k = n < tx_limit ? n : tx_limit;

	for (unsigned i = 0; i < k && ngot < 64; i++) {
		got[ngot] = f[i].data[42];
		got_sport[ngot++] = (uint16_t)(f[i].data[34] << 8 | f[i].data[35]);
	}
	return real_ops->tx_burst(p, q, f, k);
}

static struct rw_engine *start(unsigned limit)
{
	struct rw_engine *e;

	engine_dir(dir, sizeof(dir), "/tmp/rwfast.XXXXXX");
	write_caps();
	e = pcap_engine(dir, "pass proto udp from port 1000 keep state\n"
			     "pass proto udp keep state\n");
	real_ops = e->ports[1].ops;
	limited_ops = *real_ops;
	limited_ops.tx_burst = limited_tx;
	limited_ops.tx_room = NULL;
	tx_limit = limit;
	e->ports[1].ops = &limited_ops;
	ngot = 0;
	for (int i = 0; i < 16 && rw_worker_poll(&e->workers[0]); i++)
		;
	return e;
}

static void stop(struct rw_engine *e)
{
	e->ports[1].ops = real_ops;
	pcap_engine_end(e, dir);
}

static struct rw_rule_ctr rule_ctr(const struct rw_engine *e, uint32_t rule)
{
	return *rw_ruleset_ctr(atomic_load(&e->rs), 0, rule);
}

/* What the t=3 burst's frames look like once port b has them. */
static unsigned burst_frames_sent(void)
{
	unsigned k = 0;

	for (unsigned i = 0; i < ngot; i++)
		k += got[i] < NB;
	return k;
}

/* Room for everything: the whole burst leaves, in arrival order, and
 * every counter holds all of it. */
TEST(an_established_burst_leaves_whole_and_in_order)
{
	struct rw_engine *e = start(64);
	struct rw_worker_stats s;
	struct rw_rule_ctr r0 = rule_ctr(e, 0), r1 = rule_ctr(e, 1);
	unsigned j = 0, na = 0;

	rw_engine_sum_stats(e, &s);
	CHECK_EQ(burst_frames_sent(), (unsigned)NB);
	for (unsigned i = 0; i < ngot; i++) {
		if (got[i] >= NB)
			continue;
		CHECK_EQ(got[i], j); /* arrival order */
		CHECK_EQ(got_sport[i], order[j] == 'A' ? 1000 : 2000);
		j++;
	}
	CHECK_EQ(s.port[1].tx_pkts, 2u + NB);
	CHECK_EQ(s.port[1].tx_bytes, (2u + NB) * FRAME_LEN);
	CHECK_EQ(s.port[0].drop_pkts, 0u);
	CHECK_EQ(s.drops[RW_DROP_TX_FULL], 0u);
	CHECK_EQ(s.state_hits, 2u + NB); /* the replies and the burst */
	CHECK_EQ(s.state_misses, 2u);
	/* each rule: its first packet, its reply and its share of the burst,
	 * although the burst switches between them six times */
	for (unsigned i = 0; i < NB; i++)
		na += order[i] == 'A';
	CHECK_EQ(r0.packets, 2u + na);
	CHECK_EQ(r0.bytes, (2u + na) * FRAME_LEN);
	CHECK_EQ(r1.packets, 2u + (NB - na));
	CHECK_EQ(r1.bytes, (2u + (NB - na)) * FRAME_LEN);
	stop(e);
}

/* A ring that takes 5 of the burst: the first 5 leave, the other 7 are
 * tx-full drops charged to port a, their bytes off port b's count. */
TEST(an_established_burst_cut_short_by_the_ring_counts_the_rest_as_tx_full)
{
	struct rw_engine *e = start(5);
	struct rw_worker_stats s;

	rw_engine_sum_stats(e, &s);
	CHECK_EQ(burst_frames_sent(), 5u);
	for (unsigned i = 0, j = 0; i < ngot; i++)
		if (got[i] < NB)
			CHECK_EQ(got[i], j++);
	CHECK_EQ(s.port[1].tx_pkts, 2u + 5);
	CHECK_EQ(s.port[1].tx_bytes, (2u + 5) * FRAME_LEN);
	CHECK_EQ(s.drops[RW_DROP_TX_FULL], (unsigned)NB - 5);
	CHECK_EQ(s.port[0].drop_pkts, (unsigned)NB - 5);
	CHECK_EQ(s.port[0].drop_bytes, (NB - 5u) * FRAME_LEN);
	CHECK_EQ(s.port[0].rx_pkts, 2u + NB);
	/* the rules counted what they passed, sent or not */
	CHECK_EQ(rule_ctr(e, 0).packets + rule_ctr(e, 1).packets, 4u + NB);
	stop(e);
}

/* A ring that takes nothing: the whole burst goes back to port a. */
TEST(an_established_burst_the_ring_refuses_is_all_tx_full)
{
	struct rw_engine *e = start(0);
	struct rw_worker_stats s;

	rw_engine_sum_stats(e, &s);
	CHECK_EQ(ngot, 0u);
	CHECK_EQ(s.port[1].tx_pkts, 0u);
	CHECK_EQ(s.port[1].tx_bytes, 0u);
	/* the two first packets too: their bursts had no room either */
	CHECK_EQ(s.drops[RW_DROP_TX_FULL], 2u + NB);
	CHECK_EQ(s.port[0].drop_bytes, (2u + NB) * FRAME_LEN);
	stop(e);
}
