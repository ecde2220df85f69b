#!/bin/bash
# Runs every test ringwall has and ends with one line: "N passed, N failed".
#
#   tests/run.sh            everything
#   tests/run.sh unit pcap  only those groups (unit, check, pcap, classify, bench, netns)
#
# Each group speaks TAP ("ok N - name" / "not ok N - name") or is pytest;
# a binary that crashes or exits non-zero without reporting a failure counts
# as one failure of its own. Logs of every group go to build/test-logs/.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
LOGS=$ROOT/build/test-logs
mkdir -p "$LOGS"
export RINGWALL=${RINGWALL:-$ROOT/build/ringwall}
export RINGWALL_SAN=${RINGWALL_SAN:-$ROOT/build-san/ringwall}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

PASSED=0
FAILED=0
FAILURES=()
GROUPS_WANTED=("$@")

want() {
	[ ${#GROUPS_WANTED[@]} -eq 0 ] && return 0
	local g
	for g in "${GROUPS_WANTED[@]}"; do [ "$g" = "$1" ] && return 0; done
	return 1
}

# tap NAME LOG CMD...: run CMD, echo its output to LOG, count TAP lines.
tap() {
	local name=$1 log=$2
	shift 2
	local t0=$SECONDS rc ok nok
	"$@" >"$log" 2>&1
	rc=$?
	ok=$(grep -cE '^ok ' "$log")
	nok=$(grep -cE '^not ok ' "$log")
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + nok))
	if [ "$nok" -gt 0 ]; then
		while IFS= read -r l; do FAILURES+=("$name: $l"); done < <(grep -E '^not ok ' "$log")
	fi
	if [ $rc -ne 0 ] && [ "$nok" -eq 0 ]; then
		FAILED=$((FAILED + 1))
		FAILURES+=("$name: exited with status $rc without reporting a failure (see $log)")
	fi
	printf '%-40s %4d ok %4d not ok  (%ds)\n' "$name" "$ok" "$nok" $((SECONDS - t0))
}

# check group: ringwall check on the example and on a broken file.
check_tests() {
	local n=0
	t() { n=$((n + 1)); if "$@"; then echo "ok $n - $T"; else echo "not ok $n - $T"; fi; }
	T="example.conf is accepted" t "$RINGWALL" check -c tests/rules/example.conf
	if [ -f tests/rules/bad.conf ]; then
		"$RINGWALL" check -c tests/rules/bad.conf >/dev/null 2>"$LOGS/bad.stderr"
		local rc=$?
		T="bad.conf is rejected" t test $rc -eq 1
		T="bad.conf errors are exactly bad.expected" t diff -u tests/rules/bad.expected "$LOGS/bad.stderr"
	fi
	T="unknown command fails" t sh -c '! "$RINGWALL" nosuchcommand 2>/dev/null'
	T="missing file is an error" t sh -c '! "$RINGWALL" check -c /nonexistent.conf 2>/dev/null'
}

if want unit; then
	for b in $(for d in ${RW_TEST_BUILDS:-build build-san}; do echo $d/tests/test_*; done); do
		[ -x "$b" ] || continue
		tap "unit: ${b%%/*}/$(basename "$b")" "$LOGS/$(basename "$b")-${b%%/*}.log" "$b"
	done
fi
if want check; then
	tap "check: configuration" "$LOGS/check.log" check_tests
fi
# pytest_group NAME LOG BINARY: the capture scenarios with BINARY as ringwall.
pytest_group() {
	local name=$1 log=$2 t0=$SECONDS rc sum p f
	RINGWALL=$3 /usr/bin/python3 -m pytest -q -rf -p no:cacheprovider tests/pcap >"$log" 2>&1
	rc=$?
	sum=$(tail -n 1 "$log")
	p=$(echo "$sum" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || true)
	f=$(echo "$sum" | grep -oE '[0-9]+ (failed|errors?)' | awk '{s += $1} END {print s + 0}')
	PASSED=$((PASSED + ${p:-0}))
	FAILED=$((FAILED + ${f:-0}))
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		FAILED=$((FAILED + 1))
		FAILURES+=("$name: pytest exited $rc (see $log)")
	fi
	while IFS= read -r l; do FAILURES+=("$name: $l"); done < <(grep -E '^FAILED' "$log")
	printf '%-40s %4d ok %4d not ok  (%ds)\n' "$name" "${p:-0}" "${f:-0}" $((SECONDS - t0))
}

if want pcap && [ -d tests/pcap ]; then
	pytest_group "pcap: capture scenarios" "$LOGS/pcap.log" "$RINGWALL"
	# the same scenarios under ASan/UBSan (the sanitizer binary aborts on
	# any report, so a finding is a failed scenario)
	if [ -x "$RINGWALL_SAN" ] && [ "$RINGWALL_SAN" != "$RINGWALL" ]; then
		pytest_group "pcap: capture scenarios, ASan/UBSan" "$LOGS/pcap-san.log" "$RINGWALL_SAN"
	fi
fi
if want classify && [ -x tests/classify.sh ]; then
	tap "classify: classbench answers" "$LOGS/classify.log" tests/classify.sh
fi
if want bench && [ -x tests/bench.sh ]; then
	tap "bench: smoke" "$LOGS/bench.log" tests/bench.sh
fi
if want netns; then
	if [ "$(id -u)" = 0 ]; then
		for s in tests/netns/*.sh; do
			[ -x "$s" ] || continue
			tap "netns: $(basename "$s" .sh)" "$LOGS/netns-$(basename "$s" .sh).log" "$s"
		done
	else
		echo "netns: skipped (needs root)"
	fi
fi

for f in "${FAILURES[@]+"${FAILURES[@]}"}"; do echo "FAIL $f"; done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
