/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reassembly (src/track/frag.c): whole datagrams are built in C with correct
 * checksums, cut into fragments like a sender would (or like an attacker
 * would), parsed by rw_parse as the worker does, and offered in various
 * orders. Every drop is checked by its reason and by what the drop callback
 * reported for the fragments already held.
 */
#include "t.h"

#include "../../src/track/frag.h"
#include "../../src/worker/reasons.h"

#define ETH_HLEN 14

static uint8_t whole[70000];
static uint32_t whole_len;
static uint8_t frame[70000];
static uint32_t frame_len;
static uint8_t view[RW_FRAG_VIEW_MAX];

/* What the drop callback saw. */
static unsigned cb_pkts[RW_DROP_MAX];
static unsigned cb_calls;

static void on_drop(void *arg, unsigned in_port, unsigned reason, unsigned pkts, uint64_t bytes)
{
	(void)arg;
	(void)in_port;
	(void)bytes;
	if (reason < RW_DROP_MAX)
		cb_pkts[reason] += pkts;
	cb_calls++;
}

static struct rw_frag *mk(uint64_t max_frags)
{
	struct rw_frag_opts o = { .max_frags = max_frags, .hash_key = {1, 2}, .drop = on_drop,
				  .timeout_ns = 30000000000ull };
	char err[128];

	memset(cb_pkts, 0, sizeof(cb_pkts));
	cb_calls = 0;
	return rw_frag_create(&o, err, sizeof(err));
}

static void wr16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* A 16-bit value as the checksum code sums it (memory order, host read). */
static uint16_t htons_(uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	uint16_t r;

	memcpy(&r, b, 2);
	return r;
}

static void put_csum(uint8_t *at, uint32_t sum)
{
	uint16_t c = rw_csum_fold(sum);

	memcpy(at, &c, 2);
}

/* Ethernet with optional VLAN tag; returns the L3 offset. */
static uint32_t mk_eth(uint8_t *b, uint16_t et, int vid)
{
	memset(b, 0, 12);
	b[0] = 2;
	b[6] = 2;
	b[11] = 1;
	if (vid >= 0) {
		wr16(b + 12, 0x8100);
		wr16(b + 14, (uint16_t)vid);
		wr16(b + 16, et);
		return 18;
	}
	wr16(b + 12, et);
	return 14;
}

static const uint8_t S4[4] = {192, 0, 2, 1}, D4[4] = {198, 51, 100, 7};
static const uint8_t S6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t D6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2};

static uint32_t g_l3, g_hl; /* of the current whole datagram */
static bool g_v6;

/* UDP with n payload bytes: the datagram to cut. IPv4 with IP id. */
static void whole4(uint32_t n, uint16_t id, int vid, uint8_t proto)
{
	uint32_t l3 = mk_eth(whole, 0x0800, vid);
	uint8_t *ip = whole + l3, *uh = ip + 20;
	uint32_t sum;

	g_l3 = l3;
	g_hl = 20;
	g_v6 = false;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(20 + 8 + n));
	wr16(ip + 4, id);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, S4, 4);
	memcpy(ip + 16, D4, 4);
	put_csum(ip + 10, rw_csum_partial(ip, 20, 0));
	wr16(uh, 5353);
	wr16(uh + 2, 53);
	wr16(uh + 4, (uint16_t)(8 + n));
	uh[6] = uh[7] = 0;
	for (uint32_t i = 0; i < n; i++)
		uh[8 + i] = (uint8_t)(i * 7 + 3);
	/* pseudo-header: addresses, protocol, UDP length */
	sum = rw_csum_partial(ip + 12, 8, 0);
	sum += htons_(17) + htons_((uint16_t)(8 + n));
	sum = rw_csum_partial(uh, 8 + n, sum);
	put_csum(uh + 6, sum);
	whole_len = l3 + 20 + 8 + n;
}

