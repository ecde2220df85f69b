/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The gen: port backend: spec checking, the warm-up handshake order across
 * the two ports, frames that parse with correct IPv4 and TCP checksums,
 * traffic limits, frame ownership (every frame comes back to its pool), and
 * every frame byte for byte what a naive reference builder makes of the
 * same flow, in the same order, whatever its slot held before.
 */
#include <errno.h>
#include <arpa/inet.h>

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
	CHECK_EQ(rw_port_check("gen:established,clock=50", err, sizeof(err)), 0);
	CHECK_EQ(rw_port_check("gen:established,clock=0", err, sizeof(err)), -EINVAL);
	CHECK_EQ(rw_port_check("gen:established,clock=1000000001", err, sizeof(err)), -EINVAL);
}

/* clock=: every frame carries a time NS after the one made before it, on
 * both sides of the group, warm-up and traffic alike; without it no frame
 * carries one and the port is not clocked. */
TEST(clock_stamps_every_frame)
{
	struct rw_port p[2];
	struct rw_frame f[RW_BURST];
	uint64_t last = 0;
	unsigned n, total = 0;

	if (open_pair(p, "gen:established,flows=40,clock=50", 1)) {
		CHECK(0);
		return;
	}
	CHECK(p[0].clocked && p[1].clocked);
	for (unsigned round = 0; round < 12; round++) {
		struct rw_port *in = &p[round & 1];

		if (round == 6)
			rw_gen_start(&p[0], 64);
		n = in->ops->rx_burst(in, 0, f, RW_BURST);
		for (unsigned i = 0; i < n; i++) {
			if (last)
				CHECK_EQ(f[i].ts_ns, last + 50);
			last = f[i].ts_ns;
		}
		total += n;
		in->ops->release(in, 0, f, n);
	}
	CHECK(total > 2 * RW_BURST);
	CHECK(last != 0);
	rw_port_close(&p[0]);
	rw_port_close(&p[1]);

	if (open_pair(p, "gen:established,flows=40", 1)) {
		CHECK(0);
		return;
	}
	CHECK(!p[0].clocked && !p[1].clocked);
	n = p[0].ops->rx_burst(&p[0], 0, f, RW_BURST);
	CHECK_EQ(n, 32);
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ(f[i].ts_ns, 0);
	p[0].ops->release(&p[0], 0, f, n);
	rw_port_close(&p[0]);
	rw_port_close(&p[1]);
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

/* ---- a naive reference: every byte from the flow model, sums over bytes ---- */

enum ref_kind { R_SYN, R_SYNACK, R_ACK, R_DATA_CS, R_DATA_SC };

static uint32_t ref_sum(const uint8_t *b, size_t len, uint32_t s)
{
	for (size_t i = 0; i < len; i += 2)
		s += (uint32_t)b[i] << 8 | (i + 1 < len ? b[i + 1] : 0);
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void ref_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void ref_put32(uint8_t *p, uint32_t v)
{
	ref_put16(p, (uint16_t)(v >> 16)), ref_put16(p + 2, (uint16_t)v);
}

/* Flow f's frame of kind k at size bytes (docs/bench.md): below 128 bytes a
 * bare segment padded with zeros, from 128 data segments carry size - 54. */
static void ref_frame(uint8_t *b, unsigned size, enum ref_kind k, uint64_t f)
{
	static const uint8_t flags[] = {0x02, 0x12, 0x10, 0x18, 0x18};
	bool back = k == R_SYNACK || k == R_DATA_SC, data = k >= R_DATA_CS && size >= 128;
	unsigned pay = data ? size - 54 : 0;
	struct rw_gen_flow fl;
	uint8_t *ip = b + 14, *th = b + 34, pseudo[12] = {0};
	uint32_t s;

	rw_gen_flow(f, &fl);
	memset(b, 0, size);
	memcpy(b, back ? "\x02\0\0\0\0\x01\x02\0\0\0\0\x02" : "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	ref_put16(b + 12, 0x0800);
	ip[0] = 0x45;
	ref_put16(ip + 2, (uint16_t)(40 + pay));
	ref_put16(ip + 6, 0x4000);
	ip[8] = 64, ip[9] = 6;
	ref_put32(ip + 12, back ? fl.saddr : fl.caddr);
	ref_put32(ip + 16, back ? fl.caddr : fl.saddr);
	ref_put16(ip + 10, ref_fold(ref_sum(ip, 20, 0)));
	ref_put16(th, back ? fl.sport : fl.cport);
	ref_put16(th + 2, back ? fl.cport : fl.sport);
	ref_put32(th + 4, (back ? fl.sisn : fl.cisn) + (k != R_SYN && k != R_SYNACK));
	ref_put32(th + 8, k == R_SYN ? 0 : (back ? fl.cisn : fl.sisn) + 1);
	th[12] = 5 << 4;
	th[13] = k >= R_DATA_CS && !data ? 0x10 : flags[k];
	ref_put16(th + 14, 65535);
	memcpy(pseudo, ip + 12, 8);
	pseudo[9] = 6;
	ref_put16(pseudo + 10, (uint16_t)(20 + pay));
	s = ref_sum(pseudo, 12, 0);
	ref_put16(th + 16, ref_fold(ref_sum(th, 20 + pay, s)));
}

/* Compare n frames against the reference; kinds[i], flows[i] expected. */
static unsigned ref_check(const struct rw_frame *f, unsigned n, unsigned size,
			  const enum ref_kind *kinds, const uint64_t *flows)
{
	static uint8_t want[RW_GEN_MAX_FRAME];
	static unsigned told; /* a few examples, not thousands */
	unsigned bad = 0;

	for (unsigned i = 0; i < n; i++) {
		ref_frame(want, size, kinds[i], flows[i]);
		if (f[i].len != size || memcmp(f[i].data, want, size)) {
			if (told++ < 4)
				printf("# frame %u (kind %d, flow %llu) differs from the reference\n", i,
				       kinds[i], (unsigned long long)flows[i]);
			bad++;
		}
	}
	return bad;
}

/* What the worker may do to a frame it holds: write its header. Bytes
 * 52..63 (urgent pointer, padding) and the payload are left: the generator
 * does not rewrite them (gen.c, struct gen_tmpl). */
static void scribble(struct rw_frame *f, unsigned n, uint8_t v)
{
	for (unsigned i = 0; i < n; i++)
		memset(f[i].data, v + i, 52);
}

/*
 * Mixed traffic (new SYNs among client data, server data back) after a
 * handshake, frames given back in changing orders and through both ports,
 * so that slots move between kinds and directions: every frame must equal
 * the reference's frame of the flow the generator's draws name (replayed
 * here: wyrand from the queue's seed, a new flow when 10 bits fall below
 * twice the new share).
 */
static void reuse_run(unsigned size)
{
	char spec[96];
	struct rw_port p[2];
	struct rw_frame f[RW_BURST];
	enum ref_kind kinds[RW_BURST];
	uint64_t flows[RW_BURST], rng = 1 * 0x9e3779b97f4a7c15ull + 0 + 1, next_new = 0, nnew = 0;
	const uint64_t nflows = 70;
	const unsigned thresh = 30 * 2 * 1024 / 100;
	unsigned n, bad = 0, frames = 0;

	snprintf(spec, sizeof(spec), "gen:mixed,flows=%llu,new=30,size=%u", (unsigned long long)nflows, size);
	if (open_pair(p, spec, 1)) {
		CHECK(0);
		return;
	}
	/* the handshake: SYN, SYN|ACK, ACK per 32 flows */
	for (uint64_t first = 0; first < nflows; first += RW_BURST) {
		static const enum ref_kind step[3] = {R_SYN, R_SYNACK, R_ACK};

		for (unsigned st = 0; st < 3; st++) {
			unsigned side = st == 1;

			n = p[side].ops->rx_burst(&p[side], 0, f, RW_BURST);
			CHECK_EQ(n, RW_MIN(RW_BURST, nflows - first));
			for (unsigned i = 0; i < n; i++)
				kinds[i] = step[st], flows[i] = first + i;
			bad += ref_check(f, n, size, kinds, flows);
			frames += n;
			scribble(f, n, (uint8_t)st);
			p[side ^ 1].ops->tx_burst(&p[side ^ 1], 0, f, n);
		}
	}
	CHECK(rw_gen_warm_done(&p[0], 0));
	rw_gen_start(&p[0], UINT64_MAX);
	for (unsigned round = 0; round < 200; round++) {
		for (unsigned side = 0; side < 2; side++) {
			unsigned max = round % 5 == 2 ? 7 : RW_BURST;

			n = p[side].ops->rx_burst(&p[side], 0, f, max);
			CHECK_EQ(n, max);
			for (unsigned i = 0; i < n; i++) {
				uint64_t r = rw_gen_rand(&rng);

				if (side == 0 && (r >> 54) < thresh) {
					kinds[i] = R_SYN, flows[i] = nflows + next_new++;
					nnew++;
				} else {
					kinds[i] = side ? R_DATA_SC : R_DATA_CS;
					flows[i] = rw_gen_below(r, nflows);
				}
			}
			bad += ref_check(f, n, size, kinds, flows);
			frames += n;
			scribble(f, n, (uint8_t)round);
			/* back in reverse order, half sent on, half released */
			for (unsigned i = 0; i < n; i++) {
				struct rw_frame *fr = &f[n - 1 - i];

				if ((i + round) & 1)
					p[side ^ 1].ops->tx_burst(&p[side ^ 1], 0, fr, 1);
				else
					p[side].ops->release(&p[side], 0, fr, 1);
			}
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(nnew > 2000 && frames > 10000); /* the SYNs did mix in */
	rw_port_close(&p[0]);
	rw_port_close(&p[1]);
}

TEST(frames_equal_reference_after_slot_reuse)
{
	reuse_run(64);
}

TEST(frames_with_data_equal_reference_after_slot_reuse)
{
	reuse_run(200);
}

/*
 * Flows over the model's whole range (up to 2^30 on queue 2 of 3, and new
 * flows past it), no handshake: the checksums add the addresses' high bits
 * and sequence numbers of every size, which the 70 flows above do not
 * reach. Enough frames that some checksums come out as 0 (a sum of 0xffff:
 * a fold that gave 0 there would show).
 */
static void far_run(unsigned size, unsigned *zero_csums)
{
	char spec[96];
	struct rw_port p[2];
	struct rw_frame f[RW_BURST];
	enum ref_kind kinds[RW_BURST];
	const unsigned nq = 3, q = 2, thresh = 30 * 2 * 1024 / 100;
	const uint64_t nflows = rw_gen_queue_flows(RW_GEN_MAX_FLOWS, q, nq);
	uint64_t flows[RW_BURST], rng = 1 * 0x9e3779b97f4a7c15ull + q + 1, next_new = 0;
	unsigned bad = 0;

	snprintf(spec, sizeof(spec), "gen:mixed,flows=%llu,new=30,size=%u", (unsigned long long)RW_GEN_MAX_FLOWS,
		 size);
	if (open_pair(p, spec, nq)) {
		CHECK(0);
		return;
	}
	rw_gen_start(&p[0], UINT64_MAX);
	for (unsigned round = 0; round < 1500; round++) {
		for (unsigned side = 0; side < 2; side++) {
			unsigned n = p[side].ops->rx_burst(&p[side], q, f, RW_BURST);

			CHECK_EQ(n, RW_BURST);
			for (unsigned i = 0; i < n; i++) {
				uint64_t r = rw_gen_rand(&rng);

				if (side == 0 && (r >> 54) < thresh) {
					kinds[i] = R_SYN;
					flows[i] = rw_gen_flow_id(nflows + next_new++, q, nq);
				} else {
					kinds[i] = side ? R_DATA_SC : R_DATA_CS;
					flows[i] = rw_gen_flow_id(rw_gen_below(r, nflows), q, nq);
				}
				*zero_csums += !f[i].data[24] && !f[i].data[25];
				*zero_csums += !f[i].data[50] && !f[i].data[51];
			}
			bad += ref_check(f, n, size, kinds, flows);
			scribble(f, n, (uint8_t)round);
			p[side].ops->release(&p[side], q, f, n);
		}
	}
	CHECK_EQ(bad, 0);
	rw_port_close(&p[0]);
	rw_port_close(&p[1]);
}

TEST(frames_of_far_flows_equal_reference)
{
	unsigned zero_csums = 0;

	far_run(64, &zero_csums);
	far_run(1514, &zero_csums);
	CHECK(zero_csums > 0);
}

/* Frames that are not the pool's (the SYN proxy's, handle 0, or a bad
 * handle) are counted and never enter the free list: a pool slot handed out
 * twice at once would alias two frames. */
TEST(foreign_frames_stay_out_of_the_pool)
{
	struct rw_port p[2];
	struct rw_frame f[4][RW_BURST], foreign[2], mixed[RW_BURST];
	uint8_t other[64] = {0};
	struct rw_gen_counts c;
	unsigned n, dup = 0;

	if (open_pair(p, "gen:syn-flood,flows=1", 1)) {
		CHECK(0);
		return;
	}
	rw_gen_start(&p[0], UINT64_MAX);
	foreign[0] = (struct rw_frame){.data = other, .len = 64, .handle = 0};
	foreign[1] = (struct rw_frame){.data = other, .len = 64, .handle = 1u << 20};
	/* while a burst is out, as the SYN proxy's frames come: alone, and
	 * amid the pool's own frames */
	n = p[0].ops->rx_burst(&p[0], 0, f[0], RW_BURST);
	CHECK_EQ(n, RW_BURST);
	CHECK_EQ(p[0].ops->tx_burst(&p[0], 0, foreign, 1), 1);
	mixed[0] = f[0][0];
	mixed[1] = foreign[1];
	memcpy(&mixed[2], &f[0][1], (RW_BURST - 2) * sizeof(mixed[0]));
	p[0].ops->release(&p[0], 0, mixed, RW_BURST);
	p[0].ops->release(&p[0], 0, &f[0][RW_BURST - 1], 1);
	/* the whole pool out: no frame twice */
	for (unsigned b = 0; b < 4; b++)
		CHECK_EQ(p[0].ops->rx_burst(&p[0], 0, f[b], RW_BURST), RW_BURST);
	CHECK_EQ(p[0].ops->rx_burst(&p[0], 0, foreign, 1), 0);
	for (unsigned i = 0; i < 4 * RW_BURST; i++)
		for (unsigned j = 0; j < i; j++)
			dup += f[i / RW_BURST][i % RW_BURST].data == f[j / RW_BURST][j % RW_BURST].data;
	CHECK_EQ(dup, 0);
	rw_gen_counts(&p[0], &c);
	CHECK_EQ(c.unowned, 2);
	/* more back than are out (a burst given back twice): the excess is
	 * counted, not stored */
	for (unsigned b = 0; b < 4; b++)
		p[0].ops->release(&p[0], 0, f[b], RW_BURST);
	p[0].ops->release(&p[0], 0, f[0], RW_BURST);
	rw_gen_counts(&p[0], &c);
	CHECK_EQ(c.unowned, 2 + RW_BURST);
	rw_port_close(&p[0]);
	rw_port_close(&p[1]);
}
