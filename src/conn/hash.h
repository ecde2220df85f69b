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

#endif
