#!/bin/bash
# Smoke test of `ringwall bench --json` (TAP): short runs of every profile,
# checked for sane numbers: packets flowed, the established profile drops
# nothing and holds exactly the requested connections, a SYN flood fills
# the table and evicts, gen-only and table-only report rates, bad options
# are refused. Run by tests/run.sh; RINGWALL selects the binary.
set -u
cd "$(dirname "$0")/.."
bin=${RINGWALL:-build/ringwall}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

# check NAME FILE PYTHON-EXPR: the expression over the JSON d must be true
check() {
	/usr/bin/python3 - "$2" "$3" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("# bad json:", e)
    sys.exit(1)
ok = eval(sys.argv[2], {"d": d})
if not ok:
    print("# failed:", sys.argv[2])
    print("#", json.dumps(d)[:600])
sys.exit(0 if ok else 1)
PY
	ok $? "$1"
}

# Capacity above the connections: the exact-count checks here are about
# the traffic; the full table has its own check below.
"$bin" bench --json --connections 1000 --capacity 2000 --packets 50000 > "$tmp/est.json" 2> "$tmp/est.err"
ok $? "established run exits 0"
check "established: packets flowed (2 x 50000)" "$tmp/est.json" 'd["packets"] == 100000 and d["pps"] > 0'
check "established: no drops, none in warm-up" "$tmp/est.json" 'd["drops_total"] == 0 and d["warmup"]["drops"] == {}'
check "established: states equal the connections" "$tmp/est.json" 'd["states"]["live"] == 1000 and d["warmup"]["states"] == 1000'
check "established: every packet found its state" "$tmp/est.json" 'd["state_hits"] == 100000 and d["state_misses"] == 0'
check "established: every frame forwarded" "$tmp/est.json" 'd["generator"]["forwarded"] == d["generator"]["packets"] + d["warmup"]["packets"]'
check "established: IPv4 memory per connection 64..80 B" "$tmp/est.json" '64 <= d["memory"]["ipv4_bytes_per_connection"] <= 80'
check "established: ns/packet is consistent with pps" "$tmp/est.json" 'abs(d["ns_per_packet"] * d["pps_per_worker"] / 1e9 - 1) < 0.01'

"$bin" bench --json --connections 2000 --capacity 4000 --zipf 1.0 --workers 2 --packets 20000 > "$tmp/z2.json" 2>/dev/null
ok $? "two workers, zipf, exits 0"
check "two workers: both ran, states split" "$tmp/z2.json" 'len(d["per_worker"]) == 2 and all(w["packets"] == 40000 for w in d["per_worker"]) and d["states"]["live"] == 2000 and d["drops_total"] == 0'

"$bin" bench --json --profile syn-flood --connections 1000 --packets 5000 > "$tmp/syn.json" 2>/dev/null
ok $? "syn-flood exits 0"
check "syn-flood: table full, old embryonic evicted, none refused" "$tmp/syn.json" 'd["states"]["live"] == 1000 and d["states"]["created"] == 5000 and d["states"]["evicted"] == 4000 and d["states"]["refused"] == 0'

"$bin" bench --json --profile mixed --connections 1000 --new 10 --packets 20000 > "$tmp/mix.json" 2>/dev/null
ok $? "mixed exits 0"
check "mixed: some new flows, about 10%" "$tmp/mix.json" '0.05 < d["generator"]["new_flows"] / d["packets"] < 0.15 and d["states"]["created"] > 1000'

"$bin" bench --json --gen-only --connections 1000 --packets 10000 > "$tmp/gen.json" 2>/dev/null
check "gen-only: rate measured, no firewall work" "$tmp/gen.json" 'd["packets"] == 20000 and d["pps"] > 0 and d["states"]["created"] == 0'

