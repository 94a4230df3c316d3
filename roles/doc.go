// Package roles contains the rules of a task role. It validates a role's
// fields, parses its SQL statement templates and quotes the values put into
// them. It also names the NOLOGIN group roles that carry a task's privileges
// and generates the usernames of issued accounts.
//
// The package uses only the standard library, so these rules are tested
// without Vault or PostgreSQL.
package roles
