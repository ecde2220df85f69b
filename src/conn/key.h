/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The connection key and the connection entry (docs/conntrack.md has the
 * byte map). A key is canonical: its two endpoints are ordered (lower
 * address, then lower port, first), so both directions of a connection
 * build the same bytes, hash the same and compare equal. The side a packet
 * came from (0 = the lower endpoint sent it) is returned beside the key; the
 * entry remembers which side initiated.
 *
 * An entry is a body (tracking state, the same for both families, first so
 * that trackers and the table find it at offset 0) followed by the key:
 * IPv4 entries are exactly one cache line, IPv6 entries two.
 */
#ifndef RW_CONN_KEY_H
#define RW_CONN_KEY_H

#include <string.h>
#include <arpa/inet.h>
#include "../common.h"
#include "../pkt/pkt.h"

/* IPv4 key: 16 bytes, compared as two 64-bit words. pad must be zero. */
struct rw_key4 {
	uint32_t addr[2];  /* network order; [0] is the lower endpoint */
	uint16_t port[2];  /* host order; ICMP echo: both hold the identifier */
	uint8_t proto;
	uint8_t pad[3];
};
static_assert(sizeof(struct rw_key4) == 16, "rw_key4 is two words");

/* IPv6 key: 40 bytes. */
struct rw_key6 {
	uint8_t addr[2][16];
	uint16_t port[2];
	uint8_t proto;
	uint8_t pad[3];
};
static_assert(sizeof(struct rw_key6) == 40, "rw_key6 is five words");

union rw_key {
	struct rw_key4 v4;
	struct rw_key6 v6;
	uint64_t w[5];
};

/*
 * One direction's TCP tracking state, as pf's struct pf_state_peer:
 * seqlo is the highest sequence number this peer has sent plus its length
 * (the next byte it will send), seqhi the highest the other peer's ACK and
 * window allow it to send, max_win the largest window it advertised (in
 * header units: multiply by 1 << wscale), wscale the option it sent on its
 * SYN (RW_WS_FLAG | shift, 0 when absent). state is a RW_TCPS_* value for
 * TCP and a RW_PEER_* value for the other protocols.
 */
struct rw_peer {
	uint32_t seqlo, seqhi;
	uint16_t max_win;
	uint8_t wscale;
	uint8_t state;
};

#define RW_WS_FLAG 0x80
#define RW_WS_MASK 0x0f

/* rw_conn.flags */
enum {
	RW_CF_INIT_B = 1 << 0, /* the key's side 1 (the higher endpoint) initiated */
	RW_CF_SOLID = 1 << 1,  /* established and not closed: never evicted */
	RW_CF_V6 = 1 << 2,     /* lives in the IPv6 table */
	RW_CF_CLOSED = 1 << 3, /* TCP closed or reset: reclaiming it counts as removed */
	RW_CF_PINNED = 1 << 4, /* never moved to another slot: alg.h's RW_CF_ALG (a
				* helper remembers its control connection by slot) */
};

/*
 * The tracking state of one connection: 48 bytes. peer[0] is the
 * initiator, peer[1] the responder. Expiry is kept as the time of the last
 * accepted packet plus the index of the timeout that applies, so that a
 * reload (rw_state_set_timeouts) or the adaptive scaling changes the expiry
 * of every entry at once without touching any.
 */
struct rw_conn {
	struct rw_peer peer[2]; /*  0: initiator,  12: responder */
	uint64_t last;          /* 24: ns of the last accepted packet */
	uint32_t rule;          /* 32: rule that created the state (opaque) */
	uint32_t pkts[2];       /* 36: packets accepted per role (wrap at 2^32) */
	uint8_t flags;          /* 44: RW_CF_* */
	uint8_t to;             /* 45: enum rw_timeout that applies now */
	uint16_t pad;           /* 46 */
};
static_assert(sizeof(struct rw_conn) == 48, "rw_conn leaves 16 bytes of the line to the key");

/* rw_conn.flags: a connection the SYN proxy splices (src/track/synproxy.c);
 * its pkts[1] holds the server's sequence offset, not a count. Kept at the
 * top bit, apart from the bits above. */
