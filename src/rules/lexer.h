/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration lexer: turns the text into tokens one logical line at a
 * time (comments dropped, "\"-continued lines joined, $macros replaced by
 * their values). Every token keeps the line and column it was written at;
 * tokens that came out of a macro carry the position of the "$name", so an
 * error inside a macro value points at its use.
 *
 * Private to src/rules/.
 */
#ifndef RW_RULES_LEXER_H
#define RW_RULES_LEXER_H

#include "config.h"

enum rw_tok_type {
	TK_EOL,     /* end of the logical line (also end of file) */
	TK_WORD,    /* anything else: keywords, names, numbers, addresses */
	TK_STRING,  /* "..." (text holds the contents, without quotes) */
	TK_LBRACE,  /* { */
	TK_RBRACE,  /* } */
	TK_NOT,     /* ! */
	TK_COMMA,   /* , */
	TK_LT,      /* < */
	TK_GT,      /* > */
	TK_EQ,      /* = */
	TK_SLASH,   /* / */
	TK_NE,      /* != */
	TK_LE,      /* <= */
	TK_GE,      /* >= */
	TK_XRANGE,  /* >< */
	TK_IRANGE,  /* <> */
};

struct rw_tok {
	enum rw_tok_type type;
	unsigned line, col;
	size_t off;   /* into the lexer's text buffer, while lexing */
	char *text;   /* NUL-terminated; valid until the next rw_lex_line */
	bool glued;   /* written right after the previous token, no blank */
};

/* What macros may add to one logical line, and the longest value a macro
 * definition may expand to. Each use of a macro copies its value, so
 * without a bound a few lines that each double the last ("b = \"$a $a\"")
 * or one line that uses a long value many times would take gigabytes. A
 * real list of addresses this long belongs in a table. */
#define RW_MACRO_EXPAND_MAX (1u << 20)

struct rw_macro {
	char *name, *value;
	unsigned line;  /* 0 for -D definitions */
};

struct rw_lexer {
	const char *name;          /* file name for messages */
	const char *p, *end;       /* what is left of the text */
	const char *line_start;    /* start of the current physical line */
	unsigned line;
	struct rw_diag *diag;

	struct rw_macro *macros;
	size_t nmacros, mcap;

	/* The current logical line. */
	struct rw_tok *toks;
	size_t ntoks, tcap;
	char *buf;                 /* token texts, NUL-separated */
	size_t blen, bcap;
	size_t expanded;           /* bytes its $macros added (RW_MACRO_EXPAND_MAX) */
	bool error;                /* a lexical error was reported on it */
	bool nomem;
};

void rw_lex_init(struct rw_lexer *lx, const char *name, const char *text, size_t len,
		 struct rw_diag *d);
void rw_lex_free(struct rw_lexer *lx);

/* Read the next logical line into lx->toks (the last one is TK_EOL).
 * Returns 1 when a line was read, 0 at the end of the text. */
int rw_lex_line(struct rw_lexer *lx);

/* Macro table. rw_macro_set replaces the value of an existing name. */
struct rw_macro *rw_macro_find(struct rw_lexer *lx, const char *name, size_t len);
int rw_macro_set(struct rw_lexer *lx, const char *name, const char *value, unsigned line);

/* The line's tokens as one string, as written but with macros expanded
 * (a rule's listing text); malloc'd. */
char *rw_lex_text(const struct rw_lexer *lx);

/* Text of a token for messages ("end of line" for TK_EOL). */
const char *rw_tok_str(const struct rw_tok *t);

#endif
