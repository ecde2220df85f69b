/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The FTP helper: the line parser (every command form, garbage, IPv6 EPRT),
 * reassembly of lines across segments, overlong lines, the bounce check,
 * expectations (exactly the announced connection, once, for a bounded
 * time, bounded per control connection), and the cross-worker path: two
 * workers' state shards joined by SPSC rings as the engine joins them.
 */
#include <arpa/inet.h>

#include "t.h"
#include "alg/alg.h"
#include "track/track.h"
#include "worker/reasons.h"
#include "worker/spsc.h"

#define SEC 1000000000ull

static int pl(const char *s, unsigned from_server, struct rw_alg_announce *a)
{
	return rw_ftp_parse_line((const uint8_t *)s, strlen(s), from_server, a);
}

static bool is_v4(const struct rw_alg_announce *a, const char *ip)
{
	uint8_t b[4];

	inet_pton(AF_INET, ip, b);
	return a->af == RW_AF_INET && a->addr[10] == 0xff && a->addr[11] == 0xff &&
	       !memcmp(a->addr + 12, b, 4);
}

TEST(parse_port_forms)
{
	struct rw_alg_announce a;

	CHECK_EQ(pl("PORT 10,0,0,1,4,1", 0, &a), RW_ALG_LINE_ANNOUNCE);
	CHECK_EQ(a.kind, RW_ANN_ACTIVE);
	CHECK(is_v4(&a, "10.0.0.1"));
	CHECK_EQ(a.port, 1025);
	CHECK_EQ(pl("port 192,168,1,2,255,255", 0, &a), RW_ALG_LINE_ANNOUNCE);
	CHECK_EQ(a.port, 65535);
	CHECK_EQ(pl("Port   1,2,3,4,0,21  ", 0, &a), RW_ALG_LINE_ANNOUNCE);
	CHECK_EQ(a.port, 21);
	/* a server never sends PORT; a client's "227" is not a reply */
	CHECK_EQ(pl("PORT 10,0,0,1,4,1", 1, &a), RW_ALG_LINE_OTHER);
	CHECK_EQ(pl("227 Entering Passive Mode (10,0,0,1,4,1)", 0, &a), RW_ALG_LINE_OTHER);
	/* other commands, and words that only start like PORT */
	CHECK_EQ(pl("PORTS 1,2,3,4,5,6", 0, &a), RW_ALG_LINE_OTHER);
	CHECK_EQ(pl("RETR PORT 1,2,3,4,5,6", 0, &a), RW_ALG_LINE_OTHER);
	CHECK_EQ(pl("", 0, &a), RW_ALG_LINE_OTHER);
}

TEST(parse_port_garbage)
{
	static const char *bad[] = {
		"PORT", "PORT ", "PORT 10,0,0,1,4", "PORT 10,0,0,1,4,1,7", "PORT 256,0,0,1,4,1",
		"PORT 10,0,0,1,4,256", "PORT 10,0,0,1,0,0", "PORT 10,0,0,1,0004,1",
		"PORT 10, 0,0,1,4,1", "PORT -1,0,0,1,4,1", "PORT 10,0,0,1,4,1x", "PORT a,b,c,d,e,f",
		"PORT 99999999999999999999,0,0,1,4,1", "PORT 10,,0,1,4,1",
	};
	struct rw_alg_announce a;

	for (size_t i = 0; i < RW_ARRAY_SIZE(bad); i++) {
		int r = pl(bad[i], 0, &a);
		if (r != RW_ALG_LINE_BAD)
			printf("#   '%s' -> %d\n", bad[i], r);
		CHECK_EQ(r, RW_ALG_LINE_BAD);
	}
}

