/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fragment reassembly (frag.h has the contract, docs/fragments.md the
 * limits and why). Everything is allocated once, in rw_frag_create:
 *
 *   chunks   RW_FRAG_CHUNK-byte pieces of the arena; a fragment's frame copy
 *            is a chain of them (one, unless jumbo); free ones on a stack
 *   recs     one per held fragment: where its data lies, in arrival order
 *   dgs      one per datagram; OPEN ones sit in a keyed hash and in an age
 *            list (oldest first) that expiry and eviction pop from
 *
 * Nothing here allocates after creation, so memory can never grow past the
 * caps whatever arrives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../conn/hash.h"
#include "../worker/reasons.h"
#include "frag.h"

#define NIL UINT32_MAX

/* Datagrams evicted at most to make room for one fragment: bounds the work
 * one packet can cause; a jumbo fragment needs at most 33 chunks and every
 * eviction frees at least one. */
#define EVICT_MAX 8

/* Frame bytes one datagram may hold: its data (<= 65,535) plus the headers
 * of up to 64 fragments is far below this, even over 9,000-byte jumbo
 * frames (8 fragments, 72 KB); only padding the fragments with extension
 * headers gets near it. Also the size of the emission buffer for chained
 * frames, which therefore always suffices. */
#define RW_FRAG_DGRAM_BYTES (128u << 10)

/* The identity of a datagram. VLAN and ingress port are part of it so that
 * fragments from different segments or directions never mix; af keeps the
 * families apart (suricata's af-confusion spray). IPv4 includes the
 * protocol (RFC 791); IPv6 does not (RFC 8200 4.5: addresses and id). */
struct fkey {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint16_t vlan[2];
	uint8_t af, proto, in_port, nvlan;
};
static_assert(sizeof(struct fkey) == 44, "fkey is hashed and compared as bytes");

enum { DG_FREE = 0, DG_OPEN, DG_DONE };

struct frec {
	uint32_t next;     /* next fragment of the datagram, or free list */
	uint32_t chunk;    /* first chunk of the frame copy */
	uint32_t len;      /* frame length */
	uint32_t off, end; /* fragmentable bytes [off, end) of the datagram */
	uint16_t data_off; /* where they start in the frame */
	uint64_t ts_ns;
};

struct fdg {
	struct fkey key;
	uint32_t hnext;          /* hash chain */
	uint32_t older, newer;   /* age list; newer doubles as free list */
	uint32_t first, last;    /* fragments in arrival order */
	uint32_t head;           /* the offset-0 fragment, NIL until it came */
	uint32_t total;          /* fragmentable length, 0 until the last fragment */
	uint32_t have;           /* bytes held; no overlaps, so complete at have == total */
	uint32_t max_end;
	uint32_t bytes;          /* frame bytes held */
	uint64_t born;
	uint16_t nfrags;
	uint8_t state;
};

struct rw_frag {
	uint8_t *arena;
	uint32_t *chunk_next;
	uint32_t *chunk_free;
	uint32_t nchunks, nfree_chunks;
	struct frec *recs;
	uint32_t nrecs, rec_free;
	struct fdg *dgs;
	uint32_t dg_free;
	uint32_t *buckets, mask;
	uint32_t oldest, newest;
	uint64_t timeout_ns;     /* the last rw_frag_expire's; 0 = none yet */
	uint64_t key[2];
	rw_frag_drop_fn *drop;
	void *drop_arg;
	struct rw_frag_stats st;
	uint8_t emit[RW_FRAG_DGRAM_BYTES]; /* linear copies of chained frames */
};

/* ---- arena ------------------------------------------------------------- */

static uint32_t chunks_for(uint32_t len)
{
	return (len + RW_FRAG_CHUNK - 1) / RW_FRAG_CHUNK;
}

static uint8_t *chunk_at(struct rw_frag *f, uint32_t c)
{
	return f->arena + (size_t)c * RW_FRAG_CHUNK;
}

