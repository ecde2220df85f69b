/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcap: ports for offline replay. "pcap:IN[,out=OUT]" replays capture IN as
 * the frames arriving on the port and writes frames leaving through it to
 * capture OUT (Ethernet link type).
 *
 * The ports of one run are read in timestamp order across all of them: a
 * port hands out a frame only when no other port holds an earlier one, so the
 * worker loop (which polls the ports in turn, as it does live ports) sees the
 * two sides interleaved exactly as they were captured. Frames of other link
 * types (raw IPv4/IPv6, Linux cooked, BSD loopback) get an Ethernet header so
 * that the engine sees one format (rw_linktype_to_eth, src/pkt/linktype.c).
 *
 * Only one queue per port: a merge across threads would need a lock per
 * frame, and replay is for testing, where one worker is what we want.
 */
#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "../pkt/pkt.h"

/* Frames a port has handed out and not yet had back. Bursts are at most
 * RW_BURST and the worker returns every frame before its next rx, so two
 * bursts' worth is plenty. */
#define PCAP_SLOTS (2 * RW_BURST)

/* Largest frame we accept from a capture: 64 KiB of IP plus link headers.
 * A record claiming more is clipped (the parser then sees the IP length
 * disagree with the frame, or not). */
#define PCAP_MAX_FRAME (65535 + 64)

/* All open pcap ports, for the timestamp merge. */
#define PCAP_MAX_OPEN RW_MAX_PORTS

struct pcap_slot {
	uint8_t *buf;
	uint32_t cap;
};

struct pcap_port {
	pcap_t *in;
	pcap_dumper_t *out;
	pcap_t *out_handle;   /* dead handle the dumper writes through */
	int linktype;
	bool eof;
	bool have_next;       /* next frame read and waiting in next_slot */
	int next_slot;
	uint32_t next_len;
	uint64_t next_ts;
	uint64_t records, bad_records;
	struct pcap_slot slots[PCAP_SLOTS];
	int free_slots[PCAP_SLOTS];
	int nfree;
	char path[PATH_MAX];
};

static struct pcap_port *open_ports[PCAP_MAX_OPEN];

static int parse_arg(const char *arg, char *in, size_t inlen, char *out, size_t outlen,
		     char *err, size_t errlen)
{
	const char *comma = strchr(arg, ',');
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);

	out[0] = 0;
	if (n == 0) {
		snprintf(err, errlen, "pcap: needs an input capture (pcap:IN[,out=OUT])");
		return -EINVAL;
	}
	if (n >= inlen) {
		snprintf(err, errlen, "pcap: input path too long");
		return -EINVAL;
	}
	memcpy(in, arg, n);
	in[n] = 0;
	while (comma) {
		const char *opt = comma + 1;
		comma = strchr(opt, ',');
		n = comma ? (size_t)(comma - opt) : strlen(opt);
		if (n > 4 && !strncmp(opt, "out=", 4)) {
			if (n - 4 >= outlen) {
				snprintf(err, errlen, "pcap: output path too long");
				return -EINVAL;
			}
			memcpy(out, opt + 4, n - 4);
			out[n - 4] = 0;
		} else {
			snprintf(err, errlen, "pcap: unknown option '%.*s' (known: out=PATH)", (int)n, opt);
			return -EINVAL;
		}
	}
	return 0;
}

static int pcap_check(const char *arg, char *err, size_t errlen)
{
	char in[PATH_MAX], out[PATH_MAX];

	return parse_arg(arg, in, sizeof(in), out, sizeof(out), err, errlen);
}

static void resolve(const char *path, char *buf, size_t len)
{
	if (path[0] == '/' || !rw_port_basedir || !rw_port_basedir[0])
		snprintf(buf, len, "%s", path);
	else
		snprintf(buf, len, "%s/%s", rw_port_basedir, path);
}

static bool linktype_supported(int lt)
{
	uint8_t b[64] = {0};

	/* the converter says which link types it knows */
	return rw_linktype_to_eth(lt, b, 0, b, sizeof(b)) != -EPROTONOSUPPORT;
}

