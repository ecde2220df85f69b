#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Live port backends: portbridge (tests/io/portbridge.c, no rules) forwards
# between two veths with each backend, and ping, a TCP transfer and an
# iperf3 run must cross it. Without a bridge nothing may cross.
#
#   rwp-PID-a               rwp-PID-f                    rwp-PID-b
#  +-------------+   +-------------------------+   +-------------+
#  | pa0         |   | pa1                 pb1 |   |         pb0 |
#  | 10.203.1.1 =veth= [ portbridge A <-> B ] =veth= 10.203.1.2  |
#  | fd00:203::1 |   |  (no addresses)         |   | fd00:203::2 |
#  +-------------+   +-------------------------+   +-------------+
#
# The endpoints' tx checksum offload, TSO and GSO are off: a veth hands its
# peer TCP segments with the checksum unfinished (CHECKSUM_PARTIAL), which a
# user-space bridge would forward as they are, and the receiver would drop.
#
# Needs root (namespaces, AF_PACKET, XDP). Prints TAP; exit 1 on any failure.
set -u

cd "$(dirname "$0")/../.."
BIN=${PORTBRIDGE:-build/tests/portbridge}
P=rwp-$$
NA=$P-a NF=$P-f NB=$P-b
A=10.203.1.1 B=10.203.1.2 F=10.203.1.254 A6=fd00:203::1 B6=fd00:203::2
. tests/netns/lib.sh
rw_tmpdir rwp

rw_need_root
[ -x "$BIN" ] || skip_all "$BIN not built (make $BIN)"
rw_need_tools ip ethtool iperf3 curl ping
PY=/usr/bin/python3

setup() {
	rw_ns_add $NA $NF $NB || return 1
	rw_veth $NA pa0 $NF pa1 && rw_veth $NB pb0 $NF pb1 || return 1
	ip -n $NA addr add $A/24 dev pa0 && ip -n $NB addr add $B/24 dev pb0 || return 1
	ip -n $NA addr add $A6/64 dev pa0 nodad && ip -n $NB addr add $B6/64 dev pb0 nodad || return 1
	rw_endpoint $NA pa0 && rw_endpoint $NB pb0 || return 1
	rw_up $NF pa1 pb1
}

# A 2 MB file served from B, checked byte for byte after crossing.
start_servers() {
	mkdir -p "$TMP/www" && head -c 2000000 /dev/urandom >"$TMP/www/blob" || return 1
	(cd "$TMP/www" && exec ip netns exec $NB $PY -m http.server --bind $B 8080) >/dev/null 2>&1 &
	rw_cleanup_pid $!
	ip netns exec $NB iperf3 -s -B $B >/dev/null 2>&1 &
	rw_cleanup_pid $!
	rw_wait_for 5 rw_listening $NB 8080 5201
}

# start_bridge SPEC_A SPEC_B [ARGS]: start portbridge, wait until it runs
# (up to 15 s: an AF_XDP queue can stay busy ~1 s after the last user, and
# once, with a 1 GB valgrind run on the other core, the fanout pair did not
# say it was running within 5 s).
start_bridge() {
	local a=$1 b=$2; shift 2
	rw_daemon_start "$TMP/bridge.out" "$TMP/bridge.err" running 15 \
		ip netns exec $NF timeout 60 "$BIN" "$a" "$b" -t 50 "$@"
}

ping_ok() { ip netns exec $NA ping -c 3 -i 0.2 -W 2 -q "$@" >/dev/null; }
tcp_ok() {
	ip netns exec $NA timeout 15 curl -sS --max-time 10 -o "$TMP/got" "http://$B:8080/blob" &&
		cmp -s "$TMP/got" "$TMP/www/blob"
}
iperf_ok() {
	ip netns exec $NA timeout 15 iperf3 -c $B -t 2 -J >"$TMP/iperf.json" 2>&1 || return 1
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["end"]["sum_received"]["bits_per_second"]/1e9, "Gbit/s"); sys.exit(d["end"]["sum_received"]["bytes"] < 1e6)' "$TMP/iperf.json"
}
counters_ok() { # both directions forwarded something
	grep -Eq 'a2b=[1-9][0-9]* b2a=[1-9]' "$TMP/bridge.out"
}
no_xdp_left() { ! ip -n $NF link show | grep -q 'prog/xdp'; }

run_backend() { # run_backend LABEL SPEC_A SPEC_B [ARGS]
	local label=$1
	shift
	if ! start_bridge "$@"; then
		notok "$label: portbridge starts" "$TMP/bridge.err"
		rw_daemon_stop 2>/dev/null
		return
	fi
	ok "$label: portbridge starts"
	check "$label: ping crosses" ping_ok $B
	check "$label: ping6 crosses" ping_ok $B6
	check "$label: 2 MB over HTTP arrives intact" tcp_ok
	check "$label: iperf3 -t 2 runs" iperf_ok
	[ -s "$TMP/out" ] && sed 's/^/#   /' "$TMP/out"
	check "$label: SIGTERM stops it cleanly" rw_daemon_stop
	check "$label: counted both directions" counters_ok
	sed 's/^/#   /' "$TMP/bridge.out"
	check "$label: no XDP program left behind" no_xdp_left
}

# kernel=arp leaves ARP to the bridge box's own kernel: with an address on
# pa1, A's ARP for it is answered by F; without the option the request is
# bridged to B, which does not own the address, and A learns nothing.
neigh_learned() {
	ip -n $NA neigh flush dev pa0
	ip netns exec $NA ping -c 1 -W 1 -q $F >/dev/null 2>&1
	ip -n $NA neigh show $F dev pa0 | grep -q lladdr
}
neigh_not_learned() { ! neigh_learned; }
run_kernel_arp() {
	ip -n $NF addr add $F/24 dev pa1 || { notok "kernel=arp: address on pa1"; return; }
	if start_bridge afxdp:pa1 afxdp:pb1; then
		check "without kernel=arp: ARP for the box is bridged away" neigh_not_learned
	else
		notok "without kernel=arp: portbridge starts" "$TMP/bridge.err"
	fi
	rw_daemon_stop
	if start_bridge afxdp:pa1,kernel=arp afxdp:pb1,kernel=arp; then
		check "kernel=arp: the box's kernel answers ARP" neigh_learned
	else
		notok "kernel=arp: portbridge starts" "$TMP/bridge.err"
	fi
	rw_daemon_stop
	ip -n $NF addr del $F/24 dev pa1
}

echo "# topology $NA - $NF - $NB, $A <-> $B"
if ! setup; then notok "topology set up"; echo "1..$n"; exit 1; fi
ok "topology set up"
check "servers start" start_servers
check "no bridge: nothing crosses" bash -c "! ip netns exec $NA ping -c 1 -W 1 -q $B"

run_backend "afpacket" afpacket:pa1 afpacket:pb1
run_backend "afpacket tx=mmsg, 2 queues (fanout)" afpacket:pa1,tx=mmsg afpacket:pb1,tx=mmsg -q 2
if grep -q afxdp_ops src/io/port.c && [ -n "$(pkg-config --libs libxdp 2>/dev/null)" ]; then
	run_backend "afxdp native" afxdp:pa1,mode=native afxdp:pb1,mode=native
	run_backend "afxdp generic" afxdp:pa1,mode=generic afxdp:pb1,mode=generic
	run_kernel_arp
else
	n=$((n + 1)); echo "ok $n - afxdp # SKIP built without libxdp"
fi

rw_done
