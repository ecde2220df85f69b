/* SPDX-License-Identifier: BSD-2-Clause */
/* Inside the control plane: the server's state and the command table. */
#ifndef RW_CTL_INTERNAL_H
#define RW_CTL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/un.h>

#include "buf.h"
#include "ctl.h"

struct rw_ctl {
	struct rw_engine *e;
	int lfd;
	int wake[2];                 /* pipe: stop the serving thread's poll */
	pthread_t thread;
	bool started;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *config;
	const struct rw_define *defs;
	size_t ndefs;
	atomic_uint reloads, reload_failures;
	atomic_uint requests;
};

/* A parsed request: the command word, its arguments, and --json. */
#define RW_CTL_MAX_ARGS 16
struct rw_ctl_req {
	const char *cmd;
	const char *argv[RW_CTL_MAX_ARGS];
	unsigned argc;
	bool json;
	const char *line;     /* the whole request line, unsplit */
};

/* A command writes its reply body into out and returns 0, or -1 after
 * writing the error text (plain text, the server wraps it for JSON). */
typedef int (*rw_ctl_cmd_fn)(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out);

struct rw_ctl_cmd {
	const char *name;
	rw_ctl_cmd_fn fn;
	const char *help;
	bool text;            /* reads free text from line: argv may be cut short */
};

const struct rw_ctl_cmd *rw_ctl_find(const char *name);

/* commands.c, states.c, edit.c */
int rw_ctl_cmd_status(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out);
int rw_ctl_cmd_stats(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out);
int rw_ctl_cmd_rules(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out);
int rw_ctl_cmd_reload(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out);
int rw_ctl_cmd_flush(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out);
int rw_ctl_cmd_metrics(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out);
int rw_ctl_cmd_states(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out);
int rw_ctl_cmd_rule(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out);
int rw_ctl_cmd_table(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out);
int rw_ctl_cmd_help(struct rw_ctl *c, const struct rw_ctl_req *r, struct rw_buf *out);

#endif
