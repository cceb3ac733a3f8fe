#!/bin/sh
# `make demo`: each tool against a small misbehaving program that ships in
# demo/, printing the tool's real report. Each part is demo/<tool>.sh.
set -u
cd "$(dirname "$0")/.."
export B="$PWD/${MEMSCOPE_BUILD:-build}"
if [ "$(id -u)" != 0 ]; then
	echo "demo: the tracers load BPF programs: run as root" >&2
	exit 1
fi
status=0
for part in memleak sockleak oomwatch memdiag; do
	[ -f "demo/$part.sh" ] || continue
	printf '\n\033[1m=== %s ===\033[0m\n' "$part"
	sh "demo/$part.sh" || { echo "demo: $part failed" >&2; status=1; }
done
exit $status
