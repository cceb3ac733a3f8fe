#!/bin/sh
# Install every Debian package that memscope's build, tools, tests and benchmarks need
# (or only those of one mode: build, demo, test, bench, vm).
# Idempotent: it asks apt only for what is missing, so a second run does nothing.
set -eu

BUILD="scdoc clang llvm make gcc libc6-dev pkg-config libbpf-dev libelf-dev zlib1g-dev libdw-dev libseccomp-dev bpftool protobuf-c-compiler libprotobuf-c-dev libmicrohttpd-dev libyaml-dev libcrypt-dev"
TEST="g++ libcmocka-dev man-db bats jq iproute2 procps python3 libjemalloc2 libclang-rt-14-dev php-fpm php-cli libfcgi-bin redis-server redis-tools nodejs golang-go prometheus"
# The oracle suite (tests/e2e/oracle.bats): valgrind, and the Debian programs it runs under both.
TEST="$TEST valgrind perl sqlite3 xz-utils bzip2 git bc mawk openjdk-17-jdk-headless"
BENCH="bpftrace"
# make deb and its test: debhelper builds the package, lintian checks it,
# debootstrap makes the clean root it is installed into; podman (with runc,
# which takes hybrid cgroup hosts) builds and runs deploy/Containerfile.
PACKAGE="debhelper lintian debootstrap podman runc"
# make test-vm: QEMU, the initramfs' static busybox, what unpacks Debian's
# kernel package and orders its modules, and mkfs for the guest's disk.
VM="qemu-system-x86 busybox-static cpio kmod e2fsprogs"
# make demo: the tools and the demo's C programs, built with the build's own
# compilers; everything else above is for the tests, the bench or the guests.
DEMO="$BUILD"

list=false
if [ "${1:-}" = --list ]; then list=true; shift; fi
case "${1:-all}" in
	build) want="$BUILD" ;;
	demo)  want="$DEMO" ;;
	test)  want="$BUILD $TEST $PACKAGE" ;;
	bench) want="$BUILD $TEST $PACKAGE $BENCH" ;;
	vm)    want="$BUILD $TEST $PACKAGE $VM" ;;
	all)   want="$BUILD $TEST $PACKAGE $BENCH $VM" ;;
	*) echo "usage: $0 [--list] [build|demo|test|bench|vm|all]" >&2; exit 2 ;;
esac
# --list: the packages of that mode, one a line, installed or not.
if $list; then printf '%s\n' $want; exit 0; fi

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run 'sudo $0' to install them" >&2
	exit 1
fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
	apt-get update -qq && apt-get install -y --no-install-recommends $missing
}
