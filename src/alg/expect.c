/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The expectation table of one worker: RW_ALG_EXP_MAX fixed entries, found
 * through RW_ALG_EXP_BUCKETS chains hashed on the responder's address and
 * port (the two things every expectation fixes; the initiator's port may be
 * free). A miss costs one load of nexp while no expectation is live, which
 * is nearly always; otherwise one bucket, whose chain is short because the
 * table is small.
 */
#include <string.h>

#include "alg.h"

static unsigned bucket_of(const uint8_t daddr[16], uint16_t dport)
{
	uint32_t w[4], h;

	memcpy(w, daddr, 16);
	h = (w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b1u;
	h ^= (uint32_t)dport * 0x85ebca6bu;
	return (h ^ h >> 16) & (RW_ALG_EXP_BUCKETS - 1);
}

static bool same_flow(const struct rw_expect *a, const struct rw_expect *b)
{
	return a->af == b->af && a->proto == b->proto && a->dport == b->dport &&
	       a->sport == b->sport && !memcmp(a->saddr, b->saddr, 16) &&
	       !memcmp(a->daddr, b->daddr, 16);
}

static void unlink_exp(struct rw_alg *a, unsigned k)
{
	int16_t *pp = &a->heads[bucket_of(a->exp[k].daddr, a->exp[k].dport)];

	while (*pp >= 0 && *pp != (int16_t)k)
		pp = &a->next[*pp];
	if (*pp == (int16_t)k)
		*pp = a->next[k];
	a->live[k] = 0;
	a->nexp--;
}

/* Free an entry: a dead one, else (for a local add) the oldest of the same
 * control connection once it has RW_ALG_EXP_PER_CTL. -1 when full. */
static int free_slot(struct rw_alg *a, const struct rw_expect *e, uint64_t now)
{
	int freek = -1, oldest = -1;
	unsigned mine = 0;

	for (unsigned k = 0; k < RW_ALG_EXP_MAX; k++) {
		if (a->live[k] && now >= a->exp[k].expires) {
			unlink_exp(a, k);
			a->st.exp_expired++;
		}
		if (!a->live[k]) {
			if (freek < 0)
				freek = (int)k;
			continue;
		}
		if (e->owner && a->exp[k].owner == e->owner) {
			mine++;
			if (oldest < 0 || a->exp[k].expires < a->exp[oldest].expires)
				oldest = (int)k;
		}
	}
	if (mine >= RW_ALG_EXP_PER_CTL) {
		unlink_exp(a, (unsigned)oldest);
		a->st.exp_replaced++;
		return oldest;
	}
	return freek;
}

int rw_alg_expect_add(struct rw_alg *a, const struct rw_expect *e, uint64_t now)
{
	unsigned b = bucket_of(e->daddr, e->dport);
	int k;

	/* the same announcement again (a client repeating PORT): refresh */
	for (int16_t j = a->heads[b]; j >= 0; j = a->next[j]) {
		if (same_flow(&a->exp[j], e)) {
			a->exp[j] = *e;
			return 0;
		}
	}
	k = free_slot(a, e, now);
	if (k < 0) {
		a->st.exp_full++;
		return -1;
	}
	a->exp[k] = *e;
	a->live[k] = 1;
	a->next[k] = a->heads[b];
	a->heads[b] = (int16_t)k;
	a->nexp++;
	return 0;
}

static bool matches(const struct rw_expect *e, const struct rw_pkt *p)
{
	return e->dport == p->dport && e->proto == p->proto && e->af == p->af &&
	       (!e->sport || e->sport == p->sport) && !memcmp(e->daddr, p->daddr, 16) &&
	       !memcmp(e->saddr, p->saddr, 16);
}

static void send_msg(struct rw_alg *a, uint32_t op, const struct rw_expect *e)
{
	if (a->nworkers <= 1)
		return;
	if (unlikely(a->nout >= RW_ALG_OUTBOX)) {
		a->st.msg_dropped++;
		return;
	}
	a->out[a->nout].op = op;
	a->out[a->nout].pad = 0;
	a->out[a->nout++].e = *e;
}

void rw_alg_announce_expect(struct rw_alg *a, const struct rw_expect *e, uint64_t now)
{
	if (rw_alg_expect_add(a, e, now) < 0)
		return;
	a->st.exp_created++;
	send_msg(a, RW_ALG_MSG_ADD, e);
}

bool rw_alg_match(struct rw_alg *a, const struct rw_pkt *p, uint64_t now, uint32_t *rule)
{
	unsigned b;

	if (likely(!a->nexp))
		return false;
	/* only a connection's opening packet may use an expectation */
	if (p->proto == RW_PROTO_TCP &&
	    (p->tcp_flags & (RW_TH_SYN | RW_TH_ACK | RW_TH_RST)) != RW_TH_SYN)
		return false;
	b = bucket_of(p->daddr, p->dport);
	for (int16_t j = a->heads[b]; j >= 0; j = a->next[j]) {
		struct rw_expect *e = &a->exp[j];

		if (!matches(e, p))
			continue;
		if (now >= e->expires) {
			unlink_exp(a, (unsigned)j);
			a->st.exp_expired++;
			return false;
		}
		*rule = e->rule;
		send_msg(a, RW_ALG_MSG_USED, e);
		unlink_exp(a, (unsigned)j);
		a->st.exp_used++;
		return true;
	}
	return false;
}

void rw_alg_expire(struct rw_alg *a, uint64_t now, unsigned budget)
{
	if (likely(!a->nexp))
		return;
	while (budget--) {
		unsigned k = a->exp_cursor++ % RW_ALG_EXP_MAX;

		if (a->live[k] && now >= a->exp[k].expires) {
			unlink_exp(a, k);
			a->st.exp_expired++;
		}
	}
}

unsigned rw_alg_take_out(struct rw_alg *a, struct rw_alg_msg *out, unsigned max)
{
	unsigned n = RW_MIN(max, a->nout);

	memcpy(out, a->out, n * sizeof(*out));
	memmove(a->out, a->out + n, (a->nout - n) * sizeof(*out));
	a->nout -= n;
	return n;
}

void rw_alg_receive(struct rw_alg *a, const struct rw_alg_msg *m, uint64_t now)
{
	struct rw_expect e = m->e;

	if (m->op == RW_ALG_MSG_ADD) {
		e.owner = 0; /* the per-connection bound is the origin's */
		if (rw_alg_expect_add(a, &e, now) == 0)
			a->st.exp_received++;
		return;
	}
	if (m->op != RW_ALG_MSG_USED)
		return;
	/* another worker let the connection in: our copy must not be used */
	for (int16_t j = a->heads[bucket_of(e.daddr, e.dport)]; j >= 0; j = a->next[j]) {
		if (a->exp[j].id == e.id) {
			unlink_exp(a, (unsigned)j);
			return;
		}
	}
}
