/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The parser: every success path and every drop reason on frames built here
 * with a naive reference checksum, truncation at every length, and a replay
 * of every capture we have (run under ASan/UBSan in `make test`).
 */
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include "t.h"
#include "fuzz_util.h"
#include "pkt/pkt.h"
#include "worker/reasons.h"

/* ---- a frame builder ---------------------------------------------------- */

struct pb {
	uint8_t b[4096];
	uint32_t n;
	int l3, l4;     /* offsets, -1 when absent */
	int af;
	uint8_t proto;  /* transport protocol whose checksum finish() fills */
};

static void pb_init(struct pb *f)
{
	memset(f, 0, sizeof(*f));
	f->l3 = f->l4 = -1;
}

static void put8(struct pb *f, uint8_t v) { f->b[f->n++] = v; }
static void put16(struct pb *f, uint16_t v) { put8(f, v >> 8); put8(f, v & 0xff); }
static void put32(struct pb *f, uint32_t v) { put16(f, v >> 16); put16(f, v & 0xffff); }
static void putn(struct pb *f, const void *p, uint32_t n) { memcpy(f->b + f->n, p, n); f->n += n; }
static void zeros(struct pb *f, uint32_t n) { memset(f->b + f->n, 0, n); f->n += n; }
static void set16(struct pb *f, uint32_t off, uint16_t v) { f->b[off] = v >> 8; f->b[off + 1] = v & 0xff; }
static uint16_t get16(const struct pb *f, uint32_t off) { return (uint16_t)(f->b[off] << 8 | f->b[off + 1]); }

