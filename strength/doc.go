// Package strength tells how long a kit passphrase would hold out against a well-equipped
// attacker who has a copy of the drive, and makes strong passphrases from random words.
//
// The guess count comes from zxcvbn (github.com/trustelem/zxcvbn), which models how
// people choose passwords (dictionary words, names, keyboard patterns, dates, l33t): its
// scoring, keyboard and frequency-list packages, with our own pattern matching
// (matchers.go), which builds the ranked dictionaries on the first check instead of in
// every process's start (zxcvbn.go). The
// rate of guessing comes from THIS kit's key derivation cost, read from its header:
// every guess must run Argon2 (or PBKDF2) with the keyslot's memory and passes, and an
// attacker's graphics cards run it only as fast as their memory lets them. The model and
// its figures, with sources, are in README.md ("How strong is a passphrase?").
//
// The word list is the EFF large wordlist (7776 words, 12.9 bits a word), © 2016
// Electronic Frontier Foundation, CC BY 3.0 US (https://www.eff.org/copyright), shipped
// unchanged: eff_large_wordlist.txt, sha256
// addd35536511597a02fa0a9ff1e5284677b8883b83e986e43f15a3db996b903e, as published at
// https://www.eff.org/files/2016/07/18/eff_large_wordlist.txt.
//
// Imports: i18n, luks and internal packages only.
package strength
