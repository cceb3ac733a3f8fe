#!/usr/bin/env bats
# Robustness: what a hostile or broken environment does to the tools
# (issue 16). Each test was written against the defect it guards.

load helpers
bats_require_minimum_version 1.5.0

teardown() {
	[ -n "${TRACER:-}" ] && kill -INT "$TRACER" 2>/dev/null && wait "$TRACER" 2>/dev/null
	[ -n "${BG_PID:-}" ] && kill -9 "$BG_PID" 2>/dev/null
	cleanup_scratch
	true
}

@test "harden: make CFLAGS=... keeps the project's own flags" {
	local b="$BATS_TEST_TMPDIR/b"
	run make -C "$ROOT" -s BUILD="$b" CFLAGS="-O1" "$b/memdiag"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -x "$b/memdiag" ]
	run "$b/memdiag" --snapshot "$ROOT/tests/fixtures/memstat/v2_pod" --json
	[ "$status" -eq 0 ]
}

# `tool | head -1`: the tool must notice its reader is gone, detach and end
# by SIGPIPE (the shell's 141) instead of holding the pipeline open; the
# timeout only bounds a failure.
pipe_status() {
	{ timeout 120 "$@"; echo $? > "$BATS_TEST_TMPDIR/status"; } | head -1 > "$BATS_TEST_TMPDIR/line"
	cat "$BATS_TEST_TMPDIR/status"
}

@test "harden: a closed stdout ends every tool quietly with SIGPIPE's status, -d included" {
	need_bpf
	[ "$(pipe_status "$B/sockleak" --json)" = 141 ]
	grep -q '"event":"ready"' "$BATS_TEST_TMPDIR/line"
	[ "$(pipe_status "$B/oomwatch" --json -d 600)" = 141 ]
	[ "$(pipe_status "$B/memdiag" -i 0.5)" = 141 ]
	"$W/hold_anon" 1 > /dev/null & BG_PID=$!
	[ "$(pipe_status "$B/memleak-trace" --json -d 600 -p "$BG_PID")" = 141 ]
}

@test "harden: a stdout that cannot be written is one line and exit 1" {
	run sh -c '"$1" --snapshot "$2" > /dev/full' sh "$B/memdiag" "$ROOT/tests/fixtures/memstat/v2_pod"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot write the output"* ]]
}

@test "harden: memleak-trace -- COMMAND that cannot run is one error line; a command's exit status is its own" {
	need_bpf
	run --separate-stderr "$B/memleak-trace" --json -d 20 -- /nonexistent/bin
	echo "out: $output"; echo "err: $stderr"
	[ "$status" -ne 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ]
	[[ "$stderr" == *"cannot run /nonexistent/bin: No such file or directory"* ]]
	! grep -q final_report <<< "$output"
	# Refused before anything is set up for it: no allocator search first.
	run --separate-stderr "$B/memleak-trace" --malloc -d 20 -- /nonexistent/bin
	[ "$status" -eq 1 ]
	[ "$stderr" = "memleak-trace: cannot run /nonexistent/bin: No such file or directory" ]
	run --separate-stderr "$B/memleak-trace" -d 20 -- "$BATS_TEST_TMPDIR"
	[ "$status" -eq 1 ]
	[ "$stderr" = "memleak-trace: cannot run $BATS_TEST_TMPDIR: Is a directory" ]
	run --separate-stderr "$B/memleak-trace" -d 60 -- sh -c 'exit 3'
	echo "err: $stderr"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"sh exited with status 3"* ]]
	run --separate-stderr "$B/memleak-trace" -d 60 -- sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
	[[ "$stderr" == *"sh was killed by SIGKILL"* ]]
}

# A snapshot copied from elsewhere is outside text: a memory.stat that
# is /dev/zero, a FIFO or huge is refused by name, at once.
snapshot_copy() {
	local d="$BATS_TEST_TMPDIR/snap"
	rm -rf "$d"; cp -r "$ROOT/tests/fixtures/memstat/v2_pod" "$d"
	echo "$d"
}

