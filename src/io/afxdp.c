/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * afxdp: a Linux interface through AF_XDP sockets (libxdp's xsk API).
 *
 * Every afxdp port of the process that names the same pool (umem=, "bridge"
 * by default) shares one UMEM, so a frame received on port A is sent on
 * port B by moving its descriptor from A's RX ring to B's TX ring: the bytes
 * never move. The pool is created by the first port that opens and freed
 * when the last one closes (a small static table keyed by the pool name).
 *
 * The UMEM is cut into one slice per queue index, each with its own stack
 * of free frames. Worker q serves queue q of every port, so slice q is only
 * ever touched by one thread and needs no lock: its frames circulate
 * between the fill and RX rings of every port's queue q, the caller, and
 * the TX and completion rings of every port's queue q.
 *
 * The kernel needs, per (interface, queue): a socket with RX and TX rings,
 * and a fill and a completion ring; per interface: an XDP program and an
 * XSKMAP (xsk_prog.c). Zero-copy where the driver offers it, else copy mode
 * (the kernel chooses unless zerocopy= forces it; veth has no zero-copy).
 */
#ifdef RW_HAVE_XDP

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "port.h"
#include "spec.h"
#include "xsk_prog.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define XP_MAX_POOLS 8
#define XP_IDLE_SPINS 256 /* as in afpacket.c: per thread, across ports */
static __thread unsigned xp_idle;

enum xp_zc { XP_ZC_AUTO, XP_ZC_ON, XP_ZC_OFF };

struct xp_cfg {
	char ifname[IF_NAMESIZE];
	char pool[16];
	unsigned ring;        /* descriptors in each of the four rings */
	unsigned frames;      /* UMEM frames per queue (first port of a pool) */
	unsigned frame_size;  /* 2048 or 4096 */
	uint16_t kernel_type; /* EtherType left to the kernel, 0: none */
	enum rw_xdp_mode mode;
	enum xp_zc zc;
};

/* Free frames of one queue slice: a stack of UMEM frame addresses. */
struct xp_free {
	uint64_t *addr;
	unsigned n;
} rw_cache_aligned;

struct xp_pool {
	char name[16];
	unsigned refs;
	struct xsk_umem *umem;
	uint8_t *area;
	size_t area_len;
	unsigned frame_size, frames, nq;
	bool umem_used;       /* first socket bound: its rings came from umem create */
	struct xp_free free[];
};

struct xp_queue {
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx, cq;
	struct xsk_ring_prod tx, fq;
	struct xp_pool *pool;
	struct xp_free *free;
	int fd;
	unsigned tx_pending;  /* submitted, not yet kicked */
	uint64_t rx_frames, tx_frames, tx_full, tx_copied, kicks;
} rw_cache_aligned;

struct xp_port {
	struct xp_cfg cfg;
	struct rw_xsk_prog prog;
	struct xp_pool *pool;
	int ifindex;
	unsigned nq;
	struct xp_queue q[];
};

static struct xp_pool *xp_pools[XP_MAX_POOLS];
static pthread_mutex_t xp_pools_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- spec parsing ---------------------------------------------------- */

static const struct rw_spec_word xp_mode_words[] = {
	{ "auto", RW_XDP_AUTO }, { "native", RW_XDP_NATIVE }, { "generic", RW_XDP_GENERIC },
	{ NULL, 0 },
};
static const struct rw_spec_word xp_zc_words[] = {
	{ "auto", XP_ZC_AUTO }, { "on", XP_ZC_ON }, { "off", XP_ZC_OFF }, { NULL, 0 },
};
/* EtherTypes left to the kernel by name; any other as a number >= 0x600
 * (below that the field is an 802.3 length, not a type). */
static const struct rw_spec_word xp_kernel_words[] = {
	{ "none", 0 }, { "arp", ETH_P_ARP }, { "lldp", 0x88cc }, { NULL, 0 },
};

static const struct rw_spec_opt xp_opts[] = {
	RW_SPEC_POW2_OPT("ring", struct xp_cfg, ring, 64, 1u << 16),
	RW_SPEC_UINT_OPT("frames", struct xp_cfg, frames, 256, 1u << 22),
	RW_SPEC_POW2_OPT("frame", struct xp_cfg, frame_size, 2048, 4096),
	RW_SPEC_STR_OPT("umem", struct xp_cfg, pool),
	RW_SPEC_WORD_OPT("mode", struct xp_cfg, mode, xp_mode_words),
	RW_SPEC_WORD_OPT("zerocopy", struct xp_cfg, zc, xp_zc_words),
	RW_SPEC_WORD_OR_UINT_OPT("kernel", struct xp_cfg, kernel_type, xp_kernel_words, 0x600, 0xffff),
};

static int xp_parse(const char *arg, struct xp_cfg *c, char *err, size_t errlen)
{
	int rc;

	*c = (struct xp_cfg){ .pool = "bridge", .ring = 2048, .frames = 0, .frame_size = 2048 };
	rc = rw_spec_parse("afxdp", arg, c->ifname, c, xp_opts, RW_ARRAY_SIZE(xp_opts), err, errlen);
	if (rc)
		return rc;
	/* Room for two ports' fill rings plus a ring's worth in flight each
	 * way: below that a bridge can starve its own fill rings. */
	if (!c->frames)
		c->frames = 4 * c->ring;
	if (unlikely(c->frames < 2 * c->ring + 2)) {
		snprintf(err, errlen, "afxdp: frames=%u is below two fill rings (2 x ring=%u)", c->frames, c->ring);
		return -EINVAL;
	}
	return 0;
}

static int xp_check(const char *arg, char *err, size_t errlen)
{
	struct xp_cfg c;

	return xp_parse(arg, &c, err, errlen);
}

/* ---- the shared UMEM pool -------------------------------------------- */

static void xp_pool_free(struct xp_pool *pl)
{
	if (pl->umem)
		xsk_umem__delete(pl->umem);
	if (pl->area)
		munmap(pl->area, pl->area_len);
	for (unsigned i = 0; i < pl->nq; i++)
		free(pl->free[i].addr);
	free(pl);
}

/* Slice q holds frames [q*frames, (q+1)*frames). Frame 0 is never handed
 * out: handle 0 means "a frame no ring owns" to every backend. */
static int xp_pool_slices(struct xp_pool *pl)
{
	for (unsigned q = 0; q < pl->nq; q++) {
		struct xp_free *fr = &pl->free[q];

		/* Room for every frame of the pool: a frame handed from
		 * one worker to another comes back to the second's slice. */
		fr->addr = malloc((size_t)pl->nq * pl->frames * sizeof(*fr->addr));
		if (!fr->addr)
			return -ENOMEM;
		for (unsigned i = pl->frames; i-- > 0;) {
			uint64_t a = ((uint64_t)q * pl->frames + i) * pl->frame_size;

			if (a)
				fr->addr[fr->n++] = a;
		}
	}
	return 0;
}

static struct xp_pool *xp_pool_new(const struct xp_cfg *c, unsigned nq, struct xsk_ring_prod *fq,
				   struct xsk_ring_cons *cq, char *err, size_t errlen)
{
	struct xsk_umem_config uc = {
		.fill_size = c->ring, .comp_size = c->ring, .frame_size = c->frame_size,
	};
	struct xp_pool *pl = calloc(1, sizeof(*pl) + nq * sizeof(pl->free[0]));
	int rc;

	if (!pl)
		goto out_nomem;
	snprintf(pl->name, sizeof(pl->name), "%s", c->pool);
	pl->frame_size = c->frame_size;
	pl->frames = c->frames;
	pl->nq = nq;
	pl->area_len = (size_t)nq * c->frames * c->frame_size;
	pl->area = mmap(NULL, pl->area_len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (pl->area == MAP_FAILED) {
		pl->area = NULL;
		goto out_nomem;
	}
	if (xp_pool_slices(pl))
		goto out_nomem;
	rc = xsk_umem__create(&pl->umem, pl->area, pl->area_len, fq, cq, &uc);
	if (rc) {
		pl->umem = NULL;
		snprintf(err, errlen, "afxdp: creating the UMEM (%zu MiB): %s", pl->area_len >> 20, strerror(-rc));
		xp_pool_free(pl);
		return NULL;
	}
	return pl;

out_nomem:
	snprintf(err, errlen, "afxdp: out of memory for the UMEM pool");
	if (pl)
		xp_pool_free(pl);
	return NULL;
}

/* Find the pool named in c or create it with this port's queue 0 rings. */
static struct xp_pool *xp_pool_get(const struct xp_cfg *c, unsigned nq, struct xp_queue *q0,
				   char *err, size_t errlen)
{
	struct xp_pool *pl = NULL;
	int slot = -1;

	pthread_mutex_lock(&xp_pools_lock);
	for (int i = 0; i < XP_MAX_POOLS; i++) {
		if (xp_pools[i] && !strcmp(xp_pools[i]->name, c->pool))
			pl = xp_pools[i];
		else if (!xp_pools[i] && slot < 0)
			slot = i;
	}
	if (pl && nq > pl->nq) {
		snprintf(err, errlen, "afxdp: pool '%s' was made for %u queues, this port wants %u", c->pool, pl->nq, nq);
		pl = NULL;
	} else if (pl) {
		pl->refs++;
	} else if (slot < 0) {
		snprintf(err, errlen, "afxdp: more than %d UMEM pools", XP_MAX_POOLS);
	} else if ((pl = xp_pool_new(c, nq, &q0->fq, &q0->cq, err, errlen))) {
		pl->refs = 1;
		xp_pools[slot] = pl;
	}
	pthread_mutex_unlock(&xp_pools_lock);
	return pl;
}

static void xp_pool_put(struct xp_pool *pl)
{
	pthread_mutex_lock(&xp_pools_lock);
	if (--pl->refs == 0) {
		for (int i = 0; i < XP_MAX_POOLS; i++)
			if (xp_pools[i] == pl)
				xp_pools[i] = NULL;
		xp_pool_free(pl);
	}
	pthread_mutex_unlock(&xp_pools_lock);
}

/* ---- sockets --------------------------------------------------------- */

static uint16_t xp_bind_flags(const struct xp_cfg *c)
{
	uint16_t f = XDP_USE_NEED_WAKEUP;

	/* Neither flag: the kernel tries zero-copy and falls back to copy. */
	if (c->zc == XP_ZC_ON)
		f |= XDP_ZEROCOPY;
	else if (c->zc == XP_ZC_OFF)
		f |= XDP_COPY;
	return f;
}

/* A queue closed a moment ago can still be busy in the driver (EBUSY for
 * about a second on this kernel): retry for up to two seconds. */
static int xp_socket_create(struct xp_port *xp, struct xp_queue *q, unsigned qi)
{
	struct xsk_socket_config sc = {
		.rx_size = xp->cfg.ring, .tx_size = xp->cfg.ring,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = xp_bind_flags(&xp->cfg),
	};
	int rc;

	for (int tries = 0; tries < 20; tries++) {
		rc = xsk_socket__create_shared(&q->xsk, xp->cfg.ifname, qi, xp->pool->umem,
					       &q->rx, &q->tx, &q->fq, &q->cq, &sc);
		if (rc != -EBUSY)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
	}
	if (rc)
		q->xsk = NULL;
	return rc;
}

/* Hand up to a fill ring's worth of free frames to the kernel. */
static void xp_refill(struct xp_queue *q)
{
	struct xp_free *fr = q->free;
	uint32_t idx, n = xsk_prod_nb_free(&q->fq, fr->n);

	n = RW_MIN(n, fr->n);
	if (!n || xsk_ring_prod__reserve(&q->fq, n, &idx) != n)
		return;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&q->fq, idx + i) = fr->addr[--fr->n];
	xsk_ring_prod__submit(&q->fq, n);
}

static int xp_queue_open(struct xp_port *xp, unsigned qi, char *err, size_t errlen)
{
	struct xp_queue *q = &xp->q[qi];
	int rc, key = (int)qi;

	q->pool = xp->pool;
	q->free = &xp->pool->free[qi];
	rc = xp_socket_create(xp, q, qi);
	if (rc) {
		snprintf(err, errlen, "afxdp: socket on %s queue %u: %s%s", xp->cfg.ifname, qi, strerror(-rc),
			 rc == -EOPNOTSUPP ? " (zerocopy=on on a driver without zero-copy?)" :
			 rc == -EINVAL ? " (queue beyond the device's channels?)" : "");
		return rc;
	}
	q->fd = xsk_socket__fd(q->xsk);
	rc = bpf_map_update_elem(xp->prog.map_fd, &key, &q->fd, 0);
	if (rc) {
		snprintf(err, errlen, "afxdp: XSKMAP update: %s", strerror(errno));
		return -errno;
	}
	xp_refill(q);
	return 0;
}

static void xp_close(struct rw_port *p)
{
	struct xp_port *xp = p->priv;

	if (!xp)
		return;
	/* Program first, so nothing is redirected to a socket being torn down. */
	rw_xsk_prog_detach(&xp->prog);
	for (unsigned i = 0; i < xp->nq; i++)
		if (xp->q[i].xsk)
			xsk_socket__delete(xp->q[i].xsk);
	if (xp->pool)
		xp_pool_put(xp->pool);
	free(xp);
	p->priv = NULL;
}

static int xp_open(struct rw_port *p, const char *arg, unsigned nqueues, char *err, size_t errlen)
{
	struct xp_port *xp;
	int rc;

	if (unlikely(nqueues == 0 || nqueues > RW_MAX_WORKERS)) {
		snprintf(err, errlen, "afxdp: %u queues (1..%d)", nqueues, RW_MAX_WORKERS);
		return -EINVAL;
	}
	xp = calloc(1, sizeof(*xp) + nqueues * sizeof(xp->q[0]));
	if (!xp) {
		snprintf(err, errlen, "afxdp: out of memory");
		return -ENOMEM;
	}
	xp->prog.map_fd = xp->prog.prog_fd = xp->prog.link_fd = -1;
	p->priv = xp;
	if ((rc = xp_parse(arg, &xp->cfg, err, errlen)))
		goto out_close;
	xp->ifindex = (int)if_nametoindex(xp->cfg.ifname);
	if (unlikely(!xp->ifindex)) {
		rc = -ENODEV;
		snprintf(err, errlen, "afxdp: no interface '%s'", xp->cfg.ifname);
		goto out_close;
	}
	xp->pool = xp_pool_get(&xp->cfg, nqueues, &xp->q[0], err, errlen);
	if (!xp->pool) {
		rc = -ENOMEM;
		goto out_close;
	}
	rc = rw_xsk_prog_attach(&xp->prog, xp->ifindex, nqueues, xp->cfg.kernel_type, xp->cfg.mode, err, errlen);
	if (rc)
		goto out_close;
	xp->nq = nqueues;
	for (unsigned i = 0; i < nqueues; i++)
		if ((rc = xp_queue_open(xp, i, err, errlen)))
			goto out_close;
	p->nqueues = nqueues;
	return 0;

out_close:
	xp_close(p);
	return rc;
}

/* ---- the data path --------------------------------------------------- */

static inline uint64_t xp_base(const struct xp_pool *pl, uint64_t addr)
{
	return addr & ~(uint64_t)(pl->frame_size - 1);
}

/* Completed transmissions: their frames are free again. */
static void xp_complete(struct xp_queue *q)
{
	uint32_t idx, n = xsk_ring_cons__peek(&q->cq, q->pool->frames, &idx);

	for (uint32_t i = 0; i < n; i++)
		q->free->addr[q->free->n++] = xp_base(q->pool, *xsk_ring_cons__comp_addr(&q->cq, idx + i));
	if (n)
		xsk_ring_cons__release(&q->cq, n);
}

static void xp_wait(struct xp_queue *q)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };

	poll(&pfd, 1, 1);
}