/* Copy len bytes starting at byte off of the chain at c into dst. */
static void chain_read(struct rw_frag *f, uint32_t c, uint32_t off, uint8_t *dst, uint32_t len)
{
	while (off >= RW_FRAG_CHUNK) {
		c = f->chunk_next[c];
		off -= RW_FRAG_CHUNK;
	}
	while (len) {
		uint32_t k = RW_MIN(len, RW_FRAG_CHUNK - off);

		memcpy(dst, chunk_at(f, c) + off, k);
		dst += k;
		len -= k;
		off = 0;
		c = f->chunk_next[c];
	}
}

static bool chain_equal(struct rw_frag *f, uint32_t c, uint32_t off, const uint8_t *src, uint32_t len)
{
	while (off >= RW_FRAG_CHUNK) {
		c = f->chunk_next[c];
		off -= RW_FRAG_CHUNK;
	}
	while (len) {
		uint32_t k = RW_MIN(len, RW_FRAG_CHUNK - off);

		if (memcmp(src, chunk_at(f, c) + off, k))
			return false;
		src += k;
		len -= k;
		off = 0;
		c = f->chunk_next[c];
	}
	return true;
}

/* Store a frame copy; the caller checked that enough chunks are free. */
static uint32_t chain_store(struct rw_frag *f, const uint8_t *src, uint32_t len)
{
	uint32_t n = chunks_for(len), head = NIL, prev = NIL;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = f->chunk_free[--f->nfree_chunks];
		uint32_t k = RW_MIN(len, (uint32_t)RW_FRAG_CHUNK);

		memcpy(chunk_at(f, c), src, k);
		src += k;
		len -= k;
		f->chunk_next[c] = NIL;
		if (prev == NIL)
			head = c;
		else
			f->chunk_next[prev] = c;
		prev = c;
	}
	return head;
}

static void chain_free(struct rw_frag *f, uint32_t c)
{
	while (c != NIL) {
		f->chunk_free[f->nfree_chunks++] = c;
		c = f->chunk_next[c];
	}
}

/* ---- datagrams ---------------------------------------------------------- */

static uint32_t bucket_of(const struct rw_frag *f, const struct fkey *k)
{
	return (uint32_t)rw_siphash13(f->key, k, sizeof(*k)) & f->mask;
}

static uint32_t dg_find(struct rw_frag *f, const struct fkey *k)
{
	for (uint32_t d = f->buckets[bucket_of(f, k)]; d != NIL; d = f->dgs[d].hnext)
		if (!memcmp(&f->dgs[d].key, k, sizeof(*k)))
			return d;
	return NIL;
}

static void age_unlink(struct rw_frag *f, uint32_t d)
{
	struct fdg *g = &f->dgs[d];

	if (g->older != NIL)
		f->dgs[g->older].newer = g->newer;
	else
		f->oldest = g->newer;
	if (g->newer != NIL)
		f->dgs[g->newer].older = g->older;
	else
		f->newest = g->older;
}

/* Take an OPEN datagram out of the hash and the age list. */
static void dg_close(struct rw_frag *f, uint32_t d)
{
	uint32_t *pp = &f->buckets[bucket_of(f, &f->dgs[d].key)];

	while (*pp != d)
		pp = &f->dgs[*pp].hnext;
	*pp = f->dgs[d].hnext;
	age_unlink(f, d);
	f->st.open_dgrams--;
}

/* Free the fragments and the entry (closed first if OPEN). */
static void dg_free(struct rw_frag *f, uint32_t d)
{
	struct fdg *g = &f->dgs[d];

	if (g->state == DG_OPEN)
		dg_close(f, d);
	for (uint32_t r = g->first, nx; r != NIL; r = nx) {
		nx = f->recs[r].next;
		chain_free(f, f->recs[r].chunk);
		f->recs[r].next = f->rec_free;
		f->rec_free = r;
	}
	f->st.held_frags -= g->nfrags;
	f->st.held_bytes -= g->bytes;
	g->state = DG_FREE;
	g->newer = f->dg_free;
	f->dg_free = d;
}

/* End datagram d for reason, reporting its held fragments. */
static void dg_drop(struct rw_frag *f, uint32_t d, unsigned reason)
{
	struct fdg *g = &f->dgs[d];

	if (g->nfrags && f->drop)
		f->drop(f->drop_arg, g->key.in_port, reason, g->nfrags, g->bytes);
	f->st.dropped_dgrams++;
	dg_free(f, d);
}

