#!/bin/sh
# oomwatch demo: a hog that grows by 4 MiB every 250 ms in a scratch
# memory cgroup limited to 64 MiB is OOM-killed; oomwatch prints the kill
# with its lead-up and the kernel's own report. About 10 s; cleans up.
set -u
B=${B:-build}
HOG="$B/tests/workloads/hog"
MEMCG=/sys/fs/cgroup/memory
CG="$MEMCG/memscope-demo-oom-$$"
OUT=$(mktemp) ERR=$(mktemp)
OW=

cleanup() {
	[ -n "$OW" ] && kill "$OW" 2>/dev/null
	for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -d "$CG" ] || break; rmdir "$CG" 2>/dev/null || sleep 0.2; done
	rm -f "$OUT" "$ERR"
}
trap cleanup EXIT INT TERM

[ -x "$B/oomwatch" ] && [ -x "$HOG" ] || { echo "demo: build first (make)" >&2; exit 1; }
[ -w "$MEMCG" ] || { echo "demo: no writable v1 memory cgroup hierarchy at $MEMCG" >&2; exit 1; }
mkdir "$CG" && echo 64M > "$CG/memory.limit_in_bytes" || exit 1

echo "\$ oomwatch -c $CG -d 8 &"
"$B/oomwatch" -c "$CG" -d 8 >"$OUT" 2>"$ERR" &
OW=$!
for _ in $(seq 100); do grep -q Tracing "$ERR" && break; sleep 0.1; done
grep -q Tracing "$ERR" || { cat "$ERR" >&2; exit 1; }
echo "\$ hog -t 200 -s 4 -w 250   # in $CG, limit 64 MiB"
# (the shell's own "Killed" notice is silenced: the report says it better)
{ sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" -t 200 -s 4 -w 250' sh "$CG" "$HOG"; } 2>/dev/null
echo "hog exited with status $? (137 = SIGKILL by the OOM killer)"
echo
wait "$OW"
OW=
cat "$OUT"