TEST(parse_eprt_v4_v6_and_garbage)
{
	static const char *bad[] = {
		"EPRT", "EPRT |1|10.0.0.1|1025", "EPRT |3|10.0.0.1|1025|", "EPRT |1|10.0.0.256|1025|",
		"EPRT |2|10.0.0.1|1025|", "EPRT |1|::1|1025|", "EPRT |2|2001:db8::zz|1025|",
		"EPRT |1|10.0.0.1|65536|", "EPRT |1|10.0.0.1|0|", "EPRT |1||1025|",
		"EPRT 1|10.0.0.1|1025|", "EPRT |1|10.0.0.1|1025|junk",
		"EPRT |2|1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd|1|",
	};
	struct rw_alg_announce a;
	uint8_t v6[16];

	CHECK_EQ(pl("EPRT |1|132.235.1.2|6275|", 0, &a), RW_ALG_LINE_ANNOUNCE);
	CHECK(is_v4(&a, "132.235.1.2"));
	CHECK_EQ(a.port, 6275);
	CHECK_EQ(a.kind, RW_ANN_ACTIVE);
	CHECK_EQ(pl("eprt |2|1080::8:800:200C:417A|5282|", 0, &a), RW_ALG_LINE_ANNOUNCE);
	inet_pton(AF_INET6, "1080::8:800:200C:417A", v6);
	CHECK_EQ(a.af, RW_AF_INET6);
	CHECK(!memcmp(a.addr, v6, 16));
	CHECK_EQ(a.port, 5282);
	/* any delimiter the RFC allows */
	CHECK_EQ(pl("EPRT !2!fd00::3!40000!", 0, &a), RW_ALG_LINE_ANNOUNCE);
	CHECK_EQ(a.port, 40000);
	for (size_t i = 0; i < RW_ARRAY_SIZE(bad); i++) {
		int r = pl(bad[i], 0, &a);
		if (r != RW_ALG_LINE_BAD)
			printf("#   '%s' -> %d\n", bad[i], r);
		CHECK_EQ(r, RW_ALG_LINE_BAD);
	}
}

TEST(parse_227_and_229)
{
	struct rw_alg_announce a;

	CHECK_EQ(pl("227 Entering Passive Mode (192,0,2,80,195,80).", 1, &a), RW_ALG_LINE_ANNOUNCE);
	CHECK_EQ(a.kind, RW_ANN_PASSIVE);
	CHECK(is_v4(&a, "192.0.2.80"));
	CHECK_EQ(a.port, 50000);
	/* RFC 1123: no parentheses, text before the numbers */
	CHECK_EQ(pl("227 =192,0,2,80,0,21", 1, &a), RW_ALG_LINE_ANNOUNCE);
	CHECK_EQ(a.port, 21);
	CHECK_EQ(pl("227 Entering Passive Mode (192,0,2,80,195)", 1, &a), RW_ALG_LINE_BAD);
	CHECK_EQ(pl("227 Entering Passive Mode", 1, &a), RW_ALG_LINE_BAD);
	CHECK_EQ(pl("227 (300,0,2,80,1,1)", 1, &a), RW_ALG_LINE_BAD);
	/* the first line of a multi-line reply is not the announcement */
	CHECK_EQ(pl("227-Entering Passive Mode (192,0,2,80,195,80)", 1, &a), RW_ALG_LINE_OTHER);
	CHECK_EQ(pl("2270 (192,0,2,80,195,80)", 1, &a), RW_ALG_LINE_OTHER);

	CHECK_EQ(pl("229 Entering Extended Passive Mode (|||6446|)", 1, &a), RW_ALG_LINE_ANNOUNCE);
	CHECK_EQ(a.kind, RW_ANN_PASSIVE);
	CHECK_EQ(a.af, 0);
	CHECK_EQ(a.port, 6446);
	CHECK_EQ(pl("229 ok (!!!21008!)", 1, &a), RW_ALG_LINE_ANNOUNCE);
	CHECK_EQ(a.port, 21008);
	static const char *bad[] = {
		"229 Entering Extended Passive Mode", "229 (|||6446)", "229 (||6446|)",
		"229 (|||0|)", "229 (|||65536|)", "229 (|||x|)", "229 (|||6446!)", "229 (",
		"229 (1116461)",
	};
	for (size_t i = 0; i < RW_ARRAY_SIZE(bad); i++) {
		int r = pl(bad[i], 1, &a);
		if (r != RW_ALG_LINE_BAD)
			printf("#   '%s' -> %d\n", bad[i], r);
		CHECK_EQ(r, RW_ALG_LINE_BAD);
	}
	/* replies only count from the server */
	CHECK_EQ(pl("229 Entering Extended Passive Mode (|||6446|)", 0, &a), RW_ALG_LINE_OTHER);
}

