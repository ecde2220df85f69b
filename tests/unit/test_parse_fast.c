/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rw_parse's fast path (untagged Ethernet, IPv4 without options, TCP with
 * no options or NOP,NOP,timestamp) must give exactly what the general
 * parser gives: the same verdict and the same bytes in every field the
 * parser owns. Frames near the fast path's edges are made by mutating
 * valid ones (header bytes, lengths, options), and both parsers run on
 * descriptors filled with the same garbage first, so that a field one
 * writes and the other leaves alone shows as a difference.
 */
#include <stddef.h>
#include <string.h>

#include "t.h"
#include "pkt/internal.h"

#define OWNED offsetof(struct rw_pkt, in_port)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void ip_csum(uint8_t *ip)
{
	put16(ip + 10, 0);
	uint16_t c = rw_csum_fold(rw_csum_partial(ip, 20, 0));
	memcpy(ip + 10, &c, 2);
}

/* A valid frame: Ethernet, IPv4, TCP with ts options or none, payload. */
static uint32_t make(uint8_t *f, bool ts, uint32_t payload)
{
	uint32_t doff = ts ? 32 : 20, tot = 20 + doff + payload;

	memset(f, 0, 1600);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *th = ip + 20;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, (uint16_t)rnd());
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x01\x02\x03\xc6\x12\x00\x07", 8);
	put16(th, 40000);
	put16(th + 2, 443);
	for (int i = 4; i < 12; i++)
		th[i] = (uint8_t)rnd();
	th[12] = (uint8_t)((doff / 4) << 4);
	th[13] = 0x10;
	put16(th + 14, 512);
	if (ts) {
		memcpy(th + 20, "\x01\x01\x08\x0a", 4);
		for (int i = 24; i < 32; i++)
			th[i] = (uint8_t)rnd();
	}
	ip_csum(ip);
	return 14 + tot;
}

/* Frames the fast path alone took in same(): rw_parse agreeing with the
 * general parser proves nothing about a frame the fast path declined. */
static int fast_taken;

/* Both parsers on the same frame and the same starting garbage; and the
 * fast path alone, which must give the general parser's fields whenever it
 * takes a frame (unless L4 checksums are verified: then rw_parse never
 * tries it). */
static bool same(uint8_t *f, uint32_t len, const struct rw_parse_opts *o, int *verdict)
{
	struct rw_pkt a, b, c;
	uint8_t junk = (uint8_t)rnd();
	int ra, rb;

	memset(&a, junk, sizeof(a));
	memset(&b, junk, sizeof(b));
	memset(&c, junk, sizeof(c));
	ra = rw_parse(&a, f, len, o);
	rb = rw_parse_general(&b, f, len, o);
	*verdict = ra;
	if (ra != rb)
		return false;
	if (!o->verify_l4_csum && rw_parse_fast(&c, f, len)) {
		fast_taken++;
		if (rb != RW_PASS || memcmp(&c, &b, OWNED) != 0)
			return false;
	}
	/* after a drop only the "always" fields are defined (pkt.h), but the
	 * fast path never answers a drop: the general one did, on both */
	return memcmp(&a, &b, OWNED) == 0;
}

TEST(fast_path_matches_general_on_valid_frames)
{
	static uint8_t f[1600];
	struct rw_parse_opts o = {0};
	int v, bad = 0, pass = 0;

	fast_taken = 0;
	for (int i = 0; i < 20000; i++) {
		uint32_t len = make(f, i & 1, rnd() % 1400);

		if (rnd() & 1)
			len += rnd() % 40; /* Ethernet padding past the IP packet */
		f[14 + 20 + 13] = (uint8_t)rnd(); /* every flag combination */
		if (!same(f, len, &o, &v))
			bad++;
		pass += v == RW_PASS;
	}
	CHECK_EQ(bad, 0);
	CHECK(pass > 2000); /* the valid flag sets did take the fast path's exit */
	CHECK_EQ(fast_taken, pass); /* every one of them by the fast path */
}

TEST(fast_path_matches_general_on_mutated_headers)
{
	static uint8_t f[1600];
	struct rw_parse_opts o = {0};
	int v, bad = 0, pass = 0, drop = 0;

	fast_taken = 0;
	for (int i = 0; i < 200000; i++) {
		/* one rnd() a statement: argument order is unspecified, and
		 * gcc and clang builds should test the same frames */
		unsigned ts = rnd() & 1;
		uint32_t len = make(f, ts, rnd() % 64);
		unsigned flips = 1 + rnd() % 3;

		for (unsigned k = 0; k < flips; k++) {
			unsigned at = rnd() % 66;

			f[at] ^= (uint8_t)(1u << (rnd() % 8));
		}
		if (rnd() & 1)
			ip_csum(f + 14); /* get past the header checksum half the time */
		switch (rnd() % 4) {
		case 0:
			len = rnd() % (len + 1); /* truncated anywhere */
			break;
		case 1:
			put16(f + 16, (uint16_t)(rnd() % 120)); /* any IP total length */
			ip_csum(f + 14);
			break;
		}
		if (!same(f, len, &o, &v))
			bad++;
		pass += v == RW_PASS;
		drop += v != RW_PASS;
	}
	CHECK_EQ(bad, 0);
	CHECK(pass > 10000);
	CHECK(drop > 10000);
	CHECK(fast_taken > 10000 && fast_taken < pass);
	printf("# mutated: %d pass, %d of them by the fast path, %d drops\n", pass, fast_taken, drop);
}

