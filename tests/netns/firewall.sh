#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# End to end: `ringwall run` as a stateful bridge between a client and a
# server, for each live backend (afpacket with 2 workers, afxdp with 1),
# driven and checked through ringwallctl.
#
#   rwf-PID-c                 rwf-PID-f                          rwf-PID-s
#  +-------------+   +------------------------------------+   +-------------+
#  | rwfc0       |   | rwfc1                        rwfs1 |   |       rwfs0 |
#  | 10.214.0.1 =veth= "client" [ ringwall run ] "server" =veth= 10.214.0.2 |
#  | (no server) |   |  ctl socket $TMP/ctl.sock, -u nobody |   | http 8080   |
#  +-------------+   +------------------------------------+   | http 9090   |
#                                                              | iperf3 5201 |
#                                                              +-------------+
#
# Rules (v1): the client may open TCP to 8080 and 5201 and ping the server;
# the server's pings to the client are blocked by a rule; anything else is
# blocked by the default. v2 (loaded by `ringwallctl reload` while an iperf3
# transfer runs) allows only 9090: the running transfer must go on (its
# state survives the reload), new connections follow the new rules.
#
# Endpoint veths have tx checksum offload, TSO and GSO off (docs/io.md).
# Needs root. Prints TAP; exit 1 on any failure. Every wait is bounded.
set -u

cd "$(dirname "$0")/../.."
RW=${RINGWALL:-build/ringwall}
CTL=${RINGWALLCTL:-$(dirname "$RW")/ringwallctl}
P=rwf-$$
NC=$P-c NF=$P-f NS=$P-s
C=10.214.0.1 S=10.214.0.2
. tests/netns/lib.sh
rw_tmpdir rwf
SOCK=$TMP/ctl.sock
PY=/usr/bin/python3

rw_need_root
[ -x "$RW" ] && [ -x "$CTL" ] || skip_all "$RW or $CTL not built"
rw_need_tools ip ethtool iperf3 curl ping
# the daemon (as nobody) re-reads the configuration on reload
chmod 755 "$TMP"

ctl() { "$CTL" -s "$SOCK" "$@"; }

setup() { rw_bump rwf $NC $NF $NS $C $S; }

start_servers() {
	mkdir -p "$TMP/www" && head -c 1000000 /dev/urandom >"$TMP/www/blob" || return 1
	for port in 8080 9090; do
		(cd "$TMP/www" && exec ip netns exec $NS $PY -m http.server --bind $S $port) >/dev/null 2>&1 &
		rw_cleanup_pid $!
	done
	ip netns exec $NS iperf3 -s -B $S >/dev/null 2>&1 &
	rw_cleanup_pid $!
	rw_wait_for 5 rw_listening $NS 8080 9090 5201
}

write_conf() { # write_conf BACKEND WORKERS VERSION
	local b=$1 w=$2
	if [ "$3" = 1 ]; then
		cat >"$TMP/fw.conf.new" <<-EOF
		# v1
		port client "$b:rwfc1"
		port server "$b:rwfs1"
		set workers $w
		pass in on client proto tcp to port { 8080 5201 }
		pass in on client inet proto icmp icmp-type echoreq
		block in on server inet proto icmp
		EOF
	else
		cat >"$TMP/fw.conf.new" <<-EOF
		# v2
		port client "$b:rwfc1"
		port server "$b:rwfs1"
		set workers $w
		pass in on client proto tcp to port 9090
		pass in on client inet proto icmp icmp-type echoreq
		block in on server inet proto icmp
		EOF
	fi
	chmod 644 "$TMP/fw.conf.new" && mv "$TMP/fw.conf.new" "$TMP/fw.conf"
}

# up to 5 s (an AF_XDP queue can stay busy ~1 s after its last user)
start_fw() {
	rw_daemon_start "$TMP/rw.out" "$TMP/rw.err" "running:" 5 \
		ip netns exec $NF timeout 120 "$RW" run -c "$TMP/fw.conf" -s "$SOCK" -u nobody
}

# rule_pkts LINE: packets counted against the rule on that line of fw.conf
rule_pkts() {
	ctl --json rules | $PY -c 'import json,sys
d = json.load(sys.stdin)
print(sum(r["packets"] for r in d["rules"] if r["line"] == int(sys.argv[1])))' "$1"
}
drops() { ctl --json stats | $PY -c 'import json,sys; print(json.load(sys.stdin)["drops"][sys.argv[1]])' "$1"; }
generation() { ctl --json status | $PY -c 'import json,sys; print(json.load(sys.stdin)["ruleset_generation"])'; }

ping_ok() { ip netns exec $NC ping -c "$1" -i 0.2 -W 2 -q $S; }
ping_blocked() { ! ip netns exec $NS ping -c "$1" -i 0.2 -W 1 -q $C; }
curl_ok() { # curl_ok PORT: the 1 MB file arrives intact
	ip netns exec $NC timeout 15 curl -sS --max-time 10 -o "$TMP/got" "http://$S:$1/blob" &&
		cmp "$TMP/got" "$TMP/www/blob"
}
curl_blocked() { # connecting times out (a pass would get the page or a refusal)
	ip netns exec $NC timeout 10 curl -sS --connect-timeout 2 -o /dev/null "http://$S:$1/blob"
	[ $? = 28 ]
}
inbound_blocked() { # the server opens TCP to the client: no RST comes back, it times out
	ip netns exec $NS timeout 10 curl -sS --connect-timeout 2 -o /dev/null "http://$C:8081/"
	[ $? = 28 ]
}
iperf_ok() {
	ip netns exec $NC timeout 15 iperf3 -c $S -t "$1" -J >"$TMP/iperf.json" 2>&1 || return 1
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["end"]["sum_received"]["bits_per_second"]/1e9, "Gbit/s"); sys.exit(d["end"]["sum_received"]["bytes"] < 1e6)' "$TMP/iperf.json"
}
iperf_blocked() { ! ip netns exec $NC timeout 10 iperf3 -c $S -t 1 --connect-timeout 2000 >/dev/null 2>&1; }
eq() { [ "$1" = "$2" ] || { echo "expected $2, got $1"; return 1; }; }