/* ---- the helper in a state shard ---- */

#define C_IP "10.0.0.1"
#define S_IP "192.0.2.80"
#define C_PORT 40000

static uint32_t tos[RW_TO_MAX];

static struct rw_state *mk(unsigned worker, unsigned nworkers)
{
	struct rw_state_opts o = {.capacity = 1000, .hash_key = {1, 2}, .worker = worker,
				  .nworkers = nworkers};
	char err[256];

	for (unsigned i = 0; i < RW_TO_MAX; i++)
		tos[i] = o.timeouts[i] = rw_timeout_defaults[i];
	struct rw_state *s = rw_state_create_shard(&o, err, sizeof(err));
	if (!s)
		printf("# %s\n", err);
	return s;
}

static void ip(uint8_t a[16], const char *s)
{
	memset(a, 0, 16);
	if (strchr(s, ':')) {
		inet_pton(AF_INET6, s, a);
		return;
	}
	a[10] = a[11] = 0xff;
	inet_pton(AF_INET, s, a + 12);
}

static uint8_t bufs[64][256];
static unsigned nbuf;

/* A TCP segment src:sp -> dst:dp carrying text (may be NULL). */
static struct rw_pkt tcp(const char *src, uint16_t sp, const char *dst, uint16_t dp, uint8_t fl,
			 uint32_t seq, uint32_t ack, const char *text)
{
	struct rw_pkt p = {.af = strchr(src, ':') ? RW_AF_INET6 : RW_AF_INET,
			   .proto = RW_PROTO_TCP, .flags = RW_PKT_L4, .tcp_flags = fl,
			   .tcp_seq = seq, .tcp_ack = ack, .tcp_win = 65535,
			   .tcp_wscale = RW_WSCALE_NONE, .sport = sp, .dport = dp};
	uint8_t *b = bufs[nbuf++ % 64];
	size_t n = text ? strlen(text) : 0;

	ip(p.saddr, src);
	ip(p.daddr, dst);
	memcpy(b, text ? text : "", n);
	p.data = b;
	p.len = (uint32_t)n;
	p.payload_off = 0;
	p.payload_len = (uint16_t)n;
	return p;
}

static uint32_t cseq, sseq; /* next byte of client, server */
static const char *cip = C_IP, *sip = S_IP;

static int tr(struct rw_state *s, struct rw_pkt p, uint64_t now, uint32_t *rule)
{
	unsigned reason = 0;

	*rule = 0;
	return rw_state_track(s, &p, now, rule, &reason);
}

/* The control connection, created as the worker creates it (rule 7). */
static void control(struct rw_state *s, uint64_t now)
{
	struct rw_pkt syn = tcp(cip, C_PORT, sip, 21, RW_TH_SYN, 1000, 0, NULL);
	uint32_t rule;

	CHECK_EQ(rw_state_create(s, &syn, 7, now), RW_PASS);
	CHECK_EQ(rw_alg_helper_for(&syn, (const uint16_t[]){21}, 1), RW_ALG_FTP);
	CHECK_EQ(rw_state_mark_alg(s, &syn, RW_ALG_FTP, now), 0);
	CHECK_EQ(tr(s, tcp(sip, 21, cip, C_PORT, RW_TH_SYN | RW_TH_ACK, 5000, 1001, NULL), now,
		    &rule), RW_TRACK_PASS);
	CHECK_EQ(tr(s, tcp(cip, C_PORT, sip, 21, RW_TH_ACK, 1001, 5001, NULL), now, &rule),
		 RW_TRACK_PASS);
	cseq = 1001, sseq = 5001;
}

static int csend(struct rw_state *s, const char *text, uint64_t now)
{
	uint32_t rule;
	int r = tr(s, tcp(cip, C_PORT, sip, 21, RW_TH_ACK | RW_TH_PUSH, cseq, sseq, text), now,
		   &rule);

	cseq += (uint32_t)strlen(text);
	return r;
}

static int ssend(struct rw_state *s, const char *text, uint64_t now)
{
	uint32_t rule;
	int r = tr(s, tcp(sip, 21, cip, C_PORT, RW_TH_ACK | RW_TH_PUSH, sseq, cseq, text), now,
		   &rule);

	sseq += (uint32_t)strlen(text);
	return r;
}

