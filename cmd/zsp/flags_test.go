package main

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func newRequestFlags(t *testing.T) (*flag.FlagSet, *askOptions, *formatFlag) {
	t.Helper()
	fs := flag.NewFlagSet("zsp request", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	opts := &askOptions{}
	registerAskFlags(fs, opts, "wait")
	return fs, opts, registerFormatFlag(fs, formatTable, formatJSON, formatEnv)
}

func TestParseArgsFlagsAroundTask(t *testing.T) {
	fs, opts, format := newRequestFlags(t)

	inv, err := parseArgs(fs, []string{"-ttl", "10m", "read-schema", "-p", "schema=billing", "-reason", "INC-1", "-wait", "-format", "env"})
	require.NoError(t, err)

	require.Equal(t, []string{"read-schema"}, inv.args)
	require.False(t, inv.dashDash)
	require.Equal(t, 10*time.Minute, opts.ttl)
	require.Equal(t, paramFlag{"schema": "billing"}, opts.params)
	require.Equal(t, "INC-1", opts.reason)
	require.True(t, opts.wait)
	require.Equal(t, formatEnv, format.value)
}

func TestParseArgsStopsAtDashDash(t *testing.T) {
	fs, opts, _ := newRequestFlags(t)

	inv, err := parseArgs(fs, []string{"billing", "-p", "schema=sales", "--", "psql", "-XAtc", "select 1", "--", "-p"})
	require.NoError(t, err)

	require.Equal(t, []string{"billing"}, inv.args)
	require.True(t, inv.dashDash)
	require.Equal(t, []string{"psql", "-XAtc", "select 1", "--", "-p"}, inv.command)
	require.Equal(t, paramFlag{"schema": "sales"}, opts.params)
}

func TestParseArgsUnknownFlag(t *testing.T) {
	fs, _, _ := newRequestFlags(t)

	_, err := parseArgs(fs, []string{"billing", "-colour"})
	require.ErrorContains(t, err, "-colour")
}

func TestParamFlagSet(t *testing.T) {
	cases := []struct {
		name    string
		values  []string
		want    paramFlag
		wantErr string
	}{
		{name: "one", values: []string{"schema=billing"}, want: paramFlag{"schema": "billing"}},
		{name: "two", values: []string{"schema=billing", "table=invoices"}, want: paramFlag{"schema": "billing", "table": "invoices"}},
		{name: "value with equals sign", values: []string{"filter=a=b"}, want: paramFlag{"filter": "a=b"}},
		{name: "empty value", values: []string{"schema="}, want: paramFlag{"schema": ""}},
		{name: "same value twice", values: []string{"schema=billing", "schema=billing"}, want: paramFlag{"schema": "billing"}},
		{name: "no equals sign", values: []string{"schema"}, wantErr: `parameter "schema" has no value; write key=value`},
		{name: "no name", values: []string{"=billing"}, wantErr: "has no name"},
		{name: "ttl is a flag", values: []string{"ttl=5m"}, wantErr: "use -ttl"},
		{name: "justification is a flag", values: []string{"justification=x"}, wantErr: "use -reason"},
		{name: "emergency is a flag", values: []string{"emergency=true"}, wantErr: "use -emergency"},
		{name: "list is Vault's", values: []string{"list=true"}, wantErr: "list request"},
		{name: "conflicting values", values: []string{"schema=billing", "schema=sales"}, wantErr: `parameter "schema" given twice ("billing" and "sales")`},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			params := paramFlag{}
			var err error
			for _, value := range tc.values {
				if err = params.Set(value); err != nil {
					break
				}
			}

			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, params)
		})
	}
}

func TestParamFlagThroughFlagSet(t *testing.T) {
	fs, _, _ := newRequestFlags(t)

	_, err := parseArgs(fs, []string{"read-schema", "-p", "schema"})
	require.ErrorContains(t, err, `invalid value "schema" for flag -p`)
	require.ErrorContains(t, err, "-p schema=billing")
}

func TestAskOptionsQuery(t *testing.T) {
	opts := &askOptions{params: paramFlag{"schema": "billing"}, ttl: 10 * time.Minute, reason: "  INC-7 ", emergency: true}

	require.Equal(t, map[string][]string{
		"schema":        {"billing"},
		"ttl":           {"600"},
		"justification": {"INC-7"},
		"emergency":     {"true"},
	}, opts.query())

	empty := &askOptions{params: paramFlag{}}
	require.Empty(t, empty.query())
}

func TestAskOptionsValidate(t *testing.T) {
	cases := []struct {
		name    string
		opts    askOptions
		wantErr string
	}{
		{name: "defaults", opts: askOptions{timeout: time.Minute}},
		{name: "negative ttl", opts: askOptions{ttl: -time.Second, timeout: time.Minute}, wantErr: "invalid -ttl"},
		{name: "fractional ttl", opts: askOptions{ttl: 1500 * time.Millisecond, timeout: time.Minute}, wantErr: "whole seconds"},
		{name: "zero timeout", opts: askOptions{}, wantErr: "invalid -timeout"},
		{name: "emergency without reason", opts: askOptions{emergency: true, timeout: time.Minute}, wantErr: "-emergency needs -reason"},
		{name: "emergency with reason", opts: askOptions{emergency: true, reason: "INC-1", timeout: time.Minute}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.validate()
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			var usage *usageError
			require.ErrorAs(t, err, &usage)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestFormatFlagRejectsUnknown(t *testing.T) {
	fs, _, format := newRequestFlags(t)

	_, err := parseArgs(fs, []string{"billing", "-format", "yaml"})
	require.ErrorContains(t, err, `unknown format "yaml"; use table, json, env`)
	require.Equal(t, formatTable, format.value)
}

func TestValidateName(t *testing.T) {
	for _, name := range []string{"billing-readonly", "read.schema_2", "4c1e2f90-0b7e-4c39-9d4e-6f0c1f1a2b3c"} {
		require.NoError(t, validateName("task", name), name)
	}
	for _, name := range []string{"", "-flag", "../sys/seal", "a/b", "a?b=c", ".hidden", "two words"} {
		require.Error(t, validateName("task", name), name)
	}
}

func TestOneArg(t *testing.T) {
	got, err := oneArg(invocation{args: []string{"billing"}}, "task")
	require.NoError(t, err)
	require.Equal(t, "billing", got)

	_, err = oneArg(invocation{}, "task")
	require.ErrorContains(t, err, "missing task")

	_, err = oneArg(invocation{args: []string{"a", "b"}}, "task")
	require.ErrorContains(t, err, "expected one task, got 2 arguments")

	_, err = oneArg(invocation{args: []string{"a"}, dashDash: true, command: []string{"psql"}}, "task")
	require.ErrorContains(t, err, `unexpected "--"`)
}

func TestRunArgs(t *testing.T) {
	task, command, err := runArgs(invocation{args: []string{"billing"}, dashDash: true, command: []string{"psql", "-c", "select 1"}})
	require.NoError(t, err)
	require.Equal(t, "billing", task)
	require.Equal(t, []string{"psql", "-c", "select 1"}, command)

	_, _, err = runArgs(invocation{args: []string{"billing", "psql"}})
	require.ErrorContains(t, err, "missing command: put it after --")

	_, _, err = runArgs(invocation{args: []string{"billing"}, dashDash: true})
	require.ErrorContains(t, err, "missing command")

	_, _, err = runArgs(invocation{dashDash: true, command: []string{"psql"}})
	require.ErrorContains(t, err, "missing task")
}
