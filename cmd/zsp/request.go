package main

import (
	"errors"
	"flag"
	"fmt"
)

func setupRequest(fs *flag.FlagSet) runFunc {
	opts := &askOptions{}
	registerAskFlags(fs, opts, "wait while the request is pending, then print the account")
	format := registerFormatFlag(fs, formatTable, formatJSON, formatEnv)

	return func(a *app, mount string, inv invocation) error {
		task, err := oneArg(inv, "task")
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
		return a.request(client, task, opts, format.value)
	}
}

// request requests the account, waits for approval with -wait, and prints
// the response.
func (a *app) request(client *zspClient, task string, opts *askOptions, format outputFormat) error {
	// A signal ends the wait cleanly. A creds read already under way still
	// completes, so an account Vault created is printed, not lost.
	relay := newSignalRelay()
	defer relay.stop()

	creds, err := client.obtainGrant(relay.ctx, task, opts, a.stderr)
	if errors.Is(err, errStopped) {
		return &exitError{code: signalStatus(relay.interruption()), err: err}
	}
	if err != nil {
		return err
	}

	if err := writeCredsResponse(a.stdout, creds, format); err != nil {
		return err
	}
	writeWarnings(a.stderr, creds)
	if !creds.issued() {
		fmt.Fprintf(a.stderr, "request %s waits for approval; run the same command with -wait to wait for it, or follow it with: zsp show %s\n", creds.RequestID, creds.RequestID)
	}
	return nil
}