# Reload while a 4 s transfer runs; every half-second interval must carry
# data (nothing stalled) and the transfer must end cleanly.
reload_during_iperf() {
	local label=$1 backend=$2 workers=$3 ipid gen0
	gen0=$(generation)
	ip netns exec $NC timeout 20 iperf3 -c $S -t 4 -i 0.5 -J >"$TMP/iperf-long.json" 2>&1 &
	ipid=$!
	sleep 1.5
	write_conf "$backend" "$workers" 2
	check "$label: reload during iperf3 succeeds" ctl reload
	check "$label: reload bumped the rule set generation" eq "$(generation)" $((gen0 + 1))
	check "$label: after reload, a new connection to 8080 is blocked" curl_blocked 8080
	check "$label: after reload, 9090 (newly allowed) works" curl_ok 9090
	wait $ipid
	local rc=$?
	check "$label: the iperf3 transfer across the reload completed (rc $rc)" test $rc = 0
	check "$label: no half-second interval of it was empty" $PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
iv = [i["sum"]["bytes"] for i in d["intervals"]]
print(len(iv), "intervals, min bytes", min(iv))
sys.exit(len(iv) < 7 or min(iv) == 0)' "$TMP/iperf-long.json"
	check "$label: after reload, a new iperf3 (5201) is blocked" iperf_blocked
}

reload_broken() {
	local label=$1 gen0
	gen0=$(generation)
	cp "$TMP/fw.conf" "$TMP/fw.good"
	echo "pass in on clinet proto udp" >>"$TMP/fw.conf"
	ctl reload >"$TMP/reload.out" 2>&1
	local rc=$?
	check "$label: reload of a broken file exits non-zero" test $rc = 1
	check "$label: ... and reports FILE:LINE:COL" grep -q "fw.conf:8:12: unknown port 'clinet'" "$TMP/reload.out"
	check "$label: ... and changes nothing" eq "$(generation)" "$gen0"
	cp "$TMP/fw.good" "$TMP/fw.conf"
}

run_backend() { # run_backend LABEL BACKEND WORKERS
	local label=$1 backend=$2 workers=$3
	write_conf "$backend" "$workers" 1
	if ! start_fw; then
		notok "$label: ringwall starts" "$TMP/rw.err"
		rw_daemon_stop 2>/dev/null
		return
	fi
	ok "$label: ringwall starts"
	check "$label: dropped root (status says uid 65534, nothing effective)" \
		bash -c "'$CTL' -s '$SOCK' status | grep -q 'uid 65534, caps permitted net_admin,dac_override, effective none'"
	check "$label: control socket is 0600" bash -c "[ \$(stat -c %a '$SOCK') = 600 ]"
	check "$label: allowed ping (5) passes" ping_ok 5
	check "$label: ping rule counted 5 requests + 5 replies" eq "$(rule_pkts 6)" 10
	check "$label: one ICMP state" eq "$(ctl states proto icmp count | tail -1)" "1 states"
	check "$label: unsolicited ping (4) from the server is blocked" ping_blocked 4
	check "$label: block rule counted the 4 requests" eq "$(rule_pkts 7)" 4
	check "$label: stats count them as rule-block" eq "$(drops rule-block)" 4
	check "$label: TCP to allowed 8080 (HTTP, 1 MB intact)" curl_ok 8080
	check "$label: TCP to blocked 9090 times out" curl_blocked 9090
	check "$label: unsolicited TCP from the server times out" inbound_blocked
	check "$label: iperf3 -t 2 to allowed 5201" iperf_ok 2
	[ -s "$TMP/out" ] && sed 's/^/#   /' "$TMP/out"
	check "$label: states lists the TCP connections to the server" \
		bash -c "'$CTL' -s '$SOCK' states proto tcp addr $S | grep -q ':5201 '"
	reload_broken "$label"
	reload_during_iperf "$label" "$backend" "$workers"
	check "$label: flush empties the table" bash -c "'$CTL' -s '$SOCK' flush && [ \"\$('$CTL' -s '$SOCK' states count)\" = '0 states' ]"
	check "$label: metrics exposes the drop counters" bash -c "'$CTL' -s '$SOCK' metrics | grep -q '^ringwall_drops_total{reason=\"rule-block\"} '"
	ctl stats | sed 's/^/#   /'
	check "$label: SIGTERM stops it with status 0" rw_daemon_stop
	check "$label: no ringwall process left" bash -c "! ip netns pids $NF | grep -q ."
	check "$label: control socket removed" test ! -e "$SOCK"
	check "$label: no XDP program left" bash -c "! ip -n $NF link show | grep -q 'prog/xdp'"
}

echo "# topology $NC - $NF - $NS, $C <-> $S"
if ! setup; then notok "topology set up"; echo "1..$n"; exit 1; fi
ok "topology set up"
check "servers start" start_servers
check "no firewall: nothing crosses" bash -c "! ip netns exec $NC ping -c 1 -W 1 -q $S"
# forget the failed ARP lookup, or the next pings wait for its retry timer
ip -n $NC neigh flush all

run_backend "afpacket" afpacket 2
if grep -q afxdp_ops src/io/port.c && [ -n "$(pkg-config --libs libxdp 2>/dev/null)" ]; then
	run_backend "afxdp" afxdp 1
else
	n=$((n + 1)); echo "ok $n - afxdp # SKIP built without libxdp"
fi

rw_done