/* One byte of a header built to stress the checksum's carries and folds:
 * all zeros, all ones or random. */
static uint8_t edge_byte(void)
{
	switch (rnd() % 3) {
	case 0:
		return 0;
	case 1:
		return 0xff;
	}
	return (uint8_t)rnd();
}

/* The IPv4 header checksum check (the fast path's and the general one's)
 * against the reference sum, rw_csum_partial + rw_csum_fold: headers of
 * 0x00/0xff/random bytes, with the checksum right, with both forms of a
 * right one's complement zero (0x0000 and 0xffff, when the rest of the
 * header sums to zero), one off, or random. */
TEST(header_checksum_matches_reference)
{
	static uint8_t f[1600];
	struct rw_parse_opts o = {0};
	int v, bad = 0, wrong = 0, right = 0, pass = 0;

	fast_taken = 0;
	for (int i = 0; i < 200000; i++) {
		uint32_t len = make(f, false, rnd() % 8);
		uint8_t *ip = f + 14;
		uint16_t c;

		for (int k = 4; k < 20; k++)
			if (k != 9)
				ip[k] = edge_byte();
		if (rnd() & 1)
			put16(ip + 6, 0x4000); /* not a fragment: the fast path's */
		ip[1] = edge_byte();
		switch (rnd() % 4) {
		case 0:
			ip_csum(ip);
			break;
		case 1: /* the rest sums to zero: 0x0000 and 0xffff both right */
			memset(ip + 10, 0, 2);
			memset(ip + 4, 0, 2);
			c = rw_csum_fold(rw_csum_partial(ip, 20, 0));
			memcpy(ip + 4, &c, 2);
			memset(ip + 10, rnd() & 1 ? 0xff : 0, 2);
			break;
		case 2:
			ip_csum(ip);
			ip[11] ^= 1;
			break;
		default:
			break; /* whatever the random bytes left there */
		}
		bool ref = rw_csum_fold(rw_csum_partial(ip, 20, 0)) == 0;

		if (!same(f, len, &o, &v))
			bad++;
		if ((v == RW_DROP_IP_CHECKSUM) == ref)
			wrong++;
		right += ref;
		pass += v == RW_PASS;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(wrong, 0);
	CHECK(right > 50000 && right < 150000);
	CHECK(pass > 10000);
	CHECK(fast_taken > 10000);
	printf("# checksum: %d right, %d pass, %d by the fast path\n", right, pass, fast_taken);
}

/* The length bounds of the fast path's one-compare checks: frames of 53
 * to 55 bytes around its minimum, and past the 65,535 bytes the parser
 * reads (a GRO super-frame: the general parser clamps, the fast path
 * declines), with the IP total length at, below and above what the frame
 * holds. */
TEST(fast_path_length_edges)
{
	static uint8_t f[70000];
	static const uint32_t lens[] = {53, 54, 55, 65, 66, 67, 65534, 65535, 65536, 65537, 70000};
	struct rw_parse_opts o = {0};
	int v, bad = 0, pass = 0;

	fast_taken = 0;
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int ts = 0; ts < 2; ts++) {
			for (int d = -2; d <= 2; d++) {
				uint32_t len = lens[i], tot;

				make(f, ts, 0);
				tot = (uint32_t)RW_MIN(len, 0xffffu) - 14 + (uint32_t)d;
				put16(f + 16, (uint16_t)tot);
				ip_csum(f + 14);
				if (!same(f, len, &o, &v))
					bad++;
				pass += v == RW_PASS;
			}
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(pass > 10);
	CHECK(fast_taken > 5 && fast_taken < pass);
}

/* With L4 checksums verified the fast path stands aside; the verdicts of
 * rw_parse are the general parser's. */
TEST(verified_checksums_take_the_general_path)
{
	static uint8_t f[1600];
	struct rw_parse_opts o = {.verify_l4_csum = true};
	int v;
	uint32_t len = make(f, false, 10);

	CHECK(same(f, len, &o, &v));
	CHECK_EQ(v, RW_DROP_L4_CHECKSUM); /* make() leaves the TCP checksum 0 */
}

/* The fields a tracked segment needs, checked by value, not only by
 * agreement: both parsers could be wrong the same way. */
TEST(fast_path_fields)
{
	static uint8_t f[1600];
	struct rw_pkt p;
	struct rw_parse_opts o = {0};
	uint32_t len = make(f, true, 100);

	CHECK_EQ(rw_parse(&p, f, len, &o), RW_PASS);
	CHECK_EQ(p.af, RW_AF_INET);
	CHECK_EQ(p.proto, RW_PROTO_TCP);
	CHECK_EQ(p.sport, 40000);
	CHECK_EQ(p.dport, 443);
	CHECK_EQ(p.l4_off, 34);
	CHECK_EQ(p.payload_off, 34 + 32);
	CHECK_EQ(p.payload_len, 100);
	CHECK_EQ(p.tcp_ts, 1);
	CHECK_EQ(p.tcp_tsval, rd32(f + 34 + 24));
	CHECK_EQ(p.tcp_wscale, RW_WSCALE_NONE);
	CHECK(rw_addr_is_v4mapped(p.saddr));
	CHECK(memcmp(p.saddr + 12, "\x0a\x01\x02\x03", 4) == 0);
	CHECK_EQ(p.flags, RW_PKT_L4);
}
