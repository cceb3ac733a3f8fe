# memscope-exporter scraped by Debian's real Prometheus, for the suites
# that need both (exporter.bats, crashloop.bats): each on a loopback port
# of its own, the rules of deploy/prometheus loaded. Needs $T (the test's
# directory, prom_setup sets it) and RULES.

# start_exporter ARGS...: on a free loopback port; sets EXP and EXP_URL.
start_exporter() {
	"$B/memscope-exporter" --listen 127.0.0.1:0 "$@" 2> "$T/exp.err" &
	EXP=$!
	wait_for 30 grep -qE 'serving https?://' "$T/exp.err" || { cat "$T/exp.err" >&2; return 1; }
	EXP_URL=$(grep -oE 'https?://[^ ]*/metrics' "$T/exp.err" | head -1)
	EXP_URL=${EXP_URL%/metrics}
}

# The port a process of ours listens on (bound to port 0 by us).
listen_port() {
	ss -Hltnp | awk -v p="pid=$1," '$0 ~ p { n = split($4, a, ":"); print a[n]; exit }'
}

# start_prometheus: Debian's prometheus scraping the exporter every second,
# on a loopback port the kernel picks, with a data directory of its own.
# PROM_SCRAPE_EXTRA: more lines of the scrape job (TLS, basic auth).
start_prometheus() {
	local target=${EXP_URL#*://}
	cat > "$T/prometheus.yml" <<-EOC
	global:
	  scrape_interval: 1s
	  evaluation_interval: 1s
	rule_files: [ "$RULES/memscope-rules.yml" ]
	scrape_configs:
	  - job_name: memscope
	    static_configs: [ { targets: [ "$target" ] } ]
	EOC
	[ -z "${PROM_SCRAPE_EXTRA:-}" ] || printf '%s\n' "$PROM_SCRAPE_EXTRA" >> "$T/prometheus.yml"
	prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
		--web.listen-address=127.0.0.1:0 --log.level=warn 2> "$T/prom.err" &
	PROM=$!
	wait_for 60 sh -c "[ -n \"\$(ss -Hltnp | grep 'pid=$PROM,')\" ]" || { cat "$T/prom.err" >&2; return 1; }
	PROM_URL="http://127.0.0.1:$(listen_port "$PROM")"
	wait_for 60 sh -c "curl -sf '$PROM_URL/api/v1/query' --data-urlencode 'query=up{job=\"memscope\"} == 1' | jq -e '.data.result | length == 1' >/dev/null"
}

# promq QUERY: the value of the query's first result ("" when none).
promq() {
	curl -sf "$PROM_URL/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'
}

# wait_promq SECONDS QUERY: until the query has a result.
wait_promq() {
	wait_for "$1" sh -c "curl -sf '$PROM_URL/api/v1/query' --data-urlencode 'query=$2' | jq -e '.data.result | length > 0' >/dev/null"
}

# setup and teardown of such a suite: background processes go in PIDS.
prom_setup() {
	T="$BATS_TEST_TMPDIR"
	PIDS=()
	EXP= PROM=
}

prom_teardown() {
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -n "$EXP" ] && { kill -TERM "$EXP" 2>/dev/null; wait "$EXP" 2>/dev/null; }
	[ -n "$PROM" ] && { kill -TERM "$PROM" 2>/dev/null; wait "$PROM" 2>/dev/null; }
	cleanup_scratch
	return 0
}
