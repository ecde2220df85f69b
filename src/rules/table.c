// SPDX-License-Identifier: BSD-2-Clause
/*
 * Table files: addresses and prefixes separated by blanks or newlines, "!"
 * before an entry to exclude it, "#" comments. Read whole and scanned in
 * one pass with geometric growth, so a million entries load in a fraction
 * of a second.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A broken feed could hold a million bad lines; after this many messages
 * the rest of the file is not worth reporting line by line. */
#define TABLE_FILE_ERRORS_MAX 10

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* One word [s, e) at line/col: parse it into the table. */
static int load_word(struct rw_table *t, const char *path, const char *s, const char *e,
		     unsigned line, unsigned col, struct rw_diag *d)
{
	char word[128], err[256], *slash;
	struct rw_table_entry ent;
	bool neg = false;
	int r;

	if (*s == '!') {
		neg = true;
		s++;
		col++;
	}
	if ((size_t)(e - s) >= sizeof(word) || s == e) {
		rw_diag_report(d, path, line, col, "'%.*s' is not an IPv4 or IPv6 address",
			       (int)RW_MIN((size_t)(e - s), 64), s);
		return -EINVAL;
	}
	memcpy(word, s, (size_t)(e - s));
	word[e - s] = '\0';
	slash = strchr(word, '/');
	if (slash)
		*slash++ = '\0';
	r = rw_prefix_parse(word, slash, &ent, err, sizeof(err));
	if (r) {
		rw_diag_report(d, path, line, r == 2 ? col + (unsigned)(slash - word) : col,
			       "%s", err);
		return -EINVAL;
	}
	ent.neg = neg;
	if (rw_grow(&t->entries, &t->cap, t->nentries + 1, sizeof(*t->entries)))
		return -ENOMEM;
	t->entries[t->nentries++] = ent;
	return 0;
}

int rw_table_load_file(struct rw_table *t, const char *path, struct rw_diag *d)
{
	unsigned line = 1, errors = 0;
	const char *p, *end, *ls;
	size_t len;
	char *text;
	int err = 0, ret = 0;

	text = rw_read_file(path, &len, &err);
	if (!text)
		return -err;
	p = ls = text;
	end = text + len;
	while (p < end) {
		const char *w;

		if (*p == '\n') {
			line++;
			ls = ++p;
			continue;
		}
		if (blank(*p)) {
			p++;
			continue;
		}
		if (*p == '#') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		for (w = p; p < end && !blank(*p) && *p != '\n' && *p != '#'; p++)
			;
		int r = load_word(t, path, w, p, line, (unsigned)(w - ls) + 1, d);
		if (r == -ENOMEM) {
			ret = r;
			break;
		}
		if (r && ++errors >= TABLE_FILE_ERRORS_MAX) {
			rw_diag_report(d, path, line, 1, "too many errors; the rest is not read");
			break;
		}
	}
	free(text);
	if (!ret && errors)
		ret = 1;
	return ret;
}
