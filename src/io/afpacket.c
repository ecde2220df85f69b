/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * afpacket: a Linux interface through AF_PACKET rings.
 *
 * Receive: one TPACKET_V3 ring per queue. The kernel fills fixed-size blocks
 * with variable-length frames and hands a block over when it is full or when
 * the retire timer (timeout=, 1 ms by default) fires, so a quiet link still
 * delivers within about a millisecond. rx_burst hands out pointers into the
 * ring; a block goes back to the kernel only when the reader has walked all
 * of its frames AND every frame from it has been transmitted or released.
 * Each block keeps a count of frames still out plus one for the reader; the
 * frame handle points at that block record, so any afpacket port (on any
 * worker) can give a frame back.
 *
 * Transmit: a second socket per queue bound with protocol 0 (it receives
 * nothing), PACKET_QDISC_BYPASS, and either a TPACKET_V2 TX ring (tx=ring,
 * the default: frames are copied into ring slots and sent by one sendto()
 * per burst) or sendmmsg() (tx=mmsg: one syscall per burst, the kernel
 * copies from our frames). docs/io.md has the measurements behind the default.
 *
 * Several queues: one socket pair per queue, the receive sockets joined in
 * one PACKET_FANOUT_HASH group. The kernel's fanout hash is the symmetric
 * flow hash, so the two directions of a connection land on the same queue
 * index on both ports of a bridge (docs/io.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port.h"
#include "spec.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/* Bytes kept free in front of each received frame so that a VLAN tag the
 * kernel moved into metadata can be put back in place for forwarding. */
#define AFP_RESERVE 4

/* Empty rx_burst calls on one thread, across all its afpacket ports, before
 * an empty call sleeps in poll(): spinning keeps latency low under load, the
 * sleep keeps an idle firewall off the CPU. Counting per thread rather than
 * per port means a busy port never waits behind a sleeping idle one. */
#define AFP_IDLE_SPINS 256
static __thread unsigned afp_idle;

enum afp_tx_mode { AFP_TX_RING, AFP_TX_MMSG };

struct afp_cfg {
	char ifname[IF_NAMESIZE];
	unsigned block_size;   /* rx ring block bytes (power of two, >= page) */
	unsigned block_nr;     /* rx ring blocks per queue */
	unsigned timeout_ms;   /* block retire timeout */
	unsigned frame_size;   /* tx ring slot bytes */
	unsigned frame_nr;     /* tx ring slots per queue */
	unsigned fanout_id;    /* 0: derived from ifindex */
	enum afp_tx_mode tx;
	bool gro_off;          /* turn GRO off while open (restored on close) */
	bool promisc;
};

struct afp_queue;

/* One per receive block; a frame's handle points here. */
struct afp_block {
	uint32_t refs;          /* frames out + 1 while the reader is in it */
	uint32_t idx;
	struct afp_queue *q;
};

struct afp_queue {
	int rx_fd;
	int tx_fd;
	/* receive (owned by the worker of this queue) */
	uint8_t *rx_map;
	size_t rx_len;
	struct afp_block *blocks;
	unsigned cur;                 /* block being read */
	unsigned left;                /* frames left in it */
	struct tpacket3_hdr *next;    /* next frame in it */
	/* transmit */
	uint8_t *tx_map;
	size_t tx_len;
	unsigned tx_head;             /* next slot to fill */
	unsigned tx_queued;           /* filled since the last kick */
	/* counters */
	uint64_t rx_frames, rx_trunc, tx_frames, tx_full, tx_err;
	const struct afp_cfg *cfg;
} rw_cache_aligned;

struct afp_port {
	struct afp_cfg cfg;
	int ifindex;
	int gro_saved;               /* -1: untouched */
	unsigned nq;
	/* Kernel drop counters so far. PACKET_STATISTICS hands over and
	 * zeroes the socket's counts, so they are summed here, under a lock
	 * because the control thread and the summary may both read. */
	pthread_mutex_t kstats_lock;
	uint64_t k_drops, k_freezes;
	struct afp_queue q[];
};

/* ---- spec parsing ---------------------------------------------------- */

static const struct rw_spec_word afp_tx_words[] = {
	{ "ring", AFP_TX_RING }, { "mmsg", AFP_TX_MMSG }, { NULL, 0 },
};
static const struct rw_spec_word afp_gro_words[] = {
	{ "off", true }, { "keep", false }, { NULL, 0 },
};
static const struct rw_spec_word afp_onoff_words[] = {
	{ "on", true }, { "off", false }, { NULL, 0 },
};

static const struct rw_spec_opt afp_opts[] = {
	RW_SPEC_POW2_OPT("block", struct afp_cfg, block_size, 4096, 1u << 26),
	RW_SPEC_UINT_OPT("blocks", struct afp_cfg, block_nr, 2, 65536),
	RW_SPEC_UINT_OPT("timeout", struct afp_cfg, timeout_ms, 1, 1000),
	/* TX slots must hold the 32-byte header plus a full frame. */
	RW_SPEC_POW2_OPT("frame", struct afp_cfg, frame_size, 2048, 65536),
	RW_SPEC_UINT_OPT("frames", struct afp_cfg, frame_nr, 8, 1u << 20),
	RW_SPEC_UINT_OPT("fanout", struct afp_cfg, fanout_id, 1, 65535),
	RW_SPEC_WORD_OPT("tx", struct afp_cfg, tx, afp_tx_words),
	RW_SPEC_WORD_OPT("gro", struct afp_cfg, gro_off, afp_gro_words),
	RW_SPEC_WORD_OPT("promisc", struct afp_cfg, promisc, afp_onoff_words),
};

/* "IFACE[,key=val...]" into c. */
static int afp_parse(const char *arg, struct afp_cfg *c, char *err, size_t errlen)
{
	*c = (struct afp_cfg){
		.block_size = 1u << 18, .block_nr = 64, .timeout_ms = 1,
		.frame_size = 2048, .frame_nr = 1024, .tx = AFP_TX_RING,
		.gro_off = true, .promisc = true,
	};
	return rw_spec_parse("afpacket", arg, c->ifname, c, afp_opts, RW_ARRAY_SIZE(afp_opts),
			     err, errlen);
}

static int afp_check(const char *arg, char *err, size_t errlen)
{
	struct afp_cfg c;

	return afp_parse(arg, &c, err, errlen);
}

/* ---- setup ----------------------------------------------------------- */

static int afp_setopt(int fd, int opt, const void *v, socklen_t len, const char *what,
		      char *err, size_t errlen)
{
	if (setsockopt(fd, SOL_PACKET, opt, v, len) == 0)
		return 0;
	snprintf(err, errlen, "afpacket: %s: %s", what, strerror(errno));
	return -errno;
}

static int afp_bind(int fd, int ifindex, uint16_t proto, char *err, size_t errlen)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(proto), .sll_ifindex = ifindex,
	};

	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == 0)
		return 0;
	snprintf(err, errlen, "afpacket: bind: %s", strerror(errno));
	return -errno;
}