@test "harden: memdiag --snapshot refuses a memory.stat that is a link, a FIFO or too big, and names it" {
	local d
	d=$(snapshot_copy); rm "$d/memory.stat"; ln -s /dev/zero "$d/memory.stat"
	run timeout 60 "$B/memdiag" --snapshot "$d"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refusing to read $d/memory.stat: it is a symbolic link"* ]]

	d=$(snapshot_copy); rm "$d/memory.stat"; mkfifo "$d/memory.stat"
	run timeout 60 "$B/memdiag" --snapshot "$d"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refusing to read $d/memory.stat: not a regular file"* ]]

	d=$(snapshot_copy); truncate -s 64M "$d/memory.stat"
	run timeout 60 "$B/memdiag" --snapshot "$d"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refusing to read $d/memory.stat: larger than 4.00 MiB"* ]]

	# A refused side file is named and left out; the report goes on.
	d=$(snapshot_copy); rm "$d/memory.peak"; mkfifo "$d/memory.peak"
	run timeout 60 "$B/memdiag" --snapshot "$d" --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"refusing to read $d/memory.peak: not a regular file"* ]]
}

@test "harden: a usage file that is not a number is an error naming it, never unlimited" {
	local d
	for bad in "anon 1" "max" ""; do
		d=$(snapshot_copy); printf '%s\n' "$bad" > "$d/memory.current"
		run "$B/memdiag" --snapshot "$d"
		echo "$output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"$d/memory.current does not hold a number"* ]]
		[[ "$output" != *CRITICAL* ]]
	done
}

@test "harden: oomwatch --output-dir link/ (trailing slash) does not follow the symlink" {
	need_bpf
	mkdir -m 700 "$BATS_TEST_TMPDIR/real"
	ln -s "$BATS_TEST_TMPDIR/real" "$BATS_TEST_TMPDIR/link"
	for p in link link/ link//; do
		run "$B/oomwatch" --output-dir "$BATS_TEST_TMPDIR/$p" -d 0.1
		echo "$output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"not a directory (or a symlink)"* ]]
	done
	run "$B/oomwatch" --output-dir "$BATS_TEST_TMPDIR/real/" -d 0.1
	[ "$status" -eq 0 ]
}

@test "harden: a bidi override (U+202E) in a comm is escaped in tables; JSON keeps bytes that are not UTF-8 apart" {
	local exe="$BATS_TEST_TMPDIR/"$'ab\xe2\x80\xaecd\xff'
	cp "$W/hold_anon" "$exe"
	"$exe" 1 > "$BATS_TEST_TMPDIR/ready" & BG_PID=$!
	wait_for 20 grep -q ready "$BATS_TEST_TMPDIR/ready"
	run "$B/memdiag" -p "$BG_PID"
	[ "$status" -eq 0 ]
	! grep -q $'\xe2\x80\xae' <<< "$output"
	grep -qF 'ab\xe2\x80\xaecd\xff' <<< "$output"
	"$B/memdiag" -p "$BG_PID" --json > "$BATS_TEST_TMPDIR/md.json"
	grep -qF '"comm":"ab\u202ecd\udcff"' "$BATS_TEST_TMPDIR/md.json"
	# Python turns it back into the exact bytes of the comm.
	python3 -c 'import json,sys; c=json.loads(open(sys.argv[1]).readline())["process"]["comm"]; sys.exit(c.encode("utf-8","surrogateescape") != b"ab\xe2\x80\xaecd\xff")' "$BATS_TEST_TMPDIR/md.json"
}

# Run json-fields.py for one tool over its output files.
fields_ok() {
	local tool="$1"; shift
	python3 "$ROOT/tests/e2e/json-fields.py" "$ROOT/tests/e2e/json-fields.txt" "$ROOT/man/$tool.8.scd" "$tool" "$@"
}

