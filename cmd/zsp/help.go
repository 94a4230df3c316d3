package main

import (
	"fmt"
	"io"
	"strings"
)

const overview = `zsp asks the zsp secrets engine in Vault for short-lived PostgreSQL accounts
scoped to one task, and lets approvers review the requests.

usage: zsp [-mount path] <command> [arguments]

Vault is reached at VAULT_ADDR with VAULT_TOKEN, or with the token that
vault login stored in ~/.vault-token. The token must belong to a person or
pipeline (an identity entity), not root. Other VAULT_* settings such as
VAULT_CACERT and VAULT_NAMESPACE apply as they do for the vault command.

-mount sets where the engine is mounted (default zsp); every command also
takes it after its name.
`

const requestDetails = `Reads <mount>/creds/<task> and prints the creds: the request ID, its status,
the risk score with each factor, and the approvers. When the request is
approved, by policy or by people, it also prints the account: username,
password, host, port, database, connection URL and lease.

A pending request stays open: the same command again (same task and -p
values) returns the same request, and once it is approved returns the account
once. With -wait, zsp polls the request every 2s, shows the approvals on
standard error, and prints the account when it is approved. A denied,
cancelled or expired request ends zsp with status 1.

-format env prints export lines for PGHOST, PGPORT, PGDATABASE, PGUSER,
PGPASSWORD, DATABASE_URL (PGSSLMODE when the connection sets one),
ZSP_REQUEST_ID and ZSP_LEASE_ID, for eval "$(zsp request ... -format env)".
It fails with status 1 while the request is pending. -format json prints the
Vault response as the vault command does.

Examples:
  zsp request billing-readonly
  zsp request read-schema -p schema=billing -ttl 15m -reason "INC-1042"
  zsp request orders-hotfix -reason "INC-1042 orders stuck" -wait -timeout 1h`

const runDetails = `Asks for an account like zsp request -wait, then runs the command with
PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD and DATABASE_URL (and
PGSSLMODE when the connection sets one) added to the environment; PGHOSTADDR
and PGSERVICE are removed because they would point libpq elsewhere. Standard
input, output and error are the command's; zsp writes its own messages to
standard error.

SIGINT, SIGTERM and SIGHUP are forwarded to the command. When the command
ends, in any way, zsp revokes the grant before it exits: it revokes the
lease, or when the token may not, drops the account through
<mount>/requests/<id>/revoke. A signal while zsp waits for approval stops the
wait and leaves the request pending. If zsp itself is killed (SIGKILL), the
account stays until its lease ends.
zsp exits with the command's status, 128 plus the signal number when a
signal killed it, 127 when the command was not found. If the grant cannot be
revoked, zsp says so and exits non-zero even when the command succeeded.

Examples:
  zsp run billing-readonly -- psql -XAtc 'select count(*) from billing.invoices'
  zsp run read-schema -p schema=sales -reason "monthly report" -- ./report.sh`

const pendingDetails = `Lists the pending requests, and the extensions of issued ones, that you may
approve now: you are a current member of an approver group and not the
requester. Columns: request ID, role, requester, risk score, age of the
request, and whether it waits for access or for an extension.`

const approveDetails = `Approves a pending request, or the pending extension of an issued one. When
the approvals reach the required number, the requester's next read of creds
(or a waiting zsp request -wait / zsp run) gets the account. Nobody approves
their own request, and one approver counts once. Read the request first with
zsp show <request-id>: its statements are the SQL the approval lets run.`

const denyDetails = `Denies a pending request, or the pending extension of an issued one. A denial
is final, and needs a comment that says why.`

const showDetails = `Prints a request's record: status, requester, role, parameters,
justification, risk score and factors, decision, approvers, times, the SQL
statements the grant runs, reviews, extensions and every event. -format json
prints the record as Vault returns it.`

// printUsage prints the overview and the list of commands.
func (a *app) printUsage(w io.Writer) {
	fmt.Fprint(w, overview)
	fmt.Fprintln(w, "\ncommands:")
	table := newTable(w)
	for _, cmd := range commands() {
		fmt.Fprintf(table, "  %s\t%s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(table, "  help\t%s\n", "show the usage of zsp or of one command")
	_ = table.Flush()
	fmt.Fprintln(w, "\nrun 'zsp help <command>' or 'zsp <command> -h' for a command's flags")
}

// printCommandHelp prints a command's usage line, description and flags.
func (a *app) printCommandHelp(w io.Writer, cmd *command) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n\n", cmd.usageLine(), strings.TrimSpace(cmd.details))

	fs := newCommandFlags(cmd)
	fs.String("mount", defaultMount, mountUsage)
	cmd.setup(fs)
	fmt.Fprintln(w, "flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// help runs zsp help [command].
func (a *app) help(args []string) int {
	if len(args) == 0 {
		a.printUsage(a.stdout)
		return exitOK
	}
	if len(args) > 1 {
		fmt.Fprintln(a.stderr, "zsp help: give one command, for example zsp help run")
		return exitUsage
	}

	cmd := findCommand(args[0])
	if cmd == nil {
		fmt.Fprintf(a.stderr, "zsp help: unknown command %q\n\n", args[0])
		a.printUsage(a.stderr)
		return exitUsage
	}
	a.printCommandHelp(a.stdout, cmd)
	return exitOK
}
