/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The classifier: first-match lookup of a packet's header tuple against the
 * rule set. Built (slow, at load and reload, off the fast path: build.c)
 * apart from run (hot, lock-free, read-only: lookup.c). A built classifier
 * is immutable; reload builds a new one and publishes it atomically.
 *
 * Tables (pf's <name>) are longest-prefix-match structures (lpm.h) that rule
 * tuples refer to by index.
 */
#ifndef RW_CLASSIFY_H
#define RW_CLASSIFY_H

#include "../common.h"
#include "../rules/config.h"

/* What the classifier looks at in a packet. For ICMP/ICMPv6 sport is the
 * type and dport the code. Addresses as in struct rw_pkt (v4-mapped). */
struct rw_ckey {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t af, proto, in_port, tcp_flags;
};

struct rw_lpm;
struct rw_classifier;

/*
 * Build from tuples r[0..n) (ordered by priority: lower rule index wins).
 * tables[i] answers membership for rw_crule.src_table/dst_table == i.
 * Returns NULL with a message in err on failure (out of memory).
 */
struct rw_classifier *rw_classifier_build(const struct rw_crule *r, size_t n,
					  struct rw_lpm *const *tables, size_t ntables,
					  char *err, size_t errlen);

/*
 * Incremental edits (update.c), off the fast path, each well under a
 * millisecond at 100,000 rules. Each returns a NEW classifier that answers
 * exactly as a fresh build of the edited rule set would; c is not touched,
 * so readers keep using it until the caller publishes the new one and frees
 * c once no reader can hold it. NULL with a message in err on failure.
 *
 * insert: rule index pos is inserted with tuples r[0..n) (their .rule is
 * ignored: they become rule pos); every rule >= pos moves up by one. n may
 * be 0 (a rule that matches nothing, e.g. an "arp" rule, still takes an
 * index).
 * remove: rule pos goes; every rule > pos moves down by one.
 */
struct rw_classifier *rw_classifier_insert(const struct rw_classifier *c, uint32_t pos,
					   const struct rw_crule *r, size_t n, char *err,
					   size_t errlen);
struct rw_classifier *rw_classifier_remove(const struct rw_classifier *c, uint32_t pos,
					   char *err, size_t errlen);

/* First matching rule index (rw_crule.rule) for each key, or -1. */
void rw_classify_burst(const struct rw_classifier *c, const struct rw_ckey *const *keys,
		       int32_t *out, unsigned n);

int32_t rw_classify_one(const struct rw_classifier *c, const struct rw_ckey *key);

/* Bytes the built structure occupies. */
size_t rw_classifier_memory(const struct rw_classifier *c);

void rw_classifier_free(struct rw_classifier *c);

#endif