static void dg_expire(struct rw_frag *f, uint32_t d)
{
	f->st.expired_dgrams++;
	f->st.expired_frags += f->dgs[d].nfrags;
	dg_drop(f, d, RW_DROP_FRAG_TIMEOUT);
}

static uint32_t dg_new(struct rw_frag *f, const struct fkey *k, uint64_t now)
{
	uint32_t d = f->dg_free, b;
	struct fdg *g;

	if (d == NIL)
		return NIL;
	g = &f->dgs[d];
	f->dg_free = g->newer;
	memset(g, 0, sizeof(*g));
	g->key = *k;
	g->first = g->last = g->head = NIL;
	g->born = now;
	g->state = DG_OPEN;
	b = bucket_of(f, k);
	g->hnext = f->buckets[b];
	f->buckets[b] = d;
	g->older = f->newest;
	g->newer = NIL;
	if (f->newest != NIL)
		f->dgs[f->newest].newer = d;
	else
		f->oldest = d;
	f->newest = d;
	f->st.open_dgrams++;
	return d;
}

/* Room for a frame of len bytes, evicting the oldest datagrams other than
 * keep (counted as frag-no-memory) when the arena is full. */
static bool make_room(struct rw_frag *f, uint32_t len, uint32_t keep)
{
	uint32_t need = chunks_for(len);

	for (unsigned i = 0; i < EVICT_MAX; i++) {
		uint32_t d = f->oldest;

		if (f->nfree_chunks >= need && f->rec_free != NIL && f->dg_free != NIL)
			return true;
		if (d == keep && d != NIL)
			d = f->dgs[d].newer;
		if (d == NIL)
			return false;
		f->st.evicted_dgrams++;
		dg_drop(f, d, RW_DROP_FRAG_NO_MEMORY);
	}
	return f->nfree_chunks >= need && f->rec_free != NIL && f->dg_free != NIL;
}

/* ---- one fragment --------------------------------------------------------- */

/* What the fragment is, from its descriptor and frame. */
struct fview {
	struct fkey key;
	uint32_t off, end;   /* fragmentable bytes of the datagram */
	uint16_t data_off;   /* in the frame */
	uint16_t prefix;     /* bytes of the rebuilt frame before offset 0 */
	uint16_t nh_off;     /* IPv6: the next-header byte naming the fragment header */
	bool more;
};

/*
 * IPv6: find the fragment header in the chain at ip[40..) (the parser
 * walked it, so every header lies inside the packet). *nh_off is the byte
 * that names it. Returns its offset from the frame start, or 0.
 */
static uint32_t ip6_frag_hdr(const uint8_t *d, uint32_t l3, uint32_t end, uint16_t *nh_off)
{
	uint32_t off = l3 + 40, nho = l3 + 6;

	for (unsigned n = 0; n < 16 && off + 8 <= end; n++) {
		uint8_t nh = d[nho];

		if (nh == 44) {
			*nh_off = (uint16_t)nho;
			return off;
		}
		if (nh != 0 && nh != 43 && nh != 60 && nh != 51)
			return 0;
		nho = off;
		off += nh == 51 ? (d[off + 1] + 2u) * 4 : (d[off + 1] + 1u) * 8;
	}
	return 0;
}

static int describe(const struct rw_pkt *p, struct fview *v)
{
	const uint8_t *d = p->data, *ip = d + p->l3_off;
	uint32_t end = p->l3_off + p->l3_len, fh;

	memset(&v->key, 0, sizeof(v->key));
	memcpy(v->key.src, p->saddr, 16);
	memcpy(v->key.dst, p->daddr, 16);
	v->key.id = p->frag_id;
	v->key.af = p->af;
	v->key.in_port = p->in_port;
	v->key.nvlan = p->nvlan;
	for (unsigned i = 0; i < p->nvlan && i < 2; i++)
		v->key.vlan[i] = p->vlan[i];
	v->off = p->frag_off;
	if (p->af == RW_AF_INET) {
		v->key.proto = p->proto;
		v->data_off = (uint16_t)(p->l3_off + (ip[0] & 0x0fu) * 4);
		v->prefix = v->data_off;
		v->more = ip[6] & 0x20;
		v->nh_off = 0;
	} else {
		fh = ip6_frag_hdr(d, p->l3_off, end, &v->nh_off);
		if (unlikely(!fh))
			return RW_DROP_FRAG_EXT_SPLIT; /* cannot happen after rw_parse */
		v->data_off = (uint16_t)(fh + 8);
		v->prefix = (uint16_t)fh; /* the fragment header goes */
		v->more = d[fh + 3] & 1;
	}
	v->end = v->off + (end - v->data_off);
	/* The rebuilt frame must fit the descriptor's 16-bit offsets; that
	 * also bounds the IP length by 65,535 (the ping of death). */
	if (unlikely(v->prefix + v->end > RW_FRAG_VIEW_MAX))
		return RW_DROP_FRAG_TOO_BIG;
	return RW_PASS;
}

