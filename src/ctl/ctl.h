/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control plane: a thread serving a Unix stream socket, one request
 * line per connection, and the reply. The protocol is in docs/control.md;
 * tools/ringwallctl.c is its client.
 *
 * Set-up is split so that the daemon can bind the socket as root, drop its
 * privileges, and only then start threads (capabilities are per thread, and
 * threads inherit the creator's):
 *
 *   rw_ctl_open()   bind and listen (main thread, still privileged)
 *   rw_ctl_start()  start the serving thread
 *   rw_ctl_stop()   stop and join it
 *   rw_ctl_close()  close the socket and remove its file
 */
#ifndef RW_CTL_H
#define RW_CTL_H

#include <sys/types.h>

#include "../rules/config.h"
#include "../worker/engine.h"

#define RW_CTL_DEFAULT_SOCKET "/run/ringwall.sock"

struct rw_ctl;

struct rw_ctl_opts {
	const char *path;                /* socket path */
	mode_t mode;                     /* socket file mode, 0600 unless told */
	const char *config;              /* file that reload re-reads */
	const struct rw_define *defs;    /* -D definitions, kept for reload */
	size_t ndefs;
};

int rw_ctl_open(struct rw_ctl **out, struct rw_engine *e, const struct rw_ctl_opts *o, char *err,
		size_t errlen);
int rw_ctl_start(struct rw_ctl *c);
void rw_ctl_stop(struct rw_ctl *c);
void rw_ctl_close(struct rw_ctl *c);

/*
 * Re-read the configuration and publish its rules (SIGHUP and the reload
 * command). 0, or -1 with every FILE:LINE:COL error (or the build error) in
 * msg; the running rules are then unchanged.
 */
int rw_ctl_reload(struct rw_ctl *c, char *msg, size_t msglen);

/* Answer one request line into a freshly allocated reply (first line "ok"
 * or "error"); exposed for tests. Returns 0 on "ok". */
struct rw_buf;
int rw_ctl_handle(struct rw_ctl *c, const char *line, struct rw_buf *reply);

#endif
