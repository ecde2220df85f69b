/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"
#include "../classify/lpm.h"

void rw_ruleset_free(struct rw_ruleset *rs)
{
	if (!rs)
		return;
	rw_classifier_free(rs->cls);
	free(rs->ctr_mem ? rs->ctr_mem : rs->ctr);
	free(rs->ctr_spare);
	free(rs->base);
	free(rs->arp_rules);
	free(rs->verdict);
	if (rs->borrowed) {
		/* the rules' contents, tables, ports and lpms are another set's */
		free(rs->cfg.rules);
		free(rs);
		return;
	}
	if (rs->lpms)
		for (size_t i = 0; i < rs->cfg.ntables; i++)
			rw_lpm_free(rs->lpms[i]);
	free(rs->lpms);
	rw_config_free(&rs->cfg);
	free(rs);
}

static int build_tables(struct rw_ruleset *rs, char *err, size_t errlen)
{
	rs->lpms = calloc(rs->cfg.ntables ? rs->cfg.ntables : 1, sizeof(*rs->lpms));
	if (!rs->lpms)
		goto out_nomem;
	for (size_t i = 0; i < rs->cfg.ntables; i++) {
		rs->lpms[i] = rw_lpm_build(&rs->cfg.tables[i], err, errlen);
		if (!rs->lpms[i])
			return -ENOMEM;
	}
	return 0;
out_nomem:
	snprintf(err, errlen, "out of memory building tables");
	return -ENOMEM;
}

static struct rw_rule_verdict verdict_of(const struct rw_rule *r)
{
	return (struct rw_rule_verdict){
		.action = r->action,
		.log = r->log,
		.keep_state = r->keep_state,
		.synproxy = r->synproxy,
		.loose = r->flags_explicit && !r->tcp_flags_mask,
		.in_ports = r->in_ports,
	};
}

static int make_verdicts(struct rw_ruleset *rs)
{
	rs->verdict = malloc((rs->cfg.nrules ? rs->cfg.nrules : 1) * sizeof(*rs->verdict));
	if (!rs->verdict)
		return -ENOMEM;
	for (size_t i = 0; i < rs->cfg.nrules; i++)
		rs->verdict[i] = verdict_of(&rs->cfg.rules[i]);
	return 0;
}

static int collect_arp_rules(struct rw_ruleset *rs)
{
	rs->arp_rules = calloc(rs->cfg.nrules ? rs->cfg.nrules : 1, sizeof(*rs->arp_rules));
	if (!rs->arp_rules)
		return -ENOMEM;
	for (size_t i = 0; i < rs->cfg.nrules; i++)
		if (rs->cfg.rules[i].af == RW_RULE_ARP)
			rs->arp_rules[rs->narp++] = (uint32_t)i;
	return 0;
}

struct rw_ruleset *rw_ruleset_build(struct rw_config *cfg, unsigned nworkers, uint32_t gen,
				    char *err, size_t errlen)
{
	struct rw_ruleset *rs = calloc(1, sizeof(*rs));
	size_t per_line = RW_CACHELINE / sizeof(struct rw_rule_ctr);

	if (!rs) {
		snprintf(err, errlen, "out of memory");
		rw_config_free(cfg);
		return NULL;
	}
	rs->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	rs->gen = gen;
	rs->nworkers = nworkers;
	/* Rows start on their own cache line: workers never share a line. */
	rs->ctr_stride = (rs->cfg.nrules + per_line - 1) / per_line * per_line;
	if (!rs->ctr_stride)
		rs->ctr_stride = per_line;
	rs->ctr_bytes = nworkers * rs->ctr_stride * sizeof(*rs->ctr);
	if (posix_memalign((void **)&rs->ctr, RW_CACHELINE, rs->ctr_bytes)) {
		rs->ctr = NULL;
		snprintf(err, errlen, "out of memory for rule counters");
		goto out_free;
	}
	memset(rs->ctr, 0, nworkers * rs->ctr_stride * sizeof(*rs->ctr));
	if (make_verdicts(rs) || collect_arp_rules(rs)) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	if (build_tables(rs, err, errlen))
		goto out_free;
	rs->cls = rw_classifier_build(rs->cfg.crules, rs->cfg.ncrules, rs->lpms, rs->cfg.ntables,
				      err, errlen);
	if (!rs->cls)
		goto out_free;
	return rs;

out_free:
	rw_ruleset_free(rs);
	return NULL;
}

