#!/usr/bin/env bash
# The dal program end to end on one engine: every subcommand, its exit code and
# its output (--json parsed with jq, never grepped), usage errors (exit 2, usage on
# stderr, nothing on stdout), a tampered audit chain (exit 3, the row named), an
# unreachable database (exit 4), pending migrations (exit 5), and a sentinel
# password (and the server's real one) in no output of any subcommand, failures too.
# Prints: cli ENGINE: commands=N checks=N failed=N leaks=N
#   cli_test.sh ENGINE BUILD_DIR [PG_URL_FILE]     (ENGINE: sqlite-file, duckdb, postgres)
set -u
engine=$1 build=$2 pg_url_file=${3:-}
dal=$build/cli/dal
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sentinel=dal_sentinel_pw_5c1f9e
leaks=0 secret=""

case $engine in
sqlite-file) url="sqlite:///$work/cli.db" ;;
duckdb) url="duckdb:///$work/cli.duckdb" ;;
postgres)
	base=$(cat "$pg_url_file") || exit 1
	# A database of its own: the tour's table may already exist in another shape.
	PGOPTIONS="-c client_min_messages=warning" psql -q "$base" -c "DROP DATABASE IF EXISTS dal_cli_test" -c "CREATE DATABASE dal_cli_test" || exit 1
	url=$(printf '%s' "$base" | sed -E 's#/[^/?]*([?]|$)#/dal_cli_test\1#')
	secret=$(printf '%s' "$base" | sed -E 's#^[^:]*://[^:]*:([^@]*)@.*#\1#')
	;;
*) echo "cli_test: unknown engine $engine" >&2; exit 2 ;;
esac

. "$(dirname "$0")/lib.sh"
usage() {
	run 2 "$@"
	checks=$((checks + 1))
	[ -z "$out" ] || fail "usage error of dal $* printed on stdout: $out"
	checks=$((checks + 1))
	case $err in "usage: dal"*|*"Try 'dal"*) ;; *) fail "usage error of dal $* without usage on stderr: $err" ;; esac
}

DATABASE_URL=$url "$build/examples/tour" >"$work/tour.out" 2>&1 || { cat "$work/tour.out"; exit 1; }
export DATABASE_URL=$url

# Usage errors: exit 2, a message on stderr, nothing on stdout.
usage
usage bogus
usage --color=purple health
usage --frobnicate health
usage sql
usage sql 'SELECT 1' 'SELECT 2'
usage sql --param int:x 'SELECT ?'
usage health extra
usage metrics --prometheus --json
usage migrate
usage migrate sideways
usage migrate down
usage migrate down -- -1
usage migrate up --check
usage migrate new 'bad name'
usage audit
usage audit list --limit x
usage audit list --since yesterday
usage audit list --until 2020-01-01 --since 2021-01-01
usage audit cleanup
usage audit cleanup --retention-days -3
usage audit verify --user bob
usage history tour_accounts
usage history tour_accounts one
usage show tour_accounts 1 --as-of soon
usage show tour_accounts 1 --url

# Help at every level: exit 0, on stdout.
for cmd in "" sql health metrics migrate audit history show; do
	run 0 $cmd --help
	checks=$((checks + 1)); case $out in usage:*) ;; *) fail "dal $cmd --help: $out" ;; esac
done
run 0 --version

run 0 health --json
is '.healthy == true and (.database_type | length > 0) and (.url | type == "string")'
run 0 health
run 0 metrics --json
is '.query_count >= 1'
run 0 metrics --prometheus
checks=$((checks + 1)); case $out in *"# TYPE dal_"*) ;; *) fail "metrics --prometheus: $out" ;; esac
run 0 metrics

run 0 sql --json 'SELECT owner, balance FROM tour_accounts WHERE id = ? ORDER BY id' --param 1
is '.columns == ["owner", "balance"] and .row_count == 1 and .rows[0] == ["Ann", 70]'
run 0 sql --json 'SELECT id FROM tour_accounts WHERE owner = ?' --param text:Bob
is '.rows == [[2]]'
# A value with a colon is text unless what precedes the colon is a type's name.
run 0 sql --json 'SELECT CAST(? AS TEXT) AS a, CAST(? AS TEXT) AS b, CAST(? AS BIGINT) + 1 AS c, CAST(? AS TEXT) AS d' \
	--param 12:30 --param ab:cd --param int:7 --param null:
