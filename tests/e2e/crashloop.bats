#!/usr/bin/env bats
# The crash loop end to end: a supervisor (a shell loop inside a scratch
# memory cgroup) starts a leaker again after each OOM kill. Within 20 s of
# each restart memdiag -i and memscope-exporter give the new incarnation's
# growth, near the rate the cgroup's own usage shows, and a finite time to
# the limit; Debian's Prometheus fires MemscopeMemoryLimitSoon in the
# second incarnation, before the second kill.

# Also run in the 6.1 guest (cgroup v2 alone; tag "guest", scripts/run-tests.sh).
# bats file_tags=guest
load helpers
load prometheus

RULES="$ROOT/deploy/prometheus"
# hog adds 1 MiB every 250 ms (4 MiB/s) until it is killed: under 128 MiB
# an incarnation lasts about 30 s, long enough for a slow guest to sample.
LIMIT=128M
STARTS=3
TOL=35    # percent: the leaker steps 1 MiB at a time

setup() { prom_setup; }
teardown() { prom_teardown; }

# supervise CGROUP: the supervisor, inside the cgroup, logs "start N
# UNIX_TIME" to $T/sup.log before each leaker and stops after STARTS.
supervise() {
	run_in_cgroup "$1" sh -c 'i=0; while [ $i -lt "$2" ]; do i=$((i + 1));
		echo "start $i $(date +%s.%N)" >> "$0"; "$1" -t 100000 -s 1 -w 250 > /dev/null 2>&1; done' \
		"$T/sup.log" "$W/hog" "$STARTS"
	PIDS+=("$BG_PID")
}

# memdiag's last whole JSON line: the stream may be mid-write (a line
# longer than stdio's buffer goes out in more than one write), so a last
# line without its newline is not yet a line.
md_last() {
	awk '{ if (prev != "") last = prev; prev = $0 } END { if (last != "") print last }' \
		<(cat "$T/md.json"; echo) 2>/dev/null
}

# What the two tools said last, for a failure's output.
last_said() {
	echo "at $(date +%s.%N): supervisor:" >&2
	cat "$T/sup.log" >&2
	echo "kernel oom_kill $(memcg_oom_kills "$CG"), usage $(memcg_usage "$CG")" >&2
	curl -sf "$EXP_URL/metrics" | grep -F "cgroup=\"$REL\"" | grep -E 'growth|until|incarnation' >&2
	md_last | jq -c '[.sample, .elapsed_s, .working_set_bytes, .oom_kills, .incarnation]' >&2
	cat "$T/md.err" >&2
	return 1
}

started() { grep -q "^start $1 " "$T/sup.log" 2>/dev/null; }
start_time() { awk -v n="$1" '$1 == "start" && $2 == n { print $3 }' "$T/sup.log"; }

# The exporter's value of a metric for the cgroup ("" when absent).
expv() {
	curl -sf "$EXP_URL/metrics" | awk -v m="$1{cgroup=\"$REL\"" 'index($0, m) == 1 { print $2 }'
}

# The exporter has a new incarnation (its start moved past $2) with a
# growth and a finite ETA.
exporter_follows() {
	local start eta
	start=$(expv memscope_cgroup_incarnation_start_timestamp_seconds)
	eta=$(expv memscope_cgroup_memory_seconds_until_limit)
	[ -n "$start" ] && [ -n "$eta" ] && [ -n "$(expv memscope_cgroup_memory_working_set_growth_bytes_per_second)" ] &&
		awk -v s="$start" -v p="$1" -v e="$eta" 'BEGIN { exit !(s > p && e > 0 && e < 1e9) }'
}

# memdiag's last JSON line after restart N has a growth and an ETA.
memdiag_follows() {
	md_last | jq -e --argjson n "$1" \
		'.incarnation.restarts == $n and .incarnation.enough_samples and .incarnation.limit_eta_s != null' > /dev/null
}