static const struct rw_alg_stats *st(struct rw_state *s)
{
	return &rw_state_alg(s)->st;
}

TEST(active_port_split_across_segments)
{
	struct rw_state *s = mk(0, 1);
	uint64_t now = 10 * SEC;
	uint32_t rule;

	control(s, now);
	CHECK_EQ(ssend(s, "220 hi\r\n", now), RW_TRACK_PASS);
	CHECK_EQ(csend(s, "PO", now), RW_TRACK_PASS);
	CHECK_EQ(csend(s, "RT 10,0,0,1,", now), RW_TRACK_PASS);
	CHECK_EQ(st(s)->exp_created, 0);
	CHECK_EQ(csend(s, "4,1\r", now), RW_TRACK_PASS);
	CHECK_EQ(st(s)->exp_created, 0);
	CHECK_EQ(csend(s, "\n", now), RW_TRACK_PASS);
	CHECK_EQ(st(s)->exp_created, 1);
	/* the wrong direction, port or host: not expected */
	CHECK_EQ(tr(s, tcp(cip, 1025, sip, 20, RW_TH_SYN, 1, 0, NULL), now, &rule), RW_TRACK_MISS);
	CHECK_EQ(tr(s, tcp(sip, 20, cip, 1026, RW_TH_SYN, 1, 0, NULL), now, &rule), RW_TRACK_MISS);
	CHECK_EQ(tr(s, tcp("192.0.2.81", 20, cip, 1025, RW_TH_SYN, 1, 0, NULL), now, &rule),
		 RW_TRACK_MISS);
	/* not a SYN: cannot open it */
	CHECK_EQ(tr(s, tcp(sip, 20, cip, 1025, RW_TH_ACK, 1, 0, NULL), now, &rule), RW_TRACK_MISS);
	/* the announced one, from any source port: state under rule 7, once */
	CHECK_EQ(tr(s, tcp(sip, 33333, cip, 1025, RW_TH_SYN, 1, 0, NULL), now, &rule),
		 RW_TRACK_PASS);
	CHECK_EQ(rule, 7);
	CHECK_EQ(tr(s, tcp(cip, 1025, sip, 33333, RW_TH_SYN | RW_TH_ACK, 9, 2, NULL), now, &rule),
		 RW_TRACK_PASS);
	CHECK_EQ(tr(s, tcp(sip, 20, cip, 1025, RW_TH_SYN, 1, 0, NULL), now, &rule), RW_TRACK_MISS);
	CHECK_EQ(st(s)->exp_used, 1);
	rw_state_destroy(s);
}

TEST(passive_227_and_retransmission)
{
	struct rw_state *s = mk(0, 1);
	uint64_t now = 10 * SEC;
	uint32_t rule, save;

	control(s, now);
	CHECK_EQ(csend(s, "PASV\r\n", now), RW_TRACK_PASS);
	save = sseq;
	CHECK_EQ(ssend(s, "227 Entering Passive Mode (192,0,2,80,195,80).\r\n", now), RW_TRACK_PASS);
	/* a retransmission of the same reply is not a second line */
	sseq = save;
	CHECK_EQ(ssend(s, "227 Entering Passive Mode (192,0,2,80,195,80).\r\n", now), RW_TRACK_PASS);
	CHECK_EQ(st(s)->lines, 2); /* PASV and the 227, once */
	CHECK_EQ(st(s)->exp_created, 1);
	/* server -> client is the wrong direction for passive */
	CHECK_EQ(tr(s, tcp(sip, 50000, cip, 1025, RW_TH_SYN, 1, 0, NULL), now, &rule),
		 RW_TRACK_MISS);
	CHECK_EQ(tr(s, tcp(cip, 41000, sip, 50000, RW_TH_SYN, 1, 0, NULL), now, &rule),
		 RW_TRACK_PASS);
	CHECK_EQ(rule, 7);
	rw_state_destroy(s);
}

