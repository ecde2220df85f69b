/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The packet descriptor: every frame is parsed once, by rw_parse(), into a
 * struct rw_pkt, and every later stage (connection lookup, tracking,
 * classification, logging) reads the descriptor instead of the bytes.
 * Nothing downstream re-parses a header or trusts a length the parser did
 * not check.
 *
 * Addresses are kept as 16 bytes in network order for both families; an IPv4
 * address is stored IPv4-mapped (::ffff:a.b.c.d), so that memcmp orders
 * addresses of one family correctly and one code path serves both.
 */
#ifndef RW_PKT_H
#define RW_PKT_H

#include "../common.h"

enum rw_af {
	RW_AF_NONE = 0, /* not IP (ARP, other EtherTypes) */
	RW_AF_INET = 4,
	RW_AF_INET6 = 6,
};

/* rw_pkt.flags */
enum {
	RW_PKT_FRAG = 1 << 0,       /* a fragment (IPv4 MF/offset, or IPv6 fragment header) */
	RW_PKT_FRAG_LATER = 1 << 1, /* fragment with offset > 0: no transport header, ports unknown */
	RW_PKT_IP_OPTS = 1 << 2,    /* IPv4 options or IPv6 hop-by-hop/dest/routing headers present */
	RW_PKT_ARP = 1 << 3,        /* ARP (EtherType 0x0806) */
	RW_PKT_L4 = 1 << 4,         /* transport header parsed: ports/type fields valid */
	RW_PKT_ICMP_ERR = 1 << 5,   /* ICMP/ICMPv6 error message (quotes a packet) */
};

/* TCP flag bits as on the wire (byte 13). */
enum {
	RW_TH_FIN = 0x01,
	RW_TH_SYN = 0x02,
	RW_TH_RST = 0x04,
	RW_TH_PUSH = 0x08,
	RW_TH_ACK = 0x10,
	RW_TH_URG = 0x20,
	RW_TH_ECE = 0x40,
	RW_TH_CWR = 0x80,
};

#define RW_PROTO_ICMP 1
#define RW_PROTO_TCP 6
#define RW_PROTO_UDP 17
#define RW_PROTO_ICMP6 58

#define RW_WSCALE_NONE 0xff /* no window-scale option on this segment */

/*
 * Which fields hold a value after rw_parse() (it does not clear the whole
 * struct; docs/parsing.md has the full table):
 *   always:              data, len, flags, af, proto, nvlan, ethertype,
 *                        l3_off, l3_len, l4_off, payload_off, payload_len
 *                        (0 where the parse did not get that far)
 *   vlan[i]:             i < nvlan
 *   af != RW_AF_NONE and RW_PASS: ttl, saddr, daddr, frag_id, frag_off,
 *                        sport, dport, icmp_type, icmp_code, icmp_id (0
 *                        unless the transport header set them), and l4_off,
 *                        payload_off/len = what follows the IP header chain
 *   RW_PKT_L4 and TCP:   tcp_* as well
 * After a drop only the "always" row may be read.
 */
struct rw_pkt {
	/* The frame. */
	uint8_t *data;
	uint32_t len;

	/* Offsets into data; l4_off is valid when flags has RW_PKT_L4. */
	uint16_t l3_off;      /* IPv4/IPv6/ARP header */
	uint16_t l4_off;      /* transport header (after IPv6 extension headers) */
	uint16_t l3_len;      /* IP packet length from l3_off, as the IP header says (<= frame) */
	uint16_t payload_off; /* TCP/UDP payload, ICMP body after the 8-byte header */
	uint16_t payload_len; /* bytes of that payload inside the IP packet */

	uint16_t ethertype;   /* innermost EtherType, host order */
	uint16_t vlan[2];     /* VIDs, outer first; valid up to nvlan */
	uint8_t nvlan;

	uint8_t af;           /* enum rw_af */
	uint8_t proto;        /* transport protocol after the extension-header chain */
	uint8_t flags;        /* RW_PKT_* */
	uint8_t ttl;          /* IPv4 TTL / IPv6 hop limit */

	/* Transport fields, host order. For ICMP/ICMPv6 sport/dport are
	 * zero and the type/code/id fields are set instead. */
	uint16_t sport, dport;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;     /* echo identifier (echo request/reply only) */

	/* TCP only. */
	uint8_t tcp_flags;
	uint8_t tcp_wscale;   /* RW_WSCALE_NONE when absent */
	uint8_t tcp_sackok;
	uint8_t tcp_ts;       /* timestamp option present */
	uint16_t tcp_mss;     /* 0 when absent */
	uint16_t tcp_win;     /* raw window field (unscaled) */
	uint32_t tcp_seq, tcp_ack;
	uint32_t tcp_tsval, tcp_tsecr;

	/* Fragments. */
	uint32_t frag_id;
	uint16_t frag_off;    /* byte offset of this fragment */

