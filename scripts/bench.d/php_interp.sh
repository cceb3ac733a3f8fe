#!/bin/sh
# The cost of the PHP frame walk (scripts/bench --php): one php-fpm worker runs
# a request that maps/unmaps 3 MiB strings (memleak-trace records) or opens
# and closes TCP connections (sockleak records) for SECS seconds, three PHP
# calls deep, untraced, under each tool and under each tool with --no-interp.
# Prints ops/s per config, median of ROUNDS, as a markdown table.
set -eu
build=${MEMSCOPE_BUILD:-build}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-2}
FPM=$(command -v php-fpm8.2 || ls /usr/sbin/php-fpm* 2>/dev/null | head -n 1)
[ -x "$FPM" ] || { echo "bench --php: php-fpm missing (scripts/deps.sh test)" >&2; exit 1; }
command -v cgi-fcgi >/dev/null || { echo "bench --php: cgi-fcgi missing (libfcgi-bin)" >&2; exit 1; }
D=$(mktemp -d /tmp/memscope-bench-php.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT INT TERM
cat > "$D/fpm.conf" <<CONF
[global]
pid = $D/fpm.pid
error_log = $D/fpm.log
daemonize = no
[bench]
user = root
group = root
listen = $D/fpm.sock
pm = static
pm.max_children = 1
php_admin_value[memory_limit] = -1
CONF
"$FPM" -F -R -y "$D/fpm.conf" & pids="$pids $!"
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(1024); print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.close()' > "$D/port" & pids="$pids $!"
i=0; while [ ! -S "$D/fpm.sock" ] || [ ! -s "$D/port" ]; do i=$((i + 1)); [ $i -lt 600 ] || exit 1; sleep 0.05; done
worker=""
while [ -z "$worker" ]; do worker=$(pgrep -P "$(cat "$D/fpm.pid" 2>/dev/null || echo 1)" | head -n 1 || true); sleep 0.05; done
PORT=$(cat "$D/port")
req() { # OP: one timed request, ops/s
	SCRIPT_FILENAME="$PWD/scripts/bench.d/php_interp.php" REQUEST_METHOD=GET \
	QUERY_STRING="op=$1&port=$PORT&secs=$SECS" cgi-fcgi -bind -connect "$D/fpm.sock" | tail -n 1
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
run() { # OP TOOL ARGS...: median ops/s with TOOL (or "none") tracing the worker
	op=$1; tool=$2; shift 2
	for r in $(seq "$ROUNDS"); do
		tp=""
		if [ "$tool" != none ]; then
			"$build/$tool" -p "$worker" "$@" > "$D/tool.out" 2>&1 & tp=$!
			until grep -q "Ctrl-C" "$D/tool.out" 2>/dev/null; do sleep 0.05; kill -0 $tp || exit 1; done
		fi
		req "$op"
		[ -z "$tp" ] || { kill -INT $tp; wait $tp || true; }
	done | median
}
base_map=$(run map none); base_sock=$(run sock none)
printf '| workload (php-fpm %s, %s s x %s rounds) | config | ops/s | vs untraced |\n|---|---|---|---|\n' \
	"$("$FPM" -v | awk 'NR == 1 { print $2 }')" "$SECS" "$ROUNDS"
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.2fx", b / a }')"; }
row "3 MiB string made and dropped" untraced "$base_map" "$base_map"
row "3 MiB string made and dropped" "memleak-trace -p" "$(run map memleak-trace)" "$base_map"
row "3 MiB string made and dropped" "memleak-trace -p --no-interp" "$(run map memleak-trace --no-interp)" "$base_map"
row "fsockopen + fclose" untraced "$base_sock" "$base_sock"
row "fsockopen + fclose" "sockleak -p" "$(run sock sockleak)" "$base_sock"
row "fsockopen + fclose" "sockleak -p --no-interp" "$(run sock sockleak --no-interp)" "$base_sock"
