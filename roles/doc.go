// Package roles holds the rules of a task role: its fields and their
// validation, the SQL statement templates and how placeholders in them are
// quoted, the names of the NOLOGIN group roles that carry a task's
// privileges, and the usernames of issued accounts.
//
// The package uses only the standard library, so these rules are tested
// without Vault or PostgreSQL.
package roles