is '.rows == [["12:30", "ab:cd", 8, null]]'
run 0 sql 'SELECT id, owner FROM tour_accounts WHERE id <= ? ORDER BY id' --param 2
checks=$((checks + 1)); [ "$(printf '%s\n' "$out" | tail -1)" = "(2 rows)" ] || fail "sql table: $out"
run 0 --json sql "UPDATE tour_accounts SET owner = owner WHERE id = ?" --param 2
is '.changes == 1'
run 1 sql --json 'SELECT * FROM no_such_table'
is '.error.code == "sql" and (.error.message | length > 0)'
has_err "no_such_table"

# Colour: never in a pipe unless asked; on a terminal (script gives one) unless NO_COLOR is set.
run 0 --color=always health
checks=$((checks + 1)); case $out in *$'\033['*) ;; *) fail "--color=always printed no colour" ;; esac
run 0 health
checks=$((checks + 1)); case $out in *$'\033'*) fail "colour in a pipe" ;; esac
if command -v script >/dev/null; then
	checks=$((checks + 2)) commands=$((commands + 2))
	tty_out=$(NO_COLOR= script -qec "$dal health" /dev/null </dev/null)
	case $tty_out in *$'\033['*) ;; *) fail "no colour on a terminal: $tty_out" ;; esac
	tty_out=$(NO_COLOR=1 script -qec "$dal health" /dev/null </dev/null)
	case $tty_out in *$'\033'*) fail "colour on a terminal with NO_COLOR set" ;; esac
	printf '%s\n' "$tty_out" >>"$work/all"
fi

# history: oldest first, who and when.
run 0 history --json tour_accounts 1
is '.table == "tour_accounts" and .id == 1 and .count == 4'
is '[.changes[].action] == ["CREATE", "UPDATE", "UPDATE", "UPDATE"]'
is '[.changes[].user_id] == ["alice", "alice", "alice", "teller"]'
is '[.changes[].timestamp] == ([.changes[].timestamp] | sort) and (.changes[0].timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))'
is '.changes[1].old_values.balance == 100 and .changes[1].new_values.balance == 120'
as_of=$(jq -r '.changes[1].timestamp' <<<"$out")
run 0 history tour_accounts 1
checks=$((checks + 1)); case $out in *"100 -> 120"*) ;; *) fail "history table: $out" ;; esac
run 1 history no_such_table 1
has_err "no table named 'no_such_table'"
run 1 history --json no_such_table 1
is '.error.code == "not_found" and (.error.message | test("no_such_table"))'
run 1 show --json tour_accounts 999999
is '.error.code == "not_found"'
run 1 history 'tour_accounts"; DROP TABLE tour_accounts; --' 1

