package tpm

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sort"
	"time"

	"github.com/google/go-tpm/tpm2"
)

// DefaultPCRs returns the PCR policy travelkit uses unless told otherwise: PCR 7, the
// Secure Boot state, which survives kernel and bootloader updates but not Secure Boot
// changes.
func DefaultPCRs() []int { return []int{7} }

// SecretSize is the size of the random secret sealed to the TPM, as systemd uses it.
const SecretSize = 32

// SealOptions are the choices of an enrolment.
type SealOptions struct {
	PCRs    []int  // PCRs of the sha256 bank to bind to; nil: DefaultPCRs; empty: none (PIN only)
	PIN     []byte // empty: no PIN
	Keyslot int    // the LUKS2 keyslot the token names (can be set later on Token.Keyslots)
	// UnsaltedPIN derives the PIN auth without tpm2_salt, as systemd before 253 did (and
	// as systemd 252, e.g. Debian 12, still expects). Default: salted, as newer systemd.
	UnsaltedPIN bool
	// PCRValuesInToken also writes the PCR values at enrolment into the systemd-tpm2
	// token as "travelkit-pcr-values". systemd 252 (tested) and the versions up to 257
	// (read) ignore unknown token fields, but newer systemd validates tokens against a
	// table of known fields, so this is off by default: store Sealed.PCRRecord() as a
	// token of its own instead.
	PCRValuesInToken bool
}

// OptionsFrom returns the options that reproduce tok's binding (PCRs, PIN or not, keyslot)
// for a reseal; the caller sets PIN.
func OptionsFrom(tok *Token) SealOptions {
	o := SealOptions{PCRs: append([]int(nil), tok.PCRs...), UnsaltedPIN: tok.PIN && tok.Salt == nil}
	if len(tok.Keyslots) > 0 {
		o.Keyslot = tok.Keyslots[0]
	}
	return o
}

// Reseal seals a fresh secret with the binding of old (its PCRs, PIN or not, keyslot) to
// the TPM's current PCR values; pin is the PIN for the new binding when old had one. The
// caller adds a keyslot for the new secret and replaces the token.
func (t *TPM) Reseal(old *Token, pin []byte) (*Sealed, error) {
	o := OptionsFrom(old)
	if old.PIN {
		if len(pin) == 0 {
			return nil, ErrPINRequired
		}
		o.PIN = pin
	}
	return t.Seal(o)
}

// Sealed is the result of an enrolment.
type Sealed struct {
	Secret    []byte // the 32-byte secret; the keyslot passphrase is Passphrase(Secret)
	Token     *Token
	PCRValues map[int][]byte // the sha256 PCR values the secret is bound to
}

// PCRRecord returns the record of the PCR values at enrolment, for the keyslots of the
// token; store its JSON as a LUKS2 token next to the systemd-tpm2 one.
func (s *Sealed) PCRRecord() *PCRRecord {
	return &PCRRecord{Keyslots: append([]int(nil), s.Token.Keyslots...), Bank: "sha256", Values: s.PCRValues}
}

// Passphrase returns the keyslot passphrase for the sealed secret.
func (s *Sealed) Passphrase() []byte { return Passphrase(s.Secret) }

// Passphrase returns the LUKS2 keyslot passphrase systemd uses for an unsealed secret:
// its standard, padded base64.
func Passphrase(secret []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(secret))
}

// Seal seals a fresh random 32-byte secret to the TPM's current PCR values (and PIN).
func (t *TPM) Seal(opts SealOptions) (*Sealed, error) {
	secret := make([]byte, SecretSize)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	return t.SealSecret(secret, opts)
}

