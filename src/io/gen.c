/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen: an in-memory traffic generator behind the port seam, so that
 * `ringwall bench` measures the same worker code live ports feed.
 *
 *   gen:PROFILE[,flows=N][,zipf=S][,size=B][,new=P][,seed=N][,clock=NS]
 *
 * PROFILE is established, syn-flood or mixed (src/io/gen.h, docs/bench.md).
 * clock=NS stamps every frame with a time NS ns after the queue's previous
 * frame, and the worker goes by it instead of the system clock (bench
 * --virtual-clock: simulated runs pace expiry as a native run would).
 * Two ports with the same argument are one group (gen.h says which side is
 * which). A group runs in phases:
 *
 *   warm   each queue opens its flows with a real handshake, 32 at a time:
 *          SYNs on the client port, then the SYN|ACKs on the server port
 *          (the worker polls the ports in that order, so the SYN has made
 *          state first), then the ACKs on the client port
 *   run    after rw_gen_start(): random flows, one burst each way per poll
 *   stop   nothing more
 *
 * Frames are built from per-kind templates whose checksums were summed once
 * with the variable fields zero; a packet stores the template's constant
 * bytes and its addresses, ports and sequence numbers, and adds those to the
 * sums (RFC 1624's incremental update done from the template). Every frame
 * costs instructions the firewall's packets/s pays for on the same core, so
 * build() and traffic() are written for few of them (comments say how).
 * The generator keeps no per-flow state: a flow's segments
 * repeat its first sequence numbers (zero-length ACKs at 64 bytes, an
 * in-window retransmission with data at 128 bytes and more), so it costs no
 * cache miss of its own and the firewall's misses are the only ones.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <endian.h>
#include <arpa/inet.h>

#include "gen.h"

/* Frames a queue can have out at once: the worker returns each burst's
 * frames before its next rx, and it holds at most one burst per port. */
#define GEN_SLOTS (4 * RW_BURST)

/* Groups open at once (one per pair of ports; a process runs one engine). */
#define GEN_MAX_GROUPS 8

#define GEN_HDR 54 /* Ethernet + IPv4 + TCP without options */

enum gen_kind { K_SYN, K_SYNACK, K_ACK, K_DATA_CS, K_DATA_SC, K_MAX };

enum gen_phase { PH_WARM = 0, PH_RUN = 1, PH_STOP = 2 };

/*
 * A kind of frame. Its header is these constants and the flow's fields;
 * build() stores both, every frame, so a slot's last use never matters.
 * Bytes 52..63 (urgent pointer, padding or payload) are zero in every kind:
 * they keep the zeros the pool was made with, as the payload does.
 */
struct gen_tmpl {
	uint8_t head[24];         /* 0..23: Ethernet, IPv4 up to the checksum */
	uint32_t ipsum;           /* IPv4 header's words (host order), checksum zero,
				   * addresses at their networks (make_kind) */
};

/* A kind's flows f by f & 63 (the flow model's ports depend on f & 63 only,
 * gen.h): TCP header bytes 0..15 with the ports, seq and ack zero, and the
 * checksums' sums (make_kind). 32 bytes: one shift indexes all. */
struct gen_flowent {
	uint8_t tcp[16];
	uint32_t tcpsum;          /* with those ports */
	uint32_t ipsum;           /* the kind's (gen_tmpl), in every entry: read from
				   * here, it takes the burst loop no register */
	uint32_t pad[2];
};

struct gen_queue {
	uint64_t rng;
	uint64_t nflows;          /* established flows this queue owns */
	uint64_t next_new;        /* new flows made so far */
	uint64_t warm_cur;        /* flows handshaken */
	uint32_t warm_n;          /* flows in the handshake step under way */
	uint8_t warm_step;        /* 0 SYN due, 1 SYN|ACK due, 2 ACK due */
	uint32_t zpos;
	uint32_t *zseq;           /* Zipf ranks, or NULL for uniform */
	uint64_t made[2];         /* traffic frames per side since start */
	uint64_t warm_pkts, bytes, new_flows, tx_pkts, released;
	uint64_t unowned;         /* frames given back that no slot of ours holds */
	uint64_t clock;           /* clock=: the time the last frame made carries, ns */
	uint8_t *buf;             /* GEN_SLOTS frames of stride bytes */
	uint32_t nfree;
	uint16_t free[GEN_SLOTS]; /* handles of the free slots */
	uint8_t *frame[GEN_SLOTS + 1]; /* frame[h]: the frame of handle h (slot h - 1;
					* a load, where the address was a multiply) */
} rw_cache_aligned;

struct gen_group {
	char arg[256];
	struct rw_gen_opts o;
	unsigned nports, nqueues, refs;
	struct rw_port *port[2];
	_Atomic int phase;
	uint64_t limit;           /* traffic frames per side per queue */
	uint32_t stride;
	uint16_t payload;         /* data bytes of K_DATA_* segments */
	unsigned new_thresh;      /* client packet is new when 10 random bits < this */
	uint8_t sides;            /* bit s: side s sends traffic after start */
	struct gen_tmpl tmpl[K_MAX];
	struct gen_flowent tab[K_MAX][64];
	struct gen_queue *q;
};

static struct gen_group *groups[GEN_MAX_GROUPS];

static const char *const profile_names[] = {"established", "syn-flood", "mixed"};

static int parse_u64(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || x < lo || x > hi)
		return -EINVAL;
	*out = x;
	return 0;
}

