/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ringwall bench`: the engine fed by two gen: ports (src/io/gen.c), timed.
 * bench.c reads the options and builds the configuration, run.c drives the
 * workers through warm-up, the timed phase and reloads, report.c prints.
 * docs/bench.md explains what each figure means.
 */
#ifndef RW_BENCH_H
#define RW_BENCH_H

#include "../common.h"
#include "../io/gen.h"
#include "../worker/engine.h"

int rw_cmd_bench(int argc, char **argv);

struct bench_opts {
	unsigned profile;          /* enum rw_gen_profile */
	bool gen_only;             /* no firewall: the generator's own cost */
	bool table_only;           /* only the state stages, on descriptors (table.c) */
	bool table_lookup;         /* table-only: the peer's lookup+update, no TCP checks */
	uint64_t conns, capacity;  /* capacity 0: chosen from conns and profile */
	uint64_t packets;          /* per port per worker; 0 = run for duration */
	double duration, interval; /* seconds */
	double zipf;
	unsigned frame_size, workers, new_pct;
	uint64_t seed;
	uint64_t clock_ns;         /* > 0: the worker goes by a clock the frames carry,
				    * advancing this many ns a packet (gen clock=) */
	const char *rules;         /* NULL: the built-in policy */
	const char *reload_rules;  /* alternate with rules on reload (default: rules) */
	double reload_every;       /* seconds; 0 = no reloads */
	bool json;
	int checksum;              /* 1 verify, 0 ignore (NIC offload), -1 as the rules say */
};

#define BENCH_MAX_INTERVALS 4096
#define BENCH_MAX_RELOADS 1024

struct bench_worker_result {
	uint64_t pkts;             /* frames received in the timed phase */
	double secs;
	int cpu;
};

struct bench_reload {
	double at, ms;             /* seconds since the timed start; duration */
	int ok;
	size_t nrules;
};

struct bench_result {
	struct bench_worker_result w[RW_MAX_WORKERS];
	double warm_secs, secs;
	uint64_t warm_pkts;
	struct rw_worker_stats warm_st, st;  /* warm-up, timed phase */
	struct rw_state_stats warm_ss, ss;
	struct rw_gen_counts gen;
	uint64_t table_bytes;      /* resident bytes the engine mapped */
	uint64_t capacity;
	size_t nrules;
	uint64_t table_pass;       /* --table-only: lookups that found and passed */
	double intervals[BENCH_MAX_INTERVALS]; /* packets/s in each interval */
	unsigned nintervals;
	struct bench_reload reloads[BENCH_MAX_RELOADS];
	unsigned nreloads;
};

/* run.c */
int bench_run(struct rw_engine *e, const struct bench_opts *o, struct bench_result *r);

/* table.c: the state stages alone on worker 0's shard, after warm-up. */
int bench_table(struct rw_engine *e, const struct bench_opts *o, struct bench_result *r);

/* bench.c: a configuration for o (rules file or built-in) with gen ports. */
int bench_config(const struct bench_opts *o, const char *rules, struct rw_config *cfg);

/* report.c */
void bench_report(const struct rw_engine *e, const struct bench_opts *o,
		  const struct bench_result *r, FILE *f);
void bench_report_json(const struct rw_engine *e, const struct bench_opts *o,
		       const struct bench_result *r, FILE *f);

#endif
