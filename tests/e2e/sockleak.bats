#!/usr/bin/env bats
# sockleak end to end: real BPF, real loopback servers and clients, exact counts.

load helpers

setup() {
	need_bpf
	T="$BATS_TEST_TMPDIR"
	PIDS=()
}

teardown() {
	cleanup_scratch
	for p in "${PIDS[@]}"; do
		pkill -9 -P "$p" 2>/dev/null || true
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -n "${SL:-}" ] && kill -INT "$SL" 2>/dev/null || true
	return 0
}

# start_sockleak ARGS...: runs sockleak --json in the background, waits for it to attach.
start_sockleak() {
	# A previous run's file must not pass for this one's ready line.
	rm -f "$T/out.json"
	"$B/sockleak" --json "$@" > "$T/out.json" 2> "$T/err" &
	SL=$!
	# The ceiling the other suites give a tracer's start: loading its
	# programs took over 30 s in a 6.12 guest under TCG on a busy host.
	wait_ready "$T/out.json" 60 || { cat "$T/err" >&2; return 1; }
}

# After the workload is done: its sockets pass --older-than 1 (a minimum
# age, not a race), then the final report. A fixed -d window instead ends
# early on a slow or busy host.
end_sockleak_aged() {
	sleep 1.2
	kill -INT "$SL"
	finish_sockleak
}

finish_sockleak() {
	wait "$SL"
	local rc=$?
	SL=
	cat "$T/err" >&2
	return $rc
}

# proc_json PID: the final report's row for PID.
proc_json() {
	jq -c "select(.type == \"process\" and .report == \"final\" and .pid == $1)" "$T/out.json"
}

field() { proc_json "$1" | jq -r ".$2"; }

start_server() {
	"$W/sockserver" "$@" "$T/port" &
	SRV=$!
	PIDS+=("$SRV")
	wait_for 5 test -s "$T/port"
	PORT=$(cat "$T/port")
}

# bats test_tags=kernel
@test "sockleak: CLOSE_WAIT of a server that never closes is attributed to its pid, as ss shows" {
	start_server
	start_sockleak -p "$SRV" --older-than 1
	"$W/sockclient" "$PORT" 30 0 > "$T/client" &
	PIDS+=($!)
	wait_for 60 grep -q done "$T/client"
	wait_for 30 sh -c "[ \$(ss -tanp state close-wait | grep -c 'pid=$SRV,') -eq 30 ]"
	ss_count=$(ss -tanp state close-wait | grep -c "pid=$SRV,")
	end_sockleak_aged
	[ "$(field "$SRV" close_wait)" -eq "$ss_count" ]
	[ "$(field "$SRV" close_wait)" -eq 30 ]
	[ "$(field "$SRV" created)" -eq 30 ]
	[ "$(field "$SRV" closed)" -eq 0 ]
	# The leaked list carries the state, the server's own port and the creating stack.
	[ "$(proc_json "$SRV" | jq '[.leaked[] | select(.state == "CLOSE_WAIT" and (.local | endswith(":'"$PORT"'")))] | length')" -eq 30 ]
	proc_json "$SRV" | jq -e '.leaked[0].frames | map(select(test("^main\\+"))) | length > 0'
	jq -e 'select(.type == "summary") | .verdict | test("pid '"$SRV"' \\(sockserver\\) leaks sockets.*30 in CLOSE_WAIT")' "$T/out.json"
}

# bats test_tags=kernel
@test "sockleak: a client leaking one socket in ten: exact counts, leaking function named" {
	start_server --close
	start_sockleak --older-than 1
	"$W/sockclient" "$PORT" 100 10 > "$T/client" &
	CL=$!
	PIDS+=("$CL")
	wait_for 60 grep -q done "$T/client"
	end_sockleak_aged
	[ "$(field "$CL" created)" -eq 100 ]
	[ "$(field "$CL" closed)" -eq 90 ]
	[ "$(field "$CL" alive)" -eq 10 ]
	[ "$(field "$CL" leaked_total)" -eq 10 ]
	proc_json "$CL" | jq -e '.stacks[0].count == 10'
	proc_json "$CL" | jq -e '.stacks[0].frames | map(select(test("^leaky_request\\+.*sockclient.c"))) | length == 1'
	proc_json "$CL" | jq -e '[.stacks[].frames[] | select(test("tidy_request"))] | length == 0'
}

# bats test_tags=kernel
@test "sockleak: many short well-behaved connections: zero leaks" {
	start_server --close
	start_sockleak --older-than 1
	"$W/sockclient" "$PORT" 300 0 > "$T/client" &
	CL=$!
	PIDS+=("$CL")
	wait_for 60 grep -q done "$T/client"
	end_sockleak_aged
	[ "$(field "$CL" created)" -eq 300 ]
	[ "$(field "$CL" closed)" -eq 300 ]
	[ "$(field "$CL" alive)" -eq 0 ]
	[ "$(field "$CL" leaked_total)" -eq 0 ]
	# The server accepted 300 and closed 300; only its listener (there
	# before sockleak: the /proc baseline) stays, and it is not a leak.
	[ "$(field "$SRV" created)" -eq 300 ]
	[ "$(field "$SRV" closed)" -eq 300 ]
	[ "$(field "$SRV" baseline)" -eq 1 ]
	[ "$(field "$SRV" alive)" -eq 1 ]
	[ "$(field "$SRV" leaked_total)" -eq 0 ]
	[ "$(field "$SRV" close_wait)" -eq 0 ]
}