/* Fragment of the current IPv4 datagram: IP payload bytes [off, off+len). */
static void frag4(uint32_t off, uint32_t len, bool more)
{
	uint8_t *ip;

	memcpy(frame, whole, g_l3 + 20);
	ip = frame + g_l3;
	wr16(ip + 2, (uint16_t)(20 + len));
	wr16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
	ip[10] = ip[11] = 0;
	put_csum(ip + 10, rw_csum_partial(ip, 20, 0));
	memcpy(ip + 20, whole + g_l3 + 20 + off, len);
	frame_len = g_l3 + 20 + len;
}

/* IPv6/UDP with n payload bytes; hbh adds a hop-by-hop header (unfragmentable). */
static void whole6(uint32_t n, int vid, bool hbh)
{
	uint32_t l3 = mk_eth(whole, 0x86dd, vid), x = hbh ? 8 : 0;
	uint8_t *ip = whole + l3, *uh = ip + 40 + x;
	uint32_t sum;

	g_l3 = l3;
	g_hl = 40 + x;
	g_v6 = true;
	memset(ip, 0, 40 + x);
	ip[0] = 0x60;
	wr16(ip + 4, (uint16_t)(x + 8 + n));
	ip[6] = hbh ? 0 : 17;
	ip[7] = 64;
	memcpy(ip + 8, S6, 16);
	memcpy(ip + 24, D6, 16);
	if (hbh) {
		ip[40] = 17;
		ip[41] = 0;
		ip[42] = 1; /* PadN, 4 bytes */
		ip[43] = 4;
	}
	wr16(uh, 5353);
	wr16(uh + 2, 53);
	wr16(uh + 4, (uint16_t)(8 + n));
	uh[6] = uh[7] = 0;
	for (uint32_t i = 0; i < n; i++)
		uh[8 + i] = (uint8_t)(i * 5 + 1);
	sum = rw_csum_partial(ip + 8, 32, 0);
	sum += htons_((uint16_t)(8 + n)) + htons_(17);
	sum = rw_csum_partial(uh, 8 + n, sum);
	put_csum(uh + 6, sum);
	whole_len = l3 + 40 + x + 8 + n;
}

/* Fragment of the current IPv6 datagram: fragmentable bytes [off, off+len). */
static void frag6(uint32_t off, uint32_t len, bool more, uint32_t id)
{
	uint32_t u = g_l3 + g_hl; /* end of the unfragmentable part */
	uint8_t *ip = frame + g_l3, *fh = frame + u;
	uint8_t nh = g_hl > 40 ? whole[g_l3 + 40] : whole[g_l3 + 6];

	memcpy(frame, whole, u);
	if (g_hl > 40)
		frame[g_l3 + 40] = 44;
	else
		ip[6] = 44;
	fh[0] = nh;
	fh[1] = 0;
	wr16(fh + 2, (uint16_t)(off | (more ? 1 : 0)));
	fh[4] = (uint8_t)(id >> 24);
	fh[5] = (uint8_t)(id >> 16);
	fh[6] = (uint8_t)(id >> 8);
	fh[7] = (uint8_t)id;
	memcpy(fh + 8, whole + u + off, len);
	wr16(ip + 4, (uint16_t)(g_hl - 40 + 8 + len));
	frame_len = u + 8 + len;
}

static uint32_t fraglen(void)
{
	return whole_len - g_l3 - g_hl; /* fragmentable bytes of the datagram */
}

static const struct rw_parse_opts verify = { .verify_l4_csum = true };
static struct rw_pkt pkt;

/* Parse the current frame as the worker does and offer it. Returns
 * RW_FRAG_* or 10 + reason when the parser dropped it. */
static int offer_at(struct rw_frag *f, unsigned port, uint64_t now, uint32_t *dg, unsigned *reason)
{
	struct rw_frame fr = { .data = frame, .len = frame_len, .ts_ns = now };
	int r = rw_parse(&pkt, frame, frame_len, &verify);

	*dg = RW_FRAG_NONE;
	*reason = 0;
	pkt.in_port = (uint8_t)port;
	if (r != RW_PASS) {
		*reason = rw_frag_refine(&pkt, (unsigned)r);
		return RW_FRAG_DROP;
	}
	if (!(pkt.flags & RW_PKT_FRAG))
		return -1;
	return rw_frag_add(f, &pkt, &fr, now, &verify, view, dg, reason);
}

