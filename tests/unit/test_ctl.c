/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control plane without root or traffic: an engine with no ports and
 * two (not running) workers, a control socket in a temporary directory,
 * and every command through rw_ctl_handle and through the socket. Workers
 * that do not run make the mailbox run calls on the caller's thread, which
 * is the path a parked worker takes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/buf.h"
#include "ctl/ctl.h"
#include "track/synproxy.h"
#include "track/track.h"
#include "t.h"

static char dir[32], conf[64], sock[64];

static void write_conf(const char *text)
{
	FILE *f = fopen(conf, "w");

	fputs(text, f);
	fclose(f);
}

static const char good[] = "set workers 2\n"
			   "pass in proto tcp to port 80\n"
			   "block in all\n";

/* One engine and control server for every test. */
static struct rw_engine *eng;
static struct rw_ctl *ctl;

static void setup(void)
{
	struct rw_config cfg;
	struct rw_diag d = {.out = stderr};
	struct rw_ctl_opts o = {0};
	char err[512] = "";

	if (eng)
		return;
	snprintf(dir, sizeof(dir), "/tmp/rwctl.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(conf, sizeof(conf), "%s/fw.conf", dir);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	write_conf(good);
	if (rw_config_load(conf, NULL, 0, &cfg, &d))
		abort();
	eng = calloc(1, sizeof(*eng));
	if (rw_engine_init(eng, &cfg, err, sizeof(err))) {
		printf("# engine: %s\n", err);
		abort();
	}
	o.path = sock;
	o.mode = 0600;
	o.config = conf;
	if (rw_ctl_open(&ctl, eng, &o, err, sizeof(err))) {
		printf("# ctl: %s\n", err);
		abort();
	}
}

/* The reply to line; *ok set from its status line. Caller frees. */
static char *ask(const char *line, int *ok)
{
	struct rw_buf b = {0};

	setup();
	*ok = rw_ctl_handle(ctl, line, &b) == 0;
	CHECK(!b.broken);
	CHECK(b.len > 0 && !strncmp(b.p, *ok ? "ok\n" : "error\n", *ok ? 3 : 6));
	return b.p;
}

TEST(socket_is_private)
{
	struct stat st;

	setup();
	CHECK(stat(sock, &st) == 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);
}

TEST(second_server_on_same_path_refused)
{
	struct rw_ctl_opts o = {.path = sock, .config = conf};
	struct rw_ctl *c2 = NULL;
	char err[512] = "";

	setup();
	CHECK(rw_ctl_start(ctl) == 0); /* a live server answers the probe */
	CHECK(rw_ctl_open(&c2, eng, &o, err, sizeof(err)) == -EADDRINUSE);
	CHECK(strstr(err, "another ringwall") != NULL);
	rw_ctl_stop(ctl);
}

TEST(path_not_a_socket_refused)
{
	char path[160], err[512] = "";
	struct rw_ctl_opts o = {.path = path, .config = conf};
	struct rw_ctl *c2 = NULL;

	setup();
	snprintf(path, sizeof(path), "%s/plain", dir);
	write_conf(good); /* any file */
	CHECK(fclose(fopen(path, "w")) == 0);
	CHECK(rw_ctl_open(&c2, eng, &o, err, sizeof(err)) == -EEXIST);
	CHECK(access(path, F_OK) == 0); /* not removed */
	unlink(path);
}

TEST(unknown_and_empty_requests)
{
	int ok;
	char *r = ask("frobnicate", &ok);

	CHECK(!ok && strstr(r, "unknown command 'frobnicate'"));
	free(r);
	r = ask("   ", &ok);
	CHECK(!ok && strstr(r, "empty request"));
	free(r);
	r = ask("nosuch --json", &ok);
	CHECK(!ok && strstr(r, "{\"error\":\"unknown command"));
	free(r);
	r = ask("stats extra", &ok);
	CHECK(!ok && strstr(r, "takes no arguments"));
	free(r);
}

TEST(status_text_and_json)
{
	int ok;
	char *r = ask("status", &ok);

	CHECK(ok && strstr(r, "workers 2:") && strstr(r, "ruleset generation 1, 2 rules"));
	free(r);
	r = ask("status --json", &ok);
	CHECK(ok && strstr(r, "\"ruleset_generation\":1") && strstr(r, "\"workers\":[{\"id\":0"));
	free(r);
}

TEST(stats_lists_every_reason_in_json)
{
	int ok;
	char *r = ask("--json stats", &ok);

	CHECK(ok);
	for (unsigned k = 1; k < RW_DROP_MAX; k++) {
		char key[64];

		snprintf(key, sizeof(key), "\"%s\":0", rw_reason_name(k));
		CHECK(strstr(r, key) != NULL);
	}
	free(r);
}

TEST(rules_show_lines_and_counters)
{
	int ok;
	char *r;

	setup();
	/* a worker counted 3 packets against rule 1 */
	rw_ruleset_ctr(atomic_load(&eng->rs), 1, 1)->packets = 3;
	r = ask("rules --json", &ok);
	CHECK(ok && strstr(r, "{\"index\":0,\"line\":2,\"packets\":0"));
	CHECK(strstr(r, "{\"index\":1,\"line\":3,\"packets\":3") != NULL);
	free(r);
}

TEST(states_filters_parse_and_refuse)
{
	int ok;
	char *r = ask("states proto tcp addr 10.0.0.0/8 port 80 limit 5", &ok);

	CHECK(ok && strstr(r, "0 states"));
	free(r);
	r = ask("states count --json", &ok);
	CHECK(ok && strstr(r, "{\"count\":0,"));
	free(r);
	static const char *bad[] = {
		"states proto", "states proto xyz", "states addr 10.0.0.0/33", "states addr ::1/129",
		"states addr nonsense", "states port 70000", "states limit -1", "states colour red",
		/* these once meant /0, every address (an empty, signed or cut-off length) */
		"states addr 10.0.0.0/", "states addr 10.0.0.0/-0", "states addr ::/+0",
		"states addr 10.0.0.0/00000000000000000000000000000000000000000000000000000000032",
	};
	for (size_t i = 0; i < RW_ARRAY_SIZE(bad); i++) {
		r = ask(bad[i], &ok);
		CHECK(!ok);
		free(r);
	}
}

/* A SYN from 192.0.2.7:sport to 192.0.2.80:80 made into state on shard
 * st; proxied, it is marked as the SYN proxy marks it (synproxy.c). */
static void tcp_state(struct rw_state *st, uint16_t sport, bool proxied)
{
	struct rw_pkt p = {.af = RW_AF_INET, .proto = RW_PROTO_TCP, .flags = RW_PKT_L4,
			   .sport = sport, .dport = 80, .tcp_flags = RW_TH_SYN, .tcp_seq = 1000,
			   .tcp_win = 29200, .tcp_wscale = RW_WSCALE_NONE};
	union rw_key k;
	unsigned side, klen;
	struct rw_conn *c;
	uint64_t now = rw_now_ns();

	p.saddr[10] = p.saddr[11] = p.daddr[10] = p.daddr[11] = 0xff;
	p.saddr[12] = p.daddr[12] = 192, p.saddr[14] = p.daddr[14] = 2;
	p.saddr[15] = 7, p.daddr[15] = 80;
	CHECK_EQ(rw_state_create(st, &p, 0, now), 0);
	klen = rw_key_from_pkt(&p, &k, &side);
	c = rw_state_lookup(st, &k, klen, now);
	CHECK(c != NULL);
	if (c && proxied) {
		c->flags |= RW_CF_PROXY;
		c->pkts[0] = 5;
		c->pkts[1] = 123456789; /* the sequence offset, not a count */
	}
}

TEST(states_marks_proxied_connections)
{
	int ok;
	char *r, *l;

	setup();
	tcp_state(eng->workers[0].state, 40000, true);
	tcp_state(eng->workers[1].state, 40001, false);
	r = ask("states proto tcp addr 192.0.2.80", &ok);
	CHECK(ok);
	/* the proxied line carries the mark, and no offset posing as a count */
	l = strstr(r, "192.0.2.7:40000 ->");
	CHECK(l && strstr(l, " proxy expires ") && strstr(l, "pkts 5/- ") &&
	      strstr(l, "pkts 5/- ") < strchr(l, '\n'));
	CHECK(!strstr(r, "123456789"));
	l = strstr(r, "192.0.2.7:40001 ->");
	CHECK(l && !memmem(l, (size_t)(strchr(l, '\n') - l), "proxy", 5) && strstr(l, "pkts 1/0 "));
	CHECK(strstr(r, "2 states"));
	free(r);
	r = ask("states port 40000 --json", &ok);
	CHECK(ok && strstr(r, "\"packets\":[5,null],\"proxy\":true,"));
	CHECK(!strstr(r, "123456789"));
	free(r);
	r = ask("states port 40001 --json", &ok);
	CHECK(ok && strstr(r, "\"packets\":[1,0],\"proxy\":false,"));
	free(r);
	/* leave the shards as the other tests expect them */
	r = ask("flush", &ok);
	CHECK(ok && strstr(r, "flushed 2 states"));
	free(r);
}

TEST(flush_runs_on_each_shard)
{
	int ok;
	char *r = ask("flush", &ok);

	CHECK(ok && strstr(r, "flushed 0 states"));
	free(r);
}

TEST(reload_broken_file_changes_nothing)
{
	int ok;
	char *r;

	write_conf("set workers 2\npass in proto tcp to port 80\npass in on nowhere all\n");
	r = ask("reload", &ok);
	CHECK(!ok && strstr(r, "fw.conf:3:12:") && strstr(r, "rules unchanged"));
	free(r);
	CHECK_EQ(atomic_load(&eng->rs)->gen, 1);
	write_conf(good);
}

TEST(reload_good_file_bumps_generation)
{
	int ok;
	char *r;

	setup();
	write_conf("set workers 2\npass in proto udp\n");
	r = ask("reload --json", &ok);
	CHECK(ok && strstr(r, "generation 2, 1 rules"));
	free(r);
	CHECK_EQ(atomic_load(&eng->rs)->cfg.nrules, 1);
	write_conf(good);
}

TEST(metrics_exposition)
{
	int ok;
	char *r = ask("metrics", &ok);

	CHECK(ok && strstr(r, "# TYPE ringwall_drops_total counter\n"));
	CHECK(strstr(r, "ringwall_drops_total{reason=\"tcp-window\"} 0\n") != NULL);
	CHECK(strstr(r, "ringwall_states{family=\"inet\"} 0\n") != NULL);
	CHECK(strstr(r, "ringwall_synproxy_events_total{event=\"synack\"} 0\n") != NULL);
	free(r);
}

/* The SYN proxy's counters, summed over the workers that have a proxy. */
TEST(metrics_synproxy_counters)
{
	struct rw_synproxy *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	int ok;
	char *r;

	a->st.synacks = 7, a->st.cookies_ok = 2, a->st.cookies_bad = 5;
	b->st.synacks = 4, b->st.completed = 2, b->st.no_room = 1;
	eng->workers[0].sp = a;
	eng->workers[1].sp = b;
	r = ask("metrics", &ok);
	eng->workers[0].sp = NULL;
	eng->workers[1].sp = NULL;
	CHECK(ok && strstr(r, "# TYPE ringwall_synproxy_events_total counter\n"));
	CHECK(strstr(r, "ringwall_synproxy_events_total{event=\"synack\"} 11\n") != NULL);
	CHECK(strstr(r, "ringwall_synproxy_events_total{event=\"cookie_ok\"} 2\n") != NULL);
	CHECK(strstr(r, "ringwall_synproxy_events_total{event=\"completed\"} 2\n") != NULL);
	CHECK(strstr(r, "ringwall_synproxy_events_total{event=\"cookie_bad\"} 5\n") != NULL);
	CHECK(strstr(r, "ringwall_synproxy_events_total{event=\"no_room\"} 1\n") != NULL);
	free(r);
	free(a);
	free(b);
}

TEST(json_escapes)
{
	struct rw_buf b = {0};

	rw_buf_json_str(&b, "a\"b\\c\nd\x01");
	CHECK_STR(b.p, "\"a\\\"b\\\\c\\nd\\u0001\"");
	rw_buf_free(&b);
}

/* The real socket: a request over the wire, and an over-long line. */
static char *roundtrip(const char *req, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	static char buf[65536];
	size_t got = 0;
	ssize_t n;

	struct timeval tv = {.tv_sec = 5};

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	/* a server that never answers fails the test instead of hanging it */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return NULL;
	}
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		/* the server may close on an over-long request: read what it said */
	}
	shutdown(fd, SHUT_WR);
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	close(fd);
	return buf;
}