/* RFC 1071 done the slow, obvious way: 16-bit big-endian words. */
static uint32_t ref_sum(const uint8_t *b, uint32_t n, uint32_t s)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* rw_csum_fold's result is in memory order; this reads it as on the wire. */
static uint16_t wire16(uint16_t c)
{
	uint8_t b[2];

	memcpy(b, &c, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static const uint8_t MAC_D[6] = {0x02, 0, 0, 0, 0, 1}, MAC_S[6] = {0x02, 0, 0, 0, 0, 2};
static const uint8_t V4_S[4] = {192, 0, 2, 1}, V4_D[4] = {198, 51, 100, 7};
static const uint8_t V6_S[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t V6_D[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2};

static void eth(struct pb *f, uint16_t et)
{
	putn(f, MAC_D, 6);
	putn(f, MAC_S, 6);
	put16(f, et);
}

static void tag(struct pb *f, uint16_t vid, uint16_t next)
{
	put16(f, vid);
	put16(f, next);
}

static void ip4(struct pb *f, uint8_t proto, uint16_t frag, const uint8_t *opt, uint32_t optlen)
{
	f->l3 = (int)f->n;
	f->af = 4;
	put8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(f, 0);
	put16(f, 0);          /* total length: finish() */
	put16(f, 0x1234);     /* id */
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);          /* checksum: finish() */
	putn(f, V4_S, 4);
	putn(f, V4_D, 4);
	if (optlen)
		putn(f, opt, optlen);
}

static void ip6(struct pb *f, uint8_t nh)
{
	f->l3 = (int)f->n;
	f->af = 6;
	put32(f, 0x60000000);
	put16(f, 0);          /* payload length: finish() */
	put8(f, nh);
	put8(f, 63);
	putn(f, V6_S, 16);
	putn(f, V6_D, 16);
}

/* An options-type extension header (hop-by-hop, destination) of 8 bytes
 * with a PadN, or a routing header of the given type and segments left. */
static void ext_opts(struct pb *f, uint8_t nh)
{
	put8(f, nh); put8(f, 0);
	put8(f, 1); put8(f, 4); zeros(f, 4);
}

static void ext_route(struct pb *f, uint8_t nh, uint8_t type, uint8_t left)
{
	/* Type 0/2 layout: 4 reserved bytes then one address. */
	put8(f, nh); put8(f, 2); put8(f, type); put8(f, left);
	zeros(f, 4);
	putn(f, V6_D, 16);
}

static void ext_frag(struct pb *f, uint8_t nh, uint16_t off, bool more, uint32_t id)
{
	put8(f, nh); put8(f, 0);
	put16(f, (uint16_t)(off | more));
	put32(f, id);
}

static void ext_ah(struct pb *f, uint8_t nh)
{
	put8(f, nh); put8(f, 4); /* (4 + 2) * 4 = 24 bytes */
	zeros(f, 2);
	put32(f, 0x100); put32(f, 1); zeros(f, 12);
}

static void tcp(struct pb *f, uint16_t sp, uint16_t dp, uint8_t flags, const uint8_t *opt,
		uint32_t optlen)
{
	f->l4 = (int)f->n;
	f->proto = 6;
	put16(f, sp); put16(f, dp);
	put32(f, 1000); put32(f, 2000);
	put8(f, (uint8_t)((5 + optlen / 4) << 4));
	put8(f, flags);
	put16(f, 65000);
	put16(f, 0); put16(f, 0);
	if (optlen)
		putn(f, opt, optlen);
}

static void udp(struct pb *f, uint16_t sp, uint16_t dp)
{
	f->l4 = (int)f->n;
	f->proto = 17;
	put16(f, sp); put16(f, dp);
	put16(f, 0); put16(f, 0);
}

static void icmp(struct pb *f, uint8_t proto, uint8_t type, uint8_t code, uint16_t id)
{
	f->l4 = (int)f->n;
	f->proto = proto;
	put8(f, type); put8(f, code);
	put16(f, 0);
	put16(f, id); put16(f, 7);
}

static void payload(struct pb *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		put8(f, (uint8_t)(i * 7 + 3));
}

static uint32_t ip_end(const struct pb *f)
{
	if (f->af == 4)
		return (uint32_t)f->l3 + get16(f, f->l3 + 2);
	return (uint32_t)f->l3 + 40 + get16(f, f->l3 + 4);
}

static void ip4_resum(struct pb *f)
{
	uint32_t hl = (f->b[f->l3] & 15u) * 4;

	set16(f, f->l3 + 10, 0);
	set16(f, f->l3 + 10, ref_fold(ref_sum(f->b + f->l3, hl, 0)));
}

/* Transport checksum, pseudo-header included, over [l4, end). */
static void l4_resum(struct pb *f)
{
	uint32_t end = ip_end(f), n = end - (uint32_t)f->l4, s;
	int coff = f->proto == 6 ? 16 : f->proto == 17 ? 6 : 2;

	if (f->l4 < 0)
		return;
	set16(f, f->l4 + coff, 0);
	if (f->proto == 17)
		n = get16(f, f->l4 + 4);
	if (f->proto == 1) {
		s = 0;
	} else if (f->af == 4) {
		s = ref_sum(f->b + f->l3 + 12, 8, 0) + f->proto + n;
	} else {
		s = ref_sum(f->b + f->l3 + 8, 32, 0) + f->proto + (n >> 16) + (n & 0xffff);
	}
	uint16_t c = ref_fold(ref_sum(f->b + f->l4, n, s));
	if (f->proto == 17 && c == 0)
		c = 0xffff;
	set16(f, f->l4 + coff, c);
}

/* Lengths, then the transport checksum, then the IPv4 header checksum. */
static void finish(struct pb *f)
{
	if (f->af == 4)
		set16(f, f->l3 + 2, (uint16_t)(f->n - f->l3));
	else if (f->af == 6)
		set16(f, f->l3 + 4, (uint16_t)(f->n - f->l3 - 40));
	if (f->l4 >= 0 && f->proto == 17)
		set16(f, f->l4 + 4, (uint16_t)(f->n - f->l4));
	l4_resum(f);
	if (f->af == 4)
		ip4_resum(f);
}

/* Ethernet minimum: 60 bytes before the FCS; the padding is not IP. */
static void pad60(struct pb *f)
{
	while (f->n < 60)
		put8(f, 0);
}

static const struct rw_parse_opts VERIFY = {.verify_l4_csum = true};
static const struct rw_parse_opts NOVERIFY = {.verify_l4_csum = false};

/* Parse a copy in a buffer of exactly len bytes, so ASan sees any read
 * past the end; the struct is poisoned first so a field the parser forgot
 * to set shows up as 0xa5. */
static struct rw_pkt P;
static uint8_t *cur_copy;

static int parse_n(const struct pb *f, uint32_t len, const struct rw_parse_opts *o)
{
	free(cur_copy);
	cur_copy = malloc(len ? len : 1);
	memcpy(cur_copy, f->b, len);
	memset(&P, 0xa5, sizeof(P));
	return rw_parse(&P, cur_copy, len, o);
}

static int parse(const struct pb *f)
{
	return parse_n(f, f->n, &VERIFY);
}

/* ---- checksums and addresses --------------------------------------------- */

TEST(csum_matches_reference_all_lengths_and_alignments)
{
	uint8_t buf[600];
	unsigned bad = 0;

	srand(1);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (unsigned off = 0; off < 8; off++)
		for (unsigned len = 0; len + off <= sizeof(buf); len++)
			bad += wire16(rw_csum_fold(rw_csum_partial(buf + off, len, 0))) !=
			       ref_fold(ref_sum(buf + off, len, 0));
	CHECK_EQ(bad, 0);
	/* All-ones data: the case where carries pile up in every word. */
	memset(buf, 0xff, sizeof(buf));
	CHECK_EQ(wire16(rw_csum_fold(rw_csum_partial(buf, sizeof(buf), 0))),
		 ref_fold(ref_sum(buf, sizeof(buf), 0)));
	/* Chaining even-length pieces equals one pass. */
	CHECK_EQ(rw_csum_fold(rw_csum_partial(buf + 10, 90, rw_csum_partial(buf, 10, 0xfffe))),
		 rw_csum_fold(rw_csum_partial(buf, 100, 0xfffe)));
}

TEST(csum_rfc1071_example)
{
	/* RFC 1071 section 3: the sum of these words is 0xddf2. */
	static const uint8_t b[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	CHECK_EQ(wire16(rw_csum_fold(rw_csum_partial(b, 8, 0))), 0xffff & ~0xddf2);
}

TEST(addr_str)
{
	uint8_t a[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 1};
	char s[64];

	rw_addr_str(RW_AF_INET, a, s, sizeof(s));
	CHECK_STR(s, "192.0.2.1");
	rw_addr_str(RW_AF_INET6, a, s, sizeof(s));
	CHECK_STR(s, "::ffff:192.0.2.1");
	rw_addr_str(RW_AF_INET6, V6_D, s, sizeof(s));
	CHECK_STR(s, "2001:db8:1::2");
	rw_addr_str(RW_AF_INET, V6_D, s, sizeof(s)); /* not mapped: shown as is */
	CHECK_STR(s, "2001:db8:1::2");
	rw_addr_str(RW_AF_NONE, a, s, sizeof(s));
	CHECK_STR(s, "?");
	rw_addr_str(RW_AF_INET, a, s, 5);
	CHECK_STR(s, "192.");
}

/* ---- link layer ---------------------------------------------------------- */

TEST(eth_short_every_length)
{
	struct pb f;

	pb_init(&f);
	eth(&f, 0x0800);
	for (uint32_t n = 0; n < 14; n++)
		CHECK_EQ(parse_n(&f, n, &VERIFY), RW_DROP_ETH_SHORT);
}

TEST(non_ip_passes_for_worker_policy)
{
	struct pb f;

	pb_init(&f);
	eth(&f, 0x88cc); /* LLDP */
	payload(&f, 30);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.af, RW_AF_NONE);
	CHECK_EQ(P.ethertype, 0x88cc);
	CHECK_EQ(P.flags, 0);
	CHECK_EQ(P.l3_off, 14);
	CHECK_EQ(P.l3_len, 30);

	pb_init(&f);
	eth(&f, 0x0026); /* 802.3 length field (STP) */
	payload(&f, 46);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.af, RW_AF_NONE);
}

static void arp(struct pb *f, uint8_t hlen, uint8_t plen)
{
	eth(f, 0x0806);
	put16(f, 1); put16(f, 0x0800); put8(f, hlen); put8(f, plen); put16(f, 1);
	payload(f, 2u * (hlen + plen));
}

TEST(arp)
{
	struct pb f;

	pb_init(&f);
	arp(&f, 6, 4);
	pad60(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK(P.flags & RW_PKT_ARP);
	CHECK_EQ(P.af, RW_AF_NONE);
	CHECK_EQ(P.l3_len, 28);
	for (uint32_t n = 14; n < 14 + 28; n++)
		CHECK_EQ(parse_n(&f, n, &VERIFY), RW_DROP_ARP_SHORT);

	pb_init(&f);
	arp(&f, 8, 4); /* Ethernet/IPv4 ARP must say 6 and 4 */
	CHECK_EQ(parse(&f), RW_DROP_ARP_SHORT);
}

static void tcp4_frame(struct pb *f)
{
	ip4(f, 6, 0x4000, NULL, 0);
	tcp(f, 40000, 80, RW_TH_ACK | RW_TH_PUSH, NULL, 0);
	payload(f, 5);
	finish(f);
}

TEST(vlan_and_qinq)
{
	struct pb f;

	pb_init(&f);
	eth(&f, 0x8100);
	tag(&f, 0x2000 | 100, 0x0800);
	tcp4_frame(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.nvlan, 1);
	CHECK_EQ(P.vlan[0], 100); /* PCP bits masked off */
	CHECK_EQ(P.l3_off, 18);
	CHECK_EQ(P.dport, 80);

	pb_init(&f);
	eth(&f, 0x88a8);
	tag(&f, 10, 0x8100);
	tag(&f, 20, 0x0800);
	tcp4_frame(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.nvlan, 2);
	CHECK_EQ(P.vlan[0], 10);
	CHECK_EQ(P.vlan[1], 20);
	CHECK_EQ(P.l3_off, 22);
	CHECK(P.flags & RW_PKT_L4);

	pb_init(&f);
	eth(&f, 0x8100);
	tag(&f, 10, 0x8100);
	tag(&f, 20, 0x0800);
	tcp4_frame(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.nvlan, 2);

	pb_init(&f);
	eth(&f, 0x88a8);
	tag(&f, 10, 0x8100);
	tag(&f, 20, 0x8100);
	tag(&f, 30, 0x0800);
	tcp4_frame(&f);
	CHECK_EQ(parse(&f), RW_DROP_VLAN_DEPTH);

	pb_init(&f);
	eth(&f, 0x8100);
	tag(&f, 10, 0x8100);
	tag(&f, 20, 0x0800);
	for (uint32_t n = 14; n < 22; n++)
		CHECK_EQ(parse_n(&f, n, &VERIFY), RW_DROP_VLAN_SHORT);
	CHECK_EQ(parse_n(&f, 22, &VERIFY), RW_DROP_IP_SHORT);
}

/* ---- IPv4 ---------------------------------------------------------------- */

static const uint8_t SYN_OPTS[20] = {
	2, 4, 0x05, 0xb4,             /* MSS 1460 */
	1, 3, 3, 7,                   /* NOP, wscale 7 */
	4, 2,                         /* SACK permitted */
	8, 10, 0, 0, 0, 9, 0, 0, 0, 3 /* timestamps 9, 3 */
};

TEST(ipv4_tcp_fields)
{
	struct pb f;
	char s[64];

	pb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 6, 0x4000, NULL, 0);
	tcp(&f, 40000, 443, RW_TH_SYN, SYN_OPTS, sizeof(SYN_OPTS));
	payload(&f, 3);
	finish(&f);
	pad60(&f);
	pad60(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.af, RW_AF_INET);
	CHECK_EQ(P.proto, RW_PROTO_TCP);
	CHECK_EQ(P.flags, RW_PKT_L4);
	CHECK_EQ(P.ttl, 64);
	CHECK_EQ(P.l3_off, 14);
	CHECK_EQ(P.l3_len, 20 + 40 + 3);
	CHECK_EQ(P.l4_off, 34);
	CHECK_EQ(P.payload_off, 74);
	CHECK_EQ(P.payload_len, 3); /* not the Ethernet padding */
	CHECK_EQ(P.sport, 40000);
	CHECK_EQ(P.dport, 443);
	CHECK_EQ(P.tcp_seq, 1000);
	CHECK_EQ(P.tcp_ack, 2000);
	CHECK_EQ(P.tcp_win, 65000);
	CHECK_EQ(P.tcp_flags, RW_TH_SYN);
	CHECK_EQ(P.tcp_mss, 1460);
	CHECK_EQ(P.tcp_wscale, 7);
	CHECK_EQ(P.tcp_sackok, 1);
	CHECK_EQ(P.tcp_ts, 1);
	CHECK_EQ(P.tcp_tsval, 9);
	CHECK_EQ(P.tcp_tsecr, 3);
	CHECK_EQ(P.icmp_type, 0);
	CHECK_EQ(P.icmp_id, 0);
	CHECK_EQ(P.frag_off, 0);
	CHECK_EQ(P.frag_id, 0x1234);
	CHECK(rw_addr_is_v4mapped(P.saddr));
	rw_addr_str(P.af, P.saddr, s, sizeof(s));
	CHECK_STR(s, "192.0.2.1");
	rw_addr_str(P.af, P.daddr, s, sizeof(s));
	CHECK_STR(s, "198.51.100.7");
}

TEST(tcp_options_edge_cases)
{
	static const uint8_t big_ws[4] = {3, 3, 20, 0};          /* wscale 20 -> 14 */
	static const uint8_t bad_len[8] = {3, 3, 5, 2, 9, 4, 1, 1}; /* wscale, then SACKOK with len 9 */
	static const uint8_t wrong_mss[8] = {2, 3, 1, 4, 2, 0, 0, 0}; /* MSS len 3: ignored */
	static const uint8_t eol[8] = {0, 2, 4, 5, 0xb4, 0, 0, 0};  /* EOL first: nothing */
	struct pb f;

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0, NULL, 0);
	tcp(&f, 1, 2, RW_TH_SYN, big_ws, 4); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.tcp_wscale, 14);
	CHECK_EQ(P.tcp_mss, 0);
	CHECK_EQ(P.tcp_ts, 0);

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0, NULL, 0);
	tcp(&f, 1, 2, RW_TH_SYN, bad_len, 8); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.tcp_wscale, 5);
	CHECK_EQ(P.tcp_sackok, 0);

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0, NULL, 0);
	tcp(&f, 1, 2, RW_TH_SYN, wrong_mss, 8); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.tcp_mss, 0);
	CHECK_EQ(P.tcp_wscale, RW_WSCALE_NONE);

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0, NULL, 0);
	tcp(&f, 1, 2, RW_TH_SYN, eol, 8); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.tcp_mss, 0);
}

