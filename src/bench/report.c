/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What `ringwall bench` prints, as text or --json (docs/bench.md lists the
 * fields). Memory is read from the shards' tables (track.h, the state
 * module's inside, read here for a measurement and nothing else): the
 * exact bytes of the IPv4 table per connection of capacity, and everything
 * mapped (both families, rounded up to huge pages).
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "../track/track.h"

static const char *const profile_names[] = {"established", "syn-flood", "mixed"};

struct mem {
	uint64_t v4_exact;   /* slots * (entry + tag), IPv4 tables */
	uint64_t v6_exact;
	uint64_t mapped;     /* both tables of every shard, as mapped */
};

static void table_mem(const struct rw_engine *e, struct mem *m)
{
	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < e->nworkers; i++) {
		const struct rw_state *s = e->workers[i].state;

		/* per slot: the entry and its tag; per bucket: the sweep's bound */
		m->v4_exact += rw_ctable_nslots(&s->t4) * (s->t4.esize + sizeof(*s->t4.tags)) +
			       (uint64_t)s->t4.nbuckets * sizeof(*s->t4.bound);
		m->v6_exact += rw_ctable_nslots(&s->t6) * (s->t6.esize + sizeof(*s->t6.tags)) +
			       (uint64_t)s->t6.nbuckets * sizeof(*s->t6.bound);
		m->mapped += s->t4.map_len + s->t6.map_len;
	}
}

static uint64_t timed(const struct bench_result *r, unsigned reason)
{
	return r->st.drops[reason] - r->warm_st.drops[reason];
}

static uint64_t drops_total(const struct rw_worker_stats *st)
{
	uint64_t n = 0;

	for (unsigned i = 1; i < RW_DROP_MAX; i++)
		n += st->drops[i];
	return n;
}

static double total_pps(const struct rw_engine *e, const struct bench_result *r)
{
	double pps = 0;

	for (unsigned i = 0; i < e->nworkers; i++)
		if (r->w[i].secs > 0)
			pps += (double)r->w[i].pkts / r->w[i].secs;
	return pps;
}

static uint64_t total_pkts(const struct rw_engine *e, const struct bench_result *r)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < e->nworkers; i++)
		n += r->w[i].pkts;
	return n;
}

static const char *profile_of(const struct bench_opts *o)
{
	if (o->table_only)
		return o->table_lookup ? "table-only-lookup" : "table-only";
	return o->gen_only ? "gen-only" : profile_names[o->profile];
}

