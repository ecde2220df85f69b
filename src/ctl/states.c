/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ringwallctl states: count and list tracked connections, with filters.
 *
 * A shard belongs to its worker, and a walk beside the worker could read an
 * entry half-rewritten or, worse, one the table is moving. So each worker
 * walks its own shard, at the top of its next poll, through its mailbox
 * (rw_worker_call): the copy is exact, at the cost of holding that worker's
 * traffic for the walk (about 1 ms per million slots; the listing stops
 * copying at the limit but keeps counting).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"

#define U(x) ((unsigned long long)(x))
#define DEFAULT_LIMIT 1000
#define MAX_LIMIT 1000000

/* worker.c stores "rule set generation << 20 | rule index" as a state's
 * rule (RW_RULE_REF_BITS): the index is what an operator wants to see. */
#define RULE_INDEX_MASK RW_RULE_REF_MASK

struct filter {
	int proto;              /* -1 = any */
	bool have_addr;
	uint8_t addr[16];
	unsigned plen;          /* prefix length in 128-bit (mapped) terms */
	int port;               /* -1 = any */
	size_t limit;
	bool count_only;
};

struct entry {
	struct rw_conn_info ci;
	unsigned worker;
};

struct walk {
	const struct filter *f;
	unsigned worker;
	struct entry *list;
	size_t n, cap;
	uint64_t matched;
	bool nomem;
};

static bool prefix_match(const uint8_t *a, const uint8_t *p, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, p, bytes))
		return false;
	return !bits || !((a[bytes] ^ p[bytes]) & (uint8_t)(0xff << (8 - bits)));
}

static bool matches(const struct filter *f, const struct rw_conn_info *ci)
{
	if (f->proto >= 0 && ci->proto != f->proto)
		return false;
	if (f->port >= 0 && ci->sport != f->port && ci->dport != f->port)
		return false;
	if (f->have_addr && !prefix_match(ci->saddr, f->addr, f->plen) &&
	    !prefix_match(ci->daddr, f->addr, f->plen))
		return false;
	return true;
}

/* Runs on the worker's thread: keep it to a compare and a copy. */
static int collect(const struct rw_conn_info *ci, void *arg)
{
	struct walk *w = arg;

	if (!matches(w->f, ci))
		return 0;
	w->matched++;
	if (w->f->count_only || w->n >= w->f->limit || w->nomem)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct entry *l = realloc(w->list, cap * sizeof(*l));

		if (!l) {
			w->nomem = true;
			return 0;
		}
		w->list = l;
		w->cap = cap;
	}
	w->list[w->n++] = (struct entry){*ci, w->worker};
	return 0;
}

static void walk_shard(struct rw_worker *wk, void *arg)
{
	struct walk *w = arg;

	w->worker = wk->id;
	rw_state_walk(wk->state, collect, w);
}

static int parse_addr(const char *s, struct filter *f)
{
	char buf[64];
	char *slash;
	unsigned max = 128, off = 0;
	long plen = -1;

	/* a cut-off copy could still parse, as another prefix */
	if (unlikely(strlen(s) >= sizeof(buf)))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		char *end;

		*slash = 0;
		/* digits only: "10.0.0.0/" or "/-0" is not /0 (every address) */
		if (unlikely(slash[1] < '0' || slash[1] > '9'))
			return -EINVAL;
		plen = strtol(slash + 1, &end, 10);
		if (*end || plen < 0)
			return -EINVAL;
	}
	memset(f->addr, 0, 16);
	if (inet_pton(AF_INET, buf, f->addr + 12) == 1) {
		/* IPv4 is stored v4-mapped (::ffff:a.b.c.d), as in struct rw_pkt */
		f->addr[10] = f->addr[11] = 0xff;
		max = 32;
		off = 96;
	} else if (inet_pton(AF_INET6, buf, f->addr) != 1) {
		return -EINVAL;
	}
	if (plen > (long)max)
		return -EINVAL;
	f->plen = off + (plen < 0 ? max : (unsigned)plen);
	f->have_addr = true;
	return 0;
}

static int parse_proto(const char *s)
{
	static const struct { const char *name; int num; } names[] = {
		{"tcp", RW_PROTO_TCP}, {"udp", RW_PROTO_UDP}, {"icmp", RW_PROTO_ICMP},
		{"icmp6", RW_PROTO_ICMP6}, {"ipv6-icmp", RW_PROTO_ICMP6},
	};
	char *end;
	long n;

	for (size_t i = 0; i < RW_ARRAY_SIZE(names); i++)
		if (!strcasecmp(s, names[i].name))
			return names[i].num;
	n = strtol(s, &end, 10);
	return *end || n < 0 || n > 255 ? -1 : (int)n;
}

static long parse_num(const char *s, long max)
{
	char *end;
	long n = strtol(s, &end, 10);

	return *s && !*end && n >= 0 && n <= max ? n : -1;
}

static int parse_filter(const struct rw_ctl_req *r, struct filter *f, struct rw_buf *err)
{
	*f = (struct filter){.proto = -1, .port = -1, .limit = DEFAULT_LIMIT};
	for (unsigned i = 0; i < r->argc; i++) {
		const char *k = r->argv[i], *v = i + 1 < r->argc ? r->argv[i + 1] : NULL;
		long n;

		if (!strcmp(k, "count")) {
			f->count_only = true;
			continue;
		}
		if (!v) {
			rw_buf_printf(err, "states: '%s' needs a value", k);
			return -1;
		}
		i++;
		if (!strcmp(k, "proto")) {
			if ((f->proto = parse_proto(v)) < 0)
				goto bad;
		} else if (!strcmp(k, "addr") || !strcmp(k, "host")) {
			if (parse_addr(v, f))
				goto bad;
		} else if (!strcmp(k, "port")) {
			if ((n = parse_num(v, 65535)) < 0)
				goto bad;
			f->port = (int)n;
		} else if (!strcmp(k, "limit")) {
			if ((n = parse_num(v, MAX_LIMIT)) < 0)
				goto bad;
			f->limit = (size_t)n;
		} else {
			rw_buf_printf(err, "states: unknown filter '%s' (proto, addr, port, limit, count)", k);
			return -1;
		}
		continue;
bad:
		rw_buf_printf(err, "states: bad value for %s: '%s'", k, v);
		return -1;
	}
	return 0;
}