static void pcap_close_port(struct rw_port *p)
{
	struct pcap_port *pp = p->priv;

	if (!pp)
		return;
	for (int i = 0; i < PCAP_MAX_OPEN; i++)
		if (open_ports[i] == pp)
			open_ports[i] = NULL;
	if (pp->in)
		pcap_close(pp->in);
	if (pp->out)
		pcap_dump_close(pp->out);
	if (pp->out_handle)
		pcap_close(pp->out_handle);
	for (int i = 0; i < PCAP_SLOTS; i++)
		free(pp->slots[i].buf);
	free(pp);
	p->priv = NULL;
}

static int pcap_open_port(struct rw_port *p, const char *arg, unsigned nqueues, char *err, size_t errlen)
{
	char in[PATH_MAX], out[PATH_MAX], path[PATH_MAX], pe[PCAP_ERRBUF_SIZE];
	struct pcap_port *pp;
	int ret, slot = -1;

	ret = parse_arg(arg, in, sizeof(in), out, sizeof(out), err, errlen);
	if (ret)
		return ret;
	if (nqueues != 1) {
		snprintf(err, errlen, "pcap: replay runs on one worker (set workers 1)");
		return -EINVAL;
	}
	for (int i = 0; i < PCAP_MAX_OPEN; i++)
		if (!open_ports[i]) {
			slot = i;
			break;
		}
	if (slot < 0) {
		snprintf(err, errlen, "pcap: too many pcap ports");
		return -EMFILE;
	}
	pp = calloc(1, sizeof(*pp));
	if (!pp) {
		snprintf(err, errlen, "pcap: out of memory");
		return -ENOMEM;
	}
	p->priv = pp;
	p->clocked = true;
	resolve(in, pp->path, sizeof(pp->path));
	pp->in = pcap_open_offline_with_tstamp_precision(pp->path, PCAP_TSTAMP_PRECISION_NANO, pe);
	if (!pp->in) {
		snprintf(err, errlen, "pcap: %s: %s", pp->path, pe);
		ret = -ENOENT;
		goto out_close;
	}
	pp->linktype = pcap_datalink(pp->in);
	if (!linktype_supported(pp->linktype)) {
		snprintf(err, errlen, "pcap: %s: link type %s not supported", pp->path,
			 pcap_datalink_val_to_name(pp->linktype) ? pcap_datalink_val_to_name(pp->linktype) : "?");
		ret = -EPROTONOSUPPORT;
		goto out_close;
	}
	if (out[0]) {
		resolve(out, path, sizeof(path));
		pp->out_handle = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144,
								      PCAP_TSTAMP_PRECISION_NANO);
		if (!pp->out_handle) {
			snprintf(err, errlen, "pcap: out of memory");
			ret = -ENOMEM;
			goto out_close;
		}
		pp->out = pcap_dump_open(pp->out_handle, path);
		if (!pp->out) {
			snprintf(err, errlen, "pcap: %s: %s", path, pcap_geterr(pp->out_handle));
			ret = -EIO;
			goto out_close;
		}
	}
	for (int i = 0; i < PCAP_SLOTS; i++)
		pp->free_slots[i] = i;
	pp->nfree = PCAP_SLOTS;
	open_ports[slot] = pp;
	return 0;

out_close:
	pcap_close_port(p);
	return ret;
}

static int slot_reserve(struct pcap_slot *s, uint32_t len)
{
	uint8_t *b;

	if (s->cap >= len)
		return 0;
	b = realloc(s->buf, len);
	if (!b)
		return -ENOMEM;
	s->buf = b;
	s->cap = len;
	return 0;
}

