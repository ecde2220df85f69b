/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The common part of every helper: the table of helpers, the side table of
 * control connections with their line buffers, reassembly of a TCP byte
 * stream into lines, and the checks that turn an announcement into an
 * expectation (the announced host must be the peer that announced it: no
 * FTP bounce).
 */
#include <stdlib.h>
#include <string.h>

#include "alg.h"

const struct rw_alg_helper rw_alg_helpers[RW_ALG_MAX] = {
	[RW_ALG_FTP] = {
		.name = "ftp",
		.proto = RW_PROTO_TCP,
		.default_port = 21,
		.parse_line = rw_ftp_parse_line,
	},
};

/* rw_conn.pad of a control connection: helper id in the top 4 bits, side
 * table index + 1 in the low 12 (0 = no entry yet). */
#define PAD_IDX_MASK 0x0fffu
#define PAD_HELPER_SHIFT 12
static_assert(RW_ALG_CTL_MAX < PAD_IDX_MASK, "side index fits the entry's pad");
static_assert(RW_ALG_MAX <= 16, "helper id fits the entry's pad");

struct rw_alg *rw_alg_create(unsigned worker, unsigned nworkers)
{
	struct rw_alg *a = aligned_alloc(RW_CACHELINE, (sizeof(*a) + RW_CACHELINE - 1) &
						       ~(size_t)(RW_CACHELINE - 1));

	if (!a)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->worker = worker;
	a->nworkers = nworkers;
	memset(a->heads, 0xff, sizeof(a->heads));
	return a;
}

void rw_alg_destroy(struct rw_alg *a)
{
	free(a);
}

void rw_alg_flush(struct rw_alg *a)
{
	memset(a->heads, 0xff, sizeof(a->heads));
	memset(a->live, 0, sizeof(a->live));
	a->nexp = 0;
	for (unsigned i = 0; i < RW_ALG_CTL_MAX; i++)
		a->ctl[i].used = 0;
}

unsigned rw_alg_helper_for(const struct rw_pkt *p, const uint16_t *ftp_ports, unsigned nports)
{
	if (p->proto != RW_PROTO_TCP)
		return RW_ALG_NONE;
	for (unsigned i = 0; i < nports; i++)
		if (p->dport == ftp_ports[i])
			return RW_ALG_FTP;
	return RW_ALG_NONE;
}

/* The side entry of c, or a new one: a free entry, else the least recently
 * used (its owner, if still alive, finds the entry gone and starts over). */
void rw_alg_mark(struct rw_conn *c, unsigned helper)
{
	c->flags |= RW_CF_ALG;
	c->pad = (uint16_t)(helper << PAD_HELPER_SHIFT);
}

static struct rw_alg_ctl *ctl_of(struct rw_alg *a, struct rw_conn *c, uint32_t slot, bool v6,
				  uint64_t now, bool alloc)
{
	unsigned idx = c->pad & PAD_IDX_MASK, helper = c->pad >> PAD_HELPER_SHIFT, pick = 0;
	struct rw_alg_ctl *ctl;

	if (idx && idx <= RW_ALG_CTL_MAX) {
		ctl = &a->ctl[idx - 1];
		if (ctl->used && ctl->slot == slot && ctl->v6 == v6)
			return ctl;
	}
	if (!alloc || !helper || helper >= RW_ALG_MAX)
		return NULL;
	for (unsigned i = 0; i < RW_ALG_CTL_MAX; i++) {
		if (!a->ctl[i].used) {
			pick = i;
			goto found;
		}
		if (a->ctl[i].last < a->ctl[pick].last)
			pick = i;
	}
	a->st.ctl_stolen++;
found:
	ctl = &a->ctl[pick];
	memset(ctl->dir, 0, sizeof(ctl->dir));
	ctl->slot = slot;
	ctl->v6 = v6;
	ctl->helper = (uint8_t)helper;
	ctl->used = 1;
	ctl->gen++;
	ctl->last = now;
	c->pad = (uint16_t)(helper << PAD_HELPER_SHIFT | (pick + 1));
	return ctl;
}

