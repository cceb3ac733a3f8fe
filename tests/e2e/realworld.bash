# Shared by the suites that run real Debian software (php-fpm, redis, python3,
# node) under the tools: `load helpers` then `load realworld`. Everything a
# service needs (config, pid file, sockets, data) lives in $BATS_TEST_TMPDIR;
# no system service is touched.

RW="$ROOT/tests/realworld"
POOL_NAME=memscope

# setup and teardown of a suite that runs services and tracers: the
# tracers started with start_tool (TOOLS), the services (SERVICES) and
# the CLIENT and BACKEND of a test are stopped, whatever it ended with.
services_setup() {
	need_bpf
	T="$BATS_TEST_TMPDIR"
	TOOLS=()
	SERVICES=()
}

services_teardown() {
	local p
	for p in "${TOOLS[@]}"; do stop_pid "$p"; done
	for p in "${SERVICES[@]}"; do
		stop_pid "$p"
		rm -f "/tmp/perf-$p.map"
	done
	stop_pid "${CLIENT:-}"
	stop_pid "${BACKEND:-}"
	cleanup_scratch
	return 0
}

# need_cmd CMD PACKAGE: skip without CMD (fail under CI=true: the deps script
# installs it).
need_cmd() {
	command -v "$1" > /dev/null 2>&1 && return 0
	if [ "${CI:-}" = true ]; then
		echo "$1 missing: run scripts/deps.sh test (package $2)" >&2
		return 1
	fi
	skip "$1 missing (package $2)"
}

