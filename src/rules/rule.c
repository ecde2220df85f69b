// SPDX-License-Identifier: BSD-2-Clause
/*
 * Rules:
 *   ACTION [in|out] [log] [quick] [on PORTS] [inet|inet6|arp] [proto PROTOS]
 *          [all | [from ADDRS [port PORTS]] [to ADDRS [port PORTS]]]
 *          [flags F/M|any] [icmp-type ...|icmp6-type ...]
 *          [keep state|synproxy state|no state]
 * A rule is checked whole before it is kept: anything that could never do
 * what it says (ports on icmp, an IPv6 address in an inet rule, "no state"
 * on a block) is an error rather than a rule that silently never matches.
 */
#include "parser.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define FAM4 1
#define FAM6 2

static uint8_t fam_bit(uint8_t af)
{
	return af == RW_AF_INET ? FAM4 : af == RW_AF_INET6 ? FAM6 : FAM4 | FAM6;
}

/* What the checks at the end of a rule need to point at. */
struct rule_ctx {
	struct rw_rule r;
	struct rw_tok *first, *out, *sport_kw, *dport_kw, *flags_kw, *icmp_kw, *state_kw;
	bool icmp6;
	uint8_t src_fams, dst_fams;
	size_t icmp_cap;  /* room in r.icmps */
};

/* A growing range list. */
struct rlist {
	struct rw_addr_range *v;
	size_t n, cap;
};

static int rlist_add(struct rw_parser *p, struct rlist *l, const struct rw_addr_range *r)
{
	if (rw_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v))) {
		p->nomem = true;
		return -1;
	}
	l->v[l->n++] = *r;
	return 0;
}

/* pf's list meaning: in the union of the plain elements and in none of the
 * "!" ones. A list of only "!" elements starts from everything (of the
 * families it names). */
static int rlist_result(struct rw_parser *p, struct rlist *pos, struct rlist *neg,
			uint8_t fams, bool ports, struct rw_addr_range **out, size_t *nout)
{
	struct rw_addr_range full;

	if (!pos->n) {
		if (ports) {
			rw_port_to_rset(0, 65535, &full);
			if (rlist_add(p, pos, &full))
				return -1;
		}
		for (uint8_t af = RW_AF_INET; !ports && af <= RW_AF_INET6; af += 2) {
			if (!(fams & fam_bit(af)))
				continue;
			rw_family_range(af, &full);
			if (rlist_add(p, pos, &full))
				return -1;
		}
	}
	rw_rset_normalize(pos->v, &pos->n);
	rw_rset_normalize(neg->v, &neg->n);
	if (rw_rset_diff(pos->v, pos->n, neg->v, neg->n, out, nout)) {
		p->nomem = true;
		return -1;
	}
	return 0;
}

/* ---- on PORTS ---- */

static int port_bit(struct rw_parser *p, struct rw_tok *t, uint16_t *mask)
{
	const struct rw_config *cfg = p->cfg;
	char list[RW_MAX_PORTS * 34] = "";
	int i;

	if (t->type != TK_WORD)
		return rw_p_unexpected(p, t, "a port name");
	if (!strcmp(t->text, "any")) {
		*mask |= 0xffff;
		return 0;
	}
	i = rw_config_port(cfg, t->text);
	if (i >= 0) {
		*mask |= (uint16_t)(1u << i);
		return 0;
	}
	if (!cfg->nports)
		return rw_p_err(p, t, "unknown port '%s' (no ports are declared before this rule)",
				t->text);
	for (unsigned k = 0; k < cfg->nports; k++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", k ? ", " : "",
			 cfg->ports[k].name);
	return rw_p_err(p, t, "unknown port '%s' (ports: %s)", t->text, list);
}

