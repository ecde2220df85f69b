/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Application-level gateways (docs/alg.md). A helper reads the control
 * connection of a protocol that announces other connections inside its
 * payload (FTP's PORT/EPRT/227/229) and turns each announcement into an
 * expectation: one future connection, exactly specified, that the worker
 * lets through once before the rules, under the control connection's rule.
 *
 * Helpers are a table (OVS's alg_helpers[] shape): a helper is a name, a
 * transport, a default port and a line parser; everything else (line
 * reassembly across segments, the bounce check, expectations, the messages
 * between workers) is common code in alg.c and expect.c, so a later helper
 * is one table entry and one parser.
 *
 * Per worker, shared with no one: struct rw_alg holds the side table of
 * control connections (line buffers, which the 64-byte connection entry has
 * no room for), the expectation table and an outbox of messages for the
 * other workers. The worker moves outbox messages onto the SPSC rings
 * (src/worker/spsc.h) and hands what it drains from them to rw_alg_receive().
 */
#ifndef RW_ALG_H
#define RW_ALG_H

#include "../common.h"
#include "../conn/key.h"
#include "../pkt/pkt.h"

/* Helper ids: rw_alg_helpers[] is indexed by them; 0 is "no helper". */
enum { RW_ALG_NONE = 0, RW_ALG_FTP = 1, RW_ALG_MAX };

/* rw_conn.flags bit: the connection is a control connection; rw_conn.pad
 * then holds its side-table index + 1 (0 = none yet). */
#define RW_CF_ALG (1 << 4)

/*
 * Bounds, each with its reason:
 * - a line longer than RW_ALG_LINE_MAX is dropped from parsing: the longest
 *   line a helper needs (EPRT with a full IPv6 address, a 227 with a chatty
 *   text) is under 100 bytes; more is not FTP we need to understand;
 * - RW_ALG_CTL_MAX control connections are parsed at once per worker (side
 *   table, about 350 bytes each); more steal the least recently used entry,
 *   which only costs that connection a partial line;
 * - RW_ALG_EXP_MAX expectations per worker, RW_ALG_EXP_PER_CTL per control
 *   connection (a client has at most one transfer pending; 4 leaves room for
 *   clients that announce again before connecting);
 * - RW_ALG_OUTBOX messages per burst to the other workers (a burst of 32
 *   frames announces at most 32 expectations and uses at most 32).
 */
#define RW_ALG_LINE_MAX 160
#define RW_ALG_CTL_MAX 256
#define RW_ALG_EXP_MAX 256
#define RW_ALG_EXP_PER_CTL 4
#define RW_ALG_OUTBOX 64
#define RW_ALG_EXP_BUCKETS 256 /* power of two */

/* What a line announced. */
enum rw_alg_ann_kind {
	RW_ANN_ACTIVE = 1,  /* the client listens (PORT, EPRT): server connects to it */
	RW_ANN_PASSIVE = 2, /* the server listens (227, 229): client connects to it */
};

struct rw_alg_announce {
	uint8_t kind;       /* enum rw_alg_ann_kind */
	uint8_t af;         /* RW_AF_INET/INET6 of addr; 0 = no address (229, EPRT |||) */
	uint8_t addr[16];   /* v4-mapped for IPv4, as in struct rw_pkt */
	uint16_t port;      /* 1..65535 */
};

/* Result of a helper's line parser. */
enum {
	RW_ALG_LINE_OTHER = 0,    /* a line the helper does not care about */
	RW_ALG_LINE_ANNOUNCE = 1, /* *a filled */
	RW_ALG_LINE_BAD = 2,      /* a command of interest with garbage in it */
};

struct rw_alg_helper {
	const char *name;
	uint8_t proto;          /* transport of the control connection */
	uint16_t default_port;
	/* Parse one complete line (no CR/LF) sent by the client (from_server
	 * 0) or the server (1). Returns RW_ALG_LINE_*. Never reads past len. */
	int (*parse_line)(const uint8_t *line, size_t len, unsigned from_server,
			  struct rw_alg_announce *a);
};

extern const struct rw_alg_helper rw_alg_helpers[RW_ALG_MAX];

/* The FTP parser (ftp.c), for tests. */
int rw_ftp_parse_line(const uint8_t *line, size_t len, unsigned from_server,
		      struct rw_alg_announce *a);

/*
 * An expectation: the initiator (saddr, sport or any) will open a
 * connection of proto to the responder (daddr, dport). rule is the control
 * connection's opaque rule reference; id is unique over workers (origin
 * worker in the top byte), so that "used" and the copies on other workers
 * can be matched up.
 */
struct rw_expect {
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;  /* sport 0 = any source port */
	uint8_t af, proto;
	uint8_t helper;
	uint8_t pad;
	uint32_t rule;
	uint32_t owner;         /* control connection (side index + generation); local only */
	uint64_t id;
	uint64_t expires;       /* ns, port clock */
};

/* A message between workers. */
enum { RW_ALG_MSG_ADD = 1, RW_ALG_MSG_USED = 2 };
struct rw_alg_msg {
	uint32_t op;
	uint32_t pad;
	struct rw_expect e;
};

/* Per-direction line reassembly of one control connection. */
struct rw_alg_dir {
	uint32_t next_seq;  /* next stream byte expected */
	uint8_t synced;     /* next_seq is valid */
	uint8_t skip;       /* discarding up to the next LF (overlong line, gap) */
	uint16_t len;
	uint8_t buf[RW_ALG_LINE_MAX];
};

struct rw_alg_ctl {
	uint32_t slot;      /* connection table slot of the owner */
	uint8_t v6;         /* which table */
	uint8_t helper;
	uint8_t used;
	uint8_t pad;
	uint32_t gen;       /* bumped on every reuse: owner ids of expectations */
	uint64_t last;      /* ns of the last packet, for LRU stealing */
	struct rw_alg_dir dir[2]; /* [0] client -> server, [1] server -> client */
};

struct rw_alg_stats {
	uint64_t lines;          /* complete lines parsed */
	uint64_t overlong;       /* lines longer than RW_ALG_LINE_MAX, not parsed */
	uint64_t gaps;           /* sequence gaps: partial line discarded */
	uint64_t bad;            /* commands of interest with garbage numbers */
	uint64_t bounce;         /* announcements naming a host not the peer: refused */
	uint64_t ctl_stolen;     /* side-table entries taken from idle connections */
	uint64_t exp_created;    /* expectations made here from a control connection */
	uint64_t exp_received;   /* copies received from other workers */
	uint64_t exp_used;       /* expectations that let a connection in */
	uint64_t exp_expired;    /* expired unused (copies on other workers included) */
	uint64_t exp_replaced;   /* oldest of a control connection replaced (per-connection bound) */
	uint64_t exp_full;       /* refused: worker's table full */
	uint64_t msg_sent;       /* messages put on rings */
	uint64_t msg_dropped;    /* outbox or ring full: message lost */
};

struct rw_alg {
	unsigned worker, nworkers;
	uint64_t next_id;
	uint32_t nexp;                     /* live expectations */
	int16_t heads[RW_ALG_EXP_BUCKETS]; /* -1 = empty */
	int16_t next[RW_ALG_EXP_MAX];
	uint8_t live[RW_ALG_EXP_MAX];
	struct rw_expect exp[RW_ALG_EXP_MAX];
	unsigned exp_cursor;               /* expiry sweep */
	unsigned nout;
	struct rw_alg_msg out[RW_ALG_OUTBOX];
	struct rw_alg_stats st;
	struct rw_alg_ctl ctl[RW_ALG_CTL_MAX];
};

/* Allocate one worker's ALG state. nworkers > 1 turns on the outbox. */
struct rw_alg *rw_alg_create(unsigned worker, unsigned nworkers);
void rw_alg_destroy(struct rw_alg *a);
void rw_alg_flush(struct rw_alg *a);

/* Make c a control connection of helper (its side entry comes with its
 * first data). */
void rw_alg_mark(struct rw_conn *c, unsigned helper);

/* Helper for a new connection p (its first SYN) under ports: the FTP
 * control ports of the configuration. RW_ALG_NONE when none applies. */
unsigned rw_alg_helper_for(const struct rw_pkt *p, const uint16_t *ftp_ports, unsigned nports);

/*
 * A packet of control connection c (table slot, v6) in role d (0 client,
 * 1 server) that the tracker passed: reassemble its payload into lines,
 * parse them, and expect what they announce. expect_ns is the lifetime of
 * an expectation.
 */
void rw_alg_inspect(struct rw_alg *a, struct rw_conn *c, uint32_t slot, bool v6, unsigned d,
		    const struct rw_pkt *p, uint64_t now, uint64_t expect_ns);

/* Feed one line of control connection c directly (tests, and inspect). */
void rw_alg_line(struct rw_alg *a, struct rw_alg_ctl *ctl, const struct rw_conn *c, unsigned d,
		 const uint8_t *line, size_t len, const struct rw_pkt *p, uint64_t now,
		 uint64_t expect_ns);

/* A packet no connection claimed: if it opens an expected connection,
 * consume the expectation (telling the other workers) and return true with
 * *rule set to the control connection's rule. */
bool rw_alg_match(struct rw_alg *a, const struct rw_pkt *p, uint64_t now, uint32_t *rule);

/* Expectations (expect.c). add stores one (0, or -1 when the worker's
 * table is full); announce stores one made here and tells the others. */
void rw_alg_announce_expect(struct rw_alg *a, const struct rw_expect *e, uint64_t now);
int rw_alg_expect_add(struct rw_alg *a, const struct rw_expect *e, uint64_t now);
void rw_alg_expire(struct rw_alg *a, uint64_t now, unsigned budget);

/* Messages: take up to max for the other workers; apply one received. */
unsigned rw_alg_take_out(struct rw_alg *a, struct rw_alg_msg *out, unsigned max);
void rw_alg_receive(struct rw_alg *a, const struct rw_alg_msg *m, uint64_t now);

#endif
