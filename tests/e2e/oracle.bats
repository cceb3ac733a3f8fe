#!/usr/bin/env bats
# memleak-trace --malloc against valgrind's memcheck, the oracle, on real
# Debian programs: what each still holds through malloc when it exits
# (bytes, blocks), and on which stacks (the innermost four call sites past
# the allocator; tests/e2e/oracle_compare.py has the matching rule). Each
# program does a small deterministic job, run twice in the same clean
# environment: under valgrind, then under memleak-trace.
load helpers
load realworld

COMPARE="$BATS_TEST_DIRNAME/oracle_compare.py"
# Within this share of valgrind's bytes and blocks; at least this share of
# its bytes on the same stacks. valgrind's LD_PRELOAD is one more
# environment variable in the program, hence no exact equality.
TOTALS_PCT=1
AGREEMENT_PCT=95

setup() {
	need_bpf
	need_cmd valgrind valgrind
	WORK="$BATS_TEST_TMPDIR/work"
	mkdir -p "$WORK" "$BATS_TEST_TMPDIR/home"
	# Hash seeds fixed: the same run twice, the same allocations.
	ORACLE_ENV=(PATH=/usr/bin:/bin HOME="$BATS_TEST_TMPDIR/home" LANG=C.UTF-8
		PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 PYTHONHASHSEED=0 GIT_CONFIG_NOSYSTEM=1)
	STDIN=/dev/null
}

VALGRIND=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=all --run-libc-freeres=no
	--run-cxx-freeres=no --num-callers=12 --show-below-main=yes)

# valgrind_env: the environment valgrind gives a program started in $WORK
# (its launcher adds LD_PRELOAD, LD_LIBRARY_PATH, GLIBCXX_FORCE_NEW... to
# ORACLE_ENV), in the program's order, into VG_ENV; LD_PRELOAD's value an
# empty list of the same length (only ':'), so that a program run without
# valgrind copies as many variables of as many bytes, as perl's %ENV does.
valgrind_env() {
	local line
	VG_ENV=()
	while IFS= read -r line; do
		case "$line" in
		LD_PRELOAD=*) line="LD_PRELOAD=$(printf '%s' "${line#LD_PRELOAD=}" | tr -c ':' ':')" ;;
		esac
		VG_ENV+=("$line")
	done < <(cd "$WORK" && env -i "${ORACLE_ENV[@]}" valgrind -q --tool=memcheck --leak-check=no env)
	[ "${#VG_ENV[@]}" -gt "${#ORACLE_ENV[@]}" ]
}

# run_both NAME CMD ARGS...: CMD (stdin from $STDIN, in $WORK) under
# valgrind, then under memleak-trace in the same environment, into
# $BATS_TEST_TMPDIR/NAME/; both must exit 0 and print the same. valgrind's
# -v -v log says where it loaded each module (the comparator needs that for
# frames without a name).
run_both() {
	local name="$1" d="$BATS_TEST_TMPDIR/$1"
	shift
	mkdir -p "$d"
	valgrind_env
	(cd "$WORK" && env -i "${ORACLE_ENV[@]}" "${VALGRIND[@]}" -v -v --xml=yes --xml-file="$d/valgrind.xml" \
		"$@" < "$STDIN" > "$d/valgrind.out" 2> "$d/valgrind.log") ||
		{ tail -n 5 "$d/valgrind.log" >&2; return 1; }
	(cd "$WORK" && env -i "${VG_ENV[@]}" "$B/memleak-trace" --malloc --json -n 100000 \
		--output "$d/memleak.json" -- "$@" < "$STDIN" > "$d/memleak.out" 2> "$d/memleak.err") ||
		{ cat "$d/memleak.err" >&2; return 1; }
	cmp "$d/valgrind.out" "$d/memleak.out"
}

# compare NAME: the comparator's table (shown when the test fails) and its
# result line in $RESULT.
compare() {
	python3 "$COMPARE" "$1=$BATS_TEST_TMPDIR/$1" > "$BATS_TEST_TMPDIR/$1/table"
	cat "$BATS_TEST_TMPDIR/$1/table"
	RESULT=$(sed -n 's/^oracle: //p' "$BATS_TEST_TMPDIR/$1/table")
}

field() { jq -r ".$1" <<<"$RESULT"; }

# The checks every program passes: enough blocks that the comparison says
# something, totals within TOTALS_PCT, stacks agreeing on AGREEMENT_PCT.
assert_agrees() {
	[ "$(field valgrind_blocks)" -ge "${1:-10}" ] || { echo "too few blocks at exit to compare" >&2; return 1; }
	approx "$(field memleak_bytes)" "$(field valgrind_bytes)" "$TOTALS_PCT"
	approx "$(field memleak_blocks)" "$(field valgrind_blocks)" "$TOTALS_PCT"
	awk -v a="$(field agreement_pct)" -v min="$AGREEMENT_PCT" 'BEGIN { exit !(a >= min) }' ||
		{ echo "$(field agreement_pct)% of valgrind's bytes on the same stacks, under $AGREEMENT_PCT%" >&2; return 1; }
}

