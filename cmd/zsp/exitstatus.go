package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

// Statuses for a command that could not start, as POSIX shells use them.
const (
	exitCannotExecute = 126
	exitNotFound      = 127
)

// processStatus returns the exit status of an ended process as a shell
// reports it: its exit code, or 128 plus the signal that killed it.
func processStatus(state *os.ProcessState) int {
	if state == nil {
		return exitFailure
	}
	if status, ok := state.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return 128 + int(status.Signal())
	}
	return state.ExitCode()
}

// startFailureStatus returns the status for a command that did not start:
// 127 when it was not found, 126 otherwise.
func startFailureStatus(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return exitNotFound
	}
	return exitCannotExecute
}
