/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the configuration parser: every input is the text of
 * one configuration file (as rw_config_load would read it), parsed with
 * rw_config_parse and, when it parses, built into what the engine runs: the
 * rule set with its tables and classifier (rw_ruleset_build, no ports and
 * no root needed). Besides the sanitizers' own checks:
 *
 *  - a rejected file must say why (an error counted, a first message);
 *  - an accepted one must hold tuples that point at real rules and tables,
 *    in rule order (the classifier's first match relies on it);
 *  - every rule's listing text (what "ringwallctl rules" shows) must parse
 *    back, through the live rule-add path (rw_config_parse_rule), into the
 *    same tuples: a listing that means something else is a silently wrong
 *    rule the day someone pastes it back;
 *  - the built classifier answers a lookup with a rule index or -1.
 *
 * Tables named "file" are read relative to DIR below, where the
 * initialiser puts a small table file (bogons.txt, and example-bogons.txt
 * for tests/rules/example.conf).
 *
 * Build and run: see fuzz/Makefile (make -C fuzz run-config).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "classify/classify.h"
#include "pkt/pkt.h"
#include "rules/config.h"
#include "worker/ruleset.h"

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)

#define DIR "/tmp/ringwall-fuzz-config"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const names[] = {DIR "/bogons.txt", DIR "/example-bogons.txt"};

	(void)argc;
	(void)argv;
	mkdir(DIR, 0700);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		FILE *f = fopen(names[i], "w");

		if (!f)
			abort();
		fputs("# a table file\n0.0.0.0/8 10.0.0.0/8\n!10.1.0.0/16\n2001:db8::/32\n", f);
		fclose(f);
	}
	return 0;
}

static bool same_tuple(const struct rw_crule *a, const struct rw_crule *b)
{
	return a->in_ports == b->in_ports && a->af == b->af && a->proto == b->proto &&
	       a->proto_mask == b->proto_mask && a->tcp_flags == b->tcp_flags &&
	       a->tcp_flags_mask == b->tcp_flags_mask && a->src_table == b->src_table &&
	       a->dst_table == b->dst_table && a->src_table_neg == b->src_table_neg &&
	       a->dst_table_neg == b->dst_table_neg && !memcmp(a->src_lo, b->src_lo, 16) &&
	       !memcmp(a->src_hi, b->src_hi, 16) && !memcmp(a->dst_lo, b->dst_lo, 16) &&
	       !memcmp(a->dst_hi, b->dst_hi, 16) && a->sport_lo == b->sport_lo &&
	       a->sport_hi == b->sport_hi && a->dport_lo == b->dport_lo &&
	       a->dport_hi == b->dport_hi;
}

static void check_tuples(const struct rw_config *cfg)
{
	for (size_t i = 0; i < cfg->ncrules; i++) {
		const struct rw_crule *c = &cfg->crules[i];

		REQUIRE(c->rule < cfg->nrules);
		REQUIRE(!i || cfg->crules[i - 1].rule <= c->rule);
		REQUIRE(c->af == RW_AF_INET || c->af == RW_AF_INET6);
		REQUIRE(c->src_table >= -1 && c->src_table < (int)cfg->ntables);
		REQUIRE(c->dst_table >= -1 && c->dst_table < (int)cfg->ntables);
		REQUIRE(c->sport_lo <= c->sport_hi && c->dport_lo <= c->dport_hi);
		REQUIRE(memcmp(c->src_lo, c->src_hi, 16) <= 0);
		REQUIRE(memcmp(c->dst_lo, c->dst_hi, 16) <= 0);
		REQUIRE(c->in_ports);
	}
}

/* Rule r's listing text, parsed back as a live "rule add", gives the
 * tuples the file gave it (the file's tuples of rule r are at *pos). */
static void check_listing(const struct rw_config *cfg, uint32_t r, size_t *pos)
{
	struct rw_rule one;
	struct rw_crule *t = NULL;
	size_t n = 0, start = *pos;
	char err[512];

	while (*pos < cfg->ncrules && cfg->crules[*pos].rule == r)
		(*pos)++;
	REQUIRE(cfg->rules[r].text);
	if (rw_config_parse_rule(cfg, cfg->rules[r].text, &one, &t, &n, err, sizeof(err))) {
		fprintf(stderr, "rule %u listing '%s' does not parse back: %s\n", r,
			cfg->rules[r].text, err);
		__builtin_trap();
	}
	REQUIRE(n == *pos - start);
	for (size_t i = 0; i < n; i++)
		REQUIRE(same_tuple(&t[i], &cfg->crules[start + i]));
	REQUIRE(one.action == cfg->rules[r].action && one.af == cfg->rules[r].af &&
		one.in_ports == cfg->rules[r].in_ports);
	free(t);
	rw_config_rule_free(&one);
}

static void check_build(struct rw_config *cfg, const uint8_t *data, size_t size)
{
	struct rw_ckey key = {.af = RW_AF_INET, .proto = 6, .in_port = 0};
	struct rw_ruleset *rs;
	size_t nrules = cfg->nrules;
	char err[512];
	int32_t hit;

	/* Some key bits from the input, so lookups are not all alike. */
	memcpy(key.src, data, size < 16 ? size : 16);
	key.src[10] = key.src[11] = 0xff;
	memset(key.src, 0, 10);
	key.dport = size > 17 ? (uint16_t)(data[16] << 8 | data[17]) : 80;
	rs = rw_ruleset_build(cfg, 1, 1, err, sizeof(err));
	if (!rs)
		return; /* out of memory for a huge set: reported, not a crash */
	hit = rw_classify_one(rs->cls, &key);
	REQUIRE(hit >= -1 && hit < (int32_t)nrules);
	rw_ruleset_free(rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rw_diag d = {.out = NULL};
	struct rw_config cfg;
	size_t pos = 0;
	char *text;

	if (size > 65536)
		return 0;
	/* rw_config_load refuses a file with NUL bytes; the parser sees text. */
	if (memchr(data, '\0', size))
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if (rw_config_parse(DIR "/fw.conf", text, NULL, 0, &cfg, &d)) {
		REQUIRE(d.errors > 0 && d.first[0]);
		free(text);
		return 0;
	}
	REQUIRE(d.errors == 0);
	check_tuples(&cfg);
	for (uint32_t r = 0; r < cfg.nrules; r++)
		check_listing(&cfg, r, &pos);
	REQUIRE(pos == cfg.ncrules);
	check_build(&cfg, data, size);
	rw_config_free(&cfg);
	free(text);
	return 0;
}
