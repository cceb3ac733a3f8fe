#!/usr/bin/env bats
# oomwatch against real OOM kills in scratch memory cgroups (v1 on a hybrid
# host, v2 in the test guest of make test-vm): each kill is checked against
# the kernel's own report (dmesg) and its counters (oom_kill in
# memory.oom_control or memory.events). memory.oom.group needs v2.

bats_require_minimum_version 1.5.0
# Also run in the 6.1 guest (cgroup v2 alone; tag "guest", scripts/run-tests.sh).
# bats file_tags=guest
load helpers

MIB=1048576

setup() {
	need_bpf
	OUT="$BATS_TEST_TMPDIR/oom.out"
	ERR="$BATS_TEST_TMPDIR/oom.err"
}

teardown() {
	[ -n "${OW_PID:-}" ] && kill "$OW_PID" 2>/dev/null
	cleanup_scratch
}

# Start oomwatch in the background with "$@" and wait until it is attached.
start_oomwatch() {
	"$B/oomwatch" "$@" > "$OUT" 2> "$ERR" &
	OW_PID=$!
	wait_ready "$ERR" 30 || { cat "$ERR" >&2; return 1; }
}

# Stop it (final summary) and wait for it to exit.
stop_oomwatch() {
	kill -INT "$OW_PID"
	wait "$OW_PID"
	OW_PID=
}

kills() { jq -c 'select(.event == "oom_kill")' "$OUT"; }
test_kills_at_least() { [ "$(kills | wc -l)" -ge "$1" ]; }

# The kernel's "Killed process PID" line from the log.
kernel_killed_line() {
	dmesg | grep -F "Killed process $1 (" | tail -n 1
}

# KEY of the kernel's "Memory cgroup stats for /NAME:" block in the log,
# empty when the kernel rate-limited its report for that kill.
kernel_memcg_stat() {
	dmesg | sed -n "/Memory cgroup stats for \/$1:/,/Tasks state/p" |
		awk -v k="$2" '$(NF-1) == k { v = $NF } END { print v }'
}

# Does the kernel print its memcg counters batched per CPU, never summed
# for a report? So before 5.13 ("mm: memcontrol: switch to rstat"): each
# CPU held back up to MEMCG_CHARGE_BATCH (32) pages of each counter until
# it passed them on (__mod_memcg_state's "abs(x) > threshold"), and the
# OOM report printed the memcg's atomic totals as they were. oomwatch
# tells the layouts apart the same way: struct memcg_vmstats came with
# rstat.
kernel_memcg_stats_batched() {
	[ "$(bpftool btf dump file /sys/kernel/btf/vmlinux | grep -c "STRUCT 'memcg_vmstats' ")" = 0 ]
}

# lru_matches_kernel_report OURS KERNELS: an LRU list's size at the kill
# (bytes), oomwatch's against the kernel's report's. oomwatch reads the
# lists' own sizes, exact; a kernel of batched counters printed them up
# to 32 pages a CPU off, on either side.
lru_matches_kernel_report() {
	local d=$(($1 - $2)) slack
	kernel_memcg_stats_batched || { [ "$1" = "$2" ]; return; }
	slack=$((32 * $(nproc --all) * $(getconf PAGESIZE)))
	echo "LRU at the kill: oomwatch $1, kernel's report $2, allowed difference $slack" >&2
	[ "${d#-}" -le "$slack" ]
}

