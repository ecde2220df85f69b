/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Engine set-up, the reload protocol, counters summed for readers, and the
 * end-of-run summary. Nothing here is on the per-packet path.
 */
#include <errno.h>
#include <libgen.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "engine.h"

static bool spec_is_offline(const char *spec)
{
	return !strncmp(spec, "pcap:", 5);
}

static int open_log(struct rw_engine *e, const char *path, char *err, size_t errlen)
{
	pcap_t *h = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_NANO);

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e->log_dumper = pcap_dump_open(h, path);
	if (!e->log_dumper) {
		snprintf(err, errlen, "logfile %s: %s", path, pcap_geterr(h));
		pcap_close(h);
		return -EIO;
	}
	e->log_handle = h;
	return 0;
}

static int open_ports(struct rw_engine *e, const struct rw_config *cfg, char *err, size_t errlen)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", cfg->path ? cfg->path : ".");
	snprintf(e->config_path, sizeof(e->config_path), "%s", cfg->path ? cfg->path : "");
	rw_port_basedir = dirname(dir);
	e->offline = cfg->nports > 0;
	e->frame_clock = cfg->nports > 0;
	for (unsigned i = 0; i < cfg->nports; i++) {
		char perr[512];
		int ret = rw_port_open(&e->ports[i], cfg->ports[i].name, i, cfg->ports[i].spec,
				       e->nworkers, perr, sizeof(perr));
		if (ret) {
			snprintf(err, errlen, "port %s: %s", cfg->ports[i].name, perr);
			rw_port_basedir = NULL;
			return ret;
		}
		e->nports = i + 1;
		if (!spec_is_offline(cfg->ports[i].spec))
			e->offline = false;
		if (!e->ports[i].clocked)
			e->frame_clock = false;
	}
	rw_port_basedir = NULL;
	return 0;
}

/* Slots per ring between two workers: a burst makes at most RW_ALG_OUTBOX
 * messages, and a worker drains its rings every poll, so a few bursts'
 * worth is room enough; 256 x 64 bytes per ordered pair. */
#define RW_RING_SLOTS 256

static int make_rings(struct rw_engine *e, char *err, size_t errlen)
{
	unsigned n = e->nworkers;

	if (n < 2)
		return 0;
	e->rings = calloc((size_t)n * n, sizeof(*e->rings));
	if (!e->rings)
		goto out_nomem;
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < n; j++)
			if (i != j && !(e->rings[i * n + j] = rw_spsc_create(RW_RING_SLOTS,
									   sizeof(struct rw_alg_msg))))
				goto out_nomem;
	return 0;
out_nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

static int make_workers(struct rw_engine *e, const struct rw_config *cfg, char *err, size_t errlen)
{
	uint64_t per = cfg->limit_states / e->nworkers;

	if (posix_memalign((void **)&e->workers, RW_CACHELINE, e->nworkers * sizeof(*e->workers))) {
		e->workers = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(e->workers, 0, e->nworkers * sizeof(*e->workers));
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct rw_worker *w = &e->workers[i];
		struct rw_state_opts so = {
			.capacity = per ? per : 1,
			.adaptive_start = cfg->adaptive_start / e->nworkers,
			.adaptive_end = cfg->adaptive_end / e->nworkers,
			.hash_key = {e->hash_key[0], e->hash_key[1]},
			.worker = i,
			.nworkers = e->nworkers,
		};

		memcpy(so.timeouts, cfg->timeouts, sizeof(so.timeouts));
		w->id = i;
		w->parse = e->parse;
		w->cpu = -1;
		w->eng = e;
		w->state = rw_state_create_shard(&so, err, errlen);
		if (!w->state)
			return -ENOMEM;
		for (unsigned k = 0; k < e->nports; k++)
			w->rxq[w->nrxq++] = (struct rw_rxq){&e->ports[k], i};
	}
	return make_rings(e, err, errlen);
}

