// Package e2e holds the end-to-end tests: a real Vault dev server with the
// plugin registered by SHA-256 and mounted at zsp/, and a real PostgreSQL
// cluster with password authentication, driven as operators and requesters
// drive them.
package e2e