# bats test_tags=kernel
@test "oomwatch: hog killed at a 64 MiB limit, checked against the kernel's report" {
	need_memcg
	dir=$(scratch_memcg hog 64M)
	name=$(basename "$dir")
	start_oomwatch --json
	run_in_cgroup "$dir" "$W/hog" -t 200 -s 8
	pid=$BG_PID
	st=0; wait "$pid" || st=$?
	[ "$st" -eq 137 ]               # SIGKILL
	wait_for 10 grep -q '"oom_kill"' "$OUT"
	stop_oomwatch
	[ "$(kills | wc -l)" -eq 1 ]
	k=$(kills)
	[ "$(jq -r .victim.pid <<< "$k")" = "$pid" ]
	[ "$(jq -r .victim.comm <<< "$k")" = hog ]
	[ "$(jq -r .trigger.pid <<< "$k")" = "$pid" ]
	[ "$(jq -r .constraint <<< "$k")" = memcg ]
	[ "$(jq -r .kind <<< "$k")" = selected ]
	[ "$(jq -r .memcg.path <<< "$k")" = "/$name" ]
	[ "$(jq -r .memcg.limit_bytes <<< "$k")" = $((64 * MIB)) ]
	approx "$(jq -r .memcg.usage_bytes <<< "$k")" $((64 * MIB)) 3
	# The kernel's own lines, read independently of oomwatch.
	line=$(kernel_killed_line "$pid")
	[ -n "$line" ]
	kanon=$(sed -n 's/.*anon-rss:\([0-9]*\)kB.*/\1/p' <<< "$line")
	ktvm=$(sed -n 's/.*total-vm:\([0-9]*\)kB.*/\1/p' <<< "$line")
	[ "$(jq -r .victim.anon_rss_bytes <<< "$k")" = $((kanon * 1024)) ]
	[ "$(jq -r .victim.total_vm_bytes <<< "$k")" = $((ktvm * 1024)) ]
	dmesg | grep -F "constraint=CONSTRAINT_MEMCG" | grep -F "task_memcg=/$name,task=hog,pid=$pid," 
	[ "$(jq -r .kernel_report.matched <<< "$k")" = true ]
	[ "$(jq -r .kernel_report.constraint <<< "$k")" = CONSTRAINT_MEMCG ]
	[ "$(jq -r .kernel_report.oom_memcg <<< "$k")" = "/$name" ]
	# The OOM cgroup's memory.stat counters read in the kernel at the kill:
	# the victim's 64 MiB, equal to what the kernel's own report printed.
	at=$(jq -r .memcg.stat_at_kill.anon_bytes <<< "$k")
	approx "$at" $((64 * MIB)) 3
	krss=$(kernel_memcg_stat "$name" "$(memcg_stat_key anon)")
	[ -z "$krss" ] || [ "$at" = "$krss" ]
	[ -z "$krss" ] || lru_matches_kernel_report \
		"$(jq -r .memcg.stat_at_kill.inactive_anon_bytes <<< "$k")" \
		"$(kernel_memcg_stat "$name" "$(memcg_stat_key inactive_anon)")"
	# The file read afterwards is kept, labelled with its delay.
	jq -e --arg k "$(memcg_stat_key anon)" \
		'.memcg.stat_read_after_s > 0 and .memcg.stat[$k] <= .memcg.stat_at_kill.anon_bytes' <<< "$k"
	# The cmdline was copied in the kernel, before the victim was gone.
	[ "$(jq -r .victim.cmdline <<< "$k")" = "$W/hog -t 200 -s 8" ]
	[ "$(jq -r .victim.cmdline_source <<< "$k")" = kernel ]
	[ "$(jq -r .memcg.events.oom_kill <<< "$k")" = 1 ]
	# The summary agrees with the kernel's counter.
	s=$(jq -c 'select(.event == "summary")' "$OUT")
	[ "$(jq -r --arg p "/$name" '.cgroups[] | select(.path == $p) | .kills' <<< "$s")" = 1 ]
	[ "$(jq -r --arg p "/$name" '.cgroups[] | select(.path == $p) | .missed' <<< "$s")" = 0 ]
}

# bats test_tags=kernel
@test "oomwatch: two cgroups, only the one over its limit has a kill" {
	need_memcg
	a=$(scratch_memcg over 48M)
	b=$(scratch_memcg under 256M)
	start_oomwatch --json
	run_in_cgroup "$b" "$W/hog" -t 32 -s 8 -H -r "$BATS_TEST_TMPDIR/b.ready"
	bpid=$BG_PID
	wait_for 10 test -e "$BATS_TEST_TMPDIR/b.ready"
	run_in_cgroup "$a" "$W/hog" -t 200 -s 8
	apid=$BG_PID
	st=0; wait "$apid" || st=$?
	[ "$st" -eq 137 ]
	wait_for 10 grep -q '"oom_kill"' "$OUT"
	kill -0 "$bpid"                 # the other hog lives on
	stop_oomwatch
	[ "$(kills | wc -l)" -eq 1 ]
	[ "$(kills | jq -r .victim.pid)" = "$apid" ]
	[ "$(kills | jq -r .memcg.path)" = "/$(basename "$a")" ]
	[ "$(memcg_oom_kills "$b")" = 0 ]
}

