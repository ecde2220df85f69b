/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The connection table: random churn checked step by step against a
 * deliberately naive model (a plain array scanned linearly), no allocation
 * after creation, exact timeouts, the full-table policy, symmetric keys.
 */
#include <sys/resource.h>
#include "t.h"
#include "conn/hash.h"
#include "conn/table.h"
#include "track/track.h"
#include "worker/reasons.h"
#include "track_util.h"

/* ---- allocation counting: a wrapper over glibc, or ASan's own figure ---- */
#if defined(__SANITIZE_ADDRESS__)
#define T_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_ASAN 1
#endif
#endif

#ifdef T_ASAN
/* from <sanitizer/allocator_interface.h>, which not every install ships */
size_t __sanitizer_get_current_allocated_bytes(void);
static uint64_t heap_mark(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
static uint64_t n_allocs;
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
void *malloc(size_t n)
{
	n_allocs++;
	return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
	n_allocs++;
	return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
	n_allocs++;
	return __libc_realloc(p, n);
}
void *aligned_alloc(size_t a, size_t n)
{
	n_allocs++;
	return __libc_memalign(a, n);
}
void free(void *p)
{
	__libc_free(p);
}
static uint64_t heap_mark(void)
{
	return n_allocs;
}
#endif


static const uint64_t key0[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

TEST(siphash_reference_vectors)
{
	uint8_t msg[15];
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	/* SipHash-2-4 vectors from the paper's reference code (key 00..0f) */
	CHECK(rw_siphash_rounds(key0, msg, 0, 2, 4) == 0x726fdb47dd0e0e31ull);
	CHECK(rw_siphash_rounds(key0, msg, 1, 2, 4) == 0x74f839c593dc67fdull);
	CHECK(rw_siphash_rounds(key0, msg, 15, 2, 4) == 0xa129ca6149be45e5ull);
	/* 1-3 is the same construction with fewer rounds: different output */
	CHECK(rw_siphash13(key0, msg, 15) != rw_siphash_rounds(key0, msg, 15, 2, 4));
	CHECK(rw_siphash13(key0, msg, 15) == rw_siphash_rounds(key0, msg, 15, 1, 3));
	/* keyed: another key, another hash */
	uint64_t k2[2] = {key0[0] ^ 1, key0[1]};
	CHECK(rw_siphash13(key0, msg, 15) != rw_siphash13(k2, msg, 15));
}

TEST(tag_match)
{
	/* the bucket's neighbours hold the tag too: only its 8 lanes count */
	uint8_t m[24] = {5, 5, 5, 5, 5, 5, 5, 5, 0, 5, 0x80, 5, 0xff, 0, 1, 0x05, 5, 5, 5, 5, 5, 5, 5, 5};
	const uint8_t *b = m + 8;
	CHECK_EQ(rw_ctable_match(b, 5), 0x8a);
	CHECK_EQ(rw_ctable_match(b, 0), 0x21);
	CHECK_EQ(rw_ctable_match(b, 0x80), 0x04);
	CHECK_EQ(rw_ctable_match(b, 0xff), 0x10);
	CHECK_EQ(rw_ctable_match(b, 1), 0x40);
	CHECK_EQ(rw_ctable_match(b, 7), 0);
}

/* ---------------- the naive reference model ---------------- */

#define M_CAP 3000       /* count limit */
#define M_KEYS 9000      /* key universe: three times the capacity */
#define M_TOS 4

struct m_ent {
	bool live;
	uint32_t slot;
	uint64_t last;
	uint8_t to;
	bool solid;
};

static struct m_ent model[M_KEYS];
static uint64_t m_live, m_expired, m_evicted, m_refused;
static const uint64_t m_to_ms[M_TOS] = {2000, 10000, 60000, 600000};

static void mk_key(unsigned i, struct rw_key4 *k)
{
	memset(k, 0, sizeof(*k));
	k->addr[0] = 0x0a000000u + i;
	k->addr[1] = 0xc0a80001u;
	k->port[0] = (uint16_t)(1024 + i % 50000);
	k->port[1] = 443;
	k->proto = RW_PROTO_TCP;
}

static bool m_expired_at(const struct m_ent *e, uint64_t now)
{
	return now - e->last >= m_to_ms[e->to] * 1000000u;
}

static unsigned m_in_bucket(uint32_t b)
{
	unsigned n = 0;
	for (unsigned i = 0; i < M_KEYS; i++)
		n += model[i].live && model[i].slot / RW_CT_SLOTS == b;
	return n;
}

static void m_kill(unsigned i, uint64_t *counter)
{
	model[i].live = false;
	m_live--;
	(*counter)++;
}

/* Mirror of rw_ctable_insert, written the slow obvious way. Returns the
 * expected victim key index (or -1), and whether it should succeed;
 * *may_move says the table may instead relocate entries (both buckets full
 * below the count limit), which the caller sees in ctx.relocated. */
static bool m_insert_expect(const uint32_t b[2], uint64_t now, int *victim, bool *may_move)
{
	*victim = -1;
	*may_move = false;
	unsigned used = m_in_bucket(b[0]) + m_in_bucket(b[1]);
	if (used < 2 * RW_CT_SLOTS && m_live < M_CAP)
		return true;
	for (unsigned i = 0; i < M_KEYS; i++) {
		uint32_t kb = model[i].slot / RW_CT_SLOTS;
		if (model[i].live && (kb == b[0] || kb == b[1]) && m_expired_at(&model[i], now))
			m_kill(i, &m_expired);
	}
	used = m_in_bucket(b[0]) + m_in_bucket(b[1]);
	if (used < 2 * RW_CT_SLOTS && m_live < M_CAP)
		return true;
	*may_move = used == 2 * RW_CT_SLOTS && m_live < M_CAP;
	uint64_t oldest = UINT64_MAX;
	for (unsigned i = 0; i < M_KEYS; i++) {
		uint32_t kb = model[i].slot / RW_CT_SLOTS;
		if (model[i].live && (kb == b[0] || kb == b[1]) && !model[i].solid &&
		    model[i].last < oldest) {
			oldest = model[i].last;
			*victim = (int)i;
		}
	}
	return *victim >= 0;
}

static struct rw_conn_ctx ctx;
static struct rw_ctable tab;
static struct rw_khash tab_kh; /* SipHash-1-3 under key0: hash_of's function */

static uint64_t hash_of(unsigned i)
{
	struct rw_key4 k;
	mk_key(i, &k);
	return rw_siphash13(key0, &k, sizeof(k));
}

/* Every model key agrees with the table (without reclaiming anything:
 * compares at a time when nothing is past its timeout... so use find at
 * time 0, which never expires anything). */
static unsigned m_compare_all(void)
{
	unsigned bad = 0;
	for (unsigned i = 0; i < M_KEYS; i++) {
		struct rw_key4 k;
		mk_key(i, &k);
		uint32_t s = rw_ctable_find(&tab, &k, hash_of(i), 0, RW_CT_NONE);
		if (model[i].live ? s != model[i].slot : s != RW_CT_NONE)
			bad++;
	}
	return bad;
}

/* After a relocation: read every live model key's slot back from the
 * table; each must still be found, in one of its own two buckets. */
static unsigned m_resync(void)
{
	unsigned bad = 0;
	for (unsigned i = 0; i < M_KEYS; i++) {
		struct rw_key4 k;
		uint32_t b[2];
		uint8_t tag;
		if (!model[i].live)
			continue;
		mk_key(i, &k);
		uint32_t s = rw_ctable_find(&tab, &k, hash_of(i), 0, RW_CT_NONE);
		rw_ctable_where(&tab, hash_of(i), &b[0], &b[1], &tag);
		if (s == RW_CT_NONE || (s / RW_CT_SLOTS != b[0] && s / RW_CT_SLOTS != b[1])) {
			bad++;
			continue;
		}
		model[i].slot = s;
	}
	return bad;
}

/* The AES hash of IPv4 keys pinned: table placement, and so the bench's
 * counters, follow from it, and a change to the rounds or the fold of the
 * halves must be one made on purpose. The values are the first form's
 * (fold as two moves out and a scalar xor); a burst equals key by key,
 * and the gather form (keys inside records) equals the packed one. */
TEST(khash_aes_pinned)
{
	const uint64_t k[3][2] = {{0, 0},
				  {0x0a000002c0a80001ull, 0x0000000650001f90ull},
				  {~0ull, 1}};
	const uint64_t want[3] = {0xf9dd038d2df301ddull, 0xb5d5414221d1d0d3ull,
				  0x307ad50894b9bbc9ull};
	struct { uint64_t pad, key[2]; } rec[3];
	const void *recs[3];
	uint64_t out[3], got[3];
	struct rw_khash kh;

	for (unsigned i = 0; i < 3; i++) {
		memcpy(rec[i].key, k[i], 16);
		recs[2 - i] = &rec[i]; /* gathered in another order */
	}
	/* both functions: the gather form agrees with the packed one */
	for (int sip = 1; sip >= 0; sip--) {
		rw_khash_init(&kh, key0, sip);
		rw_khash16_burst(&kh, k, 3, out);
		rw_khash16_gather(&kh, recs, sizeof(uint64_t), 3, got);
		for (unsigned i = 0; i < 3; i++)
			CHECK_EQ(got[2 - i], out[i]);
	}
	if (!kh.aes)
		return; /* no AES-NI here: SipHash, checked elsewhere */
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(out[i], want[i]);
		CHECK_EQ(rw_khash(&kh, k[i], 16), want[i]);
	}
}

TEST(table_churn_against_naive_model)
{
	char err[256];
	uint64_t now = 1000000000ull, inserts = 0, finds = 0, sweeps = 0, relocs = 0, fars = 0;
	unsigned mismatches = 0, slot_errors = 0, hint_errors = 0;
	struct rusage ru0, ru1;

	memset(&ctx, 0, sizeof(ctx));
	for (unsigned i = 0; i < M_TOS; i++)
		ctx.to_ms[i] = m_to_ms[i];
	ctx.capacity = M_CAP;
	CHECK_EQ(rw_ctable_init(&tab, &ctx, M_CAP, 64, 16, err, sizeof(err)), 0);
	CHECK(rw_ctable_nslots(&tab) >= M_CAP);
	rw_khash_init(&tab_kh, key0, true);
	CHECK_EQ(rw_khash(&tab_kh, &(struct rw_key4){.proto = 6}, 16),
		 rw_siphash13(key0, &(struct rw_key4){.proto = 6}, 16));
	tab.kh = &tab_kh;

	memset(model, 0, sizeof(model)); /* touch the model's pages now */
	uint64_t mark = heap_mark();
	getrusage(RUSAGE_SELF, &ru0);
	for (unsigned step = 0; step < 60000; step++) {
		unsigned i = (unsigned)(rnd() % M_KEYS), op = (unsigned)(rnd() % 100);
		struct rw_key4 k;
		uint64_t h = hash_of(i);
		uint32_t b[2];
		uint8_t tag;

		now += 1000000u * (1 + rnd() % 3); /* strictly increasing: unique ages */
		mk_key(i, &k);
		rw_ctable_where(&tab, h, &b[0], &b[1], &tag);
		if (op < 50) {
			/* lookup, lazily reclaiming: the model expires it too */
			uint32_t hint = (rnd() & 1) ? rw_ctable_probe(&tab, h) : (uint32_t)(rnd() % 5000);
			uint32_t s = rw_ctable_find(&tab, &k, h, now, hint);
			bool want = model[i].live && !m_expired_at(&model[i], now);
			if (model[i].live && !want)
				m_kill(i, &m_expired);
			if (want ? s != model[i].slot : s != RW_CT_NONE)
				hint_errors++;
			if (want && (rnd() % 3) == 0) { /* a packet refreshes it */
				model[i].last = now;
				rw_ctable_conn(&tab, s)->last = now;
			}
			finds++;
		} else if (op < 90) {
			/* insert when absent (the table requires find first) */
			uint32_t s = rw_ctable_find(&tab, &k, h, now, RW_CT_NONE);
			if (model[i].live && m_expired_at(&model[i], now))
				m_kill(i, &m_expired);
			if (s != RW_CT_NONE || model[i].live) {
				mismatches += (s == RW_CT_NONE) != !model[i].live;
				continue;
			}
			int victim;
			bool may_move;
			bool ok = m_insert_expect(b, now, &victim, &may_move);
			uint64_t moved0 = ctx.relocated, ev0 = ctx.evicted;
			unsigned r = rw_ctable_insert(&tab, &k, h, now, &s);
			bool far = false;
			if (!ok && ctx.evicted == ev0 + 1) {
				/* at the count limit with no embryonic neighbour:
				 * an embryonic entry from elsewhere went */
				int gone = -1;
				unsigned ngone = 0;
				for (unsigned j = 0; j < M_KEYS; j++) {
					struct rw_key4 kj;
					if (!model[j].live)
						continue;
					mk_key(j, &kj);
					if (rw_ctable_find(&tab, &kj, hash_of(j), 0, RW_CT_NONE) == RW_CT_NONE)
						gone = (int)j, ngone++;
				}
				mismatches += ngone != 1 || m_live < M_CAP;
				if (gone >= 0) {
					slot_errors += model[gone].solid;
					m_kill((unsigned)gone, &m_evicted);
				}
				far = true;
				fars++;
				ok = r == RW_PASS; /* refused after all only when no slot could be made */
				victim = -1;
				if (!ok) {
					m_refused++;
					continue;
				}
			}
			if (ctx.relocated != moved0) {
				/* cuckoo: only when both buckets were full below
				 * the count limit (or after a far eviction), and
				 * then instead of evicting a neighbour */
				mismatches += !(may_move || far) || r != RW_PASS || ctx.relocated != moved0 + 1;
				ok = true;
				victim = -1;
				relocs++;
				slot_errors += m_resync();
			}
			if (!ok) {
				mismatches += r != RW_DROP_STATE_FULL;
				m_refused++;
				continue;
			}
			if (r != RW_PASS) {
				mismatches++;
				continue;
			}
			if (victim >= 0) {
				slot_errors += s != model[victim].slot;
				m_kill((unsigned)victim, &m_evicted);
			}
			/* the new slot is one of the two buckets and was free */
			slot_errors += s / RW_CT_SLOTS != b[0] && s / RW_CT_SLOTS != b[1];
			for (unsigned j = 0; j < M_KEYS; j++)
				slot_errors += model[j].live && model[j].slot == s;
			struct rw_conn *c = rw_ctable_conn(&tab, s);
			c->last = now;
			c->to = (uint8_t)(rnd() % M_TOS);
			rw_ctable_note_expiry(&tab, s, now + ctx.to_ms[c->to] * 1000000u);
			c->flags = (rnd() % 3 == 0) ? RW_CF_SOLID : 0;
			model[i] = (struct m_ent){true, s, now, c->to, !!(c->flags & RW_CF_SOLID)};
			m_live++;
			inserts++;
		} else if (op < 95) {
			/* bounded sweep from a random slot */
			uint64_t from = rnd() % rw_ctable_nslots(&tab), n = rnd() % 64;
			rw_ctable_sweep(&tab, now, from, n);
			for (unsigned j = 0; j < M_KEYS; j++)
				if (model[j].live && model[j].slot >= from && model[j].slot < from + n &&
				    m_expired_at(&model[j], now))
					m_kill(j, &m_expired);
			sweeps++;
		} else if (model[i].live) {
			/* an explicit removal (closed connection) */
			uint32_t s = rw_ctable_find(&tab, &k, h, now, RW_CT_NONE);
			if (m_expired_at(&model[i], now)) {
				m_kill(i, &m_expired);
				mismatches += s != RW_CT_NONE;
			} else if (s != model[i].slot) {
				mismatches++;
			} else {
				uint64_t dummy = 0;
				rw_ctable_remove(&tab, s);
				m_kill(i, &dummy);
			}
		}
		if (step % 5000 == 4999)
			mismatches += m_compare_all();
		/* the counters agree at every step */
		if (ctx.live != m_live || tab.live != m_live || ctx.expired != m_expired ||
		    ctx.evicted != m_evicted || ctx.refused != m_refused)
			mismatches++;
	}
	getrusage(RUSAGE_SELF, &ru1);
	CHECK_EQ(heap_mark(), mark); /* not one allocation on the hot path */
#ifndef T_ASAN
	/* pages were touched at creation: churn faults in nothing new */
	CHECK(ru1.ru_minflt - ru0.ru_minflt < 4);
#endif
	CHECK_EQ(mismatches, 0);
	CHECK_EQ(slot_errors, 0);
	CHECK_EQ(hint_errors, 0);
	/* the run exercised every path */
	CHECK(inserts > 10000);
	CHECK(finds > 10000 && sweeps > 1000);
	CHECK(m_expired > 1000);
	CHECK(m_evicted > 10);
	CHECK(relocs > 10);
	CHECK(fars > 10);
	CHECK(ctx.live <= M_CAP);
	printf("# churn: %llu inserts, %llu expired, %llu evicted (%llu far), %llu refused, %llu relocated, live %llu\n",
	       (unsigned long long)inserts, (unsigned long long)m_expired,
	       (unsigned long long)m_evicted, (unsigned long long)fars, (unsigned long long)m_refused,
	       (unsigned long long)relocs,
	       (unsigned long long)m_live);
	rw_ctable_flush(&tab);
	CHECK_EQ(ctx.live, 0);
	CHECK_EQ(m_compare_all() , m_live);
	rw_ctable_fini(&tab);
}

/* ---------------- through rw_state: packets ---------------- */

static struct rw_state *mk_state(uint64_t cap, uint32_t astart, uint32_t aend)
{
	struct rw_state_opts o = {.capacity = cap, .adaptive_start = astart, .adaptive_end = aend};

	for (unsigned i = 0; i < RW_TO_MAX; i++)
		o.timeouts[i] = 10 + i; /* distinct, so a wrong index shows */
	o.hash_key[0] = 0x1234, o.hash_key[1] = 0x5678;
	return mk_shard(&o);
}

static struct rw_pkt udp4(uint32_t sip, uint16_t sp, uint32_t dip, uint16_t dp)
{
	struct rw_pkt p = {.af = RW_AF_INET, .proto = RW_PROTO_UDP, .flags = RW_PKT_L4,
			   .sport = sp, .dport = dp};
	v4(p.saddr, sip);
	v4(p.daddr, dip);
	return p;
}

static struct rw_pkt udp6(uint8_t last_s, uint16_t sp, uint8_t last_d, uint16_t dp)
{
	struct rw_pkt p = {.af = RW_AF_INET6, .proto = RW_PROTO_UDP, .flags = RW_PKT_L4,
			   .sport = sp, .dport = dp};
	p.saddr[0] = p.daddr[0] = 0x20, p.saddr[1] = p.daddr[1] = 0x01;
	p.saddr[15] = last_s, p.daddr[15] = last_d;
	return p;
}

static struct rw_pkt rev(struct rw_pkt p)
{
	struct rw_pkt r = p;
	memcpy(r.saddr, p.daddr, 16);
	memcpy(r.daddr, p.saddr, 16);
	r.sport = p.dport, r.dport = p.sport;
	return r;
}

static int track(struct rw_state *s, struct rw_pkt p, uint64_t now)
{
	uint32_t rule = 0;
	unsigned reason = 0;
	return rw_state_track(s, &p, now, &rule, &reason);
}


TEST(symmetric_keys_and_hash_both_families)
{
	struct rw_state *s = mk_state(1000, 0, 0);
	struct rw_pkt a = udp4(0x0a000001, 5000, 0xc0a80101, 53);
	struct rw_pkt b = rev(a);
	union rw_key ka, kb;
	unsigned sa, sb;

	CHECK_EQ(rw_key_from_pkt(&a, &ka, &sa), 16);
	CHECK_EQ(rw_key_from_pkt(&b, &kb, &sb), 16);
	CHECK(memcmp(&ka, &kb, sizeof(ka)) == 0);
	CHECK(sa != sb);
	CHECK(rw_siphash13(key0, &ka, 16) == rw_siphash13(key0, &kb, 16));
	/* same ports, addresses swapped the other way round still agree */
	struct rw_pkt c = udp4(0xc0a80101, 5000, 0x0a000001, 53);
	union rw_key kc;
	unsigned sc;
	rw_key_from_pkt(&c, &kc, &sc);
	CHECK(memcmp(&ka, &kc, sizeof(ka)) != 0);

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(rw_state_create(s, &a, 7, SEC), RW_PASS);
	uint32_t rule = 0;
	unsigned reason = 0;
	CHECK_EQ(rw_state_track(s, &b, SEC + 1, &rule, &reason), RW_TRACK_PASS);
	CHECK_EQ(rule, 7);
	CHECK_EQ(track(s, a, SEC + 2), RW_TRACK_PASS);
	CHECK_EQ(track(s, c, SEC + 2), RW_TRACK_MISS);

	struct rw_pkt a6 = udp6(1, 4000, 2, 53), b6 = rev(a6);
	CHECK_EQ(rw_state_create(s, &a6, 9, SEC), RW_PASS);
	/* through the staged path too: prepare, prefetch, track */
	struct rw_pkt burst[2] = {b6, b};
	struct rw_pkt *pp[2] = {&burst[0], &burst[1]};
	rw_state_prepare(s, pp, 2);
	rw_state_prefetch(s, pp, 2);
	CHECK(burst[0].ct_prep && burst[0].ct_hint != RW_CT_NONE);
	CHECK_EQ(rw_state_track(s, pp[0], SEC + 3, &rule, &reason), RW_TRACK_PASS);
	CHECK_EQ(rule, 9);
	CHECK_EQ(rw_state_track(s, pp[1], SEC + 3, &rule, &reason), RW_TRACK_PASS);
	CHECK_EQ(rule, 7);
	CHECK_EQ(burst[0].ct_prep, 0); /* consumed */

	struct rw_state_stats st;
	rw_state_stats(s, &st);
	CHECK_EQ(st.current, 2);
	CHECK_EQ(st.current_v4, 1);
	CHECK_EQ(st.current_v6, 1);
	rw_state_destroy(s);
}

static bool alive(struct rw_state *s, struct rw_pkt p, uint64_t now)
{
	union rw_key k;
	unsigned side, klen = rw_key_from_pkt(&p, &k, &side);
	return rw_state_lookup(s, &k, klen, now) != NULL;
}

/* The hint a probe of t should leave for hash h: the first slot of the
 * first bucket whose tag matches, else of the second, else none. */
static uint32_t ref_hint(const struct rw_ctable *t, uint64_t h)
{
	uint32_t b[2];
	uint8_t tag;

	rw_ctable_where(t, h, &b[0], &b[1], &tag);
	for (unsigned i = 0; i < 2; i++)
		for (unsigned j = 0; j < RW_CT_SLOTS; j++)
			if (t->tags[(size_t)b[i] * RW_CT_SLOTS + j] == tag)
				return b[i] * RW_CT_SLOTS + j;
	return RW_CT_NONE;
}

/* prepare and prefetch over a nearly full table, TCP and UDP over IPv4,
 * IPv6, keys with no entry and packets that cannot be keyed, in uneven
 * bursts: each prepared packet's hint is the reference probe's (the keys
 * in their second bucket included), the others are not prepared, and
 * every packet then tracks as it would alone. */
TEST(staged_hints_match_reference)
{
	enum { N4 = 900, N6 = 60, NP = N4 + N6 + 40 };
	/* s tracks the staged packets, twin the same ones alone */
	struct rw_state *s = mk_state(1000, 0, 0), *twin = mk_state(1000, 0, 0);
	static struct rw_pkt pk[NP];
	struct rw_pkt *pp[NP];
	unsigned second = 0, v6hints = 0, none = 0, unprep = 0;

	CHECK(s != NULL && twin != NULL);
	if (!s || !twin)
		return;
	for (unsigned i = 0; i < NP; i++) {
		if (i < N4) {
			pk[i] = udp4(0x0a000000 + i, (uint16_t)(1000 + i), 0xc0a80001, 80);
			if (i % 2) { /* a SYN opens it; the same SYN again passes */
				pk[i].proto = RW_PROTO_TCP;
				pk[i].tcp_flags = RW_TH_SYN;
				pk[i].tcp_seq = 1000 * i;
				pk[i].tcp_win = 1000;
			}
		} else if (i < N4 + N6) {
			pk[i] = udp6((uint8_t)(i - N4 + 1), (uint16_t)i, 200, 53);
		} else {
			pk[i] = udp4(0x0b000000 + i, 7, 0xc0a80001, 80); /* no entry */
		}
		if (i < N4 + N6) {
			CHECK_EQ(rw_state_create(s, &pk[i], i, SEC), RW_PASS);
			CHECK_EQ(rw_state_create(twin, &pk[i], i, SEC), RW_PASS);
		}
		if (i % 3 == 0 && pk[i].proto != RW_PROTO_TCP)
			pk[i] = rev(pk[i]);
		pp[i] = &pk[i];
	}
	pk[NP - 1].flags |= RW_PKT_FRAG_LATER; /* cannot be keyed */
	pk[NP - 2].flags |= RW_PKT_ICMP_ERR;
	pk[NP - 3].flags &= (uint8_t)~RW_PKT_L4;
	pk[NP - 4].proto = RW_PROTO_TCP;
	pk[NP - 4].flags &= (uint8_t)~RW_PKT_L4;
	for (unsigned i = 0, n = 1; i < NP; i += n, n = n % 37 + 5) {
		unsigned m = RW_MIN(n, NP - i);

		rw_state_prepare(s, pp + i, m);
		rw_state_prefetch(s, pp + i, m);
	}
	for (unsigned i = 0; i < NP; i++) {
		struct rw_ctable *t = pk[i].af == RW_AF_INET6 ? &s->t6 : &s->t4;

		if (i >= NP - 4) {
			CHECK_EQ(pk[i].ct_prep, 0);
			unprep++;
			continue;
		}
		CHECK(pk[i].ct_prep);
		uint32_t want = ref_hint(t, pk[i].hash);

		CHECK_EQ(pk[i].ct_hint, want);
		if (want == RW_CT_NONE) {
			none++;
		} else {
			uint32_t b1, b2;
			uint8_t tag;

			rw_ctable_where(t, pk[i].hash, &b1, &b2, &tag);
			second += want / RW_CT_SLOTS == b2;
			v6hints += t == &s->t6;
		}
	}
	CHECK(second > 10); /* the second-bucket pass ran */
	CHECK(v6hints == N6);
	CHECK(none > 0 && unprep == 4);
	/* and every packet gets the verdict, rule and reason it gets in the
	 * twin unstaged */
	unsigned passed = 0;

	for (unsigned i = 0; i < NP; i++) {
		struct rw_pkt alone = pk[i];
		uint32_t rule = 0, rule1 = 0;
		unsigned reason = 0, reason1 = 0;

		alone.ct_prep = 0;
		int want = rw_state_track(twin, &alone, SEC + 1, &rule1, &reason1);

		CHECK_EQ(rw_state_track(s, pp[i], SEC + 1, &rule, &reason), want);
		CHECK_EQ(rule, rule1);
		CHECK_EQ(reason, reason1);
		if (want == RW_TRACK_PASS) {
			CHECK_EQ(rule, i);
			passed++;
		}
	}
	CHECK_EQ(passed, N4 + N6);
	rw_state_destroy(twin);
	rw_state_destroy(s);
}

TEST(timeouts_fire_exactly_lazy_and_swept)
{
	struct rw_state *s = mk_state(1000, 0, 0);
	struct rw_state_stats st;
	uint32_t to[RW_TO_MAX];
	CHECK(s != NULL);
	if (!s)
		return;
	for (unsigned i = 0; i < RW_TO_MAX; i++)
		to[i] = 100 + i;
	rw_state_set_timeouts(s, to);

	/* lazy: looked up one ns before the timeout it lives, at it it dies */
	struct rw_pkt a = udp4(0x0a000001, 1, 0x0a000002, 2);
	rw_state_create(s, &a, 1, 5 * SEC);
	CHECK(alive(s, a, 5 * SEC + to[RW_TO_UDP_FIRST] * SEC - 1));
	CHECK(!alive(s, a, 5 * SEC + to[RW_TO_UDP_FIRST] * SEC));
	rw_state_stats(s, &st);
	CHECK_EQ(st.expired, 1);
	CHECK_EQ(st.current, 0);

	/* swept: a full pass one ns early reclaims nothing, at the time all */
	for (unsigned i = 0; i < 50; i++) {
		struct rw_pkt p = udp4(0x0b000000 + i, 1, 0x0a000002, 2);
		rw_state_create(s, &p, 1, 10 * SEC);
	}
	struct rw_pkt o = {.af = RW_AF_INET, .proto = 47}; /* GRE: other.first */
	v4(o.saddr, 1), v4(o.daddr, 2);
	rw_state_create(s, &o, 1, 10 * SEC);
	rw_state_expire(s, 10 * SEC + to[RW_TO_UDP_FIRST] * SEC - 1, 1u << 20);
	rw_state_stats(s, &st);
	CHECK_EQ(st.current, 51);
	rw_state_expire(s, 10 * SEC + to[RW_TO_UDP_FIRST] * SEC, 1u << 20);
	rw_state_stats(s, &st);
	CHECK_EQ(st.current, 1);
	CHECK_EQ(st.expired, 51);
	CHECK(alive(s, o, 10 * SEC + to[RW_TO_OTHER_FIRST] * SEC - 1));
	CHECK(!alive(s, o, 10 * SEC + to[RW_TO_OTHER_FIRST] * SEC));

	/* a small budget advances a cursor: enough calls cover the table */
	for (unsigned i = 0; i < 20; i++) {
		struct rw_pkt p = udp4(0x0c000000 + i, 1, 0x0a000002, 2);
		rw_state_create(s, &p, 1, 20 * SEC);
	}
	uint64_t t = 20 * SEC + to[RW_TO_UDP_FIRST] * SEC;
	rw_state_expire(s, t, 16);
	rw_state_stats(s, &st);
	CHECK(st.current > 0); /* 16 slots cannot hold all 20 */
	for (unsigned i = 0; i < 2000 && st.current; i++) {
		rw_state_expire(s, t, 16);
		rw_state_stats(s, &st);
	}
	CHECK_EQ(st.current, 0);

	/* a reload changes the expiry of existing entries */
	rw_state_create(s, &a, 1, 30 * SEC);
	to[RW_TO_UDP_FIRST] = 5;
	rw_state_set_timeouts(s, to);
	CHECK(!alive(s, a, 35 * SEC));
	rw_state_destroy(s);
}

TEST(adaptive_timeouts_scale_like_pf)
{
	/* start 10, end 30: with 20 states timeouts are halved */
	struct rw_state *s = mk_state(1000, 10, 30);
	uint32_t to[RW_TO_MAX];
	CHECK(s != NULL);
	if (!s)
		return;
	for (unsigned i = 0; i < RW_TO_MAX; i++)
		to[i] = 100;
	rw_state_set_timeouts(s, to);
	for (unsigned i = 0; i < 20; i++) {
		struct rw_pkt p = udp4(0x0b000000 + i, 1, 0x0a000002, 2);
		rw_state_create(s, &p, 1, SEC);
	}
	struct rw_pkt first = udp4(0x0b000000, 1, 0x0a000002, 2);
	CHECK(alive(s, first, SEC + 50 * SEC - 1));
	/* now 20 live: 100 s * (30 - 20) / (30 - 10) = 50 s */
	CHECK(!alive(s, first, SEC + 50 * SEC));
	/* at or beyond end everything is due at once */
	for (unsigned i = 20; i < 40; i++) {
		struct rw_pkt p = udp4(0x0b000000 + i, 1, 0x0a000002, 2);
		rw_state_create(s, &p, 1, 2 * SEC);
	}
	struct rw_pkt last = udp4(0x0b000000 + 39, 1, 0x0a000002, 2);
	CHECK(!alive(s, last, 2 * SEC));
	rw_state_destroy(s);
}

static struct rw_pkt syn4(uint32_t sip, uint16_t sp, uint32_t dip, uint16_t dp, uint8_t fl,
			  uint32_t seq, uint32_t ack)
{
	struct rw_pkt p = {.af = RW_AF_INET, .proto = RW_PROTO_TCP, .flags = RW_PKT_L4,
			   .sport = sp, .dport = dp, .tcp_flags = fl, .tcp_seq = seq,
			   .tcp_ack = ack, .tcp_win = 65535, .tcp_wscale = RW_WSCALE_NONE};
	v4(p.saddr, sip);
	v4(p.daddr, dip);
	return p;
}

static void establish(struct rw_state *s, uint32_t sip, uint16_t sp, uint64_t now)
{
	struct rw_pkt a = syn4(sip, sp, 0xc0a80001, 80, RW_TH_SYN, 1000, 0);
	rw_state_create(s, &a, 1, now);
	track(s, rev(syn4(sip, sp, 0xc0a80001, 80, RW_TH_SYN | RW_TH_ACK, 5000, 1001)), now);
	track(s, syn4(sip, sp, 0xc0a80001, 80, RW_TH_ACK, 1001, 5001), now);
}

static int est_alive;
static int count_est(const struct rw_conn_info *ci, void *arg)
{
	(void)arg;
	est_alive += strcmp(ci->state, "ESTABLISHED:ESTABLISHED") == 0;
	return 0;
}

TEST(full_table_evicts_only_embryonic)
{
	enum { CAP = 2000, NEST = 1000 };
	struct rw_state *s = mk_state(CAP, 0, 0);
	struct rw_state_stats st;
	unsigned refused = 0;
	CHECK(s != NULL);
	if (!s)
		return;
	for (unsigned i = 0; i < NEST; i++)
		establish(s, 0x0a000000 + i, 1000, SEC);
	rw_state_walk(s, count_est, NULL);
	CHECK_EQ(est_alive, NEST);
	/* embryonic until the count limit */
	for (unsigned i = 0; i < CAP - NEST; i++) {
		struct rw_pkt p = syn4(0x0b000000 + i, 2000, 0xc0a80001, 80, RW_TH_SYN, 1, 0);
		refused += rw_state_create(s, &p, 2, 2 * SEC + i) != RW_PASS;
	}
	rw_state_stats(s, &st);
	/* near the limit a key can find both buckets full: an embryonic
	 * neighbour goes then, so each SYN is stored, stored by eviction, or
	 * refused */
	CHECK_EQ(st.current + refused + st.evicted, CAP);
	uint64_t ev0 = st.evicted, rf0 = st.refused, room = CAP - st.current;
	/* a SYN flood: every new SYN pushes out an embryonic one, or is refused
	 * when its two buckets hold only established connections */
	unsigned ok = 0;
	for (unsigned i = 0; i < 5000; i++) {
		struct rw_pkt p = syn4(0x0c000000 + i, 3000, 0xc0a80001, 80, RW_TH_SYN, 1, 0);
		unsigned r = rw_state_create(s, &p, 3, 10 * SEC + i);
		CHECK(r == RW_PASS || r == RW_DROP_STATE_FULL);
		ok += r == RW_PASS;
	}
	rw_state_stats(s, &st);
	CHECK(st.current <= CAP);
	CHECK(st.evicted - ev0 > 4000);
	CHECK_EQ(st.evicted - ev0, ok - room); /* room: free count left by the fill */
	CHECK_EQ(st.current, CAP);
	CHECK_EQ(st.refused - rf0, 5000 - ok);
	est_alive = 0;
	rw_state_walk(s, count_est, NULL);
	CHECK_EQ(est_alive, NEST); /* every established connection survived */
	/* and they still pass traffic */
	CHECK_EQ(track(s, syn4(0x0a000005, 1000, 0xc0a80001, 80, RW_TH_ACK, 1001, 5001), 11 * SEC),
		 RW_TRACK_PASS);
	rw_state_destroy(s);

	/* only established: nothing can be evicted, inserts are refused */
	s = mk_state(200, 0, 0);
	if (!s)
		return;
	for (unsigned i = 0; i < 200; i++)
		establish(s, 0x0a000000 + i, 1000, SEC);
	rw_state_stats(s, &st);
	CHECK_EQ(st.current, 200); /* relocation found room for every one */
	CHECK_EQ(st.refused, 0);
	struct rw_pkt p = syn4(0x0d000000, 1, 0xc0a80001, 80, RW_TH_SYN, 1, 0);
	unsigned r = rw_state_create(s, &p, 3, 2 * SEC);
	rw_state_stats(s, &st);
	CHECK_EQ(r, RW_DROP_STATE_FULL);
	CHECK_EQ(st.refused, 1);
	CHECK_EQ(st.evicted, 0);
	CHECK(st.current <= 200);
	rw_state_destroy(s);
}

/* Filled to its count limit with established entries, the table takes
 * every one: both buckets full sends entries to their other buckets (cuckoo
 * relocation) rather than refusing. Both hash implementations, and then
 * every key is still found where it is. */
static void fill_full(bool sip, uint64_t cap)
{
	struct rw_conn_ctx x = {.capacity = cap};
	struct rw_ctable t;
	struct rw_khash kh;
	char err[128];
	uint64_t lost = 0;

	for (unsigned i = 0; i < RW_TO_MAX; i++)
		x.to_ms[i] = 1000000;
	CHECK_EQ(rw_ctable_init(&t, &x, cap, 64, 16, err, sizeof(err)), 0);
	rw_khash_init(&kh, key0, sip);
	t.kh = &kh;
	for (uint64_t i = 0; i < cap; i++) {
		struct rw_key4 k = {.addr = {(uint32_t)i, 0xc0a80001u}, .port = {(uint16_t)(i >> 32), 443},
				    .proto = 6};
		uint32_t s;
		if (rw_ctable_insert(&t, &k, rw_khash(&kh, &k, 16), 1, &s) != RW_PASS)
			continue;
		rw_ctable_conn(&t, s)->flags = RW_CF_SOLID;
		rw_ctable_conn(&t, s)->last = 1;
		rw_ctable_note_expiry(&t, s, 1 + x.to_ms[0] * 1000000u);
	}
	CHECK_EQ(x.refused, 0);
	CHECK_EQ(x.evicted, 0);
	CHECK_EQ(x.live, cap);
	CHECK(x.relocated > 0);
	for (uint64_t i = 0; i < cap; i++) {
		struct rw_key4 k = {.addr = {(uint32_t)i, 0xc0a80001u}, .port = {(uint16_t)(i >> 32), 443},
				    .proto = 6};
		lost += rw_ctable_find(&t, &k, rw_khash(&kh, &k, 16), 2, RW_CT_NONE) == RW_CT_NONE;
	}
	CHECK_EQ(lost, 0);
	printf("# fill %s %llu: %llu relocations\n", sip ? "siphash" : "fast", (unsigned long long)cap,
	       (unsigned long long)x.relocated);
	rw_ctable_fini(&t);
}

TEST(fill_to_capacity_without_refusal)
{
	fill_full(true, 200000);
	fill_full(false, 200000);
	fill_full(false, 1000);
}

/* The paced sweep visits every slot once per "timeout interval", in small steps,
 * whatever the call rate: entries that went quiet are gone one period after
 * their timeout even with no lookups, and no call sweeps more than its max. */
TEST(paced_sweep_covers_the_table_once_a_period)
{
	struct rw_state *s = mk_state(5000, 0, 0);
	struct rw_state_stats st;
	CHECK(s != NULL);
	if (!s)
		return;
	uint64_t total = rw_ctable_nslots(&s->t4) + rw_ctable_nslots(&s->t6), t = SEC;
	for (unsigned i = 0; i < 100; i++) {
		struct rw_pkt p = udp4(0x0a000000 + i, 1000, 0xc0a80001, 53);
		CHECK_EQ(rw_state_create(s, &p, 1, t), RW_PASS);
	}
	s->ctx.to_ms[RW_TO_INTERVAL] = 5000; /* "set timeout interval 5": shorter than udp.first */
	uint64_t period = 5 * SEC;
	rw_state_expire_paced(s, t, 16); /* first call: starts the pace */
	uint64_t c0 = s->cursor, swept = 0, most = 0;
	/* one period in 1 ms steps: the whole table, a little at a time */
	for (uint64_t k = 1; k <= period / 1000000; k++) {
		uint64_t before = s->cursor;
		rw_state_expire_paced(s, t + k * 1000000, 16);
		uint64_t d = (s->cursor + total - before) % total;
		swept += d;
		most = RW_MAX(most, d);
	}
	CHECK(swept + 2 >= total && swept <= total + 2);
	CHECK(most <= 16);
	CHECK(s->cursor != c0 || swept % total == 0);
	rw_state_stats(s, &st);
	CHECK_EQ(st.current, 100); /* nothing was due yet */
	/* past the timeout (udp.first is 10 + RW_TO_UDP_FIRST s here) plus one
	 * period, every entry has been met by the sweep */
	uint64_t due = SEC + (10 + RW_TO_UDP_FIRST) * SEC;
	for (t = due; t <= due + period + 10000000; t += 1000000)
		rw_state_expire_paced(s, t, 16);
	rw_state_stats(s, &st);
	CHECK_EQ(st.current, 0);
	CHECK_EQ(st.expired, 100);
	rw_state_destroy(s);
}

/* The sweep passes over buckets whose bound says nothing can have expired
 * (no entry line read), and a shortened timeout lowers the bound. */
TEST(sweep_skips_quiet_buckets_and_honours_shorter_timeouts)
{
	struct rw_conn_ctx x = {.capacity = 64};
	struct rw_ctable t;
	struct rw_khash kh;
	char err[128];
	uint32_t slot[2];

	x.to_ms[0] = 1000 * 1000; /* 1000 s */
	x.to_ms[1] = 5 * 1000;    /* 5 s */
	CHECK_EQ(rw_ctable_init(&t, &x, 64, 64, 16, err, sizeof(err)), 0);
	rw_khash_init(&kh, key0, true);
	t.kh = &kh;
	for (unsigned i = 0; i < 2; i++) {
		struct rw_key4 k = {.addr = {i + 1, 2}, .port = {3, 4}, .proto = 6};
		CHECK_EQ(rw_ctable_insert(&t, &k, rw_khash(&kh, &k, 16), SEC, &slot[i]), RW_PASS);
		rw_ctable_conn(&t, slot[i])->last = SEC;
		rw_ctable_conn(&t, slot[i])->to = 0;
		rw_ctable_note_expiry(&t, slot[i], SEC + x.to_ms[0] * 1000000u);
	}
	CHECK_EQ(t.bound[slot[0] / RW_CT_SLOTS], 1001);
	uint32_t empty = 0;
	while (empty == slot[0] / RW_CT_SLOTS || empty == slot[1] / RW_CT_SLOTS)
		empty++;
	CHECK_EQ(t.bound[empty], UINT32_MAX); /* empty: nothing can expire */
	if (slot[0] / RW_CT_SLOTS == slot[1] / RW_CT_SLOTS) {
		printf("# both keys in one bucket: seed the test with other keys\n");
		CHECK(0);
		rw_ctable_fini(&t);
		return;
	}
	/* a full round: bounds now say 1001 s */
	rw_ctable_sweep(&t, 2 * SEC, 0, rw_ctable_nslots(&t));
	CHECK_EQ(t.bound[slot[0] / RW_CT_SLOTS], 1001);
	/* both move to the 5 s timeout; only the first tells the table */
	for (unsigned i = 0; i < 2; i++)
		rw_ctable_conn(&t, slot[i])->to = 1;
	rw_ctable_note_expiry(&t, slot[0], SEC + 5 * SEC);
	CHECK_EQ(rw_ctable_sweep(&t, 7 * SEC, 0, rw_ctable_nslots(&t)), 1);
	CHECK_EQ(t.tags[slot[0]], 0);
	CHECK(t.tags[slot[1]] != 0); /* its bucket was passed over: proof the skip happens */
	/* after a reload that shortened timeouts, nothing is skipped */
	x.bound_stale = rw_ctable_nslots(&t);
	CHECK_EQ(rw_ctable_sweep(&t, 7 * SEC, 0, rw_ctable_nslots(&t)), 1);
	CHECK_EQ(x.bound_stale, 0);
	CHECK_EQ(x.live, 0);
	rw_ctable_fini(&t);
}

TEST(bad_options_are_refused)
{
	struct rw_state_opts o = {.capacity = 0};
	char err[128] = "";
	CHECK(rw_state_create_shard(&o, err, sizeof(err)) == NULL);
	CHECK(err[0] != 0);
	o.capacity = 1ull << 40;
	CHECK(rw_state_create_shard(&o, err, sizeof(err)) == NULL);
	/* a zero hash key gets a random one rather than running unkeyed */
	o.capacity = 10;
	struct rw_state *s = rw_state_create_shard(&o, err, sizeof(err));
	CHECK(s != NULL);
	if (s)
		CHECK(s->hash_key[0] || s->hash_key[1]);
	rw_state_destroy(s);
}

/* Tables whose entries outgrow the caches prefetch into L2, smaller ones
 * into L1 (RW_CT_L2_PF_BYTES); the split is by the mapped entry region,
 * since live entries spread over all of it. */
TEST(prefetch_level_follows_table_size)
{
	struct rw_conn_ctx x = {.capacity = 1};
	struct rw_ctable t;
	char err[128];
	uint64_t below = RW_CT_L2_PF_BYTES / 64 / 2, above = RW_CT_L2_PF_BYTES / 64 * 2;

	CHECK_EQ(rw_ctable_init(&t, &x, below, 64, 16, err, sizeof(err)), 0);
	CHECK(!t.pf_l2);
	CHECK((uint64_t)rw_ctable_nslots(&t) * 64 <= RW_CT_L2_PF_BYTES);
	rw_ctable_fini(&t);
	CHECK_EQ(rw_ctable_init(&t, &x, above, 64, 16, err, sizeof(err)), 0);
	CHECK(t.pf_l2);
	rw_ctable_fini(&t);
	/* IPv6 entries are two lines: half as many connections pass it too */
	CHECK_EQ(rw_ctable_init(&t, &x, above / 2, 128, 40, err, sizeof(err)), 0);
	CHECK(t.pf_l2);
	rw_ctable_fini(&t);
}
