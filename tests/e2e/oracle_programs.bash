# The oracle's programs: real Debian software, each on a small job that is
# the same every run (a couple of seconds under valgrind). Shared by
# tests/e2e/oracle.bats and the benchmark (scripts/bench.d/oracle.sh).
# oracle_program NAME makes the job's inputs in $WORK and sets PROG (the
# command), PROG_DIR (where it runs) and PROG_STDIN; ORACLE_ENV is the
# clean environment it runs in (oracle_env); $B the build directory.

ORACLE_PROGRAMS="perl python3 php sqlite3 xz bzip2 git jq bc mawk"
# The Debian package of each program's command, for the messages when
# one is missing.
declare -gA ORACLE_PACKAGE=([perl]=perl [python3]=python3 [php]=php-cli [sqlite3]=sqlite3 [xz]=xz-utils
	[bzip2]=bzip2 [git]=git [jq]=jq [bc]=bc [mawk]=mawk)

# oracle_env HOME: hash seeds fixed, so that two runs allocate the same.
oracle_env() {
	ORACLE_ENV=(PATH=/usr/bin:/bin HOME="$1" LANG=C.UTF-8
		PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 PYTHONHASHSEED=0 GIT_CONFIG_NOSYSTEM=1)
}

oracle_text() {
	seq 1 6000 | awk '{ printf "%d line %d of the oracle input %s\n", $1 % 97, $1, substr("abcdefghijklmnopqrstuvwxyz", 1 + $1 % 26) }' > "$WORK/text"
}

oracle_json() {
	seq 1 1500 | awk 'BEGIN { printf "[" } { printf "%s{\"n\":%d,\"name\":\"item %d\",\"tags\":[\"t%d\",\"u%d\"]}", (NR > 1 ? "," : ""), $1, $1, $1 % 7, $1 % 5 } END { print "]" }' > "$WORK/data.json"
}

# Six commits with fixed dates, made untraced.
oracle_repo() {
	[ -d "$WORK/repo" ] && return 0
	(cd "$WORK" && env -i "${ORACLE_ENV[@]}" sh -c '
		git init -q -b main repo && cd repo &&
		git config user.name oracle && git config user.email oracle@example.com &&
		for i in 1 2 3 4 5 6; do
			seq 1 $((i * 40)) > "file$i" && git add "file$i" &&
			GIT_AUTHOR_DATE="2026-01-0$i 12:00:00 +0000" GIT_COMMITTER_DATE="2026-01-0$i 12:00:00 +0000" \
				git commit -q -m "commit $i"
		done')
}

oracle_program() {
	PROG_DIR="$WORK" PROG_STDIN=/dev/null
	case "$1" in
	perl) PROG=(perl -e 'my %h; $h{"k$_"} = [$_, "v" x ($_ % 50)] for 1 .. 3000; print scalar(keys %h), "\n"') ;;
	python3) PROG=(python3 -c 'd = {i: str(i) * 3 for i in range(5000)}; print(len(d), sum(map(len, d.values())))') ;;
	php) PROG=(php -r '$a = []; for ($i = 0; $i < 5000; $i++) $a["k$i"] = str_repeat("x", $i % 100); echo count($a), "\n";') ;;
	sqlite3) PROG=(sqlite3 :memory: "create table t(a integer primary key, b text);
		with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000)
		insert into t select x, printf('row %d', x) from c;
		create index tb on t(b); select count(*), sum(length(b)) from t;") ;;
	xz) oracle_text; PROG=(xz -1 -T1 -c text) ;;
	bzip2) oracle_text; PROG=(bzip2 -1 -c text) ;;
	git) oracle_repo; PROG_DIR="$WORK/repo" PROG=(git --no-pager log -p --stat) ;;
	jq) oracle_json; PROG=(jq -c 'map(select(.n % 3 == 0) | .tags[0]) | group_by(.) | map(length)' data.json) ;;
	bc) echo 'scale=250; 4*a(1)' > "$WORK/pi.bc"; PROG_STDIN="$WORK/pi.bc" PROG=(bc -l) ;;
	mawk) oracle_text; PROG=(mawk '{ n[$1] += length($0); w[$3]++ } END { for (k in n) s += n[k]; for (k in w) c++; print s, c }' text) ;;
	*) echo "oracle_program: no program $1" >&2; return 1 ;;
	esac
}

VALGRIND=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=all --run-libc-freeres=no
	--run-cxx-freeres=no --num-callers=12 --show-below-main=yes)

# valgrind_env: the environment valgrind gives a program started in
# $PROG_DIR (its launcher adds LD_PRELOAD, LD_LIBRARY_PATH,
# GLIBCXX_FORCE_NEW... to ORACLE_ENV), in the program's order, into VG_ENV;
# LD_PRELOAD's value an empty list of the same length (only ':'), so that a
# program run without valgrind copies as many variables of as many bytes,
# as perl's %ENV does.
valgrind_env() {
	local line
	VG_ENV=()
	while IFS= read -r line; do
		case "$line" in
		LD_PRELOAD=*) line="LD_PRELOAD=$(printf '%s' "${line#LD_PRELOAD=}" | tr -c ':' ':')" ;;
		esac
		VG_ENV+=("$line")
	done < <(cd "$PROG_DIR" && env -i "${ORACLE_ENV[@]}" valgrind -q --tool=memcheck --leak-check=no env)
	[ "${#VG_ENV[@]}" -gt "${#ORACLE_ENV[@]}" ]
}

# oracle_valgrind DIR CMD ARGS...: CMD (stdin $PROG_STDIN, in $PROG_DIR)
# under valgrind: DIR/valgrind.xml, its -v -v log (where it loaded each
# module: the comparator needs that for frames without a name) and the
# program's output.
oracle_valgrind() {
	local d="$1"
	shift
	(cd "$PROG_DIR" && env -i "${ORACLE_ENV[@]}" "${VALGRIND[@]}" -v -v --xml=yes --xml-file="$d/valgrind.xml" \
		"$@" < "$PROG_STDIN" > "$d/valgrind.out" 2> "$d/valgrind.log")
}

# oracle_memleak DIR CMD ARGS...: the same under memleak-trace --malloc, in
# valgrind's environment (VG_ENV: valgrind_env first): DIR/memleak.json
# (every stack), the output.
oracle_memleak() {
	local d="$1"
	shift
	(cd "$PROG_DIR" && env -i "${VG_ENV[@]}" "$B/memleak-trace" --malloc --json -n 100000 \
		--output "$d/memleak.json" -- "$@" < "$PROG_STDIN" > "$d/memleak.out" 2> "$d/memleak.err")
}
