#!/usr/bin/env bats
# memleak-trace against workloads whose leaks are known call site by call
# site and byte by byte.
load helpers

setup() {
	need_bpf
	T="$B/memleak-trace"
	PS=$(getconf PAGESIZE)
	WL_PID=""
	TR_PID=""
	OVL=""
}

teardown() {
	# A tracer stopped by its test is let go first.
	[ -n "$TR_PID" ] && kill -CONT "$TR_PID" 2>/dev/null && kill "$TR_PID" 2>/dev/null
	[ -n "$WL_PID" ] && kill "$WL_PID" 2>/dev/null
	cleanup_scratch
	wait 2>/dev/null
	[ -z "$OVL" ] || umount -l "$OVL"
	true
}

# trace_pid TRACER_ARGS... -- WORKLOAD ARGS...: start the workload held
# (-w), attach, release it, stop the tracer (SIGINT: final report) once the
# workload says it is done (its one line on stdout), and leave the final
# JSON report in $OUT. No time window: as slow a machine as need be. A
# leading number (the window of older callers) is ignored. WL_PRELOAD is
# preloaded into the workload alone (a sanitizer build of the tracer
# cannot share its process with another allocator).
trace_pid() {
	local targs=()
	[[ "$1" =~ ^[0-9]+$ ]] && shift
	while [ "$1" != "--" ]; do targs+=("$1"); shift; done
	shift
	env ${WL_PRELOAD:+"LD_PRELOAD=$WL_PRELOAD"} "$@" -w > "$BATS_TEST_TMPDIR/wl.out" &
	WL_PID=$!
	[ "$1" != "$NOTHP" ] || wait_exec "$WL_PID" "$2"
	OUT="$BATS_TEST_TMPDIR/report.json"
	ERR="$BATS_TEST_TMPDIR/tracer.err"
	"$T" -p "$WL_PID" --json "${targs[@]}" > "$OUT" 2> "$ERR" &
	TR_PID=$!
	wait_ready "$ERR" 60
	kill -USR1 "$WL_PID"
	wait_for 300 test -s "$BATS_TEST_TMPDIR/wl.out"
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_STATUS=$?
	TR_PID=""
	FINAL=$(grep '"final_report"' "$OUT")
}

top_field() { jq -r ".stacks[0].$1" <<<"$FINAL"; }
# Bytes of the stacks that pass through function $1.
by_fn() { jq --arg f "$1" '[.stacks[] | select([.frames[].symbol] | index($f)) | .bytes] | add' <<<"$FINAL"; }
frames_of_top() { jq -r '.stacks[0].frames[].symbol' <<<"$FINAL"; }

# bats test_tags=kernel
@test "C with frame pointers: leak_mapping named, bytes exact" {
	trace_pid -- "$W/leak_mmap" 40 64
	[ "$TR_STATUS" -eq 0 ]
	[ "$(top_field kind)" = anon ]
	[ "$(top_field culprit)" = leak_mapping ]
	frames_of_top | grep -qx main
	approx "$(top_field bytes)" $((40 * 64 * 1024)) 5
	[ "$(top_field allocations)" -eq 40 ]
	# Mapped and touched: resident.
	approx "$(top_field resident_bytes)" $((40 * 64 * 1024)) 5
}

# bats test_tags=kernel
@test "C built -O2 -fomit-frame-pointer: the caller is still named" {
	trace_pid -- "$W/leak_mmap-nofp" 40 64
	[ "$(top_field culprit)" = leak_mapping ]
	approx "$(top_field bytes)" $((40 * 64 * 1024)) 5
}

# The leak's call chain in leak_deep, innermost first, as the top stack's
# frames name it (other frames dropped, order kept).
DEEP_CHAIN="grab_region cache_insert handle_request serve main"
chain_of_top() {
	frames_of_top | grep -xE 'grab_region|cache_insert|handle_request|serve|main' | paste -sd' '
}

# bats test_tags=kernel
@test "-O2 -fomit-frame-pointer, 4 calls deep: DWARF unwinding names every caller down to main" {
	trace_pid -- "$W/leak_deep-nofp" 40 64
	[ "$TR_STATUS" -eq 0 ]
	[ "$(top_field culprit)" = grab_region ]
	[ "$(top_field unwound)" = dwarf ]
	[ "$(chain_of_top)" = "$DEEP_CHAIN" ]
	approx "$(top_field bytes)" $((40 * 64 * 1024)) 5
	[ "$(top_field allocations)" -eq 40 ]
	# The balanced scratch_buffer() mappings are not a stack of their own.
	[ "$(jq '[.stacks[] | select(.culprit == "scratch_buffer")] | length' <<<"$FINAL")" -eq 0 ]
}

@test "--stack-mode fp: the frame-pointer walk alone loses that chain" {
	trace_pid --stack-mode fp -- "$W/leak_deep-nofp" 40 64
	[ "$(top_field unwound)" = fp ]
	# The return address at sp still names the immediate caller...
	[ "$(top_field culprit)" = grab_region ]
	approx "$(top_field bytes)" $((40 * 64 * 1024)) 5
	# ...but not the callers above it.
	[ "$(chain_of_top)" != "$DEEP_CHAIN" ]
}

@test "-- CMD --folded: DWARF frames root first, from the command's first mapping" {
	run "$T" --folded -d 2 -- "$W/leak_deep-nofp" 20 64
	[ "$status" -eq 0 ]
	grep -E "(^|;)main;serve;handle_request;cache_insert;grab_region;.* $((20 * 64 * 1024))$" <<<"$output"
}

# bats test_tags=kernel
@test "static binary calling the mmap system call directly" {
	trace_pid -- "$W/leak_syscall-static" 30 128
	[ "$(top_field culprit)" = leak_raw ]
	approx "$(top_field bytes)" $((30 * 128 * 1024)) 5
}

# bats test_tags=kernel
@test "C++ leaking through new, with --malloc" {
	trace_pid --malloc -- "$W/leak_new" 2000 300
	[ "$(top_field kind)" = malloc ]
	[[ "$(top_field culprit)" == Cache::leak_entry* ]]
	approx "$(top_field bytes)" $((2000 * 300)) 5
	[ "$(top_field allocations)" -eq 2000 ]
	[ "$(jq -c .summary.allocators <<<"$FINAL")" = '["libc.so.6"]' ]
	# Unwound from the uprobe's registers through code without frame pointers.
	[ "$(top_field unwound)" = dwarf ]
	frames_of_top | grep -qx main
	# The balanced new/delete[] left nothing behind.
	[ "$(jq '[.stacks[] | select(.culprit != null and (.culprit | startswith("Cache::balanced")))] | length' <<<"$FINAL")" -eq 0 ]
}

# Built -O2 without frame pointers, leak_entry keeps `this` in rbp: the
# kernel's frame-pointer walk reads the object's counters as a return
# address, so every call is a new kernel-side stack. Still one call site.
@test "C++ -O2 -fomit-frame-pointer, 400 new[] from one method: one row, right headline (--malloc)" {
	trace_pid 3 --malloc -- "$W/leak_new-nofp" 400 1000
	[ "$TR_STATUS" -eq 0 ]
	local rows
	rows=$(jq '[.stacks[] | select(.culprit != null and (.culprit | startswith("Cache::leak_entry")))] | length' <<<"$FINAL")
	[ "$rows" -eq 1 ]
	[[ "$(top_field culprit)" == Cache::leak_entry* ]]
	[ "$(top_field bytes)" -eq $((400 * 1000)) ]
	[ "$(top_field allocations)" -eq 400 ]
	frames_of_top | grep -qx main
	# The headline names the whole call site.
	jq -r .verdict <<<"$FINAL" | grep -q "holds 391 KiB in 400 malloc allocations"
	[ "$(jq .summary.outstanding_allocations <<<"$FINAL")" -eq 400 ]
}

@test "C++ -O2 -fomit-frame-pointer --folded: the call site is one line" {
	"$W/leak_new-nofp" 400 1000 -w > "$BATS_TEST_TMPDIR/wl.out" &
	WL_PID=$!
	"$T" -p "$WL_PID" --malloc --folded > "$BATS_TEST_TMPDIR/f" 2> "$BATS_TEST_TMPDIR/e" &
	TR_PID=$!
	wait_ready "$BATS_TEST_TMPDIR/e" 60
	kill -USR1 "$WL_PID"
	wait_for 300 grep -q leaked "$BATS_TEST_TMPDIR/wl.out"
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_PID=""
	[ "$(grep -c 'Cache::leak_entry' "$BATS_TEST_TMPDIR/f")" -eq 1 ]
	grep -E "^_start;.*main;Cache::leak_entry[^;]*;operator new\[\][^;]* 400000$" "$BATS_TEST_TMPDIR/f"
}

@test "--malloc --sample 10: figures scaled to estimates of the whole, and marked so" {
	trace_pid 3 --malloc --sample 10 -- "$W/leak_malloc" 20000 200
	[ "$TR_STATUS" -eq 0 ]
	[ "$(top_field culprit)" = leak_record ]
	# One call in 10 traced, each standing for 10: near the 20000 x 200 B
	# leaked (the sample's spread is ~2%).
	approx "$(top_field bytes)" $((20000 * 200)) 15
	approx "$(top_field allocations)" 20000 15
	[ "$(top_field estimated)" = true ]
	[ "$(top_field allocations)" -eq $(($(top_field sampled_allocations) * 10)) ]
	[ "$(jq .summary.malloc_estimated <<<"$FINAL")" = true ]
	jq -r .verdict <<<"$FINAL" | grep -qE "holds ~[0-9.]+ MiB in ~[0-9]+ malloc allocations.*estimated"
}

@test "--malloc --sample 100: blocks of 100 pages and more are all traced, each for itself" {
	trace_pid 3 --malloc --sample 100 -- "$W/leak_malloc" 3 1048576
	[ "$TR_STATUS" -eq 0 ]
	[ "$(top_field culprit)" = leak_record ]
	# Drawn one call in 100, the three 1 MiB blocks would show as 0 or as
	# 100 MiB and more: drawn by size, all three are seen, as they are.
	[ "$(top_field bytes)" -eq $((3 * 1048576)) ]
	[ "$(top_field allocations)" -eq 3 ]
	[ "$(top_field sampled_allocations)" -eq 3 ]
}