static int parse_opt(const char *key, const char *val, struct rw_gen_opts *o)
{
	uint64_t x;
	char *end;

	if (!strcmp(key, "flows")) {
		if (parse_u64(val, 1, RW_GEN_MAX_FLOWS, &o->flows))
			return -EINVAL;
	} else if (!strcmp(key, "zipf")) {
		o->zipf = strtod(val, &end);
		if (end == val || *end || !(o->zipf >= 0 && o->zipf <= 10))
			return -EINVAL;
	} else if (!strcmp(key, "size")) {
		if (parse_u64(val, RW_GEN_MIN_FRAME, RW_GEN_MAX_FRAME, &x))
			return -EINVAL;
		o->frame_size = (unsigned)x;
	} else if (!strcmp(key, "new")) {
		if (parse_u64(val, 0, 100, &x))
			return -EINVAL;
		o->new_pct = (unsigned)x;
	} else if (!strcmp(key, "seed")) {
		if (parse_u64(val, 0, UINT64_MAX, &o->seed))
			return -EINVAL;
	} else if (!strcmp(key, "clock")) {
		if (parse_u64(val, 1, 1000000000, &o->clock_ns))
			return -EINVAL;
	} else {
		return -ENOENT;
	}
	return 0;
}

int rw_gen_parse(const char *arg, struct rw_gen_opts *o, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *tok;
	size_t i;

	*o = (struct rw_gen_opts){.flows = 1000, .frame_size = 64, .new_pct = 10, .seed = 1};
	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "gen: argument too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	tok = strtok_r(buf, ",", &save);
	for (i = 0; tok && i < RW_ARRAY_SIZE(profile_names); i++)
		if (!strcmp(tok, profile_names[i]))
			break;
	if (!tok || i == RW_ARRAY_SIZE(profile_names)) {
		snprintf(err, errlen, "gen: unknown profile '%s' (established, syn-flood, mixed)",
			 tok ? tok : "");
		return -EINVAL;
	}
	o->profile = (unsigned)i;
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		int r;

		if (!eq) {
			snprintf(err, errlen, "gen: option '%s' needs a value (name=value)", tok);
			return -EINVAL;
		}
		*eq = 0;
		r = parse_opt(tok, eq + 1, o);
		if (r == -ENOENT) {
			snprintf(err, errlen, "gen: unknown option '%s' (flows, zipf, size, new, seed, clock)", tok);
			return -EINVAL;
		}
		if (r) {
			snprintf(err, errlen, "gen: bad value '%s' for %s", eq + 1, tok);
			return -EINVAL;
		}
	}
	return 0;
}

static int gen_check(const char *arg, char *err, size_t errlen)
{
	struct rw_gen_opts o;

	return rw_gen_parse(arg, &o, err, errlen);
}

/* The 16-bit big-endian words of buf summed in host order (a checksum's
 * sum before folding). */
static uint32_t sum16(const uint8_t *buf, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)buf[i] << 8 | buf[i + 1];
	return s;
}

/* a + b with the end-around carry: a sum of 16-bit words that stays below
 * 2^32 and keeps its checksum (2^32 = 1 as 2^16 is). */
