/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Internet checksum (RFC 1071). The one's-complement sum does not care
 * about byte order as long as every word is read the same way, so words are
 * read in host order, eight bytes at a time, with the carries kept in a
 * second accumulator; RFC 1071 section 2(B) and 2(C) explain why deferring
 * carries and summing wider words give the same result.
 */
#include <string.h>
#include "pkt.h"

static inline uint64_t ld64(const uint8_t *b)
{
	uint64_t v;
	memcpy(&v, b, sizeof(v));
	return v;
}

/* Fold 64 bits of one's-complement sum into 32 with end-around carry. */
static inline uint32_t fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

/*
 * Sum len bytes of buf into sum. Callers chaining several calls must give
 * every piece but the last an even length: an odd byte is taken as the high
 * (first) byte of a final 16-bit word.
 */
uint32_t rw_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *b = buf;
	uint64_t s = sum, c = 0, v;

	/* Four independent adds per round keep the adder busy; the carry of
	 * each 64-bit add is counted in c and added back at the end. */
	while (len >= 32) {
		v = ld64(b);      s += v; c += s < v;
		v = ld64(b + 8);  s += v; c += s < v;
		v = ld64(b + 16); s += v; c += s < v;
		v = ld64(b + 24); s += v; c += s < v;
		b += 32;
		len -= 32;
	}
	while (len >= 8) {
		v = ld64(b); s += v; c += s < v;
		b += 8;
		len -= 8;
	}
	if (len) {
		/* Tail of 1..7 bytes: zero-padded in memory order, which is what
		 * the checksum's "pad with a zero byte" means in any byte order.
		 * Fixed-size copies, so no call to memcpy on the hot path. */
		uint8_t t[8] = {0};
		uint32_t w;
		uint16_t h;

		if (len & 4) {
			memcpy(&w, b, 4);
			memcpy(t, &w, 4);
		}
		if (len & 2) {
			memcpy(&h, b + (len & 4), 2);
			memcpy(t + (len & 4), &h, 2);
		}
		if (len & 1)
			t[len & 6] = b[len & 6];
		v = ld64(t);
		s += v;
		c += s < v;
	}
	/* c counts carries out of bit 63, each worth 2^64 == 1 in one's
	 * complement arithmetic; adding it can carry once more at most. */
	s += c;
	s += s < c;
	return fold64(s);
}

/* The one's complement of the folded sum: the value to store in a checksum
 * field, and 0 when the sum covered a field already holding the right one. */
uint16_t rw_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
