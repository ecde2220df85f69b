/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ringwall classify --rules FILE --trace FILE [--bench] [--json]
 *                   [--verify MATCHFILE] [--isa scalar|avx2|avx512] [--seconds S]
 *
 * Classifies a ClassBench trace against a ClassBench rule set. Prints, per
 * trace line, the first matching rule's index or -1; with --bench, instead,
 * the build time, the structure's size, the process's peak RSS and the
 * lookup rate in bursts of RW_BURST keys, as the worker calls it; with
 * --bench-update N, the time of N single-rule insertions and N removals at
 * random positions (each a copy of a random rule), and a check that the
 * answers after every insert-then-remove pair equal the original ones.
 */
#include "classbench.h"
#include "cli.h"
#include "tss.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct cls_opts {
	const char *rules, *trace, *verify;
	bool bench, json;
	double seconds; /* how long --bench measures lookups */
	unsigned updates; /* --bench-update N */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ringwall classify --rules FILE --trace FILE [--bench] [--json]\n"
		   "                         [--verify MATCHFILE] [--isa scalar|avx2|avx512]"
		   " [--seconds S]\n"
		   "                         [--bench-update N]\n"
		   "  FILE may be xz-compressed (*.xz). Prints the first matching rule per\n"
		   "  trace line (-1: none); --bench prints build time, memory, lookups/s.\n");
}