TEST(ipv4_drop_reasons)
{
	struct pb f;

	pb_init(&f); eth(&f, 0x0800); tcp4_frame(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	for (uint32_t n = 14; n < 34; n++)
		CHECK_EQ(parse_n(&f, n, &VERIFY), RW_DROP_IP_SHORT);

	f.b[14] = 0x65; /* version 6 under EtherType IPv4 */
	CHECK_EQ(parse(&f), RW_DROP_IP_VERSION);
	f.b[14] = 0x44; ip4_resum(&f);
	CHECK_EQ(parse(&f), RW_DROP_IP_IHL);
	f.b[14] = 0x4f; ip4_resum(&f); /* 60-byte header in a 45-byte packet: still in frame */
	CHECK_EQ(parse_n(&f, 14 + 50, &VERIFY), RW_DROP_IP_IHL);

	pb_init(&f); eth(&f, 0x0800); tcp4_frame(&f);
	set16(&f, 16, 19); ip4_resum(&f);
	CHECK_EQ(parse(&f), RW_DROP_IP_TOTAL_LEN);
	set16(&f, 16, (uint16_t)(f.n - 14 + 1)); ip4_resum(&f);
	CHECK_EQ(parse(&f), RW_DROP_IP_TOTAL_LEN);

	pb_init(&f); eth(&f, 0x0800); tcp4_frame(&f);
	f.b[14 + 10] ^= 1;
	CHECK_EQ(parse(&f), RW_DROP_IP_CHECKSUM);
}

TEST(ipv4_options)
{
	static const uint8_t ok[12] = {1, 7, 7, 4, 0, 0, 0, 0, 0x94, 4, 0, 0}; /* NOP, RR, RTR ALERT */
	static const uint8_t eol_pad[4] = {1, 0, 0x55, 0x55};               /* NOP, EOL, junk */
	static const uint8_t len1[4] = {1, 0x94, 1, 0};
	static const uint8_t past[4] = {1, 0x94, 8, 0};
	static const uint8_t rr_ptr[8] = {7, 7, 3, 0, 0, 0, 0, 0};
	static const uint8_t cut[4] = {1, 1, 1, 0x94};
	struct {
		const uint8_t *o;
		int want;
	} c[] = {
		{ok, RW_PASS}, {eol_pad, RW_PASS}, {len1, RW_DROP_IP_OPTIONS},
		{past, RW_DROP_IP_OPTIONS}, {rr_ptr, RW_DROP_IP_OPTIONS}, {cut, RW_DROP_IP_OPTIONS},
	};
	uint32_t lens[] = {12, 4, 4, 4, 8, 4};

	for (unsigned i = 0; i < RW_ARRAY_SIZE(c); i++) {
		struct pb f;

		pb_init(&f); eth(&f, 0x0800);
		ip4(&f, 17, 0, c[i].o, lens[i]);
		udp(&f, 53, 53); payload(&f, 4); finish(&f);
		CHECK_EQ(parse(&f), c[i].want);
		if (c[i].want == RW_PASS) {
			CHECK(P.flags & RW_PKT_IP_OPTS);
			CHECK_EQ(P.l4_off, 14 + 20 + lens[i]);
			CHECK_EQ(P.dport, 53);
		}
	}
}

TEST(ipv4_source_route_skips_l4_checksum)
{
	/* The pseudo-header holds the final destination, not the next hop in
	 * the header, so the checksum cannot be judged here. */
	static const uint8_t lsrr[8] = {0x83, 7, 4, 10, 0, 0, 1, 1};
	struct pb f;

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 17, 0, lsrr, 8);
	udp(&f, 1, 2); payload(&f, 4); finish(&f);
	f.b[f.l4 + 6] ^= 0x55;
	CHECK_EQ(parse(&f), RW_PASS);
}