# show: now (sensitive columns as the audit trail records them), and as of a time.
run 0 show --json tour_accounts 1
is '.row.id == 1 and .row.owner == "Ann" and .row.balance == 70 and .row.pin_hash == "[REDACTED]" and .as_of == null'
run 0 show --json tour_accounts 1 --as-of "$as_of"
is '.row.balance == 120 and .as_of == "'"$as_of"'"'
run 1 show tour_accounts 1 --as-of 2000-01-01
run 1 show tour_accounts 999999
run 0 show tour_accounts 2
# A failing read is reported once, and nothing else runs after it.
run 0 sql 'CREATE TABLE cli_noid (x INTEGER)'
run 1 show cli_noid 1
checks=$((checks + 1)); [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "show of a table without id: $err"

# audit list: every filter.
run 0 audit list --json --resource-type tour_accounts --resource-id 1
is '.count == 4 and ([.entries[].resource_id] | unique) == [1]'
run 0 audit list --json --user teller --limit 0
is '.count == 2 and ([.entries[].user_id] | unique) == ["teller"]'
run 0 audit list --json --correlation-id transfer-1
is '.count == 2 and ([.entries[].correlation_id] | unique) == ["transfer-1"]'
run 0 audit list --json --action BULK_CREATE --limit 0
is '.count == 100'
run 0 audit list --json --limit 0
is '.count == 106 and (.entries[0].id == 106)'
run 0 audit list --json --limit 3 --offset 1
is '.count == 3 and .entries[0].id == 105'
run 0 audit list --json --since 2999-01-01
is '.count == 0'
run 0 audit list --json --until 2000-01-01
is '.count == 0'
run 0 audit list --json --since 2000-01-01 --until 2999-01-01 --limit 0
is '.count == 106'
run 0 audit list --limit 2

# audit verify, cleanup; a tampered chain names its row and exits 3.
run 0 audit verify --json
is '.ok == true and .rows_checked == 106 and .head_id == 106 and .bad_id == null and (.head_hash | length == 64)'
run 0 audit cleanup --retention-days 36500 --json
is '.deleted == 0'
run 0 sql "UPDATE audit_logs SET user_id = 'mallory' WHERE id = 5"
run 3 audit verify --json
is '.ok == false and .bad_id == 5 and (.reason | length > 0)'
has_err "row 5"
run 3 audit verify
checks=$((checks + 1)); case $out in *"TAMPERED at row 5"*) ;; *) fail "verify text: $out" ;; esac
run 0 sql "UPDATE audit_logs SET user_id = 'teller' WHERE id = 5"
run 0 audit verify
run 0 audit cleanup --retention-days 0 --json
is '.deleted == 106 and .retention_days == 0'
run 0 audit verify --json
is '.ok == true and .rows_checked == 0'

# migrate: new, status --check (5 while pending), up, down, lint.
m=$work/migrations
run 0 migrate new create_cli_things --dir "$m" --json
is '.version == 1'
echo "CREATE TABLE cli_things (id INTEGER PRIMARY KEY, name TEXT)" >"$m/V1__create_cli_things.sql"
echo "DROP TABLE cli_things" >"$m/V1__create_cli_things.down.sql"
run 0 migrate new index_cli_things --dir "$m"
echo "CREATE INDEX cli_things_name ON cli_things (name)" >"$m/V2__index_cli_things.sql"
echo "DROP INDEX cli_things_name" >"$m/V2__index_cli_things.down.sql"
run 5 migrate status --check --json --dir "$m"
is '.pending == 2 and .current_version == 0 and [.migrations[].state] == ["pending", "pending"]'
run 0 migrate status --dir "$m"
run 0 migrate up --json --dir "$m"
is '.pending == 0 and .current_version == 2 and .changed_now == 2 and (.migrations[0].applied_at | test("Z$"))'
run 0 migrate status --check --dir "$m"
run 0 migrate down 1 --json --dir "$m"
is '.current_version == 1 and .pending == 1'
run 1 migrate lint --json --dir "$m"
is '.count >= 1 and .findings[0].rule == "index-not-concurrent" and .findings[0].version == 2'
rm "$m"/V2__*
run 0 migrate lint --json --dir "$m"
is '.count == 0'
run 1 migrate up --dir "$work/no_such_folder"

