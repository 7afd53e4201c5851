package luks

import (
	"sync"
	"testing"
)

// TestContainerConcurrentUse holds the Container to its concurrency contract: readers
// (Unlock, Keyslots, Tokens, accessors, OpenVolume) run while another goroutine changes
// the header, and each sees a whole header, before or after a change. `make test` runs it
// under the race detector, which fails it when a read path skips the lock.
func TestContainerConcurrentUse(t *testing.T) {
	d := newMemDev(testSize)
	c, vk, err := Format(d, testSize, []byte("reader"), FormatOptions{PBKDF: cheap})
	if err != nil {
		t.Fatal(err)
	}
	defer vk.Wipe()
	uuid := c.UUID()
	const rounds = 4
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				k, slot, err := c.Unlock([]byte("reader"))
				if err != nil || slot != 0 {
					errs <- "Unlock during a change: " + err.Error()
					return
				}
				k.Wipe()
				for _, ks := range c.Keyslots() {
					if len(ks.Digests) != 1 {
						errs <- "a keyslot without its digest: half a header"
						return
					}
				}
				for _, tok := range c.Tokens() {
					// RemoveKeyslot leaves the token naming no keyslot
					if len(tok.Keyslots) > 1 || len(tok.Keyslots) == 1 && tok.Keyslots[0] != 1 {
						errs <- "a token naming a keyslot that never was: half a header"
						return
					}
				}
				if c.UUID() != uuid || c.KeySize() != len(vk.b) || c.NeedsRepair() || len(c.MetadataJSON()) == 0 ||
					len(c.Segments()) != 1 || len(c.Digests()) != 1 {
					errs <- "accessors changed during a header change"
					return
				}
				v, err := c.OpenVolume(vk)
				if err != nil {
					errs <- "OpenVolume: " + err.Error()
					return
				}
				v.Close()
			}
		}()
	}
	for i := 0; i < rounds; i++ {
		if _, err := c.AddKeyslot(vk, []byte("writer"), 1, cheap); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AddToken(-1, []byte(`{"type":"test","keyslots":["1"]}`)); err != nil {
			t.Fatal(err)
		}
		if err := c.RemoveKeyslot(1, false); err != nil {
			t.Fatal(err)
		}
		for _, tok := range c.Tokens() {
			if err := c.RemoveToken(tok.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if c.Seqid() != 4*rounds+1 {
		t.Errorf("seqid %d after %d changes", c.Seqid(), 4*rounds)
	}
}
