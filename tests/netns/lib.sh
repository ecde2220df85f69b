# SPDX-License-Identifier: BSD-2-Clause
#
# Sourced by the network-namespace scripts (tests/netns/*.sh, tests/demo.sh):
# the topology building blocks, bounded waits, cleanup on exit and TAP
# output they all need. Each script keeps its own diagram, names and checks.
#
# Sourcing it installs the exit trap: whatever was registered (namespaces,
# background processes, the daemon under test, a scratch directory) is
# removed however the script ends. Register before creating, so that a
# half-made topology is removed too.

# ---- cleanup ----------------------------------------------------------------

RW_PID=         # the daemon under test (rw_daemon_start); rw_daemon_stop clears it
RW_CLEAN_PIDS=  # background helpers (servers): rw_cleanup_pid
RW_CLEAN_NS=    # namespaces: rw_ns_add
RW_CLEAN_PATHS= # scratch files and directories: rw_cleanup_path, rw_tmpdir
RW_CLEAN_NS_PROCS= # namespaces emptied of processes at exit: rw_cleanup_ns_procs
RW_KEEP_PATHS=  # scratch directories kept for a look, named at exit: rw_tmpdir

# rw_cleanup_pid PID...: kill these at exit
rw_cleanup_pid() { RW_CLEAN_PIDS="$RW_CLEAN_PIDS $*"; }
# rw_cleanup_path PATH...: rm -rf these at exit
rw_cleanup_path() { RW_CLEAN_PATHS="$RW_CLEAN_PATHS $*"; }
# rw_cleanup_ns_procs NS...: at exit, SIGKILL whatever still runs in these
# namespaces before they are deleted: for servers whose children outlive
# the process we started (vsftpd's session processes), which would keep a
# deleted namespace's veths alive.
rw_cleanup_ns_procs() { RW_CLEAN_NS_PROCS="$RW_CLEAN_NS_PROCS $*"; }

# The daemon first (SIGTERM: it removes its XDP programs and socket), then
# the helpers; namespaces only once nothing runs in them any more.
rw_cleanup() {
	local pid ns path
	[ -n "$RW_PID" ] && kill -TERM "$RW_PID" 2>/dev/null
	for pid in $RW_CLEAN_PIDS; do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	for ns in $RW_CLEAN_NS_PROCS; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	for ns in $RW_CLEAN_NS; do ip netns del "$ns" 2>/dev/null; done
	for path in $RW_CLEAN_PATHS; do rm -rf "$path"; done
	for path in $RW_KEEP_PATHS; do echo "# kept $path"; done
}
trap rw_cleanup EXIT
trap 'exit 1' INT TERM

# rw_tmpdir PREFIX [KEEP]: a fresh /tmp/PREFIX.XXXXXX in TMP, removed at
# exit; kept (and named at exit) when KEEP is not empty, for a look at logs
rw_tmpdir() {
	TMP=$(mktemp -d "/tmp/$1.XXXXXX") || return 1
	if [ -n "${2:-}" ]; then
		RW_KEEP_PATHS="$RW_KEEP_PATHS $TMP"
	else
		rw_cleanup_path "$TMP"
	fi
}

# ---- TAP ----------------------------------------------------------------------

n=0      # tests so far (the plan is "1..$n" at the end)
failed=0 # of which failed

