/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker's parse loop (worker.c, parse_burst) runs the parser's fast
 * path inline and sends whatever it declines to the general parser out of
 * line; with L4 checksums verified it runs the general parser alone. One
 * burst mixing frames each path takes, in both modes, through a real
 * engine on two pcap ports: every verdict and drop reason must be the one
 * the general parser names.
 *
 *   0: TCP SYN :1001 -> :80                  fast path; passes, new state
 *   1: the same with a wrong IP checksum      drop ip-checksum
 *   2: TCP SYN :1002 -> :80, wrong TCP sum    passes (ignore) / l4-checksum (verify)
 *   3: TCP SYN :1003 -> :80 in a VLAN tag     general parser; passes, new state
 *   4: TCP SYN|FIN :1004 -> :80               drop tcp-flags
 *   5: UDP :1005 -> :53                       general parser; passes, new state
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

#define SRC 0x0a000001u
#define DST 0x0a000002u

static char dir[32];

/* TCP header (20 bytes, no options) at th with its checksum, or that
 * checksum off by one when bad. */
static void tcp(uint8_t *th, uint16_t sport, uint8_t flags, bool bad)
{
	uint8_t ph[12 + 20];
	uint32_t s = htonl(SRC), d = htonl(DST);
	uint16_t c;

	th[0] = (uint8_t)(sport >> 8), th[1] = (uint8_t)sport;
	th[2] = 0, th[3] = 80;
	th[7] = 1;      /* seq 1 */
	th[12] = 5 << 4;
	th[13] = flags;
	th[14] = 0x20;  /* window 8192 */
	memcpy(ph, &s, 4);
	memcpy(ph + 4, &d, 4);
	ph[8] = 0, ph[9] = 6, ph[10] = 0, ph[11] = 20;
	memcpy(ph + 12, th, 20);
	c = rw_csum_fold(rw_csum_partial(ph, sizeof(ph), 0));
	memcpy(th + 16, &c, 2);
	if (bad)
		th[17] ^= 1;
}

static void put(pcap_dumper_t *d, const uint8_t *f, uint32_t len)
{
	struct pcap_pkthdr h = {.ts = {.tv_sec = 1, .tv_usec = 1}, .caplen = len, .len = len};

	pcap_dump((u_char *)d, &h, f);
}

static void write_caps(void)
{
	pcap_t *h = pcap_open_dead(DLT_EN10MB, 65535);
	uint8_t f[FRAME_LEN], v[FRAME_LEN + 4], *l4;
	char path[64];
	pcap_dumper_t *d;

	snprintf(path, sizeof(path), "%s/a.pcap", dir);
	if (!(d = pcap_dump_open(h, path)))
		abort();
	tcp(eth_ip4(f, 6, SRC, DST, 20), 1001, RW_TH_SYN, false);
	put(d, f, FRAME_LEN);
	f[14 + 10] ^= 1;
	put(d, f, FRAME_LEN);
	tcp(eth_ip4(f, 6, SRC, DST, 20), 1002, RW_TH_SYN, true);
	put(d, f, FRAME_LEN);
	tcp(eth_ip4(f, 6, SRC, DST, 20), 1003, RW_TH_SYN, false);
	memcpy(v, f, 12);
	memcpy(v + 12, "\x81\x00\x00\x07", 4);
	memcpy(v + 16, f + 12, FRAME_LEN - 12);
	put(d, v, sizeof(v));
	tcp(eth_ip4(f, 6, SRC, DST, 20), 1004, RW_TH_SYN | RW_TH_FIN, false);
	put(d, f, FRAME_LEN);
	l4 = eth_ip4(f, 17, SRC, DST, 8 + 4);
	l4[0] = 1005 >> 8, l4[1] = 1005 & 0xff, l4[3] = 53, l4[5] = 12;
	put(d, f, FRAME_LEN);
	pcap_dump_close(d);
	snprintf(path, sizeof(path), "%s/b.pcap", dir);
	if (!(d = pcap_dump_open(h, path)))
		abort();
	pcap_dump_close(d);
	pcap_close(h);
}

static void run(bool verify, struct rw_worker_stats *s)
{
	char rules[128];
	struct rw_engine *e;

	engine_dir(dir, sizeof(dir), "/tmp/rwploop.XXXXXX");
	write_caps();
	snprintf(rules, sizeof(rules), "set checksum %s\npass proto tcp keep state\npass proto udp keep state\n",
		 verify ? "verify" : "ignore");
	e = pcap_engine(dir, rules);
	for (int i = 0; i < 16 && rw_worker_poll(&e->workers[0]); i++)
		;
	rw_engine_sum_stats(e, s);
	pcap_engine_end(e, dir);
}

static void check_common(const struct rw_worker_stats *s)
{
	CHECK_EQ(s->port[0].rx_pkts, 6u);
	CHECK_EQ(s->port[0].rx_bytes, 5u * FRAME_LEN + FRAME_LEN + 4);
	CHECK_EQ(s->drops[RW_DROP_IP_CHECKSUM], 1u);
	CHECK_EQ(s->drops[RW_DROP_TCP_FLAGS], 1u);
	CHECK_EQ(s->state_hits, 0u);
}

TEST(checksums_ignored_fast_path_and_general_parser_in_one_burst)
{
	struct rw_worker_stats s;

	run(false, &s);
	check_common(&s);
	CHECK_EQ(s.drops[RW_DROP_L4_CHECKSUM], 0u);
	CHECK_EQ(s.state_misses, 4u);
	CHECK_EQ(s.port[1].tx_pkts, 4u);
	CHECK_EQ(s.port[0].drop_pkts, 2u);
}

TEST(checksums_verified_general_parser_only)
{
	struct rw_worker_stats s;

	run(true, &s);
	check_common(&s);
	CHECK_EQ(s.drops[RW_DROP_L4_CHECKSUM], 1u);
	CHECK_EQ(s.state_misses, 3u);
	CHECK_EQ(s.port[1].tx_pkts, 3u);
	CHECK_EQ(s.port[0].drop_pkts, 3u);
}
