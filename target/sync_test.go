package target

import (
	"os"
	"path/filepath"
	"testing"
)

// Closing a kit opened only for reading flushes nothing: Windows refuses
// FlushFileBuffers on a read-only handle, which made every read-only kit command
// (snapshots, ls, restore, check) exit 1 there.
func TestSyncReadOnly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "kit.img")
	if err := os.WriteFile(p, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	tg, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Sync(); err != nil {
		t.Errorf("Sync of a target opened for reading: %v", err)
	}
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
	tg, err = Open(p, Options{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if _, err := tg.WriteAt([]byte("x"), 4096); err != nil {
		t.Fatal(err)
	}
	if err := tg.Sync(); err != nil {
		t.Errorf("Sync of a target opened for writing: %v", err)
	}
}