static unsigned xp_rx_burst(struct rw_port *p, unsigned qi, struct rw_frame *f, unsigned max)
{
	struct xp_queue *q = &((struct xp_port *)p->priv)->q[qi];
	uint8_t *area = q->pool->area;
	uint32_t idx, n = xsk_ring_cons__peek(&q->rx, max, &idx);

	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx + i);

		f[i] = (struct rw_frame){
			.data = xsk_umem__get_data(area, d->addr), .len = d->len,
			.handle = xp_base(q->pool, d->addr),
		};
	}
	if (n) {
		xsk_ring_cons__release(&q->rx, n);
		q->rx_frames += n;
		xp_idle = 0;
	}
	xp_refill(q);
	if (!n) {
		/* The kernel has run out of fill frames and waits to be told. */
		if (xsk_ring_prod__needs_wakeup(&q->fq))
			recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		if (++xp_idle > XP_IDLE_SPINS)
			xp_wait(q);
	}
	return n;
}

/* A frame from another pool or built by the caller: copy it into one of
 * ours. Returns its UMEM address, or 0 when none is free or it cannot fit. */
static uint64_t xp_copy_in(struct xp_queue *q, const struct rw_frame *f)
{
	uint64_t a;

	if (unlikely(!q->free->n || f->len > q->pool->frame_size))
		return 0;
	a = q->free->addr[--q->free->n];
	memcpy(q->pool->area + a, f->data, f->len);
	q->tx_copied++;
	return a;
}

