package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// pluginBinaryName is the file name of the plugin's process, which the
// Vault server starts from its plugin directory.
const pluginBinaryName = "vault-plugin-secrets-zsp"

// processMemory is the resident memory of one process, in megabytes of
// 10^6 bytes.
type processMemory struct {
	PID       int     `json:"pid"`
	PeakMB    float64 `json:"peak_mb"`    // VmHWM: the highest resident set size so far
	CurrentMB float64 `json:"current_mb"` // VmRSS
}

// findVaultServer returns the pid of the Vault dev server that listens on
// 127.0.0.1:port, found by its command line in /proc.
func findVaultServer(port int) (int, error) {
	flag := "-dev-listen-address=127.0.0.1:" + strconv.Itoa(port)
	pids, err := findProcesses(func(_ int, args []string) bool {
		return len(args) > 1 && args[1] == "server" && slices.Contains(args, flag)
	})
	if err != nil {
		return 0, err
	}
	if len(pids) != 1 {
		return 0, fmt.Errorf("found %d vault server processes with %s in /proc, expected 1", len(pids), flag)
	}
	return pids[0], nil
}

// findPluginProcess returns the pid of the plugin process that the server
// with serverPID started.
func findPluginProcess(serverPID int) (int, error) {
	pids, err := findProcesses(func(pid int, args []string) bool {
		if len(args) == 0 || filepath.Base(args[0]) != pluginBinaryName {
			return false
		}
		parent, err := parentPID(pid)
		return err == nil && parent == serverPID
	})
	if err != nil {
		return 0, err
	}
	if len(pids) != 1 {
		return 0, fmt.Errorf("found %d %s processes started by vault server pid %d, expected 1", len(pids), pluginBinaryName, serverPID)
	}
	return pids[0], nil
}

// findProcesses returns the pids whose command line matches. Processes that
// exit during the scan are skipped.
func findProcesses(match func(pid int, args []string) bool) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc: %w", err)
	}

	var pids []int
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if match(pid, args) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// parentPID reads the fourth field of /proc/<pid>/stat. The command name
// before it is in parentheses and may hold spaces, so fields are counted
// after the last ')'.
func parentPID(pid int) (int, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(fields) < 2 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %d fields after the command name", pid, len(fields))
	}
	return strconv.Atoi(fields[1])
}

// readProcessMemory reads VmHWM and VmRSS from /proc/<pid>/status.
func readProcessMemory(pid int) (processMemory, error) {
	file, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return processMemory{}, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	defer file.Close()

	m := processMemory{PID: pid}
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) != 3 || fields[2] != "kB" {
			continue
		}
		// The kernel's "kB" is 1024 bytes.
		kibibytes, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "VmHWM:":
			m.PeakMB = round2(kibibytes * 1024 / 1e6)
		case "VmRSS:":
			m.CurrentMB = round2(kibibytes * 1024 / 1e6)
		}
	}
	if err := scanner.Err(); err != nil {
		return processMemory{}, fmt.Errorf("read /proc/%d/status: %w", pid, err)
	}
	if m.PeakMB == 0 {
		return processMemory{}, errors.New("no VmHWM line in /proc/" + strconv.Itoa(pid) + "/status")
	}
	return m, nil
}