@test "harden: every documented JSON field is on every kind of line of every tool, null when unknown" {
	need_bpf
	need_memcg
	local T="$BATS_TEST_TMPDIR" dir port
	dir=$(scratch_memcg json 64M)
	run_in_cgroup "$dir" "$W/hold_anon" 8 > "$T/hold"
	local hold=$BG_PID
	wait_for 20 grep -q ready "$T/hold"

	# memdiag: the host, a v1 and a v2 snapshot, a process, a cgroup over
	# several samples (the trend), every cgroup.
	"$B/memdiag" --json > "$T/md.json"
	"$B/memdiag" --json --snapshot "$ROOT/tests/fixtures/memstat/v1_guide" >> "$T/md.json"
	"$B/memdiag" --json --snapshot "$ROOT/tests/fixtures/memstat/v2_pod" >> "$T/md.json"
	"$B/memdiag" --json -p "$hold" >> "$T/md.json"
	"$B/memdiag" --json -c "$dir" -i 0.2 -d 2 >> "$T/md.json"
	"$B/memdiag" --json --all-cgroups >> "$T/md.json"
	[ "$(jq -r 'select(.sample >= 2) | .target' "$T/md.json" | head -1)" = cgroup ]
	fields_ok memdiag "$T/md.json"

	# memleak-trace: ready (pid, cgroup), interval and final reports with stacks.
	"$B/memleak-trace" --json -i 0.3 -d 3 -- sh -c 'exec "$0" 20 64 > /dev/null' "$W/leak_mmap" > "$T/ml.json"
	"$B/memleak-trace" --json -c "$dir" -d 0.5 >> "$T/ml.json"
	# --faults fills its own summary fields.
	"$B/memleak-trace" --json --faults -d 1 -- sh -c 'exec "$0" 5 64 > /dev/null' "$W/leak_mmap" >> "$T/ml.json"
	jq -se 'any(.[]; .event == "final_report" and (.stacks | length > 0))' "$T/ml.json"
	jq -se 'any(.[]; .event == "final_report" and .mode == "faults" and (.summary.first_touch_faults > 0))' "$T/ml.json"
	fields_ok memleak-trace "$T/ml.json"

	# sockleak: process lines (interval; final with leaked sockets and
	# stacks), cgroup lines, summaries.
	"$W/sockserver" --close "$T/port" & PIDS="$!"
	wait_for 10 test -s "$T/port"
	port=$(cat "$T/port")
	"$B/sockleak" --json -i 0.3 --by-cgroup --older-than 0 > "$T/sl.json" 2> "$T/sl.err" & TRACER=$!
	wait_ready "$T/sl.err"
	"$W/sockclient" "$port" 20 5 > "$T/client" & PIDS="$PIDS $!"
	wait_for 20 grep -q done "$T/client"
	wait_for 20 grep -q '"type":"summary"' "$T/sl.json"
	kill -INT "$TRACER"; wait "$TRACER"; TRACER=
	kill $PIDS
	jq -se 'any(.[]; .type == "process" and .report == "final" and .leaked_total > 0)' "$T/sl.json"
	fields_ok sockleak "$T/sl.json"

	# oomwatch: a kill in the scratch cgroup, then the summary.
	"$B/oomwatch" --json > "$T/ow.json" 2> "$T/ow.err" & TRACER=$!
	wait_ready "$T/ow.err"
	run_in_cgroup "$dir" "$W/hog" -t 200 -s 8
	wait "$BG_PID" || true
	wait_for 20 grep -q '"oom_kill"' "$T/ow.json"
	kill -INT "$TRACER"; wait "$TRACER"; TRACER=
	# and the same kill read back from the kernel's log
	"$B/oomwatch" --since 10m --json >> "$T/ow.json"
	fields_ok oomwatch "$T/ow.json"
}

@test "harden: -c CGROUP removed while watched: a clear line, the final report, exit 0 (every tool)" {
	need_bpf
	need_memcg
	local T="$BATS_TEST_TMPDIR" dir name st
	for tool in memleak-trace sockleak oomwatch; do
		dir=$(scratch_memcg "gone-$tool")
		name=$(basename "$dir")
		"$B/$tool" -c "$dir" --json > "$T/$tool.json" 2> "$T/$tool.err" & TRACER=$!
		wait_ready "$T/$tool.err"
		rmdir "$dir"
		ended "$TRACER" || { kill -9 "$TRACER"; false; }
		st=0; wait "$TRACER" || st=$?; TRACER=
		cat "$T/$tool.err"
		[ "$st" -eq 0 ]
		grep -qx "$tool: cgroup /$name was removed: final report" "$T/$tool.err"
		every_final=$(tail -1 "$T/$tool.json")
		echo "$every_final"
		case $tool in
		memleak-trace) jq -e '.event == "cgroup_final_report" and .cgroup_removed' <<< "$every_final" ;;
		sockleak) jq -e '.type == "summary" and .report == "final"' <<< "$every_final"
			  grep -q "sockets of the processes in cgroup /$name" "$T/$tool.err" ;;
		oomwatch) jq -e '.event == "summary"' <<< "$every_final" ;;
		esac
	done
}