/* Lengths that contradict what the datagram already said. */
static int check_lengths(const struct fdg *g, const struct fview *v)
{
	if (!v->more) {
		if (g->total && v->end != g->total)
			return RW_DROP_FRAG_INCONSISTENT;
		if (v->end < g->max_end)
			return RW_DROP_FRAG_INCONSISTENT;
	} else if (g->total && v->end > g->total) {
		return RW_DROP_FRAG_INCONSISTENT;
	}
	return RW_PASS;
}

/* Overlap with a held fragment ends the datagram; an exact copy (same range,
 * same bytes) is only itself dropped: networks duplicate, and forwarding one
 * copy gives the host nothing to choose between. */
static int check_overlap(struct rw_frag *f, const struct fdg *g, const struct fview *v,
			 const uint8_t *frame)
{
	for (uint32_t r = g->first; r != NIL; r = f->recs[r].next) {
		const struct frec *h = &f->recs[r];

		if (v->end <= h->off || v->off >= h->end)
			continue;
		if (v->off == h->off && v->end == h->end &&
		    chain_equal(f, h->chunk, h->data_off, frame + v->data_off, v->end - v->off))
			return RW_DROP_FRAG_DUPLICATE;
		return RW_DROP_FRAG_OVERLAP;
	}
	return RW_PASS;
}

static void hold(struct rw_frag *f, uint32_t d, const struct fview *v, const struct rw_frame *fr,
		 uint64_t now)
{
	struct fdg *g = &f->dgs[d];
	uint32_t r = f->rec_free;
	struct frec *h = &f->recs[r];

	f->rec_free = h->next;
	h->next = NIL;
	h->chunk = chain_store(f, fr->data, fr->len);
	h->len = fr->len;
	h->off = v->off;
	h->end = v->end;
	h->data_off = v->data_off;
	h->ts_ns = fr->ts_ns ? fr->ts_ns : now;
	if (g->last == NIL)
		g->first = r;
	else
		f->recs[g->last].next = r;
	g->last = r;
	if (v->off == 0)
		g->head = r;
	if (!v->more)
		g->total = v->end;
	g->max_end = RW_MAX(g->max_end, v->end);
	g->have += v->end - v->off;
	g->bytes += fr->len;
	g->nfrags++;
	f->st.held_frags++;
	f->st.held_bytes += fr->len;
}

/* ---- completion ----------------------------------------------------------- */

/* Rebuild datagram d in buf as one packet (the first fragment's headers,
 * fixed up, then every fragment's data at its offset) and parse it. */