# Debian names the binary after the PHP version (php-fpm8.2 in Debian 12).
php_fpm_bin() {
	local f
	for f in /usr/sbin/php-fpm*; do
		[ -x "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

need_php_fpm() {
	PHP_FPM=$(php_fpm_bin) || {
		[ "${CI:-}" = true ] && { echo "php-fpm missing: run scripts/deps.sh test" >&2; return 1; }
		skip "php-fpm missing (package php-fpm)"
	}
	need_cmd cgi-fcgi libfcgi-bin
}

# between LOW VALUE HIGH (either bound may be the larger): VALUE read between
# two reads of a counter that moved lies between them.
between() {
	local lo="$1" v="$2" hi="$3"
	[ "$lo" -gt "$hi" ] && { local t="$lo"; lo="$hi"; hi="$t"; }
	[ "$v" -ge "$lo" ] && [ "$v" -le "$hi" ] && return 0
	echo "expected $v between $lo and $hi" >&2
	return 1
}

# The loopback backend the PHP workers connect to: it accepts and closes its
# side at once, so every kept client socket sits in CLOSE_WAIT. Sets BACKEND
# (pid) and BACKEND_PORT.
start_backend() {
	"$W/sockserver" --hangup "$BATS_TEST_TMPDIR/backend.port" &
	BACKEND=$!
	wait_for 30 test -s "$BATS_TEST_TMPDIR/backend.port"
	BACKEND_PORT=$(cat "$BATS_TEST_TMPDIR/backend.port")
}

# fpm_conf DIR LISTEN WORKERS [MAX_REQUESTS]: a static pool's config, its
# pid file and log in DIR (as php-fpm sees it), run as root in the
# foreground; MAX_REQUESTS 0 (the default) never recycles.
fpm_conf() {
	cat <<-EOF
	[global]
	pid = $1/php-fpm.pid
	error_log = $1/php-fpm.log
	daemonize = no

	[$POOL_NAME]
	user = root
	group = root
	listen = $2
	pm = static
	pm.max_children = $3
	pm.max_requests = ${4:-0}
	php_admin_value[memory_limit] = -1
	EOF
}

# start_pool CGROUP_DIR WORKERS MAX_REQUESTS: a static php-fpm pool with its
# own config, pid file and socket, run in the cgroup. Sets POOL (its
# directory), POOL_MASTER, POOL_SOCK; waits for its workers.
start_pool() {
	local cg="$1" n="$2" maxreq="$3"
	POOL="$BATS_TEST_TMPDIR/pool"
	POOL_SOCK="$POOL/php-fpm.sock"
	mkdir -p "$POOL"
	fpm_conf "$POOL" "$POOL_SOCK" "$n" "$maxreq" > "$POOL/php-fpm.conf"
	# -R: the test runs as root; -F: stay in the foreground, in the cgroup.
	run_in_cgroup "$cg" "$PHP_FPM" -F -R -y "$POOL/php-fpm.conf"
	POOL_MASTER=$BG_PID
	wait_for 60 test -S "$POOL_SOCK" || { cat "$POOL/php-fpm.log" >&2; return 1; }
	wait_for 60 pool_has_workers "$n"
}

pool_workers() { pgrep -P "$POOL_MASTER" | sort -n; }

pool_has_workers() { [ "$(pool_workers | wc -l)" -eq "$1" ]; }

# fcgi QUERY: one request to the pool through its socket, as nginx would
# send it; prints the response body.
fcgi() {
	SCRIPT_FILENAME="$RW/app.php" REQUEST_METHOD=GET QUERY_STRING="$1" \
		cgi-fcgi -bind -connect "$POOL_SOCK" | sed -n '/^pid=/p'
}

# connect_requests N FIRST_KEY: N requests that each leave one persistent
# socket; appends "pid=W connected=KEY" lines to $POOL/served.
connect_requests() {
	local i
	for i in $(seq "$2" $(($2 + $1 - 1))); do
		fcgi "do=connect&port=$BACKEND_PORT&key=k$i" >> "$POOL/served"
	done
}

# served_by PID: the persistent sockets worker PID opened (from the responses).
served_by() { grep -c "^pid=$1 connected=" "$POOL/served"; }

served_pids() { sed -n 's/^pid=\([0-9]*\) connected=.*/\1/p' "$POOL/served" | sort -un; }

# The sockets PID holds in CLOSE_WAIT, as ss sees them.
ss_close_wait() { ss -tanpH state close-wait | grep -c "pid=$1," || true; }

# Every live worker holds in CLOSE_WAIT exactly what it opened.
workers_all_close_wait() {
	local p
	for p in $(pool_workers); do
		[ "$(ss_close_wait "$p")" -eq "$(served_by "$p")" ] || return 1
	done
}

# start_grow MB [GO_FILE [STEP_MS]]: a request whose static cache grows by
# 1 MiB every STEP_MS (20) ms to MB MiB (once GO_FILE exists, if given) and
# holds it until release_grow. GROW_PID is the worker serving it.
start_grow() {
	rm -f "$POOL/grow.pid" "$POOL/grow.pid.full" "$POOL/release"
	fcgi "do=grow&mb=$1&hold=$POOL/release&pidfile=$POOL/grow.pid&go=${2:-}&ms=${3:-20}" > "$POOL/grow.out" 2>&1 &
	GROW_REQ=$!
	wait_for 60 test -s "$POOL/grow.pid"
	GROW_PID=$(cat "$POOL/grow.pid")
}

grow_full() { test -s "$POOL/grow.pid.full"; }

release_grow() {
	touch "$POOL/release"
	wait "$GROW_REQ" 2>/dev/null || true
}

# Kill a background process this test started, and reap it.
stop_pid() {
	[ -n "${1:-}" ] || return 0
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# start_tool NAME ARGS...: a tracer in the background (stdout to
# $T/NAME.out, stderr to $T/NAME.err), waited on until it is attached.
# The pid is in TOOL_PID, and in TOOLS for the teardown.
start_tool() {
	local name="$1"; shift
	"$B/$name" "$@" > "$BATS_TEST_TMPDIR/$name.out" 2> "$BATS_TEST_TMPDIR/$name.err" &
	TOOL_PID=$!
	TOOLS+=("$TOOL_PID")
	# Text mode says "Tracing" on stderr, --json a ready event on stdout.
	wait_for 60 grep -qsE 'Tracing|"event": *"ready"' \
		"$BATS_TEST_TMPDIR/$name.out" "$BATS_TEST_TMPDIR/$name.err" || {
		cat "$BATS_TEST_TMPDIR/$name.err" >&2; return 1; }
}

# stop_tool PID: Ctrl-C, as a person would, then the final report.
stop_tool() {
	local rc=0
	kill -INT "$1" 2>/dev/null || true       # it may have ended with its target
	wait "$1" || rc=$?
	return $rc
}

# start_service NAME CMD...: a leaky service (tests/realworld/leaky_service.*)
# in the background; sets SVC_PID and SVC_PORT once it listens.
start_service() {
	local name="$1"; shift
	# In the test's directory: what a runtime writes to its cwd (node's
	# isolate-*-v8.log with --perf-basic-prof) stays there.
	(cd "$BATS_TEST_TMPDIR" && exec "$@" "$BATS_TEST_TMPDIR/$name.port" "$BACKEND_PORT") \
		> "$BATS_TEST_TMPDIR/$name.log" 2>&1 &
	SVC_PID=$!
	SERVICES+=("$SVC_PID")
	wait_for 60 test -s "$BATS_TEST_TMPDIR/$name.port" || { cat "$BATS_TEST_TMPDIR/$name.log" >&2; return 1; }
	SVC_PORT=$(cat "$BATS_TEST_TMPDIR/$name.port")
}

# service_requests PORT N: N requests, one connection each, as a client
# would send them; the last reply ("ok CACHED UPSTREAMS") in $REPLY.
service_requests() {
	local i fd
	for i in $(seq "$2"); do
		exec {fd}<> "/dev/tcp/127.0.0.1/$1"
		printf 'request %d\n' "$i" >&"$fd"
		read -r REPLY <&"$fd"
		exec {fd}>&-
	done
}

# An unused loopback port, for servers that cannot be told to pick one.
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_redis [CGROUP_DIR]: Debian's redis-server with its own config and
# directory, no persistence; sets REDIS_PID and REDIS_PORT.
start_redis() {
	local dir="$BATS_TEST_TMPDIR/redis" cg="${1:-}"
	mkdir -p "$dir"
	REDIS_PORT=$(free_port)
	cat > "$dir/redis.conf" <<-EOF
	port $REDIS_PORT
	bind 127.0.0.1
	dir $dir
	pidfile $dir/redis.pid
	save ""
	appendonly no
	daemonize no
	EOF
	if [ -n "$cg" ]; then
		run_in_cgroup "$cg" /usr/bin/redis-server "$dir/redis.conf" > "$dir/log" 2>&1
	else
		/usr/bin/redis-server "$dir/redis.conf" > "$dir/log" 2>&1 &
		BG_PID=$!
	fi
	REDIS_PID=$BG_PID
	SERVICES+=("$REDIS_PID")
	wait_for 60 redis_ready || { cat "$dir/log" >&2; return 1; }
}

redis_ready() { [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_info() { redis-cli -p "$REDIS_PORT" info memory | tr -d '\r' | sed -n "s/^$1://p"; }

# redis_sets N SIZE: N SETs of SIZE-byte values through one pipelined
# connection, as a loader would; fails unless all N replies came back.
redis_sets() {
	awk -v n="$1" -v size="$2" 'BEGIN {
		v = sprintf("%" size "s", ""); gsub(/ /, "v", v)
		for (i = 0; i < n; i++) {
			k = "key:" i
			printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, size, v
		}
	}' | redis-cli -p "$REDIS_PORT" --pipe | grep -q "errors: 0, replies: $1"
}

# The TCP sockets PID holds, as ss sees them: ss_sockets PID [STATE]
ss_sockets() { ss -tanpH state "${2:-all}" | grep -c "pid=$1," || true; }
