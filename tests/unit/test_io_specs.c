/* SPDX-License-Identifier: BSD-2-Clause */
/* The live backends' spec parsers (check needs no root, opens nothing), and
 * open's refusal of bad input before it touches the system. */
#include <errno.h>
#include <string.h>

#include "io/port.h"
#include "t.h"

static int chk(const struct rw_port_ops *ops, const char *arg, char *err)
{
	err[0] = 0;
	return ops->check(arg, err, 256);
}

TEST(afpacket_spec_accepts_options)
{
	char err[256];

	CHECK_EQ(chk(&rw_port_afpacket_ops, "eth0", err), 0);
	CHECK_EQ(chk(&rw_port_afpacket_ops, "veth-in,block=65536,blocks=8,timeout=2,frame=4096,frames=64,"
		     "fanout=7,tx=mmsg,gro=keep,promisc=off", err), 0);
	CHECK_EQ(chk(&rw_port_afpacket_ops, "eth0,tx=ring,gro=off", err), 0);
}

TEST(afpacket_spec_rejects_bad_input)
{
	static const char *const bad[] = {
		"", ",block=4096", "block=4096", "eth0,block=5000", "eth0,block=1024", "eth0,blocks=1",
		"eth0,timeout=0", "eth0,frame=3000", "eth0,fanout=70000", "eth0,tx=zap", "eth0,gro",
		"eth0,nosuch=1", "an-interface-name-too-long", "eth0,frames=-1", "eth0,blocks=9x",
	};
	char err[256];

	for (size_t i = 0; i < RW_ARRAY_SIZE(bad); i++) {
		CHECK_EQ(chk(&rw_port_afpacket_ops, bad[i], err), -EINVAL);
		CHECK(strncmp(err, "afpacket: ", 10) == 0);
	}
	CHECK_EQ(rw_port_afpacket_ops.check(NULL, err, sizeof(err)), -EINVAL);
}

TEST(afpacket_open_refuses_missing_interface)
{
	struct rw_port p = { .ops = &rw_port_afpacket_ops };
	char err[256] = "";

	CHECK(rw_port_afpacket_ops.open(&p, "rw-no-such-if0", 1, err, sizeof(err)) < 0);
	CHECK(err[0] != 0);
	CHECK(p.priv == NULL);
	CHECK(rw_port_afpacket_ops.open(&p, "lo", 0, err, sizeof(err)) == -EINVAL);
}

TEST(registry_knows_live_schemes)
{
	char err[256];

	CHECK_EQ(rw_port_check("afpacket:eth0,fanout=3", err, sizeof(err)), 0);
	CHECK_EQ(rw_port_check("afpacket:eth0,fanout=x", err, sizeof(err)), -EINVAL);
#ifdef RW_HAVE_XDP
	CHECK_EQ(rw_port_check("afxdp:eth0,mode=generic", err, sizeof(err)), 0);
#endif
}

#ifdef RW_HAVE_XDP
TEST(afxdp_spec_accepts_options)
{
	char err[256];

	CHECK_EQ(chk(&rw_port_afxdp_ops, "eth0", err), 0);
	CHECK_EQ(chk(&rw_port_afxdp_ops, "eth0,mode=native,zerocopy=off,ring=512,frames=2048,frame=4096,"
		     "umem=lan,kernel=arp", err), 0);
	CHECK_EQ(chk(&rw_port_afxdp_ops, "eth0,mode=auto,zerocopy=on,kernel=0x88b5", err), 0);
	CHECK_EQ(chk(&rw_port_afxdp_ops, "eth0,kernel=lldp,kernel=none", err), 0);
}

TEST(afxdp_spec_rejects_bad_input)
{
	static const char *const bad[] = {
		"", "mode=native", "eth0,mode=fast", "eth0,zerocopy=yes", "eth0,ring=1000", "eth0,ring=32",
		"eth0,frame=1024", "eth0,frame=3072", "eth0,kernel=0x10", "eth0,kernel=ip",
		"eth0,umem=", "eth0,umem=a-name-far-too-long", "eth0,ring=1024,frames=1024", "eth0,queues",
		"eth0,bogus=1",
	};
	char err[256];

	for (size_t i = 0; i < RW_ARRAY_SIZE(bad); i++) {
		CHECK_EQ(chk(&rw_port_afxdp_ops, bad[i], err), -EINVAL);
		CHECK(strncmp(err, "afxdp: ", 7) == 0);
	}
}

TEST(afxdp_open_refuses_missing_interface)
{
	struct rw_port p = { .ops = &rw_port_afxdp_ops };
	char err[256] = "";

	CHECK(rw_port_afxdp_ops.open(&p, "rw-no-such-if0", 1, err, sizeof(err)) == -ENODEV);
	CHECK(p.priv == NULL);
}
#endif
