#!/usr/bin/env bash
# Prints the path of a Vault binary for the tests and the demo: `vault` on
# PATH if there is one, else the pinned release built from source into a
# cache outside the checkout (built once, on first use).
set -euo pipefail

# Keep in step with the require line in bootstrap/vault/go.mod: the cache
# directory is named after this version.
VAULT_VERSION=1.21.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if path="$(command -v vault)"; then
	# `vault version` prints "Vault v1.21.0, built ..." or "Vault v1.21.0 (...)".
	found="$(vault version 2>/dev/null || true)"
	case "$found" in
	"Vault v${VAULT_VERSION}" | "Vault v${VAULT_VERSION},"* | "Vault v${VAULT_VERSION} "*) ;;
	*) echo "warning: $path is not Vault v${VAULT_VERSION} (it prints \"$found\"); the tests are written against v${VAULT_VERSION}" >&2 ;;
	esac
	echo "$path"
	exit 0
fi

cache="${ZSP_CACHE_DIR:-$HOME/.cache/vault-plugin-secrets-zsp}/vault-v${VAULT_VERSION}"
bin="$cache/vault"
if [[ -x $bin ]]; then
	echo "$bin"
	exit 0
fi

if ! grep -q "github.com/hashicorp/vault v${VAULT_VERSION}\$" "$root/bootstrap/vault/go.mod"; then
	echo "error: bootstrap/vault/go.mod does not require github.com/hashicorp/vault v${VAULT_VERSION}; update VAULT_VERSION in $0 or the go.mod so they match" >&2
	exit 1
fi

# The lock makes a second caller wait for the first build instead of
# starting its own.
mkdir -p "$cache"
exec 9>"$cache/build.lock"
flock 9
if [[ ! -x $bin ]]; then
	echo "building Vault v${VAULT_VERSION} into $cache; a cold build takes about 20 minutes on 2 cores" >&2
	(cd "$root/bootstrap/vault" && go build -trimpath -o "$cache/vault.tmp" .)
	mv "$cache/vault.tmp" "$bin"
fi
echo "$bin"
