// SPDX-License-Identifier: BSD-2-Clause
/* Loading and freeing a configuration; the timeout tables; diagnostics. */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const rw_timeout_names[RW_TO_MAX] = {
#define RW_X_TO(id, name, def) [RW_TO_##id] = name,
	RW_TIMEOUTS(RW_X_TO)
#undef RW_X_TO
};

const uint32_t rw_timeout_defaults[RW_TO_MAX] = {
#define RW_X_TO(id, name, def) [RW_TO_##id] = def,
	RW_TIMEOUTS(RW_X_TO)
#undef RW_X_TO
};

void rw_diag_report(struct rw_diag *d, const char *file, unsigned line, unsigned col,
		    const char *fmt, ...)
{
	char msg[512];
	int n;
	va_list ap;

	n = snprintf(msg, sizeof(msg), "%s:%u:%u: ", file, line, col);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (d->out)
		fprintf(d->out, "%s\n", msg);
	if (!d->errors)
		snprintf(d->first, sizeof(d->first), "%s", msg);
	d->errors++;
}

int rw_config_port(const struct rw_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->nports; i++)
		if (!strcmp(cfg->ports[i].name, name))
			return (int)i;
	return -1;
}

void rw_rule_free(struct rw_rule *r)
{
	free(r->protos);
	free(r->src.ranges);
	free(r->dst.ranges);
	free(r->sport.ranges);
	free(r->dport.ranges);
	free(r->icmps);
	free(r->text);
}

void rw_config_free(struct rw_config *cfg)
{
	for (unsigned i = 0; i < cfg->nports; i++)
		free(cfg->ports[i].spec);
	for (size_t i = 0; i < cfg->ntables; i++) {
		free(cfg->tables[i].entries);
		free(cfg->tables[i].file);
	}
	for (size_t i = 0; i < cfg->nrules; i++)
		rw_rule_free(&cfg->rules[i]);
	free(cfg->tables);
	free(cfg->rules);
	free(cfg->crules);
	free(cfg->path);
	free(cfg->log_file);
	free(cfg->control_socket);
	memset(cfg, 0, sizeof(*cfg));
}

/* The largest configuration or table file read: ten times a full Internet
 * routing table written one prefix a line. Without a bound, a path naming
 * something endless (/dev/zero, /dev/urandom) would eat memory until the
 * daemon is killed instead of getting an error. */
#define READ_FILE_MAX (256u << 20)

/* The whole file in memory, NUL-terminated. */
char *rw_read_file(const char *path, size_t *len, int *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, used = 0, got;

	if (!f) {
		*err = errno;
		return NULL;
	}
	do {
		if (unlikely(used > READ_FILE_MAX)) {
			*err = EFBIG;
			goto out_fail;
		}
		if (rw_grow(&buf, &cap, used + 65536 + 1, 1)) {
			*err = ENOMEM;
			goto out_fail;
		}
		got = fread(buf + used, 1, cap - used - 1, f);
		used += got;
	} while (got);
	if (ferror(f)) {
		*err = EIO;
		goto out_fail;
	}
	fclose(f);
	buf[used] = '\0';
	*len = used;
	return buf;
out_fail:
	free(buf);
	fclose(f);
	return NULL;
}

int rw_config_load(const char *path, const struct rw_define *defs, size_t ndefs,
		   struct rw_config *cfg, struct rw_diag *d)
{
	struct rw_diag quiet = {0};
	size_t len;
	char *text;
	int err = 0, ret;

	if (!d)
		d = &quiet;
	memset(cfg, 0, sizeof(*cfg));
	text = rw_read_file(path, &len, &err);
	if (!text) {
		rw_diag_report(d, path, 1, 1, "cannot read the file: %s", strerror(err));
		return -1;
	}
	if (memchr(text, '\0', len)) {
		rw_diag_report(d, path, 1, 1, "not a text file (it holds NUL bytes)");
		free(text);
		return -1;
	}
	ret = rw_config_parse(path, text, defs, ndefs, cfg, d);
	free(text);
	return ret;
}

int rw_config_expand(struct rw_config *cfg)
{
	struct rw_diag quiet = {0};

	return rw_expand(cfg, &quiet, cfg->path ? cfg->path : "config");
}