# bats test_tags=kernel
@test "oomwatch: the victim is a sibling with oom_score_adj 1000, not the trigger" {
	need_memcg
	dir=$(scratch_memcg sibling 64M)
	start_oomwatch --json
	# The holder takes 40 MiB and sleeps, marked as the preferred victim.
	run_in_cgroup "$dir" "$W/hog" -t 40 -s 8 -a 1000 -H -r "$BATS_TEST_TMPDIR/held"
	holder=$BG_PID
	wait_for 10 test -e "$BATS_TEST_TMPDIR/held"
	# The trigger asks for 30 MiB more, in small steps: over the limit
	# with the holder, well under it alone, so it survives even if the
	# holder's pages come back late (a slow guest).
	run_in_cgroup "$dir" "$W/hog" -t 30 -s 1
	trigger=$BG_PID
	# In the emulated guest the holder's pages can come back so late that
	# the trigger, still over the limit, is the next kill: then it is the
	# second one, after the holder. The first kill is the point here.
	tst=0; wait "$trigger" || tst=$?
	st=0; wait "$holder" || st=$?
	[ "$st" -eq 137 ]
	[ "$tst" -eq 0 ] || [ "$tst" -eq 137 ]
	n=$((1 + (tst == 137)))
	wait_for 10 test_kills_at_least "$n"
	stop_oomwatch
	[ "$(kills | wc -l)" -eq "$n" ]
	[ "$n" -eq 1 ] || [ "$(kills | sed -n 2p | jq -r .victim.pid)" = "$trigger" ]
	k=$(kills | head -1)
	[ "$(jq -r .victim.pid <<< "$k")" = "$holder" ]
	[ "$(jq -r .victim.oom_score_adj <<< "$k")" = 1000 ]
	[ "$(jq -r .trigger.pid <<< "$k")" = "$trigger" ]
	[ "$(jq -r .trigger.is_victim <<< "$k")" = false ]
	approx "$(jq -r .victim.anon_rss_bytes <<< "$k")" $((40 * MIB)) 5
	kernel_killed_line "$holder" | grep -F "oom_score_adj:1000"
	# its cmdline copied in the kernel when it took its SIGKILL
	[ "$(jq -r .victim.cmdline <<< "$k")" = "$W/hog -t 40 -s 8 -a 1000 -H -r $BATS_TEST_TMPDIR/held" ]
	[ "$(jq -r .victim.cmdline_source <<< "$k")" = kernel ]
}

