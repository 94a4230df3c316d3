package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicksPerSecond is USER_HZ, the unit of the CPU times in
// /proc/<pid>/stat. Linux fixes it at 100 on x86 and arm64.
const clockTicksPerSecond = 100

// cpuTimes is CPU time (user plus system) used by each side of the run.
type cpuTimes struct {
	Vault    time.Duration // the Vault server, with the database engine built in
	Plugin   time.Duration // the plugin process
	Postgres time.Duration // the postmaster and every server process it started
	Client   time.Duration // this test process: the API clients and raw pgx
}

func (c cpuTimes) sub(other cpuTimes) cpuTimes {
	return cpuTimes{
		Vault:    c.Vault - other.Vault,
		Plugin:   c.Plugin - other.Plugin,
		Postgres: c.Postgres - other.Postgres,
		Client:   c.Client - other.Client,
	}
}

func (c cpuTimes) add(other cpuTimes) cpuTimes {
	return cpuTimes{
		Vault:    c.Vault + other.Vault,
		Plugin:   c.Plugin + other.Plugin,
		Postgres: c.Postgres + other.Postgres,
		Client:   c.Client + other.Client,
	}
}

// cpuPerCall is CPU milliseconds per successful call, per side.
type cpuPerCall struct {
	VaultMs    float64 `json:"vault_ms"`
	PluginMs   float64 `json:"plugin_ms"`
	PostgresMs float64 `json:"postgres_ms"`
	ClientMs   float64 `json:"client_ms"`
}

func (c cpuTimes) perCall(calls int) cpuPerCall {
	if calls == 0 {
		return cpuPerCall{}
	}
	per := func(d time.Duration) float64 { return milliseconds(d / time.Duration(calls)) }
	return cpuPerCall{VaultMs: per(c.Vault), PluginMs: per(c.Plugin), PostgresMs: per(c.Postgres), ClientMs: per(c.Client)}
}

// cpuSampler reads the CPU time of the run's processes from /proc.
type cpuSampler struct {
	vaultPID, pluginPID, postmasterPID int
}

// sample returns the CPU time each side used so far. Other processes on
// the machine are not counted.
func (s *cpuSampler) sample() (cpuTimes, error) {
	var times cpuTimes
	var err error
	if times.Vault, err = processCPU(s.vaultPID, false); err != nil {
		return cpuTimes{}, err
	}
	if times.Plugin, err = processCPU(s.pluginPID, false); err != nil {
		return cpuTimes{}, err
	}
	if times.Postgres, err = postgresCPU(s.postmasterPID); err != nil {
		return cpuTimes{}, err
	}
	if times.Client, err = processCPU(os.Getpid(), false); err != nil {
		return cpuTimes{}, err
	}
	return times, nil
}

// postgresCPU sums the postmaster's own CPU time, that of its exited
// children (which it has reaped) and that of its live children.
func postgresCPU(postmasterPID int) (time.Duration, error) {
	total, err := processCPU(postmasterPID, true)
	if err != nil {
		return 0, err
	}
	children, err := findProcesses(func(pid int, _ []string) bool {
		parent, err := parentPID(pid)
		return err == nil && parent == postmasterPID
	})
	if err != nil {
		return 0, err
	}
	for _, pid := range children {
		// A child that exits between the scan and the read is skipped,
		// because its time moves to the postmaster's reaped-children total.
		if cpu, err := processCPU(pid, false); err == nil {
			total += cpu
		}
	}
	return total, nil
}

// processCPU reads utime and stime of pid, plus cutime and cstime (reaped
// children) when withChildren is set.
func processCPU(pid int, withChildren bool) (time.Duration, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("read cpu time of pid %d: %w", pid, err)
	}

	// Fields after the command name: state is index 0, so utime (field 14
	// of proc(5)) is index 11 and cstime index 14.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(fields) < 15 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %d fields after the command name", pid, len(fields))
	}
	last := 12
	if withChildren {
		last = 14
	}

	var ticks int64
	for _, field := range fields[11 : last+1] {
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse cpu time %q of pid %d: %w", field, pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicksPerSecond, nil
}

// postmasterPID reads the first line of postmaster.pid in the cluster's
// data folder, which scripts/pg-cluster.sh creates under DIR/data.
func postmasterPID(clusterDir string) (int, error) {
	path := filepath.Join(clusterDir, "data", "postmaster.pid")
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read postmaster pid: %w", err)
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, fmt.Errorf("invalid first line %q of %s: %w", first, path, err)
	}
	return pid, nil
}
