/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ClassBench rule sets and header traces (format: the README beside the
 * data in shared/data/classbench), read into classifier tuples and keys.
 * Files ending in ".xz" are decompressed on the fly through xz(1).
 */
#ifndef RW_CLASSBENCH_H
#define RW_CLASSBENCH_H

#include "classify.h"

/* Rules, one per line, line order = priority: rule i gets index i. Each
 * becomes one IPv4 rw_crule (prefix -> range, proto/mask, any ingress
 * port); the TCP flags column is ignored, as the reference answers do.
 * Returns 0, or -1 with a message (file:line) in err. *out is malloc'd. */
int rw_cb_read_rules(const char *path, struct rw_crule **out, size_t *n, char *err,
		     size_t errlen);

/* Trace headers: "src dst sport dport proto ..." (decimal), into keys with
 * in_port 0 and no TCP flags. */
int rw_cb_read_trace(const char *path, struct rw_ckey **out, size_t *n, char *err,
		     size_t errlen);

/* One integer per line (a *_trace.match file). */
int rw_cb_read_match(const char *path, int32_t **out, size_t *n, char *err, size_t errlen);

#endif
