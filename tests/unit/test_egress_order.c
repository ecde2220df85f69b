/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * When the egress port takes fewer frames than a burst holds, the ones it
 * takes are the established connections' (worker.c, finish_burst): a flood
 * of new connections queued in front of a saturated server must not push
 * out established traffic. A real engine on two pcap ports; port b's
 * transmit is wrapped so that it accepts at most LIMIT frames a call and
 * records which it got.
 *
 *   a: UDP 10.0.0.1:1000 -> 10.0.0.2:53         (t=1, creates the state)
 *   b: UDP 10.0.0.2:53 -> 10.0.0.1:1000         (t=2, the reply: established)
 *   a: one burst of 12 at t=3: 4 packets of that flow among 8 new flows
 *      (source ports 2000+), in the order N E N N E N N E N N E N
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

#define LIMIT 4

static unsigned tx_limit = LIMIT;  /* frames limited_tx takes a call */
static unsigned room_free, room_cap; /* what limited_room reports */

static char dir[32];
static const struct rw_port_ops *real_ops;
static struct rw_port_ops limited_ops;
static uint16_t got_sport[64];
static unsigned ngot;

static void dump(pcap_dumper_t *d, long usec, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	uint8_t f[FRAME_LEN];
	struct pcap_pkthdr ph = {.ts = {.tv_sec = 1, .tv_usec = usec}, .caplen = FRAME_LEN,
				 .len = FRAME_LEN};

	eth_udp4(f, src, sport, dst, dport);
	pcap_dump((u_char *)d, &ph, f);
}

/* A broadcast ARP request, 60 bytes. */
static void dump_arp(pcap_dumper_t *d, long usec)
{
	uint8_t f[60] = {0};
	struct pcap_pkthdr ph = {.ts = {.tv_sec = 1, .tv_usec = usec}, .caplen = 60, .len = 60};

	memcpy(f, "\xff\xff\xff\xff\xff\xff\x02\0\0\0\0\x01\x08\x06"
		  "\x00\x01\x08\x00\x06\x04\x00\x01\x02\0\0\0\0\x01\x0a\x00\x00\x01"
		  "\0\0\0\0\0\0\x0a\x00\x00\x02", 42);
	pcap_dump((u_char *)d, &ph, f);
}

static bool with_arp; /* the burst ends with an ARP request */

static void write_caps(void)
{
	static const char order[] = "NENNENNENNEN";
	pcap_t *h = pcap_open_dead(DLT_EN10MB, 65535);
	char path[64];
	pcap_dumper_t *d;
	uint16_t next = 2000;

	snprintf(path, sizeof(path), "%s/a.pcap", dir);
	if (!(d = pcap_dump_open(h, path)))
		abort();
	dump(d, 1, 0x0a000001, 1000, 0x0a000002, 53);
	for (int i = 0; order[i]; i++)
		dump(d, 3, 0x0a000001, order[i] == 'E' ? 1000 : next++, 0x0a000002, 53);
	if (with_arp)
		dump_arp(d, 3);
	pcap_dump_close(d);
	snprintf(path, sizeof(path), "%s/b.pcap", dir);
	if (!(d = pcap_dump_open(h, path)))
		abort();
	dump(d, 2, 0x0a000002, 53, 0x0a000001, 1000);
	pcap_dump_close(d);
	pcap_close(h);
}

/* Port b's transmit: the first LIMIT frames of each call, recorded. */
static unsigned limited_tx(struct rw_port *p, unsigned q, struct rw_frame *f, unsigned n)
{
	unsigned k = n < tx_limit ? n : tx_limit;

	for (unsigned i = 0; i < k && ngot < 64; i++) /* ARP recorded as 0 */
		got_sport[ngot++] = f[i].data[12] == 0x08 && f[i].data[13] == 0x06
			? 0 : (uint16_t)(f[i].data[34] << 8 | f[i].data[35]);
	return real_ops->tx_burst(p, q, f, k);
}

/* Port b's ring as the test says it is (room_free of room_cap). */
static unsigned limited_room(struct rw_port *p, unsigned q, unsigned limit, unsigned *cap)
{
	(void)p;
	(void)q;
	*cap = room_cap;
	return room_free < limit ? room_free : limit;
}

static struct rw_engine *start(const char *rules)
{
	struct rw_engine *e;

	engine_dir(dir, sizeof(dir), "/tmp/rwegress.XXXXXX");
	write_caps();
	e = pcap_engine(dir, rules);
	real_ops = e->ports[1].ops;
	limited_ops = *real_ops;
	limited_ops.tx_burst = limited_tx;
	limited_ops.tx_room = NULL;
	tx_limit = LIMIT;
	e->ports[1].ops = &limited_ops;
	ngot = 0;
	return e;
}