# bats test_tags=kernel
@test "oomwatch: memory.oom.group=1 kills every member, each reported, matching memory.events" {
	need_memcg_v2
	dir=$(scratch_memcg group 64M)
	name=$(basename "$dir")
	echo 1 > "$dir/memory.oom.group"
	start_oomwatch --json -c "$dir"
	# Two members hold 16 MiB each; the third grows until the cgroup is
	# full and is the one selected (the largest); the group goes with it.
	run_in_cgroup "$dir" "$W/hog" -t 16 -s 8 -H -r "$BATS_TEST_TMPDIR/m1"
	m1=$BG_PID
	run_in_cgroup "$dir" "$W/hog" -t 16 -s 8 -H -r "$BATS_TEST_TMPDIR/m2"
	m2=$BG_PID
	wait_for 60 test -e "$BATS_TEST_TMPDIR/m1" -a -e "$BATS_TEST_TMPDIR/m2"
	run_in_cgroup "$dir" "$W/hog" -t 200 -s 8
	big=$BG_PID
	for p in "$big" "$m1" "$m2"; do
		st=0; wait "$p" || st=$?
		[ "$st" -eq 137 ]
	done
	# One group kill. oom_kill counts one per "Killed process" line of the
	# kernel's log, and the group scan reaches the selected victim again:
	# its line (and count) appears twice, so oom_kill is one above the
	# three victims, which oomwatch must not call a missed kill.
	# (memory.events counts group kills from 5.16: not on 5.10.)
	! grep -q '^oom_group_kill ' "$dir/memory.events" ||
		[ "$(awk '$1 == "oom_group_kill" { print $2 }' "$dir/memory.events")" = 1 ]
	kernel=$(memcg_oom_kills "$dir")
	[ "$kernel" -eq "$(dmesg | grep -cE "Killed process ($big|$m1|$m2) \(")" ]
	[ "$kernel" -ge 3 ]
	wait_for 60 sh -c "[ \$(grep -c '\"oom_kill\"' '$OUT') -ge 3 ]"
	stop_oomwatch
	[ "$(kills | wc -l)" -eq 3 ]
	[ "$(kills | jq -r .victim.pid | sort -n | tr '\n' ' ')" = "$(printf '%s\n' "$big" "$m1" "$m2" | sort -n | tr '\n' ' ')" ]
	[ "$(kills | jq -r 'select(.kind == "selected") | .victim.pid')" = "$big" ]
	[ "$(kills | jq -r 'select(.kind == "group member") | .victim.pid' | sort -n | tr '\n' ' ')" = "$(printf '%s\n' "$m1" "$m2" | sort -n | tr '\n' ' ')" ]
	[ "$(kills | jq -r .memcg.path | sort -u)" = "/$name" ]
	[ "$(kills | jq -r .memcg.oom_group | sort -u)" = true ]
	[ "$(kills | jq -r .trigger.pid | sort -u)" = "$big" ]
	s=$(jq -c 'select(.event == "summary")' "$OUT")
	[ "$(jq -r .kills <<< "$s")" -eq 3 ]
	[ "$(jq -r .group_members <<< "$s")" -eq 2 ]
	[ "$(jq -r --arg p "/$name" '.cgroups[] | select(.path == $p) | .kills' <<< "$s")" -eq 3 ]
	[ "$(jq -r --arg p "/$name" '.cgroups[] | select(.path == $p) | .kernel_oom_kill' <<< "$s")" -eq "$kernel" ]
	[ "$(jq -r --arg p "/$name" '.cgroups[] | select(.path == $p) | .missed' <<< "$s")" -eq 0 ]
}

# bats test_tags=kernel
@test "oomwatch: plain report, the classic tracepoint, and --output-dir files" {
	need_memcg
	dir=$(scratch_memcg plain 32M)
	outdir="$BATS_TEST_TMPDIR/kills"
	start_oomwatch --hook tracepoint --output-dir "$outdir"
	run_in_cgroup "$dir" "$W/hog" -t 100 -s 8
	pid=$BG_PID
	wait "$pid" || true
	wait_for 10 grep -q '^OOM kill' "$OUT"
	stop_oomwatch
	grep -E "^OOM kill: hog\($pid\) in /$(basename "$dir") — cgroup limit 32.0 MiB hit" "$OUT"
	grep -E "^  (kernel)? +Memory cgroup out of memory: Killed process $pid \(hog\)" "$OUT"
	grep -E '^  host /proc/vmstat oom_kill: \+[0-9]+ since start' "$OUT"
	# The classic tracepoint carries the counters at the kill too.
	grep -E '^  at the kill  anon (3[01]\.[0-9]|32\.0) MiB .*\(kernel counters at mark_victim\)$' "$OUT"
	grep -E '^  memory.stat  .*\(read [0-9.]+ [mu]?s after the kill\)$' "$OUT"
	# one private file per kill, valid JSON, same victim
	[ "$(stat -c %a "$outdir")" = 700 ]
	f=$(ls "$outdir"/oom-*-"$pid".json)
	[ "$(stat -c %a "$f")" = 600 ]
	[ "$(jq -r .victim.pid "$f")" = "$pid" ]
	[ "$(jq -r .constraint "$f")" = memcg ]
}

@test "oomwatch: a kill between the baselines and attaching is missed in the cgroup's row and the host's line alike" {
	need_memcg
	dir=$(scratch_memcg between 32M)
	name=$(basename "$dir")
	hold="$BATS_TEST_TMPDIR/attach"
	"$B/oomwatch" --json --baseline-hold "$hold" > "$OUT" 2> "$ERR" &
	OW_PID=$!
	wait_for 30 grep -q "baselines taken" "$ERR"
	run_in_cgroup "$dir" "$W/hog" -t 100 -s 8
	wait "$BG_PID" || true
	[ "$(memcg_oom_kills "$dir")" = 1 ]
	touch "$hold"
	wait_ready "$ERR" 30
	run_in_cgroup "$dir" "$W/hog" -t 100 -s 8
	pid=$BG_PID
	wait "$pid" || true
	wait_for 10 grep -q "\"pid\": *$pid" "$OUT"
	stop_oomwatch
	s=$(jq -c 'select(.event == "summary")' "$OUT")
	row=$(jq -c --arg p "/$name" '.cgroups[] | select(.path == $p)' <<< "$s")
	[ "$(jq -r .kills <<< "$row")" = 1 ]
	[ "$(jq -r .kernel_oom_kill <<< "$row")" = 2 ]
	[ "$(jq -r .missed <<< "$row")" = 1 ]
	# the host's count says the same (other kills on the host may add to it)
	[ "$(jq -r .host_missed <<< "$s")" -ge 1 ]
	[ "$(jq -r .host_missed <<< "$s")" -eq "$(( $(jq -r .host_oom_kill_since_start <<< "$s") - $(jq -r .kills <<< "$s") ))" ]
}

@test "oomwatch: a lead-up that spans an earlier kill and a limit change says so" {
	need_memcg
	dir=$(scratch_memcg respawn 32M)
	start_oomwatch --json --sample-interval 0.1 -c "$dir"
	run_in_cgroup "$dir" "$W/hog" -t 100 -s 8
	first=$BG_PID
	wait "$first" || true
	wait_for 10 grep -q "\"pid\": *$first" "$OUT"
	if [ "$MEMCG_VERSION" = 1 ]; then echo 48M > "$dir/memory.limit_in_bytes"; else echo 48M > "$dir/memory.max"; fi
	run_in_cgroup "$dir" "$W/hog" -t 100 -s 4 -w 100
	second=$BG_PID
	wait "$second" || true
	wait_for 10 grep -q "\"pid\": *$second" "$OUT"
	stop_oomwatch
	k=$(kills | jq -c --argjson p "$second" 'select(.victim.pid == $p)')
	[ "$(jq -r .memcg.limit_bytes <<< "$k")" = $((48 * MIB)) ]
	[ "$(jq -r .leadup.earlier_kills <<< "$k")" = 1 ]
	[ "$(jq -r .leadup.limit_before_bytes <<< "$k")" = $((32 * MIB)) ]
	jq -e '.leadup.earlier_kill_age_s >= .leadup.limit_changed_age_s' <<< "$k"
	# the first kill's lead-up spans nothing of the kind
	k1=$(kills | jq -c --argjson p "$first" 'select(.victim.pid == $p)')
	[ "$(jq -r .leadup.earlier_kills <<< "$k1")" = 0 ]
	jq -e '.leadup.limit_before_bytes == null and .leadup.earlier_kill_age_s == null' <<< "$k1"
}

@test "oomwatch: bad input gives one clear line and exit 1" {
	run -1 "$B/oomwatch" -c /no/such/cgroup -d 1
	[[ "$output" == *"no/such/cgroup"* ]]
	[ "$(wc -l <<< "$output")" -eq 1 ]
	run -1 "$B/oomwatch" -d 12abc
	mkdir -m 777 "$BATS_TEST_TMPDIR/open"
	run -1 "$B/oomwatch" --output-dir "$BATS_TEST_TMPDIR/open" -d 1
	[[ "$output" == *"unsafe directory"* ]]
}

# N kills of hog in the scratch cgroup $1 (limit 32M), made before any
# oomwatch runs: their pids in KILLED.
make_kills() {
	KILLED=()
	for _ in $(seq "$2"); do
		run_in_cgroup "$1" "$W/hog" -t 100 -s 8
		KILLED+=("$BG_PID")
		st=0; wait "$BG_PID" || st=$?
		[ "$st" -eq 137 ] || return 1
	done
}

# The kill of pid $1 read back from the log ($OUT, --json).
past_kill() { jq -c --argjson p "$1" 'select(.event == "oom_kill" and .source == "kernel_log" and .victim.pid == $p)' "$OUT"; }

# bats test_tags=kernel
@test "oomwatch --since: three kills made before it started, read back from the kernel's log = the cgroup's oom_kill" {
	need_memcg
	dir=$(scratch_memcg since 32M)
	name=$(basename "$dir")
	make_kills "$dir" 3
	kernel=$(memcg_oom_kills "$dir")
	[ "$kernel" -eq 3 ]
	"$B/oomwatch" --since 10m --json > "$OUT"
	full=0
	for pid in "${KILLED[@]}"; do
		[ "$(past_kill "$pid" | wc -l)" -eq 1 ]
		k=$(past_kill "$pid")
		[ "$(jq -r .victim.comm <<< "$k")" = hog ]
		# the kernel's own line, read independently of oomwatch
		line=$(kernel_killed_line "$pid")
		kanon=$(sed -n 's/.*anon-rss:\([0-9]*\)kB.*/\1/p' <<< "$line")
		[ "$(jq -r .victim.anon_rss_bytes <<< "$k")" = $((kanon * 1024)) ]
		# Cgroup, constraint and trigger come with the kernel's full
		# report, which it rate-limits host-wide (10 per 5 s): without
		# it they are null, not guessed.
		if [ "$(jq -r .kernel_report.full_report <<< "$k")" = true ]; then
			full=$((full + 1))
			[ "$(jq -r .memcg.victim_path <<< "$k")" = "/$name" ]
			[ "$(jq -r .memcg.path <<< "$k")" = "/$name" ]
			[ "$(jq -r .constraint <<< "$k")" = memcg ]
			[ "$(jq -r .trigger.pid <<< "$k")" = "$pid" ]
			[ "$(jq -r .memcg.limit_bytes <<< "$k")" = $((32 * MIB)) ]
			jq -e '.kernel_report.lines | any(startswith("oom-kill:constraint=CONSTRAINT_MEMCG"))' <<< "$k"
		else
			jq -e '.memcg.victim_path == null and .constraint == null' <<< "$k"
		fi
	done
	# the cgroup's row: kills in the window against its own counter
	h=$(jq -c 'select(.event == "history")' "$OUT")
	[ "$(jq -r .source <<< "$h")" = kernel_log ]
	row=$(jq -c --arg p "/$name" '.cgroups[] | select(.path == $p)' <<< "$h")
	[ "$(jq -r .kernel_oom_kill <<< "$row")" = "$kernel" ]
	[ "$(jq -r .kills <<< "$row")" = "$full" ]
	# the host's counter since boot against every kill the log holds
	jq -e '.host_oom_kill_since_boot >= .kills_this_boot_in_log and
		.not_in_log == .host_oom_kill_since_boot - .kills_this_boot_in_log' <<< "$h"
	# The same in text: marked as read from the log, each kill, the row.
	"$B/oomwatch" --since 10m > "$OUT.txt"
	head -1 "$OUT.txt" | grep -F "Read from the kernel's log (no live context"
	for pid in "${KILLED[@]}"; do
		grep -E "^OOM kill \(kernel log\): hog\($pid\) in " "$OUT.txt"
	done
	[ "$full" -eq 0 ] || grep -E "^  /$name +$full +$full +$kernel( +log holds fewer)?\$" "$OUT.txt"
	grep -E "^  host /proc/vmstat oom_kill: [0-9]+ since boot; [0-9]+ in the log read" "$OUT.txt"
}

@test "oomwatch --since: a bad duration is one line and exit 1; a window after the kill holds none" {
	for bad in 10x 10 "" 1.5h -1m 0m; do
		run -1 "$B/oomwatch" --since "$bad"
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == *"--since '$bad': not a duration"* ]]
	done
	run -1 "$B/oomwatch" --since 400d
	[ "${#lines[@]}" -eq 1 ]
	need_memcg
	dir=$(scratch_memcg window 32M)
	make_kills "$dir" 1
	pid=${KILLED[0]}
	"$B/oomwatch" --since 1h --json > "$OUT"
	t=$(past_kill "$pid" | jq -r .time_unix_ms)
	[ -n "$t" ]
	# once the kill is over 2 s old, a 1 s window leaves it out
	wait_for 30 sh -c "[ \$(date +%s%3N) -gt $((t + 2000)) ]"
	"$B/oomwatch" --since 1s --json > "$OUT"
	[ -z "$(past_kill "$pid")" ]
	jq -e 'select(.event == "history") | .kills_this_boot_in_log >= 1' "$OUT"
}

