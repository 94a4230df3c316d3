#!/usr/bin/env bash
# A local Vault HA cluster for trying the engine: three Vault servers on
# 127.0.0.1 with integrated storage (raft), the plugin registered by SHA-256
# and mounted at zsp/, and a throwaway PostgreSQL cluster with the connection
# zsp/connections/main written through a standby.
#
# Usage: scripts/ha-demo.sh up | down
# State (configurations, raft data, logs, pids, the unseal key and root
# token) lives in .ha-demo/ in the repository. `down` stops only the
# processes whose pids `up` recorded there, then deletes the folder.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.ha-demo"
plugin_name=vault-plugin-secrets-zsp
nodes=(node1 node2 node3)

# Seconds each wait polls before giving up. On a 2-core machine the slowest
# wait, for autopilot to promote the joined nodes to voters, took about 10
# seconds.
wait_seconds=120

# shellcheck source-path=SCRIPTDIR source=ports.sh
source "$root/scripts/ports.sh"

step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
	echo "error: $*" >&2
	exit 1
}

# Every vault command below names its server in VAULT_ADDR, so no setting
# from the caller's shell may send it elsewhere.
while read -r name; do
	unset "$name"
done < <(compgen -e | grep '^VAULT_' || true)

addr_of() { cat "$state/$1/addr"; }

# on NODE ARGS... runs the vault CLI against NODE with the root token.
on() {
	local node=$1
	shift
	VAULT_ADDR="$(addr_of "$node")" VAULT_TOKEN="$(jq -r .root_token "$state/init.json")" vault "$@"
}

# wait_until DESCRIPTION COMMAND... retries COMMAND every half second.
wait_until() {
	local what=$1
	shift
	for _ in $(seq 1 $((wait_seconds * 2))); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.5
	done
	die "timed out after ${wait_seconds}s waiting for $what; see the logs in $state/node*/vault.log"
}

start_postgres() {
	step "Starting a throwaway PostgreSQL cluster (scram-sha-256 passwords, 127.0.0.1 only)"
	local env_file
	env_file="$("$root/scripts/pg-cluster.sh" start "$state/pg")"
	# shellcheck disable=SC1090
	source "$env_file"
	note "listening on 127.0.0.1:$ZSP_PG_PORT, admin role $ZSP_PG_USER"
}

prepare_binaries() {
	step "Building the plugin and getting Vault"
	local vault_bin
	sha="$("$root/scripts/build-plugin.sh" "$state/plugins")"
	vault_bin="$("$root/scripts/vault-bin.sh")"
	mkdir -p "$state/bin"
	ln -sf "$vault_bin" "$state/bin/vault"
	export PATH="$state/bin:$PATH"
	note "plugin SHA-256 $sha"
	note "vault: $vault_bin ($(vault version))"
}

# write_config NODE PORT writes the server configuration of one node: the
# API on PORT and the cluster listener on PORT+1.
write_config() {
	local node=$1 port=$2 dir="$state/$1"
	cat >"$dir/vault.hcl" <<-EOF
		storage "raft" {
		  path    = "$dir/raft"
		  node_id = "$node"

		  # Raft's heartbeat and election timeouts are 3s times this
		  # multiplier. The default, 5, makes a failover wait 15s or more.
		  performance_multiplier = 1
		}

		listener "tcp" {
		  address         = "127.0.0.1:$port"
		  cluster_address = "127.0.0.1:$((port + 1))"
		  tls_disable     = true
		}

		api_addr         = "http://127.0.0.1:$port"
		cluster_addr     = "https://127.0.0.1:$((port + 1))"
		plugin_directory = "$state/plugins"
		disable_mlock    = true
		log_level        = "debug"
	EOF
}

# start_node NODE starts one server in a process group of its own, records
# its pid (also the group id) and waits until its listener is up.
start_node() {
	local node=$1 dir="$state/$1" port pid
	mkdir -p "$dir/raft"
	port="$(pick_free_port 2)"
	write_config "$node" "$port"
	echo "http://127.0.0.1:$port" >"$dir/addr"

	# setsid makes the server lead its own process group, so `down` also
	# ends the plugin processes a server leaves behind when it is killed.
	setsid vault server -config="$dir/vault.hcl" >"$dir/vault.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/pid"

	# vault status exits 2 for a sealed server and 1 when it cannot reach one.
	wait_until "$node to listen on 127.0.0.1:$port" is_listening "$node"
	note "$node: pid $pid, API http://127.0.0.1:$port, cluster port $((port + 1)), log .ha-demo/$node/vault.log"
}

is_listening() {
	local rc=0
	VAULT_ADDR="$(addr_of "$1")" vault status >/dev/null 2>&1 || rc=$?
	[[ $rc -ne 1 ]]
}

is_unsealed() { VAULT_ADDR="$(addr_of "$1")" vault status -format=json | jq -e '.sealed == false'; }
is_active() { on "$1" read -format=json sys/leader | jq -e '.data.is_self == true'; }
voter_count_is() { [[ $(on "$1" operator raft list-peers -format=json | jq '[.data.config.servers[] | select(.voter)] | length') == "$2" ]]; }

# follows NODE LEADER reports whether NODE is a standby that names LEADER as
# the active node, which it needs to forward requests.
follows() {
	on "$1" read -format=json sys/leader | jq -e --arg leader "$(addr_of "$2")" '.data.is_self == false and .data.leader_address == $leader'
}

unseal() {
	VAULT_ADDR="$(addr_of "$1")" vault operator unseal "$(jq -r '.unseal_keys_b64[0]' "$state/init.json")" >/dev/null
	wait_until "$1 to unseal" is_unsealed "$1"
}

