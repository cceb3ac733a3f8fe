#!/usr/bin/env bats
# make static: the tools with their libraries inside, copied into a clean
# bookworm root that lacks those libraries (root.bash), where each finds
# what it is for. Host-side only, as the package suite.

load ../e2e/helpers
load ../e2e/roots
load root
bats_require_minimum_version 1.5.0

TOOLS="memleak-trace sockleak oomwatch memdiag memscope-exporter"

setup_file() {
	need_bpf
	root_setup
	make -C "$ROOT" -s static > "$BATS_FILE_TMPDIR/static.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/static.log" >&3; return 1; }
	mkdir -p "$UP/opt/static"
	for tool in $TOOLS; do cp "$ROOT/build/static/$tool" "$UP/opt/static/"; done
}

teardown() { cleanup_scratch; }

@test "static: the binaries need only glibc (and gnutls for the exporter's TLS), which the clean root has, and not the libraries it lacks" {
	local tool needed
	for tool in $TOOLS; do
		needed=$(objdump -p "$UP/opt/static/$tool" | awk '/NEEDED/ { print $2 }' | sort | tr '\n' ' ')
		case "$tool" in
		memscope-exporter) [ "$needed" = "libc.so.6 libgnutls.so.30 " ] ;;
		memleak-trace) [ "$needed" = "libc.so.6 libm.so.6 " ] ;;
		*) [ "$needed" = "libc.so.6 " ] ;;
		esac || { echo "$tool needs: $needed" >&2; false; }
		run -0 in_root "/opt/static/$tool" -V
		[[ "$output" == memscope* ]]
	done
	# The root is the test: the tools' usual libraries are not in it.
	run -0 in_root sh -c 'ls /usr/lib/x86_64-linux-gnu/'
	! grep -qE '^lib(bpf|dw|elf|microhttpd|protobuf-c|yaml)[.-]' <<< "$output"
}

@test "static: in that root memleak-trace names a leak, sockleak a CLOSE_WAIT pile-up, oomwatch an OOM kill, memdiag and the exporter a cgroup" {
	tools_find_in_root /opt/static
}