TEST(over_the_socket)
{
	char *big = malloc(10000);
	char *r;

	setup();
	CHECK(rw_ctl_start(ctl) == 0);
	r = roundtrip("help\n", 5);
	CHECK(r && !strncmp(r, "ok\nstatus", 9));
	r = roundtrip("rules", 5); /* no newline: end of stream ends the line */
	CHECK(r && !strncmp(r, "ok\n# generation", 15));
	memset(big, 'x', 10000);
	r = roundtrip(big, 10000);
	CHECK(r && strstr(r, "error\nrequest is not one line"));
	rw_ctl_stop(ctl);
	free(big);
}

/* Live edits through the command table: positions, free rule text longer
 * than the argument limit, JSON, errors with the rule's column, tables. */
TEST(rule_and_table_edits)
{
	int ok;
	char *r;

	setup();
	write_conf("set workers 2\ntable <bad> { 192.0.2.1 }\npass in proto tcp to port 80\n"
		   "block in all\n");
	free(ask("reload", &ok));
	CHECK(ok);
	r = ask("rule add at 1 \"block in proto udp\"", &ok);
	CHECK(ok && strstr(r, "rule 1 added: generation") && strstr(r, "3 rules; visible in "));
	CHECK(strstr(r, "next reload from the file") != NULL);
	free(r);
	/* 20 words: more than a request's argument limit */
	r = ask("rule add after 2 block in inet proto tcp from { 10.0.0.1 10.0.0.2 10.0.0.3 "
		"10.0.0.4 10.0.0.5 10.0.0.6 } to port { 1 2 3 } --json", &ok);
	CHECK(ok && strstr(r, "{\"done\":\"added\",\"rule\":3,") && strstr(r, "\"rules\":4,"));
	free(r);
	r = ask("rules", &ok);
	CHECK(ok && strstr(r, "    1     0            0              0  block in proto udp\n"));
	CHECK(strstr(r, "10.0.0.6 } to port { 1 2 3 }\n") != NULL);
	free(r);
	r = ask("rule remove 1", &ok);
	CHECK(ok && strstr(r, "rule 1 removed: generation") && strstr(r, "3 rules"));
	free(r);
	static const char *bad[] = {
		"rule", "rule add", "rule add at", "rule add at x pass all", "rule add at 9 pass all",
		"rule add before -1 pass all", "rule remove", "rule remove 3", "rule remove 1 2",
		"rule frobnicate 1", "rule add pass in on nowhere all", "table", "table add bad",
		"table add nosuch 10.0.0.1", "table add bad 10.0.0.300", "table remove bad 10.0.0.1",
		"table show nosuch",
		/* once an append: the position after 2^32 - 2 is RW_EDIT_APPEND */
		"rule add after 4294967294 pass all",
	};
	for (size_t i = 0; i < RW_ARRAY_SIZE(bad); i++) {
		r = ask(bad[i], &ok);
		if (ok)
			printf("# accepted: %s\n", bad[i]);
		CHECK(!ok);
		free(r);
	}
	r = ask("rule add pass in on nowhere all --json", &ok);
	CHECK(!ok && strstr(r, "{\"error\":\"<ctl>:1:12: unknown port 'nowhere'"));
	free(r);
	CHECK_EQ(atomic_load(&eng->rs)->cfg.nrules, 3);
	r = ask("table add <bad> 10.1.0.0/16", &ok);
	CHECK(ok && strstr(r, "10.1.0.0/16 added: 2 entries; visible in "));
	free(r);
	r = ask("table add bad !10.1.2.3", &ok);
	CHECK(ok);
	free(r);
	r = ask("table show bad", &ok);
	CHECK(ok && !strcmp(r, "ok\n# table <bad>, 3 entries\n192.0.2.1/32\n10.1.0.0/16\n"
			    "!10.1.2.3/32\n"));
	free(r);
	r = ask("table remove bad 10.1.0.0/16 --json", &ok);
	CHECK(ok && strstr(r, "{\"done\":\"removed\",\"entries\":2,"));
	free(r);
	r = ask("table show bad --json", &ok);
	CHECK(ok && strstr(r, "{\"table\":\"bad\",\"count\":2,\"entries\":[\"192.0.2.1/32\","
			   "\"!10.1.2.3/32\"]}"));
	free(r);
	r = ask("table show", &ok);
	CHECK(ok && strstr(r, "<bad> 2 entries\n"));
	free(r);
	/* a reload reads the file again: the edits are gone */
	r = ask("reload", &ok);
	CHECK(ok && strstr(r, "2 rules"));
	free(r);
	r = ask("table show bad", &ok);
	CHECK(ok && strstr(r, "1 entries"));
	free(r);
	write_conf(good);
}