/* ---- transport ----------------------------------------------------------- */

TEST(tcp_drop_reasons)
{
	struct pb f;

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0, NULL, 0); payload(&f, 19); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_TCP_SHORT);

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0, NULL, 0); tcp(&f, 1, 2, RW_TH_ACK, NULL, 0);
	f.b[f.l4 + 12] = 0x40; finish(&f); /* data offset 4 */
	CHECK_EQ(parse(&f), RW_DROP_TCP_SHORT);
	f.b[f.l4 + 12] = 0x60; finish(&f); /* 24 bytes claimed, 20 present */
	CHECK_EQ(parse(&f), RW_DROP_TCP_SHORT);

	pb_init(&f); eth(&f, 0x0800); tcp4_frame(&f);
	f.b[f.l4 + 20] ^= 1;
	CHECK_EQ(parse(&f), RW_DROP_L4_CHECKSUM);
	CHECK_EQ(parse_n(&f, f.n, &NOVERIFY), RW_PASS);
}

TEST(tcp_flag_combinations)
{
	static const uint8_t bad[] = {
		0, RW_TH_FIN, RW_TH_FIN | RW_TH_PUSH | RW_TH_URG, RW_TH_SYN | RW_TH_FIN,
		RW_TH_SYN | RW_TH_RST, RW_TH_RST | RW_TH_FIN, RW_TH_RST | RW_TH_FIN | RW_TH_ACK,
		RW_TH_URG, RW_TH_PUSH, RW_TH_SYN | RW_TH_FIN | RW_TH_ACK, 0xff, RW_TH_ECE | RW_TH_CWR,
		RW_TH_SYN | RW_TH_ACK | RW_TH_RST,
	};
	static const uint8_t good[] = {
		RW_TH_SYN, RW_TH_SYN | RW_TH_ECE | RW_TH_CWR, RW_TH_SYN | RW_TH_ACK, RW_TH_ACK,
		RW_TH_ACK | RW_TH_PUSH, RW_TH_FIN | RW_TH_ACK, RW_TH_FIN | RW_TH_ACK | RW_TH_PUSH,
		RW_TH_RST, RW_TH_RST | RW_TH_ACK, RW_TH_ACK | RW_TH_URG, RW_TH_SYN | RW_TH_URG,
	};
	struct pb f;

	for (unsigned i = 0; i < sizeof(bad); i++) {
		pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0, NULL, 0);
		tcp(&f, 1, 2, bad[i], NULL, 0); finish(&f);
		CHECK_EQ(parse(&f), RW_DROP_TCP_FLAGS);
	}
	for (unsigned i = 0; i < sizeof(good); i++) {
		pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0, NULL, 0);
		tcp(&f, 1, 2, good[i], NULL, 0); finish(&f);
		CHECK_EQ(parse(&f), RW_PASS);
		CHECK_EQ(P.tcp_flags, good[i]);
	}
}

TEST(udp)
{
	struct pb f;

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 17, 0, NULL, 0); udp(&f, 5353, 53);
	payload(&f, 11); finish(&f); pad60(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.sport, 5353);
	CHECK_EQ(P.dport, 53);
	CHECK_EQ(P.payload_off, 14 + 28);
	CHECK_EQ(P.payload_len, 11);

	set16(&f, f.l4 + 6, 0); /* IPv4: no checksum */
	CHECK_EQ(parse(&f), RW_PASS);
	set16(&f, f.l4 + 6, 1);
	CHECK_EQ(parse(&f), RW_DROP_L4_CHECKSUM);

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 17, 0, NULL, 0); udp(&f, 1, 2); payload(&f, 11); finish(&f);
	set16(&f, f.l4 + 4, 7); l4_resum(&f);
	CHECK_EQ(parse(&f), RW_DROP_UDP_SHORT);
	set16(&f, f.l4 + 4, 20); l4_resum(&f);
	CHECK_EQ(parse(&f), RW_DROP_UDP_SHORT);
	set16(&f, f.l4 + 4, 12); l4_resum(&f); /* shorter than the IP payload: trailer ignored */
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.payload_len, 4);

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 17, 0, NULL, 0); payload(&f, 7); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_UDP_SHORT);

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 17); udp(&f, 1, 2); payload(&f, 3); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	set16(&f, f.l4 + 6, 0); /* IPv6: zero is not "none" */
	CHECK_EQ(parse(&f), RW_DROP_L4_CHECKSUM);
	CHECK_EQ(parse_n(&f, f.n, &NOVERIFY), RW_PASS);
}

TEST(icmp)
{
	struct pb f;

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 1, 0, NULL, 0); icmp(&f, 1, 8, 0, 0xbeef);
	payload(&f, 9); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.icmp_type, 8);
	CHECK_EQ(P.icmp_id, 0xbeef);
	CHECK_EQ(P.sport, 0);
	CHECK_EQ(P.payload_len, 9);
	CHECK(!(P.flags & RW_PKT_ICMP_ERR));
	f.b[f.l4 + 9] ^= 4;
	CHECK_EQ(parse(&f), RW_DROP_L4_CHECKSUM);

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 1, 0, NULL, 0); payload(&f, 7); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_ICMP_SHORT);

	static const uint8_t err4[] = {3, 4, 5, 11, 12}, info4[] = {0, 8, 13, 9};
	for (unsigned i = 0; i < sizeof(err4) + sizeof(info4); i++) {
		bool err = i < sizeof(err4);
		uint8_t t = err ? err4[i] : info4[i - sizeof(err4)];

		pb_init(&f); eth(&f, 0x0800); ip4(&f, 1, 0, NULL, 0); icmp(&f, 1, t, 0, 77);
		finish(&f);
		CHECK_EQ(parse(&f), RW_PASS);
		CHECK_EQ(!!(P.flags & RW_PKT_ICMP_ERR), err);
		CHECK_EQ(P.icmp_id, t == 0 || t == 8 ? 77 : 0);
	}

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 58); icmp(&f, 58, 128, 0, 4242); payload(&f, 4); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.icmp_id, 4242);
	f.b[f.l3 + 39] ^= 1; /* destination is in the pseudo-header */
	CHECK_EQ(parse(&f), RW_DROP_L4_CHECKSUM);
	for (uint8_t t = 1; t <= 4; t++) {
		pb_init(&f); eth(&f, 0x86dd); ip6(&f, 58); icmp(&f, 58, t, 0, 0); finish(&f);
		CHECK_EQ(parse(&f), RW_PASS);
		CHECK(P.flags & RW_PKT_ICMP_ERR);
	}
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 58); icmp(&f, 58, 135, 0, 0); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK(!(P.flags & RW_PKT_ICMP_ERR));

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 58); payload(&f, 7); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_ICMP_SHORT);
}

TEST(icmp_of_the_other_family)
{
	struct pb f;

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 1); icmp(&f, 1, 8, 0, 1); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_ICMP_FAMILY);
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 58, 0, NULL, 0); icmp(&f, 58, 128, 0, 1); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_ICMP_FAMILY);
}

/* ---- IPv6 ---------------------------------------------------------------- */

