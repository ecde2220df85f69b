/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A compiled rule set: what the workers read on the fast path. It owns the
 * configuration it was built from (rules, tables), the classifier, the
 * tables' longest-prefix structures and the per-rule counters.
 *
 * A rule set is immutable once published, except for its counters, which
 * are per worker (each worker writes only its own row, readers sum rows).
 * Reload builds a new set off the fast path and swaps a pointer; the old
 * one is freed when every worker has moved past it (engine.c).
 */
#ifndef RW_RULESET_H
#define RW_RULESET_H

#include "../common.h"
#include "../rules/config.h"
#include "../classify/classify.h"

struct rw_rule_ctr {
	uint64_t packets, bytes;
};

struct rw_ruleset {
	struct rw_config cfg;          /* owned */
	struct rw_classifier *cls;
	struct rw_lpm **lpms;          /* one per cfg.tables entry */
	uint32_t gen;                  /* generation, 1 for the first set */
	unsigned nworkers;
	size_t ctr_stride;             /* counters per worker row (cache-line rounded) */
	struct rw_rule_ctr *ctr;       /* [nworkers][ctr_stride] */
	uint32_t *arp_rules;           /* indices of "arp" rules, in order */
	size_t narp;
};

/* Build from cfg, taking ownership of its contents (cfg is zeroed). NULL
 * with a message in err on failure; cfg is then freed. */
struct rw_ruleset *rw_ruleset_build(struct rw_config *cfg, unsigned nworkers, uint32_t gen,
				    char *err, size_t errlen);
void rw_ruleset_free(struct rw_ruleset *rs);

static inline struct rw_rule_ctr *rw_ruleset_ctr(const struct rw_ruleset *rs, unsigned worker,
						 uint32_t rule)
{
	return &rs->ctr[worker * rs->ctr_stride + rule];
}

/* Sum of one rule's counters over the workers. */
struct rw_rule_ctr rw_ruleset_rule_total(const struct rw_ruleset *rs, uint32_t rule);

#endif
