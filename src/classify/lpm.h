/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tables (pf's <name>): longest-prefix match over IPv4 and IPv6 prefixes,
 * built once from a struct rw_table, then read-only and lock-free.
 *
 * IPv4 is DIR-24-8: one 2^24-entry array indexed by the top 24 bits, and
 * 256-entry groups for the prefixes longer than /24: at most two reads.
 * IPv6 is a multibit trie with a 2^16 root and 8-bit strides below: at most
 * 15 reads. Both are constant time per lookup whatever the table's size.
 *
 * An entry written "!prefix" excludes: an address whose longest matching
 * prefix is negated is not in the table (as pf).
 */
#ifndef RW_LPM_H
#define RW_LPM_H

#include "../common.h"
#include "../rules/config.h"

struct rw_lpm;

/* Build from t's entries. NULL with a message in err on failure (bad
 * prefix length or family, out of memory). */
struct rw_lpm *rw_lpm_build(const struct rw_table *t, char *err, size_t errlen);

/* Is addr (16 bytes, IPv4 v4-mapped, network order) of family af in the
 * table: its longest matching prefix exists and is not negated. */
bool rw_lpm_contains(const struct rw_lpm *l, uint8_t af, const uint8_t addr[16]);

/* Length of the longest matching prefix (family bits), -1 if none; *neg
 * says whether that entry is negated. For tests and listings. */
int rw_lpm_lookup(const struct rw_lpm *l, uint8_t af, const uint8_t addr[16], bool *neg);

/*
 * Add (or replace) / remove one entry in place: the next lookup sees it,
 * concurrent lookups see each address before or after the edit, never
 * anything else (lpm_edit.c). Edits must be serialised by the caller. t is
 * the table l holds now (it is indexed on the first edit); the caller
 * keeps its own copy of the entries in step if it wants them listed. 0,
 * -EINVAL (bad family or length), -ENOENT (remove: no such prefix, the
 * "!" flag aside), -ENOMEM. Memory of a removed prefix's groups is kept.
 */
int rw_lpm_add(struct rw_lpm *l, const struct rw_table *t, const struct rw_table_entry *e);
int rw_lpm_remove(struct rw_lpm *l, const struct rw_table *t, const struct rw_table_entry *e);

/* Bytes the structure occupies (allocated; untouched zero pages of the
 * IPv4 array cost no memory until written). */
size_t rw_lpm_memory(const struct rw_lpm *l);

void rw_lpm_free(struct rw_lpm *l);

#endif
