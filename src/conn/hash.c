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

/* ---- the fast-path hash (hash.h: struct rw_khash) ---- */

static void burst16_sip(const struct rw_khash *h, const void *keys, unsigned n, uint64_t *out)
{
	const uint8_t *k = keys;

	for (unsigned i = 0; i < n; i++)
		out[i] = sip_hash(h->sip, k + 16 * i, 16, 1, 3);
}

static void gather16_sip(const struct rw_khash *h, const void *const *recs, size_t off,
			 unsigned n, uint64_t *out)
{
	for (unsigned i = 0; i < n; i++)
		out[i] = sip_hash(h->sip, (const uint8_t *)recs[i] + off, 16, 1, 3);
}

#if defined(__x86_64__)
#include <immintrin.h>

/*
 * Four keyed AES rounds over the key block. One round with a fixed round
 * key is a permutation of the 128-bit block, so two different IPv4 keys
 * never collide before the fold to 64 bits; two rounds already make every
 * output byte depend on every input byte, four leave any input difference
 * at least 25 active S-boxes (the AES wide-trail bound), so an attacker who
 * does not know the round keys cannot pick keys whose folded outputs agree
 * in the bucket bits more often than chance. Compiled for AES-NI only
 * here, called only where CPUID has it.
 */
struct aes_keys {
	__m128i r[5];
};

__attribute__((target("aes,sse2"), always_inline)) static inline struct aes_keys
aes_keys_load(const struct rw_khash *h)
{
	struct aes_keys k;

	for (unsigned i = 0; i < 5; i++)
		k.r[i] = _mm_loadu_si128((const __m128i *)h->rk[i]);
	return k;
}

__attribute__((target("aes,sse2"), always_inline)) static inline uint64_t
aes_hash16(const struct aes_keys *k, const void *key)
{
	__m128i s = _mm_xor_si128(_mm_loadu_si128((const __m128i *)key), k->r[0]);

	s = _mm_aesenc_si128(s, k->r[1]);
	s = _mm_aesenc_si128(s, k->r[2]);
	s = _mm_aesenc_si128(s, k->r[3]);
	s = _mm_aesenc_si128(s, k->r[4]);
	/* the halves folded in the vector register (halves swapped by a
	 * shuffle, which does not overwrite s): one move out */
	return (uint64_t)_mm_cvtsi128_si64(_mm_xor_si128(s, _mm_shuffle_epi32(s, 0x4e)));
}

__attribute__((target("aes,sse2"))) static void burst16_aes(const struct rw_khash *h,
							     const void *keys, unsigned n,
							     uint64_t *out)
{
	const uint8_t *kp = keys;
	const struct aes_keys k = aes_keys_load(h);

	/* size_t: an unsigned i made the compiler redo 16 * i in 32 bits */
	for (size_t i = 0; i < n; i++)
		out[i] = aes_hash16(&k, kp + 16 * i);
}

__attribute__((target("aes,sse2"))) static void gather16_aes(const struct rw_khash *h,
							      const void *const *recs, size_t off,
							      unsigned n, uint64_t *out)
{
	const struct aes_keys k = aes_keys_load(h);

	for (size_t i = 0; i < n; i++)
		out[i] = aes_hash16(&k, (const uint8_t *)recs[i] + off);
}

static bool have_aes(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("aes");
}
#else
static void burst16_aes(const struct rw_khash *h, const void *keys, unsigned n, uint64_t *out)
{
	burst16_sip(h, keys, n, out);
}

static void gather16_aes(const struct rw_khash *h, const void *const *recs, size_t off,
			 unsigned n, uint64_t *out)
{
	gather16_sip(h, recs, off, n, out);
}

static bool have_aes(void)
{
	return false;
}
#endif

void rw_khash_init(struct rw_khash *h, const uint64_t key[2], bool force_sip)
{
	memset(h, 0, sizeof(*h));
	h->sip[0] = key[0];
	h->sip[1] = key[1];
	/* round keys: SipHash-2-4 of a counter under the start key, so that
	 * they are as unpredictable as the key and independent of each other */
	for (uint64_t i = 0; i < 10; i++)
		h->rk[i / 2][i % 2] = sip_hash(key, &i, sizeof(i), 2, 4);
	h->aes = !force_sip && have_aes();
	h->burst16 = h->aes ? burst16_aes : burst16_sip;
	h->gather16 = h->aes ? gather16_aes : gather16_sip;
}

uint64_t rw_khash(const struct rw_khash *h, const void *key, size_t len)
{
	uint64_t out;

	if (len != 16)
		return sip_hash(h->sip, key, len, 1, 3);
	h->burst16(h, key, 1, &out);
	return out;
}
