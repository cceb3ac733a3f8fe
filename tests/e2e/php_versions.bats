#!/usr/bin/env bats
# Script frames of the PHP versions Debian ships: 7.4 (Debian 11), 8.2
# (Debian 12, the host's) and 8.4 (Debian 13), under php-cli and php-fpm,
# named down to the line that runs: the allocating line of the leaking
# function, the calling line of its caller. 7.4 and 8.4 run in Debian roots
# (scripts/mkroot, cached under build/roots; tests/e2e/roots.bash) on this
# kernel, traced from the host. The script says what it keeps; the tools'
# figures are checked against it. Zend's allocator is off
# (USE_ZEND_ALLOC=0) so that each string is one malloc block.

bats_require_minimum_version 1.5.0
load helpers
load realworld
load roots

setup() {
	services_setup
	WL="$T/wl"
	mkdir -p "$WL"
	cp "$ROOT/tests/workloads/leak_lines.php" "$WL/"
	export USE_ZEND_ALLOC=0
}

teardown() { services_teardown; }

# php_version X.Y: that PHP's cli in PHP, its php-fpm in FPM, and where
# the process sees $WL in WLIN; 7.4 and 8.4 in their Debian root (ROOTFS).
php_version() {
	ROOTFS=""
	WLIN=/opt/wl
	case "$1" in
	7.4) use_root bullseye - php7.4-cli php7.4-fpm ;;
	8.4) use_root trixie - php8.4-cli php8.4-fpm ;;
	*) WLIN="$WL" ;;
	esac
	PHP="/usr/bin/php$1"
	FPM="/usr/sbin/php-fpm$1"
	[ -x "$ROOTFS$PHP" ] && [ -x "$ROOTFS$FPM" ] && return 0
	if [ "${CI:-}" = true ]; then
		echo "php$1 or php-fpm$1 missing (CI=true: failing instead of skipping)" >&2
		return 1
	fi
	skip "php$1 or php-fpm$1 missing"
}

# start_php CMD...: CMD in the version's root, or on the host, in the
# background; PHP_PID once it runs the PHP binary (through a root's
# unshare, sh and chroot the pid stays, the program changes: a tracer
# attached before would probe the host's libc).
start_php() {
	if [ -n "$ROOTFS" ]; then
		in_root "$@" < /dev/null > "$T/php.log" 2>&1
		PHP_PID=$ROOT_PID
	else
		"$@" < /dev/null > "$T/php.log" 2>&1 &
		PHP_PID=$!
		SERVICES+=("$PHP_PID")
	fi
	wait_for 30 runs_php "$PHP_PID" "$1"
}

runs_php() { [[ "$(readlink "/proc/$1/exe")" == */"${2##*/}" ]]; }

# The line of the workload that carries a marker comment.
marked_line() { grep -n -m1 -F "// $1" "$ROOT/tests/workloads/leak_lines.php" | cut -d: -f1; }

# The final report of memleak-trace's JSON in R, the bytes the script says
# it kept in KEPT, the JIT's state in JIT.
read_results() {
	R=$(grep '"event":"final_report"' "$T/memleak-trace.out")
	read -r _ KEPT JIT < "$WL/kept"
	jq -c '.stacks[] | [.kind, .bytes, [.frames[] | select(.kind == "php") | [.symbol, .file, .line, .line_is_def]]]' <<< "$R" | head -5
	cat "$T/memleak-trace.err"
}

# cli_leak VERSION [PHP_OPTION...]: the workload under that version's cli,
# memleak-trace --malloc -p attached before it starts leaking.
cli_leak() {
	php_version "$1"
	mkfifo "$WL/go"
	start_php "$PHP" "${@:2}" "$WLIN/leak_lines.php" 200 "$WLIN/go" "$WLIN/kept"
	start_tool memleak-trace --malloc --json -p "$PHP_PID"
	echo go > "$WL/go"
	# The script kills itself holding its strings; the tracer ends with it.
	wait_for 120 test -s "$WL/kept"
	wait "$TOOL_PID" || true
	read_results
}

# fpm_leak VERSION [FPM_OPTION...]: a pool of one worker listening on loopback TCP, the
# workload requested through it with cgi-fcgi as a web server would,
# memleak-trace --malloc -p on the worker; the request holds its strings
# until the report is made.
fpm_leak() {
	php_version "$1"
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	fpm_conf "$WLIN" "127.0.0.1:$port" 1 > "$WL/fpm.conf"
	start_php "$FPM" "${@:2}" -F -R -y "$WLIN/fpm.conf"
	wait_for 60 pgrep -P "$PHP_PID" > /dev/null || { cat "$WL/php-fpm.log" >&2; return 1; }
	local worker
	worker=$(pgrep -P "$PHP_PID")
	SERVICES+=("$worker")    # a killed master leaves its worker
	start_tool memleak-trace --malloc --json -p "$worker"
	SCRIPT_FILENAME="$WLIN/leak_lines.php" REQUEST_METHOD=GET \
		QUERY_STRING="count=200&out=$WLIN/kept&hold=$WLIN/hold" \
		cgi-fcgi -bind -connect "127.0.0.1:$port" > "$T/response" &
	CLIENT=$!
	wait_for 120 test -s "$WL/kept" || { cat "$T/response" "$WL/php-fpm.log" >&2; return 1; }
	stop_tool "$TOOL_PID"
	touch "$WL/hold"
	wait "$CLIENT"
	CLIENT=""
	read_results
}

