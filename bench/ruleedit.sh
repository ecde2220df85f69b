#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# What one live edit costs on a big rule set, end to end through
# ringwallctl (issue 5 item 6): `ringwall run` on an afpacket bridge (two
# veths in one namespace, 2 workers, idle) loads a ClassBench set as rules,
# then N times: `rule add at RANDOM` of a copy of a random rule, then its
# `rule remove`; and N `table add` / `table remove` pairs. Prints the
# medians and 90th percentiles of the daemon's own "visible" and "done"
# times and of the wall time of the ringwallctl process (fork, connect,
# request, reply).
#
#   bench/ruleedit.sh [SET (default acl1_100k)] [N (default 50)]
#
# Needs root (a network namespace). Ends by itself.
set -u

cd "$(dirname "$0")/.."
RW=${RINGWALL:-build/ringwall}
CTL=${RINGWALLCTL:-$(dirname "$RW")/ringwallctl}
SET=${1:-acl1_100k}
N=${2:-50}
DATA=${RW_CLASSBENCH:-../shared/data/classbench}
NS=rwb-$$
TMP=$(mktemp -d /tmp/rwb.XXXXXX)
SOCK=$TMP/ctl.sock
RW_PID=

cleanup() {
	[ -n "$RW_PID" ] && kill -TERM "$RW_PID" 2>/dev/null
	wait 2>/dev/null
	ip netns del $NS 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }
[ -f "$DATA/$SET.xz" ] || { echo "no $DATA/$SET.xz" >&2; exit 2; }

ip netns add $NS
ip -n $NS link add rwb0 type veth peer name rwb1
ip -n $NS link set rwb0 up
ip -n $NS link set rwb1 up
{
	printf 'port a "afpacket:rwb0"\nport b "afpacket:rwb1"\nset workers 2\n'
	printf 'table <edit> { 192.0.2.1 }\nblock in from <edit>\n'
	/usr/bin/python3 bench/classbench2conf.py "$DATA/$SET.xz"
} >"$TMP/fw.conf" || exit 1
NR=$(grep -cE '^(pass|block)' "$TMP/fw.conf")
ip netns exec $NS "$RW" run -c "$TMP/fw.conf" -s "$SOCK" -u root >/dev/null 2>"$TMP/rw.err" &
RW_PID=$!
for _ in $(seq 600); do # a 100k set builds in well under a second; 60 s at most
	grep -q "running:" "$TMP/rw.err" && break
	kill -0 $RW_PID 2>/dev/null || { cat "$TMP/rw.err"; exit 1; }
	sleep 0.1
done
grep -q "running:" "$TMP/rw.err" || { echo "ringwall did not start" >&2; exit 1; }

# edit KIND ARGS...: one ringwallctl call; appends "KIND wall_us visible_us done_us"
edit() {
	local kind=$1 t0 t1 out
	shift
	t0=$(date +%s%N)
	out=$("$CTL" -s "$SOCK" --json "$@") || { echo "failed: $*" >&2; return 1; }
	t1=$(date +%s%N)
	echo "$out" | /usr/bin/python3 -c 'import json,sys
d = json.load(sys.stdin)
print(sys.argv[1], (int(sys.argv[3]) - int(sys.argv[2])) / 1e3, d["visible_us"], d["total_us"])' \
		"$kind" "$t0" "$t1" >>"$TMP/times"
}

mapfile -t RULES < <(grep -E '^(pass|block)' "$TMP/fw.conf" | shuf -n "$N" --random-source=<(yes))
for i in $(seq 0 $((N - 1))); do
	pos=$(( (i * 7919) % NR ))
	edit add rule add at $pos "${RULES[$i]}" || exit 1
	edit remove rule remove $pos || exit 1
	edit table-add table add edit "198.51.$((i % 256)).0/24" || exit 1
	edit table-remove table remove edit "198.51.$((i % 256)).0/24" || exit 1
done
echo "# $SET: $NR rules, $N edits of each kind, 2 idle workers ($(nproc) CPUs)"
/usr/bin/python3 - "$TMP/times" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    k, *v = line.split()
    rows.setdefault(k, []).append([float(x) for x in v])
def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]
print("%-13s %18s %18s %18s" % ("edit", "visible us p50/p90", "done us p50/p90", "ringwallctl us p50/p90"))
for k in ("add", "remove", "table-add", "table-remove"):
    r = rows.get(k, [])
    if not r:
        continue
    cols = list(zip(*r))
    print("%-13s %18s %18s %18s" % (k, "%.0f / %.0f" % (q(cols[1], .5), q(cols[1], .9)),
          "%.0f / %.0f" % (q(cols[2], .5), q(cols[2], .9)),
          "%.0f / %.0f" % (q(cols[0], .5), q(cols[0], .9))))
EOF