@test "harden: sockleak attached during heavy socket churn counts every socket once" {
	need_bpf
	local T="$BATS_TEST_TMPDIR" churn line
	for round in 1 2 3 4 5 6; do
		# Fresh files: a background job truncates its own only once it runs.
		rm -f "$T/churn" "$T/sl.json" "$T/sl.err"
		"$W/sockchurn" 2 > "$T/churn" & churn=$!; BG_PID=$churn
		wait_for 20 grep -q ready "$T/churn"
		"$B/sockleak" -p "$churn" --json > "$T/sl.json" 2> "$T/sl.err" & TRACER=$!
		wait_ready "$T/sl.err"
		kill -USR1 "$churn"
		wait_for 20 grep -q stopped "$T/churn"
		kill -INT "$TRACER"; wait "$TRACER"; TRACER=
		kill "$churn"; wait "$churn" || true
		line=$(jq -c "select(.type == \"process\" and .report == \"final\" and .pid == $churn)" "$T/sl.json")
		jq -c "{created,closed,closed_baseline,baseline,alive,reconciled_found,reconciled_gone}" <<< "$line"
		# The two sockets it holds are still alive, and every other socket
		# is accounted once: what was there at the start (baseline) plus
		# what it made equals what it closed (closes of sockets from the
		# baseline are counted apart) plus what is alive. Known limit: a
		# socket whose socket() was still in flight during the /proc scan
		# can be counted in the baseline and as created too (docs/sockleak.md,
		# sockleak's limits); nothing else may be off, and no close is
		# ever counted twice.
		[ "$(jq .alive <<< "$line")" -eq 2 ]
		local extra_baseline off
		extra_baseline=$(( $(jq .baseline <<< "$line") - 2 ))
		off=$(jq '.created + .baseline - .closed - .closed_baseline - .alive' <<< "$line")
		[ "$extra_baseline" -le 1 ]
		[ "$off" -ge 0 ] && [ "$off" -le "$extra_baseline" ]
	done
}

# The parser's verdict on ARGS: an option it does not know is reported
# before anything runs, so an unknown option put after ARGS (before "--")
# shows that every one of ARGS was taken.
parses() {
	local tool="$1"; shift
	local args=() a bogus=--zz-not-an-option seen=
	for a in "$@"; do
		[ "$a" = -- ] && [ -z "$seen" ] && { args+=("$bogus"); seen=1; }
		args+=("$a")
	done
	[ -n "$seen" ] || args+=("$bogus")
	run -1 timeout 20 "$B/$tool" "${args[@]}"
	grep -qF "unrecognized option '$bogus'" <<< "$output" || {
		echo "$tool ${*}: not taken by the parser: $output" >&2; return 1; }
}

# A valid value for an option, by its metavariable and the default its
# help line names.
option_value() {
	local meta="$1" doc="$2" def
	def=$(grep -oE '\(default [0-9]+' <<< "$doc" | grep -oE '[0-9]+$' | head -1)
	case "$meta" in
	N|MB) echo "${def:-1}" ;;
	SECONDS) echo "${def:-1}" ;;
	DURATION) echo 10m ;;
	SIZE) echo 1M ;;
	PID) echo $$ ;;
	CGROUP) echo / ;;
	FILE) echo "$BATS_TEST_TMPDIR/file" ;;
	DIR) echo "$BATS_TEST_TMPDIR" ;;
	KEY) echo ws ;;
	MODE) echo auto ;;
	LIST) echo cgroups ;;
	ADDR:PORT) echo 127.0.0.1:19999 ;;
	*) echo "option_value: no value known for $meta" >&2; return 1 ;;
	esac
}

