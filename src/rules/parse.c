// SPDX-License-Identifier: BSD-2-Clause
/*
 * The parser's driver and the statements other than rules: macro
 * definitions, ports, settings and tables. Each logical line is one
 * statement; an error abandons the rest of its line and parsing goes on
 * with the next, so one run reports every error in the file.
 */
#include "parser.h"
#include "../io/port.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int rw_p_err(struct rw_parser *p, const struct rw_tok *t, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rw_diag_report(p->d, p->name, t->line, t->col, "%s", msg);
	return -1;
}

int rw_p_unexpected(struct rw_parser *p, const struct rw_tok *t, const char *what)
{
	if (t->type == TK_EOL)
		return rw_p_err(p, t, "unexpected end of line (expected %s)", what);
	if (t->type == TK_STRING)
		return rw_p_err(p, t, "unexpected \"%s\" (expected %s)", t->text, what);
	return rw_p_err(p, t, "unexpected '%s' (expected %s)", t->text, what);
}

int rw_p_prefix(struct rw_parser *p, struct rw_table_entry *e, struct rw_tok **at)
{
	struct rw_tok *a = rw_p_next(p), *len = NULL;
	char err[256];
	int r;

	*at = a;
	if (a->type != TK_WORD)
		return rw_p_unexpected(p, a, "an address");
	if (rw_p_accept_type(p, TK_SLASH)) {
		len = rw_p_next(p);
		if (len->type != TK_WORD)
			return rw_p_unexpected(p, len, "a prefix length");
	}
	r = rw_prefix_parse(a->text, len ? len->text : NULL, e, err, sizeof(err));
	if (r)
		return rw_p_err(p, r == 2 ? len : a, "%s", err);
	return 0;
}

int rw_p_eol(struct rw_parser *p)
{
	struct rw_tok *t = rw_p_peek(p);

	return t->type == TK_EOL ? 0 : rw_p_unexpected(p, t, "end of line");
}

/* ---- macros ---- */

static bool valid_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static bool valid_name(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (!n || n > max)
		return false;
	for (; *s; s++)
		if (!valid_char(*s) && !strchr(extra, *s))
			return false;
	return true;
}

/* "$name" inside a macro's value is replaced now, by the value it has at
 * this point of the file ("a macro may use earlier macros"). */
static char *expand_value(struct rw_parser *p, const struct rw_tok *t)
{
	const char *s = t->text;
	char *out = NULL;
	size_t n = 0, cap = 0;

	while (*s) {
		const char *piece = s, *e;
		size_t len;

		if (*s == '$') {
			struct rw_macro *m;

			for (e = s + 1; *e && valid_char(*e); e++)
				;
			m = rw_macro_find(&p->lx, s + 1, (size_t)(e - s - 1));
			if (!m) {
				struct rw_tok at = *t;

				at.col += (unsigned)(s - t->text) + (t->type == TK_STRING);
				rw_p_err(p, &at, "undefined macro '%.*s'", (int)(e - s), s);
				free(out);
				return NULL;
			}
			piece = m->value;
			len = strlen(piece);
			s = e;
		} else {
			for (e = s; *e && *e != '$'; e++)
				;
			len = (size_t)(e - s);
			s = e;
		}
		if (unlikely(n + len > RW_MACRO_EXPAND_MAX)) {
			rw_p_err(p, t, "this macro's value is longer than 1 MiB once the macros in "
				 "it are replaced (use a table)");
			free(out);
			return NULL;
		}
		if (rw_grow(&out, &cap, n + len + 1, 1)) {
			p->nomem = true;
			free(out);
			return NULL;
		}
		memcpy(out + n, piece, len);
		n += len;
		out[n] = '\0';
	}
	return out ? out : strdup("");
}

