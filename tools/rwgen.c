/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rwgen: a packet generator and sink for benchmarks, all in the kernel.
 *
 *   rwgen send -i IFACE [-f FLOWS] [-t SECONDS] [-d DSTMAC] [-s SRCMAC]
 *   rwgen sink -i IFACE [-t SECONDS]
 *
 * send: 60-byte IPv4/UDP frames (64 on a wire with its FCS) spread at random
 * over FLOWS flows (source and destination ports vary), out of IFACE as fast
 * as the CPU allows. It runs an XDP program through BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES: the kernel builds each frame from a template
 * in a page pool, the program rewrites the ports and XDP_REDIRECTs it to
 * IFACE, and no socket, skb or system call per packet is involved. On a veth
 * the peer must have NAPI for redirected frames to arrive: an XDP program on
 * it (afxdp does that) or GRO on.
 *
 * sink: an XDP program on IFACE that counts and drops every frame.
 *
 * Both print the rate once a second on stderr and a final line on stdout:
 * "sent=N secs=S pps=R" or "received=N secs=S pps=R".
 */
#ifdef RW_HAVE_XDP

#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "io/bpf_insn.h"

#define FRAME_LEN 60 /* 64-byte frame less the FCS a veth never carries */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* flow = prandom % nflows; sport = 10000 + flow % 1000, dport = 10000 +
 * flow / 1000; then bpf_redirect(ifindex). The IP header is untouched, so
 * its checksum stays right; the UDP checksum is 0 (none). */
static unsigned build_send(struct bpf_insn *p, int ifindex, unsigned nflows)
{
	unsigned n = 0;

	p[n++] = I_MOV64_REG(BPF_REG_6, BPF_REG_1);
	p[n++] = I_LDX(BPF_W, BPF_REG_2, BPF_REG_6, offsetof(struct xdp_md, data));
	p[n++] = I_LDX(BPF_W, BPF_REG_3, BPF_REG_6, offsetof(struct xdp_md, data_end));
	p[n++] = I_MOV64_REG(BPF_REG_7, BPF_REG_2);
	p[n++] = I_MOV64_REG(BPF_REG_4, BPF_REG_2);
	p[n++] = I_ADD64_IMM(BPF_REG_4, 38);
	p[n++] = I_JGT_REG(BPF_REG_4, BPF_REG_3, 11);
	p[n++] = I_CALL(BPF_FUNC_get_prandom_u32);
	p[n++] = I_ALU32_IMM(BPF_MOD, BPF_REG_0, (int)nflows);
	p[n++] = I_MOV64_REG(BPF_REG_1, BPF_REG_0);
	p[n++] = I_ALU32_IMM(BPF_DIV, BPF_REG_1, 1000);
	p[n++] = I_ALU32_IMM(BPF_ADD, BPF_REG_1, 10000);
	p[n++] = I_ALU32_IMM(BPF_MOD, BPF_REG_0, 1000);
	p[n++] = I_ALU32_IMM(BPF_ADD, BPF_REG_0, 10000);
	p[n++] = I_TO_BE16(BPF_REG_0);
	p[n++] = I_TO_BE16(BPF_REG_1);
	p[n++] = I_STX(BPF_H, BPF_REG_7, BPF_REG_0, 34);
	p[n++] = I_STX(BPF_H, BPF_REG_7, BPF_REG_1, 36);
	p[n++] = I_MOV64_IMM(BPF_REG_1, ifindex);        /* the jump above lands here */
	p[n++] = I_MOV64_IMM(BPF_REG_2, 0);
	p[n++] = I_CALL(BPF_FUNC_redirect);
	p[n++] = I_EXIT();
	return n;
}

/* (*per-cpu counter)++, XDP_DROP. */
static unsigned build_sink(struct bpf_insn *p, int map_fd)
{
	unsigned n = 0;

	p[n++] = (struct bpf_insn){ BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0 };
	p[n++] = I_MOV64_REG(BPF_REG_2, BPF_REG_10);
	p[n++] = I_ADD64_IMM(BPF_REG_2, -4);
	p[n++] = I_LD_MAP_FD(BPF_REG_1, map_fd);
	p[n++] = I_LD_IMM64_HI();
	p[n++] = I_CALL(BPF_FUNC_map_lookup_elem);
	p[n++] = (struct bpf_insn){ BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 3, 0 };
	p[n++] = I_LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0);
	p[n++] = I_ADD64_IMM(BPF_REG_1, 1);
	p[n++] = I_STX(BPF_DW, BPF_REG_0, BPF_REG_1, 0);
	p[n++] = I_MOV64_IMM(BPF_REG_0, XDP_DROP);
	p[n++] = I_EXIT();
	return n;
}

static int load(struct bpf_insn *insns, unsigned n)
{
	static char log[4096];
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = sizeof(log), .log_level = 0);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "rwgen", "Dual BSD/GPL", insns, n, &o);

	if (fd < 0)
		fprintf(stderr, "rwgen: loading the XDP program: %s\n%s\n", strerror(errno), log);
	return fd;
}

static int parse_mac(const char *s, uint8_t *m)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6 ? 0 : -1;
}

