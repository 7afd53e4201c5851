package main

import (
	"errors"
	"fmt"
	"os"

	"travelkit/luks"
	"travelkit/strength"
)

// checkNewPassphrase judges a new kit passphrase against the attacker of package strength
// at the KDF cost its keyslot will have, says how long it would hold out, and refuses one
// below the floor (zxcvbn score 3, one year) unless allowWeak. words are what an attacker
// tries first (the kit's name).
func checkNewPassphrase(pass []byte, cost luks.PBKDF, keyBytes int, words []string, allowWeak bool) error {
	p := tr
	e := strength.Check(pass, cost, keyBytes, strength.DefaultAttacker(), words)
	if !e.Weak() {
		fmt.Fprintf(os.Stderr, "%s (%s)\n", e.Describe(p), p.T(scoreKey(e.Score)))
		return nil
	}
	if allowWeak {
		fmt.Fprintln(os.Stderr, p.T("cli.more.weak_warning", p.T("strength.weak"), e.Describe(p)))
		return nil
	}
	hint := p.T("strength.floor") + " " + p.T("strength.allow")
	if stderrIsTerminal() {
		// a strong choice, shown only to the person at the terminal (never in a log)
		if d, err := strength.Diceware(strength.DicewareWords); err == nil {
			hint += "\n  " + p.T("strength.generated") + "\n\n      " + d + "\n"
		}
	}
	return withCode(ExitRefused, errors.New(p.T("strength.weak")+" "+e.Describe(p)), hint)
}

func scoreKey(score int) string {
	switch score {
	case 0:
		return "strength.score.0"
	case 1:
		return "strength.score.1"
	case 2:
		return "strength.score.2"
	case 3:
		return "strength.score.3"
	}
	return "strength.score.4"
}
