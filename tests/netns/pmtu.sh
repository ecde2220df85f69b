#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Path MTU discovery through ringwall (issue 6, ICMP): the path to the
# server narrows to 1280 bytes behind a router, so the client's full-size
# segments draw ICMP "fragmentation needed" (IPv6 "packet too big") from the
# router. Those errors quote a tracked connection and must cross the
# firewall, or the upload stalls. Errors quoting anything else are dropped
# and counted as icmp-err-nostate (forged with scapy).
#
#   rwm-PID-c              rwm-PID-f                     rwm-PID-r                   rwm-PID-s
#  +------------+   +------------------------+   +--------------------------+   +------------+
#  | rwmc0      |   | rwmc1            rwmr1 |   | rwmr0              rwms1 |   |      rwms0 |
#  | 10.218.1.1=veth= [ ringwall run ] =veth=10.218.1.254   10.218.2.254 =veth= 10.218.2.2  |
#  | fd00:218:1::1  |  client / server ports |   | fd00:218:1::fe           |   | mtu 1500   |
#  | mtu 1500   |   |                        |   | mtu 1500   mtu 1280 (!)  |   | sink :5201 |
#  +------------+   +------------------------+   +--------------------------+   +------------+
#
# The server's own MTU stays 1500, so its MSS (1460) does not hide the
# narrow hop: only PMTU discovery (the router's ICMP errors) makes the
# upload fit. Endpoint veths have tx checksum offload, TSO and GSO off.
# Needs root. Prints TAP; exit 1 on any failure. Every wait is bounded.
set -u

cd "$(dirname "$0")/../.."
RW=${RINGWALL:-build/ringwall}
CTL=${RINGWALLCTL:-$(dirname "$RW")/ringwallctl}
P=rwm-$$
NC=$P-c NF=$P-f NR=$P-r NS=$P-s
C=10.218.1.1 R1=10.218.1.254 R2=10.218.2.254 S=10.218.2.2
C6=fd00:218:1::1 R16=fd00:218:1::fe R26=fd00:218:2::fe S6=fd00:218:2::2
BACKEND=${PMTU_BACKEND:-afpacket}
. tests/netns/lib.sh
rw_tmpdir rwm
SOCK=$TMP/ctl.sock
PY=/usr/bin/python3

rw_need_root
[ -x "$RW" ] && [ -x "$CTL" ] || skip_all "$RW or $CTL not built"
rw_need_tools ip ethtool
$PY -c 'import scapy' 2>/dev/null || skip_all "python3-scapy missing"

ctl() { "$CTL" -s "$SOCK" "$@"; }

setup() {
	rw_ns_add $NC $NF $NR $NS || return 1
	rw_veth $NC rwmc0 $NF rwmc1 && rw_veth $NR rwmr0 $NF rwmr1 && rw_veth $NS rwms0 $NR rwms1 || return 1
	ip -n $NC addr add $C/24 dev rwmc0 && ip -n $NC addr add $C6/64 dev rwmc0 nodad || return 1
	ip -n $NR addr add $R1/24 dev rwmr0 && ip -n $NR addr add $R16/64 dev rwmr0 nodad || return 1
	ip -n $NR addr add $R2/24 dev rwms1 && ip -n $NR addr add $R26/64 dev rwms1 nodad || return 1
	ip -n $NS addr add $S/24 dev rwms0 && ip -n $NS addr add $S6/64 dev rwms0 nodad || return 1
	# the narrow hop: the router's side of the last link
	ip -n $NR link set rwms1 mtu 1280 || return 1
	rw_endpoint $NC rwmc0 && rw_endpoint $NR rwmr0 && rw_endpoint $NR rwms1 && rw_endpoint $NS rwms0 || return 1
	rw_up $NF rwmc1 rwmr1 || return 1
	ip netns exec $NR sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	ip -n $NC route add 10.218.2.0/24 via $R1 && ip -n $NC -6 route add fd00:218:2::/64 via $R16 || return 1
	ip -n $NS route add default via $R2 && ip -n $NS -6 route add default via $R26
}

# A TCP sink on 5201 that answers each upload with the byte count it got.
start_server() {
	ip netns exec $NS timeout 100 $PY - <<-'EOF' >/dev/null 2>&1 &
	import socket
	ls = socket.socket(socket.AF_INET6)
	ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	ls.bind(('::', 5201))
	ls.listen(8)
	while True:
	    c, _ = ls.accept()
	    c.settimeout(20)
	    n = 0
	    try:
	        while True:
	            b = c.recv(65536)
	            if not b:
	                break
	            n += len(b)
	        c.sendall(b'%d\n' % n)
	    except OSError:
	        pass
	    c.close()
	EOF
	rw_cleanup_pid $!
	rw_wait_for 15 rw_listening $NS 5201
}

