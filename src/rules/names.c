// SPDX-License-Identifier: BSD-2-Clause
/*
 * Protocol, service and ICMP type names. Embedded rather than read from
 * /etc/protocols and /etc/services: a minimal appliance image may lack
 * them, and a configuration must mean the same thing on every box.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>

struct name_num {
	const char *name;
	int num;
};

/* IANA protocol numbers, with the aliases pf and /etc/protocols use. */
static const struct name_num protos[] = {
	{"ip", 0}, {"hopopt", 0}, {"icmp", 1}, {"igmp", 2}, {"ggp", 3}, {"ipencap", 4},
	{"ipip", 4}, {"st", 5}, {"tcp", 6}, {"egp", 8}, {"igp", 9}, {"pup", 12},
	{"udp", 17}, {"hmp", 20}, {"xns-idp", 22}, {"rdp", 27}, {"iso-tp4", 29},
	{"dccp", 33}, {"xtp", 36}, {"ddp", 37}, {"idpr-cmtp", 38}, {"ipv6", 41},
	{"ipv6-route", 43}, {"ipv6-frag", 44}, {"idrp", 45}, {"rsvp", 46}, {"gre", 47},
	{"esp", 50}, {"ah", 51}, {"skip", 57}, {"ipv6-icmp", 58}, {"icmp6", 58},
	{"ipv6-nonxt", 59}, {"ipv6-opts", 60}, {"rspf", 73}, {"vmtp", 81},
	{"eigrp", 88}, {"ospf", 89}, {"ax.25", 93}, {"ipip-old", 94}, {"etherip", 97},
	{"encap", 98}, {"pim", 103}, {"ipcomp", 108}, {"vrrp", 112}, {"carp", 112},
	{"l2tp", 115}, {"isis", 124}, {"sctp", 132}, {"fc", 133}, {"mobility-header", 135},
	{"udplite", 136}, {"mpls-in-ip", 137}, {"manet", 138}, {"hip", 139}, {"shim6", 140},
	{"wesp", 141}, {"rohc", 142}, {"ethernet", 143}, {"pfsync", 240},
};

/* Well-known TCP/UDP services (names as in /etc/services). */
static const struct name_num services[] = {
	{"tcpmux", 1}, {"echo", 7}, {"discard", 9}, {"daytime", 13}, {"chargen", 19},
	{"ftp-data", 20}, {"ftp", 21}, {"ssh", 22}, {"telnet", 23}, {"smtp", 25},
	{"time", 37}, {"whois", 43}, {"tacacs", 49}, {"domain", 53}, {"bootps", 67},
	{"bootpc", 68}, {"tftp", 69}, {"gopher", 70}, {"finger", 79}, {"http", 80},
	{"www", 80}, {"kerberos", 88}, {"pop3", 110}, {"sunrpc", 111}, {"auth", 113},
	{"ident", 113}, {"nntp", 119}, {"ntp", 123}, {"epmap", 135}, {"netbios-ns", 137},
	{"netbios-dgm", 138}, {"netbios-ssn", 139}, {"imap", 143}, {"imap2", 143},
	{"snmp", 161}, {"snmp-trap", 162}, {"xdmcp", 177}, {"bgp", 179}, {"irc", 194},
	{"ldap", 389}, {"https", 443}, {"microsoft-ds", 445}, {"kpasswd", 464},
	{"isakmp", 500}, {"exec", 512}, {"login", 513}, {"shell", 514}, {"syslog", 514},
	{"printer", 515}, {"talk", 517}, {"ntalk", 518}, {"route", 520}, {"submission", 587},
	{"ipp", 631}, {"ldaps", 636}, {"rsync", 873}, {"ftps-data", 989}, {"ftps", 990},
	{"telnets", 992}, {"imaps", 993}, {"pop3s", 995}, {"domain-s", 853},
	{"socks", 1080}, {"openvpn", 1194}, {"ms-sql-s", 1433}, {"ms-sql-m", 1434},
	{"pptp", 1723}, {"radius", 1812}, {"radius-acct", 1813}, {"nfs", 2049},
	{"mysql", 3306}, {"ms-wbt-server", 3389}, {"ipsec-nat-t", 4500}, {"sip", 5060},
	{"sip-tls", 5061}, {"xmpp-client", 5222}, {"xmpp-server", 5269},
	{"postgresql", 5432}, {"amqp", 5672}, {"x11", 6000}, {"redis", 6379},
	{"http-alt", 8080}, {"webcache", 8080}, {"memcache", 11211},
};

/* ICMP (RFC 792 and successors) and ICMPv6 (RFC 4443, 4861) types, pf's names. */
static const struct name_num icmp4_types[] = {
	{"echorep", 0}, {"unreach", 3}, {"squench", 4}, {"redir", 5}, {"althost", 6},
	{"echoreq", 8}, {"routeradv", 9}, {"routersol", 10}, {"timex", 11},
	{"paramprob", 12}, {"timereq", 13}, {"timerep", 14}, {"inforeq", 15},
	{"inforep", 16}, {"maskreq", 17}, {"maskrep", 18}, {"trace", 30},
	{"dataconv", 31}, {"mobredir", 32}, {"ipv6-where", 33}, {"ipv6-here", 34},
	{"mobregreq", 35}, {"mobregrep", 36}, {"skip", 39}, {"photuris", 40},
};

static const struct name_num icmp6_types[] = {
	{"unreach", 1}, {"toobig", 2}, {"timex", 3}, {"paramprob", 4}, {"echoreq", 128},
	{"echorep", 129}, {"groupqry", 130}, {"listqry", 130}, {"grouprep", 131},
	{"listenrep", 131}, {"groupterm", 132}, {"listendone", 132}, {"routersol", 133},
	{"routeradv", 134}, {"neighbrsol", 135}, {"neighbradv", 136}, {"redir", 137},
	{"routrrenum", 138}, {"wrureq", 139}, {"wrurep", 140}, {"fqdnreq", 139},
	{"fqdnrep", 140}, {"niqry", 139}, {"nirep", 140}, {"mtraceresp", 200},
	{"mtrace", 201}, {"listenrepv2", 143},
};

static int lookup(const struct name_num *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return t[i].num;
	return -1;
}

int rw_proto_lookup(const char *name)
{
	return lookup(protos, RW_ARRAY_SIZE(protos), name);
}

int rw_service_lookup(const char *name)
{
	return lookup(services, RW_ARRAY_SIZE(services), name);
}

int rw_icmp_type_lookup(const char *name, bool v6)
{
	if (v6)
		return lookup(icmp6_types, RW_ARRAY_SIZE(icmp6_types), name);
	return lookup(icmp4_types, RW_ARRAY_SIZE(icmp4_types), name);
}

int rw_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			v = UINT64_MAX; /* saturate: still a number, just too big */
		else
			v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}
