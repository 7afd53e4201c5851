package wizard

import (
	"bytes"
	"context"
	"errors"
	"time"

	"travelkit/builder"
	"travelkit/drive"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/strength"
	"travelkit/target"
)

// changePassphrase gives the kit a new passphrase after it was opened with the recovery
// key or colleagues' files (a forgotten passphrase): the same builder.Session.
// ChangePassphrase as `travelkit keys passphrase`, judged first against the kit's own
// unlock cost (package strength), as the CLI does. Caller holds mu and clears the
// secrets.
func (st *state) changePassphrase(ctx context.Context, newPass, again []byte) {
	p := st.printer()
	switch {
	case len(st.recovery) == 0:
		st.step = stepDone
		return
	case len(newPass) == 0:
		st.flash = p.T("wizard.pass.empty")
		return
	case !bytes.Equal(newPass, again):
		st.flash = p.T("wizard.pass.mismatch")
		return
	}
	path := st.kitPath
	// The read-only kit is closed and opened for writing for the change, then opened again
	// read-only with the recovery key, so that the person can go on restoring.
	rk := append([]byte(nil), st.recovery...)
	defer clear(rk)
	st.closeKit()
	err := func() error {
		tg, err := target.Open(path, target.Options{Write: true})
		if err != nil {
			return err
		}
		defer tg.Close()
		d, err := drive.Open(tg)
		if err != nil {
			return err
		}
		u, err := d.Unlock(rk, -1, true)
		if err != nil {
			return err
		}
		defer u.Close()
		s, err := builder.NewSession(d, u, string(rk), time.Now())
		if err != nil {
			return err
		}
		slot, err := s.PassphraseKeyslot()
		if err != nil {
			return err
		}
		e := strength.Check(newPass, slot.PBKDF, slot.KeySize, strength.DefaultAttacker(), []string{s.Manifest().KitID})
		if e.Weak() && !st.s.o.AllowWeak {
			return &weakError{e}
		}
		if _, err := s.ChangePassphrase(ctx, newPass, ""); err != nil {
			return err
		}
		return u.Close()
	}()
	var weak *weakError
	switch {
	case errors.As(err, &weak):
		st.flash = p.T("strength.weak") + " " + weak.e.Describe(p) + " " + p.T("strength.floor")
	case err != nil:
		st.flash = p.T("wizard.pass.failed", err.Error())
	default:
		st.changed = true
		st.generated = ""
	}
	// open again, read-only, as before
	st.openKit(path)
	if st.d != nil {
		if u, err := st.d.Unlock(rk, -1, false); err == nil {
			st.u = u
			st.recovery = append([]byte(nil), rk...)
			st.viaRecover = true
			if r, err := u.Repository(ctx, false); err == nil {
				st.r = r
			}
		}
	}
}

type weakError struct{ e strength.Estimate }

func (w *weakError) Error() string { return "weak passphrase" }

// passCost is what a new passphrase will be judged against: the passphrase keyslot's
// unlock cost (kept by a change) and the words an attacker tries first.
type passCost struct {
	pbkdf    luks.PBKDF
	keyBytes int
	words    []string
}

func passCostOf(u *drive.Unlocked, man *kit.Manifest) *passCost {
	slot := 0
	var words []string
	if man != nil {
		words = append(words, man.KitID)
		for _, k := range man.Keyslots {
			if k.Kind == kit.KeyslotPassphrase {
				slot = k.Slot
			}
		}
	}
	for _, k := range u.Container.Keyslots() {
		if k.ID == slot {
			return &passCost{pbkdf: k.PBKDF, keyBytes: k.KeySize, words: words}
		}
	}
	return nil
}