# What the leak's stacks say: the innermost PHP frame that is a script's
# function is leak at its allocating line, in the workload's file, called
# from run's calling line; together they hold what the script kept; the
# churning function, which frees what it makes, holds nothing.
assert_leak_named() {
	local alloc call
	alloc=$(marked_line "the allocating line")
	call=$(marked_line "the calling line")
	jq -e --argjson a "$alloc" --argjson c "$call" '
		[.stacks[] | [.frames[] | select(.kind == "php" and .file != null)] | select(.[0].symbol == "leak")]
		| length > 0 and all(.[0].line == $a and (.[0].file | endswith("/leak_lines.php"))
			and .[0].line_is_def != true and .[1].symbol == "run" and .[1].line == $c)' <<< "$R"
	held=$(jq '[.stacks[] | select(any(.frames[]; .kind == "php" and .symbol == "leak")) | .bytes] | add' <<< "$R")
	approx "$held" "$KEPT" 5
	jq -e '[.stacks[].frames[] | select(.symbol == "churn")] | length == 0' <<< "$R"
	! grep -q "no known layout" "$T/memleak-trace.err"
}

@test "php 7.4 cli (Debian 11's, in a root): memleak-trace --malloc names the allocating and calling lines" {
	cli_leak 7.4
	assert_leak_named
}

@test "php 8.2 cli (Debian 12's): memleak-trace --malloc -- php names the allocating and calling lines" {
	php_version 8.2
	"$B/memleak-trace" --malloc --json -- "$PHP" "$WL/leak_lines.php" 200 "" "$WL/kept" \
		> "$T/memleak-trace.out" 2> "$T/memleak-trace.err" || true
	read_results
	assert_leak_named
}

@test "php 8.4 cli (Debian 13's, in a root): memleak-trace --malloc names the allocating and calling lines" {
	cli_leak 8.4
	assert_leak_named
}

@test "php-fpm 7.4 (in a root): memleak-trace --malloc -p on the worker names the allocating and calling lines" {
	fpm_leak 7.4
	assert_leak_named
}

@test "php-fpm 8.2: memleak-trace --malloc -p on the worker names the allocating and calling lines" {
	fpm_leak 8.2
	assert_leak_named
}

@test "php-fpm 8.4 (in a root): memleak-trace --malloc -p on the worker names the allocating and calling lines" {
	fpm_leak 8.4
	assert_leak_named
}

# opcache's JIT: the tracing JIT compiles run()'s loop once it is hot
# (after 64 turns) with the calls in it, the function JIT every function
# as it is loaded. The frames are still made in memory (execute_data, its
# func and prev_execute_data) and the compiled code stores the opline
# before it calls into C (str_repeat here), so the walk names them at the
# line that runs, as the interpreter's. (opcache leaves alone a file
# changed in the last 2 seconds, as the test's copy is: protection off.)
jit_opts() {
	JIT_OPTS=(-d opcache.enable_cli=1 -d "opcache.jit=$1" -d opcache.jit_buffer_size=64M
		-d opcache.file_update_protection=0)
}

# Some of leak's strings were made by compiled code: their native stack
# does not pass through the interpreter's loop (execute_ex).
assert_some_jitted() {
	jq -e '[.stacks[] | select(any(.frames[]; .kind == "php" and .symbol == "leak"))
		| any(.frames[]; .symbol == "execute_ex")] | index(false) != null' <<< "$R"
}

# jit_test VERSION MODE: the cli leak under that JIT mode, named.
jit_test() {
	jit_opts "$2"
	cli_leak "$1" "${JIT_OPTS[@]}"
	[ "$JIT" = jit=on ]
	assert_some_jitted
	assert_leak_named
}

@test "php 8.2 cli with opcache's tracing JIT: the compiled calls are named at their lines" { jit_test 8.2 tracing; }
@test "php 8.2 cli with opcache's function JIT: the compiled calls are named at their lines" { jit_test 8.2 function; }
@test "php 8.4 cli (in a root) with opcache's tracing JIT: the compiled calls are named at their lines" { jit_test 8.4 tracing; }
@test "php 8.4 cli (in a root) with opcache's function JIT: the compiled calls are named at their lines" { jit_test 8.4 function; }

@test "php-fpm 8.4 (in a root) with opcache's tracing JIT: the compiled calls are named at their lines" {
	jit_opts tracing
	fpm_leak 8.4 "${JIT_OPTS[@]}"
	[ "$JIT" = jit=on ]
	assert_some_jitted
	assert_leak_named
}