TEST(ipv6_ext_chain_to_tcp)
{
	struct pb f;
	char s[64];

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 0);
	ext_opts(&f, 60);            /* hop-by-hop */
	ext_opts(&f, 43);            /* destination options */
	ext_route(&f, 51, 2, 0);     /* routing, type 2, done */
	ext_ah(&f, 6);
	tcp(&f, 1234, 22, RW_TH_SYN, SYN_OPTS, sizeof(SYN_OPTS));
	payload(&f, 6); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.af, RW_AF_INET6);
	CHECK_EQ(P.proto, RW_PROTO_TCP);
	CHECK_EQ(P.flags, RW_PKT_L4 | RW_PKT_IP_OPTS);
	CHECK_EQ(P.l4_off, 14 + 40 + 8 + 8 + 24 + 24);
	CHECK_EQ(P.ttl, 63);
	CHECK_EQ(P.dport, 22);
	CHECK_EQ(P.tcp_mss, 1460);
	CHECK_EQ(P.payload_len, 6);
	CHECK_EQ(P.frag_id, 0);
	rw_addr_str(P.af, P.daddr, s, sizeof(s));
	CHECK_STR(s, "2001:db8:1::2");
	f.b[f.l4 + 40] ^= 1;
	CHECK_EQ(parse(&f), RW_DROP_L4_CHECKSUM);
}

TEST(ipv6_terminal_headers)
{
	struct pb f;

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 50); payload(&f, 24); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.proto, 50);
	CHECK(!(P.flags & RW_PKT_L4));
	CHECK_EQ(P.sport, 0);
	CHECK_EQ(P.payload_off, 54);
	CHECK_EQ(P.payload_len, 24);

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 60); ext_opts(&f, 59); payload(&f, 5); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.proto, 59);
	CHECK(!(P.flags & RW_PKT_L4));
}

TEST(ipv6_drop_reasons)
{
	struct pb f;

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 59); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	for (uint32_t n = 14; n < 54; n++)
		CHECK_EQ(parse_n(&f, n, &VERIFY), RW_DROP_IP6_SHORT);
	f.b[14] = 0x40;
	CHECK_EQ(parse(&f), RW_DROP_IP_VERSION);

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 17); udp(&f, 1, 2); finish(&f);
	set16(&f, 18, 9);
	CHECK_EQ(parse(&f), RW_DROP_IP6_PAYLOAD_LEN);

	/* Jumbogram: payload length 0, hop-by-hop with a Jumbo Payload option. */
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 0);
	put8(&f, 17); put8(&f, 0); put8(&f, 0xc2); put8(&f, 4); put32(&f, 70000);
	udp(&f, 1, 2);
	CHECK_EQ(parse(&f), RW_DROP_IP6_PAYLOAD_LEN);
	finish(&f); /* the option with a real payload length is just as invalid */
	CHECK_EQ(parse(&f), RW_DROP_IP6_PAYLOAD_LEN);

	/* Hop-by-hop option running past its header. */
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 0);
	put8(&f, 59); put8(&f, 0); put8(&f, 1); put8(&f, 5); zeros(&f, 4); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_IP6_EXT_SHORT);

	/* Extension header past the payload length. */
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 60); put8(&f, 59); put8(&f, 1); zeros(&f, 6); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_IP6_EXT_SHORT);

	/* AH with length 0 is shorter than AH's fixed part. */
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 51); put8(&f, 59); put8(&f, 0); zeros(&f, 14); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_IP6_EXT_SHORT);

	/* Hop-by-hop not first. */
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 60); ext_opts(&f, 0); ext_opts(&f, 59); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_IP6_EXT_CHAIN);

	/* Two fragment headers, two routing headers. */
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 44); ext_frag(&f, 44, 0, false, 1);
	ext_frag(&f, 59, 0, false, 1); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_IP6_EXT_CHAIN);
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 43); ext_route(&f, 43, 2, 0); ext_route(&f, 59, 2, 0);
	finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_IP6_EXT_CHAIN);

	/* Eight headers are fine, nine are not. */
	for (int k = 8; k <= 9; k++) {
		pb_init(&f); eth(&f, 0x86dd); ip6(&f, 60);
		for (int i = 0; i < k; i++)
			ext_opts(&f, i == k - 1 ? 59 : 60);
		finish(&f);
		CHECK_EQ(parse(&f), k == 8 ? RW_PASS : RW_DROP_IP6_EXT_CHAIN);
	}

	/* Routing type 0 with segments left (RFC 5095). */
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 43); ext_route(&f, 59, 0, 1); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_IP_OPTIONS);
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 43); ext_route(&f, 59, 0, 0); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
}

TEST(ipv6_routing_pending_skips_l4_checksum)
{
	struct pb f;

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 43); ext_route(&f, 17, 2, 1);
	udp(&f, 1, 2); payload(&f, 2); finish(&f);
	f.b[f.l4 + 6] ^= 0x11;
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.dport, 2);
}

/* ---- fragments ------------------------------------------------------------ */

TEST(ipv4_fragments)
{
	struct pb f;

	/* First fragment: header parsed, checksum not checked (not all here). */
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 17, 0x2000, NULL, 0); udp(&f, 7, 9); payload(&f, 32);
	finish(&f); set16(&f, f.l4 + 4, 1000); f.b[f.l4 + 6] ^= 0xff;
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.flags, RW_PKT_FRAG | RW_PKT_L4);
	CHECK_EQ(P.dport, 9);
	CHECK_EQ(P.frag_off, 0);
	CHECK_EQ(P.frag_id, 0x1234);
	CHECK_EQ(P.payload_len, 32);

	/* Later fragment: no transport header, fragment data as payload. */
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 185, NULL, 0); payload(&f, 40); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.flags, RW_PKT_FRAG | RW_PKT_FRAG_LATER);
	CHECK_EQ(P.frag_off, 1480);
	CHECK_EQ(P.proto, RW_PROTO_TCP);
	CHECK_EQ(P.sport, 0);
	CHECK_EQ(P.dport, 0);
	CHECK_EQ(P.payload_off, 34);
	CHECK_EQ(P.payload_len, 40);

	/* Last fragment (offset, no MF) of odd size is fine. */
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 185, NULL, 0); payload(&f, 13); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);

	/* Ping of death: 8189 * 8 + 100 > 65535. */
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 1, 8189, NULL, 0); payload(&f, 100); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_FRAG);
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 1, 8189, NULL, 0); payload(&f, 15); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS); /* ends at exactly 65527 */

	/* Non-final fragment not a multiple of 8; empty fragment. */
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0x2000 | 3, NULL, 0); payload(&f, 12); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_FRAG);
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 3, NULL, 0); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_FRAG);

	/* Tiny first fragment: TCP header split (RFC 1858). */
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0x2000, NULL, 0); payload(&f, 8); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_FRAG);
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0x2000, NULL, 0);
	tcp(&f, 1, 2, RW_TH_SYN, NULL, 0); f.b[f.l4 + 12] = 0x80; payload(&f, 4); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_FRAG); /* options continue in the next fragment */

	/* DF alone is not a fragment. */
	pb_init(&f); eth(&f, 0x0800); tcp4_frame(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.flags & RW_PKT_FRAG, 0);
}