/* GRO would hand us super-frames of up to 64 KiB that cannot be forwarded
 * as they are; turn it off and remember what it was. */
static void afp_gro(struct afp_port *ap, int fd, bool set, int val)
{
	struct ethtool_value ev = { .cmd = set ? ETHTOOL_SGRO : ETHTOOL_GGRO, .data = (uint32_t)val };
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ap->cfg.ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return; /* not every device has the knob; nothing to restore */
	if (!set)
		ap->gro_saved = (int)ev.data;
}

static int afp_rx_open(struct afp_port *ap, struct afp_queue *q, char *err, size_t errlen)
{
	const struct afp_cfg *c = &ap->cfg;
	int ver = TPACKET_V3, one = 1, reserve = AFP_RESERVE, rc;
	struct tpacket_req3 req = {
		.tp_block_size = c->block_size, .tp_block_nr = c->block_nr,
		.tp_frame_size = 2048, .tp_frame_nr = c->block_size / 2048 * c->block_nr,
		.tp_retire_blk_tov = c->timeout_ms,
	};
	struct packet_mreq mr = { .mr_ifindex = ap->ifindex, .mr_type = PACKET_MR_PROMISC };

	/* Protocol 0 until the ring exists, so nothing queues up before it. */
	q->rx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (q->rx_fd < 0) {
		snprintf(err, errlen, "afpacket: socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return -errno;
	}
	if ((rc = afp_setopt(q->rx_fd, PACKET_VERSION, &ver, sizeof(ver), "TPACKET_V3", err, errlen)) ||
	    (rc = afp_setopt(q->rx_fd, PACKET_RESERVE, &reserve, sizeof(reserve), "PACKET_RESERVE", err, errlen)) ||
	    (rc = afp_setopt(q->rx_fd, PACKET_RX_RING, &req, sizeof(req), "PACKET_RX_RING", err, errlen)))
		return rc;
	q->rx_len = (size_t)c->block_size * c->block_nr;
	q->rx_map = mmap(NULL, q->rx_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, q->rx_fd, 0);
	if (q->rx_map == MAP_FAILED) {
		q->rx_map = NULL;
		snprintf(err, errlen, "afpacket: mmap rx ring: %s", strerror(errno));
		return -errno;
	}
	/* Our own transmissions (on the tx socket) must not come back here. */
	if ((rc = afp_setopt(q->rx_fd, PACKET_IGNORE_OUTGOING, &one, sizeof(one), "PACKET_IGNORE_OUTGOING", err, errlen)) ||
	    (rc = afp_bind(q->rx_fd, ap->ifindex, ETH_P_ALL, err, errlen)))
		return rc;
	if (c->promisc &&
	    (rc = afp_setopt(q->rx_fd, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr), "promiscuous mode", err, errlen)))
		return rc;
	if (ap->nq > 1) {
		/* Group ids are per network namespace; the interface index keeps
		 * two ports' groups apart unless the operator picks one. */
		unsigned id = c->fanout_id ? c->fanout_id : (unsigned)ap->ifindex & 0xffff;
		uint32_t arg = id | (uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16;

		if ((rc = afp_setopt(q->rx_fd, PACKET_FANOUT, &arg, sizeof(arg), "PACKET_FANOUT", err, errlen)))
			return rc;
	}
	q->blocks = calloc(c->block_nr, sizeof(*q->blocks));
	if (!q->blocks) {
		snprintf(err, errlen, "afpacket: out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < c->block_nr; i++)
		q->blocks[i] = (struct afp_block){ .refs = 0, .idx = i, .q = q };
	return 0;
}

/* TX ring slots: frames= rounded up to whole blocks of 16 frames. */
static inline unsigned afp_tx_nslots(const struct afp_cfg *c)
{
	return (c->frame_nr + 15) / 16 * 16;
}

/* The header of TX ring slot k (< afp_tx_nslots) of q. */
static inline struct tpacket2_hdr *afp_tx_slot(const struct afp_queue *q, unsigned k)
{
	return (struct tpacket2_hdr *)(q->tx_map + (size_t)k * q->cfg->frame_size);
}

static int afp_tx_open(struct afp_port *ap, struct afp_queue *q, char *err, size_t errlen)
{
	const struct afp_cfg *c = &ap->cfg;
	int one = 1, ver = TPACKET_V2, rc;
	struct tpacket_req req = {
		.tp_block_size = c->frame_size * 16, .tp_block_nr = afp_tx_nslots(c) / 16,
		.tp_frame_size = c->frame_size, .tp_frame_nr = afp_tx_nslots(c),
	};

	q->tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (q->tx_fd < 0) {
		snprintf(err, errlen, "afpacket: socket: %s", strerror(errno));
		return -errno;
	}
	/* Straight to the driver: the qdisc layer costs a lock per packet,
	 * and a bridge has nothing to queue for. */
	if ((rc = afp_setopt(q->tx_fd, PACKET_QDISC_BYPASS, &one, sizeof(one), "PACKET_QDISC_BYPASS", err, errlen)))
		return rc;
	if (c->tx == AFP_TX_RING) {
		if ((rc = afp_setopt(q->tx_fd, PACKET_VERSION, &ver, sizeof(ver), "TPACKET_V2", err, errlen)) ||
		    (rc = afp_setopt(q->tx_fd, PACKET_TX_RING, &req, sizeof(req), "PACKET_TX_RING", err, errlen)))
			return rc;
		q->tx_len = (size_t)req.tp_block_size * req.tp_block_nr;
		q->tx_map = mmap(NULL, q->tx_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, q->tx_fd, 0);
		if (q->tx_map == MAP_FAILED) {
			q->tx_map = NULL;
			snprintf(err, errlen, "afpacket: mmap tx ring: %s", strerror(errno));
			return -errno;
		}
	}
	return afp_bind(q->tx_fd, ap->ifindex, 0, err, errlen);
}

static void afp_queue_close(struct afp_queue *q)
{
	if (q->rx_map)
		munmap(q->rx_map, q->rx_len);
	if (q->tx_map)
		munmap(q->tx_map, q->tx_len);
	if (q->rx_fd >= 0)
		close(q->rx_fd);
	if (q->tx_fd >= 0)
		close(q->tx_fd);
	free(q->blocks);
}

static void afp_close(struct rw_port *p)
{
	struct afp_port *ap = p->priv;

	if (!ap)
		return;
	if (ap->gro_saved > 0 && ap->nq && ap->q[0].rx_fd >= 0)
		afp_gro(ap, ap->q[0].rx_fd, true, ap->gro_saved);
	for (unsigned i = 0; i < ap->nq; i++)
		afp_queue_close(&ap->q[i]);
	pthread_mutex_destroy(&ap->kstats_lock);
	free(ap);
	p->priv = NULL;
}

static int afp_open(struct rw_port *p, const char *arg, unsigned nqueues, char *err, size_t errlen)
{
	struct afp_port *ap;
	int rc;

	if (unlikely(nqueues == 0 || nqueues > RW_MAX_WORKERS)) {
		snprintf(err, errlen, "afpacket: %u queues (1..%d)", nqueues, RW_MAX_WORKERS);
		return -EINVAL;
	}
	ap = calloc(1, sizeof(*ap) + nqueues * sizeof(ap->q[0]));
	if (!ap) {
		snprintf(err, errlen, "afpacket: out of memory");
		return -ENOMEM;
	}
	ap->gro_saved = -1;
	pthread_mutex_init(&ap->kstats_lock, NULL);
	for (unsigned i = 0; i < nqueues; i++) {
		ap->q[i].rx_fd = ap->q[i].tx_fd = -1;
		ap->q[i].cfg = &ap->cfg;
	}
	p->priv = ap;
	rc = afp_parse(arg, &ap->cfg, err, errlen);
	if (rc)
		goto out_close;
	ap->ifindex = (int)if_nametoindex(ap->cfg.ifname);
	if (unlikely(!ap->ifindex)) {
		rc = -ENODEV;
		snprintf(err, errlen, "afpacket: no interface '%s'", ap->cfg.ifname);
		goto out_close;
	}
	/* Every fd starts at -1, so close() unwinds any half-open state. */
	ap->nq = nqueues;
	for (unsigned i = 0; i < nqueues; i++) {
		rc = afp_rx_open(ap, &ap->q[i], err, errlen) ?: afp_tx_open(ap, &ap->q[i], err, errlen);
		if (rc)
			goto out_close;
	}
	if (ap->cfg.gro_off) {
		afp_gro(ap, ap->q[0].rx_fd, false, 0);
		if (ap->gro_saved > 0)
			afp_gro(ap, ap->q[0].rx_fd, true, 0);
	}
	p->nqueues = nqueues;
	return 0;

out_close:
	afp_close(p);
	return rc;
}

/* ---- receive --------------------------------------------------------- */

static inline struct tpacket_block_desc *afp_bd(struct afp_queue *q, unsigned i)
{
	return (struct tpacket_block_desc *)(q->rx_map + (size_t)i * q->cfg->block_size);
}

/* The last reference to a block is gone: hand it back to the kernel. The
 * release store orders our reads (and writes) of its frames before it. */
static inline void afp_block_put(struct afp_block *b, uint32_t n)
{
	if (__atomic_sub_fetch(&b->refs, n, __ATOMIC_ACQ_REL) == 0)
		__atomic_store_n(&afp_bd(b->q, b->idx)->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
}

/* Start reading the next block if the kernel has retired it. */
static bool afp_next_block(struct afp_queue *q)
{
	struct tpacket_block_desc *bd = afp_bd(q, q->cur);

	/* Still held by frames from the last lap: its status says USER from
	 * our own read, not from a new fill. */
	if (__atomic_load_n(&q->blocks[q->cur].refs, __ATOMIC_ACQUIRE))
		return false;
	if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return false;
	q->blocks[q->cur].refs = 1; /* the reader's own reference */
	q->left = bd->hdr.bh1.num_pkts;
	q->next = (struct tpacket3_hdr *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
	return true;
}

/* Put a tag the kernel took into metadata back in front of the payload, in
 * the AFP_RESERVE bytes kept for it. */
static inline void afp_vlan_restore(struct tpacket3_hdr *h, struct rw_frame *f)
{
	uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : ETH_P_8021Q;
	uint16_t tag[2] = { htons(tpid), htons((uint16_t)h->hv1.tp_vlan_tci) };

	memmove(f->data - 4, f->data, 12);
	f->data -= 4;
	memcpy(f->data + 12, tag, 4);
	f->len += 4;
}

static unsigned afp_rx_block(struct afp_queue *q, struct rw_frame *f, unsigned max)
{
	struct afp_block *b = &q->blocks[q->cur];
	unsigned n = 0;

	while (q->left && n < max) {
		struct tpacket3_hdr *h = q->next;

		q->left--;
		q->next = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
		if (unlikely(h->tp_snaplen < h->tp_len)) {
			q->rx_trunc++; /* larger than a block: cannot forward it whole */
			continue;
		}
		f[n] = (struct rw_frame){
			.data = (uint8_t *)h + h->tp_mac, .len = h->tp_snaplen,
			.ts_ns = (uint64_t)h->tp_sec * 1000000000u + h->tp_nsec,
			.handle = (uint64_t)(uintptr_t)b,
		};
		if (h->tp_status & TP_STATUS_VLAN_VALID)
			afp_vlan_restore(h, &f[n]);
		n++;
	}
	/* Atomic: another worker may be giving back earlier frames of it. */
	__atomic_add_fetch(&b->refs, n, __ATOMIC_RELAXED);
	if (!q->left) {
		afp_block_put(b, 1);
		q->cur = (q->cur + 1) % q->cfg->block_nr;
	}
	return n;
}

static unsigned afp_rx_burst(struct rw_port *p, unsigned qi, struct rw_frame *f, unsigned max)
{
	struct afp_queue *q = &((struct afp_port *)p->priv)->q[qi];
	unsigned n = 0;

	/* A block in progress, then as many retired blocks as fit. */
	while (n < max) {
		if (!q->left && !afp_next_block(q))
			break;
		n += afp_rx_block(q, f + n, max - n);
	}
	if (n) {
		afp_idle = 0;
		q->rx_frames += n;
	} else if (++afp_idle > AFP_IDLE_SPINS) {
		struct pollfd pfd = { .fd = q->rx_fd, .events = POLLIN };

		poll(&pfd, 1, 1);
	}
	return n;
}

/* ---- release and transmit -------------------------------------------- */

/* Frames from the same block come in runs; one atomic per run. */
static void afp_release(struct rw_port *p, unsigned qi, struct rw_frame *f, unsigned n)
{
	(void)p;
	(void)qi;
	for (unsigned i = 0; i < n;) {
		struct afp_block *b = (struct afp_block *)(uintptr_t)f[i].handle;
		unsigned j = i + 1;

		while (j < n && f[j].handle == f[i].handle)
			j++;
		if (b) /* handle 0: a frame no ring owns (built by the caller) */
			afp_block_put(b, j - i);
		i = j;
	}
}

static void afp_kick(struct afp_queue *q)
{
	if (!q->tx_queued)
		return;
	if (sendto(q->tx_fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN && errno != ENOBUFS)
		q->tx_err++;
	q->tx_queued = 0;
}

static unsigned afp_tx_ring(struct afp_queue *q, struct rw_frame *f, unsigned n)
{
	const unsigned data_off = TPACKET_ALIGN(sizeof(struct tpacket2_hdr));
	const unsigned nslots = afp_tx_nslots(q->cfg);
	unsigned i;

	for (i = 0; i < n; i++) {
		struct tpacket2_hdr *h = afp_tx_slot(q, q->tx_head);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING)) {
			afp_kick(q); /* ring full: push what is queued, try once more */
			st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
			if (st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING))
				break;
		}
		if (unlikely(st & TP_STATUS_WRONG_FORMAT))
			q->tx_err++;
		if (unlikely(f[i].len > q->cfg->frame_size - data_off || f[i].len < ETH_HLEN)) {
			q->tx_err++; /* taken and dropped: it could never fit */
			continue;
		}
		memcpy((uint8_t *)h + data_off, f[i].data, f[i].len);
		h->tp_len = f[i].len;
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		q->tx_head = (q->tx_head + 1) % nslots;
		q->tx_queued++;
	}
	if (q->tx_queued >= RW_BURST)
		afp_kick(q);
	return i;
}

static unsigned afp_tx_mmsg(struct afp_queue *q, struct rw_frame *f, unsigned n)
{
	struct mmsghdr mm[RW_BURST];
	struct iovec iov[RW_BURST];
	unsigned done = 0;

	while (done < n) {
		unsigned k = RW_MIN(n - done, (unsigned)RW_BURST);
		int r;

		for (unsigned i = 0; i < k; i++) {
			iov[i] = (struct iovec){ .iov_base = f[done + i].data, .iov_len = f[done + i].len };
			mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		r = sendmmsg(q->tx_fd, mm, k, MSG_DONTWAIT);
		if (r <= 0) {
			if (r < 0 && errno != EAGAIN && errno != ENOBUFS) {
				q->tx_err++; /* e.g. EMSGSIZE: drop it rather than stall */
				done++;
				continue;
			}
			break;
		}
		done += (unsigned)r;
		if ((unsigned)r < k)
			break;
	}
	return done;
}

/*
 * Free TX ring slots from tx_head on: the kernel sends the ring in order,
 * so the slots waiting for it are one run ending just before tx_head, and
 * "slot head + k is still queued" is false up to the free count and true
 * after it. A binary search reads about log2(ring) slot headers.
 */
static unsigned afp_tx_room(struct rw_port *p, unsigned qi, unsigned limit, unsigned *cap)
{
	struct afp_queue *q = &((struct afp_port *)p->priv)->q[qi];
	const unsigned nslots = afp_tx_nslots(q->cfg);
	unsigned lo = 0, hi = RW_MIN(limit, nslots);

	*cap = nslots;
	if (q->cfg->tx != AFP_TX_RING) {
		*cap = 0; /* sendmmsg: the kernel's queue is not ours to see */
		return limit;
	}
	while (lo < hi) { /* first busy k in [lo, hi), or hi */
		unsigned mid = lo + (hi - lo) / 2;
		const struct tpacket2_hdr *h = afp_tx_slot(q, (q->tx_head + mid) % nslots);

		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) &
		    (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static unsigned afp_tx_burst(struct rw_port *p, unsigned qi, struct rw_frame *f, unsigned n)
{
	struct afp_queue *q = &((struct afp_port *)p->priv)->q[qi];
	unsigned taken;

	taken = q->cfg->tx == AFP_TX_RING ? afp_tx_ring(q, f, n) : afp_tx_mmsg(q, f, n);
	q->tx_frames += taken;
	q->tx_full += n - taken;
	/* Copied out (ring) or sent (mmsg): the source frames are free. */
	afp_release(p, qi, f, taken);
	return taken;
}

static void afp_flush(struct rw_port *p, unsigned qi)
{
	afp_kick(&((struct afp_port *)p->priv)->q[qi]);
}

/* Only the receive sockets drop: the tx sockets are bound to protocol 0
 * and receive nothing. A failed getsockopt adds nothing (the socket keeps
 * its counts for the next read). */
static void afp_kstats(const struct rw_port *p, struct rw_port_kstats *out)
{
	struct afp_port *ap = p->priv;

	if (!ap)
		return;
	pthread_mutex_lock(&ap->kstats_lock);
	for (unsigned i = 0; i < ap->nq; i++) {
		struct tpacket_stats_v3 ts = { 0 };
		socklen_t len = sizeof(ts);

		if (ap->q[i].rx_fd < 0 ||
		    getsockopt(ap->q[i].rx_fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len) < 0)
			continue;
		ap->k_drops += ts.tp_drops;
		ap->k_freezes += ts.tp_freeze_q_cnt;
	}
	/* With a ring, the kernel drops a frame only when no block has room
	 * for it (or it cannot copy it): count both as ring full. */
	out->rx_drops = out->rx_ring_full = ap->k_drops;
	out->rx_freezes = ap->k_freezes;
	pthread_mutex_unlock(&ap->kstats_lock);
}

static bool afp_eof(struct rw_port *p)
{
	(void)p;
	return false;
}

const struct rw_port_ops rw_port_afpacket_ops = {
	.scheme = "afpacket",
	.check = afp_check,
	.open = afp_open,
	.rx_burst = afp_rx_burst,
	.tx_burst = afp_tx_burst,
	.release = afp_release,
	.flush = afp_flush,
	.tx_room = afp_tx_room,
	.eof = afp_eof,
	.close = afp_close,
	.kstats = afp_kstats,
};