static uint16_t ip_csum(const uint8_t *h)
{
	uint32_t s = 0;

	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet, IPv4 10.203.2.1 -> 10.203.2.2, UDP 10000 -> 10000, zeros. */
static void build_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
	static const uint8_t ip[20] = { 0x45, 0, 0, FRAME_LEN - 14, 0, 0, 0x40, 0, 64, 17, 0, 0,
					10, 203, 2, 1, 10, 203, 2, 2 };
	uint16_t c;

	memset(f, 0, FRAME_LEN);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	memcpy(f + 14, ip, 20);
	c = ip_csum(f + 14);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	f[34] = f[36] = 10000 >> 8;
	f[35] = f[37] = 10000 & 0xff;
	f[39] = FRAME_LEN - 34; /* UDP length */
}

static int do_send(int ifindex, unsigned nflows, unsigned secs, const uint8_t *dst, const uint8_t *src)
{
	struct bpf_insn insns[32];
	uint8_t frame[FRAME_LEN];
	int fd = load(insns, build_send(insns, ifindex, nflows));
	double t0, last, t;
	uint64_t sent = 0, last_sent = 0;

	if (fd < 0)
		return 1;
	build_frame(frame, dst, src);
	t0 = last = now();
	while (!stop && (t = now()) - t0 < secs) {
		/* 2^18 runs is a few tens of milliseconds: signals and the
		 * clock are looked at often enough. */
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = FRAME_LEN,
			    .repeat = 1 << 18, .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);

		if (bpf_prog_test_run_opts(fd, &o)) {
			fprintf(stderr, "rwgen: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		sent += 1 << 18;
		if (t - last >= 1.0) {
			fprintf(stderr, "rwgen: sent %.0f pps\n", (sent - last_sent) / (t - last));
			last = t;
			last_sent = sent;
		}
	}
	t = now() - t0;
	printf("sent=%llu secs=%.2f pps=%.0f\n", (unsigned long long)sent, t, sent / t);
	close(fd);
	return 0;
}

static uint64_t sink_count(int map_fd)
{
	int ncpu = libbpf_num_possible_cpus(), key = 0;
	uint64_t v[RW_MAX_WORKERS * 4] = { 0 }, sum = 0;

	if (ncpu <= 0 || ncpu > (int)RW_ARRAY_SIZE(v) || bpf_map_lookup_elem(map_fd, &key, v))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

static int do_sink(int ifindex, unsigned secs)
{
	struct bpf_insn insns[32];
	int map_fd, fd, link = -1, rc = 1;
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);
	uint64_t got, prev = 0;
	double t0, last;

	map_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "rwgen_count", 4, 8, 1, NULL);
	if (map_fd < 0) {
		fprintf(stderr, "rwgen: map: %s\n", strerror(errno));
		return 1;
	}
	fd = load(insns, build_sink(insns, map_fd));
	if (fd < 0)
		goto out_map;
	link = bpf_link_create(fd, ifindex, BPF_XDP, &lo);
	if (link < 0) {
		fprintf(stderr, "rwgen: attaching the sink: %s\n", strerror(errno));
		goto out_prog;
	}
	fprintf(stderr, "rwgen: sink running\n");
	t0 = last = now();
	while (!stop && now() - t0 < secs) {
		usleep(200000);
		if (now() - last >= 1.0) {
			got = sink_count(map_fd);
			fprintf(stderr, "rwgen: received %.0f pps\n", (got - prev) / (now() - last));
			prev = got;
			last = now();
		}
	}
	got = sink_count(map_fd);
	printf("received=%llu secs=%.2f pps=%.0f\n", (unsigned long long)got, now() - t0, got / (now() - t0));
	rc = 0;
	close(link);
out_prog:
	close(fd);
out_map:
	close(map_fd);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: rwgen send -i IFACE [-f FLOWS] [-t SECONDS] [-d DSTMAC] [-s SRCMAC]\n"
			"       rwgen sink -i IFACE [-t SECONDS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint8_t dst[6] = { 2, 0, 0, 0, 0, 2 }, src[6] = { 2, 0, 0, 0, 0, 1 };
	unsigned flows = 1000, secs = 5;
	const char *ifname = NULL;
	int opt, ifindex;

	if (argc < 2 || (strcmp(argv[1], "send") && strcmp(argv[1], "sink")))
		return usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "i:f:t:d:s:")) != -1) {
		if (opt == 'i')
			ifname = optarg;
		else if (opt == 'f')
			flows = (unsigned)strtoul(optarg, NULL, 0);
		else if (opt == 't')
			secs = (unsigned)strtoul(optarg, NULL, 0);
		else if ((opt == 'd' && !parse_mac(optarg, dst)) || (opt == 's' && !parse_mac(optarg, src)))
			continue;
		else
			return usage();
	}
	if (!ifname || flows == 0 || flows > 1000000 || secs == 0 || secs > 3600)
		return usage();
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "rwgen: no interface '%s'\n", ifname);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	return argv[1][1] == 'e' ? do_send(ifindex, flows, secs, dst, src) : do_sink(ifindex, secs);
}

#else

#include <stdio.h>

int main(void)
{
	fprintf(stderr, "rwgen: built without libbpf (install libbpf-dev and libxdp-dev, rebuild)\n");
	return 1;
}

#endif
