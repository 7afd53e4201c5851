package tpm

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
)

// The scenarios run against every TPM the tests have: swtpm (always) and the go-tpm-tools
// simulator (build tag tpmsim). open returns a fresh TPM in its manufactured state.
type opener func(t *testing.T) *TPM

// roundTrip re-parses the token JSON, as it would come back from the LUKS2 header.
func roundTrip(t *testing.T, tok *Token) *Token {
	t.Helper()
	back, err := ParseToken(tok.JSON())
	if err != nil {
		t.Fatalf("parsing our own token %s: %v", tok.JSON(), err)
	}
	return back
}

func scenarioSealUnseal(t *testing.T, open opener) {
	tp := open(t)
	for _, pcrs := range [][]int{nil, {0, 7}, {1, 4, 7, 9, 14}, {}} {
		s, err := tp.Seal(SealOptions{PCRs: pcrs, Keyslot: 3})
		if err != nil {
			t.Fatalf("Seal(%v): %v", pcrs, err)
		}
		if len(s.Secret) != SecretSize {
			t.Fatalf("secret of %d bytes", len(s.Secret))
		}
		tok := roundTrip(t, s.Token)
		if tok.Keyslots[0] != 3 || tok.PIN || tok.Salt != nil || tok.PrimaryAlg != "ecc" || (tok.PCRBank == "sha256") != (len(tok.PCRs) > 0) {
			t.Fatalf("token fields: %s", s.Token.JSON())
		}
		got, err := tp.Unseal(tok, nil)
		if err != nil {
			t.Fatalf("Unseal(%v): %v", pcrs, err)
		}
		if !bytes.Equal(got, s.Secret) {
			t.Fatalf("unsealed %x, sealed %x", got, s.Secret)
		}
		if string(Passphrase(got)) != string(s.Passphrase()) || len(s.Passphrase()) != 44 {
			t.Fatalf("passphrase %q", s.Passphrase())
		}
		// The same token in the array form newer systemd writes.
		arr, err := ParseToken(arrayForm(t, s.Token.JSON()))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := tp.Unseal(arr, nil); err != nil || !bytes.Equal(got, s.Secret) {
			t.Fatalf("array form: %v", err)
		}
	}
}