/* Shard i's limit in force and its ceiling, its adaptive bounds and one
 * timeout. */
static void check_shards(uint64_t limit, uint32_t astart, uint32_t aend, uint64_t est_ms)
{
	for (unsigned i = 0; i < eng->nworkers; i++) {
		struct rw_state *st = eng->workers[i].state;
		struct rw_state_stats ss;

		rw_state_stats(st, &ss);
		CHECK_EQ(ss.limit, limit);
		CHECK_EQ(ss.limit_max, 500000); /* 1,000,000 (the default) over 2 workers */
		CHECK_EQ(st->ctx.adaptive_start, astart);
		CHECK_EQ(st->ctx.adaptive_end, aend);
		CHECK_EQ(st->ctx.adaptive, aend > astart);
		CHECK_EQ(st->ctx.to_ms[RW_TO_TCP_ESTABLISHED], est_ms);
	}
}

/* A reload applies the state limit (up to what the tables were made for),
 * the adaptive bounds (each worker its share), the timeouts and the
 * checksum option;
 * a limit above the tables' size is kept at that size and the reply says
 * so. The workers here do not run, so the reload applies them itself; a
 * running worker does it at its next poll (rw_worker_poll). */
TEST(reload_applies_limits_and_adaptive_bounds)
{
	int ok;
	char *r;

	setup();
	check_shards(500000, 0, 0, 86400000);
	CHECK(eng->workers[0].parse.verify_l4_csum && eng->workers[1].parse.verify_l4_csum);
	write_conf("set workers 2\nset limit states 1000\nset checksum ignore\n"
		   "set timeout { adaptive.start 200, adaptive.end 800, tcp.established 60 }\n"
		   "pass in proto tcp to port 80\n");
	r = ask("reload", &ok);
	CHECK(ok && !strstr(r, "restart"));
	free(r);
	check_shards(500, 100, 400, 60000);
	CHECK(!eng->workers[0].parse.verify_l4_csum && !eng->workers[1].parse.verify_l4_csum);
	write_conf("set workers 2\nset limit states 4000000\npass in proto tcp to port 80\n");
	r = ask("reload", &ok);
	CHECK(ok && strstr(r, "set limit states 4000000 is above the 1000000") &&
	      strstr(r, "until a restart"));
	free(r);
	check_shards(500000, 0, 0, 86400000);
	write_conf(good);
	r = ask("reload", &ok);
	CHECK(ok);
	free(r);
	check_shards(500000, 0, 0, 86400000);
	CHECK(eng->workers[0].parse.verify_l4_csum && eng->workers[1].parse.verify_l4_csum);
}

