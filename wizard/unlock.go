package wizard

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"

	"filippo.io/age"

	"travelkit/drive"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/ssss"
	"travelkit/strength"
)

// unlockWith opens the kit with a typed secret: the passphrase, or the recovery key in any
// case and with spaces for dashes (as the CLI and the boot menu take it). fromEscrow: the
// secret is the recovery key rebuilt from colleagues' files. Caller holds mu and clears pass.
func (st *state) unlockWith(ctx context.Context, pass []byte, fromEscrow bool) {
	p := st.printer()
	if st.d == nil {
		st.step = stepKit
		return
	}
	secret := pass
	isRecovery := fromEscrow
	if rk, err := kit.ParseRecoveryKey(string(pass)); err == nil {
		secret, isRecovery = []byte(rk), true
		defer clear(secret)
	}
	u, err := st.d.Unlock(secret, -1, false)
	if errors.Is(err, luks.ErrWrongPassphrase) {
		st.tries++
		st.flash = p.T("wizard.unlock.wrong", strconv.Itoa(st.tries))
		return
	}
	if err != nil {
		st.flash = p.T("wizard.error.generic", err.Error())
		return
	}
	st.u = u
	st.viaRecover = isRecovery
	if isRecovery {
		st.recovery = append([]byte(nil), secret...)
	}
	// checked again, against the copy only a key opens
	rep, err := st.d.Verify(u)
	if err != nil {
		rep = &drive.VerifyReport{Trusted: true, Problems: []string{err.Error()}}
	}
	st.trusted = rep
	if !rep.OK {
		st.tampered = true
		return
	}
	st.toSnapshots(ctx)
}

// unlockWithFiles rebuilds the recovery key from colleagues' files: their age or ssh
// identities (which open their escrow files on the kit) and shares they decrypted on
// their own computers, in any mix (drive.Escrow.RecoveryKey, as the CLI's --identity and
// --share-file).
func (st *state) unlockWithFiles(ctx context.Context, f *form) {
	p := st.printer()
	st.colleagues = true
	if len(f.files) == 0 {
		st.flash = p.T("wizard.unlock.nofiles")
		return
	}
	var ids []age.Identity
	var shares []ssss.Share
	defer func() {
		for _, s := range shares {
			s.Wipe()
		}
	}()
	for _, u := range f.files {
		id, sh, ok := parseColleagueFile(u.data)
		if !ok {
			st.flash = p.T("wizard.unlock.badfile", u.name)
			return
		}
		ids = append(ids, id...)
		shares = append(shares, sh...)
	}
	esc, err := st.d.ReadEscrow()
	if err != nil {
		esc = &drive.Escrow{}
	}
	rk, err := esc.RecoveryKey(ids, shares)
	var more *drive.SharesNeededError
	switch {
	case errors.As(err, &more):
		st.flash = p.T("wizard.unlock.more", more.Need-more.Have)
		if len(more.Others) > 0 {
			st.flash += " " + p.T("wizard.unlock.others", strings.Join(more.Others, ", "))
		}
		return
	case err != nil:
		st.tries++
		st.flash = p.T("wizard.unlock.nomatch")
		return
	}
	b := []byte(rk)
	st.unlockWith(ctx, b, true)
	clear(b)
}

// parseColleagueFile reads what a colleague handed over: a share line ("2-0f1e...", as
// `age -d` printed it from their escrow file) or an identity (age-keygen's file, or an
// unencrypted ssh private key).
func parseColleagueFile(b []byte) ([]age.Identity, []ssss.Share, bool) {
	text := string(bytes.TrimSpace(b))
	if sh, err := ssss.ParseShares(text); err == nil && len(sh) > 0 {
		return nil, sh, true
	}
	if ids, err := kit.ParseIdentities(b); err == nil && len(ids) > 0 {
		return ids, nil, true
	}
	return nil, nil, false
}

// generate offers a passphrase of random words.
func (st *state) generate() {
	d, err := strength.Diceware(strength.DicewareWords)
	if err != nil {
		st.flash = st.printer().T("wizard.error.generic", err.Error())
		return
	}
	st.generated = d
}
