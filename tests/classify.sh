#!/bin/sh
# ringwall classify against the reference answers of every ClassBench set
# (acl1, fw1, ipc1 x 1k, 10k, 100k): for each, the per-line first match must
# equal *_trace.match exactly. Prints TAP. About 2 s on 2 cores, most of
# it xz; the 100k sets build in ~0.1 s each.
#
#   RINGWALL=path/to/ringwall   binary (default build/ringwall)
#   CLASSBENCH_DIR=dir          data (default ../shared/data/classbench)
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RINGWALL:-$root/build/ringwall}
data=${CLASSBENCH_DIR:-$root/../shared/data/classbench}
[ -d "$data" ] || data=/work/shared/data/classbench
sets="acl1_1k fw1_1k ipc1_1k acl1_10k fw1_10k ipc1_10k acl1_100k fw1_100k ipc1_100k"

n=0
fail=0
tap() { # status name
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}

if [ ! -d "$data" ] || [ ! -x "$bin" ]; then
	echo "1..1"
	echo "ok 1 - classify # skip no data ($data) or no binary ($bin)"
	exit 0
fi
echo "1..11"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

for s in $sets; do
	for f in "$s" "${s}_trace" "${s}_trace.match"; do
		xz -dc "$data/$f.xz" > "$tmp/$f" || { echo "# cannot decompress $f"; }
	done
	if "$bin" classify --rules "$tmp/$s" --trace "$tmp/${s}_trace" > "$tmp/out" 2> "$tmp/err" &&
	   cmp -s "$tmp/out" "$tmp/${s}_trace.match"; then
		tap 0 "classify $s equals ${s}_trace.match"
	else
		sed 's/^/# /' "$tmp/err" | head -5
		diff "$tmp/out" "$tmp/${s}_trace.match" | head -5 | sed 's/^/# /'
		tap 1 "classify $s equals ${s}_trace.match"
	fi
	rm -f "$tmp/$s" "$tmp/${s}_trace" "$tmp/${s}_trace.match" "$tmp/out"
done

# Compressed input read directly, and --verify's own check.
"$bin" classify --rules "$data/fw1_1k.xz" --trace "$data/fw1_1k_trace.xz" \
	--verify "$data/fw1_1k_trace.match.xz" --bench --seconds 0.05 > "$tmp/out" 2>&1
tap $? "classify reads .xz and --verify agrees"

# A wrong answer file must be caught: --verify against another set's answers.
if "$bin" classify --rules "$data/fw1_1k.xz" --trace "$data/fw1_1k_trace.xz" \
	--verify "$data/acl1_1k_trace.match.xz" > /dev/null 2>&1; then
	tap 1 "classify --verify rejects wrong answers"
else
	tap 0 "classify --verify rejects wrong answers"
fi

[ "$fail" = 0 ]
