/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of the same counters stats and
 * rules show, so a scraper needs nothing but `ringwallctl metrics` behind
 * a textfile collector or a tiny HTTP shim. Names end in _total for
 * counters, as the format's conventions ask.
 */
#include <string.h>

#include "internal.h"
#include "../track/synproxy.h"

#define U(x) ((unsigned long long)(x))

static void head(struct rw_buf *b, const char *name, const char *type, const char *help)
{
	rw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void port_metrics(const struct rw_engine *e, const struct rw_worker_stats *st, struct rw_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t in, out; /* offsets in struct rw_port_stats; out 1 = none */
	} m[] = {
		{"ringwall_port_packets_total", "Packets by port and direction.",
		 offsetof(struct rw_port_stats, rx_pkts), offsetof(struct rw_port_stats, tx_pkts)},
		{"ringwall_port_bytes_total", "Bytes by port and direction.",
		 offsetof(struct rw_port_stats, rx_bytes), offsetof(struct rw_port_stats, tx_bytes)},
	};

	for (size_t k = 0; k < RW_ARRAY_SIZE(m); k++) {
		head(b, m[k].name, "counter", m[k].help);
		for (unsigned i = 0; i < e->nports; i++) {
			const char *p = (const char *)&st->port[i];

			rw_buf_printf(b, "%s{port=\"%s\",direction=\"in\"} %llu\n", m[k].name,
				      e->ports[i].name, U(*(const uint64_t *)(p + m[k].in)));
			rw_buf_printf(b, "%s{port=\"%s\",direction=\"out\"} %llu\n", m[k].name,
				      e->ports[i].name, U(*(const uint64_t *)(p + m[k].out)));
		}
	}
	head(b, "ringwall_port_dropped_packets_total", "counter", "Packets dropped, by ingress port.");
	for (unsigned i = 0; i < e->nports; i++)
		rw_buf_printf(b, "ringwall_port_dropped_packets_total{port=\"%s\"} %llu\n",
			      e->ports[i].name, U(st->port[i].drop_pkts));
	head(b, "ringwall_port_kernel_drops_total", "counter",
	     "Frames the kernel dropped or refused below ringwall, by port and kind (rx_freeze counts ring freezes).");
	for (unsigned i = 0; i < e->nports; i++) {
		struct rw_port_kstats k;

		rw_port_kstats(&e->ports[i], &k);
		rw_buf_printf(b, "ringwall_port_kernel_drops_total{port=\"%s\",kind=\"rx\"} %llu\n"
			      "ringwall_port_kernel_drops_total{port=\"%s\",kind=\"rx_ring_full\"} %llu\n"
			      "ringwall_port_kernel_drops_total{port=\"%s\",kind=\"rx_freeze\"} %llu\n"
			      "ringwall_port_kernel_drops_total{port=\"%s\",kind=\"fill_empty\"} %llu\n"
			      "ringwall_port_kernel_drops_total{port=\"%s\",kind=\"tx_error\"} %llu\n",
			      e->ports[i].name, U(k.rx_drops), e->ports[i].name, U(k.rx_ring_full),
			      e->ports[i].name, U(k.rx_freezes), e->ports[i].name, U(k.fill_empty),
			      e->ports[i].name, U(k.tx_errors));
	}
}

static void state_metrics(const struct rw_state_stats *ss, struct rw_buf *b)
{
	head(b, "ringwall_states", "gauge", "Connections tracked now, by address family.");
	rw_buf_printf(b, "ringwall_states{family=\"inet\"} %llu\n", U(ss->current_v4));
	rw_buf_printf(b, "ringwall_states{family=\"inet6\"} %llu\n", U(ss->current_v6));
	head(b, "ringwall_state_events_total", "counter", "Connection table events.");
	rw_buf_printf(b, "ringwall_state_events_total{event=\"created\"} %llu\n", U(ss->created));
	rw_buf_printf(b, "ringwall_state_events_total{event=\"expired\"} %llu\n", U(ss->expired));
	rw_buf_printf(b, "ringwall_state_events_total{event=\"removed\"} %llu\n", U(ss->removed));
	rw_buf_printf(b, "ringwall_state_events_total{event=\"evicted\"} %llu\n", U(ss->evicted));
	rw_buf_printf(b, "ringwall_state_events_total{event=\"refused\"} %llu\n", U(ss->refused));
}

