package repo

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"travelkit/internal/rsscheck"
)

// Opening a repository derives its key with scrypt: 32 MiB of work area at restic's
// N=32768, r=8. That area is garbage once the key is out, but it set the heap goal, so
// unless it is collected and returned at once it stays resident while the command's own
// buffers grow, and adds to their peak. Measured in child processes: opening alone, and
// opening then allocating 24 MiB of buffers (less than the work area, so that freed
// pages can hold them all): the second may not peak much above the first.
func TestScryptMemoryFreedAfterOpen(t *testing.T) {
	dir := t.TempDir()
	old := DefaultKDF
	DefaultKDF = KDFParams{N: 1 << 15, R: 8, P: 1} // restic's
	r, err := Init(context.Background(), NewFolder(dir), []byte(testPassword))
	DefaultKDF = old
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	open := rsscheck.Run(t, "TestScryptChild", dir, "0")
	grow := rsscheck.Run(t, "TestScryptChild", dir, "24")
	t.Logf("open: %s; open and 24 MiB of buffers: %s", open, grow)
	if grow.MaxRSS > open.MaxRSS+12<<20 {
		t.Errorf("opening and then 24 MiB of buffers peaked at %d MiB, opening alone at %d MiB: scrypt's 32 MiB stayed resident under the buffers",
			grow.MaxRSS>>20, open.MaxRSS>>20)
	}
}

// TestScryptChild opens the repository in its first argument and then allocates and
// touches the second argument's MiB in 8 MiB buffers; it does nothing in a normal run.
func TestScryptChild(t *testing.T) {
	a, ok := rsscheck.Args()
	if !ok {
		return
	}
	r, err := Open(context.Background(), NewFolder(a[0]), []byte(testPassword))
	if err != nil {
		fmt.Println("error:", err)
		rsscheck.Exit(3)
	}
	var mib int
	fmt.Sscan(a[1], &mib)
	var bufs [][]byte
	for ; mib > 0; mib -= 8 {
		b := make([]byte, 8<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		bufs = append(bufs, b)
	}
	runtime.KeepAlive(bufs)
	r.Close()
	rsscheck.Exit(0)
}
