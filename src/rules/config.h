/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A parsed configuration: ports, settings, tables and rules, exactly as the
 * file said them, plus the rules flattened into "atomic" match tuples for
 * the classifier (struct rw_crule). The parser (parse.c, lexer.c) builds it;
 * nothing on the fast path reads struct rw_config directly: the worker uses
 * the compiled struct rw_ruleset (ruleset.h).
 *
 * Grammar and semantics: docs/configuration.md.
 */
#ifndef RW_CONFIG_H
#define RW_CONFIG_H

#include "../common.h"
#include <stdio.h>

/* Timeouts, in seconds, pf's names (docs/configuration.md). */
#define RW_TIMEOUTS(X)                             \
	X(TCP_FIRST, "tcp.first", 120)             \
	X(TCP_OPENING, "tcp.opening", 30)          \
	X(TCP_ESTABLISHED, "tcp.established", 86400) \
	X(TCP_CLOSING, "tcp.closing", 900)         \
	X(TCP_FINWAIT, "tcp.finwait", 45)          \
	X(TCP_CLOSED, "tcp.closed", 90)            \
	X(UDP_FIRST, "udp.first", 60)              \
	X(UDP_SINGLE, "udp.single", 30)            \
	X(UDP_MULTIPLE, "udp.multiple", 60)        \
	X(ICMP_FIRST, "icmp.first", 20)            \
	X(ICMP_ERROR, "icmp.error", 10)            \
	X(OTHER_FIRST, "other.first", 60)          \
	X(OTHER_SINGLE, "other.single", 30)        \
	X(OTHER_MULTIPLE, "other.multiple", 60)    \
	X(FRAG, "frag", 30)                        \
	X(INTERVAL, "interval", 10)                \
	X(FTP_EXPECT, "ftp.expect", 30)

enum rw_timeout {
#define RW_X_TO(id, name, def) RW_TO_##id,
	RW_TIMEOUTS(RW_X_TO)
#undef RW_X_TO
	RW_TO_MAX
};

extern const char *const rw_timeout_names[RW_TO_MAX];
extern const uint32_t rw_timeout_defaults[RW_TO_MAX];

enum rw_action { RW_ACT_BLOCK = 0, RW_ACT_PASS = 1 };

/* rw_rule.af for an "arp" rule: matches ARP frames only (port mask and
 * action are its only fields); expands to no rw_crule. */
#define RW_RULE_ARP 1

/* An address set element: an inclusive range of 16-byte addresses of one
 * family (IPv4 v4-mapped, as in struct rw_pkt). Prefixes, single addresses
 * and "any" are all ranges. */
struct rw_addr_range {
	uint8_t af; /* RW_AF_INET or RW_AF_INET6 */
	uint8_t lo[16], hi[16];
};

struct rw_port_range {
	uint16_t lo, hi; /* inclusive */
};

/* A named address table (pf's <name>): many prefixes, matched by
 * longest-prefix lookup. Rules refer to tables by index. */
struct rw_table_entry {
	uint8_t af;
	uint8_t plen;  /* prefix length in the family's own bits (0-32, 0-128) */
	uint8_t neg;   /* pf's "!addr" entry inside a table: excludes */
	uint8_t addr[16];
};

struct rw_table {
	char name[64];
	struct rw_table_entry *entries;
	size_t nentries, cap;
	char *file;    /* loaded from, or NULL when inline */
	unsigned line; /* where it was defined */
};

/* One address operand of a rule ("from ..." or "to ..."). */
struct rw_addr_spec {
	bool any;                      /* no constraint */
	bool neg;                      /* "!" before the whole operand */
	int table;                     /* index into rw_config.tables, or -1 */
	struct rw_addr_range *ranges;  /* list (when table < 0 and !any) */
	size_t nranges;
};

struct rw_port_spec {
	bool any;
	bool neg;                      /* "!=" or "!" list */
	struct rw_port_range *ranges;
	size_t nranges;
};

/* One "icmp-type T [code C]" element; -1 = any. */
struct rw_icmp_match {
	int16_t type, code;
};

/* One rule as written (after macro expansion). */
struct rw_rule {
	uint8_t action;       /* enum rw_action */
	bool log;
	bool keep_state;      /* pass rules: true unless "no state" */
	bool synproxy;        /* "synproxy state": keep_state too, and the SYN proxy
			       * answers the handshake (docs/synproxy.md) */
	uint16_t in_ports;    /* bitmask of ingress ports; all ports when "on" omitted */
	uint8_t af;           /* 0 = both, RW_AF_INET, RW_AF_INET6, or RW_RULE_ARP */
	uint8_t *protos;      /* list of protocol numbers; NULL/0 = any */
	size_t nprotos;
	struct rw_addr_spec src, dst;
	struct rw_port_spec sport, dport;
	int16_t icmp_type;    /* -1 = any */
	int16_t icmp_code;    /* -1 = any */
	/* icmp-type / icmp6-type as a list ("icmp6-type { echoreq neighbrsol }");
	 * icmp_type/icmp_code above repeat its first element. NULL/0 = any. */
	struct rw_icmp_match *icmps;
	size_t nicmps;
	uint8_t tcp_flags, tcp_flags_mask; /* match when (flags & mask) == flags; 0/0 = any */
	bool flags_explicit;  /* "flags" written in the rule */
	unsigned line;        /* source line of the rule */
	char *text;           /* the rule's source text, for listings */
};

