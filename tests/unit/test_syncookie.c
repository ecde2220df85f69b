/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SYN cookies (src/track/syncookie.c): a cookie round-trips with its MSS in
 * its own time bucket and the next; later it is expired; any change to the
 * connection, the ISN, the MSS bits, the time bits or the hash bits makes it
 * forged; another key's cookie is forged; the MSS is rounded down.
 */
#include "t.h"
#include "track/syncookie.h"

#define SEC 1000000000ull
#define BUCKET ((uint64_t)RW_COOKIE_BUCKET_S * SEC)

static const struct rw_syncookie_key key = {{0x0123456789abcdefull, 0xfedcba9876543210ull}};

static struct rw_pkt syn(uint32_t isn, uint16_t mss)
{
	struct rw_pkt p = {.af = RW_AF_INET, .proto = RW_PROTO_TCP, .flags = RW_PKT_L4,
			   .tcp_flags = RW_TH_SYN, .tcp_seq = isn, .tcp_mss = mss,
			   .sport = 40000, .dport = 80, .tcp_wscale = RW_WSCALE_NONE};
	p.saddr[10] = p.saddr[11] = p.daddr[10] = p.daddr[11] = 0xff;
	p.saddr[12] = 10, p.saddr[15] = 1;
	p.daddr[12] = 192, p.daddr[13] = 168, p.daddr[15] = 80;
	return p;
}

/* The client's ACK completing the handshake of s with cookie c. */
static struct rw_pkt ack_of(struct rw_pkt s, uint32_t c)
{
	s.tcp_flags = RW_TH_ACK;
	s.tcp_seq += 1;
	s.tcp_ack = c + 1;
	return s;
}

static uint16_t check(struct rw_pkt a, uint64_t now, bool *expired)
{
	return rw_syncookie_check(&key, &a, now, expired);
}

TEST(valid_cookie_returns_its_mss_in_its_bucket_and_the_next)
{
	uint64_t t0 = 1000 * BUCKET + 5 * SEC;
	struct rw_pkt s = syn(123456789, 1460);
	uint32_t c = rw_syncookie_make(&key, &s, t0);
	bool exp = true;

	CHECK_EQ(check(ack_of(s, c), t0, &exp), 1460);
	CHECK(!exp);
	CHECK_EQ(check(ack_of(s, c), t0 + BUCKET - 6 * SEC, &exp), 1460); /* same bucket */
	CHECK_EQ(check(ack_of(s, c), t0 + BUCKET, &exp), 1460);           /* next bucket */
	CHECK(!exp);
	/* the ISN wraps: seq 0xffffffff + 1 = 0 */
	s = syn(0xffffffffu, 1400);
	c = rw_syncookie_make(&key, &s, t0);
	CHECK_EQ(check(ack_of(s, c), t0, &exp), 1400);
}

TEST(cookie_expires_after_two_buckets)
{
	uint64_t t0 = 77 * BUCKET;
	struct rw_pkt s = syn(42, 1460);
	uint32_t c = rw_syncookie_make(&key, &s, t0);
	bool exp = false;

	CHECK_EQ(check(ack_of(s, c), t0 + 2 * BUCKET, &exp), 0);
	CHECK(exp);
	CHECK_EQ(check(ack_of(s, c), t0 + 31 * BUCKET, &exp), 0);
	CHECK(exp);
	/* 32 buckets on, the 5 time bits wrap: it no longer verifies at all */
	CHECK_EQ(check(ack_of(s, c), t0 + 32 * BUCKET, &exp), 0);
	CHECK(!exp);
	/* a clock before the cookie's bucket (or near zero) never accepts */
	CHECK_EQ(check(ack_of(s, c), 0, &exp), 0);
}

TEST(forged_cookies_fail)
{
	uint64_t t0 = 500 * BUCKET;
	struct rw_pkt s = syn(1000, 1460);
	uint32_t c = rw_syncookie_make(&key, &s, t0);
	bool exp;
	unsigned accepted = 0;

	/* every single-bit change of the cookie */
	for (unsigned b = 0; b < 32; b++)
		accepted += check(ack_of(s, c ^ (1u << b)), t0, &exp) != 0;
	CHECK_EQ(accepted, 0);
	/* another ISN, port, address */
	struct rw_pkt o = s;
	o.tcp_seq++;
	CHECK_EQ(check(ack_of(o, c), t0, &exp), 0);
	o = s;
	o.sport++;
	CHECK_EQ(check(ack_of(o, c), t0, &exp), 0);
	o = s;
	o.saddr[15] ^= 2;
	CHECK_EQ(check(ack_of(o, c), t0, &exp), 0);
	/* another key */
	struct rw_syncookie_key k2 = {{1, 2}};
	struct rw_pkt a = ack_of(s, c);
	CHECK_EQ(rw_syncookie_check(&k2, &a, t0, &exp), 0);
	/* blind guessing: of 200000 random cookies with the right time bits
	 * about 200000 / 2^27 pass (MSS bits and 24 hash bits unknown) */
	uint32_t x = 2463534242u;
	accepted = 0;
	for (unsigned i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		accepted += check(ack_of(s, (c & 0xf8000000u) | (x & 0x07ffffffu)), t0, &exp) != 0;
	}
	CHECK(accepted <= 2);
}

TEST(mss_is_rounded_down_to_the_table)
{
	CHECK_EQ(rw_syncookie_mss(0), 536);      /* absent option */
	CHECK_EQ(rw_syncookie_mss(536), 536);
	CHECK_EQ(rw_syncookie_mss(1459), 1452);
	CHECK_EQ(rw_syncookie_mss(1300), 1220);
	CHECK_EQ(rw_syncookie_mss(1440), 1440);
	CHECK_EQ(rw_syncookie_mss(9000), 1460);
	CHECK_EQ(rw_syncookie_mss(1220), 1220);
	/* the encoded MSS comes back from the ACK, for every table entry */
	static const uint16_t in[] = {0, 536, 1200, 1220, 1360, 1400, 1440, 1452, 1460, 1300, 65535};
	for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct rw_pkt s = syn(7 * i, in[i]);
		bool exp;
		uint32_t c = rw_syncookie_make(&key, &s, 9 * BUCKET);
		CHECK_EQ(check(ack_of(s, c), 9 * BUCKET, &exp), rw_syncookie_mss(in[i]));
	}
}

TEST(wrong_mss_encoding_is_forged)
{
	struct rw_pkt s = syn(31337, 1460);
	uint32_t c = rw_syncookie_make(&key, &s, 3 * BUCKET);
	bool exp;

	CHECK_EQ((c >> 24) & 7, 7); /* 1460 is the last entry */
	/* an attacker who claims a larger MSS by rewriting the bits fails */
	for (uint32_t m = 0; m < 7; m++)
		CHECK_EQ(check(ack_of(s, (c & ~0x07000000u) | m << 24), 3 * BUCKET, &exp), 0);
}