static int parse_macro(struct rw_parser *p)
{
	struct rw_tok *name = rw_p_next(p), *val;
	struct rw_macro *m;
	char *v;
	int ret;

	rw_p_next(p); /* = */
	val = rw_p_next(p);
	if (!valid_name(name->text, 63, ""))
		return rw_p_err(p, name, "invalid macro name '%s' (letters, digits and '_')",
				name->text);
	if (val->type != TK_STRING && val->type != TK_WORD)
		return rw_p_unexpected(p, val, "a value in double quotes");
	if (rw_p_eol(p))
		return -1;
	m = rw_macro_find(&p->lx, name->text, strlen(name->text));
	if (m && m->line == 0)
		return 0; /* -D on the command line wins over the file */
	if (m)
		return rw_p_err(p, name, "macro '%s' already defined on line %u", name->text,
				m->line);
	v = expand_value(p, val);
	if (!v)
		return -1;
	ret = rw_macro_set(&p->lx, name->text, v, name->line);
	free(v);
	if (ret)
		p->nomem = true;
	return ret ? -1 : 0;
}

/* ---- ports ---- */

static int parse_port_line(struct rw_parser *p)
{
	struct rw_config *cfg = p->cfg;
	struct rw_tok *kw = rw_p_next(p), *name = rw_p_next(p), *spec;
	struct rw_port_conf *pc;
	char err[256] = "";
	int i;

	if (name->type != TK_WORD)
		return rw_p_unexpected(p, name, "a port name");
	if (!strcmp(name->text, "any"))
		return rw_p_err(p, name, "'any' is reserved and cannot name a port");
	if (!valid_name(name->text, sizeof(pc->name) - 1, "-"))
		return rw_p_err(p, name,
				"invalid port name '%s' (letters, digits, '_' and '-', at most 31)",
				name->text);
	i = rw_config_port(cfg, name->text);
	if (i >= 0)
		return rw_p_err(p, name, "port '%s' already declared on line %u", name->text,
				cfg->ports[i].line);
	spec = rw_p_next(p);
	if (spec->type != TK_STRING && spec->type != TK_WORD)
		return rw_p_unexpected(p, spec, "a port spec in double quotes");
	if (rw_p_eol(p))
		return -1;
	if (cfg->nports == RW_MAX_PORTS)
		return rw_p_err(p, kw, "too many ports (at most %d)", RW_MAX_PORTS);
	if (rw_port_check(spec->text, err, sizeof(err)))
		return rw_p_err(p, spec, "port '%s': %s", name->text,
				err[0] ? err : "invalid port spec");
	pc = &cfg->ports[cfg->nports];
	pc->spec = strdup(spec->text);
	if (!pc->spec) {
		p->nomem = true;
		return -1;
	}
	snprintf(pc->name, sizeof(pc->name), "%s", name->text);
	pc->line = kw->line;
	p->port_col[cfg->nports++] = kw->col;
	return 0;
}

static int parse_port(struct rw_parser *p)
{
	if (!parse_port_line(p))
		return 0;
	p->port_failed = true;
	return -1;
}

/* ---- settings ---- */