@test "sockleak -p: a server that closed each socket after the peer's FIN, then exits, leaked nothing" {
	# Every close comes in CLOSE_WAIT, the last one just before the exit:
	# prompt closes, not a shutdown closing sockets it kept.
	start_server --close
	start_sockleak -p "$SRV" --older-than 1
	"$W/sockclient" "$PORT" 20 0 > "$T/client" &
	PIDS+=($!)
	wait_for 20 grep -q done "$T/client"
	# Only its listener left: every accepted socket closed.
	wait_for 20 sh -c "[ \$(ss -tanpH | grep -c 'pid=$SRV,') -eq 1 ]"
	kill -TERM "$SRV"
	finish_sockleak
	[ "$(field "$SRV" exited)" = true ]
	[ "$(field "$SRV" created)" -eq 20 ]
	[ "$(field "$SRV" closed)" -eq 20 ]
	[ "$(field "$SRV" leaked_total)" -eq 0 ]
	[ "$(field "$SRV" closed_by_exit.closed_late)" -eq 0 ]
	jq -e 'select(.type == "summary") | .verdict | test("no sockets leak")' "$T/out.json"
}

# bats test_tags=kernel
@test "sockleak: sockets inherited across fork and closed by the child" {
	start_sockleak -d 3 --older-than 1
	"$W/sockcases" fork 4 > "$T/cases" &
	PIDS+=($!)
	wait_for 5 grep -q ready "$T/cases"
	read -r _ _ parent _ child < "$T/cases"
	finish_sockleak
	[ "$(field "$parent" alive)" -eq 4 ]
	# Without helper callbacks (5.10): no copies at the fork; the child's,
	# closed before a /proc reconcile, are not seen, and a note says so.
	if ! kernel_has bpf_for_each_map_elem; then
		grep -q "note: without helper callbacks the fd tables are not walked" "$T/err"
		n=$(field "$child" 'inherited // 0')
		[ "${n:-0}" -eq 0 ] # no row at all, or none inherited
		return 0
	fi
	[ "$(field "$child" inherited)" -eq 4 ]
	[ "$(field "$child" closed)" -eq 4 ]
	[ "$(field "$child" alive)" -eq 0 ]
	[ "$(field "$child" leaked_total)" -eq 0 ]
}

# bats test_tags=kernel
@test "sockleak: close_range releases every socket" {
	start_sockleak -d 3 --older-than 1
	"$W/sockcases" close_range 6 > "$T/cases" &
	PIDS+=($!)
	wait_for 5 grep -q ready "$T/cases"
	pid=$(awk '{print $2}' "$T/cases")
	finish_sockleak
	[ "$(field "$pid" created)" -eq 6 ]
	[ "$(field "$pid" closed)" -eq 6 ]
	[ "$(field "$pid" alive)" -eq 0 ]
}

# bats test_tags=kernel
@test "sockleak: close-on-exec sockets go at exec, the others stay" {
	start_sockleak -d 4 --older-than 1
	"$W/sockcases" cloexec 3 2 > "$T/cases" &
	pid=$!
	PIDS+=("$pid")
	wait_for 8 grep -q ready "$T/cases"
	finish_sockleak
	[ "$(field "$pid" created)" -eq 5 ]
	[ "$(field "$pid" closed)" -eq 3 ]
	[ "$(field "$pid" alive)" -eq 2 ]
	[ "$(ls -l /proc/$pid/fd | grep -c socket:)" -eq 2 ]
}

# bats test_tags=kernel
@test "sockleak: a process exiting with young sockets open leaves no leak behind" {
	# Held for about a second, far below --older-than: the exit closing
	# them is no evidence of a leak.
	start_sockleak -d 3 --older-than 30
	"$W/sockcases" exit 5 1 > "$T/cases" &
	pid=$!
	wait "$pid"
	finish_sockleak
	[ "$(field "$pid" exited)" = true ]
	[ "$(field "$pid" created)" -eq 5 ]
	[ "$(field "$pid" closed_at_exit)" -eq 5 ]
	# Its cgroup comes from the ids the kernel recorded: /proc is gone.
	[ "$(field "$pid" "$MEMCG_JSON_FIELD")" = "$(self_memcg_path)" ]
	[ "$(field "$pid" alive)" -eq 0 ]
	[ "$(field "$pid" leaked_total)" -eq 0 ]
	[ "$(field "$pid" closed_by_exit.held)" -eq 5 ]
	[ "$(field "$pid" closed_by_exit.evidence)" -eq 0 ]
	jq -e 'select(.type == "summary") | .verdict | test("pid '"$pid"' ") | not' "$T/out.json"
}