static inline uint32_t add_c(uint32_t a, uint32_t b)
{
	a += b;
	return a + (a < b);
}

/* The checksum of x, a sum of 16-bit words in host order, stored at p in
 * network order: x plus itself rotated by 16 bits has in its top half both
 * halves' sum with the end-around carry; complemented, that is the
 * checksum, and its two bytes come first in the big-endian word. */
static inline void put_csum(uint8_t *p, uint32_t x)
{
	uint32_t v;

	x += x >> 16 | x << 16;
	v = htonl(~x);
	memcpy(p, &v, 2);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static bool kind_back(unsigned k)
{
	return k == K_SYNACK || k == K_DATA_SC; /* server to client */
}

/*
 * Kind k's template and flow table. Its sums are taken with the addresses
 * at their networks (gen.h), seq and ack zero: build() adds the addresses'
 * varying bits to both (the pseudo header repeats the addresses), and seq
 * and ack to the TCP sum. The TCP sum also holds the ports, so it is
 * tabulated by f & 63 as they are.
 */
static void make_kind(struct gen_group *g, unsigned k, uint8_t flags, uint16_t payload)
{
	struct gen_tmpl *t = &g->tmpl[k];
	bool back = kind_back(k);
	uint8_t b[64] = {0}, pseudo[12] = {0};
	uint16_t ip_len = (uint16_t)(20 + 20 + payload);

	/* locally administered MACs; the bridge does not look at them */
	memcpy(b, back ? "\x02\0\0\0\0\x01" "\x02\0\0\0\0\x02" : "\x02\0\0\0\0\x02" "\x02\0\0\0\0\x01", 12);
	put16(b + 12, 0x0800);
	b[14] = 0x45;
	put16(b + 16, ip_len);
	put16(b + 20, 0x4000); /* DF */
	b[22] = 64;
	b[23] = 6;
	put32(b + 26, back ? RW_GEN_SERVER_NET : RW_GEN_CLIENT_NET);
	put32(b + 30, back ? RW_GEN_CLIENT_NET : RW_GEN_SERVER_NET);
	b[14 + 20 + 12] = 5 << 4;
	b[14 + 20 + 13] = flags;
	put16(b + 14 + 20 + 14, 65535);
	memcpy(t->head, b, 24);
	t->ipsum = sum16(b + 14, 20);
	memcpy(pseudo, b + 26, 8);
	pseudo[9] = 6;
	put16(pseudo + 10, (uint16_t)(20 + payload));
	for (uint64_t i = 0; i < 64; i++) {
		struct gen_flowent *e = &g->tab[k][i];
		struct rw_gen_flow fl;

		rw_gen_flow(i, &fl);
		put16(b + 34, back ? fl.sport : fl.cport);
		put16(b + 36, back ? fl.cport : fl.sport);
		memcpy(e->tcp, b + 34, 16);
		e->tcpsum = sum16(pseudo, 12) + sum16(b + 34, 20); /* payload is zeros */
		e->ipsum = t->ipsum;
	}
}

/*
 * Write flow f's frame of kind k into b: the kind's constants, the flow's
 * addresses, ports and sequence numbers, then both checksums from the
 * kind's sums: a checksum is a sum of 16-bit words modulo 0xffff, in which
 * a 32-bit value counts as its own value (2^16 = 1), so the addresses' bits
 * that vary, seq and ack are added as 32-bit integers (with end-around
 * carries where the sum could pass 2^32), and each sum folded once. The
 * kind's ports come with its TCP bytes and sum, tabulated by f & 63.
 * Always inlined: with k a constant the choices below are made at
 * compile time, and t a local copy lets the template stay in registers
 * (stores through b could alias anything else).
 */
static inline __attribute__((always_inline)) void build(const struct gen_tmpl *t,
							const struct gen_flowent *ft, uint8_t *b,
							unsigned k, uint64_t f)
{
	bool back = kind_back(k);
	const struct gen_flowent *e = &ft[f & 63];
	struct rw_gen_flow fl;
	uint32_t seq, ack, var;
	uint64_t addrs;

	rw_gen_flow(f, &fl);
	seq = (back ? fl.sisn : fl.cisn) + (k != K_SYN && k != K_SYNACK);
	ack = k == K_SYN ? 0 : (back ? fl.cisn : fl.sisn) + 1;
	/* below 2^24 + 2^17 (gen.h): the IPv4 sum stays below 2^32 */
	var = (fl.caddr ^ RW_GEN_CLIENT_NET) + (fl.saddr ^ RW_GEN_SERVER_NET);
	/* both addresses as one big-endian 64-bit word: one swap */
	addrs = back ? (uint64_t)fl.saddr << 32 | fl.caddr : (uint64_t)fl.caddr << 32 | fl.saddr;
	addrs = htobe64(addrs);
	/* 0..23 as two overlapping 16-byte copies, TCP 0..15 as one (three
	 * vector stores), then what varies over them */
	memcpy(b, t->head, 16);
	memcpy(b + 8, t->head + 8, 16);
	memcpy(b + 34, e->tcp, 16);
	memcpy(b + 26, &addrs, 8);
	put32(b + 38, seq);
	put32(b + 42, ack);
	put_csum(b + 24, e->ipsum + var);
	put_csum(b + 50, add_c(add_c(seq, ack), e->tcpsum + var));
}

/* Frames carry handle slot + 1: handle 0 is "a frame no pool owns" to every
 * backend (the SYN proxy's own frames come to tx_burst with it). */
static inline uint8_t *take(struct gen_queue *gq, uint32_t len, size_t *nfree, struct rw_frame *fr)
{
	uint16_t h = gq->free[--*nfree];

	fr->data = gq->frame[h];
	fr->len = len;
	fr->ts_ns = 0; /* the worker reads its clock once a burst */
	fr->handle = h;
	return fr->data;
}

/* clock=: the frames' times, each frame NS after the one made before it. */
static void stamp(const struct gen_group *g, struct gen_queue *gq, struct rw_frame *f, unsigned n)
{
	uint64_t t = gq->clock, ns = g->o.clock_ns;

	if (!ns)
		return;
	for (unsigned i = 0; i < n; i++) {
		t += ns;
		f[i].ts_ns = t;
	}
	gq->clock = t;
}

/* Warm-up, one step of the handshake of up to a burst of flows. */
static unsigned warm_burst(struct gen_group *g, struct gen_queue *gq, unsigned side, unsigned q,
			   struct rw_frame *f, unsigned max)
{
	struct gen_tmpl t;
	unsigned k, n;
	size_t nfree = gq->nfree;

	if (gq->warm_cur >= gq->nflows)
		return 0;
	if (side == 0 && gq->warm_step == 0) {
		gq->warm_n = (uint32_t)RW_MIN((uint64_t)max, gq->nflows - gq->warm_cur);
		k = K_SYN;
		gq->warm_step = g->nports == 2 ? 1 : 2;
	} else if (side == 1 && gq->warm_step == 1) {
		k = K_SYNACK;
		gq->warm_step = 2;
	} else if (side == 0 && gq->warm_step == 2) {
		k = K_ACK;
		gq->warm_step = 0;
	} else {
		return 0;
	}
	t = g->tmpl[k];
	n = RW_MIN(gq->warm_n, max);
	n = RW_MIN(n, nfree);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *b = take(gq, g->o.frame_size, &nfree, &f[i]);

		build(&t, g->tab[k], b, k, rw_gen_flow_id(gq->warm_cur + i, q, g->nqueues));
	}
	gq->nfree = (uint32_t)nfree;
	stamp(g, gq, f, n);
	if (k == K_ACK)
		gq->warm_cur += n;
	gq->warm_pkts += n;
	return n;
}

