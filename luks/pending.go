package luks

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
)

// PendingUnlock is an unlock whose last step, the check of the volume key against the
// header's digest (a PBKDF2 calibrated to about 125 ms), runs in the background while
// the caller reads with the candidate key (see BeginUnlock).
type PendingUnlock struct {
	c      *Container
	md     *metadata
	pass   []byte   // a copy, for the keyslots after the first; wiped by Wait or Discard
	ids    []string // the keyslots to try, in order
	single bool     // one keyslot was asked for (BeginUnlock with slot >= 0)
	first  string   // ids[0], or "" when there is none
	key    []byte   // the first keyslot's key (nil if it could not be opened)
	dig    *digest
	done   chan struct{} // closed when the first keyslot's check has ended
	stop   atomic.Bool   // set by Accept: the check gives up (errStopped)
	// firstErr is why the first keyslot's key is not the volume key: ErrWrongPassphrase,
	// or an error that kept it from being tried; nil when the digest matched
	firstErr error
	once     sync.Once
	vk       *VolumeKey
	slot     int
	err      error
}

// BeginUnlock is Unlock (slot < 0) or UnlockSlot (slot >= 0) in two halves. It derives
// the key of the first keyslot Unlock would try (its KDF, the slow part) and returns
// with that key's digest check still running: Candidate opens the volume with the
// key meanwhile, for reading only (every write waits for the check and fails if the key
// was wrong), and Wait ends the unlock as Unlock or UnlockSlot would have: the
// first keyslot's key if its check passed, else the next keyslots, in the same order,
// with the same errors. Nothing read through the candidate may be trusted or acted upon
// before Wait returned without an error. Call Wait or Discard exactly once.
func (c *Container) BeginUnlock(pass []byte, slot int) (*PendingUnlock, error) {
	md := c.meta()
	var ids []string
	if slot >= 0 {
		id := strconv.Itoa(slot)
		if md.Keyslots[id] == nil {
			return nil, fmt.Errorf("keyslot %d: %w", slot, ErrNoSuchKeyslot)
		}
		ids = []string{id}
	} else {
		ids = md.unlockOrder()
	}
	p := &PendingUnlock{c: c, md: md, pass: bytes.Clone(pass), ids: ids, single: slot >= 0, done: make(chan struct{})}
	if len(ids) == 0 {
		close(p.done)
		return p, nil
	}
	p.first = ids[0]
	// the same steps as unlockSlot, the digest check in a goroutine
	d := md.keyslotDigest(p.first)
	if d == nil {
		p.firstErr = fmt.Errorf("keyslot %s is not bound to the volume key digest", p.first)
		close(p.done)
		return p, nil
	}
	vk, err := openKeyslot(c.dev, c.size, md.Keyslots[p.first], pass)
	if err != nil {
		p.firstErr = fmt.Errorf("keyslot %s: %w", p.first, err)
		close(p.done)
		return p, nil
	}
	p.key, p.dig = vk, d
	go func() {
		defer close(p.done)
		ok, err := d.verifyStop(vk, &p.stop)
		switch {
		case err != nil:
			p.firstErr = err
		case !ok:
			p.firstErr = ErrWrongPassphrase
		}
	}()
	return p, nil
}

// FirstSlot is the keyslot whose key Candidate uses (-1: none).
func (p *PendingUnlock) FirstSlot() int {
	if p.first == "" {
		return -1
	}
	n, _ := strconv.Atoi(p.first)
	return n
}

// checked waits for the first keyslot's check: nil when its key is the volume key, or
// when Accept stopped the check (only Accept sets stop).
func (p *PendingUnlock) checked() error {
	<-p.done
	if p.first == "" {
		return ErrWrongPassphrase
	}
	if errors.Is(p.firstErr, errStopped) {
		return nil
	}
	return p.firstErr
}

// Accept ends the unlock with the first keyslot's key without the rest of its digest
// check, for a caller that has proven the key otherwise, as strongly: it read through
// Candidate something only the right key decrypts to content that authenticates (a
// kit's repository master key, kept inside the volume, whose MAC over the repository's
// config verified; a wrong key reads random bytes). The check stops within about a
// millisecond; if it had already ended and found the key wrong, that is the error (a
// proof and a digest that disagree: nothing is accepted). Then it is Wait: the volume
// key and its keyslot, the key wiped by the caller; Candidate's volume writes from now
// on. Call it instead of Wait or Discard, once.
func (p *PendingUnlock) Accept() (*VolumeKey, int, error) {
	if p.key == nil {
		return nil, -1, errors.New("luks: no candidate key to accept")
	}
	p.stop.Store(true)
	<-p.done
	if err := p.checked(); err != nil {
		p.Discard()
		return nil, -1, err
	}
	var out *VolumeKey
	slot := -1
	p.once.Do(func() {
		n, _ := strconv.Atoi(p.first)
		out, slot = NewVolumeKey(p.key), n
		clear(p.key)
		p.key = nil
		clear(p.pass)
		p.vk, p.slot = out, slot
	})
	if out == nil {
		return nil, -1, errors.New("luks: the unlock had ended already")
	}
	return out, slot, nil
}

// Candidate opens the volume with the first keyslot's key before its check has ended
// (OpenVolume without the check). Reads decrypt with a key that may be wrong; every
// write waits for the check and fails if the key was not the volume key. It fails when
// the first keyslot could not be opened at all.
func (p *PendingUnlock) Candidate() (*Volume, error) {
	if p.key == nil {
		return nil, errors.New("luks: no candidate key")
	}
	if n := p.md.keySize(); len(p.key) != n {
		// OpenVolume's refusal, after Wait
		return nil, fmt.Errorf("volume key is %d bytes, the volume uses %d: %w", len(p.key), n, ErrWrongVolumeKey)
	}
	v, err := p.c.volume(p.md, p.key)
	if err != nil {
		return nil, err
	}
	v.gate = p.checked
	return v, nil
}

// Wait ends the unlock and returns what Unlock (or UnlockSlot) would have returned: the
// checked volume key, wiped by the caller, and its keyslot.
func (p *PendingUnlock) Wait() (*VolumeKey, int, error) {
	p.once.Do(func() {
		err := p.checked()
		switch {
		case err == nil:
			did := idOf(p.dig)
			n, _ := strconv.Atoi(p.first)
			p.vk, p.slot = &VolumeKey{b: p.key, checked: &did, sum: sha256.Sum256(p.key)}, n
			p.key = nil
		case p.single:
			p.slot, p.err = -1, err
		default:
			var last error
			if p.first != "" && !errors.Is(err, ErrWrongPassphrase) {
				last = err
			}
			rest := p.ids
			if len(rest) > 0 {
				rest = rest[1:]
			}
			p.vk, p.slot, p.err = p.c.unlockIDs(p.md, p.pass, rest, last)
		}
		clear(p.key)
		p.key = nil
		clear(p.pass)
	})
	return p.vk, p.slot, p.err
}

// Discard abandons the unlock: it waits for the check to end and wipes the key and the
// copy of the passphrase. It does nothing after Wait.
func (p *PendingUnlock) Discard() {
	p.once.Do(func() {
		<-p.done
		clear(p.key)
		p.key = nil
		clear(p.pass)
		p.err = errors.New("luks: unlock discarded")
	})
}