TEST(ipv6_fragments)
{
	struct pb f;

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 0); ext_opts(&f, 44);
	ext_frag(&f, 17, 0, true, 0xdeadbeef); udp(&f, 53, 5353); payload(&f, 16); finish(&f);
	f.b[f.l4 + 6] ^= 0xff; /* not checked on a fragment */
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.flags, RW_PKT_FRAG | RW_PKT_L4 | RW_PKT_IP_OPTS);
	CHECK_EQ(P.frag_id, 0xdeadbeef);
	CHECK_EQ(P.sport, 53);

	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 44); ext_frag(&f, 6, 1448, true, 0x80000001);
	payload(&f, 64); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.flags, RW_PKT_FRAG | RW_PKT_FRAG_LATER);
	CHECK_EQ(P.proto, RW_PROTO_TCP);
	CHECK_EQ(P.frag_off, 1448);
	CHECK_EQ(P.frag_id, 0x80000001);
	CHECK_EQ(P.l4_off, 14 + 48);
	CHECK_EQ(P.payload_len, 64);
	CHECK_EQ(P.sport, 0);

	/* Atomic fragment (RFC 6946): a whole packet, checked like one. */
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 44); ext_frag(&f, 6, 0, false, 42);
	tcp(&f, 80, 5000, RW_TH_ACK, NULL, 0); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);
	CHECK_EQ(P.flags, RW_PKT_L4);
	CHECK_EQ(P.frag_id, 42);
	CHECK_EQ(P.frag_off, 0);
	f.b[f.l4 + 16] ^= 1;
	CHECK_EQ(parse(&f), RW_DROP_L4_CHECKSUM);

	/* Ping of death over IPv6: 65528 + 8 + 8 > 65535. */
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 60); ext_opts(&f, 44);
	ext_frag(&f, 17, 65528, false, 1); payload(&f, 8); finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_FRAG);
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 44); ext_frag(&f, 17, 65520, false, 1);
	payload(&f, 15); finish(&f);
	CHECK_EQ(parse(&f), RW_PASS);

	/* First fragment that does not hold the UDP header (RFC 7112). */
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 44); ext_frag(&f, 17, 0, true, 1); payload(&f, 0);
	finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_FRAG);
	pb_init(&f); eth(&f, 0x86dd); ip6(&f, 44); ext_frag(&f, 17, 0, true, 1); payload(&f, 7);
	finish(&f);
	CHECK_EQ(parse(&f), RW_DROP_FRAG);
}

/* Fields the last packet set must not leak into the next descriptor. */
TEST(no_stale_fields_between_packets)
{
	struct pb a, b;
	struct rw_pkt p;

	pb_init(&a); eth(&a, 0x0800); tcp4_frame(&a);
	pb_init(&b); eth(&b, 0x0800); ip4(&b, 6, 185, NULL, 0); payload(&b, 16); finish(&b);
	CHECK_EQ(rw_parse(&p, a.b, a.n, &VERIFY), RW_PASS);
	CHECK_EQ(p.sport, 40000);
	CHECK_EQ(rw_parse(&p, b.b, b.n, &VERIFY), RW_PASS);
	CHECK_EQ(p.sport, 0);
	CHECK_EQ(p.dport, 0);
	CHECK_EQ(p.flags & RW_PKT_L4, 0);

	pb_init(&b); eth(&b, 0x0800); ip4(&b, 1, 0, NULL, 0); icmp(&b, 1, 8, 0, 99); finish(&b);
	CHECK_EQ(rw_parse(&p, b.b, b.n, &VERIFY), RW_PASS);
	CHECK_EQ(p.icmp_id, 99);
	CHECK_EQ(rw_parse(&p, a.b, a.n, &VERIFY), RW_PASS);
	CHECK_EQ(p.icmp_id, 0);
	CHECK_EQ(p.icmp_type, 0);

	pb_init(&b); eth(&b, 0x88cc); payload(&b, 50);
	CHECK_EQ(rw_parse(&p, b.b, b.n, &VERIFY), RW_PASS);
	CHECK_EQ(p.af, RW_AF_NONE);
	CHECK_EQ(p.proto, 0);
	CHECK_EQ(p.flags, 0);
	CHECK_EQ(p.l4_off, 0);
	CHECK_EQ(p.payload_len, 0);
}

/* ---- truncation at every length ----------------------------------------- */

/* Every prefix of a valid frame must be dropped (with a reason) and never
 * read past its end; only the whole frame passes. */
static void every_prefix(const struct pb *f, const char *what)
{
	unsigned passed = 0, bad_reason = 0;

	for (uint32_t n = 0; n < f->n; n++) {
		int r = parse_n(f, n, &VERIFY);

		passed += r == RW_PASS;
		bad_reason += r <= RW_PASS || r >= RW_DROP_MAX;
	}
	if (passed || bad_reason)
		printf("#   %s: %u prefixes passed, %u bad reasons\n", what, passed, bad_reason);
	CHECK_EQ(passed, 0);
	CHECK_EQ(bad_reason, 0);
	CHECK_EQ(parse_n(f, f->n, &VERIFY), RW_PASS);
}

TEST(truncation_ipv6_ext_tcp)
{
	struct pb f;

	pb_init(&f); eth(&f, 0x8100); tag(&f, 5, 0x86dd); ip6(&f, 0);
	ext_opts(&f, 60); ext_opts(&f, 44); ext_frag(&f, 51, 0, false, 9); ext_ah(&f, 6);
	tcp(&f, 1234, 22, RW_TH_SYN, SYN_OPTS, sizeof(SYN_OPTS)); payload(&f, 10); finish(&f);
	every_prefix(&f, "ipv6+ext+tcp");
	CHECK_EQ(P.tcp_tsval, 9);
}

TEST(truncation_ipv4_opts_tcp_and_icmp_err)
{
	static const uint8_t opt[4] = {0x94, 4, 0, 0};
	struct pb f, in;

	pb_init(&f); eth(&f, 0x0800); ip4(&f, 6, 0, opt, 4);
	tcp(&f, 1, 2, RW_TH_SYN, SYN_OPTS, sizeof(SYN_OPTS)); payload(&f, 10); finish(&f);
	every_prefix(&f, "ipv4+opts+tcp");

	pb_init(&in); ip4(&in, 17, 0, NULL, 0); udp(&in, 1, 2); payload(&in, 4); finish(&in);
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 1, 0, NULL, 0); icmp(&f, 1, 3, 3, 0);
	putn(&f, in.b, in.n); finish(&f);
	every_prefix(&f, "icmp error");
}

/* ---- quotes ---------------------------------------------------------------- */

/* An ICMP(v6) error of type t quoting the first qlen bytes of in. */
static void icmp_err(struct pb *f, const struct pb *in, uint32_t qlen, uint8_t t)
{
	pb_init(f);
	if (in->af == 4) {
		eth(f, 0x0800); ip4(f, 1, 0, NULL, 0); icmp(f, 1, t, 0, 0);
	} else {
		eth(f, 0x86dd); ip6(f, 58); icmp(f, 58, t, 0, 0);
	}
	putn(f, in->b, qlen);
	finish(f);
}

static int quote(const struct pb *f, struct rw_quote *q)
{
	int r = parse(f);

	CHECK_EQ(r, RW_PASS);
	if (r != RW_PASS)
		return -1;
	memset(q, 0xa5, sizeof(*q));
	return rw_parse_quote(&P, q);
}

