/* SPDX-License-Identifier: BSD-2-Clause */
/* Kernel drop counters of a port (rw_port_kstats): the seam's helper, and,
 * where the test may make a network namespace (root), an AF_PACKET ring
 * left unread until the kernel must drop, whose counts must add up across
 * reads although PACKET_STATISTICS resets on each. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/port.h"
#include "t.h"

static void fake_kstats(const struct rw_port *p, struct rw_port_kstats *out)
{
	(void)p;
	out->rx_drops = 7;
	out->rx_ring_full = 5;
	out->tx_errors = 1;
}

TEST(kstats_without_op_is_zero)
{
	struct rw_port p = { .ops = &rw_port_gen_ops };
	struct rw_port_kstats k;

	memset(&k, 0xff, sizeof(k));
	CHECK(!rw_port_kstats(&p, &k));
	CHECK_EQ(k.rx_drops, 0);
	CHECK_EQ(k.rx_freezes, 0);
	CHECK_EQ(k.tx_errors, 0);
}

TEST(kstats_passes_backend_counts)
{
	struct rw_port_ops ops = rw_port_gen_ops;
	struct rw_port p = { .ops = &ops };
	struct rw_port_kstats k;

	ops.kstats = fake_kstats;
	memset(&k, 0xff, sizeof(k));
	CHECK(rw_port_kstats(&p, &k));
	CHECK_EQ(k.rx_drops, 7);
	CHECK_EQ(k.rx_ring_full, 5);
	CHECK_EQ(k.fill_empty, 0); /* not set by the backend: cleared first */
	CHECK_EQ(k.tx_errors, 1);
}

TEST(kstats_closed_port_is_zero)
{
	struct rw_port p = { .ops = &rw_port_afpacket_ops, .priv = NULL };
	struct rw_port_kstats k;

	CHECK(!rw_port_kstats(&p, &k));
}

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

static void send_udp(unsigned n)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	char payload[200] = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (unsigned i = 0; fd >= 0 && i < n; i++)
		sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to));
	if (fd >= 0)
		close(fd);
}

/* Two 4 KiB blocks hold about 30 such frames; 300 datagrams with no
 * reader overflow the ring. */
TEST(afpacket_counts_ring_full_drops_across_reads)
{
	struct rw_port p = { 0 };
	struct rw_port_kstats k1, k2, k3;
	char err[256];

	if (unshare(CLONE_NEWNET) < 0 || lo_up() < 0) {
		printf("# skip: no network namespace (%s); needs root\n", strerror(errno));
		return;
	}
	CHECK_EQ(rw_port_open(&p, "lo", 0, "afpacket:lo,block=4096,blocks=2,promisc=off", 1, err,
			      sizeof(err)), 0);
	if (!p.priv)
		return;
	CHECK(!rw_port_kstats(&p, &k1)); /* nothing dropped yet */
	send_udp(300);
	CHECK(rw_port_kstats(&p, &k1));
	CHECK(k1.rx_drops > 0);
	CHECK_EQ(k1.rx_ring_full, k1.rx_drops);
	CHECK(k1.rx_freezes > 0);
	/* 300 datagrams and their 300 port-unreachable errors (loopback does
	 * not rate-limit ICMP), less those the ring kept */
	CHECK(k1.rx_drops < 600);
	/* A read with nothing new must not lose the earlier counts. */
	rw_port_kstats(&p, &k2);
	CHECK_EQ(k2.rx_drops, k1.rx_drops);
	send_udp(300);
	rw_port_kstats(&p, &k3);
	CHECK(k3.rx_drops >= k1.rx_drops + 250);
	CHECK_EQ(k3.fill_empty, 0);
	CHECK_EQ(k3.tx_errors, 0);
	rw_port_close(&p);
}
