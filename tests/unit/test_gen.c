/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The gen: port backend: spec checking, the warm-up handshake order across
 * the two ports, frames that parse with correct IPv4 and TCP checksums,
 * traffic limits, and frame ownership (every frame comes back to its pool).
 */
#include <errno.h>

#include "t.h"
#include "io/gen.h"
#include "io/port.h"
#include "pkt/pkt.h"
#include "worker/reasons.h"

static const struct rw_parse_opts verify = {.verify_l4_csum = true};

static int open_pair(struct rw_port p[2], const char *spec, unsigned nq)
{
	char err[256];

	if (rw_port_open(&p[0], "inside", 0, spec, nq, err, sizeof(err)) ||
	    rw_port_open(&p[1], "outside", 1, spec, nq, err, sizeof(err))) {
		printf("# open: %s\n", err);
		return -1;
	}
	return 0;
}

/* Parse every frame (checksums verified); return how many were good. */
static unsigned parse_all(struct rw_frame *f, unsigned n, struct rw_pkt *out, uint8_t flags)
{
	unsigned good = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rw_pkt p;

		if (rw_parse(&p, f[i].data, f[i].len, &verify) != RW_PASS)
			continue;
		if (p.af != RW_AF_INET || p.proto != RW_PROTO_TCP || p.tcp_flags != flags)
			continue;
		if (out)
			out[i] = p;
		good++;
	}
	return good;
}

TEST(check_specs)
{
	char err[256];

	CHECK_EQ(rw_port_check("gen:established", err, sizeof(err)), 0);
	CHECK_EQ(rw_port_check("gen:mixed,flows=10000000,zipf=0.99,size=1500,new=5,seed=3", err,
			       sizeof(err)), 0);
	CHECK_EQ(rw_port_check("gen:syn-flood,flows=1", err, sizeof(err)), 0);
	CHECK_EQ(rw_port_check("gen:bogus", err, sizeof(err)), -EINVAL);
	CHECK_EQ(rw_port_check("gen:", err, sizeof(err)), -EINVAL);
	CHECK_EQ(rw_port_check("gen:established,flows=0", err, sizeof(err)), -EINVAL);
	CHECK_EQ(rw_port_check("gen:established,flows=-1", err, sizeof(err)), -EINVAL);
	CHECK_EQ(rw_port_check("gen:established,size=59", err, sizeof(err)), -EINVAL);
	CHECK_EQ(rw_port_check("gen:established,size=4000", err, sizeof(err)), -EINVAL);
	CHECK_EQ(rw_port_check("gen:established,zipf=x", err, sizeof(err)), -EINVAL);
	CHECK_EQ(rw_port_check("gen:established,new=101", err, sizeof(err)), -EINVAL);
	CHECK_EQ(rw_port_check("gen:established,color=red", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "color") != NULL);
	CHECK_EQ(rw_port_check("gen:established,flows", err, sizeof(err)), -EINVAL);
}

TEST(handshake_in_order_then_traffic)
{
	struct rw_port p[2];
	struct rw_frame f[RW_BURST];
	struct rw_pkt pk[RW_BURST];
	struct rw_gen_counts c;
	unsigned n;

	if (open_pair(p, "gen:established,flows=40", 1)) {
		CHECK(0);
		return;
	}
	CHECK(rw_gen_is(&p[0]) && rw_gen_is(&p[1]));
	/* server side has nothing before the client's SYNs */
	CHECK_EQ(p[1].ops->rx_burst(&p[1], 0, f, RW_BURST), 0);
	n = p[0].ops->rx_burst(&p[0], 0, f, RW_BURST);
	CHECK_EQ(n, 32);
	CHECK_EQ(parse_all(f, n, pk, RW_TH_SYN), n);
	p[0].ops->tx_burst(&p[1], 0, f, n);
	n = p[1].ops->rx_burst(&p[1], 0, f, RW_BURST);
	CHECK_EQ(n, 32);
	CHECK_EQ(parse_all(f, n, NULL, RW_TH_SYN | RW_TH_ACK), n);
	p[1].ops->release(&p[1], 0, f, n);
	CHECK_EQ(p[1].ops->rx_burst(&p[1], 0, f, RW_BURST), 0);
	n = p[0].ops->rx_burst(&p[0], 0, f, RW_BURST);
	CHECK_EQ(parse_all(f, n, NULL, RW_TH_ACK), 32);
	p[0].ops->release(&p[0], 0, f, n);
	CHECK(!rw_gen_warm_done(&p[0], 0));
	/* the last 8 flows */
	CHECK_EQ(p[0].ops->rx_burst(&p[0], 0, f, RW_BURST), 8);
	p[0].ops->release(&p[0], 0, f, 8);
	CHECK_EQ(p[1].ops->rx_burst(&p[1], 0, f, RW_BURST), 8);
	p[1].ops->release(&p[1], 0, f, 8);
	CHECK_EQ(p[0].ops->rx_burst(&p[0], 0, f, RW_BURST), 8);
	p[0].ops->release(&p[0], 0, f, 8);
	CHECK(rw_gen_warm_done(&p[0], 0));
	CHECK_EQ(p[0].ops->rx_burst(&p[0], 0, f, RW_BURST), 0);

	rw_gen_start(&p[0], 40);
	n = p[0].ops->rx_burst(&p[0], 0, f, RW_BURST);
	CHECK_EQ(n, 32);
	CHECK_EQ(parse_all(f, n, pk, RW_TH_ACK), n);
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(pk[i].saddr[12], 10);
		CHECK_EQ(pk[i].payload_len, 0);
	}
	p[0].ops->tx_burst(&p[1], 0, f, n);
	CHECK_EQ(p[0].ops->rx_burst(&p[0], 0, f, RW_BURST), 8); /* limit 40 */
	p[0].ops->release(&p[0], 0, f, 8);
	CHECK(!rw_gen_queue_done(&p[0], 0));
	n = p[1].ops->rx_burst(&p[1], 0, f, RW_BURST);
	CHECK_EQ(parse_all(f, n, pk, RW_TH_ACK), 32);
	CHECK_EQ(pk[0].daddr[12], 10);
	p[1].ops->release(&p[1], 0, f, n);
	CHECK_EQ(p[1].ops->rx_burst(&p[1], 0, f, RW_BURST), 8);
	p[1].ops->release(&p[1], 0, f, 8);
	CHECK(rw_gen_queue_done(&p[0], 0));
	CHECK_EQ(p[1].ops->rx_burst(&p[1], 0, f, RW_BURST), 0);
	rw_gen_counts(&p[0], &c);
	CHECK_EQ(c.pkts, 80);
	CHECK_EQ(c.warm_pkts, 120);
	CHECK_EQ(c.tx_pkts + c.released, 200);
	rw_port_close(&p[0]);
	rw_port_close(&p[1]);
}

