#!/bin/sh
# memdiag demo: a worker in a scratch memory cgroup (512 MiB limit) holds
# 64 MiB of page cache and leaks anonymous memory at 8 MiB/s. memdiag tells
# the reclaimable cache from the leak, then measures the slope with -i.
set -u
B=${B:-build}
NAME=memscope-demo-memdiag
if [ -d /sys/fs/cgroup/memory ]; then
	CG=/sys/fs/cgroup/memory/$NAME LIMIT_FILE=memory.limit_in_bytes
else
	CG=/sys/fs/cgroup/$NAME LIMIT_FILE=memory.max
fi
FILE=$(mktemp /var/tmp/memscope-demo.XXXXXX)
OUT=$(mktemp /tmp/memscope-demo-out.XXXXXX)
WPID=

cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$CG" 2>/dev/null && break; sleep 0.2; done
	rm -f "$FILE" "$OUT"
}
trap cleanup EXIT INT TERM

mkdir "$CG" || exit 1
echo 512M > "$CG/$LIMIT_FILE"
dd if=/dev/zero of="$FILE" bs=1M count=64 status=none
sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$B/demo/leaky_worker" "$FILE" 40 8 > "$OUT" &
WPID=$!
for _ in $(seq 50); do grep -q ready "$OUT" && break; sleep 0.1; done
cat "$OUT"

echo "\$ memdiag -c /$NAME"
"$B/memdiag" -c "/$NAME"

echo
echo "\$ memdiag -c /$NAME -i 1 -n 5      (last of 5 reports, 1 s apart)"
"$B/memdiag" -c "/$NAME" -i 1 -n 5 | awk '/^memdiag: /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}'

echo
echo "\$ memdiag -p $WPID --maps 3 | head -12"
"$B/memdiag" -p "$WPID" --maps 3 | head -12
