/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The SYN proxy ("synproxy state", docs/synproxy.md), after pf's
 * PF_SYNPROXY handling but stateless until the client proves itself:
 *
 *   client SYN        -> the proxy answers SYN|ACK (seq = cookie, window 0,
 *                        MSS only); no state
 *   client ACK        -> cookie valid: state made (marked RW_CF_PROXY), the
 *                        client's SYN (its own ISN, the cookie's MSS) sent
 *                        to the server; the ACK itself goes no further
 *   server SYN|ACK    -> the proxy ACKs it (the server's handshake is done)
 *                        and the SYN|ACK, rewritten into an ACK with
 *                        seq = cookie + 1, opens the client's window
 *   afterwards        -> the server's sequence numbers are shifted by a
 *                        per-connection offset (server ISN - cookie), both
 *                        ways, with incremental checksum updates
 *
 * The client's ISN reaches the server unchanged, so only the server's side
 * needs translating: one 32-bit offset, kept in the entry's pkts[1] (see
 * docs/synproxy.md for why there). Frames the proxy builds wait in a
 * per-worker outbox that the worker sends after each burst ("handle 0"
 * frames, docs/io.md).
 */
#ifndef RW_SYNPROXY_H
#define RW_SYNPROXY_H

#include "../common.h"
#include "../pkt/pkt.h"
#include "syncookie.h"

struct rw_state;
struct rw_ctable;
struct rw_conn;

/* Ethernet + two VLAN tags + IPv6 + TCP with MSS is 86 bytes. */
#define RW_SP_FRAME_MAX 128
/* Each packet of a burst makes at most one frame. */
#define RW_SP_OUT_MAX RW_BURST

struct rw_sp_frame {
	uint8_t back;   /* 1: out the port the trigger came in on; 0: the peer port */
	uint8_t pad;
	uint16_t len;
	uint64_t ts_ns;
	uint8_t buf[RW_SP_FRAME_MAX];
};

struct rw_synproxy_stats {
	uint64_t synacks;         /* SYN|ACKs sent for client SYNs (no state made) */
	uint64_t cookies_ok;      /* ACKs whose cookie held: state made, SYN sent to the server */
	uint64_t completed;       /* server SYN|ACKs answered: the halves are spliced */
	uint64_t refused;         /* server answered the SYN with a RST (passed to the client) */
	uint64_t cookies_bad;     /* ACKs with a forged cookie (dropped: synproxy-cookie) */
	uint64_t cookies_expired; /* genuine cookies past their time (also synproxy-cookie) */
	uint64_t syn_resent;      /* SYNs sent again while the server stays silent */
	uint64_t no_room;         /* outbox full: a frame not built (never expected) */
};

struct rw_synproxy {
	struct rw_syncookie_key key;
	unsigned nout;
	struct rw_synproxy_stats st;
	struct rw_sp_frame out[RW_SP_OUT_MAX];
};

void rw_synproxy_init(struct rw_synproxy *sp, const struct rw_syncookie_key *k);

/* Let the shard's tracker reach sp for the connections it proxies. */
void rw_synproxy_attach(struct rw_synproxy *sp, struct rw_state *s);

/* A segment that may complete a cookie handshake: ACK without SYN, RST or
 * FIN (data allowed: a client whose pure ACK was lost sends it with data). */
static inline bool rw_synproxy_is_ack(const struct rw_pkt *p)
{
	return p->proto == RW_PROTO_TCP && (p->flags & RW_PKT_L4) &&
	       (p->tcp_flags & (RW_TH_SYN | RW_TH_ACK | RW_TH_RST | RW_TH_FIN)) == RW_TH_ACK;
}

/*
 * A miss that a synproxy rule passed (worker, rule reference rule). A first
 * SYN is answered (SYN|ACK queued back out its port); an ACK (judged by the
 * rules as the SYN it completes) is checked against its cookie and, when
 * valid, gets state and a SYN queued to the server. Returns RW_PASS when p
 * was consumed (the caller releases it, not a drop), else a drop reason:
 * synproxy-cookie, state-full, tcp-no-state (anything else).
 */
unsigned rw_synproxy_miss(struct rw_synproxy *sp, struct rw_state *s, const struct rw_pkt *p,
			  bool as_ack, uint32_t rule, uint64_t now);

/*
 * p belongs to the proxied connection c (slot of table t), sent by role d
 * (0 client, 1 server): called by rw_state_track. Tracks it in the server's
 * sequence space, translating p's bytes (and descriptor) in place; answers
 * the server's SYN|ACK. RW_TRACK_PASS (*rule set), RW_TRACK_DROP (*reason
 * set), or RW_TRACK_MISS when a new SYN ended the connection (entry gone).
 */
int rw_synproxy_track(struct rw_state *s, struct rw_ctable *t, uint32_t slot, struct rw_conn *c,
		      unsigned d, struct rw_pkt *p, uint64_t now, uint32_t *rule, unsigned *reason);

/*
 * An ICMP error quoting a segment that role d (0 client, 1 server) of the
 * proxied connection c sent (icmp.c). The error travels to that segment's
 * sender, and only the server's numbers differ between the two sides: a
 * server segment is quoted as the client saw it. *seq becomes the quoted
 * seq in the tracker's (the server's) numbering, for the window check.
 * False when the quote cannot be the sender's: a "server" segment before
 * the server answered is one the proxy sent in its name.
 */
bool rw_synproxy_quote_seq(const struct rw_conn *c, unsigned d, uint32_t wire, uint32_t *seq);

/*
 * Write seq (rw_synproxy_quote_seq's) into the quoted TCP header of the
 * error p (quote q), updating the quoted TCP checksum when the quote holds
 * it and the ICMP checksum (RFC 1624). Nothing is written when the seq is
 * unchanged. RW_PASS, or RW_DROP_ICMP_ERR_QUOTE when q does not say where
 * the quoted header is.
 */
unsigned rw_synproxy_quote_fix(const struct rw_pkt *p, const struct rw_quote *q, uint32_t seq);

/* Helpers exposed for the unit tests. */
void rw_synproxy_csum_replace32(uint8_t sum[2], uint32_t from, uint32_t to);
unsigned rw_synproxy_build(uint8_t *buf, size_t size, const struct rw_pkt *tmpl, bool reverse,
			   uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win, uint16_t mss);

#endif
