#!/usr/bin/env bash
# The dal program against what a stranger tries on one engine: values JSON has no
# form for (an infinite real, text that is not UTF-8) and terminal controls in
# values and messages; SQL that starts with a comment or holds 'returning' in a
# literal; option names in usage messages; --limit and --offset at their largest;
# a DAL_SENSITIVE column set outside the audit trail. Each --json output must parse
# and keep one value per column. Prints: cli_review ENGINE: checks=N failed=N leaks=N
#   cli_review_test.sh ENGINE BUILD_DIR [PG_URL_FILE]     (ENGINE: sqlite-file, duckdb, postgres)
set -u
engine=$1 build=$2 pg_url_file=${3:-}
dal=$build/cli/dal
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
leaks=0
pin=dal_review_pin_7d2e41

case $engine in
sqlite-file) url="sqlite:///$work/review.db" inf='1e308 * 10' ;;
duckdb) url="duckdb:///$work/review.duckdb" inf="CAST('inf' AS DOUBLE)" ;;
postgres)
	base=$(cat "$pg_url_file") || exit 1
	PGOPTIONS="-c client_min_messages=warning" psql -q "$base" -c "DROP DATABASE IF EXISTS dal_cli_review" -c "CREATE DATABASE dal_cli_review" || exit 1
	url=$(printf '%s' "$base" | sed -E 's#/[^/?]*([?]|$)#/dal_cli_review\1#')
	inf="CAST('Infinity' AS DOUBLE PRECISION)"
	;;
*) echo "cli_review: unknown engine $engine" >&2; exit 2 ;;
esac

. "$(dirname "$0")/lib.sh"

DATABASE_URL=$url "$build/examples/tour" >"$work/tour.out" 2>&1 || { cat "$work/tour.out"; exit 1; }
export DATABASE_URL=$url
c1=$'\xc2\x9b'   # U+009B, the one-byte CSI of terminals that take C1 controls
esc=$'\x1b'

# A real that JSON has no form for keeps its place in the row (a string), and the table
# writes it as people read it.
run 0 --json sql "SELECT $inf AS a, CAST(? AS TEXT) AS b, 3 AS c" --param "x${c1}y"
is '.columns == ["a", "b", "c"] and (.rows[0] | length) == 3 and .rows[0][0] == "Infinity" and .rows[0][2] == 3'
is '.rows[0][1] == "x\u009by"'
run 0 sql "SELECT $inf AS a, CAST(? AS TEXT) AS b, CAST(0.1 AS DOUBLE PRECISION) AS c" --param "x${c1}${esc}y"
has 'Infinity' "$out"
lacks "$c1" "$out"
lacks "$esc" "$out"
has '0.1' "$out"
lacks '0.10000000000000001' "$out"
# Columns line up by what the terminal shows: a CJK character takes two columns.
run 0 sql "SELECT '日本語' AS name, 1 AS n UNION ALL SELECT 'ab', 22 ORDER BY n"
checks=$((checks + 1))
[ "$out" = $'name     n\n日本語   1\nab      22\n(2 rows)' ] || fail "wide characters misalign: $(printf '%q' "$out")"
# Text that is not UTF-8 (SQLite keeps it as given): shown escaped, never dropped.
if [ "$engine" = sqlite-file ]; then
	run 0 --json sql "SELECT CAST(x'ff41' AS TEXT) AS a, 2 AS b"
	is '.rows == [["\\xffA", 2]]'
	run 0 sql "INSERT INTO tour_accounts (owner, balance, created_at, updated_at) VALUES (CAST(x'ff' AS TEXT), 1, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')"
	run 0 --json show tour_accounts 103
	is '.row.owner == "\\xff" and .row.balance == 1'
fi
# A table name as long as the engine allows (PostgreSQL cuts names at 63 bytes).
if [ "$engine" != postgres ]; then
	long=$(printf 'x%.0s' {1..600})
	run 0 sql "CREATE TABLE $long (id INTEGER PRIMARY KEY)"
	run 0 sql "INSERT INTO $long (id) VALUES (7)"
	run 0 --json show "$long" 7
	is '.row.id == 7'