/* A number for "set NAME", in [lo, hi]; what names the setting. */
static int set_number(struct rw_parser *p, const char *what, uint64_t lo, uint64_t hi,
		      const char *unit, uint64_t *v)
{
	struct rw_tok *t = rw_p_next(p);

	if (t->type != TK_WORD || rw_parse_uint(t->text, hi, v) || *v < lo)
		return rw_p_err(p, t, "'%s' needs a number%s from %llu to %llu", what, unit,
				(unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

static int set_workers(struct rw_parser *p)
{
	uint64_t v;

	if (set_number(p, "set workers", 1, RW_MAX_WORKERS, "", &v))
		return -1;
	p->cfg->workers = (unsigned)v;
	return 0;
}

/* Connection table: 64-byte entries, so the top is 64 GB of memory; the
 * fragment limit is per worker and bounds reassembly memory. */
#define LIMIT_STATES_MAX 1000000000ull
#define LIMIT_FRAGS_MAX 10000000ull

static int set_one_limit(struct rw_parser *p)
{
	struct rw_tok *t = rw_p_next(p);
	uint64_t v;

	if (rw_tok_is(t, "states")) {
		if (set_number(p, "set limit states", 1, LIMIT_STATES_MAX, "", &v))
			return -1;
		p->cfg->limit_states = v;
	} else if (rw_tok_is(t, "frags")) {
		if (set_number(p, "set limit frags", 1, LIMIT_FRAGS_MAX, "", &v))
			return -1;
		p->cfg->limit_frags = v;
	} else if (t->type == TK_WORD) {
		return rw_p_err(p, t, "unknown limit '%s' (limits: states, frags)", t->text);
	} else {
		return rw_p_unexpected(p, t, "states or frags");
	}
	return 0;
}

/* "set X { a 1, b 2 }" or "set X a 1": one(p) for each. */
static int set_each(struct rw_parser *p, int (*one)(struct rw_parser *p))
{
	if (!rw_p_accept_type(p, TK_LBRACE))
		return one(p);
	for (;;) {
		while (rw_p_accept_type(p, TK_COMMA))
			;
		if (rw_p_accept_type(p, TK_RBRACE))
			return 0;
		if (rw_p_peek(p)->type == TK_EOL)
			return rw_p_unexpected(p, rw_p_peek(p), "'}'");
		if (one(p))
			return -1;
	}
}

static int set_limit(struct rw_parser *p)
{
	return set_each(p, set_one_limit);
}

static int set_one_timeout(struct rw_parser *p)
{
	struct rw_tok *t = rw_p_next(p);
	char what[64];
	uint64_t v;

	if (t->type != TK_WORD)
		return rw_p_unexpected(p, t, "a timeout name");
	snprintf(what, sizeof(what), "set timeout %s", t->text);
	if (!strcmp(t->text, "adaptive.start") || !strcmp(t->text, "adaptive.end")) {
		if (set_number(p, what, 0, UINT32_MAX, " of states", &v))
			return -1;
		if (t->text[9] == 's')
			p->cfg->adaptive_start = (uint32_t)v;
		else
			p->cfg->adaptive_end = (uint32_t)v;
		p->adaptive_tok = *t;
		return 0;
	}
	for (int i = 0; i < RW_TO_MAX; i++) {
		if (strcmp(t->text, rw_timeout_names[i]))
			continue;
		/* interval paces expiry work: 0 would spin. */
		if (set_number(p, what, i == RW_TO_INTERVAL ? 1 : 0,
			       i == RW_TO_INTERVAL ? 3600 : UINT32_MAX, " of seconds", &v))
			return -1;
		p->cfg->timeouts[i] = (uint32_t)v;
		return 0;
	}
	return rw_p_err(p, t, "unknown timeout '%s'", t->text);
}

static int set_timeout(struct rw_parser *p)
{
	return set_each(p, set_one_timeout);
}

/* "set NAME a|b": which = 0 for a, 1 for b. */
static int set_choice(struct rw_parser *p, const char *what, const char *a, const char *b,
		      int *which)
{
	struct rw_tok *t = rw_p_next(p);

	if (rw_tok_is(t, a))
		*which = 0;
	else if (rw_tok_is(t, b))
		*which = 1;
	else
		return rw_p_err(p, t, "'%s' needs '%s' or '%s'", what, a, b);
	return 0;
}

static int set_default(struct rw_parser *p)
{
	int w = 0;

	if (set_choice(p, "set default", "block", "pass", &w))
		return -1;
	p->cfg->default_action = w ? RW_ACT_PASS : RW_ACT_BLOCK;
	p->cfg->default_log = rw_p_accept(p, "log");
	return 0;
}

static int set_checksum(struct rw_parser *p)
{
	int w = 0;

	if (set_choice(p, "set checksum", "verify", "ignore", &w))
		return -1;
	p->cfg->verify_l4_csum = !w;
	return 0;
}

static int set_non_ip(struct rw_parser *p)
{
	int w = 0;

	if (set_choice(p, "set non-ip", "pass", "block", &w))
		return -1;
	p->cfg->pass_non_ip = !w;
	return 0;
}

static int set_path(struct rw_parser *p, const char *what, char **dst)
{
	struct rw_tok *t = rw_p_next(p);
	char *s;

	if (t->type != TK_STRING || !t->text[0])
		return rw_p_err(p, t, "'%s' needs a path in double quotes", what);
	s = strdup(t->text);
	if (!s) {
		p->nomem = true;
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

static int set_logfile(struct rw_parser *p)
{
	return set_path(p, "set logfile", &p->cfg->log_file);
}

static int set_control(struct rw_parser *p)
{
	return set_path(p, "set control", &p->cfg->control_socket);
}

/* "set ftp-ports 21", "set ftp-ports { 21 2121 }", "set ftp-ports none". */
static int set_one_ftp_port(struct rw_parser *p)
{
	struct rw_config *cfg = p->cfg;
	struct rw_tok *t = rw_p_peek(p);
	uint64_t v;

	if (set_number(p, "set ftp-ports", 1, 65535, "", &v))
		return -1;
	for (unsigned i = 0; i < cfg->nftp_ports; i++)
		if (cfg->ftp_ports[i] == v)
			return 0;
	if (cfg->nftp_ports >= RW_FTP_PORTS_MAX)
		return rw_p_err(p, t, "'set ftp-ports' takes at most %d ports", RW_FTP_PORTS_MAX);
	cfg->ftp_ports[cfg->nftp_ports++] = (uint16_t)v;
	return 0;
}

static int set_ftp_ports(struct rw_parser *p)
{
	p->cfg->nftp_ports = 0;
	if (rw_p_accept(p, "none"))
		return 0;
	return set_each(p, set_one_ftp_port);
}

static const struct {
	const char *name;
	int (*fn)(struct rw_parser *p);
} settings[] = {
	{"workers", set_workers}, {"limit", set_limit},       {"timeout", set_timeout},
	{"default", set_default}, {"checksum", set_checksum}, {"non-ip", set_non_ip},
	{"logfile", set_logfile}, {"control", set_control},   {"ftp-ports", set_ftp_ports},
};

static int parse_set(struct rw_parser *p)
{
	struct rw_tok *t;

	rw_p_next(p);
	t = rw_p_next(p);
	for (size_t i = 0; i < RW_ARRAY_SIZE(settings); i++)
		if (rw_tok_is(t, settings[i].name))
			return settings[i].fn(p) ? -1 : rw_p_eol(p);
	if (t->type == TK_WORD)
		return rw_p_err(p, t, "unknown setting '%s' (settings: workers, limit, timeout, "
				"default, checksum, non-ip, logfile, control)", t->text);
	return rw_p_unexpected(p, t, "a setting name");
}

/* ---- tables ---- */

int rw_table_find(const struct rw_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ntables; i++)
		if (!strcmp(cfg->tables[i].name, name))
			return (int)i;
	return -1;
}

/* "!ADDR[/LEN]" inside { }. */
static int table_entry(struct rw_parser *p, struct rw_table *tb)
{
	bool neg = rw_p_accept_type(p, TK_NOT);
	struct rw_table_entry e;
	struct rw_tok *a;

	if (rw_p_prefix(p, &e, &a))
		return -1;
	e.neg = neg;
	if (rw_grow(&tb->entries, &tb->cap, tb->nentries + 1, sizeof(e))) {
		p->nomem = true;
		return -1;
	}
	tb->entries[tb->nentries++] = e;
	return 0;
}

static int table_inline(struct rw_parser *p, struct rw_table *tb)
{
	for (;;) {
		struct rw_tok *t;

		while (rw_p_accept_type(p, TK_COMMA))
			;
		t = rw_p_peek(p);
		if (t->type == TK_RBRACE) {
			rw_p_next(p);
			return 0;
		}
		if (t->type == TK_EOL)
			return rw_p_unexpected(p, t, "'}'");
		if (table_entry(p, tb))
			return -1;
	}
}

static int table_file(struct rw_parser *p, struct rw_table *tb)
{
	struct rw_tok *t = rw_p_next(p);
	char *path;
	int r;

	if (t->type != TK_STRING || !t->text[0])
		return rw_p_err(p, t, "'file' needs a path in double quotes");
	if (t->text[0] == '/' || !p->dir)
		path = strdup(t->text);
	else if (asprintf(&path, "%s/%s", p->dir, t->text) < 0)
		path = NULL;
	if (!path) {
		p->nomem = true;
		return -1;
	}
	r = rw_table_load_file(tb, path, p->d);
	if (r < 0 && r != -ENOMEM)
		rw_p_err(p, t, "cannot read table file '%s': %s", path, rw_read_error(-r));
	if (r == -ENOMEM)
		p->nomem = true;
	if (!tb->file) {
		tb->file = path;
		path = NULL;
	}
	free(path);
	return r ? -1 : 0;
}

/* A new table at the end of cfg->tables. */
static struct rw_table *table_add(struct rw_parser *p, const char *name, unsigned line)
{
	struct rw_config *cfg = p->cfg;
	struct rw_table *tb;

	if (rw_grow(&cfg->tables, &p->cap_tables, cfg->ntables + 1, sizeof(*tb))) {
		p->nomem = true;
		return NULL;
	}
	tb = &cfg->tables[cfg->ntables++];
	memset(tb, 0, sizeof(*tb));
	snprintf(tb->name, sizeof(tb->name), "%s", name);
	tb->line = line;
	return tb;
}

static int parse_table(struct rw_parser *p)
{
	struct rw_tok *kw = rw_p_next(p), *name;
	struct rw_table *tb;
	bool sources = false;
	int i;

	if (!rw_p_accept_type(p, TK_LT))
		return rw_p_unexpected(p, rw_p_peek(p), "<NAME>");
	name = rw_p_next(p);
	if (name->type != TK_WORD)
		return rw_p_unexpected(p, name, "a table name");
	if (!rw_p_accept_type(p, TK_GT))
		return rw_p_unexpected(p, rw_p_peek(p), "'>'");
	if (!valid_name(name->text, sizeof(tb->name) - 1, "-."))
		return rw_p_err(p, name,
				"invalid table name '%s' (letters, digits, '_', '-', '.', at most 63)",
				name->text);
	i = rw_table_find(p->cfg, name->text);
	if (i >= 0)
		return rw_p_err(p, name, "table <%s> already defined on line %u", name->text,
				p->cfg->tables[i].line);
	tb = table_add(p, name->text, kw->line);
	if (!tb)
		return -1;
	/* pf's table flags mean nothing here: every table is constant and
	 * lives as long as the configuration. Accepted for familiarity. */
	while (rw_p_accept(p, "const") || rw_p_accept(p, "persist") || rw_p_accept(p, "counters"))
		;
	for (;;) {
		struct rw_tok *t = rw_p_peek(p);
		int r;

		if (t->type == TK_LBRACE) {
			rw_p_next(p);
			r = table_inline(p, tb);
		} else if (rw_tok_is(t, "file")) {
			rw_p_next(p);
			r = table_file(p, tb);
		} else if (t->type == TK_EOL && sources) {
			return 0;
		} else {
			return rw_p_unexpected(p, t, sources ? "end of line" :
						      "'{' or 'file'");
		}
		if (r)
			return -1;
		sources = true;
	}
}

/* ---- driver ---- */

static int parse_statement(struct rw_parser *p)
{
	struct rw_tok *t = rw_p_peek(p);

	if (t->type == TK_WORD && p->t[1].type == TK_EQ)
		return parse_macro(p);
	if (rw_tok_is(t, "pass") || rw_tok_is(t, "block"))
		return rw_parse_rule(p);
	if (rw_tok_is(t, "set"))
		return parse_set(p);
	if (rw_tok_is(t, "table"))
		return parse_table(p);
	if (rw_tok_is(t, "port"))
		return parse_port(p);
	return rw_p_unexpected(p, t, "pass, block, set, table, port or NAME = VALUE");
}

static void defaults(struct rw_config *cfg)
{
	cfg->workers = 1;
	cfg->limit_states = 1000000;
	cfg->limit_frags = 10000;
	memcpy(cfg->timeouts, rw_timeout_defaults, sizeof(cfg->timeouts));
	cfg->default_action = RW_ACT_BLOCK;
	cfg->verify_l4_csum = true;
	cfg->control_socket = strdup("/run/ringwall.sock");
	cfg->ftp_ports[0] = 21;
	cfg->nftp_ports = 1;
}

/* Checks that need the whole file. */
static void finish(struct rw_parser *p)
{
	struct rw_config *cfg = p->cfg;
	uint16_t all = cfg->nports ? (uint16_t)((1u << cfg->nports) - 1) : 0xffff;

	/* "on" omitted (or "on any") was kept as 0 until every port was known. */
	for (size_t i = 0; i < cfg->nrules; i++)
		if (!cfg->rules[i].in_ports)
			cfg->rules[i].in_ports = all;
	/* No ports at all is allowed: a rules-only file (ringwall classify,
	 * check of a rule set). Any ports at all make a bridge: two. */
	if (cfg->nports && cfg->nports != 2 && !p->port_failed) {
		struct rw_tok at = {.line = cfg->ports[cfg->nports - 1].line,
				    .col = p->port_col[cfg->nports - 1]};
		rw_p_err(p, &at, "a bridge needs exactly 2 ports, this file declares %u",
			 cfg->nports);
	}
	if ((cfg->adaptive_start || cfg->adaptive_end) &&
	    cfg->adaptive_start >= cfg->adaptive_end)
		rw_p_err(p, &p->adaptive_tok,
			 "adaptive.start (%u) must be below adaptive.end (%u)",
			 cfg->adaptive_start, cfg->adaptive_end);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return NULL;
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int rw_config_parse(const char *name, const char *text, const struct rw_define *defs,
		    size_t ndefs, struct rw_config *cfg, struct rw_diag *d)
{
	struct rw_diag quiet = {0};
	struct rw_parser p = {.cfg = cfg, .d = d ? d : &quiet, .name = name};
	unsigned errors0;

	memset(cfg, 0, sizeof(*cfg));
	errors0 = p.d->errors;
	defaults(cfg);
	cfg->path = strdup(name);
	p.dir = dir_of(name);
	rw_lex_init(&p.lx, name, text, strlen(text), p.d);
	for (size_t i = 0; i < ndefs; i++)
		if (rw_macro_set(&p.lx, defs[i].name, defs[i].value, 0))
			p.nomem = true;
	while (!p.nomem && rw_lex_line(&p.lx)) {
		if (p.lx.nomem)
			p.nomem = true;
		if (p.lx.error || p.nomem)
			continue;
		p.t = p.lx.toks;
		p.i = 0;
		parse_statement(&p);
	}
	if (!p.nomem && !cfg->control_socket)
		p.nomem = true;
	if (p.nomem) {
		struct rw_tok at = {.line = p.lx.line, .col = 1};
		rw_p_err(&p, &at, "out of memory");
	}
	finish(&p);
	if (p.d->errors == errors0)
		rw_expand(cfg, p.d, name);
	rw_lex_free(&p.lx);
	free(p.dir);
	if (p.d->errors != errors0) {
		rw_config_free(cfg);
		return -1;
	}
	return 0;
}