/* Leaves 0 for "any": the real mask is known once every port is. */
static int parse_on(struct rw_parser *p, struct rule_ctx *c)
{
	bool neg = rw_p_accept_type(p, TK_NOT);
	struct rw_tok *at = rw_p_peek(p);
	uint16_t mask = 0, all;

	if (rw_p_accept_type(p, TK_LBRACE)) {
		while (!rw_p_accept_type(p, TK_RBRACE)) {
			if (rw_p_accept_type(p, TK_COMMA))
				continue;
			if (port_bit(p, rw_p_next(p), &mask))
				return -1;
		}
	} else if (port_bit(p, rw_p_next(p), &mask)) {
		return -1;
	}
	all = p->cfg->nports ? (uint16_t)((1u << p->cfg->nports) - 1) : 0xffff;
	if (mask == 0xffff)
		mask = all;
	if (neg)
		mask = all & (uint16_t)~mask;
	if (!mask)
		return rw_p_err(p, at, "this rule names no port");
	if (c->out) {
		if (p->cfg->nports != 2)
			return rw_p_err(p, c->out, "'out on' needs a bridge of exactly 2 ports "
					"(write 'in on PORT')");
		/* Leaving by one port of a bridge is entering by the other. */
		mask = (uint16_t)(((mask & 1) << 1) | ((mask >> 1) & 1));
	}
	c->r.in_ports = mask == all ? 0 : mask;
	return 0;
}

/* ---- proto ---- */

static int proto_one(struct rw_parser *p, struct rw_rule *r, struct rw_tok *t)
{
	uint8_t *np;
	uint64_t v;
	int n, e;

	if (t->type != TK_WORD)
		return rw_p_unexpected(p, t, "a protocol");
	e = rw_parse_uint(t->text, 255, &v);
	if (e == -ERANGE)
		return rw_p_err(p, t, "protocol number %s out of range (0-255)", t->text);
	n = e ? rw_proto_lookup(t->text) : (int)v;
	if (n < 0)
		return rw_p_err(p, t, "unknown protocol '%s'", t->text);
	for (size_t i = 0; i < r->nprotos; i++)
		if (r->protos[i] == n)
			return 0;
	np = realloc(r->protos, r->nprotos + 1);
	if (!np) {
		p->nomem = true;
		return -1;
	}
	r->protos = np;
	r->protos[r->nprotos++] = (uint8_t)n;
	return 0;
}

static int parse_proto(struct rw_parser *p, struct rw_rule *r)
{
	struct rw_tok *open = rw_p_peek(p);

	if (!rw_p_accept_type(p, TK_LBRACE))
		return proto_one(p, r, rw_p_next(p));
	while (!rw_p_accept_type(p, TK_RBRACE)) {
		if (rw_p_accept_type(p, TK_COMMA))
			continue;
		if (proto_one(p, r, rw_p_next(p)))
			return -1;
	}
	if (!r->nprotos)
		return rw_p_err(p, open, "empty list");
	return 0;
}

/* ---- addresses ---- */

static const char *af_word(uint8_t af)
{
	return af == RW_AF_INET ? "inet" : "inet6";
}

/* ADDR[/LEN] or "any" into r; fams gets its family. */
static int addr_elem(struct rw_parser *p, struct rule_ctx *c, struct rw_addr_range *r,
		     uint8_t *fams)
{
	struct rw_table_entry e;
	struct rw_tok *a;

	if (rw_p_prefix(p, &e, &a))
		return -1;
	if (c->r.af && c->r.af != e.af)
		return rw_p_err(p, a, "%s address '%s' in an %s rule",
				e.af == RW_AF_INET ? "IPv4" : "IPv6", a->text, af_word(c->r.af));
	rw_prefix_range(&e, r);
	*fams |= fam_bit(e.af);
	return 0;
}

/* "any" in a list: every family the rule allows. */
static int add_any(struct rw_parser *p, struct rule_ctx *c, struct rlist *l, uint8_t *fams)
{
	struct rw_addr_range r;

	for (uint8_t af = RW_AF_INET; af <= RW_AF_INET6; af += 2) {
		if (c->r.af && c->r.af != af)
			continue;
		rw_family_range(af, &r);
		if (rlist_add(p, l, &r))
			return -1;
		*fams |= fam_bit(af);
	}
	return 0;
}

