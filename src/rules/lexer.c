// SPDX-License-Identifier: BSD-2-Clause
/*
 * Lexer: one logical line at a time. Words run until a blank or one of the
 * characters the grammar gives a meaning of its own ({ } ! , < > = / # " $),
 * so "10.0.0.0/8" is three tokens and "2001:db8::1" or "1000:2000" is one
 * word (the parser splits port ranges at the colon).
 */
#include "lexer.h"
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Macros may use macros (-D values are expanded when used); the limit stops
 * a -D value that names itself. */
#define MACRO_DEPTH_MAX 16

/* Where tokens come from: the file, or a macro value standing in for the
 * "$name" at (fline, fcol). */
struct cursor {
	const char *p, *end;
	bool fixed;
	unsigned fline, fcol;
	int depth;
	bool glue;  /* the last thing read was a token: the next one is glued */
};

void rw_lex_init(struct rw_lexer *lx, const char *name, const char *text, size_t len,
		 struct rw_diag *d)
{
	memset(lx, 0, sizeof(*lx));
	lx->name = name;
	lx->p = text;
	lx->end = text + len;
	lx->line_start = text;
	lx->line = 1;
	lx->diag = d;
}

void rw_lex_free(struct rw_lexer *lx)
{
	for (size_t i = 0; i < lx->nmacros; i++) {
		free(lx->macros[i].name);
		free(lx->macros[i].value);
	}
	free(lx->macros);
	free(lx->toks);
	free(lx->buf);
	memset(lx, 0, sizeof(*lx));
}

int rw_grow(void *v, size_t *cap, size_t need, size_t sz)
{
	void **pv = v;
	size_t ncap = *cap ? *cap : 8;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*pv, ncap * sz);
	if (!n)
		return -ENOMEM;
	*pv = n;
	*cap = ncap;
	return 0;
}

struct rw_macro *rw_macro_find(struct rw_lexer *lx, const char *name, size_t len)
{
	for (size_t i = 0; i < lx->nmacros; i++)
		if (strlen(lx->macros[i].name) == len && !memcmp(lx->macros[i].name, name, len))
			return &lx->macros[i];
	return NULL;
}

int rw_macro_set(struct rw_lexer *lx, const char *name, const char *value, unsigned line)
{
	struct rw_macro *m = rw_macro_find(lx, name, strlen(name));
	char *v = strdup(value);

	if (!v)
		return -ENOMEM;
	if (m) {
		free(m->value);
		m->value = v;
		m->line = line;
		return 0;
	}
	if (rw_grow(&lx->macros, &lx->mcap, lx->nmacros + 1, sizeof(*lx->macros)))
		goto out_nomem;
	m = &lx->macros[lx->nmacros];
	m->name = strdup(name);
	if (!m->name)
		goto out_nomem;
	m->value = v;
	m->line = line;
	lx->nmacros++;
	return 0;
out_nomem:
	free(v);
	return -ENOMEM;
}

const char *rw_tok_str(const struct rw_tok *t)
{
	return t->type == TK_EOL ? "end of line" : t->text;
}

static void lex_error(struct rw_lexer *lx, unsigned line, unsigned col, const char *fmt,
		      const char *arg, int len)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, len, arg);
	rw_diag_report(lx->diag, lx->name, line, col, "%s", msg);
	lx->error = true;
}

static void push(struct rw_lexer *lx, enum rw_tok_type type, const char *s, size_t len,
		 unsigned line, unsigned col)
{
	struct rw_tok *t;

	if (rw_grow(&lx->toks, &lx->tcap, lx->ntoks + 1, sizeof(*lx->toks)) ||
	    rw_grow(&lx->buf, &lx->bcap, lx->blen + len + 1, 1)) {
		lx->nomem = true;
		return;
	}
	t = &lx->toks[lx->ntoks++];
	t->type = type;
	t->line = line;
	t->col = col;
	t->off = lx->blen;
	t->glued = false;
	memcpy(lx->buf + lx->blen, s, len);
	lx->buf[lx->blen + len] = '\0';
	lx->blen += len + 1;
}

