/* SPDX-License-Identifier: BSD-2-Clause */
/* ClassBench reader: rules and traces into rw_crule and rw_ckey. */
#include "classbench.h"
#include "../pkt/pkt.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* An open input: a plain file, or xz's output. */
struct cb_in {
	FILE *f;
	pid_t pid; /* xz, or 0 */
	const char *path;
	unsigned line;
};

static void cb_err(char *err, size_t errlen, const struct cb_in *in, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (in->line)
		snprintf(err, errlen, "%s:%u: %s", in->path, in->line, msg);
	else
		snprintf(err, errlen, "%s: %s", in->path, msg);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* Decompress through "xz -dc -- path" (argv, no shell: any file name is
 * safe). */
static int open_xz(struct cb_in *in)
{
	char *argv[] = { "xz", "-dc", "--", (char *)in->path, NULL };
	posix_spawn_file_actions_t fa;
	int fd[2], rc;

	if (access(in->path, R_OK))
		return -errno;
	if (pipe(fd))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, fd[0]);
	posix_spawn_file_actions_addclose(&fa, fd[1]);
	rc = posix_spawnp(&in->pid, "xz", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	if (rc) {
		close(fd[0]);
		return -rc;
	}
	in->f = fdopen(fd[0], "r");
	if (!in->f) {
		rc = -errno;
		close(fd[0]);
		waitpid(in->pid, NULL, 0);
		return rc;
	}
	return 0;
}

static int cb_open(struct cb_in *in, const char *path, char *err, size_t errlen)
{
	int rc = 0;

	memset(in, 0, sizeof(*in));
	in->path = path;
	if (ends_with(path, ".xz"))
		rc = open_xz(in);
	else if (!(in->f = fopen(path, "r")))
		rc = -errno;
	if (rc)
		cb_err(err, errlen, in, "%s", strerror(-rc));
	return rc;
}

/* Close; a failed decompression is an error even if the lines parsed. */
static int cb_close(struct cb_in *in, char *err, size_t errlen)
{
	int st = 0;

	fclose(in->f);
	if (!in->pid)
		return 0;
	if (waitpid(in->pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		in->line = 0;
		cb_err(err, errlen, in, "xz failed to decompress it");
		return -EIO;
	}
	return 0;
}

/* A growable array of elements of size sz. */
static int grow(void **v, size_t *cap, size_t n, size_t sz)
{
	void *p;

	if (n < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 1024;
	p = realloc(*v, *cap * sz);
	if (unlikely(!p))
		return -ENOMEM;
	*v = p;
	return 0;
}

/* a as an IPv4-mapped address, the form keys and rules hold */
static void v4_key(uint32_t a, uint8_t out[16])
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	for (int i = 0; i < 4; i++)
		out[12 + i] = (uint8_t)(a >> (24 - 8 * i));
}

static void v4_range(uint32_t a, unsigned len, uint8_t lo[16], uint8_t hi[16])
{
	uint32_t m = len ? ~0u << (32 - len) : 0;
	uint32_t l = a & m, h = l | ~m;

	v4_key(l, lo);
	v4_key(h, hi);
}

static bool parse_rule(const char *s, uint32_t idx, struct rw_crule *r)
{
	unsigned a[4], b[4], sl, dl, spl, sph, dpl, dph, pr, prm;
	int used = 0;

	if (sscanf(s, " @%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x%n", &a[0], &a[1],
		   &a[2], &a[3], &sl, &b[0], &b[1], &b[2], &b[3], &dl, &spl, &sph, &dpl, &dph,
		   &pr, &prm, &used) != 16 || !used)
		return false;
	for (int i = 0; i < 4; i++)
		if (a[i] > 255 || b[i] > 255)
			return false;
	if (sl > 32 || dl > 32 || spl > sph || sph > 65535 || dpl > dph || dph > 65535 ||
	    pr > 255 || prm > 255)
		return false;
	memset(r, 0, sizeof(*r));
	r->rule = idx;
	r->in_ports = 0xffff;
	r->af = RW_AF_INET;
	r->proto = (uint8_t)(pr & prm);
	r->proto_mask = (uint8_t)prm;
	r->src_table = r->dst_table = -1;
	v4_range(a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3], sl, r->src_lo, r->src_hi);
	v4_range(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3], dl, r->dst_lo, r->dst_hi);
	r->sport_lo = (uint16_t)spl, r->sport_hi = (uint16_t)sph;
	r->dport_lo = (uint16_t)dpl, r->dport_hi = (uint16_t)dph;
	return true;
}