TEST(quote_ipv4)
{
	struct pb in, f;
	struct rw_quote q;
	char s[64];

	pb_init(&in); ip4(&in, 6, 0x4000, NULL, 0); tcp(&in, 40000, 80, RW_TH_SYN, NULL, 0); finish(&in);
	icmp_err(&f, &in, 28, 3);
	CHECK_EQ(quote(&f, &q), RW_PASS);
	CHECK_EQ(q.af, RW_AF_INET);
	CHECK_EQ(q.proto, RW_PROTO_TCP);
	CHECK_EQ(q.sport, 40000);
	CHECK_EQ(q.dport, 80);
	CHECK_EQ(q.tcp_seq, 1000);
	CHECK_EQ(q.icmp_id, 0);
	rw_addr_str(q.af, q.saddr, s, sizeof(s));
	CHECK_STR(s, "192.0.2.1");
	rw_addr_str(q.af, q.daddr, s, sizeof(s));
	CHECK_STR(s, "198.51.100.7");

	for (uint32_t n = 0; n < 28; n++) { /* IP header + 8 bytes, or nothing */
		icmp_err(&f, &in, n, 11);
		CHECK_EQ(quote(&f, &q), RW_DROP_ICMP_ERR_QUOTE);
	}

	pb_init(&in); ip4(&in, 17, 0, NULL, 0); udp(&in, 53, 33434); payload(&in, 30); finish(&in);
	icmp_err(&f, &in, in.n, 3);
	CHECK_EQ(quote(&f, &q), RW_PASS);
	CHECK_EQ(q.dport, 33434);
	CHECK_EQ(q.tcp_seq, 0);

	pb_init(&in); ip4(&in, 1, 0, NULL, 0); icmp(&in, 1, 8, 0, 0x4444); finish(&in);
	icmp_err(&f, &in, in.n, 11);
	CHECK_EQ(quote(&f, &q), RW_PASS);
	CHECK_EQ(q.icmp_type, 8);
	CHECK_EQ(q.icmp_id, 0x4444);

	/* An error about an error is never sent. */
	pb_init(&in); ip4(&in, 1, 0, NULL, 0); icmp(&in, 1, 3, 1, 0); finish(&in);
	icmp_err(&f, &in, in.n, 3);
	CHECK_EQ(quote(&f, &q), RW_DROP_ICMP_ERR_QUOTE);

	/* A later fragment has no ports to match. */
	pb_init(&in); ip4(&in, 17, 100, NULL, 0); payload(&in, 8); finish(&in);
	icmp_err(&f, &in, in.n, 3);
	CHECK_EQ(quote(&f, &q), RW_DROP_ICMP_ERR_QUOTE);

	/* Quoted header claims a total length below its header. */
	pb_init(&in); ip4(&in, 17, 0, NULL, 0); udp(&in, 1, 2); finish(&in); set16(&in, 2, 12);
	icmp_err(&f, &in, in.n, 3);
	CHECK_EQ(quote(&f, &q), RW_DROP_ICMP_ERR_QUOTE);

	/* IPv6 quoted in ICMPv4: wrong family. */
	pb_init(&in); ip6(&in, 17); udp(&in, 1, 2); finish(&in);
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 1, 0, NULL, 0); icmp(&f, 1, 3, 0, 0);
	putn(&f, in.b, in.n); finish(&f);
	CHECK_EQ(quote(&f, &q), RW_DROP_ICMP_ERR_QUOTE);

	/* Other protocols: addresses and protocol only. */
	pb_init(&in); ip4(&in, 47, 0, NULL, 0); payload(&in, 8); finish(&in);
	icmp_err(&f, &in, in.n, 3);
	CHECK_EQ(quote(&f, &q), RW_PASS);
	CHECK_EQ(q.proto, 47);
	CHECK_EQ(q.sport, 0);

	/* Not an error: nothing to quote. */
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 1, 0, NULL, 0); icmp(&f, 1, 8, 0, 1); payload(&f, 28);
	finish(&f);
	CHECK_EQ(quote(&f, &q), RW_DROP_ICMP_ERR_QUOTE);
}

TEST(quote_ipv6_with_ext_headers)
{
	struct pb in, f;
	struct rw_quote q;

	pb_init(&in); ip6(&in, 60); ext_opts(&in, 44); ext_frag(&in, 17, 0, true, 5);
	udp(&in, 5000, 53); payload(&in, 100); finish(&in);
	icmp_err(&f, &in, in.n, 2);
	CHECK_EQ(quote(&f, &q), RW_PASS);
	CHECK_EQ(q.af, RW_AF_INET6);
	CHECK_EQ(q.proto, RW_PROTO_UDP);
	CHECK_EQ(q.sport, 5000);
	CHECK_EQ(q.dport, 53);
	CHECK(memcmp(q.saddr, V6_S, 16) == 0);

	uint32_t need = 40 + 8 + 8 + 8;
	for (uint32_t n = 0; n < need; n++) {
		icmp_err(&f, &in, n, 1);
		CHECK_EQ(quote(&f, &q), RW_DROP_ICMP_ERR_QUOTE);
	}
	icmp_err(&f, &in, need, 1);
	CHECK_EQ(quote(&f, &q), RW_PASS);

	pb_init(&in); ip6(&in, 58); icmp(&in, 58, 128, 0, 321); finish(&in);
	icmp_err(&f, &in, in.n, 3);
	CHECK_EQ(quote(&f, &q), RW_PASS);
	CHECK_EQ(q.icmp_type, 128);
	CHECK_EQ(q.icmp_id, 321);

	pb_init(&in); ip6(&in, 58); icmp(&in, 58, 1, 0, 0); finish(&in);
	icmp_err(&f, &in, in.n, 3);
	CHECK_EQ(quote(&f, &q), RW_DROP_ICMP_ERR_QUOTE);

	pb_init(&in); ip6(&in, 44); ext_frag(&in, 17, 8, false, 5); payload(&in, 8); finish(&in);
	icmp_err(&f, &in, in.n, 3);
	CHECK_EQ(quote(&f, &q), RW_DROP_ICMP_ERR_QUOTE);

	pb_init(&in); ip6(&in, 0); ext_opts(&in, 0); ext_opts(&in, 17); udp(&in, 1, 2); finish(&in);
	icmp_err(&f, &in, in.n, 4);
	CHECK_EQ(quote(&f, &q), RW_DROP_ICMP_ERR_QUOTE); /* misordered chain */
}

TEST(quote_never_reads_past_ip_payload)
{
	/* The outer IPv4 length excludes the quote's tail; the frame has it
	 * (as padding). The quote must stop at the IP end. */
	struct pb in, f;
	struct rw_quote q;

	pb_init(&in); ip4(&in, 6, 0, NULL, 0); tcp(&in, 1, 2, RW_TH_ACK, NULL, 0); finish(&in);
	pb_init(&f); eth(&f, 0x0800); ip4(&f, 1, 0, NULL, 0); icmp(&f, 1, 3, 0, 0);
	putn(&f, in.b, 24);
	finish(&f);
	putn(&f, in.b + 24, 16); /* rest of the quote, outside the IP packet */
	CHECK_EQ(quote(&f, &q), RW_DROP_ICMP_ERR_QUOTE);
}

/* ---- link types ------------------------------------------------------------ */