static int addr_list(struct rw_parser *p, struct rule_ctx *c, struct rw_addr_spec *s,
		     uint8_t *fams)
{
	struct rw_tok *open = rw_p_next(p);
	struct rlist pos = {0}, neg = {0};
	int ret = -1;

	for (;;) {
		struct rw_tok *t;
		struct rlist *l;
		struct rw_addr_range r;

		while (rw_p_accept_type(p, TK_COMMA))
			;
		if (rw_p_accept_type(p, TK_RBRACE))
			break;
		l = rw_p_accept_type(p, TK_NOT) ? &neg : &pos;
		t = rw_p_peek(p);
		if (t->type == TK_LT) {
			/* One crule holds one table per side, so a union of a
			 * table with other elements cannot be expressed. */
			rw_p_err(p, t, "a table cannot be used inside a { } list "
				 "(put the addresses in the table)");
			goto out;
		}
		if (t->type == TK_EOL) {
			rw_p_unexpected(p, t, "'}'");
			goto out;
		}
		if (rw_tok_is(t, "any")) {
			rw_p_next(p);
			if (add_any(p, c, l, fams))
				goto out;
			continue;
		}
		if (addr_elem(p, c, &r, fams) || rlist_add(p, l, &r))
			goto out;
	}
	if (!pos.n && !neg.n) {
		rw_p_err(p, open, "empty list");
		goto out;
	}
	ret = rlist_result(p, &pos, &neg, *fams, false, &s->ranges, &s->nranges);
out:
	free(pos.v);
	free(neg.v);
	return ret;
}

static int parse_addrs(struct rw_parser *p, struct rule_ctx *c, struct rw_addr_spec *s,
		       uint8_t *fams)
{
	struct rw_tok *bang = rw_p_peek(p), *t;
	struct rw_addr_range r;

	s->neg = rw_p_accept_type(p, TK_NOT);
	t = rw_p_peek(p);
	*fams = 0;
	if (rw_tok_is(t, "any")) {
		rw_p_next(p);
		if (s->neg)
			return rw_p_err(p, bang, "'! any' matches nothing");
		s->any = true;
		*fams = FAM4 | FAM6;
		return 0;
	}
	s->any = false;
	if (t->type == TK_LT) {
		struct rw_tok *name;

		rw_p_next(p);
		name = rw_p_next(p);
		if (name->type != TK_WORD)
			return rw_p_unexpected(p, name, "a table name");
		if (!rw_p_accept_type(p, TK_GT))
			return rw_p_unexpected(p, rw_p_peek(p), "'>'");
		s->table = rw_table_find(p->cfg, name->text);
		if (s->table < 0)
			return rw_p_err(p, t, "undefined table <%s>", name->text);
		*fams = FAM4 | FAM6;
		return 0;
	}
	if (t->type == TK_LBRACE)
		return addr_list(p, c, s, fams);
	if (addr_elem(p, c, &r, fams))
		return -1;
	s->ranges = malloc(sizeof(r));
	if (!s->ranges) {
		p->nomem = true;
		return -1;
	}
	s->ranges[0] = r;
	s->nranges = 1;
	return 0;
}

/* ---- ports ---- */

static int port_value(struct rw_parser *p, struct rw_tok *t, const char *text, uint32_t *v)
{
	uint64_t n;
	int e, s;

	if (t->type != TK_WORD)
		return rw_p_unexpected(p, t, "a port number or service name");
	e = rw_parse_uint(text, 65535, &n);
	if (e == -ERANGE)
		return rw_p_err(p, t, "port %s out of range (0-65535)", text);
	if (!e) {
		*v = (uint32_t)n;
		return 0;
	}
	s = rw_service_lookup(text);
	if (s < 0)
		return rw_p_err(p, t, "unknown port or service name '%s'", text);
	*v = (uint32_t)s;
	return 0;
}

static int port_add(struct rw_parser *p, struct rlist *l, uint32_t lo, uint32_t hi)
{
	struct rw_addr_range r;

	rw_port_to_rset((uint16_t)lo, (uint16_t)hi, &r);
	return rlist_add(p, l, &r);
}