/*
 * n frames of one side's traffic, all of kind k but the new flows' SYNs
 * (may_new: the client side of syn-flood and mixed), flows drawn from the
 * Zipf sequence or uniformly (zipf). Inlined once per (k, may_new, zipf),
 * so the per-packet loop has no test of the side, the profile or the law;
 * the queue's state is in locals for the loop, written back after it,
 * because the frame stores could alias it.
 */
static inline __attribute__((always_inline)) void traffic(struct gen_group *g, struct gen_queue *gq,
							  unsigned q, struct rw_frame *f, unsigned n,
							  unsigned k, bool may_new, bool zipf)
{
	const struct gen_tmpl t = g->tmpl[k], syn = g->tmpl[K_SYN];
	const uint32_t *zseq = gq->zseq;
	uint64_t rng = gq->rng, nflows = gq->nflows, first_new = gq->next_new, next_new = first_new;
	uint32_t zpos = gq->zpos, len = g->o.frame_size;
	size_t nfree = gq->nfree;
	unsigned nq = g->nqueues, thresh = g->new_thresh;

	for (unsigned i = 0; i < n; i++) {
		uint64_t r = rw_gen_rand(&rng);
		uint8_t *b = take(gq, len, &nfree, &f[i]);

		if (may_new && (r >> 54) < thresh) {
			/* a new flow: numbered past the established ones */
			build(&syn, g->tab[K_SYN], b, K_SYN, rw_gen_flow_id(nflows + next_new++, q, nq));
		} else {
			uint64_t j = zipf ? zseq[zpos++ & (RW_GEN_ZSEQ_LEN - 1)] : rw_gen_below(r, nflows);

			build(&t, g->tab[k], b, k, rw_gen_flow_id(j, q, nq));
		}
	}
	gq->rng = rng;
	gq->zpos = zpos;
	gq->nfree = (uint32_t)nfree;
	gq->next_new = next_new;
	gq->new_flows += next_new - first_new;
	gq->bytes += (uint64_t)n * len;
}

