/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The XDP program in front of an AF_XDP port: one XSKMAP per interface and
 * a fifteen-instruction program that redirects every frame to the socket of
 * its receive queue, except frames of one EtherType (kernel=) which it
 * leaves to the kernel. Written as instructions here rather than compiled
 * from C so the build needs no BPF toolchain and the run no object file.
 */
#ifndef RW_XSK_PROG_H
#define RW_XSK_PROG_H

#ifdef RW_HAVE_XDP

#include <stdint.h>
#include <stddef.h>

enum rw_xdp_mode { RW_XDP_AUTO, RW_XDP_NATIVE, RW_XDP_GENERIC };

struct rw_xsk_prog {
	int map_fd;   /* XSKMAP, key: rx queue index */
	int prog_fd;
	int link_fd;  /* bpf_link: detaches by itself when the process dies */
	bool native;  /* attached in driver mode (else generic/skb mode) */
};

/* Create the map (nqueues entries), load the program and attach it to
 * ifindex. pass_ethertype: host-order EtherType left to the kernel, 0 for
 * none. 0 or -errno with a message in err. */
int rw_xsk_prog_attach(struct rw_xsk_prog *x, int ifindex, unsigned nqueues,
		       uint16_t pass_ethertype, enum rw_xdp_mode mode, char *err, size_t errlen);

void rw_xsk_prog_detach(struct rw_xsk_prog *x);

#endif
#endif