/*
 * An atomic match tuple, what the classifier compiles. Every rw_rule
 * expands into one or more of these (lists, negations and "both families"
 * multiply out); all tuples of one rule carry its index, and tuples are
 * ordered by rule index, so the first matching tuple gives the first
 * matching rule. Each field is a range or a value/mask; "any" is the full
 * range. For ICMP/ICMPv6, sport holds the type and dport the code.
 */
struct rw_crule {
	uint32_t rule;        /* index into rw_config.rules */
	uint16_t in_ports;    /* bitmask */
	uint8_t af;           /* RW_AF_INET or RW_AF_INET6 (never 0 here) */
	uint8_t proto, proto_mask;   /* 0/0 = any protocol */
	uint8_t tcp_flags, tcp_flags_mask;
	int16_t src_table, dst_table;  /* -1, or table index: the address must be in it */
	bool src_table_neg, dst_table_neg;
	uint8_t src_lo[16], src_hi[16]; /* inclusive ranges */
	uint8_t dst_lo[16], dst_hi[16];
	uint16_t sport_lo, sport_hi;
	uint16_t dport_lo, dport_hi;
};

/* Control ports the FTP helper may watch ("set ftp-ports"): a few, as the
 * worker compares each new TCP connection against every one. */
#define RW_FTP_PORTS_MAX 8

/* One "port NAME SPEC" line. */
struct rw_port_conf {
	char name[32];
	char *spec;    /* "pcap:in.pcap,out=out.pcap", "afxdp:veth0", ... */
	unsigned line;
};

struct rw_config {
	char *path;

	struct rw_port_conf ports[RW_MAX_PORTS];
	unsigned nports;

	unsigned workers;           /* "set workers N"; default 1 */
	uint64_t limit_states;      /* "set limit states N" */
	uint64_t limit_frags;       /* "set limit frags N" */
	uint32_t adaptive_start;    /* "set timeout adaptive.start N" (states); 0 = off */
	uint32_t adaptive_end;
	uint32_t timeouts[RW_TO_MAX];
	uint8_t default_action;     /* "set default block|pass"; block unless said */
	bool default_log;           /* "set default block log" */
	bool verify_l4_csum;        /* "set checksum verify|ignore" */
	bool pass_non_ip;           /* "set non-ip pass|block" */
	char *log_file;             /* "set logfile PATH": pcap of logged packets */
	char *control_socket;       /* "set control PATH" */
	/* "set ftp-ports PORTS" / "set ftp-ports none": TCP ports whose
	 * connections the FTP helper reads (docs/alg.md); default { 21 } */
	uint16_t ftp_ports[RW_FTP_PORTS_MAX];
	unsigned nftp_ports;

	struct rw_table *tables;
	size_t ntables;

	struct rw_rule *rules;
	size_t nrules;
	size_t nsynproxy;           /* rules with "synproxy state" */

	struct rw_crule *crules;    /* built by rw_config_expand() */
	size_t ncrules;
};

/* Diagnostics: each is printed as "FILE:LINE:COL: message". */
struct rw_diag {
	FILE *out;       /* where messages go (stderr by default; NULL = nowhere) */
	unsigned errors;
	char first[512]; /* the first message, for callers that return it */
};

/* A -D name=value definition from the command line (pfctl -D). */
struct rw_define {
	const char *name, *value;
};

/*
 * Parse a configuration file. Returns 0 and a complete *cfg, or -1 when
 * the file has any error (each reported through d; the file is rejected
 * whole and *cfg holds nothing to free). Tables named "file" are loaded
 * relative to the configuration's directory unless absolute.
 */
int rw_config_load(const char *path, const struct rw_define *defs, size_t ndefs,
		   struct rw_config *cfg, struct rw_diag *d);

/* The same from a string (tests); name is used in messages. */
int rw_config_parse(const char *name, const char *text, const struct rw_define *defs,
		    size_t ndefs, struct rw_config *cfg, struct rw_diag *d);

/* Flatten rules into cfg->crules (called by rw_config_load). */
int rw_config_expand(struct rw_config *cfg);

void rw_config_free(struct rw_config *cfg);

/*
 * One rule given on its own (ringwallctl rule add), checked against cfg's
 * ports and tables as the same line in cfg's file would be (no macros).
 * On 0, *rule (line 0) and its tuples (*tuples, malloc'd, .rule = 0) are
 * the caller's; free the rule with rw_config_rule_free. -EINVAL or
 * -ENOMEM with "<ctl>:1:COL: message" in err.
 */
int rw_config_parse_rule(const struct rw_config *cfg, const char *text, struct rw_rule *rule,
			 struct rw_crule **tuples, size_t *ntuples, char *err, size_t errlen);
void rw_config_rule_free(struct rw_rule *r);

/* "[!]ADDR[/LEN]" as a table entry. 0, or -EINVAL with err set. */
int rw_config_parse_prefix(const char *text, struct rw_table_entry *e, char *err, size_t errlen);

/* Index of the port called name, or -1. */
int rw_config_port(const struct rw_config *cfg, const char *name);

#endif
