#!/bin/sh
# memleak-trace demo: a program leaking 256 KiB mappings 20 times a second
# from session_cache_grow(); memleak-trace watches it for 8 seconds.
set -u
B="${B:-$PWD/build}"
"$B/demo/leakmap" 30 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
echo "\$ memleak-trace -p $pid -d 8 -n 3 --frames 6"
"$B/memleak-trace" -p "$pid" -d 8 -n 3 --frames 6
status=$?
kill $pid 2>/dev/null
wait $pid 2>/dev/null
exit $status