static bool blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* A line into the idx-th element at e; false if it is not one. */
typedef bool (*cb_line_fn)(const char *s, size_t idx, void *e);

/* What a reader takes from lines, and what it says when it cannot. */
struct cb_kind {
	size_t size;         /* of one element */
	cb_line_fn parse;
	const char *oom;     /* the array cannot grow */
	const char *bad;     /* a line does not parse */
};

/* Every non-blank line of path (or of its xz decompression) into a new
 * array of elements; 0, or -1 with FILE[:LINE]: message in err. */
static int cb_read(const char *path, const struct cb_kind *kind, void **out, size_t *n,
		   char *err, size_t errlen)
{
	void *v = NULL;
	size_t cap = 0, cnt = 0;
	struct cb_in in;
	char buf[512];

	if (cb_open(&in, path, err, errlen))
		return -1;
	while (fgets(buf, sizeof(buf), in.f)) {
		in.line++;
		if (blank(buf))
			continue;
		if (unlikely(grow(&v, &cap, cnt, kind->size))) {
			cb_err(err, errlen, &in, "%s", kind->oom);
			goto out_fail;
		}
		if (unlikely(!kind->parse(buf, cnt, (char *)v + cnt * kind->size))) {
			cb_err(err, errlen, &in, "%s", kind->bad);
			goto out_fail;
		}
		cnt++;
	}
	if (cb_close(&in, err, errlen))
		goto out_free;
	*out = v, *n = cnt;
	return 0;

out_fail:
	cb_close(&in, err, 0);
out_free:
	free(v);
	return -1;
}

static bool rule_line(const char *s, size_t idx, void *e)
{
	return parse_rule(s, (uint32_t)idx, e);
}

int rw_cb_read_rules(const char *path, struct rw_crule **out, size_t *n, char *err,
		     size_t errlen)
{
	static const struct cb_kind rules = {
		sizeof(struct rw_crule), rule_line, "out of memory", "not a ClassBench rule",
	};
	void *v;

	if (cb_read(path, &rules, &v, n, err, errlen))
		return -1;
	*out = v;
	return 0;
}

static bool parse_trace(const char *s, struct rw_ckey *k)
{
	unsigned long long v[5];
	int used = 0;

	if (sscanf(s, " %llu %llu %llu %llu %llu%n", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &used) != 5 || !used)
		return false;
	if (v[0] > 0xffffffffull || v[1] > 0xffffffffull || v[2] > 65535 || v[3] > 65535 ||
	    v[4] > 255)
		return false;
	memset(k, 0, sizeof(*k));
	k->af = RW_AF_INET;
	v4_key((uint32_t)v[0], k->src);
	v4_key((uint32_t)v[1], k->dst);
	k->sport = (uint16_t)v[2];
	k->dport = (uint16_t)v[3];
	k->proto = (uint8_t)v[4];
	return true;
}

static bool trace_line(const char *s, size_t idx, void *e)
{
	(void)idx;
	return parse_trace(s, e);
}

int rw_cb_read_trace(const char *path, struct rw_ckey **out, size_t *n, char *err,
		     size_t errlen)
{
	/* a trace says the same on a line it cannot hold as on one it cannot read */
	static const struct cb_kind trace = {
		sizeof(struct rw_ckey), trace_line, "not a ClassBench trace line",
		"not a ClassBench trace line",
	};
	void *v;

	if (cb_read(path, &trace, &v, n, err, errlen))
		return -1;
	*out = v;
	return 0;
}

int rw_cb_read_match(const char *path, int32_t **out, size_t *n, char *err, size_t errlen)
{
	int32_t *v = NULL;
	size_t cap = 0, cnt = 0;
	struct cb_in in;
	char buf[128], *end;
	long x;

	if (cb_open(&in, path, err, errlen))
		return -1;
	while (fgets(buf, sizeof(buf), in.f)) {
		in.line++;
		if (blank(buf))
			continue;
		errno = 0;
		x = strtol(buf, &end, 10);
		if (unlikely(errno || end == buf || !blank(end) || x < -1 || x > INT32_MAX ||
			     grow((void **)&v, &cap, cnt, sizeof(*v)))) {
			cb_err(err, errlen, &in, "not a rule index");
			cb_close(&in, err, 0);
			free(v);
			return -1;
		}
		v[cnt++] = (int32_t)x;
	}
	if (cb_close(&in, err, errlen)) {
		free(v);
		return -1;
	}
	*out = v, *n = cnt;
	return 0;
}
