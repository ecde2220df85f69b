/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker's side of the SYN proxy (src/track/synproxy.c,
 * docs/synproxy.md): set-up at the first synproxy rule hit, the miss path,
 * and sending the frames the proxy built after each burst.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../conn/hash.h"
#include "../track/synproxy.h"

/*
 * The cookie secret: the same for every worker (a SYN and its ACK may meet
 * different workers when the NIC's hash is not symmetric), drawn from the
 * engine's per-start key. RW_SYNPROXY_KEY (32 hex digits) fixes it, so that
 * a capture replayed twice gets the same cookies: for tests only, as a
 * known secret lets anyone forge handshakes.
 */
static void cookie_key(const struct rw_engine *e, struct rw_syncookie_key *k)
{
	static const char tag[2][16] = {"ringwall-cookie0", "ringwall-cookie1"};
	const char *env = getenv("RW_SYNPROXY_KEY");
	char half[17];

	if (env && strlen(env) == 32) {
		for (unsigned i = 0; i < 2; i++) {
			memcpy(half, env + 16 * i, 16);
			half[16] = 0;
			k->k[i] = strtoull(half, NULL, 16);
		}
		return;
	}
	for (unsigned i = 0; i < 2; i++)
		k->k[i] = rw_siphash_rounds(e->hash_key, tag[i], sizeof(tag[i]), 2, 4);
}

/* Cold: the first synproxy hit of this worker. */
static __attribute__((noinline, cold)) int sp_setup(struct rw_worker *w)
{
	struct rw_syncookie_key k;

	struct rw_synproxy *sp = malloc(sizeof(*sp));

	if (!sp)
		return -ENOMEM;
	cookie_key(w->eng, &k);
	rw_synproxy_init(sp, &k);
	rw_synproxy_attach(sp, w->state);
	/* published whole: the control thread reads the counters through it
	 * (rw_engine_synproxy_stats) */
	__atomic_store_n(&w->sp, sp, __ATOMIC_RELEASE);
	return 0;
}

unsigned rw_worker_synproxy(struct rw_worker *w, unsigned i, bool as_ack, uint32_t ref, uint64_t now)
{
	unsigned r;

	if (unlikely(!w->sp) && sp_setup(w))
		return RW_DROP_STATE_FULL;
	r = rw_synproxy_miss(w->sp, w->state, &w->pkts[i], as_ack, ref, now);
	return r == RW_PASS ? RW_VERDICT_CONSUMED : r;
}

/* After a burst from port in: the built frames go back out in, or to the
 * peer port; tx_burst copies them (handle 0) before returning. */
void rw_worker_synproxy_emit(struct rw_worker *w, struct rw_port *in, unsigned q)
{
	struct rw_engine *e = w->eng;
	struct rw_synproxy *sp = w->sp;

	for (unsigned j = 0; j < sp->nout; j++) {
		struct rw_sp_frame *o = &sp->out[j];
		struct rw_port *out = o->back ? in : e->nports == 2 ? &e->ports[in->index ^ 1] : NULL;
		struct rw_frame f = {.data = o->buf, .len = o->len, .ts_ns = o->ts_ns, .handle = 0};

		if (out && out->ops->tx_burst(out, q % out->nqueues, &f, 1) == 1) {
			w->st.port[out->index].tx_pkts++;
			w->st.port[out->index].tx_bytes += f.len;
		} else {
			w->st.drops[out ? RW_DROP_TX_FULL : RW_DROP_NO_EGRESS]++;
		}
	}
	sp->nout = 0;
}

void rw_worker_synproxy_fini(struct rw_worker *w)
{
	free(w->sp);
	w->sp = NULL;
}

void rw_engine_synproxy_stats(const struct rw_engine *e, struct rw_synproxy_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < e->nworkers; i++) {
		const struct rw_synproxy *sp = __atomic_load_n(&e->workers[i].sp, __ATOMIC_ACQUIRE);

		if (!sp)
			continue;
		t->synacks += sp->st.synacks;
		t->cookies_ok += sp->st.cookies_ok;
		t->completed += sp->st.completed;
		t->refused += sp->st.refused;
		t->cookies_bad += sp->st.cookies_bad;
		t->cookies_expired += sp->st.cookies_expired;
		t->syn_resent += sp->st.syn_resent;
		t->no_room += sp->st.no_room;
	}
}

void rw_engine_print_synproxy(const struct rw_engine *e, FILE *f)
{
	struct rw_synproxy_stats t;

	rw_engine_synproxy_stats(e, &t);
	if (t.synacks || t.cookies_ok || t.cookies_bad || t.cookies_expired)
		fprintf(f, "synproxy synacks %llu cookies-ok %llu completed %llu refused %llu "
			"cookies-bad %llu cookies-expired %llu syn-resent %llu no-room %llu\n",
			(unsigned long long)t.synacks, (unsigned long long)t.cookies_ok,
			(unsigned long long)t.completed, (unsigned long long)t.refused,
			(unsigned long long)t.cookies_bad, (unsigned long long)t.cookies_expired,
			(unsigned long long)t.syn_resent, (unsigned long long)t.no_room);
}