static int offer(struct rw_frag *f, uint32_t *dg, unsigned *reason)
{
	return offer_at(f, 0, 1000, dg, reason);
}

/* The emitted frames are byte for byte the fragments, in arrival order. */
static uint8_t sent[8][70000];
static uint32_t sent_len[8];

static void keep(unsigned k)
{
	memcpy(sent[k], frame, frame_len);
	sent_len[k] = frame_len;
}

static bool frames_match(struct rw_frag *f, uint32_t dg, unsigned n)
{
	struct rw_frame out[RW_FRAG_MAX_PER_DGRAM];
	unsigned got = rw_frag_frames(f, dg, out);

	if (got != n)
		return false;
	for (unsigned k = 0; k < n; k++)
		if (out[k].len != sent_len[k] || memcmp(out[k].data, sent[k], sent_len[k]) || out[k].handle)
			return false;
	return true;
}

TEST(frag_in_order_v4)
{
	struct rw_frag *f = mk(100);
	struct rw_frag_stats st;
	uint32_t dg;
	unsigned why;

	whole4(3000, 77, -1, 17);
	frag4(0, 1480, true);
	keep(0);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frag4(1480, 1480, true);
	keep(1);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frag4(2960, 48, false);
	keep(2);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DONE);
	CHECK(dg != RW_FRAG_NONE);
	CHECK_EQ(pkt.af, RW_AF_INET);
	CHECK_EQ(pkt.proto, RW_PROTO_UDP);
	CHECK_EQ(pkt.sport, 5353);
	CHECK_EQ(pkt.dport, 53);
	CHECK_EQ(pkt.payload_len, 3000);
	CHECK_EQ(pkt.l3_len, 3028);
	CHECK(!(pkt.flags & RW_PKT_FRAG));
	CHECK(pkt.flags & RW_PKT_L4);
	CHECK_EQ(pkt.len, whole_len);
	CHECK(!memcmp(pkt.data, whole, whole_len)); /* the rebuilt packet is the original */
	CHECK(frames_match(f, dg, 3));
	rw_frag_stats(f, &st);
	CHECK_EQ(st.held_frags, 3);
	CHECK_EQ(st.reassembled, 1);
	CHECK_EQ(st.open_dgrams, 0);
	rw_frag_release(f, dg);
	rw_frag_stats(f, &st);
	CHECK_EQ(st.held_frags, 0);
	CHECK_EQ(st.held_bytes, 0);
	CHECK_EQ(cb_calls, 0);
	rw_frag_destroy(f);
}

TEST(frag_out_of_order_v4)
{
	struct rw_frag *f = mk(100);
	uint32_t dg;
	unsigned why;

	whole4(2000, 9, -1, 17);
	frag4(1600, 408, false);
	keep(0);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frag4(800, 800, true);
	keep(1);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frag4(0, 800, true);
	keep(2);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DONE);
	CHECK_EQ(pkt.dport, 53);
	CHECK_EQ(pkt.payload_len, 2000);
	CHECK(frames_match(f, dg, 3)); /* arrival order, not offset order */
	rw_frag_release(f, dg);
	rw_frag_destroy(f);
}

TEST(frag_bad_checksum_drops_whole)
{
	struct rw_frag *f = mk(100);
	uint32_t dg;
	unsigned why;

	whole4(2000, 10, -1, 17);
	whole[g_l3 + 20 + 1500] ^= 0xff; /* corrupt data in the second fragment */
	frag4(0, 1480, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frag4(1480, 528, false);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_L4_CHECKSUM);
	CHECK_EQ(cb_pkts[RW_DROP_L4_CHECKSUM], 1); /* the first, held */
	rw_frag_destroy(f);
}