/* The same with running workers: each applies the new set's limits and
 * timeouts on its own thread before it announces the generation, so they
 * are in force when rw_engine_reload returns. */
TEST(running_workers_apply_a_reload_before_announcing_it)
{
	static const char a[] = "set workers 2\npass in proto tcp\n";
	static const char b[] = "set workers 2\nset limit states 3000\n"
				"set timeout { adaptive.start 1000, adaptive.end 2000, tcp.established 90 }\n"
				"pass in proto udp\n";
	struct rw_diag d = {.out = stderr};
	struct rw_engine *e2 = calloc(1, sizeof(*e2));
	struct rw_config ca, cb;
	char err[512] = "";

	CHECK(e2 != NULL);
	CHECK_EQ(rw_config_parse("a.conf", a, NULL, 0, &ca, &d), 0);
	CHECK_EQ(rw_config_parse("b.conf", b, NULL, 0, &cb, &d), 0);
	if (!e2 || rw_engine_init(e2, &ca, err, sizeof(err))) {
		printf("# engine: %s\n", err);
		CHECK(0);
		free(e2);
		return;
	}
	CHECK_EQ(rw_engine_start(e2), 0);
	usleep(20000);
	CHECK(e2->workers[0].running && e2->workers[1].running);
	CHECK_EQ(rw_engine_reload(e2, &cb, err, sizeof(err)), 0);
	for (unsigned i = 0; i < 2; i++) {
		struct rw_state *st = e2->workers[i].state;
		struct rw_state_stats ss;

		rw_state_stats(st, &ss);
		CHECK_EQ(ss.limit, 1500);
		CHECK_EQ(st->ctx.adaptive_start, 500);
		CHECK_EQ(st->ctx.adaptive_end, 1000);
		CHECK_EQ(st->ctx.to_ms[RW_TO_TCP_ESTABLISHED], 90000);
		CHECK_EQ(e2->workers[i].cfg_gen, 2);
	}
	atomic_store(&e2->stop, true);
	rw_engine_join(e2);
	rw_engine_fini(e2);
	free(e2);
}

TEST(zz_close_removes_socket)
{
	setup();
	rw_ctl_close(ctl);
	CHECK(access(sock, F_OK) != 0);
	rw_engine_fini(eng);
	free(eng);
	unlink(conf);
	rmdir(dir);
}