// SealSecret seals the given secret (1..128 bytes) like Seal. A reseal that keeps the
// keyslot passes the secret it unsealed or otherwise knows.
func (t *TPM) SealSecret(secret []byte, opts SealOptions) (*Sealed, error) {
	if len(secret) == 0 || len(secret) > 128 {
		return nil, fmt.Errorf("tpm: secret of %d bytes; want 1..128", len(secret))
	}
	if opts.Keyslot < 0 || opts.Keyslot > MaxKeyslot {
		return nil, fmt.Errorf("tpm: keyslot %d out of range", opts.Keyslot)
	}
	pcrs, err := normPCRs(opts.PCRs)
	if err != nil {
		return nil, err
	}
	if err := t.CheckSupport(pcrs); err != nil {
		return nil, err
	}
	tok := &Token{
		Keyslots:   []int{opts.Keyslot},
		PCRs:       pcrs,
		PCRBank:    "sha256",
		PrimaryAlg: "ecc",
		PIN:        len(opts.PIN) > 0,
	}
	if len(pcrs) == 0 {
		tok.PCRBank = "" // as systemd: no PCRs, no bank
	}
	var auth []byte
	if tok.PIN {
		if !opts.UnsaltedPIN {
			tok.Salt = make([]byte, SaltSize)
			if _, err := rand.Read(tok.Salt); err != nil {
				return nil, err
			}
		}
		auth = PINAuth(opts.PIN, tok.Salt)
	}

	// The policy: PolicyPCR over the current values, then PolicyAuthValue with a PIN.
	// Computed here from the values read, and checked against a trial session in the TPM,
	// so that a PCR changing in between cannot give a token that never unseals.
	var policy []byte
	var values map[int][]byte
	for try := 0; ; try++ {
		values, err = t.ReadPCRs(tpm2.TPMAlgSHA256, pcrs)
		if err != nil {
			return nil, err
		}
		policy = PolicyDigest(tpm2.TPMAlgSHA256, pcrs, values, tok.PIN)
		trial, err := t.trialPolicy(tpm2.TPMAlgSHA256, pcrs, tok.PIN)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(trial, policy) {
			break
		}
		if try == 2 {
			return nil, fmt.Errorf("tpm: the PCR policy digest computed from the PCR values (%x) does not match the TPM's (%x) (PCRs changing during enrolment?)", policy, trial)
		}
	}
	tok.PolicyHashes = [][]byte{policy}
	if opts.PCRValuesInToken {
		tok.PCRValues = values
	}

	parent, parentPub, flush, err := t.createPrimary("ecc")
	if err != nil {
		return nil, err
	}
	defer flush()
	// Authorize the parent with a session salted to it that encrypts the first command
	// parameter (the secret and the PIN's auth value) on the way to the TPM.
	parent.Auth = tpm2.HMAC(tpm2.TPMAlgSHA256, 16, tpm2.AESEncryption(128, tpm2.EncryptIn), tpm2.Salted(parent.Handle, *parentPub))

	tmpl := tpm2.TPMTPublic{
		Type:    tpm2.TPMAlgKeyedHash,
		NameAlg: tpm2.TPMAlgSHA256,
		ObjectAttributes: tpm2.TPMAObject{
			FixedTPM:    true,
			FixedParent: true,
		},
		AuthPolicy: tpm2.TPM2BDigest{Buffer: policy},
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgKeyedHash, &tpm2.TPMSKeyedHashParms{
			Scheme: tpm2.TPMTKeyedHashScheme{Scheme: tpm2.TPMAlgNull},
		}),
	}
	rsp, err := tpm2.Create{
		ParentHandle: parent,
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			UserAuth: tpm2.TPM2BAuth{Buffer: auth},
			Data:     tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: secret}),
		}},
		InPublic: tpm2.New2B(tmpl),
	}.Execute(t.tr)
	if err != nil {
		if errors.Is(err, tpm2.TPMRCLockout) {
			return nil, &LockoutError{DA: t.DAInfo()}
		}
		return nil, fmt.Errorf("tpm: sealing the secret: %w", err)
	}
	var blob []byte
	blob = append(blob, tpm2.Marshal(rsp.OutPrivate)...)
	blob = append(blob, tpm2.Marshal(rsp.OutPublic)...)
	tok.Blobs = [][]byte{blob}
	return &Sealed{Secret: append([]byte(nil), secret...), Token: tok, PCRValues: values}, nil
}

// tokenBank returns the PCR bank of a token (sha256 when the token does not say).
func tokenBank(tok *Token) (tpm2.TPMIAlgHash, string) {
	if tok.PCRBank == "sha1" {
		return tpm2.TPMAlgSHA1, "sha1"
	}
	return tpm2.TPMAlgSHA256, "sha256"
}

