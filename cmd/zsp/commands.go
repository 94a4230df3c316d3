package main

import (
	"flag"
	"io"
	"strings"
)

// runFunc runs a command once its flags are parsed, with the engine's mount
// and the positional arguments.
type runFunc func(a *app, mount string, inv invocation) error

// command is one zsp subcommand.
type command struct {
	name    string
	args    string // positional arguments in the usage line
	summary string
	details string

	// setup registers the command's flags on fs and returns the function
	// that runs the command with the parsed values.
	setup func(fs *flag.FlagSet) runFunc
}

func (c *command) usageLine() string {
	return strings.TrimSpace("zsp " + c.name + " " + c.args)
}

// commands returns every subcommand in the order the usage lists them.
func commands() []*command {
	return []*command{
		{name: "request", args: "<task> [flags]", summary: "ask for an account for a task, and wait for approval with -wait", details: requestDetails, setup: setupRequest},
		{name: "run", args: "<task> [flags] -- <command> [args...]", summary: "run a command with an account for a task, then revoke the account", details: runDetails, setup: setupRun},
		{name: "pending", args: "[flags]", summary: "list the requests you may approve", details: pendingDetails, setup: setupPending},
		{name: "approve", args: "<request-id> [flags]", summary: "approve a pending request or extension", details: approveDetails, setup: setupApprove},
		{name: "deny", args: "<request-id> -comment <why> [flags]", summary: "deny a pending request or extension", details: denyDetails, setup: setupDeny},
		{name: "show", args: "<request-id> [flags]", summary: "show a request's record", details: showDetails, setup: setupShow},
	}
}

func findCommand(name string) *command {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd
		}
	}
	return nil
}

// newCommandFlags returns an empty flag set for cmd that reports errors to
// its caller instead of printing them.
func newCommandFlags(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet("zsp "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}
