#!/usr/bin/env bash
# Start and stop a throwaway PostgreSQL cluster for tests and the demo.
#
# Usage:
#   scripts/pg-cluster.sh start DIR   create the cluster in DIR on first use, start it, print the path of DIR/env
#   scripts/pg-cluster.sh stop DIR    stop the cluster in DIR (fast shutdown); a stopped cluster is not an error
#   scripts/pg-cluster.sh check       make sure the server binaries are installed and print their folder
#
# The cluster listens only on 127.0.0.1, on a free port picked at creation and kept for
# restarts, and its Unix socket lives in DIR/run. Every connection, local or TCP, must pass
# scram-sha-256. The superuser is zsp_admin with a random password. fsync is off, so a
# crash can lose data: never keep anything in it.
#
# DIR/env holds ZSP_PG_HOST, ZSP_PG_PORT, ZSP_PG_USER, ZSP_PG_PASSWORD, ZSP_PG_DATABASE
# and ZSP_PG_URL (the admin URL with the password inside) as KEY='value' lines, mode 0600.
# It is for tests and the local demo only.
#
# When the binaries are missing and the script runs as root on a system with apt-get,
# it installs Debian's postgresql package. As root, the server runs as the postgres
# OS user, because PostgreSQL refuses to run as root.
set -euo pipefail

readonly ADMIN_USER=zsp_admin
readonly DATABASE=postgres
# Ports are picked below the usual Linux ephemeral range (32768-60999), so they do not
# collide with the local ports of outgoing connections.
readonly PORT_MIN=20000
readonly PORT_SPAN=12000
readonly START_ATTEMPTS=5

die() {
	echo "pg-cluster.sh: $*" >&2
	exit 1
}

usage() {
	die "usage: pg-cluster.sh start DIR | stop DIR | check"
}

# find_bin_dir prints the folder holding initdb, pg_ctl and postgres, preferring PATH and
# then the newest /usr/lib/postgresql/*/bin.
find_bin_dir() {
	local initdb_path dir
	if initdb_path=$(command -v initdb 2>/dev/null); then
		dir=$(dirname -- "$(readlink -f -- "$initdb_path")")
		if [[ -x $dir/pg_ctl && -x $dir/postgres ]]; then
			echo "$dir"
			return 0
		fi
	fi

	while read -r dir; do
		if [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]]; then
			echo "$dir"
			return 0
		fi
	done < <(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V -r)

	return 1
}

install_postgres() {
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
		die "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin; install the postgresql package"
	fi

	echo "pg-cluster.sh: installing the postgresql package" >&2
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
}

# ensure_bin_dir prints the binaries' folder, installing the package first when needed.
ensure_bin_dir() {
	local dir
	if dir=$(find_bin_dir); then
		echo "$dir"
		return 0
	fi

	install_postgres
	dir=$(find_bin_dir) || die "the postgresql package is installed but initdb and pg_ctl are still missing"
	echo "$dir"
}

# runuser_bin prints util-linux's runuser, which lives in /usr/sbin, often
# outside a non-login shell's PATH.
runuser_bin() {
	local candidate
	for candidate in "$(command -v runuser || true)" /usr/sbin/runuser /sbin/runuser; do
		if [[ -n $candidate && -x $candidate ]]; then
			echo "$candidate"
			return 0
		fi
	done
	die "runuser is missing; install util-linux (it runs the cluster as the postgres OS user when invoked as root)"
}

# as_owner runs a command as the cluster's OS user: postgres when invoked as root, else the caller.
as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		"$(runuser_bin)" -u postgres -- "$@"
	else
		"$@"
	fi
}

random_password() {
	# 24 random bytes as 48 hex characters: 192 bits, and nothing to quote in a URL or a shell.
	od -An -tx1 -N24 /dev/urandom | tr -d ' \n'
}