// checkToken refuses tokens travelkit cannot unseal and returns the blob's parts.
func checkToken(tok *Token) (priv, pub, policy []byte, err error) {
	if tok.PCRLock || len(tok.PubKey) > 0 || len(tok.PubKeyPCRs) > 0 {
		return nil, nil, nil, fmt.Errorf("%w: signed PCR policies and pcrlock policies are not supported; unlock with systemd-cryptsetup or the passphrase", ErrUnsupportedToken)
	}
	blob, err := tok.Blob()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %v", ErrUnsupportedToken, err)
	}
	policy, err = tok.PolicyHash()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %v", ErrUnsupportedToken, err)
	}
	if len(policy) != sha256.Size {
		return nil, nil, nil, fmt.Errorf("%w: policy hash of %d bytes (travelkit uses sha256 policy sessions)", ErrUnsupportedToken, len(policy))
	}
	priv, pub, seed, err := SplitBlob(blob)
	if err != nil {
		return nil, nil, nil, err
	}
	if seed != nil {
		return nil, nil, nil, fmt.Errorf("%w: the secret was sealed without the TPM (systemd --tpm2-device-key) and must be imported first", ErrUnsupportedToken)
	}
	return priv, pub, policy, nil
}

// CheckPolicy tells whether the TPM's current PCR values satisfy tok's policy, without a
// PIN and without touching the dictionary-attack counter: nil, a *PCRMismatchError, or
// another error. Call it before asking for a PIN.
func (t *TPM) CheckPolicy(tok *Token) error {
	_, _, want, err := checkToken(tok)
	if err != nil {
		return err
	}
	if err := t.CheckSupport(nil); err != nil {
		return err
	}
	bank, bankName := tokenBank(tok)
	cur, err := t.ReadPCRs(bank, tok.PCRs)
	if err != nil {
		return err
	}
	if !bytes.Equal(PolicyDigest(bank, tok.PCRs, cur, tok.PIN), want) {
		return mismatch(tok, bankName, cur)
	}
	return nil
}

// Unseal unseals the secret of a systemd-tpm2 token. pin is ignored for tokens without a PIN.
// Errors: *PCRMismatchError, *WrongPINError, *LockoutError, *WrongTPMError,
// *MissingFeatureError, ErrPINRequired, ErrUnsupportedToken.
//
// The PCR policy is checked first (CheckPolicy), so a PCR mismatch is reported as such,
// even without a PIN, and never costs a dictionary-attack failure.
func (t *TPM) Unseal(tok *Token, pin []byte) ([]byte, error) {
	priv, pub, _, err := checkToken(tok)
	if err != nil {
		return nil, err
	}
	if err := t.CheckPolicy(tok); err != nil {
		return nil, err
	}
	if tok.PIN && len(pin) == 0 {
		return nil, ErrPINRequired
	}
	bank, bankName := tokenBank(tok)

	privB, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](priv)
	if err != nil {
		return nil, fmt.Errorf("tpm: tpm2-blob private part: %w", err)
	}
	pubB, err := tpm2.Unmarshal[tpm2.TPM2BPublic](pub)
	if err != nil {
		return nil, fmt.Errorf("tpm: tpm2-blob public part: %w", err)
	}
	if p, err := pubB.Contents(); err != nil || p.Type != tpm2.TPMAlgKeyedHash {
		return nil, errors.New("tpm: tpm2-blob does not hold a sealed data object")
	}

	obj, err := t.loadSealed(tok, *privB, *pubB)
	if err != nil {
		return nil, err
	}
	defer obj.flush()

	var auth []byte
	if tok.PIN {
		auth = PINAuth(pin, tok.Salt)
	}
	for try := 0; ; try++ {
		secret, err := t.unsealOnce(obj, bank, tok.PCRs, tok.PIN, auth)
		switch {
		case err == nil:
			return secret, nil
		case errors.Is(err, tpm2.TPMRCPCRChanged) && try < 3:
			continue
		case errors.Is(err, tpm2.TPMRCLockout):
			return nil, &LockoutError{DA: t.DAInfo()}
		case errors.Is(err, tpm2.TPMRCAuthFail) || errors.Is(err, tpm2.TPMRCBadAuth):
			return nil, &WrongPINError{DA: t.DAInfo()}
		case errors.Is(err, tpm2.TPMRCPolicyFail) || errors.Is(err, tpm2.TPMRCPCRChanged):
			cur, rerr := t.ReadPCRs(bank, tok.PCRs)
			if rerr != nil {
				return nil, err
			}
			return nil, mismatch(tok, bankName, cur)
		default:
			return nil, fmt.Errorf("tpm: unsealing: %w", err)
		}
	}
}