/* traffic() with the flow law a constant. */
static inline __attribute__((always_inline)) void traffic_law(struct gen_group *g, struct gen_queue *gq,
							      unsigned q, struct rw_frame *f, unsigned n,
							      unsigned k, bool may_new)
{
	if (gq->zseq)
		traffic(g, gq, q, f, n, k, may_new, true);
	else
		traffic(g, gq, q, f, n, k, may_new, false);
}

/* Traffic: a burst of one side's packets. */
static unsigned run_burst(struct gen_group *g, struct gen_queue *gq, unsigned side, unsigned q,
			  struct rw_frame *f, unsigned max)
{
	uint64_t left = (g->sides >> side & 1) ? g->limit - gq->made[side] : 0;
	unsigned n = (unsigned)RW_MIN((uint64_t)RW_MIN(max, gq->nfree), left);

	if (side)
		traffic_law(g, gq, q, f, n, K_DATA_SC, false);
	else if (g->new_thresh)
		traffic_law(g, gq, q, f, n, K_DATA_CS, true);
	else
		traffic_law(g, gq, q, f, n, K_DATA_CS, false);
	stamp(g, gq, f, n);
	gq->made[side] += n;
	return n;
}

static unsigned gen_rx(struct rw_port *p, unsigned q, struct rw_frame *f, unsigned max)
{
	struct gen_group *g = p->priv;
	struct gen_queue *gq = &g->q[q];
	int ph = atomic_load_explicit(&g->phase, memory_order_relaxed);

	if (ph == PH_RUN)
		return run_burst(g, gq, p->index & 1, q, f, max);
	if (ph == PH_WARM)
		return warm_burst(g, gq, p->index & 1, q, f, max);
	return 0;
}

/*
 * Frames back to the pool. A frame of ours has a handle in 1..GEN_SLOTS;
 * others (handle 0: the SYN proxy's frames, or garbage) are counted and
 * left alone. Only a frame given back twice can make more come back than
 * are out: the free list's room is checked once a burst. The handles are
 * copied first and checked together (h - 1 ORed over the burst stays below
 * GEN_SLOTS, a power of two, only if each does); a burst with a foreign
 * frame is copied again, one check a frame.
 */
static void give_back(struct gen_queue *gq, const struct rw_frame *f, unsigned n)
{
	size_t nfree = gq->nfree;
	uint64_t any = 0;

	static_assert((GEN_SLOTS & (GEN_SLOTS - 1)) == 0, "GEN_SLOTS a power of two");
	if (unlikely(n > GEN_SLOTS - nfree)) {
		gq->unowned += n - (GEN_SLOTS - nfree);
		n = GEN_SLOTS - nfree;
	}
#pragma GCC unroll 4
	for (unsigned i = 0; i < n; i++) {
		any |= f[i].handle - 1;
		gq->free[nfree + i] = (uint16_t)f[i].handle;
	}
	if (likely(any < GEN_SLOTS)) {
		gq->nfree = (uint32_t)(nfree + n);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t h = f[i].handle;

		if (unlikely(h - 1 >= GEN_SLOTS)) {
			gq->unowned++;
			continue;
		}
		gq->free[nfree++] = (uint16_t)h;
	}
	gq->nfree = (uint32_t)nfree;
}

