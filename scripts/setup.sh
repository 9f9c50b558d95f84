#!/usr/bin/env bash
# Installs what dal needs to build and test, and does nothing when all is there:
# Debian packages, and DuckDB's official build from the npm registry, pinned by
# cmake/duckdb/package-lock.json (integrity hashes), install scripts disabled.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
deps="$root/.deps"
packages=(build-essential cmake pkg-config libsqlite3-dev sqlite3 libpq-dev postgresql
          libcmocka-dev libjansson-dev libssl-dev valgrind python3 jq man-db groff-base)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		sudo=sudo
		command -v sudo >/dev/null || { echo "setup: run as root or install: ${missing[*]}" >&2; exit 1; }
	else
		sudo=
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# DuckDB: refreshed whenever the lock file changes.
lock="$root/cmake/duckdb/package-lock.json"
stamp="$deps/duckdb/.lock-sha256"
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ ! -f "$deps/duckdb/lib/libduckdb.so" ] || [ ! -f "$deps/duckdb/include/duckdb.h" ] ||
   [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	echo "setup: installing DuckDB from the npm registry (pinned in cmake/duckdb/package-lock.json)"
	work="$deps/npm"
	rm -rf "$work" "$deps/duckdb"
	mkdir -p "$work" "$deps/duckdb/lib" "$deps/duckdb/include"
	cp "$root/cmake/duckdb/package.json" "$lock" "$work/"
	(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
	cp "$work/node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so" "$deps/duckdb/lib/"
	cp "$work/node_modules/duckdb/src/duckdb/src/include/duckdb.h" "$deps/duckdb/include/"
	rm -rf "$work"
	echo "$want" > "$stamp"
fi