TEST(large_frames_carry_data_and_verify)
{
	struct rw_port p[2];
	struct rw_frame f[RW_BURST];
	struct rw_pkt pk[RW_BURST];
	unsigned n;

	if (open_pair(p, "gen:established,flows=1000,size=1514,zipf=1.1", 1)) {
		CHECK(0);
		return;
	}
	rw_gen_start(&p[0], UINT64_MAX);
	for (int round = 0; round < 100; round++) {
		for (unsigned s = 0; s < 2; s++) {
			n = p[s].ops->rx_burst(&p[s], 0, f, RW_BURST);
			CHECK_EQ(n, 32);
			CHECK_EQ(parse_all(f, n, pk, RW_TH_ACK | RW_TH_PUSH), n);
			CHECK_EQ(f[0].len, 1514);
			CHECK_EQ(pk[0].payload_len, 1460);
			p[s].ops->release(&p[s], 0, f, n);
		}
	}
	rw_port_close(&p[0]);
	rw_port_close(&p[1]);
}

TEST(syn_flood_new_flows_one_side)
{
	struct rw_port p[2];
	struct rw_frame f[RW_BURST];
	struct rw_pkt pk[RW_BURST];
	struct rw_gen_counts c;
	unsigned n;

	if (open_pair(p, "gen:syn-flood,flows=16", 2)) {
		CHECK(0);
		return;
	}
	CHECK(rw_gen_warm_done(&p[0], 0) && rw_gen_warm_done(&p[0], 1));
	rw_gen_start(&p[0], 64);
	n = p[0].ops->rx_burst(&p[0], 1, f, RW_BURST);
	CHECK_EQ(parse_all(f, n, pk, RW_TH_SYN), 32);
	/* every SYN a different client */
	for (unsigned i = 1; i < n; i++)
		CHECK(memcmp(pk[i].saddr, pk[i - 1].saddr, 16) || pk[i].sport != pk[i - 1].sport);
	p[0].ops->release(&p[0], 1, f, n);
	CHECK_EQ(p[1].ops->rx_burst(&p[1], 1, f, RW_BURST), 0);
	rw_gen_counts(&p[0], &c);
	CHECK_EQ(c.new_flows, 32);
	rw_gen_stop(&p[0]);
	CHECK(rw_gen_queue_done(&p[0], 0));
	CHECK_EQ(p[0].ops->rx_burst(&p[0], 0, f, RW_BURST), 0);
	rw_port_close(&p[0]);
	rw_port_close(&p[1]);
}

TEST(zipf_prefers_low_ranks)
{
	uint32_t *seq = malloc(RW_GEN_ZSEQ_LEN * sizeof(*seq));
	uint64_t top = 0, mid = 0;

	CHECK(seq && rw_gen_zipf_fill(seq, RW_GEN_ZSEQ_LEN, 100000, 1.0, 7) == 0);
	for (uint32_t i = 0; seq && i < RW_GEN_ZSEQ_LEN; i++) {
		CHECK(seq[i] < 100000);
		top += seq[i] == 0;
		mid += seq[i] == 999;
	}
	/* H(100000) ~ 12.09: rank 0 has ~8.3%, rank 999 ~0.0083% */
	CHECK(top > RW_GEN_ZSEQ_LEN / 14 && top < RW_GEN_ZSEQ_LEN / 10);
	CHECK(mid < top / 200);
	free(seq);
}