@test "oomwatch --since with -d: the past kills first, then live ones, none twice" {
	need_memcg
	dir=$(scratch_memcg sincelive 32M)
	name=$(basename "$dir")
	make_kills "$dir" 2
	start_oomwatch --json --since 10m -d 120 -c "$dir"
	run_in_cgroup "$dir" "$W/hog" -t 100 -s 8
	live=$BG_PID
	wait "$live" || true
	wait_for 30 grep -q "\"pid\": *$live" "$OUT"
	stop_oomwatch
	for pid in "${KILLED[@]}"; do
		[ "$(jq -c --argjson p "$pid" 'select(.event == "oom_kill" and .victim.pid == $p)' "$OUT" | wc -l)" -eq 1 ]
		[ "$(past_kill "$pid" | wc -l)" -eq 1 ]
	done
	[ "$(jq -c --argjson p "$live" 'select(.event == "oom_kill" and .victim.pid == $p)' "$OUT" | wc -l)" -eq 1 ]
	[ "$(jq -r --argjson p "$live" 'select(.event == "oom_kill" and .victim.pid == $p) | .source' "$OUT")" = live ]
	# the history comes before every live line
	first_live=$(grep -n '"source": *"live"' "$OUT" | head -1 | cut -d: -f1)
	hist=$(grep -n '"event": *"history"' "$OUT" | cut -d: -f1)
	[ "$hist" -lt "$first_live" ]
	[ "$(memcg_oom_kills "$dir")" = 3 ]
	python3 "$ROOT/tests/e2e/json-fields.py" "$ROOT/tests/e2e/json-fields.txt" "$ROOT/man/oomwatch.8.scd" oomwatch "$OUT"
}

