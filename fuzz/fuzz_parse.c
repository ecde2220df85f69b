/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the packet parser: every input is one Ethernet frame,
 * parsed with and without L4 checksum verification, and when it is an ICMP
 * error its quote is parsed too. Besides the sanitizers' own checks, a PASS
 * must leave a descriptor whose offsets and lengths nest inside the frame;
 * anything else aborts, because every later stage trusts them. rw_parse's
 * fast path must also agree with the general parser (rw_parse_general):
 * same verdict, same bytes in every field the parser owns, from the same
 * starting garbage.
 *
 * Build and run: see fuzz/Makefile (make -C fuzz run).
 */
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include "pkt/internal.h"
#include "worker/reasons.h"

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)

static void check_descriptor(const struct rw_pkt *p, uint32_t len)
{
	uint32_t l3_end = (uint32_t)p->l3_off + p->l3_len;

	REQUIRE(p->len <= len);
	REQUIRE(l3_end <= p->len);
	REQUIRE(p->nvlan <= 2);
	if (p->af == RW_AF_NONE) {
		REQUIRE(!(p->flags & (RW_PKT_L4 | RW_PKT_FRAG | RW_PKT_ICMP_ERR)));
		return;
	}
	REQUIRE(p->af == RW_AF_INET || p->af == RW_AF_INET6);
	REQUIRE(p->l4_off >= p->l3_off + 20u && p->l4_off <= l3_end);
	REQUIRE(p->payload_off >= p->l4_off);
	REQUIRE((uint32_t)p->payload_off + p->payload_len <= l3_end);
	if (p->flags & RW_PKT_FRAG_LATER)
		REQUIRE((p->flags & RW_PKT_FRAG) && !(p->flags & RW_PKT_L4) && !p->sport && !p->dport);
	if (p->flags & RW_PKT_ICMP_ERR)
		REQUIRE(p->flags & RW_PKT_L4);
	if ((p->flags & RW_PKT_L4) && p->proto == RW_PROTO_TCP)
		REQUIRE(p->tcp_wscale <= 14 || p->tcp_wscale == RW_WSCALE_NONE);
	if (p->af == RW_AF_INET)
		REQUIRE(rw_addr_is_v4mapped(p->saddr) && rw_addr_is_v4mapped(p->daddr));
	if (!(p->flags & RW_PKT_FRAG))
		REQUIRE(!(p->flags & RW_PKT_FRAG_LATER));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rw_parse_opts opts[2] = {{.verify_l4_csum = false},
						     {.verify_l4_csum = true}};
	struct rw_pkt p;
	struct rw_quote q;
	char s[64];
	uint8_t *buf;
	int ret, qret;

	if (size > 70000)
		return 0;
	/* A private copy of exactly size bytes: the parser takes a writable
	 * frame, and ASan flags a read one byte past it. */
	buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	for (int i = 0; i < 2; i++) {
		struct rw_pkt g;

		memset(&p, size ? data[0] : 0x5a, sizeof(p));
		memset(&g, size ? data[0] : 0x5a, sizeof(g));
		ret = rw_parse(&p, buf, (uint32_t)size, &opts[i]);
		REQUIRE(ret >= RW_PASS && ret < RW_DROP_MAX);
		REQUIRE(rw_parse_general(&g, buf, (uint32_t)size, &opts[i]) == ret);
		REQUIRE(memcmp(&p, &g, offsetof(struct rw_pkt, in_port)) == 0);
		if (ret != RW_PASS)
			continue;
		check_descriptor(&p, (uint32_t)size);
		qret = rw_parse_quote(&p, &q);
		REQUIRE(qret == RW_PASS || qret == RW_DROP_ICMP_ERR_QUOTE);
		if (qret == RW_PASS) {
			REQUIRE(q.af == p.af);
			rw_addr_str(q.af, q.saddr, s, sizeof(s));
		}
		if (p.af != RW_AF_NONE)
			rw_addr_str(p.af, p.saddr, s, sizeof(s));
	}
	free(buf);
	return 0;
}
