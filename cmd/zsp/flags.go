package main

import (
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

const mountUsage = "path where the zsp secrets engine is mounted"

// defaultWaitTimeout bounds -wait, and zsp run's wait for approval.
const defaultWaitTimeout = 30 * time.Minute

// invocation is a command line after its flags are parsed.
type invocation struct {
	args     []string // positional arguments, in order
	command  []string // arguments after "--"
	dashDash bool     // whether "--" was given
}

// parseArgs parses flags placed before, between and after positional
// arguments, so `zsp request billing -p schema=billing` works. Parsing stops
// at "--"; the rest is inv.command.
func parseArgs(fs *flag.FlagSet, args []string) (invocation, error) {
	var inv invocation
	for {
		if err := fs.Parse(args); err != nil {
			return inv, err
		}

		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			inv.command = rest
			inv.dashDash = true
			return inv, nil
		}
		if len(rest) == 0 {
			return inv, nil
		}
		inv.args = append(inv.args, rest[0])
		args = rest[1:]
	}
}

// oneArg returns the single positional argument of a command that takes
// one, such as a task or a request ID, after checking it is a valid name.
func oneArg(inv invocation, label string) (string, error) {
	if inv.dashDash {
		return "", usagef(`unexpected "--": this command runs no other command`)
	}
	if len(inv.args) == 0 {
		return "", usagef("missing %s", label)
	}
	if len(inv.args) > 1 {
		return "", usagef("expected one %s, got %d arguments: %s", label, len(inv.args), strings.Join(inv.args, " "))
	}
	if err := validateName(label, inv.args[0]); err != nil {
		return "", err
	}
	return inv.args[0], nil
}

// validateName accepts the names the engine accepts for task roles and
// request IDs: letters, digits, '_', '.' and '-', starting with a letter or
// digit. Checking here keeps a name from changing the Vault path it is put in.
func validateName(label, name string) error {
	if name == "" || !isAlphanumeric(name[0]) {
		return usagef("invalid %s %q: start it with a letter or digit", label, name)
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !isAlphanumeric(c) && c != '_' && c != '.' && c != '-' {
			return usagef("invalid %s %q: use only letters, digits, '_', '.' and '-'", label, name)
		}
	}
	return nil
}

func isAlphanumeric(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// reservedParameters are creds fields that zsp sets from its own flags, or
// query words Vault itself interprets, so they cannot be role parameters.
var reservedParameters = map[string]string{
	"ttl":           "use -ttl",
	"justification": "use -reason",
	"emergency":     "use -emergency",
	"name":          "the task is the first argument",
	"list":          "Vault reads it as a list request",
	"help":          "Vault reads it as a help request",
}

// paramFlag collects repeated -p key=value role parameters.
type paramFlag map[string]string

func (p paramFlag) String() string {
	pairs := make([]string, 0, len(p))
	for key, value := range p {
		pairs = append(pairs, key+"="+value)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func (p paramFlag) Set(pair string) error {
	key, value, found := strings.Cut(pair, "=")
	key = strings.TrimSpace(key)
	if !found {
		return fmt.Errorf("parameter %q has no value; write key=value, for example -p schema=billing", pair)
	}
	if key == "" {
		return fmt.Errorf("parameter %q has no name; write key=value, for example -p schema=billing", pair)
	}
	if hint, reserved := reservedParameters[key]; reserved {
		return fmt.Errorf("%q cannot be a role parameter: %s", key, hint)
	}
	if previous, seen := p[key]; seen && previous != value {
		return fmt.Errorf("parameter %q given twice (%q and %q); give each parameter once", key, previous, value)
	}
	p[key] = value
	return nil
}

// askOptions are the flags of request and run: what to request and how
// long to wait.
type askOptions struct {
	params    paramFlag
	ttl       time.Duration
	reason    string
	emergency bool
	wait      bool
	timeout   time.Duration
}

func registerAskFlags(fs *flag.FlagSet, opts *askOptions, waitUsage string) {
	opts.params = paramFlag{}
	fs.Var(opts.params, "p", "role parameter as key=value, for example -p schema=billing; repeat for each parameter")
	fs.DurationVar(&opts.ttl, "ttl", 0, "lease TTL to ask for, such as 10m; 0 uses the role's default_ttl, and more than it raises the risk score")
	fs.StringVar(&opts.reason, "reason", "", "justification for approvers and the record, such as an incident number")
	fs.BoolVar(&opts.emergency, "emergency", false, "break-glass request, on roles that allow it; needs -reason")
	fs.BoolVar(&opts.wait, "wait", false, waitUsage)
	fs.DurationVar(&opts.timeout, "timeout", defaultWaitTimeout, "how long to wait for approval before giving up; the request stays pending")
}

// validate checks the values the flag package cannot.
func (o *askOptions) validate() error {
	if o.ttl < 0 {
		return usagef("invalid -ttl %s: use a positive duration such as 10m, or 0 for the role's default", o.ttl)
	}
	if o.ttl%time.Second != 0 {
		return usagef("invalid -ttl %s: Vault counts TTLs in whole seconds", o.ttl)
	}
	if o.timeout <= 0 {
		return usagef("invalid -timeout %s: use a positive duration such as 30m", o.timeout)
	}
	if o.emergency && strings.TrimSpace(o.reason) == "" {
		return usagef(`-emergency needs -reason: say why, for example -reason "INC-1234 orders stuck"`)
	}
	return nil
}

// query returns the creds query: role parameters plus ttl, justification
// and emergency when set. The same options give the same query, so a second
// read finds the same pending request.
func (o *askOptions) query() map[string][]string {
	query := make(map[string][]string, len(o.params)+3)
	for key, value := range o.params {
		query[key] = []string{value}
	}
	if o.ttl > 0 {
		query["ttl"] = []string{strconv.FormatInt(int64(o.ttl/time.Second), 10)}
	}
	if reason := strings.TrimSpace(o.reason); reason != "" {
		query["justification"] = []string{reason}
	}
	if o.emergency {
		query["emergency"] = []string{"true"}
	}
	return query
}

// outputFormat is the value of -format.
type outputFormat string

const (
	formatTable outputFormat = "table"
	formatJSON  outputFormat = "json"
	formatEnv   outputFormat = "env"
)

// formatFlag is a -format flag that accepts only the listed formats.
type formatFlag struct {
	value   outputFormat
	allowed []outputFormat
}

func (f *formatFlag) String() string { return string(f.value) }

func (f *formatFlag) Set(value string) error {
	for _, allowed := range f.allowed {
		if outputFormat(value) == allowed {
			f.value = allowed
			return nil
		}
	}
	names := make([]string, len(f.allowed))
	for i, allowed := range f.allowed {
		names[i] = string(allowed)
	}
	return fmt.Errorf("unknown format %q; use %s", value, strings.Join(names, ", "))
}

func registerFormatFlag(fs *flag.FlagSet, allowed ...outputFormat) *formatFlag {
	format := &formatFlag{value: allowed[0], allowed: allowed}
	names := make([]string, len(allowed))
	for i, name := range allowed {
		names[i] = string(name)
	}
	fs.Var(format, "format", "output format: "+strings.Join(names, ", "))
	return format
}
