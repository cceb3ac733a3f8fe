#!/usr/bin/env bats
# deploy/Containerfile for real, with Debian's podman: the image built from
# this tree on a base imported from the debootstrapped root (no registry
# is reachable here), run with the DaemonSet's capabilities, mounts and
# memory limit, scraped by a real Prometheus; leaking containers named by
# their container id by the exporter and by the tools on the host.
# podman runs with runc: crun refuses hybrid cgroup hosts like this one.

load ../e2e/helpers
load ../e2e/prometheus
bats_require_minimum_version 1.5.0

BASE=localhost/memscope-base:bookworm
IMAGE=localhost/memscope-exporter:ci
RULES="$ROOT/deploy/prometheus"
pod() { podman --runtime runc "$@"; }
# podman's default limits (nofile 1048576) are above what a process may
# raise to without CAP_SYS_RESOURCE, which the DaemonSet does not grant
# and this test's own environment may not have.
LIMITS="--ulimit nofile=1024:1024 --ulimit nproc=4096:4096"

setup_file() {
	need_bpf
	command -v podman > /dev/null || { echo "podman missing: run scripts/deps.sh" >&2; return 1; }
	local root
	root=$("$ROOT/scripts/mkroot" bookworm) || return 1
	podman image exists "$BASE" ||
		tar -C "$ROOT/$root" --exclude=./.memscope-root -c . | podman import - "$BASE" > /dev/null
	pod build --build-arg BASE="$BASE" -f "$ROOT/deploy/Containerfile" -t "$IMAGE" "$ROOT" \
		> "$BATS_FILE_TMPDIR/build.log" 2>&1 || { tail -20 "$BATS_FILE_TMPDIR/build.log" >&3; return 1; }
}

setup() { prom_setup; }

# Every container of this run, by name: run_ctr is called in $(...), so
# a list kept in a variable would not reach the teardown.
teardown() {
	podman ps -aq --filter "name=^memscope-test-$$-" | xargs -r podman rm -f > /dev/null 2>&1
	prom_teardown
}

# run_ctr NAME ARGS...: a detached container of ours, removed at teardown.
run_ctr() {
	local name="memscope-test-$$-$1"
	shift
	pod run -d --name "$name" $LIMITS "$@" > /dev/null
	podman inspect -f '{{.Id}}' "$name"
}

# The DaemonSet's security context and mounts (deploy/kubernetes), with
# the host's network for the port.
run_exporter() {
	run_ctr exporter --pid=host --network=host --read-only --memory 320m \
		--cap-drop=all --cap-add=BPF,PERFMON,SYS_PTRACE,DAC_READ_SEARCH \
		--security-opt seccomp=unconfined --security-opt no-new-privileges \
		-v /sys/fs/cgroup:/sys/fs/cgroup:ro -v /sys/kernel/tracing:/sys/kernel/tracing:ro \
		-v /sys/kernel/btf:/sys/kernel/btf:ro "$IMAGE" --listen 127.0.0.1:0 -i 1
}

# A container of the base image running one of our workloads.
run_workload() {
	local name="$1"
	shift
	run_ctr "$name" -v "$W:/wl:ro" "$@"
}

@test "container: the exporter's image runs as the DaemonSet runs it, Prometheus scrapes it, and an OOM-killed container is labelled with its id" {
	local id exp="memscope-test-$$-exporter"
	# Port 0: the kernel picks a free one, and the start line names it.
	run_exporter
	wait_for 60 sh -c "podman logs $exp 2>&1 | grep -q serving" || { podman logs "$exp" >&2; false; }
	EXP_URL=$(podman logs "$exp" 2>&1 | grep -oE 'http://[^ ]*/metrics' | head -1)
	EXP_URL=${EXP_URL%/metrics}
	start_prometheus
	id=$(run_workload hog --memory 64m --memory-swap 64m "$BASE" /wl/hog -t 200 -s 8)
	wait_for 60 sh -c "[ \"\$(podman inspect -f '{{.State.ExitCode}}' $id)\" = 137 ]"
	wait_promq 60 "memscope_oom_kills_total{container_id=\"podman://$id\",comm=\"hog\"} == 1"
	# It still runs: its own memory limit holds its maps and the verifier's peak.
	[ "$(podman inspect -f '{{.State.Running}}' "$exp")" = true ]
}

@test "container: on the host, memleak-trace -c, sockleak -c and oomwatch name what leaks in a container, by its id" {
	local id srv hog tracer T="$BATS_TEST_TMPDIR"
	# leak_mmap: 40 mappings of 256 KiB once told to start, kept.
	id=$(run_workload leak "$BASE" /wl/leak_mmap 40 256 -w)
	"$B/memleak-trace" -c "${id:0:12}" --json -i 1 -d 120 > "$T/ml.json" 2> "$T/ml.err" &
	tracer=$!
	wait_ready "$T/ml.err" 60 || wait_for 60 grep -q '"ready"' "$T/ml.json"
	podman kill -s USR1 "$id" > /dev/null
	wait_for 60 grep -q '"culprit":"leak_mapping' "$T/ml.json"
	kill -INT "$tracer"; wait "$tracer"
	# A server in a container that never closes what its clients hang up.
	srv=$(run_workload srv --network=host -v "$T:/out" "$BASE" /wl/sockserver /out/port)
	wait_for 30 test -s "$T/port"
	"$B/sockleak" -c "$srv" --older-than 1 --json -d 120 > "$T/sl.json" 2> "$T/sl.err" &
	tracer=$!
	wait_ready "$T/sl.err" 60 || wait_for 60 grep -q '"ready"' "$T/sl.json"
	"$W/sockclient" "$(cat "$T/port")" 20 0 > "$T/client" &
	PIDS+=($!)
	wait_for 60 grep -q done "$T/client"
	wait_for 30 sh -c "[ \$(ss -tan state close-wait | grep -c ':$(cat "$T/port") ') -ge 20 ]"
	kill -INT "$tracer"; wait "$tracer"
	jq -se --arg id "$srv" 'map(select(.type == "process" and .report == "final" and .comm == "sockserver"))[0] |
		.close_wait == 20 and .container.id == $id and .container.runtime == "podman"' "$T/sl.json"
	# An OOM kill in a container run with --memory: its id in oomwatch's record.
	"$B/oomwatch" --json -d 120 > "$T/oom.json" 2> "$T/oom.err" &
	tracer=$!
	wait_ready "$T/oom.err" 60 || wait_for 60 grep -q '"ready"' "$T/oom.json"
	hog=$(run_workload hog --memory 64m --memory-swap 64m "$BASE" /wl/hog -t 200 -s 8)
	wait_for 60 grep -q "\"id\": *\"$hog\"" "$T/oom.json"
	kill -INT "$tracer"; wait "$tracer"
	jq -se --arg id "$hog" 'map(select(.event == "oom_kill" and .memcg.container.id == $id))[0] |
		.victim.comm == "hog" and .memcg.container.runtime == "podman" and .memcg.limit_bytes == 67108864' "$T/oom.json"
}
