#!/bin/sh
# The shared library exports the public API and nothing else: names dal_ followed
# by a letter or digit. Not dal__ (dal's internals), not a name of anything linked
# in; only the markers every linker adds. Usage: exported_symbols.sh LIBRARY
set -eu
lib=$1
names=$(nm -D --defined-only "$lib" | awk 'NF == 3 { print $3 }')
# An empty list would pass everything below: make sure the reading worked.
if ! printf '%s\n' "$names" | grep -qx dal_open; then
	echo "exported_symbols: dal_open is not among the symbols read from $lib" >&2
	exit 1
fi
extra=$(printf '%s\n' "$names" | grep -v '^dal_[a-z0-9]' |
	grep -vx -e _init -e _fini -e _edata -e _end -e __bss_start || true)
if [ -n "$extra" ]; then
	echo "exported_symbols: $lib exports names outside the public API:" >&2
	printf '%s\n' "$extra" >&2
	exit 1
fi
