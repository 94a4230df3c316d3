package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// relayedSignals are the signals zsp handles itself instead of dying, so
// that a grant is revoked however the user or a supervisor stops the run.
var relayedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// signalRelay takes over the relayed signals for zsp. Before a child process
// starts, the first signal cancels ctx, which ends a wait for approval.
// Once a child runs, every signal is forwarded to it and zsp keeps running,
// so that it can revoke the grant after the child ends.
//
// NOTE: Ctrl-C in a terminal sends SIGINT to the whole foreground process
// group, so the child gets it twice: from the terminal and from zsp. The
// child stays in zsp's process group because moving it out would stop an
// interactive child such as psql from reading the terminal.
type signalRelay struct {
	ctx    context.Context
	cancel context.CancelFunc

	signals chan os.Signal
	done    chan struct{}

	mu       sync.Mutex
	child    *os.Process // set once the child started
	received os.Signal   // first signal that arrived before the child started
}

func newSignalRelay() *signalRelay {
	ctx, cancel := context.WithCancel(context.Background())
	r := &signalRelay{ctx: ctx, cancel: cancel, signals: make(chan os.Signal, 4), done: make(chan struct{})}
	signal.Notify(r.signals, relayedSignals...)
	go r.loop()
	return r
}

func (r *signalRelay) loop() {
	for {
		select {
		case sig := <-r.signals:
			r.handle(sig)
		case <-r.done:
			return
		}
	}
}

func (r *signalRelay) handle(sig os.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()

	if r.child != nil {
		// The child may have exited already; zsp is then revoking and
		// ignores the signal.
		_ = r.child.Signal(sig)
		return
	}
	if r.received == nil {
		r.received = sig
	}
	r.cancel()
}

// setChild starts forwarding signals to child. A signal that arrived while
// the child was starting is forwarded at once, so it is not lost.
func (r *signalRelay) setChild(child *os.Process) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.child = child
	if r.received != nil {
		_ = child.Signal(r.received)
	}
}

// interruption returns the first signal received before a child started,
// or nil.
func (r *signalRelay) interruption() os.Signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.received
}

// stop gives the relayed signals back to their default action.
func (r *signalRelay) stop() {
	signal.Stop(r.signals)
	close(r.done)
	r.cancel()
}

// signalStatus returns the exit status of a process that sig ended, as
// shells report it: 128 plus the signal number.
func signalStatus(sig os.Signal) int {
	if number, ok := sig.(syscall.Signal); ok {
		return 128 + int(number)
	}
	return exitFailure
}
