// SPDX-License-Identifier: BSD-2-Clause
/*
 * ringwallctl rule add|remove and table add|remove|show: live edits of
 * the running rules without a full rebuild (src/worker/edit.c does them).
 * Each reply says how long the change took: "visible" is from the
 * request to the change being seen by the next packet, "done" adds the
 * wait for every worker to leave the old rule set and its freeing.
 *
 * Edits live in memory only: the next full reload (SIGHUP, ringwallctl
 * reload) reads the file again and they are gone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define LOST_NOTE "(in memory only: the next reload from the file drops it)"

static bool is_json_word(const char *w, size_t n)
{
	return (n == 6 && !memcmp(w, "--json", 6)) || (n == 2 && !memcmp(w, "-j", 2));
}

/* The request line after its first skip words (--json words not
 * counted), trailing --json words and one pair of enclosing double
 * quotes removed: the rule text, which may hold more words than argv. */
static void rest_of_line(const char *line, unsigned skip, char *out, size_t outlen)
{
	const char *p = line, *end;
	size_t n;

	while (*p) {
		const char *w;

		p += strspn(p, " \t\r");
		w = p;
		p += strcspn(p, " \t\r");
		if (p == w)
			break;
		if (is_json_word(w, (size_t)(p - w)))
			continue;
		if (!skip--) {
			p = w;
			break;
		}
	}
	end = p + strlen(p);
	for (;;) {
		const char *w;

		while (end > p && strchr(" \t\r", end[-1]))
			end--;
		for (w = end; w > p && !strchr(" \t\r", w[-1]); w--)
			;
		if (!is_json_word(w, (size_t)(end - w)))
			break;
		end = w;
	}
	n = (size_t)(end - p);
	if (n >= 2 && p[0] == '"' && end[-1] == '"' && !memchr(p + 1, '"', n - 2)) {
		p++;
		n -= 2;
	}
	snprintf(out, outlen, "%.*s", (int)n, p);
}