int rw_engine_init(struct rw_engine *e, struct rw_config *cfg, char *err, size_t errlen)
{
	struct rw_ruleset *rs;
	int ret;

	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->log_lock, NULL);
	pthread_mutex_init(&e->reload_lock, NULL);
	e->nworkers = cfg->workers ? cfg->workers : 1;
	e->parse.verify_l4_csum = cfg->verify_l4_csum;
	if (getrandom(e->hash_key, sizeof(e->hash_key), 0) != sizeof(e->hash_key)) {
		e->hash_key[0] = rw_now_ns() * 0x9e3779b97f4a7c15ull;
		e->hash_key[1] = (uint64_t)getpid() * 0xc2b2ae3d27d4eb4full;
	}
	e->start_ns = rw_now_ns();
	if (cfg->nports != 0 && cfg->nports != 2) {
		snprintf(err, errlen, "a bridge needs exactly two ports (%u declared)", cfg->nports);
		rw_config_free(cfg);
		return -EINVAL;
	}
	ret = open_ports(e, cfg, err, errlen);
	if (!ret && cfg->log_file)
		ret = open_log(e, cfg->log_file, err, errlen);
	if (!ret)
		ret = make_workers(e, cfg, err, errlen);
	if (ret) {
		rw_config_free(cfg);
		rw_engine_fini(e);
		return ret;
	}
	rs = rw_ruleset_build(cfg, e->nworkers, ++e->next_gen, err, errlen);
	if (!rs) {
		rw_engine_fini(e);
		return -EINVAL;
	}
	atomic_store(&e->rs, rs);
	/* the shards were made with this set's settings */
	for (unsigned i = 0; i < e->nworkers; i++)
		e->workers[i].cfg_gen = rs->gen;
	return 0;
}

void rw_worker_apply_config(struct rw_worker *w, const struct rw_ruleset *rs)
{
	unsigned nw = w->eng->nworkers;

	w->parse.verify_l4_csum = rs->cfg.verify_l4_csum;
	rw_state_set_timeouts(w->state, rs->cfg.timeouts);
	rw_state_set_limits(w->state, rs->cfg.limit_states / nw, rs->cfg.adaptive_start / nw,
			    rs->cfg.adaptive_end / nw);
	w->cfg_gen = rs->gen;
}

uint64_t rw_engine_states_max(const struct rw_engine *e)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < e->nworkers; i++) {
		struct rw_state_stats st;

		rw_state_stats(e->workers[i].state, &st);
		n += st.limit_max;
	}
	return n;
}

static void pin(struct rw_worker *w)
{
	cpu_set_t set;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu <= 1)
		return;
	w->cpu = (int)(w->id % (unsigned)ncpu);
	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (pthread_setaffinity_np(w->thread, sizeof(set), &set))
		w->cpu = -1;
}

int rw_engine_start(struct rw_engine *e)
{
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct rw_worker *w = &e->workers[i];

		w->running = true;
		if (pthread_create(&w->thread, NULL, rw_worker_main, w)) {
			w->running = false;
			atomic_store(&e->stop, true);
			rw_engine_join(e);
			return -EAGAIN;
		}
		if (!e->offline)
			pin(w);
	}
	return 0;
}

void rw_engine_join(struct rw_engine *e)
{
	for (unsigned i = 0; i < e->nworkers; i++) {
		if (!e->workers[i].running)
			continue;
		pthread_join(e->workers[i].thread, NULL);
		e->workers[i].running = false;
	}
}

bool rw_engine_done(struct rw_engine *e)
{
	for (unsigned i = 0; i < e->nworkers; i++)
		if (atomic_load(&e->workers[i].seen_gen) != UINT32_MAX)
			return false;
	return true;
}

int rw_engine_run(struct rw_engine *e)
{
	int ret;

	if (e->nworkers == 1) {
		e->workers[0].running = true;
		rw_worker_main(&e->workers[0]);
		e->workers[0].running = false;
		return 0;
	}
	ret = rw_engine_start(e);
	if (!ret)
		rw_engine_join(e);
	return ret;
}

/* Wait until no worker can still hold old: each has announced a newer
 * generation (or parked). Workers poll at least every millisecond or so. */
static void wait_quiescent(struct rw_engine *e, uint32_t gen)
{
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct rw_worker *w = &e->workers[i];

		if (!w->running)
			continue;
		for (unsigned spins = 0; atomic_load(&w->seen_gen) < gen; spins++)
			if (spins > 100)
				usleep(100);
	}
}

void rw_engine_wait_quiescent(struct rw_engine *e, uint32_t gen)
{
	wait_quiescent(e, gen);
}

