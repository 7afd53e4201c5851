package tpm

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
)

// PIN derivation, as systemd-cryptenroll does it (src/shared/tpm2-util.c):
// with a salt, pin_str = base64(PBKDF2-HMAC-SHA256(pin, salt, 10000, 32)); without one
// (tokens from systemd before 253), pin_str is the PIN itself. The TPM auth value is
// SHA-256(pin_str) with trailing zero bytes removed, as the TPM specification requires
// (Part 1, 19.6.5: the TPM drops trailing zeros of an authValue).
const (
	pinKDFIterations = 10000
	pinKDFKeyLen     = 32
	// SaltSize is the size of the random tpm2_salt travelkit writes (systemd uses 16 bytes).
	SaltSize = 16
)

// PINAuth returns the TPM auth value for pin. salt is the token's tpm2_salt; nil or empty
// means an unsalted token.
func PINAuth(pin, salt []byte) []byte {
	pinStr := pin
	if len(salt) > 0 {
		k, err := pbkdf2.Key(sha256.New, string(pin), salt, pinKDFIterations, pinKDFKeyLen)
		if err != nil {
			// Only possible in FIPS 140-only mode with a short salt or key; fall back
			// to a value that can never match rather than panicking.
			return []byte{0xff}
		}
		pinStr = []byte(base64.StdEncoding.EncodeToString(k))
	}
	h := sha256.Sum256(pinStr)
	return trimTrailingZeros(h[:])
}

func trimTrailingZeros(b []byte) []byte {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	return b[:n]
}
