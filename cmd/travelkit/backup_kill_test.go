package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupKilledMidPack kills a backup into a kit while it writes a pack (between two
// allocation steps of its temporary file), after the pack is complete but before it is
// renamed, and between its new name and the removal of the temporary one. Each time the
// kit's repository passes travelkit check --read-data and restic 0.14's check
// --read-data with the temporary file present; the next backup removes it, and the
// volume then satisfies e2fsck -fn (no leaked blocks or inodes, no stray names).
func TestBackupKilledMidPack(t *testing.T) {
	bin := buildVersioned(t, "v1.0.0")
	dir := t.TempDir()
	k := writeEscrowTestKit(t, dir, "life-kit")
	p := func(n string) string { return filepath.Join(dir, n) }
	base := p("base.img")
	mustTK(t, bin, k.buildArgs(base, "200MiB", "--recovery-key-file", p("rk"), "--escrow-dir", p("handover"))...)
	mustTK(t, bin, "backup", "--target", base, "--passphrase-file", p("pass"), p("src"))
	for i := 0; i < 2; i++ {
		b := make([]byte, 20<<20)
		rand.Read(b)
		os.WriteFile(filepath.Join(p("src"), fmt.Sprintf("big%d.bin", i)), b, 0o600)
	}
	tmpNames := func(plain string) string {
		out, err := exec.Command("debugfs", "-R", "ls repo/data/00", plain).CombinedOutput()
		if err != nil {
			t.Fatalf("debugfs: %v\n%s", err, out)
		}
		return string(out)
	}
	for i, step := range []string{"ext4: stream grown#2", "ext4: stream complete#1", "ext4: stream renamed#1"} {
		img := p(fmt.Sprintf("kill%d.img", i))
		copySparse(t, base, img)
		killedAt(t, bin, step, "backup", "--target", img, "--passphrase-file", p("pass"), p("src"))
		plain := plainVolume(t, bin, img, p("pass"))
		if ls := tmpNames(plain); !strings.Contains(ls, "stream-tmp-") {
			t.Fatalf("killed at %q: no temporary file in repo/data/00:\n%s", step, ls)
		}
		os.RemoveAll(filepath.Dir(plain))
		mustTK(t, bin, "check", "--target", img, "--passphrase-file", p("pass"), "--read-data")
		// the killed backup's lock stays (restic's check wants an exclusive lock): as a
		// person would, remove it first
		mustTK(t, bin, "unlock", "--target", img, "--passphrase-file", p("pass"))
		resticCheck(t, bin, img, p("pass"))

		mustTK(t, bin, "backup", "--target", img, "--passphrase-file", p("pass"), p("src"))
		plain = plainVolume(t, bin, img, p("pass"))
		if ls := tmpNames(plain); strings.Contains(ls, "stream-tmp-") {
			t.Fatalf("killed at %q, then backed up: temporary file left:\n%s", step, ls)
		}
		if out, err := exec.Command("e2fsck", "-fn", plain).CombinedOutput(); err != nil {
			t.Fatalf("killed at %q, then backed up: e2fsck -fn: %v\n%s", step, err, out)
		}
		os.RemoveAll(filepath.Dir(plain))
		mustTK(t, bin, "check", "--target", img, "--passphrase-file", p("pass"), "--read-data")
		resticCheck(t, bin, img, p("pass"))
		os.Remove(img)
	}
}

// TestFolderBackupKilledMidPack kills a backup into a folder while it writes a pack:
// the partial pack stays as data/00/stream-tmp-*, and the next backup (alone on the
// repository) removes it, as the kit's storage does.
func TestFolderBackupKilledMidPack(t *testing.T) {
	bin := buildVersioned(t, "v1.0.0")
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	os.WriteFile(p("pw"), []byte("repo password\n"), 0o600)
	os.MkdirAll(p("src"), 0o755)
	os.WriteFile(filepath.Join(p("src"), "small.txt"), []byte("first\n"), 0o644)
	where := []string{"--repo", p("repo"), "--password-file", p("pw")}
	mustTK(t, bin, append([]string{"init"}, where...)...)
	mustTK(t, bin, append(append([]string{"backup"}, where...), p("src"))...)
	b := make([]byte, 20<<20)
	rand.Read(b)
	os.WriteFile(filepath.Join(p("src"), "big.bin"), b, 0o600)
	temps := func() []string {
		m, _ := filepath.Glob(filepath.Join(p("repo"), "data", "00", "stream-tmp-*"))
		return m
	}
	killedAt(t, bin, "repo: folder stream written#3", append(append([]string{"backup"}, where...), p("src"))...)
	if len(temps()) == 0 {
		t.Fatal("killed mid-pack: no data/00/stream-tmp-* left (the kill did not land in a pack)")
	}
	mustTK(t, bin, append(append([]string{"backup"}, where...), p("src"))...)
	if left := temps(); len(left) != 0 {
		t.Fatalf("the next backup left the killed one's partial packs: %v", left)
	}
	mustTK(t, bin, append([]string{"check", "--read-data"}, where...)...)
}

// TestKitBackupNearlyFull backs up into a kit data that fits in its encrypted volume with
// 10 MiB to spare, in 9 MiB files: several packs are written at once, each given blocks
// in steps of 24 MiB, and the backup must not stop for blocks given to a pack and not
// yet written (as a rerun after a killed backup once did at load 35, "the kit is full:
// 24 KiB free"). The volume then satisfies e2fsck -fn and the repository check --read-data.
func TestKitBackupNearlyFull(t *testing.T) {
	bin := buildVersioned(t, "v1.0.0")
	dir := t.TempDir()
	k := writeEscrowTestKit(t, dir, "life-kit")
	p := func(n string) string { return filepath.Join(dir, n) }
	img := p("kit.img")
	mustTK(t, bin, k.buildArgs(img, "200MiB", "--recovery-key-file", p("rk"), "--escrow-dir", p("handover"))...)
	mustTK(t, bin, "backup", "--target", img, "--passphrase-file", p("pass"), p("src"))
	plain := plainVolume(t, bin, img, p("pass"))
	out, err := exec.Command("dumpe2fs", "-h", plain).CombinedOutput()
	if err != nil {
		t.Fatalf("dumpe2fs: %v\n%s", err, out)
	}
	os.RemoveAll(filepath.Dir(plain))
	var freeBlocks, blockSize int64
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Free blocks:"); ok {
			fmt.Sscan(v, &freeBlocks)
		}
		if v, ok := strings.CutPrefix(l, "Block size:"); ok {
			fmt.Sscan(v, &blockSize)
		}
	}
	free := freeBlocks * blockSize
	if free < 40<<20 {
		t.Fatalf("%d bytes free in the kit's volume, want at least 40 MiB:\n%s", free, out)
	}
	for i, left := 0, free-10<<20; left > 0; i++ {
		b := make([]byte, min(left, 9<<20))
		rand.Read(b)
		if err := os.WriteFile(filepath.Join(p("src"), fmt.Sprintf("big%d.bin", i)), b, 0o600); err != nil {
			t.Fatal(err)
		}
		left -= int64(len(b))
	}
	t.Logf("%d MiB free in the kit's volume, %d MiB of new data", free>>20, (free-10<<20)>>20)
	mustTK(t, bin, "backup", "--target", img, "--passphrase-file", p("pass"), p("src"))
	plain = plainVolume(t, bin, img, p("pass"))
	if out, err := exec.Command("e2fsck", "-fn", plain).CombinedOutput(); err != nil {
		t.Fatalf("e2fsck -fn: %v\n%s", err, out)
	}
	os.RemoveAll(filepath.Dir(plain))
	mustTK(t, bin, "check", "--target", img, "--passphrase-file", p("pass"), "--read-data")
}
