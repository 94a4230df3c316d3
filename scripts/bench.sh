#!/usr/bin/env bash
# Runs the benchmarks in bench/ (`make bench`) on a new Vault dev server and
# PostgreSQL cluster on 127.0.0.1, then writes the measured tables into
# BENCHMARKS.md between its bench:begin and bench:end markers, with the
# command, the machine, the versions and the date.
#
# ZSP_BENCH_ACCOUNTS, ZSP_BENCH_ROUND, ZSP_BENCH_APPROVALS and
# ZSP_BENCH_RECORDS lower the counts for a quick run; the command written
# into BENCHMARKS.md shows them. The full go test output is kept in
# .bench/bench.log and the figures in bench/results.json.
set -euo pipefail

readonly BEGIN_MARKER='<!-- bench:begin -->'
readonly END_MARKER='<!-- bench:end -->'

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

die() {
	echo "bench.sh: $*" >&2
	exit 1
}

if [[ -n ${ZSP_PG_URL:-} ]]; then
	die "ZSP_PG_URL is set, but the benchmarks leave thousands of roles behind and need a throwaway cluster; unset it"
fi

vault_bin="$(scripts/vault-bin.sh)"
scripts/pg-cluster.sh check >/dev/null

mkdir -p .bench
log=.bench/bench.log

# The test builds the plugin from the working tree when it starts, so the
# commit and any uncommitted changes to the product's code are read first.
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
changed="$(git status --porcelain -- backend roles approval cmd internal go.mod go.sum 2>/dev/null | awk '{ print $2 }' | tr '\n' ' ')"

overrides="$(env | grep -E '^ZSP_BENCH_[A-Z]+=' | sort | tr '\n' ' ' || true)"
command="${overrides}ZSP_BENCH=1 ZSP_VAULT_BIN=\$(scripts/vault-bin.sh) go test -count=1 -run TestBenchmarks -timeout 90m -v ./bench/"
echo "bench.sh: running $command; output also goes to $log" >&2

if ! ZSP_BENCH=1 ZSP_VAULT_BIN="$vault_bin" go test -count=1 -run TestBenchmarks -timeout 90m -v ./bench/ 2>&1 | tee "$log"; then
	die "the benchmark run failed, so BENCHMARKS.md is left as it was; read $log"
fi

table="$(sed -n '/^BENCH TABLE BEGIN$/,/^BENCH TABLE END$/p' "$log" | sed '1d;$d')"
[[ -n $table ]] || die "no table between BENCH TABLE BEGIN and BENCH TABLE END in $log"

cores="$(nproc)"
memory="$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
vault_version="$("$vault_bin" version)"
pg_version="$(sed -n 's/^ *"postgres_version": "\(.*\)",$/\1/p' bench/results.json)"

block="$(mktemp)"
trap 'rm -f "$block"' EXIT
{
	echo "$BEGIN_MARKER"
	echo "Measured on $(date -u +%Y-%m-%d) with \`make bench\`, which ran:"
	echo
	echo "    $command"
	echo
	echo "Machine: ${cores} cores (nproc), ${memory} memory, ${cpu:-unknown CPU model}."
	echo "${vault_version}; PostgreSQL ${pg_version:-unknown}."
	if [[ -n $changed ]]; then
		echo "Plugin built from commit ${commit} with uncommitted changes to: ${changed% }."
	else
		echo "Plugin built from commit ${commit}."
	fi
	echo
	echo "$table"
	echo "$END_MARKER"
} >"$block"

# Replace the lines from the begin marker to the end marker with the block,
# or append the block when BENCHMARKS.md has no markers yet.
if [[ -f BENCHMARKS.md ]] && grep -qxF "$BEGIN_MARKER" BENCHMARKS.md && grep -qxF "$END_MARKER" BENCHMARKS.md; then
	awk -v begin="$BEGIN_MARKER" -v end="$END_MARKER" -v block="$block" '
		$0 == begin { while ((getline line < block) > 0) print line; skipping = 1; next }
		$0 == end { skipping = 0; next }
		!skipping { print }
	' BENCHMARKS.md >BENCHMARKS.md.tmp
	mv BENCHMARKS.md.tmp BENCHMARKS.md
else
	{
		[[ -f BENCHMARKS.md ]] && echo
		cat "$block"
	} >>BENCHMARKS.md
fi
echo "bench.sh: wrote the tables into BENCHMARKS.md" >&2