void bench_report(const struct rw_engine *e, const struct bench_opts *o,
		  const struct bench_result *r, FILE *f)
{
	struct mem m;
	double pps = total_pps(e, r);
	uint64_t nd = drops_total(&r->st) - drops_total(&r->warm_st);

	table_mem(e, &m);
	fprintf(f, "ringwall bench: %s, %llu connections (capacity %llu), %u-byte frames, %u worker%s, %s",
		profile_of(o), (unsigned long long)o->conns, (unsigned long long)r->capacity,
		o->frame_size, e->nworkers, e->nworkers == 1 ? "" : "s", o->zipf > 0 ? "zipf " : "uniform");
	if (o->zipf > 0)
		fprintf(f, "%g", o->zipf);
	fprintf(f, ", %zu rules", r->nrules);
	if (o->clock_ns)
		fprintf(f, ", virtual clock %llu ns a packet", (unsigned long long)o->clock_ns);
	fprintf(f, "\n");
	fprintf(f, "warm-up: %llu handshake packets in %.2f s, %llu states, %llu drops\n",
		(unsigned long long)r->warm_pkts, r->warm_secs, (unsigned long long)r->warm_ss.current,
		(unsigned long long)drops_total(&r->warm_st));
	for (unsigned i = 0; i < e->nworkers; i++) {
		const struct bench_worker_result *w = &r->w[i];
		double wp = w->secs > 0 ? (double)w->pkts / w->secs : 0;

		fprintf(f, "worker %u (cpu %d): %llu packets in %.3f s: %.2f Mpps, %.1f ns/packet\n", i,
			w->cpu, (unsigned long long)w->pkts, w->secs, wp / 1e6, wp > 0 ? 1e9 / wp : 0);
	}
	fprintf(f, "total: %.2f Mpps (%llu packets)\n", pps / 1e6, (unsigned long long)total_pkts(e, r));
	fprintf(f, "states: %llu live of %llu (%.1f%%); created %llu, expired %llu, removed %llu, evicted %llu, refused %llu\n",
		(unsigned long long)r->ss.current, (unsigned long long)r->capacity,
		r->capacity ? 100.0 * (double)r->ss.current / (double)r->capacity : 0,
		(unsigned long long)r->ss.created, (unsigned long long)r->ss.expired,
		(unsigned long long)r->ss.removed, (unsigned long long)r->ss.evicted,
		(unsigned long long)r->ss.refused);
	fprintf(f, "memory: IPv4 table %.1f B per connection of capacity (%.1f B per live); both tables mapped %.1f MB = %.1f B per connection; resident growth %.1f MB\n",
		(double)m.v4_exact / (double)r->capacity,
		r->ss.current ? (double)m.v4_exact / (double)r->ss.current : 0,
		(double)m.mapped / 1e6, (double)m.mapped / (double)r->capacity,
		(double)r->table_bytes / 1e6);
	fprintf(f, "drops (timed): %llu", (unsigned long long)nd);
	for (unsigned i = 1; i < RW_DROP_MAX; i++)
		if (timed(r, i))
			fprintf(f, " %s=%llu", rw_reason_name(i), (unsigned long long)timed(r, i));
	fprintf(f, "\n");
	if (unlikely(r->gen.unowned)) /* the worker handed back frames the generator never gave */
		fprintf(f, "generator: %llu frames returned that it does not own (not reused)\n",
			(unsigned long long)r->gen.unowned);
	for (unsigned i = 0; i < r->nreloads; i++)
		fprintf(f, "reload at %.2f s: %s, %zu rules, %.1f ms\n", r->reloads[i].at,
			r->reloads[i].ok ? "ok" : "FAILED", r->reloads[i].nrules, r->reloads[i].ms);
	if (r->nintervals > 1) {
		fprintf(f, "intervals (Mpps):");
		for (unsigned i = 0; i < r->nintervals; i++)
			fprintf(f, " %.2f", r->intervals[i] / 1e6);
		fprintf(f, "\n");
	}
}

static void json_drops(FILE *f, const struct bench_result *r, bool warm)
{
	bool first = true;

	fprintf(f, "{");
	for (unsigned i = 1; i < RW_DROP_MAX; i++) {
		uint64_t n = warm ? r->warm_st.drops[i] : timed(r, i);

		if (!n)
			continue;
		fprintf(f, "%s\"%s\": %llu", first ? "" : ", ", rw_reason_name(i), (unsigned long long)n);
		first = false;
	}
	fprintf(f, "}");
}

static void json_workers(FILE *f, const struct rw_engine *e, const struct bench_result *r)
{
	fprintf(f, "  \"per_worker\": [");
	for (unsigned i = 0; i < e->nworkers; i++) {
		const struct bench_worker_result *w = &r->w[i];
		double wp = w->secs > 0 ? (double)w->pkts / w->secs : 0;

		fprintf(f, "%s\n    {\"id\": %u, \"cpu\": %d, \"packets\": %llu, \"secs\": %.6f, \"pps\": %.0f, \"ns_per_packet\": %.3f}",
			i ? "," : "", i, w->cpu, (unsigned long long)w->pkts, w->secs, wp, wp > 0 ? 1e9 / wp : 0);
	}
	fprintf(f, "\n  ],\n");
}

static void json_series(FILE *f, const struct bench_result *r)
{
	fprintf(f, "  \"intervals_pps\": [");
	for (unsigned i = 0; i < r->nintervals; i++)
		fprintf(f, "%s%.0f", i ? ", " : "", r->intervals[i]);
	fprintf(f, "],\n  \"reloads\": [");
	for (unsigned i = 0; i < r->nreloads; i++)
		fprintf(f, "%s{\"at\": %.3f, \"ok\": %s, \"rules\": %zu, \"ms\": %.1f}", i ? ", " : "",
			r->reloads[i].at, r->reloads[i].ok ? "true" : "false", r->reloads[i].nrules,
			r->reloads[i].ms);
	fprintf(f, "],\n");
}

