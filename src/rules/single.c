// SPDX-License-Identifier: BSD-2-Clause
/*
 * One rule, or one table prefix, parsed on its own against a running
 * configuration (ringwallctl rule add / table add). The rule goes through
 * the file parser's own code (rw_parse_rule, rw_expand), so a rule added
 * live is checked exactly as the same line in the file would be: the port
 * names and tables it may use are the running configuration's.
 */
#include "parser.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* The name errors carry: "<ctl>:1:COL: message". */
#define CTL_NAME "<ctl>"

/* A scratch configuration that sees cfg's ports and tables (borrowed, not
 * owned: only its rules and tuples are freed). */
static void scratch_init(struct rw_config *tmp, const struct rw_config *cfg)
{
	memset(tmp, 0, sizeof(*tmp));
	memcpy(tmp->ports, cfg->ports, sizeof(tmp->ports));
	tmp->nports = cfg->nports;
	tmp->tables = cfg->tables;
	tmp->ntables = cfg->ntables;
}

static void scratch_free(struct rw_config *tmp)
{
	for (size_t i = 0; i < tmp->nrules; i++)
		rw_rule_free(&tmp->rules[i]);
	free(tmp->rules);
	free(tmp->crules);
}

static int parse_line(struct rw_parser *p)
{
	struct rw_tok *t;

	if (!rw_lex_line(&p->lx)) {
		rw_diag_report(p->d, CTL_NAME, 1, 1, "empty rule");
		return -1;
	}
	if (p->lx.nomem)
		p->nomem = true;
	if (p->lx.error || p->nomem)
		return -1;
	p->t = p->lx.toks;
	p->i = 0;
	t = rw_p_peek(p);
	if (!rw_tok_is(t, "pass") && !rw_tok_is(t, "block"))
		return rw_p_unexpected(p, t, "pass or block");
	if (rw_parse_rule(p))
		return -1;
	/* A continued ("\") text would hold a second line: one rule only. */
	if (rw_lex_line(&p->lx)) {
		struct rw_tok at = {.line = p->lx.line, .col = 1};
		return rw_p_err(p, &at, "one rule only");
	}
	return 0;
}

int rw_config_parse_rule(const struct rw_config *cfg, const char *text, struct rw_rule *rule,
			 struct rw_crule **tuples, size_t *ntuples, char *err, size_t errlen)
{
	struct rw_config tmp;
	struct rw_diag d = {0};
	struct rw_parser p = {.cfg = &tmp, .d = &d, .name = CTL_NAME};
	uint16_t all = cfg->nports ? (uint16_t)((1u << cfg->nports) - 1) : 0xffff;
	int ret = -EINVAL;

	scratch_init(&tmp, cfg);
	rw_lex_init(&p.lx, CTL_NAME, text, strlen(text), &d);
	if (parse_line(&p) || tmp.nrules != 1)
		goto out;
	/* "on" omitted: every port (finish() in parse.c does this for a file). */
	if (!tmp.rules[0].in_ports)
		tmp.rules[0].in_ports = all;
	if (rw_expand(&tmp, &d, CTL_NAME))
		goto out;
	tmp.rules[0].line = 0; /* not from the file */
	*rule = tmp.rules[0];
	tmp.nrules = 0;
	*tuples = tmp.crules;
	*ntuples = tmp.ncrules;
	tmp.crules = NULL;
	ret = 0;
out:
	if (ret && p.nomem && !d.errors)
		snprintf(d.first, sizeof(d.first), "%s:1:1: out of memory", CTL_NAME);
	if (ret)
		snprintf(err, errlen, "%s", d.first[0] ? d.first : CTL_NAME ":1:1: invalid rule");
	rw_lex_free(&p.lx);
	scratch_free(&tmp);
	return ret;
}

int rw_config_parse_prefix(const char *text, struct rw_table_entry *e, char *err, size_t errlen)
{
	char buf[128], *slash;
	bool neg = text[0] == '!';

	if (neg)
		text++;
	if (unlikely(strlen(text) >= sizeof(buf) || !text[0])) {
		snprintf(err, errlen, "'%s' is not a prefix", text);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (rw_prefix_parse(buf, slash, e, err, errlen))
		return -EINVAL;
	e->neg = neg;
	return 0;
}

void rw_config_rule_free(struct rw_rule *r)
{
	rw_rule_free(r);
}
