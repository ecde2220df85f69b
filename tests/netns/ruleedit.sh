#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Live rule and table edits (issue 5 item 6): `ringwallctl rule add|remove`
# and `table add|remove` change what the very next packet meets, on a
# running afpacket bridge with 2 workers, without a reload.
#
#   rwe-PID-c                 rwe-PID-f                          rwe-PID-s
#  +-------------+   +------------------------------------+   +-------------+
#  | rwec0       |   | rwec1                        rwes1 |   |       rwes0 |
#  | 10.215.0.1 =veth= "client" [ ringwall run ] "server" =veth= 10.215.0.2 |
#  |             |   |  ctl socket $TMP/ctl.sock          |   |             |
#  +-------------+   +------------------------------------+   +-------------+
#
# File rules: rule 0 blocks the client's packets from <deny> (one unrelated
# address), rule 1 passes TCP to 8080; ICMP meets the default block.
#   1. ping blocked; `rule add at 0 "pass ... icmp"`: the next ping passes,
#      counted against rule 0; `rule remove 0`: blocked again.
#   2. the pass rule appended after the <deny> rule: pings pass; `table add
#      deny 10.215.0.1`: blocked; `table remove`: passes again.
#   3. bad edits exit 1 with the parser's <ctl>:1:COL message; a reload
#      from the file drops every edit.
#
# Needs root. Prints TAP; exit 1 on any failure. Every wait is bounded.
set -u

cd "$(dirname "$0")/../.."
RW=${RINGWALL:-build/ringwall}
CTL=${RINGWALLCTL:-$(dirname "$RW")/ringwallctl}
P=rwe-$$
NC=$P-c NF=$P-f NS=$P-s
C=10.215.0.1 S=10.215.0.2
. tests/netns/lib.sh
rw_tmpdir rwe || exit 1
SOCK=$TMP/ctl.sock
PY=/usr/bin/python3
PASS_ICMP="pass in on client inet proto icmp icmp-type echoreq"

rw_need_root
[ -x "$RW" ] && [ -x "$CTL" ] || skip_all "$RW or $CTL not built"
rw_need_tools ip ethtool ping

ctl() { "$CTL" -s "$SOCK" "$@"; }

setup() { rw_bump rwe $NC $NF $NS $C $S; }

start_fw() {
	cat >"$TMP/fw.conf" <<-EOF
	port client "afpacket:rwec1"
	port server "afpacket:rwes1"
	set workers 2
	set non-ip pass
	table <deny> { 192.0.2.1 }
	block in on client from <deny>
	pass in on client proto tcp to port 8080
	EOF
	rw_daemon_start "$TMP/rw.out" "$TMP/rw.err" "running:" 5 \
		ip netns exec $NF timeout 120 "$RW" run -c "$TMP/fw.conf" -s "$SOCK" -u root
}

# One echo request, its first packet only: a pass must be immediate.
ping1_ok() { ip netns exec $NC ping -c 1 -W 2 -q $S; }
ping1_blocked() { ! ip netns exec $NC ping -c 1 -W 1 -q $S; }
ping_ok() { ip netns exec $NC ping -c "$1" -i 0.2 -W 2 -q $S; }
nrules() { ctl --json status | $PY -c 'import json,sys; print(json.load(sys.stdin)["rules"])'; }
rule_pkts() { # rule_pkts INDEX
	ctl --json rules | $PY -c 'import json,sys
print(json.load(sys.stdin)["rules"][int(sys.argv[1])]["packets"])' "$1"
}
rule_text() { ctl --json rules | $PY -c 'import json,sys
print(json.load(sys.stdin)["rules"][int(sys.argv[1])]["text"])' "$1"; }
eq() { [ "$1" = "$2" ] || { echo "expected $2, got $1"; return 1; }; }
# the edit's reply carries its time: "visible in N us, done in M us"
timed() { "$@" | tee "$TMP/edit.out" && grep -q "visible in [0-9]* us, done in [0-9]* us" "$TMP/edit.out"; }

echo "# topology $NC - $NF - $NS, $C <-> $S"
if ! setup; then notok "topology set up"; echo "1..$n"; exit 1; fi
ok "topology set up"
if ! start_fw; then
	notok "ringwall starts" "$TMP/rw.err"
	echo "1..$n"
	exit 1
fi
ok "ringwall starts"

# 1. rule add at 0 / rule remove 0
check "ping meets the default block" ping1_blocked
check "rule add at 0 (reply says how long it took)" timed ctl rule add at 0 "$PASS_ICMP"
sed 's/^/#   /' "$TMP/edit.out"
check "the next ping passes at its first packet" ping1_ok
check "3 rules now, the new one first" eq "$(nrules) $(rule_text 0)" "3 $PASS_ICMP"
check "the new rule counted the request and its reply" eq "$(rule_pkts 0)" 2
check "ping -c 3 passes" ping_ok 3
check "... counted against rule 0 (2 + 6)" eq "$(rule_pkts 0)" 8
check "rule remove 0" timed ctl rule remove 0
check "ping is blocked again" ping1_blocked
check "2 rules again" eq "$(nrules)" 2

# 2. a table a block rule uses
check "rule add (appended: after the <deny> block rule)" timed ctl rule add "$PASS_ICMP"
check "... it is rule 2" eq "$(rule_text 2)" "$PASS_ICMP"
check "ping passes" ping1_ok
check "table add deny $C" timed ctl table add deny $C
check "table show lists it" bash -c "'$CTL' -s '$SOCK' table show deny | grep -qx '$C/32'"
check "the client's ping is now blocked" ping1_blocked
check "... by the <deny> rule (rule 0 counted it)" bash -c "[ \$('$CTL' -s '$SOCK' --json rules | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"rules\"][0][\"packets\"])') -ge 1 ]"
check "table remove deny $C" timed ctl table remove deny $C
check "ping passes again" ping1_ok
check "table show: back to its one entry" eq "$(ctl table show deny | tail -n +2)" "192.0.2.1/32"

# 3. errors and reload
ctl rule add at 0 "pass in on nowhere all" >"$TMP/bad.out" 2>&1
check "a bad rule exits 1" test $? = 1
check "... with the parser's message at its column" grep -q "<ctl>:1:12: unknown port 'nowhere'" "$TMP/bad.out"
ctl rule remove 99 >"$TMP/bad.out" 2>&1
check "removing a rule that is not there exits 1" test $? = 1
ctl table remove deny 10.9.9.9 >"$TMP/bad.out" 2>&1
check "removing an entry that is not there exits 1" test $? = 1
check "still 3 rules" eq "$(nrules)" 3
check "a reload from the file drops the edits" bash -c "'$CTL' -s '$SOCK' reload | grep -q '2 rules'"
check "... so ping meets the default block again" ping1_blocked

check "SIGTERM stops it with status 0" rw_daemon_stop
check "no ASan or other complaint on stderr" bash -c "! grep -qiE 'sanitizer|runtime error' '$TMP/rw.err'"

rw_done