func mismatch(tok *Token, bank string, cur map[int][]byte) error {
	e := &PCRMismatchError{Bank: bank, Candidates: append([]int(nil), tok.PCRs...)}
	for _, p := range tok.PCRs {
		if old, ok := tok.PCRValues[p]; ok && !bytes.Equal(old, cur[p]) {
			e.Changed = append(e.Changed, p)
		}
	}
	return e
}

func (t *TPM) unsealOnce(obj *sealedObject, bank tpm2.TPMIAlgHash, pcrs []int, pin bool, auth []byte) ([]byte, error) {
	sess, err := startPolicySession(t.tr, obj.parent, obj.parentPub)
	if err != nil {
		return nil, fmt.Errorf("starting policy session: %w", err)
	}
	defer sess.close(t.tr)
	if len(pcrs) > 0 {
		if _, err := (tpm2.PolicyPCR{PolicySession: sess.Handle(), Pcrs: pcrSelection(bank, pcrs)}).Execute(t.tr); err != nil {
			return nil, err
		}
	}
	if pin {
		if _, err := (tpm2.PolicyAuthValue{PolicySession: sess.Handle()}).Execute(t.tr); err != nil {
			return nil, err
		}
		sess.setAuth(auth)
	}
	// A second session, salted to the parent, encrypts the secret on its way back.
	enc := tpm2.HMAC(tpm2.TPMAlgSHA256, 16, tpm2.AESEncryption(128, tpm2.EncryptOut), tpm2.Salted(obj.parent, *obj.parentPub))
	rsp, err := tpm2.Unseal{ItemHandle: tpm2.AuthHandle{Handle: obj.handle, Name: obj.name, Auth: sess}}.Execute(t.tr, enc)
	if err != nil {
		return nil, err
	}
	return rsp.OutData.Buffer, nil
}

func (t *TPM) trialPolicy(bank tpm2.TPMIAlgHash, pcrs []int, pin bool) ([]byte, error) {
	sess, closeSess, err := tpm2.PolicySession(t.tr, tpm2.TPMAlgSHA256, 16, tpm2.Trial())
	if err != nil {
		return nil, fmt.Errorf("tpm: starting trial policy session: %w", err)
	}
	defer closeSess()
	if len(pcrs) > 0 {
		if _, err := (tpm2.PolicyPCR{PolicySession: sess.Handle(), Pcrs: pcrSelection(bank, pcrs)}).Execute(t.tr); err != nil {
			return nil, fmt.Errorf("tpm: PolicyPCR: %w", err)
		}
	}
	if pin {
		if _, err := (tpm2.PolicyAuthValue{PolicySession: sess.Handle()}).Execute(t.tr); err != nil {
			return nil, fmt.Errorf("tpm: PolicyAuthValue: %w", err)
		}
	}
	rsp, err := tpm2.PolicyGetDigest{PolicySession: sess.Handle()}.Execute(t.tr)
	if err != nil {
		return nil, fmt.Errorf("tpm: PolicyGetDigest: %w", err)
	}
	return rsp.PolicyDigest.Buffer, nil
}

// sealedObject is a sealed object loaded in the TPM, with the parent it was loaded under.
type sealedObject struct {
	handle    tpm2.TPMHandle
	name      tpm2.TPM2BName
	parent    tpm2.TPMHandle
	parentPub *tpm2.TPMTPublic
	flush     func()
}