fi
# migrate new in a folder whose name is not UTF-8: the paths written are in the document.
run 0 --json migrate new first --dir "$work/m"$'\xff'
is '.version == 1 and (.up | endswith("m\\xff/V1__first.sql"))'
# A lint finding that quotes SQL which is not UTF-8 is still listed.
mkdir "$work/lint" && printf 'CREATE INDEX i ON "t\xff" (id)\n' >"$work/lint/V1__idx.sql"
run 1 --json migrate lint --dir "$work/lint"
is '.count == 1 and (.findings | length) == 1 and (.findings[0].message | test("t\\\\xff"))'
# A failure's JSON document parses whatever bytes the engine's message quotes, and
# a terminal control in it reaches stderr escaped.
run 1 --json sql $'SELECT * FROM "\xff"'
is '.error.code | type == "string"'
run 1 --json sql "SELECT * FROM \"no${esc}such\""
is '.error.message | length > 0'
lacks "$esc" "$err"
run 1 --json show $'\xff' 1
is '.error.code | type == "string"'

# What a statement starts with decides rows or changes: comments are not words, and
# 'returning' inside a literal is not RETURNING.
run 0 --json sql '/* why */ SELECT 1 AS x'
is '.rows == [[1]]'
run 0 --json sql -- $'-- why\nSELECT 2 AS x'
is '.rows == [[2]]'
run 0 --json sql "UPDATE tour_accounts SET owner = 'returning' WHERE id = ?" --param 2
is '.changes == 1'

# A statement with no word in it is a usage error on every engine (PostgreSQL's
# driver crashed on '' and ran nothing for ';').
for empty in '' ' ' ';' '/* nothing */'; do
	run 2 sql "$empty"
	has 'the statement is empty' "$err"
	checks=$((checks + 1)); [ -z "$out" ] || fail "dal sql '$empty' printed on stdout: $out"
done

# A usage message names the option that was wrong.
run 2 health -xy
has "'-x'" "$err"
run 2 --url
has "'--url' needs a value" "$err"
run 2 --json=yes health
has "'--json=yes'" "$err"

# --limit and --offset at their largest are all rows and none, on every engine.
run 0 --json audit list --limit 9223372036854775807
is '.count == 106'
run 0 --json audit list --limit 5 --offset 9223372036854775807
is '.count == 0'
# --until 1970-01-01 is before the epoch: no rows (an end of 0 meant no end).
run 0 --json audit list --until 1970-01-01 --limit 0
is '.count == 0'

# A statement that runs past DAL_STATEMENT_TIMEOUT_MS is a failure (1), not a database
# out of reach (4): the server answered.
if [ "$engine" = postgres ]; then
	DAL_STATEMENT_TIMEOUT_MS=100 run 1 --json sql 'SELECT pg_sleep(2)'
	is '.error.code == "timeout"'
fi

# On a terminal, a message sent to a file has no colour in it (stdout is the terminal).
if command -v script >/dev/null; then
	checks=$((checks + 1))
	NO_COLOR= script -qec "$dal show no_such_table 1 2>$work/err.log" /dev/null </dev/null >/dev/null
	grep -q 'no table named' "$work/err.log" && ! grep -q $'\033' "$work/err.log" ||
		fail "stderr to a file: $(cat -v "$work/err.log")"
fi

# A DAL_SENSITIVE column changed outside the audit trail is still shown redacted: the
# table's audit rows say which columns are sensitive, not only this entity's.
run 0 sql "UPDATE tour_accounts SET pin_hash = ? WHERE id = 3" --param "$pin"
run 0 --json show tour_accounts 3
is '.row.pin_hash == "[REDACTED]" and .row.owner == "bulk-0"'
run 0 show tour_accounts 3
has '[REDACTED]' "$out"

checks=$((checks + 1))
if grep -qF "$pin" "$work/all"; then
	leaks=$((leaks + 1)); fail "a DAL_SENSITIVE value reached an output:"; grep -F "$pin" "$work/all" | head -3 >&2
fi
echo "cli_review $engine: checks=$checks failed=$failed leaks=$leaks"
[ "$failed" = 0 ] && [ "$leaks" = 0 ]