struct rw_rule_ctr rw_ruleset_rule_total(const struct rw_ruleset *rs, uint32_t rule)
{
	struct rw_rule_ctr t = {0, 0};

	if (rs->base)
		t = rs->base[rule];
	for (unsigned w = 0; w < rs->nworkers; w++) {
		const struct rw_rule_ctr *c = rw_ruleset_ctr(rs, w, rule);
		t.packets += c->packets;
		t.bytes += c->bytes;
	}
	return t;
}

/* ---- incremental edits ---- */

static struct rw_rule_ctr *ctr_align(void *mem)
{
	uintptr_t p = ((uintptr_t)mem + RW_CACHELINE - 1) & ~(uintptr_t)(RW_CACHELINE - 1);

	return (struct rw_rule_ctr *)p;
}

/* Zeroed counter rows for n rules. Zeroing megabytes (3 MB for 2 workers
 * at 100k rules) would delay the publication, so an edit takes old's
 * spare, zeroed by the previous edit after its publication, when it is
 * big enough; else calloc, with room for later inserts. The row start is
 * aligned by hand. */
static int alloc_ctr(struct rw_ruleset *rs, struct rw_ruleset *old, size_t nrules)
{
	size_t per_line = RW_CACHELINE / sizeof(struct rw_rule_ctr), need, room;

	rs->ctr_stride = (nrules + per_line - 1) / per_line * per_line;
	if (!rs->ctr_stride)
		rs->ctr_stride = per_line;
	need = rs->nworkers * rs->ctr_stride * sizeof(*rs->ctr) + RW_CACHELINE;
	if (old->ctr_spare && old->ctr_spare_bytes >= need) {
		rs->ctr_mem = old->ctr_spare;
		rs->ctr_bytes = old->ctr_spare_bytes;
		old->ctr_spare = NULL;
	} else {
		room = rs->nworkers * (rs->ctr_stride + rs->ctr_stride / 64 + per_line);
		rs->ctr_bytes = room * sizeof(*rs->ctr) + RW_CACHELINE;
		rs->ctr_mem = calloc(1, rs->ctr_bytes);
		if (!rs->ctr_mem)
			return -ENOMEM;
	}
	rs->ctr = ctr_align(rs->ctr_mem);
	return 0;
}

/* old's verdicts with the edit made: 4 bytes a rule, the only per-rule
 * copy a publication waits for. */
