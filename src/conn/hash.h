/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The keyed hash of connection keys: SipHash-1-3 (Aumasson and Bernstein),
 * 64-bit output, with a random 128-bit key chosen at every start. Keyed so
 * that nobody outside can aim many connections at one bucket; 1-3 rounds
 * rather than 2-4 because a hash-flooding attacker only sees drops, never
 * hash values, and the short form costs about half.
 */
#ifndef RW_CONN_HASH_H
#define RW_CONN_HASH_H

#include "../common.h"

uint64_t rw_siphash13(const uint64_t key[2], const void *data, size_t len);

/* Any round counts (the 2-4 form is what the published test vectors use). */
uint64_t rw_siphash_rounds(const uint64_t key[2], const void *data, size_t len,
			   unsigned crounds, unsigned drounds);

/* Fill key with fresh randomness (getrandom). 0 or -errno. */
int rw_hash_key_random(uint64_t key[2]);

/*
 * The hash of connection keys on the fast path (docs/conntrack.md, "The
 * hash"). An IPv4 key is exactly one 128-bit block: where the CPU has
 * AES-NI it goes through four AES rounds whose round keys are drawn at
 * start (rw_khash_init), and the two halves of the result are folded into
 * 64 bits; elsewhere, and for IPv6 keys, SipHash-1-3 under the same start
 * key. Which one runs is decided once, at init: both sides of a table
 * always use the same function.
 */
struct rw_khash {
	uint64_t rk[5][2];     /* AES round keys: whitening + four rounds */
	uint64_t sip[2];       /* SipHash key (IPv6, and IPv4 without AES-NI) */
	void (*burst16)(const struct rw_khash *h, const void *keys, unsigned n, uint64_t *out);
	void (*gather16)(const struct rw_khash *h, const void *const *recs, size_t off, unsigned n,
			 uint64_t *out);
	bool aes;
};

/* Derive the round keys from key (the per-start random key) and pick the
 * implementation; force_sip selects SipHash even with AES-NI (tests, and
 * the bench's comparison). */
void rw_khash_init(struct rw_khash *h, const uint64_t key[2], bool force_sip);

/* Hash n 16-byte keys (packed, 16-byte strides) into out[]. */
static inline void rw_khash16_burst(const struct rw_khash *h, const void *keys, unsigned n,
				    uint64_t *out)
{
	h->burst16(h, keys, n, out);
}

/* The same for n keys found off bytes into each of recs[]: keys that sit
 * in records already (packet descriptors) need no copy into a packed array
 * first. */
static inline void rw_khash16_gather(const struct rw_khash *h, const void *const *recs, size_t off,
				     unsigned n, uint64_t *out)
{
	h->gather16(h, recs, off, n, out);
}

/* One key of any length: 16 bytes go through burst16, others SipHash. */
uint64_t rw_khash(const struct rw_khash *h, const void *key, size_t len);

#endif