# listening_ports prints the local TCP ports in the LISTEN state, from the kernel's table,
# without connecting to anything.
listening_ports() {
	if command -v ss >/dev/null 2>&1; then
		ss -Htln | awk '{ n = split($4, parts, ":"); print parts[n] }' | sort -u
		return 0
	fi

	# /proc/net/tcp columns: sl local_address rem_address st ...; state 0A is LISTEN and
	# the port is the hexadecimal part after the colon.
	local local_address state
	while read -r _ local_address _ state _; do
		if [[ $state == 0A ]]; then
			echo $((16#${local_address##*:}))
		fi
	done < <(tail -n +2 /proc/net/tcp)
}

pick_port() {
	local used port
	used=$(listening_ports)
	for _ in $(seq 1 50); do
		port=$((PORT_MIN + RANDOM % PORT_SPAN))
		if ! grep -qx -- "$port" <<<"$used"; then
			echo "$port"
			return 0
		fi
	done
	die "no free TCP port found between $PORT_MIN and $((PORT_MIN + PORT_SPAN))"
}

write_settings() {
	local dir=$1 port=$2
	as_owner tee "$dir/data/zsp.conf" >/dev/null <<EOF
# Written by scripts/pg-cluster.sh: a throwaway test cluster.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/run'
max_connections = 200
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
	echo "$port" >"$dir/port"
}

write_hba() {
	local dir=$1
	as_owner tee "$dir/data/pg_hba.conf" >/dev/null <<EOF
# Written by scripts/pg-cluster.sh: every connection must pass scram-sha-256.
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
EOF
}

write_env() {
	local dir=$1 port=$2 password
	password=$(<"$dir/pwfile")
	(
		umask 077
		cat >"$dir/env" <<EOF
ZSP_PG_HOST='127.0.0.1'
ZSP_PG_PORT='$port'
ZSP_PG_USER='$ADMIN_USER'
ZSP_PG_PASSWORD='$password'
ZSP_PG_DATABASE='$DATABASE'
ZSP_PG_URL='postgres://$ADMIN_USER:$password@127.0.0.1:$port/$DATABASE?sslmode=disable'
EOF
	)
}

init_cluster() {
	local bin=$1 dir=$2
	mkdir -p "$dir/run"
	(
		umask 077
		random_password >"$dir/pwfile"
	)
	chmod 0700 "$dir"
	if [[ $(id -u) -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || die "running as root needs the postgres OS user, which does not exist; create it or run as another user"
		chown -R postgres:postgres "$dir"
		"$(runuser_bin)" -u postgres -- test -w "$dir" ||
			die "the postgres OS user cannot write to $dir; choose a folder whose parents it can enter, such as one under /tmp"
	fi

	as_owner "$bin/initdb" --pgdata="$dir/data" --username="$ADMIN_USER" --pwfile="$dir/pwfile" \
		--auth=scram-sha-256 --encoding=UTF8 --locale=C --no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
		die "initdb failed; see $dir/initdb.log"

	echo "include 'zsp.conf'" | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
	write_hba "$dir"
}

is_running() {
	local bin=$1 dir=$2
	[[ -f $dir/data/postmaster.pid ]] && as_owner "$bin/pg_ctl" status --pgdata="$dir/data" >/dev/null 2>&1
}

run_pg_ctl_start() {
	local bin=$1 dir=$2
	as_owner "$bin/pg_ctl" start --pgdata="$dir/data" --log="$dir/postgres.log" --wait --timeout=60 >/dev/null 2>&1
}

# start_new_cluster starts a freshly created cluster, trying another port when another
# process took the chosen one between the check and the bind.
start_new_cluster() {
	local bin=$1 dir=$2 port attempt
	for attempt in $(seq 1 "$START_ATTEMPTS"); do
		port=$(pick_port)
		write_settings "$dir" "$port"
		if run_pg_ctl_start "$bin" "$dir"; then
			return 0
		fi
		if ! grep -q "could not bind\|Address already in use" "$dir/postgres.log" 2>/dev/null; then
			break
		fi
		echo "pg-cluster.sh: port $port was taken, trying another (attempt $attempt)" >&2
	done
	die "postgres failed to start; see $dir/postgres.log"
}

cmd_start() {
	local dir=$1 bin port
	[[ $dir == /* ]] || dir="$(pwd)/$dir"
	# The path goes inside single-quoted settings in postgresql.conf.
	[[ $dir != *[\'[:space:]]* ]] || die "DIR must not contain quotes or white space: $dir"

	bin=$(ensure_bin_dir)
	mkdir -p "$dir"

	if [[ ! -f $dir/data/PG_VERSION ]]; then
		init_cluster "$bin" "$dir"
		start_new_cluster "$bin" "$dir"
	elif ! is_running "$bin" "$dir"; then
		# A restart keeps the port that was picked at creation, so clients can reconnect.
		run_pg_ctl_start "$bin" "$dir" || die "postgres failed to restart on port $(<"$dir/port"); see $dir/postgres.log"
	fi

	port=$(<"$dir/port")
	write_env "$dir" "$port"
	echo "$dir/env"
}

cmd_stop() {
	local dir=$1 bin
	[[ -f $dir/data/PG_VERSION ]] || die "no cluster in $dir"

	bin=$(ensure_bin_dir)
	if ! is_running "$bin" "$dir"; then
		echo "pg-cluster.sh: the cluster in $dir is not running" >&2
		return 0
	fi

	as_owner "$bin/pg_ctl" stop --pgdata="$dir/data" --mode=fast --wait --timeout=60 >/dev/null
}

main() {
	[[ $# -ge 1 ]] || usage

	case $1 in
	start)
		[[ $# -eq 2 ]] || usage
		cmd_start "$2"
		;;
	stop)
		[[ $# -eq 2 ]] || usage
		cmd_stop "$2"
		;;
	check)
		[[ $# -eq 1 ]] || usage
		ensure_bin_dir
		;;
	*)
		usage
		;;
	esac
}

main "$@"
