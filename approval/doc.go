// Package approval decides what happens to a request for a task role. It
// computes the risk score and the named factors behind it, and it routes the
// request to auto-approval or to approver groups. It resolves the stored
// reviews into approved, denied or pending, and it sets when the request
// expires.
//
// The package uses only the standard library and never reads the clock:
// every function that depends on the time takes it as a parameter. Group
// membership, storage and Vault leases belong to the caller, which passes in
// plain values (the role's tier, whether the reviewer is a member of an
// approver group) and stores what this package returns.
package approval
