#!/usr/bin/env bats
# memleak-trace on a JVM (OpenJDK 17, scripts/deps.sh test): native memory
# leaked through ByteBuffer.allocateDirect, named at the Java method that
# keeps it, from the JVM's own perf map (--jvm-perfmap: jcmd PID
# Compiler.perfmap). tests/workloads/LeakDirect.java is compiled here with
# javac: `make` alone needs no JDK.
load helpers

# Small and quick to start (a CI guest emulates the CPU): C1 only, serial GC.
JAVA_OPTS=(-Xmx64m -XX:MaxDirectMemorySize=256m -Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
ROUNDS=200 COUNT=10 SIZE=4096

setup_file() {
	local why=""
	for t in java javac jcmd; do command -v "$t" > /dev/null || why="${why:+$why, }$t"; done
	if [ -n "$why" ]; then
		[ "${CI:-}" = true ] && { echo "missing $why: run scripts/deps.sh test (CI=true: failing)" >&2; return 1; }
		export JVM_SKIP="missing $why: run scripts/deps.sh test"
		return 0
	fi
	mkdir -p "$B/tests/java"
	javac -d "$B/tests/java" "$ROOT/tests/workloads/LeakDirect.java" "$ROOT/tests/workloads/LeakJni.java" \
		"$ROOT/tests/workloads/LeakSockets.java"
	# The JNI library, against the JDK's own jni.h.
	local home
	home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
	cc -O2 -fno-omit-frame-pointer -shared -fPIC -I"$home/include" -I"$home/include/linux" \
		-o "$B/tests/java/libleakjni.so" "$ROOT/tests/workloads/jni/leak_jni.c"
}

setup() {
	[ -z "${JVM_SKIP:-}" ] || skip "$JVM_SKIP"
	need_bpf
	T="$B/memleak-trace"
	WL_PID="" TR_PID=""
}

teardown() {
	[ -n "$TR_PID" ] && kill "$TR_PID" 2>/dev/null
	[ -n "$WL_PID" ] && { kill "$WL_PID" 2>/dev/null; rm -f "/tmp/perf-$WL_PID.map"; }
	[ -z "${JVM_DIR:-}" ] || rm -rf "$JVM_DIR"
	wait 2>/dev/null
	true
}

# trace_jvm JAVA_FLAGS... -- TRACER_ARGS...: the workload warmed up until
# its hot methods are compiled, then traced over its leaking rounds. The
# final JSON report in $FINAL, the tracer's stderr in $ERR, the bytes the
# program says it kept in $KEPT.
trace_jvm() {
	local jflags=()
	while [ "$1" != -- ]; do jflags+=("$1"); shift; done
	shift
	local wl="$BATS_TEST_TMPDIR/wl.out" go="${JVM_DIR:-$BATS_TEST_TMPDIR}/go"
	rm -f "$go"
	${JVM_WRAP:-} java "${JAVA_OPTS[@]}" "${jflags[@]}" -cp "${JVM_DIR:-$B/tests/java}" ${MAIN:-LeakDirect $ROUNDS $COUNT $SIZE} "$go" ${LEAK_MODE:-} \
		> "$wl" 2>&1 &
	WL_PID=$!
	wait_for 120 grep -q compiled "$wl"
	rm -f "/tmp/perf-$WL_PID.map"
	OUT="$BATS_TEST_TMPDIR/report.json" ERR="$BATS_TEST_TMPDIR/err"
	"$T" -p "$WL_PID" --malloc --json -n 20 "$@" > "$OUT" 2> "$ERR" &
	TR_PID=$!
	wait_ready "$ERR" 120
	touch "$go"
	wait_for 120 grep -q kept "$wl"
	KEPT=$(awk '/^kept/ { print $2 }' "$wl")
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_PID=""
	FINAL=$(grep '"final_report"' "$OUT")
}

# The stacks whose culprit matches a regex, as a JSON array.
culprit_stacks() {
	jq --arg re "$1" '[.stacks[] | select(.culprit // "" | test($re))]' <<<"$FINAL"
}

@test "jvm: --jvm-perfmap names the Java method that leaks direct buffers, with its bytes" {
	trace_jvm -XX:+PreserveFramePointer -- --jvm-perfmap
	grep -q "runs OpenJDK 17" "$ERR"
	local leak
	leak=$(culprit_stacks 'LeakDirect\.leakBuffers\(')
	[ "$(jq length <<<"$leak")" -ge 1 ]
	approx "$(jq '[.[].bytes] | add' <<<"$leak")" "$KEPT" 5
	# Its stack: Unsafe's malloc in libjvm, the JDK's compiled methods,
	# the leaking method, and main as the interpreter runs it.
	jq -e '.[0].frames | map(.symbol) | index("Unsafe_AllocateMemory0") != null' <<<"$leak"
	jq -e '.[0].frames | map(select(.module == "JIT") | .symbol) | index("java (interpreted)") != null' <<<"$leak"
	# What is given back is not named; HotSpot's raw blob name never shows.
	! jq -r '.stacks[] | .culprit, (.frames[].symbol // "")' <<<"$FINAL" | grep -E 'LeakDirect\.churn|^Interpreter$'
}

@test "jvm: a JNI library's leak is named at its function, the Java methods that call it named under it" {
	MAIN="-Djava.library.path=$B/tests/java LeakJni 2000 4096"
	trace_jvm -XX:+PreserveFramePointer -- --jvm-perfmap
	local leak
	leak=$(culprit_stacks '^Java_LeakJni_keepNative')
	approx "$(jq '[.[].bytes] | add' <<<"$leak")" "$KEPT" 5
	jq -e '.[0].frames | map(.symbol // "") | any(test("LeakJni\\.storeRecords\\("))' <<<"$leak"
}

@test "jvm: --jvm-perfmap dumps the map again at the report: a method compiled after the start is named" {
	LEAK_MODE=late
	trace_jvm -XX:+PreserveFramePointer -- --jvm-perfmap
	# The map read was dumped after lateLeak first ran, and names every
	# JIT frame. (Whether lateLeak's own frames are compiled or, while the
	# JIT recompiles it, "java (interpreted)" is the JVM's choice.)
	[ "/tmp/perf-$WL_PID.map" -nt "$BATS_TEST_TMPDIR/go" ]
	grep -q 'LeakDirect.lateLeak(' "/tmp/perf-$WL_PID.map"
	! grep -q 'Java frames unnamed' "$ERR"
	[ "$(jq '[.stacks[].frames[] | select(.module == "JIT" and .symbol == null)] | length' <<<"$FINAL")" -eq 0 ]
}

@test "jvm: without --jvm-perfmap and no perf map, one line says how to name frames and none is named wrongly" {
	trace_jvm -XX:+PreserveFramePointer --
	[ ! -e "/tmp/perf-$WL_PID.map" ]
	[ "$(grep -c -- '--jvm-perfmap' "$ERR")" -eq 1 ]
	grep -- '--jvm-perfmap' "$ERR" | grep -q "jcmd $WL_PID Compiler.perfmap"
	# Every JIT frame unnamed (offset only); the leak's culprit is one of them.
	[ "$(jq '[.stacks[].frames[] | select(.module == "JIT" and .symbol != null)] | length' <<<"$FINAL")" -eq 0 ]
	local top
	top=$(jq -r '.stacks | max_by(.bytes) | .culprit' <<<"$FINAL")
	[[ "$top" == JIT+0x* ]]
}

@test "jvm: a dump that fails is said once with jcmd's reason, and its frames stay unnamed" {
	trace_jvm -XX:+PreserveFramePointer -XX:+DisableAttachMechanism -- --jvm-perfmap
	[ "$(grep -c 'could not be dumped' "$ERR")" -eq 1 ]
	grep 'could not be dumped' "$ERR" | grep -q 'does not support the attach mechanism'
	[ "$(jq '[.stacks[].frames[] | select(.module == "JIT" and .symbol != null)] | length' <<<"$FINAL")" -eq 0 ]
}

@test "jvm: without -XX:+PreserveFramePointer the lost callers are marked and the flag suggested, never a wrong method" {
	trace_jvm -- --jvm-perfmap
	[ "$(grep -c -- 'without -XX:+PreserveFramePointer' "$ERR")" -eq 1 ]
	local leak
	leak=$(culprit_stacks 'Java callers lost')
	[ "$(jq length <<<"$leak")" -ge 1 ]
	approx "$(jq '[.[].bytes] | add' <<<"$leak")" "$KEPT" 5
	# Nothing past the marker, and no Java method of the program anywhere.
	jq -e 'all(.[]; .frames[-1].symbol | test("Java callers lost"))' <<<"$leak"
	! jq -r '.stacks[] | .culprit, (.frames[].symbol // "")' <<<"$FINAL" | grep -E 'LeakDirect\.'
}

@test "jvm: a JVM of another user is asked for its map as that user (jcmd attaches only as the JVM's own uid)" {
	# The classes and the go file where that user can read them.
	JVM_DIR=$(mktemp -d /tmp/memscope-jvm.XXXXXX)
	chmod 755 "$JVM_DIR"
	cp "$B"/tests/java/*.class "$JVM_DIR"
	JVM_WRAP="setpriv --reuid=65534 --regid=65534 --clear-groups"
	trace_jvm -XX:+PreserveFramePointer -- --jvm-perfmap
	[ "$(stat -c %u "/tmp/perf-$WL_PID.map")" = 65534 ]
	! grep -q 'could not be dumped' "$ERR"
	approx "$(jq '[.[].bytes] | add' <<<"$(culprit_stacks 'LeakDirect\.leakBuffers\(')")" "$KEPT" 5
}

# The JDK's release file as the JVM sees it, replaced (a bind mount in a
# mount namespace of its own) by one with the given text.
release_as() {
	local home
	home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
	[ -f "$home/release" ]
	printf '%s' "$1" > "$BATS_TEST_TMPDIR/release"
	printf '#!/bin/sh\nmount --bind %s %s/release && exec "$@"\n' "$BATS_TEST_TMPDIR/release" "$home" \
		> "$BATS_TEST_TMPDIR/wrap"
	chmod +x "$BATS_TEST_TMPDIR/wrap"
	JVM_WRAP="unshare -m --propagation private $BATS_TEST_TMPDIR/wrap"
}

@test "jvm: another version is said once as not verified, an unknown one as unknown; names still the JVM's own" {
	release_as 'JAVA_VERSION="99.0.1"'
	trace_jvm -XX:+PreserveFramePointer -- --jvm-perfmap
	[ "$(grep -c 'runs OpenJDK 99.0.1 (verified: OpenJDK 17' "$ERR")" -eq 1 ]
	[ "$(jq length <<<"$(culprit_stacks 'LeakDirect\.leakBuffers\(')")" -ge 1 ]
	kill "$WL_PID"
	wait "$WL_PID" 2>/dev/null || true
	rm -f "/tmp/perf-$WL_PID.map"
	release_as 'IMPLEMENTOR="nobody"'
	trace_jvm -XX:+PreserveFramePointer -- --jvm-perfmap
	[ "$(grep -c 'runs a HotSpot JVM of unknown version' "$ERR")" -eq 1 ]
	! grep -q 'runs OpenJDK' "$ERR"
	[ "$(jq length <<<"$(culprit_stacks 'LeakDirect\.leakBuffers\(')")" -ge 1 ]
}

@test "jvm: --features lists Java frames and the verified version" {
	run "$T" --features
	[ "$status" -eq 0 ]
	grep -E '^JIT frames: .*JVM \(OpenJDK 17 verified' <<<"$output"
	grep -q 'java (interpreted)' <<<"$output"
}

# sockleak on the same JVM: the client sockets LeakSockets keeps in
# CLOSE_WAIT, named at the Java method that opens them from a map dumped
# when their call site was new (sockleak has no report to dump it before).
@test "jvm: sockleak --jvm-perfmap names the Java method that keeps the sockets in CLOSE_WAIT" {
	local wl="$BATS_TEST_TMPDIR/wl.out" go="$BATS_TEST_TMPDIR/go" out="$BATS_TEST_TMPDIR/sl.json"
	java "${JAVA_OPTS[@]}" -XX:+PreserveFramePointer -cp "$B/tests/java" LeakSockets 50 "$go" > "$wl" 2>&1 &
	WL_PID=$!
	wait_for 120 grep -q compiled "$wl"
	rm -f "/tmp/perf-$WL_PID.map"
	ERR="$BATS_TEST_TMPDIR/err"
	"$B/sockleak" -p "$WL_PID" --jvm-perfmap --json > "$out" 2> "$ERR" &
	TR_PID=$!
	wait_ready "$ERR" 120
	touch "$go"
	wait_for 120 grep -q kept "$wl"
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_PID=""
	local row
	row=$(jq -c "select(.type == \"process\" and .report == \"final\" and .pid == $WL_PID)" "$out")
	# The 50 kept, as ss counts them; the 50 closed are not evidence.
	[ "$(jq .close_wait <<<"$row")" -eq 50 ]
	[ "$(ss -Htnp state close-wait | grep -c "pid=$WL_PID,")" -eq 50 ]
	local leak
	# Named at the program's method: openConnection, or keepRound when the
	# JIT inlined openConnection into it (the map names compiled code, not
	# what was inlined there).
	leak=$(jq -c '[.stacks[] | select(.culprit // "" | test("LeakSockets\\.(openConnection|keepRound)\\("))]' <<<"$row")
	[ "$(jq '[.[].count] | add' <<<"$leak")" -eq 50 ]
	# Under keepRound, never churnRound; no compiled frame left unnamed.
	jq -e '.[0].frames | any(test("LeakSockets\\.keepRound\\("))' <<<"$leak"
	! jq -r '.stacks[].frames[]' <<<"$row" | grep -E 'LeakSockets\.churnRound|^JIT\+0x'
	! grep -q 'Java frames unnamed' "$ERR"
}