static void xp_kick(struct xp_queue *q)
{
	if (!q->tx_pending)
		return;
	/* Copy mode always wants the kick: the send call does the work. */
	if (xsk_ring_prod__needs_wakeup(&q->tx)) {
		sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
		q->kicks++;
	}
	q->tx_pending = 0;
}

static unsigned xp_tx_burst(struct rw_port *p, unsigned qi, struct rw_frame *f, unsigned n)
{
	struct xp_queue *q = &((struct xp_port *)p->priv)->q[qi];
	uint8_t *area = q->pool->area;
	uint32_t idx, k;
	unsigned done = 0;

	xp_complete(q);
	k = xsk_prod_nb_free(&q->tx, n);
	k = RW_MIN(k, n);
	if (k && xsk_ring_prod__reserve(&q->tx, k, &idx) == k) {
		for (; done < k; done++) {
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&q->tx, idx + done);
			uint64_t off = (uint64_t)(f[done].data - area);

			/* Ours (the caller may have moved data within the frame):
			 * pass the descriptor on; anything else is copied in. */
			if (likely(f[done].data >= area && off + f[done].len <= q->pool->area_len && f[done].handle))
				d->addr = off;
			else if (!(d->addr = xp_copy_in(q, &f[done])))
				break;
			d->len = f[done].len;
		}
		if (done < k)
			q->tx.cached_prod -= k - done; /* give back unused reservations */
		xsk_ring_prod__submit(&q->tx, done);
		q->tx_pending += done;
	}
	q->tx_frames += done;
	q->tx_full += n - done;
	if (q->tx_pending >= RW_BURST)
		xp_kick(q);
	return done;
}

