/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by the tests that drive the trackers by hand (test_track.c,
 * test_midstream.c, test_conntable.c; each includes it once, after t.h):
 * one IPv4 client and server, descriptors filled without the parser, and
 * the calls into rw_state_* the tests repeat. Static inline, so that a test
 * that needs only some of them still builds with -Werror.
 */
#ifndef RW_TEST_TRACK_UTIL_H
#define RW_TEST_TRACK_UTIL_H

#include <stdio.h>
#include <string.h>

#include "track/track.h"

#define SEC 1000000000ull

/* xorshift64*, fixed seed: a failing random run repeats. Each test binary
 * has its own copy of the state. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static inline uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

#define C_IP 0x0a000001u
#define S_IP 0xc0a80001u
#define C_PORT 40000
#define S_PORT 80

/* A shard with options o; on failure the reason as a TAP comment. */
static inline struct rw_state *mk_shard(const struct rw_state_opts *o)
{
	char err[256];
	struct rw_state *s = rw_state_create_shard(o, err, sizeof(err));

	if (!s)
		printf("# %s\n", err);
	return s;
}

/* ip as an IPv4-mapped address, the form the descriptor holds */
static inline void v4(uint8_t a[16], uint32_t ip)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = (uint8_t)(ip >> 24), a[13] = (uint8_t)(ip >> 16);
	a[14] = (uint8_t)(ip >> 8), a[15] = (uint8_t)ip;
}

/* A TCP segment from the client (dir 0) or the server (dir 1). */
static inline struct rw_pkt seg(int dir, uint8_t fl, uint32_t seq, uint32_t ack, uint16_t win,
				uint16_t len)
{
	struct rw_pkt p = {.af = RW_AF_INET, .proto = RW_PROTO_TCP, .flags = RW_PKT_L4,
			   .tcp_flags = fl, .tcp_seq = seq, .tcp_ack = ack, .tcp_win = win,
			   .payload_len = len, .tcp_wscale = RW_WSCALE_NONE};
	v4(dir ? p.saddr : p.daddr, S_IP);
	v4(dir ? p.daddr : p.saddr, C_IP);
	p.sport = dir ? S_PORT : C_PORT;
	p.dport = dir ? C_PORT : S_PORT;
	return p;
}

/* The drop reason and rule of the last tr() */
static unsigned last_reason;
static uint32_t last_rule;

static inline int tr(struct rw_state *s, struct rw_pkt p, uint64_t now)
{
	last_reason = 0;
	last_rule = 0;
	return rw_state_track(s, &p, now, &last_rule, &last_reason);
}

static inline struct rw_conn *conn_of(struct rw_state *s, struct rw_pkt p, uint64_t now)
{
	union rw_key k;
	unsigned side, klen = rw_key_from_pkt(&p, &k, &side);
	return klen ? rw_state_lookup(s, &k, klen, now) : NULL;
}

static inline const char *state_of(struct rw_state *s, struct rw_pkt p, uint64_t now)
{
	struct rw_conn *c = conn_of(s, p, now);
	return c ? rw_tcp_state_name(c) : "(none)";
}

#endif