#define RW_CF_PROXY (1u << 7)

struct rw_entry4 {
	struct rw_conn c;
	struct rw_key4 k;
} __attribute__((aligned(64)));
static_assert(sizeof(struct rw_entry4) == 64, "an IPv4 connection is one cache line");

struct rw_entry6 {
	struct rw_conn c;
	struct rw_key6 k;
	uint8_t spare[40];
} __attribute__((aligned(128)));
static_assert(sizeof(struct rw_entry6) == 128, "an IPv6 connection is two cache lines");

static_assert(offsetof(struct rw_entry4, k) == offsetof(struct rw_entry6, k),
	      "the table finds the key of either family at one offset");
#define RW_KEY_OFF offsetof(struct rw_entry4, k)

/* Order two endpoints: negative when (a, ap) sorts before (b, bp). */
static inline int rw_ep_cmp(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp, size_t alen)
{
	int r = memcmp(a, b, alen);
	if (r)
		return r;
	return (int)ap - (int)bp;
}

/* A packet's two ports as one word, as they lie side by side in struct
 * rw_pkt (sport first) and in struct rw_key4 (port[0] first), each half in
 * host order: what a 32-bit load of &p->sport gives. */
static inline uint32_t rw_ports_word(uint16_t first, uint16_t second)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (uint32_t)first << 16 | second;
#else
	return first | (uint32_t)second << 16;
#endif
}

/*
 * The IPv4 key without a memcmp call, from the source and destination
 * addresses (sa, da, network order, as loaded from the packet) and the
 * ports as one word (rw_ports_word: source first). The endpoints are
 * ordered by address as host-order integers (the order memcmp gives their
 * network-order bytes), then by port; the swap, when they are out of
 * order, is a rotation of the address word and of the port word. Returned
 * as the key's two 64-bit words in host order (its bytes as two 8-byte
 * loads would read them), built in registers: a caller storing them whole
 * avoids the narrow stores a struct assignment makes, which a 16-byte load
 * soon after could not forward.
 */
static inline void rw_key4_words_v(uint64_t w[2], uint8_t proto, uint32_t sa, uint32_t da,
				   uint32_t ports, unsigned *side)
{
	uint32_t hs = ntohl(sa), hd = ntohl(da);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	uint64_t a = (uint64_t)sa << 32 | da;
	uint16_t sport = (uint16_t)(ports >> 16), dport = (uint16_t)ports;
#else
	uint64_t a = sa | (uint64_t)da << 32;
	uint16_t sport = (uint16_t)ports, dport = (uint16_t)(ports >> 16);
#endif
	bool swap = hs > hd;

	/* the ports decide only between equal addresses: tested apart, as
	 * GCC otherwise worked them out before the addresses' compare */
	if (unlikely(hs == hd))
		swap = sport > dport;
	*side = swap;
	if (swap) {
		a = a >> 32 | a << 32;
		ports = ports >> 16 | ports << 16;
	}
	/* struct rw_key4: addr[0], addr[1] | port[0], port[1], proto, pad */
	w[0] = a;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w[1] = (uint64_t)ports << 32 | (uint64_t)proto << 24;
#else
	w[1] = ports | (uint64_t)proto << 32;
#endif
}

/* The same from v4-mapped addresses and the two ports. */
static inline void rw_key4_words(uint64_t w[2], uint8_t proto, const uint8_t saddr[16],
				 const uint8_t daddr[16], uint16_t sport, uint16_t dport,
				 unsigned *side)
{
	uint32_t sa, da;

	memcpy(&sa, saddr + 12, 4);
	memcpy(&da, daddr + 12, 4);
	rw_key4_words_v(w, proto, sa, da, rw_ports_word(sport, dport), side);
}

/* The same stored as a struct rw_key4. The rest of union rw_key is left
 * as it was: the key is 16 bytes. */
static inline unsigned rw_key4_make(struct rw_key4 *k, uint8_t proto, const uint8_t saddr[16],
				    const uint8_t daddr[16], uint16_t sport, uint16_t dport,
				    unsigned *side)
{
	uint64_t w[2];

	rw_key4_words(w, proto, saddr, daddr, sport, dport, side);
	memcpy(k, w, sizeof(*k));
	return sizeof(struct rw_key4);
}

