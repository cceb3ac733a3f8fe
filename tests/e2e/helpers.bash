# Shared by the end-to-end suites: `load helpers` at the top of a .bats file.
# The binaries come from $MEMSCOPE_BUILD (default: build/).

ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
B="$ROOT/${MEMSCOPE_BUILD:-build}"
W="$B/tests/workloads"
MEMCG_V1=/sys/fs/cgroup/memory

# Tests that load BPF need root and a BPF-capable kernel. Outside CI they
# skip where that is missing; under CI=true that is a failure, not a skip.
need_bpf() {
	local why=""
	[ "$(id -u)" = 0 ] || why="not root"
	[ -r /sys/kernel/btf/vmlinux ] || why="${why:+$why, }no kernel BTF"
	[ -z "$why" ] && return 0
	if [ "${CI:-}" = true ]; then
		echo "cannot run BPF tests: $why (CI=true: failing instead of skipping)" >&2
		return 1
	fi
	skip "$why"
}

need_memcg_v1() {
	[ -d "$MEMCG_V1" ] && [ -w "$MEMCG_V1" ] && return 0
	if [ "${CI:-}" = true ]; then
		echo "no writable cgroup v1 memory hierarchy at $MEMCG_V1" >&2
		return 1
	fi
	skip "no writable cgroup v1 memory hierarchy"
}

# Create a scratch v1 memory cgroup owned by this test; echoes its directory.
# Every one is removed by cleanup_scratch (call it from teardown).
scratch_memcg() {
	local name="memscope-test-$$-$1" limit="${2:-}"
	local dir="$MEMCG_V1/$name"
	mkdir "$dir" || return 1
	echo "$dir" >> "$BATS_TEST_TMPDIR/.scratch_cgroups"
	[ -n "$limit" ] && echo "$limit" > "$dir/memory.limit_in_bytes"
	echo "$dir"
}

cleanup_scratch() {
	local f="$BATS_TEST_TMPDIR/.scratch_cgroups" dir p
	[ -f "$f" ] || return 0
	while read -r dir; do
		[ -d "$dir" ] || continue
		for p in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		for _ in $(seq 50); do rmdir "$dir" 2>/dev/null && break; sleep 0.1; done
	done < "$f"
	rm -f "$f"
}

# Run "$@" inside a cgroup directory (v1 or v2) in the background; the pid
# is in $! of the caller through BG_PID.
run_in_cgroup() {
	local dir="$1"; shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$dir" "$@" &
	BG_PID=$!
}

# Wait up to $1 seconds for the command "$@" (from $2 on) to succeed.
wait_for() {
	local t="$1"; shift
	local end=$((SECONDS + t))
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}

# Wait for a tracer to say it is attached: it prints "Tracing" on stderr
# (or a {"event":"ready"} line in JSON mode) once its programs are live.
wait_ready() {
	local log="$1" t="${2:-20}"
	wait_for "$t" grep -qE 'Tracing|"event": *"ready"' "$log"
}

# Approximately equal within pct percent: approx ACTUAL EXPECTED PCT
approx() {
	awk -v a="$1" -v e="$2" -v p="$3" 'BEGIN {
		d = a - e; if (d < 0) d = -d;
		if (e == 0) exit (a == 0 ? 0 : 1);
		exit (d / e * 100 <= p ? 0 : 1) }' || {
		echo "expected $1 within $3% of $2" >&2; return 1; }
}
