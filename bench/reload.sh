#!/bin/bash
# Issue 5 item 5: a 100,000-rule set replaced while ringwall bench runs.
# Converts acl1_100k to ringwall rules twice (all pass; pass/block
# alternating), each led by a rule that passes the generator's flows, then
# runs the established profile reloading every second, alternating the two
# files. Prints a markdown paragraph with per-interval throughput.
#   CLASSBENCH_DIR=dir DURATION=8 bench/reload.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RINGWALL:-$root/build/ringwall}
data=${CLASSBENCH_DIR:-$root/../shared/data/classbench}
[ -d "$data" ] || data=/work/shared/data/classbench
dur=${DURATION:-8}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
first="pass proto tcp from 10.0.0.0/8 to 198.18.0.0/15 flags S/SA"
"$root/bench/classbench2conf.py" --first "$first" "$data/acl1_100k.xz" > "$tmp/a.conf" 2>/dev/null
"$root/bench/classbench2conf.py" --action alternate --first "$first" "$data/acl1_100k.xz" > "$tmp/b.conf" 2>/dev/null
cmd="ringwall bench --connections 1000000 --capacity 2000000 --duration $dur --rules A.conf --reload-rules B.conf --reload-every 1 --interval 0.25"
echo "bench: $cmd" >&2
"$bin" bench --json --connections 1000000 --capacity 2000000 --duration "$dur" --rules "$tmp/a.conf" \
	--reload-rules "$tmp/b.conf" --reload-every 1 --interval 0.25 > "$tmp/r.json"
python3 - "$tmp/r.json" "$cmd" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("### 100,000-rule reload under load (issue 5 item 5)")
print()
print("`bench/reload.sh`: acl1_100k converted by `bench/classbench2conf.py` (A: every rule pass; B: pass/block alternating; both led by a rule passing the generator's flows), `%s`." % sys.argv[2])
print()
print("- %d reloads of %d rules, all %s; each took %s ms (parse + build + swap + wait for the worker)." % (
    len(d["reloads"]), d["rules"], "ok" if all(r["ok"] for r in d["reloads"]) else "NOT ok",
    ", ".join("%.0f" % r["ms"] for r in d["reloads"])))
print("- Packets dropped during the run: **%d** (%s); states kept: %d of %d." % (d["drops_total"], d["drops"] or "none", d["states"]["live"], d["connections"]))
print("- Throughput every 0.25 s (Mpps): " + " ".join("%.2f" % (x / 1e6) for x in d["intervals_pps"]))
print("- Reloads at (s): " + " ".join("%.2f" % r["at"] for r in d["reloads"]))
print()
PY
