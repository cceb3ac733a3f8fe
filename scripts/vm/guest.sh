#!/bin/bash
# Stage 2 of the test guest, PID 1 after switch_root onto the host's root
# (read-only 9p under a tmpfs overlay): mount what a systemd host would,
# with cgroup2 alone and the memory controller enabled for children, then
# run the command the host put in /run/memscope-vm/env in the tree and
# leave its exit status in /run/memscope-vm/status for the host.
OUT=/run/memscope-vm
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8 TMPDIR=/var/tmp

poweroff_now() {
	sync
	# Under systemd: a clean shutdown, every unit stopped (the status file
	# is written and synced by then).
	if [ $$ != 1 ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
		systemctl --no-block poweroff && exit 0
	fi
	umount "$OUT" 2>/dev/null
	/bin/busybox poweroff -f
	echo o > /proc/sysrq-trigger
	sleep 60
}

wait_dev() {
	local i
	for i in $(seq 100); do [ -b "$1" ] && return 0; sleep 0.1; done
	echo "memscope-vm: no $1" >&2
	return 1
}

mount_all() {
	mnt -t proc proc /proc &&
	mnt -t sysfs sysfs /sys &&
	mnt -t devtmpfs devtmpfs /dev &&
	mkdir -p /dev/pts /dev/shm &&
	# What udev or systemd would make; bash's <(...) needs /dev/fd.
	ln -sfn /proc/self/fd /dev/fd && ln -sfn /proc/self/fd/0 /dev/stdin &&
	ln -sfn /proc/self/fd/1 /dev/stdout && ln -sfn /proc/self/fd/2 /dev/stderr &&
	mnt -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts &&
	mnt -t tmpfs -o mode=1777 shm /dev/shm &&
	# No tmpfs on /tmp: the tree under test may live there (a CI clone),
	# and the overlay's /tmp is already writable.
	mnt -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup &&
	echo '+memory +pids' > /sys/fs/cgroup/cgroup.subtree_control &&
	mnt -t tracefs tracefs /sys/kernel/tracing &&
	mnt -t debugfs debugfs /sys/kernel/debug &&
	mnt -t bpf bpf /sys/fs/bpf &&
	# The kernel package's own modules, should a test need one.
	mkdir -p "/lib/modules/$(uname -r)" &&
	mount --bind "$MEMSCOPE_VM_MODULES" "/lib/modules/$(uname -r)" &&
	# TMPDIR on the scratch disk the host made: page cache needs a backing
	# device (the overlay's upper layer is tmpfs).
	modprobe -a virtio_blk ext4 &&
	wait_dev /dev/vda &&
	mount -t ext4 /dev/vda /var/tmp &&
	chmod 1777 /var/tmp &&
	ip link set lo up &&
	hostname memscope-vm
}

# MEMSCOPE_VM_INIT=systemd: PID 1 becomes systemd, which mounts the API
# filesystems and cgroup2 itself, with the units of scripts/vm/systemd in
# the overlay's /etc; its memscope-vm.service runs this script again, not
# as PID 1, to do the rest and run the command.
boot_systemd() {
	local u
	for u in "$MEMSCOPE_TREE"/scripts/vm/systemd/*; do
		sed "s|@TREE@|$MEMSCOPE_TREE|g" "$u" > "/etc/systemd/system/${u##*/}" || return 1
	done
	# The host root is a container's: its marker would make systemd treat
	# the guest as one and skip what a machine runs.
	rm -f /.dockerenv /run/.containerenv
	# Debian's tmpfiles.d/tmp.conf empties /tmp at boot: the tree under test
	# may live there (a CI clone). An empty file of that name in /etc
	# overrides it.
	mkdir -p /etc/tmpfiles.d && : > /etc/tmpfiles.d/tmp.conf || return 1
	echo "memscope-vm: systemd as PID 1 ($(/lib/systemd/systemd --version | head -n 1))"
	exec /lib/systemd/systemd --unit=memscope-vm.target --show-status=0
}

# Under systemd, what it mounted already is left as it is.
mnt() {
	local target="${*: -1}"
	mountpoint -q "$target" || mount "$@"
}

# shellcheck source=/dev/null
. "$OUT/env" || { echo "memscope-vm: no $OUT/env" >&2; poweroff_now; }
[ $$ = 1 ] && [ "${MEMSCOPE_VM_INIT:-}" = systemd ] && { boot_systemd; echo "memscope-vm: systemd did not start" >&2; poweroff_now; }
if ! mount_all; then
	echo "memscope-vm: setting up the guest failed" >&2
	poweroff_now
fi
# Kernel messages (OOM reports) stay in dmesg for the tests, off the console.
dmesg -n 1

# Every tracepoint the tools hook, enabled once for the whole run with
# tracing off: its static key then stays on, and no tool attaching or
# detaching makes the kernel patch its own text. Under QEMU 7.2's
# multi-threaded TCG that patching is what locked the guest up: both vCPUs
# stuck on the int3 byte of the sched_process_exit key in do_exit, long
# after the patch was done (a soft lockup in the 6.1 guest; "Oops: int3" in
# syscall_exit_to_user_mode_prepare on 6.12). QEMU 8.1 fixed a race of
# TCG translating code that another vCPU modifies; hardware has no such
# race. MEMSCOPE_VM_PIN_TRACEPOINTS=0 leaves the keys to flip.
pin_tracepoints() {
	local t=/sys/kernel/tracing e pinned=""
	echo 0 > "$t/tracing_on" || return
	for e in sched/sched_process_exit sched/sched_process_exec sched/sched_process_fork \
		raw_syscalls/sys_enter raw_syscalls/sys_exit oom/mark_victim signal/signal_generate \
		signal/signal_deliver sock/inet_sock_set_state exceptions/page_fault_user; do
		[ -e "$t/events/$e/enable" ] && echo 1 > "$t/events/$e/enable" && pinned="$pinned ${e#*/}"
	done
	echo "memscope-vm: tracepoints kept enabled (tracing off):$pinned"
}
[ "${MEMSCOPE_VM_PIN_TRACEPOINTS:-1}" = 0 ] || pin_tracepoints

echo "memscope-vm: kernel $(uname -r) ($(uname -v)), accelerator $VM_ACCEL, $(nproc) CPUs, $(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB"
echo "memscope-vm: cgroup layout:"
findmnt -n -o TARGET,FSTYPE,OPTIONS -t cgroup,cgroup2 | sed 's/^/  /'
echo "  controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "  subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
echo "memscope-vm: TMPDIR $TMPDIR on $(findmnt -n -o SOURCE,FSTYPE "$TMPDIR")"
echo "memscope-vm: running in $MEMSCOPE_TREE: CI=$CI ${VM_CMD[*]}"

export CI
[ -n "${MEMSCOPE_BUILD:-}" ] && export MEMSCOPE_BUILD
[ -n "${MEMSCOPE_E2E:-}" ] && export MEMSCOPE_E2E
[ -n "${MEMSCOPE_SUITE:-}" ] && export MEMSCOPE_SUITE
cd "$MEMSCOPE_TREE" || poweroff_now
start=$SECONDS
"${VM_CMD[@]}" < /dev/null
rc=$?
echo "memscope-vm: exit status $rc after $((SECONDS - start)) s"
echo "$rc" > "$OUT/status"
poweroff_now