# bats test_tags=kernel
@test "sockleak -p: a server that exits holding CLOSE_WAIT sockets keeps them as evidence, closed by exit" {
	start_server
	start_sockleak -p "$SRV" --older-than 30
	# 100 connections: fds past 64, so the exit's walk of the fd
	# table's bitmap crosses words.
	"$W/sockclient" "$PORT" 100 0 > "$T/client" &
	PIDS+=($!)
	wait_for 10 grep -q done "$T/client"
	wait_for 10 sh -c "[ \$(ss -tanp state close-wait | grep -c 'pid=$SRV,') -eq 100 ]"
	ss_count=$(ss -tanp state close-wait | grep -c "pid=$SRV,")
	held=$(ls -l /proc/$SRV/fd | grep -c socket:)
	kill -TERM "$SRV"
	# sockleak ends by itself when its target exits.
	finish_sockleak
	[ "$(field "$SRV" exited)" = true ]
	[ "$(field "$SRV" closed_by_exit.ending.kind)" = signal ]
	[ "$(field "$SRV" closed_by_exit.ending.signal_name)" = SIGTERM ]
	[ "$(field "$SRV" closed_by_exit.ending.signal)" -eq 15 ]
	# Without helper callbacks (5.10) the exit keeps no socket's state:
	# the sockets it closed are counted, their CLOSE_WAIT is not known.
	if ! kernel_has bpf_for_each_map_elem; then
		grep -q "a socket's state at its process's exit is not kept" "$T/err"
		[ "$(field "$SRV" closed_by_exit.held)" -eq "$held" ]
		[ "$(field "$SRV" peak)" -ge "$held" ]
		return 0
	fi
	[ "$(field "$SRV" close_wait)" -eq "$ss_count" ]
	[ "$(field "$SRV" closed_by_exit.close_wait)" -eq 100 ]
	[ "$(field "$SRV" closed_by_exit.held)" -eq "$held" ]
	[ "$(field "$SRV" peak)" -ge "$held" ]
	[ "$(field "$SRV" leaked_total)" -eq 100 ]
	[ "$(proc_json "$SRV" | jq '[.leaked[] | select(.closed_by_exit and .state == "CLOSE_WAIT" and (.local | endswith(":'"$PORT"'")))] | length')" -eq 100 ]
	proc_json "$SRV" | jq -e '.stacks[0].count == 100'
	proc_json "$SRV" | jq -e '.stacks[0].frames | map(select(test("^main\\+.*sockserver.c"))) | length == 1'
	jq -e 'select(.type == "summary") | .verdict | test("pid '"$SRV"' \\(sockserver\\) leaked sockets until it exited.*100 in CLOSE_WAIT, closed by exit")' "$T/out.json"
	jq -e 'select(.type == "summary") | .note | test("sockleak -c ")' "$T/out.json"
}

@test "sockleak: a client that kept one socket in ten until it exited gets its leaked list" {
	start_server --close
	# The client waits for the go, so that -p can name it before it starts.
	mkfifo "$T/go"
	sh -c "read x < '$T/go'; exec '$W/sockclient' $PORT 100 10 > '$T/client'" &
	CL=$!
	PIDS+=("$CL")
	start_sockleak -p "$CL" --older-than 0
	echo go > "$T/go"
	wait_for 10 grep -q done "$T/client"
	[ "$(ls -l /proc/$CL/fd | grep -c socket:)" -eq 10 ]
	kill -TERM "$CL"
	finish_sockleak
	[ "$(field "$CL" exited)" = true ]
	[ "$(field "$CL" created)" -eq 100 ]
	[ "$(field "$CL" closed_by_exit.held)" -eq 10 ]
	[ "$(field "$CL" leaked_total)" -eq 10 ]
	[ "$(proc_json "$CL" | jq '[.leaked[] | select(.closed_by_exit and .state == "ESTABLISHED" and (.remote | endswith(":'"$PORT"'")))] | length')" -eq 10 ]
	proc_json "$CL" | jq -e '.stacks[0].count == 10'
	proc_json "$CL" | jq -e '.stacks[0].frames | map(select(test("^leaky_request\\+.*sockclient.c"))) | length == 1'
	jq -e 'select(.type == "summary") | .verdict | test("pid '"$CL"' \\(sockclient\\) leaked sockets until it exited")' "$T/out.json"
}

@test "sockleak -c: a worker that exits with leaked sockets keeps them; -c follows its replacement" {
	need_memcg
	CGA=$(scratch_memcg sockX)
	start_server --close
	start_sockleak -c "$CGA" --older-than 0
	run_in_cgroup "$CGA" sh -c "exec '$W/sockclient' $PORT 50 10 > '$T/w1'"
	W1=$BG_PID
	PIDS+=("$W1")
	wait_for 10 grep -q done "$T/w1"
	kill -TERM "$W1"
	wait "$W1" || true
	# The replacement worker, in the same cgroup, leaks as well.
	run_in_cgroup "$CGA" sh -c "exec '$W/sockclient' $PORT 20 10 > '$T/w2'"
	W2=$BG_PID
	PIDS+=("$W2")
	wait_for 10 grep -q done "$T/w2"
	kill -INT "$SL"
	finish_sockleak
	[ "$(field "$W1" exited)" = true ]
	[ "$(field "$W1" leaked_total)" -eq 5 ]
	[ "$(proc_json "$W1" | jq '[.leaked[] | select(.closed_by_exit)] | length')" -eq 5 ]
	proc_json "$W1" | jq -e '.stacks[0].frames | map(select(test("^leaky_request\\+"))) | length == 1'
	[ "$(field "$W2" alive)" -eq "$(ls -l /proc/$W2/fd | grep -c socket:)" ]
	[ "$(field "$W2" alive)" -eq 2 ]
	jq -e 'select(.type == "summary") | .note | test("-c follows the workers that replace them")' "$T/out.json"
}

