#!/usr/bin/env bash
# Builds the plugin into DIR/vault-plugin-secrets-zsp and prints its SHA-256,
# the value `vault plugin register -sha256` expects.
#
# Usage: scripts/build-plugin.sh DIR
# VERSION=v1.2.3 overrides the version reported to Vault, which is otherwise
# taken from `git describe --tags` or else v0.1.0-dev.
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
	echo "usage: $0 DIR (the directory to write vault-plugin-secrets-zsp into)" >&2
	exit 2
fi
out_dir="$1"
name=vault-plugin-secrets-zsp

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Vault rejects a plugin whose reported version is not a semantic version,
# and a bare commit hash from `git describe --always` is not one.
semver='^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
version="${VERSION:-}"
if [[ -n $version && ! $version =~ $semver ]]; then
	echo "error: VERSION=$version is not a semantic version with a leading v; use a value such as v1.2.3" >&2
	exit 2
fi
if [[ -z $version ]]; then
	version="$(git describe --tags --always 2>/dev/null || true)"
	if [[ ! $version =~ $semver ]]; then
		version=v0.1.0-dev
	fi
fi

# Build beside the target and rename, so a Vault server that starts the
# plugin during the build never runs a half-written file.
mkdir -p "$out_dir"
go build -trimpath -ldflags "-X main.version=$version" -o "$out_dir/.$name.tmp" "./cmd/$name"
mv "$out_dir/.$name.tmp" "$out_dir/$name"

echo "built $out_dir/$name version $version" >&2
sha256sum "$out_dir/$name" | cut -d ' ' -f 1
