#!/usr/bin/env bats
# Every tracer attached at once through a storm: memleak-trace -c, sockleak
# system-wide, oomwatch and the exporter scraped by a real Prometheus,
# while short-lived processes with a socket each, a socket/close loop,
# cgroups made and removed, and OOM kills run side by side. It passes when
# nothing locks up or crashes, every OOM kill is counted as the kernel
# counts it, sockets reconcile with /proc, and every tracer's memory is
# flat. STRESS_SECS sets the storm's length (default 10: the short form
# the suites run; scripts/stress runs the long one).
# In CI it runs on the host and in the 6.1 guest (cgroup v2 alone, TCG).
# bats file_tags=guest

load helpers
load prometheus

RULES="$ROOT/deploy/prometheus"
SECS=${STRESS_SECS:-10}
KILLS=${STRESS_KILLS:-10}
WL="$B/bench/bench-wl"

setup() { prom_setup; }
teardown() {
	[ -n "${CHURN:-}" ] && rm -f "$CHURN"
	prom_teardown
}

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
alive() { for p in "$@"; do kill -0 "$p" || { echo "tracer $p is gone" >&2; return 1; }; done; }

# mkdir and rmdir under the scratch cgroup, as fast as a shell can, until
# the file $CHURN goes away.
cgroup_churn() {
	local i=0
	while [ -e "$CHURN" ]; do
		mkdir "$1/churn-$i" 2>/dev/null && rmdir "$1/churn-$i"
		i=$(( (i + 1) % 1000 ))
	done
}

# One hog after another in a small cgroup, each OOM-killed.
oom_storm() {
	local i
	for i in $(seq "$2"); do
		sh -c 'echo $$ > "$0/cgroup.procs" && exec "$1" hog -t 60' "$1" "$WL" 2>/dev/null || true
	done
}

@test "stress: all tracers through a fork, socket, cgroup and OOM storm: no lockup, kills and sockets as the kernel counts them, memory flat" {
	need_bpf
	need_memcg
	[ -x "$WL" ] || make -s -C "$ROOT" BUILD="$B" bench-bins >&2
	app=$(scratch_memcg app)
	oom=$(scratch_memcg oom 16M)
	churn=$(scratch_memcg churn)
	dmesg_from=$(wc -l < <(dmesg))

	"$B/memleak-trace" -c "$app" --json -i 2 --output "$T/ml.json" 2> "$T/ml.err" &
	ML=$!
	"$B/sockleak" --json -i 2 --output "$T/sl.json" 2> "$T/sl.err" &
	SL=$!
	"$B/oomwatch" --json --output "$T/oom.json" 2> "$T/oom.err" &
	OW=$!
	PIDS+=("$ML" "$SL" "$OW")
	wait_ready "$T/ml.err" 60
	wait_ready "$T/sl.err" 60
	wait_for 60 grep -q . "$T/oom.err"
	start_exporter -i 1
	start_prometheus
	scrapes0=$(promq 'memscope_exporter_scrapes_total')

	# A holder of a known number of sockets, to reconcile at the end.
	"$W/sockserver" "$T/port" > /dev/null &
	PIDS+=($!)
	wait_for 10 test -s "$T/port"
	"$W/sockclient" "$(cat "$T/port")" 50 0 > "$T/client" &
	PIDS+=($!)
	wait_for 30 grep -q done "$T/client"
	HOLD=$(pgrep -f "sockserver $T/port" | head -1)

	rss0=(); for p in "$ML" "$SL" "$OW" "$EXP"; do rss0+=("$(rss_kib "$p")"); done

	# The storm.
	CHURN="$T/churn.on"; touch "$CHURN"
	cgroup_churn "$churn" & CH=$!
	# bench-wl starts at a line on stdin and ends at EOF.
	sh -c 'echo $$ > "$0/cgroup.procs" && echo go | "$1" spawn -t "$2" -w 2' "$app" "$WL" "$SECS" > "$T/spawn.out" &
	SP=$!
	echo go | "$WL" socket -t "$SECS" -w 1 > "$T/socket.out" &
	SO=$!
	oom_storm "$oom" "$KILLS" 2> /dev/null &
	OS=$!
	PIDS+=("$CH" "$SP" "$SO" "$OS")
	# Half-way, the tracers' memory once more: growth after this is a leak.
	wait "$SP"
	grep -q '^result ops=[1-9]' "$T/spawn.out"
	echo "fork storm: $(awk '/^result/ { split($2, o, "="); split($4, s, "="); printf "%d processes, %.0f/s", o[2], o[2] / s[2] }' "$T/spawn.out")"
	rss1=(); for p in "$ML" "$SL" "$OW" "$EXP"; do rss1+=("$(rss_kib "$p")"); done
	wait "$SO"
	grep -q '^result ops=[1-9]' "$T/socket.out"
	wait "$OS"
	rm -f "$CHURN"; wait "$CH"
	alive "$ML" "$SL" "$OW" "$EXP" "$PROM"

	# OOM kills: the kernel's count, in oomwatch, the exporter and Prometheus.
	kills=$(memcg_oom_kills "$oom")
	echo "OOM kills in the scratch cgroup: $kills"
	[ "$kills" -ge "$KILLS" ]
	wait_for 60 sh -c "[ \$(jq -c 'select(.event == \"oom_kill\" and .memcg.path == \"/${oom##*/}\")' '$T/oom.json' | wc -l) -eq $kills ]"
	osel="cgroup=\"/${oom##*/}\""
	wait_promq 60 "memscope_cgroup_oom_kills_total{$osel} == $kills"
	wait_promq 60 "memscope_oom_kills_total{$osel,comm=\"bench-wl\"} == $kills"
	[ "$(promq 'up{job="memscope"}')" = 1 ]
	scrapes1=$(promq 'memscope_exporter_scrapes_total')
	[ "${scrapes1%.*}" -gt "${scrapes0%.*}" ]

	# Sockets: the holder's, as /proc has them.
	held=$(ls -l "/proc/$HOLD/fd" | grep -c 'socket:')
	kill -INT "$SL"; wait "$SL"
	jq -c "select(.type == \"process\" and .report == \"final\" and .pid == $HOLD) | .alive" "$T/sl.json" > "$T/held"
	[ "$(cat "$T/held")" -eq "$held" ]
	jq -e 'select(.type == "summary") | .drops' "$T/sl.json" > /dev/null

	# Memory: what a tracer gained after the half-way point is small.
	i=0
	for p in "$ML" "$SL" "$OW" "$EXP"; do
		echo "pid $p RSS KiB: start ${rss0[$i]}, half-way ${rss1[$i]}, end $( [ "$p" = "$SL" ] && echo exited || rss_kib "$p")"
		if [ "$p" != "$SL" ]; then
			end=$(rss_kib "$p")
			[ "$end" -le $(( rss1[i] + rss1[i] / 4 + 8192 )) ]
		fi
		i=$((i + 1))
	done

	# No lockup, hung task or BUG in the kernel log since the start.
	! dmesg | tail -n +"$((dmesg_from + 1))" | grep -E 'soft lockup|hard LOCKUP|hung_task|BUG:|Oops'
	kill -INT "$ML" "$OW"
	wait "$ML"
	wait "$OW"
}
