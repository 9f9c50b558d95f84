# What the dal program's test scripts share: run dal and check its exit code and
# output. Sourced after `dal` (the program) and `work` (a scratch folder) are set;
# counts into commands, checks and failed; every output is kept in $work/all for
# the scripts' secret checks.
commands=0 checks=0 failed=0

fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
# run RC ARGS...: run dal, keep stdout in $out, stderr in $err, check the exit code
run() {
	local want=$1; shift
	commands=$((commands + 1)) checks=$((checks + 1))
	"$dal" "$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
	out=$(cat "$work/out") err=$(cat "$work/err")
	{ cat "$work/out" "$work/err"; } >>"$work/all"
	[ "$rc" = "$want" ] || fail "dal $* exited $rc, want $want; stderr: $err"
}
# is JQ_EXPR: the last stdout, parsed as JSON, makes the expression true
is() {
	checks=$((checks + 1))
	# jq 1.6 -e exits 0 on empty input: an empty stdout must fail here.
	[ -n "$out" ] || { fail "jq '$1' on an empty stdout"; return; }
	jq -e "$1" >/dev/null 2>&1 <<<"$out" || fail "jq '$1' on: $out"
}
has_err() { has "$1" "$err"; }
# has TEXT IN / lacks TEXT IN
has() {
	checks=$((checks + 1))
	case $2 in *"$1"*) ;; *) fail "'$1' not in: $2" ;; esac
}
lacks() {
	checks=$((checks + 1))
	case $2 in *"$1"*) fail "'$(printf '%q' "$1")' in: $(printf '%q' "$2")" ;; esac
}
