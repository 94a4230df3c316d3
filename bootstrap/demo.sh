#!/usr/bin/env bash
# One-command local environment and a walk through the main job. It starts a
# throwaway PostgreSQL cluster (or uses the server in ZSP_PG_URL) and a Vault
# dev server on 127.0.0.1 with the plugin registered by SHA-256 and mounted at
# zsp/. It writes a connection and example task roles, then follows a
# requester's task account from issue to revocation, and one request through
# approval.
#
# Usage: bootstrap/demo.sh up | down
# State (logs, tokens, the cluster) lives in .demo/ in the repository.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.demo"
plugin_name=vault-plugin-secrets-zsp

# shellcheck source=../scripts/ports.sh
source "$root/scripts/ports.sh"

step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
	echo "error: $*" >&2
	exit 1
}

# as_requester runs the vault CLI with the requester's token.
as_requester() { VAULT_TOKEN="$(cat "$state/alice.token")" vault "$@"; }

# psql_as runs one statement as a given account over TCP with its password.
psql_as() {
	local user=$1 password=$2 sql=$3
	PGPASSWORD="$password" psql -X -q -v ON_ERROR_STOP=1 -h "$ZSP_PG_HOST" -p "$ZSP_PG_PORT" -U "$user" -d "$ZSP_PG_DATABASE" -c "$sql"
}

start_postgres() {
	if [[ -n ${ZSP_PG_URL:-} ]]; then
		step "Using the PostgreSQL server in ZSP_PG_URL"
		parse_pg_url "$ZSP_PG_URL"
		return
	fi
	step "Starting a throwaway PostgreSQL cluster (scram-sha-256 passwords, 127.0.0.1 only)"
	local env_file
	env_file="$("$root/scripts/pg-cluster.sh" start "$state/pg")"
	# shellcheck disable=SC1090
	source "$env_file"
	note "listening on 127.0.0.1:$ZSP_PG_PORT, admin role $ZSP_PG_USER"
}

