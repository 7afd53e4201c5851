package ext4

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"travelkit/image"
	"travelkit/image/internal/testutil"
)

func openFile(t *testing.T, path string, rw bool) *image.FileDevice {
	t.Helper()
	flag := os.O_RDONLY
	if rw {
		flag = os.O_RDWR
	}
	fh, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	st, _ := fh.Stat()
	return &image.FileDevice{F: fh, N: st.Size()}
}

func mke2fs(t *testing.T, path string, size string, args ...string) {
	t.Helper()
	a := append([]string{"-q", "-F", "-t", "ext4", "-b", "4096"}, args...)
	a = append(a, path, size)
	testutil.MustTool(t, "mke2fs", a...)
}

func debugfsW(t *testing.T, path string, cmds ...string) string {
	t.Helper()
	cf := path + ".cmds"
	if err := os.WriteFile(cf, []byte(strings.Join(cmds, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return testutil.MustTool(t, "debugfs", "-w", "-f", cf, path)
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	testutil.MustTool(t, "cp", "--sparse=always", src, dst)
}

// journalDiff makes the changes between old and new image files a committed
// journal transaction on old (as a kernel would have left it), without
// writing them home.
func journalDiff(t *testing.T, oldPath, newPath string, jo string, commit bool) []uint64 {
	t.Helper()
	a, err := os.ReadFile(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(newPath)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []uint64
	var data []byte
	for off := 0; off < len(a); off += 4096 {
		if !bytes.Equal(a[off:off+4096], b[off:off+4096]) {
			blocks = append(blocks, uint64(off/4096))
			data = append(data, b[off:off+4096]...)
		}
	}
	if len(blocks) == 0 {
		t.Fatal("no difference to journal")
	}
	df := oldPath + ".jdata"
	if err := os.WriteFile(df, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, bl := range blocks {
		list = append(list, fmt.Sprint(bl))
	}
	jw := "jw -b " + strings.Join(list, ",") + " " + df
	if !commit {
		jw = "jw -c -b " + strings.Join(list, ",") + " " + df
	}
	debugfsW(t, oldPath, jo, jw, "jc")
	out := testutil.MustTool(t, "dumpe2fs", "-h", oldPath)
	if !strings.Contains(out, "needs_recovery") && commit {
		t.Fatalf("journal does not need recovery:\n%s", out)
	}
	return blocks
}

func TestJournalReplayMke2fs(t *testing.T) {
	for _, tc := range []struct {
		name string
		mk   []string
		jo   string
	}{
		{"default-features", nil, "jo"},
		{"csum-v3", nil, "jo -c"},
		{"no-csum-32bit", []string{"-O", "^metadata_csum,^64bit"}, "jo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			base := filepath.Join(dir, "a.img")
			mke2fs(t, base, "64M", tc.mk...)
			src := filepath.Join(dir, "old.txt")
			os.WriteFile(src, []byte("old contents\n"), 0o600)
			debugfsW(t, base, "mkdir d", "write "+src+" d/f1")
			// The "kernel" then writes a new file and changes f1; all of it only in the journal.
			newer := filepath.Join(dir, "b.img")
			copyFile(t, base, newer)
			big := filepath.Join(dir, "big.bin")
			bigData := randBytes(300<<10, 7)
			os.WriteFile(big, bigData, 0o600)
			debugfsW(t, newer, "mkdir d/sub", "write "+big+" d/sub/big.bin")
			journalDiff(t, base, newer, tc.jo, true)
			if got := debugfs(t, base, "ls /d"); strings.Contains(got, "sub") {
				t.Fatal("change reached the home location; test is void")
			}
			// Oracle: e2fsck -fy on a copy replays the journal.
			fixed := filepath.Join(dir, "fixed.img")
			copyFile(t, base, fixed)
			out, err := testutil.Tool(t, "e2fsck", "-fy", fixed)
			if err != nil && !strings.Contains(err.Error(), "exit status 1") {
				t.Fatalf("e2fsck -fy: %v\n%s", err, out)
			}
			testutil.MustTool(t, "debugfs", "-R", "dump /d/sub/big.bin "+fixed+".big", fixed)
			if ob, _ := os.ReadFile(fixed + ".big"); !bytes.Equal(ob, bigData) {
				t.Fatal("oracle disagrees")
			}
			// Our reader, read-only: replays in memory, does not write.
			before, _ := os.ReadFile(base)
			f, err := Open(openFile(t, base, false), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if f.Replayed() == 0 {
				t.Fatal("no transaction replayed")
			}
			t.Logf("warnings: %v", f.Warnings())
			got, err := f.ReadFile("d/sub/big.bin")
			if err != nil || !bytes.Equal(got, bigData) {
				t.Fatalf("journaled file: %v, %d bytes", err, len(got))
			}
			if got, err := f.ReadFile("d/f1"); err != nil || string(got) != "old contents\n" {
				t.Fatalf("f1: %q %v", got, err)
			}
			after, _ := os.ReadFile(base)
			if !bytes.Equal(before, after) {
				t.Fatal("read-only open changed the image")
			}
			// Writable open is refused for features travelkit does not write (metadata_csum).
			if tc.mk == nil {
				if _, err := Open(openFile(t, base, true), Options{Writable: true}); !errors.Is(err, ErrReadOnly) {
					t.Fatalf("writable open of a metadata_csum volume: %v", err)
				}
			}
		})
	}
}

func TestJournalUncommittedAndRevoke(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "a.img")
	mke2fs(t, base, "64M")
	src := filepath.Join(dir, "old.txt")
	os.WriteFile(src, bytes.Repeat([]byte("o"), 4096), 0o600)
	debugfsW(t, base, "write "+src+" f1")
	blk := strings.TrimSpace(strings.Split(debugfs(t, base, "bmap f1 0"), "\n")[0])
	n1 := filepath.Join(dir, "n1")
	os.WriteFile(n1, bytes.Repeat([]byte("1"), 4096), 0o600)
	n2 := filepath.Join(dir, "n2")
	os.WriteFile(n2, bytes.Repeat([]byte("2"), 4096), 0o600)

	check := func(img, want string) {
		t.Helper()
		fixed := img + ".fixed"
		copyFile(t, img, fixed)
		testutil.Tool(t, "e2fsck", "-fy", fixed)
		oracle := debugfs(t, fixed, "cat f1")
		f, err := Open(openFile(t, img, false), Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.ReadFile("f1")
		if err != nil {
			t.Fatal(err)
		}
		if string(got[:1]) != want || !strings.HasPrefix(oracle, want) {
			t.Fatalf("got %q, e2fsck's replay %q, want %q", got[:1], oracle[:1], want)
		}
	}
	// 1: committed write, then an uncommitted one: the committed one wins.
	a := filepath.Join(dir, "1.img")
	copyFile(t, base, a)
	debugfsW(t, a, "jo", "jw -b "+blk+" "+n1, "jc")
	debugfsW(t, a, "jo", "jw -c -b "+blk+" "+n2, "jc")
	check(a, "1")
	// 2: write in transaction 1, revoked in transaction 2: the old data stays.
	b := filepath.Join(dir, "2.img")
	copyFile(t, base, b)
	debugfsW(t, b, "jo -c", "jw -b "+blk+" "+n1, "jc")
	debugfsW(t, b, "jo -c", "jw -r "+blk+" "+n2, "jc")
	check(b, "o")
	// 3: revoked, then written again later: the later write wins.
	c := filepath.Join(dir, "3.img")
	copyFile(t, b, c)
	debugfsW(t, c, "jo", "jw -b "+blk+" "+n2, "jc")
	check(c, "2")
}

// TestJournalReplayWritable: a travelkit volume that "the kernel" left with
// committed transactions is replayed to disk before travelkit writes to it.
func TestJournalReplayWritable(t *testing.T) {
	dir := t.TempDir()
	dev, base := testutil.SparseFile(t, "vol.img", 128<<20)
	if err := Format(dev, FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "b.img")
	copyFile(t, base, newer)
	src := filepath.Join(dir, "k.txt")
	os.WriteFile(src, []byte("written by the kernel\n"), 0o600)
	debugfsW(t, newer, "mkdir kernel", "write "+src+" kernel/k.txt")
	journalDiff(t, base, newer, "jo", true)
	f, err := Open(dev, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.Replayed() != 1 {
		t.Fatalf("replayed %d", f.Replayed())
	}
	if err := f.WriteFile("kernel/mine.txt", strings.NewReader("mine\n"), 5, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if out := testutil.MustTool(t, "dumpe2fs", "-h", base); strings.Contains(out, "needs_recovery") {
		t.Fatalf("needs_recovery still set")
	}
	fsck(t, base)
	if got := debugfs(t, base, "cat /kernel/k.txt"); !strings.Contains(got, "written by the kernel") {
		t.Fatalf("kernel's file: %q", got)
	}
	if got := debugfs(t, base, "cat /kernel/mine.txt"); !strings.Contains(got, "mine") {
		t.Fatalf("our file: %q", got)
	}
}

func TestRefuseErrorsAndOrphans(t *testing.T) {
	for _, cmd := range []string{"ssv state 2", "ssv last_orphan 12"} {
		dev, path := testutil.SparseFile(t, "vol.img", 64<<20)
		if err := Format(dev, FormatOptions{}); err != nil {
			t.Fatal(err)
		}
		debugfsW(t, path, cmd)
		_, err := Open(openFile(t, path, true), Options{Writable: true})
		if !errors.Is(err, ErrNeedsFsck) || !strings.Contains(err.Error(), "e2fsck -fy") {
			t.Fatalf("%s: writable open: %v", cmd, err)
		}
		f, err := Open(openFile(t, path, false), Options{})
		if err != nil || len(f.Warnings()) == 0 {
			t.Fatalf("%s: read-only open: %v %v", cmd, err, f)
		}
	}
}
