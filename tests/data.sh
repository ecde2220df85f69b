# Sourced by test scripts: where the shared captures and ClassBench sets are.
if [ -z "${RINGWALL_DATA:-}" ]; then
	for d in "$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/../.." && pwd)/shared/data" /work/shared/data; do
		if [ -d "$d/pcaps" ]; then RINGWALL_DATA=$d; break; fi
	done
fi
export RINGWALL_DATA=${RINGWALL_DATA:-/work/shared/data}
