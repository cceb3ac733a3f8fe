#!/usr/bin/env bats
# memscope-exporter end to end: the real binary serving HTTP, scraped by
# Debian's real Prometheus (its own instance on a loopback port, its own
# data directory), values checked through Prometheus' HTTP API against the
# kernel's cgroup files and ss; the alert rules through promtool.

# Also run in the 6.1 guest (cgroup v2 alone; tag "guest", scripts/run-tests.sh).
# bats file_tags=guest
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
	# Where it listens, from the file alone (as the systemd unit runs it):
	# once served on "" (the file's buffer, freed once read).
	kill "$EXP"; wait "$EXP" || true
	printf 'listen = 127.0.0.1:0\ncollectors = cgroups\n' > "$T/listen.conf"
	"$B/memscope-exporter" --config "$T/listen.conf" 2> "$T/exp.err" &
	EXP=$!
	wait_for 30 grep -q 'serving http://127.0.0.1:[0-9]*/metrics' "$T/exp.err" || { cat "$T/exp.err" >&2; false; }
	curl -sf "http://127.0.0.1:$(listen_port "$EXP")/metrics" | grep -q '^memscope_exporter_resident_memory_bytes '
}

@test "exporter: its man page names every metric family it serves, and no other" {
	need_bpf
	need_memcg
	start_exporter -i 0.5
	wait_for 60 sh -c "curl -sf '$EXP_URL/metrics' | grep -q '^# TYPE memscope_oom_kills_total '"
	curl -sf "$EXP_URL/metrics" | awk '$1 == "#" && $2 == "TYPE" { print $3 }' | sort -u > "$T/served"
	grep -oE 'memscope_[a-z_]+[a-z]' "$ROOT/man/memscope-exporter.8.scd" | sort -u > "$T/documented"
	[ "$(wc -l < "$T/served")" -ge 40 ]
	diff "$T/served" "$T/documented"
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

# bats test_tags=kernel
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
	# The journal line: usage and limit from the kill's event (48M cgroup).
	[ "$(memcg_limit "$oom")" -eq $((48 << 20)) ]
	grep -Eq "OOM kill: hog\($HOG\) in /${oom##*/}, constraint memcg, usage 4[0-9.]+ MiB of limit 48.0 MiB" "$T/exp.err"
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

@test "exporter: 1,000 idle half-sent requests from one address leave another client's scrape served; oversized headers get 431" {
	start_exporter --collectors cgroups
	port=$(listen_port "$EXP")
	mkfifo "$T/hold.in"
	"$ROOT/tests/e2e/hold_conns.py" 1000 "$port" 127.0.0.2 < "$T/hold.in" > "$T/hold.out" &
	PIDS+=($!)
	exec {keep}> "$T/hold.in"
	wait_for 120 grep -q '^held 1000' "$T/hold.out"
	# The address holds what it may (seen before: 16 slots in all, and a
	# scrape waited 40 s behind 64 such connections), and no more.
	held=$(ss -Htn state established "( sport = :$port and dst 127.0.0.2 )" | wc -l)
	echo "held by 127.0.0.2: $held"
	[ "$held" -ge 1 ] && [ "$held" -le 32 ]
	curl -sf --max-time 30 "$EXP_URL/metrics" > "$T/metrics"
	grep -q '^memscope_cgroup_memory_working_set_bytes{cgroup="/"}' "$T/metrics"
	exec {keep}>&-
	# Headers past the cap: 431, at once, not a stall or a dropped socket.
	code=$(python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 40000 + b"\r\n\r\n")
print(s.recv(64).split()[1].decode())' "$port")
	[ "$code" = 431 ]
}

# A certificate for 127.0.0.1 and a web config asking for TLS and user
# "prom" with password "s3cret" (bcrypt, as htpasswd -B writes it).
make_web_config() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$T/server.key" -out "$T/server.crt" 2>/dev/null
	hash=$(python3 -W ignore -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))')
	printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prom: %s\n' \
		"$hash" > "$T/web.yml"
}