# bats test_tags=kernel
@test "sockleak -c: a worker OOM-killed holding leaked sockets keeps them, its ending an OOM kill" {
	need_memcg
	local cg s=0
	cg=$(scratch_memcg sockoom 48M)
	start_server --close
	start_sockleak -c "$cg" --older-than 0
	# It leaks one socket in ten, then memory until the OOM killer ends it.
	run_in_cgroup "$cg" sh -c "exec '$W/sockclient' $PORT 100 10 -g > '$T/w1'"
	W1=$BG_PID
	PIDS+=("$W1")
	wait "$W1" || s=$?
	[ "$s" -eq 137 ]
	grep -q done "$T/w1"
	# The kernel's word: one OOM kill in the cgroup, this worker.
	[ "$(memcg_oom_kills "$cg")" -eq 1 ]
	dmesg | grep -q "Killed process $W1 (sockclient)"
	kill -INT "$SL"
	finish_sockleak
	[ "$(field "$W1" exited)" = true ]
	proc_json "$W1" | jq -e '.closed_by_exit.ending == {"kind": "oom_kill", "signal": 9,
		"signal_name": "SIGKILL", "status": null}'
	[ "$(field "$W1" closed_by_exit.held)" -eq 10 ]
	[ "$(field "$W1" leaked_total)" -eq 10 ]
	proc_json "$W1" | jq -e '.stacks[0].frames | map(select(test("^leaky_request\\+"))) | length == 1'
	jq -e 'select(.type == "summary") | .verdict | test("pid '"$W1"' \\(sockclient\\) leaked sockets until it exited at [0-9.]+ s by OOM kill: 10 held")' "$T/out.json"
}

@test "sockleak --all-fds: pipes, files, socket, eventfd, epoll against RLIMIT_NOFILE" {
	"$W/sockcases" allfds > "$T/cases" &
	pid=$!
	PIDS+=("$pid")
	wait_for 5 grep -q ready "$T/cases"
	start_sockleak -p "$pid" --all-fds -d 1
	finish_sockleak
	pipes=$(ls -l /proc/$pid/fd | grep -c 'pipe:')
	[ "$pipes" -ge 4 ]
	[ "$(proc_json "$pid" | jq '.by_kind.pipe')" -eq "$pipes" ]
	[ "$(proc_json "$pid" | jq '.by_kind.socket')" -eq 1 ]
	[ "$(proc_json "$pid" | jq '.by_kind.eventfd')" -eq 1 ]
	[ "$(proc_json "$pid" | jq '.by_kind.epoll')" -eq 1 ]
	[ "$(proc_json "$pid" | jq '.by_kind.file')" -ge 3 ]
	[ "$(field "$pid" fds)" -eq "$(ls /proc/$pid/fd | wc -l)" ]
	[ "$(field "$pid" nofile_limit)" -eq "$(awk '/Max open files/ {print $4}' /proc/$pid/limits)" ]
	[ "$(field "$pid" baseline)" -eq "$(ls /proc/$pid/fd | wc -l)" ]
}

# Two scratch memory cgroups: a client leaking one socket in ten in A,
# a well-behaved one in B, the server outside both.
two_cgroup_clients() {
	need_memcg
	CGA=$(scratch_memcg sockA)
	CGB=$(scratch_memcg sockB)
	start_server --close
	if [ "$1" = -c ]; then
		start_sockleak --older-than 1 -c "$CGA"
	else
		start_sockleak --older-than 1 "$@"
	fi
	run_in_cgroup "$CGA" sh -c "exec '$W/sockclient' $PORT 50 10 > '$T/ca'"
	CA=$BG_PID
	PIDS+=("$CA")
	run_in_cgroup "$CGB" sh -c "exec '$W/sockclient' $PORT 40 0 > '$T/cb'"
	CB=$BG_PID
	PIDS+=("$CB")
	wait_for 60 grep -q done "$T/ca"
	wait_for 60 grep -q done "$T/cb"
	end_sockleak_aged
}

# spawn_run NAME: sockcases spawn 20 in $CG, its line in $T/NAME once all
# its children have made their socket.
spawn_run() {
	run_in_cgroup "$CG" sh -c "exec '$W/sockcases' spawn 20 > '$T/$1'"
	PIDS+=("$BG_PID")
	wait_for 30 grep -q ready "$T/$1"
}

# bats test_tags=kernel
@test "sockleak -c: forked children share their parent's call sites, a new exec has its own" {
	need_memcg
	CG=$(scratch_memcg spawn)
	start_sockleak -c "$CG" --older-than 0 --top 50
	spawn_run a
	spawn_run b
	kill -INT "$SL"
	finish_sockleak
	# Each run announces two sites, its own socket's and its children's:
	# sites per process would make 42.
	[ "$(jq 'select(.type == "summary") | .new_call_sites' "$T/out.json")" -eq 4 ]
	kids=$(cut -d' ' -f3- "$T/a" "$T/b")
	[ "$(echo $kids | wc -w)" -eq 40 ]
	# Without helper callbacks (5.10) nothing is copied at the fork: a
	# child's copy is found in its /proc/PID/fd at the reconcile (the
	# children still live), and a note says so.
	copied=1
	if ! kernel_has bpf_for_each_map_elem; then
		grep -q "note: without helper callbacks the fd tables are not walked" "$T/err"
		copied=0
	fi
	for kid in $kids; do
		# Its own socket and its copy of its parent's.
		[ "$(field "$kid" created)" -eq 2 ]
		[ "$(field "$kid" inherited)" -eq "$copied" ]
		[ "$(field "$kid" reconciled_found)" -eq $((1 - copied)) ]
		proc_json "$kid" | jq -e '[.stacks[].frames[] | select(test("^spawn_child\\+.*sockcases.c"))] | length == 1'
	done
}

