#!/usr/bin/env bats
# make bench writes its tables into docs/benchmarks.md (scripts/bench
# --docs): between the markers of that kind of run, or in a section of its
# own added at the end; everything around them stays as written. A file
# whose markers are broken is refused before the run, in one line.

load helpers
bats_require_minimum_version 1.5.0

# bench.py's own write_docs on DOC, with KIND and the table TEXT.
write_docs() {
	python3 - "$ROOT/scripts/bench.d" "$@" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import shutil
import bench
shutil.rmtree(bench.TMP)  # made at import, for runs: none here
bench.write_docs(sys.argv[2], sys.argv[3], sys.argv[4])
PY
}

@test "bench --docs: a run's tables replace the ones between its markers, or get a section of their own; nothing else moves" {
	local doc="$BATS_TEST_TMPDIR/benchmarks.md"
	printf '%s\n' '# Benchmarks' 'before' '<!-- bench: full -->' 'old table' '<!-- /bench: full -->' 'after' > "$doc"
	write_docs "$doc" full $'| new | table |\n'
	[ "$(cat "$doc")" = "$(printf '%s\n' '# Benchmarks' 'before' '<!-- bench: full -->' '| new | table |' '<!-- /bench: full -->' 'after')" ]
	# Another kind of run: its own section at the end; a second run of that
	# kind replaces its table there, and the full run's stays.
	write_docs "$doc" "only mmap,socket" "first"
	write_docs "$doc" "only mmap,socket" "second"
	[ "$(grep -c '^## Run: only mmap,socket$' "$doc")" -eq 1 ]
	[ "$(sed -n '/<!-- bench: only mmap,socket -->/,/<!-- \/bench: only mmap,socket -->/p' "$doc")" = \
		"$(printf '%s\n' '<!-- bench: only mmap,socket -->' second '<!-- /bench: only mmap,socket -->')" ]
	! grep -q first "$doc"
	grep -q '^| new | table |$' "$doc"
	[ "$(tail -1 "$doc")" = "<!-- /bench: only mmap,socket -->" ]
}

@test "bench --docs: markers out of order, or a file that is not there, fail before the run in one line" {
	local doc="$BATS_TEST_TMPDIR/benchmarks.md"
	printf '%s\n' '<!-- /bench: only mmap -->' 'x' '<!-- bench: only mmap -->' > "$doc"
	cp "$doc" "$doc.orig"
	run -1 --separate-stderr "$ROOT/scripts/bench" --only mmap --docs "$doc"
	[ "$(grep -c . <<< "$stderr")" -ge 1 ]
	[[ "$(tail -1 <<< "$stderr")" == "bench: --docs $doc: the markers <!-- bench: only mmap --> ... <!-- /bench: only mmap --> must be there once each, in that order, or not at all" ]]
	! grep -q 'bench: mmap' <<< "$stderr"
	cmp "$doc" "$doc.orig"
	run -1 --separate-stderr "$ROOT/scripts/bench" --only mmap --docs "$BATS_TEST_TMPDIR/none.md"
	[[ "$(tail -1 <<< "$stderr")" == "bench: --docs "*"No such file or directory"*"none.md'" ]]
}