/* Free TX ring entries (after reaping completions), as port.h asks. */
static unsigned xp_tx_room(struct rw_port *p, unsigned qi, unsigned limit, unsigned *cap)
{
	struct xp_queue *q = &((struct xp_port *)p->priv)->q[qi];

	xp_complete(q);
	*cap = q->tx.size;
	return RW_MIN(xsk_prod_nb_free(&q->tx, RW_MIN(limit, q->tx.size)), limit);
}

static void xp_release(struct rw_port *p, unsigned qi, struct rw_frame *f, unsigned n)
{
	struct xp_queue *q = &((struct xp_port *)p->priv)->q[qi];

	for (unsigned i = 0; i < n; i++)
		if (f[i].handle && f[i].handle < q->pool->area_len)
			q->free->addr[q->free->n++] = xp_base(q->pool, f[i].handle);
}

static void xp_flush(struct rw_port *p, unsigned qi)
{
	struct xp_queue *q = &((struct xp_port *)p->priv)->q[qi];

	xp_kick(q);
	xp_complete(q);
}

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

/* XDP_STATISTICS counts from the socket's creation and never resets, so a
 * plain read from any thread is enough. A kernel older than 5.9 fills only
 * the first three fields; the rest stay 0. rx_dropped already holds the
 * frames that found the fill ring empty (fill_empty counts attempts). */