@test "sockleak -c: only the cgroup's processes, filtered in the kernel" {
	two_cgroup_clients -c
	rel="/$(basename "$CGA")"
	[ "$(jq -s '[.[] | select(.type == "process")] | length' "$T/out.json")" -eq 1 ]
	[ "$(field "$CA" created)" -eq 50 ]
	[ "$(field "$CA" closed)" -eq 45 ]
	[ "$(field "$CA" alive)" -eq 5 ]
	[ "$(field "$CA" cgroup)" = "$rel" ]
	[ "$(field "$CA" "$MEMCG_JSON_FIELD")" = "$rel" ]
	[ -z "$(proc_json "$CB")" ]
	[ -z "$(proc_json "$SRV")" ]
	# Only A's five live sockets sit in the kernel's table: nothing of the
	# server (its listener) nor of B was tracked.
	[ "$(jq 'select(.type == "summary") | .tracked' "$T/out.json")" -eq 5 ]
	# The header names the cgroup it traces, not "every process".
	msg=$(jq -r 'select(.event == "ready") | .message' "$T/out.json")
	[[ "$msg" == "sockets of the processes in cgroup $rel"* ]]
	grep -qxF "Tracing $msg" "$T/err"
	! grep -q 'every process' "$T/err"
}

@test "sockleak --by-cgroup: totals per cgroup" {
	two_cgroup_clients --by-cgroup
	cg() { jq -c "select(.type == \"cgroup\" and .report == \"final\" and .cgroup == \"/$(basename "$1")\")" "$T/out.json"; }
	[ "$(cg "$CGA" | jq .processes)" -eq 1 ]
	[ "$(cg "$CGA" | jq .created)" -eq 50 ]
	[ "$(cg "$CGA" | jq .closed)" -eq 45 ]
	[ "$(cg "$CGA" | jq .alive)" -eq 5 ]
	[ "$(cg "$CGB" | jq .processes)" -eq 1 ]
	[ "$(cg "$CGB" | jq .created)" -eq 40 ]
	[ "$(cg "$CGB" | jq .closed)" -eq 40 ]
	[ "$(cg "$CGB" | jq .alive)" -eq 0 ]
	# The server is in neither: its row has a cgroup of its own.
	srv_cg=$(field "$SRV" cgroup)
	[ -n "$srv_cg" ] && [ "$srv_cg" != "/$(basename "$CGA")" ] && [ "$srv_cg" != "/$(basename "$CGB")" ]
	[ "$(jq -c "select(.type == \"cgroup\" and .report == \"final\" and .cgroup == \"$srv_cg\")" "$T/out.json" | jq .processes)" -ge 1 ]
}

# Where tracing programs cannot use socket storage (5.10: it came with
# task storage in 5.11), --kernel-sockets shows the fd view with one
# warning line: true when it did (the test ends there).
kernel_sockets_refused() {
	kernel_has "task storage" && return 1
	grep -q "warning: --kernel-sockets needs socket-local storage in BTF tracepoints (Linux 5.11+)" "$T/err"
}

# bats test_tags=kernel
@test "sockleak --kernel-sockets: sockets passed over SCM_RIGHTS and closed by another process" {
	start_sockleak -d 3 --kernel-sockets
	"$W/sockcases" pass 7 > "$T/cases" &
	PIDS+=($!)
	wait_for 5 grep -q ready "$T/cases"
	read -r _ _ parent _ child < "$T/cases"
	finish_sockleak
	# The fd view: the parent closed its 7 copies.
	[ "$(field "$parent" closed)" -eq 7 ]
	if kernel_sockets_refused; then return 0; fi
	# The kernel view: created by the parent, released by the child (the
	# last reference), freed; nothing left.
	[ "$(field "$parent" kernel_sockets.created)" -eq 7 ]
	[ "$(field "$parent" kernel_sockets.released)" -eq 7 ]
	[ "$(field "$parent" kernel_sockets.released_by_other)" -eq 7 ]
	[ "$(field "$parent" kernel_sockets.freed)" -eq 7 ]
	[ "$(field "$parent" kernel_sockets.allocated)" -eq 0 ]
	[ "$(field "$child" kernel_sockets.created)" -eq 0 ]
}

# bats test_tags=kernel
@test "sockleak --kernel-sockets: closed sockets the kernel still holds (FIN_WAIT1 orphans)" {
	# The server reads nothing more: each client socket is closed with its
	# send buffer full, its FIN queued behind the data; the kernel keeps it.
	start_server
	start_sockleak -d 3 --kernel-sockets --older-than 1
	"$W/sockcases" stuffed "$PORT" 4 > "$T/cases" &
	CL=$!
	PIDS+=("$CL")
	wait_for 10 grep -q ready "$T/cases"
	finish_sockleak
	fw1=$(ss -tan state fin-wait-1 "( dport = :$PORT )" | tail -n +2 | wc -l)
	[ "$fw1" -eq 4 ]
	[ "$(field "$CL" created)" -eq 4 ]
	[ "$(field "$CL" closed)" -eq 4 ]
	[ "$(field "$CL" alive)" -eq 0 ]
	if kernel_sockets_refused; then return 0; fi
	[ "$(field "$CL" kernel_sockets.created)" -eq 4 ]
	[ "$(field "$CL" kernel_sockets.released)" -eq 4 ]
	[ "$(field "$CL" kernel_sockets.released_by_other)" -eq 0 ]
	[ "$(field "$CL" kernel_sockets.freed)" -eq 0 ]
	[ "$(field "$CL" kernel_sockets.allocated)" -eq 4 ]
	[ "$(field "$CL" kernel_sockets.without_fd)" -eq 4 ]
}

@test "sockleak --kernel-sockets: orphans freed once the peer closes too" {
	start_server --close
	start_sockleak -d 4 --kernel-sockets --older-than 1
	"$W/sockclient" "$PORT" 25 0 > "$T/client" &
	CL=$!
	PIDS+=("$CL")
	wait_for 10 grep -q done "$T/client"
	finish_sockleak
	[ "$(field "$CL" kernel_sockets.created)" -eq 25 ]
	[ "$(field "$CL" kernel_sockets.released)" -eq 25 ]
	[ "$(field "$CL" kernel_sockets.freed)" -eq 25 ]
	[ "$(field "$CL" kernel_sockets.allocated)" -eq 0 ]
}

@test "sockleak: bad input is one clear line and exit 1" {
	run "$B/sockleak" -p 4000000 -d 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"no process with pid 4000000"* ]]
	run "$B/sockleak" -c /no/such/cgroup -d 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"no cgroup"* ]]
	run "$B/sockleak" --older-than 12abc
	[ "$status" -ne 0 ]
}