TEST(bounce_and_spoofed_227_refused)
{
	struct rw_state *s = mk(0, 1);
	uint64_t now = 10 * SEC;
	uint32_t rule;

	control(s, now);
	CHECK_EQ(csend(s, "PORT 192,0,2,99,0,80\r\n", now), RW_TRACK_PASS);
	CHECK_EQ(csend(s, "EPRT |1|192.0.2.99|80|\r\n", now), RW_TRACK_PASS);
	CHECK_EQ(csend(s, "EPRT |2|2001:db8::1|80|\r\n", now), RW_TRACK_PASS);
	CHECK_EQ(ssend(s, "227 Entering Passive Mode (198,51,100,1,0,22).\r\n", now),
		 RW_TRACK_PASS);
	CHECK_EQ(st(s)->bounce, 4);
	CHECK_EQ(st(s)->exp_created, 0);
	CHECK_EQ(tr(s, tcp(sip, 20, "192.0.2.99", 80, RW_TH_SYN, 1, 0, NULL), now, &rule),
		 RW_TRACK_MISS);
	/* garbage counts as bad, not as an announcement */
	CHECK_EQ(csend(s, "PORT 10,0,0,1,4,999\r\n", now), RW_TRACK_PASS);
	CHECK_EQ(st(s)->bad, 1);
	rw_state_destroy(s);
}

TEST(overlong_line_dropped_next_line_parsed)
{
	struct rw_state *s = mk(0, 1);
	uint64_t now = 10 * SEC;
	char big[1400];

	control(s, now);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, "PORT ", 5);
	/* several segments of one endless line, then its end */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(csend(s, big, now), RW_TRACK_PASS);
	CHECK_EQ(csend(s, "\r\nPORT 10,0,0,1,4,1\r\n", now), RW_TRACK_PASS);
	CHECK_EQ(st(s)->overlong, 1);
	CHECK_EQ(st(s)->bad, 0);
	CHECK_EQ(st(s)->exp_created, 1);
	/* exactly the bound (CR included) still parses; one more is overlong */
	char line[RW_ALG_LINE_MAX + 3];
	memset(line, ' ', sizeof(line));
	memcpy(line, "PORT 10,0,0,1,4,2", 17);
	memcpy(line + RW_ALG_LINE_MAX - 1, "\r\n", 3);
	CHECK_EQ(csend(s, line, now), RW_TRACK_PASS);
	CHECK_EQ(st(s)->exp_created, 2);
	memset(line, ' ', sizeof(line));
	memcpy(line, "PORT 10,0,0,1,4,3", 17);
	memcpy(line + RW_ALG_LINE_MAX + 1, "\n", 2);
	CHECK_EQ(csend(s, line, now), RW_TRACK_PASS);
	CHECK_EQ(st(s)->overlong, 2);
	CHECK_EQ(st(s)->exp_created, 2);
	rw_state_destroy(s);
}

TEST(gap_discards_partial_line)
{
	struct rw_state *s = mk(0, 1);
	uint64_t now = 10 * SEC;

	control(s, now);
	CHECK_EQ(csend(s, "PORT 10,0,", now), RW_TRACK_PASS);
	cseq += 5; /* five bytes the firewall never saw */
	CHECK_EQ(csend(s, "4,1\r\nPORT 10,0,0,1,4,5\r\n", now), RW_TRACK_PASS);
	CHECK_EQ(st(s)->gaps, 1);
	CHECK_EQ(st(s)->bad, 0);
	CHECK_EQ(st(s)->exp_created, 1);
	rw_state_destroy(s);
}

TEST(ipv6_eprt_and_epsv)
{
	struct rw_state *s = mk(0, 1);
	uint64_t now = 10 * SEC;
	uint32_t rule;

	cip = "2001:db8:1::10", sip = "2001:db8:2::80";
	control(s, now);
	CHECK_EQ(csend(s, "EPRT |2|2001:db8:1::10|40001|\r\n", now), RW_TRACK_PASS);
	CHECK_EQ(ssend(s, "229 Entering Extended Passive Mode (|||40002|)\r\n", now),
		 RW_TRACK_PASS);
	CHECK_EQ(st(s)->exp_created, 2);
	CHECK_EQ(tr(s, tcp(sip, 20, cip, 40001, RW_TH_SYN, 1, 0, NULL), now, &rule),
		 RW_TRACK_PASS);
	CHECK_EQ(tr(s, tcp(cip, 50000, sip, 40002, RW_TH_SYN, 1, 0, NULL), now, &rule),
		 RW_TRACK_PASS);
	CHECK_EQ(rule, 7);
	cip = C_IP, sip = S_IP;
	rw_state_destroy(s);
}

