/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The port seam. Every packet source and sink (capture files, AF_PACKET and
 * AF_XDP rings, DPDK, the in-memory generator) is one struct rw_port_ops;
 * the worker loop sees nothing else. A port has one or more queues; each
 * queue is served by exactly one worker, so no callback below needs locking.
 *
 * Frame ownership:
 *   rx_burst  hands frames to the caller. Each frame stays valid, and its
 *             bytes writable, until the caller gives it back through
 *             tx_burst (of any port sharing the buffer pool) or release.
 *   tx_burst  takes the frames it accepts (the first n returned) and gives
 *             them back to their pool once sent. Frames it does not accept
 *             remain the caller's, who must tx them elsewhere or release them.
 *   release   returns frames the caller will not send.
 * A backend whose frames cannot move between ports without a copy (pcap,
 * afpacket) copies in tx_burst; AF_XDP with a shared UMEM moves descriptors.
 */
#ifndef RW_PORT_H
#define RW_PORT_H

#include "../common.h"

struct rw_frame {
	uint8_t *data;
	uint32_t len;
	uint32_t _pad;
	uint64_t ts_ns;  /* capture time (pcap) or receive time (live), ns */
	uint64_t handle; /* backend's own reference (UMEM address, slot index) */
};

struct rw_port;

/* What the kernel lost or refused below ringwall, summed over a port's
 * queues since it opened. Frames dropped here never reach a worker, so no
 * drop verdict counts them. Each field is 0 where the backend has no such
 * counter. */
struct rw_port_kstats {
	uint64_t rx_drops;     /* frames dropped on the way in, all causes (AF_PACKET
				* tp_drops; AF_XDP rx_dropped + rx_ring_full) */
	uint64_t rx_ring_full; /* of which: our receive ring had no room */
	uint64_t rx_freezes;   /* AF_PACKET: times the ring ran out of blocks
				* (tp_freeze_q_cnt; events, not frames) */
	uint64_t fill_empty;   /* AF_XDP: frames that found the fill ring empty */
	uint64_t tx_errors;    /* AF_XDP: tx descriptors the kernel rejected */
};

struct rw_port_ops {
	const char *scheme; /* "pcap", "afpacket", "afxdp", "dpdk", "gen" */

	/* Validate the part of a spec after "scheme:" without opening
	 * anything (ringwall check). 0, or -EINVAL with a message in err. */
	int (*check)(const char *arg, char *err, size_t errlen);

	/* Open the port. nqueues is how many workers will poll it. 0 or
	 * -errno with a message in err. */
	int (*open)(struct rw_port *p, const char *arg, unsigned nqueues, char *err, size_t errlen);

	/* Up to max frames from queue q. Never blocks for long (live
	 * backends may wait up to about a millisecond for traffic). */
	unsigned (*rx_burst)(struct rw_port *p, unsigned q, struct rw_frame *f, unsigned max);

	/* Send frames (possibly received on another port); returns how many
	 * were taken. */
	unsigned (*tx_burst)(struct rw_port *p, unsigned q, struct rw_frame *f, unsigned n);

	/* Give back frames that will not be sent. */
	void (*release)(struct rw_port *p, unsigned q, struct rw_frame *f, unsigned n);

	/* Push out anything tx_burst buffered (end of a loop iteration). */
	void (*flush)(struct rw_port *p, unsigned q);

	/* True when the port will never deliver another frame (end of a
	 * capture). Live ports return false. */
	bool (*eof)(struct rw_port *p);

	void (*close)(struct rw_port *p);

	/* Optional (NULL: no kernel counters). Fill out with the kernel's
	 * drop counters for this port. Unlike the callbacks above it is
	 * called from any thread (control thread, run summary) while the
	 * workers poll: it only reads socket options of the port's sockets,
	 * which the kernel allows concurrently, and serialises whatever it
	 * accumulates itself (PACKET_STATISTICS resets on every read). */
	void (*kstats)(const struct rw_port *p, struct rw_port_kstats *out);
	/* Optional (NULL: unknown). How many frames tx_burst on queue q
	 * would take right now, at most limit; *cap: the most it can ever
	 * hold. The worker keeps part of a congested egress for established
	 * connections with it (worker.c, finish_burst). Called on the
	 * queue's own worker, like tx_burst. */
	unsigned (*tx_room)(struct rw_port *p, unsigned q, unsigned limit, unsigned *cap);
};

struct rw_port {
	const struct rw_port_ops *ops;
	char name[32];  /* the name rules use ("inside") */
	unsigned index; /* position in the configuration */
	unsigned nqueues;
	bool clocked;   /* frames carry the time (ts_ns) the worker goes by: captures,
			 * and the generator with clock= */
	void *priv;     /* backend state */
};

/* Find the backend for spec ("pcap:...") and call its check. */
int rw_port_check(const char *spec, char *err, size_t errlen);

/* Find the backend for spec and open it into p. */
int rw_port_open(struct rw_port *p, const char *name, unsigned index, const char *spec,
		 unsigned nqueues, char *err, size_t errlen);

void rw_port_close(struct rw_port *p);

/* The port's kernel counters (all zero without a kstats op); out is true
 * when any is non-zero. */
static inline bool rw_port_kstats(const struct rw_port *p, struct rw_port_kstats *out)
{
	*out = (struct rw_port_kstats){ 0 };
	if (p->ops && p->ops->kstats)
		p->ops->kstats(p, out);
	return out->rx_drops | out->rx_ring_full | out->rx_freezes | out->fill_empty | out->tx_errors;
}

/* Directory that relative paths in specs (pcap files) are taken from: the
 * configuration file's. Set before rw_port_open. */
extern const char *rw_port_basedir;

/* Backends, registered in port.c. */
extern const struct rw_port_ops rw_port_pcap_ops;
extern const struct rw_port_ops rw_port_afpacket_ops; /* afpacket.c */
extern const struct rw_port_ops rw_port_gen_ops;      /* gen.c */
#ifdef RW_HAVE_XDP
extern const struct rw_port_ops rw_port_afxdp_ops;    /* afxdp.c */
#endif

#endif
