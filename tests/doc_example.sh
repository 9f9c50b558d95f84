#!/bin/sh
# A program of the docs as a new user would take it: the first C block after a
# heading, compiled with -std=c11 -Wall -Wextra -Werror -pedantic against the built
# library and run twice on the database URL given (a second run must work too).
# With MAX_RATIO, the first Python block after the same heading is the program it
# ports: the C must be at most MAX_RATIO times its lines (non-blank, non-comment,
# imports and includes left out).
#   doc_example.sh FILE HEADING BUILD_DIR URL [MAX_RATIO]     (HEADING "" = from the top)
set -eu
doc=$1 heading=$2 build=$3 url=$4 max=${5:-}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# block LANG: the first ```LANG block after the heading line
block() {
	awk -v h="$heading" -v lang="$1" '
		h == "" || $0 == h { seen = 1 }
		seen && !on && $0 == "```" lang { on = 1; next }
		on && /^```$/ { exit }
		on { print }' "$doc"
}

# C: no #include, no line that is only a comment. Python: no import (with its
# parenthesized continuation lines), no line that is only a comment.
count_c() {
	awk '/^[ \t]*$/ || /^[ \t]*#include/ || /^[ \t]*(\/\/|\/\*|\*)/ { next } { n++ } END { print n + 0 }'
}
count_py() {
	awk 'skip { if (/\)/) skip = 0; next }
		/^(from|import) / { if (/\(/ && !/\)/) skip = 1; next }
		/^[ \t]*$/ || /^[ \t]*#/ { next } { n++ } END { print n + 0 }'
}

block c >"$work/example.c"
[ -s "$work/example.c" ] || { echo "doc_example: no C block after '$heading' in $doc" >&2; exit 1; }
if [ -n "$max" ]; then
	block python >"$work/example.py"
	c=$(count_c <"$work/example.c") py=$(count_py <"$work/example.py")
	[ "$py" -gt 0 ] || { echo "doc_example: no Python block after '$heading' in $doc" >&2; exit 1; }
	ratio=$(awk -v c="$c" -v p="$py" 'BEGIN { printf "%.2f", c / p }')
	echo "doc_example $(basename "$doc"): c_lines=$c python_lines=$py ratio=$ratio max=$max"
	awk -v r="$ratio" -v m="$max" 'BEGIN { exit !(r <= m) }' || { echo "doc_example: C is more than ${max}x the Python" >&2; exit 1; }
fi
cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$src/include" -I"$build/include" \
	"$work/example.c" -o "$work/example" -L"$build" -ldal -Wl,-rpath,"$build" ${DAL_EXTRA_RPATH:+-Wl,-rpath,$DAL_EXTRA_RPATH}
# On PostgreSQL each document's program gets a database of its own: the programs
# of two documents may declare one table name in two shapes.
case $url in
postgres*)
	name=dal_doc_$(basename "$doc" .md | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z')
	psql -q "$url" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
	url=$(printf '%s' "$url" | sed -E "s#/[^/?]*([?]|$)#/$name\1#")
	;;
esac
cd "$work"
DATABASE_URL=$url ./example
DATABASE_URL=$url ./example
