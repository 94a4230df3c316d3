// Package bench measures the plugin side by side with Vault's database
// secrets engine and with pgx alone, on a real Vault dev server and a real
// PostgreSQL cluster that the run starts on 127.0.0.1.
//
// TestBenchmarks runs only when ZSP_BENCH=1, so `make test` skips it.
// scripts/bench.sh (`make bench`) runs it, and it writes bench/results.json
// and prints Markdown tables that the script copies into BENCHMARKS.md.
// ZSP_BENCH_ACCOUNTS, ZSP_BENCH_ROUND, ZSP_BENCH_APPROVALS and
// ZSP_BENCH_RECORDS lower the counts for a quick run.
package bench