static int rebuild(struct rw_frag *f, uint32_t d, struct rw_pkt *p, const struct rw_parse_opts *po,
		   uint8_t *buf)
{
	struct fdg *g = &f->dgs[d];
	const struct frec *h = &f->recs[g->head];
	uint8_t in_port = p->in_port;
	uint32_t len;
	int ret;
	uint16_t l3 = p->l3_off;

	/* p is a fragment of this datagram (same key), not necessarily the
	 * first: re-read the first's header from its copy. */
	chain_read(f, h->chunk, 0, buf, h->data_off);
	if (p->af == RW_AF_INET) {
		uint32_t hl = h->data_off - l3;
		uint8_t *ip = buf + l3;
		uint16_t tot = (uint16_t)(hl + g->total), sum;

		if (unlikely(h->data_off + g->total > RW_FRAG_VIEW_MAX))
			return RW_DROP_FRAG_TOO_BIG;
		ip[2] = (uint8_t)(tot >> 8);
		ip[3] = (uint8_t)tot;
		ip[6] &= 0x40; /* keep DF; clear MF and the offset */
		ip[7] = 0;
		ip[10] = ip[11] = 0;
		sum = rw_csum_fold(rw_csum_partial(ip, hl, 0));
		memcpy(ip + 10, &sum, 2);
		len = h->data_off + g->total;
		for (uint32_t r = g->first; r != NIL; r = f->recs[r].next)
			chain_read(f, f->recs[r].chunk, f->recs[r].data_off, buf + h->data_off + f->recs[r].off,
				   f->recs[r].end - f->recs[r].off);
	} else {
		uint32_t fh = h->data_off - 8u, plen;
		uint16_t nh_off;

		if (unlikely(fh + g->total > RW_FRAG_VIEW_MAX))
			return RW_DROP_FRAG_TOO_BIG;
		if (unlikely(ip6_frag_hdr(buf, l3, fh + 8, &nh_off) != fh))
			return RW_DROP_FRAG_EXT_SPLIT;
		buf[nh_off] = buf[fh]; /* unlink the fragment header */
		plen = fh - (l3 + 40u) + g->total;
		if (unlikely(plen > 0xffff))
			return RW_DROP_FRAG_TOO_BIG;
		buf[l3 + 4] = (uint8_t)(plen >> 8);
		buf[l3 + 5] = (uint8_t)plen;
		len = fh + g->total;
		for (uint32_t r = g->first; r != NIL; r = f->recs[r].next)
			chain_read(f, f->recs[r].chunk, f->recs[r].data_off, buf + fh + f->recs[r].off,
				   f->recs[r].end - f->recs[r].off);
	}
	ret = rw_parse(p, buf, len, po);
	p->in_port = in_port;
	return ret;
}

/* ---- the interface ------------------------------------------------------- */

enum rw_frag_result rw_frag_add(struct rw_frag *f, struct rw_pkt *p, const struct rw_frame *fr,
				uint64_t now, const struct rw_parse_opts *po, uint8_t *view_buf,
				uint32_t *dg, unsigned *reason)
{
	struct fview v;
	struct fdg *g;
	uint32_t d;
	int ret;

	*dg = RW_FRAG_NONE;
	ret = describe(p, &v);
	d = dg_find(f, &v.key);
	/* Expiry runs after the burst: a datagram already past its time must
	 * not be completed by a straggler in this one. */
	if (d != NIL && f->timeout_ns && now - f->dgs[d].born >= f->timeout_ns && now >= f->dgs[d].born) {
		dg_expire(f, d);
		d = NIL;
	}
	if (unlikely(ret))
		goto out_drop_all;
	if (d != NIL) {
		ret = check_lengths(&f->dgs[d], &v);
		if (unlikely(ret))
			goto out_drop_all;
		ret = check_overlap(f, &f->dgs[d], &v, fr->data);
		if (unlikely(ret == RW_DROP_FRAG_DUPLICATE))
			goto out_drop_one;
		if (unlikely(ret))
			goto out_drop_all;
		if (unlikely(f->dgs[d].nfrags >= RW_FRAG_MAX_PER_DGRAM)) {
			ret = RW_DROP_FRAG_TOO_MANY;
			goto out_drop_all;
		}
		if (unlikely(f->dgs[d].bytes + fr->len > RW_FRAG_DGRAM_BYTES)) {
			ret = RW_DROP_FRAG_TOO_BIG;
			goto out_drop_all;
		}
	}
	if (unlikely(!make_room(f, fr->len, d))) {
		ret = RW_DROP_FRAG_NO_MEMORY;
		goto out_drop_all;
	}
	if (d == NIL)
		d = dg_new(f, &v.key, now);
	hold(f, d, &v, fr, now);
	g = &f->dgs[d];

	if (g->head == NIL || !g->total || g->have != g->total)
		return RW_FRAG_HELD;
	dg_close(f, d);
	g->state = DG_DONE;
	ret = rebuild(f, d, p, po, view_buf);
	if (unlikely(ret)) {
		/* The caller counts this frame; report the others. */
		g->nfrags--;
		g->bytes -= fr->len;
		dg_drop(f, d, (unsigned)ret);
		f->st.held_frags--;
		f->st.held_bytes -= fr->len;
		*reason = (unsigned)ret;
		return RW_FRAG_DROP;
	}
	f->st.reassembled++;
	*dg = d;
	return RW_FRAG_DONE;

out_drop_all:
	if (d != NIL)
		dg_drop(f, d, (unsigned)ret);
out_drop_one:
	*reason = (unsigned)ret;
	return RW_FRAG_DROP;
}

