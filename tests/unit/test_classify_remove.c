/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rw_classifier_remove (src/classify/update.c) on records that carry
 * checks outside the record (TCP flags: struct tss_extra): the removal
 * copies records and their extras in one pass, and a record whose extra
 * went astray would match a packet its rule refuses. Every rule here has
 * one; keys are made to pass or fail exactly those checks, and each
 * removal is compared with a fresh build of the same rules.
 */
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "pkt/pkt.h"
#include "t.h"

#define NR 300

/* Rule i: TCP to port 1000 + i (IPv4 or IPv6 by parity of i) with SYN
 * set and ACK clear; the last rule catches all TCP with no flags check. */
static void mk(struct rw_crule *r, uint32_t i, uint16_t port, bool last)
{
	memset(r, 0, sizeof(*r));
	r->rule = i;
	r->in_ports = 0xffff;
	r->af = port & 1 ? RW_AF_INET6 : RW_AF_INET;
	r->proto = RW_PROTO_TCP;
	r->proto_mask = 0xff;
	r->src_table = r->dst_table = -1;
	memset(r->src_hi, 0xff, 16);
	memset(r->dst_hi, 0xff, 16);
	r->sport_hi = 0xffff;
	r->dport_lo = last ? 0 : port;
	r->dport_hi = last ? 0xffff : port;
	if (!last) {
		r->tcp_flags = RW_TH_SYN;
		r->tcp_flags_mask = RW_TH_SYN | RW_TH_ACK;
	}
	if (r->af == RW_AF_INET) { /* IPv4-mapped, as the parser writes them */
		r->src_lo[10] = r->src_lo[11] = r->dst_lo[10] = r->dst_lo[11] = 0xff;
		memset(r->src_hi, 0, 10);
		memset(r->dst_hi, 0, 10);
	}
}

static struct rw_ckey key(uint16_t port, uint8_t flags)
{
	struct rw_ckey k;

	memset(&k, 0, sizeof(k));
	k.af = port & 1 ? RW_AF_INET6 : RW_AF_INET;
	if (k.af == RW_AF_INET)
		k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
	k.proto = RW_PROTO_TCP;
	k.dport = port;
	k.tcp_flags = flags;
	return k;
}

/* ports[0..n) are the rules in order; the catch-all is rule n (with its
 * two tuples, one per family). */
static struct rw_crule *rules_of(const uint16_t *ports, uint32_t n, size_t *nt)
{
	struct rw_crule *r = calloc(n + 2, sizeof(*r));

	for (uint32_t i = 0; i < n; i++)
		mk(&r[i], i, ports[i], false);
	mk(&r[n], n, 0, true);
	mk(&r[n + 1], n, 1, true);
	*nt = n + 2;
	return r;
}

static unsigned mismatches(const struct rw_classifier *c, const uint16_t *ports, uint32_t n)
{
	size_t nt;
	struct rw_crule *r = rules_of(ports, n, &nt);
	char err[256];
	struct rw_classifier *f = rw_classifier_build(r, nt, NULL, 0, err, sizeof(err));
	unsigned bad = 0;

	CHECK(f != NULL);
	for (uint32_t i = 0; f && i < n; i++) {
		static const uint8_t flags[] = { RW_TH_SYN, RW_TH_SYN | RW_TH_ACK, RW_TH_ACK, 0 };

		for (size_t j = 0; j < sizeof(flags); j++) {
			struct rw_ckey k = key(ports[i], flags[j]);
			int32_t got = rw_classify_one(c, &k), want = rw_classify_one(f, &k);

			/* and the fresh build itself is right */
			CHECK_EQ(want, flags[j] == RW_TH_SYN ? (int32_t)i : (int32_t)n);
			bad += got != want;
		}
	}
	rw_classifier_free(f);
	free(r);
	return bad;
}

TEST(remove_keeps_every_record_with_its_extra)
{
	uint16_t ports[NR];
	uint32_t n = NR;
	size_t nt;
	struct rw_crule *r;
	struct rw_classifier *c;
	char err[256];

	srand(7);
	for (uint32_t i = 0; i < n; i++)
		ports[i] = (uint16_t)(1000 + i);
	r = rules_of(ports, n, &nt);
	c = rw_classifier_build(r, nt, NULL, 0, err, sizeof(err));
	free(r);
	CHECK(c != NULL);
	CHECK_EQ(mismatches(c, ports, n), 0u);
	while (c && n > 1) {
		uint32_t pos = (uint32_t)rand() % n;
		struct rw_classifier *nc = rw_classifier_remove(c, pos, err, sizeof(err));

		CHECK(nc != NULL);
		rw_classifier_free(c);
		c = nc;
		memmove(ports + pos, ports + pos + 1, (n - pos - 1) * sizeof(*ports));
		n--;
		if (n % 7 == 0 || n < 10)
			CHECK_EQ(mismatches(c, ports, n), 0u);
	}
	rw_classifier_free(c);
}