@test "harden: every tool's --help: EXAMPLES are whole commands as printed, and every option it lists is taken" {
	local tool help ex line cmd opt meta doc dup n=0
	for tool in memleak-trace sockleak oomwatch memdiag memscope-exporter; do
		run -0 "$B/$tool" --help
		help="$output"
		# -h and -? print the same text
		[ "$(run "$B/$tool" -h; echo "$output")" = "$help" ]
		[ "$("$B/$tool" '-?')" = "$help" ]
		# the EXAMPLES block: from its title to the first empty line
		ex=$(awk '/^(EXAMPLES|Examples):?$/ { on = 1; next } on && /^$/ { exit } on' <<< "$help")
		[ "$(wc -l <<< "$ex")" -ge 3 ] || { echo "$tool: no EXAMPLES in --help" >&2; false; }
		while IFS= read -r line; do
			# one whole command a line, starting with the tool: never a wrapped tail
			[[ "$line" == "  $tool" || "$line" == "  $tool "* ]] || {
				echo "$tool: EXAMPLES line is not a command of the tool: '$line'" >&2; false; }
			cmd="${line%%  #*}"
			cmd="${cmd%%[|>]*}"
			read -ra words <<< "$cmd"
			parses "$tool" "${words[@]:1}"
			n=$((n + 1))
		done <<< "$ex"
		# every option listed, with a valid value, is one the parser takes
		while read -r opt meta; do
			case "$opt" in --help|--usage|--version|--features) continue ;; esac
			if [ -n "$meta" ]; then
				# the option's help entry: its line and those under it
				doc=$(awk -v o="$opt=" 'index($0, o) { on = 1; print; next }
					on && /^ +-/ { exit } on' <<< "$help")
				parses "$tool" "$opt=$(option_value "$meta" "$doc")"
			else
				parses "$tool" "$opt"
			fi
		done < <(help_option_lines <<< "$help" | grep -oE -- '--[a-z.-]+(=[A-Z:]+)?' | tr = ' ')
		# each option is listed once (argp's own --help used to sit beside ours)
		dup=$(help_option_lines <<< "$help" | grep -oE -- '--[a-z.-]+' | sort | uniq -d)
		[ -z "$dup" ] || { echo "$tool: listed twice: $dup" >&2; false; }
	done
	[ "$n" -ge 20 ]
	# what each tool says of the shared options is true of it
	run "$B/memscope-exporter" --help
	! grep -qE -- '--json|only at the end' <<< "$output"
	grep -qE -- '-i, --interval=SECONDS +Collect every SECONDS \(default 5\)' <<< "$output"
	run "$B/memdiag" --help
	! grep -qE 'Trace this process|only at the end' <<< "$output"
}

@test "harden: --output FILE keeps the report and JSON apart from a traced command's stdout (every tool takes it; a symlink is refused)" {
	need_bpf
	local T="$BATS_TEST_TMPDIR"
	# The command writes bytes that are no JSON, and no text, to its stdout.
	run --separate-stderr "$B/memleak-trace" --json --output "$T/ml.json" -d 30 -- \
		sh -c 'head -c 4096 /dev/urandom; echo; echo command-output'
	[ "$status" -eq 0 ]
	[[ "$output" == *command-output* ]]
	! grep -q '"event"' <<< "$output"
	# Every line of the file is JSON, and the run ended with its report.
	jq -e . "$T/ml.json" > /dev/null
	[ "$(jq -r 'select(.event == "final_report") | .comm' "$T/ml.json")" = sh ]
	for tool in sockleak memdiag oomwatch; do
		run "$B/$tool" --output "$T/$tool.txt" -d 1
		[ "$status" -eq 0 ]
		[ -s "$T/$tool.txt" ]
	done
	ln -s "$T/elsewhere" "$T/link"
	run "$B/memdiag" --output "$T/link"
	[ "$status" -eq 1 ]
	[ "$output" = "memdiag: --output $T/link: Too many levels of symbolic links" ]
	[ ! -e "$T/elsewhere" ]
}
