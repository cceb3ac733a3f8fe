#!/usr/bin/env bats
# memleak-trace names Node.js functions from V8's own frames, without
# --perf-basic-prof: tests/workloads/leak_buffers.js keeps COUNT Buffers
# allocated in leakyHandler(), declared on line 10.
load helpers

setup() {
	need_bpf
	T="$B/memleak-trace"
	WL_PID=""
	TR_PID=""
	JS="$ROOT/tests/workloads/leak_buffers.js"
}

teardown() {
	[ -n "$TR_PID" ] && kill "$TR_PID" 2>/dev/null
	[ -n "$WL_PID" ] && kill "$WL_PID" 2>/dev/null
	cleanup_scratch
	wait 2>/dev/null
	true
}

# npm's node of a major version, installed under build/node-versions by
# the first test that needs it; under CI one that cannot be installed fails.
npm_node() {
	local bin="$ROOT/build/node-versions/n$1/node_modules/node/bin/node"
	[ -x "$bin" ] || (mkdir -p "$ROOT/build/node-versions/n$1" && cd "$ROOT/build/node-versions/n$1" &&
		npm install --no-audit --no-fund "node@$1" > npm.log 2>&1) || true
	if [ ! -x "$bin" ]; then
		[ "${CI:-}" = true ] && { echo "node $1 could not be installed with npm" >&2; return 1; }
		skip "node $1 not installable with npm"
	fi
	NODE="$bin"
}

# trace NODE [NODE_FLAGS...]: leak_buffers.js (or $SCRIPT) leaking 3000 x 8 KiB under memleak-trace
# --json, started before the tracer, leaking after it is ready; the final
# report in $FINAL, the tracer's stderr in $ERR.
trace() {
	local node="$1"; shift
	(cd "$BATS_TEST_TMPDIR" && exec "$node" "$@" "${SCRIPT:-$JS}" 3000 8192 -w > "$BATS_TEST_TMPDIR/wl.out") &
	WL_PID=$!
	ERR="$BATS_TEST_TMPDIR/err"
	"$T" -p "$WL_PID" --malloc --json -n 50 > "$BATS_TEST_TMPDIR/report.json" 2> "$ERR" &
	TR_PID=$!
	wait_ready "$ERR" 60
	kill -USR2 "$WL_PID"
	wait_for 60 grep -q leaked "$BATS_TEST_TMPDIR/wl.out"
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_PID=""
	FINAL=$(grep '"final_report"' "$BATS_TEST_TMPDIR/report.json")
}

# The stacks through leakyHandler as named from V8's frames: its script
# is the workload's file, its line the function's first (10) or, where
# V8 had no position for it yet, null; together they hold the Buffers.
assert_named() {
	local js
	js=$(jq --arg f "$JS" '[.stacks[] | select([.frames[] | select(.kind == "js" and
		.symbol == "leakyHandler" and .file == $f)] | length > 0)]' <<< "$FINAL")
	[ "$(jq length <<< "$js")" -ge 1 ]
	jq -e '[.[].frames[] | select(.symbol == "leakyHandler") | .line] | all(. == 10 or . == 0)
		and any(. == 10)' <<< "$js"
	# The Buffers' memory, through node's ArrayBuffer allocator (V8's own
	# heap growth under the same function varies with GC timing).
	approx "$(jq '[.[] | select([.frames[].symbol // "" | test("NodeArrayBufferAllocator")] | any)
		| .bytes] | add' <<< "$js")" $((3000 * 8192)) 5
	# Nothing named from a perf map: there is none.
	[ ! -e "/tmp/perf-$WL_PID.map" ]
	! grep -q "note: pid $WL_PID runs" "$ERR"
}

@test "node 20 (system): leakyHandler named with its script and line, its Buffers' bytes" {
	command -v node > /dev/null || { echo "node missing: run scripts/deps.sh test" >&2; return 1; }
	trace "$(command -v node)"
	assert_named
	# The culprit is the JavaScript function, not node's allocator.
	[ "$(jq -r .culprit <<< "$FINAL")" = leakyHandler ]
	# The banner and --features say what is named.
	grep -q "^JavaScript: functions named from V8's frames, with their script and the line where each starts$" "$ERR"
	"$T" --features | grep -q "Node.js 18, 20, 22: function, script, start line"
}

@test "node 20: a function whose Buffers are freed is not named, the one that keeps them is" {
	command -v node > /dev/null || { echo "node missing: run scripts/deps.sh test" >&2; return 1; }
	SCRIPT="$ROOT/tests/workloads/leak_and_churn.js"
	trace "$(command -v node)" --expose-gc
	jq -e '[.stacks[].frames[] | select(.kind == "js" and .symbol == "churnHandler")] | length == 0' <<< "$FINAL"
	# leakyHandler starts on line 16 of that script.
	jq -e --arg f "$SCRIPT" '[.stacks[].frames[] | select(.kind == "js" and .symbol == "leakyHandler"
		and .file == $f and .line == 16)] | length > 0' <<< "$FINAL"
}

@test "node 18 (npm): leakyHandler named with its script and line, its Buffers' bytes" {
	npm_node 18
	trace "$NODE"
	assert_named
}

@test "node 22 (npm): leakyHandler named with its script and line, its Buffers' bytes" {
	npm_node 22
	trace "$NODE"
	assert_named
}

@test "node without v8dbg_* symbols: one note, JavaScript named from the perf map only" {
	command -v node > /dev/null || { echo "node missing: run scripts/deps.sh test" >&2; return 1; }
	cp "$(readlink -f "$(command -v node)")" "$BATS_TEST_TMPDIR/node"
	# A build without the constants: the one the walk starts from renamed
	# in the dynamic symbol table's strings.
	sed -i 's/v8dbg_off_fp_function/v8dbg_off_fp_xxxxxxxx/' "$BATS_TEST_TMPDIR/node"
	trace "$BATS_TEST_TMPDIR/node" --perf-basic-prof
	[ "$(grep -c "note: pid $WL_PID runs node: no v8dbg_off_fp_function symbol" "$ERR")" -eq 1 ]
	jq -e '[.stacks[].frames[] | select(.kind == "js")] | length == 0' <<< "$FINAL"
	jq -e '[.stacks[].frames[] | select(.module == "JIT" and (.symbol // "" | test("leakyHandler")))]
		| length > 0' <<< "$FINAL"
	rm -f "/tmp/perf-$WL_PID.map"
}