static const char *proto_name(unsigned p)
{
	switch (p) {
	case RW_PROTO_TCP: return "tcp";
	case RW_PROTO_UDP: return "udp";
	case RW_PROTO_ICMP: return "icmp";
	case RW_PROTO_ICMP6: return "icmp6";
	default: return NULL;
	}
}

static void fmt_addr(const struct rw_conn_info *ci, const uint8_t *a, char *buf, size_t len)
{
	if (ci->af == RW_AF_INET)
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}

/* Seconds until expiry. Live ports run the shard on the monotonic clock
 * (frame_now in worker.c), and the control socket serves live runs only;
 * a capture replay's times are the capture's, but nobody asks it. */
static double expires_in(uint64_t t)
{
	return ((double)t - (double)rw_now_ns()) / 1e9;
}

/* The rule's index now: a connection made before a "rule add/remove"
 * names its rule by the index it had then (ruleset.c maps it). */
static unsigned rule_now(const struct rw_ruleset *rs, uint32_t ref)
{
	uint32_t rule = ref & RULE_INDEX_MASK;

	if ((ref >> RW_RULE_REF_BITS) != RW_RULE_REF_GEN(rs->gen) && rs->nedits)
		rw_ruleset_ref_map(rs, ref, &rule);
	return rule;
}

static void print_entry(const struct entry *en, const struct rw_ruleset *rs, bool json,
			struct rw_buf *out)
{
	const struct rw_conn_info *ci = &en->ci;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pn[8];
	const char *p = proto_name(ci->proto);
	bool v6 = ci->af == RW_AF_INET6;
	char resp[24];

	/* a proxied connection counts both directions in one counter: the
	 * responder's count is unknown, not zero */
	if (ci->proxied)
		snprintf(resp, sizeof(resp), "%s", json ? "null" : "-");
	else
		snprintf(resp, sizeof(resp), "%llu", U(ci->packets[1]));
	fmt_addr(ci, ci->saddr, s, sizeof(s));
	fmt_addr(ci, ci->daddr, d, sizeof(d));
	if (!p) {
		snprintf(pn, sizeof(pn), "%u", ci->proto);
		p = pn;
	}
	if (json) {
		rw_buf_printf(out, "{\"proto\":\"%s\",\"family\":\"%s\",\"src\":\"%s\",\"sport\":%u,"
			      "\"dst\":\"%s\",\"dport\":%u,\"state\":",
			      p, v6 ? "inet6" : "inet", s, ci->sport, d, ci->dport);
		rw_buf_json_str(out, ci->state);
		rw_buf_printf(out, ",\"expires_s\":%.1f,\"rule\":%u,\"packets\":[%llu,%s],"
			      "\"proxy\":%s,\"worker\":%u},",
			      expires_in(ci->expires_ns), rule_now(rs, ci->rule), U(ci->packets[0]),
			      resp, ci->proxied ? "true" : "false", en->worker);
		return;
	}
	rw_buf_printf(out, "%-5s %s%s%s:%u -> %s%s%s:%u %s%s expires %.0fs rule %u pkts %llu/%s worker %u\n",
		      p, v6 ? "[" : "", s, v6 ? "]" : "", ci->sport, v6 ? "[" : "", d, v6 ? "]" : "",
		      ci->dport, ci->state ? ci->state : "-", ci->proxied ? " proxy" : "",
		      expires_in(ci->expires_ns), rule_now(rs, ci->rule), U(ci->packets[0]),
		      resp, en->worker);
}

int rw_ctl_cmd_states(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	struct filter f;
	struct walk w = {.f = &f};
	const struct rw_ruleset *rs;
	unsigned failed = 0;
	int ret = -1;

	if (parse_filter(r, &f, out))
		return -1;
	for (unsigned i = 0; i < c->e->nworkers; i++) {
		struct rw_worker_call call = {.fn = walk_shard, .arg = &w};

		if (rw_worker_call(&c->e->workers[i], &call, 2000))
			failed++;
	}
	if (failed) {
		rw_buf_printf(out, "%u worker(s) did not answer within 2 s", failed);
		goto out_free;
	}
	/* the rule set, to name each state's rule by its index now */
	pthread_mutex_lock(&c->e->reload_lock);
	rs = atomic_load(&c->e->rs);
	if (r->json) {
		rw_buf_printf(out, "{\"count\":%llu,\"listed\":%zu,\"truncated\":%s,\"states\":[",
			      U(w.matched), w.n, w.n < w.matched && !f.count_only ? "true" : "false");
		for (size_t i = 0; i < w.n; i++)
			print_entry(&w.list[i], rs, true, out);
		rw_buf_uncomma(out);
		rw_buf_puts(out, "]}\n");
	} else {
		for (size_t i = 0; i < w.n; i++)
			print_entry(&w.list[i], rs, false, out);
		rw_buf_printf(out, "%llu states", U(w.matched));
		if (w.n < w.matched && !f.count_only)
			rw_buf_printf(out, " (%zu listed; raise with 'limit N')", w.n);
		rw_buf_puts(out, "\n");
	}
	pthread_mutex_unlock(&c->e->reload_lock);
	ret = 0;
out_free:
	free(w.list);
	return ret;
}