init_cluster() {
	step "Initializing node1 with one unseal key share and unsealing it"
	(
		umask 077
		VAULT_ADDR="$(addr_of node1)" vault operator init -key-shares=1 -key-threshold=1 -format=json >"$state/init.json"
	)
	note "the unseal key and root token are in .ha-demo/init.json (mode 0600)"
	unseal node1
	wait_until "node1 to become the active node" is_active node1
	note "node1 is the active node"

	# Autopilot adds a joined node as a non-voter and promotes it after this
	# long, 10s by default, which is longer than the demo needs.
	on node1 write sys/storage/raft/autopilot/configuration server_stabilization_time=1s >/dev/null
}

join_nodes() {
	local node
	for node in node2 node3; do
		step "Joining $node to the raft cluster of node1 and unsealing it"
		VAULT_ADDR="$(addr_of "$node")" vault operator raft join "$(addr_of node1)" >/dev/null
		unseal "$node"
	done

	step "Waiting until the raft configuration lists three voters"
	wait_until "three raft voters" voter_count_is node1 3
	wait_until "node2 to follow node1" follows node2 node1
	wait_until "node3 to follow node1" follows node3 node1
	on node1 operator raft list-peers | sed 's/^/    /'
}

setup_engine() {
	step "Registering the plugin by SHA-256 and mounting it at zsp/ through the active node"
	on node1 plugin register -sha256="$sha" secret "$plugin_name" >/dev/null
	on node1 secrets enable -path=zsp "$plugin_name" >/dev/null
	note "vault secrets list shows zsp/ of type $plugin_name"

	step "Writing zsp/connections/main through the standby node2, which forwards it to node1"
	on node2 write zsp/connections/main \
		connection_url="postgres://{{username}}:{{password}}@$ZSP_PG_HOST:$ZSP_PG_PORT/$ZSP_PG_DATABASE?sslmode=disable" \
		username="$ZSP_PG_USER" password="$ZSP_PG_PASSWORD" >/dev/null
	note "read back through node3: vault read zsp/connections/main"
	on node3 read zsp/connections/main | sed 's/^/    /'
}

write_env() {
	(
		umask 077
		# shellcheck disable=SC2016 # $PATH expands when the file is sourced.
		printf 'export VAULT_ADDR=%s\nexport VAULT_TOKEN=%s\nexport PATH=%s:"$PATH"\n' \
			"$(addr_of node1)" "$(jq -r .root_token "$state/init.json")" "$state/bin" >"$state/env"
	)
}

print_summary() {
	step "Done. The cluster keeps running:"
	note "source .ha-demo/env    # VAULT_ADDR of node1, VAULT_TOKEN (root) and the vault binary"
	local node
	for node in "${nodes[@]}"; do
		note "VAULT_ADDR=$(addr_of "$node") vault status    # $node"
	done
	note "kill -9 \$(cat .ha-demo/node1/pid)    # crash the active node; node2 or node3 takes over in seconds"
	note "scripts/ha-demo.sh down    # stop the three servers and PostgreSQL, delete .ha-demo/"
}

up() {
	[[ -e $state ]] && die "$state exists: a cluster may be running; run scripts/ha-demo.sh down first"
	command -v jq >/dev/null || die "jq is missing; install it (sudo apt-get install jq) and run this again"
	command -v setsid >/dev/null || die "setsid is missing; install util-linux and run this again"
	mkdir -p "$state"
	trap report_failed_up EXIT
	"$root/scripts/pg-cluster.sh" check >/dev/null

	start_postgres
	prepare_binaries
	step "Starting three Vault servers with integrated storage on 127.0.0.1"
	local node
	for node in "${nodes[@]}"; do
		start_node "$node"
	done
	init_cluster
	join_nodes
	setup_engine
	write_env
	trap - EXIT
	print_summary
}

# report_failed_up prints how to stop what a failed `up` left running.
report_failed_up() {
	echo "error: scripts/ha-demo.sh up did not finish; run scripts/ha-demo.sh down to stop what it started" >&2
}

# stop_node stops one node's server and then the processes left in its
# process group: plugin processes, or a server that ignored SIGTERM for 30
# seconds. It signals only processes that run from .ha-demo/, because after
# a server exits its pid may be reused by an unrelated process.
stop_node() {
	local node=$1 pid_file="$state/$1/pid" pid member
	[[ -f $pid_file ]] || return 0
	pid="$(cat "$pid_file")"

	# The error redirection comes first so that it also covers the input
	# redirection, which fails once the process is gone.
	if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$state/$node/vault.hcl"; then
		kill -TERM "$pid"
		for _ in $(seq 1 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		step "Stopped $node (pid $pid)"
	fi

	for member in $(group_members "$pid"); do
		kill -KILL "$member" 2>/dev/null && note "ended pid $member, left in the process group of $node"
	done
}

# group_members PGID prints the pids in process group PGID whose command
# line names a file under .ha-demo/.
group_members() {
	ps -eo pid=,pgid=,args= | awk -v group="$1" -v dir="$state/" '$2 == group && index($0, dir) { print $1 }'
}

down() {
	local node
	for node in "${nodes[@]}"; do
		stop_node "$node"
	done
	if [[ -d $state/pg ]]; then
		"$root/scripts/pg-cluster.sh" stop "$state/pg" >/dev/null && step "Stopped the PostgreSQL cluster"
	fi
	rm -rf "$state"
}

case "${1:-}" in
up) up ;;
down) down ;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac
