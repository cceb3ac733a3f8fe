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

# The memory cgroup layout the scratch cgroups go into: v1 where the memory
# controller is a v1 hierarchy (this host's hybrid layout), else v2 where
# cgroup2 is mounted at /sys/fs/cgroup with memory enabled for children
# (systemd's unified layout, the test guest). Sets MEMCG_VERSION (1 or 2,
# empty when neither), MEMCG_ROOT, and MEMCG_WHY when there is none.
memcg_detect() {
	local v2=/sys/fs/cgroup
	MEMCG_VERSION= MEMCG_ROOT= MEMCG_WHY=
	if [ -f "$MEMCG_V1/memory.usage_in_bytes" ]; then
		MEMCG_VERSION=1 MEMCG_ROOT=$MEMCG_V1
	elif [ "$(stat -fc %T "$v2" 2>/dev/null)" = cgroup2fs ]; then
		if grep -qw memory "$v2/cgroup.subtree_control"; then
			MEMCG_VERSION=2 MEMCG_ROOT=$v2
		else
			MEMCG_WHY="cgroup v2 without the memory controller in $v2/cgroup.subtree_control"
		fi
	else
		MEMCG_WHY="no memory cgroup: neither $MEMCG_V1 (v1) nor cgroup2 at $v2"
	fi
	[ -z "$MEMCG_ROOT" ] || [ -w "$MEMCG_ROOT" ] || { MEMCG_WHY="$MEMCG_ROOT is not writable"; MEMCG_VERSION= MEMCG_ROOT=; }
	# sockleak's JSON names the memory cgroup in this field.
	MEMCG_JSON_FIELD=cgroup_v2
	[ "$MEMCG_VERSION" = 1 ] && MEMCG_JSON_FIELD=cgroup_v1_memory
	return 0
}
memcg_detect

# Tests that make scratch memory cgroups: either layout will do. Under
# CI=true a missing one is a failure, not a skip.
need_memcg() {
	[ -n "$MEMCG_ROOT" ] && return 0
	if [ "${CI:-}" = true ]; then
		echo "$MEMCG_WHY (CI=true: failing instead of skipping)" >&2
		return 1
	fi
	skip "$MEMCG_WHY"
}

# For what only v1 has (memory.memsw.*, memory.oom_control's knobs).
need_memcg_v1() {
	need_memcg || return 1
	[ "$MEMCG_VERSION" = 1 ] || skip "needs a cgroup v1 memory hierarchy (this is v$MEMCG_VERSION)"
}

# For what only v2 has (memory.oom.group, memory.events.local).
need_memcg_v2() {
	need_memcg || return 1
	[ "$MEMCG_VERSION" = 2 ] || skip "needs the cgroup v2 memory controller (this is v$MEMCG_VERSION)"
}

# Create a scratch memory cgroup owned by this test, optionally with a
# hard limit (memory.limit_in_bytes or memory.max, no swap beyond it);
# echoes its directory. Every one is removed by cleanup_scratch (call it
# from teardown).
scratch_memcg() {
	local name="memscope-test-$$-$1" limit="${2:-}"
	local dir="$MEMCG_ROOT/$name"
	[ -n "$MEMCG_ROOT" ] || { echo "scratch_memcg: $MEMCG_WHY" >&2; return 1; }
	mkdir "$dir" || return 1
	echo "$dir" >> "$BATS_TEST_TMPDIR/.scratch_cgroups"
	if [ -n "$limit" ]; then
		if [ "$MEMCG_VERSION" = 1 ]; then
			echo "$limit" > "$dir/memory.limit_in_bytes"
		else
			echo "$limit" > "$dir/memory.max"
			[ -f "$dir/memory.swap.max" ] && echo 0 > "$dir/memory.swap.max"
		fi
	fi
	echo "$dir"
}

