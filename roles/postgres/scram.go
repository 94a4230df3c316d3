package postgres

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

const (
	// scramIterations and scramSaltLength match what PostgreSQL 10 and later
	// use for verifiers it builds itself (scram_iterations defaults to 4096).
	scramIterations = 4096
	scramSaltLength = 16
)

// SCRAMVerifier builds the SCRAM-SHA-256 verifier that PostgreSQL stores in
// pg_authid.rolpassword (RFC 5802 and RFC 7677), in PostgreSQL's format
// "SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>" with base64 parts.
// Sending the verifier in CREATE ROLE or ALTER ROLE ... PASSWORD keeps the
// plaintext off the server, so it cannot land in the server log.
//
// The password must be printable ASCII. Clients normalize other characters
// with SASLprep before hashing, and libpq and pgx do not do it identically,
// so a verifier for such a password might not match what a client sends.
func SCRAMVerifier(password string) (string, error) {
	if err := checkSCRAMPassword(password); err != nil {
		return "", err
	}

	salt := make([]byte, scramSaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read random salt: %w", err)
	}
	return buildSCRAMVerifier(password, salt, scramIterations)
}

// buildSCRAMVerifier derives the verifier from a given salt and iteration
// count, which tests take from a verifier PostgreSQL built.
func buildSCRAMVerifier(password string, salt []byte, iterations int) (string, error) {
	saltedPassword, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("derive salted password: %w", err)
	}

	clientKey := hmacSHA256(saltedPassword, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(saltedPassword, "Server Key")

	encode := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s",
		iterations, encode(salt), encode(storedKey[:]), encode(serverKey)), nil
}

func checkSCRAMPassword(password string) error {
	if password == "" {
		return errors.New("password is empty")
	}
	for i := 0; i < len(password); i++ {
		if password[i] < 0x20 || password[i] > 0x7e {
			// The position only, never the character: it is part of a secret.
			return fmt.Errorf("password character %d is not printable ASCII; use letters, digits, spaces and ASCII symbols", i+1)
		}
	}
	return nil
}

func hmacSHA256(key []byte, message string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(message))
	return mac.Sum(nil)
}
