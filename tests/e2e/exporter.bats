#!/usr/bin/env bats
# memscope-exporter end to end: the real binary serving HTTP, scraped by
# Debian's real Prometheus (its own instance on a loopback port, its own
# data directory), values checked through Prometheus' HTTP API against the
# kernel's cgroup files and ss; the alert rules through promtool.

load helpers
load prometheus

RULES="$ROOT/deploy/prometheus"

setup() { prom_setup; }
teardown() { prom_teardown; }

oom_killed() { [ "$(memcg_oom_kills "$1")" -ge 1 ]; }

@test "exporter: bad input is one error line and exit 1" {
	run "$B/memscope-exporter" --listen 127.0.0.1
	[ "$status" -eq 1 ]
	[[ "$output" == *"expected ADDR:PORT or :PORT"* ]]
	run "$B/memscope-exporter" --listen 127.0.0.1:12abc
	[ "$status" -ne 0 ]
	run "$B/memscope-exporter" --max-cgroups 0
	[ "$status" -ne 0 ]
	run "$B/memscope-exporter" --config "$T/none.conf"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | grep -c .)" -le 2 ]
	[[ "$output" == *"cannot read config file"* ]]
	printf 'listen = :1\nlisten_port = 3\n' > "$T/bad.conf"
	run "$B/memscope-exporter" --config "$T/bad.conf"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bad.conf:2: unknown setting 'listen_port'"* ]]
	# An address in use: one line naming it.
	start_exporter
	port=$(listen_port "$EXP")
	run "$B/memscope-exporter" --listen "127.0.0.1:$port"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"cannot listen on 127.0.0.1:$port: Address already in use"* ]]
}

@test "exporter: / links /metrics; the exposition passes promtool check metrics; the config file is read" {
	need_memcg
	printf '# test\ninterval = 0.5\nmax-series = 50000\n' > "$T/exp.conf"
	start_exporter --config "$T/exp.conf"
	grep -q 'collecting every 0.5 s' "$T/exp.err"
	curl -sf "$EXP_URL/" | grep -q '<a href="/metrics">'
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$EXP_URL/nothing")" = 404 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$EXP_URL/metrics")" = 405 ]
	curl -sf -D "$T/headers" "$EXP_URL/metrics" > "$T/metrics"
	grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers"
	promtool check metrics < "$T/metrics"
	# Every family has its HELP and TYPE, and counters end in _total.
	for f in $(grep -v '^#' "$T/metrics" | sed 's/[{ ].*//' | sort -u); do
		grep -q "^# HELP $f " "$T/metrics"
		grep -q "^# TYPE $f " "$T/metrics"
	done
	grep '^# TYPE .* counter$' "$T/metrics" | awk '{ print $3 }' | grep -qv '_total$' && false
	grep -q '^memscope_cgroup_memory_working_set_bytes{cgroup="/"}' "$T/metrics"
	grep -q '^memscope_exporter_resident_memory_bytes ' "$T/metrics"
}

@test "exporter: alert rules pass promtool check rules and promtool test rules" {
	promtool check rules "$RULES/memscope-rules.yml"
	run promtool test rules "$RULES/memscope-rules.test.yml"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *SUCCESS* ]]
}

@test "exporter: the cgroup cap keeps those closest to their limit and counts the rest" {
	need_memcg
	a=$(scratch_memcg capa 64M)
	b=$(scratch_memcg capb)
	run_in_cgroup "$a" "$W/hold_anon" 16
	PIDS+=("$BG_PID")
	wait_for 20 sh -c "[ \$(cat $a/memory.stat | awk '\$1 == \"total_rss\" || \$1 == \"anon\" { print \$2; exit }') -ge 16000000 ]"
	start_exporter --max-cgroups 2 -i 0.5
	curl -sf "$EXP_URL/metrics" > "$T/metrics"
	total=$(find "$MEMCG_ROOT" -name memory.stat | wc -l)
	grep -q "^memscope_exporter_cgroups $total\$" "$T/metrics"
	grep -q "^memscope_exporter_cgroups_dropped $((total - 2))\$" "$T/metrics"
	[ "$(grep -c '^memscope_cgroup_memory_working_set_bytes{' "$T/metrics")" -eq 2 ]
	# The root is always kept; the other one kept has a limit (ours has
	# one, so some cgroup with a limit beats every one without).
	grep -q '^memscope_cgroup_memory_working_set_bytes{cgroup="/"}' "$T/metrics"
	kept=$(grep '^memscope_cgroup_memory_working_set_bytes{' "$T/metrics" | grep -v 'cgroup="/"' | sed 's/^[^{]*{cgroup="\([^"]*\)".*/\1/')
	grep -q "^memscope_cgroup_memory_limit_bytes{cgroup=\"$kept\"" "$T/metrics"
	! grep -q "cgroup=\"/${b##*/}\"" "$T/metrics"
}