static int parse_index(const char *s, uint32_t *v, struct rw_buf *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = s && *s >= '0' && *s <= '9' ? strtoul(s, &end, 10) : 0;
	if (!s || *s < '0' || *s > '9' || *end || errno || n >= UINT32_MAX) {
		rw_buf_printf(out, "'%s' is not a rule index", s ? s : "");
		return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static void edit_reply(const struct rw_ctl_req *r, const char *what, const struct rw_edit_result *res,
		       struct rw_buf *out)
{
	if (r->json) {
		rw_buf_printf(out, "{\"done\":\"%s\",\"rule\":%u,\"generation\":%u,\"rules\":%zu,"
			      "\"visible_us\":%.1f,\"total_us\":%.1f}\n", what, res->pos, res->gen,
			      res->nrules, us(res->visible_ns), us(res->total_ns));
		return;
	}
	rw_buf_printf(out, "rule %u %s: generation %u, %zu rules; visible in %.0f us, done in %.0f us "
		      LOST_NOTE "\n", res->pos, what, res->gen, res->nrules, us(res->visible_ns),
		      us(res->total_ns));
}

/* "rule add [at N|before N|after N] TEXT": argv[0] is "add". */
static int rule_add(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	uint32_t pos = RW_EDIT_APPEND;
	unsigned skip = 2;
	char text[4096], err[1024];
	struct rw_edit_result res = {0};
	const char *where = r->argc > 1 ? r->argv[1] : "";

	if (!strcmp(where, "at") || !strcmp(where, "before") || !strcmp(where, "after")) {
		if (parse_index(r->argc > 2 ? r->argv[2] : NULL, &pos, out))
			return -1;
		/* after the largest index would be RW_EDIT_APPEND: an append
		 * nobody asked for instead of "no such rule" */
		if (!strcmp(where, "after") && unlikely(++pos == RW_EDIT_APPEND)) {
			rw_buf_printf(out, "no rule %s to add after", r->argv[2]);
			return -1;
		}
		skip = 4;
	}
	rest_of_line(r->line, skip, text, sizeof(text));
	if (!text[0]) {
		rw_buf_puts(out, "usage: rule add [at N|before N|after N] \"RULE\"");
		return -1;
	}
	if (rw_engine_rule_insert(c->e, pos, text, &res, err, sizeof(err))) {
		rw_buf_puts(out, err);
		return -1;
	}
	fprintf(stderr, "ringwall: control: rule %u added: %s\n", res.pos, text);
	edit_reply(r, "added", &res, out);
	return 0;
}

static int rule_remove(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	struct rw_edit_result res = {0};
	char err[512];
	uint32_t pos;

	if (r->argc != 2) {
		rw_buf_puts(out, "usage: rule remove N");
		return -1;
	}
	if (parse_index(r->argv[1], &pos, out))
		return -1;
	if (rw_engine_rule_remove(c->e, pos, &res, err, sizeof(err))) {
		rw_buf_puts(out, err);
		return -1;
	}
	fprintf(stderr, "ringwall: control: rule %u removed\n", res.pos);
	edit_reply(r, "removed", &res, out);
	return 0;
}

int rw_ctl_cmd_rule(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	const char *sub = r->argc ? r->argv[0] : "";

	if (!strcmp(sub, "add"))
		return rule_add(c, r, out);
	if (!strcmp(sub, "remove") || !strcmp(sub, "delete"))
		return rule_remove(c, r, out);
	rw_buf_puts(out, "usage: rule add [at N|before N|after N] \"RULE\" | rule remove N");
	return -1;
}

/* ---- tables ---- */

static void entry_text(const struct rw_table_entry *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (e->af == RW_AF_INET)
		inet_ntop(AF_INET, e->addr + 12, a, sizeof(a));
	else
		inet_ntop(AF_INET6, e->addr, a, sizeof(a));
	snprintf(buf, len, "%s%s/%u", e->neg ? "!" : "", a, e->plen);
}

static void show_one(const struct rw_table *t, bool json, struct rw_buf *out)
{
	char buf[64];

	if (json) {
		rw_buf_puts(out, "{\"table\":");
		rw_buf_json_str(out, t->name);
		rw_buf_printf(out, ",\"count\":%zu,\"entries\":[", t->nentries);
	} else {
		rw_buf_printf(out, "# table <%s>, %zu entries\n", t->name, t->nentries);
	}
	for (size_t i = 0; i < t->nentries; i++) {
		entry_text(&t->entries[i], buf, sizeof(buf));
		if (json)
			rw_buf_printf(out, "\"%s\",", buf);
		else
			rw_buf_printf(out, "%s\n", buf);
	}
	if (json) {
		rw_buf_uncomma(out);
		rw_buf_puts(out, "]}\n");
	}
}

static void show_all(const struct rw_config *cfg, bool json, struct rw_buf *out)
{
	rw_buf_puts(out, json ? "{\"tables\":[" : "");
	for (size_t i = 0; i < cfg->ntables; i++) {
		if (json) {
			rw_buf_puts(out, "{\"name\":");
			rw_buf_json_str(out, cfg->tables[i].name);
			rw_buf_printf(out, ",\"count\":%zu},", cfg->tables[i].nentries);
		} else {
			rw_buf_printf(out, "<%s> %zu entries\n", cfg->tables[i].name,
				      cfg->tables[i].nentries);
		}
	}
	if (json) {
		rw_buf_uncomma(out);
		rw_buf_puts(out, "]}\n");
	} else if (!cfg->ntables) {
		rw_buf_puts(out, "no tables\n");
	}
}

static int table_show(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	const struct rw_ruleset *rs;
	int ret = 0;

	if (r->argc > 2) {
		rw_buf_puts(out, "usage: table show [NAME]");
		return -1;
	}
	/* a table edit changes the entry list under this lock */
	pthread_mutex_lock(&c->e->reload_lock);
	rs = atomic_load(&c->e->rs);
	if (r->argc == 1) {
		show_all(&rs->cfg, r->json, out);
	} else {
		const char *name = r->argv[1];
		size_t len = strlen(name);
		size_t i;

		if (len > 2 && name[0] == '<' && name[len - 1] == '>')
			name++, len -= 2;
		for (i = 0; i < rs->cfg.ntables; i++)
			if (strlen(rs->cfg.tables[i].name) == len &&
			    !memcmp(rs->cfg.tables[i].name, name, len))
				break;
		if (i < rs->cfg.ntables) {
			show_one(&rs->cfg.tables[i], r->json, out);
		} else {
			rw_buf_printf(out, "no table <%.*s>", (int)len, name);
			ret = -1;
		}
	}
	pthread_mutex_unlock(&c->e->reload_lock);
	return ret;
}

static int table_edit(struct rw_ctl *c, const struct rw_ctl_req *r, bool add, struct rw_buf *out)
{
	struct rw_edit_result res = {0};
	char err[512];

	if (r->argc != 3) {
		rw_buf_printf(out, "usage: table %s NAME [!]ADDR[/LEN]", add ? "add" : "remove");
		return -1;
	}
	if (rw_engine_table_edit(c->e, r->argv[1], r->argv[2], add, &res, err, sizeof(err))) {
		rw_buf_puts(out, err);
		return -1;
	}
	fprintf(stderr, "ringwall: control: table %s %s %s\n", r->argv[1], add ? "add" : "remove",
		r->argv[2]);
	if (r->json)
		rw_buf_printf(out, "{\"done\":\"%s\",\"entries\":%zu,\"visible_us\":%.1f,"
			      "\"total_us\":%.1f}\n", add ? "added" : "removed", res.nrules,
			      us(res.visible_ns), us(res.total_ns));
	else
		rw_buf_printf(out, "%s %s: %zu entries; visible in %.0f us, done in %.0f us "
			      LOST_NOTE "\n", r->argv[2], add ? "added" : "removed", res.nrules,
			      us(res.visible_ns), us(res.total_ns));
	return 0;
}

int rw_ctl_cmd_table(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out)
{
	const char *sub = r->argc ? r->argv[0] : "";

	if (!strcmp(sub, "show"))
		return table_show(c, r, out);
	if (!strcmp(sub, "add"))
		return table_edit(c, r, true, out);
	if (!strcmp(sub, "remove") || !strcmp(sub, "delete"))
		return table_edit(c, r, false, out);
	rw_buf_puts(out, "usage: table add|remove NAME [!]ADDR[/LEN] | table show [NAME]");
	return -1;
}
