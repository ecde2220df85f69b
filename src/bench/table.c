/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ringwall bench --table-only`: the connection table's share of the work,
 * for the comparison with DPDK's rte_hash (bench/rte_hash_peer.c) on equal
 * terms. The warm-up is the usual one (real handshakes through the worker);
 * then, on worker 0's shard, each burst of 32 descriptors goes through the
 * worker's three state stages (rw_state_prepare: key, hash, prefetch the
 * index; rw_state_prefetch: tags, prefetch the entry; rw_state_track: the
 * lookup and the TCP window tracking that updates the entry). No frames, no
 * parsing, no rules, no forwarding.
 *
 * The flows and their order are the generator's and the peer's: the same
 * PRNG or Zipf draws, 32 client->server then 32 server->client per round.
 * Descriptors are patched from a template, as the peer builds its keys.
 *
 * With --table-op lookup the work is the peer's own, no more (lookup_burst).
 */
#include <string.h>
#include <arpa/inet.h>

#include "bench.h"
#include "../track/track.h"

static void fill(struct rw_pkt *p, const struct rw_pkt *tmpl, uint64_t f, unsigned side)
{
	struct rw_gen_flow fl;
	uint32_t c, s;

	rw_gen_flow(f, &fl);
	*p = *tmpl;
	c = htonl(fl.caddr), s = htonl(fl.saddr);
	if (side == 0) {
		memcpy(p->saddr + 12, &c, 4);
		memcpy(p->daddr + 12, &s, 4);
		p->sport = fl.cport, p->dport = fl.sport;
		p->tcp_seq = fl.cisn + 1, p->tcp_ack = fl.sisn + 1;
	} else {
		memcpy(p->saddr + 12, &s, 4);
		memcpy(p->daddr + 12, &c, 4);
		p->sport = fl.sport, p->dport = fl.cport;
		p->tcp_seq = fl.sisn + 1, p->tcp_ack = fl.cisn + 1;
	}
	p->in_port = (uint8_t)side;
}

static void make_tmpl(struct rw_pkt *t)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(t, 0, sizeof(*t));
	t->af = RW_AF_INET;
	t->proto = RW_PROTO_TCP;
	t->flags = RW_PKT_L4;
	t->ttl = 64;
	t->ethertype = 0x0800;
	t->tcp_flags = RW_TH_ACK;
	t->tcp_wscale = RW_WSCALE_NONE;
	t->tcp_win = 65535;
	memcpy(t->saddr, mapped, 12);
	memcpy(t->daddr, mapped, 12);
}

/*
 * --table-op lookup: exactly the peer's work per burst, on the table
 * itself: build 32 keys from the flows (client first, as the peer does),
 * hash them together, prefetch their buckets, match tags and prefetch the
 * entries, then find each and update its line (last-seen time, the
 * direction's packet count, a sequence number). No TCP window checks.
 */
static unsigned lookup_burst(struct rw_state *st, uint64_t *rng, const uint32_t *zseq, uint32_t *zpos,
			     uint64_t nflows, unsigned side, uint64_t now)
{
	struct rw_ctable *t = &st->t4;
	struct rw_key4 k[RW_BURST];
	uint64_t h[RW_BURST];
	uint32_t hint[RW_BURST];
	unsigned hits = 0;

	for (unsigned i = 0; i < RW_BURST; i++) {
		uint64_t rr = rw_gen_rand(rng);
		uint64_t f = zseq ? zseq[(*zpos)++ & (RW_GEN_ZSEQ_LEN - 1)] : rw_gen_below(rr, nflows);
		struct rw_gen_flow fl;

		rw_gen_flow(f, &fl);
		k[i] = (struct rw_key4){.addr = {htonl(fl.caddr), htonl(fl.saddr)},
					.port = {fl.cport, fl.sport}, .proto = RW_PROTO_TCP};
	}
	rw_khash16_burst(&st->kh, k, RW_BURST, h);
	for (unsigned i = 0; i < RW_BURST; i++)
		rw_ctable_prefetch_index(t, h[i]);
	for (unsigned i = 0; i < RW_BURST; i++)
		hint[i] = rw_ctable_probe(t, h[i]);
	for (unsigned i = 0; i < RW_BURST; i++)
		if (hint[i] == RW_CT_NONE)
			hint[i] = rw_ctable_probe2(t, h[i]);
	for (unsigned i = 0; i < RW_BURST; i++) {
		uint32_t slot = rw_ctable_find(t, &k[i], h[i], now, hint[i]);
		struct rw_conn *c;

		if (slot == RW_CT_NONE)
			continue;
		c = rw_ctable_conn(t, slot);
		c->last = now;
		c->pkts[side]++;
		c->peer[side].seqlo = k[i].port[side] + c->pkts[side];
		hits++;
	}
	return hits;
}

/* Run on the calling thread; fills r->w[0]. */
int bench_table(struct rw_engine *e, const struct bench_opts *o, struct bench_result *r)
{
	struct rw_state *st = e->workers[0].state;
	struct rw_pkt pk[RW_BURST], *pp[RW_BURST], tmpl;
	uint64_t rng = o->seed * 0x9e3779b97f4a7c15ull + 1, done = 0, pass = 0, t0, now;
	uint64_t nflows = o->conns, limit = o->packets ? 2 * o->packets : UINT64_MAX;
	uint64_t end;
	uint32_t *zseq = NULL, zpos = 0;

	if (o->zipf > 0) {
		zseq = malloc(RW_GEN_ZSEQ_LEN * sizeof(*zseq));
		if (!zseq || rw_gen_zipf_fill(zseq, RW_GEN_ZSEQ_LEN, nflows, o->zipf, o->seed)) {
			free(zseq);
			return -1;
		}
	}
	make_tmpl(&tmpl);
	for (unsigned i = 0; i < RW_BURST; i++)
		pp[i] = &pk[i];
	t0 = rw_now_ns();
	end = o->packets ? UINT64_MAX : t0 + (uint64_t)(o->duration * 1e9);
	for (now = t0; done < limit && now < end; ) {
		now = rw_now_ns();
		if (o->table_lookup) {
			for (unsigned side = 0; side < 2; side++)
				pass += lookup_burst(st, &rng, zseq, &zpos, nflows, side, now);
			done += 2 * RW_BURST;
			continue;
		}
		for (unsigned side = 0; side < 2; side++) {
			for (unsigned i = 0; i < RW_BURST; i++) {
				uint64_t rr = rw_gen_rand(&rng);
				uint64_t f = zseq ? zseq[zpos++ & (RW_GEN_ZSEQ_LEN - 1)] : rw_gen_below(rr, nflows);

				fill(&pk[i], &tmpl, f, side);
			}
			rw_state_prepare(st, pp, RW_BURST);
			rw_state_prefetch(st, pp, RW_BURST);
			for (unsigned i = 0; i < RW_BURST; i++) {
				uint32_t rule;
				unsigned reason;

				pass += rw_state_track(st, &pk[i], now, &rule, &reason) == RW_TRACK_PASS;
			}
		}
		done += 2 * RW_BURST;
	}
	r->w[0].secs = (double)(rw_now_ns() - t0) / 1e9;
	r->w[0].pkts = done;
	r->table_pass = pass;
	free(zseq);
	return 0;
}