TEST(expectation_expires_and_is_bounded_per_control)
{
	struct rw_state *s = mk(0, 1);
	uint64_t now = 10 * SEC;
	uint32_t rule;
	char line[64];

	control(s, now);
	CHECK_EQ(csend(s, "PORT 10,0,0,1,4,1\r\n", now), RW_TRACK_PASS);
	now += (uint64_t)rw_timeout_defaults[RW_TO_FTP_EXPECT] * SEC;
	CHECK_EQ(tr(s, tcp(sip, 20, cip, 1025, RW_TH_SYN, 1, 0, NULL), now, &rule), RW_TRACK_MISS);
	CHECK_EQ(st(s)->exp_expired, 1);
	/* ten announcements: only the last RW_ALG_EXP_PER_CTL stay */
	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "PORT 10,0,0,1,5,%d\r\n", i);
		CHECK_EQ(csend(s, line, now + (uint64_t)i), RW_TRACK_PASS);
	}
	CHECK_EQ(rw_state_alg(s)->nexp, RW_ALG_EXP_PER_CTL);
	CHECK_EQ(st(s)->exp_replaced, 10 - RW_ALG_EXP_PER_CTL);
	CHECK_EQ(tr(s, tcp(sip, 20, cip, 5 * 256 + 0, RW_TH_SYN, 1, 0, NULL), now + 20, &rule),
		 RW_TRACK_MISS);
	CHECK_EQ(tr(s, tcp(sip, 20, cip, 5 * 256 + 9, RW_TH_SYN, 1, 0, NULL), now + 20, &rule),
		 RW_TRACK_PASS);
	rw_state_destroy(s);
}

TEST(no_helper_without_mark)
{
	struct rw_state *s = mk(0, 1);
	struct rw_pkt syn = tcp(cip, C_PORT, sip, 2121, RW_TH_SYN, 1000, 0, NULL);
	uint32_t rule;

	CHECK_EQ(rw_alg_helper_for(&syn, (const uint16_t[]){21}, 1), RW_ALG_NONE);
	CHECK_EQ(rw_alg_helper_for(&syn, (const uint16_t[]){21, 2121}, 2), RW_ALG_FTP);
	CHECK_EQ(rw_state_create(s, &syn, 7, 1), RW_PASS);
	CHECK_EQ(tr(s, tcp(sip, 2121, cip, C_PORT, RW_TH_SYN | RW_TH_ACK, 5000, 1001, NULL), 1,
		    &rule), RW_TRACK_PASS);
	CHECK_EQ(tr(s, tcp(cip, C_PORT, sip, 2121, RW_TH_ACK, 1001, 5001, "PORT 10,0,0,1,4,1\r\n"),
		    1, &rule), RW_TRACK_PASS);
	CHECK_EQ(st(s)->lines, 0);
	CHECK_EQ(rw_state_alg(s)->nexp, 0);
	rw_state_destroy(s);
}

/* ---- two workers ---- */

/* What the engine does between bursts: outbox onto the ring, ring drained. */
static unsigned ship(struct rw_state *from, struct rw_spsc *ring, struct rw_state *to, uint64_t now)
{
	struct rw_alg_msg m;
	unsigned n = 0;

	while (rw_alg_take_out(rw_state_alg(from), &m, 1))
		if (!rw_spsc_push(ring, &m))
			rw_state_alg(from)->st.msg_dropped++;
	while (rw_spsc_pop(ring, &m)) {
		rw_alg_receive(rw_state_alg(to), &m, now);
		n++;
	}
	return n;
}

