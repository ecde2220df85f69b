/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Privilege drop with prctl/capset directly (no libcap): the kernel ABI is
 * two 32-bit words per set, version 3.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common.h"
#include "privs.h"

/* What stays permitted after the drop, and why (docs/control.md):
 *   NET_ADMIN     at exit, afpacket gives GRO back to the interface
 *                 (ETHTOOL_SGRO) as it found it;
 *   DAC_OVERRIDE  at exit, remove the socket file from a directory only
 *                 root may write (/run); on reload, read a configuration
 *                 (and its table files) only root may read.
 * Nothing is effective while running. */
static const struct {
	int cap;
	const char *name;
} kept[] = {
	{CAP_NET_ADMIN, "net_admin"},
	{CAP_DAC_OVERRIDE, "dac_override"},
};

static bool dropped;

static int cap_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};

	return syscall(SYS_capget, &h, d) ? -errno : 0;
}

static int cap_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};

	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static void cap_add(uint32_t set[2], int cap)
{
	set[cap / 32] |= 1u << (cap % 32);
}

static bool cap_has(uint32_t lo, uint32_t hi, int cap)
{
	return (cap < 32 ? lo : hi) & (1u << (cap % 32));
}

/* Remove every capability but the kept ones from the bounding set, so not
 * even an exec of a setuid-root file could bring them back. */
static void drop_bounding(void)
{
	for (int cap = 0; cap <= 63; cap++) {
		bool keep = false;

		for (size_t k = 0; k < RW_ARRAY_SIZE(kept); k++)
			keep |= kept[k].cap == cap;
		if (!keep && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	}
}

static int find_user(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(user);
	char *end;
	unsigned long n;

	if (pw) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		return 0;
	}
	n = strtoul(user, &end, 10);
	if (!*user || *end || n > 0x7fffffff)
		return -ENOENT;
	/* a bare number: that uid, its own number as group unless it has an entry */
	pw = getpwuid((uid_t)n);
	*uid = (uid_t)n;
	*gid = pw ? pw->pw_gid : (gid_t)n;
	return 0;
}

int rw_privs_drop(const char *user, char *msg, size_t msglen)
{
	struct __user_cap_data_struct d[2] = {{0}};
	uint32_t perm[2] = {0, 0};
	uid_t uid;
	gid_t gid;
	int ret;

	if (geteuid() != 0) {
		snprintf(msg, msglen, "not started as root: running as uid %u", (unsigned)geteuid());
		return 0;
	}
	if (!user)
		user = RW_DEFAULT_USER;
	if (find_user(user, &uid, &gid)) {
		snprintf(msg, msglen, "user '%s' does not exist: keeping root (create it or pass -u USER)",
			 user);
		return 0;
	}
	if (uid == 0) {
		snprintf(msg, msglen, "running as root (-u %s)", user);
		return 0;
	}
	drop_bounding();
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(1, &gid) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid)) {
		ret = -errno;
		snprintf(msg, msglen, "cannot become %s: %s", user, strerror(-ret));
		return ret;
	}
	for (size_t k = 0; k < RW_ARRAY_SIZE(kept); k++)
		cap_add(perm, kept[k].cap);
	d[0].permitted = perm[0];
	d[1].permitted = perm[1];
	ret = cap_set(d);
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (ret) {
		snprintf(msg, msglen, "capset: %s", strerror(-ret));
		return ret;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	dropped = true;
	snprintf(msg, msglen, "running as %s (uid %u, gid %u); capabilities permitted: net_admin, "
		 "dac_override, effective: none", user, (unsigned)uid, (unsigned)gid);
	return 0;
}

static void set_effective(const int *caps, size_t n)
{
	struct __user_cap_data_struct d[2];
	uint32_t eff[2] = {0, 0};

	if (!dropped || cap_get(d))
		return;
	for (size_t i = 0; i < n; i++)
		cap_add(eff, caps[i]);
	d[0].effective = eff[0] & d[0].permitted;
	d[1].effective = eff[1] & d[1].permitted;
	cap_set(d);
}

void rw_privs_raise_read(void)
{
	static const int caps[] = {CAP_DAC_OVERRIDE};

	set_effective(caps, RW_ARRAY_SIZE(caps));
}

void rw_privs_raise_exit(void)
{
	static const int caps[] = {CAP_NET_ADMIN, CAP_DAC_OVERRIDE};

	set_effective(caps, RW_ARRAY_SIZE(caps));
}

void rw_privs_lower(void)
{
	set_effective(NULL, 0);
}

static void list_caps(char *buf, size_t len, uint32_t lo, uint32_t hi)
{
	size_t off = strlen(buf);
	bool any = false;

	if (lo == ~0u) {
		snprintf(buf + off, len - off, "all");
		return;
	}
	for (size_t k = 0; k < RW_ARRAY_SIZE(kept); k++) {
		if (!cap_has(lo, hi, kept[k].cap))
			continue;
		off = strlen(buf);
		snprintf(buf + off, len - off, "%s%s", any ? "," : "", kept[k].name);
		any = true;
	}
	off = strlen(buf);
	if (!any)
		snprintf(buf + off, len - off, "none");
}

void rw_privs_describe(char *buf, size_t len)
{
	struct __user_cap_data_struct d[2];
	size_t off;

	snprintf(buf, len, "uid %u, caps permitted ", (unsigned)geteuid());
	if (cap_get(d)) {
		off = strlen(buf);
		snprintf(buf + off, len - off, "unknown");
		return;
	}
	list_caps(buf, len, d[0].permitted, d[1].permitted);
	off = strlen(buf);
	snprintf(buf + off, len - off, ", effective ");
	list_caps(buf, len, d[0].effective, d[1].effective);
}
