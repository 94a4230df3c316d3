package postgres

import (
	"crypto/rand"
	"fmt"
)

const (
	passwordLength = 32

	// passwordAlphabet has 89 characters: letters, digits and symbols. The
	// quotes are there on purpose, so every path that carries a password is
	// exercised with them. Backslash and dollar sign are left out, because
	// they change meaning in escape strings and dollar quoting, and the
	// braces because {{ starts a template placeholder.
	passwordAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" +
		`!"#%&'()*+,-./:;<=>?@[]^_|~`
)

// GeneratePassword returns a random password of 32 characters drawn
// uniformly from passwordAlphabet with crypto/rand: about 207 bits of entropy
// (32 × log2 89).
func GeneratePassword() (string, error) {
	// Bytes at or above the largest multiple of the alphabet size are
	// rejected, so that every character is equally likely.
	limit := 256 - 256%len(passwordAlphabet)
	password := make([]byte, 0, passwordLength)
	buffer := make([]byte, 2*passwordLength)

	for len(password) < passwordLength {
		if _, err := rand.Read(buffer); err != nil {
			return "", fmt.Errorf("read random bytes for a password: %w", err)
		}
		for _, b := range buffer {
			if int(b) < limit && len(password) < passwordLength {
				password = append(password, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(password), nil
}
