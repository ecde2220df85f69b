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
CTL=${RINGWALLCTL:-$(dirname "$RW")/ringwallctl}
P=rwp-$$
NC=$P-c NF=$P-f NS=$P-s
C=10.217.0.1 S=10.217.0.2
BACKEND=${SYNPROXY_BACKEND:-afpacket}
RATE=${SYNPROXY_RATE:-2000}
SECS=${SYNPROXY_SECS:-3}
. tests/netns/lib.sh
rw_tmpdir rwp
PY=/usr/bin/python3

rw_need_root
[ -x "$RW" ] || skip_all "$RW not built"
rw_need_tools ip ethtool hping3 curl nft

setup() {
	rw_bump rwp $NC $NF $NS $C $S || return 1
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
	rw_cleanup_pid $!
	rw_wait_for 15 rw_listening $NS 80
}

start_fw() {
	cat >"$TMP/fw.conf" <<-EOF
	port client "$BACKEND:rwpc1"
	port server "$BACKEND:rwps1"
	set workers 1
	pass in on client proto tcp to port 80 synproxy state
	pass in on server all
	EOF
	rw_daemon_start "$TMP/rw.out" "$TMP/rw.err" "running:" 5 \
		ip netns exec $NF timeout 120 "$RW" run -c "$TMP/fw.conf" -s "$TMP/ctl.sock"
}
ctl() { "$CTL" -s "$TMP/ctl.sock" "$@"; }

# counter N: packets of the Nth rule of the server's chain (0: from the client, 1: spoofed)
counter() { ip netns exec $NS nft -j list chain inet rwp in | $PY -c "
import json,sys
r=[e['rule'] for e in json.load(sys.stdin)['nftables'] if 'rule' in e]
print([x for x in r[$1]['expr'] if 'counter' in x][0]['counter']['packets'])"; }

echo "1..6"
if ! setup; then notok "namespaces set up"; exit 1; fi
start_server || { notok "http server up"; exit 1; }
if start_fw; then ok "ringwall runs with a synproxy rule"; else notok "ringwall runs with a synproxy rule" "$TMP/rw.err"; exit 1; fi

got=
for _ in 1 2 3; do # the first connection may race ARP
	got=$(ip netns exec $NC curl -s -m 5 http://$S/index.html) && [ "$got" = hello-synproxy ] && break
done
if [ "$got" = hello-synproxy ]; then ok "curl through the SYN proxy"; else notok "curl through the SYN proxy (got '$got')" "$TMP/rw.err"; fi
# the spliced connection is listed with the proxy's mark (text and JSON)
if ctl states proto tcp port 80 >"$TMP/states" 2>&1 && grep -q "^tcp .*$C:[0-9]* -> $S:80 .* proxy expires" "$TMP/states" &&
	ctl states proto tcp port 80 --json | grep -q '"proxy":true'; then
	ok "ringwallctl states marks the proxied connection"
else
	notok "ringwallctl states marks the proxied connection" "$TMP/states"
fi

ip netns exec $NC timeout -s INT $SECS hping3 -i u$((1000000 / RATE)) -S -p 80 --rand-source $S \
	>"$TMP/hping.out" 2>&1
spoofed=$(counter 1) real=$(counter 0)
if [ "$spoofed" = 0 ]; then ok "no spoofed SYN reached the server (client's: $real)"; else notok "no spoofed SYN reached the server: $spoofed did"; fi

got=$(ip netns exec $NC curl -s -m 5 http://$S/index.html)
if [ "$got" = hello-synproxy ]; then ok "curl still works after the flood"; else notok "curl after the flood (got '$got')"; fi
# the proxy's counters while running, as a scraper sees them
m_synack=$(ctl metrics 2>/dev/null | sed -n 's/^ringwall_synproxy_events_total{event="synack"} \([0-9]*\)$/\1/p')
m_done=$(ctl metrics 2>/dev/null | sed -n 's/^ringwall_synproxy_events_total{event="completed"} \([0-9]*\)$/\1/p')
if [ "${m_synack:-0}" -ge $((RATE * SECS / 4)) ] && [ "${m_done:-0}" -ge 2 ]; then
	ok "metrics show the proxy's work ($m_synack SYN|ACKs, $m_done completed)"
else
	notok "metrics show the proxy's work (synack ${m_synack:-?}, completed ${m_done:-?})"
fi

rw_daemon_stop
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