static int parse_opts(int argc, char **argv, struct cls_opts *o)
{
	static const struct option lo[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "trace", required_argument, NULL, 't' },
		{ "verify", required_argument, NULL, 'v' },
		{ "isa", required_argument, NULL, 'i' },
		{ "seconds", required_argument, NULL, 's' },
		{ "bench", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "bench-update", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->seconds = 1.0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:t:v:i:s:bjh", lo, NULL)) != -1) {
		switch (c) {
		case 'r': o->rules = optarg; break;
		case 't': o->trace = optarg; break;
		case 'v': o->verify = optarg; break;
		case 'i': setenv("RW_CLASSIFY_ISA", optarg, 1); break;
		case 's': o->seconds = atof(optarg); break;
		case 'b': o->bench = true; break;
		case 'j': o->json = true; break;
		case 'u': o->updates = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (!o->rules || !o->trace || optind != argc || !(o->seconds > 0 && o->seconds < 3600) ||
	    o->updates > 1000000) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void classify_all(const struct rw_classifier *c, const struct rw_ckey *k, size_t n,
			 int32_t *out)
{
	const struct rw_ckey *ptr[RW_BURST];

	for (size_t i = 0; i < n; i += RW_BURST) {
		unsigned m = (unsigned)RW_MIN((size_t)RW_BURST, n - i);

		for (unsigned j = 0; j < m; j++)
			ptr[j] = &k[i + j];
		rw_classify_burst(c, ptr, out + i, m);
	}
}

/* Lookups per second over whole passes of the trace, for at least
 * o->seconds. */
static double measure(const struct rw_classifier *c, const struct rw_ckey *k, size_t n,
		      int32_t *out, double seconds)
{
	double t0 = now(), t;
	size_t done = 0;

	do {
		classify_all(c, k, n, out);
		done += n;
		t = now() - t0;
	} while (t < seconds);
	return (double)done / t;
}

static int verify(const char *path, const int32_t *got, size_t n)
{
	int32_t *want;
	size_t nw, bad = 0;
	char err[512];

	if (rw_cb_read_match(path, &want, &nw, err, sizeof(err))) {
		fprintf(stderr, "ringwall classify: %s\n", err);
		return -1;
	}
	if (nw != n) {
		fprintf(stderr, "ringwall classify: %s has %zu lines, the trace %zu\n", path, nw, n);
		free(want);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (got[i] != want[i] && bad++ < 10)
			fprintf(stderr, "ringwall classify: trace line %zu: got %d, expected %d\n",
				i + 1, got[i], want[i]);
	}
	free(want);
	if (bad)
		fprintf(stderr, "ringwall classify: %zu of %zu lines differ\n", bad, n);
	return bad ? -1 : 0;
}

static void print_bench(const struct cls_opts *o, const struct rw_classifier *c, size_t nrules,
			size_t nkeys, double build_s, double rate)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	if (o->json) {
		printf("{\"rules\": %zu, \"trace\": %zu, \"build_s\": %.6f, \"memory_bytes\": %zu, "
		       "\"maxrss_kb\": %ld, \"lookups_per_s\": %.0f, \"tables\": %u, "
		       "\"isa\": \"%s\"}\n",
		       nrules, nkeys, build_s, rw_classifier_memory(c), ru.ru_maxrss, rate,
		       c->v4.ntables + c->v6.ntables, tss_isa_name(c->isa));
		return;
	}
	printf("rules:        %zu\n", nrules);
	printf("trace:        %zu\n", nkeys);
	printf("build:        %.3f ms\n", build_s * 1e3);
	printf("memory:       %zu bytes (%.2f MB)\n", rw_classifier_memory(c),
	       (double)rw_classifier_memory(c) / 1e6);
	printf("maxrss:       %ld kB\n", ru.ru_maxrss);
	printf("tables:       %u\n", c->v4.ntables + c->v6.ntables);
	printf("isa:          %s\n", tss_isa_name(c->isa));
	printf("lookups/s:    %.0f (%.2f M)\n", rate, rate / 1e6);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void print_times(const char *what, double *t, unsigned n, bool json)
{
	qsort(t, n, sizeof(*t), cmp_double);
	if (json)
		printf("\"%s_median_us\": %.1f, \"%s_p99_us\": %.1f, \"%s_max_us\": %.1f", what,
		       t[n / 2] * 1e6, what, t[n * 99 / 100] * 1e6, what, t[n - 1] * 1e6);
	else
		printf("%-8s median %.1f us, p99 %.1f us, max %.1f us (%u edits)\n", what,
		       t[n / 2] * 1e6, t[n * 99 / 100] * 1e6, t[n - 1] * 1e6, n);
}

/* One insert at a random position (a copy of a random rule's tuples, as
 * "rule add before N" would make) and the removal of the same position,
 * each timed up to the moment the new classifier could be published. */
static int update_pair(struct rw_classifier **c, const struct rw_crule *r, size_t nr,
		       double *tins, double *trem)
{
	size_t pick = (size_t)rand() % nr, a = pick, b = pick;
	uint32_t pos = (uint32_t)((size_t)rand() % (r[nr - 1].rule + 1));
	struct rw_classifier *n;
	char err[256];
	double t0;

	while (a > 0 && r[a - 1].rule == r[pick].rule)
		a--;
	while (b + 1 < nr && r[b + 1].rule == r[pick].rule)
		b++;
	t0 = now();
	n = rw_classifier_insert(*c, pos, r + a, b - a + 1, err, sizeof(err));
	*tins = now() - t0;
	if (!n)
		goto out_err;
	rw_classifier_free(*c);
	*c = n;
	t0 = now();
	n = rw_classifier_remove(*c, pos, err, sizeof(err));
	*trem = now() - t0;
	if (!n)
		goto out_err;
	rw_classifier_free(*c);
	*c = n;
	return 0;
out_err:
	fprintf(stderr, "ringwall classify: %s\n", err);
	return -1;
}

static int bench_update(const struct cls_opts *o, struct rw_classifier **c,
			const struct rw_crule *r, size_t nr, const struct rw_ckey *k, size_t nk,
			const int32_t *want)
{
	double *ti = calloc(o->updates, sizeof(*ti)), *tr = calloc(o->updates, sizeof(*tr));
	int32_t *got = malloc((nk ? nk : 1) * sizeof(*got));
	size_t bad = 0;
	int rc = -1;

	if (!ti || !tr || !got || !nr) {
		fprintf(stderr, "ringwall classify: %s\n", nr ? "out of memory" : "no rules");
		goto out;
	}
	srand(1);
	for (unsigned i = 0; i < o->updates; i++) {
		if (update_pair(c, r, nr, &ti[i], &tr[i]))
			goto out;
		/* A pair must give the original answers back; checking a
		 * slice of the trace each time keeps the run short. */
		classify_all(*c, k, RW_MIN(nk, (size_t)4096), got);
		for (size_t j = 0; j < RW_MIN(nk, (size_t)4096); j++)
			bad += got[j] != want[j];
	}
	classify_all(*c, k, nk, got);
	for (size_t j = 0; j < nk; j++)
		bad += got[j] != want[j];
	if (bad) {
		fprintf(stderr, "ringwall classify: %zu answers changed after the edits\n", bad);
		goto out;
	}
	if (o->json) {
		printf("{\"rules\": %zu, ", nr);
		print_times("insert", ti, o->updates, true);
		printf(", ");
		print_times("remove", tr, o->updates, true);
		printf("}\n");
	} else {
		printf("tuples:  %zu\n", nr);
		print_times("insert", ti, o->updates, false);
		print_times("remove", tr, o->updates, false);
	}
	rc = 0;
out:
	free(ti), free(tr), free(got);
	return rc;
}

static void print_results(const struct cls_opts *o, const int32_t *res, size_t n)
{
	if (o->json)
		putchar('[');
	for (size_t i = 0; i < n; i++) {
		if (o->json)
			printf(i ? ",%d" : "%d", res[i]);
		else
			printf("%d\n", res[i]);
	}
	if (o->json)
		puts("]");
}

int rw_cmd_classify(int argc, char **argv)
{
	struct rw_classifier *c = NULL;
	struct rw_crule *rules = NULL;
	struct rw_ckey *keys = NULL;
	int32_t *res = NULL;
	size_t nr = 0, nk = 0;
	struct cls_opts o;
	char err[512];
	double t0, build_s;
	int rc = 1;

	int prc = parse_opts(argc, argv, &o);
	if (prc)
		return prc > 0 ? 0 : 2;
	if (rw_cb_read_rules(o.rules, &rules, &nr, err, sizeof(err)) ||
	    rw_cb_read_trace(o.trace, &keys, &nk, err, sizeof(err))) {
		fprintf(stderr, "ringwall classify: %s\n", err);
		goto out;
	}
	res = malloc((nk ? nk : 1) * sizeof(*res));
	if (!res) {
		fprintf(stderr, "ringwall classify: out of memory\n");
		goto out;
	}
	t0 = now();
	c = rw_classifier_build(rules, nr, NULL, 0, err, sizeof(err));
	build_s = now() - t0;
	if (!c) {
		fprintf(stderr, "ringwall classify: %s\n", err);
		goto out;
	}
	classify_all(c, keys, nk, res);
	if (o.verify && verify(o.verify, res, nk))
		goto out;
	if (o.updates) {
		if (bench_update(&o, &c, rules, nr, keys, nk, res))
			goto out;
	} else if (o.bench)
		print_bench(&o, c, nr, nk, build_s, nk ? measure(c, keys, nk, res, o.seconds) : 0);
	else
		print_results(&o, res, nk);
	rc = 0;
out:
	rw_classifier_free(c);
	free(res);
	free(keys);
	free(rules);
	return rc;
}
