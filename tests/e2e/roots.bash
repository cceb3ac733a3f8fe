# Running a service inside a Debian root made by scripts/mkroot (another
# release's packages on this kernel) while the tools trace it from the
# host: `load helpers` then `load roots`. The root is an overlay over the
# cached one (the cache stays clean), mounted with proc, the host's /sys
# and /dev and the test's directory $WL at /opt/wl, all in a mount
# namespace of the service's own: the mounts end with its last process,
# nothing is left mounted on the host.

# use_root SUITE PKG...: the cached root of SUITE with PKGs into ROOTFS,
# made if missing. A root that cannot be made is a failure under CI=true
# (CI makes them), else a skip.
use_root() {
	local log="$BATS_TEST_TMPDIR/mkroot.log" dir
	if dir=$("$ROOT/scripts/mkroot" "$@" 2> "$log" | tail -1) && [ -n "$dir" ]; then
		ROOTFS="$ROOT/$dir"
		return 0
	fi
	cat "$log" >&2
	if [ "${CI:-}" = true ]; then
		echo "root $* cannot be made (CI=true: failing instead of skipping)" >&2
		return 1
	fi
	skip "root $1 with $* cannot be made here"
}

# chroot_overlay CMD...: CMD chrooted in an overlay (LOWER, UP, WORK mounted
# at MNT) with proc, the host's /sys and /dev, and WLDIR (if set) at
# /opt/wl, in a mount namespace of its own. It execs: run it in a subshell
# or in the background, where the pid stays CMD's (the teardown kills it).
chroot_overlay() {
	exec unshare -m --propagation private sh -ec '
		mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$UP,workdir=$WORK" "$MNT"
		mount -t proc proc "$MNT/proc"
		mount --rbind /sys "$MNT/sys"
		mount --rbind /dev "$MNT/dev"
		[ -z "${WLDIR:-}" ] || mount --bind "$WLDIR" "$MNT/opt/wl"
		exec chroot "$MNT" "$@"' sh "$@"
}

# in_root CMD...: CMD in the root (use_root), in the background, its pid
# (the same through unshare, sh and chroot: each execs the next) in
# ROOT_PID and in SERVICES. The root's /opt/wl is the directory $WL.
in_root() {
	local up="$BATS_TEST_TMPDIR/root.up" work="$BATS_TEST_TMPDIR/root.work"
	local mnt="$BATS_TEST_TMPDIR/root.mnt"
	mkdir -p "$up/opt/wl" "$work" "$mnt" "$WL"
	LOWER="$ROOTFS" UP="$up" WORK="$work" MNT="$mnt" WLDIR="$WL" chroot_overlay "$@" <&0 &
	ROOT_PID=$!
	SERVICES+=("$ROOT_PID")
}
