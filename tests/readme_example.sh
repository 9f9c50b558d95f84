#!/bin/sh
# The README's example as a new user would take it: the first C block, compiled with
# -std=c11 -Wall -Wextra -Werror -pedantic against the built library, run twice on
# the database URL given (a second run must work too).
#   readme_example.sh README.md BUILD_DIR URL
set -eu
readme=$1 build=$2 url=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on { print }' "$readme" >"$work/example.c"
[ -s "$work/example.c" ] || { echo "readme_example: no C block in $readme" >&2; exit 1; }
cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$(dirname "$readme")/include" -I"$build/include" \
	"$work/example.c" -o "$work/example" -L"$build" -ldal -Wl,-rpath,"$build" ${DAL_EXTRA_RPATH:+-Wl,-rpath,$DAL_EXTRA_RPATH}
cd "$work"
DATABASE_URL=$url ./example
DATABASE_URL=$url ./example