# history and --as-of through every kind of change: create (qty 1), update (2), soft
# delete, restore, update (3), hard delete; t1..t6 follow each step.
"$build/tests/cli_history_fixture" >"$work/fixture.out" || fail "history_fixture failed"
fid=$(awk '$1 == "id" { print $2 }' "$work/fixture.out")
t() { awk -v k="t$1" '$1 == k { print $2 "T" $3 "Z" }' "$work/fixture.out"; }
run 0 history --json cli_items "$fid"
is '[.changes[].action] == ["CREATE", "UPDATE", "SOFT_DELETE", "RESTORE", "UPDATE", "DELETE"]'
is '[.changes[].user_id] | unique == ["fixture"]'
run 0 show --json cli_items "$fid" --as-of "$(t 1)"
is '.row.qty == 1 and .row.name == "widget" and .row.deleted_at == null'
run 0 show --json cli_items "$fid" --as-of "$(t 2)"
is '.row.qty == 2'
run 1 show cli_items "$fid" --as-of "$(t 3)"
has_err "no live row"
run 0 show --json cli_items "$fid" --as-of "$(t 4)"
is '.row.qty == 2 and .row.deleted_at == null'
run 0 show --json cli_items "$fid" --as-of "$(t 5)"
is '.row.qty == 3'
run 1 show cli_items "$fid" --as-of "$(t 6)"
run 1 show cli_items "$fid"
has_err "has no row"
# The program's replay of the trail agrees with the library's dal_repo_get_as_of at every step.
for i in 1 2 3 4 5 6; do
	lib=$(awk -v k="lib$i" '$1 == k { print $2 }' "$work/fixture.out")
	"$dal" show --json cli_items "$fid" --as-of "$(t $i)" >"$work/out" 2>/dev/null
	got=$(jq -r '.row.qty // "none"' "$work/out" 2>/dev/null || echo none)
	[ -s "$work/out" ] || got=none
	checks=$((checks + 1)) commands=$((commands + 1))
	[ "$got" = "$lib" ] && [ -n "$lib" ] || fail "show --as-of t$i: the program says $got, the library $lib"
done

# The progress line: on a terminal's stderr while a migration runs (PostgreSQL can make
# one last past the line's first tick), never when stderr is not a terminal.
if [ "$engine" = postgres ] && command -v script >/dev/null; then
	run 0 sql 'DROP TABLE dal_schema_migrations'
	mkdir "$work/slow" && echo 'SELECT pg_sleep(0.6)' >"$work/slow/V1__slow.sql"
	checks=$((checks + 1)) commands=$((commands + 1))
	tty_out=$(script -qec "$dal migrate up --dir $work/slow" /dev/null </dev/null)
	printf '%s\n' "$tty_out" >>"$work/all"
	case $tty_out in *$'\r'"migrating up"*) ;; *) fail "no progress line on a terminal: $tty_out" ;; esac
	run 0 sql 'DROP TABLE dal_schema_migrations'
	run 0 migrate up --dir "$work/slow"
	checks=$((checks + 1)); case $err in *"migrating up"*) fail "a progress line on a stderr that is no terminal" ;; esac
fi

# Unreachable databases: exit 4, the password nowhere.
bad_pg="postgresql://dal:$sentinel@127.0.0.1:1/nowhere?connect_timeout=2"
[ "$engine" = postgres ] && bad_pg=$(printf '%s' "$url" | sed -E "s#^([^:]*://[^:]*:)[^@]*@#\\1$sentinel@#")
for args in "health" "health --json" "metrics" "metrics --prometheus" "sql SELECT_1" "audit list" "audit verify" \
	"audit cleanup --retention-days 1" "history tour_accounts 1" "show tour_accounts 1" "migrate status --dir $m" \
	"migrate up --dir $m" "migrate down 0 --dir $m"; do
	run 4 --url "$bad_pg" $args
	DATABASE_URL=$bad_pg run 4 $args
done
run 4 --url "sqlite:///$work/no/such/dir/x.db" health
run 4 --url "postgresql://dal@127.0.0.1:1/nowhere?password=$sentinel&connect_timeout=2" health
run 4 --url "postgresql://dal:$sentinel@127.0.0.1:1/nowhere?sslpassword=$sentinel&connect_timeout=2" sql 'SELECT 1' 
run 2 --url "$bad_pg" audit list --limit x

checks=$((checks + 1))
if grep -qF "$sentinel" "$work/all"; then
	leaks=$((leaks + 1)); fail "the sentinel password reached an output:"; grep -F "$sentinel" "$work/all" | head -3 >&2
fi
if [ -n "$secret" ]; then
	checks=$((checks + 1))
	if grep -qF "$secret" "$work/all"; then
		leaks=$((leaks + 1)); fail "the server's password reached an output"
	fi
fi
echo "cli $engine: commands=$commands checks=$checks failed=$failed leaks=$leaks"
[ "$failed" = 0 ] && [ "$leaks" = 0 ]
