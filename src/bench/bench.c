/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ringwall bench`: options, the configuration it runs, and the command.
 * The engine is the one `ringwall run` builds; only its two ports are gen:
 * ports, whatever the rules file declares.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static const char usage[] =
	"usage: ringwall bench [--profile established|syn-flood|mixed|gen-only]\n"
	"                      [--connections N] [--capacity N] [--rules FILE]\n"
	"                      [--frame-size B] [--workers N] [--duration S | --packets N]\n"
	"                      [--zipf S] [--new PCT] [--seed N] [--interval S]\n"
	"                      [--reload-every S [--reload-rules FILE]] [--gen-only | --table-only]\n"
	"                      [--table-op track|lookup] [--checksum verify|ignore]\n"
	"                      [--virtual-clock NS] [--json]\n";

/* A stateful "pass out": the inside may open TCP and UDP connections, and
 * nothing comes in unless it belongs to one. */
static const char builtin_policy[] =
	"set default block\n"
	"pass in on inside proto tcp\n"
	"pass in on inside proto udp\n";

static const char *const profiles[] = {"established", "syn-flood", "mixed"};

static int parse_num(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end || !(x >= lo && x <= hi)) {
		fprintf(stderr, "ringwall bench: %s needs a number from %g to %g, got '%s'\n", opt, lo,
			hi, v);
		return -1;
	}
	*out = x;
	return 0;
}

static int parse_profile(const char *v, struct bench_opts *o)
{
	if (!strcmp(v, "gen-only")) {
		o->gen_only = true;
		o->profile = RW_GEN_ESTABLISHED;
		return 0;
	}
	for (size_t i = 0; i < RW_ARRAY_SIZE(profiles); i++) {
		if (!strcmp(v, profiles[i])) {
			o->profile = (unsigned)i;
			return 0;
		}
	}
	fprintf(stderr, "ringwall bench: unknown profile '%s' (established, syn-flood, mixed, gen-only)\n", v);
	return -1;
}

/* One option; 0, or -1 after saying what is wrong. */
static int set_opt(int c, const char *v, struct bench_opts *o)
{
	double x;

	switch (c) {
	case 'p':
		return parse_profile(v, o);
	case 'n':
		if (parse_num("--connections", v, 1, 10000000, &x))
			return -1;
		o->conns = (uint64_t)x;
		return 0;
	case 'C':
		if (parse_num("--capacity", v, 1, 1e9, &x))
			return -1;
		o->capacity = (uint64_t)x;
		return 0;
	case 'P':
		if (parse_num("--packets", v, 1, 1e15, &x))
			return -1;
		o->packets = (uint64_t)x;
		return 0;
	case 'd':
		return parse_num("--duration", v, 0.01, 86400, &o->duration);
	case 'i':
		return parse_num("--interval", v, 0.01, 3600, &o->interval);
	case 'z':
		return parse_num("--zipf", v, 0, 10, &o->zipf);
	case 'f':
		if (parse_num("--frame-size", v, RW_GEN_MIN_FRAME, RW_GEN_MAX_FRAME, &x))
			return -1;
		o->frame_size = (unsigned)x;
		return 0;
	case 'w':
		if (parse_num("--workers", v, 1, RW_MAX_WORKERS, &x))
			return -1;
		o->workers = (unsigned)x;
		return 0;
	case 'N':
		if (parse_num("--new", v, 0, 100, &x))
			return -1;
		o->new_pct = (unsigned)x;
		return 0;
	case 's':
		if (parse_num("--seed", v, 0, 1e18, &x))
			return -1;
		o->seed = (uint64_t)x;
		return 0;
	case 'V':
		if (parse_num("--virtual-clock", v, 1, 1e9, &x))
			return -1;
		o->clock_ns = (uint64_t)x;
		return 0;
	case 'r':
		o->rules = v;
		return 0;
	case 'R':
		o->reload_rules = v;
		return 0;
	case 'E':
		return parse_num("--reload-every", v, 0.01, 3600, &o->reload_every);
	case 'g':
		o->gen_only = true;
		return 0;
	case 't':
		o->table_only = true;
		return 0;
	case 'j':
		o->json = true;
		return 0;
	case 'o':
		if (strcmp(v, "track") && strcmp(v, "lookup")) {
			fprintf(stderr, "ringwall bench: --table-op track or lookup, got '%s'\n", v);
			return -1;
		}
		o->table_lookup = !strcmp(v, "lookup");
		o->table_only = true;
		return 0;
	case 'k':
		/* ignore: what a NIC that verifies L4 checksums leaves to us */
		if (strcmp(v, "verify") && strcmp(v, "ignore")) {
			fprintf(stderr, "ringwall bench: --checksum verify or ignore, got '%s'\n", v);
			return -1;
		}
		o->checksum = !strcmp(v, "verify");
		return 0;
	}
	return -1;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{"profile", required_argument, NULL, 'p'},
		{"connections", required_argument, NULL, 'n'},
		{"capacity", required_argument, NULL, 'C'},
		{"packets", required_argument, NULL, 'P'},
		{"duration", required_argument, NULL, 'd'},
		{"interval", required_argument, NULL, 'i'},
		{"zipf", required_argument, NULL, 'z'},
		{"frame-size", required_argument, NULL, 'f'},
		{"workers", required_argument, NULL, 'w'},
		{"new", required_argument, NULL, 'N'},
		{"seed", required_argument, NULL, 's'},
		{"virtual-clock", required_argument, NULL, 'V'},
		{"rules", required_argument, NULL, 'r'},
		{"reload-rules", required_argument, NULL, 'R'},
		{"reload-every", required_argument, NULL, 'E'},
		{"gen-only", no_argument, NULL, 'g'},
		{"table-only", no_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"checksum", required_argument, NULL, 'k'},
		{"table-op", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct bench_opts){.conns = 1000, .frame_size = 64, .new_pct = 10, .seed = 1,
				 .duration = 5, .checksum = -1};
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			printf("%s", usage);
			exit(0);
		}
		if (c == '?' || set_opt(c, optarg, o)) {
			fprintf(stderr, "%s", usage);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ringwall bench: unexpected argument '%s'\n%s", argv[optind], usage);
		return 2;
	}
	if (o->reload_every > 0 && !o->rules) {
		fprintf(stderr, "ringwall bench: --reload-every needs --rules FILE\n");
		return 2;
	}
	if (o->table_only && (o->workers > 1 || o->profile != RW_GEN_ESTABLISHED || o->gen_only)) {
		fprintf(stderr, "ringwall bench: --table-only runs the established profile on one worker\n");
		return 2;
	}
	if (!o->reload_rules)
		o->reload_rules = o->rules;
	if (!o->capacity)
		/* mixed: room for the new flows to come and go beside the
		 * established ones, which are never evicted */
		o->capacity = o->profile == RW_GEN_MIXED ? o->conns + o->conns / 4 : o->conns;
	if (!o->workers)
		o->workers = 1;
	if (!o->interval)
		o->interval = o->reload_every > 0 ? RW_MIN(o->reload_every / 4, 0.25) : 1;
	return 0;
}

/* The gen: spec both ports get. */
static void gen_spec(const struct bench_opts *o, char *buf, size_t len)
{
	int n = snprintf(buf, len, "gen:%s,flows=%llu,zipf=%g,size=%u,new=%u,seed=%llu", profiles[o->profile],
			 (unsigned long long)o->conns, o->zipf, o->frame_size, o->new_pct,
			 (unsigned long long)o->seed);

	if (o->clock_ns && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ",clock=%llu", (unsigned long long)o->clock_ns);
}

/* Give cfg the two gen ports: replace the specs of the ports it declares,
 * or declare "inside" and "outside" when it declares none. */
static int set_ports(const struct bench_opts *o, struct rw_config *cfg, const char *name)
{
	char spec[256];

	if (cfg->nports != 0 && cfg->nports != 2) {
		fprintf(stderr, "ringwall bench: %s declares %u ports; bench needs 0 or 2\n", name,
			cfg->nports);
		return -1;
	}
	if (cfg->nports == 0) {
		snprintf(cfg->ports[0].name, sizeof(cfg->ports[0].name), "inside");
		snprintf(cfg->ports[1].name, sizeof(cfg->ports[1].name), "outside");
		cfg->nports = 2;
	}
	gen_spec(o, spec, sizeof(spec));
	for (unsigned i = 0; i < 2; i++) {
		free(cfg->ports[i].spec);
		cfg->ports[i].spec = strdup(spec);
		if (!cfg->ports[i].spec)
			return -1;
	}
	return 0;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n);
	fclose(f);
	buf[len] = 0;
	return buf;
}

/*
 * A rules file for bench may declare its ports (their specs are replaced)
 * or not: then its rules may still say "on inside" / "on outside", so a
 * file that fails alone is read again after the two gen ports. When that
 * fails too, the file is loaded once more alone, so that the messages
 * carry its own line numbers.
 */
static int load_rules(const struct bench_opts *o, const char *rules, struct rw_config *cfg)
{
	struct rw_diag quiet = {0}, loud = {.out = stderr};
	char spec[256], *body, *text;
	size_t len;
	int ret;

	if (!rw_config_load(rules, NULL, 0, cfg, &quiet))
		return 0;
	body = read_all(rules);
	if (!body)
		return rw_config_load(rules, NULL, 0, cfg, &loud);
	gen_spec(o, spec, sizeof(spec));
	len = strlen(body) + 2 * strlen(spec) + 64;
	text = malloc(len);
	if (!text) {
		free(body);
		return -1;
	}
	snprintf(text, len, "port inside \"%s\"\nport outside \"%s\"\n%s", spec, spec, body);
	free(body);
	ret = rw_config_parse(rules, text, NULL, 0, cfg, &quiet);
	free(text);
	if (ret)
		ret = rw_config_load(rules, NULL, 0, cfg, &loud);
	return ret;
}

int bench_config(const struct bench_opts *o, const char *rules, struct rw_config *cfg)
{
	struct rw_diag d = {.out = stderr};
	char text[1024], spec[256];
	int ret;

	if (rules) {
		ret = load_rules(o, rules, cfg);
	} else {
		gen_spec(o, spec, sizeof(spec));
		snprintf(text, sizeof(text), "port inside \"%s\"\nport outside \"%s\"\n%s", spec, spec,
			 builtin_policy);
		ret = rw_config_parse("built-in policy", text, NULL, 0, cfg, &d);
	}
	if (ret)
		return -1;
	if (set_ports(o, cfg, rules ? rules : "built-in policy")) {
		rw_config_free(cfg);
		return -1;
	}
	cfg->workers = o->workers;
	cfg->limit_states = o->capacity;
	if (o->checksum >= 0)
		cfg->verify_l4_csum = o->checksum;
	return 0;
}

/* Resident bytes of this process, hugetlbfs pages included. */
static uint64_t resident_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kb, total = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1 || sscanf(line, "HugetlbPages: %llu kB", &kb) == 1)
			total += kb;
	fclose(f);
	return total * 1024;
}

int rw_cmd_bench(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_result *r;
	struct rw_engine *e;
	struct rw_config cfg;
	char err[512];
	uint64_t rss0;
	int ret = parse_opts(argc, argv, &o);

	if (ret)
		return ret;
	if (bench_config(&o, o.rules, &cfg))
		return 1;
	e = calloc(1, sizeof(*e));
	r = calloc(1, sizeof(*r));
	if (!e || !r) {
		fprintf(stderr, "ringwall bench: out of memory\n");
		rw_config_free(&cfg);
		ret = 1;
		goto out_free;
	}
	r->capacity = o.capacity;
	r->nrules = cfg.nrules;
	rss0 = resident_bytes();
	if (rw_engine_init(e, &cfg, err, sizeof(err))) {
		fprintf(stderr, "ringwall bench: %s\n", err);
		ret = 1;
		goto out_free;
	}
	r->table_bytes = resident_bytes() - rss0;
	ret = bench_run(e, &o, r) ? 1 : 0;
	if (!ret) {
		if (o.json)
			bench_report_json(e, &o, r, stdout);
		else
			bench_report(e, &o, r, stdout);
	}
	rw_engine_fini(e);
out_free:
	free(r);
	free(e);
	return ret;
}
