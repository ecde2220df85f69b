/* SPDX-License-Identifier: BSD-2-Clause */
/* SipHash, written from the paper's description (Aumasson, Bernstein 2012). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include "hash.h"

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static inline void sip_absorb(struct sip *s, uint64_t m, unsigned c)
{
	s->v3 ^= m;
	for (unsigned i = 0; i < c; i++)
		sip_round(s);
	s->v0 ^= m;
}

/* Little-endian load, as the specification reads message words. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline uint64_t sip_hash(const uint64_t key[2], const void *data, size_t len,
				unsigned c, unsigned d)
{
	const uint8_t *in = data;
	struct sip s = {
		.v0 = key[0] ^ 0x736f6d6570736575ull,
		.v1 = key[1] ^ 0x646f72616e646f6dull,
		.v2 = key[0] ^ 0x6c7967656e657261ull,
		.v3 = key[1] ^ 0x7465646279746573ull,
	};
	size_t i, full = len & ~(size_t)7;
	uint64_t last = (uint64_t)len << 56;

	for (i = 0; i < full; i += 8)
		sip_absorb(&s, load_le64(in + i), c);
	for (unsigned j = 0; i + j < len; j++)
		last |= (uint64_t)in[i + j] << (8 * j);
	sip_absorb(&s, last, c);
	s.v2 ^= 0xff;
	for (unsigned j = 0; j < d; j++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t rw_siphash13(const uint64_t key[2], const void *data, size_t len)
{
	return sip_hash(key, data, len, 1, 3);
}

uint64_t rw_siphash_rounds(const uint64_t key[2], const void *data, size_t len,
			   unsigned crounds, unsigned drounds)
{
	return sip_hash(key, data, len, crounds, drounds);
}

int rw_hash_key_random(uint64_t key[2])
{
	uint8_t *p = (uint8_t *)key;
	size_t got = 0;

	while (got < 16) {
		ssize_t r = getrandom(p + got, 16 - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	return 0;
}