// loadSealed loads the sealed object under the parent the token names: the persistent key
// of tpm2_srk when present, else the transient primary systemd derives for tpm2-primary-alg.
func (t *TPM) loadSealed(tok *Token, priv tpm2.TPM2BPrivate, pub tpm2.TPM2BPublic) (*sealedObject, error) {
	type parentFn func() (tpm2.AuthHandle, *tpm2.TPMTPublic, func(), error)
	var parents []parentFn
	if tok.SRK != nil {
		// A serialized ESYS_TR starts with the TPM handle, big-endian.
		h := tpm2.TPMHandle(binary.BigEndian.Uint32(tok.SRK))
		if h>>24 != 0x81 {
			return nil, fmt.Errorf("%w: tpm2_srk names handle %#x, not a persistent key", ErrUnsupportedToken, uint32(h))
		}
		parents = append(parents, func() (tpm2.AuthHandle, *tpm2.TPMTPublic, func(), error) {
			rp, err := tpm2.ReadPublic{ObjectHandle: h}.Execute(t.tr)
			if err != nil {
				return tpm2.AuthHandle{}, nil, nil, &WrongTPMError{Err: fmt.Errorf("the storage root key %#x is not in this TPM: %v", uint32(h), err)}
			}
			p, err := rp.OutPublic.Contents()
			if err != nil {
				return tpm2.AuthHandle{}, nil, nil, err
			}
			return tpm2.AuthHandle{Handle: h, Name: rp.Name, Auth: tpm2.PasswordAuth(nil)}, p, func() {}, nil
		})
	} else {
		algs := []string{tok.PrimaryAlg}
		if tok.PrimaryAlg == "" {
			algs = []string{"ecc", "rsa"}
		}
		for _, a := range algs {
			parents = append(parents, func() (tpm2.AuthHandle, *tpm2.TPMTPublic, func(), error) { return t.createPrimary(a) })
		}
	}
	var lastErr error
	for _, p := range parents {
		parent, parentPub, flushParent, err := p()
		if err != nil {
			return nil, err
		}
		rsp, err := tpm2.Load{ParentHandle: parent, InPrivate: priv, InPublic: pub}.Execute(t.tr)
		if err == nil {
			obj := rsp.ObjectHandle
			return &sealedObject{handle: obj, name: rsp.Name, parent: parent.Handle, parentPub: parentPub,
				flush: func() { t.flush(obj); flushParent() }}, nil
		}
		flushParent()
		lastErr = err
		if errors.Is(err, tpm2.TPMRCLockout) {
			return nil, &LockoutError{DA: t.DAInfo()}
		}
		if !errors.Is(err, tpm2.TPMRCIntegrity) && !errors.Is(err, tpm2.TPMRCSize) && !errors.Is(err, tpm2.TPMRCValue) {
			return nil, fmt.Errorf("tpm: loading the sealed key: %w", err)
		}
	}
	return nil, &WrongTPMError{Err: lastErr}
}

// primaryTemplate returns the primary key template systemd uses for tokens without
// tpm2_srk (its "legacy" templates, unchanged since systemd 250): ECC NIST P-256 or
// RSA 2048, AES-128-CFB, restricted decrypt, fixedTPM|fixedParent|sensitiveDataOrigin|
// userWithAuth, empty unique. A token naming tpm2-primary-alg and no tpm2_srk is
// unsealed by every systemd version under this key, so travelkit seals under it too.
func primaryTemplate(alg string) (tpm2.TPMTPublic, error) {
	attrs := tpm2.TPMAObject{
		FixedTPM:            true,
		FixedParent:         true,
		SensitiveDataOrigin: true,
		UserWithAuth:        true,
		Restricted:          true,
		Decrypt:             true,
	}
	sym := tpm2.TPMTSymDefObject{
		Algorithm: tpm2.TPMAlgAES,
		KeyBits:   tpm2.NewTPMUSymKeyBits(tpm2.TPMAlgAES, tpm2.TPMKeyBits(128)),
		Mode:      tpm2.NewTPMUSymMode(tpm2.TPMAlgAES, tpm2.TPMAlgCFB),
	}
	switch alg {
	case "ecc":
		return tpm2.TPMTPublic{
			Type: tpm2.TPMAlgECC, NameAlg: tpm2.TPMAlgSHA256, ObjectAttributes: attrs,
			Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
				Symmetric: sym,
				Scheme:    tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgNull},
				CurveID:   tpm2.TPMECCNistP256,
				KDF:       tpm2.TPMTKDFScheme{Scheme: tpm2.TPMAlgNull},
			}),
			Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{}),
		}, nil
	case "rsa":
		return tpm2.TPMTPublic{
			Type: tpm2.TPMAlgRSA, NameAlg: tpm2.TPMAlgSHA256, ObjectAttributes: attrs,
			Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgRSA, &tpm2.TPMSRSAParms{
				Symmetric: sym,
				Scheme:    tpm2.TPMTRSAScheme{Scheme: tpm2.TPMAlgNull},
				KeyBits:   2048,
			}),
			Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgRSA, &tpm2.TPM2BPublicKeyRSA{}),
		}, nil
	}
	return tpm2.TPMTPublic{}, fmt.Errorf("%w: primary algorithm %q", ErrUnsupportedToken, alg)
}