summaries() { grep -c '"type":"summary"' "$T/out.json" || true; }
test_summaries_past() { [ "$(summaries)" -ge "$1" ]; }

@test "sockleak: closed sockets' kept entries are given back when they crowd the map" {
	# A closed fd's entry stays for the next fd of that number; 765 of them
	# in a 1024-entry map leave no room for 765 new sockets unless the
	# tool gives them back. Scoped to a scratch cgroup: any other process
	# of the host that opens sockets would crowd the map too.
	CG=$(scratch_memcg crowd)
	start_sockleak --max-fds 1024 -i 0.3 -c "$CG"
	for i in 1 2 3; do
		run_in_cgroup "$CG" "$W/sockcases" idle 255 0 > "$T/a$i"
		PIDS+=("$BG_PID")
		wait_for 10 grep -q ready "$T/a$i"
		kill -USR1 "$BG_PID"
		wait_for 10 grep -q swapped "$T/a$i"
	done
	# Two reports after the closes: the kept entries were seen and trimmed.
	n=$(summaries)
	wait_for 30 test_summaries_past $((n + 2))
	bs=()
	for i in 1 2 3; do
		run_in_cgroup "$CG" "$W/sockcases" idle 255 0 > "$T/b$i"
		bs+=("$BG_PID")
		PIDS+=("$BG_PID")
		wait_for 10 grep -q ready "$T/b$i"
	done
	kill -INT "$SL"
	finish_sockleak
	for b in "${bs[@]}"; do
		[ "$(field "$b" created)" -eq 255 ]
		[ "$(field "$b" alive)" -eq 255 ]
	done
	jq -e 'select(.type == "summary" and .report == "final") | .drops.map_full == 0 and .user_map_full == 0' "$T/out.json"
	# the map held this test's processes alone
	jq -r 'select(.type == "process" and .report == "final") | .pid' "$T/out.json" | sort -n > "$T/seen"
	printf '%s\n' "${PIDS[@]}" | sort -n | diff - "$T/seen"
}

@test "sockleak -p: sockets open before the trace are no growth; their closes are counted apart" {
	"$W/sockcases" idle 10 3 > "$T/cases" &
	pid=$!
	PIDS+=("$pid")
	wait_for 5 grep -q ready "$T/cases"
	start_sockleak -p "$pid" --older-than 0
	kill -USR1 "$pid"
	wait_for 10 grep -q swapped "$T/cases"
	[ "$(ls -l /proc/$pid/fd | grep -c socket:)" -eq 3 ]
	kill -INT "$SL"
	finish_sockleak
	# 10 there before: the baseline, not growth; their closes are not
	# closes of sockets created during the trace (3, still open).
	[ "$(field "$pid" baseline)" -eq 10 ]
	[ "$(field "$pid" closed_baseline)" -eq 10 ]
	[ "$(field "$pid" created)" -eq 3 ]
	[ "$(field "$pid" closed)" -eq 0 ]
	[ "$(field "$pid" alive)" -eq 3 ]
	# alive went from 10 to 3: it shrank.
	proc_json "$pid" | jq -e '.growth_per_s < 0'
}

@test "sockleak -p: an idle process with old sockets shows no growth and no leak" {
	"$W/sockcases" idle 10 0 > "$T/cases" &
	pid=$!
	PIDS+=("$pid")
	wait_for 5 grep -q ready "$T/cases"
	start_sockleak -p "$pid" --older-than 0
	kill -INT "$SL"
	finish_sockleak
	[ "$(field "$pid" baseline)" -eq 10 ]
	[ "$(field "$pid" alive)" -eq "$(ls -l /proc/$pid/fd | grep -c socket:)" ]
	[ "$(field "$pid" alive)" -eq 10 ]
	[ "$(field "$pid" growth_per_s)" = 0 ]
	[ "$(field "$pid" created)" -eq 0 ]
	jq -e 'select(.type == "summary") | .verdict | test("^no sockets leak")' "$T/out.json"
}

# deep_nofp ARGS...: sockleak -p ARGS on sock_deep-nofp leaking 50 sockets
# (built without frame pointers, rbp holding a per-call stack record).
deep_nofp() {
	"$W/sock_deep-nofp" 50 -w > "$T/deep" &
	DP=$!
	PIDS+=("$DP")
	wait_for 10 grep -q waiting "$T/deep"
	start_sockleak -p "$DP" --older-than 0 "$@"
	kill -USR1 "$DP"
	wait_for 10 grep -q done "$T/deep"
	[ "$(ls -l /proc/$DP/fd | grep -c socket:)" -eq 50 ]
	kill -INT "$SL"
	finish_sockleak
}

