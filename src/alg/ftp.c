/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The FTP helper's line parser: the four lines that announce a data
 * connection (RFC 959 PORT and 227, RFC 2428 EPRT and 229). Every other
 * line is RW_ALG_LINE_OTHER. A line that starts like one of the four but
 * carries numbers out of range, too many digits or stray characters is
 * RW_ALG_LINE_BAD: it announces nothing, and it is counted, because a
 * client or server that sends it is either broken or probing the firewall.
 */
#include <arpa/inet.h>
#include <string.h>

#include "alg.h"

static bool lower_eq(const uint8_t *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	if (len < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		if (c != (uint8_t)word[i])
			return false;
	}
	return true;
}

/* A decimal number of 1..maxdigits digits at s[*i], at most max. */
static bool number(const uint8_t *s, size_t len, size_t *i, unsigned maxdigits, unsigned max,
		   unsigned *v)
{
	unsigned n = 0, digits = 0;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		if (++digits > maxdigits)
			return false;
		n = n * 10 + (unsigned)(s[*i] - '0');
		(*i)++;
	}
	if (!digits || n > max)
		return false;
	*v = n;
	return true;
}

/* "h1,h2,h3,h4,p1,p2" at s[*i] (blanks around commas are not allowed: no
 * client sends them and accepting them widens what an attacker can hide). */
static bool six_numbers(const uint8_t *s, size_t len, size_t *i, struct rw_alg_announce *a)
{
	unsigned v[6];

	for (unsigned k = 0; k < 6; k++) {
		if (k && (*i >= len || s[(*i)++] != ','))
			return false;
		if (!number(s, len, i, 3, 255, &v[k]))
			return false;
	}
	memset(a->addr, 0, sizeof(a->addr));
	a->addr[10] = a->addr[11] = 0xff;
	for (unsigned k = 0; k < 4; k++)
		a->addr[12 + k] = (uint8_t)v[k];
	a->af = RW_AF_INET;
	a->port = (uint16_t)(v[4] << 8 | v[5]);
	return a->port != 0;
}

static size_t skip_blanks(const uint8_t *s, size_t len, size_t i)
{
	while (i < len && s[i] == ' ')
		i++;
	return i;
}

/* PORT h1,h2,h3,h4,p1,p2 */
static int parse_port(const uint8_t *s, size_t len, struct rw_alg_announce *a)
{
	size_t i = skip_blanks(s, len, 4);

	a->kind = RW_ANN_ACTIVE;
	if (!six_numbers(s, len, &i, a) || skip_blanks(s, len, i) != len)
		return RW_ALG_LINE_BAD;
	return RW_ALG_LINE_ANNOUNCE;
}

/* EPRT <d>proto<d>addr<d>port<d>, d any printable but a digit (RFC 2428
 * suggests '|'). proto 1 is IPv4, 2 IPv6. */
static int parse_eprt(const uint8_t *s, size_t len, struct rw_alg_announce *a)
{
	size_t i = skip_blanks(s, len, 4), start;
	unsigned proto, port;
	char text[64];
	uint8_t d;

	a->kind = RW_ANN_ACTIVE;
	if (i >= len || s[i] < 33 || s[i] > 126 || (s[i] >= '0' && s[i] <= '9'))
		return RW_ALG_LINE_BAD;
	d = s[i++];
	if (!number(s, len, &i, 1, 2, &proto) || proto < 1 || i >= len || s[i++] != d)
		return RW_ALG_LINE_BAD;
	start = i;
	while (i < len && s[i] != d)
		i++;
	if (i >= len || i - start == 0 || i - start >= sizeof(text))
		return RW_ALG_LINE_BAD;
	memcpy(text, s + start, i - start);
	text[i - start] = 0;
	i++;
	memset(a->addr, 0, sizeof(a->addr));
	if (proto == 1) {
		a->af = RW_AF_INET;
		a->addr[10] = a->addr[11] = 0xff;
		if (inet_pton(AF_INET, text, a->addr + 12) != 1)
			return RW_ALG_LINE_BAD;
	} else {
		a->af = RW_AF_INET6;
		if (inet_pton(AF_INET6, text, a->addr) != 1)
			return RW_ALG_LINE_BAD;
	}
	if (!number(s, len, &i, 5, 65535, &port) || port == 0 || i >= len || s[i++] != d ||
	    skip_blanks(s, len, i) != len)
		return RW_ALG_LINE_BAD;
	a->port = (uint16_t)port;
	return RW_ALG_LINE_ANNOUNCE;
}

/* 227 <text> h1,h2,h3,h4,p1,p2 <text>: RFC 1123 4.1.2.6 says to scan for
 * the first digit after the code, since servers word the text freely. */
static int parse_227(const uint8_t *s, size_t len, struct rw_alg_announce *a)
{
	size_t i = 4;

	a->kind = RW_ANN_PASSIVE;
	while (i < len && !(s[i] >= '0' && s[i] <= '9'))
		i++;
	if (!six_numbers(s, len, &i, a))
		return RW_ALG_LINE_BAD;
	return RW_ALG_LINE_ANNOUNCE;
}

/* 229 <text> (<d><d><d>port<d>) */
static int parse_229(const uint8_t *s, size_t len, struct rw_alg_announce *a)
{
	size_t i = 4;
	unsigned port;
	uint8_t d;

	a->kind = RW_ANN_PASSIVE;
	a->af = 0;
	while (i < len && s[i] != '(')
		i++;
	if (i + 4 >= len)
		return RW_ALG_LINE_BAD;
	d = s[++i];
	if (d < 33 || d > 126 || (d >= '0' && d <= '9') || s[i + 1] != d || s[i + 2] != d)
		return RW_ALG_LINE_BAD;
	i += 3;
	if (!number(s, len, &i, 5, 65535, &port) || port == 0 || i + 1 >= len || s[i] != d ||
	    s[i + 1] != ')')
		return RW_ALG_LINE_BAD;
	a->port = (uint16_t)port;
	return RW_ALG_LINE_ANNOUNCE;
}

/* "CODE " or "CODE-"? A multi-line reply's first line ("227-") is not the
 * announcement; only the final "227 " line is. */
static bool reply(const uint8_t *s, size_t len, const char *code)
{
	return len >= 4 && !memcmp(s, code, 3) && s[3] == ' ';
}

static bool command(const uint8_t *s, size_t len, const char *word)
{
	return lower_eq(s, len, word) && (len == 4 || s[4] == ' ');
}

int rw_ftp_parse_line(const uint8_t *s, size_t len, unsigned from_server,
		      struct rw_alg_announce *a)
{
	memset(a, 0, sizeof(*a));
	if (from_server) {
		if (reply(s, len, "227"))
			return parse_227(s, len, a);
		if (reply(s, len, "229"))
			return parse_229(s, len, a);
		return RW_ALG_LINE_OTHER;
	}
	if (command(s, len, "port"))
		return parse_port(s, len, a);
	if (command(s, len, "eprt"))
		return parse_eprt(s, len, a);
	return RW_ALG_LINE_OTHER;
}
