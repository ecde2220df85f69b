/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The in-memory generator ("gen:" ports, gen.c) and its flow model.
 *
 * The flow model is here, inline, so that bench/rte_hash_peer.c drives
 * DPDK's rte_hash with exactly the keys and the access pattern the
 * generator feeds the worker: flow f of queue q, chosen by the same PRNG
 * or the same Zipf sequence.
 *
 * Two gen ports with the same argument form one group: port index 0 is the
 * client side (it sends SYN, the handshake's ACK and client->server data),
 * index 1 the server side (SYN|ACK and server->client data). Both ports'
 * queue q share one frame pool and one traffic state, served by the one
 * worker that polls queue q of both.
 */
#ifndef RW_GEN_H
#define RW_GEN_H

#include <math.h>
#include <stdlib.h>

#include "../common.h"
#include "port.h"

enum rw_gen_profile {
	RW_GEN_ESTABLISHED = 0, /* handshake every flow, then in-window segments both ways */
	RW_GEN_SYN_FLOOD = 1,   /* every client packet a SYN of a new flow */
	RW_GEN_MIXED = 2,       /* established, with a share of new SYNs */
};

struct rw_gen_opts {
	unsigned profile;       /* enum rw_gen_profile */
	uint64_t flows;         /* established flows, all queues together */
	double zipf;            /* Zipf exponent over flows; 0 = uniform */
	unsigned frame_size;    /* bytes per frame (no FCS), 60..2048 */
	unsigned new_pct;       /* mixed: per cent of all packets that are new SYNs */
	uint64_t seed;
	uint64_t clock_ns;      /* > 0: frames carry a clock that advances this many ns a
				 * frame, and the worker goes by it (clock=) */
};

/* Most flows a group can give distinct tuples (24 bits of client address
 * times 64 client ports). */
#define RW_GEN_MAX_FLOWS (1ull << 30)
#define RW_GEN_MIN_FRAME 60
#define RW_GEN_MAX_FRAME 2048

int rw_gen_parse(const char *arg, struct rw_gen_opts *o, char *err, size_t errlen);

/* True when p is a gen port. */
bool rw_gen_is(const struct rw_port *p);

/* Queue q of p's group has opened every flow (handshake done). */
bool rw_gen_warm_done(const struct rw_port *p, unsigned q);

/* Start traffic on p's group (after warm-up, or at once for gen-only runs):
 * each queue produces up to limit packets per port (UINT64_MAX: no limit). */
void rw_gen_start(struct rw_port *p, uint64_t limit);

/* Stop producing (duration reached). */
void rw_gen_stop(struct rw_port *p);

/* Queue q has produced its limit on every port. */
bool rw_gen_queue_done(const struct rw_port *p, unsigned q);

struct rw_gen_counts {
	uint64_t warm_pkts;     /* handshake frames produced */
	uint64_t pkts, bytes;   /* traffic frames produced (after start) */
	uint64_t new_flows;     /* SYNs of new flows among them */
	uint64_t tx_pkts;       /* frames that came back through tx_burst */
	uint64_t released;      /* frames that came back through release */
	uint64_t unowned;       /* of both: frames not from the pool (left alone) */
};
void rw_gen_counts(const struct rw_port *p, struct rw_gen_counts *out);

/* ---- flow model (inline: shared with bench/rte_hash_peer.c) ---- */

struct rw_gen_flow {
	uint32_t caddr, saddr;  /* host order */
	uint16_t cport, sport;
	uint32_t cisn, sisn;    /* initial sequence numbers */
};

#define RW_GEN_CLIENT_NET 0x0a000000u /* 10.0.0.0/8 */
#define RW_GEN_SERVER_NET 0xc6120000u /* 198.18.0.0/15 */

/* Flow f's tuple. The client (address, port) is unique per f below
 * RW_GEN_MAX_FLOWS: 10.0.0.0/8 times 64 ports. Servers spread over
 * 198.18.0.0/15 (RFC 2544's benchmarking range), ports 80 and 443. Both
 * ports are functions of f & 63: gen.c tabulates them that way. Each
 * address is its network ORed with fewer than 25 varying bits: gen.c sums
 * those bits for the checksums in 32 bits. */
static inline void rw_gen_flow(uint64_t f, struct rw_gen_flow *fl)
{
	uint32_t h = (uint32_t)f * 0x9e3779b1u;

	fl->caddr = RW_GEN_CLIENT_NET | (uint32_t)((f >> 6) & 0xffffff);
	fl->cport = (uint16_t)(20000 + (f & 63));
	fl->saddr = RW_GEN_SERVER_NET | (h >> 15);
	fl->sport = (f & 1) ? 443 : 80;
	fl->cisn = h ^ 0x2545f491u;
	fl->sisn = h * 0x85ebca6bu + 0x1234567u;
}

/* Flow j of queue q (of nq) as a group-wide flow number. */
static inline uint64_t rw_gen_flow_id(uint64_t j, unsigned q, unsigned nq)
{
	return j * nq + q;
}

/* Flows queue q of nq owns. */
static inline uint64_t rw_gen_queue_flows(uint64_t flows, unsigned q, unsigned nq)
{
	return flows / nq + (q < flows % nq);
}

/* wyrand: one multiply a number, good enough for picking flows. */
static inline uint64_t rw_gen_rand(uint64_t *s)
{
	__uint128_t t;

	*s += 0xa0761d6478bd642full;
	t = (__uint128_t)*s * (*s ^ 0xe7037ed1a0b428dbull);
	return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

/* A number in [0, n) from 32 random bits (Lemire's multiply-shift). */
static inline uint64_t rw_gen_below(uint64_t r, uint64_t n)
{
	return (uint64_t)(((__uint128_t)(uint32_t)r * n) >> 32);
}

/* Zipf draws are precomputed into a sequence that the generator reads in
 * order: sampling a Zipf law per packet costs a pow() or a search, more
 * than the firewall's work. 2^20 draws is 4 MiB a queue, read as a stream. */
#define RW_GEN_ZSEQ_LEN (1u << 20)

/*
 * Fill seq[0..len) with ranks in [0, n) drawn with P(k) ~ 1 / (k + 1)^s,
 * by inverting the cumulative sum. Returns 0 or -ENOMEM. Rank k is flow k
 * of the queue: which flows are hot does not matter to a hashed table.
 */
static inline int rw_gen_zipf_fill(uint32_t *seq, uint32_t len, uint64_t n, double s, uint64_t seed)
{
	double *cdf = malloc(n * sizeof(*cdf)), sum = 0;

	if (!cdf)
		return -12; /* -ENOMEM, without errno.h in every includer */
	for (uint64_t k = 0; k < n; k++) {
		sum += pow((double)(k + 1), -s);
		cdf[k] = sum;
	}
	for (uint32_t i = 0; i < len; i++) {
		double u = (double)(rw_gen_rand(&seed) >> 11) * 0x1.0p-53 * sum;
		uint64_t lo = 0, hi = n - 1;

		while (lo < hi) {
			uint64_t mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		seq[i] = (uint32_t)lo;
	}
	free(cdf);
	return 0;
}

#endif