static void synproxy_metrics(const struct rw_engine *e, struct rw_buf *b)
{
	struct rw_synproxy_stats t;

	rw_engine_synproxy_stats(e, &t);
	head(b, "ringwall_synproxy_events_total", "counter",
	     "SYN proxy events (docs/synproxy.md): SYN|ACKs sent with a cookie, cookies that held or not, halves spliced.");
	rw_buf_printf(b, "ringwall_synproxy_events_total{event=\"synack\"} %llu\n"
		      "ringwall_synproxy_events_total{event=\"cookie_ok\"} %llu\n"
		      "ringwall_synproxy_events_total{event=\"completed\"} %llu\n"
		      "ringwall_synproxy_events_total{event=\"refused\"} %llu\n"
		      "ringwall_synproxy_events_total{event=\"cookie_bad\"} %llu\n"
		      "ringwall_synproxy_events_total{event=\"cookie_expired\"} %llu\n"
		      "ringwall_synproxy_events_total{event=\"syn_resent\"} %llu\n"
		      "ringwall_synproxy_events_total{event=\"no_room\"} %llu\n",
		      U(t.synacks), U(t.cookies_ok), U(t.completed), U(t.refused), U(t.cookies_bad),
		      U(t.cookies_expired), U(t.syn_resent), U(t.no_room));
}

static void rule_metrics(const struct rw_ruleset *rs, struct rw_buf *b)
{
	rw_buf_printf(b, "# HELP ringwall_ruleset_generation Generation of the rule set in use.\n"
		      "# TYPE ringwall_ruleset_generation gauge\nringwall_ruleset_generation %u\n",
		      rs->gen);
	head(b, "ringwall_rule_packets_total", "counter", "Packets matched, by rule (counters restart on reload).");
	for (size_t i = 0; i < rs->cfg.nrules; i++)
		rw_buf_printf(b, "ringwall_rule_packets_total{rule=\"%zu\",line=\"%u\"} %llu\n", i,
			      rs->cfg.rules[i].line, U(rw_ruleset_rule_total(rs, (uint32_t)i).packets));
	head(b, "ringwall_rule_bytes_total", "counter", "Bytes matched, by rule.");
	for (size_t i = 0; i < rs->cfg.nrules; i++)
		rw_buf_printf(b, "ringwall_rule_bytes_total{rule=\"%zu\",line=\"%u\"} %llu\n", i,
			      rs->cfg.rules[i].line, U(rw_ruleset_rule_total(rs, (uint32_t)i).bytes));
}

int rw_ctl_cmd_metrics(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	struct rw_engine *e = c->e;
	struct rw_worker_stats st;
	struct rw_state_stats ss;

	if (r->argc) {
		rw_buf_puts(out, "metrics takes no arguments");
		return -1;
	}
	rw_engine_sum_stats(e, &st);
	rw_engine_sum_state(e, &ss);
	rw_buf_printf(out, "# HELP ringwall_uptime_seconds Seconds since start.\n"
		      "# TYPE ringwall_uptime_seconds gauge\nringwall_uptime_seconds %.3f\n",
		      (double)(rw_now_ns() - e->start_ns) / 1e9);
	port_metrics(e, &st, out);
	head(out, "ringwall_drops_total", "counter", "Packets dropped, by reason.");
	for (unsigned k = 1; k < RW_DROP_MAX; k++)
		rw_buf_printf(out, "ringwall_drops_total{reason=\"%s\"} %llu\n", rw_reason_name(k),
			      U(st.drops[k]));
	head(out, "ringwall_worker_packets_total", "counter", "Packets received, by worker.");
	for (unsigned i = 0; i < e->nworkers; i++) {
		uint64_t n = 0;

		for (unsigned k = 0; k < e->nports; k++)
			n += e->workers[i].st.port[k].rx_pkts;
		rw_buf_printf(out, "ringwall_worker_packets_total{worker=\"%u\"} %llu\n", i, U(n));
	}
	state_metrics(&ss, out);
	synproxy_metrics(e, out);
	head(out, "ringwall_reloads_total", "counter", "Rule reloads, by result.");
	rw_buf_printf(out, "ringwall_reloads_total{result=\"ok\"} %u\n", atomic_load(&c->reloads));
	rw_buf_printf(out, "ringwall_reloads_total{result=\"failed\"} %u\n",
		      atomic_load(&c->reload_failures));
	pthread_mutex_lock(&e->reload_lock);
	rule_metrics(atomic_load(&e->rs), out);
	pthread_mutex_unlock(&e->reload_lock);
	return 0;
}