# scratch_memcg_child PARENT NAME: a memory cgroup inside a scratch one (a
# unit in its slice); on v2 the parent delegates the memory controller.
scratch_memcg_child() {
	local dir="$1/$2"
	[ "$MEMCG_VERSION" = 2 ] && { echo +memory > "$1/cgroup.subtree_control" || return 1; }
	mkdir "$dir" || return 1
	echo "$dir" >> "$BATS_TEST_TMPDIR/.scratch_cgroups"
	echo "$dir"
}

# The kernel's own counters of a scratch memory cgroup, either layout.
memcg_usage() {
	if [ "$MEMCG_VERSION" = 1 ]; then cat "$1/memory.usage_in_bytes"; else cat "$1/memory.current"; fi
}
memcg_limit() {
	if [ "$MEMCG_VERSION" = 1 ]; then cat "$1/memory.limit_in_bytes"; else cat "$1/memory.max"; fi
}
memcg_oom_kills() {
	if [ "$MEMCG_VERSION" = 1 ]; then
		awk '$1 == "oom_kill" { print $2 }' "$1/memory.oom_control"
	else
		awk '$1 == "oom_kill" { print $2 }' "$1/memory.events"
	fi
}
# memory.stat's name for KEY (its v2 name) on this layout: v1's
# hierarchical total_ keys.
memcg_stat_key() {
	if [ "$MEMCG_VERSION" = 1 ]; then
		case "$1" in
		anon) echo total_rss ;;
		file) echo total_cache ;;
		*) echo "total_$1" ;;
		esac
	else
		echo "$1"
	fi
}

# The multi-gen LRU is on (/sys/kernel/mm/lru_gen/enabled, a mask of its
# parts; absent before 6.1 and where it is not built): it sorts pages by
# generation, not onto the active and inactive lists.
mglru_enabled() {
	[ -r /sys/kernel/mm/lru_gen/enabled ] && [ "$(($(cat /sys/kernel/mm/lru_gen/enabled)))" != 0 ]
}

# memcg_stat DIR KEY: a memory.stat value by its v2 name.
memcg_stat() {
	awk -v k="$(memcg_stat_key "$2")" '$1 == k { print $2; found = 1 } END { exit !found }' "$1/memory.stat"
}

# This shell's memory cgroup path as the kernel shows it in /proc/PID/cgroup.
self_memcg_path() {
	if [ "$MEMCG_VERSION" = 1 ]; then
		awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup
	else
		awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup
	fi
}

cleanup_scratch() {
	local f="$BATS_TEST_TMPDIR/.scratch_cgroups" dir p
	[ -f "$f" ] || return 0
	# Children before their parents: the reverse of creation.
	tac "$f" | while read -r dir; do
		[ -d "$dir" ] || continue
		for p in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		wait_for 30 rmdir "$dir" 2>/dev/null
	done
	rm -f "$f"
}

# Run "$@" inside a cgroup directory (v1 or v2) in the background; the pid
# is in $! of the caller through BG_PID.
run_in_cgroup() {
	local dir="$1"; shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$dir" "$@" &
	BG_PID=$!
}

# Does the running kernel have what --features calls $1 ("bpf_find_vma",
# "bpf_for_each_map_elem", "task storage", ...)? Where it does not, the
# kernel-facing tests assert what the tool does instead. Probed once a run.
kernel_has() {
	local f="$BATS_RUN_TMPDIR/features"
	[ -s "$f" ] || "$B/oomwatch" --features > "$f"
	grep -qF "$1 yes" "$f"
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

# Wait for PID to end (a zombie until its parent waits for it). The bound
# only ends a failure.
ended() {
	wait_for 120 sh -c "! grep -qs '^[0-9]* (.*) [^ZX] ' /proc/$1/stat"
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

# The lines of a tool's --help that bring in an option ("  -p, --pid=PID"),
# cut after the option's argument: the option lists of install.bats and
# harden.bats are read from these.
help_option_lines() { grep -oE '^ +(-[a-zA-Z?], )?--[a-z.-]+(=[A-Z:]+)?'; }
