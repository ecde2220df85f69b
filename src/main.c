/* SPDX-License-Identifier: BSD-2-Clause */
/* ringwall: the command table. Each command lives with its subsystem. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "classify/cli.h"
#include "ctl/ctl.h"
#include "ctl/privs.h"
#include "rules/config.h"
#include "worker/engine.h"

#define RW_VERSION "0.1"

static volatile sig_atomic_t got_stop, got_hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

struct common_opts {
	const char *config;
	struct rw_define defs[64];
	size_t ndefs;
	bool json;
	bool quiet;
	const char *socket;  /* run -s PATH: control socket */
	const char *user;    /* run -u USER: user to become after set-up */
};

static int add_define(struct common_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg) {
		fprintf(stderr, "ringwall: -D needs name=value, got '%s'\n", arg);
		return -1;
	}
	if (o->ndefs == RW_ARRAY_SIZE(o->defs)) {
		fprintf(stderr, "ringwall: too many -D definitions\n");
		return -1;
	}
	*eq = 0;
	o->defs[o->ndefs++] = (struct rw_define){arg, eq + 1};
	return 0;
}

/* -c FILE, -D name=value, --json, -q; returns 0 or an exit status. */
static int parse_common(int argc, char **argv, struct common_opts *o, const char *usage)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"define", required_argument, NULL, 'D'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"socket", required_argument, NULL, 's'},
		{"user", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:D:qhs:u:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'D':
			if (add_define(o, optarg))
				return 2;
			break;
		case 'j':
			o->json = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'h':
			printf("%s", usage);
			exit(0);
		default:
			fprintf(stderr, "%s", usage);
			return 2;
		}
	}
	if (!o->config || optind != argc) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	return 0;
}

static int load(const struct common_opts *o, struct rw_config *cfg)
{
	struct rw_diag d = {.out = stderr};

	return rw_config_load(o->config, o->defs, o->ndefs, cfg, &d);
}

static int cmd_check(int argc, char **argv)
{
	static const char usage[] = "usage: ringwall check -c FILE [-D name=value]...\n";
	struct common_opts o = {0};
	struct rw_config cfg;
	int ret = parse_common(argc, argv, &o, usage);

	if (ret)
		return ret;
	if (load(&o, &cfg))
		return 1;
	if (!o.quiet)
		printf("%s: OK (%zu rules, %zu tuples, %zu tables, %u ports)\n", o.config, cfg.nrules,
		       cfg.ncrules, cfg.ntables, cfg.nports);
	rw_config_free(&cfg);
	return 0;
}

static void reload(struct rw_ctl *ctl)
{
	char msg[8192];

	rw_ctl_reload(ctl, msg, sizeof(msg));
	fprintf(stderr, "ringwall: SIGHUP: %s\n", msg);
}

/* Live mode: the control socket, the privilege drop, then the threads
 * (in that order: see src/ctl/privs.h), and the signal loop. */
static int run_live(struct rw_engine *e, const struct common_opts *o, const char *sock)
{
	struct rw_ctl_opts co = {
		.path = sock, .mode = 0600, .config = o->config, .defs = o->defs, .ndefs = o->ndefs,
	};
	struct rw_ctl *ctl = NULL;
	char msg[512] = "";
	int ret;

	ret = rw_ctl_open(&ctl, e, &co, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "ringwall: %s\n", msg[0] ? msg : strerror(-ret));
		return ret;
	}
	ret = rw_privs_drop(o->user, msg, sizeof(msg));
	fprintf(stderr, "ringwall: %s\n", msg);
	if (!ret)
		ret = rw_engine_start(e);
	if (!ret && rw_ctl_start(ctl))
		fprintf(stderr, "ringwall: control thread did not start; control socket unserved\n");
	if (!ret)
		fprintf(stderr, "ringwall: running: %u workers, ports %s %s, control socket %s\n",
			e->nworkers, e->ports[0].name, e->ports[1].name, sock);
	while (!ret && !got_stop && !rw_engine_done(e)) {
		usleep(20000);
		if (got_hup) {
			got_hup = 0;
			reload(ctl);
		}
	}
	atomic_store(&e->stop, true);
	rw_ctl_stop(ctl);
	rw_engine_join(e);
	/* Shutdown undoes set-up: interface settings, the socket file. */
	rw_privs_raise_exit();
	rw_ctl_close(ctl);
	return ret;
}

static int cmd_run(int argc, char **argv)
{
	static const char usage[] = "usage: ringwall run -c FILE [-D name=value]... [-s SOCKET] [-u USER] [-q]\n";
	struct common_opts o = {0};
	struct rw_engine *e;
	struct rw_config cfg;
	char err[512], sock[4096];
	int ret = parse_common(argc, argv, &o, usage);
	uint64_t t0;

	if (ret)
		return ret;
	if (load(&o, &cfg))
		return 1;
	if (cfg.nports != 2) {
		fprintf(stderr, "ringwall: %s: a bridge needs exactly two ports (%u declared)\n", o.config,
			cfg.nports);
		rw_config_free(&cfg);
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s",
		 o.socket ? o.socket : cfg.control_socket ? cfg.control_socket : RW_CTL_DEFAULT_SOCKET);
	e = calloc(1, sizeof(*e));
	if (!e)
		return 1;
	if (rw_engine_init(e, &cfg, err, sizeof(err))) {
		fprintf(stderr, "ringwall: %s\n", err);
		free(e);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	t0 = rw_now_ns();
	if (e->offline) {
		ret = rw_engine_run(e);
	} else {
		ret = run_live(e, &o, sock);
	}
	if (!o.quiet) {
		double s = (double)(rw_now_ns() - t0) / 1e9;
		struct rw_worker_stats st;
		uint64_t pkts = 0;

		rw_engine_sum_stats(e, &st);
		for (unsigned i = 0; i < e->nports; i++)
			pkts += st.port[i].rx_pkts;
		printf("ringwall: %s after %.3f s, %llu packets (%.0f packets/s)\n",
		       e->offline ? "end of input" : "stopped", s, (unsigned long long)pkts,
		       s > 0 ? (double)pkts / s : 0.0);
		rw_engine_print_summary(e, stdout);
	}
	rw_engine_fini(e);
	free(e);
	return ret ? 1 : 0;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("ringwall %s\n", RW_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"run", cmd_run, "run -c FILE         run the firewall FILE describes"},
	{"check", cmd_check, "check -c FILE       validate a configuration (FILE:LINE:COL: errors)"},
	{"bench", rw_cmd_bench, "bench [--profile P] [--connections N] ...  the worker fed by an in-memory generator"},
	{"classify", rw_cmd_classify, "classify --rules R --trace T [--bench]  ClassBench first-match lookups"},
	{"version", cmd_version, "version             print the version"},
	{"help", cmd_help, "help                this list"},
};

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: ringwall COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < RW_ARRAY_SIZE(commands); i++)
		printf("  %s\n", commands[i].help);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cmd_help(0, NULL);
		return 2;
	}
	for (size_t i = 0; i < RW_ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return cmd_help(0, NULL);
	fprintf(stderr, "ringwall: unknown command '%s' (try 'ringwall help')\n", argv[1]);
	return 2;
}