func scenarioPIN(t *testing.T, open opener) {
	tp := open(t)
	pin := []byte("correct horse 1234")
	s, err := tp.Seal(SealOptions{PIN: pin})
	if err != nil {
		t.Fatal(err)
	}
	tok := roundTrip(t, s.Token)
	if !tok.PIN || len(tok.Salt) != SaltSize {
		t.Fatalf("token without PIN/salt: %s", s.Token.JSON())
	}
	if _, err := tp.Unseal(tok, nil); !errors.Is(err, ErrPINRequired) {
		t.Fatalf("no PIN: got %v, want ErrPINRequired", err)
	}
	got, err := tp.Unseal(tok, pin)
	if err != nil || !bytes.Equal(got, s.Secret) {
		t.Fatalf("right PIN: %x, %v", got, err)
	}
	before := tp.DAInfo()
	_, err = tp.Unseal(tok, []byte("wrong"))
	var wp *WrongPINError
	if !errors.As(err, &wp) {
		t.Fatalf("wrong PIN: got %v, want *WrongPINError", err)
	}
	if !strings.Contains(err.Error(), "wrong PIN") || !strings.Contains(err.Error(), "lock") {
		t.Fatalf("wrong-PIN message does not explain the lockout: %v", err)
	}
	after := tp.DAInfo()
	if !before.Known || !after.Known || after.Failures != before.Failures+1 || wp.DA.Failures != after.Failures {
		t.Fatalf("wrong PIN not counted: before %+v, after %+v, error %+v", before, after, wp.DA)
	}
	t.Logf("after one wrong PIN: %v", err)
	// The right PIN still works afterwards (not locked out after one failure).
	if got, err := tp.Unseal(tok, pin); err != nil || !bytes.Equal(got, s.Secret) {
		t.Fatalf("right PIN after a wrong one: %v", err)
	}

	// Auth values with a zero byte inside and at the end (unsalted, so the PIN decides).
	for _, pin := range [][]byte{pinWithAuth(t, func(a []byte) bool { return len(a) == 32 && bytes.IndexByte(a, 0) >= 0 }),
		pinWithAuth(t, func(a []byte) bool { return len(a) < 32 })} {
		s, err := tp.Seal(SealOptions{PIN: pin, UnsaltedPIN: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := tp.Unseal(roundTrip(t, s.Token), pin); err != nil || !bytes.Equal(got, s.Secret) {
			t.Fatalf("PIN %q (auth %x): %v", pin, PINAuth(pin, nil), err)
		}
	}

	// An unsalted PIN, as systemd before 253 wrote.
	s2, err := tp.Seal(SealOptions{PIN: pin, UnsaltedPIN: true})
	if err != nil {
		t.Fatal(err)
	}
	tok2 := roundTrip(t, s2.Token)
	if tok2.Salt != nil || !tok2.PIN {
		t.Fatalf("unsalted token: %s", s2.Token.JSON())
	}
	if got, err := tp.Unseal(tok2, pin); err != nil || !bytes.Equal(got, s2.Secret) {
		t.Fatalf("unsalted PIN: %v", err)
	}
}

func scenarioPCRChange(t *testing.T, open opener) {
	tp := open(t)
	pin := []byte("0000")
	s, err := tp.Seal(SealOptions{PCRs: []int{0, 7}, PIN: pin, Keyslot: 2})
	if err != nil {
		t.Fatal(err)
	}
	tok := roundTrip(t, s.Token)
	if tok.PCRValues != nil {
		t.Fatal("PCR values in the systemd token without PCRValuesInToken")
	}
	// The PCR record, kept as a token of its own, supplies the values at enrolment.
	rec, err := ParsePCRRecord(s.PCRRecord().JSON())
	if err != nil || !rec.Applies(tok) || len(rec.Values) != 2 {
		t.Fatalf("PCR record %s: %v", s.PCRRecord().JSON(), err)
	}
	tok.PCRValues = rec.Values
	if _, err := tp.Unseal(tok, pin); err != nil {
		t.Fatal(err)
	}
	if err := tp.CheckPolicy(tok); err != nil {
		t.Fatalf("CheckPolicy before the change: %v", err)
	}
	if err := tp.ExtendPCR(7, []byte("a Secure Boot change")); err != nil {
		t.Fatal(err)
	}
	var pm *PCRMismatchError
	if err := tp.CheckPolicy(tok); !errors.As(err, &pm) {
		t.Fatalf("CheckPolicy after the change: %v", err)
	}
	// Without a PIN the mismatch is still what is reported (no PIN prompt is useful then).
	if _, err := tp.Unseal(tok, nil); !errors.As(err, &pm) {
		t.Fatalf("Unseal without PIN after the change: %v", err)
	}
	before := tp.DAInfo()
	_, err = tp.Unseal(tok, pin)
	if !errors.As(err, &pm) {
		t.Fatalf("after extending PCR 7: got %v, want *PCRMismatchError", err)
	}
	if len(pm.Changed) != 1 || pm.Changed[0] != 7 {
		t.Fatalf("changed PCRs %v, want [7]", pm.Changed)
	}
	msg := err.Error()
	for _, want := range []string{"PCR 7", "passphrase", "recovery key", "travelkit tpm reseal"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("PCR mismatch message lacks %q: %s", want, msg)
		}
	}
	t.Logf("PCR mismatch: %v", err)
	if after := tp.DAInfo(); after.Failures != before.Failures {
		t.Fatalf("a PCR mismatch counted as a PIN failure: %+v -> %+v", before, after)
	}

	// Without recorded values, the error names the policy's PCRs as candidates.
	bare := *tok
	bare.PCRValues = nil
	if _, err := tp.Unseal(&bare, pin); !errors.As(err, &pm) || pm.Changed != nil || len(pm.Candidates) != 2 || !strings.Contains(err.Error(), "one or more of PCRs 0, 7") {
		t.Fatalf("mismatch without recorded values: %v", err)
	}

	// Reseal with the same secret (the keyslot stays) restores TPM unlock.
	re, err := tp.SealSecret(s.Secret, withPIN(OptionsFrom(tok), pin))
	if err != nil {
		t.Fatal(err)
	}
	retok := roundTrip(t, re.Token)
	if retok.Keyslots[0] != 2 || len(retok.PCRs) != 2 || !retok.PIN {
		t.Fatalf("resealed token: %s", re.Token.JSON())
	}
	got, err := tp.Unseal(retok, pin)
	if err != nil || !bytes.Equal(got, s.Secret) {
		t.Fatalf("after reseal: %x, %v", got, err)
	}
	// Reseal with a fresh secret (a new keyslot) works too.
	fresh, err := tp.Reseal(tok, pin)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(fresh.Secret, s.Secret) {
		t.Fatal("Reseal reused the secret")
	}
	if got, err := tp.Unseal(roundTrip(t, fresh.Token), pin); err != nil || !bytes.Equal(got, fresh.Secret) {
		t.Fatalf("after Reseal: %v", err)
	}
	if _, err := tp.Reseal(tok, nil); !errors.Is(err, ErrPINRequired) {
		t.Fatalf("Reseal without the PIN: %v", err)
	}
	if d := fresh.Token.String(); d != "keyslot 2: PCRs 0, 7 (Secure Boot state) (sha256 bank), PIN, ecc primary key" {
		t.Fatalf("String: %q", d)
	}
	// The old token stays refused.
	if _, err := tp.Unseal(tok, pin); !errors.As(err, &pm) {
		t.Fatalf("old token after reseal: %v", err)
	}
}

// pinWithAuth finds a numeric PIN whose unsalted auth value satisfies ok.
func pinWithAuth(t *testing.T, ok func([]byte) bool) []byte {
	for i := 0; i < 1000000; i++ {
		pin := []byte(strconv.Itoa(i))
		if ok(PINAuth(pin, nil)) {
			return pin
		}
	}
	t.Fatal("no such PIN")
	return nil
}

func withPIN(o SealOptions, pin []byte) SealOptions { o.PIN = pin; return o }

func scenarioLockout(t *testing.T, open opener) {
	tp := open(t)
	pin := []byte("2468")
	s, err := tp.Seal(SealOptions{PIN: pin})
	if err != nil {
		t.Fatal(err)
	}
	da := tp.DAInfo()
	if !da.Known || da.MaxTries == 0 || da.MaxTries > 64 {
		t.Fatalf("DA info %+v", da)
	}
	var lo *LockoutError
	for i := 0; i <= int(da.MaxTries)+1; i++ {
		_, err = tp.Unseal(s.Token, []byte("bad guess"))
		if errors.As(err, &lo) {
			break
		}
		var wp *WrongPINError
		if !errors.As(err, &wp) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if lo == nil {
		t.Fatalf("no lockout after %d wrong PINs (%+v)", da.MaxTries+2, tp.DAInfo())
	}
	if !strings.Contains(err.Error(), "lockout") {
		t.Fatalf("lockout message: %v", err)
	}
	t.Logf("lockout: %v", err)
	// Even the right PIN is refused now.
	if _, err := tp.Unseal(s.Token, pin); !errors.As(err, &lo) {
		t.Fatalf("right PIN in lockout: %v", err)
	}
	// And a new enrolment is refused with the same error (the parent key is DA-protected).
	if _, err := tp.Seal(SealOptions{PIN: pin}); !errors.As(err, &lo) {
		t.Fatalf("seal in lockout: %v", err)
	}
}

func scenarioMissingPCR(t *testing.T, open opener) {
	tp := open(t)
	if _, err := tp.Seal(SealOptions{PCRs: []int{24}}); err == nil {
		t.Fatal("PCR 24 accepted")
	}
	if err := tp.CheckSupport([]int{7}); err != nil {
		t.Fatal(err)
	}
}

// sealUnderPersistentSRK persists the TCG ECC SRK at 0x81000001 and returns a token whose
// object is sealed under it, with tpm2_srk naming it, as systemd 255+ writes them.
func sealUnderPersistentSRK(t *testing.T, tp *TPM) (*Token, []byte) {
	t.Helper()
	srk, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(tp.tr)
	if err != nil {
		t.Fatal(err)
	}
	const persistent = tpm2.TPMHandle(0x81000001)
	if _, err := (tpm2.EvictControl{
		Auth:             tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		ObjectHandle:     &tpm2.NamedHandle{Handle: srk.ObjectHandle, Name: srk.Name},
		PersistentHandle: persistent,
	}).Execute(tp.tr); err != nil {
		t.Fatal(err)
	}
	tp.flush(srk.ObjectHandle)
	s, err := tp.Seal(SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Re-create the sealed object under the SRK, with the same policy and secret.
	blob, _ := s.Token.Blob()
	_, pubB, _, _ := SplitBlob(blob)
	pub, _ := tpm2.Unmarshal[tpm2.TPM2BPublic](pubB)
	pc, _ := pub.Contents()
	cr, err := tpm2.Create{
		ParentHandle: tpm2.AuthHandle{Handle: persistent, Name: srk.Name, Auth: tpm2.PasswordAuth(nil)},
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: s.Secret}),
		}},
		InPublic: tpm2.New2B(tpm2.TPMTPublic{Type: pc.Type, NameAlg: pc.NameAlg, ObjectAttributes: pc.ObjectAttributes,
			AuthPolicy: pc.AuthPolicy, Parameters: pc.Parameters}),
	}.Execute(tp.tr)
	if err != nil {
		t.Fatal(err)
	}
	tok := *s.Token
	tok.Blobs = [][]byte{append(tpm2.Marshal(cr.OutPrivate), tpm2.Marshal(cr.OutPublic)...)}
	tok.SRK = append([]byte{0x81, 0, 0, 1}, srk.Name.Buffer...)
	return roundTrip(t, &tok), s.Secret
}

