/* SPDX-License-Identifier: BSD-2-Clause */
/* Table-driven parsing of live port specs (spec.h). */
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

static int spec_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 0);
	if (unlikely(errno || end == v || *end || x < lo || x > hi))
		return -EINVAL;
	*out = (unsigned)x;
	return 0;
}

static bool spec_pow2(unsigned x)
{
	return x && !(x & (x - 1));
}

/* Store x in a field of 1, 2 or 4 bytes, refusing what does not fit. */
static int spec_store(void *field, size_t size, unsigned x)
{
	switch (size) {
	case 1: {
		uint8_t v = (uint8_t)x;

		if (unlikely(v != x))
			return -EINVAL;
		memcpy(field, &v, 1);
		return 0;
	}
	case 2: {
		uint16_t v = (uint16_t)x;

		if (unlikely(v != x))
			return -EINVAL;
		memcpy(field, &v, 2);
		return 0;
	}
	case 4: {
		uint32_t v = x;

		memcpy(field, &v, 4);
		return 0;
	}
	}
	return -EINVAL;
}

static int spec_word(const struct rw_spec_opt *o, const char *val, unsigned *out)
{
	for (const struct rw_spec_word *w = o->words; w && w->word; w++) {
		if (!strcmp(val, w->word)) {
			*out = w->value;
			return 0;
		}
	}
	/* hi == 0: words only */
	return o->hi ? spec_uint(val, o->lo, o->hi, out) : -EINVAL;
}

/* One option's value into its field of cfg. */
static int spec_value(const struct rw_spec_opt *o, const char *val, void *cfg)
{
	char *field = (char *)cfg + o->off;
	unsigned x;
	int rc;

	switch (o->type) {
	case RW_SPEC_UINT:
	case RW_SPEC_POW2:
		rc = spec_uint(val, o->lo, o->hi, &x);
		if (!rc && o->type == RW_SPEC_POW2 && !spec_pow2(x))
			rc = -EINVAL;
		break;
	case RW_SPEC_WORD:
		rc = spec_word(o, val, &x);
		break;
	case RW_SPEC_STR:
		if (unlikely(!*val || strlen(val) >= o->size))
			return -EINVAL;
		strcpy(field, val);
		return 0;
	default:
		return -EINVAL;
	}
	return rc ?: spec_store(field, o->size, x);
}

/* "who: unknown option 'key' (name, name, ...)", the names from the table. */
static void spec_unknown(const char *who, const char *key, const struct rw_spec_opt *opts,
			 size_t nopts, char *err, size_t errlen)
{
	char names[256];
	size_t len = 0;

	names[0] = 0;
	for (size_t i = 0; i < nopts && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "",
					opts[i].name);
	snprintf(err, errlen, "%s: unknown option '%s' (%s)", who, key, names);
}

static int spec_option(const char *who, const char *key, const char *val, void *cfg,
		       const struct rw_spec_opt *opts, size_t nopts, char *err, size_t errlen)
{
	for (size_t i = 0; i < nopts; i++) {
		if (strcmp(key, opts[i].name))
			continue;
		if (unlikely(spec_value(&opts[i], val, cfg))) {
			snprintf(err, errlen, "%s: bad value '%s' for %s", who, val, key);
			return -EINVAL;
		}
		return 0;
	}
	spec_unknown(who, key, opts, nopts, err, errlen);
	return -EINVAL;
}

int rw_spec_parse(const char *who, const char *arg, char *ifname, void *cfg,
		  const struct rw_spec_opt *opts, size_t nopts, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *tok;
	size_t n;

	if (unlikely(!arg || strlen(arg) >= sizeof(buf))) {
		snprintf(err, errlen, "%s: spec missing or too long", who);
		return -EINVAL;
	}
	strcpy(buf, arg);
	tok = strtok_r(buf, ",", &save);
	n = tok ? strlen(tok) : 0;
	if (unlikely(n == 0 || n >= IF_NAMESIZE || strchr(tok, '='))) {
		snprintf(err, errlen, "%s: expected an interface name first, as in %s:eth0", who, who);
		return -EINVAL;
	}
	memcpy(ifname, tok, n + 1);
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		int rc;

		if (unlikely(!eq)) {
			snprintf(err, errlen, "%s: option '%s' needs a value (key=value)", who, tok);
			return -EINVAL;
		}
		*eq = 0;
		rc = spec_option(who, tok, eq + 1, cfg, opts, nopts, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}
