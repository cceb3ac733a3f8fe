#!/bin/sh
# sockleak demo: a server whose error path never closes connections (they
# pile up in CLOSE_WAIT) traced for 8 s, then the real report.
set -u
B=${B:-build}
"$B/demo/sockleak_server" &
srv=$!
trap 'kill $srv 2>/dev/null; pkill -P $srv 2>/dev/null' EXIT INT TERM
echo "demo server: pid $srv (one request in five is bad and its connection is never closed)"
echo "\$ sockleak -p $srv -d 8 --older-than 2"
"$B/sockleak" -p "$srv" -d 8 --older-than 2
status=$?
kill $srv 2>/dev/null
pkill -P $srv 2>/dev/null
exit $status