TEST(expectation_travels_to_the_other_worker_and_is_used_once)
{
	struct rw_state *a = mk(0, 2), *b = mk(1, 2);
	struct rw_spsc *ab = rw_spsc_create(16, sizeof(struct rw_alg_msg));
	struct rw_spsc *ba = rw_spsc_create(16, sizeof(struct rw_alg_msg));
	uint64_t now = 10 * SEC;
	uint32_t rule;

	control(a, now);
	CHECK_EQ(ssend(a, "227 Entering Passive Mode (192,0,2,80,195,80).\r\n", now), RW_TRACK_PASS);
	/* before the message arrives, b knows nothing */
	CHECK_EQ(tr(b, tcp(cip, 41000, sip, 50000, RW_TH_SYN, 1, 0, NULL), now, &rule),
		 RW_TRACK_MISS);
	CHECK_EQ(ship(a, ab, b, now), 1);
	CHECK_EQ(st(b)->exp_received, 1);
	/* b, where the data connection hashes, lets it in under a's rule */
	CHECK_EQ(tr(b, tcp(cip, 41000, sip, 50000, RW_TH_SYN, 1, 0, NULL), now, &rule),
		 RW_TRACK_PASS);
	CHECK_EQ(rule, 7);
	CHECK_EQ(tr(b, tcp(sip, 50000, cip, 41000, RW_TH_SYN | RW_TH_ACK, 7, 2, NULL), now, &rule),
		 RW_TRACK_PASS);
	/* ... and tells a, whose copy may then not be used */
	CHECK_EQ(rw_state_alg(a)->nexp, 1);
	CHECK_EQ(ship(b, ba, a, now), 1);
	CHECK_EQ(rw_state_alg(a)->nexp, 0);
	CHECK_EQ(tr(a, tcp(cip, 41001, sip, 50000, RW_TH_SYN, 1, 0, NULL), now, &rule),
		 RW_TRACK_MISS);
	/* a full ring drops and counts */
	for (int i = 0; i < 20; i++) {
		char line[64];
		snprintf(line, sizeof(line), "227 ok (192,0,2,80,10,%d)\r\n", i);
		CHECK_EQ(ssend(a, line, now), RW_TRACK_PASS);
	}
	struct rw_alg_msg m;
	unsigned pushed = 0;
	while (rw_alg_take_out(rw_state_alg(a), &m, 1)) {
		if (rw_spsc_push(ab, &m))
			pushed++;
		else
			rw_state_alg(a)->st.msg_dropped++;
	}
	CHECK_EQ(pushed, 16);
	CHECK_EQ(st(a)->msg_dropped, 4);
	rw_spsc_destroy(ab);
	rw_spsc_destroy(ba);
	rw_state_destroy(a);
	rw_state_destroy(b);
}

/* ---- configuration ---- */

static int conf(const char *text, struct rw_config *c)
{
	struct rw_diag d = {.out = NULL};

	return rw_config_parse("t.conf", text, NULL, 0, c, &d);
}

TEST(set_ftp_ports)
{
	struct rw_config c;

	CHECK_EQ(conf("pass all\n", &c), 0);
	CHECK_EQ(c.nftp_ports, 1);
	CHECK_EQ(c.ftp_ports[0], 21);
	CHECK_EQ(c.timeouts[RW_TO_FTP_EXPECT], 30);
	rw_config_free(&c);
	CHECK_EQ(conf("set ftp-ports { 21 2121, 21 }\nset timeout ftp.expect 5\n", &c), 0);
	CHECK_EQ(c.nftp_ports, 2);
	CHECK_EQ(c.ftp_ports[1], 2121);
	CHECK_EQ(c.timeouts[RW_TO_FTP_EXPECT], 5);
	rw_config_free(&c);
	CHECK_EQ(conf("set ftp-ports none\n", &c), 0);
	CHECK_EQ(c.nftp_ports, 0);
	rw_config_free(&c);
	CHECK_EQ(conf("set ftp-ports 2121\n", &c), 0);
	CHECK_EQ(c.nftp_ports, 1);
	CHECK_EQ(c.ftp_ports[0], 2121);
	rw_config_free(&c);
	CHECK(conf("set ftp-ports 0\n", &c) < 0);
	CHECK(conf("set ftp-ports 65536\n", &c) < 0);
	CHECK(conf("set ftp-ports { 1 2 3 4 5 6 7 8 9 }\n", &c) < 0);
	CHECK(conf("set ftp-ports { 21\n", &c) < 0);
}
