/* SPDX-License-Identifier: BSD-2-Clause */
/* The parser's state and token helpers, shared by parse.c (statements,
 * settings, tables, ports) and rule.c (rules). Private to src/rules/. */
#ifndef RW_RULES_PARSER_H
#define RW_RULES_PARSER_H

#include "internal.h"
#include "lexer.h"

#include <string.h>

struct rw_parser {
	struct rw_config *cfg;
	struct rw_diag *d;
	const char *name;      /* file name in messages */
	char *dir;             /* where relative table files are */
	struct rw_lexer lx;
	struct rw_tok *t;      /* the current line, ending in TK_EOL */
	size_t i;              /* next token */
	bool nomem;
	bool port_failed;      /* a port line had an error */

	unsigned port_col[RW_MAX_PORTS]; /* where each port was declared */
	struct rw_tok adaptive_tok;      /* the last adaptive.* setting */
	size_t cap_tables, cap_rules;
};

static inline struct rw_tok *rw_p_peek(struct rw_parser *p)
{
	return &p->t[p->i];
}

static inline struct rw_tok *rw_p_next(struct rw_parser *p)
{
	struct rw_tok *t = &p->t[p->i];

	if (t->type != TK_EOL)
		p->i++;
	return t;
}

static inline bool rw_tok_is(const struct rw_tok *t, const char *word)
{
	return t->type == TK_WORD && !strcmp(t->text, word);
}

static inline bool rw_p_accept(struct rw_parser *p, const char *word)
{
	if (!rw_tok_is(rw_p_peek(p), word))
		return false;
	p->i++;
	return true;
}

static inline bool rw_p_accept_type(struct rw_parser *p, enum rw_tok_type type)
{
	if (rw_p_peek(p)->type != type)
		return false;
	p->i++;
	return true;
}

/* Report at t; always returns -1 so callers can "return rw_p_err(...)". */
int rw_p_err(struct rw_parser *p, const struct rw_tok *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "unexpected 'X' (expected WHAT)". */
int rw_p_unexpected(struct rw_parser *p, const struct rw_tok *t, const char *what);

/* ADDR[/LEN] (two word tokens) into e; *at gets the address token. 0, or
 * -1 with the error reported at the token it concerns. */
int rw_p_prefix(struct rw_parser *p, struct rw_table_entry *e, struct rw_tok **at);

/* The line must end here. */
int rw_p_eol(struct rw_parser *p);

/* Index of table name, or -1. */
int rw_table_find(const struct rw_config *cfg, const char *name);

/* One "pass ..." / "block ..." line. */
int rw_parse_rule(struct rw_parser *p);

#endif
