#!/usr/bin/env bats
# Delivery: make install/uninstall into a DESTDIR, and the man pages as the
# reference of every option (user space only: nothing here loads BPF).

load helpers
bats_require_minimum_version 1.5.0

TOOLS="memleak-trace sockleak oomwatch memdiag memscope-exporter"

# The options a tool's --help lists, one "-x" or "--name" a line, sorted.
help_options() {
	"$B/$1" --help | help_option_lines |
		grep -oE -- '(^| )-[a-zA-Z?]|--[a-z.-]+' | tr -d ' ' | sort -u
}

# The options the rendered man page's OPTIONS section describes: the names
# on its entry lines (indented 7), "-- COMMAND" left out.
man_options() {
	MANWIDTH=200 man -l "$B/man/$1.8" 2>/dev/null | col -b |
		awk '/^OPTIONS/ { on = 1; next } /^[A-Z]/ { on = 0 } on && /^       -/' |
		grep -oE -- '(^|[ ,])-[a-zA-Z?]\b|--[a-z][a-z.-]*' | tr -d ' ,' | sort -u
}

@test "man: every tool's page renders with no warning, and describes exactly the options its --help lists" {
	local tool diffs
	for tool in $TOOLS; do
		[ -s "$B/man/$tool.8" ]
		run -0 --separate-stderr env MANWIDTH=80 man --warnings -l "$B/man/$tool.8"
		[ -z "$stderr" ] || { echo "$tool: $stderr" >&2; false; }
		[[ "$output" == *"$tool - "* ]]
		for section in SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES; do
			grep -q "^$section" <<< "$output" || { echo "$tool: no $section" >&2; false; }
		done
		diffs=$(diff <(help_options "$tool") <(man_options "$tool")) ||
			{ echo "$tool: --help (<) and man page (>) differ:" >&2; echo "$diffs" >&2; false; }
		[ "$(man_options "$tool" | wc -l)" -ge 10 ]
	done
}

@test "install: make install puts tools, man pages, units, rules, config and docs where the units point; uninstall takes them back" {
	local D="$BATS_TEST_TMPDIR/root" tool u exe doc
	run -0 make -C "$ROOT" -s BUILD="$B" install DESTDIR="$D" PREFIX=/usr
	for tool in $TOOLS; do
		[ -x "$D/usr/sbin/$tool" ]
		[ -s "$D/usr/share/man/man8/$tool.8" ]
		run -0 "$D/usr/sbin/$tool" -V
		[[ "$output" == memscope* ]]
	done
	[ -s "$D/usr/share/memscope/prometheus/memscope-rules.yml" ]
	cmp "$ROOT/deploy/memscope-exporter.conf" "$D/etc/memscope/exporter.conf"
	# The docs keep their tree, so README.md's links to docs/ work installed.
	cmp "$ROOT/README.md" "$D/usr/share/doc/memscope/README.md"
	for doc in "$ROOT"/docs/*.md; do cmp "$doc" "$D/usr/share/doc/memscope/docs/${doc##*/}"; done
	# Each unit runs an installed binary and points to installed docs.
	for u in "$D"/usr/lib/systemd/system/*.service; do
		exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$u")
		[ -x "$D$exe" ] || { echo "$u: ExecStart $exe not installed" >&2; false; }
		doc=$(grep -oE 'file://[^ ]+' "$u"); doc=${doc#file://}
		[ -s "$D$doc" ] || { echo "$u: Documentation $doc not installed" >&2; false; }
		! grep -q /usr/local "$u"
	done
	[ "$(ls "$D"/usr/lib/systemd/system | wc -l)" -eq 2 ]
	grep -q -- '--config /etc/memscope/exporter.conf' "$D/usr/lib/systemd/system/memscope-exporter.service"
	# A changed configuration survives uninstall, and is said; nothing else does.
	echo "interval = 15" >> "$D/etc/memscope/exporter.conf"
	run -0 make -C "$ROOT" -s BUILD="$B" uninstall DESTDIR="$D" PREFIX=/usr
	[[ "$output" == *"exporter.conf was changed: left in place"* ]]
	[ "$(find "$D" -type f)" = "$D/etc/memscope/exporter.conf" ]
	# The default prefix: the units name /usr/local's binaries.
	run -0 make -C "$ROOT" -s BUILD="$B" install DESTDIR="$D"
	grep -q '^ExecStart=/usr/local/sbin/oomwatch ' "$D/usr/local/lib/systemd/system/oomwatch.service"
	[ -x "$D/usr/local/sbin/memdiag" ]
}

# The packages of one mode of scripts/deps.sh, its own lists, sorted.
deps_of() {
	"$ROOT/scripts/deps.sh" --list "$1" | sort -u
}

@test "demo: make demo installs and builds only what the tools and the demo need, none of the tests' software" {
	local only_tests p out
	# Test-only: in the tests', the bench's or the guests' set and not in the build's.
	only_tests=$(comm -13 <(deps_of build) <(sort -u <(deps_of test) <(deps_of bench) <(deps_of vm)))
	for p in php-fpm redis-server prometheus golang-go valgrind qemu-system-x86 openjdk-17-jdk-headless bpftrace; do
		grep -qx "$p" <<< "$only_tests" || { echo "$p is not a test-only package of deps.sh" >&2; false; }
	done
	comm -12 <(deps_of demo) <(echo "$only_tests") > "$BATS_TEST_TMPDIR/both"
	[ ! -s "$BATS_TEST_TMPDIR/both" ] || { echo "demo installs test-only packages:" $(cat "$BATS_TEST_TMPDIR/both") >&2; false; }
	deps_of demo | grep -qx clang
	# What make demo would run, from an empty build directory: deps.sh asked
	# for the demo's set only, then the tools, the demo's programs and the
	# OOM part's hog, no other workload (no Go, no C++, no JVM).
	run -0 make -C "$ROOT" -n -s BUILD="$BATS_TEST_TMPDIR/b" demo
	out=$output
	[ "$(grep -o 'scripts/deps.sh [a-z]*' <<< "$out")" = "scripts/deps.sh demo" ]
	! grep -qE 'go build|javac|g\+\+' <<< "$out"
	grep -oE -- "-o $BATS_TEST_TMPDIR/b/tests/workloads/[^ ]+" <<< "$out" | sort -u > "$BATS_TEST_TMPDIR/wl"
	[ "$(cat "$BATS_TEST_TMPDIR/wl")" = "-o $BATS_TEST_TMPDIR/b/tests/workloads/hog" ]
	for p in memleak-trace sockleak oomwatch memdiag demo/leakmap demo/sockleak_server demo/leaky_worker; do
		grep -q -- "-o $BATS_TEST_TMPDIR/b/$p\b" <<< "$out" || { echo "make demo does not build $p" >&2; false; }
	done
	grep -q "scripts/demo.sh" <<< "$out"
}