@test "exporter: --web.config.file serves TLS and asks for a password; Prometheus scrapes through both; bad files are one line" {
	make_web_config
	start_exporter --collectors cgroups --web.config.file "$T/web.yml"
	[[ "$EXP_URL" == https://* ]]
	grep -q 'with basic auth' "$T/exp.err"
	code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$T/server.crt" "$@" "$EXP_URL/metrics"; }
	[ "$(code)" = 401 ]
	[ "$(code -u prom:wrong)" = 401 ]
	[ "$(code -u nobody:s3cret)" = 401 ]
	[ "$(code -u prom:s3cret)" = 200 ]
	# Plain HTTP on the TLS port gets no metrics.
	! curl -sf --max-time 10 "http://${EXP_URL#https://}/metrics"
	PROM_SCRAPE_EXTRA="    scheme: https
    tls_config: { ca_file: $T/server.crt }
    basic_auth: { username: prom, password: s3cret }"
	start_prometheus
	[ "$(promq 'up{job="memscope"}')" = 1 ]
	wait_promq 60 'memscope_cgroup_memory_working_set_bytes{cgroup="/"}'
	# Settings not implemented are refused, not ignored.
	printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n' > "$T/mtls.yml"
	run "$B/memscope-exporter" --collectors cgroups --listen 127.0.0.1:0 --web.config.file "$T/mtls.yml"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"'client_auth_type' is not supported"* ]]
	printf 'basic_auth_users:\n  prom: s3cret\n' > "$T/plain.yml"
	run "$B/memscope-exporter" --collectors cgroups --listen 127.0.0.1:0 --web.config.file "$T/plain.yml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"needs a bcrypt hash"* ]]
}

