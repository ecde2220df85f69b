/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the state module: the shard and the per-protocol trackers
 * (tcp.c, udp.c, icmp.c) that state.c dispatches to. Not for other parts:
 * they use state.h. Tests include this to reach the seams (the ICMP error
 * path with a hand-made quote, the last failed TCP check).
 */
#ifndef RW_TRACK_H
#define RW_TRACK_H

#include "../conn/hash.h"
#include "../conn/table.h"
#include "state.h"

/* pf's TCPS_* numbering, so that "state >= FIN_WAIT_2" reads as in pf. */
enum rw_tcps {
	RW_TCPS_CLOSED = 0,
	RW_TCPS_LISTEN = 1,
	RW_TCPS_SYN_SENT = 2,
	RW_TCPS_SYN_RECEIVED = 3,
	RW_TCPS_ESTABLISHED = 4,
	RW_TCPS_CLOSE_WAIT = 5,
	RW_TCPS_FIN_WAIT_1 = 6,
	RW_TCPS_CLOSING = 7,
	RW_TCPS_LAST_ACK = 8,
	RW_TCPS_FIN_WAIT_2 = 9,
	RW_TCPS_TIME_WAIT = 10,
	RW_TCPS_MAX
};

/* UDP, ICMP echo and other protocols: what one peer has sent. */
enum rw_peer_state {
	RW_PEER_NO_TRAFFIC = 0,
	RW_PEER_SINGLE = 1,
	RW_PEER_MULTIPLE = 2,
	RW_PEER_MAX
};

/* Which TCP check a segment failed (debugging, counted per shard). */
#define RW_TCP_CHECKS(X)                                                          \
	X(OK, "ok")                                                               \
	X(SEQ_HI, "data ends beyond seqhi (past the window the peer opened)")     \
	X(SEQ_LO, "seq more than one peer window behind seqlo")                   \
	X(ACK_HI, "ack more than MAXACKWINDOW beyond what the peer sent")         \
	X(ACK_LO, "ack more than MAXACKWINDOW (scaled) behind what the peer sent") \
	X(RST_SEQ, "RST seq not seqlo - 1 .. seqlo + 1")                          \
	X(QUOTE_SEQ, "ICMP error quotes a seq outside the sender's window")

enum rw_tcp_check {
#define RW_X_TC(id, text) RW_TCPC_##id,
	RW_TCP_CHECKS(RW_X_TC)
#undef RW_X_TC
	RW_TCPC_MAX
};

const char *rw_tcp_check_text(unsigned check);

struct rw_state {
	struct rw_conn_ctx ctx;
	struct rw_ctable t4, t6;
	uint64_t hash_key[2];
	struct rw_khash kh;              /* keys' hash under hash_key (conn/hash.h) */
	uint64_t cursor;                 /* expiry sweep over t4 then t6 slots */
	uint64_t pace_ns;                /* rw_state_expire_paced: swept up to this time */
	unsigned last_check;             /* enum rw_tcp_check of the last drop */
	uint64_t checks[RW_TCPC_MAX];    /* drops per failed check */
	struct rw_alg *alg;              /* helpers: control connections, expectations */
	struct rw_synproxy *sp;          /* SYN proxy outbox, attached by the worker (synproxy.h) */
} rw_cache_aligned;

/* Internal results of rw_tcp_track beside enum rw_track_result. */
enum {
	RW_TCP_REOPEN = 8, /* new SYN from the initiator on a closed connection */
	RW_TCP_GONE = 9,   /* new SYN from the responder: forget the old one */
};

/* TCP (tcp.c). d is the sender's role: 0 initiator, 1 responder. */
unsigned rw_tcp_open(struct rw_conn *c, const struct rw_pkt *p, uint64_t now);

/*
 * Mid-stream pick-up (tcp.c): state from a segment that is not a first SYN.
 * Neither SYN was seen, so neither window scale is known: both peers get
 * RW_WS_UNKNOWN with the largest shift, which the window checks then use
 * as they would a negotiated one (loose, as OVS's conntrack-tcp does).
 */
#define RW_WS_UNKNOWN 0x40
void rw_tcp_pickup(struct rw_conn *c, const struct rw_pkt *p, uint64_t now);
int rw_tcp_track(struct rw_state *s, struct rw_conn *c, unsigned d, const struct rw_pkt *p,
		 uint64_t now, unsigned *reason);
bool rw_tcp_quote_ok(const struct rw_conn *c, unsigned d, uint32_t seq);
const char *rw_tcp_state_name(const struct rw_conn *c);

/* UDP and other IP protocols (udp.c). */
void rw_udp_open(struct rw_conn *c, uint8_t proto, uint64_t now);
void rw_udp_track(struct rw_conn *c, unsigned d, uint8_t proto, uint64_t now);
const char *rw_udp_state_name(const struct rw_conn *c);

/* ICMP echo (icmp.c). Returns RW_TRACK_PASS, or RW_TRACK_MISS when the
 * message does not fit the direction (a request from the responder). */
void rw_icmp_open(struct rw_conn *c, uint64_t now);
enum rw_track_result rw_icmp_track(struct rw_conn *c, unsigned d, const struct rw_pkt *p,
				   uint64_t now);

/*
 * An ICMP error p whose quote is q (icmp.c): pass when q is a packet of a
 * tracked connection travelling to the error's destination (and, for TCP,
 * inside its sender's window). The seam tests use with a hand-made quote.
 */
enum rw_track_result rw_state_icmp_error(struct rw_state *s, const struct rw_pkt *p,
					 const struct rw_quote *q, uint64_t now, uint32_t *rule,
					 unsigned *reason);

/* Live entry of key in the family's table, or NULL (state.c). */
struct rw_conn *rw_state_lookup(struct rw_state *s, const union rw_key *k, unsigned klen,
				uint64_t now);

#endif
