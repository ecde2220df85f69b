// SPDX-License-Identifier: BSD-2-Clause
/*
 * Addresses, prefixes and range sets. Everything is 16 bytes in network
 * order with IPv4 IPv4-mapped (as struct rw_pkt keeps them), so one memcmp
 * orders addresses of a family and one set of range operations serves both
 * families and, in the last two bytes, ports.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Dotted quad, by hand: table files hold millions and this is the hot loop
 * of loading them. Leading zeros are refused (inet_aton reads them as
 * octal, which would surprise). */
static bool parse_v4(const char *s, uint8_t out[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;

		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3)
				return false;
		}
		if (!digits || v > 255 || (digits > 1 && s[-(int)digits] == '0'))
			return false;
		out[i] = (uint8_t)v;
		if (i < 3 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

static void fmt_addr(const struct rw_table_entry *e, char *buf, size_t len)
{
	if (e->af == RW_AF_INET)
		inet_ntop(AF_INET, e->addr + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, e->addr, buf, (socklen_t)len);
}

int rw_prefix_parse(const char *addr, const char *plen, struct rw_table_entry *e,
		    char *err, size_t errlen)
{
	unsigned bits, maxbits;
	uint64_t v;

	memset(e, 0, sizeof(*e));
	if (parse_v4(addr, e->addr + 12)) {
		memcpy(e->addr, v4mapped, 12);
		e->af = RW_AF_INET;
		maxbits = 32;
	} else if (strchr(addr, ':') && strlen(addr) < 64 &&
		   inet_pton(AF_INET6, addr, e->addr) == 1) {
		e->af = RW_AF_INET6;
		maxbits = 128;
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", addr);
		return 1;
	}
	e->plen = (uint8_t)maxbits;
	if (!plen)
		return 0;
	if (rw_parse_uint(plen, maxbits, &v)) {
		snprintf(err, errlen, "prefix length '%s' is not a number from 0 to %u", plen,
			 maxbits);
		return 2;
	}
	e->plen = (uint8_t)v;
	/* 10.1.2.3/8 is refused although pf quietly reads it as 10.0.0.0/8:
	 * it is usually a typo for /32 or /24, and in a firewall a typo that
	 * widens a rule must not pass unnoticed. */
	bits = (e->af == RW_AF_INET ? 96 : 0) + e->plen;
	for (unsigned b = bits; b < 128; b++) {
		if (e->addr[b / 8] & (0x80 >> (b % 8))) {
			struct rw_table_entry net = *e;
			struct rw_addr_range r;
			char a[64];

			rw_prefix_range(e, &r);
			memcpy(net.addr, r.lo, 16);
			fmt_addr(&net, a, sizeof(a));
			snprintf(err, errlen, "host bits set in %s/%s (the network is %s/%s)", addr,
				 plen, a, plen);
			return 1;
		}
	}
	return 0;
}

void rw_prefix_range(const struct rw_table_entry *e, struct rw_addr_range *r)
{
	unsigned bits = (e->af == RW_AF_INET ? 96 : 0) + e->plen;

	r->af = e->af;
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = bits >= (i + 1) * 8 ? 8 : bits > i * 8 ? bits - i * 8 : 0;
		uint8_t mask = (uint8_t)(0xff00 >> keep);

		r->lo[i] = e->addr[i] & mask;
		r->hi[i] = e->addr[i] | (uint8_t)~mask;
	}
}

void rw_family_range(uint8_t af, struct rw_addr_range *r)
{
	struct rw_table_entry e = {.af = af, .plen = 0};

	if (af == RW_AF_INET)
		memcpy(e.addr, v4mapped, 12);
	rw_prefix_range(&e, r);
}

void rw_port_to_rset(uint16_t lo, uint16_t hi, struct rw_addr_range *r)
{
	memset(r, 0, sizeof(*r));
	r->lo[14] = (uint8_t)(lo >> 8);
	r->lo[15] = (uint8_t)lo;
	r->hi[14] = (uint8_t)(hi >> 8);
	r->hi[15] = (uint8_t)hi;
}

void rw_rset_to_port(const struct rw_addr_range *r, struct rw_port_range *p)
{
	p->lo = (uint16_t)(r->lo[14] << 8 | r->lo[15]);
	p->hi = (uint16_t)(r->hi[14] << 8 | r->hi[15]);
}

/* a + 1 / a - 1 on 16-byte big-endian numbers; false on wrap. */
static bool inc(uint8_t a[16])
{
	for (int i = 15; i >= 0; i--)
		if (++a[i])
			return true;
	return false;
}

static bool dec(uint8_t a[16])
{
	for (int i = 15; i >= 0; i--)
		if (a[i]--)
			return true;
	return false;
}

static int cmp_range(const void *x, const void *y)
{
	const struct rw_addr_range *a = x, *b = y;

	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	return memcmp(a->lo, b->lo, 16);
}

void rw_rset_normalize(struct rw_addr_range *v, size_t *n)
{
	size_t out = 0;

	if (*n < 2)
		return;
	qsort(v, *n, sizeof(*v), cmp_range);
	for (size_t i = 1; i < *n; i++) {
		struct rw_addr_range *last = &v[out];
		uint8_t next[16];
		bool nowrap;

		memcpy(next, last->hi, 16);
		nowrap = inc(next);
		/* Overlapping or adjacent ranges of one family merge. */
		if (v[i].af == last->af && (!nowrap || memcmp(v[i].lo, next, 16) <= 0)) {
			if (memcmp(v[i].hi, last->hi, 16) > 0)
				memcpy(last->hi, v[i].hi, 16);
			continue;
		}
		v[++out] = v[i];
	}
	*n = out + 1;
}

int rw_rset_diff(const struct rw_addr_range *a, size_t na, const struct rw_addr_range *b,
		 size_t nb, struct rw_addr_range **out, size_t *nout)
{
	struct rw_addr_range *v = NULL;
	size_t n = 0, cap = 0, j = 0;

	for (size_t i = 0; i < na; i++) {
		struct rw_addr_range cur = a[i];
		bool left = true;

		/* Skip b ranges wholly before cur (b is sorted by af, lo). */
		while (j < nb && (b[j].af < cur.af ||
				  (b[j].af == cur.af && memcmp(b[j].hi, cur.lo, 16) < 0)))
			j++;
		for (size_t k = j; left && k < nb && b[k].af == cur.af &&
				   memcmp(b[k].lo, cur.hi, 16) <= 0; k++) {
			if (memcmp(b[k].lo, cur.lo, 16) > 0) {
				if (rw_grow(&v, &cap, n + 1, sizeof(*v)))
					goto out_nomem;
				v[n] = cur;
				memcpy(v[n].hi, b[k].lo, 16);
				dec(v[n].hi);
				n++;
			}
			if (memcmp(b[k].hi, cur.hi, 16) >= 0)
				left = false;
			else {
				memcpy(cur.lo, b[k].hi, 16);
				inc(cur.lo);
			}
		}
		if (left) {
			if (rw_grow(&v, &cap, n + 1, sizeof(*v)))
				goto out_nomem;
			v[n++] = cur;
		}
	}
	*out = v;
	*nout = n;
	return 0;
out_nomem:
	free(v);
	return -ENOMEM;
}
