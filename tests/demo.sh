#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# `make demo`: a live ringwall between a client and a server, in under a
# minute, and everything it creates removed at the end.
#
#   rwdemo-PID-client          rwdemo-PID-fw                  rwdemo-PID-server
#  +----------------+   +------------------------------+   +----------------+
#  | rwdc0          |   | rwdc1                  rwds1 |   |          rwds0 |
#  | 10.215.0.1/24 =veth= "client" [ringwall] "server" =veth= 10.215.0.2/24 |
#  +----------------+   +------------------------------+   | web :8080      |
#                                                          | other :9090    |
#                                                          | iperf3 :5201   |
#                                                          +----------------+
#
# Needs root. RW_DEMO_BACKEND=afpacket|afxdp picks the port backend
# (default: afxdp when built with libxdp, else afpacket).
set -u

cd "$(dirname "$0")/.."
RW=${RINGWALL:-build/ringwall}
CTL=$(dirname "$RW")/ringwallctl
P=rwdemo-$$
NC=$P-client NF=$P-fw NS=$P-server
C=10.215.0.1 S=10.215.0.2
. tests/netns/lib.sh
rw_tmpdir rwdemo
SOCK=$TMP/ringwall.sock
PY=/usr/bin/python3

die() { echo "demo: $*" >&2; exit 1; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ $*"; "$@"; }
in_client() { ip netns exec $NC "$@"; }
in_server() { ip netns exec $NS "$@"; }

[ "$(id -u)" = 0 ] || die "needs root (namespaces, raw sockets): sudo make demo"
[ -x "$RW" ] && [ -x "$CTL" ] || die "build first: make"
for t in ip ethtool iperf3 curl ping; do command -v $t >/dev/null || die "$t missing: make deps"; done
BACKEND=${RW_DEMO_BACKEND:-}
if [ -z "$BACKEND" ]; then
	BACKEND=afpacket
	grep -q afxdp_ops src/io/port.c && [ -n "$(pkg-config --libs libxdp 2>/dev/null)" ] && BACKEND=afxdp
fi
chmod 755 "$TMP" # the daemon drops to nobody and must read its configuration on reload

say "1. Three namespaces joined by veth pairs; ringwall will bridge the middle one"
sed -n '6,15p' "$0" | sed 's/^#//'
rw_ns_add $NC $NF $NS || die "ip netns add failed"
rw_veth $NC rwdc0 $NF rwdc1 || die "veth"
rw_veth $NS rwds0 $NF rwds1 || die "veth"
ip -n $NC addr add $C/24 dev rwdc0 && ip -n $NS addr add $S/24 dev rwds0 || die "addresses"
# a veth leaves TCP checksums to "hardware"; a user-space bridge forwards frames as they are
rw_endpoint $NC rwdc0
rw_endpoint $NS rwds0
rw_up $NF rwdc1 rwds1
mkdir -p "$TMP/www" && echo "hello from the server, through ringwall" >"$TMP/www/index.html"
for port in 8080 9090; do
	(cd "$TMP/www" && exec ip netns exec $NS $PY -m http.server --bind $S $port) >/dev/null 2>&1 &
	rw_cleanup_pid $!
done
in_server iperf3 -s -B $S >/dev/null 2>&1 &
rw_cleanup_pid $!

echo "without a firewall nothing crosses the middle:"
in_client ping -c 1 -W 1 -q $S >/dev/null 2>&1 && die "ping crossed with nothing running?"
echo "  ping $S: no answer (as it should be)"
# forget the failed ARP lookup, or the next pings wait for its retry timer
ip -n $NC neigh flush all

say "2. The configuration"
cat >"$TMP/ringwall.conf" <<EOF
# ringwall demo: the client may use the server's web port and ping it;
# nothing reaches the client unless it asked (replies pass by state).
port client "$BACKEND:rwdc1"
port server "$BACKEND:rwds1"
set workers 1
set default block

pass in on client proto tcp to $S port { 8080 5201 }
pass in on client inet proto icmp icmp-type echoreq
block in on server all
EOF
chmod 644 "$TMP/ringwall.conf"
cat "$TMP/ringwall.conf"

say "3. Start ringwall ($BACKEND) in the middle namespace"
echo "\$ ringwall run -c ringwall.conf -s $SOCK -u nobody"
rw_daemon_start "$TMP/rw.out" "$TMP/rw.err" "running:" 5 \
	ip netns exec $NF timeout 120 "$RW" run -c "$TMP/ringwall.conf" -s "$SOCK" -u nobody ||
	{ cat "$TMP/rw.err"; die "ringwall did not start"; }
sed 's/^/  /' "$TMP/rw.err"
rw_wait_for 2 test -S "$SOCK"

say "4. Traffic"
echo "-- client pings the server (allowed):"
run in_client ping -c 5 -i 0.2 -W 2 $S | tail -3
echo "-- client fetches the web page on :8080 (allowed):"
run in_client curl -sS --max-time 5 http://$S:8080/
echo "-- client tries :9090 (no rule: blocked, the SYN never arrives):"
run in_client curl -sS --connect-timeout 2 http://$S:9090/ || echo "   -> blocked, as configured"
echo "-- the server pings the client (unsolicited: blocked):"
run in_server ping -c 2 -i 0.2 -W 1 -q $C | tail -2
echo "-- iperf3, 3 seconds of TCP through the firewall:"
run in_client iperf3 -c $S -t 3 -f g | grep -E 'sender|receiver'

say "5. What ringwall saw (ringwallctl)"
run "$CTL" -s "$SOCK" stats
echo
run "$CTL" -s "$SOCK" rules
echo
run "$CTL" -s "$SOCK" states

say "6. Stop (SIGTERM) and clean up"
rw_daemon_stop
echo "ringwall exited with status $?"
echo "namespaces, veths, servers and $TMP are removed on exit. Done."
