/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The per-core fast path. A worker runs to completion on bursts, in
 * stages, each a loop over the whole burst so that the memory accesses of
 * one stage overlap (OVS's dp_netdev_input__ shape):
 *
 *   1. receive a burst from a queue
 *   2. parse every frame into its descriptor; decide the frames that need
 *      no state (malformed, ARP, non-IP, later fragments)
 *   3. hash every tracked packet and prefetch its bucket (state.c)
 *   4. match tags and prefetch the entries
 *   5. track each packet against its connection
 *   6. classify the misses, as one batch
 *   7. create state for misses passed with keep state
 *   8. forward the passed frames to the other port in one tx burst,
 *      release the dropped ones
 *
 * Counters are the worker's own; nothing here takes a lock or writes a
 * line another worker writes.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "../pkt/parse_fast.h"
#include "../track/frag.h"
#include "../track/synproxy.h"

uint64_t rw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The worker's clock. Replay runs on capture time, so connections expire as
 * they did in the original traffic, and the generator with clock= on its
 * own (simulated runs: timeouts and the expiry sweep paced per packet as at
 * the rate that clock stands for); live ports run on CLOCK_MONOTONIC, read
 * once per burst, whatever timestamp the backend put on the frame (AF_PACKET
 * stamps frames with wall-clock time, which jumps and must not be mixed with
 * the monotonic time idle expiry uses).
 */
static inline uint64_t frame_now(const struct rw_worker *w, const struct rw_frame *f)
{
	return w->eng->frame_clock && f->ts_ns ? f->ts_ns : rw_now_ns();
}

/* Slots per burst of bounded expiry work: enough to keep up with any
 * insertion rate the burst could have caused, small enough to be a few
 * per cent of a burst's time. */
#define EXPIRE_BUDGET_BUSY 16
#define EXPIRE_BUDGET_IDLE 1024

/* The state module gets an opaque rule reference: the rule index and the
 * low bits of the rule set's generation, so that after a reload a packet of
 * an old connection is not counted against a different rule. */
#define RULE_REF_BITS 20
#define RULE_REF_MASK ((1u << RULE_REF_BITS) - 1)
static_assert(RULE_REF_BITS == RW_RULE_REF_BITS, "ruleset.c maps the same references");

static inline uint32_t rule_ref(const struct rw_ruleset *rs, uint32_t rule)
{
	return (rs->gen << RULE_REF_BITS) | (rule & RULE_REF_MASK);
}

static inline bool rule_ref_current(const struct rw_ruleset *rs, uint32_t ref, uint32_t *rule)
{
	*rule = ref & RULE_REF_MASK;
	if (likely((ref >> RULE_REF_BITS) == (rs->gen & ((1u << (32 - RULE_REF_BITS)) - 1))))
		return *rule < rs->cfg.nrules;
	/* Older: after ringwallctl rule add/remove the connection keeps its
	 * rule, renumbered through the edits (ruleset.c); after a reload not. */
	return rs->nedits && rw_ruleset_ref_map(rs, ref, rule);
}

static void log_packet(struct rw_worker *w, const struct rw_frame *f)
{
	struct rw_engine *e = w->eng;

	w->st.logged++;
	if (!e->log_dumper)
		return;
	struct pcap_pkthdr h = {
		.ts.tv_sec = (time_t)(f->ts_ns / 1000000000ull),
		.ts.tv_usec = (suseconds_t)(f->ts_ns % 1000000000ull),
		.caplen = f->len,
		.len = f->len,
	};
	pthread_mutex_lock(&e->log_lock);
	pcap_dump(e->log_dumper, &h, f->data);
	pthread_mutex_unlock(&e->log_lock);
}

static void count_rule(struct rw_worker *w, const struct rw_ruleset *rs, uint32_t rule,
		       uint32_t pkts, uint64_t bytes)
{
	struct rw_rule_ctr *c = rw_ruleset_ctr(rs, w->id, rule);

	c->packets += pkts;
	c->bytes += bytes;
}

/* ARP passes unless an "arp" rule for this port says otherwise. */
static unsigned judge_arp(struct rw_worker *w, const struct rw_ruleset *rs, unsigned i)
{
	unsigned port = w->pkts[i].in_port;

	for (size_t k = 0; k < rs->narp; k++) {
		const struct rw_rule_verdict *r = &rs->verdict[rs->arp_rules[k]];

		if (!(r->in_ports & (1u << port)))
			continue;
		count_rule(w, rs, rs->arp_rules[k], 1, w->frames[i].len);
		if (r->log)
			log_packet(w, &w->frames[i]);
		return r->action == RW_ACT_PASS ? RW_PASS : RW_DROP_RULE_BLOCK;
	}
	return RW_PASS;
}

static void make_key(const struct rw_pkt *p, struct rw_ckey *k)
{
	memcpy(k->src, p->saddr, 16);
	memcpy(k->dst, p->daddr, 16);
	if (p->proto == RW_PROTO_ICMP || p->proto == RW_PROTO_ICMP6) {
		k->sport = p->icmp_type;
		k->dport = p->icmp_code;
	} else {
		k->sport = p->sport;
		k->dport = p->dport;
	}
	k->af = p->af;
	k->proto = p->proto;
	k->in_port = p->in_port;
	k->tcp_flags = p->proto == RW_PROTO_TCP ? p->tcp_flags : 0;
}

/* A connection the rules just let in on a helper's control port: its
 * payload will be read for announced connections (docs/alg.md). */
static void mark_control(struct rw_worker *w, const struct rw_ruleset *rs, const struct rw_pkt *p,
			 uint64_t now)
{
	unsigned h = rw_alg_helper_for(p, rs->cfg.ftp_ports, rs->cfg.nftp_ports);

	if (unlikely(h != RW_ALG_NONE))
		rw_state_mark_alg(w->state, p, h, now);
}

/* Expectations made or used in this burst go to every other worker: the
 * data connection may hash anywhere (the kernel's fanout hash is keyed by a
 * secret we cannot compute). A full ring loses the message, counted. */
static void send_alg(struct rw_worker *w)
{
	struct rw_engine *e = w->eng;
	struct rw_alg *a = rw_state_alg(w->state);
	struct rw_alg_msg m;

	while (rw_alg_take_out(a, &m, 1)) {
		for (unsigned j = 0; j < e->nworkers; j++) {
			if (j == w->id)
				continue;
			if (rw_spsc_push(e->rings[w->id * e->nworkers + j], &m))
				a->st.msg_sent++;
			else
				a->st.msg_dropped++;
		}
	}
}

/* Apply what the other workers sent, at the top of each poll (bounded, so
 * a flooding peer cannot starve this worker's own queues). */
static void drain_alg(struct rw_worker *w, uint64_t now)
{
	struct rw_engine *e = w->eng;
	struct rw_alg *a = rw_state_alg(w->state);
	struct rw_alg_msg m;

	for (unsigned j = 0; j < e->nworkers; j++) {
		if (j == w->id)
			continue;
		for (unsigned k = 0; k < RW_ALG_OUTBOX * 4 &&
				     rw_spsc_pop(e->rings[j * e->nworkers + w->id], &m); k++)
			rw_alg_receive(a, &m, now);
	}
}

/* Stage 6-7: the rules decide the packets no connection claimed. Kept out
 * of line: it runs once per burst with misses, and inlining it into the
 * one-packet call for late packets buys nothing. */
static __attribute__((noinline)) void judge_misses(struct rw_worker *w, const struct rw_ruleset *rs, const uint8_t *miss,
			 unsigned nmiss, unsigned *verdict, uint64_t now)
{
	struct rw_ckey keys[RW_BURST];
	const struct rw_ckey *kp[RW_BURST];
	int32_t match[RW_BURST];

	bool as_ack[RW_BURST] = {false};

	kp[0] = &keys[0]; /* gcc cannot see that nmiss >= 1 */
	for (unsigned j = 0; j < nmiss; j++) {
		make_key(&w->pkts[miss[j]], &keys[j]);
		kp[j] = &keys[j];
		/* an ACK that may complete a SYN proxy handshake is judged as
		 * the SYN it completes (pf does the same: docs/synproxy.md) */
		if (unlikely(rs->cfg.nsynproxy) && rw_synproxy_is_ack(&w->pkts[miss[j]])) {
			keys[j].tcp_flags = RW_TH_SYN;
			as_ack[j] = true;
		}
	}
	rw_classify_burst(rs->cls, kp, match, nmiss);
	for (unsigned j = 0; j < nmiss; j++) {
		if (likely(!as_ack[j]) || (match[j] >= 0 && rs->verdict[match[j]].synproxy &&
					   rs->verdict[match[j]].action == RW_ACT_PASS))
			continue;
		/* not for the proxy: the rules judge the ACK as it is */
		as_ack[j] = false;
		keys[j].tcp_flags = w->pkts[miss[j]].tcp_flags;
		rw_classify_burst(rs->cls, &kp[j], &match[j], 1);
	}

	for (unsigned j = 0; j < nmiss; j++) {
		unsigned i = miss[j];
		const struct rw_rule_verdict *r; /* not cfg.rules: ruleset.h */

		if (match[j] < 0) {
			if (rs->cfg.default_log)
				log_packet(w, &w->frames[i]);
			verdict[i] = rs->cfg.default_action == RW_ACT_PASS ? RW_PASS : RW_DROP_DEFAULT_BLOCK;
			continue;
		}
		r = &rs->verdict[match[j]];
		count_rule(w, rs, (uint32_t)match[j], 1, w->frames[i].len);
		if (r->log)
			log_packet(w, &w->frames[i]);
		if (r->action != RW_ACT_PASS) {
			verdict[i] = RW_DROP_RULE_BLOCK;
			continue;
		}
		if (unlikely(r->synproxy)) {
			verdict[i] = rw_worker_synproxy(w, i, as_ack[j], rule_ref(rs, (uint32_t)match[j]), now);
			if (as_ack[j] && verdict[i] == RW_VERDICT_CONSUMED) /* state made: docs/alg.md */
				mark_control(w, rs, &w->pkts[i], now);
			continue;
		}
		verdict[i] = r->keep_state
			? (r->loose ? rw_state_create_loose /* flags any: pick-up */
			   : rw_state_create)(w->state, &w->pkts[i], rule_ref(rs, (uint32_t)match[j]), now)
			: RW_PASS;
		if (r->keep_state && verdict[i] == RW_PASS)
			mark_control(w, rs, &w->pkts[i], now);
	}
}

/* ---- fragments (src/track/frag.c, docs/fragments.md) ------------------ */

/* A verdict for a frame frag.c copied and holds: released, not a drop. */
#define RW_VERDICT_HELD RW_DROP_MAX

/* Held fragments dropped later (overlap found, expiry, eviction): their
 * frames are long gone, only the counters remain to be told. */
static void frag_dropped(void *arg, unsigned port, unsigned reason, unsigned pkts, uint64_t bytes)
{
	struct rw_worker *w = arg;

	w->st.drops[reason] += pkts;
	w->st.port[port].drop_pkts += pkts;
	w->st.port[port].drop_bytes += bytes;
}

/* Cold: the first fragment this worker sees sets reassembly up, sized by
 * the rule set then in force ("set limit frags"). */
static __attribute__((noinline, cold)) int frag_setup(struct rw_worker *w, const struct rw_ruleset *rs)
{
	struct rw_frag_opts o = {
		.max_frags = rs->cfg.limit_frags ? rs->cfg.limit_frags : 1,
		.hash_key = {w->eng->hash_key[1], w->eng->hash_key[0] ^ w->id},
		.timeout_ns = rs->cfg.timeouts[RW_TO_FRAG] * 1000000000ull,
		.drop = frag_dropped,
		.drop_arg = w,
	};
	char err[128];

	/* From here on frag_dg[] holds RW_FRAG_NONE between bursts: only
	 * rw_frag_add sets an entry, and frag_emit clears what it set, so the
	 * parse loop need not store it for every packet. */
	for (unsigned i = 0; i < RW_BURST; i++)
		w->frag_dg[i] = RW_FRAG_NONE;
	w->frag_view = malloc((size_t)RW_BURST * RW_FRAG_VIEW_MAX);
	w->frag = w->frag_view ? rw_frag_create(&o, err, sizeof(err)) : NULL;
	if (!w->frag) {
		free(w->frag_view);
		w->frag_view = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Stage 2 for a fragment: frag.c copies it; the one that completes a
 * datagram goes on, as the rebuilt whole packet, to tracking and rules.
 * Returns true for that one. */
static bool frag_in(struct rw_worker *w, const struct rw_ruleset *rs, unsigned i, unsigned *verdict)
{
	uint64_t now = frame_now(w, &w->frames[i]);
	unsigned reason = RW_DROP_FRAG_NO_MEMORY;

	if (unlikely(!w->frag) && frag_setup(w, rs)) {
		verdict[i] = reason;
		return false;
	}
	switch (rw_frag_add(w->frag, &w->pkts[i], &w->frames[i], now, &w->parse,
			    w->frag_view + (size_t)i * RW_FRAG_VIEW_MAX, &w->frag_dg[i], &reason)) {
	case RW_FRAG_DONE:
		w->frag_ndone++;
		return true;
	case RW_FRAG_HELD:
		verdict[i] = RW_VERDICT_HELD;
		return false;
	default:
		verdict[i] = reason;
		return false;
	}
}

/* After the burst's own frames: each datagram completed in it goes out as
 * its original fragments, from the copies, to the peer port, or is dropped
 * whole; the fragments count one by one. */
static void frag_emit(struct rw_worker *w, struct rw_port *in, unsigned q, unsigned n,
		      const unsigned *verdict)
{
	struct rw_engine *e = w->eng;
	struct rw_port *out = e->nports == 2 ? &e->ports[in->index ^ 1] : NULL;
	struct rw_port_stats *pin = &w->st.port[in->index];
	struct rw_frame fr[RW_FRAG_MAX_PER_DGRAM];

	for (unsigned i = 0; i < n; i++) {
		uint32_t dg = w->frag_dg[i];
		unsigned v = verdict[i], k, sent = 0;

		if (dg == RW_FRAG_NONE)
			continue;
		k = rw_frag_frames(w->frag, dg, fr);
		if (v == RW_PASS && !out)
			v = RW_DROP_NO_EGRESS;
		if (v == RW_PASS) {
			struct rw_port_stats *pout = &w->st.port[out->index];

			/* handle 0: the backend copies or sends before
			 * returning (docs/io.md), so the copies may go. */
			sent = out->ops->tx_burst(out, q % out->nqueues, fr, k);
			for (unsigned j = 0; j < sent; j++) {
				pout->tx_pkts++;
				pout->tx_bytes += fr[j].len;
			}
			v = RW_DROP_TX_FULL;
		}
		for (unsigned j = sent; j < k; j++) {
			w->st.drops[v]++;
			pin->drop_pkts++;
			pin->drop_bytes += fr[j].len;
		}
		rw_frag_release(w->frag, dg);
		w->frag_dg[i] = RW_FRAG_NONE;
	}
	w->frag_ndone = 0;
}

void rw_worker_frag_fini(struct rw_worker *w)
{
	rw_frag_destroy(w->frag);
	free(w->frag_view);
	w->frag = NULL;
	w->frag_view = NULL;
}

void rw_engine_print_frag(const struct rw_engine *e, FILE *f)
{
	struct rw_frag_stats t = {0}, s;

	for (unsigned i = 0; i < e->nworkers; i++) {
		if (!e->workers[i].frag)
			continue;
		rw_frag_stats(e->workers[i].frag, &s);
		t.reassembled += s.reassembled;
		t.expired_dgrams += s.expired_dgrams;
		t.expired_frags += s.expired_frags;
		t.evicted_dgrams += s.evicted_dgrams;
		t.dropped_dgrams += s.dropped_dgrams;
		t.held_frags += s.held_frags;
		t.open_dgrams += s.open_dgrams;
	}
	if (t.reassembled || t.dropped_dgrams || t.held_frags)
		fprintf(f, "frags reassembled %llu dropped %llu expired %llu (%llu fragments) evicted %llu "
			"held %llu (%llu datagrams)\n",
			(unsigned long long)t.reassembled, (unsigned long long)t.dropped_dgrams,
			(unsigned long long)t.expired_dgrams, (unsigned long long)t.expired_frags,
			(unsigned long long)t.evicted_dgrams, (unsigned long long)t.held_frags,
			(unsigned long long)t.open_dgrams);
}

/* Stage 2 for a frame the parser's inline fast path declined: the general
 * parser, then what needs no state for a drop, ARP or another EtherType, or
 * a fragment. Returns true when the packet goes on to the connection table
 * (a whole IP packet parsed clean, or the fragment that completes its
 * datagram). Out of line, so that the parse loop keeps only what the
 * common case needs in its registers. */
static __attribute__((noinline)) bool pre_judge_rare(struct rw_worker *w, const struct rw_ruleset *rs,
						     unsigned i, unsigned in_port, unsigned *verdict)
{
	struct rw_pkt *p = &w->pkts[i];
	int r = rw_parse_general(p, w->frames[i].data, w->frames[i].len, &w->parse);

	p->in_port = (uint8_t)in_port;
	p->ct_solid = 0;
	if (r != RW_PASS) {
		verdict[i] = rw_frag_refine(p, (unsigned)r);
		return false;
	}
	if (p->af == RW_AF_NONE) {
		if (p->flags & RW_PKT_ARP)
			verdict[i] = judge_arp(w, rs, i);
		else
			verdict[i] = rs->cfg.pass_non_ip ? RW_PASS : RW_DROP_NON_IP;
		return false;
	}
	/* Fragments are judged once, as their whole datagram (docs/fragments.md). */
	if (p->flags & RW_PKT_FRAG)
		return frag_in(w, rs, i, verdict);
	return true;
}

/* Stage 2 for one frame: parse, and settle what needs no state. Returns
 * true when the packet goes on to the connection table. The parser's fast
 * path runs inline (src/pkt/parse_fast.h; it takes only whole IPv4/TCP
 * packets, which all go on), the rest of rw_parse out of line: the call
 * and reading back what the parser wrote cost ~11 instructions a packet.
 * fast is false when L4 checksums are verified in software, which only the
 * general parser does; tested once a burst. */
static inline __attribute__((always_inline)) bool
pre_judge(struct rw_worker *w, const struct rw_ruleset *rs, unsigned i, unsigned in_port, bool fast,
	  unsigned *verdict)
{
	struct rw_pkt *p = &w->pkts[i];

	if (likely(fast) && likely(rw_parse_fast_inline(p, w->frames[i].data, w->frames[i].len))) {
		p->in_port = (uint8_t)in_port;
		p->ct_solid = 0;
		return true;
	}
	return pre_judge_rare(w, rs, i, in_port, verdict);
}

/* Frames parsed between two calls of the prepare stage (below). */
#define PREP_CHUNK 16

/*
 * Stages 2 and 3 for the burst's n frames: those that go on to the
 * connection table into tracked[] and idx[] (their count returned), keyed,
 * hashed and their index lines prefetched; the bytes received into
 * *rx_bytes. The prepare stage runs after each PREP_CHUNK frames parsed
 * rather than once after all of them, so that the first index lines have
 * the rest of the burst's parsing to arrive in before the tag stage reads
 * them: 1.05-1.10x at 10 M connections (every 8: the same; every 4 or 2:
 * slower, the hash loses its batch), 1.00-1.02x at 1k (docs/conntrack.md).
 * Always inlined, fast a constant in each copy.
 */
static inline __attribute__((always_inline)) unsigned
parse_burst(struct rw_worker *w, const struct rw_ruleset *rs, const unsigned in_port, unsigned n,
	    bool fast, unsigned *verdict, struct rw_pkt **tracked, uint8_t *idx, uint64_t *rx_bytes)
{
	/* locals: the parser's stores would make the compiler load them again */
	uint64_t bytes = 0;
	unsigned nt = 0, prepared = 0;

	for (unsigned i = 0; i < n; i++) {
		if (i && i % PREP_CHUNK == 0) {
			rw_state_prepare(w->state, tracked + prepared, nt - prepared);
			prepared = nt;
		}
		bytes += w->frames[i].len;
		if (pre_judge(w, rs, i, in_port, fast, verdict)) {
			tracked[nt] = &w->pkts[i];
			idx[nt++] = (uint8_t)i;
		}
	}
	rw_state_prepare(w->state, tracked + prepared, nt - prepared);
	*rx_bytes = bytes;
	return nt;
}

/* True when connection hash h is among hs[0..n): an earlier packet of this
 * burst belongs to the same connection. */
static bool hash_seen(const uint64_t *hs, unsigned n, uint64_t h)
{
	for (unsigned k = 0; k < n; k++)
		if (hs[k] == h)
			return true;
	return false;
}

/* The share of an egress ring that only established connections' packets
 * may fill: 1/RW_TX_RESERVE_DIV of it. */
#define RW_TX_RESERVE_DIV 4

/*
 * How many of the ns second-class frames (new connections and the like)
 * the egress may take: what its ring has free beyond the nf first-class
 * frames of this burst and a reserve kept for established traffic. The
 * caller drops the rest as tx-full, as the ring would have refused them a
 * little later, but without their having taken room an established
 * connection's next packet needs. Under a SYN flood toward a saturated
 * server the ring stays full; without the reserve the flood's SYNs took
 * every slot that freed up and the transfers' segments were refused with
 * them.
 */
static unsigned admit_second(struct rw_port *out, unsigned oq, unsigned nf, unsigned ns)
{
	unsigned cap = 0, room = out->ops->tx_room(out, oq, UINT32_MAX, &cap), reserve;

	if (!cap)
		return ns;
	reserve = cap / RW_TX_RESERVE_DIV + nf;
	return room > reserve ? RW_MIN(room - reserve, ns) : 0;
}

/*
 * The end of stage 8: offer fwd[0..offer) of the nf passed frames (of
 * fwd_bytes bytes in all) to out, count what it took, and drop the rest as
 * tx-full, their frames back to in.
 */
static void egress(struct rw_worker *w, struct rw_port *in, struct rw_port *out, unsigned q,
		   struct rw_frame *fwd, unsigned nf, unsigned offer, uint64_t fwd_bytes)
{
	struct rw_port_stats *pin = &w->st.port[in->index];
	struct rw_port_stats *pout = &w->st.port[out->index];
	unsigned sent = offer ? out->ops->tx_burst(out, q % out->nqueues, fwd, offer) : 0;

	pout->tx_pkts += sent;
	pout->tx_bytes += fwd_bytes;
	for (unsigned i = sent; i < nf; i++) {
		pout->tx_bytes -= fwd[i].len;
		w->st.drops[RW_DROP_TX_FULL]++;
		pin->drop_pkts++;
		pin->drop_bytes += fwd[i].len;
	}
	if (sent < nf)
		in->ops->release(in, q, fwd + sent, nf - sent);
}

/*
 * Stage 8: forward what passed to the other port, release the rest.
 *
 * Packets of connections established both ways (and ARP, and ICMP errors
 * about tracked connections) go first in the transmit burst, then the rest
 * (new connections, embryonic ones, stateless passes) in arrival order:
 * when the egress ring has less room than the burst (a SYN flood queued
 * in front of a saturated server), what it refuses is new
 * connections' packets, not established traffic. Order across connections
 * changes, never within one: a connection's packet goes first only if no
 * earlier packet of the same connection in this burst went second (the
 * burst in which a connection becomes established, say).
 *
 * nfirst: the packets state passed on connections established both ways;
 * rx_bytes: the burst's bytes.
 */
static void finish_burst(struct rw_worker *w, struct rw_port *in, unsigned q, unsigned n,
			 const unsigned *verdict, unsigned nfirst, uint64_t rx_bytes)
{
	struct rw_engine *e = w->eng;
	struct rw_frame fwd[RW_BURST], drop[RW_BURST], second[RW_BURST];
	uint64_t second_hash[RW_BURST];
	unsigned nf = 0, nd = 0, ns = 0, nsh = 0;
	struct rw_port *out = e->nports == 2 ? &e->ports[in->index ^ 1] : NULL;
	struct rw_port_stats *pin = &w->st.port[in->index];
	uint64_t fwd_bytes = 0;

	/* The common case: every frame first class (so passed, and no
	 * fragment completed). The loop below would copy them all to fwd in
	 * arrival order with rx_bytes as their bytes: send them from where
	 * they arrived instead. */
	if (likely(nfirst == n) && likely(out) && likely(!w->frag_ndone)) {
		egress(w, in, out, q, w->frames, n, n, rx_bytes);
		return;
	}

	/* Without an egress or when a datagram completed in this burst
	 * (frag.c copied its frames, whatever the verdict) every frame takes
	 * the checks below; otherwise a passed frame needs none of them. */
	const unsigned careful = !out || w->frag_ndone;

	for (unsigned i = 0; i < n; i++) {
		unsigned v = verdict[i];

		if (unlikely(careful)) {
			if (w->frag_dg[i] != RW_FRAG_NONE) {
				drop[nd++] = w->frames[i]; /* copied by frag.c: not a drop */
				continue;
			}
			if (v == RW_PASS && !out)
				v = RW_DROP_NO_EGRESS;
		}
		if (likely(v == RW_PASS)) {
			const struct rw_pkt *p = &w->pkts[i];

			fwd_bytes += w->frames[i].len;
			/* ARP and the ICMP errors state let through (they quote a
			 * tracked connection: PMTU discovery) are what keeps the
			 * established ones working: first class too */
			if ((likely(p->ct_solid) && (likely(!nsh) || !hash_seen(second_hash, nsh, p->hash))) ||
			    unlikely(p->flags & (RW_PKT_ARP | RW_PKT_ICMP_ERR))) {
				fwd[nf++] = w->frames[i];
			} else {
				second[ns++] = w->frames[i];
				if (p->af != RW_AF_NONE)
					second_hash[nsh++] = p->hash;
			}
			continue;
		}
		if (unlikely(v == RW_VERDICT_HELD)) {
			/* held by frag.c, or consumed by the SYN proxy
			 * (RW_VERDICT_CONSUMED, the same value): not a drop */
			drop[nd++] = w->frames[i];
			continue;
		}
		w->st.drops[v]++;
		pin->drop_pkts++;
		pin->drop_bytes += w->frames[i].len;
		drop[nd++] = w->frames[i];
	}
	/* what the egress is offered: the second class may be cut short */
	unsigned offer = nf + (unlikely(ns) && out->ops->tx_room
			       ? admit_second(out, q % out->nqueues, nf, ns) : ns);

	memcpy(fwd + nf, second, ns * sizeof(*second));
	nf += ns;
	if (nf)
		egress(w, in, out, q, fwd, nf, offer, fwd_bytes);
	if (nd)
		in->ops->release(in, q, drop, nd);
}

/*
 * Rule counters of the packets state passed are added once for each run
 * of packets with the same rule reference instead of once a packet (an
 * established burst is mostly one rule's). The sums are the same: the
 * reference names the same rule whenever it is added, rs being the
 * burst's set throughout. A local of process_burst, which track_one is
 * inlined into, so that the run stays in registers.
 */
struct rule_run {
	uint32_t ref;   /* the run's rule reference */
	uint32_t pkts;  /* and its packets and bytes not yet added */
	uint64_t bytes;
	unsigned first; /* packets passed on connections established both ways */
};

static void rule_run_add(struct rw_worker *w, const struct rw_ruleset *rs, uint32_t ref,
			 uint32_t pkts, uint64_t bytes)
{
	uint32_t rule;

	if (pkts && rule_ref_current(rs, ref, &rule))
		count_rule(w, rs, rule, pkts, bytes);
}

/* Stage 5 for packet i (p): track it against its connection. Returns true
 * on a miss (the rules must decide); the caller counts hits and misses
 * once a burst. verdict[i] is RW_PASS already. Always inlined: as a call
 * it kept the run in memory and cost a frame and ~20 instructions a
 * packet. */
static inline __attribute__((always_inline)) bool
track_one(struct rw_worker *w, const struct rw_ruleset *rs, struct rw_pkt *p, unsigned i,
	  uint64_t now, unsigned *verdict, struct rule_run *run)
{
	unsigned reason = RW_PASS;
	uint32_t ref = 0;

	switch (rw_state_track(w->state, p, now, &ref, &reason)) {
	case RW_TRACK_PASS:
		if (unlikely(ref != run->ref)) {
			rule_run_add(w, rs, run->ref, run->pkts, run->bytes);
			run->ref = ref;
			run->pkts = 0;
			run->bytes = 0;
		}
		run->pkts++;
		run->bytes += w->frames[i].len;
		run->first += p->ct_solid;
		return false;
	case RW_TRACK_DROP:
		verdict[i] = reason;
		return false;
	default:
		return true;
	}
}

/* True when p belongs to the same connection as an earlier miss of this
 * burst (same symmetric hash): its state may be about to be created. */
static bool follows_miss(const struct rw_pkt *p, const uint64_t *mhash, unsigned nmh)
{
	return p->ct_prep && hash_seen(mhash, nmh, p->hash);
}

static unsigned process_burst(struct rw_worker *w, const struct rw_ruleset *rs, struct rw_port *in,
			      unsigned q, unsigned n)
{
	struct rw_pkt *tracked[RW_BURST];
	uint8_t idx[RW_BURST], miss[RW_BURST], later[RW_BURST];
	uint64_t mhash[RW_BURST];
	/* RW_PASS (0) unless a stage writes another verdict: the hits, most
	 * packets, need no store */
	unsigned verdict[RW_BURST] = {0};
	unsigned nt = 0, nmiss = 0, nlater = 0, nmh = 0, nmisses;
	uint64_t now = frame_now(w, &w->frames[n - 1]);

	static_assert(RW_PASS == 0, "verdict[] starts as all RW_PASS");
	w->last_ts = now;
	struct rw_port_stats *pin = &w->st.port[in->index];
	uint64_t rx_bytes = 0;

	/* the option tested once a burst: one copy of the loop for each value */
	if (likely(!w->parse.verify_l4_csum))
		nt = parse_burst(w, rs, in->index, n, true, verdict, tracked, idx, &rx_bytes);
	else
		nt = parse_burst(w, rs, in->index, n, false, verdict, tracked, idx, &rx_bytes);
	/* once a burst: the counters live in memory the calls above may
	 * write, so per-packet increments would be loads and stores */
	pin->rx_pkts += n;
	pin->rx_bytes += rx_bytes;

	struct rule_run run = {0};

	rw_state_prefetch(w->state, tracked, nt);

	/* A packet of a connection whose first packet missed earlier in this
	 * burst (a SYN and the client's next segment, say) waits until the
	 * misses have been judged and their state created, then is tracked in
	 * arrival order: batching must not change a verdict. */
	for (unsigned j = 0; j < nt; j++) {
		struct rw_pkt *p = tracked[j];
		/* its frame's index: kept beside the pointer, as working it
		 * out from the pointer (a division by the descriptor's size)
		 * cost more than filling and reading idx[] */
		unsigned i = idx[j];
		bool prep = p->ct_prep; /* tracking consumes it; the hash stays */

		if (unlikely(nmh && follows_miss(p, mhash, nmh))) {
			later[nlater++] = (uint8_t)i;
			continue;
		}
		if (unlikely(track_one(w, rs, p, i, now, verdict, &run))) {
			miss[nmiss++] = (uint8_t)i;
			if (prep)
				mhash[nmh++] = p->hash;
		}
	}
	nmisses = nmiss;
	if (nmiss)
		judge_misses(w, rs, miss, nmiss, verdict, now);
	for (unsigned j = 0; j < nlater; j++) {
		if (track_one(w, rs, &w->pkts[later[j]], later[j], now, verdict, &run)) {
			nmisses++;
			judge_misses(w, rs, &later[j], 1, verdict, now);
		}
	}
	rule_run_add(w, rs, run.ref, run.pkts, run.bytes);
	/* every tracked packet was judged once, here or after the misses */
	w->st.state_hits += nt - nmisses;
	w->st.state_misses += nmisses;

	finish_burst(w, in, q, n, verdict, run.first, rx_bytes);
	if (unlikely(w->sp && w->sp->nout))
		rw_worker_synproxy_emit(w, in, q);
	if (unlikely(w->frag_ndone))
		frag_emit(w, in, q, n, verdict);
	if (unlikely(w->frag))
		rw_frag_expire(w->frag, now, rs->cfg.timeouts[RW_TO_FRAG] * 1000000000ull, EXPIRE_BUDGET_BUSY);
	if (w->eng->rings && unlikely(rw_state_alg(w->state)->nout))
		send_alg(w);
	rw_state_expire_paced(w->state, now, EXPIRE_BUDGET_BUSY);
	w->st.bursts++;
	return n;
}

unsigned rw_worker_poll(struct rw_worker *w)
{
	struct rw_engine *e = w->eng;
	const struct rw_ruleset *rs = atomic_load_explicit(&e->rs, memory_order_acquire);
	unsigned total = 0;

	if (unlikely(atomic_load_explicit(&w->call, memory_order_relaxed)))
		rw_worker_serve_call(w);

	/* A new set's timeouts and limits first, so that they are in force
	 * when the reload sees the generation announced. */
	if (unlikely(w->cfg_gen != rs->gen))
		rw_worker_apply_config(w, rs);
	/* Announce the generation in use before touching the set: a reload
	 * frees the old set only after every worker has announced the new. */
	atomic_store_explicit(&w->seen_gen, rs->gen, memory_order_release);

	if (e->rings)
		drain_alg(w, e->frame_clock ? w->last_ts : rw_now_ns());

	for (unsigned k = 0; k < w->nrxq; k++) {
		struct rw_port *p = w->rxq[k].port;
		unsigned q = w->rxq[k].queue;
		unsigned n = p->ops->rx_burst(p, q, w->frames, RW_BURST);

		if (!n)
			continue;
		/* Again after receiving: an expectation announced before a
		 * data connection's SYN reached this worker must be here before
		 * the SYN is judged, even if this thread paused after the drain
		 * above. An empty ring costs one load. */
		if (e->rings)
			drain_alg(w, e->frame_clock ? w->last_ts : rw_now_ns());
		total += process_burst(w, rs, p, q, n);
	}
	for (unsigned k = 0; k < e->nports; k++)
		if (e->ports[k].ops->flush)
			e->ports[k].ops->flush(&e->ports[k], w->id % e->ports[k].nqueues);
	if (!total && !e->frame_clock)
		rw_state_expire(w->state, rw_now_ns(), EXPIRE_BUDGET_IDLE);
	return total;
}

static bool all_eof(const struct rw_engine *e)
{
	for (unsigned k = 0; k < e->nports; k++)
		if (!e->ports[k].ops->eof || !e->ports[k].ops->eof((struct rw_port *)&e->ports[k]))
			return false;
	return true;
}

void *rw_worker_main(void *arg)
{
	struct rw_worker *w = arg;
	struct rw_engine *e = w->eng;

	while (!atomic_load_explicit(&e->stop, memory_order_relaxed)) {
		if (!rw_worker_poll(w) && e->offline && all_eof(e))
			break;
	}
	/* Parked: a reload must not wait for a worker that has stopped. */
	atomic_store_explicit(&w->seen_gen, UINT32_MAX, memory_order_release);
	/* A call posted before we parked still runs here; later ones run on
	 * the caller's thread (rw_worker_call sees the park). */
	rw_worker_serve_call(w);
	return NULL;
}
