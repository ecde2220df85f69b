/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SYN cookies (syncookie.h has the layout and why).
 */
#include <string.h>
#include "../conn/hash.h"
#include "syncookie.h"

/* Common MSS values, ascending: IPv4 minimum, IPv6 minimum less options,
 * tunnels (PPPoE, VPNs), and Ethernet's 1460/1440 (IPv4/IPv6). A client's
 * MSS is rounded down to one of these, so the server never sends more than
 * the client said it can take. */
static const uint16_t mss_table[RW_COOKIE_MSS_N] = {536, 1200, 1220, 1360, 1400, 1440, 1452, 1460};

#define BUCKET_NS ((uint64_t)RW_COOKIE_BUCKET_S * 1000000000ull)
#define HASH_MASK 0x00ffffffu

static unsigned mss_index(uint16_t mss)
{
	unsigned i = RW_COOKIE_MSS_N - 1;

	/* an absent option means 536 (RFC 9293 3.7.1) */
	if (!mss)
		return 0;
	while (i > 0 && mss_table[i] > mss)
		i--;
	return i;
}

uint16_t rw_syncookie_mss(uint16_t mss)
{
	return mss_table[mss_index(mss)];
}

uint16_t rw_syncookie_cookie_mss(uint32_t cookie)
{
	return mss_table[(cookie >> 24) & 0x7];
}

/* The MAC over one handshake: both endpoints, the client's ISN, the full
 * bucket number (only its low 5 bits travel) and the MSS index. */
static uint32_t mac(const struct rw_syncookie_key *k, const struct rw_pkt *p, uint32_t isn,
		    uint64_t bucket, unsigned mssi)
{
	struct {
		uint8_t saddr[16], daddr[16];
		uint16_t sport, dport;
		uint32_t isn;
		uint64_t bucket;
		uint32_t mssi;
	} __attribute__((packed)) m;

	memset(&m, 0, sizeof(m));
	memcpy(m.saddr, p->saddr, 16);
	memcpy(m.daddr, p->daddr, 16);
	m.sport = p->sport;
	m.dport = p->dport;
	m.isn = isn;
	m.bucket = bucket;
	m.mssi = mssi;
	return (uint32_t)rw_siphash_rounds(k->k, &m, sizeof(m), 2, 4) & HASH_MASK;
}

uint32_t rw_syncookie_make(const struct rw_syncookie_key *k, const struct rw_pkt *syn,
			   uint64_t now)
{
	uint64_t bucket = now / BUCKET_NS;
	unsigned mssi = mss_index(syn->tcp_mss);

	return (uint32_t)(bucket & 0x1f) << 27 | (uint32_t)mssi << 24 |
	       mac(k, syn, syn->tcp_seq, bucket, mssi);
}

uint16_t rw_syncookie_check(const struct rw_syncookie_key *k, const struct rw_pkt *ack,
			    uint64_t now, bool *expired)
{
	uint32_t cookie = ack->tcp_ack - 1, isn = ack->tcp_seq - 1;
	uint64_t cur = now / BUCKET_NS, bucket;
	unsigned mssi = (cookie >> 24) & 0x7, age = (unsigned)((cur - (cookie >> 27)) & 0x1f);

	*expired = false;
	/* the newest bucket whose low bits match: cur, cur - 1, ... */
	if (unlikely(age > cur))
		return 0;
	bucket = cur - age;
	if (unlikely(mac(k, ack, isn, bucket, mssi) != (cookie & HASH_MASK)))
		return 0;
	/* genuine, but made more than one bucket ago: a replay or a slow
	 * client; it must start again */
	if (age > 1) {
		*expired = true;
		return 0;
	}
	return mss_table[mssi];
}
