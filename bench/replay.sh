#!/bin/bash
# Replay benchmark (issue 2 baseline): packets/s of `ringwall run` over two
# pcap: ports, against tcpdump reading and writing the same captures (the
# libpcap I/O ceiling: zero work per packet), in the same session.
#   bench/replay.sh [CONNECTIONS] [SEGMENTS_PER_CONNECTION]
set -eu
cd "$(dirname "$0")/.."
RW=${RINGWALL:-build/ringwall}
N=${1:-1000}
M=${2:-500}
D=$(mktemp -d /tmp/rw-replay.XXXXXX)
trap 'rm -rf "$D"' EXIT
/usr/bin/python3 bench/mkflows.py "$D" "$N" "$M"
cat >"$D/replay.conf" <<CONF
port inside  "pcap:inside.pcap,out=o-in.pcap"
port outside "pcap:outside.pcap,out=o-out.pcap"
set limit states $((N * 2))
pass in on inside all
CONF
PKTS=$((N * 3 + N * M))
ns() { date +%s%N; }
best_rw=0 best_td=0
for i in 1 2 3 4 5; do
	t0=$(ns); "$RW" run -q -c "$D/replay.conf"; t1=$(ns)
	tcpdump -qns0 -r "$D/inside.pcap" -w "$D/t-in.pcap" 2>/dev/null
	tcpdump -qns0 -r "$D/outside.pcap" -w "$D/t-out.pcap" 2>/dev/null; t2=$(ns)
	rw=$((PKTS * 1000000000 / (t1 - t0))); td=$((PKTS * 1000000000 / (t2 - t1)))
	[ $rw -gt $best_rw ] && best_rw=$rw
	[ $td -gt $best_td ] && best_td=$td
done
fwd=$(/usr/bin/python3 -c "import os;print((os.path.getsize('$D/o-in.pcap')+os.path.getsize('$D/o-out.pcap')-48)//(16+54))")
echo "packets: $PKTS in, $fwd forwarded ($N connections x $M segments + handshakes)"
echo "ringwall run (pcap replay, whole process): $best_rw packets/s (best of 5)"
echo "tcpdump -r/-w of the same captures:        $best_td packets/s (best of 5)"
awk -v a=$best_rw -v b=$best_td 'BEGIN { printf "ratio ringwall/tcpdump: %.2f\n", a / b }'
