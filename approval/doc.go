// Package approval decides what happens to a request for a task role: its
// risk score and the named factors behind it, who must approve it, whether it
// is approved, denied or still pending given the stored reviews, and when it
// expires.
//
// The package uses only the standard library and never reads the clock:
// every function that depends on the time takes it as a parameter. Group
// membership, storage and Vault leases belong to the caller, which passes in
// plain values (the role's tier, whether the reviewer is a member of an
// approver group) and stores what this package returns.
package approval
