#!/bin/sh
# ringwall's classifier against DPDK's rte_acl (dpdk-test-acl, Debian's
# dpdk-dev) on the same ClassBench rules and traces, in one run: acl1, fw1,
# ipc1 x 1k, 10k, 100k. Prints a markdown table; with --write, also puts it
# into BENCHMARKS.md under "## Classifier (issue 5)".
#
#   RINGWALL=path/to/ringwall   (default build/ringwall)
#   CLASSBENCH_DIR=dir          (default ../shared/data/classbench)
#   SETS="acl1_100k ..."        (default: all nine)
#
# Both sides measure lookups over many passes of the trace: ours for 1 s in
# bursts of 32 (as the worker calls it), rte_acl with --iter so that it does
# at least ~2M lookups, --verbose=0 (its per-packet printing otherwise lands
# in the timed loop), default algorithm and burst. rte_acl prints no build
# time: its wall time (EAL start + build + lookups) stands in, as in the
# data's README. Memory: ours is the structure's bytes and the process's
# peak RSS; theirs the process's peak RSS, from /usr/bin/time.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RINGWALL:-$root/build/ringwall}
data=${CLASSBENCH_DIR:-$root/../shared/data/classbench}
[ -d "$data" ] || data=/work/shared/data/classbench
sets=${SETS:-"acl1_1k fw1_1k ipc1_1k acl1_10k fw1_10k ipc1_10k acl1_100k fw1_100k ipc1_100k"}
write=0
[ "${1:-}" = "--write" ] && write=1

command -v dpdk-test-acl > /dev/null || { echo "bench/classify.sh: dpdk-test-acl missing (apt-get install dpdk-dev)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/classify.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
[ -x "$bin" ] || { echo "bench/classify.sh: no $bin (make first)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
table=$tmp/table.md
{
	echo "| set | rules | ringwall lookups/s | rte_acl lookups/s | ratio | ringwall build | rte_acl wall (incl. build) | ringwall structure | ringwall maxrss | rte_acl maxrss |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
} > "$table"
: > "$tmp/ratios100k"

for s in $sets; do
	xz -dc "$data/$s.xz" > "$tmp/$s"
	xz -dc "$data/${s}_trace.xz" > "$tmp/${s}_trace"
	rules=$(wc -l < "$tmp/$s")
	lines=$(wc -l < "$tmp/${s}_trace")
	echo "bench: $s ($rules rules, $lines headers)" >&2

	"$bin" classify --rules "$tmp/$s" --trace "$tmp/${s}_trace" --bench --json > "$tmp/ours.json"
	ours=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.0f %.6f %d %d %s" % (d["lookups_per_s"], d["build_s"], d["memory_bytes"], d["maxrss_kb"], d["isa"]))' "$tmp/ours.json")
	set -- $ours
	our_rate=$1 our_build=$2 our_mem=$3 our_rss=$4 isa=$5

	iter=$(( (2000000 + lines - 1) / lines ))
	/usr/bin/time -v -o "$tmp/time.txt" dpdk-test-acl --no-huge --no-pci -l 0 -m 8192 -- \
		--rulesf="$tmp/$s" --tracef="$tmp/${s}_trace" --rulenum=$((rules + 1)) \
		--tracenum="$lines" --iter="$iter" --verbose=0 > "$tmp/dpdk.txt" 2>&1 || true
	their_rate=$(sed -n 's/.*cycles\/pkt, \([0-9.]*\) pkt\/sec.*/\1/p' "$tmp/dpdk.txt" | tail -1)
	their_rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
	their_wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.txt")
	[ -n "$their_rate" ] || { echo "bench: dpdk-test-acl failed on $s:" >&2; tail -5 "$tmp/dpdk.txt" >&2; their_rate=0; }

	python3 - "$s" "$rules" "$our_rate" "$our_build" "$our_mem" "$our_rss" "$their_rate" \
		"$their_wall" "${their_rss:-0}" >> "$table" <<'PY'
import sys
s, rules, ours, build, mem, rss, theirs, wall, trss = sys.argv[1:]
ours, theirs = float(ours), float(theirs)
ratio = ours / theirs if theirs else float("nan")
w = wall.split(":")
wall_s = sum(float(x) * 60 ** i for i, x in enumerate(reversed(w)))
print("| %s | %s | %.1f M | %.1f M | %.2fx | %.1f ms | %.2f s | %.2f MB | %.0f MB | %.0f MB |" % (
    s, rules, ours / 1e6, theirs / 1e6, ratio, float(build) * 1e3, wall_s,
    int(mem) / 1e6, int(rss) / 1024, int(trss) / 1024))
PY
	case $s in *_100k) echo "$our_rate $their_rate" >> "$tmp/ratios100k" ;; esac
	rm -f "$tmp/$s" "$tmp/${s}_trace"
done

summary=$(python3 - "$tmp/ratios100k" <<'PY'
import math, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
if rows and all(t > 0 for _, t in rows):
    g = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs))
    o, t = g([r[0] for r in rows]), g([r[1] for r in rows])
    print("Geometric mean over the 100k sets: ringwall %.1f M, rte_acl %.1f M lookups/s: %.2fx." % (o / 1e6, t / 1e6, o / t))
PY
)
{
	cat "$table"
	echo
	echo "$summary"
	echo
	echo "The machine is shared and noisy: single figures move by up to +-30 % between runs (an earlier run the same"
	echo "hour, under load from other builds, had fw1_100k at 1.45x and the 100k geometric mean at 2.94x); compare within"
	echo "one run. ringwall build = rw_classifier_build only (file reading excluded); rte_acl's figure is its whole run."
	echo
	echo "Machine: $(nproc) cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1); ringwall path: $isa; $(date -u +%Y-%m-%d)."
} > "$tmp/section.md"
cat "$tmp/section.md"

if [ $write = 1 ]; then
	f=$root/BENCHMARKS.md
	[ -f "$f" ] || printf '# Benchmarks\n' > "$f"
	python3 - "$f" "$tmp/section.md" <<'PY'
import re, sys
path, sec = sys.argv[1], open(sys.argv[2]).read()
head = "## Classifier (issue 5)"
body = (head + "\n\nCommand: `make bench-classify` (runs `bench/classify.sh --write`).\n\n" + sec.rstrip() + "\n")
text = open(path).read()
m = re.search(r"^## Classifier \(issue 5\)\n.*?(?=^## |\Z)", text, re.S | re.M)
text = text[:m.start()] + body + ("\n" + text[m.end():] if m.end() < len(text) else "") if m else text.rstrip() + "\n\n" + body
open(path, "w").write(text)
PY
	echo "bench: wrote $f" >&2
fi
