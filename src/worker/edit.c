// SPDX-License-Identifier: BSD-2-Clause
/*
 * Incremental edits of the running rules (ringwallctl rule add|remove,
 * table add|remove), without a full rebuild.
 *
 * A rule edit derives a new rule set from the current one: the classifier
 * from rw_classifier_insert/remove (a copy that answers as a fresh build),
 * the compact verdict array the workers read with the rule in or out,
 * fresh counters; the rest (rules' contents, tables, lpms, settings) is
 * shared. It is published as a new generation like a reload; only then is
 * the big rules array (160 bytes a rule, which workers never read) copied
 * with the rule in or out, still under reload_lock so that no control
 * reader sees it half made. The old set is freed once every worker has
 * announced the new one; its per-rule totals are then carried into the
 * new set's base so counters stay with their rules.
 *
 * A table edit changes the table's lpm in place (rw_lpm_add/remove: each
 * address's answer is one atomic store) and the entry list `table show`
 * prints; workers never read the list, so no new generation is needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../classify/lpm.h"

/* Room for n rules (*cap of them): the spare array when it is big
 * enough, else a new one with a little headroom, so that a run of inserts
 * keeps reusing the arrays. */
static struct rw_rule *rules_room(struct rw_engine *e, size_t n, size_t *cap, char *err,
				  size_t errlen)
{
	struct rw_rule *v = e->spare_rules;

	if (v && e->spare_cap >= n) {
		e->spare_rules = NULL;
		*cap = e->spare_cap;
		return v;
	}
	*cap = n + n / 64 + 1;
	v = malloc(*cap * sizeof(*v));
	if (!v)
		snprintf(err, errlen, "out of memory");
	return v;
}

static int publish_edit(struct rw_engine *e, struct rw_ruleset *old, struct rw_ruleset *rs,
			const struct rw_rule *ins, uint64_t t0, struct rw_edit_result *res)
{
	/* ownership of the shared parts moves with the publication */
	rs->borrowed = false;
	old->borrowed = true;
	atomic_store(&e->rs, rs);
	e->next_gen = rs->gen;
	res->visible_ns = rw_now_ns() - t0;
	/* the workers already use rs; the control plane waits for our lock */
	rw_ruleset_derive_rules(rs, old, ins);
	rw_engine_wait_quiescent(e, rs->gen);
	/* no worker writes old's counters any more */
	rw_ruleset_fold(rs, old);
	/* keep old's rules array (warm, faulted in) for the next edit */
	free(e->spare_rules);
	e->spare_rules = old->cfg.rules;
	e->spare_cap = old->rules_cap ? old->rules_cap : old->cfg.nrules;
	old->cfg.rules = NULL;
	rw_ruleset_free(old);
	res->gen = rs->gen;
	res->nrules = rs->cfg.nrules;
	return 0;
}

int rw_engine_rule_insert(struct rw_engine *e, uint32_t pos, const char *text,
			  struct rw_edit_result *res, char *err, size_t errlen)
{
	uint64_t t0 = rw_now_ns();
	struct rw_ruleset *old, *rs;
	struct rw_classifier *cls;
	struct rw_crule *tuples = NULL;
	struct rw_rule rule, *rules;
	size_t n = 0, cap;
	int ret;

	pthread_mutex_lock(&e->reload_lock);
	old = atomic_load(&e->rs);
	if (pos == RW_EDIT_APPEND)
		pos = (uint32_t)old->cfg.nrules;
	if (unlikely(pos > old->cfg.nrules)) {
		snprintf(err, errlen, "no position %u: there are %zu rules (0 to %zu)", pos,
			 old->cfg.nrules, old->cfg.nrules);
		ret = -ERANGE;
		goto out_unlock;
	}
	/* connections name their rule in RW_RULE_REF_BITS bits */
	if (unlikely(old->cfg.nrules >= RW_RULE_REF_MASK)) {
		snprintf(err, errlen, "too many rules (at most %u)", RW_RULE_REF_MASK);
		ret = -E2BIG;
		goto out_unlock;
	}
	ret = rw_config_parse_rule(&old->cfg, text, &rule, &tuples, &n, err, errlen);
	if (ret)
		goto out_unlock;
	cls = rw_classifier_insert(old->cls, pos, tuples, n, err, errlen);
	free(tuples);
	if (!cls) {
		ret = -ENOMEM;
		goto out_rule;
	}
	rules = rules_room(e, old->cfg.nrules + 1, &cap, err, errlen);
	rs = rules ? rw_ruleset_derive(old, cls, pos, &rule, e->next_gen + 1, rules, err,
				       errlen) : NULL;
	if (!rs) {
		rw_classifier_free(cls);
		ret = -ENOMEM;
		goto out_rule;
	}
	rs->rules_cap = cap;
	res->pos = pos;
	ret = publish_edit(e, old, rs, &rule, t0, res);
	pthread_mutex_unlock(&e->reload_lock);
	res->total_ns = rw_now_ns() - t0;
	return ret;

out_rule:
	rw_config_rule_free(&rule);
out_unlock:
	pthread_mutex_unlock(&e->reload_lock);
	return ret;
}