unsigned rw_frag_frames(struct rw_frag *f, uint32_t dg, struct rw_frame *out)
{
	struct fdg *g = &f->dgs[dg];
	uint32_t used = 0;
	unsigned n = 0;

	for (uint32_t r = g->first; r != NIL && n < RW_FRAG_MAX_PER_DGRAM; r = f->recs[r].next) {
		const struct frec *h = &f->recs[r];
		uint8_t *data;

		if (h->len <= RW_FRAG_CHUNK) {
			data = chunk_at(f, h->chunk);
		} else {
			/* Chained (jumbo): a linear copy. Never overflows: a
			 * datagram holds at most RW_FRAG_DGRAM_BYTES. */
			if (unlikely(used + h->len > sizeof(f->emit)))
				break;
			data = f->emit + used;
			chain_read(f, h->chunk, 0, data, h->len);
			used += h->len;
		}
		out[n++] = (struct rw_frame){ .data = data, .len = h->len, .ts_ns = h->ts_ns, .handle = 0 };
	}
	return n;
}

void rw_frag_release(struct rw_frag *f, uint32_t dg)
{
	if (dg < f->nrecs && f->dgs[dg].state == DG_DONE)
		dg_free(f, dg);
}

unsigned rw_frag_expire(struct rw_frag *f, uint64_t now, uint64_t timeout_ns, unsigned budget)
{
	unsigned n = 0;

	f->timeout_ns = timeout_ns;
	while (n < budget && f->oldest != NIL) {
		struct fdg *g = &f->dgs[f->oldest];

		if (now < g->born || now - g->born < timeout_ns)
			break;
		dg_expire(f, f->oldest);
		n++;
	}
	return n;
}

void rw_frag_stats(const struct rw_frag *f, struct rw_frag_stats *out)
{
	*out = f->st;
}

/* ---- lifetime ------------------------------------------------------------- */

struct rw_frag *rw_frag_create(const struct rw_frag_opts *o, char *err, size_t errlen)
{
	uint64_t bytes = o->max_bytes && o->max_bytes < RW_FRAG_BYTES_MAX ? o->max_bytes : RW_FRAG_BYTES_MAX;
	uint64_t nchunks = RW_MIN(o->max_frags, bytes / RW_FRAG_CHUNK);
	uint32_t nb = 1;
	struct rw_frag *f;

	if (nchunks == 0) {
		snprintf(err, errlen, "fragment limit must allow at least one fragment");
		return NULL;
	}
	while (nb < nchunks)
		nb <<= 1;
	f = calloc(1, sizeof(*f));
	if (!f)
		goto out_nomem;
	f->nchunks = f->nrecs = (uint32_t)nchunks;
	/* calloc of large sizes maps fresh zero pages: the arena costs
	 * memory only where fragments were actually held. */
	f->arena = calloc(nchunks, RW_FRAG_CHUNK);
	f->chunk_next = calloc(nchunks, sizeof(*f->chunk_next));
	f->chunk_free = calloc(nchunks, sizeof(*f->chunk_free));
	f->recs = calloc(nchunks, sizeof(*f->recs));
	f->dgs = calloc(nchunks, sizeof(*f->dgs));
	f->buckets = malloc(nb * sizeof(*f->buckets));
	if (!f->arena || !f->chunk_next || !f->chunk_free || !f->recs || !f->dgs || !f->buckets)
		goto out_free;
	f->mask = nb - 1;
	memset(f->buckets, 0xff, nb * sizeof(*f->buckets));
	for (uint32_t i = 0; i < f->nchunks; i++) {
		f->chunk_free[i] = f->nchunks - 1 - i;
		f->recs[i].next = i + 1 < f->nrecs ? i + 1 : NIL;
		f->dgs[i].newer = i + 1 < f->nrecs ? i + 1 : NIL;
	}
	f->nfree_chunks = f->nchunks;
	f->rec_free = 0;
	f->dg_free = 0;
	f->oldest = f->newest = NIL;
	f->key[0] = o->hash_key[0];
	f->key[1] = o->hash_key[1];
	f->drop = o->drop;
	f->drop_arg = o->drop_arg;
	f->timeout_ns = o->timeout_ns;
	f->st.max_frags = nchunks;
	f->st.max_bytes = nchunks * RW_FRAG_CHUNK;
	return f;

out_free:
	rw_frag_destroy(f);
out_nomem:
	snprintf(err, errlen, "out of memory for %llu fragments", (unsigned long long)nchunks);
	return NULL;
}