# The kernel's PSI total of a file, in seconds: "some" or "full".
psi_total() { awk -v k="$2" '$1 == k { sub("total=", "", $5); printf "%.6f\n", $5 / 1e6 }' "$1"; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
metric() { curl -sf "$EXP_URL/metrics" | awk -v m="$1" '$1 == m { print $2; exit }'; }

# bats test_tags=kernel
@test "exporter: memory pressure as the kernel's PSI totals (host; cgroup on v2, absent on v1) and its own BPF programs' runs as bpftool counts them" {
	need_bpf
	need_memcg
	oom=$(scratch_memcg psi 32M)
	host0=$(psi_total /proc/pressure/memory some)
	start_exporter -i 0.5
	# Reclaim, then an OOM kill, in the scratch cgroup: stalls to count.
	run_in_cgroup "$oom" "$W/hog" -t 100 -s 4 -w 20
	PIDS+=("$BG_PID")
	wait_for 60 oom_killed "$oom"
	sel="memscope_cgroup_memory_pressure_stalled_seconds_total{cgroup=\"/${oom##*/}\","
	if [ "$MEMCG_VERSION" = 2 ]; then
		wait_for 60 sh -c "awk '\$1 == \"some\" && \$5 != \"total=0\"' '$oom/memory.pressure' | grep -q ."
		wait_for 30 sh -c "curl -sf '$EXP_URL/metrics' | grep -F '$sel' | grep 'kind=\"some\"' | grep -qv ' 0\$'"
		v=$(curl -sf "$EXP_URL/metrics" | grep -F "$sel" | grep 'kind="some"' | awk '{ print $2 }')
		le "$v" "$(psi_total "$oom/memory.pressure" some)"
	else
		# v1 has no pressure files: no series, and the HELP says so.
		curl -sf "$EXP_URL/metrics" > "$T/metrics"
		! grep -qF "$sel" "$T/metrics"
		grep -q '^# HELP memscope_cgroup_memory_pressure_stalled_seconds_total .*Absent on cgroup v1' "$T/metrics"
	fi
	# The host's: between the kernel's total before the exporter started and now.
	h=$(metric 'memscope_host_memory_pressure_stalled_seconds_total{kind="some"}')
	le "$host0" "$h"
	le "$h" "$(psi_total /proc/pressure/memory some)"

	# The exporter's programs ran (the hog and its shell forked and exited):
	# their counts as the kernel keeps them, never above bpftool's later read.
	[ "$(metric memscope_exporter_bpf_stats_enabled)" = 1 ]
	line=$(curl -sf "$EXP_URL/metrics" | grep '^memscope_exporter_bpf_runs_total{program="proc_exit"')
	id=$(sed 's/.*id="\([0-9]*\)".*/\1/' <<< "$line")
	runs=${line##* }
	[ "$runs" -gt 0 ]
	le "$runs" "$(bpftool prog show id "$id" -j | jq .run_cnt)"
	secs=$(curl -sf "$EXP_URL/metrics" | grep "^memscope_exporter_bpf_run_seconds_total{program=\"proc_exit\",id=\"$id\"}" | awk '{ print $2 }')
	le 0.000000001 "$secs"
	le "$secs" "$(bpftool prog show id "$id" -j | jq '.run_time_ns / 1e9')"
}

# bats test_tags=kernel
@test "exporter: the fill of its BPF maps, as bpftool sees them" {
	need_bpf
	start_exporter -i 0.5 --collectors sockets
	"$W/sockcases" idle 250 0 > "$T/held" &
	PIDS+=($!)
	wait_for 10 grep -q ready "$T/held"
	fds() { curl -sf "$EXP_URL/metrics" | awk -v m="$1" '$1 ~ "^" m "\\{map=\"fds\"" { print $2; exit }'; }
	at_least() { [ "$(fds memscope_exporter_bpf_map_entries)" -ge "$1" ]; }
	# The 250 sockets held are entries of the fds map, whatever else the host holds.
	wait_for 30 at_least 250
	id=$(curl -sf "$EXP_URL/metrics" | grep -o '^memscope_exporter_bpf_map_entries{map="fds",id="[0-9]*"' | grep -o '[0-9]*"$' | tr -d '"')
	[ "$(bpftool map show id "$id" -j | jq -r .name)" = fds ]
	[ "$(fds memscope_exporter_bpf_map_max_entries)" -eq "$(bpftool map show id "$id" -j | jq .max_entries)" ]
	[ "$(bpftool map dump id "$id" -j | jq length)" -ge 250 ]
	# Arrays, always full, are left out; the call-site LRU is in.
	! curl -sf "$EXP_URL/metrics" | grep -q '^memscope_exporter_bpf_map_entries{map="cs_window"'
	curl -sf "$EXP_URL/metrics" | grep -q '^memscope_exporter_bpf_map_max_entries{map="cs_sites",id="[0-9]*"} 16384$'
}

# bats test_tags=kernel
@test "exporter: starts and collects within the memory limit of its systemd unit and DaemonSet" {
	need_bpf
	need_memcg
	limit=$(sed -n 's/^MemoryMax=\([0-9]*\)M$/\1/p' "$ROOT/deploy/systemd/memscope-exporter.service")
	[ -n "$limit" ]
	grep -q "limits: { memory: ${limit}Mi }" "$ROOT/deploy/kubernetes/memscope-exporter.yaml"
	cg=$(scratch_memcg exporter "${limit}M")
	run_in_cgroup "$cg" sh -c "exec '$B/memscope-exporter' --listen 127.0.0.1:0 -i 0.5 2> '$T/exp.err'"
	EXP=$BG_PID
	wait_for 60 grep -qE 'serving https?://' "$T/exp.err"
	EXP_URL=$(grep -oE 'https?://[^ ]*/metrics' "$T/exp.err" | head -1)
	EXP_URL=${EXP_URL%/metrics}
	# Every collector loaded, then collections ran; no OOM kill on the way.
	collected() { [ "$(metric memscope_exporter_collections_total)" -ge 3 ]; }
	wait_for 60 collected
	curl -sf "$EXP_URL/metrics" | grep -q '^memscope_exporter_bpf_runs_total{program="proc_exit"'
	kill -0 "$EXP"
	[ "$(memcg_oom_kills "$cg")" -eq 0 ]
	if [ "$MEMCG_VERSION" = 1 ]; then peak=$(cat "$cg/memory.max_usage_in_bytes"); else peak=$(cat "$cg/memory.peak" 2>/dev/null || echo 0); fi
	echo "# peak $((peak / 1048576)) MiB of ${limit} MiB" >&3
	[ "$peak" -le $((limit * 1048576)) ]
}
