package ext4

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"travelkit/image/internal/testutil"
)

// unpackKernelFixture writes testdata/image/kernel-unclean.img.gz (made by
// make-kernel-unclean.sh: a Linux kernel wrote to a travelkit volume and was
// cut off with its changes only in the journal) to a temporary file.
func unpackKernelFixture(t *testing.T) string {
	t.Helper()
	src, err := os.Open(filepath.Join("..", "..", "testdata", "image", "kernel-unclean.img.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	zr, err := gzip.NewReader(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "k.img")
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// Keep it sparse: skip zero blocks.
	buf := make([]byte, 4096)
	zero := make([]byte, 4096)
	var off int64
	for {
		n, err := io.ReadFull(zr, buf)
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, err := out.WriteAt(buf[:n], off); err != nil {
				t.Fatal(err)
			}
		}
		off += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Truncate(off); err != nil {
		t.Fatal(err)
	}
	return p
}

func seqText(n int) []byte {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	return b.Bytes()
}

func checkKernelFiles(t *testing.T, f *FS) {
	t.Helper()
	want := map[string][]byte{
		"from-travelkit/hello.txt": []byte("hello from travelkit\nappended\n"),
		"kernel/note.txt":          []byte("kernel note\n"),
		"kernel/deep/seq.txt":      seqText(60000),
		"kernel/f50":               []byte("50\n"),
	}
	for p, w := range want {
		got, err := f.ReadFile(p)
		if err != nil || !bytes.Equal(got, w) {
			t.Errorf("%s: %v, %d bytes, want %d", p, err, len(got), len(w))
		}
	}
	ents, err := f.ReadDir("kernel")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range ents {
		names[e.Name] = true
	}
	if len(ents) != 51 || names["f7"] || !names["f6"] || !names["deep"] {
		t.Errorf("kernel/ has %d entries: %v", len(ents), names)
	}
}

// TestKernelUncleanShutdown: a volume a real kernel left needing recovery
// reads exactly as e2fsck's replay does, never stale.
func TestKernelUncleanShutdown(t *testing.T) {
	p := unpackKernelFixture(t)
	if out := testutil.MustTool(t, "dumpe2fs", "-h", p); !strings.Contains(out, "needs_recovery") {
		t.Fatal("fixture does not need recovery")
	}
	// Without replay the data is stale: the fixture is meaningful.
	if ls := debugfs(t, p, "ls /"); strings.Contains(ls, "kernel") {
		t.Fatal("fixture's changes are already home")
	}
	before, _ := os.ReadFile(p)
	f, err := Open(openFile(t, p, false), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Replayed() < 1 {
		t.Fatal("nothing replayed")
	}
	t.Logf("replayed %d transactions; warnings %v", f.Replayed(), f.Warnings())
	checkKernelFiles(t, f)
	if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
		t.Fatal("read-only open wrote")
	}
	// Writable: replayed onto the image, which then passes e2fsck, and travelkit can add files.
	w, err := Open(openFile(t, p, true), Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFile("kernel/deep/after.txt", strings.NewReader("after\n"), 6, timeZero()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, p)
	if got := debugfs(t, p, "cat /from-travelkit/hello.txt"); got != "hello from travelkit\nappended\n" {
		t.Fatalf("debugfs after replay: %q", got)
	}
	r, err := Open(openFile(t, p, false), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Replayed() != 0 {
		t.Fatal("journal still needs recovery")
	}
	checkKernelFiles(t, r)
}

func timeZero() (z time.Time) { return }
