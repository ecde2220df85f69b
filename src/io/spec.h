/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Live port specs, "IFACE[,key=val...]", parsed against a table.
 *
 * A backend (afpacket, afxdp) describes each option once: its name, what
 * values it takes and where in the backend's config struct the value goes.
 * rw_spec_parse() checks the interface name and every option against that
 * table and writes nothing outside the fields the table names; defaults are
 * the caller's (fill the struct first), and so are checks that span several
 * options. Error messages start with the backend's name ("afpacket: ...").
 */
#ifndef RW_IO_SPEC_H
#define RW_IO_SPEC_H

#include <stddef.h>

#include "../common.h"

enum rw_spec_type {
	RW_SPEC_UINT, /* a number in [lo, hi] (strtoul base 0) */
	RW_SPEC_POW2, /* the same, and a power of two */
	RW_SPEC_WORD, /* one of words[]; else, if hi > 0, a number in [lo, hi] */
	RW_SPEC_STR,  /* a non-empty string shorter than the field */
};

/* One accepted word of a RW_SPEC_WORD option and the value it stands for. */
struct rw_spec_word {
	const char *word;
	unsigned value;
};

struct rw_spec_opt {
	const char *name;
	enum rw_spec_type type;
	size_t off, size;                  /* the field in the config struct */
	unsigned lo, hi;
	const struct rw_spec_word *words;  /* RW_SPEC_WORD: ends with { NULL } */
};

/* Table rows. The field may be any unsigned integer type, bool or enum of
 * 1, 2 or 4 bytes (a number that does not fit it is refused). */
#define RW_SPEC_FIELD(type, member) offsetof(type, member), sizeof(((type *)0)->member)
#define RW_SPEC_UINT_OPT(name, type, member, lo, hi) \
	{ name, RW_SPEC_UINT, RW_SPEC_FIELD(type, member), lo, hi, NULL }
#define RW_SPEC_POW2_OPT(name, type, member, lo, hi) \
	{ name, RW_SPEC_POW2, RW_SPEC_FIELD(type, member), lo, hi, NULL }
#define RW_SPEC_WORD_OPT(name, type, member, words) \
	{ name, RW_SPEC_WORD, RW_SPEC_FIELD(type, member), 0, 0, words }
#define RW_SPEC_WORD_OR_UINT_OPT(name, type, member, words, lo, hi) \
	{ name, RW_SPEC_WORD, RW_SPEC_FIELD(type, member), lo, hi, words }
#define RW_SPEC_STR_OPT(name, type, member) \
	{ name, RW_SPEC_STR, RW_SPEC_FIELD(type, member), 0, 0, NULL }

/*
 * Parse arg ("IFACE[,key=val...]") for backend `who`: the interface name
 * into ifname (IF_NAMESIZE bytes), each option into cfg through opts[].
 * 0, or -EINVAL with a message in err.
 */
int rw_spec_parse(const char *who, const char *arg, char *ifname, void *cfg,
		  const struct rw_spec_opt *opts, size_t nopts, char *err, size_t errlen);

#endif