# Debian's libjemalloc2 (scripts/deps.sh test), as redis-server links it.
jemalloc() {
	JE=$(ls /usr/lib/*-linux-gnu/libjemalloc.so.2 2>/dev/null | head -1)
	[ -n "$JE" ] || { echo "libjemalloc.so.2 missing: run scripts/deps.sh test" >&2; return 1; }
}

@test "--malloc -p on a process using jemalloc: its new/delete probed, the C++ leak named" {
	jemalloc
	trace_pid --malloc -- env LD_PRELOAD="$JE" "$W/leak_new" 2000 300
	[ "$TR_STATUS" -eq 0 ]
	grep -q "malloc probes on libjemalloc.so.2 (pid $WL_PID)" "$ERR"
	[ "$(jq -c .summary.allocators <<<"$FINAL")" = '["libjemalloc.so.2"]' ]
	[ "$(top_field kind)" = malloc ]
	[[ "$(top_field culprit)" == Cache::leak_entry* ]]
	approx "$(top_field bytes)" $((2000 * 300)) 5
	[ "$(top_field allocations)" -eq 2000 ]
	# jemalloc's delete[] does not call free: it is probed itself.
	[ "$(jq '[.stacks[] | select(.culprit != null and (.culprit | startswith("Cache::balanced")))] | length' <<<"$FINAL")" -eq 0 ]
}

@test "--malloc -- CMD preloading jemalloc: malloc leak named, calloc/realloc/free balanced" {
	# The test preloads jemalloc into the tool itself (it passes it on to the
	# command): an AddressSanitizer build cannot share its process with it.
	[ -z "${MEMSCOPE_SANITIZE:-}" ] || skip "jemalloc preloaded into a sanitizer build"
	jemalloc
	LD_PRELOAD="$JE" run "$T" --malloc --json -d 2 -- "$W/leak_malloc" 1500 200
	[ "$status" -eq 0 ]
	FINAL=$(grep '"final_report"' <<<"$output")
	grep -q "^malloc probes on libjemalloc.so.2 (pid " <<<"$output"
	[ "$(grep '"event":"ready"' <<<"$output" | jq -c .allocators)" = '["libjemalloc.so.2"]' ]
	# jemalloc's own arenas (mmap) may rank above it: pick the stack.
	local leak
	leak=$(jq -c '[.stacks[] | select(.culprit == "leak_record")] | .[0]' <<<"$FINAL")
	[ "$(jq -r .kind <<<"$leak")" = malloc ]
	approx "$(jq .bytes <<<"$leak")" $((1500 * 200)) 5
	[ "$(jq .allocations <<<"$leak")" -eq 1500 ]
	[ "$(jq '[.stacks[] | select(.culprit == "balanced_record")] | length' <<<"$FINAL")" -eq 0 ]
}

# Debian's redis-server (scripts/deps.sh test) on a loopback port of its
# own, with its own directory and no persistence; its pid in WL_PID.
start_redis() {
	command -v redis-server > /dev/null || { echo "redis-server missing: run scripts/deps.sh test" >&2; return 1; }
	RPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$BATS_TEST_TMPDIR/redis"
	redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$BATS_TEST_TMPDIR/redis" --save '' \
		--appendonly no > "$BATS_TEST_TMPDIR/redis/log" 2>&1 &
	WL_PID=$!
	wait_for 30 sh -c "redis-cli -p $RPORT ping 2>/dev/null | grep -q PONG"
}

@test "--malloc on Debian's redis-server: the culprit is zmalloc's caller, one dict entry per key" {
	start_redis
	local v i
	v=$(printf 'v%.0s' $(seq 100))
	for i in $(seq 3000); do echo "SET key:$i $v"; done > "$BATS_TEST_TMPDIR/cmds"
	OUT="$BATS_TEST_TMPDIR/report.json"
	"$T" -p "$WL_PID" --malloc --json -n 50 > "$OUT" 2> "$BATS_TEST_TMPDIR/err" &
	TR_PID=$!
	wait_ready "$BATS_TEST_TMPDIR/err" 60
	redis-cli -p "$RPORT" < "$BATS_TEST_TMPDIR/cmds" > /dev/null
	[ "$(redis-cli -p "$RPORT" dbsize)" -eq 3000 ]
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_PID=""
	FINAL=$(grep '"final_report"' "$OUT")
	# Frames pass through zmalloc, but no culprit is one of its wrappers.
	[ "$(jq '[.stacks[] | select([.frames[].symbol] | index("zmalloc"))] | length' <<<"$FINAL")" -gt 0 ]
	[ "$(jq '[.stacks[] | select(.culprit // "" | test("^_?z(try)?(malloc|calloc|realloc)"))] | length' <<<"$FINAL")" -eq 0 ]
	[[ "$(jq -r .culprit <<<"$FINAL")" != z* ]]
	# jemalloc's own mappings hold those blocks: in the summary, not ranked.
	[ "$(jq '[.stacks[] | select(.kind == "anon" and any(.frames[]; .module // "" | startswith("libjemalloc")))] | length' <<<"$FINAL")" -eq 0 ]
	jq -r .verdict <<<"$FINAL" | grep -vqE '^GROWING: (__GI___mmap64|__mmap|libjemalloc)'
	# Each new key's dict entry, named by the function that adds it.
	[ "$(jq '[.stacks[] | select(.culprit == "dictAddRaw") | .allocations] | add' <<<"$FINAL")" -eq 3000 ]
}

# Debian's php-cli: Zend MM maps 2 MiB chunks through static helpers
# (unnamed without debug symbols) under _emalloc & co, and PHP's shutdown
# frees them all before the exit.
# With --no-interp: the native rule, what a PHP version without a layout gets.
@test "PHP: the culprit is past Zend MM's wrapper and its unnamed helpers; held before the exit kept" {
	command -v php > /dev/null || { echo "php missing: run scripts/deps.sh test" >&2; return 1; }
	# Attached once it runs (a command traced from its start shares Zend
	# MM's first chunk's call site with the later ones: see Limits).
	mkfifo "$BATS_TEST_TMPDIR/go"
	php "$ROOT/tests/workloads/leak_strings.php" 100 300000 -w < "$BATS_TEST_TMPDIR/go" \
		> "$BATS_TEST_TMPDIR/wl.out" &
	WL_PID=$!
	exec 9> "$BATS_TEST_TMPDIR/go"
	"$T" -p "$WL_PID" --json --no-interp > "$BATS_TEST_TMPDIR/report.json" 2> "$BATS_TEST_TMPDIR/err" &
	TR_PID=$!
	wait_ready "$BATS_TEST_TMPDIR/err" 60
	echo go >&9
	exec 9>&-
	# The tracer ends by itself when PHP has exited.
	wait "$TR_PID"
	TR_STATUS=$?
	TR_PID=""
	[ "$TR_STATUS" -eq 0 ]
	FINAL=$(grep '"final_report"' "$BATS_TEST_TMPDIR/report.json")
	grep -q '^leaked$' "$BATS_TEST_TMPDIR/wl.out"
	jq -r .verdict <<<"$FINAL" | grep -q '^EXITED \[exit 0\] after releasing its memory'
	[ "$(jq '.before_exit[0].peak_bytes' <<<"$FINAL")" -ge $((100 * 300000)) ]
	# The culprit is the frame just past the outermost Zend MM wrapper.
	jq -c '.before_exit[0]' <<<"$FINAL" | python3 -c '
import json, re, sys
s = json.load(sys.stdin)
fr = s["frames"]
w = max(i for i, f in enumerate(fr) if re.match(r"_(safe_)?f?e(malloc|realloc|calloc)", f["symbol"] or ""))
f = fr[w + 1]
want = f["symbol"] or "%s+0x%x" % (f["module"], f["offset"])
sys.exit(0 if s["culprit"] == want else "culprit %s, want %s" % (s["culprit"], want))
'
	[ "$(jq -r .culprit <<<"$FINAL")" = "$(jq -r '.before_exit[0].culprit' <<<"$FINAL")" ]
}

# Node.js (scripts/deps.sh test) leaking Buffers from JavaScript; V8's
# code is anonymous executable memory. trace_node NODE_FLAGS...: the final
# JSON report in $FINAL, node's maps as it ended in $BATS_TEST_TMPDIR/maps.
trace_node() {
	command -v node > /dev/null || { echo "node missing: run scripts/deps.sh test" >&2; return 1; }
	# In the test's directory: V8 may write isolate-*.log files to the cwd.
	(cd "$BATS_TEST_TMPDIR" && exec node "$@" "$ROOT/tests/workloads/leak_buffers.js" 3000 8192 -w \
		> "$BATS_TEST_TMPDIR/wl.out") &
	WL_PID=$!
	OUT="$BATS_TEST_TMPDIR/report.json"
	"$T" -p "$WL_PID" --malloc --json -n 50 > "$OUT" 2> "$BATS_TEST_TMPDIR/err" &
	TR_PID=$!
	wait_ready "$BATS_TEST_TMPDIR/err" 60
	kill -USR2 "$WL_PID"
	wait_for 60 grep -q leaked "$BATS_TEST_TMPDIR/wl.out"
	cp "/proc/$WL_PID/maps" "$BATS_TEST_TMPDIR/maps"
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_PID=""
	FINAL=$(grep '"final_report"' "$OUT")
}

# Frames whose address lies in anonymous executable memory per node's maps,
# as "module symbol" lines (JavaScript frames read from V8's have none).
anon_exec_frames() {
	jq -r '.stacks[].frames[] | select(.address != null) | "\(.address) \(.module) \(.symbol)"' <<<"$FINAL" |
		python3 -c '
import sys
ranges = []
for l in open(sys.argv[1]):
    f = l.split()
    if "x" in f[1] and (len(f) < 6 or f[5].startswith("[anon")):
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        ranges.append((lo, hi))
for l in sys.stdin:
    addr, rest = l.split(" ", 1)
    if any(lo <= int(addr) < hi for lo, hi in ranges):
        print(rest, end="")
' "$BATS_TEST_TMPDIR/maps"
}

@test "Node.js with --perf-basic-prof: JIT frames labelled JIT and named from /tmp/perf-PID.map" {
	trace_node --perf-basic-prof --interpreted-frames-native-stack
	[ -s "/tmp/perf-$WL_PID.map" ]
	# The JavaScript function that leaks, named from the perf map, in JIT code.
	local js
	js=$(jq '[.stacks[] | select([.frames[] | select(.module == "JIT" and (.symbol // "" | test("leakyHandler .*leak_buffers.js")))] | length > 0)]' <<<"$FINAL")
	[ "$(jq length <<<"$js")" -ge 1 ]
	# Node's own allocation of those Buffers: 3000 x 8 KiB through its
	# ArrayBuffer allocator under it (V8's bookkeeping beside them varies
	# with JIT and GC timing, and is not what the comparison is about).
	local buffers
	buffers=$(jq '[.[] | select([.frames[].symbol // "" | test("NodeArrayBufferAllocator")] | any) | .bytes] | add' <<<"$js")
	approx "$buffers" $((3000 * 8192)) 10
	# Every frame in anonymous executable memory (per /proc/PID/maps) is JIT.
	anon_exec_frames > "$BATS_TEST_TMPDIR/jit"
	[ -s "$BATS_TEST_TMPDIR/jit" ]
	! grep -v '^JIT ' "$BATS_TEST_TMPDIR/jit"
	rm -f "/tmp/perf-$WL_PID.map"
}

@test "Node.js without a perf map: JIT frames still labelled JIT, by offset" {
	trace_node
	anon_exec_frames > "$BATS_TEST_TMPDIR/jit"
	[ -s "$BATS_TEST_TMPDIR/jit" ]
	[ "$(grep -vc '^JIT null$' "$BATS_TEST_TMPDIR/jit")" -eq 0 ]
	jq -r '.stacks[].frames[] | select(.module == "JIT") | .offset' <<<"$FINAL" | head -1 | grep -qE '^[0-9]+$'
}

@test "--malloc on a stripped static binary: says no allocator was found, traces mappings" {
	strip -o "$BATS_TEST_TMPDIR/stripped" "$W/leak_syscall-static"
	run "$T" --malloc -d 2 -- "$BATS_TEST_TMPDIR/stripped" 10 64
	[ "$status" -eq 0 ]
	[ "$(grep -c "no allocator found" <<<"$output")" -eq 1 ]
	# The mappings mode's report, named so: banner, summary and JSON.
	grep -q "^Tracing mappings of pid" <<<"$output"
	grep -q "mode: mappings (--malloc found no library or executable defining malloc" <<<"$output"
	# The leak's row, and the heap (ranked in this mode; --malloc hid it
	# behind malloc rows that could not exist and said "No leak").
	grep -q "^1 *640 KiB *10 .* anon " <<<"$output"
	grep -qE "^2 .* heap +stripped\+0x" <<<"$output"
	# (the command's own "leaked" line shares stdout with the JSON)
	"$T" --malloc --json -d 2 -- "$BATS_TEST_TMPDIR/stripped" 10 64 2>/dev/null | grep '^{' > "$BATS_TEST_TMPDIR/j"
	[ "$(jq -r 'select(.event == "ready") | .mode' "$BATS_TEST_TMPDIR/j")" = mappings ]
	[ "$(jq -r 'select(.event == "final_report") | .mode' "$BATS_TEST_TMPDIR/j")" = mappings ]
	[ "$(jq -c 'select(.event == "final_report") | .summary.allocators' "$BATS_TEST_TMPDIR/j")" = "[]" ]
}

# bats test_tags=kernel
@test "a workload that releases everything: no leak" {
	trace_pid --malloc -- "$W/free_all" 2000
	grep -q released "$BATS_TEST_TMPDIR/wl.out"
	[ "$(jq -r .growing <<<"$FINAL")" = false ]
	[ "$(jq '[.stacks[] | select(.kind == "anon" or .kind == "malloc")] | length' <<<"$FINAL")" -eq 0 ]
	# It did map and release: 2000 x 64 KiB went through.
	[ "$(jq .summary.mapped_bytes <<<"$FINAL")" -ge $((2000 * 64 * 1024)) ]
}

# bats test_tags=kernel
@test "partial munmap, mremap grow/shrink, MAP_FIXED, munmap across mappings" {
	trace_pid -n 50 -- "$W/mm_ops"
	[ "$(jq .summary.anon_bytes <<<"$FINAL")" -eq $((34 * PS)) ]
	# Per function (through the workload's map() helper):
	[ "$(by_fn grow_a)" -eq $((12 * PS)) ]
	[ "$(by_fn shrink_c)" -eq $((2 * PS)) ]
	[ "$(by_fn fixed_d)" -eq $((8 * PS)) ]
	[ "$(by_fn span_e)" -eq $((4 * PS)) ]
	# remap_b's 4 mapped pages moved with the mremap that doubled them, and
	# the 4 grown ones are the mremap caller's: remap_b again (libc's
	# mremap is not a leaf; DWARF unwinding finds its caller).
	[ "$(by_fn remap_b)" -eq $((8 * PS)) ]
}

@test "-- CMD: traced from its first instruction (smallest ring buffer)" {
	run "$T" --json -d 2 --ringbuf-mb 8 -- "$W/leak_mmap" 25 64
	[ "$status" -eq 0 ]
	FINAL=$(grep '"final_report"' <<<"$output")
	[ "$(top_field culprit)" = leak_mapping ]
	approx "$(top_field bytes)" $((25 * 64 * 1024)) 5
}

# bats test_tags=kernel
@test "-- CMD that exits by itself: final report, exit 0" {
	run "$T" --json -- "$W/leak_mmap" 25 64 -x
	[ "$status" -eq 0 ]
	FINAL=$(grep '"final_report"' <<<"$output")
	[ "$(jq -r .target_exited <<<"$FINAL")" = true ]
	approx "$(top_field bytes)" $((25 * 64 * 1024)) 5
}

# A worker recycled like PHP-FPM's at pm.max_requests: it unmaps all it
# cached in its shutdown, then exits by itself.
@test "-p on a worker that frees everything and exits: what it held before, and -c suggested" {
	"$W/recycle_worker" 50 256 -w > "$BATS_TEST_TMPDIR/wl.out" &
	WL_PID=$!
	"$T" -p "$WL_PID" --json > "$BATS_TEST_TMPDIR/report.json" 2> "$BATS_TEST_TMPDIR/err" &
	TR_PID=$!
	wait_ready "$BATS_TEST_TMPDIR/err" 60
	kill -USR1 "$WL_PID"
	# The tracer ends by itself when the worker has exited.
	wait "$TR_PID"
	TR_STATUS=$?
	TR_PID=""
	FINAL=$(grep '"final_report"' "$BATS_TEST_TMPDIR/report.json")
	[ "$TR_STATUS" -eq 0 ]
	grep -q recycling "$BATS_TEST_TMPDIR/wl.out"
	[ "$(jq -r .target_exited <<<"$FINAL")" = true ]
	# Nothing outstanding at the exit, all of it mapped then released...
	[ "$(jq .summary.outstanding_bytes <<<"$FINAL")" -eq 0 ]
	[ "$(jq .summary.released_bytes <<<"$FINAL")" -eq $((50 * 256 * 1024)) ]
	# ...but the leak is reported: the stack at its peak.
	[ "$(jq -r '.before_exit[0].culprit' <<<"$FINAL")" = cache_request ]
	[ "$(jq '.before_exit[0].peak_bytes' <<<"$FINAL")" -eq $((50 * 256 * 1024)) ]
	[ "$(jq -r .culprit <<<"$FINAL")" = cache_request ]
	jq -r .verdict <<<"$FINAL" | grep -q "^EXITED .*cache_request .* held 12.5 MiB"
	jq -r .hint <<<"$FINAL" | grep -q "pm.max_requests.* -c CGROUP"
}

@test "-p on a worker that exits holding memory: kept, and said in the text with its exit status" {
	"$W/leak_mmap" 30 64 -w -x > /dev/null &
	WL_PID=$!
	"$T" -p "$WL_PID" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	TR_PID=$!
	wait_ready "$BATS_TEST_TMPDIR/err" 60
	kill -USR1 "$WL_PID"
	wait "$TR_PID"
	TR_PID=""
	head -1 "$BATS_TEST_TMPDIR/out" | grep -q "^EXITED \[exit 0\] holding .*: leak_mapping .* held 1.88 MiB in 30 anon allocations when the process exited"
	grep -q "trace the pool with -c CGROUP" "$BATS_TEST_TMPDIR/out"
}

# bats test_tags=kernel
@test "target killed mid-run: final report, how it ended, exit 0" {
	"$W/leak_mmap" 10 64 > /dev/null &
	WL_PID=$!
	"$T" -p "$WL_PID" -d 30 > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	TR_PID=$!
	wait_ready "$BATS_TEST_TMPDIR/err" 60
	kill -9 "$WL_PID"
	wait "$TR_PID"
	status=$?
	TR_PID=""
	[ "$status" -eq 0 ]
	grep -q "final report" "$BATS_TEST_TMPDIR/out"
	grep -qF "process has exited [signal 9 (SIGKILL)]" "$BATS_TEST_TMPDIR/out"
}

@test "JSON: exact time and integer rates; the culprit the verdict names, also without symbols" {
	strip -o "$BATS_TEST_TMPDIR/leakmap-stripped" "$B/demo/leakmap"
	"$BATS_TEST_TMPDIR/leakmap-stripped" 60 > /dev/null &
	WL_PID=$!
	local before after
	before=$(date +%s.%N)
	run "$T" -p "$WL_PID" -d 3 --json
	after=$(date +%s.%N)
	[ "$status" -eq 0 ]
	FINAL=$(grep '"final_report"' <<<"$output")
	# No %g: digits only, and between the clock before and after the run.
	grep -qE '"time":[0-9]{10}\.[0-9]+,' <<<"$FINAL"
	awk -v t="$(jq .time <<<"$FINAL")" -v a="$before" -v b="$after" 'BEGIN { exit !(t >= a && t <= b) }'
	grep -qE '"growth_bytes_per_s":[0-9]+,' <<<"$FINAL"
	! grep -qE '[0-9]e[+-][0-9]' <<<"$FINAL"
	# No symbols: the text names module+offset, and so does the JSON.
	local c
	c=$(jq -r .culprit <<<"$FINAL")
	[[ "$c" == leakmap-stripped+0x* ]]
	[ "$(top_field culprit)" = "$c" ]
	[[ "$(jq -r .verdict <<<"$FINAL")" == "GROWING: $c holds "* ]]
}

@test "pid that does not exist: one clear line, exit 1" {
	run "$T" -p 4194000
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"no process with pid 4194000"* ]]
}

# The tracer sleeps in the test hook's delay, between its check of the pid
# and the attach; the kernel shows where a task sleeps in its wchan.
in_nanosleep() { [[ "$(cat "/proc/$1/wchan" 2>/dev/null)" == *nanosleep* ]]; }

@test "pid that exits between the check and the attach" {
	sleep 1000 &
	local p=$! out="$BATS_TEST_TMPDIR/out"
	MEMLEAK_TEST_ATTACH_DELAY_MS=3000 "$T" -p "$p" > "$out" 2>&1 &
	TR_PID=$!
	wait_for 60 in_nanosleep "$TR_PID"
	kill "$p"
	wait "$p" || true
	status=0; wait "$TR_PID" || status=$?
	TR_PID=""
	[ "$status" -eq 1 ]
	grep -q "exited before tracing started" "$out"
}

@test "--folded: stacks weighted by bytes, root first" {
	"$W/leak_mmap" 8 64 -w > /dev/null &
	WL_PID=$!
	"$T" -p "$WL_PID" -d 2 --folded > "$BATS_TEST_TMPDIR/f" 2> "$BATS_TEST_TMPDIR/e" &
	TR_PID=$!
	wait_ready "$BATS_TEST_TMPDIR/e"
	kill -USR1 "$WL_PID"
	wait "$TR_PID"
	TR_PID=""
	grep -E "main;leak_mapping;.* $((8 * 64 * 1024))$" "$BATS_TEST_TMPDIR/f"
}

# bats test_tags=kernel
@test "-c: every process of a memory cgroup, reported by pid with its leak" {
	need_memcg
	local cg out="$BATS_TEST_TMPDIR/cg.json" err="$BATS_TEST_TMPDIR/cg.err" p1 p2
	cg=$(scratch_memcg leak)
	# One process there before the tracer (held until SIGUSR1), one started after.
	run_in_cgroup "$cg" "$W/leak_mmap" 30 64 -w
	p1=$BG_PID
	wait_for 5 grep -qx "$p1" "$cg/cgroup.procs"
	"$T" -c "$cg" -d 4 --json > "$out" 2> "$err" &
	TR_PID=$!
	wait_ready "$err"
	grep -q '"processes":1' "$out"
	kill -USR1 "$p1"
	run_in_cgroup "$cg" "$W/leak_deep-nofp" 20 128
	p2=$BG_PID
	wait "$TR_PID"
	TR_STATUS=$?
	TR_PID=""
	cleanup_scratch
	[ "$TR_STATUS" -eq 0 ]
	FINAL=$(grep '"final_report"' "$out" | jq -c --argjson p "$p1" 'select(.pid == $p)')
	[ "$(top_field culprit)" = leak_mapping ]
	approx "$(top_field bytes)" $((30 * 64 * 1024)) 5
	[ "$(jq -r .cgroup <<<"$FINAL")" = "/$(basename "$cg")" ]
	# Its own unwinder: the whole chain of the no-frame-pointer program.
	FINAL=$(grep '"final_report"' "$out" | jq -c --argjson p "$p2" 'select(.pid == $p)')
	[ "$(top_field culprit)" = grab_region ]
	[ "$(chain_of_top)" = "$DEEP_CHAIN" ]
	approx "$(top_field bytes)" $((20 * 128 * 1024)) 5
	# Nobody else: only the cgroup's two processes are reported.
	[ "$(grep -c '"final_report"' "$out")" -eq 2 ]
}

# ended_report PID: the final report of an exited process of -c's output.
ended_report() { grep '"final_report"' "$1" | jq -c --argjson p "$2" 'select(.pid == $p)'; }

# bats test_tags=kernel
@test "-c through an OOM kill: each exited process kept with what it held and how it ended" {
	need_memcg
	local cg out="$BATS_TEST_TMPDIR/end.json" err="$BATS_TEST_TMPDIR/end.err" p1 p2 p3 s1=0 s2=0 s3=0 n
	local M=$((1024 * 1024))
	cg=$(scratch_memcg ending 48M)
	"$T" -c "$cg" -i 1 --json > "$out" 2> "$err" &
	TR_PID=$!
	wait_ready "$err"
	# A process is released (SIGUSR1) once a report counts it: the tracer
	# has read its mappings, for symbols, while it was there to read.
	seen() { grep '"cgroup_report"' "$out" | tail -1 | jq -e ".processes_seen == $1" >/dev/null; }
	# One that exits with a status, one killed by a signal, one OOM-killed.
	run_in_cgroup "$cg" "$W/leak_mmap" 4 64 -w -e 3
	p1=$BG_PID
	wait_for 60 seen 1
	kill -USR1 "$p1"
	wait "$p1" || s1=$?
	run_in_cgroup "$cg" "$W/leak_mmap" 4 64 -w > "$BATS_TEST_TMPDIR/p2.out"
	p2=$BG_PID
	wait_for 60 seen 2
	kill -USR1 "$p2"
	wait_for 60 grep -q leaked "$BATS_TEST_TMPDIR/p2.out"
	kill -KILL "$p2"
	wait "$p2" || s2=$?
	run_in_cgroup "$cg" "$W/leak_mmap" 1000 1024 -w -v > "$BATS_TEST_TMPDIR/p3.out"
	p3=$BG_PID
	wait_for 60 seen 3
	kill -USR1 "$p3"
	wait "$p3" || s3=$?
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_STATUS=$?
	TR_PID=""
	[ "$TR_STATUS" -eq 0 ]
	[ "$s1" -eq 3 ] && [ "$s2" -eq 137 ] && [ "$s3" -eq 137 ]
	# The kernel's count: one OOM kill, the tracer saw the same.
	[ "$(memcg_oom_kills "$cg")" -eq 1 ]
	jq -e 'select(.event == "cgroup_final_report") | .oom_kills == 1 and .processes_exited == 3
		and .processes_exited_kept == 3' "$out"
	# The OOM-killed leaker: what it held at the kill, as far as it said
	# it got (N mappings done, the N+1th maybe being filled).
	n=$(awk '/^mapped/ { n = $2 } END { print n }' "$BATS_TEST_TMPDIR/p3.out")
	[ "$n" -ge 8 ]
	FINAL=$(ended_report "$out" "$p3")
	jq -e '.target_exited and .ending.kind == "oom_kill" and .ending.signal == 9
		and .ending.signal_name == "SIGKILL" and .ending.status == null' <<<"$FINAL"
	[ "$(top_field culprit)" = leak_mapping ]
	[ "$(top_field bytes)" -ge $((n * M)) ] && [ "$(top_field bytes)" -le $(((n + 1) * M)) ]
	[[ "$(jq -r .verdict <<<"$FINAL")" == "EXITED [OOM kill] holding "*": leak_mapping "* ]]
	# The one that exited 3 and the one killed by SIGKILL, not the OOM killer.
	FINAL=$(ended_report "$out" "$p1")
	jq -e '.ending == {"kind": "exit", "signal": null, "signal_name": null, "status": 3}' <<<"$FINAL"
	[ "$(top_field culprit)" = leak_mapping ] && [ "$(top_field bytes)" -eq $((4 * 64 * 1024)) ]
	FINAL=$(ended_report "$out" "$p2")
	jq -e '.ending == {"kind": "signal", "signal": 9, "signal_name": "SIGKILL", "status": null}' <<<"$FINAL"
	[ "$(top_field culprit)" = leak_mapping ] && [ "$(top_field bytes)" -eq $((4 * 64 * 1024)) ]
}

@test "--ringbuf-mb not a power of 2 or too small: one clear line, exit 1" {
	run "$T" -p $$ --ringbuf-mb 24
	[ "$status" -eq 1 ]
	[[ "$output" == *"--ringbuf-mb must be a power of 2"* ]]
	run "$T" -p $$ --ringbuf-mb 4
	[ "$status" -eq 1 ]
	[[ "$output" == *"--ringbuf-mb"* ]]
}

@test "--stack-mode with a bad value: one clear line, exit 1" {
	run "$T" -p $$ --stack-mode frames
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid --stack-mode 'frames'"* ]]
}

@test "-c with a cgroup that does not exist: one clear line, exit 1" {
	run "$T" -c /sys/fs/cgroup/memory/memscope-no-such-cgroup
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"no cgroup"* ]]
}

# --pprof: `go tool pprof` (Debian's golang-go) reads the profile offline,
# with its caches in the test's own directory.
pprof_run() {
	HOME="$BATS_TEST_TMPDIR" GOCACHE="$BATS_TEST_TMPDIR/gocache" GOPATH="$BATS_TEST_TMPDIR/gopath" \
		GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod \
		go tool pprof "$@"
}
pprof_top() { pprof_run -top "$@"; }
# The flat bytes pprof -top gives function $2 in profile $1 (extra args after).
pprof_flat() {
	local f=$1 fn=$2
	shift 2
	pprof_top -unit=B "$@" "$f" | awk -v fn="$fn" '$6 == fn { sub(/B$/, "", $1); print $1 }'
}
# The JSON bytes of the stack whose culprit is $1.
culprit_bytes() { jq --arg f "$1" '[.stacks[] | select(.culprit == $f) | .bytes] | add' <<<"$FINAL"; }

@test "--pprof (mappings): go tool pprof -top names leak_mapping with the JSON's bytes, and the churn as alloc_space only" {
	command -v go > /dev/null || { echo "go missing: run scripts/deps.sh test" >&2; return 1; }
	P="$BATS_TEST_TMPDIR/heap.pb.gz"
	trace_pid --pprof "$P" -- "$W/leak_mmap" 40 64
	[ "$TR_STATUS" -eq 0 ]
	[ "$(culprit_bytes leak_mapping)" -eq $((40 * 64 * 1024)) ]
	# gzip, then a profile pprof reads: inuse_space is the default.
	[ "$(head -c2 "$P" | od -An -tx1 | tr -d ' ')" = 1f8b ]
	pprof_top "$P" | grep -q '^Type: inuse_space'
	[ "$(pprof_flat "$P" leak_mapping)" -eq "$(culprit_bytes leak_mapping)" ]
	# 40 allocations in use (the unit is not bytes: no B suffix).
	pprof_top -sample_index=inuse_objects "$P" | awk '$6 == "leak_mapping" { print $1 }' | grep -qx 40
	pprof_top -unit=B -sample_index=alloc_space "$P" | awk '$6 == "churn"' | grep -q "^ *$((40 * 64 * 1024))B"
	[ -z "$(pprof_flat "$P" churn)" ] || [ "$(pprof_flat "$P" churn)" -eq 0 ]
	# Mappings carry the binary's path and build id for further symbolization.
	id=$(readelf -n "$W/leak_mmap" | awk '/Build ID/ { print $3 }')
	pprof_run -raw "$P" | grep -q "leak_mmap $id"
}

@test "--pprof --malloc: the malloc leak named by pprof with the bytes leaked" {
	command -v go > /dev/null || { echo "go missing: run scripts/deps.sh test" >&2; return 1; }
	P="$BATS_TEST_TMPDIR/malloc.pb.gz"
	trace_pid 3 --malloc --pprof "$P" -- "$W/leak_malloc" 2000 200
	[ "$TR_STATUS" -eq 0 ]
	[ "$(culprit_bytes leak_record)" -eq $((2000 * 200)) ]
	[ "$(pprof_flat "$P" leak_record)" -eq $((2000 * 200)) ]
	# What it allocated and freed again is alloc_space only (calloc'ed
	# and realloc'ed to twice the size: at least 2000 * 200 bytes).
	[ -z "$(pprof_flat "$P" balanced_record)" ]
	[ "$(pprof_flat "$P" balanced_record -sample_index=alloc_space)" -ge $((2000 * 200)) ]
	pprof_top "$P" | grep -q 'memleak-trace --malloc'
}

@test "--pprof FILE that cannot be written: one error line, exit 1, nothing traced" {
	run "$T" -p $$ --pprof /nonexistent-dir/x.pb.gz
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	grep -q 'cannot write the pprof profile /nonexistent-dir/x.pb.gz: No such file or directory' <<<"$output"
}

# --faults: resident growth, counted at the page faults that first touch
# anonymous memory. Bytes of the rows whose culprit is $1.
fault_pages() { jq --arg f "$1" '[.stacks[] | select(.culprit == $f) | .bytes] | add // 0' <<<"$FINAL"; }
# The tests that count small pages exactly run their workload under
# $NOTHP (PR_SET_THP_DISABLE): with THP "always" (Debian's kernel) a first
# touch can bring a 2 MiB huge page, and touches inside it never fault.
NOTHP="$W/nothp"
# Wait until PID runs PROG (nothp has exec'd it) before signalling it.
# (The readlink of /proc runs at each try: as wait_for's own arguments it
# was read once, before the exec, and the wait could only time out.)
wait_exec() { wait_for 60 sh -c "[ \"\$(readlink /proc/$1/exe)\" = '$(readlink -f "$2")' ]"; }

# Where the kernel has no bpf_find_vma (before 5.17) --faults is refused in
# one line, exit 1, before anything is loaded: true when it was (the test
# then ends there), false where the kernel has the helper.
faults_refused_here() {
	kernel_has bpf_find_vma && return 1
	run "$T" --faults -d 1 -- true
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "memleak-trace: --faults needs the bpf_find_vma helper (Linux 5.17 or later)"* ]]
}

# bats test_tags=kernel
@test "--faults, C: leak_mapping's pages first touched, exact; mapped but untouched churn is not growth" {
	if faults_refused_here; then return 0; fi
	trace_pid --faults -n 50 -- "$NOTHP" "$W/leak_mmap" 40 64
	[ "$TR_STATUS" -eq 0 ]
	[ "$(jq -r .mode <<<"$FINAL")" = faults ]
	[ "$(top_field culprit)" = leak_mapping ]
	[ "$(top_field bytes)" -eq $((40 * 64 * 1024)) ]
	[ "$(top_field allocations)" -eq $((40 * 64 * 1024 / PS)) ]
	[ "$(top_field resident_bytes)" -eq $((40 * 64 * 1024)) ]
	[ "$(fault_pages churn)" -eq 0 ]
	# Whether it still grows at the end depends on when the report comes:
	# the verdict names it either way, in pages.
	jq -r .verdict <<<"$FINAL" | grep -qE "(^GROWING: leak_mapping \(leak_mmap.c:[0-9]*\) holds 2.50 MiB in 640 anon pages first touched|^Nothing grows: )"
}

@test "--faults, C++ new built -O2 without frame pointers: Cache::leak_entry named, within one page of its blocks" {
	trace_pid --faults -n 50 -- "$NOTHP" "$W/leak_new-nofp" 400 1000
	[ "$(top_field culprit)" = 'Cache::leak_entry(unsigned long) [clone .isra.0]' ]
	# glibc's chunk for new char[1000]: 1008 bytes.
	got=$(fault_pages 'Cache::leak_entry(unsigned long) [clone .isra.0]')
	[ $((got - 400 * 1008)) -le "$PS" ] && [ $((400 * 1008 - got)) -le "$PS" ]
}

@test "--faults with jemalloc preloaded: the C++ leak's pages, the size class's bytes within one page" {
	jemalloc
	WL_PRELOAD="$JE" trace_pid --faults -n 50 -- "$NOTHP" "$W/leak_new-nofp" 400 1000
	# What it saw, shown if the test fails.
	jq -c '.stacks[] | [.kind, .bytes, .culprit, [.frames[] | .symbol // "\(.module)+\(.offset)"]]' <<<"$FINAL"
	[ "$(top_field culprit)" = 'Cache::leak_entry(unsigned long) [clone .isra.0]' ]
	[ "$(top_field kind)" = anon ]
	# jemalloc's size class for 1000 bytes: 1024, in slabs of their own.
	got=$(top_field bytes)
	[ $((got - 400 * 1024)) -le "$PS" ] && [ $((400 * 1024 - got)) -le "$PS" ]
}

# bats test_tags=kernel
@test "--faults: madvise DONTNEED/FREE, mremap and a shrinking break give pages back; a malloc/free loop does not grow" {
	if faults_refused_here; then return 0; fi
	trace_pid --faults -n 50 -- "$NOTHP" "$W/giveback"
	[ "$TR_STATUS" -eq 0 ]
	# 64 touched, 32 DONTNEED, 16 FREE; 4 touched again by another stack.
	[ "$(fault_pages touch_pages)" -eq $((16 * PS)) ]
	[ "$(fault_pages retouch)" -eq $((4 * PS)) ]
	# Moved by mremap with their stack; the grown part never touched.
	[ "$(fault_pages move_me)" -eq $((8 * PS)) ]
	# 16 heap pages touched, the break lowered by 8.
	[ "$(jq -r '[.stacks[] | select(.culprit == "heap_grow") | .kind] | unique | join(",")' <<<"$FINAL")" = heap ]
	[ "$(fault_pages heap_grow)" -eq $((8 * PS)) ]
	# 100000 malloc/free of 1000 bytes reuse one block: a page or two.
	[ "$(fault_pages steady_loop)" -le $((2 * PS)) ]
	[ "$(jq .summary.released_bytes <<<"$FINAL")" -ge $((56 * PS)) ]
}

@test "--faults under transparent huge pages: a fault that brings a huge page counts its 2 MiB, as smaps' AnonHugePages shows; the one resident before the trace is said to be unseen" {
	mode=$(grep -o '\[[a-z]*\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null | tr -d '[]')
	case "$mode" in always|madvise) ;; *) skip "transparent huge pages are ${mode:-not built in} here" ;; esac
	trace_pid --faults -n 50 -- "$W/leak_huge" 3
	[ "$TR_STATUS" -eq 0 ]
	[ "$(jq -r .summary.thp_mode <<<"$FINAL")" = "$mode" ]
	# The kernel's count of the mapping's huge pages: the block touched
	# before the trace and those leak_huge() brought in.
	addr=$(awk '{ print $4 }' "$BATS_TEST_TMPDIR/wl.out")
	huge=$(awk -v a="${addr#0x}-" 'index($0, a) == 1 { on = 1; next }
		on && /^[0-9a-f]+-[0-9a-f]+ / { exit } on && /^AnonHugePages:/ { print $2 * 1024 }' "/proc/$WL_PID/smaps")
	echo "AnonHugePages of the mapping: $huge; summary: $(jq -c .summary <<<"$FINAL")"
	[ "$huge" -ge $((2 * 1024 * 1024)) ]
	# leak_huge() touched 3 x 2 MiB, counted exactly whether each came as a
	# huge page (one fault) or as 512 small ones.
	[ "$(top_field culprit)" = leak_huge ]
	[ "$(fault_pages leak_huge)" -eq $((3 * 2 * 1024 * 1024)) ]
	# Every huge page it counted is one the kernel shows, besides the one
	# from before the trace, which no fault could see.
	hb=$(jq .summary.huge_page_bytes <<<"$FINAL")
	[ "$(jq .summary.huge_page_faults <<<"$FINAL")" -eq $((hb / (2 * 1024 * 1024))) ]
	[ "$hb" -eq $((huge - 2 * 1024 * 1024)) ]
	[ "$(jq .summary.huge_page_unknown <<<"$FINAL")" -eq 0 ]
	[ "$(jq .summary.huge_pages_unseen <<<"$FINAL")" = true ]
	[ "$(jq .summary.anon_huge_bytes <<<"$FINAL")" -ge "$huge" ]
	# RssAnon grew by what the faults counted (and a few pages of stdio).
	g=$(jq .summary.rss_anon_growth_bytes <<<"$FINAL")
	[ "$g" -ge $((3 * 2 * 1024 * 1024)) ] && [ "$g" -le $((3 * 2 * 1024 * 1024 + 64 * PS)) ]
}

@test "--faults --pprof: go tool pprof names the culprit with the pages' bytes; --faults with --malloc is refused" {
	command -v go > /dev/null || { echo "go missing: run scripts/deps.sh test" >&2; return 1; }
	P="$BATS_TEST_TMPDIR/faults.pb.gz"
	trace_pid --faults --pprof "$P" -- "$NOTHP" "$W/leak_mmap" 40 64
	[ "$(pprof_flat "$P" leak_mapping)" -eq $((40 * 64 * 1024)) ]
	pprof_top "$P" | grep -q 'memleak-trace --faults: pages first touched'
	run "$T" --faults --malloc -p $$
	[ "$status" -ne 0 ]
	grep -q -- '--faults and --malloc count different things' <<<"$output"
}

@test "--faults, table: the unit line, the PAGES column and the summary in pages" {
	"$NOTHP" "$W/leak_mmap" 10 64 -w > "$BATS_TEST_TMPDIR/wl.out" &
	WL_PID=$!
	wait_exec "$WL_PID" "$W/leak_mmap"
	"$T" -p "$WL_PID" --faults > "$BATS_TEST_TMPDIR/table" 2> "$BATS_TEST_TMPDIR/err" &
	TR_PID=$!
	wait_ready "$BATS_TEST_TMPDIR/err" 60
	grep -q "^Tracing page faults (resident growth) of pid $WL_PID" "$BATS_TEST_TMPDIR/err"
	kill -USR1 "$WL_PID"
	wait_for 300 test -s "$BATS_TEST_TMPDIR/wl.out"
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_PID=""
	grep -q '^unit: pages first touched (page faults) and not given back since' "$BATS_TEST_TMPDIR/table"
	grep -qE '^#  +BYTES +PAGES +OLDEST' "$BATS_TEST_TMPDIR/table"
	grep -qE '^1 +640 KiB +160 .* anon +leak_mapping' "$BATS_TEST_TMPDIR/table"
	grep -q '^summary: outstanding .* pages first touched' "$BATS_TEST_TMPDIR/table"
	# THP off for it: no huge page, and RssAnon's growth beside the faults.
	grep -qE '^ +huge pages: 0 of [0-9]+ first touches brought a 2 MiB transparent huge page' "$BATS_TEST_TMPDIR/table"
	grep -qE '^ +RssAnon \+[0-9.]+ [KM]iB while traced; first touched and kept [0-9.]+ [KM]iB' "$BATS_TEST_TMPDIR/table"
}

# Two callers of one wrapper in a library built -O2 -fomit-frame-pointer
# (two_paths, lib/xwrap.c): path_a frees all it gets, path_b leaks. Every
# word of the call-site key is the same for both. The warm-up runs each
# path once (balanced); the run starts once a report says a key was found
# to merge stacks (the verify snapshots' doing), so the leak is recorded
# under keys refined by then.
merged_reported() {
	local last
	last=$(grep '"event": *"report"' "$1" | tail -1)
	# (jq -e is content with no input at all: check there is a report.)
	[ -n "$last" ] && jq -e '.summary.merged_call_sites >= 1' <<<"$last" >/dev/null
}

# two_paths_check MODE N BLOCK: the final report names path_b for exactly
# N blocks of BLOCK bytes, nothing is held through path_a, and the
# warm-up's events kept under the merged key hold nothing.
two_paths_check() {
	local n="$2" size="$3" rows
	rows=$(jq -c '[.stacks[] | select([.frames[].symbol] | index("path_b"))]' <<<"$FINAL")
	[ "$(jq length <<<"$rows")" -eq 1 ]
	[ "$(jq '.[0].allocations' <<<"$rows")" -eq "$n" ]
	[ "$(jq '.[0].bytes' <<<"$rows")" -eq $((n * size)) ]
	[ "$(jq '[.stacks[] | select([.frames[].symbol] | index("path_a"))] | length' <<<"$FINAL")" -eq 0 ]
	jq -e '.summary.merged_call_sites >= 1 and .summary.call_site_mismatches >= 1 and
		.summary.merged_events == 0 and .summary.merged_bytes == 0 and
		.summary.call_site_verification == "sampled"' <<<"$FINAL"
}

# two_paths_pid MODE N TRACER_ARGS...: -p on the held workload.
two_paths_pid() {
	local mode="$1" n="$2"; shift 2
	"$W/two_paths" "$mode" "$n" -w > "$BATS_TEST_TMPDIR/wl.out" &
	WL_PID=$!
	OUT="$BATS_TEST_TMPDIR/report.json"
	"$T" -p "$WL_PID" --json -i 1 "$@" > "$OUT" 2> "$BATS_TEST_TMPDIR/tracer.err" &
	TR_PID=$!
	wait_ready "$BATS_TEST_TMPDIR/tracer.err" 60
	kill -USR1 "$WL_PID"
	wait_for 120 grep -q warm "$BATS_TEST_TMPDIR/wl.out"
	wait_for 120 merged_reported "$OUT"
	kill -USR2 "$WL_PID"
	wait_for 120 grep -q leaked "$BATS_TEST_TMPDIR/wl.out"
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_PID=""
	FINAL=$(grep '"final_report"' "$OUT")
}

@test "--malloc -p: callers of one wrapper in a library without frame pointers get their own stacks" {
	two_paths_pid malloc 100 --malloc
	two_paths_check malloc 100 4096
}

@test "mappings -p: callers of one mmap wrapper in a library without frame pointers get their own stacks" {
	two_paths_pid mmap 50
	two_paths_check mmap 50 $((64 * 1024))
}

@test "--malloc -- CMD: callers of one wrapper get their own stacks from the command's start" {
	OUT="$BATS_TEST_TMPDIR/report.json"
	"$T" --malloc --json -i 1 -- "$W/two_paths" malloc 100 > "$OUT" 2> "$BATS_TEST_TMPDIR/tracer.err" &
	TR_PID=$!
	wait_for 120 grep -q '^warm ' "$OUT"
	WL_PID=$(awk '/^warm / { print $2 }' "$OUT")
	wait_for 120 merged_reported "$OUT"
	kill -USR2 "$WL_PID"
	wait_for 120 grep -q '^leaked' "$OUT"
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_PID=""
	FINAL=$(grep '"final_report"' "$OUT")
	two_paths_check malloc 100 4096
}

@test "--stack-mode fp: call sites are said not to be verified" {
	trace_pid --stack-mode fp -- "$W/leak_mmap" 4 64
	jq -e '.summary.call_site_verification == "not verified" and .summary.call_site_verifies == 0' <<<"$FINAL"
}

# Culprits: the program's own code, whatever the binary keeps of its names.

# launch_stdin MARK TRACER_ARGS... -- CMD...: trace CMD from its first
# instruction with the lines on launch_stdin's stdin as CMD's input, until
# CMD prints MARK; then the final report (SIGINT) in $FINAL while CMD is
# still alive (its binaries still readable), and CMD's input closed.
launch_stdin() {
	local mark=$1
	shift
	mkfifo "$BATS_TEST_TMPDIR/in"
	OUT="$BATS_TEST_TMPDIR/report.json"
	"$T" --json "$@" < "$BATS_TEST_TMPDIR/in" > "$OUT" 2> "$BATS_TEST_TMPDIR/tracer.err" &
	TR_PID=$!
	# Its own descriptor: bats writes its results to 3.
	exec {IN_FD}> "$BATS_TEST_TMPDIR/in"
	cat >&"$IN_FD"
	wait_for 300 grep -q "$mark" "$OUT"
	kill -INT "$TR_PID"
	wait "$TR_PID"
	TR_STATUS=$?
	TR_PID=""
	exec {IN_FD}>&-
	FINAL=$(grep '"final_report"' "$OUT")
}

@test "stripped C program: the culprit is its innermost own frame as module+0xOFFSET, which addr2line puts in the leaking function" {
	strip -o "$BATS_TEST_TMPDIR/leak_mmap-stripped" "$W/leak_mmap"
	trace_pid -- "$BATS_TEST_TMPDIR/leak_mmap-stripped" 40 64
	[ "$TR_STATUS" -eq 0 ]
	local c
	c=$(top_field culprit)
	[[ "$c" == leak_mmap-stripped+0x* ]]
	[ "$(addr2line -f -e "$W/leak_mmap" "${c#*+}" | head -1)" = leak_mapping ]
	[ "$(jq -r .culprit <<<"$FINAL")" = "$c" ]
	approx "$(top_field bytes)" $((40 * 64 * 1024)) 5
}

@test "--malloc on Debian's stripped sqlite3: no culprit is _start, the C library or ld.so; the verdict names a malloc row" {
	command -v sqlite3 > /dev/null || { echo "sqlite3 missing: run scripts/deps.sh test" >&2; return 1; }
	launch_stdin ready42 --malloc -- sqlite3 :memory: <<<"select 'ready' || 42;"
	[ "$TR_STATUS" -eq 0 ]
	local entry libc c off
	entry=$(readelf -h "$(command -v sqlite3)" | awk '/Entry point/ { print $4 }')
	libc=$(nm -D --defined-only "$(ldd "$(command -v sqlite3)" | awk '/libc.so/ { print $3 }')" \
		"$(readlink -f /proc/self/exe | xargs ldd | awk '/ld-linux/ { print $1 }')" |
		awk '{ sub(/@.*/, "", $3); print $3 }' | sort -u)
	[ "$(jq '[.stacks[] | select(.kind == "malloc")] | length' <<<"$FINAL")" -gt 0 ]
	while read -r c; do
		echo "culprit: $c"
		case "$c" in _start | __libc_start_main | __libc_start_call_main | libc.so* | ld-linux*) return 1 ;; esac
		! grep -qxF "$c" <<<"$libc"
		if [[ "$c" == sqlite3+0x* ]]; then
			off=$((${c#sqlite3+}))
			((off < entry || off >= entry + 0x30))
		fi
	done < <(jq -r '.stacks[] | select(.kind == "malloc") | .culprit' <<<"$FINAL")
	# The verdict's culprit is a malloc row's, not ld.so's mapping.
	c=$(jq -r .culprit <<<"$FINAL")
	jq -e --arg c "$c" '[.stacks[] | select(.kind == "malloc" and .culprit == $c)] | length > 0' <<<"$FINAL"
	! grep -q 'dynamic loader' <<<"$(jq -r .verdict <<<"$FINAL")"
}

@test "--malloc: the verdict names the malloc leak, not ld.so's larger mappings (still in the table); pprof's main mapping is the program, without ld.so's" {
	command -v go > /dev/null || { echo "go missing: run scripts/deps.sh test" >&2; return 1; }
	P="$BATS_TEST_TMPDIR/malloc.pb.gz"
	launch_stdin '^leaked' --malloc --pprof "$P" -- "$W/leak_malloc" 10 100 < /dev/null
	[ "$TR_STATUS" -eq 0 ]
	# ld.so mapped more than the leak while loading libc (its zero-filled
	# data, which /proc/PID/maps shows right after libc's file): its row
	# stays, named so.
	local ld
	ld=$(jq '[.stacks[] | select((.culprit | startswith("the dynamic loader (ld.so) loading ")) and .kind == "anon") | .bytes] | add' <<<"$FINAL")
	[ "$ld" -gt 1000 ]
	jq -r '.stacks[].culprit' <<<"$FINAL" | grep -q '^the dynamic loader (ld.so) loading .*libc\.so\.6'
	! jq -r '.culprit' <<<"$FINAL" | grep -q 'dynamic loader'
	[ "$(jq -r .culprit <<<"$FINAL")" = leak_record ]
	[ "$(culprit_bytes leak_record)" -eq 1000 ]
	[[ "$(jq -r .verdict <<<"$FINAL")" == *leak_record* ]]
	# pprof: the main mapping (the first) is the executable; nothing of
	# ld.so counted as malloc'ed.
	pprof_run -raw "$P" | awk '/^Mappings/ { getline; print; exit }' | grep -q " $(readlink -f "$W/leak_malloc") "
	! pprof_run -raw "$P" | grep -q ld-linux
	[ "$(pprof_flat "$P" leak_record)" -eq 1000 ]
}

# Bytes of LIB's data that ld.so maps zero-filled, past the end of its file:
# its writable segment's memory size beyond its file size, in whole pages.
zero_fill() {
	readelf -lW "$1" | awk '$1 == "LOAD" && $7 ~ /W/ { print $3, $5, $6 }' |
		while read -r va fs ms; do
			echo $(((va + ms + PS - 1) / PS * PS - (va + fs + PS - 1) / PS * PS))
		done | awk '{ s += $1 } END { print s + 0 }'
}

@test "dlopen: what ld.so maps for the libraries is named after the program's function that called dlopen, bytes as their ELF headers say" {
	trace_pid -- "$W/dlopen_lib" libstdc++.so.6
	[ "$TR_STATUS" -eq 0 ]
	# Every library mapped since the trace began (libc and ld.so were
	# there before it): their zero-filled data.
	local want=0 lib
	for lib in $(awk '$6 ~ /\.so/ { print $6 }' "/proc/$WL_PID/maps" | sort -u); do
		[[ "$lib" == */libc.so.6 || "$lib" == */ld-linux* ]] || want=$((want + $(zero_fill "$lib")))
	done
	[ "$want" -gt 0 ]
	# ld.so's stacks name load_plugin, never ld.so itself.
	jq -e '[.stacks[] | select([.frames[].symbol] | index("_dl_map_segments"))] | length > 0' <<<"$FINAL"
	jq -e '[.stacks[] | select([.frames[].symbol] | index("_dl_map_segments")) | .culprit] | unique == ["load_plugin"]' <<<"$FINAL"
	[ "$(jq '[.stacks[] | select(.kind == "anon" and ([.frames[].symbol] | index("_dl_map_segments"))) | .bytes] | add' <<<"$FINAL")" -eq "$want" ]
}

# Ends trace_pid's workload (left waiting to be killed), for the next one.
stop_workload() {
	kill "$WL_PID"
	wait "$WL_PID" 2> /dev/null || true
	WL_PID=""
}

# The line of main.go that $1 (a pattern) is on.
go_line() { grep -n -- "$1" "$BATS_TEST_DIRNAME/../workloads/leak_go/main.go" | head -1 | cut -d: -f1; }

@test "Go, mappings: main.leakMapping named with file:line (DWARF build, and the stripped build from .gopclntab) as addr2line says" {
	local b f line want
	line=$(go_line 'b, err := mmap(')
	for b in leak_go leak_go-stripped; do
		trace_pid -- "$W/$b" mmap 40 256
		[ "$TR_STATUS" -eq 0 ]
		[ "$(jq -r .culprit <<<"$FINAL")" = main.leakMapping ]
		[ "$(culprit_bytes main.leakMapping)" -eq $((40 * 256 * 1024)) ]
		[[ "$(jq -r .verdict <<<"$FINAL")" == *"main.leakMapping (main.go:$line)"* ]]
		f=$(jq -c '[.stacks[] | select(.culprit == "main.leakMapping")][0].frames[] | select(.symbol == "main.leakMapping")' <<<"$FINAL")
		# addr2line on the DWARF build: the stripped one has the same code.
		want=$(addr2line -e "$W/leak_go" "$(printf '0x%x' $(($(jq .address <<<"$f") - 1)))")
		[ "$(jq -r '"\(.file):\(.line)"' <<<"$f")" = "$want" ]
		[ "${want##*:}" = "$line" ]
		stop_workload
	done
}

@test "Go, mappings: a heap that grows names main.leakChunk, past the runtime's allocator down to sysMmap, in both builds" {
	local b line
	line=$(go_line 'b := make(')
	for b in leak_go leak_go-stripped; do
		trace_pid -- "$W/$b" heap 64 1024
		[ "$TR_STATUS" -eq 0 ]
		[ "$(jq -r .culprit <<<"$FINAL")" = main.leakChunk ]
		[[ "$(jq -r .verdict <<<"$FINAL")" == *"main.leakChunk (main.go:$line)"* ]]
		# The row's stack starts in the runtime's mmap.
		jq -e '[.stacks[] | select(.culprit == "main.leakChunk")][0].frames[0].symbol | startswith("runtime.sysMmap")' <<<"$FINAL"
		stop_workload
	done
}

@test "Go, --faults: the runtime's allocator skipped, main.leakChunk named with its line in both builds" {
	local b line
	# The pages are first touched where the slice is written, not made.
	line=$(go_line 'b\[i\] = 1')
	for b in leak_go leak_go-stripped; do
		trace_pid --faults -- "$W/$b" heap 16 1024
		[ "$TR_STATUS" -eq 0 ]
		[ "$(jq -r .culprit <<<"$FINAL")" = main.leakChunk ]
		[[ "$(jq -r .verdict <<<"$FINAL")" == *"main.leakChunk (main.go:$line)"* ]]
		stop_workload
	done
}

# ---- leak_kinds: every allocation function of libc, by a command that
# exits at once (its /proc is gone before the tracer reads it) ----

KINDS="malloc calloc realloc posix_memalign valloc memalign pvalloc aligned_alloc"

# valgrind_kind ARGS...: run leak_kinds ARGS under valgrind (its stdout to a
# file, as the traced runs', so stdio's buffer has the same size); its
# report in $VG.
valgrind_kind() {
	VG="$BATS_TEST_TMPDIR/valgrind.txt"
	valgrind --leak-check=full --show-leak-kinds=all --run-libc-freeres=no \
		--run-cxx-freeres=no "$W/leak_kinds" "$@" > "$BATS_TEST_TMPDIR/vg.out" 2> "$VG"
}

# vg_of FUNCTION: "BYTES BLOCKS" of valgrind's loss records whose stack
# passes through FUNCTION (lost or still reachable alike).
vg_of() {
	awk -v fn="$1" '
		/ blocks are / { b = $2; k = $5; gsub(",", "", b); gsub(",", "", k); open = 1; next }
		open && index($0, ": " fn " (") { bytes += b; blocks += k; open = 0 }
		END { print bytes + 0, blocks + 0 }' "$VG"
}

# The rows of the final report whose stack passes through FUNCTION:
# "COUNT BYTES ALLOCATIONS" (bytes and allocations summed).
rows_of() {
	jq -r --arg f "$1" '[.stacks[] | select([.frames[].symbol] | index($f))] |
		"\(length) \(map(.bytes) | add // 0) \(map(.allocations) | add // 0)"' <<<"$FINAL"
}

# Expected bytes and blocks of one kind's leak: valgrind's, except for
# pvalloc, which valgrind 3.19 does not implement (it aborts the program):
# there glibc's contract, the size rounded up to the page.
expected_kind() {
	local kind="$1" n="$2"
	if [ "$kind" = pvalloc ]; then
		echo "$(( n * ((220 + PS - 1) / PS * PS) )) $n"
		return
	fi
	valgrind_kind "$kind" "$n"
	vg_of "leak_${kind}_kind"
}

# check_kind KIND N: the final report in $FINAL has the kind's leak alone
# on its row, named after its function with file:line, bytes and blocks
# as expected; stdio's buffer alone on its own row, as valgrind sees it.
check_kind() {
	local kind="$1" n="$2" fn="leak_${1}_kind" want got stdio
	want=$(expected_kind "$kind" "$n")
	got=$(rows_of "$fn")
	echo "$kind: rows bytes allocations = $got, expected 1 $want" >&2
	[ "$got" = "1 $want" ]
	jq -e --arg f "$fn" '.stacks[] | select([.frames[].symbol] | index($f)) |
		.culprit == $f and ([.frames[] | select(.symbol == $f) |
		(.file | endswith("leak_kinds.c")) and .line > 0] | all) and
		([.frames[].symbol] | index("_IO_file_doallocate") | not)' <<<"$FINAL"
	[ -n "$VG" ] || valgrind_kind malloc 1
	stdio=$(vg_of _IO_file_doallocate)
	got=$(rows_of _IO_file_doallocate)
	echo "$kind: stdio rows bytes allocations = $got, valgrind $stdio" >&2
	[ "$got" = "1 $stdio" ]
	jq -e '.stacks[] | select([.frames[].symbol] | index("_IO_file_doallocate")) |
		.culprit == "main"' <<<"$FINAL"
	[ "$(jq .summary.frames_unverified <<<"$FINAL")" = 0 ]
}

@test "--malloc -- leak_kinds: each allocation function's leak on its own row, named, exact as valgrind, after the command exited" {
	command -v valgrind >/dev/null || skip "valgrind not installed"
	for kind in $KINDS; do
		VG=""
		"$T" --malloc --json -- "$W/leak_kinds" "$kind" 300 \
			> "$BATS_TEST_TMPDIR/report.json" 2> "$BATS_TEST_TMPDIR/tracer.err"
		FINAL=$(grep '"final_report"' "$BATS_TEST_TMPDIR/report.json")
		check_kind "$kind" 300
	done
}

@test "--malloc -p leak_kinds: each allocation function's leak named and exact after the process exited" {
	command -v valgrind >/dev/null || skip "valgrind not installed"
	for kind in $KINDS; do
		VG=""
		# A fresh log: the last kind's "Tracing" must not release this one.
		rm -f "$BATS_TEST_TMPDIR/tracer.err"
		"$W/leak_kinds" "$kind" 300 -w > "$BATS_TEST_TMPDIR/wl.out" &
		WL_PID=$!
		"$T" -p "$WL_PID" --malloc --json > "$BATS_TEST_TMPDIR/report.json" \
			2> "$BATS_TEST_TMPDIR/tracer.err" &
		TR_PID=$!
		wait_ready "$BATS_TEST_TMPDIR/tracer.err" 60
		kill -USR1 "$WL_PID"
		wait "$WL_PID"
		WL_PID=""
		# The target's exit ends the trace: the tool exits by itself.
		wait "$TR_PID"
		TR_PID=""
		FINAL=$(grep '"final_report"' "$BATS_TEST_TMPDIR/report.json")
		check_kind "$kind" 300
	done
}

@test "--malloc -- a library loaded with dlopen by a command that exits at once: its frames named" {
	command -v valgrind >/dev/null || skip "valgrind not installed"
	"$T" --malloc --json -- "$W/leak_kinds" dlopen "$W/libleak_plugin.so" 200 \
		> "$BATS_TEST_TMPDIR/report.json" 2> "$BATS_TEST_TMPDIR/tracer.err"
	FINAL=$(grep '"final_report"' "$BATS_TEST_TMPDIR/report.json")
	valgrind_kind dlopen "$W/libleak_plugin.so" 200
	[ "$(rows_of plugin_leak_block)" = "1 $(vg_of plugin_leak_block)" ]
	jq -e '.stacks[] | select(.culprit == "plugin_leak_block") | .frames[] |
		select(.symbol == "plugin_leak_block") | .module == "libleak_plugin.so" and
		(.file | endswith("leak_plugin.c")) and .line > 0' <<<"$FINAL"
}

@test "--malloc -- a library replaced on disk before the exit: never named from the other file" {
	cp "$W/libleak_plugin.so" "$BATS_TEST_TMPDIR/libplug.so"
	# Another ELF file with symbols at the same offsets would give wrong
	# names if it were parsed in place of the one mapped.
	cp "$(ldd "$W/leak_kinds" | awk '/libc.so/ { print $3 }')" "$BATS_TEST_TMPDIR/other.so"
	"$T" --malloc --json -- "$W/leak_kinds" dlopen "$BATS_TEST_TMPDIR/libplug.so" 200 \
		-r "$BATS_TEST_TMPDIR/other.so" > "$BATS_TEST_TMPDIR/report.json" 2> "$BATS_TEST_TMPDIR/tracer.err"
	FINAL=$(grep '"final_report"' "$BATS_TEST_TMPDIR/report.json")
	# The plugin's frame: its own name (read while it lived, through the
	# mapped inode) or module+offset only, counted; never a libc name.
	jq -e '[.stacks[] | select(.allocations == 200) | .frames[] | select(.module == "libplug.so")] |
		length > 0 and all(.symbol == null or .symbol == "plugin_leak_block" or .symbol == "plugin_leak")' <<<"$FINAL"
	named=$(jq '[.stacks[].frames[] | select(.module == "libplug.so" and .symbol == null)] | length' <<<"$FINAL")
	[ "$named" -eq 0 ] || [ "$(jq .summary.frames_unverified <<<"$FINAL")" -ge "$named" ]
}

# bats test_tags=kernel
@test "-- a command that exits at once: its last mapping records are drained and named, bytes exact" {
	"$T" --json -- "$W/leak_mmap" 40 64 -x > "$BATS_TEST_TMPDIR/report.json" 2> "$BATS_TEST_TMPDIR/tracer.err"
	FINAL=$(grep '"final_report"' "$BATS_TEST_TMPDIR/report.json")
	if ! kernel_has bpf_find_vma; then
		# No module records (5.10): the code is named while the process
		# lives or not at all, and the note says so; the bytes stay exact.
		grep -q "note: naming the code of a process after it exits needs bpf_find_vma" "$BATS_TEST_TMPDIR/tracer.err"
		jq -e "[.stacks[] | select(.bytes == $((40 * 64 * 1024)) and .allocations == 40)] | length == 1" <<<"$FINAL"
		return 0
	fi
	jq -e '[.stacks[] | select(.culprit == "leak_mapping")] | length == 1' <<<"$FINAL"
	[ "$(jq '[.stacks[] | select(.culprit == "leak_mapping")][0] | "\(.bytes) \(.allocations)"' -r <<<"$FINAL")" = "$((40 * 64 * 1024)) 40" ]
	jq -e '[.stacks[] | select(.culprit == "leak_mapping")][0].frames[] | select(.symbol == "leak_mapping") | (.file | endswith("leak_mmap.c")) and .line > 0' <<<"$FINAL"
}

# named_then_gone PROGRAM: PROGRAM (a copy of leak_mmap) run with --, a
# report made while it waits (its modules named from /proc/PID/maps),
# then the tracer stopped while it leaks, loads a library and exits: its
# leak's stack and its last module records are read once it is gone.
# The final report in $FINAL; the tracer's log in $ERR.
named_then_gone() {
	local wl
	ERR="$BATS_TEST_TMPDIR/tracer.err"
	"$T" --json -i 1 --output "$BATS_TEST_TMPDIR/report.json" -- "$1" 40 64 -w -x \
		-l "$W/libleak_plugin.so" > "$BATS_TEST_TMPDIR/wl.out" 2> "$ERR" &
	TR_PID=$!
	wait_for 120 grep -q '"event":"report"' "$BATS_TEST_TMPDIR/report.json"
	# The command, not the tracer's symbolizer worker (its other child).
	wl=$(pgrep -P "$TR_PID" -x "$(basename "$1")")
	kill -STOP "$TR_PID"
	kill -USR1 "$wl"
	# Exited; not reaped while its parent, the tracer, is stopped.
	ended "$wl"
	kill -CONT "$TR_PID"
	wait "$TR_PID"
	TR_PID=""
	FINAL=$(grep '"final_report"' "$BATS_TEST_TMPDIR/report.json")
}

# check_named_then_gone: $FINAL has the leak on one row, bytes exact, its
# function named with file:line, no frame left unverified; where the
# kernel sends no module records (5.10), the note says why it cannot be.
check_named_then_gone() {
	[ "$(jq -r '[.stacks[] | select(.bytes == 40 * 64 * 1024 and .allocations == 40)] | length' <<<"$FINAL")" = 1 ]
	if ! kernel_has bpf_find_vma; then
		grep -q "note: naming the code of a process after it exits needs bpf_find_vma" "$ERR"
		return 0
	fi
	jq -e '[.stacks[] | select(.culprit == "leak_mapping")] | length == 1 and .[0].bytes == 40 * 64 * 1024' <<<"$FINAL"
	jq -e '[.stacks[] | select(.culprit == "leak_mapping")][0].frames[] | select(.symbol == "leak_mapping") |
		.module == "leak_mmap" and (.file | endswith("leak_mmap.c")) and .line > 0' <<<"$FINAL"
	[ "$(jq .summary.frames_unverified <<<"$FINAL")" = 0 ]
}

# bats test_tags=kernel
@test "-- a command named while it lived, gone before its last records are read: named from them" {
	# Where the root is an overlayfs (the test guests), maps names the
	# program by the overlay's device since 6.8 and its records by its
	# layer's: the module named from maps must be known again.
	named_then_gone "$W/leak_mmap"
	check_named_then_gone
}

# bats test_tags=kernel
@test "-- the same from an overlayfs mounted elsewhere: the module keeps its name" {
	# Since 6.8 the records give the program's path inside its layer
	# (/leak_mmap), maps the path under the mount point.
	local d="$BATS_TEST_TMPDIR"
	mkdir "$d/lower" "$d/upper" "$d/work" "$d/ovl"
	cp "$W/leak_mmap" "$d/lower/"
	mount -t overlay overlay -o "lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work" "$d/ovl"
	OVL="$d/ovl"
	[ "$(stat -f -c %T "$OVL/leak_mmap")" = overlayfs ]
	named_then_gone "$OVL/leak_mmap"
	check_named_then_gone
}