TEST(frag_duplicate_and_conflicting_copy)
{
	struct rw_frag *f = mk(100);
	uint32_t dg;
	unsigned why;

	whole4(2000, 11, -1, 17);
	frag4(0, 1000, true);
	keep(0);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP); /* the same again */
	CHECK_EQ(why, RW_DROP_FRAG_DUPLICATE);
	CHECK_EQ(cb_calls, 0); /* the datagram lives on */
	frag4(1000, 1008, false);
	keep(1);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DONE);
	CHECK(frames_match(f, dg, 2)); /* one copy forwarded */
	rw_frag_release(f, dg);

	/* Same range, other bytes: the host would have to choose. */
	whole4(2000, 12, -1, 17);
	frag4(0, 1000, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frame[g_l3 + 20 + 500] ^= 1;
	frame[g_l3 + 10] = frame[g_l3 + 11] = 0; /* keep the IP header valid */
	put_csum(frame + g_l3 + 10, rw_csum_partial(frame + g_l3, 20, 0));
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_OVERLAP);
	CHECK_EQ(cb_pkts[RW_DROP_FRAG_OVERLAP], 1);
	rw_frag_destroy(f);
}

TEST(frag_overlap_drops_whole_datagram)
{
	struct rw_frag *f = mk(100);
	struct rw_frag_stats st;
	uint32_t dg;
	unsigned why;

	whole4(3000, 13, -1, 17);
	frag4(0, 1480, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frag4(2960, 48, false);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frag4(1472, 1488, true); /* teardrop: reaches 8 bytes back into the first */
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_OVERLAP);
	CHECK_EQ(cb_pkts[RW_DROP_FRAG_OVERLAP], 2);
	rw_frag_stats(f, &st);
	CHECK_EQ(st.held_frags, 0);
	CHECK_EQ(st.open_dgrams, 0);
	CHECK_EQ(st.dropped_dgrams, 1);
	/* What comes after starts afresh and cannot complete alone. */
	frag4(1480, 1480, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	rw_frag_destroy(f);
}

TEST(frag_oversize)
{
	struct rw_frag *f = mk(100);
	uint32_t dg;
	unsigned why;

	/* Ping of death caught by the parser: offset + data > 65,535. */
	whole4(60000, 14, -1, 17);
	frag4(0, 1480, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frame_len = g_l3 + 20 + 16;
	memcpy(frame, whole, g_l3 + 20);
	wr16(frame + g_l3 + 2, 36);
	wr16(frame + g_l3 + 6, 65528 / 8);
	frame[g_l3 + 10] = frame[g_l3 + 11] = 0;
	put_csum(frame + g_l3 + 10, rw_csum_partial(frame + g_l3, 20, 0));
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_TOO_BIG);

	/* Past the parser (offset + data = 65,528) but not with the IP
	 * header: the whole datagram held so far goes. */
	wr16(frame + g_l3 + 6, 65512 / 8);
	frame[g_l3 + 10] = frame[g_l3 + 11] = 0;
	put_csum(frame + g_l3 + 10, rw_csum_partial(frame + g_l3, 20, 0));
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_TOO_BIG);
	CHECK_EQ(cb_pkts[RW_DROP_FRAG_TOO_BIG], 1);
	rw_frag_destroy(f);
}

TEST(frag_too_many)
{
	struct rw_frag *f = mk(1000);
	uint32_t dg;
	unsigned why;

	whole4(2000, 15, -1, 17);
	for (unsigned k = 0; k < RW_FRAG_MAX_PER_DGRAM; k++) {
		frag4(k * 16, 16, true);
		CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	}
	frag4(RW_FRAG_MAX_PER_DGRAM * 16, 16, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_TOO_MANY);
	CHECK_EQ(cb_pkts[RW_DROP_FRAG_TOO_MANY], RW_FRAG_MAX_PER_DGRAM);
	rw_frag_destroy(f);
}

TEST(frag_inconsistent_lengths)
{
	struct rw_frag *f = mk(100);
	uint32_t dg;
	unsigned why;

	whole4(3000, 16, -1, 17);
	frag4(2000, 1008, false);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frag4(1000, 1000, false); /* a second, different end */
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_INCONSISTENT);
	CHECK_EQ(cb_pkts[RW_DROP_FRAG_INCONSISTENT], 1);

	frag4(1000, 1000, false); /* end 2000 is the total now */
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frag4(2000, 504, true); /* data past the end */
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_INCONSISTENT);

	frag4(2000, 504, true); /* a last fragment that ends before data seen */
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	frag4(1000, 504, false);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_INCONSISTENT);
	rw_frag_destroy(f);
}