# The leaker's real rate (bytes/s) from the cgroup's own usage over 2 s
# (a measurement, not a wait); fails when a kill fell in between.
true_rate() {
	local k0 u0 t0 u1 t1
	k0=$(memcg_oom_kills "$CG") u0=$(memcg_usage "$CG") t0=$(date +%s.%N)
	sleep 2
	u1=$(memcg_usage "$CG") t1=$(date +%s.%N)
	[ "$(memcg_oom_kills "$CG")" = "$k0" ] || { echo "killed while measuring the rate" >&2; return 1; }
	awk -v a="$u0" -v b="$u1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.0f\n", (b - a) / (e - s) }'
}

# The alert for the cgroup, firing, active since UNIX_TIME $1 or later.
limit_soon_since() {
	curl -sf "$PROM_URL/api/v1/alerts" | jq -e --arg cg "$REL" --argjson t "$1" '[.data.alerts[]
		| select(.labels.alertname == "MemscopeMemoryLimitSoon" and .labels.cgroup == $cg and .state == "firing")
		| select((.activeAt | sub("\\.[0-9]+"; "") | fromdateiso8601) >= ($t | floor))] | length > 0' > /dev/null
}

@test "crash loop: after each OOM kill and restart, memdiag -i and the exporter give the new incarnation's growth and ETA; the limit-soon alert fires before the next kill" {
	need_memcg
	CG=$(scratch_memcg loop "$LIMIT")
	REL=/${CG##*/}
	start_exporter --collectors cgroups -i 0.5
	start_prometheus
	"$B/memdiag" -c "$CG" -i 0.5 --json > "$T/md.json" 2> "$T/md.err" &
	PIDS+=($!)
	"$B/memdiag" -c "$CG" -i 0.5 > "$T/md.txt" 2>&1 &
	PIDS+=($!)
	supervise "$CG"
	wait_for 60 exporter_follows 0
	prev=$(expv memscope_cgroup_incarnation_start_timestamp_seconds)

	for n in 1 2; do
		wait_for 300 started $((n + 1))
		[ "$(memcg_oom_kills "$CG")" -eq "$n" ]
		restart=$(start_time $((n + 1)))
		# Within 20 s of the restart: both speak of the new incarnation.
		wait_for 20 exporter_follows "$prev" || last_said
		wait_for 20 memdiag_follows "$n" || last_said
		prev=$(expv memscope_cgroup_incarnation_start_timestamp_seconds)
		rate=$(true_rate)
		approx "$(expv memscope_cgroup_memory_working_set_growth_bytes_per_second)" "$rate" $TOL
		approx "$(md_last | jq '.incarnation.growth_bytes_per_min / 60')" "$rate" $TOL
		ws=$(expv memscope_cgroup_memory_working_set_bytes)
		approx "$(expv memscope_cgroup_memory_seconds_until_limit)" \
			"$(awk -v l="$(memcg_limit "$CG")" -v w="$ws" -v r="$rate" 'BEGIN { print (l - w) / r }')" $TOL
		md_last | jq -e --argjson n "$n" '.incarnation.cause == "oom_kill" and .incarnation.oom_kill == $n
			and .incarnation.previous.growth_bytes_per_min > 0' > /dev/null
		grep -Eq "^restarted at [0-9:]+ \(OOM kill #$n\).*; growth since: \+[0-9.]+ MiB/s, limit in ~.*; previous incarnation grew \+" "$T/md.txt"
		if [ "$n" = 1 ]; then
			# Prometheus: the alert of this incarnation, before its kill.
			wait_for 300 sh -c "$(declare -f limit_soon_since memcg_oom_kills); PROM_URL=$PROM_URL REL=$REL MEMCG_VERSION=$MEMCG_VERSION; limit_soon_since $restart || [ \$(memcg_oom_kills $CG) -ge 2 ]"
			limit_soon_since "$restart"
			[ "$(memcg_oom_kills "$CG")" -eq 1 ]
		fi
	done
}
