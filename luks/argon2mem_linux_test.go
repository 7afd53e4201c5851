package luks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"travelkit/internal/rsscheck"
)

// Two keyslots of 256 MiB Argon2 each, and a passphrase that opens neither: both are
// tried. The first derivation's memory used to stay until a collection, so the second
// doubled the peak (8.4 GB for two 4 GiB keyslots where cryptsetup peaks at 4.2 GB).
// Measured in a child process; the bound is one derivation and some slack.
func TestArgon2MemoryFreedBetweenKeyslots(t *testing.T) {
	const memKiB = 128 << 10
	img := filepath.Join(t.TempDir(), "two-slots.luks")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(testSize); err != nil {
		t.Fatal(err)
	}
	p := PBKDF{Type: "argon2id", Iterations: 4, MemoryKiB: memKiB, Parallel: 2}
	c, vk, err := Format(f, testSize, []byte("slot zero"), FormatOptions{PBKDF: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddKeyslot(vk, []byte("slot one"), 1, p); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res := rsscheck.Run(t, "TestArgon2Child", img, "wrong passphrase")
	t.Logf("two %d MiB keyslots, wrong passphrase: %s", memKiB>>10, res)
	if !strings.Contains(res.Output, ErrWrongPassphrase.Error()) {
		t.Errorf("want the wrong-passphrase error: %s", res.Output)
	}
	if limit := int64(memKiB)<<10*3/2 + 48<<20; res.MaxRSS > limit {
		t.Errorf("peak RSS %d MiB over one derivation's %d MiB plus slack: the first keyslot's memory was kept",
			res.MaxRSS>>20, memKiB>>10)
	}
}

// TestArgon2Child unlocks a container file; it does nothing in a normal run.
func TestArgon2Child(t *testing.T) {
	a, ok := rsscheck.Args()
	if !ok {
		return
	}
	f, err := os.Open(a[0])
	if err != nil {
		fmt.Println("error:", err)
		rsscheck.Exit(3)
	}
	c, err := Open(readOnly{f}, testSize)
	if err == nil {
		_, _, err = c.Unlock([]byte(a[1]))
	}
	fmt.Println("error:", err)
	rsscheck.Exit(3)
}

// A keyslot whose Argon2 cost is above the available memory is refused with a message,
// as cryptsetup does, before any memory is taken.
func TestArgon2RefusedAboveAvailableMemory(t *testing.T) {
	d, c, vk := format(t, FormatOptions{PBKDF: cheapArgon})
	if _, err := c.AddKeyslot(vk, []byte("big"), 1, PBKDF{Type: "argon2id", Iterations: 4, MemoryKiB: 8 << 10, Parallel: 1}); err != nil {
		t.Fatal(err)
	}
	old := availableMemory
	availableMemory = func() uint64 { return 4 << 10 } // 4 MiB available
	defer func() { availableMemory = old }()
	c2, err := Open(d, testSize)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c2.Unlock([]byte("correct horse")); err != nil {
		t.Fatalf("the 64 KiB keyslot fits: %v", err)
	}
	_, _, err = c2.Unlock([]byte("big"))
	var me *MemoryError
	if !errors.As(err, &me) || me.NeedKiB != 8<<10 || !strings.Contains(err.Error(), "not enough available memory") {
		t.Fatalf("want a memory refusal naming 8 MiB: %v", err)
	}
	t.Log(err)
}
