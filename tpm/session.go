package tpm

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// policySession is a sha256 policy session salted to the sealed object's parent, whose
// authorization HMAC is keyed with sessionKey || authValue after PolicyAuthValue (Part 1,
// 19.6). The salt keeps the HMAC from being a PIN oracle for someone listening on the TPM
// bus. travelkit uses its own session because go-tpm v0.9.8's policy session truncates an
// auth value at its last zero byte, not only trailing zeros (hmacKeyFromAuthValue), which
// breaks about one PIN in nine, and rejects responses to password-policy sessions.
type policySession struct {
	handle      tpm2.TPMHandle
	nonceCaller []byte
	nonceTPM    []byte
	sessionKey  []byte
	key         []byte // HMAC key: sessionKey || auth value without trailing zeros
}

const nonceSize = 16

// startPolicySession starts a policy session salted to the loaded key saltKey (with public
// area saltPub), or an unsalted one when saltPub is nil.
func startPolicySession(t transport.TPM, saltKey tpm2.TPMHandle, saltPub *tpm2.TPMTPublic) (*policySession, error) {
	s := &policySession{nonceCaller: make([]byte, nonceSize)}
	if _, err := rand.Read(s.nonceCaller); err != nil {
		return nil, err
	}
	cmd := tpm2.StartAuthSession{
		TPMKey:      tpm2.TPMRHNull,
		Bind:        tpm2.TPMRHNull,
		NonceCaller: tpm2.TPM2BNonce{Buffer: s.nonceCaller},
		SessionType: tpm2.TPMSEPolicy,
		Symmetric:   tpm2.TPMTSymDef{Algorithm: tpm2.TPMAlgNull},
		AuthHash:    tpm2.TPMAlgSHA256,
	}
	var salt []byte
	if saltPub != nil {
		ek, err := tpm2.ImportEncapsulationKey(saltPub)
		if err != nil {
			return nil, err
		}
		var enc []byte
		salt, enc, err = tpm2.CreateEncryptedSalt(rand.Reader, ek)
		if err != nil {
			return nil, err
		}
		cmd.TPMKey = saltKey
		cmd.EncryptedSalt = tpm2.TPM2BEncryptedSecret{Buffer: enc}
	}
	rsp, err := cmd.Execute(t)
	if err != nil {
		return nil, err
	}
	s.handle = tpm2.TPMHandle(rsp.SessionHandle.HandleValue())
	s.nonceTPM = rsp.NonceTPM.Buffer
	if salt != nil {
		s.sessionKey = tpm2.KDFa(crypto.SHA256, salt, "ATH", s.nonceTPM, s.nonceCaller, 256)
	}
	s.key = s.sessionKey
	return s, nil
}

// setAuth adds auth to the HMAC key (after PolicyAuthValue).
func (s *policySession) setAuth(auth []byte) {
	s.key = append(append([]byte(nil), s.sessionKey...), trimTrailingZeros(auth)...)
}

var sessionAttrs = tpm2.TPMASession{ContinueSession: true}

func (s *policySession) Init(transport.TPM) error           { return nil }
func (s *policySession) CleanupFailure(transport.TPM) error { return nil }
func (s *policySession) NonceTPM() tpm2.TPM2BNonce          { return tpm2.TPM2BNonce{Buffer: s.nonceTPM} }
func (s *policySession) IsEncryption() bool                 { return false }
func (s *policySession) IsDecryption() bool                 { return false }
func (s *policySession) Encrypt([]byte) error               { return nil }
func (s *policySession) Decrypt([]byte) error               { return nil }
func (s *policySession) Handle() tpm2.TPMHandle             { return s.handle }

func (s *policySession) NewNonceCaller() error {
	_, err := rand.Read(s.nonceCaller)
	return err
}

func attrByte(a tpm2.TPMASession) byte {
	var b byte
	if a.ContinueSession {
		b |= 1
	}
	if a.AuditExclusive {
		b |= 2
	}
	if a.AuditReset {
		b |= 4
	}
	if a.Decrypt {
		b |= 0x20
	}
	if a.Encrypt {
		b |= 0x40
	}
	if a.Audit {
		b |= 0x80
	}
	return b
}

func (s *policySession) mac(pHash, nonceNewer, nonceOlder, addNonces []byte, attrs byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(pHash)
	m.Write(nonceNewer)
	m.Write(nonceOlder)
	m.Write(addNonces)
	m.Write([]byte{attrs})
	return m.Sum(nil)
}

func (s *policySession) Authorize(cc tpm2.TPMCC, parms, addNonces []byte, names []tpm2.TPM2BName, _ int) (*tpm2.TPMSAuthCommand, error) {
	h := sha256.New()
	_ = binary.Write(h, binary.BigEndian, uint32(cc))
	for _, n := range names {
		h.Write(n.Buffer)
	}
	h.Write(parms)
	return &tpm2.TPMSAuthCommand{
		Handle:        s.handle,
		Nonce:         tpm2.TPM2BNonce{Buffer: s.nonceCaller},
		Attributes:    sessionAttrs,
		Authorization: tpm2.TPM2BData{Buffer: s.mac(h.Sum(nil), s.nonceCaller, s.nonceTPM, addNonces, attrByte(sessionAttrs))},
	}, nil
}

func (s *policySession) Validate(rc tpm2.TPMRC, cc tpm2.TPMCC, parms []byte, _ []tpm2.TPM2BName, _ int, auth *tpm2.TPMSAuthResponse) error {
	s.nonceTPM = auth.Nonce.Buffer
	h := sha256.New()
	_ = binary.Write(h, binary.BigEndian, uint32(rc))
	_ = binary.Write(h, binary.BigEndian, uint32(cc))
	h.Write(parms)
	want := s.mac(h.Sum(nil), s.nonceTPM, s.nonceCaller, nil, attrByte(auth.Attributes))
	if !hmac.Equal(want, auth.Authorization.Buffer) {
		return errors.New("tpm: the TPM's response HMAC does not verify")
	}
	return nil
}

func (s *policySession) close(t transport.TPM) {
	_, _ = tpm2.FlushContext{FlushHandle: s.handle}.Execute(t)
}
