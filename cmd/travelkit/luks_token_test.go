package main

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// `luks token import` reads at most luks.MaxTokenJSON (+1) bytes of its file: a 256 MiB
// file given by mistake (here sparse, a disk image or device in life) is refused without
// being read whole, so the command's allocations stay far below the file's size.
func TestLuksTokenImportReadsBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "image.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	const size = 256 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	vol := filepath.Join(dir, "absent.luks") // refused before the volume is opened
	args := []string{"luks", "token", "import", vol, "--json-file", big}
	run(args) // once first: the catalogue and the command tree are built
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code := run(args)
	runtime.ReadMemStats(&after)
	if code != ExitUsage {
		t.Fatalf("exit %d, want %d", code, ExitUsage)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 32<<20 {
		t.Fatalf("%d MiB allocated to refuse a %d MiB file", a>>20, size>>20)
	}
}
