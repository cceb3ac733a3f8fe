#!/bin/bash
# The oracle's programs (tests/e2e/oracle_programs.bash: perl, python3, php,
# sqlite3, xz, bzip2, git, jq, bc, mawk on their small jobs) timed untraced,
# under memleak-trace --malloc and under valgrind's memcheck, each as the
# oracle suite runs it, in turns, ROUNDS times (median wall time); then
# how far memleak-trace's stacks agree with valgrind's on the last round
# (tests/e2e/oracle_compare.py). Prints a markdown table, also written to
# $MEMSCOPE_BUILD/bench-oracle.md. scripts/bench --oracle runs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
B="$ROOT/${MEMSCOPE_BUILD:-build}"
ROUNDS=${ROUNDS:-3}
# shellcheck source=../../tests/e2e/oracle_programs.bash
. tests/e2e/oracle_programs.bash
command -v valgrind >/dev/null || { echo "bench --oracle: valgrind missing (scripts/deps.sh test)" >&2; exit 1; }
D=$(mktemp -d /tmp/memscope-bench-oracle.XXXXXX)
trap 'rm -rf "$D"' EXIT
WORK="$D/work"
mkdir -p "$WORK" "$D/home"
oracle_env "$D/home"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# timed CONFIG DIR: one run of PROG in CONFIG (none, memleak, valgrind), ms.
timed() {
	local t0 rc=0
	t0=$(now_ms)
	case "$1" in
	none) (cd "$PROG_DIR" && env -i "${ORACLE_ENV[@]}" "${PROG[@]}" < "$PROG_STDIN" > "$2/none.out") || rc=$? ;;
	memleak) oracle_memleak "$2" "${PROG[@]}" || rc=$? ;;
	valgrind) oracle_valgrind "$2" "${PROG[@]}" || rc=$? ;;
	esac
	[ $rc = 0 ] || { echo "bench --oracle: $1 run of ${PROG[0]} failed ($rc)" >&2; return 1; }
	echo $(($(now_ms) - t0))
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }'; }

report() {
	local name cfg r d specs=()
	printf '| program (%s rounds, median) | untraced ms | memleak-trace --malloc ms | valgrind ms | memleak-trace / untraced | valgrind / untraced | valgrind / memleak-trace |\n' "$ROUNDS"
	printf '|---|---|---|---|---|---|---|\n'
	for name in $ORACLE_PROGRAMS; do
		command -v "$name" >/dev/null || { echo "bench --oracle: $name missing (package ${ORACLE_PACKAGE[$name]})" >&2; continue; }
		oracle_program "$name"
		valgrind_env
		d="$D/$name"
		mkdir -p "$d"
		for cfg in none memleak valgrind; do : > "$d/$cfg.ms"; done
		for r in $(seq "$ROUNDS"); do
			# In turns, so that a burst of load elsewhere spreads over all three.
			for cfg in none memleak valgrind; do timed "$cfg" "$d" >> "$d/$cfg.ms"; done
		done
		local none mem vg
		none=$(median < "$d/none.ms") mem=$(median < "$d/memleak.ms") vg=$(median < "$d/valgrind.ms")
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$none" "$mem" "$vg" \
			"$(ratio "$mem" "$none")" "$(ratio "$vg" "$none")" "$(ratio "$vg" "$mem")"
		specs+=("$name=$d")
	done
	echo
	echo "Agreement with valgrind (last round; rule in tests/e2e/oracle_compare.py):"
	echo '```'
	python3 tests/e2e/oracle_compare.py "${specs[@]}" | sed '/^$/,$d'
	echo '```'
}

report | tee "$B/bench-oracle.md"
