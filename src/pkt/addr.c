/* SPDX-License-Identifier: BSD-2-Clause */
/* Addresses as text, for logs and the control plane. */
#include <arpa/inet.h>
#include <stdio.h>
#include "pkt.h"

/*
 * inet_ntop's forms: dotted quad for IPv4 (stored v4-mapped, so the last four
 * bytes), RFC 5952 text for IPv6. An RW_AF_INET address that is not
 * v4-mapped is a caller bug; print it as IPv6 rather than invent a value.
 * An unknown family prints "?". The result is always terminated when
 * size > 0 (truncated if buf is too small).
 */
void rw_addr_str(uint8_t af, const uint8_t addr[16], char *buf, size_t size)
{
	char tmp[INET6_ADDRSTRLEN];
	const char *s = "?";

	if (!size)
		return;
	if (af == RW_AF_INET && rw_addr_is_v4mapped(addr))
		s = inet_ntop(AF_INET, addr + 12, tmp, sizeof(tmp));
	else if (af == RW_AF_INET || af == RW_AF_INET6)
		s = inet_ntop(AF_INET6, addr, tmp, sizeof(tmp));
	snprintf(buf, size, "%s", s ? s : "?");
}
