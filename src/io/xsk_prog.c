/* SPDX-License-Identifier: BSD-2-Clause */
/* The XDP redirect program for AF_XDP ports (see xsk_prog.h). */
#ifdef RW_HAVE_XDP

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>

#include "../common.h"
#include "bpf_insn.h"
#include "xsk_prog.h"


/*
 *   if (pass_type && data + 14 <= data_end && eth->h_proto == pass_type)
 *           return XDP_PASS;
 *   return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
 *
 * The XDP_PASS in the flags is what happens when the queue has no socket:
 * the frame goes to the kernel, which does not forward it (no bridge, no
 * address on a ringwall port).
 */
static unsigned build(struct bpf_insn *p, int map_fd, uint16_t pass_type)
{
	unsigned n = 0;

	p[n++] = I_MOV64_REG(BPF_REG_6, BPF_REG_1);
	if (pass_type) {
		p[n++] = I_LDX(BPF_W, BPF_REG_2, BPF_REG_6, offsetof(struct xdp_md, data));
		p[n++] = I_LDX(BPF_W, BPF_REG_3, BPF_REG_6, offsetof(struct xdp_md, data_end));
		p[n++] = I_MOV64_REG(BPF_REG_4, BPF_REG_2);
		p[n++] = I_ADD64_IMM(BPF_REG_4, 14);
		p[n++] = I_JGT_REG(BPF_REG_4, BPF_REG_3, 4);          /* short: redirect */
		p[n++] = I_LDX(BPF_H, BPF_REG_5, BPF_REG_2, 12);
		p[n++] = I_JNE_IMM(BPF_REG_5, htons(pass_type), 2);  /* raw bytes, as loaded */
		p[n++] = I_MOV64_IMM(BPF_REG_0, XDP_PASS);
		p[n++] = I_EXIT();
	}
	p[n++] = I_LDX(BPF_W, BPF_REG_2, BPF_REG_6, offsetof(struct xdp_md, rx_queue_index));
	p[n++] = I_LD_MAP_FD(BPF_REG_1, map_fd);
	p[n++] = I_LD_IMM64_HI();
	p[n++] = I_MOV64_IMM(BPF_REG_3, XDP_PASS);
	p[n++] = I_CALL(BPF_FUNC_redirect_map);
	p[n++] = I_EXIT();
	return n;
}

static int load(struct rw_xsk_prog *x, uint16_t pass_type, char *err, size_t errlen)
{
	struct bpf_insn insns[24];
	char log[2048] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = sizeof(log), .log_level = 0);
	unsigned n = build(insns, x->map_fd, pass_type);

	x->prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "ringwall_xsk", "Dual BSD/GPL", insns, n, &o);
	if (x->prog_fd >= 0)
		return 0;
	snprintf(err, errlen, "afxdp: loading the XDP program: %s %s", strerror(errno), log);
	return -errno;
}

static int attach(struct rw_xsk_prog *x, int ifindex, bool native)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);

	x->link_fd = bpf_link_create(x->prog_fd, ifindex, BPF_XDP, &o);
	if (x->link_fd < 0)
		return -errno;
	x->native = native;
	return 0;
}

int rw_xsk_prog_attach(struct rw_xsk_prog *x, int ifindex, unsigned nqueues,
		       uint16_t pass_ethertype, enum rw_xdp_mode mode, char *err, size_t errlen)
{
	int rc = 0;

	x->prog_fd = x->link_fd = -1;
	x->map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "ringwall_xsks", 4, 4, nqueues, NULL);
	if (x->map_fd < 0) {
		snprintf(err, errlen, "afxdp: creating the XSKMAP: %s (needs CAP_BPF/CAP_NET_ADMIN)", strerror(errno));
		return -errno;
	}
	rc = load(x, pass_ethertype, err, errlen);
	if (rc)
		goto out_map;
	if (mode != RW_XDP_GENERIC)
		rc = attach(x, ifindex, true);
	/* auto: drivers without native XDP still have the generic hook */
	if (mode == RW_XDP_GENERIC || (mode == RW_XDP_AUTO && rc))
		rc = attach(x, ifindex, false);
	if (rc) {
		snprintf(err, errlen, "afxdp: attaching XDP (%s mode): %s%s",
			 mode == RW_XDP_NATIVE ? "native" : mode == RW_XDP_GENERIC ? "generic" : "native, then generic",
			 strerror(-rc), rc == -EBUSY || rc == -EEXIST ? " (another XDP program is attached)" : "");
		goto out_prog;
	}
	return 0;

out_prog:
	close(x->prog_fd);
out_map:
	close(x->map_fd);
	x->map_fd = x->prog_fd = -1;
	return rc;
}

void rw_xsk_prog_detach(struct rw_xsk_prog *x)
{
	if (x->link_fd >= 0)
		close(x->link_fd);
	if (x->prog_fd >= 0)
		close(x->prog_fd);
	if (x->map_fd >= 0)
		close(x->map_fd);
	x->link_fd = x->prog_fd = x->map_fd = -1;
}

#endif