@test "exporter: Prometheus scrapes it; working set, limit, OOM kills and CLOSE_WAIT of scratch cgroups match the kernel's and ss" {
	need_bpf
	need_memcg
	held=$(scratch_memcg held 128M)
	oom=$(scratch_memcg oom 48M)
	start_exporter -i 0.5 --slope-window 5
	start_prometheus
	run_in_cgroup "$held" "$W/hold_anon" 32
	PIDS+=("$BG_PID")
	sel="cgroup=\"/${held##*/}\""

	# Working set, limit and headroom as the kernel's files give them.
	wait_promq 60 "memscope_cgroup_memory_anon_bytes{$sel} > 32000000"
	usage=$(memcg_usage "$held")
	inact=$(memcg_stat "$held" inactive_file)
	ws=$(promq "memscope_cgroup_memory_working_set_bytes{$sel}")
	approx "$ws" $((usage - inact)) 10
	[ "$(promq "memscope_cgroup_memory_limit_bytes{$sel}")" = "$(memcg_limit "$held")" ]
	head=$(promq "memscope_cgroup_memory_headroom_bytes{$sel}")
	approx "$head" $(( $(memcg_limit "$held") - usage + inact )) 10

	# A hog OOM-killed in its cgroup: the kernel's count, through Prometheus.
	run_in_cgroup "$oom" "$W/hog" -t 200 -s 4 -w 20
	HOG=$BG_PID
	PIDS+=("$HOG")
	wait_for 60 oom_killed "$oom"
	kills=$(memcg_oom_kills "$oom")
	[ "$kills" -ge 1 ]
	osel="cgroup=\"/${oom##*/}\""
	wait_promq 60 "memscope_cgroup_oom_kills_total{$osel} == $kills"
	# The victim by name and the constraint, from mark_victim, as many as the kernel counted.
	wait_promq 60 "memscope_oom_kills_total{$osel,comm=\"hog\",constraint=\"memcg\"} == $kills"
	last=$(promq "memscope_oom_last_kill_timestamp_seconds{$osel,comm=\"hog\"}")
	now=$(date +%s)
	awk -v l="$last" -v n="$now" 'BEGIN { exit !(l > n - 120 && l <= n + 1) }'
	grep -q "OOM kill: hog($HOG) in /${oom##*/}, constraint memcg" "$T/exp.err"
	# The rule fires on it, in this Prometheus, naming the victim.
	wait_promq 60 "ALERTS{alertname=\"MemscopeOOMKill\",$osel,comm=\"hog\"}"

	# A server that never closes: its clients hang up, CLOSE_WAIT piles up.
	srvcg=$(scratch_memcg srv)
	run_in_cgroup "$srvcg" "$W/sockserver" "$T/port"
	SRV=$BG_PID
	PIDS+=("$SRV")
	wait_for 10 test -s "$T/port"
	"$W/sockclient" "$(cat "$T/port")" 40 0 > "$T/client" &
	PIDS+=($!)
	wait_for 30 grep -q done "$T/client"
	wait_for 30 sh -c "[ \$(ss -Htanp state close-wait | grep -c 'pid=$SRV,') -eq 40 ]"
	ssel="cgroup=\"/${srvcg##*/}\",comm=\"sockserver\""
	wait_promq 60 "memscope_sockets_close_wait{$ssel} == 40"
	[ "$(promq "memscope_sockets_close_wait{$ssel}")" -eq "$(ss -Htanp state close-wait | grep -c "pid=$SRV,")" ]
	# 40 accepted and the listener, none closed.
	[ "$(promq "memscope_sockets_open{$ssel}")" -eq 41 ]
	[ "$(promq "memscope_sockets_created_total{$ssel}")" -eq 41 ]
	[ "$(promq "memscope_sockets_closed_total{$ssel}")" -eq 0 ]
	fds=$(ls /proc/$SRV/fd | wc -l)
	approx "$(promq "memscope_fds_open{$ssel}")" "$fds" 5
	# The exposition Prometheus scraped is valid for promtool too.
	curl -sf "$EXP_URL/metrics" | promtool check metrics
}