// scenarioSRK: a token with tpm2_srk (systemd 255+) names a persistent SRK as the parent.
func scenarioSRK(t *testing.T, open opener) {
	tp := open(t)
	tok, secret := sealUnderPersistentSRK(t, tp)
	got, err := tp.Unseal(tok, nil)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("unseal under the persistent SRK: %v", err)
	}
	// Without tpm2_srk the object does not load under systemd's primary: a clear error.
	tok.SRK = nil
	var wt *WrongTPMError
	_, err = tp.Unseal(tok, nil)
	if !errors.As(err, &wt) {
		t.Fatalf("wrong parent: %v", err)
	}
	t.Logf("wrong parent: %v", err)
}

func runScenarios(t *testing.T, open opener) {
	t.Run("PersistentSRK", func(t *testing.T) { scenarioSRK(t, open) })
	t.Run("SealUnseal", func(t *testing.T) { scenarioSealUnseal(t, open) })
	t.Run("PIN", func(t *testing.T) { scenarioPIN(t, open) })
	t.Run("PCRChange", func(t *testing.T) { scenarioPCRChange(t, open) })
	t.Run("Lockout", func(t *testing.T) { scenarioLockout(t, open) })
	t.Run("Support", func(t *testing.T) { scenarioMissingPCR(t, open) })
}