/* WORD [><|<> WORD], where WORD may be LO:HI. */
static int port_word(struct rw_parser *p, struct rw_tok *t, struct rlist *l)
{
	char lo_s[64];
	const char *colon = strchr(t->text, ':');
	uint32_t lo, hi;
	struct rw_tok *op;

	if (colon) {
		snprintf(lo_s, sizeof(lo_s), "%.*s", (int)(colon - t->text), t->text);
		if (port_value(p, t, lo_s, &lo) || port_value(p, t, colon + 1, &hi))
			return -1;
		if (lo > hi)
			return rw_p_err(p, t, "port range %u:%u runs backwards", lo, hi);
		return port_add(p, l, lo, hi);
	}
	if (port_value(p, t, t->text, &lo))
		return -1;
	op = rw_p_peek(p);
	if (op->type != TK_XRANGE && op->type != TK_IRANGE)
		return port_add(p, l, lo, lo);
	rw_p_next(p);
	if (port_value(p, rw_p_peek(p), rw_p_peek(p)->text, &hi))
		return -1;
	rw_p_next(p);
	if (op->type == TK_XRANGE) {
		if (hi < lo + 2)
			return rw_p_err(p, t, "port range %u><%u holds no port", lo, hi);
		return port_add(p, l, lo + 1, hi - 1);
	}
	if (lo > hi)
		return rw_p_err(p, t, "port range %u<>%u runs backwards", lo, hi);
	if (lo == 0 && hi == 65535)
		return rw_p_err(p, t, "port range %u<>%u holds no port", lo, hi);
	if (lo > 0 && port_add(p, l, 0, lo - 1))
		return -1;
	return hi < 65535 ? port_add(p, l, hi + 1, 65535) : 0;
}

/* One operand: "= N", "!= N" (into neg), "< N", ..., or a word form. */
static int port_item(struct rw_parser *p, struct rlist *pos, struct rlist *neg)
{
	struct rw_tok *t = rw_p_next(p), *nt;
	uint32_t v;

	switch (t->type) {
	case TK_WORD:
		return port_word(p, t, pos);
	case TK_EQ: case TK_NE: case TK_LT: case TK_LE: case TK_GT: case TK_GE:
		break;
	default:
		return rw_p_unexpected(p, t, "a port");
	}
	nt = rw_p_next(p);
	if (port_value(p, nt, nt->text, &v))
		return -1;
	switch (t->type) {
	case TK_EQ:
		return port_add(p, pos, v, v);
	case TK_NE:
		return port_add(p, neg, v, v);
	case TK_LT:
		if (!v)
			return rw_p_err(p, t, "'< 0' matches no port");
		return port_add(p, pos, 0, v - 1);
	case TK_LE:
		return port_add(p, pos, 0, v);
	case TK_GT:
		if (v == 65535)
			return rw_p_err(p, t, "'> 65535' matches no port");
		return port_add(p, pos, v + 1, 65535);
	default:
		return port_add(p, pos, v, 65535);
	}
}