	uint8_t saddr[16], daddr[16];

	/* Filled by the worker, not the parser. */
	uint8_t in_port;      /* index of the port the frame arrived on */
	uint64_t hash;        /* connection hash */

	/* Filled by rw_state_prepare/prefetch for rw_state_track, which
	 * consumes them (src/track/state.c): hash is valid only while ct_prep
	 * is set; ct_hint is the table slot whose tag matched (a hint that is
	 * checked, never trusted). */
	uint32_t ct_hint;
	uint8_t ct_prep;
	/* With ct_prep, an IPv4 packet's connection key (struct rw_key4, built
	 * once by prepare for the hash and reused by track) and the side it
	 * came from: building it again cost as much as the lookup's compare. */
	uint8_t ct_side;
	/* Set by rw_state_track when it passes the packet on a connection
	 * established both ways (RW_CF_SOLID); the worker sends such packets
	 * first (worker.c, finish_burst). 0 for every other packet. */
	uint8_t ct_solid;
	uint64_t ct_key4[2];
};

struct rw_parse_opts {
	bool verify_l4_csum;  /* verify TCP/UDP/ICMP checksums (complete packets only) */
};

/*
 * Parse the frame data[0..len) into p. Returns RW_PASS (0) when the packet
 * is well formed enough to be judged, or an enum rw_drop_reason saying why it
 * must be dropped. Never reads outside data[0..len).
 */
int rw_parse(struct rw_pkt *p, uint8_t *data, uint32_t len, const struct rw_parse_opts *o);

/*
 * The packet quoted inside an ICMP/ICMPv6 error: the invoking packet's IP
 * header and at least the first 8 bytes of its transport header. Fields are
 * as in struct rw_pkt, from the point of view of the quoted packet (its
 * source is the host that sent the original, i.e. the error's destination).
 */
struct rw_quote {
	uint8_t af, proto;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;   /* TCP/UDP */
	uint8_t icmp_type;       /* ICMP echo quoted */
	uint16_t icmp_id;
	uint32_t tcp_seq;
	/* Where the quoted transport header lies in the error's frame and how
	 * many of its bytes the quote holds (0, 0 for a hand-made quote): for
	 * rewriting a quoted field, as the SYN proxy does (synproxy.h). */
	uint16_t l4_off, l4_len;
};

/* Parse the quote in the ICMP error p. RW_PASS or RW_DROP_ICMP_ERR_QUOTE. */
int rw_parse_quote(const struct rw_pkt *p, struct rw_quote *q);

/* Internet checksum helpers (RFC 1071), for the parser and for tests that
 * build packets. rw_csum_partial adds buf to a running 32-bit sum (chained
 * pieces must have even lengths, except the last); rw_csum_fold folds it and
 * returns its complement, in memory byte order: store it with memcpy into a
 * zeroed checksum field, and expect 0 when summing data that includes a
 * correct checksum. */
uint32_t rw_csum_partial(const void *buf, size_t len, uint32_t sum);
uint16_t rw_csum_fold(uint32_t sum);

/* pcap link types (DLT_* as pcap_datalink() reports them, LINKTYPE_* as
 * files store them) that rw_linktype_to_eth() understands. */
enum {
	RW_DLT_NULL = 0,         /* BSD loopback, host-order address family */
	RW_DLT_EN10MB = 1,       /* Ethernet */
	RW_DLT_RAW = 12,         /* raw IPv4/IPv6 (DLT_RAW on Linux) */
	RW_LINKTYPE_RAW = 101,   /* the same, as stored in files */
	RW_DLT_LOOP = 108,       /* BSD loopback, network-order family */
	RW_DLT_LINUX_SLL = 113,  /* Linux cooked capture v1 */
	RW_DLT_IPV4 = 228,
	RW_DLT_IPV6 = 229,
	RW_DLT_LINUX_SLL2 = 276, /* Linux cooked capture v2 */
};

/*
 * Turn a captured frame of link type dlt into an Ethernet frame in
 * buf[0..size), replacing the link header with a synthetic Ethernet one
 * (zero MACs, the EtherType the link header or IP version implies).
 * Ethernet is copied as is. buf may be frame itself when size leaves room
 * for the longer header. Returns the new length, -EPROTONOSUPPORT for a
 * link type (or loopback family) not handled, -EINVAL when the frame is
 * shorter than its link header, -ENOSPC when buf is too small.
 */
int rw_linktype_to_eth(int dlt, const uint8_t *frame, uint32_t len, uint8_t *buf, uint32_t size);

/* Text form of an address, for logs and the control plane. */
void rw_addr_str(uint8_t af, const uint8_t addr[16], char *buf, size_t size);

static inline bool rw_addr_is_v4mapped(const uint8_t a[16])
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return __builtin_memcmp(a, pfx, 12) == 0;
}

#endif
