package main

import (
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProcessStatus(t *testing.T) {
	cases := []struct {
		name   string
		script string
		want   int
	}{
		{name: "success", script: "exit 0", want: 0},
		{name: "failure", script: "exit 3", want: 3},
		{name: "killed by SIGTERM", script: "kill -TERM $$", want: 128 + int(syscall.SIGTERM)},
		{name: "killed by SIGINT", script: "kill -INT $$", want: 128 + int(syscall.SIGINT)},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", tc.script)
			_ = cmd.Run()
			require.Equal(t, tc.want, processStatus(cmd.ProcessState))
		})
	}
}

func TestProcessStatusWithoutState(t *testing.T) {
	require.Equal(t, exitFailure, processStatus(nil))
}

func TestStartFailureStatus(t *testing.T) {
	err := exec.Command("zsp-test-no-such-command").Start()
	require.Equal(t, exitNotFound, startFailureStatus(err))

	err = exec.Command(t.TempDir()).Start()
	require.Equal(t, exitCannotExecute, startFailureStatus(err))
}

func TestSignalStatus(t *testing.T) {
	require.Equal(t, 130, signalStatus(syscall.SIGINT))
	require.Equal(t, 143, signalStatus(syscall.SIGTERM))
	require.Equal(t, exitFailure, signalStatus(nil))
}
