/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control commands, as a table. Each reads the engine the way its
 * data allows: counters are per-worker words summed here (a few packets
 * old at worst, never torn); the rule set is read under the engine's
 * reload lock, since only a reload frees one; anything in a worker's
 * connection shard is done by that worker through its mailbox (states.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "privs.h"

#define U(x) ((unsigned long long)(x))

static const struct rw_ctl_cmd commands[] = {
	{"status", rw_ctl_cmd_status, "status                 uptime, workers, ports, rule set, privileges"},
	{"stats", rw_ctl_cmd_stats, "stats                  packets and bytes per port and worker, drops by reason"},
	{"states", rw_ctl_cmd_states, "states [count] [proto P] [addr A] [port N] [limit N]   tracked connections"},
	{"rules", rw_ctl_cmd_rules, "rules                  each rule with its line and packet/byte counters"},
	{"reload", rw_ctl_cmd_reload, "reload                 re-read the configuration; errors leave the rules as they are"},
	{"rule", rw_ctl_cmd_rule, "rule add [at N|before N|after N] \"RULE\" | rule remove N   edit the running rules (until the next reload)", true},
	{"table", rw_ctl_cmd_table, "table add|remove NAME [!]ADDR[/LEN] | table show [NAME]   edit or list a table (until the next reload)"},
	{"flush", rw_ctl_cmd_flush, "flush                  forget every tracked connection"},
	{"metrics", rw_ctl_cmd_metrics, "metrics                Prometheus text exposition"},
	{"help", rw_ctl_cmd_help, "help                   this list"},
};

const struct rw_ctl_cmd *rw_ctl_find(const char *name)
{
	for (size_t i = 0; i < RW_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int no_args(const struct rw_ctl_req *r, struct rw_buf *out)
{
	if (!r->argc)
		return 0;
	rw_buf_printf(out, "%s takes no arguments", r->cmd);
	return -1;
}

int rw_ctl_cmd_help(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	(void)c;
	if (r->json) {
		rw_buf_puts(out, "{\"commands\":[");
		for (size_t i = 0; i < RW_ARRAY_SIZE(commands); i++) {
			rw_buf_json_str(out, commands[i].name);
			rw_buf_puts(out, ",");
		}
		rw_buf_uncomma(out);
		rw_buf_puts(out, "]}\n");
		return 0;
	}
	for (size_t i = 0; i < RW_ARRAY_SIZE(commands); i++)
		rw_buf_printf(out, "%s\n", commands[i].help);
	return 0;
}

/* ---- status ---- */

int rw_ctl_cmd_status(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	struct rw_engine *e = c->e;
	double up = (double)(rw_now_ns() - e->start_ns) / 1e9;
	char privs[256];
	const struct rw_ruleset *rs;

	if (no_args(r, out))
		return -1;
	rw_privs_describe(privs, sizeof(privs));
	pthread_mutex_lock(&e->reload_lock);
	rs = atomic_load(&e->rs);
	if (r->json) {
		rw_buf_printf(out, "{\"pid\":%d,\"uptime_s\":%.3f,\"config\":", (int)getpid(), up);
		rw_buf_json_str(out, c->config);
		rw_buf_printf(out, ",\"workers\":[");
		for (unsigned i = 0; i < e->nworkers; i++)
			rw_buf_printf(out, "{\"id\":%u,\"cpu\":%d},", i, e->workers[i].cpu);
		rw_buf_uncomma(out);
		rw_buf_puts(out, "],\"ports\":[");
		for (unsigned i = 0; i < e->nports; i++) {
			rw_buf_puts(out, "{\"name\":");
			rw_buf_json_str(out, e->ports[i].name);
			rw_buf_puts(out, ",\"spec\":");
			rw_buf_json_str(out, i < rs->cfg.nports ? rs->cfg.ports[i].spec : "");
			rw_buf_printf(out, ",\"queues\":%u},", e->ports[i].nqueues);
		}
		rw_buf_uncomma(out);
		rw_buf_printf(out, "],\"ruleset_generation\":%u,\"rules\":%zu,\"reloads\":%u,"
			      "\"reload_failures\":%u,\"privileges\":",
			      rs->gen, rs->cfg.nrules, atomic_load(&c->reloads),
			      atomic_load(&c->reload_failures));
		rw_buf_json_str(out, privs);
		rw_buf_puts(out, "}\n");
	} else {
		rw_buf_printf(out, "ringwall pid %d, up %.1f s\nconfig %s\n", (int)getpid(), up,
			      c->config ? c->config : "-");
		rw_buf_printf(out, "workers %u:", e->nworkers);
		for (unsigned i = 0; i < e->nworkers; i++)
			rw_buf_printf(out, " %u@cpu%d", i, e->workers[i].cpu);
		rw_buf_puts(out, "\n");
		for (unsigned i = 0; i < e->nports; i++)
			rw_buf_printf(out, "port %s %s (%u queues)\n", e->ports[i].name,
				      i < rs->cfg.nports ? rs->cfg.ports[i].spec : "", e->ports[i].nqueues);
		rw_buf_printf(out, "ruleset generation %u, %zu rules, reloads %u (%u failed)\n", rs->gen,
			      rs->cfg.nrules, atomic_load(&c->reloads), atomic_load(&c->reload_failures));
		rw_buf_printf(out, "privileges %s\n", privs);
	}
	pthread_mutex_unlock(&e->reload_lock);
	return 0;
}

/* ---- stats ---- */

struct worker_sum {
	uint64_t in_pkts, in_bytes, out_pkts, out_bytes, drop_pkts;
};

static struct worker_sum sum_worker(const struct rw_engine *e, const struct rw_worker_stats *s)
{
	struct worker_sum t = {0};

	for (unsigned k = 0; k < e->nports; k++) {
		t.in_pkts += s->port[k].rx_pkts;
		t.in_bytes += s->port[k].rx_bytes;
		t.out_pkts += s->port[k].tx_pkts;
		t.out_bytes += s->port[k].tx_bytes;
		t.drop_pkts += s->port[k].drop_pkts;
	}
	return t;
}

static void stats_json(const struct rw_engine *e, const struct rw_worker_stats *st,
		       const struct rw_state_stats *ss, struct rw_buf *out)
{
	rw_buf_puts(out, "{\"ports\":[");
	for (unsigned i = 0; i < e->nports; i++) {
		const struct rw_port_stats *p = &st->port[i];
		struct rw_port_kstats k;

		rw_port_kstats(&e->ports[i], &k);
		rw_buf_puts(out, "{\"name\":");
		rw_buf_json_str(out, e->ports[i].name);
		rw_buf_printf(out, ",\"in_pkts\":%llu,\"in_bytes\":%llu,\"out_pkts\":%llu,\"out_bytes\":%llu,"
			      "\"drop_pkts\":%llu,\"drop_bytes\":%llu,",
			      U(p->rx_pkts), U(p->rx_bytes), U(p->tx_pkts), U(p->tx_bytes),
			      U(p->drop_pkts), U(p->drop_bytes));
		rw_buf_printf(out, "\"kernel\":{\"rx_drops\":%llu,\"rx_ring_full\":%llu,\"rx_freezes\":%llu,"
			      "\"fill_empty\":%llu,\"tx_errors\":%llu}},",
			      U(k.rx_drops), U(k.rx_ring_full), U(k.rx_freezes), U(k.fill_empty),
			      U(k.tx_errors));
	}
	rw_buf_uncomma(out);
	rw_buf_puts(out, "],\"workers\":[");
	for (unsigned i = 0; i < e->nworkers; i++) {
		const struct rw_worker_stats *w = &e->workers[i].st;
		struct worker_sum t = sum_worker(e, w);

		rw_buf_printf(out, "{\"id\":%u,\"cpu\":%d,\"in_pkts\":%llu,\"in_bytes\":%llu,\"out_pkts\":%llu,"
			      "\"out_bytes\":%llu,\"drop_pkts\":%llu,\"bursts\":%llu,\"state_hits\":%llu,"
			      "\"state_misses\":%llu},",
			      i, e->workers[i].cpu, U(t.in_pkts), U(t.in_bytes), U(t.out_pkts),
			      U(t.out_bytes), U(t.drop_pkts), U(w->bursts), U(w->state_hits),
			      U(w->state_misses));
	}
	rw_buf_uncomma(out);
	rw_buf_puts(out, "],\"drops\":{");
	for (unsigned r = 1; r < RW_DROP_MAX; r++)
		rw_buf_printf(out, "\"%s\":%llu,", rw_reason_name(r), U(st->drops[r]));
	rw_buf_uncomma(out);
	rw_buf_printf(out, "},\"logged\":%llu,\"states\":{\"current\":%llu,\"current_v4\":%llu,"
		      "\"current_v6\":%llu,\"created\":%llu,\"expired\":%llu,\"removed\":%llu,"
		      "\"evicted\":%llu,\"refused\":%llu}}\n",
		      U(st->logged), U(ss->current), U(ss->current_v4), U(ss->current_v6),
		      U(ss->created), U(ss->expired), U(ss->removed), U(ss->evicted), U(ss->refused));
}

static void stats_text(const struct rw_engine *e, const struct rw_worker_stats *st,
		       const struct rw_state_stats *ss, struct rw_buf *out)
{
	bool any = false;

	rw_buf_printf(out, "%-10s %12s %14s %12s %14s %10s %12s\n", "port", "in-pkts", "in-bytes",
		      "out-pkts", "out-bytes", "drop-pkts", "drop-bytes");
	for (unsigned i = 0; i < e->nports; i++) {
		const struct rw_port_stats *p = &st->port[i];

		rw_buf_printf(out, "%-10s %12llu %14llu %12llu %14llu %10llu %12llu\n", e->ports[i].name,
			      U(p->rx_pkts), U(p->rx_bytes), U(p->tx_pkts), U(p->tx_bytes),
			      U(p->drop_pkts), U(p->drop_bytes));
	}
	rw_buf_printf(out, "\n%-10s %5s %12s %12s %10s %12s %12s\n", "worker", "cpu", "in-pkts",
		      "out-pkts", "drop-pkts", "state-hits", "state-miss");
	for (unsigned i = 0; i < e->nworkers; i++) {
		const struct rw_worker_stats *w = &e->workers[i].st;
		struct worker_sum t = sum_worker(e, w);

		rw_buf_printf(out, "%-10u %5d %12llu %12llu %10llu %12llu %12llu\n", i, e->workers[i].cpu,
			      U(t.in_pkts), U(t.out_pkts), U(t.drop_pkts), U(w->state_hits),
			      U(w->state_misses));
	}
	rw_buf_puts(out, "\ndrops by reason:");
	for (unsigned r = 1; r < RW_DROP_MAX; r++)
		if (st->drops[r]) {
			rw_buf_printf(out, "\n  %-18s %12llu  %s", rw_reason_name(r), U(st->drops[r]),
				      rw_reason_text(r));
			any = true;
		}
	rw_buf_puts(out, any ? "\n" : " none\n");
	any = false;
	rw_buf_puts(out, "kernel drops (below ringwall):");
	for (unsigned i = 0; i < e->nports; i++) {
		struct rw_port_kstats k;

		if (!rw_port_kstats(&e->ports[i], &k))
			continue;
		rw_buf_printf(out, "\n  %-10s rx %llu rx-ring-full %llu rx-freeze %llu fill-empty %llu tx-error %llu",
			      e->ports[i].name, U(k.rx_drops), U(k.rx_ring_full), U(k.rx_freezes),
			      U(k.fill_empty), U(k.tx_errors));
		any = true;
	}
	rw_buf_puts(out, any ? "\n" : " none\n");
	rw_buf_printf(out, "\nstates: current %llu (v4 %llu, v6 %llu), created %llu, expired %llu, "
		      "removed %llu, evicted %llu, refused %llu\n",
		      U(ss->current), U(ss->current_v4), U(ss->current_v6), U(ss->created),
		      U(ss->expired), U(ss->removed), U(ss->evicted), U(ss->refused));
	if (st->logged)
		rw_buf_printf(out, "logged %llu\n", U(st->logged));
}

int rw_ctl_cmd_stats(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	struct rw_worker_stats st;
	struct rw_state_stats ss;

	if (no_args(r, out))
		return -1;
	rw_engine_sum_stats(c->e, &st);
	/* The shard's counters are plain words too; a racy read is at worst
	 * one update old. */
	rw_engine_sum_state(c->e, &ss);
	if (r->json)
		stats_json(c->e, &st, &ss, out);
	else
		stats_text(c->e, &st, &ss, out);
	return 0;
}

/* ---- rules ---- */

int rw_ctl_cmd_rules(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	const struct rw_ruleset *rs;

	if (no_args(r, out))
		return -1;
	pthread_mutex_lock(&c->e->reload_lock);
	rs = atomic_load(&c->e->rs);
	if (r->json)
		rw_buf_printf(out, "{\"generation\":%u,\"rules\":[", rs->gen);
	else
		rw_buf_printf(out, "# generation %u, %zu rules, default %s\n%5s %5s %12s %14s  %s\n",
			      rs->gen, rs->cfg.nrules,
			      rs->cfg.default_action == RW_ACT_PASS ? "pass" : "block", "rule",
			      "line", "packets", "bytes", "text");
	for (size_t i = 0; i < rs->cfg.nrules; i++) {
		struct rw_rule_ctr t = rw_ruleset_rule_total(rs, (uint32_t)i);
		const struct rw_rule *ru = &rs->cfg.rules[i];

		if (r->json) {
			rw_buf_printf(out, "{\"index\":%zu,\"line\":%u,\"packets\":%llu,\"bytes\":%llu,\"text\":",
				      i, ru->line, U(t.packets), U(t.bytes));
			rw_buf_json_str(out, ru->text);
			rw_buf_puts(out, "},");
		} else {
			rw_buf_printf(out, "%5zu %5u %12llu %14llu  %s\n", i, ru->line, U(t.packets),
				      U(t.bytes), ru->text ? ru->text : "");
		}
	}
	if (r->json) {
		rw_buf_uncomma(out);
		rw_buf_printf(out, "],\"default\":\"%s\"}\n",
			      rs->cfg.default_action == RW_ACT_PASS ? "pass" : "block");
	}
	pthread_mutex_unlock(&c->e->reload_lock);
	return 0;
}

/* ---- reload ---- */

int rw_ctl_reload(struct rw_ctl *c, char *msg, size_t msglen)
{
	struct rw_config cfg;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	struct rw_diag d = {.out = m};
	int ret;

	if (!m) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	rw_privs_raise_read();
	ret = rw_config_load(c->config, c->defs, c->ndefs, &cfg, &d);
	rw_privs_lower();
	fclose(m);
	if (ret) {
		snprintf(msg, msglen, "%s%s: rejected, rules unchanged",
			 text && *text ? text : (d.first[0] ? d.first : ""), c->config);
	} else if (rw_engine_reload(c->e, &cfg, msg, msglen)) {
		size_t n = strlen(msg);
		snprintf(msg + n, msglen - n, "; rules unchanged");
		ret = -1;
	} else {
		const struct rw_ruleset *rs;

		pthread_mutex_lock(&c->e->reload_lock);
		rs = atomic_load(&c->e->rs);
		uint64_t max = rw_engine_states_max(c->e);
		int n = snprintf(msg, msglen, "reloaded %s: generation %u, %zu rules", c->config, rs->gen,
				 rs->cfg.nrules);

		/* applied as far as it can be: say where it could not */
		if (rs->cfg.limit_states > max && n > 0 && (size_t)n < msglen)
			snprintf(msg + n, msglen - (size_t)n,
				 "; set limit states %llu is above the %llu the tables were made for at "
				 "start: the limit is %llu until a restart",
				 (unsigned long long)rs->cfg.limit_states, (unsigned long long)max,
				 (unsigned long long)max);
		pthread_mutex_unlock(&c->e->reload_lock);
	}
	free(text);
	atomic_fetch_add(ret ? &c->reload_failures : &c->reloads, 1);
	return ret ? -1 : 0;
}

int rw_ctl_cmd_reload(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	char msg[8192];
	int ret;

	if (no_args(r, out))
		return -1;
	ret = rw_ctl_reload(c, msg, sizeof(msg));
	fprintf(stderr, "ringwall: control: %s\n", msg);
	if (ret) {
		rw_buf_puts(out, msg);
		return -1;
	}
	if (r->json) {
		rw_buf_puts(out, "{\"message\":");
		rw_buf_json_str(out, msg);
		rw_buf_puts(out, "}\n");
	} else {
		rw_buf_printf(out, "%s\n", msg);
	}
	return 0;
}

/* ---- flush ---- */

static void flush_shard(struct rw_worker *w, void *arg)
{
	(void)arg;
	rw_state_flush(w->state);
}

int rw_ctl_cmd_flush(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	struct rw_state_stats before;
	unsigned failed = 0;

	if (no_args(r, out))
		return -1;
	rw_engine_sum_state(c->e, &before);
	for (unsigned i = 0; i < c->e->nworkers; i++) {
		struct rw_worker_call call = {.fn = flush_shard};

		if (rw_worker_call(&c->e->workers[i], &call, 2000))
			failed++;
	}
	if (failed) {
		rw_buf_printf(out, "%u worker(s) did not answer within 2 s; their states are kept", failed);
		return -1;
	}
	if (r->json)
		rw_buf_printf(out, "{\"flushed\":%llu}\n", U(before.current));
	else
		rw_buf_printf(out, "flushed %llu states\n", U(before.current));
	return 0;
}