func (t *TPM) createPrimary(alg string) (tpm2.AuthHandle, *tpm2.TPMTPublic, func(), error) {
	tmpl, err := primaryTemplate(alg)
	if err != nil {
		return tpm2.AuthHandle{}, nil, nil, err
	}
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		InPublic:      tpm2.New2B(tmpl),
	}.Execute(t.tr)
	if err != nil {
		if errors.Is(err, tpm2.TPMRCBadAuth) || errors.Is(err, tpm2.TPMRCAuthFail) {
			return tpm2.AuthHandle{}, nil, nil, fmt.Errorf("tpm: creating the %s primary key: the TPM's owner hierarchy has a password, which travelkit (like systemd) does not use: %w", alg, err)
		}
		return tpm2.AuthHandle{}, nil, nil, fmt.Errorf("tpm: creating the %s primary key: %w", alg, err)
	}
	h := rsp.ObjectHandle
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		t.flush(h)
		return tpm2.AuthHandle{}, nil, nil, err
	}
	return tpm2.AuthHandle{Handle: h, Name: rsp.Name, Auth: tpm2.PasswordAuth(nil)}, pub, func() { t.flush(h) }, nil
}

func (t *TPM) flush(h tpm2.TPMHandle) {
	_, _ = tpm2.FlushContext{FlushHandle: h}.Execute(t.tr)
}

func normPCRs(pcrs []int) ([]int, error) {
	if pcrs == nil {
		pcrs = DefaultPCRs()
	}
	out := append(make([]int, 0, len(pcrs)), pcrs...)
	sort.Ints(out)
	for i, p := range out {
		if p < 0 || p >= NumPCRs {
			return nil, fmt.Errorf("tpm: PCR %d out of range 0..%d", p, NumPCRs-1)
		}
		if i > 0 && out[i-1] == p {
			return nil, fmt.Errorf("tpm: PCR %d listed twice", p)
		}
	}
	return out, nil
}

// pcrSelection returns the selection of pcrs in bank, with 3 select bytes as systemd and
// tpm2-tools marshal it (the policy digest covers the marshalled selection).
func pcrSelection(bank tpm2.TPMIAlgHash, pcrs []int) tpm2.TPMLPCRSelection {
	sel := make([]byte, NumPCRs/8)
	for _, p := range pcrs {
		sel[p/8] |= 1 << (p % 8)
	}
	return tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{Hash: bank, PCRSelect: sel}}}
}