static void stop(struct rw_engine *e)
{
	e->ports[1].ops = real_ops;
	pcap_engine_end(e, dir);
}

static void run_all(struct rw_engine *e)
{
	for (int i = 0; i < 16 && rw_worker_poll(&e->workers[0]); i++)
		;
}

/* run_all with port b's ring reporting nfree of cap slots free (tx_room)
 * and taking whatever it is offered; the worker's counters in *s. */
static void run_with_room(struct rw_engine *e, unsigned cap, unsigned nfree, struct rw_worker_stats *s)
{
	limited_ops.tx_room = limited_room;
	room_cap = cap;
	room_free = nfree;
	tx_limit = 64;
	run_all(e);
	rw_engine_sum_stats(e, s);
}

TEST(established_packets_take_the_room_a_full_egress_has)
{
	struct rw_engine *e = start("pass proto udp keep state\n");
	struct rw_worker_stats s;
	unsigned est = 0;


	run_all(e);
	rw_engine_sum_stats(e, &s);
	/* the first packet (alone in its burst) and then LIMIT of the 12 */
	CHECK_EQ(ngot, 1u + LIMIT);
	for (unsigned i = 1; i < ngot; i++)
		est += got_sport[i] == 1000;
	CHECK_EQ(est, (unsigned)LIMIT);
	CHECK_EQ(s.drops[RW_DROP_TX_FULL], 12u - LIMIT);
	CHECK_EQ(s.port[1].tx_pkts, 1u + LIMIT);
	stop(e);
}

/* Without state nothing is established: arrival order, as before. */
TEST(without_state_arrival_order_stands)
{
	struct rw_engine *e = start("pass proto udp no state\n");

	run_all(e);
	CHECK_EQ(ngot, 1u + LIMIT);
	/* N E N N: the first four of the burst */
	CHECK_EQ(got_sport[1], 2000);
	CHECK_EQ(got_sport[2], 1000);
	CHECK_EQ(got_sport[3], 2001);
	CHECK_EQ(got_sport[4], 2002);
	stop(e);
}

/*
 * A ring that reports its room: new connections' packets may take only
 * what is free beyond this burst's established packets and a quarter of
 * the ring (worker.c, admit_second). Ring of 8 with 9 free: 4 established
 * + 2 reserved leave 3 for the 8 new flows; the 5 others are dropped
 * before the ring is asked.
 */
TEST(new_connections_leave_a_quarter_of_the_ring)
{
	struct rw_engine *e = start("pass proto udp keep state\n");
	struct rw_worker_stats s;
	unsigned est = 0, fresh = 0;

	run_with_room(e, 8, 9, &s);
	CHECK_EQ(ngot, 1u + 4 + 3);
	for (unsigned i = 1; i < ngot; i++) {
		est += got_sport[i] == 1000;
		fresh += got_sport[i] >= 2000;
	}
	CHECK_EQ(est, 4u);
	CHECK_EQ(fresh, 3u);
	/* in arrival order among themselves */
	CHECK_EQ(got_sport[5], 2000);
	CHECK_EQ(got_sport[7], 2002);
	CHECK_EQ(s.drops[RW_DROP_TX_FULL], 5u);
	CHECK_EQ(s.port[1].tx_pkts, 8u);
	stop(e);
}

/* A ring with room to spare takes everything, in the usual order. */
TEST(a_ring_with_room_takes_the_whole_burst)
{
	struct rw_engine *e = start("pass proto udp keep state\n");
	struct rw_worker_stats s;

	run_with_room(e, 1024, 1024, &s);
	CHECK_EQ(ngot, 13u);
	CHECK_EQ(s.drops[RW_DROP_TX_FULL], 0u);
	stop(e);
}

/* ARP keeps the established connections' neighbours resolved: it goes
 * with them, ahead of new flows, even at the end of the burst. */
TEST(arp_goes_first_too)
{
	struct rw_engine *e;
	struct rw_worker_stats s;
	unsigned est = 0, arp = 0;

	with_arp = true;
	e = start("pass proto udp keep state\n");
	tx_limit = 5;
	run_all(e);
	rw_engine_sum_stats(e, &s);
	CHECK_EQ(ngot, 1u + 5);
	for (unsigned i = 1; i < ngot; i++) {
		est += got_sport[i] == 1000;
		arp += got_sport[i] == 0;
	}
	CHECK_EQ(est, 4u);
	CHECK_EQ(arp, 1u);
	CHECK_EQ(s.drops[RW_DROP_TX_FULL], 8u);
	stop(e);
	with_arp = false;
}