static int edited_verdicts(struct rw_ruleset *rs, const struct rw_ruleset *old, uint32_t pos,
			   const struct rw_rule *ins)
{
	size_t n = old->cfg.nrules, tail = n - pos - (ins ? 0 : 1);
	struct rw_rule_verdict *v = malloc((n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	memcpy(v, old->verdict, pos * sizeof(*v));
	if (ins)
		v[pos] = verdict_of(ins);
	memcpy(v + pos + (ins ? 1 : 0), old->verdict + pos + (ins ? 0 : 1), tail * sizeof(*v));
	rs->verdict = v;
	return 0;
}

void rw_ruleset_derive_rules(struct rw_ruleset *rs, const struct rw_ruleset *old,
			     const struct rw_rule *ins)
{
	const struct rw_config *cfg = &old->cfg;
	uint32_t pos = rs->edits[rs->nedits - 1].pos;
	size_t tail = cfg->nrules - pos - (ins ? 0 : 1);
	struct rw_rule *v = rs->cfg.rules;

	/* the rules' contents are shared: only the array is copied */
	memcpy(v, cfg->rules, pos * sizeof(*v));
	if (ins)
		v[pos] = *ins;
	memcpy(v + pos + (ins ? 1 : 0), cfg->rules + pos + (ins ? 0 : 1), tail * sizeof(*v));
}

/* old's "arp" rule list through the edit: no scan of every rule. */
static int edited_arp(struct rw_ruleset *rs, const struct rw_ruleset *old,
		      const struct rw_rule_edit *ed, const struct rw_rule *ins)
{
	rs->arp_rules = calloc(old->narp + 1, sizeof(*rs->arp_rules));
	if (!rs->arp_rules)
		return -ENOMEM;
	for (size_t k = 0; k < old->narp; k++) {
		uint32_t j;

		if (ins && ins->af == RW_RULE_ARP && old->arp_rules[k] >= ed->pos &&
		    (!k || old->arp_rules[k - 1] < ed->pos))
			rs->arp_rules[rs->narp++] = ed->pos;
		if (rw_rule_edit_map(ed, old->arp_rules[k], &j))
			rs->arp_rules[rs->narp++] = j;
	}
	if (ins && ins->af == RW_RULE_ARP &&
	    (!old->narp || old->arp_rules[old->narp - 1] < ed->pos))
		rs->arp_rules[rs->narp++] = ed->pos;
	return 0;
}

/* The edits leading to gen: old's when old is the generation just before
 * (a chain of edits), then this one. */
static void chain_edits(struct rw_ruleset *rs, const struct rw_ruleset *old,
			const struct rw_rule_edit *ed)
{
	unsigned keep = 0, from = 0;

	if (old->gen + 1 == ed->gen) {
		keep = old->nedits;
		if (keep == RW_RULESET_EDITS) {
			from = 1; /* forget the oldest */
			keep--;
		}
	}
	memcpy(rs->edits, old->edits + from, keep * sizeof(*rs->edits));
	rs->edits[keep] = *ed;
	rs->nedits = keep + 1;
}

struct rw_ruleset *rw_ruleset_derive(struct rw_ruleset *old, struct rw_classifier *cls,
				     uint32_t pos, const struct rw_rule *rule, uint32_t gen,
				     struct rw_rule *rules, char *err, size_t errlen)
{
	struct rw_rule_edit ed = {.gen = gen, .pos = pos, .insert = rule != NULL};
	struct rw_ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs) {
		free(rules);
		goto out_nomem;
	}
	rs->borrowed = true;
	rs->cfg = old->cfg;
	rs->lpms = old->lpms;
	rs->gen = gen;
	rs->nworkers = old->nworkers;
	rs->cfg.rules = rules; /* filled after publication: rw_ruleset_derive_rules */
	rs->cfg.nrules = rule ? old->cfg.nrules + 1 : old->cfg.nrules - 1;
	/* workers treat ACKs as possible SYN proxy handshakes only if some
	 * rule has "synproxy state" */
	if (rule)
		rs->cfg.nsynproxy += rule->synproxy;
	else
		rs->cfg.nsynproxy -= old->verdict[pos].synproxy;
	/* not zeroed: rw_ruleset_fold writes every entry before anyone reads */
	rs->base = malloc((rs->cfg.nrules ? rs->cfg.nrules : 1) * sizeof(*rs->base));
	if (!rs->base || alloc_ctr(rs, old, rs->cfg.nrules) || edited_verdicts(rs, old, pos, rule) ||
	    edited_arp(rs, old, &ed, rule))
		goto out_free;
	chain_edits(rs, old, &ed);
	rs->cls = cls;
	return rs;

out_free:
	rw_ruleset_free(rs);
out_nomem:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

bool rw_rule_edit_map(const struct rw_rule_edit *ed, uint32_t i, uint32_t *out)
{
	if (ed->insert) {
		*out = i >= ed->pos ? i + 1 : i;
		return true;
	}
	*out = i > ed->pos ? i - 1 : i;
	return i != ed->pos;
}

void rw_ruleset_fold(struct rw_ruleset *rs, struct rw_ruleset *old)
{
	const struct rw_rule_edit *ed = &rs->edits[rs->nedits - 1];
	void *mem = old->ctr_mem ? old->ctr_mem : old->ctr;

	if (ed->insert)
		rs->base[ed->pos] = (struct rw_rule_ctr){0, 0};
	for (uint32_t i = 0; i < old->cfg.nrules; i++) {
		uint32_t j;

		if (rw_rule_edit_map(ed, i, &j))
			rs->base[j] = rw_ruleset_rule_total(old, i);
	}
	/* old's counters, zeroed, become the next edit's */
	memset(mem, 0, old->ctr_bytes);
	free(rs->ctr_spare);
	rs->ctr_spare = mem;
	rs->ctr_spare_bytes = old->ctr_bytes;
	old->ctr_mem = NULL;
	old->ctr = NULL;
}

bool rw_ruleset_ref_map(const struct rw_ruleset *rs, uint32_t ref, uint32_t *rule)
{
	uint32_t g = ref >> RW_RULE_REF_BITS, r = ref & RW_RULE_REF_MASK;
	unsigned k = rs->nedits;

	/* the edit that was made to the reference's generation, newest first */
	while (k && RW_RULE_REF_GEN(rs->edits[k - 1].gen - 1) != g)
		k--;
	if (!k)
		return false;
	for (k--; k < rs->nedits; k++)
		if (!rw_rule_edit_map(&rs->edits[k], r, &r))
			return false;
	*rule = r;
	return r < rs->cfg.nrules;
}