static unsigned gen_tx(struct rw_port *p, unsigned q, struct rw_frame *f, unsigned n)
{
	struct gen_group *g = p->priv;

	g->q[q].tx_pkts += n;
	give_back(&g->q[q], f, n);
	return n;
}

static void gen_release(struct rw_port *p, unsigned q, struct rw_frame *f, unsigned n)
{
	struct gen_group *g = p->priv;

	g->q[q].released += n;
	give_back(&g->q[q], f, n);
}

static bool gen_eof(struct rw_port *p)
{
	struct gen_group *g = p->priv;

	return atomic_load(&g->phase) == PH_STOP;
}

static void free_group(struct gen_group *g)
{
	for (unsigned i = 0; g->q && i < g->nqueues; i++) {
		free(g->q[i].buf);
		free(g->q[i].zseq);
	}
	free(g->q);
	free(g);
}

static void gen_close(struct rw_port *p)
{
	struct gen_group *g = p->priv;

	if (!g)
		return;
	p->priv = NULL;
	if (--g->refs)
		return;
	for (unsigned i = 0; i < GEN_MAX_GROUPS; i++)
		if (groups[i] == g)
			groups[i] = NULL;
	free_group(g);
}

static int init_queue(struct gen_group *g, unsigned q)
{
	struct gen_queue *gq = &g->q[q];

	gq->nflows = rw_gen_queue_flows(g->o.flows, q, g->nqueues);
	gq->rng = g->o.seed * 0x9e3779b97f4a7c15ull + q + 1;
	if (g->o.clock_ns) {
		/* starts at the monotonic time, as the worker's own clock */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		gq->clock = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	if (g->o.profile == RW_GEN_SYN_FLOOD)
		gq->warm_cur = gq->nflows; /* nothing to open */
	gq->buf = aligned_alloc(RW_CACHELINE, (size_t)GEN_SLOTS * g->stride);
	if (!gq->buf)
		return -ENOMEM;
	memset(gq->buf, 0, (size_t)GEN_SLOTS * g->stride);
	for (unsigned i = 0; i < GEN_SLOTS; i++) {
		gq->free[gq->nfree++] = (uint16_t)(GEN_SLOTS - i);
		gq->frame[i + 1] = gq->buf + (size_t)i * g->stride;
	}
	if (g->o.zipf > 0 && gq->nflows > 0 && g->o.profile != RW_GEN_SYN_FLOOD) {
		gq->zseq = malloc(RW_GEN_ZSEQ_LEN * sizeof(*gq->zseq));
		if (!gq->zseq || rw_gen_zipf_fill(gq->zseq, RW_GEN_ZSEQ_LEN, gq->nflows, g->o.zipf,
						  g->o.seed + q))
			return -ENOMEM;
	}
	return 0;
}

static struct gen_group *new_group(const char *arg, const struct rw_gen_opts *o, unsigned nqueues)
{
	struct gen_group *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	snprintf(g->arg, sizeof(g->arg), "%s", arg);
	g->o = *o;
	g->nqueues = nqueues;
	g->limit = UINT64_MAX;
	g->stride = (RW_MAX(o->frame_size, 64u) + RW_CACHELINE - 1) & ~(RW_CACHELINE - 1u);
	/* below 128 bytes a segment is a bare ACK and the rest padding */
	g->payload = (uint16_t)(o->frame_size >= 128 ? o->frame_size - GEN_HDR : 0);
	switch (o->profile) {
	case RW_GEN_SYN_FLOOD:
		g->new_thresh = 1024;
		g->sides = 1; /* the flood comes from one side; nobody answers */
		break;
	case RW_GEN_MIXED:
		/* new SYNs come from the client side only: twice the share there */
		g->new_thresh = RW_MIN(1024u, o->new_pct * 2 * 1024 / 100);
		break;
	default:
		g->new_thresh = 0;
	}
	if (!g->sides)
		g->sides = 3;
	make_kind(g, K_SYN, 0x02, 0);
	make_kind(g, K_SYNACK, 0x12, 0);
	make_kind(g, K_ACK, 0x10, 0);
	/* data is pushed (PSH|ACK); without data a segment is a plain ACK */
	make_kind(g, K_DATA_CS, g->payload ? 0x18 : 0x10, g->payload);
	make_kind(g, K_DATA_SC, g->payload ? 0x18 : 0x10, g->payload);
	g->q = aligned_alloc(RW_CACHELINE, nqueues * sizeof(*g->q));
	if (!g->q) {
		free(g);
		return NULL;
	}
	memset(g->q, 0, nqueues * sizeof(*g->q));
	for (unsigned i = 0; i < nqueues; i++) {
		if (init_queue(g, i)) {
			free_group(g);
			return NULL;
		}
	}
	return g;
}

/* The open group p joins: same argument, same queues, its side free. */
static struct gen_group *find_group(const char *arg, unsigned side, unsigned nqueues)
{
	for (unsigned i = 0; i < GEN_MAX_GROUPS; i++) {
		struct gen_group *g = groups[i];

		if (g && !strcmp(g->arg, arg) && g->nqueues == nqueues && !g->port[side])
			return g;
	}
	return NULL;
}

static int gen_open(struct rw_port *p, const char *arg, unsigned nqueues, char *err, size_t errlen)
{
	struct rw_gen_opts o;
	struct gen_group *g;
	unsigned side = p->index & 1, slot;
	int ret = rw_gen_parse(arg, &o, err, errlen);

	if (ret)
		return ret;
	if (nqueues == 0 || nqueues > RW_MAX_WORKERS) {
		snprintf(err, errlen, "gen: %u queues", nqueues);
		return -EINVAL;
	}
	if (o.flows < nqueues && o.profile != RW_GEN_SYN_FLOOD) {
		snprintf(err, errlen, "gen: fewer flows (%llu) than workers (%u)",
			 (unsigned long long)o.flows, nqueues);
		return -EINVAL;
	}
	g = find_group(arg, side, nqueues);
	if (!g) {
		for (slot = 0; slot < GEN_MAX_GROUPS && groups[slot]; slot++)
			;
		if (slot == GEN_MAX_GROUPS) {
			snprintf(err, errlen, "gen: too many generator ports");
			return -EMFILE;
		}
		g = new_group(arg, &o, nqueues);
		if (!g) {
			snprintf(err, errlen, "gen: out of memory");
			return -ENOMEM;
		}
		groups[slot] = g;
	}
	g->port[side] = p;
	g->nports++;
	g->refs++;
	p->priv = g;
	p->clocked = o.clock_ns != 0;
	return 0;
}

bool rw_gen_is(const struct rw_port *p)
{
	return p->ops == &rw_port_gen_ops;
}

bool rw_gen_warm_done(const struct rw_port *p, unsigned q)
{
	const struct gen_group *g = p->priv;

	return g->q[q].warm_cur >= g->q[q].nflows;
}

void rw_gen_start(struct rw_port *p, uint64_t limit)
{
	struct gen_group *g = p->priv;

	g->limit = limit;
	atomic_store(&g->phase, PH_RUN);
}

void rw_gen_stop(struct rw_port *p)
{
	struct gen_group *g = p->priv;

	atomic_store(&g->phase, PH_STOP);
}

bool rw_gen_queue_done(const struct rw_port *p, unsigned q)
{
	const struct gen_group *g = p->priv;

	if (atomic_load_explicit(&g->phase, memory_order_relaxed) == PH_STOP)
		return true;
	for (unsigned s = 0; s < 2; s++)
		if (g->port[s] && (g->sides >> s & 1) && g->q[q].made[s] < g->limit)
			return false;
	return true;
}

void rw_gen_counts(const struct rw_port *p, struct rw_gen_counts *out)
{
	const struct gen_group *g = p->priv;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < g->nqueues; i++) {
		const struct gen_queue *gq = &g->q[i];

		out->warm_pkts += gq->warm_pkts;
		out->pkts += gq->made[0] + gq->made[1];
		out->bytes += gq->bytes;
		out->new_flows += gq->new_flows;
		out->tx_pkts += gq->tx_pkts;
		out->released += gq->released;
		out->unowned += gq->unowned;
	}
}

const struct rw_port_ops rw_port_gen_ops = {
	.scheme = "gen",
	.check = gen_check,
	.open = gen_open,
	.rx_burst = gen_rx,
	.tx_burst = gen_tx,
	.release = gen_release,
	.eof = gen_eof,
	.close = gen_close,
};
