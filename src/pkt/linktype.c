/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Capture files come in several link types; the parser reads Ethernet. This
 * turns the link types found in real captures (raw IP, Linux cooked, BSD
 * loopback) into Ethernet frames with a synthetic header, so that the pcap
 * backend and the tests replay them through the one parser.
 */
#include <errno.h>
#include <string.h>
#include "internal.h"

static int put_eth(uint16_t et, const uint8_t *l3, uint32_t n, uint8_t *buf, uint32_t size)
{
	if (n > size || size - n < 14)
		return -ENOSPC;
	/* Move first: buf may be the frame's own buffer. */
	memmove(buf + 14, l3, n);
	/* Zero MACs: locally meaningless, and never a multicast address. */
	memset(buf, 0, 12);
	buf[12] = (uint8_t)(et >> 8);
	buf[13] = (uint8_t)et;
	return (int)(14 + n);
}

/* Raw IP: the version nibble says which. Anything else is labelled IPv4 so
 * that the parser counts it (ip-short, ip-version) instead of it vanishing. */
static uint16_t raw_ethertype(const uint8_t *f, uint32_t len)
{
	return len && f[0] >> 4 == 6 ? 0x86dd : 0x0800;
}

/* BSD loopback: a 4-byte address family, in the capturing host's byte order
 * for DLT_NULL and network order for DLT_LOOP; IPv6's value differs between
 * the BSDs (24, 28, 30) and Linux (10). */
static int null_ethertype(const uint8_t *f)
{
	uint32_t af = rd32(f);

	if (af > 0xffff)
		af = __builtin_bswap32(af);
	if (af == 2)
		return 0x0800;
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return 0x86dd;
	return -EPROTONOSUPPORT;
}

int rw_linktype_to_eth(int dlt, const uint8_t *frame, uint32_t len, uint8_t *buf, uint32_t size)
{
	int et;

	switch (dlt) {
	case RW_DLT_EN10MB:
		if (len > size)
			return -ENOSPC;
		memmove(buf, frame, len);
		return (int)len;
	case RW_DLT_RAW:
	case RW_LINKTYPE_RAW:
		return put_eth(raw_ethertype(frame, len), frame, len, buf, size);
	case RW_DLT_IPV4:
		return put_eth(0x0800, frame, len, buf, size);
	case RW_DLT_IPV6:
		return put_eth(0x86dd, frame, len, buf, size);
	case RW_DLT_LINUX_SLL: /* 16 bytes, protocol (an EtherType) last */
		if (len < 16)
			return -EINVAL;
		return put_eth(rd16(frame + 14), frame + 16, len - 16, buf, size);
	case RW_DLT_LINUX_SLL2: /* 20 bytes, protocol first */
		if (len < 20)
			return -EINVAL;
		return put_eth(rd16(frame), frame + 20, len - 20, buf, size);
	case RW_DLT_NULL:
	case RW_DLT_LOOP:
		if (len < 4)
			return -EINVAL;
		et = null_ethertype(frame);
		if (et < 0)
			return et;
		return put_eth((uint16_t)et, frame + 4, len - 4, buf, size);
	default:
		return -EPROTONOSUPPORT;
	}
}