void rw_alg_line(struct rw_alg *a, struct rw_alg_ctl *ctl, const struct rw_conn *c, unsigned d,
		 const uint8_t *line, size_t len, const struct rw_pkt *p, uint64_t now,
		 uint64_t expect_ns)
{
	const struct rw_alg_helper *h = &rw_alg_helpers[ctl->helper];
	struct rw_alg_announce an;
	struct rw_expect e;
	int r;

	a->st.lines++;
	r = h->parse_line(line, len, d, &an);
	if (r == RW_ALG_LINE_OTHER)
		return;
	if (unlikely(r != RW_ALG_LINE_ANNOUNCE)) {
		a->st.bad++;
		return;
	}
	/* Only the announcing peer may be named (PORT: the client, 227: the
	 * server). Anything else points the other peer at a third host: the
	 * FTP bounce (CERT CA-1997-27). A 229 names no address: the sender. */
	if (unlikely(an.af && (an.af != p->af || memcmp(an.addr, p->saddr, 16)))) {
		a->st.bounce++;
		return;
	}
	/* The announcer listens; its peer connects, from any port (active
	 * mode servers use 20, or L-1 for a control port L, or any). */
	memset(&e, 0, sizeof(e));
	memcpy(e.saddr, p->daddr, 16);
	memcpy(e.daddr, p->saddr, 16);
	e.dport = an.port;
	e.af = p->af;
	e.proto = h->proto;
	e.helper = ctl->helper;
	e.rule = c->rule;
	e.owner = (uint32_t)(ctl - a->ctl + 1) | (ctl->gen << 12);
	e.id = (uint64_t)a->worker << 56 | ++a->next_id;
	e.expires = now + expect_ns;
	rw_alg_announce_expect(a, &e, now);
}

/* Split the segment's bytes into lines; a line is parsed once its LF is seen. */
static void feed(struct rw_alg *a, struct rw_alg_ctl *ctl, const struct rw_conn *c, unsigned d,
		 const uint8_t *data, size_t n, const struct rw_pkt *p, uint64_t now,
		 uint64_t expect_ns)
{
	struct rw_alg_dir *dr = &ctl->dir[d];

	while (n) {
		const uint8_t *nl = memchr(data, '\n', n);
		size_t chunk = nl ? (size_t)(nl - data) : n;

		if (!dr->skip) {
			if (dr->len + chunk > RW_ALG_LINE_MAX) {
				dr->skip = 1;
				dr->len = 0;
				a->st.overlong++;
			} else {
				memcpy(dr->buf + dr->len, data, chunk);
				dr->len = (uint16_t)(dr->len + chunk);
			}
		}
		if (!nl)
			return;
		if (!dr->skip) {
			size_t l = dr->len;

			if (l && dr->buf[l - 1] == '\r')
				l--;
			rw_alg_line(a, ctl, c, d, dr->buf, l, p, now, expect_ns);
		}
		dr->len = 0;
		dr->skip = 0;
		data += chunk + 1;
		n -= chunk + 1;
	}
}

void rw_alg_inspect(struct rw_alg *a, struct rw_conn *c, uint32_t slot, bool v6, unsigned d,
		    const struct rw_pkt *p, uint64_t now, uint64_t expect_ns)
{
	struct rw_alg_ctl *ctl;
	struct rw_alg_dir *dr;
	const uint8_t *data;
	uint32_t len, off = 0;
	int32_t delta;

	if (p->proto != RW_PROTO_TCP || (!p->payload_len && !(p->tcp_flags & RW_TH_SYN)))
		return;
	/* A SYN only resets an entry: taking one for every SYN would let a
	 * SYN flood to port 21 push real control connections out. */
	ctl = ctl_of(a, c, slot, v6, now, !(p->tcp_flags & RW_TH_SYN));
	if (!ctl)
		return;
	ctl->last = now;
	dr = &ctl->dir[d & 1];
	data = p->data + p->payload_off;
	len = p->payload_len;
	if (p->tcp_flags & RW_TH_SYN) {
		dr->next_seq = p->tcp_seq + 1;
		dr->synced = 1;
		dr->len = 0;
		dr->skip = 0;
		return;
	}
	if (unlikely(!dr->synced)) {
		/* First data of this direction (or of an entry that was stolen):
		 * FTP sends a command or reply per segment, so take it as the
		 * start of a line. A tail of a line read as a line announces
		 * nothing that the sender could not have sent whole. */
		dr->next_seq = p->tcp_seq;
		dr->synced = 1;
	}
	delta = (int32_t)(p->tcp_seq - dr->next_seq);
	if (delta < 0) {
		/* a retransmission: skip what was already read */
		if ((uint32_t)-delta >= len)
			return;
		off = (uint32_t)-delta;
	} else if (delta > 0) {
		/* bytes the firewall never saw: the line in progress is lost */
		a->st.gaps++;
		dr->len = 0;
		dr->skip = 1;
	}
	dr->next_seq = p->tcp_seq + len;
	feed(a, ctl, c, d & 1, data + off, len - off, p, now, expect_ns);
}
