/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control socket: bind, serve, stop. One request per connection, served
 * one at a time on one thread: control traffic is rare and this keeps every
 * command free of locking against the others. A slow or silent client can
 * hold the thread only for the socket timeouts below.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* A request is one short line; anything longer is not ours. */
#define REQ_MAX 4096
/* How long a client may take to send its line / to read the reply. */
#define RECV_TIMEOUT_MS 2000
#define SEND_TIMEOUT_MS 5000

/* A socket file already at path: remove it if nobody answers on it (left
 * by a ringwall that died), refuse if a server is alive or it is not a
 * socket. */
static int clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket %s: exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (!ret) {
		snprintf(err, errlen, "control socket %s: another ringwall is serving it", path);
		return -EADDRINUSE;
	}
	return unlink(path) ? -errno : 0;
}

static int bind_socket(struct rw_ctl *c, mode_t mode, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int ret;

	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->lfd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	/* The umask makes the file private from the moment it exists; chmod
	 * then sets the mode asked for (a socket ignores fchmod). */
	old = umask(0177);
	ret = bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret) {
		ret = -errno;
		snprintf(err, errlen, "control socket %s: bind: %s", c->path, strerror(-ret));
		return ret;
	}
	if (chmod(c->path, mode) || listen(c->lfd, 16)) {
		ret = -errno;
		snprintf(err, errlen, "control socket %s: %s", c->path, strerror(-ret));
		unlink(c->path);
		return ret;
	}
	return 0;
}

int rw_ctl_open(struct rw_ctl **out, struct rw_engine *e, const struct rw_ctl_opts *o, char *err,
		size_t errlen)
{
	struct rw_ctl *c;
	int ret;

	if (strlen(o->path) >= sizeof(c->path)) {
		snprintf(err, errlen, "control socket path too long (at most %zu bytes): %s",
			 sizeof(c->path) - 1, o->path);
		return -ENAMETOOLONG;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->e = e;
	c->lfd = c->wake[0] = c->wake[1] = -1;
	c->config = o->config;
	c->defs = o->defs;
	c->ndefs = o->ndefs;
	snprintf(c->path, sizeof(c->path), "%s", o->path);
	ret = clear_stale(c->path, err, errlen);
	if (ret) {
		if (!*err)
			snprintf(err, errlen, "control socket %s: %s", c->path, strerror(-ret));
		goto out_free;
	}
	ret = bind_socket(c, o->mode ? o->mode : 0600, err, errlen);
	if (ret)
		goto out_close;
	if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK)) {
		ret = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(-ret));
		goto out_unlink;
	}
	*out = c;
	return 0;

out_unlink:
	unlink(c->path);
out_close:
	if (c->lfd >= 0)
		close(c->lfd);
out_free:
	free(c);
	return ret;
}

/* Read one line (without its newline) into req; false on timeout, EOF
 * before a newline with nothing read, or an over-long line. */
static bool read_request(int fd, char *req, size_t max)
{
	size_t len = 0;

	while (len < max - 1) {
		ssize_t n = read(fd, req + len, max - 1 - len);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			req[len] = 0;
			return len > 0; /* a client may close instead of sending '\n' */
		}
		len += (size_t)n;
		req[len] = 0;
		nl = memchr(req, '\n', len);
		if (nl) {
			*nl = 0;
			return true;
		}
	}
	return false;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		/* MSG_NOSIGNAL: a client gone away must not SIGPIPE the daemon */
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* client gone or too slow: its loss */
		p += n;
		len -= (size_t)n;
	}
}