oracle() {
	local name="$1"
	run_both "$@"
	compare "$name"
	assert_agrees
}

# Inputs the programs work on, the same every run.
make_text() {
	seq 1 6000 | awk '{ printf "%d line %d of the oracle input %s\n", $1 % 97, $1, substr("abcdefghijklmnopqrstuvwxyz", 1 + $1 % 26) }' > "$WORK/text"
}

make_json() {
	seq 1 1500 | awk 'BEGIN { printf "[" } { printf "%s{\"n\":%d,\"name\":\"item %d\",\"tags\":[\"t%d\",\"u%d\"]}", NR > 1 ? "," : "", $1, $1, $1 % 7, $1 % 5 } END { print "]" }' > "$WORK/data.json"
}

make_repo() {
	(cd "$WORK" && env -i "${ORACLE_ENV[@]}" sh -c '
		git init -q -b main repo && cd repo &&
		git config user.name oracle && git config user.email oracle@example.com &&
		for i in 1 2 3 4 5 6; do
			seq 1 $((i * 40)) > "file$i" && git add "file$i" &&
			GIT_AUTHOR_DATE="2026-01-0$i 12:00:00 +0000" GIT_COMMITTER_DATE="2026-01-0$i 12:00:00 +0000" \
				git commit -q -m "commit $i"
		done')
}

@test "oracle: our leak_malloc (frame pointers) agrees 100%" {
	run_both leak_malloc "$W/leak_malloc" 300 200 -x
	compare leak_malloc
	assert_agrees 300
	[ "$(field agreement_pct)" = 100 ]
}

@test "oracle: the comparator sees a stack that differs" {
	run_both leak_malloc "$W/leak_malloc" 300 200 -x
	local d="$BATS_TEST_TMPDIR/leak_malloc" bad="$BATS_TEST_TMPDIR/renamed"
	mkdir -p "$bad"
	cp "$d/valgrind.xml" "$d/valgrind.log" "$bad/"
	# leak_record's frame renamed in memleak-trace's report: its 300
	# blocks of 200 bytes cannot agree.
	jq -c '(.stacks[]?.frames[]? | select(.symbol == "leak_record") | .symbol) |= "elsewhere"' \
		"$d/memleak.json" > "$bad/memleak.json"
	compare renamed
	[ "$(field valgrind_bytes)" -ge $((300 * 200)) ]
	[ "$(field agreed_bytes)" -le $(($(field valgrind_bytes) - 300 * 200)) ]
}

@test "oracle: perl builds a hash" {
	oracle perl perl -e 'my %h; $h{"k$_"} = [$_, "v" x ($_ % 50)] for 1 .. 3000; print scalar(keys %h), "\n"'
}

@test "oracle: python3 builds a dict" {
	oracle python3 python3 -c 'd = {i: str(i) * 3 for i in range(5000)}; print(len(d), sum(map(len, d.values())))'
}

@test "oracle: php builds an array" {
	oracle php php -r '$a = []; for ($i = 0; $i < 5000; $i++) $a["k$i"] = str_repeat("x", $i % 100); echo count($a), "\n";'
}

@test "oracle: sqlite3 fills an indexed table in memory" {
	need_cmd sqlite3 sqlite3
	oracle sqlite3 sqlite3 :memory: "create table t(a integer primary key, b text);
		with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000)
		insert into t select x, printf('row %d', x) from c;
		create index tb on t(b); select count(*), sum(length(b)) from t;"
}

@test "oracle: xz compresses a file" {
	make_text
	oracle xz xz -1 -T1 -c text
}

@test "oracle: bzip2 compresses a file" {
	make_text
	oracle bzip2 bzip2 -1 -c text
}

@test "oracle: git logs a small repository" {
	make_repo
	WORK="$WORK/repo"
	oracle git git --no-pager log -p --stat
}

@test "oracle: jq filters a JSON document" {
	make_json
	oracle jq jq -c 'map(select(.n % 3 == 0) | .tags[0]) | group_by(.) | map(length)' data.json
}

@test "oracle: bc computes pi" {
	need_cmd bc bc
	echo 'scale=250; 4*a(1)' > "$WORK/pi.bc"
	STDIN="$WORK/pi.bc"
	oracle bc bc -l
}

@test "oracle: mawk counts words" {
	make_text
	oracle mawk mawk '{ n[$1] += length($0); w[$3]++ } END { for (k in n) s += n[k]; for (k in w) c++; print s, c }' text
}
