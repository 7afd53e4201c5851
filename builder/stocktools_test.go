package builder_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"travelkit/image/fat32"
)

// stockTools says whether this platform has the stock tools the tests check a built kit
// with, independently of travelkit's own readers: sgdisk, fsck.vfat, fatlabel, mtools,
// sha256sum, cryptsetup, e2fsck, debugfs and python3 with luks/testdata/xts.py. They are
// Linux programs: cryptsetup, dosfstools and e2fsprogs exist only there, and mtools and
// gdisk have no Windows build that Debian ships (the Windows tests run under Wine, built
// by `make test` on Debian). On Windows the same tests build the kit with the Windows code
// paths and check it with travelkit's own readers (drive.Open: the GPT; ToolsFS: the
// FAT32; Unlock: the LUKS2 header and the ext4 inside; age.exe for the escrow files); the
// stock tools' checks of the same kits run in the Linux suite.
var stockTools = runtime.GOOS != "windows"

// notOnWindows logs what a test leaves to the Linux suite on Windows.
func notOnWindows(t *testing.T, what string) {
	t.Helper()
	t.Logf("on %s: %s is checked in the Linux suite (Linux tools, no Windows build)", runtime.GOOS, what)
}

// toolsFiles reads every file of the kit image's tools partition with travelkit's FAT32
// reader: slash-separated paths, folders with a trailing slash and nil content.
func toolsFiles(t *testing.T, img string) map[string][]byte {
	t.Helper()
	d, close := openReadOnly(t, img)
	defer close()
	fs, err := d.ToolsFS()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	err = fs.Walk(func(p string, e fat32.Entry) error {
		if e.IsDir {
			files[p+"/"] = nil
			return nil
		}
		b, err := fs.ReadFile(p, 1<<30)
		files[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// listing is files' paths one a line as `mdir -/ -b` prints them: "::/path".
func listing(files map[string][]byte) string {
	var ls []string
	for p := range files {
		ls = append(ls, "::/"+strings.TrimSuffix(p, "/"))
	}
	sort.Strings(ls)
	return strings.Join(ls, "\n") + "\n"
}

// extractTools copies the tools partition's files into dir, as `mcopy -s` does.
func extractTools(t *testing.T, files map[string][]byte, dir string) {
	t.Helper()
	for p, b := range files {
		dst := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(p, "/")))
		if b == nil && strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkSums checks every line of SHA256SUMS against the file it names, as
// `sha256sum --strict -c` does.
func checkSums(t *testing.T, files map[string][]byte) {
	t.Helper()
	sums, ok := files["SHA256SUMS"]
	if !ok {
		t.Fatal("no SHA256SUMS on the tools partition")
	}
	n := 0
	for _, line := range strings.Split(strings.TrimRight(string(sums), "\n"), "\n") {
		sum, p, ok := strings.Cut(line, "  ")
		b, there := files[p]
		got := sha256.Sum256(b)
		if !ok || !there || hex.EncodeToString(got[:]) != sum {
			t.Errorf("SHA256SUMS: %q does not match the tools partition", line)
		}
		n++
	}
	if n == 0 {
		t.Error("SHA256SUMS is empty")
	}
}

// changeOnTools changes the file p on the kit image's tools partition (at off) behind
// travelkit's back: with mtools, its content becomes that of the file local; without
// them, local's bytes are written over the file's first bytes in place, found by their
// content (a built tools partition holds it once, in plain).
func changeOnTools(t *testing.T, dir, img string, off, size int64, local, p string) {
	t.Helper()
	if stockTools {
		sh(t, dir, "mcopy", "-o", "-i", img+"@@"+itoa(off), local, "::"+p)
		return
	}
	evil, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	was, ok := toolsFiles(t, img)[p]
	if !ok || len(was) < len(evil) {
		t.Fatalf("%s: not on the tools partition, or shorter than %d bytes", p, len(evil))
	}
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	part := make([]byte, size)
	if _, err := f.ReadAt(part, off); err != nil {
		t.Fatal(err)
	}
	head := was[:min(len(was), 4096)]
	at := bytes.Index(part, head)
	if at < 0 || bytes.Index(part[at+1:], head) >= 0 {
		t.Fatalf("%s: its first bytes are not on the tools partition once", p)
	}
	if _, err := f.WriteAt(evil, off+int64(at)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// partitionTable is the kit image's partition table: `sgdisk -p`, or without it the bytes
// of the primary and the backup GPT (LBA 1-33 and the last 33 sectors).
func partitionTable(t *testing.T, dir, img string) string {
	t.Helper()
	if stockTools {
		return sh(t, dir, "sgdisk", "-p", img)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	const sector = 512
	primary, backup := make([]byte, 33*sector), make([]byte, 33*sector)
	if _, err := f.ReadAt(primary, sector); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(backup, st.Size()-33*sector); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(primary) + "\n" + hex.EncodeToString(backup)
}