start_fw() {
	cat >"$TMP/fw.conf" <<-EOF
	port client "$BACKEND:rwmc1"
	port server "$BACKEND:rwmr1"
	set workers 1
	pass in on client proto tcp to port 5201
	pass in on client proto ipv6-icmp icmp6-type { neighbrsol neighbradv }
	pass in on server proto ipv6-icmp icmp6-type { neighbrsol neighbradv }
	EOF
	rw_daemon_start "$TMP/rw.out" "$TMP/rw.err" "running:" 5 \
		ip netns exec $NF timeout 120 "$RW" run -c "$TMP/fw.conf" -s "$SOCK"
}

drops() { ctl --json stats | $PY -c 'import json,sys; print(json.load(sys.stdin)["drops"].get(sys.argv[1], 0))' "$1"; }

# upload ADDR: 3 MB from the client to the server, which must say it got
# all of it; bounded by a 15 s timeout
upload() {
	ip netns exec $NC timeout 20 $PY - "$1" <<-'EOF'
	import socket, sys
	c = socket.create_connection((sys.argv[1], 5201), timeout=15)
	c.sendall(b'x' * 3000000)
	c.shutdown(socket.SHUT_WR)
	got = c.makefile().readline().strip()
	print('server got', got, 'bytes')
	sys.exit(got != '3000000')
	EOF
}
# the client learnt the narrow hop's MTU from the router's error
pmtu_learnt() { ip -n $NC route get "$1" | tee /dev/stderr | grep -q "mtu 1280"; }
no_pmtu() { ! ip -n $NC route get "$1" | grep -q "mtu "; }

# forge KIND: from the router's port, an ICMP error for the client quoting
# a connection that is not tracked (another port) or a tracked one with a
# sequence number outside its window
forge() {
	ip netns exec $NR $PY - "$1" "$C" "$S" "$C6" "$S6" "$R1" "$R16" \
		"$(ip -n $NC -j link show rwmc0 | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')" <<-'EOF'
	import sys
	from scapy.all import Ether, IP, IPv6, ICMP, ICMPv6PacketTooBig, TCP, sendp
	kind, c, s, c6, s6, r, r6, cmac = sys.argv[1:]
	if kind == 'v4-untracked':
	    q = IP(src=c, dst=s) / TCP(sport=44444, dport=5201, flags='A', seq=1)
	    p = IP(src=r, dst=c) / ICMP(type=3, code=4, nexthopmtu=600) / bytes(q)[:28]
	elif kind == 'v6-untracked':
	    q = IPv6(src=c6, dst=s6) / TCP(sport=44444, dport=5201, flags='A', seq=1) / (b'x' * 1200)
	    p = IPv6(src=r6, dst=c6) / ICMPv6PacketTooBig(mtu=1280) / bytes(q)[:1232]
	elif kind == 'v4-other-host':
	    q = IP(src=c, dst='10.218.2.99') / TCP(sport=5555, dport=5201, flags='A', seq=1)
	    p = IP(src=r, dst=c) / ICMP(type=3, code=4, nexthopmtu=600) / bytes(q)[:28]
	else:
	    sys.exit('unknown kind ' + kind)
	sendp(Ether(dst=cmac) / p, iface='rwmr0', count=3, verbose=False)
	EOF
}

nostate_grew() { # nostate_grew BEFORE BY
	local now
	now=$(drops icmp-err-nostate)
	echo "icmp-err-nostate $1 -> $now"
	[ "$now" = $(($1 + $2)) ]
}

echo "# topology $NC - $NF - $NR - $NS, $C <-> $S, narrow hop 1280 at the router"
if ! setup; then notok "topology set up"; echo "1..$n"; exit 1; fi
ok "topology set up"
check "TCP sink starts on the server" start_server
if ! start_fw; then
	notok "ringwall starts" "$TMP/rw.err"
	echo "1..$n"
	exit 1
fi
ok "ringwall starts"
check "before: the client knows no path MTU to the server (IPv4)" no_pmtu $S
check "IPv4: 3 MB upload across the 1280-byte hop completes" upload $S
check "IPv4: the router's fragmentation-needed crossed (client route says mtu 1280)" pmtu_learnt $S
check "IPv6: 3 MB upload across the 1280-byte hop completes" upload $S6
check "IPv6: the router's packet-too-big crossed (client route says mtu 1280)" pmtu_learnt $S6
base=$(drops icmp-err-nostate)
check "the legitimate errors were not counted as icmp-err-nostate ($base)" test "$base" = 0
forge v4-untracked
check "forged IPv4 frag-needed quoting an untracked connection: 3 dropped as icmp-err-nostate" nostate_grew "$base" 3
forge v6-untracked
check "forged IPv6 packet-too-big quoting an untracked connection: 3 more" nostate_grew "$base" 6
forge v4-other-host
check "forged error quoting the client's traffic to another host: 3 more" nostate_grew "$base" 9
ctl stats | grep -E "^states|icmp" | sed 's/^/#   /'
check "SIGTERM stops ringwall with status 0" rw_daemon_stop

rw_done
