/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Driving the engine for a benchmark. Each worker gets a thread, pinned
 * like `ringwall run` pins them, that calls rw_worker_poll: the very loop
 * live ports get. Phases:
 *
 *   warm-up   workers poll until their queue's generator has handshaken
 *             every flow; not timed
 *   timed     main thread snapshots the counters, starts the generator and
 *             releases the workers; each worker times itself from release
 *             until its queue is done (--packets) or the stop flag
 *             (--duration)
 *
 * Meanwhile the main thread samples throughput every --interval, and a
 * reload thread (--reload-every) loads and swaps the rule set with
 * rw_engine_reload, as SIGHUP does in `ringwall run`.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

struct bench_ctx {
	struct rw_engine *e;
	const struct bench_opts *o;
	struct bench_result *r;
	atomic_uint warm;          /* workers done with warm-up */
	atomic_bool go, stop;
	uint64_t t_go;
};

struct bench_thread {
	struct bench_ctx *x;
	struct rw_worker *w;
	pthread_t th;
};

static uint64_t rx_of(const struct rw_worker *w)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < w->eng->nports; k++)
		n += w->st.port[k].rx_pkts;
	return n;
}

/* The generator's cost alone: what a worker does with no firewall, receive
 * a burst and hand it to the other port. */
static unsigned null_poll(struct rw_worker *w)
{
	struct rw_engine *e = w->eng;
	unsigned total = 0;

	for (unsigned k = 0; k < w->nrxq; k++) {
		struct rw_port *p = w->rxq[k].port, *out = &e->ports[p->index ^ 1];
		unsigned q = w->rxq[k].queue, n = p->ops->rx_burst(p, q, w->frames, RW_BURST);

		w->st.port[p->index].rx_pkts += n;
		if (n)
			out->ops->tx_burst(out, q, w->frames, n);
		total += n;
	}
	return total;
}

static void pin_self(unsigned id)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (ncpu <= 1)
		return;
	CPU_ZERO(&set);
	CPU_SET(id % (unsigned)ncpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *worker_thread(void *arg)
{
	struct bench_thread *t = arg;
	struct bench_ctx *x = t->x;
	struct rw_worker *w = t->w;
	struct rw_port *gp = &x->e->ports[0];
	struct bench_worker_result *res = &x->r->w[w->id];
	uint64_t t0, n0;

	pin_self(w->id);
	res->cpu = sched_getcpu();
	if (!x->o->gen_only)
		while (!rw_gen_warm_done(gp, w->id) && !atomic_load_explicit(&x->stop, memory_order_relaxed))
			rw_worker_poll(w);
	atomic_fetch_add(&x->warm, 1);
	/* No poll until the go: the main thread starts the generator just
	 * before it, and a poll in between would take traffic bursts before
	 * the baseline below (the count came out 64 short now and then). */
	while (!atomic_load(&x->go))
		sched_yield();
	t0 = rw_now_ns();
	n0 = rx_of(w);
	for (;;) {
		unsigned n = x->o->gen_only ? null_poll(w) : rw_worker_poll(w);

		if (unlikely(atomic_load_explicit(&x->stop, memory_order_relaxed)))
			break;
		if (unlikely(!n) && rw_gen_queue_done(gp, w->id))
			break;
	}
	res->secs = (double)(rw_now_ns() - t0) / 1e9;
	res->pkts = rx_of(w) - n0;
	/* Parked: a reload must not wait for a worker that has stopped. */
	atomic_store_explicit(&w->seen_gen, UINT32_MAX, memory_order_release);
	return NULL;
}

struct reloader {
	struct bench_ctx *x;
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool quit;
};

static double since_go(const struct bench_ctx *x)
{
	return (double)(rw_now_ns() - x->t_go) / 1e9;
}

static void reload_once(struct bench_ctx *x, unsigned i)
{
	const char *file = (i & 1) ? x->o->reload_rules : x->o->rules;
	struct bench_reload *rl;
	struct rw_config cfg;
	char err[512];
	uint64_t t0 = rw_now_ns();
	int ok = 0;

	if (x->r->nreloads == BENCH_MAX_RELOADS)
		return;
	rl = &x->r->reloads[x->r->nreloads];
	rl->at = since_go(x);
	if (!bench_config(x->o, file, &cfg)) {
		rl->nrules = cfg.nrules;
		ok = rw_engine_reload(x->e, &cfg, err, sizeof(err)) == 0;
		if (!ok)
			fprintf(stderr, "ringwall bench: reload failed: %s\n", err);
	}
	rl->ms = (double)(rw_now_ns() - t0) / 1e6;
	rl->ok = ok;
	x->r->nreloads++;
}

static void *reload_thread(void *arg)
{
	struct reloader *rl = arg;
	struct bench_ctx *x = rl->x;
	uint64_t period = (uint64_t)(x->o->reload_every * 1e9), next = x->t_go + period;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	/* build the new set on a core no worker uses, when there is one, as
	 * an operator would run the control plane */
	if (ncpu > (long)x->e->nworkers)
		pin_self((unsigned)ncpu - 1);

	pthread_mutex_lock(&rl->lock);
	for (unsigned i = 1; !rl->quit; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		while (!rl->quit && rw_now_ns() < next) {
			uint64_t wait = next - rw_now_ns();
			ts.tv_sec += (time_t)(wait / 1000000000u);
			ts.tv_nsec += (long)(wait % 1000000000u);
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&rl->cond, &rl->lock, &ts);
			clock_gettime(CLOCK_MONOTONIC, &ts);
		}
		if (rl->quit)
			break;
		pthread_mutex_unlock(&rl->lock);
		reload_once(x, i);
		pthread_mutex_lock(&rl->lock);
		next += period;
	}
	pthread_mutex_unlock(&rl->lock);
	return NULL;
}

