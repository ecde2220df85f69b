/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Frames for the tests that feed a real engine through capture files
 * (test_ruleedit.c, test_egress_order.c, test_egress_fast.c, test_parse_loop.c; include once, after t.h): a 60-byte
 * Ethernet + IPv4 frame whose transport header the test fills in.
 */
#ifndef RW_TEST_FRAME_UTIL_H
#define RW_TEST_FRAME_UTIL_H

#include <arpa/inet.h>
#include <string.h>

#include "pkt/pkt.h"

#define FRAME_LEN 60

/* Zeroes f[0..60), writes Ethernet (02:..:01 -> 02:..:02, IPv4) and an
 * IPv4 header (TTL 64, proto, src -> dst in host order, total length
 * 20 + l4_len, checksum set); returns the transport header. */
static inline uint8_t *eth_ip4(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst,
			       uint16_t l4_len)
{
	uint8_t *ip = f + 14;
	uint16_t c;

	memset(f, 0, FRAME_LEN);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + l4_len) >> 8);
	ip[3] = (uint8_t)(20 + l4_len);
	ip[8] = 64;
	ip[9] = proto;
	src = htonl(src);
	dst = htonl(dst);
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	c = rw_csum_fold(rw_csum_partial(ip, 20, 0)); /* memory byte order (pkt.h) */
	memcpy(ip + 10, &c, 2);
	return ip + 20;
}

/* eth_ip4 with a UDP header (checksum 0: none) and 4 payload bytes, zero;
 * returns the payload. */
static inline uint8_t *eth_udp4(uint8_t *f, uint32_t src, uint16_t sport, uint32_t dst,
				uint16_t dport)
{
	uint8_t *l4 = eth_ip4(f, 17, src, dst, 8 + 4);

	l4[0] = (uint8_t)(sport >> 8), l4[1] = (uint8_t)sport;
	l4[2] = (uint8_t)(dport >> 8), l4[3] = (uint8_t)dport;
	l4[5] = 12;
	return l4 + 8;
}

#endif
