#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# SYN flood (issue 6): an iperf3 transfer through ringwall is started, then
# hping3 floods spoofed SYNs (random sources) at the server through the same
# firewall, whose table is small (set limit states 2000) so that the flood
# fills it. The table must never fail, the established connections must
# survive (embryonic entries are evicted first) and the transfer must keep
# at least 80% of its rate. The same run against the Linux bridge with
# nftables conntrack is the peer figure.
#
#   rws-PID-c                  rws-PID-f                           rws-PID-s
#  +--------------+   +------------------------------------+   +--------------+
#  | rwsc0        |   | rwsc1                        rwss1 |   |        rwss0 |
#  | 10.216.0.1  =veth= "client" [ ringwall run ] "server" =veth= 10.216.0.2  |
#  | iperf3 -c    |   |  or: br0 + br_netfilter + nftables |   | iperf3 -s    |
#  | hping3 flood |   |  ctl socket $TMP/ctl.sock          |   | http :80     |
#  +--------------+   +------------------------------------+   | default route|
#                                                              |  via client  |
#                                                              +--------------+
#
# The server answers the flood (SYN|ACK to the spoofed sources, routed back
# through the firewall), as a real victim would. Endpoint veths have tx
# checksum offload, TSO and GSO off (docs/io.md).
#
# Env: SYNFLOOD_SECS (flood length, default 6), SYNFLOOD_BACKEND (afpacket),
# SYNFLOOD_RATE=PPS or flood (hping3's pace, see below),
# SYNFLOOD_PEER=0 / SYNFLOOD_RINGWALL=0 to skip either run, SYNFLOOD_OUT=FILE to append the
# figures as key=value lines (for BENCHMARKS.md).
# Needs root. Prints TAP; exit 1 on any failure. Every wait is bounded.
set -u

cd "$(dirname "$0")/../.."
RW=${RINGWALL:-build/ringwall}
CTL=${RINGWALLCTL:-$(dirname "$RW")/ringwallctl}
P=rws-$$
NC=$P-c NF=$P-f NS=$P-s
C=10.216.0.1 S=10.216.0.2
FLOOD=${SYNFLOOD_SECS:-6}
# SYNFLOOD_RATE=PPS paces hping3 (-i u1000000/PPS; its timer makes the real
# rate lower: 20000 gives about 8000/s here, 100000 about 20000/s), =flood
# is hping3 --flood.
# The default is paced: on this 2-core box a full --flood, hping3 on one core
# and the busy-polling worker on the other, starves the transfer of CPU
# (BENCHMARKS.md, "SYN flood (issue 6)", has both).
RATE=${SYNFLOOD_RATE:-20000}
HPING_RATE=--flood
[ "$RATE" != flood ] && HPING_RATE="-i u$((1000000 / RATE))"
BACKEND=${SYNFLOOD_BACKEND:-afpacket}
# The established transfer is paced too (SYNFLOOD_BW, iperf3 -b; "0" = as
# fast as it goes): unpaced, iperf3 alone fills both cores of this box, so
# any extra load (the flood's own CPU, another job on the machine) cuts its
# rate whatever the firewall does. Paced below the box's capacity, a drop
# during the flood measures what the test is about: whether the firewall
# keeps serving tracked connections while its table churns.
BW=${SYNFLOOD_BW:-500M}
LIMIT=2000
. tests/netns/lib.sh
rw_tmpdir rws
SOCK=$TMP/ctl.sock
PY=/usr/bin/python3

figure() { echo "# $1=$2"; [ -n "${SYNFLOOD_OUT:-}" ] && echo "$1=$2" >>"$SYNFLOOD_OUT"; return 0; }

rw_need_root
[ -x "$RW" ] && [ -x "$CTL" ] || skip_all "$RW or $CTL not built"
rw_need_tools ip ethtool iperf3 hping3 curl

ctl() { "$CTL" -s "$SOCK" "$@"; }

setup() {
	rw_ns_add $NC $NF $NS || return 1
	rw_veth $NC rwsc0 $NF rwsc1 && rw_veth $NS rwss0 $NF rwss1 || return 1
	ip -n $NC addr add $C/24 dev rwsc0 && ip -n $NS addr add $S/24 dev rwss0 || return 1
	rw_endpoint $NC rwsc0 && rw_endpoint $NS rwss0 || return 1
	rw_up $NF rwsc1 rwss1 || return 1
	# the victim answers spoofed sources: its SYN|ACKs go back via the client side
	ip -n $NS route add default via $C
}

start_servers() {
	mkdir -p "$TMP/www" && echo hello >"$TMP/www/index.html" || return 1
	(cd "$TMP/www" && exec ip netns exec $NS $PY -m http.server --bind $S 80) >/dev/null 2>&1 &
	rw_cleanup_pid $!
	ip netns exec $NS iperf3 -s -B $S >/dev/null 2>&1 &
	rw_cleanup_pid $!
	# up to 15 s (python is slow to start on a busy box)
	rw_wait_for 15 rw_listening $NS 80 5201
}