# The function names of the first stack group, innermost first.
deep_funcs() { proc_json "$DP" | jq -r '.stacks[0].frames[] | sub("\\+.*"; "")' | tr '\n' ' '; }

@test "sockleak: DWARF stacks walk through code without frame pointers (--stack-mode auto)" {
	deep_nofp
	[[ "$(deep_funcs)" == *"open_conn pool_get handle_request serve main "* ]]
}

@test "sockleak --stack-mode fp stops where the frame chain does; --frames caps the stack" {
	deep_nofp --stack-mode fp
	[[ "$(deep_funcs)" == *"open_conn "* ]]
	[[ "$(deep_funcs)" != *"serve"* ]]
	run "$B/sockleak" --stack-mode bogus -d 1
	[ "$status" -ne 0 ]
	[[ "$output" == *"invalid --stack-mode 'bogus'"* ]]
}

@test "sockleak --frames: frames kept per stack" {
	deep_nofp --stack-mode dwarf --frames 3
	[ "$(proc_json "$DP" | jq '.stacks[0].frames | length')" -eq 3 ]
}

@test "sockleak: one call site is one stack row, whatever the kernel's stack ids (auto and fp)" {
	deep_nofp
	[ "$(field "$DP" leaked_total)" -eq 50 ]
	[ "$(proc_json "$DP" | jq '.stacks | length')" -eq 1 ]
	[ "$(proc_json "$DP" | jq '.stacks[0].count')" -eq 50 ]
	[ "$(proc_json "$DP" | jq '[.leaked[].frames | join(";")] | unique | length')" -eq 1 ]
	deep_nofp --stack-mode fp
	[ "$(proc_json "$DP" | jq '.stacks | length')" -eq 1 ]
	[ "$(proc_json "$DP" | jq '.stacks[0].count')" -eq 50 ]
}

# A socket wrapper in a library built -O2 -fomit-frame-pointer, called by
# path_a (closes each socket) and path_b (leaks N): both share every word
# of the call-site key. The run starts once a report says the key was
# found to merge stacks (verify snapshots), as memleak.bats does.
@test "sockleak -p: callers of one socket wrapper in a library without frame pointers get their own stacks" {
	local n=40 wl="$T/wl.out" held
	"$W/two_paths" socket "$n" -w > "$wl" &
	PIDS+=("$!")
	local wp=$!
	start_sockleak -p "$wp" -i 1 --older-than 0
	kill -USR1 "$wp"
	wait_for 120 grep -q warm "$wl"
	merged() {
		local last
		last=$(grep '"type":"summary"' "$T/out.json" | tail -1)
		[ -n "$last" ] && jq -e '.merged_call_sites >= 1' <<<"$last" >/dev/null
	}
	wait_for 120 merged
	kill -USR2 "$wp"
	wait_for 120 grep -q leaked "$wl"
	# The kernel's count of the sockets it holds: the oracle.
	held=$(find /proc/"$wp"/fd -lname 'socket:*' | wc -l)
	[ "$held" -eq "$n" ]
	kill -INT "$SL"
	finish_sockleak
	[ "$(field "$wp" leaked_total)" -eq "$n" ]
	[ "$(proc_json "$wp" | jq '[.stacks[] | select(.frames | any(test("^path_b\\+")))] | length')" -eq 1 ]
	[ "$(proc_json "$wp" | jq '[.stacks[] | select(.frames | any(test("^path_b\\+")))][0].count')" -eq "$n" ]
	[ "$(proc_json "$wp" | jq '[.stacks[] | select(.frames | any(test("^path_a\\+")))] | length')" -eq 0 ]
	jq -e 'select(.type == "summary" and .report == "final") | .merged_call_sites >= 1 and
		.call_site_mismatches >= 1 and .merged_events == 0' "$T/out.json"
}

# need_cmd CMD: skip outside CI when a test's real software is missing.
need_cmd() {
	command -v "$1" > /dev/null && return 0
	[ "${CI:-}" = true ] && { echo "$1 missing (scripts/deps.sh installs it)" >&2; return 1; }
	skip "$1 not installed"
}

# fcgi_get QUERY: one request to the pool's persistent.php.
fcgi_get() {
	SCRIPT_FILENAME="$ROOT/tests/fixtures/php/persistent.php" REQUEST_METHOD=GET QUERY_STRING="$1" \
		cgi-fcgi -bind -connect "$T/fpm.sock"
}