int rw_engine_reload(struct rw_engine *e, struct rw_config *cfg, char *err, size_t errlen)
{
	struct rw_ruleset *rs, *old;
	uint32_t gen;

	pthread_mutex_lock(&e->reload_lock);
	gen = ++e->next_gen;
	rs = rw_ruleset_build(cfg, e->nworkers, gen, err, errlen);
	if (!rs) {
		pthread_mutex_unlock(&e->reload_lock);
		return -1;
	}
	old = atomic_exchange(&e->rs, rs);
	wait_quiescent(e, gen);
	/* A running worker has applied the new timeouts and limits before it
	 * announced the generation (rw_worker_poll), on its own thread: the
	 * fast path reads them unlocked, and a half-written pair of adaptive
	 * bounds could expire a connection. Here only the workers that do not
	 * run, whose shards nobody else touches. */
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct rw_worker *w = &e->workers[i];

		if (!w->running || atomic_load(&w->seen_gen) == UINT32_MAX)
			rw_worker_apply_config(w, rs);
	}
	rw_ruleset_free(old);
	pthread_mutex_unlock(&e->reload_lock);
	return 0;
}

void rw_worker_serve_call(struct rw_worker *w)
{
	struct rw_worker_call *c = atomic_exchange_explicit(&w->call, NULL, memory_order_acquire);

	if (!c)
		return;
	c->fn(w, c->arg);
	atomic_store_explicit(&c->done, true, memory_order_release);
}

/* Whoever removes the call from the mailbox runs it: the worker (exchange
 * in rw_worker_serve_call) or, when the worker has parked or timed out,
 * this thread (compare-exchange back to NULL). So it runs exactly once and
 * never beside the worker's own use of its shard. */
int rw_worker_call(struct rw_worker *w, struct rw_worker_call *c, unsigned timeout_ms)
{
	struct rw_worker_call *expect = NULL;
	uint64_t deadline = rw_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	atomic_store(&c->done, false);
	if (!w->running || atomic_load(&w->seen_gen) == UINT32_MAX) {
		c->fn(w, c->arg);
		return 0;
	}
	if (!atomic_compare_exchange_strong(&w->call, &expect, c))
		return -EBUSY;
	while (!atomic_load_explicit(&c->done, memory_order_acquire)) {
		bool parked = atomic_load(&w->seen_gen) == UINT32_MAX;

		if (parked || rw_now_ns() > deadline) {
			expect = c;
			if (atomic_compare_exchange_strong(&w->call, &expect, NULL)) {
				if (!parked)
					return -ETIMEDOUT;
				c->fn(w, c->arg);
				return 0;
			}
			/* the worker took it: it finishes soon */
		}
		usleep(100);
	}
	return 0;
}

void rw_engine_fini(struct rw_engine *e)
{
	if (e->workers)
		for (unsigned i = 0; i < e->nworkers; i++)
			if (e->workers[i].state)
				rw_state_destroy(e->workers[i].state);
	if (e->workers)
		for (unsigned i = 0; i < e->nworkers; i++)
			rw_worker_frag_fini(&e->workers[i]), rw_worker_synproxy_fini(&e->workers[i]);
	free(e->workers);
	e->workers = NULL;
	if (e->rings)
		for (size_t i = 0; i < (size_t)e->nworkers * e->nworkers; i++)
			rw_spsc_destroy(e->rings[i]);
	free(e->rings);
	e->rings = NULL;
	for (unsigned i = 0; i < e->nports; i++)
		rw_port_close(&e->ports[i]);
	e->nports = 0;
	if (e->log_dumper)
		pcap_dump_close(e->log_dumper);
	if (e->log_handle)
		pcap_close(e->log_handle);
	e->log_dumper = e->log_handle = NULL;
	rw_ruleset_free(atomic_exchange(&e->rs, NULL));
	free(e->spare_rules);
	e->spare_rules = NULL;
	pthread_mutex_destroy(&e->log_lock);
	pthread_mutex_destroy(&e->reload_lock);
}