write_conf() {
	cat >"$TMP/fw.conf" <<-EOF
	port client "$BACKEND:rwsc1"
	port server "$BACKEND:rwss1"
	set workers 1
	set limit states $LIMIT
	pass in on client proto tcp to port { 80 5201 }
	EOF
}

start_fw() {
	rw_daemon_start "$TMP/rw.out" "$TMP/rw.err" "running:" 5 \
		ip netns exec $NF timeout 300 "$RW" run -c "$TMP/fw.conf" -s "$SOCK"
}

# The peer: the same two veths in a Linux bridge, bridged IPv4 through the
# inet forward hook (br_netfilter), conntrack keeping established flows and
# new SYNs to the server admitted at a limited rate (iifname would be br0
# here: br_netfilter hands bridged packets in from the bridge device).
start_peer() {
	ip netns exec $NF sysctl -qw net.bridge.bridge-nf-call-iptables=1 || return 1
	ip -n $NF link add br0 type bridge && ip -n $NF link set rwsc1 master br0 &&
		ip -n $NF link set rwss1 master br0 && ip -n $NF link set br0 up || return 1
	ip netns exec $NF nft -f - <<-EOF
	table inet rws {
		chain forward_filter {
			type filter hook forward priority 0; policy drop;
			ct state established,related accept
			ct state invalid drop
			ip daddr $S tcp dport { 80, 5201 } tcp flags & (syn|ack|rst|fin) == syn ct state new limit rate 50000/second burst 5000 packets counter accept
			counter drop
		}
	}
	EOF
}

stop_peer() {
	ip netns exec $NF nft delete table inet rws
	ip -n $NF link del br0
}

rx_pkts() { ip -n $NF -s -j link show rwsc1 | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }
server_syns() { ip -n $NS -s -j link show rwss0 | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }

# flood_run LABEL SAMPLER: iperf3 for FLOOD + 8 s, the flood in its middle;
# SAMPLER (a function) runs every half second during the flood.
# Leaves before/during rates (Mbit/s) in $TMP/rates and the flood rate.
flood_run() {
	local label=$1 sampler=$2 total=$((FLOOD + 8)) ipid hpid rx0 rx1
	ip netns exec $NC timeout $((total + 10)) iperf3 -c $S -b $BW -t $total -i 1 -J >"$TMP/iperf.json" 2>&1 &
	ipid=$!
	sleep 4
	rx0=$(rx_pkts)
	ip netns exec $NC timeout -s INT $FLOOD hping3 $HPING_RATE -S -p 80 --rand-source $S \
		>"$TMP/hping.out" 2>&1 &
	hpid=$!
	for _ in $(seq $((FLOOD * 2))); do
		$sampler
		sleep 0.5
	done
	wait $hpid
	rx1=$(rx_pkts)
	wait $ipid
	local rc=$?
	if [ $rc = 0 ] && grep -q '"intervals"' "$TMP/iperf.json"; then
		ok "$label: iperf3 across the flood completed"
	else
		notok "$label: iperf3 across the flood completed (rc $rc)" "$TMP/iperf.json"
		BEFORE=0 DURING=0 FLOOD_PPS=0
		return 1
	fi
	# intervals 1-3 before the flood (skip slow start), flood from 4 to
	# 4 + FLOOD; skip the first second of it (the flood ramps up)
	$PY - "$TMP/iperf.json" $FLOOD >"$TMP/rates" <<-'EOF'
	import json, sys
	d = json.load(open(sys.argv[1])); f = int(sys.argv[2])
	iv = [i["sum"]["bits_per_second"] / 1e6 for i in d["intervals"]]
	before = sum(iv[1:4]) / 3
	during = sum(iv[5:4 + f]) / len(iv[5:4 + f])
	print("%.0f %.0f" % (before, during))
	EOF
	read -r BEFORE DURING <"$TMP/rates"
	# the flood's rate as sent (hping3's count); the firewall's ingress
	# rate also holds the transfer's ACKs
	FLOOD_PPS=$(( $(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$TMP/hping.out" | head -1) / FLOOD ))
	RX_PPS=$(((rx1 - rx0) / FLOOD))
	echo "# $label: iperf3 before ${BEFORE} Mbit/s, during ${DURING} Mbit/s, flood ${FLOOD_PPS} SYN/s sent, ${RX_PPS} pkt/s into the firewall's client port"
	grep -E "packets transmitted|statistic" "$TMP/hping.out" | sed 's/^/#   hping3: /'
}

MAXCUR=0 SAMPLES=0 EST_OK=0
sample_rw() {
	local j
	j=$(ctl --json stats 2>/dev/null) || return 0
	SAMPLES=$((SAMPLES + 1))
	local cur
	cur=$(echo "$j" | $PY -c 'import json,sys; print(json.load(sys.stdin)["states"]["current"])') || return 0
	[ "$cur" -gt "$MAXCUR" ] && MAXCUR=$cur
	# the iperf3 control and data connections are still tracked
	ctl states proto tcp port 5201 2>/dev/null | grep -c ESTABLISHED:ESTABLISHED | grep -q '^[2-9]' &&
		EST_OK=$((EST_OK + 1))
	return 0
}
sample_none() { :; }

stat_of() { $PY -c 'import json,sys; print(json.load(sys.stdin)["states"][sys.argv[1]])' "$1" <"$TMP/stats.json"; }
drop_of() { $PY -c 'import json,sys; print(json.load(sys.stdin)["drops"].get(sys.argv[1], 0))' "$1" <"$TMP/stats.json"; }
at_least_80pct() { $PY -c 'import sys; b, d = map(float, sys.argv[1:]); b > 0 or sys.exit("no rate before the flood"); print("%.0f%%" % (100 * d / b)); sys.exit(d < 0.8 * b)' "$1" "$2"; }

echo "# topology $NC - $NF - $NS, $C <-> $S, flood ${FLOOD}s (hping3 $HPING_RATE), limit states $LIMIT, $BACKEND"
if ! setup; then notok "topology set up"; echo "1..$n"; exit 1; fi
ok "topology set up"
check "servers start" start_servers
write_conf
if [ "${SYNFLOOD_RINGWALL:-1}" = 0 ]; then
	: # peer only (comparison runs)
elif start_fw; then
	ok "ringwall starts"
	check "ringwall: HTTP to the server works" ip netns exec $NC timeout 10 curl -sS --max-time 5 -o /dev/null http://$S/
	flood_run ringwall sample_rw
	ctl --json stats >"$TMP/stats.json"
	ctl stats | grep -E "^states|drop" | sed 's/^/#   /'
	RW_BEFORE=$BEFORE RW_DURING=$DURING RW_PPS=$FLOOD_PPS RW_RX=$RX_PPS
	check "ringwall: established transfer kept >= 80% of its rate during the flood" at_least_80pct "$BEFORE" "$DURING"
	check "ringwall: the table filled to its limit ($MAXCUR of $LIMIT at most)" test "$MAXCUR" -ge $((LIMIT * 9 / 10))
	check "ringwall: never above its limit" test "$MAXCUR" -le $LIMIT
	check "ringwall: embryonic entries were evicted ($(stat_of evicted))" test "$(stat_of evicted)" -gt 0
	check "ringwall: the iperf3 connections stayed established in every sample ($EST_OK of $SAMPLES)" \
		test "$EST_OK" = "$SAMPLES" -a "$SAMPLES" -gt 0
	check "ringwall: HTTP still works after the flood" ip netns exec $NC timeout 10 curl -sS --max-time 5 -o /dev/null http://$S/
	figure ringwall_flood_sent_pps "$RW_PPS"
	figure ringwall_client_port_rx_pps "$RW_RX"
	figure ringwall_iperf_before_mbps "$RW_BEFORE"
	figure ringwall_iperf_during_mbps "$RW_DURING"
	figure ringwall_states_max "$MAXCUR"
	figure ringwall_states_limit "$LIMIT"
	figure ringwall_created "$(stat_of created)"
	figure ringwall_evicted "$(stat_of evicted)"
	figure ringwall_refused "$(stat_of refused)"
	figure ringwall_state_full_drops "$(drop_of state-full)"
	check "ringwall: SIGTERM stops it with status 0" rw_daemon_stop
	sed 's/^/#   /' "$TMP/rw.out" | grep -E "states|drop|rule" | head -20
else
	notok "ringwall starts" "$TMP/rw.err"
fi

if [ "${SYNFLOOD_PEER:-1}" != 0 ] && command -v nft >/dev/null; then
	if start_peer; then
		ok "peer: Linux bridge + nftables conntrack up"
		flood_run "peer (bridge+nft)" sample_none
		# nf_conntrack_max cannot be lowered inside a namespace: the
		# peer's table is the kernel's default size
		ct=$(ip netns exec $NF cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo "?")
		figure peer_flood_sent_pps "$FLOOD_PPS"
		figure peer_client_port_rx_pps "$RX_PPS"
		figure peer_iperf_before_mbps "$BEFORE"
		figure peer_iperf_during_mbps "$DURING"
		figure peer_conntrack_after "$ct"
		stop_peer
	else
		notok "peer: Linux bridge + nftables conntrack up"
	fi
fi

rw_done
