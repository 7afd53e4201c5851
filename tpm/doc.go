// Package tpm seals a secret to a TPM2 and unseals it, compatible with systemd-cryptenroll's
// systemd-tpm2 LUKS2 tokens. It knows nothing about LUKS beyond the token JSON: the caller
// adds a keyslot whose passphrase is Passphrase(secret) and stores Token.JSON() as a LUKS2
// token naming that keyslot.
//
// What travelkit writes, and why:
//
//   - The sealed object is a KEYEDHASH object, nameAlg sha256, attributes fixedTPM|fixedParent
//     (so only a policy session can unseal it, and it is subject to dictionary-attack
//     protection), authPolicy = PolicyPCR(PCRs of the sha256 bank) then PolicyAuthValue with
//     a PIN; without PCRs, PolicyPCR is left out, as systemd does.
//   - Its parent is the ECC P-256 primary key systemd derives for tokens that carry
//     "tpm2-primary-alg" and no "tpm2_srk" (systemd's "legacy" template: AES-128-CFB,
//     restricted decrypt, fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth, empty
//     unique, no noDA). Every systemd version from 250 to today unseals such a token under
//     that key, while the TCG SRK at 0x81000001 is only used when "tpm2_srk" is present
//     (systemd 255+), which systemd 252 (Debian 12) cannot read. Tokens with "tpm2_srk"
//     are unsealed under the persistent key they name.
//   - The PIN's auth value is SHA-256 of base64(PBKDF2-HMAC-SHA256(PIN, tpm2_salt, 10000,
//     32)), or of the PIN itself for unsalted tokens (systemd before 253), trailing zero
//     bytes removed.
//   - The PCR values at enrolment, which only serve to name the PCRs that changed when the
//     TPM refuses, go into a separate LUKS2 token of type "travelkit-tpm2-pcrs"
//     (Sealed.PCRRecord), which systemd and cryptsetup leave alone. They can also be put in
//     the systemd-tpm2 token ("travelkit-pcr-values", SealOptions.PCRValuesInToken):
//     systemd up to 257 ignores unknown token fields, but its newest token validator
//     checks fields against a table, so that is off by default.
//
// The secret and the PIN's auth value cross the TPM interface only encrypted (sessions
// salted to the parent key), and a PCR mismatch is detected before the TPM sees the PIN,
// so it never counts as a dictionary-attack failure.
//
// Tests: `go test ./tpm/` runs everything against swtpm (started per test) and checks
// interoperability with tpm2-tools, cryptsetup and systemd-cryptenroll;
// `go test -tags tpmsim ./tpm/` adds the go-tpm-tools simulator (cgo).
//
// Imports: internal packages only. It must not import luks or tpmbind: it knows the token
// JSON, not LUKS.
package tpm
