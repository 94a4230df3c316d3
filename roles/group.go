package roles

import (
	"crypto/sha256"
	"encoding/hex"
)

const (
	groupPrefix = "zsp_"

	// groupHashLength is in hex digits: 40 bits, so two parameter sets of one
	// role collide with negligible chance.
	groupHashLength = 10

	// maxIdentifierBytes is PostgreSQL's limit on a role name (NAMEDATALEN - 1).
	maxIdentifierBytes = 63
)

// GroupName returns the name of the NOLOGIN group role that holds a task
// role's privileges for one set of parameter values. The name is "zsp_",
// the sanitized role name cut to fit, '_', and the first 10 hex digits of a
// SHA-256 hash over the role name and the parameters. It contains only
// [a-z0-9_], is at most 63 bytes and depends only on the arguments.
func GroupName(role string, params map[string]string) string {
	hash := groupHash(role, params)

	room := maxIdentifierBytes - len(groupPrefix) - len("_") - groupHashLength
	part := truncatePart(sanitizePart(role), room)
	if part == "" {
		return groupPrefix + hash
	}
	return groupPrefix + part + "_" + hash
}

// groupHash hashes the role name and the sorted key=value pairs, each ended
// by a NUL byte. Valid parameter names contain no '=', and valid role names,
// parameter names and values contain no NUL, so two different sets of valid
// arguments never feed the hash the same bytes.
func groupHash(role string, params map[string]string) string {
	h := sha256.New()
	h.Write([]byte(role))
	h.Write([]byte{0})
	for _, key := range sortedKeys(params) {
		h.Write([]byte(key + "=" + params[key]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:groupHashLength]
}
