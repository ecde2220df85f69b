/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Dropping root once the ports and the control socket are open.
 *
 * After set-up nothing on the fast path needs a privilege: the packet and
 * XDP sockets are open and a file descriptor keeps its rights. A few rare
 * operations do (docs/control.md, "Privileges"), so the daemon keeps just
 * their capabilities in its permitted set, with an empty effective set, and
 * raises one only on the thread that needs it, for as long as it needs it
 * (capabilities are per thread).
 *
 * Call rw_privs_drop() before any thread starts: threads inherit their
 * creator's capabilities, and a drop on one thread does not reach others.
 */
#ifndef RW_CTL_PRIVS_H
#define RW_CTL_PRIVS_H

#include <stddef.h>

/* The user ringwall becomes when none is named (-u). */
#define RW_DEFAULT_USER "ringwall"

/*
 * Become user (a name or a numeric uid), keeping only the capabilities
 * above. No such user, or "root": stay root, and say so in msg. Returns 0,
 * or -errno when a step failed half-way (the caller must not go on).
 */
int rw_privs_drop(const char *user, char *msg, size_t msglen);

/* Make the kept file-access capability effective on this thread (reading a
 * configuration only root may read, on reload) / the shutdown ones (undo
 * interface settings, remove the socket file); and lower them again. */
void rw_privs_raise_read(void);
void rw_privs_raise_exit(void);
void rw_privs_lower(void);

/* "uid 65534, caps permitted net_admin,dac_override, effective none" */
void rw_privs_describe(char *buf, size_t len);

#endif