static void xp_kstats(const struct rw_port *p, struct rw_port_kstats *out)
{
	struct xp_port *xp = p->priv;

	if (!xp)
		return;
	for (unsigned i = 0; i < xp->nq; i++) {
		struct xdp_statistics xs = { 0 };
		socklen_t len = sizeof(xs);

		if (!xp->q[i].xsk || getsockopt(xp->q[i].fd, SOL_XDP, XDP_STATISTICS, &xs, &len) < 0)
			continue;
		out->rx_drops += xs.rx_dropped + xs.rx_invalid_descs + xs.rx_ring_full;
		out->rx_ring_full += xs.rx_ring_full;
		out->fill_empty += xs.rx_fill_ring_empty_descs;
		out->tx_errors += xs.tx_invalid_descs;
	}
}

static bool xp_eof(struct rw_port *p)
{
	(void)p;
	return false;
}

const struct rw_port_ops rw_port_afxdp_ops = {
	.scheme = "afxdp",
	.check = xp_check,
	.open = xp_open,
	.rx_burst = xp_rx_burst,
	.tx_burst = xp_tx_burst,
	.release = xp_release,
	.flush = xp_flush,
	.tx_room = xp_tx_room,
	.eof = xp_eof,
	.close = xp_close,
	.kstats = xp_kstats,
};

#endif
