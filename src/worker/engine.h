/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The engine: ports, workers and the published rule set of one running
 * firewall. engine.c sets it up and tears it down, reloads rules and sums
 * counters; worker.c is the per-core fast path.
 */
#ifndef RW_ENGINE_H
#define RW_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "../common.h"
#include "../io/port.h"
#include "../pkt/pkt.h"
#include "../track/state.h"
#include "reasons.h"
#include "ruleset.h"
#include "spsc.h"

struct rw_port_stats {
	uint64_t rx_pkts, rx_bytes;     /* arrived on this port */
	uint64_t tx_pkts, tx_bytes;     /* left through this port */
	uint64_t drop_pkts, drop_bytes; /* arrived here and were dropped */
};

/* Written by one worker only; summed by readers (no atomics on the fast
 * path: a reader may see a count a few packets old, never a torn one on
 * x86-64 for aligned 64-bit words). */
struct rw_worker_stats {
	struct rw_port_stats port[RW_MAX_PORTS];
	uint64_t drops[RW_DROP_MAX];
	uint64_t logged;
	uint64_t bursts;
	uint64_t state_hits, state_misses; /* packets found in / not in the table */
};

/* A (port, queue) pair a worker polls. */
struct rw_rxq {
	struct rw_port *port;
	unsigned queue;
};

struct rw_engine;
struct rw_worker;

/* A control-plane call that a worker runs on its own thread at the top of
 * its next poll: only a worker may touch its shard of the connection table
 * (ringwallctl flush, states). Posted by rw_worker_call() (engine.c). */
struct rw_worker_call {
	void (*fn)(struct rw_worker *w, void *arg);
	void *arg;
	atomic_bool done;
};

struct rw_worker {
	unsigned id;
	int cpu;                       /* pinned CPU, -1 = not pinned */
	struct rw_engine *eng;
	struct rw_state *state;
	struct rw_rxq rxq[RW_MAX_PORTS];
	unsigned nrxq;
	pthread_t thread;
	bool running;

	/* Generation of the rule set this worker is using; reload waits for
	 * every worker to reach the new one before freeing the old. */
	_Atomic uint32_t seen_gen rw_cache_aligned;
	/* Generation whose timeouts and limits the shard has (the worker
	 * applies a new set's at its first poll with it). */
	uint32_t cfg_gen;
	struct rw_parse_opts parse;    /* the set's parse options (checksums), applied with them */
	/* Mailbox: one pending control call or NULL; written by the control
	 * thread, rarely, so the worker's load of it each poll stays cached. */
	_Atomic(struct rw_worker_call *) call;

	struct rw_worker_stats st rw_cache_aligned;
	uint64_t last_ts;              /* "now" of the last burst (helpers' messages) */

	/* Burst scratch, reused every iteration. */
	struct rw_frame frames[RW_BURST];
	struct rw_pkt pkts[RW_BURST];

	/* Reassembly (src/track/frag.c, docs/fragments.md), created at the
	 * worker's first fragment. frag_dg[i]: the datagram frame i completed
	 * (RW_FRAG_NONE otherwise); its rebuilt packet is in frag_view. */
	struct rw_frag *frag;
	uint8_t *frag_view;            /* RW_BURST x RW_FRAG_VIEW_MAX bytes */
	unsigned frag_ndone;
	uint32_t frag_dg[RW_BURST];

	/* SYN proxy (src/track/synproxy.h, proxy.c), made at the worker's
	 * first synproxy rule hit: cookie key, outbox, counters. */
	struct rw_synproxy *sp;
};

struct rw_engine {
	struct rw_port ports[RW_MAX_PORTS];
	unsigned nports;
	struct rw_worker *workers;
	unsigned nworkers;
	/* Rings between workers, [from * nworkers + to], NULL on the diagonal
	 * and with one worker: helper expectations travel on them (docs/alg.md). */
	struct rw_spsc **rings;
	_Atomic(struct rw_ruleset *) rs;
	uint32_t next_gen;
	atomic_bool stop;
	bool offline;                  /* every port is a capture: stop at end of input */
	bool frame_clock;              /* every port's frames carry the time (captures, gen
					* with clock=): the workers go by it, not the system
					* clock */
	struct rw_parse_opts parse;
	uint64_t hash_key[2];
	uint64_t start_ns;
	char config_path[4096];

	/* Serialises reloads (SIGHUP, control socket) and control-plane
	 * readers of rs: only a reload frees a rule set. */
	pthread_mutex_t reload_lock;

	/* A rules array a live edit freed (under reload_lock), reused by the
	 * next one: a 100k-rule array is 16 MB, and fresh pages would cost
	 * their faults on every edit (edit.c). */
	struct rw_rule *spare_rules;
	size_t spare_cap;

	/* Packets of "log" rules, as a pcap file (slow path, locked). */
	pthread_mutex_t log_lock;
	void *log_dumper;              /* pcap_dumper_t */
	void *log_handle;              /* pcap_t */
};

/* Set up from a loaded configuration (taken over by the engine). */
int rw_engine_init(struct rw_engine *e, struct rw_config *cfg, char *err, size_t errlen);