int rw_engine_rule_remove(struct rw_engine *e, uint32_t pos, struct rw_edit_result *res,
			  char *err, size_t errlen)
{
	uint64_t t0 = rw_now_ns();
	struct rw_ruleset *old, *rs;
	struct rw_classifier *cls;
	struct rw_rule gone, *rules;
	size_t cap;
	int ret = -ENOMEM;

	pthread_mutex_lock(&e->reload_lock);
	old = atomic_load(&e->rs);
	if (unlikely(pos >= old->cfg.nrules)) {
		if (old->cfg.nrules)
			snprintf(err, errlen, "no rule %u: there are %zu rules (0 to %zu)", pos,
				 old->cfg.nrules, old->cfg.nrules - 1);
		else
			snprintf(err, errlen, "no rule %u: there are no rules", pos);
		ret = -ERANGE;
		goto out_unlock;
	}
	cls = rw_classifier_remove(old->cls, pos, err, errlen);
	if (!cls)
		goto out_unlock;
	rules = rules_room(e, old->cfg.nrules, &cap, err, errlen);
	rs = rules ? rw_ruleset_derive(old, cls, pos, NULL, e->next_gen + 1, rules, err,
				       errlen) : NULL;
	if (!rs) {
		rw_classifier_free(cls);
		goto out_unlock;
	}
	gone = old->cfg.rules[pos];
	rs->rules_cap = cap;
	res->pos = pos;
	ret = publish_edit(e, old, rs, NULL, t0, res);
	/* no set holds the removed rule any more */
	rw_config_rule_free(&gone);
	pthread_mutex_unlock(&e->reload_lock);
	res->total_ns = rw_now_ns() - t0;
	return ret;

out_unlock:
	pthread_mutex_unlock(&e->reload_lock);
	return ret;
}

/* ---- tables ---- */

static bool same_prefix(const struct rw_table_entry *a, const struct rw_table_entry *b)
{
	return a->af == b->af && a->plen == b->plen && !memcmp(a->addr, b->addr, 16);
}

static struct rw_table_entry *find_entry(struct rw_table *t, const struct rw_table_entry *e)
{
	for (size_t i = 0; i < t->nentries; i++)
		if (same_prefix(&t->entries[i], e))
			return &t->entries[i];
	return NULL;
}

/* Could e's exact prefix be in the table? Its longest match at its own
 * first address is at least as long when it is, so a shorter answer
 * spares the scan of a table of a million entries. */
static bool maybe_present(const struct rw_lpm *l, const struct rw_table_entry *e)
{
	bool neg;

	return rw_lpm_lookup(l, e->af, e->addr, &neg) >= (int)e->plen;
}

/* Room for one more entry, before the lpm changes: an edit that cannot
 * be listed must not be made. */
static int entries_reserve(struct rw_table *t)
{
	size_t cap = t->cap > t->nentries ? t->cap : t->nentries;
	struct rw_table_entry *v;

	if (t->nentries < t->cap)
		return 0;
	cap = cap ? cap * 2 : 16;
	v = realloc(t->entries, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->entries = v;
	t->cap = cap;
	return 0;
}

/* Order is not kept: the last entry takes the removed one's place, so a
 * removal costs one scan and no move. */
static void entries_remove(struct rw_table *t, const struct rw_table_entry *e)
{
	struct rw_table_entry *have = find_entry(t, e);

	if (have)
		*have = t->entries[--t->nentries];
}

static int table_add(struct rw_table *t, struct rw_lpm *l, const struct rw_table_entry *e)
{
	struct rw_table_entry *have = maybe_present(l, e) ? find_entry(t, e) : NULL;
	int ret = have ? 0 : entries_reserve(t);

	/* the lpm indexes t's entries as they are on its first edit */
	if (!ret)
		ret = rw_lpm_add(l, t, e);
	if (ret)
		return ret;
	if (have)
		have->neg = e->neg;
	else
		t->entries[t->nentries++] = *e;
	return 0;
}

static int table_remove(struct rw_table *t, struct rw_lpm *l, const struct rw_table_entry *e)
{
	int ret = rw_lpm_remove(l, t, e);

	if (!ret)
		entries_remove(t, e);
	return ret;
}

static int table_find(const struct rw_config *cfg, const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);

	/* "<name>" as in the rules, or the bare name */
	if (len > 2 && name[0] == '<' && name[len - 1] == '>') {
		name++;
		len -= 2;
	}
	for (size_t i = 0; i < cfg->ntables; i++)
		if (strlen(cfg->tables[i].name) == len && !memcmp(cfg->tables[i].name, name, len))
			return (int)i;
	snprintf(err, errlen, "no table <%.*s>", (int)len, name);
	return -ENOENT;
}

int rw_engine_table_edit(struct rw_engine *e, const char *name, const char *prefix, bool add,
			 struct rw_edit_result *res, char *err, size_t errlen)
{
	uint64_t t0 = rw_now_ns();
	struct rw_table_entry ent;
	struct rw_ruleset *rs;
	struct rw_table *t;
	struct rw_lpm *l;
	int i, ret;

	if (rw_config_parse_prefix(prefix, &ent, err, errlen))
		return -EINVAL;
	pthread_mutex_lock(&e->reload_lock);
	rs = atomic_load(&e->rs);
	i = table_find(&rs->cfg, name, err, errlen);
	if (i < 0) {
		ret = i;
		goto out_unlock;
	}
	t = &rs->cfg.tables[i];
	l = rs->lpms[i];
	ret = add ? table_add(t, l, &ent) : table_remove(t, l, &ent);
	if (ret) {
		snprintf(err, errlen, "%s %s: %s", add ? "add" : "remove", prefix,
			 ret == -ENOENT ? "not in the table" :
			 ret == -ENOMEM ? "out of memory" : "invalid prefix");
		goto out_unlock;
	}
	res->visible_ns = rw_now_ns() - t0;
	res->gen = rs->gen;
	res->pos = (uint32_t)i;
	res->nrules = t->nentries;
	pthread_mutex_unlock(&e->reload_lock);
	res->total_ns = rw_now_ns() - t0;
	return 0;

out_unlock:
	pthread_mutex_unlock(&e->reload_lock);
	return ret;
}