static int start_reloader(struct reloader *rl, struct bench_ctx *x)
{
	pthread_condattr_t ca;

	rl->x = x;
	rl->quit = false;
	pthread_mutex_init(&rl->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rl->cond, &ca);
	pthread_condattr_destroy(&ca);
	return pthread_create(&rl->th, NULL, reload_thread, rl) ? -EAGAIN : 0;
}

static void stop_reloader(struct reloader *rl)
{
	pthread_mutex_lock(&rl->lock);
	rl->quit = true;
	pthread_cond_signal(&rl->cond);
	pthread_mutex_unlock(&rl->lock);
	pthread_join(rl->th, NULL);
	pthread_cond_destroy(&rl->cond);
	pthread_mutex_destroy(&rl->lock);
}

static uint64_t rx_total(const struct rw_engine *e)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < e->nworkers; i++)
		n += rx_of(&e->workers[i]);
	return n;
}

static bool all_done(const struct bench_ctx *x)
{
	for (unsigned i = 0; i < x->e->nworkers; i++)
		if (atomic_load(&x->e->workers[i].seen_gen) != UINT32_MAX)
			return false;
	return true;
}

/* Timed phase, seen from the main thread: sample, stop at the duration. */
static void watch(struct bench_ctx *x)
{
	uint64_t interval = (uint64_t)(x->o->interval * 1e9), last = x->t_go;
	uint64_t end = x->o->packets ? UINT64_MAX : x->t_go + (uint64_t)(x->o->duration * 1e9);
	uint64_t pk_last = rx_total(x->e);

	while (!all_done(x)) {
		uint64_t now, pk;

		usleep((useconds_t)RW_MIN(interval / 1000 / 4 + 1, 10000u));
		now = rw_now_ns();
		if (now >= end)
			atomic_store(&x->stop, true);
		if (now - last < interval)
			continue;
		pk = rx_total(x->e);
		if (x->r->nintervals < BENCH_MAX_INTERVALS)
			x->r->intervals[x->r->nintervals++] = (double)(pk - pk_last) / ((double)(now - last) / 1e9);
		if (!x->o->json && x->o->reload_every > 0)
			fprintf(stderr, "  t=%6.2fs %8.2f Mpps\n", (double)(now - x->t_go) / 1e9,
				x->r->intervals[x->r->nintervals - 1] / 1e6);
		last = now;
		pk_last = pk;
	}
}

static int start_workers(struct bench_ctx *x, struct bench_thread *t)
{
	for (unsigned i = 0; i < x->e->nworkers; i++) {
		t[i] = (struct bench_thread){.x = x, .w = &x->e->workers[i]};
		t[i].w->running = true;
		if (pthread_create(&t[i].th, NULL, worker_thread, &t[i])) {
			t[i].w->running = false;
			return -EAGAIN;
		}
	}
	return 0;
}

static void join_workers(struct bench_ctx *x, struct bench_thread *t)
{
	for (unsigned i = 0; i < x->e->nworkers; i++) {
		if (!t[i].w || !t[i].w->running)
			continue;
		pthread_join(t[i].th, NULL);
		t[i].w->running = false;
	}
}

int bench_run(struct rw_engine *e, const struct bench_opts *o, struct bench_result *r)
{
	struct bench_ctx x = {.e = e, .o = o, .r = r};
	struct bench_thread *t = calloc(e->nworkers, sizeof(*t));
	struct rw_gen_counts gc;
	struct reloader rl;
	bool reloading = false;
	uint64_t t0 = rw_now_ns();
	int ret;

	if (!t)
		return -ENOMEM;
	if (!rw_gen_is(&e->ports[0]) || !rw_gen_is(&e->ports[1])) {
		free(t);
		return -EINVAL;
	}
	ret = start_workers(&x, t);
	while (!ret && atomic_load(&x.warm) < e->nworkers)
		usleep(1000);
	r->warm_secs = (double)(rw_now_ns() - t0) / 1e9;
	rw_engine_sum_stats(e, &r->warm_st);
	rw_engine_sum_state(e, &r->warm_ss);
	rw_gen_counts(&e->ports[0], &gc);
	r->warm_pkts = gc.warm_pkts;
	if (!ret && o->table_only) {
		atomic_store(&x.stop, true);
		atomic_store(&x.go, true);
		join_workers(&x, t);
		pin_self(0);
		r->w[0].cpu = sched_getcpu();
		x.t_go = rw_now_ns();
		ret = bench_table(e, o, r);
	} else if (!ret) {
		rw_gen_start(&e->ports[0], o->packets ? o->packets : UINT64_MAX);
		x.t_go = rw_now_ns();
		atomic_store(&x.go, true);
		if (o->reload_every > 0)
			reloading = start_reloader(&rl, &x) == 0;
		watch(&x);
		if (reloading)
			stop_reloader(&rl);
	} else {
		atomic_store(&x.stop, true);
		atomic_store(&x.go, true);
	}
	join_workers(&x, t);
	r->secs = (double)(rw_now_ns() - x.t_go) / 1e9;
	rw_engine_sum_stats(e, &r->st);
	rw_engine_sum_state(e, &r->ss);
	rw_gen_counts(&e->ports[0], &r->gen);
	free(t);
	if (ret)
		fprintf(stderr, "ringwall bench: could not start the workers\n");
	return ret;
}
