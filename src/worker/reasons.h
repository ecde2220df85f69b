/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Every packet ringwall does not forward is dropped for one named reason, and
 * each reason has a counter per worker (summed when read). The table below is
 * the single list: the enum, the names printed in summaries and by
 * ringwallctl, and the documentation in docs/drop-reasons.md come from it.
 *
 * Keep names stable: scripts and metrics scrape them.
 */
#ifndef RW_REASONS_H
#define RW_REASONS_H

#define RW_DROP_REASONS(X)                                                              \
	/* parsing: the frame is not a well-formed packet */                            \
	X(ETH_SHORT,        "eth-short",        "frame shorter than an Ethernet header")     \
	X(VLAN_SHORT,       "vlan-short",       "frame ends inside an 802.1Q tag")           \
	X(VLAN_DEPTH,       "vlan-depth",       "more than two stacked VLAN tags")           \
	X(ARP_SHORT,        "arp-short",        "ARP packet shorter than its header")        \
	X(IP_SHORT,         "ip-short",         "frame ends inside the IPv4 header")         \
	X(IP_VERSION,       "ip-version",       "IP version does not match the EtherType")   \
	X(IP_IHL,           "ip-ihl",           "IPv4 header length below 20 bytes or past the packet") \
	X(IP_TOTAL_LEN,     "ip-total-len",     "IPv4 total length shorter than header or longer than frame") \
	X(IP_CHECKSUM,      "ip-checksum",      "IPv4 header checksum wrong")                \
	X(IP_OPTIONS,       "ip-options",       "IPv4 options malformed")                    \
	X(IP6_SHORT,        "ip6-short",        "frame ends inside the IPv6 header")         \
	X(IP6_PAYLOAD_LEN,  "ip6-payload-len",  "IPv6 payload length longer than frame (or jumbogram)") \
	X(IP6_EXT_SHORT,    "ip6-ext-short",    "IPv6 extension header runs past the packet")\
	X(IP6_EXT_CHAIN,    "ip6-ext-chain",    "IPv6 extension header chain too long or misordered") \
	X(TCP_SHORT,        "tcp-short",        "TCP header truncated or data offset wrong") \
	X(TCP_FLAGS,        "tcp-flags",        "impossible TCP flag combination")           \
	X(UDP_SHORT,        "udp-short",        "UDP header truncated or length field wrong")\
	X(ICMP_SHORT,       "icmp-short",       "ICMP/ICMPv6 header truncated")              \
	X(ICMP_FAMILY,      "icmp-family",      "ICMPv4 inside IPv6 or ICMPv6 inside IPv4")  \
	X(L4_CHECKSUM,      "l4-checksum",      "TCP/UDP/ICMP checksum wrong")               \
	X(FRAG,             "frag",             "fragment dropped by the fragment policy")   \
	X(NON_IP,           "non-ip",           "EtherType blocked by policy")               \
	/* policy */                                                                    \
	X(RULE_BLOCK,       "rule-block",       "matched a block rule")                      \
	X(DEFAULT_BLOCK,    "default-block",    "no rule matched and the default is block")  \
	/* state tracking */                                                            \
	X(TCP_NO_STATE,     "tcp-no-state",     "TCP segment that cannot open a connection and has no state") \
	X(TCP_WINDOW,       "tcp-window",       "TCP segment outside the tracked sequence window") \
	X(TCP_RST_WINDOW,   "tcp-rst-window",   "TCP RST whose sequence number is not in the window") \
	X(TCP_STATE,        "tcp-state",        "TCP segment not valid in the connection's state") \
	X(STATE_FULL,       "state-full",       "connection table full, no entry could be evicted") \
	X(ICMP_ERR_NOSTATE, "icmp-err-nostate", "ICMP error quoting a connection that is not tracked") \
	X(ICMP_ERR_QUOTE,   "icmp-err-quote",   "ICMP error whose quoted header is malformed") \
	X(ICMP_UNTRACKED,   "icmp-untracked",   "ICMP reply or message with no matching state") \
	/* ports */                                                                     \
	X(NO_EGRESS,        "no-egress",        "no port to forward to")                     \
	X(TX_FULL,          "tx-full",          "egress ring full")                          \
	/* reassembly (src/track/frag.c): each ends the whole datagram */             \
	X(FRAG_OVERLAP,     "frag-overlap",     "fragment overlaps another of its datagram (RFC 5722)") \
	X(FRAG_DUPLICATE,   "frag-duplicate",   "exact copy of a fragment already held (the copy only)") \
	X(FRAG_TOO_BIG,     "frag-too-big",     "reassembled datagram would exceed 65,535 bytes") \
	X(FRAG_TOO_MANY,    "frag-too-many",    "more fragments than one datagram may have") \
	X(FRAG_NO_MEMORY,   "frag-no-memory",   "reassembly memory full (oldest datagrams evicted)") \
	X(FRAG_TIMEOUT,     "frag-timeout",     "datagram not complete within the frag timeout") \
	X(FRAG_EXT_SPLIT,   "frag-ext-split",   "IPv6 header chain not all in the first fragment (RFC 7112)") \
	X(FRAG_SHORT_FIRST, "frag-short-first", "first fragment too short for the transport header") \
	X(FRAG_INCONSISTENT, "frag-inconsistent", "fragment lengths contradict the last fragment") \
	/* SYN proxy (src/track/synproxy.c, docs/synproxy.md) */                      \
	X(SYNPROXY_COOKIE,  "synproxy-cookie",  "ACK for a synproxy rule whose SYN cookie is forged or expired") \
	X(SYNPROXY_PENDING, "synproxy-pending", "client segment before the server answered the proxy (the client retries)")

enum rw_drop_reason {
	RW_PASS = 0,
#define RW_X_ENUM(id, name, text) RW_DROP_##id,
	RW_DROP_REASONS(RW_X_ENUM)
#undef RW_X_ENUM
	RW_DROP_MAX
};

/* Name ("tcp-window") and one-line description of a reason. */
const char *rw_reason_name(unsigned reason);
const char *rw_reason_text(unsigned reason);

#endif