TEST(frag_timeout)
{
	struct rw_frag *f = mk(100);
	struct rw_frag_stats st;
	const uint64_t s = 1000000000ull, to = 30 * s;
	uint32_t dg;
	unsigned why;

	whole4(2000, 17, -1, 17);
	frag4(0, 1000, true);
	CHECK_EQ(offer_at(f, 0, 5 * s, &dg, &why), RW_FRAG_HELD);
	frag4(1000, 504, true);
	CHECK_EQ(offer_at(f, 0, 6 * s, &dg, &why), RW_FRAG_HELD);
	whole4(2000, 18, -1, 17);
	frag4(0, 1000, true);
	CHECK_EQ(offer_at(f, 0, 20 * s, &dg, &why), RW_FRAG_HELD);
	CHECK_EQ(rw_frag_expire(f, 35 * s - 1, to, 16), 0);
	CHECK_EQ(rw_frag_expire(f, 35 * s, to, 16), 1);
	CHECK_EQ(cb_pkts[RW_DROP_FRAG_TIMEOUT], 2);
	rw_frag_stats(f, &st);
	CHECK_EQ(st.expired_dgrams, 1);
	CHECK_EQ(st.expired_frags, 2);
	CHECK_EQ(st.open_dgrams, 1);
	/* bounded work: a budget of 0 does nothing */
	CHECK_EQ(rw_frag_expire(f, 100 * s, to, 0), 0);
	CHECK_EQ(rw_frag_expire(f, 100 * s, to, 16), 1);
	rw_frag_stats(f, &st);
	CHECK_EQ(st.held_frags, 0);

	/* A straggler after the timeout does not complete the old datagram,
	 * even before expiry ran: it starts a new one. */
	whole4(2000, 19, -1, 17);
	frag4(0, 1000, true);
	CHECK_EQ(offer_at(f, 0, 200 * s, &dg, &why), RW_FRAG_HELD);
	frag4(1000, 1008, false);
	CHECK_EQ(offer_at(f, 0, 230 * s, &dg, &why), RW_FRAG_HELD);
	CHECK_EQ(cb_pkts[RW_DROP_FRAG_TIMEOUT], 4);
	frag4(0, 1000, true);
	CHECK_EQ(offer_at(f, 0, 231 * s, &dg, &why), RW_FRAG_DONE);
	rw_frag_release(f, dg);
	rw_frag_destroy(f);
}

TEST(frag_memory_cap_evicts_oldest)
{
	struct rw_frag *f = mk(4);
	struct rw_frag_stats st;
	uint32_t dg;
	unsigned why;

	rw_frag_stats(f, &st);
	CHECK_EQ(st.max_frags, 4);
	for (uint16_t id = 100; id < 104; id++) {
		whole4(2000, id, -1, 17);
		frag4(1000, 1008, false);
		CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	}
	whole4(2000, 200, -1, 17);
	frag4(0, 1000, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD); /* id 100 made room */
	CHECK_EQ(cb_pkts[RW_DROP_FRAG_NO_MEMORY], 1);
	frag4(1000, 1008, false);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DONE); /* 101 went too */
	CHECK_EQ(cb_pkts[RW_DROP_FRAG_NO_MEMORY], 2);
	rw_frag_stats(f, &st);
	CHECK_EQ(st.evicted_dgrams, 2);
	CHECK_EQ(st.held_frags, 4);
	rw_frag_release(f, dg);

	/* A datagram that alone needs more than the cap cannot be held. */
	whole4(8000, 300, -1, 17);
	for (unsigned k = 0; k < 4; k++) {
		frag4(k * 1000, 1000, true);
		CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	}
	frag4(4000, 1000, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_NO_MEMORY);
	rw_frag_stats(f, &st);
	CHECK_EQ(st.held_frags, 0);
	rw_frag_destroy(f);

	/* The byte cap holds whatever the fragment limit says. */
	struct rw_frag_opts o = { .max_frags = 10000000, .drop = on_drop };
	char err[64];
	f = rw_frag_create(&o, err, sizeof(err));
	CHECK(f != NULL);
	rw_frag_stats(f, &st);
	CHECK(st.max_bytes <= RW_FRAG_BYTES_MAX);
	CHECK_EQ(st.max_frags, RW_FRAG_BYTES_MAX / RW_FRAG_CHUNK);
	rw_frag_destroy(f);
}

