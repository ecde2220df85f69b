// SPDX-License-Identifier: BSD-2-Clause
/* Loading and freeing a configuration; the timeout tables; diagnostics. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* How long a pipe or device may keep a read waiting, each time: a FIFO
 * nobody writes to would otherwise hang `check`, the start or a reload
 * (and with it the control socket). A program writing a configuration
 * into a pipe, as a shell's <(...) does, is well inside it. */
#define READ_WAIT_MS 5000

/* Wait until fd has something to read (or its writers are gone): 0, or
 * ETIMEDOUT after READ_WAIT_MS, or errno. */
static int wait_readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int n;

	do
		n = poll(&pfd, 1, READ_WAIT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	return n ? 0 : ETIMEDOUT;
}

/* The whole file in memory, NUL-terminated. Opened without blocking, so
 * that a FIFO without a writer does not hang the open; a pipe or device is
 * then waited for at most READ_WAIT_MS a read (regular files never wait). */
char *rw_read_file(const char *path, size_t *len, int *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char *buf = NULL;
	size_t cap = 0, used = 0;
	struct stat st;

	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	if (fstat(fd, &st)) {
		*err = errno;
		goto out_fail;
	}
	if (S_ISDIR(st.st_mode)) {
		*err = EISDIR;
		goto out_fail;
	}
	/* a FIFO opened this way reads as empty until a writer comes: wait
	 * for one rather than take an empty configuration */
	if (S_ISFIFO(st.st_mode) && (*err = wait_readable(fd)))
		goto out_fail;
	for (;;) {
		ssize_t got;

		if (unlikely(used > READ_FILE_MAX)) {
			*err = EFBIG;
			goto out_fail;
		}
		if (rw_grow(&buf, &cap, used + 65536 + 1, 1)) {
			*err = ENOMEM;
			goto out_fail;
		}
		got = read(fd, buf + used, cap - used - 1);
		if (got > 0) {
			used += (size_t)got;
		} else if (got == 0) {
			break;
		} else if (errno == EAGAIN) {
			if ((*err = wait_readable(fd)))
				goto out_fail;
		} else if (errno != EINTR) {
			*err = errno;
			goto out_fail;
		}
	}
	close(fd);
	buf[used] = '\0';
	*len = used;
	return buf;
out_fail:
	free(buf);
	close(fd);
	return NULL;
}

const char *rw_read_error(int err)
{
	if (err == ETIMEDOUT)
		return "nothing to read for 5 s (a pipe or device nobody writes to?)";
	return strerror(err);
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
		rw_diag_report(d, path, 1, 1, "cannot read the file: %s", rw_read_error(err));
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