void rw_frag_destroy(struct rw_frag *f)
{
	if (!f)
		return;
	free(f->arena);
	free(f->chunk_next);
	free(f->chunk_free);
	free(f->recs);
	free(f->dgs);
	free(f->buckets);
	free(f);
}

/* ---- refining the parser's stateless drops -------------------------------- */

static unsigned l4_min(const uint8_t *l4, uint32_t n, uint8_t proto)
{
	if (proto == RW_PROTO_TCP)
		return n >= 13 ? RW_MAX(20u, (l4[12] >> 4) * 4u) : 20;
	if (proto == RW_PROTO_UDP || proto == RW_PROTO_ICMP || proto == RW_PROTO_ICMP6)
		return 8;
	return 0;
}

/* RW_DROP_FRAG of an IP fragment: ping of death, short first, or (kept as
 * "frag") an empty fragment or one whose length is not a multiple of 8. */
static unsigned refine_frag(const struct rw_pkt *p, uint32_t before)
{
	uint32_t data = p->l3_off + p->l3_len - p->l4_off;

	if (p->frag_off) { /* later fragment (the flag may not be set yet) */
		if (before + p->frag_off + p->payload_len > 0xffff)
			return RW_DROP_FRAG_TOO_BIG;
		return RW_DROP_FRAG;
	}
	/* First fragment: l4_off is the transport header. */
	if (data < l4_min(p->data + p->l4_off, data, p->proto) || data == 0)
		return RW_DROP_FRAG_SHORT_FIRST;
	return RW_DROP_FRAG;
}

/* IPv6 whose chain ran past the packet: was it cut after a first
 * fragment's header (RFC 7112: the whole chain and the upper-layer header
 * belong in the first fragment), or is it just malformed? */
static bool ip6_split(const struct rw_pkt *p)
{
	const uint8_t *d = p->data;
	uint32_t l3 = p->l3_off, end, off = l3 + 40;
	uint8_t nh;

	if (p->ethertype != 0x86dd || p->len < l3 + 40u)
		return false;
	end = RW_MIN(p->len, l3 + 40u + (uint32_t)(d[l3 + 4] << 8 | d[l3 + 5]));
	nh = d[l3 + 6];
	for (unsigned n = 0; n < 16 && off + 8 <= end; n++) {
		uint32_t hl;

		if (nh == 44) /* offset 0 with M set: a first fragment */
			return ((d[off + 2] << 8 | d[off + 3]) & 0xfff9) == 1;
		if (nh != 0 && nh != 43 && nh != 60 && nh != 51)
			return false;
		hl = nh == 51 ? (d[off + 1] + 2u) * 4 : (d[off + 1] + 1u) * 8;
		nh = d[off];
		off += hl;
	}
	return false;
}

unsigned rw_frag_refine(const struct rw_pkt *p, unsigned reason)
{
	if (reason == RW_DROP_IP6_EXT_SHORT)
		return ip6_split(p) ? RW_DROP_FRAG_EXT_SPLIT : reason;
	if (reason != RW_DROP_FRAG || !(p->flags & RW_PKT_FRAG))
		return reason;
	if (p->af == RW_AF_INET)
		return refine_frag(p, 0);
	if (p->af == RW_AF_INET6) {
		uint16_t nh_off;
		uint32_t fh = ip6_frag_hdr(p->data, p->l3_off, p->l3_off + p->l3_len, &nh_off);

		if (!fh)
			return reason;
		return refine_frag(p, fh - (p->l3_off + 40u));
	}
	return reason;
}