# Last: its 25 kills use up the kernel's rate limit on full OOM reports.
# bats test_tags=kernel
@test "oomwatch: a storm of 25 kills in a row, all reported, matching the cgroup's oom_kill" {
	need_memcg
	dir=$(scratch_memcg storm 16M)
	name=$(basename "$dir")
	start_oomwatch --json -c "$dir"
	for _ in $(seq 25); do
		run_in_cgroup "$dir" "$W/hog" -t 64 -s 4
		wait "$BG_PID" || true
	done
	kernel=$(memcg_oom_kills "$dir")
	[ "$kernel" -ge 25 ]
	wait_for 15 sh -c "[ \$(grep -c '\"oom_kill\"' '$OUT') -ge $kernel ]"
	stop_oomwatch
	[ "$(kills | jq -r .memcg.path | grep -cx "/$name")" -eq "$kernel" ]
	# every victim is a distinct hog pid
	[ "$(kills | jq -r .victim.pid | sort -u | wc -l)" -eq "$kernel" ]
	# Every one has the cgroup's counters at the kill. Without the
	# multi-gen LRU its LRU lists are exact at every kill, the victim's
	# pages on them (the other counters wait for a stats flush, which the
	# rate-limited report skips). The multi-gen LRU does not keep the
	# lists' sizes: every kill says its LRU figures are not exact, and those
	# the kernel reported (flushing its counters) still hold the victim.
	[ "$(kills | jq -r 'select(.memcg.stat_at_kill != null)' | jq -s length)" -eq "$kernel" ]
	if ! mglru_enabled; then
		[ "$(kills | jq -r 'select(.memcg.stat_at_kill_lru_exact) | .memcg.stat_at_kill |
			.inactive_anon_bytes + .active_anon_bytes' | awk '$1 >= 15 * 1048576' | wc -l)" -eq "$kernel" ]
	else
		[ "$(kills | jq -r 'select(.memcg.stat_at_kill_lru_exact == false)' | jq -s length)" -eq "$kernel" ]
		flushed=$(kills | jq -r 'select(.memcg.stat_at_kill_flushed) | .memcg.stat_at_kill.anon_bytes')
		[ -n "$flushed" ]
		[ "$(awk '$1 < 15 * 1048576' <<< "$flushed" | wc -l)" -eq 0 ]
	fi
	s=$(jq -c 'select(.event == "summary")' "$OUT")
	[ "$(jq -r .kills <<< "$s")" -eq "$kernel" ]
	[ "$(jq -r '.cgroups[0].kernel_oom_kill' <<< "$s")" -eq "$kernel" ]
	[ "$(jq -r '.cgroups[0].missed' <<< "$s")" -eq 0 ]
	[ "$(jq -r '.drops | length' <<< "$s")" -ge 0 ]
	[ "$(jq -r '[.drops[]?] | add // 0' <<< "$s")" -eq 0 ]
}
