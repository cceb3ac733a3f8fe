# A clean bookworm root for the delivery suites: debootstrap's minimal root
# (scripts/mkroot, cached under build/roots), seen through an overlay whose
# upper layer is the suite's own, so the cache stays clean. Commands run in
# it chrooted, with the host's /proc, /sys and /dev, in a mount namespace
# of their own: nothing stays mounted, and no bind mount is ever under a
# directory that gets removed.

# root_setup (from setup_file): exports LOWER, UP, WORK, MNT.
root_setup() {
	local lower
	lower=$("$ROOT/scripts/mkroot" bookworm) || return 1
	export LOWER="$ROOT/$lower" UP="$BATS_FILE_TMPDIR/up" WORK="$BATS_FILE_TMPDIR/work" MNT="$BATS_FILE_TMPDIR/mnt"
	mkdir -p "$UP" "$WORK" "$MNT"
}

# in_root CMD...: CMD in the root, as root, with the host's kernel file
# systems (roots.bash), in the foreground.
in_root() { (chroot_overlay "$@"); }

# Copy files of the build into the root's /opt/wl.
to_root() {
	mkdir -p "$UP/opt/wl"
	cp "$@" "$UP/opt/wl/"
}

# tools_find_in_root SBIN: the tools at SBIN in the root find what each is
# for: memleak-trace a leak, sockleak a CLOSE_WAIT pile-up, oomwatch an OOM
# kill in a scratch cgroup, memdiag and the exporter that cgroup's kill.
tools_find_in_root() {
	local sbin="$1" dir
	need_memcg
	to_root "$W/leak_mmap" "$W/sockserver" "$W/sockclient" "$W/hog"
	# A process mapping 40 x 256 KiB and keeping it, traced from its start.
	run -0 --separate-stderr in_root sh -c '$1/memleak-trace --json --output /tmp/ml.json -- /opt/wl/leak_mmap 40 256 -x > /dev/null 2>&1 &&
		cat /tmp/ml.json' sh "$sbin"
	jq -se 'map(select(.event == "final_report"))[0] | .culprit | test("^leak_mapping")' <<< "$output"
	[ "$(jq -s 'map(select(.event == "final_report"))[0].summary.anon_bytes' <<< "$output")" -ge $((40 * 256 * 1024)) ]
	# A server that never closes what its clients hang up: 20 in CLOSE_WAIT.
	run -0 --separate-stderr in_root bash -c '
		/opt/wl/sockserver /tmp/port & srv=$!
		while [ ! -s /tmp/port ]; do sleep 0.1; done
		"$1"/sockleak -p $srv --older-than 1 --json -d 8 > /tmp/sl.json 2> /tmp/sl.err & sl=$!
		while ! grep -qE "Tracing|\"event\": *\"ready\"" /tmp/sl.err /tmp/sl.json; do sleep 0.1; done
		/opt/wl/sockclient "$(cat /tmp/port)" 20 0 > /tmp/client & cl=$!
		while ! grep -qs done /tmp/client; do sleep 0.1; done
		wait $sl; kill $srv $cl
		cat /tmp/sl.json' bash "$sbin" 2> /dev/null
	jq -se 'map(select(.type == "process" and .report == "final" and .comm == "sockserver"))[0].close_wait == 20' <<< "$output"
	# An OOM kill in a 64 MiB cgroup of ours, seen by oomwatch and memdiag.
	dir=$(scratch_memcg pkg 64M)
	run -0 --separate-stderr in_root bash -c '
		"$1"/oomwatch -c "$2" --json -d 30 > /tmp/oom.json 2> /tmp/oom.err & ow=$!
		while ! grep -qE "Tracing|\"event\": *\"ready\"" /tmp/oom.err /tmp/oom.json; do sleep 0.1; done
		sh -c "echo \$\$ > $2/cgroup.procs && exec /opt/wl/hog -t 200 -s 8" || true
		kill -INT $ow; wait $ow
		cat /tmp/oom.json' bash "$sbin" "$dir"
	jq -se 'map(select(.event == "oom_kill"))[0] | .victim.comm == "hog" and .memcg.limit_bytes == 67108864' <<< "$output"
	run -0 --separate-stderr in_root "$sbin/memdiag" -c "$dir" --json
	jq -e '.target == "cgroup" and .oom_kills == 1 and .limit_bytes == 67108864' <<< "$output"
	# The exporter serves the cgroup's kill, read with bash alone (no curl there).
	run -0 --separate-stderr in_root bash -c '
		"$1"/memscope-exporter --listen 127.0.0.1:0 --collectors cgroups -i 0.5 -d 20 2> /tmp/exp.err &
		while ! grep -q serving /tmp/exp.err; do sleep 0.1; done
		port=$(grep -o "127.0.0.1:[0-9]*" /tmp/exp.err | head -1); port=${port#*:}
		exec 3<> /dev/tcp/127.0.0.1/$port
		printf "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
		cat <&3' bash "$sbin"
	grep -E "^memscope_cgroup_oom_kills_total\{cgroup=\"[^\"]*$(basename "$dir")\"[^}]*\} 1$" <<< "$output"
}
