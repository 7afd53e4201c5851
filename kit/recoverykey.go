package kit

import (
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
)

// A recovery key is 256 random bits written as 64 modhex characters in 8 dash-separated
// groups of 8, as systemd-cryptenroll --recovery-key writes them (src/shared/recovery-key.c):
// each byte gives two characters, high nibble first, from the alphabet "cbdefghijklnrtuv".
// The LUKS keyslot passphrase is the formatted string itself (72-1 = 71 bytes, no newline),
// so a key made here unlocks with systemd-cryptsetup and cryptsetup, and one made by
// systemd-cryptenroll parses here.
const (
	modhexAlphabet        = "cbdefghijklnrtuv"
	recoveryKeyBytes      = 32
	RecoveryKeyLength     = recoveryKeyBytes*2 + recoveryKeyBytes*2/8 - 1 // 71 characters
	recoveryKeyGroupChars = 8
)

// ErrBadRecoveryKey is returned (wrapped) by ParseRecoveryKey. The message never contains
// the key.
var ErrBadRecoveryKey = errors.New("not a recovery key: expected 8 groups of 8 letters from cbdefghijklnrtuv separated by dashes")

// GenerateRecoveryKey returns a fresh recovery key from the operating system's random source.
func GenerateRecoveryKey() (string, error) {
	var raw [recoveryKeyBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	defer clear(raw[:])
	return formatRecoveryKey(raw[:]), nil
}

func formatRecoveryKey(raw []byte) string {
	var b strings.Builder
	b.Grow(RecoveryKeyLength)
	for i, c := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(modhexAlphabet[c>>4])
		b.WriteByte(modhexAlphabet[c&0xf])
	}
	return b.String()
}

// ParseRecoveryKey validates and normalises a recovery key as typed or read from a file:
// surrounding white space (a trailing newline) is ignored, letters may be upper case, and the
// dashes may be left out, as systemd accepts. Spaces instead of dashes, as people copy keys
// from paper, are accepted too. The result is the canonical lower-case form with dashes,
// which is the keyslot passphrase.
func ParseRecoveryKey(s string) (string, error) {
	s = strings.TrimSpace(s)
	var digits []byte
	groups, inGroup := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			if inGroup != recoveryKeyGroupChars {
				return "", ErrBadRecoveryKey
			}
			inGroup = 0
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if strings.IndexByte(modhexAlphabet, c) < 0 {
			return "", ErrBadRecoveryKey
		}
		if inGroup == 0 {
			groups++
		}
		inGroup++
		if inGroup > recoveryKeyGroupChars && groups > 1 {
			// Separators were used for earlier groups: every group must be 8 long.
			return "", ErrBadRecoveryKey
		}
		digits = append(digits, c)
	}
	if len(digits) != recoveryKeyBytes*2 || (groups != 1 && groups != 8) || inGroup == 0 {
		clear(digits)
		return "", ErrBadRecoveryKey
	}
	var b strings.Builder
	b.Grow(RecoveryKeyLength)
	for i, c := range digits {
		if i > 0 && i%recoveryKeyGroupChars == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	clear(digits)
	return b.String(), nil
}

// RecoveryKeyToken returns the LUKS2 token that systemd-cryptenroll --recovery-key stores
// next to a recovery keyslot: {"type":"systemd-recovery","keyslots":["N"]}. With it,
// `systemd-cryptenroll --wipe-slot=recovery` and `cryptsetup luksDump` recognise the slot.
// (systemd also gives that keyslot its minimal KDF, pbkdf2 with 1000 iterations, since the
// key itself carries 256 bits; travelkit may keep the profile's KDF.)
func RecoveryKeyToken(keyslot int) []byte {
	return []byte(`{"type":"systemd-recovery","keyslots":["` + strconv.Itoa(keyslot) + `"]}`)
}
