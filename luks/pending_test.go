package luks

import (
	"bytes"
	"errors"
	"testing"
)

// BeginUnlock + Wait gives what Unlock and UnlockSlot give, for every secret and slot,
// and a candidate volume whose key is wrong writes nothing.
func TestBeginUnlockLikeUnlock(t *testing.T) {
	d, c, vk := format(t, FormatOptions{})
	if _, err := c.AddKeyslot(vk, []byte("second key"), 1, cheap); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pass string
		slot int
	}{
		// each case costs about four digest checks (~125 ms each): the cases that differ
		{"correct horse", -1}, {"second key", -1}, {"nope", -1}, {"correct horse", 1},
	} {
		var want *VolumeKey
		var wantSlot int
		var wantErr error
		if tc.slot < 0 {
			want, wantSlot, wantErr = c.Unlock([]byte(tc.pass))
		} else {
			want, wantErr = c.UnlockSlot([]byte(tc.pass), tc.slot)
			wantSlot = tc.slot
		}
		p, err := c.BeginUnlock([]byte(tc.pass), tc.slot)
		if err != nil {
			t.Fatal(err)
		}
		first := tc.slot
		if first < 0 {
			first = 0
		}
		if p.FirstSlot() != first {
			t.Fatalf("%q slot %d: first slot %d", tc.pass, tc.slot, p.FirstSlot())
		}
		v, err := p.Candidate()
		if err != nil {
			t.Fatal(err)
		}
		before := d.clone()
		block := bytes.Repeat([]byte{0x5a}, 4096)
		_, werr := v.WriteAt(block, 0)
		candidateRight := wantErr == nil && wantSlot == first
		if candidateRight != (werr == nil) {
			t.Fatalf("%q slot %d: write through the candidate: %v (key right: %v)", tc.pass, tc.slot, werr, candidateRight)
		}
		if !candidateRight && !bytes.Equal(before.b, d.b) {
			t.Fatalf("%q slot %d: a candidate with the wrong key wrote to the device", tc.pass, tc.slot)
		}
		got, slot, err := p.Wait()
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("%q slot %d: Wait: %v, Unlock: %v", tc.pass, tc.slot, err, wantErr)
		}
		if err != nil {
			if tc.slot < 0 && tc.pass == "nope" && !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("wrong passphrase: %v", err)
			}
			continue
		}
		if slot != wantSlot || !bytes.Equal(got.Bytes(), want.Bytes()) || !bytes.Equal(got.Bytes(), vk.Bytes()) {
			t.Fatalf("%q slot %d: Wait gave slot %d", tc.pass, tc.slot, slot)
		}
		if !got.verifiedBy(c.meta().keyslotDigest(itoa(slot))) {
			t.Fatalf("%q slot %d: the key is not marked checked", tc.pass, tc.slot)
		}
		if candidateRight {
			// what the candidate wrote reads back through a checked volume
			w, err := c.OpenVolume(got)
			if err != nil {
				t.Fatal(err)
			}
			back := make([]byte, len(block))
			if _, err := w.ReadAt(back, 0); err != nil || !bytes.Equal(back, block) {
				t.Fatalf("read back: %v", err)
			}
			w.Close()
		}
		got.Wipe()
		v.Close()
		d.b = before.b
	}
	if _, err := c.BeginUnlock([]byte("correct horse"), 5); !errors.Is(err, ErrNoSuchKeyslot) {
		t.Fatalf("keyslot 5: %v", err)
	}
	// Discard after nothing, then Wait: the result is an error, not a key
	p, err := c.BeginUnlock([]byte("correct horse"), -1)
	if err != nil {
		t.Fatal(err)
	}
	p.Discard()
	if k, _, err := p.Wait(); err == nil || k != nil {
		t.Fatal("Wait after Discard gave a key")
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

// Accept ends the unlock with the candidate key before its digest check has ended (the
// check stops), the candidate volume writes from then on, and a check that had already
// found the key wrong is Accept's error: a wrong key is never accepted that way.
func TestAcceptStopsTheCheck(t *testing.T) {
	d, c, vk := format(t, FormatOptions{})
	p, err := c.BeginUnlock([]byte("correct horse"), -1)
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.Candidate()
	if err != nil {
		t.Fatal(err)
	}
	got, slot, err := p.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if slot != 0 || !bytes.Equal(got.Bytes(), vk.Bytes()) {
		t.Fatalf("Accept: slot %d, key right: %v", slot, bytes.Equal(got.Bytes(), vk.Bytes()))
	}
	if !errors.Is(p.firstErr, errStopped) {
		// the digest's ~125 ms PBKDF2 cannot have ended in the microseconds since BeginUnlock
		t.Fatalf("the check was not stopped: %v", p.firstErr)
	}
	block := bytes.Repeat([]byte{0xa5}, 4096)
	if _, err := v.WriteAt(block, 0); err != nil {
		t.Fatalf("write after Accept: %v", err)
	}
	w, err := c.OpenVolume(vk)
	if err != nil {
		t.Fatal(err)
	}
	back := make([]byte, len(block))
	if _, err := w.ReadAt(back, 0); err != nil || !bytes.Equal(back, block) {
		t.Fatalf("read back: %v", err)
	}

	// a wrong passphrase whose check ended: Accept refuses, the candidate writes nothing
	p, err = c.BeginUnlock([]byte("nope"), 0)
	if err != nil {
		t.Fatal(err)
	}
	v, err = p.Candidate()
	if err != nil {
		t.Fatal(err)
	}
	<-p.done
	if _, _, err := p.Accept(); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Accept of a wrong key: %v", err)
	}
	before := d.clone()
	if _, err := v.WriteAt(block, 4096); err == nil || !bytes.Equal(before.b, d.b) {
		t.Fatalf("a refused candidate wrote: %v", err)
	}
}
