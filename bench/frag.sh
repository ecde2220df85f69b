#!/bin/bash
# Fragment benchmark (issue 6): `ringwall run` over pcap: ports on a stream
# of UDP datagrams cut into 2 fragments each (1480 + 528 data bytes), against
# the same datagrams sent whole, in the same session. Prints fragments/s and
# datagrams/s as ringwall's own loop reports them (capture I/O included;
# OUT=/dev/null writes the forwarded frames nowhere, taking file I/O out).
#   bench/frag.sh [DATAGRAMS] [FLOWS]
set -eu
cd "$(dirname "$0")/.."
RW=${RINGWALL:-build/ringwall}
N=${1:-200000}
F=${2:-1000}
D=$(mktemp -d /tmp/rw-frag.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$D"' EXIT
/usr/bin/python3 - "$D" "$N" "$F" <<'PY'
import struct, sys
d, n, flows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
eth = bytes.fromhex('020000000002020000000001') + b'\x08\x00'
def csum(h):
    s = sum(struct.unpack('!10H', h))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def ip4(ident, flags_off, payload, k):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, flags_off, 64, 17, 0,
                    bytes([10, 0, k >> 8 & 255, k & 255]), bytes([192, 0, 2, 80]))
    return eth + h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
body = bytes(range(256)) * 8  # 2048 bytes, 2000 used
def write(path, frames):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack('<IIII', 1700000000 + i // 1000000, i % 1000000, len(fr), len(fr)))
            f.write(fr)
def gen(frag):
    for i in range(n):
        k = i % flows
        udp = struct.pack('!HHHH', 20000 + k, 53, 2008, 0) + body[:2000]  # checksum 0: none (IPv4)
        ident = i & 0xffff
        if frag:
            yield ip4(ident, 0x2000, udp[:1480], k)
            yield ip4(ident, 1480 // 8, udp[1480:], k)
        else:
            yield ip4(ident, 0, udp, k)
write(d + '/frag.pcap', gen(True))
write(d + '/whole.pcap', gen(False))
write(d + '/empty.pcap', [])
PY
for kind in frag whole; do
	cat >"$D/$kind.conf" <<CONF
port inside  "pcap:$kind.pcap,out=o-$kind.pcap"
port outside "pcap:empty.pcap,out=${OUT:-o-$kind-back.pcap}"
set limit states $((F * 4))
set limit frags 10000
pass in on inside proto udp to port 53
CONF
done
# The rate ringwall reports for its own loop (replay read, parse,
# reassembly, state, rules, write), best of 5 runs.
best() {
	local b=0 r
	for i in 1 2 3 4 5; do
		r=$("$RW" run -c "$D/$1.conf" | sed -n 's/.*packets (\([0-9]*\) packets\/s).*/\1/p')
		[ "${r:-0}" -gt $b ] && b=$r
	done
	echo $b
}
fr=$(best frag $((N * 2)))
wh=$(best whole $N)
[ -n "${OUT:-}" ] && out_f=n/a out_w=n/a || out_f=$(tcpdump -r "$D/o-frag-back.pcap" 2>/dev/null | wc -l)
[ -n "${OUT:-}" ] || out_w=$(tcpdump -r "$D/o-whole-back.pcap" 2>/dev/null | wc -l)
echo "datagrams: $N in $F flows; forwarded: $out_f fragments, $out_w whole packets"
echo "2 fragments per datagram: $fr fragments/s = $((fr / 2)) datagrams/s (best of 5)"
echo "same datagrams whole:     $wh packets/s = datagrams/s (best of 5)"
awk -v a=$fr -v b=$wh 'BEGIN { printf "datagram rate fragmented/whole: %.2f\n", a / 2 / b }'
