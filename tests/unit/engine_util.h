/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A real engine on two pcap ports, for the tests that feed it frames
 * through capture files (test_ruleedit.c, test_egress_order.c,
 * test_egress_fast.c, test_parse_loop.c; include once, after t.h): port a
 * reads dir/a.pcap and writes dir/a.out, port b the same with b. Any
 * failure to set up aborts the test binary: it is the test's scaffolding,
 * not what it checks.
 */
#ifndef RW_TEST_ENGINE_UTIL_H
#define RW_TEST_ENGINE_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "rules/config.h"
#include "worker/engine.h"

/* A fresh directory from tmpl ("/tmp/rwX.XXXXXX") into dir[len]. */
static inline void engine_dir(char *dir, size_t len, const char *tmpl)
{
	snprintf(dir, len, "%s", tmpl);
	if (!mkdtemp(dir))
		abort();
}

/* The engine of the two ports in dir and the configuration text rules
 * (the capture files must exist: the ports open them). */
static inline struct rw_engine *pcap_engine(const char *dir, const char *rules)
{
	char text[4096], name[64], err[512] = "";
	struct rw_engine *e = calloc(1, sizeof(*e));
	struct rw_diag d = {.out = stderr};
	struct rw_config cfg;

	if (!e)
		abort();
	snprintf(text, sizeof(text),
		 "port a \"pcap:%s/a.pcap,out=%s/a.out\"\nport b \"pcap:%s/b.pcap,out=%s/b.out\"\n%s",
		 dir, dir, dir, dir, rules);
	snprintf(name, sizeof(name), "%s/fw.conf", dir);
	if (rw_config_parse(name, text, NULL, 0, &cfg, &d))
		abort();
	if (rw_engine_init(e, &cfg, err, sizeof(err))) {
		printf("# engine: %s\n", err);
		abort();
	}
	return e;
}

/* Engine down, its directory removed. */
static inline void pcap_engine_end(struct rw_engine *e, const char *dir)
{
	char cmd[64];

	rw_engine_fini(e);
	free(e);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# could not remove %s\n", dir);
}

#endif
