/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the control commands: every input is a few request
 * lines (split at '\n', as many clients' lines in a row), each answered by
 * rw_ctl_handle, the function the control socket calls for one line. The
 * engine behind it is the one tests/unit/test_ctl.c uses: no ports, two
 * workers that do not run (their mailbox calls run on this thread), rules
 * and two tables from a small file, and three connections on each shard.
 * Each input starts from that file again (a reload, and the connections
 * made again, after any input that may have changed them), so an input
 * replays alone exactly as it ran.
 *
 * Besides the sanitizers' own checks: every reply is complete (not broken),
 * starts with "ok\n" or "error\n" as the return value says, an error says
 * why, and after the input the rule set still has counters, verdicts and a
 * classifier for every rule.
 *
 * Edits log each change to stderr; run with -close_fd_mask=2 (run-ctl does)
 * to keep libFuzzer's output readable: its own lines and the sanitizers'
 * reports still come out.
 *
 * Build and run: see fuzz/Makefile (make -C fuzz run-ctl).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl/internal.h"
#include "track/state.h"
#include "worker/ruleset.h"

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)

#define DIR "/tmp/ringwall-fuzz-ctl"
#define MAX_LINES 8

static const char conf_text[] =
	"set workers 2\n"
	"set limit states 1024\n"
	"table <admins> { 192.0.2.10, 2001:db8::10, !192.0.2.0/30 }\n"
	"table <empty> { }\n"
	"pass in proto tcp to port 80\n"
	"pass in from <admins>\n"
	"pass in inet6 proto ipv6-icmp icmp6-type { echoreq neighbrsol }\n"
	"block in log all\n";

static struct rw_engine eng;
static struct rw_ctl ctl;

/* A few tracked connections on each shard, so that "states" lists and
 * filters real entries: TCP and UDP over IPv4, TCP over IPv6. */
static void seed_states(void)
{
	uint64_t now = rw_now_ns();

	for (unsigned w = 0; w < eng.nworkers; w++)
		for (unsigned i = 0; i < 3; i++) {
			struct rw_pkt p = {.af = i == 2 ? RW_AF_INET6 : RW_AF_INET,
					   .proto = i == 1 ? RW_PROTO_UDP : RW_PROTO_TCP,
					   .flags = RW_PKT_L4, .sport = (uint16_t)(40000 + w),
					   .dport = i == 1 ? 53 : 80, .tcp_flags = RW_TH_SYN,
					   .tcp_seq = 1000, .tcp_win = 29200,
					   .tcp_wscale = RW_WSCALE_NONE};

			if (i == 2) {
				p.saddr[0] = p.daddr[0] = 0x20, p.saddr[1] = p.daddr[1] = 0x01;
				p.saddr[2] = p.daddr[2] = 0x0d, p.saddr[3] = p.daddr[3] = 0xb8;
			} else {
				p.saddr[10] = p.saddr[11] = p.daddr[10] = p.daddr[11] = 0xff;
				p.saddr[12] = p.daddr[12] = 192, p.saddr[14] = p.daddr[14] = 2;
			}
			p.saddr[15] = (uint8_t)(7 + w), p.daddr[15] = 80;
			rw_state_create(eng.workers[w].state, &p, (uint32_t)i, now);
		}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rw_diag d = {.out = stderr};
	struct rw_config cfg;
	char err[512] = "";
	FILE *f;

	(void)argc;
	(void)argv;
	mkdir(DIR, 0700);
	f = fopen(DIR "/fw.conf", "w");
	if (!f || fputs(conf_text, f) < 0 || fclose(f))
		abort();
	if (rw_config_load(DIR "/fw.conf", NULL, 0, &cfg, &d))
		abort();
	if (rw_engine_init(&eng, &cfg, err, sizeof(err))) {
		fprintf(stderr, "engine: %s\n", err);
		abort();
	}
	/* The server's state without its socket: rw_ctl_handle needs no more. */
	ctl.e = &eng;
	ctl.lfd = ctl.wake[0] = ctl.wake[1] = -1;
	ctl.config = DIR "/fw.conf";
	seed_states();
	return 0;
}

/* A reload costs milliseconds (the tables' lookup structures are large):
 * done only when the input before changed the rules (a new generation) or
 * may have changed a table (edited in place, same generation). */
static bool dirty = true;
static uint32_t clean_gen;

/* One request: the reply must be whole and say ok or error as ret does. */
static void ask(const char *line)
{
	struct rw_buf b = {0};
	int ret = rw_ctl_handle(&ctl, line, &b);

	REQUIRE(!b.broken);
	REQUIRE(b.p && b.len == strlen(b.p));
	if (ret == 0) {
		REQUIRE(!strncmp(b.p, "ok\n", 3));
		if ((strstr(line, "table") && !strstr(line, "show")) || strstr(line, "flush"))
			dirty = true;
	} else {
		REQUIRE(ret == -1);
		REQUIRE(!strncmp(b.p, "error\n", 6) && b.len > 7); /* says why */
	}
	rw_buf_free(&b);
}

static void check_ruleset(void)
{
	const struct rw_ruleset *rs = atomic_load(&eng.rs);

	REQUIRE(rs && rs->cls && rs->verdict && rs->ctr);
	REQUIRE(rs->ctr_stride >= rs->cfg.nrules);
	for (size_t i = 0; i < rs->cfg.nrules; i++)
		REQUIRE(rs->cfg.rules[i].text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *line, *save = NULL;
	unsigned n = 0;

	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if (dirty || atomic_load(&eng.rs)->gen != clean_gen) {
		ask("reload");
		clean_gen = atomic_load(&eng.rs)->gen;
		for (unsigned w = 0; w < eng.nworkers; w++)
			rw_state_flush(eng.workers[w].state);
		seed_states();
	}
	dirty = false;
	for (line = strtok_r(text, "\n", &save); line && n < MAX_LINES;
	     line = strtok_r(NULL, "\n", &save), n++)
		ask(line);
	check_ruleset();
	free(text);
	return 0;
}
