#!/bin/sh
# The cost of naming Java frames (scripts/bench --jvm): a JVM (OpenJDK 17)
# makes and drops 4 KiB direct buffers (allocateDirect: malloc and free in
# libjvm) for SECS seconds, its hot methods compiled first; untraced, with
# -XX:+PreserveFramePointer (what stacks through compiled code need), under
# memleak-trace --malloc, and with --jvm-perfmap dumping the perf map every
# second (-i 1). Then the time of one dump (jcmd PID Compiler.perfmap).
# Prints ops/s per config, median of ROUNDS, as a markdown table.
set -eu
build=${MEMSCOPE_BUILD:-build}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-3}
for t in java javac jcmd; do
	command -v $t >/dev/null || { echo "bench --jvm: $t missing (scripts/deps.sh test)" >&2; exit 1; }
done
D=$(mktemp -d /tmp/memscope-bench-jvm.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT INT TERM
javac -d "$D" tests/workloads/LeakDirect.java
JAVA="java -Xmx64m -XX:MaxDirectMemorySize=256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
wait_line() { # FILE PATTERN
	i=0; until grep -q "$2" "$1" 2>/dev/null; do i=$((i + 1)); [ $i -lt 1200 ] || exit 1; sleep 0.05; done
}
one() { # JAVA_FLAGS TOOL_ARGS: ops/s of one round ("none": untraced)
	rm -f "$D/go" "$D/wl.out" "$D/tool.out"
	$JAVA $1 -cp "$D" LeakDirect bench "$SECS" "$D/go" > "$D/wl.out" 2>&1 & jp=$!; pids="$pids $jp"
	wait_line "$D/wl.out" compiled
	tp=""
	if [ "$2" != none ]; then
		# shellcheck disable=SC2086 # the tool's arguments, split on purpose
		"$build/memleak-trace" -p $jp $2 > "$D/tool.out" 2>&1 & tp=$!
		wait_line "$D/tool.out" Ctrl-C
	fi
	touch "$D/go"
	wait_line "$D/wl.out" '^ops'
	wait $jp || true # it exits once it has printed
	[ -z "$tp" ] || { kill -INT $tp; wait $tp || true; }
	rm -f "/tmp/perf-$jp.map" # dumped by --jvm-perfmap
	awk '/^ops/ { print $2 }' "$D/wl.out"
}
run() { for r in $(seq "$ROUNDS"); do one "$1" "$2"; done | median; }
dump_ms() { # the median time of one jcmd Compiler.perfmap, ms
	rm -f "$D/go" "$D/wl.out"
	$JAVA -XX:+PreserveFramePointer -cp "$D" LeakDirect bench 600 "$D/go" > "$D/wl.out" 2>&1 & jp=$!; pids="$pids $jp"
	wait_line "$D/wl.out" compiled
	for r in $(seq "$ROUNDS"); do
		s=$(date +%s%N)
		jcmd $jp Compiler.perfmap >/dev/null
		e=$(date +%s%N)
		echo $(((e - s) / 1000000))
	done | median
	kill $jp; wait $jp 2>/dev/null || true
	rm -f "/tmp/perf-$jp.map"
}
base=$(run "" none)
printf '| workload (%s, %s s x %s rounds) | config | ops/s | vs untraced |\n|---|---|---|---|\n' \
	"$(java -version 2>&1 | awk -F'"' 'NR == 1 { print "OpenJDK " $2 }')" "$SECS" "$ROUNDS"
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.2fx", b / a }')"; }
W="allocateDirect(4096) + drop"
row "$W" untraced "$base" "$base"
row "$W" "untraced, -XX:+PreserveFramePointer" "$(run -XX:+PreserveFramePointer none)" "$base"
row "$W" "memleak-trace --malloc" "$(run -XX:+PreserveFramePointer --malloc)" "$base"
row "$W" "memleak-trace --malloc --jvm-perfmap -i 1" "$(run -XX:+PreserveFramePointer '--malloc --jvm-perfmap -i 1')" "$base"
printf '\none perf map dump (jcmd PID Compiler.perfmap, wall time): %s ms\n' "$(dump_ms)"
