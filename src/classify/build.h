/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What build.c shares with update.c (incremental edits): the normalised
 * form of a rule and the few helpers that turn it into records. Internal
 * to src/classify/.
 */
#ifndef RW_CLASSIFY_BUILD_H
#define RW_CLASSIFY_BUILD_H

#include "tss.h"

typedef unsigned __int128 u128;

enum { F_SRC, F_DST, F_SP, F_DP, F_PR, F_N };

/* A rule of one family, normalised for the build: addresses as integers of
 * the family's width (32 or 128 bits). */
struct nrule {
	u128 slo, shi, dlo, dhi;
	uint16_t splo, sphi, dplo, dphi;
	uint8_t proto, pmask;
	uint16_t in_ports;
	uint32_t rule;
	uint8_t len[F_N];
	bool has_extra;
	struct tss_extra ex;
};

/* Normalise one crule for a family of width 32 or 128; false when it can
 * never match (an empty range), so it needs no place. */
bool tss_normalise(const struct rw_crule *c, unsigned width, struct nrule *o);

/* The tuple a new table gets for a rule of tuple in (docs/classifier.md). */
void tss_coarsen(const struct tss_knobs *k, unsigned width, const uint8_t in[F_N],
		 uint8_t out[F_N]);

/* Masks of a table of tuple len, as struct tss_table holds them. */
void tss_table_masks(struct tss_table *o, const uint8_t len[F_N], unsigned width);

void tss_fill_rec4(struct tss_rec4 *o, const struct nrule *r);
void tss_fill_rec6(struct tss_rec6 *o, const struct nrule *r);

/* The bytes a space's arrays occupy (records, tables, slots, extras). */
size_t tss_space_bytes(const struct tss_space *sp, unsigned width);

void tss_space_free(struct tss_space *sp);

#endif