/* Read the next record into a free slot. */
static void read_next(struct pcap_port *pp)
{
	struct pcap_pkthdr *h;
	const uint8_t *d;
	struct pcap_slot *s;
	uint32_t len;
	int ret;

	while (!pp->have_next && !pp->eof) {
		int r = pcap_next_ex(pp->in, &h, &d);

		if (r != 1) {
			/* -2 end of file; -1 a damaged file: stop reading it */
			pp->eof = true;
			if (r == -1)
				pp->bad_records++;
			return;
		}
		pp->records++;
		if (pp->nfree == 0) {
			pp->eof = true; /* cannot happen if the worker keeps the contract */
			return;
		}
		len = RW_MIN(h->caplen, (uint32_t)PCAP_MAX_FRAME);
		pp->next_slot = pp->free_slots[pp->nfree - 1];
		s = &pp->slots[pp->next_slot];
		if (slot_reserve(s, len + 64))
			goto bad;
		ret = rw_linktype_to_eth(pp->linktype, d, len, s->buf, s->cap);
		if (ret < 0)
			goto bad;
		len = (uint32_t)ret;
		pp->nfree--;
		pp->next_len = len;
		pp->next_ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		pp->have_next = true;
		return;
bad:
		pp->bad_records++;
	}
}

/* True when pp's waiting frame is the earliest of all ports (ties go to
 * the port opened first, so equal timestamps keep configuration order). */
static bool is_earliest(struct pcap_port *pp)
{
	int self = 0;

	for (int i = 0; i < PCAP_MAX_OPEN; i++)
		if (open_ports[i] == pp)
			self = i;
	for (int i = 0; i < PCAP_MAX_OPEN; i++) {
		struct pcap_port *o = open_ports[i];

		if (!o || o == pp)
			continue;
		read_next(o);
		if (!o->have_next)
			continue;
		if (o->next_ts < pp->next_ts || (o->next_ts == pp->next_ts && i < self))
			return false;
	}
	return true;
}

static unsigned pcap_rx(struct rw_port *p, unsigned q, struct rw_frame *f, unsigned max)
{
	struct pcap_port *pp = p->priv;
	unsigned n = 0;

	(void)q;
	while (n < max) {
		read_next(pp);
		if (!pp->have_next || !is_earliest(pp))
			break;
		f[n].data = pp->slots[pp->next_slot].buf;
		f[n].len = pp->next_len;
		f[n].ts_ns = pp->next_ts;
		f[n].handle = (uint64_t)pp->next_slot;
		pp->have_next = false;
		n++;
	}
	return n;
}

/* Frames come back to the port that received them: find it by address. */
static void give_back(struct rw_frame *f)
{
	for (int i = 0; i < PCAP_MAX_OPEN; i++) {
		struct pcap_port *o = open_ports[i];

		if (o && f->handle < PCAP_SLOTS && o->slots[f->handle].buf == f->data) {
			o->free_slots[o->nfree++] = (int)f->handle;
			return;
		}
	}
}

static unsigned pcap_tx(struct rw_port *p, unsigned q, struct rw_frame *f, unsigned n)
{
	struct pcap_port *pp = p->priv;

	(void)q;
	for (unsigned i = 0; i < n; i++) {
		if (pp->out) {
			struct pcap_pkthdr h = {
				.ts.tv_sec = (time_t)(f[i].ts_ns / 1000000000ull),
				.ts.tv_usec = (suseconds_t)(f[i].ts_ns % 1000000000ull),
				.caplen = f[i].len,
				.len = f[i].len,
			};
			pcap_dump((u_char *)pp->out, &h, f[i].data);
		}
		give_back(&f[i]);
	}
	return n;
}

static void pcap_release(struct rw_port *p, unsigned q, struct rw_frame *f, unsigned n)
{
	(void)p;
	(void)q;
	for (unsigned i = 0; i < n; i++)
		give_back(&f[i]);
}

static bool pcap_eof(struct rw_port *p)
{
	struct pcap_port *pp = p->priv;

	read_next(pp);
	return !pp->have_next && pp->eof;
}

const struct rw_port_ops rw_port_pcap_ops = {
	.scheme = "pcap",
	.check = pcap_check,
	.open = pcap_open_port,
	.rx_burst = pcap_rx,
	.tx_burst = pcap_tx,
	.release = pcap_release,
	.eof = pcap_eof,
	.close = pcap_close_port,
};
