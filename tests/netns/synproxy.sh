#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# SYN proxy (docs/synproxy.md): curl through a "synproxy state" rule works
# (the proxy completes the client's handshake, then the server's, and
# translates sequence numbers), and paced spoofed SYNs (hping3
# --rand-source) never reach the server: an nftables counter in the
# server's namespace counts every SYN to port 80 that is not from the client.
#
#   rwp-PID-c                rwp-PID-f                      rwp-PID-s
#  +-------------+   +------------------------------+   +---------------+
#  | rwpc0       |   | rwpc1                  rwps1 |   |         rwps0 |
#  | 10.217.0.1 =veth= "client" [ringwall] "server" =veth= 10.217.0.2    |
#  | curl        |   |  pass in on client proto tcp |   | http :80      |
#  | hping3      |   |   to port 80 synproxy state  |   | nft counter   |
#  +-------------+   +------------------------------+   +---------------+
#
# Endpoint veths have tx checksum offload, TSO and GSO off (docs/io.md).
# Env: SYNPROXY_BACKEND (afpacket), SYNPROXY_RATE (hping3 pps, 2000),
# SYNPROXY_SECS (flood length, 3). Needs root. TAP; every wait is bounded.
set -u

cd "$(dirname "$0")/../.."
RW=${RINGWALL:-build/ringwall}
P=rwp-$$
NC=$P-c NF=$P-f NS=$P-s
C=10.217.0.1 S=10.217.0.2
BACKEND=${SYNPROXY_BACKEND:-afpacket}
RATE=${SYNPROXY_RATE:-2000}
SECS=${SYNPROXY_SECS:-3}
TMP=$(mktemp -d /tmp/rwp.XXXXXX)
RW_PID= PIDS=
n=0 failed=0
PY=/usr/bin/python3

cleanup() {
	[ -n "$RW_PID" ] && kill -TERM "$RW_PID" 2>/dev/null
	for pid in $PIDS; do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	for ns in $NC $NF $NS; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && sed 's/^/#   /' "$2" | tail -20; return 0; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

[ "$(id -u)" = 0 ] || skip_all "needs root"
[ -x "$RW" ] || skip_all "$RW not built"
for t in ip ethtool hping3 curl nft; do command -v $t >/dev/null || skip_all "$t missing"; done

setup() {
	ip netns add $NC && ip netns add $NF && ip netns add $NS || return 1
	ip link add rwpc0 netns $NC type veth peer name rwpc1 netns $NF || return 1
	ip link add rwps0 netns $NS type veth peer name rwps1 netns $NF || return 1
	ip -n $NC addr add $C/24 dev rwpc0 && ip -n $NS addr add $S/24 dev rwps0 || return 1
	for x in "$NC rwpc0" "$NS rwps0"; do
		set -- $x
		ip netns exec $1 ethtool -K $2 tx off tso off gso off >/dev/null || return 1
		ip -n $1 link set $2 up && ip -n $1 link set lo up || return 1
	done
	ip -n $NF link set rwpc1 up && ip -n $NF link set rwps1 up || return 1
	# every SYN to :80 the server receives, by source
	ip netns exec $NS nft -f - <<-EOF
	table inet rwp {
		chain in {
			type filter hook input priority 0; policy accept;
			tcp dport 80 tcp flags & (syn|ack) == syn ip saddr $C counter
			tcp dport 80 tcp flags & (syn|ack) == syn ip saddr != $C counter
		}
	}
	EOF
}

start_server() {
	mkdir -p "$TMP/www" && echo hello-synproxy >"$TMP/www/index.html" || return 1
	(cd "$TMP/www" && exec ip netns exec $NS $PY -m http.server --bind $S 80) >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	for _ in $(seq 150); do # up to 15 s
		ip netns exec $NS ss -ltn 2>/dev/null | grep -q ":80 " && return 0
		sleep 0.1
	done
	return 1
}

start_fw() {
	cat >"$TMP/fw.conf" <<-EOF
	port client "$BACKEND:rwpc1"
	port server "$BACKEND:rwps1"
	set workers 1
	pass in on client proto tcp to port 80 synproxy state
	pass in on server all
	EOF
	ip netns exec $NF timeout 120 "$RW" run -c "$TMP/fw.conf" >"$TMP/rw.out" 2>"$TMP/rw.err" &
	RW_PID=$!
	for _ in $(seq 50); do # up to 5 s
		grep -q "running:" "$TMP/rw.err" && return 0
		kill -0 $RW_PID 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# counter N: packets of the Nth rule of the server's chain (0: from the client, 1: spoofed)
counter() { ip netns exec $NS nft -j list chain inet rwp in | $PY -c "
import json,sys
r=[e['rule'] for e in json.load(sys.stdin)['nftables'] if 'rule' in e]
print([x for x in r[$1]['expr'] if 'counter' in x][0]['counter']['packets'])"; }

echo "1..5"
if ! setup; then notok "namespaces set up"; exit 1; fi
start_server || { notok "http server up"; exit 1; }
if start_fw; then ok "ringwall runs with a synproxy rule"; else notok "ringwall runs with a synproxy rule" "$TMP/rw.err"; exit 1; fi

got=
for _ in 1 2 3; do # the first connection may race ARP
	got=$(ip netns exec $NC curl -s -m 5 http://$S/index.html) && [ "$got" = hello-synproxy ] && break
done
if [ "$got" = hello-synproxy ]; then ok "curl through the SYN proxy"; else notok "curl through the SYN proxy (got '$got')" "$TMP/rw.err"; fi

ip netns exec $NC timeout -s INT $SECS hping3 -i u$((1000000 / RATE)) -S -p 80 --rand-source $S \
	>"$TMP/hping.out" 2>&1
spoofed=$(counter 1) real=$(counter 0)
if [ "$spoofed" = 0 ]; then ok "no spoofed SYN reached the server (client's: $real)"; else notok "no spoofed SYN reached the server: $spoofed did"; fi

got=$(ip netns exec $NC curl -s -m 5 http://$S/index.html)
if [ "$got" = hello-synproxy ]; then ok "curl still works after the flood"; else notok "curl after the flood (got '$got')"; fi

kill -TERM $RW_PID 2>/dev/null
wait $RW_PID
RW_PID=
line=$(grep '^synproxy' "$TMP/rw.out" "$TMP/rw.err" | head -1)
echo "# ${line#*:}"
synacks=$(echo "$line" | sed -n 's/.*synacks \([0-9]*\).*/\1/p')
completed=$(echo "$line" | sed -n 's/.*completed \([0-9]*\).*/\1/p')
if [ "${synacks:-0}" -ge $((RATE * SECS / 4)) ] && [ "${completed:-0}" -ge 2 ]; then
	ok "proxy answered the flood ($synacks SYN|ACKs) and completed $completed handshakes"
else
	notok "proxy counters (synacks ${synacks:-?} completed ${completed:-?})" "$TMP/rw.out"
fi
[ $failed = 0 ]
