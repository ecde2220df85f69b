/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SYN cookies for the SYN proxy (issue 6): the firewall answers a client's
 * SYN with a SYN|ACK whose sequence number is a cookie, keeps no state, and
 * only a client ACK that returns the cookie + 1 proves the client real.
 *
 * Cookie layout (32 bits, our own scheme after the idea of Linux's
 * syncookies and pf_syncookie.c):
 *
 *   31..27  time bucket, low 5 bits (a bucket is RW_COOKIE_BUCKET_S seconds)
 *   26..24  index of the client's MSS in a table of 8 common values
 *   23..0   SipHash-2-4 under a per-start secret of (addresses, ports,
 *           client ISN, full bucket number, MSS index), truncated
 *
 * A cookie is valid in its own bucket and the next one (64 to 128 s), so a
 * captured cookie dies quickly; a forged one passes with probability 2^-24
 * per try. The MSS is the one thing the firewall must remember about the
 * SYN (the server's SYN carries it), so it rides in the cookie; window
 * scale and SACK are not kept (the proxy's SYN|ACK does not offer them).
 */
#ifndef RW_SYNCOOKIE_H
#define RW_SYNCOOKIE_H

#include "../common.h"
#include "../pkt/pkt.h"

#define RW_COOKIE_BUCKET_S 64
#define RW_COOKIE_MSS_N 8

struct rw_syncookie_key {
	uint64_t k[2]; /* random per start (rw_hash_key_random) */
};

/* The MSS a cookie carries for a SYN advertising mss (0: option absent). */
uint16_t rw_syncookie_mss(uint16_t mss);

/* The MSS a cookie encodes (its index bits), whether or not it is valid:
 * for a SYN sent again after the cookie was checked (synproxy.c). */
uint16_t rw_syncookie_cookie_mss(uint32_t cookie);

/* Cookie for the SYN p (client -> server) at time now (ns). */
uint32_t rw_syncookie_make(const struct rw_syncookie_key *k, const struct rw_pkt *syn,
			   uint64_t now);

/*
 * Check the ACK p (client -> server) that should complete a cookie
 * handshake: p->tcp_seq - 1 is the client's ISN, p->tcp_ack - 1 the cookie.
 * Returns the MSS it encoded (> 0), or 0 when the cookie is forged or
 * expired; *expired tells the two apart (for counters).
 */
uint16_t rw_syncookie_check(const struct rw_syncookie_key *k, const struct rw_pkt *ack,
			    uint64_t now, bool *expired);

#endif
