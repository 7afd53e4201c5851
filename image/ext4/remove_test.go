package ext4

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRemove(t *testing.T) {
	f, dev, path := newVolume(t, 128<<20, FormatOptions{})
	free0 := f.FreeBlocks()
	data := randBytes(3<<20, 5)
	for i := 0; i < 5; i++ {
		if err := f.WriteFile(fmt.Sprintf("repo/locks/l%d", i), bytes.NewReader(data), int64(len(data)), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{0, 2, 4} {
		if err := f.Remove(fmt.Sprintf("repo/locks/l%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Remove("repo/locks"); err == nil {
		t.Fatal("removed a non-empty directory")
	}
	if err := f.Remove("repo/locks/l0"); err == nil {
		t.Fatal("removed a missing file")
	}
	if err := f.MkdirAll("tmp/x"); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove("tmp/x"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, path)
	ls := debugfs(t, path, "ls /repo/locks")
	if strings.Contains(ls, "l0") || !strings.Contains(ls, "l1") || strings.Contains(ls, "l4") || !strings.Contains(ls, "l3") {
		t.Fatalf("ls:\n%s", ls)
	}
	r, _ := Open(dev, Options{})
	if b, err := r.ReadFile("repo/locks/l3"); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("l3: %v", err)
	}
	if used := free0 - r.FreeBlocks(); used > 2*768+10 {
		t.Fatalf("%d blocks still used: blocks not freed", used)
	}
}

func TestWriteFailureRollsBack(t *testing.T) {
	f, _, path := newVolume(t, 64<<20, FormatOptions{})
	if err := f.WriteFile("keep", strings.NewReader("keep\n"), 5, time.Time{}); err != nil {
		t.Fatal(err)
	}
	free := f.FreeBlocks()
	if err := f.WriteFile("short", strings.NewReader("too short"), 100000, time.Time{}); err == nil {
		t.Fatal("short source accepted")
	}
	if err := f.WriteFile("keep", strings.NewReader("x"), 2, time.Time{}); err == nil {
		t.Fatal("short replacement accepted")
	}
	if err := f.WriteFile("huge", strings.NewReader(""), 1<<30, time.Time{}); err == nil || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("oversized file: %v", err)
	}
	if got := f.FreeBlocks(); got != free {
		t.Fatalf("free blocks %d, want %d", got, free)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, path)
	if got := debugfs(t, path, "cat /keep"); got != "keep\n" {
		t.Fatalf("keep = %q", got)
	}
	if ls := debugfs(t, path, "ls /"); strings.Contains(ls, "short") {
		t.Fatalf("failed file linked:\n%s", ls)
	}
}
