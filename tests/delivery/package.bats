#!/usr/bin/env bats
# The Debian package (make deb), installed with apt into a clean bookworm
# root made by debootstrap (scripts/mkroot, cached under build/roots) and
# used there: chroot, with the host's /proc, /sys and /dev, in a mount
# namespace of its own so nothing is left mounted. The root is an overlay
# over the cached one: the cache stays clean. Host-side only (it needs
# Debian's archive), so make test runs it and the test guest does not.

load ../e2e/helpers
load ../e2e/roots
load root
bats_require_minimum_version 1.5.0

TOOLS="memleak-trace sockleak oomwatch memdiag memscope-exporter"
# What the package may depend on: the libraries its binaries load.
LIBS="libbpf1 libc6 libcrypt1 libdw1 libelf1 libmicrohttpd12 libprotobuf-c1 libseccomp2 libyaml-0-2 zlib1g"

setup_file() {
	need_bpf
	root_setup
	make -C "$ROOT" -s BUILD="$B" deb > "$BATS_FILE_TMPDIR/deb.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/deb.log" >&3; return 1; }
	DEB=$(ls "$B"/deb/memscope_*_amd64.deb)
	export DEB
}

@test "package: make deb builds a package lintian passes, which depends only on the libraries the binaries load" {
	run -0 lintian --fail-on error,warning "$DEB"
	local deps
	deps=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | sort -u | tr '\n' ' ')
	[ "$deps" = "$LIBS " ] || { echo "Depends: $deps" >&2; false; }
	dpkg-deb -c "$DEB" | grep -q ' ./usr/sbin/memleak-trace$'
}

@test "package: apt installs it into a clean bookworm root without the build's or the tests' software; man answers there" {
	cp /etc/resolv.conf "$UP/etc/resolv.conf" 2>/dev/null || { mkdir -p "$UP/etc" && cp /etc/resolv.conf "$UP/etc/"; }
	cp "$DEB" "$UP/"
	run -0 in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "/${DEB##*/}" man-db
	run -0 in_root dpkg-query -W -f '${Package}\n'
	local pkg
	for pkg in clang llvm golang-go php-cli php-fpm redis-server prometheus valgrind bpftool libbpf-dev gcc; do
		! grep -qx "$pkg" <<< "$output" || { echo "pulled in: $pkg" >&2; false; }
	done
	grep -qx memscope <<< "$output"
	for tool in $TOOLS; do
		run -0 in_root "/usr/sbin/$tool" -V
		[[ "$output" == "memscope 0."* ]]
		in_root test -s "/usr/share/man/man8/$tool.8.gz"
	done
	run -0 in_root env MANWIDTH=80 man oomwatch
	[[ "$output" == *"--since=DURATION"* ]]
	in_root test -s /lib/systemd/system/oomwatch.service
	in_root test -s /etc/memscope/exporter.conf
}

teardown() { cleanup_scratch; }

@test "package: in that root memleak-trace names a leak, sockleak a CLOSE_WAIT pile-up, oomwatch an OOM kill, memdiag and the exporter a cgroup" {
	[ -x "$UP/usr/sbin/memleak-trace" ] || { echo "the install test did not run" >&2; false; }
	tools_find_in_root /usr/sbin
}
