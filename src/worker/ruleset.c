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
	if (rs->lpms)
		for (size_t i = 0; i < rs->cfg.ntables; i++)
			rw_lpm_free(rs->lpms[i]);
	free(rs->lpms);
	free(rs->ctr);
	free(rs->arp_rules);
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
	if (posix_memalign((void **)&rs->ctr, RW_CACHELINE,
			   nworkers * rs->ctr_stride * sizeof(*rs->ctr))) {
		rs->ctr = NULL;
		snprintf(err, errlen, "out of memory for rule counters");
		goto out_free;
	}
	memset(rs->ctr, 0, nworkers * rs->ctr_stride * sizeof(*rs->ctr));
	if (collect_arp_rules(rs)) {
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

	for (unsigned w = 0; w < rs->nworkers; w++) {
		const struct rw_rule_ctr *c = rw_ruleset_ctr(rs, w, rule);
		t.packets += c->packets;
		t.bytes += c->bytes;
	}
	return t;
}