# --virtual-clock: the worker goes by the frames' clock, 0.1 s a packet here.
# Each of 1000 flows then sees a packet every ~100 s of that clock, beyond a
# 60 s established timeout: states expire and later segments find none. The
# same run on the real clock (a few ms) keeps every state.
printf 'set default block\nset timeout tcp.established 60\npass in on inside proto tcp\n' > "$tmp/vc.conf"
"$bin" bench --json --connections 1000 --packets 2000 --rules "$tmp/vc.conf" --virtual-clock 100000000 > "$tmp/vc.json" 2>/dev/null
ok $? "virtual clock exits 0"
check "virtual clock: idle states expire by the frames' time" "$tmp/vc.json" 'd["virtual_clock_ns"] == 100000000 and d["states"]["expired"] > 0 and d["state_misses"] > 0 and d["drops_total"] > 0'
"$bin" bench --json --connections 1000 --packets 2000 --rules "$tmp/vc.conf" > "$tmp/rc.json" 2>/dev/null
check "real clock: the same run keeps every state" "$tmp/rc.json" 'd["virtual_clock_ns"] == 0 and d["states"]["expired"] == 0 and d["drops_total"] == 0'
"$bin" bench --virtual-clock 0 --packets 10 > /dev/null 2>&1
ok $((! $?)) "--virtual-clock 0 refused"

"$bin" bench --json --table-only --connections 1000 --capacity 2000 --packets 10000 > "$tmp/tab.json" 2>/dev/null
check "table-only: every lookup found its connection" "$tmp/tab.json" 'd["packets"] >= 20000 and d["table_pass"] == d["packets"]'

# Filled to 100% of `limit states`: cuckoo relocation finds every
# connection a slot, none refused (there is no embryonic entry to evict).
"$bin" bench --json --connections 20000 --capacity 20000 --packets 20000 --checksum ignore > "$tmp/full.json" 2>/dev/null
check "full table: all 20000 connections stored, none refused, traffic passes" "$tmp/full.json" 'd["states"]["live"] == 20000 and d["states"]["refused"] == 0 and d["states"]["evicted"] == 0 and d["drops_total"] == 0 and d["l4_checksum"] == "ignore"'

"$bin" bench --json --table-op lookup --connections 1000 --packets 10000 > "$tmp/tl.json" 2>/dev/null
check "table-op lookup: every lookup found its connection" "$tmp/tl.json" 'd["profile"] == "table-only-lookup" and d["packets"] >= 20000 and d["table_pass"] == d["packets"]'

printf 'set default block\npass in on inside proto tcp\n' > "$tmp/r.conf"
"$bin" bench --json --connections 500 --capacity 1000 --duration 0.6 --rules "$tmp/r.conf" --reload-every 0.2 > "$tmp/rl.json" 2>/dev/null
ok $? "reload run exits 0"
check "reload: reloads happened, no drops, intervals recorded" "$tmp/rl.json" 'len(d["reloads"]) >= 2 and all(r["ok"] for r in d["reloads"]) and d["drops_total"] == 0 and len(d["intervals_pps"]) >= 2'

"$bin" bench --connections 0 > /dev/null 2>&1
ok $([ $? = 2 ] && echo 0 || echo 1) "--connections 0 is refused"
"$bin" bench --profile nosuch > /dev/null 2>&1
ok $([ $? = 2 ] && echo 0 || echo 1) "unknown profile is refused"
"$bin" bench --reload-every 1 > /dev/null 2>&1
ok $([ $? = 2 ] && echo 0 || echo 1) "--reload-every without --rules is refused"
printf 'pass in on nosuchport all\n' > "$tmp/bad.conf"
"$bin" bench --rules "$tmp/bad.conf" --packets 10 > /dev/null 2>&1
ok $([ $? = 1 ] && echo 0 || echo 1) "a rules file with errors is refused"

# The stages' prefetches are in the binary. GCC 12 once deleted every call of
# the index prefetch (a function whose only effect is a prefetch looked dead
# to it) and the worker ran three sessions with no index line prefetched
# (docs/conntrack.md); nothing else would notice, so look at the code.
# prefetches FUNCTION...: prefetch instructions in the named functions
prefetches() {
	local pat
	pat=$(IFS='|'; echo "$*")
	objdump -d --no-show-raw-insn "$bin" | awk -v pat="^($pat)\$" '
		/^[0-9a-f]+ <.*>:$/ { name = $2; gsub(/[<>:]/, "", name); f = name ~ pat; next }
		f && /\tprefetch/ { c++ }
		END { print c + 0 }'
}
if command -v objdump > /dev/null; then
	c=$(prefetches prepare_burst rw_state_prepare)
	ok $([ "$c" -gt 0 ] && echo 0 || echo 1) "the prepare stage prefetches index lines ($c prefetch instructions)"
	c=$(prefetches rw_state_prefetch)
	ok $([ "$c" -gt 0 ] && echo 0 || echo 1) "the prefetch stage prefetches entries ($c prefetch instructions)"
fi
