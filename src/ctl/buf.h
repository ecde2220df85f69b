/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A growable text buffer for control-plane replies, with the JSON helpers
 * the commands share. A failed allocation marks the buffer broken instead
 * of failing every call: the server checks once, at the end, and answers
 * "out of memory" rather than a truncated reply.
 */
#ifndef RW_CTL_BUF_H
#define RW_CTL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest reply: a states listing of a big table must not eat the
 * daemon's memory; the listing's limit keeps real replies far below. */
#define RW_BUF_MAX (64u << 20)

struct rw_buf {
	char *p;
	size_t len, cap;
	bool broken;
};

void rw_buf_printf(struct rw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rw_buf_vprintf(struct rw_buf *b, const char *fmt, va_list ap);
void rw_buf_puts(struct rw_buf *b, const char *s);
/* s as a JSON string, quotes included. */
void rw_buf_json_str(struct rw_buf *b, const char *s);
/* Drop a trailing ',' (end of a JSON list or object written in a loop). */
void rw_buf_uncomma(struct rw_buf *b);
void rw_buf_free(struct rw_buf *b);

#endif