/* Run workers until stop is set or (offline) every port is at its end.
 * With one worker it runs on the calling thread. */
int rw_engine_run(struct rw_engine *e);

/* Start one thread per worker (pinned when live) and return; the caller
 * serves signals and the control socket, then sets stop and joins. */
int rw_engine_start(struct rw_engine *e);
void rw_engine_join(struct rw_engine *e);
/* True when every worker has left its loop (offline input ended). */
bool rw_engine_done(struct rw_engine *e);

/* Replace the rule set with cfg's (taken over). Keeps connections. 0, or
 * -1 with err set and nothing changed. */
int rw_engine_reload(struct rw_engine *e, struct rw_config *cfg, char *err, size_t errlen);

void rw_engine_fini(struct rw_engine *e);

/* Return once every running worker has announced generation gen or a
 * later one (or parked): no worker can hold an older rule set. */
void rw_engine_wait_quiescent(struct rw_engine *e, uint32_t gen);

/*
 * Incremental edits (edit.c, docs/control.md): one rule or one table
 * entry, no full rebuild, serialised with reloads by reload_lock. Each
 * fills *res and returns 0, or returns -errno with a message in err and
 * nothing changed. Edits last until the next full reload from the file.
 *
 * rule_insert: text becomes rule pos (RW_EDIT_APPEND: after the last);
 * rules from pos on move up one. rule_remove: rule pos goes. Both publish
 * a new generation; per-rule counters stay with their rules, and
 * connections keep being counted against their rule (renumbered).
 * table_edit: add (or re-flag) or remove one "[!]ADDR[/LEN]" in table
 * name, in place (no new generation: workers see the next lookup).
 */
#define RW_EDIT_APPEND UINT32_MAX

struct rw_edit_result {
	uint32_t gen;       /* generation now in force */
	uint32_t pos;       /* the rule's index */
	size_t nrules;      /* rules now (table edits: entries now) */
	uint64_t visible_ns; /* from the request to the change being visible to the next packet */
	uint64_t total_ns;  /* to the old set freed and counters carried over */
};

int rw_engine_rule_insert(struct rw_engine *e, uint32_t pos, const char *text,
			  struct rw_edit_result *res, char *err, size_t errlen);
int rw_engine_rule_remove(struct rw_engine *e, uint32_t pos, struct rw_edit_result *res,
			  char *err, size_t errlen);
int rw_engine_table_edit(struct rw_engine *e, const char *name, const char *prefix, bool add,
			 struct rw_edit_result *res, char *err, size_t errlen);

/* Totals over workers. */
void rw_engine_sum_stats(const struct rw_engine *e, struct rw_worker_stats *out);
void rw_engine_sum_state(const struct rw_engine *e, struct rw_state_stats *out);

/* The end-of-run summary (ringwall run). */
void rw_engine_print_summary(const struct rw_engine *e, FILE *f);

/* Run c->fn on worker w's thread (or on the caller's when w is not
 * running) and wait for it. 0, or -ETIMEDOUT when the worker did not take
 * the call within timeout_ms (nothing ran then). */
int rw_worker_call(struct rw_worker *w, struct rw_worker_call *c, unsigned timeout_ms);
/* Give w rs's parse options and its shard rs's timeouts, state limit and
 * adaptive bounds (its share of them); on the worker's thread, or while it
 * does not run. */
void rw_worker_apply_config(struct rw_worker *w, const struct rw_ruleset *rs);
/* The most states the tables were made for, all workers together: the
 * ceiling of `set limit states` until a restart. */
uint64_t rw_engine_states_max(const struct rw_engine *e);
/* The worker's side: run a pending call (engine.c, off the fast path). */
void rw_worker_serve_call(struct rw_worker *w);

/* Fast path, worker.c. */
void *rw_worker_main(void *arg);
/* One pass over the worker's queues; returns frames received. */
unsigned rw_worker_poll(struct rw_worker *w);

uint64_t rw_now_ns(void);

/* Reassembly glue (worker.c): free a worker's state (engine fini), print
 * the summed counters (summary). */
void rw_worker_frag_fini(struct rw_worker *w);
void rw_engine_print_frag(const struct rw_engine *e, FILE *f);

/* SYN proxy glue (proxy.c, docs/synproxy.md). A miss frame the proxy
 * consumed gets RW_VERDICT_CONSUMED: released, not counted as a drop
 * (worker.c's RW_VERDICT_HELD, the same value). */
#define RW_VERDICT_CONSUMED RW_DROP_MAX
unsigned rw_worker_synproxy(struct rw_worker *w, unsigned i, bool as_ack, uint32_t ref, uint64_t now);
void rw_worker_synproxy_emit(struct rw_worker *w, struct rw_port *in, unsigned q);
void rw_worker_synproxy_fini(struct rw_worker *w);
void rw_engine_print_synproxy(const struct rw_engine *e, FILE *f);
/* The workers' proxy counters summed; any thread (metrics). */
struct rw_synproxy_stats;
void rw_engine_synproxy_stats(const struct rw_engine *e, struct rw_synproxy_stats *t);

#endif