static void set_timeout(int fd, int opt, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static void serve_one(struct rw_ctl *c, int fd)
{
	char req[REQ_MAX];
	struct rw_buf reply = {0};

	set_timeout(fd, SO_RCVTIMEO, RECV_TIMEOUT_MS);
	set_timeout(fd, SO_SNDTIMEO, SEND_TIMEOUT_MS);
	if (read_request(fd, req, sizeof(req)))
		rw_ctl_handle(c, req, &reply);
	else
		rw_buf_puts(&reply, "error\nrequest is not one line of at most 4095 bytes\n");
	if (!reply.broken)
		write_all(fd, reply.p, reply.len);
	else
		write_all(fd, "error\nreply too large or out of memory\n", 39);
	rw_buf_free(&reply);
}

static void *serve(void *arg)
{
	struct rw_ctl *c = arg;
	struct pollfd pfd[2] = {{.fd = c->lfd, .events = POLLIN}, {.fd = c->wake[0], .events = POLLIN}};

	for (;;) {
		int fd;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents) {
			char x;

			/* consume the wake-up, so that a later start serves again */
			if (read(c->wake[0], &x, 1) < 0) {
				/* nothing to read: someone else consumed it; stop anyway */
			}
			break;
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		/* accepted sockets do not inherit O_NONBLOCK on Linux */
		serve_one(c, fd);
		close(fd);
		atomic_fetch_add(&c->requests, 1);
	}
	return NULL;
}

int rw_ctl_start(struct rw_ctl *c)
{
	int ret = pthread_create(&c->thread, NULL, serve, c);

	if (ret)
		return -ret;
	pthread_setname_np(c->thread, "ringwall-ctl");
	c->started = true;
	return 0;
}

void rw_ctl_stop(struct rw_ctl *c)
{
	if (!c || !c->started)
		return;
	if (write(c->wake[1], "x", 1) < 0) {
		/* the pipe cannot be full: one byte, written once */
	}
	pthread_join(c->thread, NULL);
	c->started = false;
}

void rw_ctl_close(struct rw_ctl *c)
{
	if (!c)
		return;
	rw_ctl_stop(c);
	close(c->lfd);
	close(c->wake[0]);
	close(c->wake[1]);
	if (unlink(c->path) && errno != ENOENT)
		fprintf(stderr, "ringwall: control socket %s not removed: %s\n", c->path,
			strerror(errno));
	free(c);
}

/* Split line into words in place; "--json" anywhere asks for JSON. */
static int parse_request(char *line, struct rw_ctl_req *r)
{
	char *save = NULL;
	bool more = false;

	memset(r, 0, sizeof(*r));
	for (char *w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (!strcmp(w, "--json") || !strcmp(w, "-j"))
			r->json = true;
		else if (!r->cmd)
			r->cmd = w;
		else if (r->argc < RW_CTL_MAX_ARGS)
			r->argv[r->argc++] = w;
		else
			more = true; /* go on: --json may come last */
	}
	if (!r->cmd)
		return -EINVAL;
	return more ? -E2BIG : 0;
}

int rw_ctl_handle(struct rw_ctl *c, const char *line, struct rw_buf *reply)
{
	char copy[REQ_MAX];
	struct rw_ctl_req r;
	struct rw_buf body = {0};
	const struct rw_ctl_cmd *cmd = NULL;
	int ret;

	snprintf(copy, sizeof(copy), "%s", line);
	ret = parse_request(copy, &r);
	r.line = line;
	/* a command that reads free text (a rule) may have more words */
	if (ret == -E2BIG && (cmd = rw_ctl_find(r.cmd)) && cmd->text)
		ret = 0;
	cmd = NULL;
	if (ret)
		rw_buf_puts(&body, ret == -E2BIG ? "too many arguments" : "empty request");
	else if (!(cmd = rw_ctl_find(r.cmd)))
		rw_buf_printf(&body, "unknown command '%s' (try 'help')", r.cmd);
	else
		ret = cmd->fn(c, &r, &body);
	if (cmd && !ret) {
		rw_buf_puts(reply, "ok\n");
		if (body.len)
			rw_buf_puts(reply, body.p);
	} else {
		rw_buf_puts(reply, "error\n");
		if (r.json) {
			rw_buf_puts(reply, "{\"error\":");
			rw_buf_json_str(reply, body.len ? body.p : "failed");
			rw_buf_puts(reply, "}\n");
		} else {
			rw_buf_puts(reply, body.len ? body.p : "failed");
			if (!body.len || body.p[body.len - 1] != '\n')
				rw_buf_puts(reply, "\n");
		}
		ret = -1;
	}
	if (body.broken)
		reply->broken = true;
	rw_buf_free(&body);
	return ret;
}