static bool is_special(char c)
{
	return strchr("{}!,<>=/#\"$", c) != NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Punctuation: longest match first. */
static int punct(const char *p, const char *end, enum rw_tok_type *type)
{
	static const struct {
		const char *s;
		enum rw_tok_type t;
	} tab[] = {
		{"!=", TK_NE}, {"<=", TK_LE}, {">=", TK_GE}, {"><", TK_XRANGE}, {"<>", TK_IRANGE},
		{"{", TK_LBRACE}, {"}", TK_RBRACE}, {"!", TK_NOT}, {",", TK_COMMA},
		{"<", TK_LT}, {">", TK_GT}, {"=", TK_EQ}, {"/", TK_SLASH},
	};

	for (size_t i = 0; i < RW_ARRAY_SIZE(tab); i++) {
		size_t n = strlen(tab[i].s);
		if ((size_t)(end - p) >= n && !memcmp(p, tab[i].s, n)) {
			*type = tab[i].t;
			return (int)n;
		}
	}
	return 0;
}

static void lex_cursor(struct rw_lexer *lx, struct cursor *c);
static int lex_token(struct rw_lexer *lx, struct cursor *c, unsigned line, unsigned col,
		     enum rw_tok_type *type);

/* "$name" at p: replace it by the macro's tokens. Returns chars consumed. */
static size_t lex_macro(struct rw_lexer *lx, struct cursor *c, unsigned line, unsigned col)
{
	const char *s = c->p + 1, *e = s;
	struct rw_macro *m;
	struct cursor sub;
	size_t vlen;

	while (e < c->end && is_name_char(*e))
		e++;
	if (e == s) {
		lex_error(lx, line, col, "'$' must be followed by a macro name%.*s", "", 0);
		return 1;
	}
	m = rw_macro_find(lx, s, (size_t)(e - s));
	if (!m) {
		lex_error(lx, line, col, "undefined macro '$%.*s'", s, (int)(e - s));
		return (size_t)(e - c->p);
	}
	if (c->depth >= MACRO_DEPTH_MAX) {
		lex_error(lx, line, col, "macro '$%.*s' nests too deeply (a loop?)", s,
			  (int)(e - s));
		return (size_t)(e - c->p);
	}
	vlen = strlen(m->value);
	if (unlikely(lx->expanded + vlen > RW_MACRO_EXPAND_MAX)) {
		/* once per line: the rest of its uses would say the same */
		if (!lx->error)
			lex_error(lx, line, col, "macro '$%.*s' makes this line too long (macros may "
				  "add at most 1 MiB to a line: use a table)", s, (int)(e - s));
		lx->error = true;
		return (size_t)(e - c->p);
	}
	lx->expanded += vlen;
	sub = (struct cursor){m->value, m->value + vlen, true, line, col,
			      c->depth + 1, c->glue};
	lex_cursor(lx, &sub);
	c->glue = true;
	return (size_t)(e - c->p);
}

/* One token (or blank run, comment, macro) at c->p; returns chars consumed.
 * Newlines and continuations are the caller's business. */
static size_t lex_one(struct rw_lexer *lx, struct cursor *c)
{
	const char *p = c->p, *e;
	unsigned line = c->fixed ? c->fline : lx->line;
	unsigned col = c->fixed ? c->fcol : (unsigned)(p - lx->line_start) + 1;
	enum rw_tok_type type;
	int n;

	if (is_blank(*p) || *p == '\n') {
		c->glue = false;
		return 1;
	}
	if (*p == '#') {
		for (e = p; e < c->end && *e != '\n'; e++)
			;
		c->glue = false;
		return (size_t)(e - p);
	}
	if (*p == '$')
		return lex_macro(lx, c, line, col);
	n = lex_token(lx, c, line, col, &type);
	if (lx->ntoks && !lx->nomem)
		lx->toks[lx->ntoks - 1].glued = c->glue;
	c->glue = true;
	return (size_t)n;
}

/* A string, punctuation or word at c->p (not a blank, comment or macro). */
static int lex_token(struct rw_lexer *lx, struct cursor *c, unsigned line, unsigned col,
		     enum rw_tok_type *type)
{
	const char *p = c->p, *e;
	int n;

	if (*p == '"') {
		for (e = p + 1; e < c->end && *e != '"' && *e != '\n'; e++)
			;
		if (e == c->end || *e != '"') {
			lex_error(lx, line, col, "unterminated string%.*s", "", 0);
			return (int)(e - p);
		}
		push(lx, TK_STRING, p + 1, (size_t)(e - p - 1), line, col);
		return (int)(e + 1 - p);
	}
	n = punct(p, c->end, type);
	if (n) {
		push(lx, *type, p, (size_t)n, line, col);
		return n;
	}
	for (e = p; e < c->end && !is_blank(*e) && *e != '\n' && !is_special(*e); e++)
		if (*e == '\\' && !c->fixed)
			break;
	if (e == p) /* a lone backslash not ending a line */
		e++;
	push(lx, TK_WORD, p, (size_t)(e - p), line, col);
	return (int)(e - p);
}

/* A macro value: all of it, newlines are blanks. */
static void lex_cursor(struct rw_lexer *lx, struct cursor *c)
{
	while (c->p < c->end)
		c->p += lex_one(lx, c);
}

/* At a backslash: if only blanks follow up to the newline, it continues
 * the line; returns chars to skip including the newline, else 0. */
static size_t continuation(const char *p, const char *end)
{
	const char *e = p + 1;

	while (e < end && is_blank(*e))
		e++;
	if (e == end)
		return (size_t)(e - p);
	return *e == '\n' ? (size_t)(e + 1 - p) : 0;
}

int rw_lex_line(struct rw_lexer *lx)
{
	struct cursor c = {lx->p, lx->end, false, 0, 0, 0, false};
	size_t n;

	lx->ntoks = 0;
	lx->blen = 0;
	lx->expanded = 0;
	lx->error = false;
	while (c.p < c.end) {
		if (*c.p == '\n') {
			bool done = lx->ntoks || lx->error;

			/* The end-of-line token sits on the newline itself. */
			if (done)
				push(lx, TK_EOL, "", 0, lx->line,
				     (unsigned)(c.p - lx->line_start) + 1);
			c.p++;
			lx->line++;
			lx->line_start = c.p;
			if (done)
				goto out_fix;
			continue;
		}
		if (*c.p == '\\' && (n = continuation(c.p, c.end))) {
			c.p += n;
			c.glue = false;
			if (c.p[-1] == '\n') {
				lx->line++;
				lx->line_start = c.p;
			}
			continue;
		}
		c.p += lex_one(lx, &c);
	}
	if (!lx->ntoks && !lx->error) {
		lx->p = c.p;
		return 0;
	}
	/* The last line of the file had no newline: end it where it stops. */
	push(lx, TK_EOL, "", 0, lx->line, (unsigned)(c.p - lx->line_start) + 1);
out_fix:
	lx->p = c.p;
	for (size_t i = 0; i < lx->ntoks; i++)
		lx->toks[i].text = lx->buf + lx->toks[i].off;
	return 1;
}

char *rw_lex_text(const struct rw_lexer *lx)
{
	size_t len = 1;
	char *out, *o;

	for (size_t i = 0; i < lx->ntoks; i++)
		len += strlen(lx->toks[i].text) + 3;
	out = o = malloc(len);
	if (!out)
		return NULL;
	for (size_t i = 0; i < lx->ntoks && lx->toks[i].type != TK_EOL; i++) {
		const struct rw_tok *t = &lx->toks[i];
		bool q = t->type == TK_STRING;

		if (i && !t->glued)
			*o++ = ' ';
		o += sprintf(o, q ? "\"%s\"" : "%s", t->text);
	}
	*o = '\0';
	return out;
}
