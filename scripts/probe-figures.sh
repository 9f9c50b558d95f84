#!/bin/sh
# The figures the probes printed in the last ctest run of a build folder (ctest keeps
# the output of passing tests only in its log): one line per probe and engine.
#   probe-figures.sh [BUILD]   (default: build)
log=${1:-build}/Testing/Temporary/LastTest.log
[ -f "$log" ] || { echo "probe-figures: no $log (run make test first)" >&2; exit 1; }
grep -E '(lost|occurrences|accepted|wrong_ok|duplicated|partial|over_bound|leaks)=[0-9]' "$log" | sort -u