static int rset_to_ports(struct rw_parser *p, const struct rw_addr_range *v, size_t n,
			 struct rw_port_spec *s)
{
	s->ranges = calloc(n ? n : 1, sizeof(*s->ranges));
	if (!s->ranges) {
		p->nomem = true;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		rw_rset_to_port(&v[i], &s->ranges[i]);
	s->nranges = n;
	return 0;
}

static int parse_ports(struct rw_parser *p, struct rw_port_spec *s)
{
	struct rlist pos = {0}, neg = {0};
	struct rw_addr_range *res = NULL;
	struct rw_tok *open = rw_p_peek(p);
	size_t nres = 0;
	int ret = -1;

	s->any = false;
	if (!rw_p_accept_type(p, TK_LBRACE)) {
		/* A lone "!= N" stays a negated operand; expansion complements. */
		if (port_item(p, &pos, &neg))
			goto out;
		s->neg = neg.n > 0;
		ret = rset_to_ports(p, s->neg ? neg.v : pos.v, s->neg ? neg.n : pos.n, s);
		goto out;
	}
	for (;;) {
		while (rw_p_accept_type(p, TK_COMMA))
			;
		if (rw_p_accept_type(p, TK_RBRACE))
			break;
		if (rw_p_peek(p)->type == TK_EOL) {
			rw_p_unexpected(p, rw_p_peek(p), "'}'");
			goto out;
		}
		if (port_item(p, &pos, &neg))
			goto out;
	}
	if (!pos.n && !neg.n) {
		rw_p_err(p, open, "empty list");
		goto out;
	}
	if (rlist_result(p, &pos, &neg, 0, true, &res, &nres))
		goto out;
	ret = rset_to_ports(p, res, nres, s);
out:
	free(res);
	free(pos.v);
	free(neg.v);
	return ret;
}

/* ---- from / to ---- */

static int host_port(struct rw_parser *p, struct rule_ctx *c, struct rw_addr_spec *a,
		     struct rw_port_spec *ps, struct rw_tok **kw, uint8_t *fams)
{
	if (!rw_tok_is(rw_p_peek(p), "port") && parse_addrs(p, c, a, fams))
		return -1;
	if (rw_tok_is(rw_p_peek(p), "port")) {
		*kw = rw_p_next(p);
		return parse_ports(p, ps);
	}
	return 0;
}

/* ---- options ---- */

static int flag_bits(struct rw_parser *p, struct rw_tok *t, uint8_t *bits)
{
	static const char letters[] = "FSRPAUEW";

	*bits = 0;
	for (const char *s = t->text; *s; s++) {
		const char *f = strchr(letters, *s);
		if (!f)
			return rw_p_err(p, t, "unknown TCP flag '%c' in '%s' (flags: F S R P A U E W)",
					*s, t->text);
		*bits |= (uint8_t)(1u << (f - letters));
	}
	return 0;
}

static int parse_flags(struct rw_parser *p, struct rule_ctx *c)
{
	struct rw_tok *f = NULL, *m;
	uint8_t fb = 0, mb;

	c->r.flags_explicit = true;
	if (rw_p_accept(p, "any")) {
		c->r.tcp_flags = c->r.tcp_flags_mask = 0;
		return 0;
	}
	if (rw_p_peek(p)->type == TK_WORD)
		f = rw_p_next(p);
	if (!rw_p_accept_type(p, TK_SLASH))
		return rw_p_unexpected(p, rw_p_peek(p), "F/M, /M or any");
	m = rw_p_next(p);
	if (m->type != TK_WORD)
		return rw_p_unexpected(p, m, "a flag mask");
	if ((f && flag_bits(p, f, &fb)) || flag_bits(p, m, &mb))
		return -1;
	if (fb & ~mb)
		return rw_p_err(p, f, "flags %s/%s can never match (%s is not within the mask)",
				f->text, m->text, f->text);
	c->r.tcp_flags = fb;
	c->r.tcp_flags_mask = mb;
	return 0;
}

static int icmp_one(struct rw_parser *p, struct rule_ctx *c, struct rw_icmp_match *im)
{
	const char *kw = c->icmp6 ? "icmp6-type" : "icmp-type";
	struct rw_tok *t = rw_p_next(p);
	uint64_t v;
	int e, n;

	if (t->type != TK_WORD)
		return rw_p_unexpected(p, t, "an ICMP type");
	e = rw_parse_uint(t->text, 255, &v);
	if (e == -ERANGE)
		return rw_p_err(p, t, "%s %s out of range (0-255)", kw, t->text);
	n = e ? rw_icmp_type_lookup(t->text, c->icmp6) : (int)v;
	if (n < 0)
		return rw_p_err(p, t, "unknown %s '%s'", kw, t->text);
	im->type = (int16_t)n;
	im->code = -1;
	if (rw_p_accept(p, "code")) {
		t = rw_p_next(p);
		if (t->type != TK_WORD || rw_parse_uint(t->text, 255, &v))
			return rw_p_err(p, t, "icmp code must be a number from 0 to 255");
		im->code = (int16_t)v;
	}
	return 0;
}

static int icmp_add(struct rw_parser *p, struct rule_ctx *c)
{
	struct rw_icmp_match im;

	if (icmp_one(p, c, &im))
		return -1;
	/* doubling: one element more at a time copied the list each time,
	 * quadratic in a long list (seconds under ASan for 60,000) */
	if (rw_grow(&c->r.icmps, &c->icmp_cap, c->r.nicmps + 1, sizeof(im))) {
		p->nomem = true;
		return -1;
	}
	c->r.icmps[c->r.nicmps++] = im;
	return 0;
}

static int parse_icmp(struct rw_parser *p, struct rule_ctx *c)
{
	struct rw_tok *open = rw_p_peek(p);

	if (!rw_p_accept_type(p, TK_LBRACE))
		return icmp_add(p, c);
	while (!rw_p_accept_type(p, TK_RBRACE)) {
		if (rw_p_accept_type(p, TK_COMMA))
			continue;
		if (icmp_add(p, c))
			return -1;
	}
	if (!c->r.nicmps)
		return rw_p_err(p, open, "empty list");
	return 0;
}

static int parse_options(struct rw_parser *p, struct rule_ctx *c)
{
	for (;;) {
		struct rw_tok *t = rw_p_peek(p);

		if (t->type == TK_EOL)
			return 0;
		if (rw_tok_is(t, "flags")) {
			if (c->flags_kw)
				return rw_p_err(p, t, "'flags' given twice");
			c->flags_kw = rw_p_next(p);
			if (parse_flags(p, c))
				return -1;
		} else if (rw_tok_is(t, "icmp-type") || rw_tok_is(t, "icmp6-type")) {
			if (c->icmp_kw)
				return rw_p_err(p, t, "icmp type given twice");
			c->icmp_kw = rw_p_next(p);
			c->icmp6 = t->text[4] == '6';
			if (parse_icmp(p, c))
				return -1;
		} else if (rw_tok_is(t, "keep") || rw_tok_is(t, "no") || rw_tok_is(t, "synproxy")) {
			if (c->state_kw)
				return rw_p_err(p, t, "state given twice");
			c->state_kw = rw_p_next(p);
			if (!rw_p_accept(p, "state"))
				return rw_p_unexpected(p, rw_p_peek(p), "'state'");
			c->r.keep_state = t->text[0] != 'n';
			c->r.synproxy = t->text[0] == 's';
		} else {
			return rw_p_unexpected(p, t, "flags, icmp-type, icmp6-type, keep state, "
					       "synproxy state, no state or end of line");
		}
	}
}

/* ---- the whole rule ---- */

static bool has_proto(const struct rw_rule *r, uint8_t proto)
{
	for (size_t i = 0; i < r->nprotos; i++)
		if (r->protos[i] == proto)
			return true;
	return false;
}

static bool only_protos(const struct rw_rule *r, uint8_t a, uint8_t b)
{
	if (!r->nprotos)
		return false;
	for (size_t i = 0; i < r->nprotos; i++)
		if (r->protos[i] != a && r->protos[i] != b)
			return false;
	return true;
}

static int check_icmp(struct rw_parser *p, struct rule_ctx *c)
{
	struct rw_rule *r = &c->r;
	uint8_t want_af = c->icmp6 ? RW_AF_INET6 : RW_AF_INET;

	if (!c->icmp6 && !only_protos(r, RW_PROTO_ICMP, RW_PROTO_ICMP))
		return rw_p_err(p, c->icmp_kw, "icmp-type needs 'proto icmp'");
	if (c->icmp6 && !only_protos(r, RW_PROTO_ICMP6, RW_PROTO_ICMP6))
		return rw_p_err(p, c->icmp_kw, "icmp6-type needs 'proto ipv6-icmp'");
	if (r->af && r->af != want_af)
		return rw_p_err(p, c->icmp_kw, "%s in an %s rule (use %s)", c->icmp_kw->text,
				af_word(r->af), c->icmp6 ? "icmp-type" : "icmp6-type");
	r->af = want_af; /* an ICMP type names its family */
	r->icmp_type = r->icmps[0].type;
	r->icmp_code = r->icmps[0].code;
	return 0;
}

static int check_rule(struct rw_parser *p, struct rule_ctx *c)
{
	struct rw_rule *r = &c->r;
	uint8_t fams;
	size_t n;

	if (r->action == RW_ACT_BLOCK && c->state_kw)
		return rw_p_err(p, c->state_kw, "'%s state' applies to pass rules only",
				c->state_kw->text);
	if (c->sport_kw || c->dport_kw) {
		if (!only_protos(r, RW_PROTO_TCP, RW_PROTO_UDP))
			return rw_p_err(p, c->sport_kw ? c->sport_kw : c->dport_kw,
					"ports need 'proto tcp' or 'proto udp'");
	}
	if (c->flags_kw && !has_proto(r, RW_PROTO_TCP))
		return rw_p_err(p, c->flags_kw, "flags needs 'proto tcp'");
	/* the proxy answers SYNs: nothing else could use it */
	if (r->synproxy && !only_protos(r, RW_PROTO_TCP, RW_PROTO_TCP))
		return rw_p_err(p, c->state_kw, "'synproxy state' needs 'proto tcp' alone");
	if (r->synproxy && r->flags_explicit && !(r->tcp_flags & RW_TH_SYN))
		return rw_p_err(p, c->flags_kw, "'synproxy state' needs flags that match a SYN "
				"(default S/SA)");
	if (c->icmp_kw && check_icmp(p, c))
		return -1;
	fams = fam_bit(r->af) & c->src_fams & c->dst_fams;
	if (!fams)
		return rw_p_err(p, c->first, "this rule mixes IPv4 and IPv6 addresses: "
				"it can never match");
	if (!r->af && fams != (FAM4 | FAM6))
		r->af = fams == FAM4 ? RW_AF_INET : RW_AF_INET6;
	if (rw_rule_tuples(r, &n))
		return p->nomem = true, -1;
	if (n > RW_RULE_TUPLES_MAX)
		return rw_p_err(p, c->first, "this rule expands to %zu match tuples (at most %d): "
				"use a table or split it", n, RW_RULE_TUPLES_MAX);
	/* pf's default: only a connection's first SYN creates state. */
	if (r->action == RW_ACT_PASS && r->keep_state && !r->flags_explicit &&
	    has_proto(r, RW_PROTO_TCP)) {
		r->tcp_flags = RW_TH_SYN;
		r->tcp_flags_mask = RW_TH_SYN | RW_TH_ACK;
	}
	return 0;
}

static int parse_head(struct rw_parser *p, struct rule_ctx *c)
{
	struct rw_rule *r = &c->r;

	if (!rw_p_accept(p, "in") && rw_tok_is(rw_p_peek(p), "out"))
		c->out = rw_p_next(p);
	r->log = rw_p_accept(p, "log");
	rw_p_accept(p, "quick"); /* every rule is quick: first match wins */
	if (rw_p_accept(p, "on")) {
		if (parse_on(p, c))
			return -1;
	} else if (c->out) {
		return rw_p_err(p, c->out, "'out' needs 'on PORT'");
	}
	if (rw_p_accept(p, "inet"))
		r->af = RW_AF_INET;
	else if (rw_p_accept(p, "inet6"))
		r->af = RW_AF_INET6;
	else if (rw_p_accept(p, "arp"))
		r->af = RW_RULE_ARP;
	return 0;
}

static int parse_body(struct rw_parser *p, struct rule_ctx *c)
{
	struct rw_rule *r = &c->r;
	bool from = false, to = false;

	if (r->af == RW_RULE_ARP) {
		if (rw_p_peek(p)->type != TK_EOL)
			return rw_p_err(p, rw_p_peek(p), "unexpected '%s' (an arp rule takes no "
					"protocols, addresses, ports or options)",
					rw_p_peek(p)->text);
		r->keep_state = false;
		return 0;
	}
	if (rw_p_accept(p, "proto") && parse_proto(p, r))
		return -1;
	if (!rw_p_accept(p, "all")) {
		from = rw_p_accept(p, "from");
		if (from && host_port(p, c, &r->src, &r->sport, &c->sport_kw, &c->src_fams))
			return -1;
		to = rw_p_accept(p, "to");
		if (to && host_port(p, c, &r->dst, &r->dport, &c->dport_kw, &c->dst_fams))
			return -1;
	}
	if (parse_options(p, c))
		return -1;
	return check_rule(p, c);
}

int rw_parse_rule(struct rw_parser *p)
{
	struct rw_config *cfg = p->cfg;
	struct rule_ctx c = {0};
	struct rw_rule *r = &c.r;

	c.first = rw_p_next(p);
	r->action = rw_tok_is(c.first, "pass") ? RW_ACT_PASS : RW_ACT_BLOCK;
	r->keep_state = r->action == RW_ACT_PASS;
	r->icmp_type = r->icmp_code = -1;
	r->src = r->dst = (struct rw_addr_spec){.any = true, .table = -1};
	r->sport.any = r->dport.any = true;
	r->line = c.first->line;
	c.src_fams = c.dst_fams = FAM4 | FAM6;
	if (parse_head(p, &c) || parse_body(p, &c))
		goto out_err;
	r->text = rw_lex_text(&p->lx);
	if (!r->text || rw_grow(&cfg->rules, &p->cap_rules, cfg->nrules + 1, sizeof(*r))) {
		p->nomem = true;
		goto out_err;
	}
	cfg->nsynproxy += r->synproxy;
	cfg->rules[cfg->nrules++] = *r;
	return 0;
out_err:
	rw_rule_free(r);
	return -1;
}