# parse_pg_url splits postgres://user:password@host:port/database into the
# ZSP_PG_* variables the rest of the script uses.
parse_pg_url() {
	local url=$1 rest userinfo hostport
	rest=${url#*://}
	userinfo=${rest%%@*}
	hostport=${rest#*@}
	hostport=${hostport%%/*}
	ZSP_PG_USER=${userinfo%%:*}
	ZSP_PG_PASSWORD=${userinfo#*:}
	ZSP_PG_HOST=${hostport%%:*}
	ZSP_PG_PORT=${hostport##*:}
	ZSP_PG_DATABASE=${rest#*/}
	ZSP_PG_DATABASE=${ZSP_PG_DATABASE%%\?*}
}

start_vault() {
	step "Building the plugin and getting Vault"
	local sha vault_bin port
	sha="$("$root/scripts/build-plugin.sh" "$state/plugins")"
	vault_bin="$("$root/scripts/vault-bin.sh")"
	mkdir -p "$state/bin"
	ln -sf "$vault_bin" "$state/bin/vault"
	export PATH="$state/bin:$PATH"
	note "plugin SHA-256 $sha"
	note "vault: $vault_bin ($(vault version))"

	step "Starting a Vault dev server on 127.0.0.1"
	port="$(pick_free_port 2)"
	export VAULT_ADDR="http://127.0.0.1:$port"
	VAULT_TOKEN="root-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
	export VAULT_TOKEN
	printf 'plugin_directory = "%s"\n' "$state/plugins" >"$state/vault.hcl"
	vault server -dev -dev-root-token-id="$VAULT_TOKEN" -dev-listen-address="127.0.0.1:$port" \
		-config="$state/vault.hcl" >"$state/vault.log" 2>&1 &
	echo $! >"$state/vault.pid"
	for _ in $(seq 1 100); do
		vault status >/dev/null 2>&1 && break
		sleep 0.2
	done
	vault status >/dev/null || die "vault did not start; see $state/vault.log"
	(
		umask 077
		# shellcheck disable=SC2016 # $PATH expands when the file is sourced.
		printf 'export VAULT_ADDR=%s\nexport VAULT_TOKEN=%s\nexport PATH=%s:"$PATH"\n' "$VAULT_ADDR" "$VAULT_TOKEN" "$state/bin" >"$state/env"
	)
	note "VAULT_ADDR=$VAULT_ADDR (log: .demo/vault.log)"

	step "Registering the plugin by SHA-256 and mounting it at zsp/"
	vault plugin register -sha256="$sha" secret "$plugin_name" >/dev/null
	vault secrets enable -path=zsp "$plugin_name" >/dev/null
	note "vault secrets list shows zsp/ of type $plugin_name"
}

load_sample_schema() {
	step "Loading a small sample schema: billing.invoices, sales.orders, sales.customers"
	psql_as "$ZSP_PG_USER" "$ZSP_PG_PASSWORD" "
		CREATE SCHEMA IF NOT EXISTS billing;
		CREATE TABLE IF NOT EXISTS billing.invoices (id int PRIMARY KEY, amount numeric NOT NULL);
		INSERT INTO billing.invoices VALUES (1, 10.50), (2, 99.00) ON CONFLICT DO NOTHING;
		CREATE SCHEMA IF NOT EXISTS sales;
		CREATE TABLE IF NOT EXISTS sales.orders (id int PRIMARY KEY, status text NOT NULL);
		INSERT INTO sales.orders VALUES (1, 'new'), (2, 'stuck') ON CONFLICT DO NOTHING;
		CREATE TABLE IF NOT EXISTS sales.customers (id int PRIMARY KEY, name text NOT NULL);
		INSERT INTO sales.customers VALUES (1, 'Acme') ON CONFLICT DO NOTHING;"
}

configure_engine() {
	step "Writing the connection zsp/connections/main (the admin password is never read back)"
	vault write zsp/connections/main \
		connection_url="postgres://{{username}}:{{password}}@$ZSP_PG_HOST:$ZSP_PG_PORT/$ZSP_PG_DATABASE?sslmode=disable" \
		username="$ZSP_PG_USER" password="$ZSP_PG_PASSWORD" >/dev/null
	vault read zsp/connections/main

	step "Writing three task roles"
	vault write zsp/roles/billing-readonly connection=main default_ttl=15m max_ttl=1h \
		description="Read the billing schema" \
		grant_statements="GRANT USAGE ON SCHEMA billing TO {{group}}" \
		grant_statements="GRANT SELECT ON ALL TABLES IN SCHEMA billing TO {{group}}" >/dev/null
	note "billing-readonly: SELECT on the billing schema only"

	vault write zsp/roles/orders-hotfix connection=main default_ttl=10m max_ttl=30m \
		description="Fix stuck orders" risk_tier=1 require_justification=true \
		requester_groups=app-team approver_groups=dba-leads \
		grant_statements="GRANT USAGE ON SCHEMA sales TO {{group}}" \
		grant_statements="GRANT SELECT, UPDATE ON sales.orders TO {{group}}" >/dev/null
	note "orders-hotfix: SELECT and UPDATE on sales.orders only; tier 1, so a member of dba-leads must approve"

	vault write zsp/roles/read-schema - >/dev/null <<-'JSON'
		{
		  "connection": "main",
		  "description": "Read one schema, chosen by the requester",
		  "grant_statements": [
		    "GRANT USAGE ON SCHEMA {{schema}} TO {{group}}",
		    "GRANT SELECT ON ALL TABLES IN SCHEMA {{schema}} TO {{group}}"
		  ],
		  "parameters": {"schema": ["billing", "sales"]},
		  "default_ttl": "15m",
		  "max_ttl": "1h"
		}
	JSON
	note "read-schema: SELECT on one schema, where schema may only be billing or sales"
}

# create_user makes a userpass user with a policy and stores its token in
# .demo/<name>.token.
create_user() {
	local name=$1 policy=$2 password
	password="$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
	vault write "auth/userpass/users/$name" password="$password" token_policies="$policy" >/dev/null
	(
		umask 077
		vault login -token-only -method=userpass username="$name" password="$password" >"$state/$name.token"
	)
}

# entity_of prints the identity entity ID of a user's token.
entity_of() { VAULT_TOKEN="$(cat "$state/$1.token")" vault token lookup -format=json | jq -r .data.entity_id; }

create_people() {
	step "Creating a requester, alice (group app-team), and an approver, dana (group dba-leads), who log in with userpass"
	vault auth enable userpass >/dev/null
	vault policy write zsp-requester - >/dev/null <<-'HCL'
		path "zsp/creds/*" { capabilities = ["read", "update"] }
		path "zsp/requests/*" { capabilities = ["read", "list", "update"] }
	HCL
	vault policy write zsp-approver - >/dev/null <<-'HCL'
		path "zsp/requests" { capabilities = ["list", "read"] }
		path "zsp/requests/*" { capabilities = ["read", "list", "update"] }
		path "zsp/reviews/*" { capabilities = ["read", "list", "update"] }
	HCL
	create_user alice zsp-requester
	create_user dana zsp-approver
	vault write identity/group name=app-team member_entity_ids="$(entity_of alice)" >/dev/null
	vault write identity/group name=dba-leads member_entity_ids="$(entity_of dana)" >/dev/null
	note "their tokens are in .demo/alice.token and .demo/dana.token"
}

# as_approver runs the vault CLI with dana's token.
as_approver() { VAULT_TOKEN="$(cat "$state/dana.token")" vault "$@"; }

show_approval() {
	step "alice asks for orders-hotfix, a tier 1 task: it waits for an approver"
	local json id
	json="$(as_requester read -format=json zsp/creds/orders-hotfix justification="INC-1042: orders stuck in checkout")"
	id="$(jq -r .data.request_id <<<"$json")"
	jq '.data | {request_id, status, risk_score, approvers, expires_at, factors: [.risk_factors[] | "\(.name) +\(.points)"]}' <<<"$json"
	note "no account and no password yet"

	step "dana lists what waits: vault read zsp/requests list=true status=pending"
	as_approver read -format=json zsp/requests list=true status=pending | jq '.data.key_info'

	step "dana reads the SQL the approval lets run: vault read zsp/requests/$id"
	as_approver read -format=json zsp/requests/"$id" | jq '.data | {justification, statements}'

	step "dana approves: vault write zsp/requests/$id/approve"
	as_approver write zsp/requests/"$id"/approve comment="matches INC-1042" >/dev/null
	note "status: $(as_approver read -field=status zsp/requests/"$id")"

	step "alice reads the same path again and gets the account, once"
	json="$(as_requester read -format=json zsp/creds/orders-hotfix justification="INC-1042: orders stuck in checkout")"
	local username password
	username="$(jq -r .data.username <<<"$json")"
	password="$(jq -r .data.password <<<"$json")"
	psql_as "$username" "$password" "UPDATE sales.orders SET status = 'new' WHERE id = 2"
	note "UPDATE sales.orders ran as $username"

	step "alice is done early and revokes it: vault write zsp/requests/$id/revoke"
	as_requester write zsp/requests/"$id"/revoke comment="fixed" >/dev/null
	note "status: $(as_requester read -field=status zsp/requests/"$id")"
}

show_main_job() {
	step "alice asks for the billing-readonly task: vault read zsp/creds/billing-readonly"
	local json username password lease request
	json="$(as_requester read -format=json zsp/creds/billing-readonly)"
	username="$(jq -r .data.username <<<"$json")"
	password="$(jq -r .data.password <<<"$json")"
	lease="$(jq -r .lease_id <<<"$json")"
	request="$(jq -r .data.request_id <<<"$json")"
	note "account $username, lease $lease, valid until $(jq -r .data.expires_at <<<"$json")"

	step "The account can do its task: SELECT sum(amount) FROM billing.invoices"
	psql_as "$username" "$password" "SELECT sum(amount) AS total FROM billing.invoices"

	step "...and nothing else: SELECT * FROM sales.orders is refused"
	if psql_as "$username" "$password" "SELECT * FROM sales.orders" 2>"$state/refused.txt"; then
		die "the billing-readonly account could read sales.orders"
	fi
	note "$(head -n 1 "$state/refused.txt")"

	step "Revoking the lease: vault lease revoke $lease"
	vault lease revoke "$lease" >/dev/null
	note "the account is dropped at once"

	step "Logging in again is refused"
	if psql_as "$username" "$password" "SELECT 1" 2>"$state/refused.txt"; then
		die "the revoked account could still log in"
	fi
	note "$(head -n 1 "$state/refused.txt")"

	step "The request record: vault read zsp/requests/$request"
	as_requester read zsp/requests/"$request"

	step "A parameterized role: vault read zsp/creds/read-schema schema=sales"
	as_requester read -format=json zsp/creds/read-schema schema=sales | jq '{username: .data.username, expires_at: .data.expires_at}'
	step "A value outside the allowed list is rejected before anything runs: schema=hr"
	as_requester read zsp/creds/read-schema schema=hr 2>&1 | sed 's/^/    /' || true
}

# ensure_jq installs jq, which reads the JSON the vault CLI prints, when it is
# missing and this script may install packages.
ensure_jq() {
	command -v jq >/dev/null && return
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		step "Installing jq"
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null
		return
	fi
	die "jq is missing; install it (sudo apt-get install jq) and run make demo again"
}

up() {
	[[ -e $state/vault.pid ]] && die "a demo is already running; run make demo-down first"
	ensure_jq
	mkdir -p "$state"
	"$root/scripts/pg-cluster.sh" check >/dev/null

	start_postgres
	start_vault
	load_sample_schema
	configure_engine
	create_people
	show_main_job
	show_approval

	step "Done. The demo keeps running:"
	note "source .demo/env    # VAULT_ADDR, VAULT_TOKEN (root) and the vault binary"
	note "make demo-down      # stop Vault and PostgreSQL and delete .demo/"
}

down() {
	if [[ -f $state/vault.pid ]]; then
		local pid
		pid="$(cat "$state/vault.pid")"
		if kill "$pid" 2>/dev/null; then
			step "Stopped the Vault dev server (pid $pid)"
		fi
	fi
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
