/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Stateful tracking: one struct rw_state per worker, owning that worker's
 * shard of the connection table and nothing shared. The worker drives it in
 * stages over a burst (see src/worker/worker.c):
 *
 *   rw_state_prepare()   key and hash every packet, prefetch its bucket
 *   rw_state_prefetch()  find each packet's entry by tag, prefetch it
 *   rw_state_track()     per packet: look up, run the protocol tracker
 *   rw_state_create()    after the rules passed a miss with "keep state"
 *   rw_state_expire_paced()  expiry work paced by the clock, once per burst
 *
 * Times are nanoseconds from the port's clock (capture time for pcap
 * replay), so a replay expires connections as the original traffic did.
 */
#ifndef RW_STATE_H
#define RW_STATE_H

#include "../common.h"
#include "../pkt/pkt.h"
#include "../rules/config.h"
#include "../alg/alg.h"

struct rw_state;

struct rw_state_opts {
	uint64_t capacity;                /* connections in this shard */
	uint32_t timeouts[RW_TO_MAX];     /* seconds */
	uint32_t adaptive_start, adaptive_end; /* states; 0 = no adaptive scaling */
	uint64_t hash_key[2];             /* per-start random key */
	bool hash_sip;                    /* SipHash even where AES-NI is (bench, tests) */
	unsigned worker, nworkers;        /* for the helpers' messages; 0, 0 = alone */
};

/* Counters kept by the shard (the worker sums them with others on read). */
struct rw_state_stats {
	uint64_t created, expired, removed;   /* removed: closed/reset and reclaimed */
	uint64_t evicted;                     /* embryonic entries pushed out when full */
	uint64_t refused;                     /* inserts refused: table full */
	uint64_t relocated;                   /* inserts that moved entries (cuckoo) */
	uint64_t current;                     /* live entries now */
	uint64_t current_v4, current_v6;
	uint64_t limit, limit_max;            /* count limit in force; what the tables were made for */
	struct rw_alg_stats alg;              /* helpers and expectations (docs/alg.md) */
};

/* Result of rw_state_track(). */
enum rw_track_result {
	RW_TRACK_MISS = 0,  /* no state: consult the rules */
	RW_TRACK_PASS = 1,  /* belongs to a tracked connection; forward */
	RW_TRACK_DROP = 2,  /* belongs to (or quotes) state but is invalid: *reason says why */
};

struct rw_state *rw_state_create_shard(const struct rw_state_opts *o, char *err, size_t errlen);
void rw_state_destroy(struct rw_state *s);

/* Apply new timeouts (reload) without touching entries. */
void rw_state_set_timeouts(struct rw_state *s, const uint32_t timeouts[RW_TO_MAX]);

/* Apply a new count limit and adaptive-timeout bounds (reload): the limit
 * at most what the shard was made for (returned: the limit in force), the
 * adaptive scaling off unless end > start. Only on the thread that uses
 * the shard (or while nobody does): the fast path reads these unlocked. */
uint64_t rw_state_set_limits(struct rw_state *s, uint64_t capacity, uint32_t adaptive_start,
			     uint32_t adaptive_end);

void rw_state_prepare(struct rw_state *s, struct rw_pkt *const *p, unsigned n);
void rw_state_prefetch(struct rw_state *s, struct rw_pkt *const *p, unsigned n);

/*
 * Look up p's connection and track it. On RW_TRACK_PASS *rule is the index
 * of the rule that created the state (for counters and logging), on
 * RW_TRACK_DROP *reason is the drop reason. ICMP errors are matched against
 * the connection they quote here: an error that quotes nothing tracked
 * returns RW_TRACK_DROP with RW_DROP_ICMP_ERR_NOSTATE.
 */
enum rw_track_result rw_state_track(struct rw_state *s, struct rw_pkt *p, uint64_t now,
				    uint32_t *rule, unsigned *reason);

/*
 * Create state for p (a miss the rules passed with keep state). Returns 0,
 * or a drop reason: RW_DROP_TCP_NO_STATE when p cannot open a TCP
 * connection (not a SYN), RW_DROP_STATE_FULL when the table is full.
 */
unsigned rw_state_create(struct rw_state *s, struct rw_pkt *p, uint32_t rule, uint64_t now);

/*
 * The same for a rule written with "flags any" (rw_rule.flags_explicit with
 * mask 0): a TCP connection may also be picked up from a segment of a
 * connection already under way, as pf does, with loose windows because its
 * SYNs (and their window scale) were never seen (docs/conntrack.md).
 */
unsigned rw_state_create_loose(struct rw_state *s, struct rw_pkt *p, uint32_t rule, uint64_t now);

/*
 * Make the connection p just created (rw_state_create) a control connection
 * of helper (rw_alg_helper_for): its payload is then read for announced
 * connections. 0, or -ENOENT when p has no live connection.
 */
int rw_state_mark_alg(struct rw_state *s, const struct rw_pkt *p, unsigned helper, uint64_t now);

/* The shard's helper state: its outbox and inbox for the worker rings. */
struct rw_alg *rw_state_alg(struct rw_state *s);

/* Check budget slots for expired entries (idle time, tests). */
void rw_state_expire(struct rw_state *s, uint64_t now, unsigned budget);

/* Once per burst: check the slots due since the last call so that the
 * whole table is swept once every "timeout interval" (pf's purge
 * interval; RW_SWEEP_NS when that is 0), at most max. */
#define RW_SWEEP_NS (10ull * 1000000000ull)
void rw_state_expire_paced(struct rw_state *s, uint64_t now, unsigned max);

/* Drop every entry (ringwallctl flush). */
void rw_state_flush(struct rw_state *s);

void rw_state_stats(const struct rw_state *s, struct rw_state_stats *out);

/* Walk live entries (control plane; not concurrent with the worker unless
 * the caller arranges it). cb returns non-zero to stop. */
struct rw_conn_info {
	uint8_t af, proto;
	uint8_t saddr[16], daddr[16];   /* initiator -> responder */
	uint16_t sport, dport;
	const char *state;              /* "ESTABLISHED", "SYN_SENT", ... */
	uint64_t expires_ns;
	uint32_t rule;
	uint64_t packets[2], bytes[2];  /* per direction, when kept */
	bool proxied;                   /* spliced by the SYN proxy (synproxy.h): packets[0]
					 * counts both directions, packets[1] is 0 */
};
void rw_state_walk(struct rw_state *s, int (*cb)(const struct rw_conn_info *, void *), void *arg);

#endif
