#!/usr/bin/env bats
# The Debian package (make deb), installed with apt into a clean bookworm
# root made by debootstrap (scripts/mkroot, cached under build/roots) and
# used there: chroot, with the host's /proc, /sys and /dev, in a mount
# namespace of its own so nothing is left mounted. The root is an overlay
# over the cached one: the cache stays clean. Host-side only (it needs
# Debian's archive), so make test runs it and the test guest does not.

load ../e2e/helpers
bats_require_minimum_version 1.5.0

TOOLS="memleak-trace sockleak oomwatch memdiag memscope-exporter"
# What the package may depend on: the libraries its binaries load.
LIBS="libbpf1 libc6 libcrypt1 libdw1 libelf1 libmicrohttpd12 libprotobuf-c1 libyaml-0-2 zlib1g"

setup_file() {
	need_bpf
	local lower
	lower=$("$ROOT/scripts/mkroot" bookworm)
	export LOWER="$ROOT/$lower" UP="$BATS_FILE_TMPDIR/up" WORK="$BATS_FILE_TMPDIR/work" MNT="$BATS_FILE_TMPDIR/mnt"
	mkdir -p "$UP" "$WORK" "$MNT"
	make -C "$ROOT" -s BUILD="$B" deb > "$BATS_FILE_TMPDIR/deb.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/deb.log" >&3; return 1; }
	DEB=$(ls "$B"/deb/memscope_*_amd64.deb)
	export DEB
}

# in_root CMD...: CMD in the root, as root, with the host's kernel file systems.
in_root() {
	unshare -m --propagation private sh -ec '
		mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$UP,workdir=$WORK" "$MNT"
		mount -t proc proc "$MNT/proc"
		mount --rbind /sys "$MNT/sys"
		mount --rbind /dev "$MNT/dev"
		exec chroot "$MNT" "$@"' sh "$@"
}

# Copy files of the build into the root's /opt/wl.
to_root() {
	mkdir -p "$UP/opt/wl"
	cp "$@" "$UP/opt/wl/"
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
	need_memcg
	to_root "$W/leak_mmap" "$W/sockserver" "$W/sockclient" "$W/hog"
	# A process mapping 40 x 256 KiB and keeping it, traced from its start.
	run -0 --separate-stderr in_root sh -c '/usr/sbin/memleak-trace --json --output /tmp/ml.json -- /opt/wl/leak_mmap 40 256 -x > /dev/null 2>&1 &&
		cat /tmp/ml.json'
	jq -se 'map(select(.event == "final_report"))[0] | .culprit | test("^leak_mapping")' <<< "$output"
	[ "$(jq -s 'map(select(.event == "final_report"))[0].summary.anon_bytes' <<< "$output")" -ge $((40 * 256 * 1024)) ]
	# A server that never closes what its clients hang up: 20 in CLOSE_WAIT.
	run -0 --separate-stderr in_root bash -c '
		/opt/wl/sockserver /tmp/port & srv=$!
		while [ ! -s /tmp/port ]; do sleep 0.1; done
		/usr/sbin/sockleak -p $srv --older-than 1 --json -d 8 > /tmp/sl.json 2> /tmp/sl.err & sl=$!
		while ! grep -qE "Tracing|\"event\": *\"ready\"" /tmp/sl.err /tmp/sl.json; do sleep 0.1; done
		/opt/wl/sockclient "$(cat /tmp/port)" 20 0 > /tmp/client & cl=$!
		while ! grep -qs done /tmp/client; do sleep 0.1; done
		wait $sl; kill $srv $cl
		cat /tmp/sl.json' 2> /dev/null
	jq -se 'map(select(.type == "process" and .report == "final" and .comm == "sockserver"))[0].close_wait == 20' <<< "$output"
	# An OOM kill in a 64 MiB cgroup of ours, seen by oomwatch and memdiag.
	local dir
	dir=$(scratch_memcg pkg 64M)
	run -0 --separate-stderr in_root bash -c '
		/usr/sbin/oomwatch -c "$1" --json -d 30 > /tmp/oom.json 2> /tmp/oom.err & ow=$!
		while ! grep -qE "Tracing|\"event\": *\"ready\"" /tmp/oom.err /tmp/oom.json; do sleep 0.1; done
		sh -c "echo \$\$ > $1/cgroup.procs && exec /opt/wl/hog -t 200 -s 8" || true
		kill -INT $ow; wait $ow
		cat /tmp/oom.json' sh "$dir"
	jq -se 'map(select(.event == "oom_kill"))[0] | .victim.comm == "hog" and .memcg.limit_bytes == 67108864' <<< "$output"
	run -0 --separate-stderr in_root /usr/sbin/memdiag -c "$dir" --json
	jq -e '.target == "cgroup" and .oom_kills == 1 and .limit_bytes == 67108864' <<< "$output"
	# The exporter serves the cgroup's kill, read with bash alone (no curl there).
	run -0 --separate-stderr in_root bash -c '
		/usr/sbin/memscope-exporter --listen 127.0.0.1:0 --collectors cgroups -i 0.5 -d 20 2> /tmp/exp.err &
		while ! grep -q serving /tmp/exp.err; do sleep 0.1; done
		port=$(grep -o "127.0.0.1:[0-9]*" /tmp/exp.err | head -1); port=${port#*:}
		exec 3<> /dev/tcp/127.0.0.1/$port
		printf "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
		cat <&3'
	grep -E "^memscope_cgroup_oom_kills_total\{cgroup=\"[^\"]*$(basename "$dir")\"[^}]*\} 1$" <<< "$output"
}
