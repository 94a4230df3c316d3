// Command zsp is a client for the zsp secrets engine in Vault. It requests
// task-scoped PostgreSQL accounts, waits for approvals, runs a command with
// an account and revokes it when the command ends, and lets approvers list,
// approve, deny and read requests.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit statuses of zsp itself. zsp run exits with its command's status.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// defaultMount is the engine's mount path unless -mount sets another.
const defaultMount = "zsp"

// app is one invocation of zsp: its streams and environment.
type app struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	getenv  func(string) string
	environ func() []string
}

func main() {
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, environ: os.Environ}
	os.Exit(a.main(os.Args[1:]))
}

// main parses the global flags, picks the command and returns the exit
// status.
func (a *app) main(args []string) int {
	global := flag.NewFlagSet("zsp", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	mount := global.String("mount", defaultMount, mountUsage)

	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.printUsage(a.stdout)
			return exitOK
		}
		fmt.Fprintf(a.stderr, "zsp: %v\n\n", err)
		a.printUsage(a.stderr)
		return exitUsage
	}
	if global.NArg() == 0 {
		a.printUsage(a.stderr)
		return exitUsage
	}

	name, rest := global.Arg(0), global.Args()[1:]
	if name == "help" {
		return a.help(rest)
	}
	cmd := findCommand(name)
	if cmd == nil {
		fmt.Fprintf(a.stderr, "zsp: unknown command %q\n\n", name)
		a.printUsage(a.stderr)
		return exitUsage
	}
	return a.runCommand(cmd, *mount, rest)
}

// runCommand parses the command's flags and arguments, runs it and turns
// its error into an exit status.
func (a *app) runCommand(cmd *command, mount string, args []string) int {
	fs := newCommandFlags(cmd)
	fs.StringVar(&mount, "mount", mount, mountUsage)
	runner := cmd.setup(fs)

	inv, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		a.printCommandHelp(a.stdout, cmd)
		return exitOK
	}
	if err != nil {
		return a.usageFailure(cmd, err)
	}

	err = runner(a, mount, inv)
	return a.exitStatus(cmd, err)
}

// exitStatus prints err, when there is one, and returns the status it
// stands for.
func (a *app) exitStatus(cmd *command, err error) int {
	var usage *usageError
	var exit *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage):
		return a.usageFailure(cmd, err)
	case errors.As(err, &exit):
		if exit.err != nil {
			fmt.Fprintf(a.stderr, "zsp %s: %v\n", cmd.name, exit.err)
		}
		return exit.code
	default:
		fmt.Fprintf(a.stderr, "zsp %s: %v\n", cmd.name, err)
		return exitFailure
	}
}

func (a *app) usageFailure(cmd *command, err error) int {
	fmt.Fprintf(a.stderr, "zsp %s: %v\n\n", cmd.name, err)
	fmt.Fprintf(a.stderr, "usage: %s\nrun 'zsp help %s' for details\n", cmd.usageLine(), cmd.name)
	return exitUsage
}

// usageError is a mistake in the command line: zsp exits 2 and shows the
// command's usage.
type usageError struct {
	message string
}

func (e *usageError) Error() string { return e.message }

func usagef(format string, args ...any) error {
	return &usageError{message: fmt.Sprintf(format, args...)}
}

// exitError ends zsp with a given status; err, when set, is printed first.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }
