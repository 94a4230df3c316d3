package main

import (
	"errors"
	"flag"
	"fmt"
	"os/exec"
)

func setupRun(fs *flag.FlagSet) runFunc {
	opts := &askOptions{}
	registerAskFlags(fs, opts, "accepted for symmetry with request; run always waits")

	return func(a *app, mount string, inv invocation) error {
		task, command, err := runArgs(inv)
		if err != nil {
			return err
		}
		if err := opts.validate(); err != nil {
			return err
		}
		client, err := a.newClient(mount)
		if err != nil {
			return err
		}

		opts.wait = true
		return a.runWithGrant(client, task, opts, command)
	}
}

// runArgs splits zsp run's arguments into the task and the command.
func runArgs(inv invocation) (string, []string, error) {
	if !inv.dashDash || len(inv.command) == 0 {
		return "", nil, usagef("missing command: put it after --, for example zsp run billing-readonly -- psql")
	}
	task, err := oneArg(invocation{args: inv.args}, "task")
	if err != nil {
		return "", nil, err
	}
	return task, inv.command, nil
}

// runWithGrant waits for the grant, runs command with the account in its
// environment, and revokes the grant before returning, whatever way the
// command ended. It returns an exitError with the command's status.
func (a *app) runWithGrant(client *zspClient, task string, opts *askOptions, command []string) error {
	relay := newSignalRelay()
	defer relay.stop()

	creds, err := client.obtainGrant(relay.ctx, task, opts, a.stderr)
	if errors.Is(err, errStopped) {
		return &exitError{code: signalStatus(relay.interruption()), err: err}
	}
	if err != nil {
		return err
	}
	writeGrantLine(a.stderr, creds)
	writeWarnings(a.stderr, creds)

	if sig := relay.interruption(); sig != nil {
		fmt.Fprintf(a.stderr, "zsp: %v received before %s started; revoking the grant\n", sig, command[0])
		return a.revokeAfterRun(client, creds, signalStatus(sig))
	}
	status := a.runChild(relay, creds, command)
	return a.revokeAfterRun(client, creds, status)
}

// runChild runs command with the account's environment and the streams of
// zsp, and returns its exit status. A signal that arrived before the child
// started is forwarded to it as soon as it starts.
func (a *app) runChild(relay *signalRelay, creds *credsResponse, command []string) int {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin = a.stdin
	cmd.Stdout = a.stdout
	cmd.Stderr = a.stderr
	cmd.Env = childEnv(a.environ(), accountEnv(creds.account))

	if err := cmd.Start(); err != nil {
		fmt.Fprintf(a.stderr, "zsp: start %s: %v\n", command[0], err)
		return startFailureStatus(err)
	}
	relay.setChild(cmd.Process)

	// Wait fails for a non-zero exit, which the process state reports. Its
	// other failures are I/O errors on the copied streams.
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		fmt.Fprintf(a.stderr, "zsp: %s: %v\n", command[0], err)
	}
	return processStatus(cmd.ProcessState)
}

// revokeAfterRun revokes the grant and returns the status zsp run exits
// with: the command's, or a failure when the grant could not be revoked.
func (a *app) revokeAfterRun(client *zspClient, creds *credsResponse, status int) error {
	outcome, err := client.revokeGrant(creds)
	if err != nil {
		if status == exitOK {
			status = exitFailure
		}
		return &exitError{code: status, err: fmt.Errorf(
			"could not revoke the grant of request %s, so account %s stays until %s: %w; revoke it with: vault lease revoke %s",
			creds.RequestID, creds.Username, creds.ExpiresAt, err, creds.LeaseID)}
	}

	fmt.Fprintf(a.stderr, "zsp: request %s revoked: %s\n", creds.RequestID, outcome)
	if status == exitOK {
		return nil
	}
	return &exitError{code: status}
}