TEST(frag_tiny_first)
{
	struct rw_frag *f = mk(100);
	uint32_t dg;
	unsigned why;

	/* TCP: the first fragment has 8 of its 20 header bytes (RFC 1858). */
	whole4(2000, 19, -1, 6);
	frag4(0, 8, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_SHORT_FIRST);
	/* UDP header whole in 8 bytes: not tiny. */
	whole4(2000, 20, -1, 17);
	frag4(0, 8, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	/* IPv6: fragment header, then 4 bytes of UDP. */
	whole6(100, -1, false);
	frame_len = 0;
	frag6(0, 4, true, 5);
	wr16(frame + g_l3 + 4, 8 + 4);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK(why == RW_DROP_FRAG_SHORT_FIRST || why == RW_DROP_FRAG);
	CHECK_EQ(why, RW_DROP_FRAG_SHORT_FIRST);
	rw_frag_destroy(f);
}

TEST(frag_v6_in_order_and_hbh)
{
	struct rw_frag *f = mk(100);
	uint32_t dg;
	unsigned why;

	whole6(2500, -1, true);
	frag6(0, 1232, true, 0xdeadbeef);
	keep(0);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	CHECK_EQ(pkt.af, RW_AF_INET6);
	frag6(1232, fraglen() - 1232, false, 0xdeadbeef);
	keep(1);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DONE);
	CHECK_EQ(pkt.af, RW_AF_INET6);
	CHECK_EQ(pkt.proto, RW_PROTO_UDP);
	CHECK_EQ(pkt.payload_len, 2500);
	CHECK(pkt.flags & RW_PKT_IP_OPTS);
	CHECK_EQ(pkt.len, whole_len);
	CHECK(!memcmp(pkt.data, whole, whole_len)); /* fragment header removed */
	CHECK(frames_match(f, dg, 2));
	rw_frag_release(f, dg);
	rw_frag_destroy(f);
}

TEST(frag_v6_ext_split)
{
	struct rw_frag *f = mk(100);
	uint32_t dg;
	unsigned why;
	uint32_t u;

	/* Fragment header, then a destination-options header that the first
	 * fragment cuts in half (CVE-2019-5597's shape). */
	whole6(100, -1, false);
	u = g_l3 + 40;
	memcpy(frame, whole, u);
	frame[g_l3 + 6] = 44;
	frame[u] = 60;            /* frag header: next is dest opts */
	frame[u + 1] = 0;
	wr16(frame + u + 2, 1);   /* offset 0, M */
	frame[u + 4] = 0;
	frame[u + 5] = 0;
	frame[u + 6] = 0;
	frame[u + 7] = 9;
	frame[u + 8] = 17;        /* dest opts: 24 bytes declared, 8 present */
	frame[u + 9] = 2;
	memset(frame + u + 10, 0, 6);
	frame[u + 10] = 1;
	frame[u + 11] = 4;
	wr16(frame + g_l3 + 4, 16);
	frame_len = u + 16;
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_EXT_SPLIT);

	/* The same header whole, but no room for UDP: short first. */
	frame[u + 9] = 0;
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_FRAG_SHORT_FIRST);

	/* Not a fragment at all: a truncated chain stays ip6-ext-short. */
	frame[g_l3 + 6] = 60;
	memmove(frame + u, frame + u + 8, 8);
	frame[u + 1] = 2;
	wr16(frame + g_l3 + 4, 8);
	frame_len = u + 8;
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DROP);
	CHECK_EQ(why, RW_DROP_IP6_EXT_SHORT);
	rw_frag_destroy(f);
}