@test "sockleak -c on php-fpm: a recycled worker's persistent CLOSE_WAIT sockets, closed at its shutdown, are evidence" {
	need_memcg
	need_cmd php-fpm8.2
	need_cmd cgi-fcgi
	CG=$(scratch_memcg php)
	python3 "$ROOT/tests/workloads/hangup_backend.py" 8 "$T/ports" &
	PIDS+=($!)
	wait_for 10 test -s "$T/ports"
	# One worker that recycles after 8 requests (pm.max_requests), as pools do.
	cat > "$T/pool.conf" <<-CONF
	[global]
	pid = $T/fpm.pid
	error_log = $T/fpm.log
	daemonize = no
	[memscope]
	user = nobody
	group = nogroup
	listen = $T/fpm.sock
	pm = static
	pm.max_children = 1
	pm.max_requests = 8
	CONF
	run_in_cgroup "$CG" /usr/sbin/php-fpm8.2 -R -n -y "$T/pool.conf"
	PIDS+=("$BG_PID")
	wait_for 20 sh -c "[ \$(wc -l < '$CG/cgroup.procs') -eq 2 ]"
	start_sockleak -c "$CG" --older-than 0
	# Seven requests, each leaves a persistent socket to another backend port.
	for port in $(head -n 7 "$T/ports"); do
		fcgi_get "$port" | grep -q "ok $port"
	done
	worker=$(grep -vx "$BG_PID" "$CG/cgroup.procs")
	wait_for 10 sh -c "[ \$(ss -tanp state close-wait | grep -c 'pid=$worker,') -eq 7 ]"
	ss_cw=$(ss -tanp state close-wait | grep -c "pid=$worker,")
	# A socket is evidence once it sat in CLOSE_WAIT for a second (the
	# shortest --older-than counts as): a minimum, however slow the host.
	sleep 1.5
	# The eighth request recycles the worker: PHP closes its persistent
	# sockets at shutdown, then the master starts a replacement.
	fcgi_get "$(sed -n 8p "$T/ports")" > /dev/null
	wait_for 20 sh -c "! grep -qx '$worker' '$CG/cgroup.procs' && [ \$(wc -l < '$CG/cgroup.procs') -eq 2 ]"
	kill -INT "$SL"
	finish_sockleak
	[ "$(field "$worker" exited)" = true ]
	[ "$(field "$worker" closed_by_exit.closed_late)" -eq "$ss_cw" ]
	[ "$(field "$worker" close_wait)" -eq "$ss_cw" ]
	[ "$(proc_json "$worker" | jq '[.leaked[] | select(.closed_late and .state == "CLOSE_WAIT")] | length')" -eq 7 ]
	# The creating stack names PHP's C function that opened the socket.
	proc_json "$worker" | jq -e '.stacks[0].count == 7'
	proc_json "$worker" | jq -e '.stacks[0].frames | map(select(test("^php_network_connect_socket_to_host\\+"))) | length == 1'
	jq -e 'select(.type == "summary") | .verdict | test("pid '"$worker"' \\(php-fpm8.2\\) leaked sockets until it exited.*7 more in CLOSE_WAIT that it closed late")' "$T/out.json"
	jq -e 'select(.type == "summary") | .note | test("-c follows the workers that replace them")' "$T/out.json"
}

# leak_ten MARK CLIENT ARGS...: trace CLIENT, which leaks 10 sockets and
# says MARK when done, to the final report ($CL: its pid); --older-than 0
# lists every socket still open then, with no wait for an age.
leak_ten() {
	local mark=$1
	shift
	start_sockleak --older-than 0
	"$@" > "$T/client" &
	CL=$!
	PIDS+=("$CL")
	wait_for 60 grep -q "$mark" "$T/client"
	kill -INT "$SL"
	finish_sockleak
	[ "$(field "$CL" leaked_total)" -eq 10 ]
	proc_json "$CL" | jq -e '.stacks[0].count == 10'
}

@test "sockleak: a stripped client's culprit is its own innermost frame as module+0xOFFSET, which addr2line puts in the function that makes the socket" {
	strip -o "$T/sockclient-stripped" "$W/sockclient"
	start_server --close
	leak_ten done "$T/sockclient-stripped" "$PORT" 100 10
	local c
	c=$(proc_json "$CL" | jq -r '.stacks[0].culprit')
	[[ "$c" == sockclient-stripped+0x* ]]
	[ "$(addr2line -f -e "$W/sockclient" "${c#*+}" | head -1)" = dial ]
	# Its caller, the next frame, is the leaking request.
	c=$(proc_json "$CL" | jq -r '.stacks[0].frames[2]')
	[ "$(addr2line -f -e "$W/sockclient" "${c#*+}" | head -1)" = leaky_request ]
}

@test "sockleak: Go sockets leaked through net.Dial name the program's function with its line, past Go's standard library, in both builds" {
	local b line
	line=$(grep -n 'net.Dial(' "$BATS_TEST_DIRNAME/../workloads/leak_go/main.go" | cut -d: -f1)
	start_server --close
	for b in leak_go leak_go-stripped; do
		leak_ten leaked "$W/$b" sock 10 "$PORT"
		[[ "$(proc_json "$CL" | jq -r '.stacks[0].culprit')" == "main.leakConn+0x"*" (main.go:$line)" ]]
		# net.Dial's own frames are kept in the stack.
		proc_json "$CL" | jq -e '[.stacks[0].frames[] | select(startswith("net."))] | length > 0'
	done
}

@test "sockleak: clients that exit at once, leaking sockets, still have their creating stacks named" {
	start_server --close
	start_sockleak --older-than 0
	# Each exits within milliseconds, before sockleak reads its call site:
	# the stack is symbolized from the code mappings BPF sent with it.
	for i in 1 2 3; do
		"$W/sockclient" "$PORT" 20 10 -x > "$T/client$i"
	done
	kill -INT "$SL"
	finish_sockleak
	for cl in $(jq -r 'select(.type == "process" and .comm == "sockclient") | .pid' "$T/out.json"); do
		[ "$(field "$cl" exited)" = true ]
		[ "$(field "$cl" closed_by_exit.held)" -eq 2 ]
		proc_json "$cl" | jq -e '.stacks[0].count == 2'
		proc_json "$cl" | jq -e '.stacks[0].frames | map(select(test("^leaky_request\\+.*sockclient.c"))) | length == 1'
	done
	[ "$(jq -r 'select(.type == "process" and .comm == "sockclient") | .pid' "$T/out.json" | wc -l)" -eq 3 ]
	jq -e 'select(.type == "summary") | .frames_unverified == 0' "$T/out.json"
}
