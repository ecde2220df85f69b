#!/bin/bash
# Last-level cache misses per packet at 10M connections, by cachegrind's
# simulation, reduced to fit a session (docs/bench.md): the table and the
# simulated LL are both cut by 8 (1,250,000 connections against a 4 MiB
# 16-way LL instead of 10,000,000 against this machine's 32 MiB L3), so the
# table is the same 23 times the cache. Misses of a warm-up-only run are
# subtracted from a run with P timed packets per direction; the quotient is
# misses per packet. Prints a markdown paragraph.
#   CONNS=1250000 LL=4194304,16,64 PACKETS=500000 bench/cachegrind.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RINGWALL:-$root/build/ringwall}
conns=${CONNS:-1250000}
ll=${LL:-4194304,16,64}
pk=${PACKETS:-500000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v valgrind > /dev/null || { echo "cachegrind.sh: valgrind missing" >&2; exit 1; }
cg() { # cg OUT PACKETS: LL misses (data read + write + instruction) of one run
	valgrind --tool=cachegrind --cache-sim=yes --LL="$ll" --cachegrind-out-file="$tmp/$1.out" \
		"$bin" bench --connections "$conns" --capacity $((conns * 2)) --packets "$2" > /dev/null 2> "$tmp/$1.log"
	cg_annotate "$tmp/$1.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {print; exit}' > "$tmp/$1.tot" || true
	python3 - "$tmp/$1.out" <<'PY'
import sys
ev = tot = None
for l in open(sys.argv[1]):
    if l.startswith("events:"): ev = l.split()[1:]
    if l.startswith("summary:"): tot = [int(x) for x in l.split()[1:]]
d = dict(zip(ev, tot))
print(d.get("ILmr", 0) + d.get("DLmr", 0) + d.get("DLmw", 0), d.get("DLmr", 0) + d.get("DLmw", 0))
PY
}
echo "bench: cachegrind warm-up only ($conns connections, LL $ll)" >&2
read -r w_all w_d < <(cg warm 1)
echo "bench: cachegrind warm-up + $pk packets per direction" >&2
read -r r_all r_d < <(cg run "$pk")
python3 - "$w_all" "$r_all" "$w_d" "$r_d" "$pk" "$conns" "$ll" <<'PY'
import sys
w, r, wd, rd, pk, conns, ll = sys.argv[1:]
n = 2 * int(pk)
print("### Cachegrind: last-level misses per packet")
print()
print("Reduced run (`bench/cachegrind.sh`): %s connections against a simulated %s LL (size,assoc,line), the 10M/32 MiB ratio cut by 8; `valgrind --tool=cachegrind --cache-sim=yes --LL=%s ringwall bench --connections %s --packets P`, a run with P=%s minus a run with P=1 (warm-up only)." % ("{:,}".format(int(conns)), ll, ll, conns, pk))
print()
print("**%.3f LL misses per packet** (%.3f of them data), over %d packets (target <= 1.0)." % ((int(r) - int(w)) / n, (int(rd) - int(wd)) / n, n))
print()
PY
