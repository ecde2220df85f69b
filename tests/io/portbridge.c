/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * portbridge: the smallest possible bridge over two ports, to test and
 * measure the port backends without the firewall in between. No rules: each
 * worker moves every frame from queue q of one port to queue q of the other.
 *
 *   portbridge SPEC_A SPEC_B [-t SECONDS] [-q QUEUES] [-s]
 *
 * Runs until SIGINT/SIGTERM or SECONDS, then prints one line of counters
 * ("a2b=N b2a=N drop=N") on stdout. -s also prints the rate each second on
 * stderr. Exit 0, or 1 with a message when a port cannot be opened.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/port.h"

static volatile sig_atomic_t stop;

struct worker {
	pthread_t tid;
	struct rw_port *a, *b;
	unsigned q;
	uint64_t a2b, b2a, drop; /* read by main only after join, or racily for -s */
} rw_cache_aligned;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* rx on one side, tx to the other, release what the other side refused. */
static unsigned move(struct rw_port *from, struct rw_port *to, unsigned q, uint64_t *moved, uint64_t *drop)
{
	struct rw_frame f[RW_BURST];
	unsigned n = from->ops->rx_burst(from, q, f, RW_BURST), sent = 0;

	if (!n)
		return 0;
	sent = to->ops->tx_burst(to, q, f, n);
	if (sent < n)
		from->ops->release(from, q, f + sent, n - sent);
	*moved += sent;
	*drop += n - sent;
	return n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!stop) {
		move(w->a, w->b, w->q, &w->a2b, &w->drop);
		move(w->b, w->a, w->q, &w->b2a, &w->drop);
		w->b->ops->flush(w->b, w->q);
		w->a->ops->flush(w->a, w->q);
	}
	return NULL;
}

static void sum(struct worker *w, unsigned n, uint64_t *a2b, uint64_t *b2a, uint64_t *drop)
{
	*a2b = *b2a = *drop = 0;
	for (unsigned i = 0; i < n; i++) {
		*a2b += __atomic_load_n(&w[i].a2b, __ATOMIC_RELAXED);
		*b2a += __atomic_load_n(&w[i].b2a, __ATOMIC_RELAXED);
		*drop += __atomic_load_n(&w[i].drop, __ATOMIC_RELAXED);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: portbridge SPEC_A SPEC_B [-t SECONDS] [-q QUEUES] [-s]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct rw_port a, b;
	struct worker w[RW_MAX_WORKERS];
	unsigned nq = 1, secs = 0;
	bool show = false;
	char err[256];
	uint64_t a2b, b2a, drop, last = 0;
	int opt;

	while ((opt = getopt(argc, argv, "t:q:s")) != -1) {
		if (opt == 't')
			secs = (unsigned)atoi(optarg);
		else if (opt == 'q')
			nq = (unsigned)atoi(optarg);
		else if (opt == 's')
			show = true;
		else
			return usage();
	}
	if (argc - optind != 2 || nq == 0 || nq > RW_MAX_WORKERS)
		return usage();
	if (rw_port_open(&a, "a", 0, argv[optind], nq, err, sizeof(err)) ||
	    rw_port_open(&b, "b", 1, argv[optind + 1], nq, err, sizeof(err))) {
		fprintf(stderr, "portbridge: %s\n", err);
		rw_port_close(&a);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	memset(w, 0, sizeof(w));
	for (unsigned i = 0; i < nq; i++) {
		w[i] = (struct worker){ .a = &a, .b = &b, .q = i };
		pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
	}
	fprintf(stderr, "portbridge: running (%u queue%s)\n", nq, nq > 1 ? "s" : "");
	for (unsigned t = 0; !stop && (!secs || t < secs); t++) {
		sleep(1);
		if (show) {
			sum(w, nq, &a2b, &b2a, &drop);
			fprintf(stderr, "portbridge: %llu pps\n", (unsigned long long)(a2b + b2a - last));
			last = a2b + b2a;
		}
	}
	stop = 1;
	for (unsigned i = 0; i < nq; i++)
		pthread_join(w[i].tid, NULL);
	sum(w, nq, &a2b, &b2a, &drop);
	printf("a2b=%llu b2a=%llu drop=%llu\n", (unsigned long long)a2b, (unsigned long long)b2a,
	       (unsigned long long)drop);
	rw_port_close(&b);
	rw_port_close(&a);
	return 0;
}