// PolicyDigest computes the sha256 policy digest of PolicyPCR(pcrs of bank with the given
// values) followed, with a PIN, by PolicyAuthValue: the tpm2-policy-hash of a token.
func PolicyDigest(bank tpm2.TPMIAlgHash, pcrs []int, values map[int][]byte, pin bool) []byte {
	pcrs = append(make([]int, 0, len(pcrs)), pcrs...)
	sort.Ints(pcrs)
	d := make([]byte, sha256.Size)
	cc := make([]byte, 4)
	var h hash.Hash
	if len(pcrs) > 0 { // without PCRs systemd leaves PolicyPCR out altogether
		h = sha256.New()
		for _, p := range pcrs {
			h.Write(values[p])
		}
		pcrDigest := h.Sum(nil)
		h = sha256.New()
		h.Write(d)
		binary.BigEndian.PutUint32(cc, uint32(tpm2.TPMCCPolicyPCR))
		h.Write(cc)
		h.Write(tpm2.Marshal(pcrSelection(bank, pcrs)))
		h.Write(pcrDigest)
		d = h.Sum(nil)
	}
	if pin {
		h = sha256.New()
		h.Write(d)
		binary.BigEndian.PutUint32(cc, uint32(tpm2.TPMCCPolicyAuthValue))
		h.Write(cc)
		d = h.Sum(nil)
	}
	return d
}

// ReadPCRs reads the given PCRs of a bank.
func (t *TPM) ReadPCRs(bank tpm2.TPMIAlgHash, pcrs []int) (map[int][]byte, error) {
	size := sha256.Size
	if bank == tpm2.TPMAlgSHA1 {
		size = sha1.Size
	}
	out := make(map[int][]byte, len(pcrs))
	todo := append([]int(nil), pcrs...)
	for round := 0; len(todo) > 0; round++ {
		if round > NumPCRs {
			return nil, errors.New("tpm: PCR read does not make progress")
		}
		rsp, err := tpm2.PCRRead{PCRSelectionIn: pcrSelection(bank, todo)}.Execute(t.tr)
		if err != nil {
			return nil, fmt.Errorf("tpm: reading PCRs: %w", err)
		}
		var got []int
		for _, s := range rsp.PCRSelectionOut.PCRSelections {
			if s.Hash != bank {
				continue
			}
			for i, b := range s.PCRSelect {
				for bit := 0; bit < 8; bit++ {
					if b&(1<<bit) != 0 {
						got = append(got, i*8+bit)
					}
				}
			}
		}
		if len(got) == 0 || len(got) != len(rsp.PCRValues.Digests) {
			return nil, &MissingFeatureError{Missing: []string{fmt.Sprintf("PCRs %v of the %s bank are not active", todo, bankString(bank))}}
		}
		for i, p := range got {
			v := rsp.PCRValues.Digests[i].Buffer
			if len(v) != size {
				return nil, fmt.Errorf("tpm: PCR %d value has %d bytes", p, len(v))
			}
			out[p] = append([]byte(nil), v...)
		}
		var rest []int
		for _, p := range todo {
			if _, ok := out[p]; !ok {
				rest = append(rest, p)
			}
		}
		todo = rest
	}
	return out, nil
}

// ExtendPCR extends a PCR of the sha256 bank with the SHA-256 of data (tests, and to
// invalidate a binding on purpose).
func (t *TPM) ExtendPCR(pcr int, data []byte) error {
	d := sha256.Sum256(data)
	_, err := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(pcr), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}},
	}.Execute(t.tr)
	return err
}

func bankString(b tpm2.TPMIAlgHash) string {
	if b == tpm2.TPMAlgSHA1 {
		return "sha1"
	}
	return "sha256"
}

// DAInfo reads the TPM's dictionary-attack counters; Known is false if it cannot.
func (t *TPM) DAInfo() DAInfo {
	rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(tpm2.TPMPTPermanent), PropertyCount: 32}.Execute(t.tr)
	if err != nil {
		return DAInfo{}
	}
	props, err := rsp.CapabilityData.Data.TPMProperties()
	if err != nil {
		return DAInfo{}
	}
	var d DAInfo
	n := 0
	for _, p := range props.TPMProperty {
		switch p.Property {
		case tpm2.TPMPTPermanent:
			d.InLockout = p.Value&(1<<2) != 0
		case tpm2.TPMPTLockoutCounter:
			d.Failures = p.Value
			n++
		case tpm2.TPMPTMaxAuthFail:
			d.MaxTries = p.Value
			n++
		case tpm2.TPMPTLockoutInterval:
			d.Interval = time.Duration(p.Value) * time.Second
		case tpm2.TPMPTLockoutRecovery:
			d.Recovery = time.Duration(p.Value) * time.Second
		}
	}
	d.Known = n == 2
	return d
}