ok() { n=$((n + 1)); echo "ok $n - $1"; }
# notok NAME [LOG]: a failure, with the tail of LOG as comments
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && sed 's/^/#   /' "$2" | tail -20; return 0; }
check() { # check NAME COMMAND...: one TAP line from the command's status (output in $TMP/out)
	local name=$1; shift
	if "$@" >"$TMP/out" 2>&1; then ok "$name"; else notok "$name" "$TMP/out"; fi
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
# rw_need_root, rw_need_tools TOOL...: skip the whole script without them
rw_need_root() { [ "$(id -u)" = 0 ] || skip_all "needs root"; }
rw_need_tools() {
	local t
	for t in "$@"; do command -v "$t" >/dev/null || skip_all "$t missing"; done
}
# rw_done: the plan, and the script's status (1 on any failure)
rw_done() { echo "1..$n"; [ "$failed" = 0 ]; }

# ---- bounded waits ------------------------------------------------------------

# rw_wait_for SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds
# (0) or SECONDS have gone by (1). Nothing in these scripts waits unbounded.
rw_wait_for() {
	local tenths=$(($1 * 10)) _i
	shift
	for _i in $(seq "$tenths"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# rw_listening NS PORT...: every PORT has a TCP listener in NS
rw_listening() {
	local ns=$1 l p
	shift
	l=$(ip netns exec "$ns" ss -ltn 2>/dev/null)
	for p in "$@"; do echo "$l" | grep -q ":$p " || return 1; done
}

# ---- topology -----------------------------------------------------------------

# rw_ns_add NS...: create namespaces (deleted at exit)
rw_ns_add() {
	local ns
	for ns in "$@"; do
		RW_CLEAN_NS="$RW_CLEAN_NS $ns"
		ip netns add "$ns" || return 1
	done
}

# rw_veth NS_A IF_A NS_B IF_B: a veth pair, IF_A in NS_A, IF_B in NS_B
rw_veth() { ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"; }

# rw_endpoint_offloads_off NS IF: a veth hands its peer TCP segments with the
# checksum unfinished (CHECKSUM_PARTIAL) and as 64 KB super-segments; a
# user-space bridge forwards frames as they are, and the receiver would drop
# them. So endpoints (where traffic starts) compute checksums and segment.
rw_endpoint_offloads_off() { ip netns exec "$1" ethtool -K "$2" tx off tso off gso off >/dev/null; }

# rw_endpoint NS IF: an endpoint veth: offloads off, it and lo up
rw_endpoint() {
	rw_endpoint_offloads_off "$1" "$2" || return 1
	ip -n "$1" link set "$2" up && ip -n "$1" link set lo up
}

# rw_up NS IF...: bring links up (the middle box's ports: no addresses)
rw_up() {
	local ns=$1 ifc
	shift
	for ifc in "$@"; do ip -n "$ns" link set "$ifc" up || return 1; done
}

# rw_bump P NC NF NS C S [C6 S6]: the bump-in-the-wire topology the live
# tests share. Client NC's ${P}c0 (C/24, and C6/64 when given) is wired to
# NF's ${P}c1; NF's ${P}s1 to server NS's ${P}s0 (S/24, S6/64); endpoints as
# rw_endpoint makes them, the firewall's two ports up with no address.
rw_bump() {
	local p=$1 nc=$2 nf=$3 ns=$4 c=$5 s=$6 c6=${7:-} s6=${8:-}
	rw_ns_add "$nc" "$nf" "$ns" || return 1
	rw_veth "$nc" "${p}c0" "$nf" "${p}c1" && rw_veth "$ns" "${p}s0" "$nf" "${p}s1" || return 1
	ip -n "$nc" addr add "$c/24" dev "${p}c0" && ip -n "$ns" addr add "$s/24" dev "${p}s0" || return 1
	if [ -n "$c6" ]; then
		ip -n "$nc" addr add "$c6/64" dev "${p}c0" nodad &&
			ip -n "$ns" addr add "$s6/64" dev "${p}s0" nodad || return 1
	fi
	rw_endpoint "$nc" "${p}c0" && rw_endpoint "$ns" "${p}s0" || return 1
	rw_up "$nf" "${p}c1" "${p}s1"
}

# ---- the daemon under test ------------------------------------------------------

_rw_ready_or_gone() { grep -q "$2" "$1" || ! kill -0 "$RW_PID" 2>/dev/null; }

# rw_daemon_start OUT ERR READY SECONDS COMMAND...: start COMMAND in the
# background (stdout to OUT, stderr to ERR) as RW_PID and wait until ERR
# says READY (0), it exits or SECONDS pass (1).
rw_daemon_start() {
	local out=$1 err=$2 ready=$3 secs=$4
	shift 4
	"$@" >"$out" 2>"$err" &
	RW_PID=$!
	rw_wait_for "$secs" _rw_ready_or_gone "$err" "$ready"
	grep -q "$ready" "$err"
}

# rw_daemon_stop: SIGTERM and its exit status
rw_daemon_stop() {
	local rc
	kill -TERM "$RW_PID" 2>/dev/null
	wait "$RW_PID"
	rc=$?
	RW_PID=
	return $rc
}
