/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fragment reassembly, one struct rw_frag per worker, shared with no one.
 *
 * Fragments are copied into a pre-allocated arena and their ring frames are
 * released at once (holding ring frames would starve the rings). When every
 * fragment of a datagram is in, the datagram is rebuilt in a caller buffer
 * and parsed again by rw_parse(), so the worker judges it once, as a whole
 * packet, with a descriptor whose every offset and length is true. The
 * ORIGINAL fragments are then forwarded from the copies (rw_frag_frames) or
 * dropped together: MTU and DF semantics stay the sender's.
 *
 * Anything that could trick a reassembler ends the whole datagram with a
 * named reason (docs/fragments.md): overlap (teardrop, RFC 5722), a size
 * past 65,535 bytes (ping of death), contradicting last fragments, more than
 * RW_FRAG_MAX_PER_DGRAM fragments, no memory, timeout.
 *
 * Lifetime of a datagram: OPEN (in the hash and the age list) -> DONE
 * (rw_frag_add returned RW_FRAG_DONE; out of both, waiting for the verdict)
 * -> freed by rw_frag_release. A fragment that arrives after DONE starts a
 * new datagram.
 */
#ifndef RW_FRAG_H
#define RW_FRAG_H

#include "../common.h"
#include "../io/port.h"
#include "../pkt/pkt.h"

/*
 * Fragments one datagram may have. pf uses 64 too. Why 64: the largest
 * datagram (65,535 bytes) over IPv6's minimum MTU (1,280: 1,232 data bytes
 * per fragment) is 54 fragments, and over Ethernet (1,480) 45; IPv4 over the
 * old 576-byte minimum needs more only past 35 KB, which nothing sends. The
 * cap bounds the work one datagram can buy: each insert is checked against
 * every fragment already in (64 x 64 comparisons at worst).
 */
#define RW_FRAG_MAX_PER_DGRAM 64

/* Arena unit: one 1,500-byte-MTU frame with two VLAN tags fits in one
 * chunk, so nearly every fragment is one chunk and is re-emitted straight
 * from it. Larger (jumbo) frames are chained over several. */
#define RW_FRAG_CHUNK 2048

/*
 * Hard byte cap per worker, whatever "set limit frags" says. 64 MiB holds
 * 50 ms of fragments arriving at 10 Gb/s; a legitimate datagram completes
 * within one round trip of its first fragment (microseconds to a few ms),
 * so only an attack fills it, and then the oldest datagrams go first.
 */
#define RW_FRAG_BYTES_MAX (64ull << 20)

/* Size of the buffer rw_frag_add needs to rebuild a datagram: offsets in
 * struct rw_pkt are 16 bits, so a rebuilt frame (link header included)
 * cannot be longer than this. */
#define RW_FRAG_VIEW_MAX 65535u

#define RW_FRAG_NONE UINT32_MAX

struct rw_frag;

/* Fragments that were held and are now dropped (a later sibling showed an
 * overlap, expiry, eviction) are reported here, since their frames are long
 * gone: pkts frames of bytes total arrived on in_port, dropped for reason. */
typedef void rw_frag_drop_fn(void *arg, unsigned in_port, unsigned reason, unsigned pkts,
			     uint64_t bytes);

struct rw_frag_opts {
	uint64_t max_frags;      /* "set limit frags" (per worker) */
	uint64_t max_bytes;      /* 0 = RW_FRAG_BYTES_MAX; never above it */
	uint64_t hash_key[2];    /* keyed hash: nobody outside aims at a bucket */
	uint64_t timeout_ns;     /* "set timeout frag"; rw_frag_expire updates it */
	rw_frag_drop_fn *drop;   /* may be NULL */
	void *drop_arg;
};

struct rw_frag_stats {
	uint64_t held_frags, held_bytes; /* now in the arena (frame bytes) */
	uint64_t open_dgrams;            /* incomplete datagrams now */
	uint64_t reassembled;            /* datagrams completed and verified */
	uint64_t expired_dgrams, expired_frags;
	uint64_t evicted_dgrams;         /* pushed out to make room (frag-no-memory) */
	uint64_t dropped_dgrams;         /* ended whole for any reason, expiry included */
	uint64_t max_frags, max_bytes;   /* the effective limits */
};

enum rw_frag_result {
	RW_FRAG_HELD = 0, /* copied and kept: release the frame, it is not a drop */
	RW_FRAG_DONE = 1, /* completed a datagram: see rw_frag_add */
	RW_FRAG_DROP = 2, /* drop this frame for *reason */
};

struct rw_frag *rw_frag_create(const struct rw_frag_opts *o, char *err, size_t errlen);
void rw_frag_destroy(struct rw_frag *f);

/*
 * Offer the fragment p (rw_parse passed it, RW_PKT_FRAG set, in_port set)
 * whose frame is fr, at time now (ns). On RW_FRAG_DONE the datagram is
 * rebuilt in view_buf (RW_FRAG_VIEW_MAX bytes, the caller's until it has
 * judged p), *p is replaced by rw_parse's descriptor of it (in_port kept)
 * and *dg names it for rw_frag_frames/rw_frag_release. A rebuilt datagram
 * that rw_parse refuses is dropped whole with rw_parse's reason.
 */
enum rw_frag_result rw_frag_add(struct rw_frag *f, struct rw_pkt *p, const struct rw_frame *fr,
				uint64_t now, const struct rw_parse_opts *po, uint8_t *view_buf,
				uint32_t *dg, unsigned *reason);

/*
 * The frames of DONE datagram dg, in arrival order, as frames no ring owns
 * (handle 0) pointing into the arena; valid until the next call or
 * rw_frag_release. Returns how many (<= RW_FRAG_MAX_PER_DGRAM).
 */
unsigned rw_frag_frames(struct rw_frag *f, uint32_t dg, struct rw_frame *out);

/* Free DONE datagram dg (after its frames were sent or dropped). */
void rw_frag_release(struct rw_frag *f, uint32_t dg);

/* Expire datagrams whose first fragment is timeout_ns old, at most budget
 * of them: bounded work per burst. Returns how many expired. */
unsigned rw_frag_expire(struct rw_frag *f, uint64_t now, uint64_t timeout_ns, unsigned budget);

void rw_frag_stats(const struct rw_frag *f, struct rw_frag_stats *out);

/*
 * rw_parse's RW_DROP_FRAG and RW_DROP_IP6_EXT_SHORT, refined from the frame
 * into what the fragment did: frag-too-big (ping of death), frag-short-first
 * (transport header not in the first fragment), frag-ext-split (IPv6
 * extension headers cut by the first fragment's end, RFC 7112). Any other
 * reason is returned unchanged.
 */
unsigned rw_frag_refine(const struct rw_pkt *p, unsigned reason);

#endif
