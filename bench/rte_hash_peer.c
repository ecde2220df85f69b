/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The peer for `ringwall bench --profile established`: DPDK's rte_hash
 * (Debian's libdpdk-dev) driven with the same connections and the same
 * access pattern. Built and run by bench/run.sh only (not by make):
 *
 *   cc -O2 bench/rte_hash_peer.c -Isrc $(pkg-config --cflags --libs libdpdk) -lm
 *   rte_hash_peer [EAL args] -- --connections N --packets P [--zipf S] [--seed N]
 *
 * Keys are the 16-byte canonical IPv4 keys ringwall builds (struct
 * rw_key4: lower endpoint first, proto, zero pad) of the flows src/io/gen.h
 * defines; the flow sequence is the generator's (its PRNG or its Zipf
 * draws, a burst of 32 client->server packets then 32 server->client, per
 * poll). Per burst: build 32 keys, rte_hash_lookup_bulk, then for each hit
 * update the connection's 64-byte record (last-seen time, a per-direction
 * packet count, the segment's sequence number), the work a tracker does on
 * an established connection, minus the window checks. Filling the table
 * (rte_hash_add_key per connection) is not timed, as ringwall's warm-up is
 * not.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "io/gen.h"

struct key16 {
	uint32_t addr[2];
	uint16_t port[2];
	uint8_t proto, pad[3];
};

/* What a hit updates: one cache line, as ringwall's entry is. */
struct record {
	uint64_t last;
	uint32_t pkts[2];
	uint32_t seq[2];
	uint8_t rest[40];
} __attribute__((aligned(64)));

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void make_key(uint64_t f, struct key16 *k)
{
	struct rw_gen_flow fl;

	rw_gen_flow(f, &fl);
	memset(k, 0, sizeof(*k));
	/* 10.0.0.0/8 sorts before 198.18.0.0/15: the client is endpoint 0 */
	k->addr[0] = htonl(fl.caddr);
	k->addr[1] = htonl(fl.saddr);
	k->port[0] = fl.cport;
	k->port[1] = fl.sport;
	k->proto = 6;
}

struct opts {
	uint64_t conns, packets, seed;
	double zipf;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"connections", required_argument, NULL, 'n'},
		{"packets", required_argument, NULL, 'p'},
		{"zipf", required_argument, NULL, 'z'},
		{"seed", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.conns = 1000, .packets = 20000000, .seed = 1};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->conns = strtoull(optarg, NULL, 10);
			break;
		case 'p':
			o->packets = strtoull(optarg, NULL, 10);
			break;
		case 'z':
			o->zipf = strtod(optarg, NULL);
			break;
		case 's':
			o->seed = strtoull(optarg, NULL, 10);
			break;
		default:
			return -1;
		}
	}
	if (!o->conns || o->conns > RW_GEN_MAX_FLOWS || !o->packets)
		return -1;
	return 0;
}

/* One direction's burst: the generator's draws, keys, lookup, update. */
static unsigned burst(struct rte_hash *h, struct record *rec, uint64_t *rng, const uint32_t *zseq,
		      uint32_t *zpos, uint64_t nflows, unsigned side, uint64_t now)
{
	struct key16 keys[RW_BURST];
	const void *kp[RW_BURST];
	int32_t pos[RW_BURST];
	unsigned hits = 0;

	for (unsigned i = 0; i < RW_BURST; i++) {
		uint64_t r = rw_gen_rand(rng);
		uint64_t f = zseq ? zseq[(*zpos)++ & (RW_GEN_ZSEQ_LEN - 1)] : rw_gen_below(r, nflows);

		make_key(rw_gen_flow_id(f, 0, 1), &keys[i]);
		kp[i] = &keys[i];
	}
	rte_hash_lookup_bulk(h, kp, RW_BURST, pos);
	for (unsigned i = 0; i < RW_BURST; i++) {
		struct record *r;

		if (pos[i] < 0)
			continue;
		r = &rec[pos[i]];
		r->last = now;
		r->pkts[side]++;
		r->seq[side] = keys[i].port[side] + r->pkts[side];
		hits++;
	}
	return hits;
}

int main(int argc, char **argv)
{
	struct rte_hash_parameters hp = {0};
	struct rte_hash *h;
	struct record *rec;
	struct opts o;
	uint32_t *zseq = NULL, zpos = 0;
	uint64_t rng, hits = 0, done = 0, t0, t1;
	int n = rte_eal_init(argc, argv);

	if (n < 0) {
		fprintf(stderr, "rte_hash_peer: EAL init failed\n");
		return 1;
	}
	argc -= n;
	argv += n;
	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: rte_hash_peer [EAL] -- --connections N --packets P [--zipf S] [--seed N]\n");
		return 2;
	}
	hp.name = "peer";
	hp.entries = (uint32_t)o.conns;
	hp.key_len = sizeof(struct key16);
	hp.hash_func = rte_hash_crc;
	hp.hash_func_init_val = 0x9747b28c;
	hp.socket_id = (int)rte_socket_id();
	h = rte_hash_create(&hp);
	rec = rte_zmalloc("records", o.conns * sizeof(*rec) + 64, 64);
	if (!h || !rec) {
		fprintf(stderr, "rte_hash_peer: cannot create a table of %llu (memory: raise -m)\n",
			(unsigned long long)o.conns);
		return 1;
	}
	for (uint64_t f = 0; f < o.conns; f++) {
		struct key16 k;
		int32_t p;

		make_key(f, &k);
		p = rte_hash_add_key(h, &k);
		if (p < 0) {
			fprintf(stderr, "rte_hash_peer: add failed at %llu: %s\n", (unsigned long long)f,
				strerror(-p));
			return 1;
		}
	}
	if (o.zipf > 0) {
		zseq = malloc(RW_GEN_ZSEQ_LEN * sizeof(*zseq));
		if (!zseq || rw_gen_zipf_fill(zseq, RW_GEN_ZSEQ_LEN, o.conns, o.zipf, o.seed))
			return 1;
	}
	/* the generator's queue 0 of 1 worker */
	rng = o.seed * 0x9e3779b97f4a7c15ull + 1;
	t0 = now_ns();
	while (done < 2 * o.packets) {
		uint64_t now = now_ns();

		for (unsigned side = 0; side < 2; side++)
			hits += burst(h, rec, &rng, zseq, &zpos, o.conns, side, now);
		done += 2 * RW_BURST;
	}
	t1 = now_ns();
	printf("{\"peer\": \"rte_hash\", \"connections\": %llu, \"packets\": %llu, \"hits\": %llu, "
	       "\"secs\": %.6f, \"pps\": %.0f, \"ns_per_packet\": %.3f, \"entries\": %u}\n",
	       (unsigned long long)o.conns, (unsigned long long)done, (unsigned long long)hits,
	       (double)(t1 - t0) / 1e9, (double)done * 1e9 / (double)(t1 - t0),
	       (double)(t1 - t0) / (double)done, rte_hash_count(h));
	rte_hash_free(h);
	rte_free(rec);
	free(zseq);
	rte_eal_cleanup();
	return 0;
}