/*
 * Build the canonical key of a flow from its endpoints. af is RW_AF_INET
 * (addresses v4-mapped, as in struct rw_pkt) or RW_AF_INET6. *side gets 0
 * when the source is the key's endpoint 0. Returns the key length (16 or
 * 40), or 0 for another family.
 */
static inline unsigned rw_key_make(union rw_key *k, uint8_t af, uint8_t proto,
				   const uint8_t saddr[16], const uint8_t daddr[16],
				   uint16_t sport, uint16_t dport, unsigned *side)
{
	const uint8_t *lo_a = saddr, *hi_a = daddr;
	uint16_t lo_p = sport, hi_p = dport;

	*side = 0;
	if (likely(af == RW_AF_INET)) {
		/* the whole union, so that keys compare equal as unions too */
		k->w[2] = k->w[3] = k->w[4] = 0;
		return rw_key4_make(&k->v4, proto, saddr, daddr, sport, dport, side);
	}
	if (unlikely(af != RW_AF_INET6))
		return 0;
	if (rw_ep_cmp(saddr, sport, daddr, dport, 16) > 0) {
		lo_a = daddr, hi_a = saddr;
		lo_p = dport, hi_p = sport;
		*side = 1;
	}
	memset(k, 0, sizeof(*k));
	memcpy(k->v6.addr[0], lo_a, 16);
	memcpy(k->v6.addr[1], hi_a, 16);
	k->v6.port[0] = lo_p;
	k->v6.port[1] = hi_p;
	k->v6.proto = proto;
	return sizeof(struct rw_key6);
}

static inline bool rw_proto_is_icmp(uint8_t proto)
{
	return proto == RW_PROTO_ICMP || proto == RW_PROTO_ICMP6;
}

/* ICMP echo request/reply types of either family. */
static inline bool rw_icmp_is_echo_req(uint8_t proto, uint8_t type)
{
	return proto == RW_PROTO_ICMP ? type == 8 : type == 128;
}

static inline bool rw_icmp_is_echo_rep(uint8_t proto, uint8_t type)
{
	return proto == RW_PROTO_ICMP ? type == 0 : type == 129;
}

/*
 * The ports of the key of the connection a (non-fragment-tail, non-error)
 * packet belongs to, and rw_key_from_pkt, that key: TCP/UDP by ports, ICMP echo by identifier (both port fields, so the
 * request and the reply agree), anything else by addresses and protocol.
 * Returns 0 when p has no trackable key (not IP, or TCP/UDP/ICMP without a
 * parsed transport header, or an ICMP message that is not an echo).
 */
static inline bool rw_key_ports(const struct rw_pkt *p, uint16_t *sp, uint16_t *dp)
{
	/* nearly every packet: ahead of the switch, which costs a few
	 * compares on the fast path */
	if (likely(p->proto == RW_PROTO_TCP && (p->flags & RW_PKT_L4))) {
		*sp = p->sport, *dp = p->dport;
		return true;
	}
	*sp = *dp = 0;
	switch (p->proto) {
	case RW_PROTO_TCP:
	case RW_PROTO_UDP:
		if (unlikely(!(p->flags & RW_PKT_L4)))
			return false;
		*sp = p->sport, *dp = p->dport;
		break;
	case RW_PROTO_ICMP:
	case RW_PROTO_ICMP6:
		if (unlikely(!(p->flags & RW_PKT_L4)))
			return false;
		if (!rw_icmp_is_echo_req(p->proto, p->icmp_type) &&
		    !rw_icmp_is_echo_rep(p->proto, p->icmp_type))
			return false;
		*sp = *dp = p->icmp_id;
		break;
	default:
		break;
	}
	return true;
}

static inline unsigned rw_key_from_pkt(const struct rw_pkt *p, union rw_key *k, unsigned *side)
{
	uint16_t sp, dp;

	*side = 0;
	if (!rw_key_ports(p, &sp, &dp))
		return 0;
	return rw_key_make(k, p->af, p->proto, p->saddr, p->daddr, sp, dp, side);
}

#endif
