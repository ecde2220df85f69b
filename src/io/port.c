/* SPDX-License-Identifier: BSD-2-Clause */
/* The backend registry: a spec "scheme:argument" names its backend. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "port.h"

const char *rw_port_basedir;

static const struct rw_port_ops *const backends[] = {
	&rw_port_pcap_ops,
	&rw_port_afpacket_ops,
	&rw_port_gen_ops,
#ifdef RW_HAVE_XDP
	&rw_port_afxdp_ops,
#endif
};

static const struct rw_port_ops *find(const char *spec, const char **arg)
{
	const char *colon = strchr(spec, ':');

	if (!colon)
		return NULL;
	for (size_t i = 0; i < RW_ARRAY_SIZE(backends); i++) {
		size_t n = strlen(backends[i]->scheme);
		if ((size_t)(colon - spec) == n && !strncmp(spec, backends[i]->scheme, n)) {
			*arg = colon + 1;
			return backends[i];
		}
	}
	return NULL;
}

static void unknown(const char *spec, char *err, size_t errlen)
{
	size_t off;

	if (!strchr(spec, ':')) {
		snprintf(err, errlen, "port spec '%s' has no backend (write scheme:argument, e.g. pcap:in.pcap)", spec);
		return;
	}
	off = (size_t)snprintf(err, errlen, "unknown port backend in '%s' (backends:", spec);
	for (size_t i = 0; i < RW_ARRAY_SIZE(backends) && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, " %s", backends[i]->scheme);
	if (off < errlen)
		snprintf(err + off, errlen - off, ")");
}

int rw_port_check(const char *spec, char *err, size_t errlen)
{
	const char *arg;
	const struct rw_port_ops *ops = find(spec, &arg);

	if (!ops) {
		unknown(spec, err, errlen);
		return -EINVAL;
	}
	return ops->check(arg, err, errlen);
}

int rw_port_open(struct rw_port *p, const char *name, unsigned index, const char *spec,
		 unsigned nqueues, char *err, size_t errlen)
{
	const char *arg;
	const struct rw_port_ops *ops = find(spec, &arg);

	memset(p, 0, sizeof(*p));
	if (!ops) {
		unknown(spec, err, errlen);
		return -EINVAL;
	}
	p->ops = ops;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->index = index;
	p->nqueues = nqueues;
	return ops->open(p, arg, nqueues, err, errlen);
}

void rw_port_close(struct rw_port *p)
{
	if (p->ops && p->ops->close)
		p->ops->close(p);
	p->ops = NULL;
}
