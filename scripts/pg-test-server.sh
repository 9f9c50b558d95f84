#!/bin/sh
# A throwaway PostgreSQL server for tests, on loopback, in a folder of its own.
#
#   pg-test-server.sh start DIR   make DIR, start a server, write its URL to DIR/url
#   pg-test-server.sh stop DIR    stop the server and remove DIR
#   pg-test-server.sh restart DIR fast|immediate [SECONDS]
#                                 stop the server in that pg_ctl mode, leave it down
#                                 SECONDS (default 0), start it again on the same
#                                 port (fault tests)
#
# The server listens on 127.0.0.1 only, on a free port, with its unix socket
# inside DIR, fsync off (test data need not survive a power loss) and
# password authentication, so that dal's own login path is what tests use.
# With DAL_PG_DURABLE=1 in the environment of `start`, the server is durable
# instead (fsync, synchronous_commit and full_page_writes on): tests that kill
# processes or restart the server and then count acknowledged commits need it,
# since without it the server itself may drop a commit it acknowledged.
# As root, the server runs as the user `postgres` (initdb refuses root).
set -eu

PGBIN=${PGBIN:-}
if [ -z "$PGBIN" ]; then
	for v in 17 16 15 14 13; do
		if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then
			PGBIN=/usr/lib/postgresql/$v/bin
			break
		fi
	done
fi
APP_USER=dal
APP_PASSWORD=dal_secret_pw
APP_DB=dal_test

die() {
	echo "pg-test-server: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 start|stop DIR, or $0 restart DIR fast|immediate [SECONDS]" >&2
	exit 2
}

[ $# -eq 2 ] || { [ "${1:-}" = restart ] && [ $# -ge 3 ] && [ $# -le 4 ]; } || usage
CMD=$1
DIR=$2
MODE=${3:-}
DOWN=${4:-0}
case "$DIR" in
/*) ;;
*) DIR=$(pwd)/$DIR ;;
esac

# Run a command as the server's owner: postgres when we are root, else ourselves.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

server_answers() {
	[ -f "$DIR/url" ] && [ -f "$DIR/port" ] || return 1
	"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$(cat "$DIR/port")" -t 3
}

start() {
	[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] ||
		die "initdb not found under /usr/lib/postgresql/*/bin (apt-get install postgresql, or set PGBIN)"
	command -v python3 >/dev/null 2>&1 || die "python3 is needed to pick a free port"
	if server_answers; then
		exit 0
	fi
	if [ -d "$DIR/data" ]; then
		# A leftover from a run that did not finish: start over.
		as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$DIR"
	fi
	mkdir -p "$DIR"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$DIR"
		runuser -u postgres -- test -x "$DIR" || {
			rmdir "$DIR" 2>/dev/null || true
			die "user postgres cannot reach $DIR: a parent folder is not traversable by others (chmod o+x it, or pick a folder under /tmp)"
		}
	fi

	pwfile="$DIR/pwfile"
	# initdb reads the superuser's password from a file; the file goes once initdb is done.
	as_owner sh -c "umask 077 && printf '%s\n' '$APP_PASSWORD' > '$pwfile'"
	if ! as_owner "$PGBIN/initdb" -D "$DIR/data" -U postgres --pwfile="$pwfile" \
		--auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1; then
		cat "$DIR/initdb.log" >&2
		die "initdb failed"
	fi

	# The port is free when picked, but another process may take it before the
	# server binds it: try a few.
	conf="$DIR/data/postgresql.conf"
	durable=off
	[ "${DAL_PG_DURABLE:-0}" = 1 ] && durable=on
	cp "$conf" "$DIR/postgresql.conf.orig"
	started=false
	for attempt in 1 2 3; do
		port=$(free_port)
		cp "$DIR/postgresql.conf.orig" "$conf"
		cat >>"$conf" <<EOF
# pg-test-server.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DIR'
fsync = $durable
synchronous_commit = $durable
full_page_writes = $durable
max_connections = 100
logging_collector = off
EOF
		# The test server keeps recent WAL for the tests that read it back
		# (pg_walinspect) while other tests write; the durable one recycles as by default.
		[ "$durable" = off ] && echo "wal_keep_size = 128MB" >>"$conf"
		if as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null 2>&1; then
			started=true
			break
		fi
		grep -q "could not bind\|Address already in use" "$DIR/server.log" 2>/dev/null || break
		echo "pg-test-server: port $port was taken (attempt $attempt), trying another" >&2
	done
	if ! $started; then
		echo "pg-test-server: the server did not start; its log:" >&2
		cat "$DIR/server.log" >&2 2>/dev/null || true
		exit 1
	fi
	echo "$port" >"$DIR/port"

	if ! as_owner env PGPASSFILE=/dev/null PGPASSWORD="$APP_PASSWORD" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$port" -U postgres -d postgres >"$DIR/setup.log" 2>&1 <<EOF
CREATE ROLE $APP_USER LOGIN CREATEDB SUPERUSER PASSWORD '$APP_PASSWORD';
CREATE DATABASE $APP_DB OWNER $APP_USER;
EOF
	then
		cat "$DIR/setup.log" >&2
		die "creating role $APP_USER and database $APP_DB failed"
	fi
	rm -f "$pwfile"
	echo "postgresql://$APP_USER:$APP_PASSWORD@127.0.0.1:$port/$APP_DB?sslmode=disable" >"$DIR/url.tmp"
	mv "$DIR/url.tmp" "$DIR/url"
}

stop() {
	if [ -d "$DIR/data" ] && [ -n "$PGBIN" ]; then
		if ! as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 20 stop >/dev/null 2>&1; then
			as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
		fi
	fi
	rm -rf "$DIR"
}

# The port and the socket folder live in postgresql.conf, so the server comes
# back where clients (and a later `stop`) expect it. -m immediate is a crash:
# the start replays the WAL.
restart() {
	case "$MODE" in fast | immediate) ;; *) usage ;; esac
	[ -d "$DIR/data" ] && [ -n "$PGBIN" ] || die "no server in $DIR"
	as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -m "$MODE" -w -t 30 stop >/dev/null 2>&1 ||
		die "pg_ctl -m $MODE stop failed (see $DIR/server.log)"
	sleep "$DOWN"
	if ! as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null 2>&1; then
		tail -n 20 "$DIR/server.log" >&2 2>/dev/null || true
		die "the server did not start again"
	fi
}

case "$CMD" in
start) start ;;
stop) stop ;;
restart) restart ;;
*) usage ;;
esac
