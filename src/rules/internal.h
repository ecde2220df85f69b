/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the files of src/rules/ only: diagnostics, name tables,
 * address and range-set helpers. */
#ifndef RW_RULES_INTERNAL_H
#define RW_RULES_INTERNAL_H

#include "config.h"
#include "../pkt/pkt.h"

/* Report "file:line:col: message" through d (see struct rw_diag). */
void rw_diag_report(struct rw_diag *d, const char *file, unsigned line, unsigned col,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* names.c: embedded so that a box without /etc/services still parses. */
int rw_proto_lookup(const char *name);                /* number or -1 */
int rw_service_lookup(const char *name);              /* port or -1 */
int rw_icmp_type_lookup(const char *name, bool v6);   /* type or -1 */

/* Decimal number with no sign, at most max. 0, -EINVAL (not a number) or
 * -ERANGE (above max). */
int rw_parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * An address, optionally with a prefix length text (NULL: a host). Fills e
 * (v4 addresses IPv4-mapped). Returns 0, or 1 when the address is at
 * fault, 2 when the prefix length is; err says why.
 */
int rw_prefix_parse(const char *addr, const char *plen, struct rw_table_entry *e,
		    char *err, size_t errlen);

/* The inclusive range a prefix covers. */
void rw_prefix_range(const struct rw_table_entry *e, struct rw_addr_range *r);

/* The whole address space of one family. */
void rw_family_range(uint8_t af, struct rw_addr_range *r);

/*
 * Range sets over struct rw_addr_range (ports use af 0 and the last two
 * bytes). Ranges of different af never meet.
 *
 * rw_rset_normalize sorts and merges in place.
 * rw_rset_diff computes a \ b (both normalized) into a new array.
 */
void rw_rset_normalize(struct rw_addr_range *v, size_t *n);
int rw_rset_diff(const struct rw_addr_range *a, size_t na, const struct rw_addr_range *b,
		 size_t nb, struct rw_addr_range **out, size_t *nout);

/* Port ranges in range-set form and back. */
void rw_port_to_rset(uint16_t lo, uint16_t hi, struct rw_addr_range *r);
void rw_rset_to_port(const struct rw_addr_range *r, struct rw_port_range *p);

/* Grow *v (elements of size sz) to hold at least need, doubling. */
int rw_grow(void *v, size_t *cap, size_t need, size_t sz);

/* Load a table file into t. Returns 0; 1 when its entries had errors
 * (each reported as "path:line:col"); -errno when it cannot be read or
 * memory ran out (the caller reports that). */
int rw_table_load_file(struct rw_table *t, const char *path, struct rw_diag *d);

void rw_rule_free(struct rw_rule *r);

/* A whole file, NUL-terminated; NULL with errno in *err. */
char *rw_read_file(const char *path, size_t *len, int *err);
/* What went wrong, for rw_read_file's err: strerror, or a clearer word. */
const char *rw_read_error(int err);

/* Expansion can multiply (lists times lists times families); a rule that
 * needs more tuples than this is a mistake or wants a table, and would
 * bloat the classifier for every other rule. */
#define RW_RULE_TUPLES_MAX 65536

/* How many tuples rule r expands into. */
int rw_rule_tuples(const struct rw_rule *r, size_t *n);

/* Expansion with diagnostics (rw_config_expand is this with no output). */
int rw_expand(struct rw_config *cfg, struct rw_diag *d, const char *file);

#endif