void rw_engine_sum_stats(const struct rw_engine *e, struct rw_worker_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < e->nworkers; i++) {
		const struct rw_worker_stats *s = &e->workers[i].st;
		const uint64_t *src = (const uint64_t *)s;
		uint64_t *dst = (uint64_t *)out;

		/* every member is a uint64_t: sum word by word */
		static_assert(sizeof(*s) % sizeof(uint64_t) == 0, "stats are all u64");
		for (size_t k = 0; k < sizeof(*s) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
}

void rw_engine_sum_state(const struct rw_engine *e, struct rw_state_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct rw_state_stats s;
		const uint64_t *src = (const uint64_t *)&s;
		uint64_t *dst = (uint64_t *)out;

		rw_state_stats(e->workers[i].state, &s);
		static_assert(sizeof(s) % sizeof(uint64_t) == 0, "state stats are all u64");
		for (size_t k = 0; k < sizeof(s) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
}

/* One line for the helpers, when they saw anything (docs/alg.md). */
static void print_alg(const struct rw_alg_stats *a, FILE *f)
{
	if (!a->lines && !a->overlong && !a->gaps && !a->exp_received && !a->msg_dropped)
		return;
	fprintf(f, "alg lines %llu overlong %llu gaps %llu bad %llu bounce %llu stolen %llu "
		"expect created %llu received %llu used %llu expired %llu replaced %llu full %llu "
		"messages sent %llu dropped %llu\n",
		(unsigned long long)a->lines, (unsigned long long)a->overlong,
		(unsigned long long)a->gaps, (unsigned long long)a->bad,
		(unsigned long long)a->bounce, (unsigned long long)a->ctl_stolen,
		(unsigned long long)a->exp_created, (unsigned long long)a->exp_received,
		(unsigned long long)a->exp_used, (unsigned long long)a->exp_expired,
		(unsigned long long)a->exp_replaced, (unsigned long long)a->exp_full,
		(unsigned long long)a->msg_sent, (unsigned long long)a->msg_dropped);
}

void rw_engine_print_summary(const struct rw_engine *e, FILE *f)
{
	const struct rw_ruleset *rs = atomic_load(&e->rs);
	struct rw_worker_stats st;
	struct rw_state_stats ss;

	rw_engine_sum_stats(e, &st);
	rw_engine_sum_state(e, &ss);
	fprintf(f, "%-10s %12s %14s %12s %14s %12s %14s\n", "port", "in-pkts", "in-bytes", "out-pkts",
		"out-bytes", "drop-pkts", "drop-bytes");
	for (unsigned i = 0; i < e->nports; i++) {
		const struct rw_port_stats *p = &st.port[i];
		fprintf(f, "%-10s %12llu %14llu %12llu %14llu %12llu %14llu\n", e->ports[i].name,
			(unsigned long long)p->rx_pkts, (unsigned long long)p->rx_bytes,
			(unsigned long long)p->tx_pkts, (unsigned long long)p->tx_bytes,
			(unsigned long long)p->drop_pkts, (unsigned long long)p->drop_bytes);
	}
	for (unsigned r = 1; r < RW_DROP_MAX; r++)
		if (st.drops[r])
			fprintf(f, "drop %s %llu\n", rw_reason_name(r), (unsigned long long)st.drops[r]);
	for (unsigned i = 0; i < e->nports; i++) {
		struct rw_port_kstats k;

		/* below ringwall: frames no worker saw, so no drop verdict */
		if (rw_port_kstats(&e->ports[i], &k))
			fprintf(f, "kernel-drop %s rx %llu rx-ring-full %llu rx-freeze %llu fill-empty %llu tx-error %llu\n",
				e->ports[i].name, (unsigned long long)k.rx_drops,
				(unsigned long long)k.rx_ring_full, (unsigned long long)k.rx_freezes,
				(unsigned long long)k.fill_empty, (unsigned long long)k.tx_errors);
	}
	fprintf(f, "states created %llu expired %llu removed %llu evicted %llu refused %llu current %llu\n",
		(unsigned long long)ss.created, (unsigned long long)ss.expired,
		(unsigned long long)ss.removed, (unsigned long long)ss.evicted,
		(unsigned long long)ss.refused, (unsigned long long)ss.current);
	if (st.logged)
		fprintf(f, "logged %llu\n", (unsigned long long)st.logged);
	rw_engine_print_frag(e, f);
	rw_engine_print_synproxy(e, f);
	print_alg(&ss.alg, f);
	if (!rs)
		return;
	for (size_t r = 0; r < rs->cfg.nrules; r++) {
		struct rw_rule_ctr c = rw_ruleset_rule_total(rs, (uint32_t)r);
		fprintf(f, "rule %zu line %u packets %llu bytes %llu: %s\n", r, rs->cfg.rules[r].line,
			(unsigned long long)c.packets, (unsigned long long)c.bytes,
			rs->cfg.rules[r].text ? rs->cfg.rules[r].text : "");
	}
}