// probe checks that a TPM2 answers, and starts it up if nothing has (a software TPM
// started without startup-clear; firmware does this for hardware TPMs).
func (t *TPM) probe() error {
	get := tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(tpm2.TPMPTFamilyIndicator), PropertyCount: 1}
	_, err := get.Execute(t.tr)
	if errors.Is(err, tpm2.TPMRCInitialize) {
		if _, serr := (tpm2.Startup{StartupType: tpm2.TPMSUClear}).Execute(t.tr); serr != nil && !errors.Is(serr, tpm2.TPMRCInitialize) {
			return fmt.Errorf("starting up the TPM: %w", serr)
		}
		_, err = get.Execute(t.tr)
	}
	if err != nil {
		return fmt.Errorf("it does not answer as a TPM2: %w", err)
	}
	return nil
}

// CheckSupport checks that the TPM has what an enrolment needs: ECC with NIST P-256, SHA-256,
// keyed-hash objects, AES-128-CFB, and the given PCRs active in the sha256 bank.
func (t *TPM) CheckSupport(pcrs []int) error {
	var missing []string
	rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapAlgs, Property: 0, PropertyCount: 256}.Execute(t.tr)
	if err != nil {
		return fmt.Errorf("tpm: listing algorithms: %w", err)
	}
	algs, err := rsp.CapabilityData.Data.Algorithms()
	if err != nil {
		return fmt.Errorf("tpm: listing algorithms: %w", err)
	}
	have := map[tpm2.TPMAlgID]bool{}
	for _, a := range algs.AlgProperties {
		have[a.Alg] = true
	}
	for _, need := range []struct {
		alg  tpm2.TPMAlgID
		name string
	}{{tpm2.TPMAlgECC, "ECC"}, {tpm2.TPMAlgSHA256, "SHA-256"}, {tpm2.TPMAlgKeyedHash, "keyed-hash objects"}, {tpm2.TPMAlgAES, "AES"}, {tpm2.TPMAlgCFB, "CFB mode"}} {
		if !have[need.alg] {
			missing = append(missing, "algorithm "+need.name)
		}
	}
	if have[tpm2.TPMAlgECC] {
		rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapECCCurves, Property: 0, PropertyCount: 64}.Execute(t.tr)
		if err != nil {
			return fmt.Errorf("tpm: listing ECC curves: %w", err)
		}
		curves, err := rsp.CapabilityData.Data.ECCCurves()
		if err != nil {
			return fmt.Errorf("tpm: listing ECC curves: %w", err)
		}
		p256 := false
		for _, c := range curves.ECCCurves {
			p256 = p256 || c == tpm2.TPMECCNistP256
		}
		if !p256 {
			missing = append(missing, "ECC curve NIST P-256")
		}
	}
	rsp, err = tpm2.GetCapability{Capability: tpm2.TPMCapPCRs, Property: 0, PropertyCount: 16}.Execute(t.tr)
	if err != nil {
		return fmt.Errorf("tpm: listing PCR banks: %w", err)
	}
	banks, err := rsp.CapabilityData.Data.AssignedPCR()
	if err != nil {
		return fmt.Errorf("tpm: listing PCR banks: %w", err)
	}
	var active []int
	found := false
	for _, s := range banks.PCRSelections {
		if s.Hash != tpm2.TPMAlgSHA256 {
			continue
		}
		found = true
		for i, b := range s.PCRSelect {
			for bit := 0; bit < 8; bit++ {
				if b&(1<<bit) != 0 {
					active = append(active, i*8+bit)
				}
			}
		}
	}
	if !found || len(active) == 0 {
		missing = append(missing, "an active sha256 PCR bank")
	} else {
		on := map[int]bool{}
		for _, p := range active {
			on[p] = true
		}
		for _, p := range pcrs {
			if !on[p] {
				missing = append(missing, fmt.Sprintf("PCR %d in the sha256 bank", p))
			}
		}
	}
	if len(missing) > 0 {
		return &MissingFeatureError{Missing: missing}
	}
	return nil
}