void bench_report_json(const struct rw_engine *e, const struct bench_opts *o,
		       const struct bench_result *r, FILE *f)
{
	struct mem m;
	double pps = total_pps(e, r), per = e->nworkers ? pps / e->nworkers : 0;

	table_mem(e, &m);
	fprintf(f, "{\n  \"profile\": \"%s\", \"connections\": %llu, \"capacity\": %llu, \"frame_size\": %u,\n",
		profile_of(o), (unsigned long long)o->conns, (unsigned long long)r->capacity, o->frame_size);
	fprintf(f, "  \"workers\": %u, \"zipf\": %g, \"rules\": %zu, \"rules_file\": \"%s\", \"l4_checksum\": \"%s\",\n",
		e->nworkers, o->zipf, r->nrules, o->rules ? o->rules : "",
		e->parse.verify_l4_csum ? "verify" : "ignore");
	fprintf(f, "  \"virtual_clock_ns\": %llu,\n", (unsigned long long)o->clock_ns);
	fprintf(f, "  \"warmup\": {\"packets\": %llu, \"secs\": %.3f, \"states\": %llu, \"drops\": ",
		(unsigned long long)r->warm_pkts, r->warm_secs, (unsigned long long)r->warm_ss.current);
	json_drops(f, r, true);
	fprintf(f, "},\n  \"packets\": %llu, \"secs\": %.6f, \"pps\": %.0f, \"pps_per_worker\": %.0f, \"ns_per_packet\": %.3f,\n",
		(unsigned long long)total_pkts(e, r), r->secs, pps, per, per > 0 ? 1e9 / per : 0);
	json_workers(f, e, r);
	fprintf(f, "  \"generator\": {\"packets\": %llu, \"bytes\": %llu, \"new_flows\": %llu, \"forwarded\": %llu, \"released\": %llu, \"unowned\": %llu},\n",
		(unsigned long long)r->gen.pkts, (unsigned long long)r->gen.bytes,
		(unsigned long long)r->gen.new_flows, (unsigned long long)r->gen.tx_pkts,
		(unsigned long long)r->gen.released, (unsigned long long)r->gen.unowned);
	fprintf(f, "  \"states\": {\"live\": %llu, \"capacity\": %llu, \"occupancy\": %.4f, \"created\": %llu, \"expired\": %llu, \"removed\": %llu, \"evicted\": %llu, \"refused\": %llu, \"relocated\": %llu},\n",
		(unsigned long long)r->ss.current, (unsigned long long)r->capacity,
		r->capacity ? (double)r->ss.current / (double)r->capacity : 0,
		(unsigned long long)r->ss.created, (unsigned long long)r->ss.expired,
		(unsigned long long)r->ss.removed, (unsigned long long)r->ss.evicted,
		(unsigned long long)r->ss.refused, (unsigned long long)r->ss.relocated);
	fprintf(f, "  \"memory\": {\"ipv4_table_bytes\": %llu, \"ipv6_table_bytes\": %llu, \"mapped_bytes\": %llu, \"resident_growth_bytes\": %llu,\n",
		(unsigned long long)m.v4_exact, (unsigned long long)m.v6_exact,
		(unsigned long long)m.mapped, (unsigned long long)r->table_bytes);
	fprintf(f, "    \"ipv4_bytes_per_connection\": %.2f, \"ipv4_bytes_per_live\": %.2f, \"mapped_bytes_per_connection\": %.2f},\n",
		(double)m.v4_exact / (double)r->capacity,
		r->ss.current ? (double)m.v4_exact / (double)r->ss.current : 0,
		(double)m.mapped / (double)r->capacity);
	fprintf(f, "  \"drops_total\": %llu, \"drops\": ",
		(unsigned long long)(drops_total(&r->st) - drops_total(&r->warm_st)));
	json_drops(f, r, false);
	fprintf(f, ",\n");
	json_series(f, r);
	fprintf(f, "  \"table_pass\": %llu,\n", (unsigned long long)r->table_pass);
	fprintf(f, "  \"state_hits\": %llu, \"state_misses\": %llu\n}\n",
		(unsigned long long)(r->st.state_hits - r->warm_st.state_hits),
		(unsigned long long)(r->st.state_misses - r->warm_st.state_misses));
}
