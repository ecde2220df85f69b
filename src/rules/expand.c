// SPDX-License-Identifier: BSD-2-Clause
/*
 * Expansion: every rule becomes the product of its families, protocols,
 * source ranges, destination ranges and port (or ICMP type/code) ranges,
 * as struct rw_crule tuples in rule order. Negated operands are turned
 * into their complement here, as ranges, so the classifier never sees a
 * negation except a table's.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rvec {
	struct rw_addr_range *v;
	size_t n;
};

struct out {
	struct rw_crule *v;
	size_t n, cap;
};

/* Ranges tmp[0..n) (taken) as a set: normalized, or if neg its complement
 * within full. */
static int finish_set(struct rw_addr_range *tmp, size_t n, bool neg,
		      const struct rw_addr_range *full, struct rvec *o)
{
	int ret;

	rw_rset_normalize(tmp, &n);
	if (!neg) {
		o->v = tmp;
		o->n = n;
		return 0;
	}
	ret = rw_rset_diff(full, 1, tmp, n, &o->v, &o->n);
	free(tmp);
	return ret;
}

/* The set an address operand matches within family af. */
static int addr_set(const struct rw_addr_spec *s, uint8_t af, struct rvec *o)
{
	struct rw_addr_range full, *tmp;
	size_t n = 0;

	rw_family_range(af, &full);
	o->v = NULL;
	o->n = 0;
	if (s->any || s->table >= 0) {
		o->v = malloc(sizeof(full));
		if (!o->v)
			return -ENOMEM;
		o->v[0] = full;
		o->n = 1;
		return 0;
	}
	tmp = malloc((s->nranges ? s->nranges : 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	for (size_t i = 0; i < s->nranges; i++)
		if (s->ranges[i].af == af)
			tmp[n++] = s->ranges[i];
	return finish_set(tmp, n, s->neg, &full, o);
}

static int port_set(const struct rw_port_spec *s, struct rvec *o)
{
	struct rw_addr_range full, *tmp;
	size_t n = s->nranges;

	rw_port_to_rset(0, 65535, &full);
	o->v = NULL;
	o->n = 0;
	tmp = malloc((n ? n : 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	if (s->any) {
		tmp[0] = full;
		n = 1;
	}
	for (size_t i = 0; !s->any && i < n; i++)
		rw_port_to_rset(s->ranges[i].lo, s->ranges[i].hi, &tmp[i]);
	return finish_set(tmp, n, s->neg && !s->any, &full, o);
}

/* ICMP type/code pairs as (sport, dport) ranges. */
static int icmp_sets(const struct rw_rule *r, struct rvec *sp, struct rvec *dp)
{
	size_t n = r->nicmps;

	sp->v = calloc(n, sizeof(*sp->v));
	dp->v = calloc(n, sizeof(*dp->v));
	sp->n = dp->n = n;
	if (!sp->v || !dp->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct rw_icmp_match *m = &r->icmps[i];
		rw_port_to_rset((uint16_t)m->type, (uint16_t)m->type, &sp->v[i]);
		if (m->code < 0)
			rw_port_to_rset(0, 65535, &dp->v[i]);
		else
			rw_port_to_rset((uint16_t)m->code, (uint16_t)m->code, &dp->v[i]);
	}
	return 0;
}

struct rule_sets {
	struct rvec src, dst, sport, dport, itype, icode;
};

static void sets_free(struct rule_sets *s)
{
	free(s->src.v);
	free(s->dst.v);
	free(s->sport.v);
	free(s->dport.v);
	free(s->itype.v);
	free(s->icode.v);
	memset(s, 0, sizeof(*s));
}

static int sets_build(const struct rw_rule *r, uint8_t af, struct rule_sets *s)
{
	memset(s, 0, sizeof(*s));
	if (addr_set(&r->src, af, &s->src) || addr_set(&r->dst, af, &s->dst) ||
	    port_set(&r->sport, &s->sport) || port_set(&r->dport, &s->dport) ||
	    (r->nicmps && icmp_sets(r, &s->itype, &s->icode))) {
		sets_free(s);
		return -ENOMEM;
	}
	return 0;
}

static bool is_icmp(uint8_t proto, uint8_t af)
{
	return (af == RW_AF_INET && proto == RW_PROTO_ICMP) ||
	       (af == RW_AF_INET6 && proto == RW_PROTO_ICMP6);
}

/* a * b, or SIZE_MAX when it does not fit: a count that wrapped around to
 * a small number would pass the tuple cap and then expand for ever. */
static size_t mul_sat(size_t a, size_t b)
{
	size_t r;

	return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

/* Tuples of one (family, protocol): counted into *n, and written to o
 * unless o is NULL. */
static int emit(const struct rw_rule *r, uint32_t idx, uint8_t af, int proto,
		const struct rule_sets *s, struct out *o, size_t *n)
{
	bool icmp = proto >= 0 && r->nicmps && is_icmp((uint8_t)proto, af);
	bool l4 = proto == RW_PROTO_TCP || proto == RW_PROTO_UDP;
	struct rw_addr_range any_port;
	const struct rvec any1 = {&any_port, 1};
	const struct rvec *sp = icmp ? &s->itype : l4 ? &s->sport : &any1;
	const struct rvec *dp = icmp ? &s->icode : l4 ? &s->dport : &any1;
	size_t pairs = icmp ? s->itype.n : mul_sat(sp->n, dp->n), t;

	rw_port_to_rset(0, 65535, &any_port);
	t = mul_sat(mul_sat(s->src.n, s->dst.n), pairs);
	*n = __builtin_add_overflow(*n, t, n) ? SIZE_MAX : *n;
	if (!o)
		return 0;
	/* ICMP type and code go in pairs (d == c only): a loop over every
	 * (c, d) would be quadratic in a long icmp-type list. */
	for (size_t a = 0; a < s->src.n; a++)
	for (size_t b = 0; b < s->dst.n; b++)
	for (size_t c = 0; c < sp->n; c++)
	for (size_t d = icmp ? c : 0; d < (icmp ? c + 1 : dp->n); d++) {
		struct rw_crule *cr;
		struct rw_port_range ps, pd;

		if (rw_grow(&o->v, &o->cap, o->n + 1, sizeof(*o->v)))
			return -ENOMEM;
		cr = &o->v[o->n++];
		memset(cr, 0, sizeof(*cr));
		cr->rule = idx;
		cr->in_ports = r->in_ports;
		cr->af = af;
		cr->proto = proto < 0 ? 0 : (uint8_t)proto;
		cr->proto_mask = proto < 0 ? 0 : 0xff;
		if (proto == RW_PROTO_TCP) {
			cr->tcp_flags = r->tcp_flags;
			cr->tcp_flags_mask = r->tcp_flags_mask;
		}
		cr->src_table = (int16_t)(r->src.any ? -1 : r->src.table);
		cr->dst_table = (int16_t)(r->dst.any ? -1 : r->dst.table);
		cr->src_table_neg = cr->src_table >= 0 && r->src.neg;
		cr->dst_table_neg = cr->dst_table >= 0 && r->dst.neg;
		memcpy(cr->src_lo, s->src.v[a].lo, 16);
		memcpy(cr->src_hi, s->src.v[a].hi, 16);
		memcpy(cr->dst_lo, s->dst.v[b].lo, 16);
		memcpy(cr->dst_hi, s->dst.v[b].hi, 16);
		rw_rset_to_port(&sp->v[c], &ps);
		rw_rset_to_port(&dp->v[d], &pd);
		cr->sport_lo = ps.lo;
		cr->sport_hi = ps.hi;
		cr->dport_lo = pd.lo;
		cr->dport_hi = pd.hi;
	}
	return 0;
}

static int expand_rule(const struct rw_rule *r, uint32_t idx, struct out *o, size_t *n)
{
	*n = 0;
	if (r->af == RW_RULE_ARP)
		return 0;
	for (uint8_t af = RW_AF_INET; af <= RW_AF_INET6; af += 2) {
		struct rule_sets s;
		int ret = 0;

		if (r->af && r->af != af)
			continue;
		if (sets_build(r, af, &s))
			return -ENOMEM;
		if (!r->nprotos)
			ret = emit(r, idx, af, -1, &s, o, n);
		for (size_t i = 0; !ret && i < r->nprotos; i++)
			ret = emit(r, idx, af, r->protos[i], &s, o, n);
		sets_free(&s);
		if (ret)
			return ret;
		/* Stop counting early: a huge product is refused anyway. */
		if (!o && *n > RW_RULE_TUPLES_MAX)
			return 0;
	}
	return 0;
}

int rw_rule_tuples(const struct rw_rule *r, size_t *n)
{
	return expand_rule(r, 0, NULL, n);
}

int rw_expand(struct rw_config *cfg, struct rw_diag *d, const char *file)
{
	struct out o = {0};

	free(cfg->crules);
	cfg->crules = NULL;
	cfg->ncrules = 0;
	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct rw_rule *r = &cfg->rules[i];
		size_t n;

		if (rw_rule_tuples(r, &n))
			goto out_nomem;
		if (n == SIZE_MAX) {
			rw_diag_report(d, file, r->line, 1, "this rule expands to more match tuples "
				       "than can be counted (at most %d): use a table or split it",
				       RW_RULE_TUPLES_MAX);
			free(o.v);
			return -E2BIG;
		}
		if (n > RW_RULE_TUPLES_MAX) {
			rw_diag_report(d, file, r->line, 1, "this rule expands to %zu match tuples "
				       "(at most %d): use a table or split it", n,
				       RW_RULE_TUPLES_MAX);
			free(o.v);
			return -E2BIG;
		}
		if (expand_rule(r, (uint32_t)i, &o, &n))
			goto out_nomem;
	}
	cfg->crules = o.v;
	cfg->ncrules = o.n;
	return 0;
out_nomem:
	free(o.v);
	rw_diag_report(d, file, 0, 0, "out of memory expanding the rules");
	return -ENOMEM;
}
