/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A compiled rule set: what the workers read on the fast path. It owns the
 * configuration it was built from (rules, tables), the classifier, the
 * tables' longest-prefix structures and the per-rule counters.
 *
 * Workers read a matched rule's verdict from the compact verdict array,
 * never from cfg.rules (160 bytes a rule): a live edit can then publish a
 * set before its cfg.rules array is filled, and fill it afterwards under
 * the engine's reload_lock, which every other reader of cfg.rules holds.
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

/* What a worker needs of a matched rule, in 4 bytes (cfg.rules[i]'s). */
struct rw_rule_verdict {
	uint8_t action;               /* enum rw_action */
	uint8_t log : 1;
	uint8_t keep_state : 1;
	uint8_t synproxy : 1;
	uint8_t loose : 1;            /* state picked up mid-stream ("flags any") */
	uint16_t in_ports;            /* for "arp" rules: judge_arp */
};

/*
 * The state module keeps, per connection, an opaque reference to the rule
 * that created it: the rule index in the low RW_RULE_REF_BITS bits, the low
 * bits of the rule set's generation above them (worker.c), so that a packet
 * of an old connection is not counted against a different rule.
 */
#define RW_RULE_REF_BITS 20
#define RW_RULE_REF_MASK ((1u << RW_RULE_REF_BITS) - 1)
#define RW_RULE_REF_GEN(gen) ((gen) & ((1u << (32 - RW_RULE_REF_BITS)) - 1))

/* One incremental edit (ringwallctl rule add/remove, worker/edit.c): the
 * generation it produced, and where a rule was inserted or removed. */
struct rw_rule_edit {
	uint32_t gen;
	uint32_t pos;
	bool insert;
};

/* Edits a set remembers, so that connections created up to this many
 * edits ago are still credited to their rule (renumbered through them). */
#define RW_RULESET_EDITS 16

struct rw_ruleset {
	struct rw_config cfg;          /* owned */
	struct rw_classifier *cls;
	struct rw_lpm **lpms;          /* one per cfg.tables entry */
	uint32_t gen;                  /* generation, 1 for the first set */
	unsigned nworkers;
	size_t ctr_stride;             /* counters per worker row (cache-line rounded) */
	struct rw_rule_ctr *ctr;       /* [nworkers][ctr_stride] */
	struct rw_rule_verdict *verdict; /* [cfg.nrules], what workers read */
	uint32_t *arp_rules;           /* indices of "arp" rules, in order */
	size_t narp;

	/* Incremental edits (worker/edit.c). A set derived by an edit shares
	 * with the set it came from everything but cls, the cfg.rules array
	 * (not the rules' contents), verdict, ctr, base and arp_rules. Its
	 * cfg.rules array is filled only after publication
	 * (rw_ruleset_derive_rules), under reload_lock. Exactly one set
	 * owns the shared parts: borrowed marks the one that does not, and
	 * rw_ruleset_free then frees only what is its own. */
	bool borrowed;
	void *ctr_mem;                 /* ctr's allocation when it is not ctr itself */
	size_t ctr_bytes;              /* size of ctr's allocation */
	void *ctr_spare;               /* zeroed counter memory for the next edit, or NULL */
	size_t ctr_spare_bytes;
	struct rw_rule_ctr *base;      /* [cfg.nrules] counted by earlier sets, or NULL */
	struct rw_rule_edit edits[RW_RULESET_EDITS]; /* the edits leading here, oldest first */
	unsigned nedits;               /* 0 after a full build */
	size_t rules_cap;              /* room in cfg.rules when an edit made it, else 0 */
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

/*
 * A set derived from old by one edit: rule pos inserted (rule != NULL, the
 * rule's contents are then taken over once the set is published) or
 * removed, cls the classifier of the result. Counters start at zero (the
 * caller folds old's in with rw_ruleset_fold once no worker writes them).
 * rules: room for the edited rules array (taken over, freed on failure),
 * left unfilled: the caller publishes, then calls rw_ruleset_derive_rules
 * before it lets go of reload_lock. The verdict array is built here (a
 * few bytes a rule). The result is borrowed until published. NULL with
 * err on failure.
 */
struct rw_ruleset *rw_ruleset_derive(struct rw_ruleset *old, struct rw_classifier *cls,
				     uint32_t pos, const struct rw_rule *rule, uint32_t gen,
				     struct rw_rule *rules, char *err, size_t errlen);

/* Fill rs's cfg.rules from old's through rs's last edit (rule: the
 * inserted one, NULL for a removal). Workers do not read cfg.rules, so
 * this may run after rs is published; old must still be alive. */
void rw_ruleset_derive_rules(struct rw_ruleset *rs, const struct rw_ruleset *old,
			     const struct rw_rule *rule);

/* Where rule i of the set before edit ed is now: false if ed removed it. */
bool rw_rule_edit_map(const struct rw_rule_edit *ed, uint32_t i, uint32_t *out);

/* Carry old's per-rule totals into rs's base, through rs's last edit,
 * once no worker writes old's counters; old's counter memory is then
 * zeroed and kept in rs for the next edit (off the publication path). */
void rw_ruleset_fold(struct rw_ruleset *rs, struct rw_ruleset *old);

/* The rule a reference of an earlier generation means in rs, through rs's
 * edits; false when it is older than them or its rule was removed. */
bool rw_ruleset_ref_map(const struct rw_ruleset *rs, uint32_t ref, uint32_t *rule);

/* Sum of one rule's counters over the workers (and earlier sets). */
struct rw_rule_ctr rw_ruleset_rule_total(const struct rw_ruleset *rs, uint32_t rule);

#endif
