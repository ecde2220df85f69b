#!/bin/bash
# Last-level cache misses per packet at 10M connections, by cachegrind's
# simulation, reduced to fit a session (docs/bench.md): the table and the
# simulated LL are both cut by 8 (1,250,000 connections against a 4 MiB
# 16-way LL instead of 10,000,000 against this machine's 32 MiB L3), so the
# table is the same 23 times the cache. Four runs:
#
#   fw1   firewall, warm-up and 1 timed packet per direction
#   fwP   firewall, warm-up and P timed packets per direction
#   gen1  --gen-only, 1 packet per direction (no firewall, no warm-up)
#   genP  --gen-only, P packets per direction
#
# (fwP - fw1) are the misses of P timed packets through generator and
# firewall; (genP - gen1) the generator's own (it writes every frame into a
# pool the worker then reads); the difference over 2P packets is the
# firewall's misses per packet. Checksums are ignored (NIC offload) in both,
# as in the main bench; they add instructions, not misses. The firewall
# runs go by a virtual clock (--virtual-clock CLOCK, ns a packet; default
# 50, the 20 Mpps target): under cachegrind the worker runs 50-100 times
# slower, and on the system clock the expiry sweep and the timeouts, which
# are paced by time, would do that much more work a packet than natively.
# Prints markdown.
#   CONNS=1250000 LL=4194304,16,64 PACKETS=500000 CLOCK=50 bench/cachegrind.sh
# BENCH_ARGS adds options to the firewall runs (e.g. "--zipf 0.99").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RINGWALL:-$root/build/ringwall}
conns=${CONNS:-1250000}
ll=${LL:-4194304,16,64}
pk=${PACKETS:-500000}
clock=${CLOCK:-50}
read -r -a extra <<< "${BENCH_ARGS:-}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v valgrind > /dev/null || { echo "cachegrind.sh: valgrind missing" >&2; exit 1; }
cg() { # cg OUT PACKETS [bench args]: LL misses (all, data) of one run
	local out=$1 n=$2
	shift 2
	valgrind --tool=cachegrind --cache-sim=yes --LL="$ll" --cachegrind-out-file="$tmp/$out.out" \
		"$bin" bench --connections "$conns" --packets "$n" --checksum ignore "$@" > /dev/null 2> "$tmp/$out.log"
	python3 - "$tmp/$out.out" <<'PY'
import sys
ev = tot = None
for l in open(sys.argv[1]):
    if l.startswith("events:"): ev = l.split()[1:]
    if l.startswith("summary:"): tot = [int(x) for x in l.split()[1:]]
d = dict(zip(ev, tot))
print(d.get("ILmr", 0) + d.get("DLmr", 0) + d.get("DLmw", 0), d.get("DLmr", 0) + d.get("DLmw", 0))
PY
}
echo "bench: cachegrind firewall, warm-up only ($conns connections, LL $ll)" >&2
read -r w_all w_d < <(cg fw1 1 --virtual-clock "$clock" "${extra[@]}")
echo "bench: cachegrind firewall, warm-up + $pk packets per direction" >&2
read -r r_all r_d < <(cg fwP "$pk" --virtual-clock "$clock" "${extra[@]}")
echo "bench: cachegrind generator alone, 1 and $pk packets per direction" >&2
read -r g1_all g1_d < <(cg gen1 1 --gen-only)
read -r gp_all gp_d < <(cg genP "$pk" --gen-only)
# where the timed packets' misses fall, by function (fwP less fw1)
cg_diff "$tmp/fw1.out" "$tmp/fwP.out" > "$tmp/diff.out" 2>/dev/null || true
python3 - "$tmp/diff.out" "$pk" "$clock" > "$tmp/byfn.md" <<'PY' || true
import sys, collections
n = 2 * int(sys.argv[2])
ev, fn, acc = None, None, collections.Counter()
for l in open(sys.argv[1]):
    if l.startswith("events:"): ev = l.split()[1:]
    elif l.startswith("fn="): fn = l[3:].strip()
    elif fn and l[:1].isdigit():
        v = dict(zip(ev, [int(x) for x in l.split()[1:]]))
        acc[fn] += v.get("DLmr", 0) + v.get("DLmw", 0)
top = [(f, c) for f, c in acc.most_common(6) if c > 0]
sweep = sum(c for f, c in acc.items() if "sweep" in f) / n
open(sys.argv[1] + ".sweep", "w").write("%.6f\n" % sweep)
print("Data LL misses per packet by function (firewall run, timed packets only): " +
      ", ".join("`%s` %.3f" % (f, c / n) for f, c in top) + ".")
print()
print("The expiry sweep is paced by time (the whole table once per `timeout interval`, 10 s), not by packets. The firewall runs go by a virtual clock (`--virtual-clock %s`: frames %s ns apart, %g Mpps), so it does the work a packet here that it does natively at that rate; on the system clock, under cachegrind's 50-100 times slower worker, it did that much more. It reads entry lines only in buckets whose expiry bound has passed (docs/conntrack.md)." % (sys.argv[3], sys.argv[3], 1e3 / float(sys.argv[3])))
PY
sweep=$(cat "$tmp/diff.out.sweep" 2>/dev/null || echo 0)
python3 - "$w_all" "$r_all" "$w_d" "$r_d" "$g1_all" "$gp_all" "$pk" "$conns" "$ll" "$sweep" "$clock" <<'PY'
import sys
w, r, wd, rd, g1, gp = (int(x) for x in sys.argv[1:7])
pk, conns, ll = sys.argv[7:10]
sweep = float(sys.argv[10])
clock = sys.argv[11]
n = 2 * int(pk)
fw, gen = (r - w) / n, (gp - g1) / n
print("### Cachegrind: last-level misses per packet")
print()
cut = 1e7 / int(conns)
scale = "the full size" if cut == 1 else "the 10M/32 MiB ratio cut by %g" % cut
print("Run (`bench/cachegrind.sh`): %s connections against a simulated %s LL (size,assoc,line), %s; `valgrind --tool=cachegrind --cache-sim=yes --LL=%s ringwall bench --connections %s --packets P --checksum ignore --virtual-clock %s`, a run with P=%s minus a run with P=1 (warm-up only), less the generator's own misses from the same pair of runs with `--gen-only`." % ("{:,}".format(int(conns)), ll, scale, ll, conns, clock, pk))
print()
print("**%.3f LL misses per packet for the firewall** (generator subtracted; target <= 1.0), **%.3f without the expiry sweep** (%.3f, see below): generator + firewall %.3f (%.3f of them data), generator alone %.3f, over %d packets." % (fw - gen, fw - gen - sweep, sweep, fw, (rd - wd) / n, gen, n))
print()
PY
cat "$tmp/byfn.md"
echo
