/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common.h"
#include "buf.h"

static bool reserve(struct rw_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (unlikely(b->broken))
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	if (unlikely(b->len + more + 1 > RW_BUF_MAX)) {
		b->broken = true;
		return false;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (unlikely(!p)) {
		b->broken = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void rw_buf_vprintf(struct rw_buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (unlikely(n < 0) || !reserve(b, (size_t)n))
		return;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void rw_buf_printf(struct rw_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rw_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void rw_buf_puts(struct rw_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

void rw_buf_json_str(struct rw_buf *b, const char *s)
{
	rw_buf_puts(b, "\"");
	for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
		if (*c == '"' || *c == '\\')
			rw_buf_printf(b, "\\%c", *c);
		else if (*c == '\n')
			rw_buf_puts(b, "\\n");
		else if (*c < 0x20)
			rw_buf_printf(b, "\\u%04x", *c);
		else
			rw_buf_printf(b, "%c", *c);
	}
	rw_buf_puts(b, "\"");
}

void rw_buf_uncomma(struct rw_buf *b)
{
	if (b->len && b->p[b->len - 1] == ',')
		b->p[--b->len] = 0;
}

void rw_buf_free(struct rw_buf *b)
{
	free(b->p);
	*b = (struct rw_buf){0};
}