TEST(frag_vlan_port_and_family_separation)
{
	struct rw_frag *f = mk(100);
	uint32_t dg;
	unsigned why;

	/* Same addresses, id and protocol on two VLANs: two datagrams. */
	whole4(2000, 21, 10, 17);
	frag4(0, 1000, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	whole4(2000, 21, 20, 17);
	frag4(1000, 1008, false);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD); /* would complete if mixed */
	/* Untagged, same again: a third. */
	whole4(2000, 21, -1, 17);
	frag4(1000, 1008, false);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	/* Other port: a fourth. */
	frag4(0, 1000, true);
	CHECK_EQ(offer_at(f, 1, 1000, &dg, &why), RW_FRAG_HELD);
	/* Other protocol (IPv4 keys on it; GRE is not parsed further). */
	whole4(2000, 21, -1, 47);
	frag4(0, 1000, true);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	/* and the right match completes */
	whole4(2000, 21, 10, 17);
	frag4(1000, 1008, false);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DONE);
	CHECK_EQ(pkt.nvlan, 1);
	CHECK_EQ(pkt.vlan[0], 10);
	rw_frag_release(f, dg);

	/* IPv6 with the same id number never meets the IPv4 datagram. */
	whole6(1992, -1, false);
	frag6(1000, 1000, false, 21);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	whole4(2000, 21, -1, 17);
	frag4(0, 1000, true);
	CHECK_EQ(offer_at(f, 0, 1000, &dg, &why), RW_FRAG_DONE); /* the untagged v4 one */
	CHECK_EQ(pkt.af, RW_AF_INET);
	rw_frag_release(f, dg);
	rw_frag_destroy(f);
}

TEST(frag_jumbo_chained)
{
	struct rw_frag *f = mk(100);
	uint32_t dg;
	unsigned why;

	whole4(20000, 22, -1, 17);
	for (unsigned k = 0; k < 2; k++) {
		frag4(k * 8976, 8976, true);
		keep(k);
		CHECK_EQ(offer(f, &dg, &why), RW_FRAG_HELD);
	}
	frag4(2 * 8976, 20008 - 2 * 8976, false);
	keep(2);
	CHECK_EQ(offer(f, &dg, &why), RW_FRAG_DONE);
	CHECK_EQ(pkt.payload_len, 20000);
	CHECK(frames_match(f, dg, 3));
	rw_frag_release(f, dg);
	rw_frag_destroy(f);
}

TEST(frag_atomic_v6_is_whole)
{
	uint32_t dg;
	unsigned why;
	struct rw_frag *f = mk(10);

	whole6(100, -1, false);
	frag6(0, fraglen(), false, 1);
	CHECK_EQ(offer(f, &dg, &why), -1); /* not RW_PKT_FRAG: not for frag.c */
	CHECK(pkt.flags & RW_PKT_L4);
	CHECK_EQ(pkt.dport, 53);
	rw_frag_destroy(f);
}

/* Random fragments from a small set of datagrams, every order, duplicates
 * and overlaps: no crash, no leak, and held counts return to zero. */
TEST(frag_random_soak)
{
	struct rw_frag *f = mk(64);
	struct rw_frag_stats st;
	uint32_t dg, seed = 12345;
	unsigned why, done = 0;

	for (unsigned i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t r = seed >> 8;
		uint32_t off = (r % 8) * 256, len = 256 * (1 + (r >> 3) % 2);
		bool last = off + len >= 2008;

		whole4(2000, (uint16_t)((r >> 5) % 4), -1, 17);
		if (last)
			len = 2008 - off;
		frag4(off, len, !last);
		int res = offer_at(f, 0, (uint64_t)i * 1000000, &dg, &why);
		if (res == RW_FRAG_DONE) {
			done++;
			CHECK_EQ(pkt.payload_len, 2000);
			rw_frag_release(f, dg);
		}
		rw_frag_expire(f, (uint64_t)i * 1000000, 50000000, 4);
	}
	CHECK(done > 0);
	rw_frag_expire(f, UINT64_MAX / 2, 1, 1000);
	rw_frag_stats(f, &st);
	CHECK_EQ(st.held_frags, 0);
	CHECK_EQ(st.open_dgrams, 0);
	rw_frag_destroy(f);
}