TEST(linktype_to_eth)
{
	struct pb in;
	uint8_t buf[256], raw[128];
	int n;

	pb_init(&in); ip6(&in, 17); udp(&in, 1, 2); finish(&in);
	n = rw_linktype_to_eth(RW_DLT_RAW, in.b, in.n, buf, sizeof(buf));
	CHECK_EQ(n, 14 + in.n);
	CHECK_EQ(buf[12] << 8 | buf[13], 0x86dd);
	CHECK_EQ(rw_parse(&P, buf, (uint32_t)n, &VERIFY), RW_PASS);
	CHECK_EQ(P.dport, 2);

	pb_init(&in); ip4(&in, 17, 0, NULL, 0); udp(&in, 1, 2); finish(&in);
	n = rw_linktype_to_eth(RW_LINKTYPE_RAW, in.b, in.n, buf, sizeof(buf));
	CHECK_EQ(buf[12] << 8 | buf[13], 0x0800);
	CHECK_EQ(rw_parse(&P, buf, (uint32_t)n, &VERIFY), RW_PASS);

	/* Linux cooked v1: 16 bytes, protocol at 14. In place. */
	memset(raw, 0, 16);
	raw[14] = 0x08;
	memcpy(raw + 16, in.b, in.n);
	n = rw_linktype_to_eth(RW_DLT_LINUX_SLL, raw, 16 + in.n, raw, sizeof(raw));
	CHECK_EQ(n, 14 + in.n);
	CHECK_EQ(rw_parse(&P, raw, (uint32_t)n, &VERIFY), RW_PASS);

	memset(raw, 0, 20);
	raw[0] = 0x08;
	memcpy(raw + 20, in.b, in.n);
	n = rw_linktype_to_eth(RW_DLT_LINUX_SLL2, raw, 20 + in.n, buf, sizeof(buf));
	CHECK_EQ(rw_parse(&P, buf, (uint32_t)n, &VERIFY), RW_PASS);

	raw[0] = 2; raw[1] = raw[2] = raw[3] = 0; /* DLT_NULL, little-endian AF_INET */
	memcpy(raw + 4, in.b, in.n);
	n = rw_linktype_to_eth(RW_DLT_NULL, raw, 4 + in.n, buf, sizeof(buf));
	CHECK_EQ(rw_parse(&P, buf, (uint32_t)n, &VERIFY), RW_PASS);
	raw[0] = 0; raw[3] = 99;
	CHECK_EQ(rw_linktype_to_eth(RW_DLT_LOOP, raw, 4 + in.n, buf, sizeof(buf)), -EPROTONOSUPPORT);

	CHECK_EQ(rw_linktype_to_eth(RW_DLT_LINUX_SLL, raw, 15, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ(rw_linktype_to_eth(RW_DLT_RAW, in.b, in.n, buf, in.n + 13), -ENOSPC);
	CHECK_EQ(rw_linktype_to_eth(147, in.b, in.n, buf, sizeof(buf)), -EPROTONOSUPPORT);
	n = rw_linktype_to_eth(RW_DLT_RAW, in.b, 0, buf, sizeof(buf));
	CHECK_EQ(rw_parse(&P, buf, (uint32_t)n, &VERIFY), RW_DROP_IP_SHORT);
}

/* ---- every capture we have -------------------------------------------------- */

struct replay {
	unsigned long files, refused, linktype, frames, pass, quotes, quote_ok;
	unsigned long reasons[RW_DROP_MAX];
};

/* Cross-checks any PASS must satisfy, whatever the input. */
static bool descriptor_sane(const struct rw_pkt *p)
{
	uint32_t l3_end = (uint32_t)p->l3_off + p->l3_len;

	if (l3_end > p->len)
		return false;
	if (p->af == RW_AF_NONE)
		return !(p->flags & (RW_PKT_L4 | RW_PKT_FRAG));
	if (p->l4_off < p->l3_off + 20 || p->l4_off > l3_end)
		return false;
	if (p->payload_off < p->l4_off || (uint32_t)p->payload_off + p->payload_len > l3_end)
		return false;
	if ((p->flags & RW_PKT_FRAG_LATER) && (p->flags & RW_PKT_L4))
		return false;
	return true;
}

static unsigned long insane;

static void replay_frame(struct replay *r, const uint8_t *data, uint32_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct rw_pkt p;
	struct rw_quote q;
	int ret;

	memcpy(copy, data, len);
	for (int v = 0; v < 2; v++) {
		ret = rw_parse(&p, copy, len, v ? &VERIFY : &NOVERIFY);
		if (ret == RW_PASS && !descriptor_sane(&p))
			insane++;
		if (ret == RW_PASS && (p.flags & RW_PKT_ICMP_ERR) && v) {
			r->quotes++;
			r->quote_ok += rw_parse_quote(&p, &q) == RW_PASS;
		} else {
			(void)rw_parse_quote(&p, &q); /* must refuse, not crash */
		}
	}
	r->frames++;
	if (ret < RW_DROP_MAX)
		r->reasons[ret]++;
	free(copy);
}

static void replay_file(struct replay *r, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	static uint8_t buf[70000];
	pcap_t *pc = pcap_open_offline(path, err);
	int dlt, n;

	if (!pc) {
		r->refused++;
		return;
	}
	r->files++;
	dlt = pcap_datalink(pc);
	while (pcap_next_ex(pc, &h, &d) == 1) {
		n = rw_linktype_to_eth(dlt, d, h->caplen, buf, sizeof(buf));
		if (n == -EPROTONOSUPPORT) {
			r->linktype++;
			break;
		}
		if (n >= 0)
			replay_frame(r, buf, (uint32_t)n);
	}
	pcap_close(pc);
}

static void replay_dir(struct replay *r, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	struct stat st;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			replay_dir(r, path);
		else if (strstr(e->d_name, ".pcap") || strstr(e->d_name, ".cap"))
			replay_file(r, path);
	}
	closedir(d);
}

static void replay_report(const struct replay *r, const char *what)
{
	printf("# %s: %lu files (%lu refused by libpcap, %lu other link types), %lu frames, "
	       "%lu ICMP errors (%lu quotes parsed)\n", what, r->files, r->refused, r->linktype,
	       r->frames, r->quotes, r->quote_ok);
	for (unsigned i = 0; i < RW_DROP_MAX; i++)
		if (r->reasons[i])
			printf("#   %-16s %lu\n", rw_reason_name(i), r->reasons[i]);
}

static const char *data_dir(void)
{
	const char *d = getenv("RW_DATA");
	return d ? d : "/work/shared/data";
}

TEST(replay_tcpdump_corpus)
{
	struct replay r = {0};
	char dir[512];

	insane = 0;
	snprintf(dir, sizeof(dir), "%s/fuzz/tcpdump-tests-corpus", data_dir());
	replay_dir(&r, dir);
	replay_report(&r, "tcpdump corpus");
	CHECK(r.frames > 0);
	CHECK(r.reasons[RW_PASS] > 0);
	CHECK_EQ(insane, 0);
}

TEST(replay_pcaps)
{
	struct replay r = {0};
	char dir[512];

	insane = 0;
	snprintf(dir, sizeof(dir), "%s/pcaps", data_dir());
	replay_dir(&r, dir);
	replay_report(&r, "data/pcaps");
	CHECK(r.frames > 1000);
	CHECK(r.reasons[RW_PASS] > r.frames / 2);
	CHECK(r.quote_ok > 0);
	CHECK_EQ(insane, 0);
}

/* Every input the fuzzer ever crashed on, and the seed corpus, replayed as
 * raw Ethernet frames. */
static void replay_raw(void *r, uint8_t *buf, size_t n)
{
	replay_frame(r, buf, (uint32_t)n);
}

TEST(replay_fuzz_corpus_and_crashes)
{
	static uint8_t buf[70000];
	struct replay r = {0};

	insane = 0;
	r.files = fuzz_inputs("corpus", buf, sizeof(buf), replay_raw, &r);
	CHECK(r.files > 0); /* run from the repository root, or set RW_SRCDIR */
	r.files += fuzz_inputs("crashes", buf, sizeof(buf), replay_raw, &r);
	replay_report(&r, "fuzz corpus + crashes");
	CHECK_EQ(insane, 0);
}
