package builder_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"travelkit/boot"
	"travelkit/boot/boottest"
	"travelkit/builder"
)

// bootTitle starts the boot section of the English RESTORE page.
const bootTitle = "Or start the computer from this drive"

// trustedVerify runs the full verify of a kit unlocked with pass: its layout, the tools
// partition's metadata rebuilt from the trusted manifest and compared byte for byte, and
// every file's sha256.
func trustedVerify(t *testing.T, img string, pass []byte) {
	t.Helper()
	tg, d, u := openKit(t, img, pass)
	defer closeKit(t, tg, u)
	rep, err := d.Verify(u)
	if err != nil || !rep.OK || !rep.Trusted {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

func refresh(t *testing.T, img string, pass []byte, o builder.RefreshOptions, now time.Time) (*builder.ChangeResult, error) {
	t.Helper()
	tg, d, u := openKit(t, img, pass)
	defer closeKit(t, tg, u)
	s, err := builder.NewSession(d, u, "", now)
	if err != nil {
		t.Fatal(err)
	}
	return s.Refresh(context.Background(), o)
}

func fileHash(t *testing.T, p string) [32]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// zeroAt clears the 512 bytes at off in the image (a FAT32 boot sector).
func zeroAt(t *testing.T, img string, off int64) {
	t.Helper()
	f, err := os.OpenFile(img, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, 512), off); err != nil {
		t.Fatal(err)
	}
}

// toolsLs lists the tools partition of the kit image with mtools (without them, with
// travelkit's FAT32 reader), and returns the English RESTORE page.
func toolsLs(t *testing.T, dir, img string, off int64) (string, string) {
	t.Helper()
	if !stockTools {
		files := toolsFiles(t, img)
		return listing(files), string(files["RESTORE.en.txt"])
	}
	at := img + "@@" + itoa(off)
	return sh(t, dir, "mdir", "-/", "-b", "-i", at, "::"), sh(t, dir, "mtype", "-i", at, "::RESTORE.en.txt")
}

// TestRefreshMakesBootable: a kit handed out without boot files is made bootable by
// refresh (no repartitioning), and the full verify (metadata rebuilt byte for byte from
// the trusted manifest) passes; a later refresh without a bundle at hand keeps the kit's
// own (never a changed one), and a key change carries it; a bundle too large for the tools partition is refused
// with nothing changed on disk; [boot] enable = false takes the boot files off.
func TestRefreshMakesBootable(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(t, dir)
	dist := elfDist(t, cfg.Platforms)
	bundle := filepath.Join(dir, "bundle")
	if err := boottest.Write(bundle); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "kit.img")
	p, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, Size: 200 << 20, BinaryDirs: []string{dist}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Boot != nil {
		t.Fatal("the kit was to be built without boot files")
	}
	pass := []byte("correct horse battery")
	if _, err := builder.Build(context.Background(), p, builder.BuildOptions{Passphrase: pass}); err != nil {
		t.Fatal(err)
	}
	off := p.Layout.ToolsOff
	ls, page := toolsLs(t, dir, img, off)
	if strings.Contains(ls, "BOOTX64.EFI") || strings.Contains(page, bootTitle) {
		t.Fatalf("built without a bundle, yet:\n%s", ls)
	}
	layout := partitionTable(t, dir, img)
	// plan on the kit, with a bundle: it points at refresh, which keeps the backups
	p2, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, BinaryDirs: []string{dist}, BootDir: bundle})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p2.Print(&out)
	if !strings.Contains(out.String(), "That kit does not start computers; refresh makes it bootable on its own partitions: travelkit refresh --target "+img+" --boot "+bundle) {
		t.Errorf("plan on a kit without boot files:\n%s", out.String())
	}

	// A bundle too large for the tools partition: refused, nothing written.
	big := filepath.Join(dir, "big")
	if err := boottest.WriteSized(big, 40<<20); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, img)
	_, err = refresh(t, img, pass, builder.RefreshOptions{BinaryDirs: []string{dist}, BootDir: big}, time.Now().Add(time.Hour))
	var full *builder.ToolsFullError
	if !errors.As(err, &full) || full.Boot < 40<<20 || !strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(full.Hint(), "enable = false") {
		t.Fatalf("a bundle larger than the room: %v", err)
	}
	if fileHash(t, img) != before {
		t.Fatal("a refused refresh changed the kit image")
	}

	// Refresh with the bundle: the kit boots, verify passes.
	res, err := refresh(t, img, pass, builder.RefreshOptions{BinaryDirs: []string{dist}, BootDir: bundle}, time.Now().Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Bootable || !strings.Contains(strings.Join(res.Notes, "\n"), "the kit now starts computers") {
		t.Errorf("refresh result: %+v", res)
	}
	trustedVerify(t, img, pass)
	m := verifyTools(t, img, pass)
	ls, page = toolsLs(t, dir, img, off)
	for _, want := range []string{"::/EFI/BOOT/BOOTX64.EFI", "::/EFI/BOOT/grubx64.efi", "::/.disk/info", "::/boot/grub/grub.cfg", "::/boot/initrd.img", "::/boot/bundle.json", "::/boot/vmlinuz", "::/boot/modules/usb-storage.ko"} {
		if !strings.Contains(ls, want) {
			t.Errorf("after refresh: no %s in\n%s", want, ls)
		}
	}
	var files map[string][]byte
	if !stockTools {
		files = toolsFiles(t, img)
	}
	for p, b := range boottest.Files {
		got := string(files[p])
		if stockTools {
			got = sh(t, dir, "mtype", "-i", img+"@@"+itoa(off), "::"+p)
		}
		if got != string(b) {
			t.Errorf("%s on the tools partition: %q, the bundle has %q", p, got, b)
		}
	}
	if !strings.Contains(page, bootTitle) {
		t.Error("the RESTORE page of the refreshed kit does not say it starts a computer")
	}
	if hashOf(m, boot.InitrdPath) == "" || hashOf(m, boot.ShimPath) == "" {
		t.Error("the trusted manifest does not cover the boot files")
	}
	if got := partitionTable(t, dir, img); got != layout {
		t.Errorf("the partitions changed:\n%s\n%s", layout, got)
	}
	if stockTools {
		tools := filepath.Join(dir, "tools.img")
		copyRange(t, img, tools, off, p.Layout.ToolsSize)
		if out := sh(t, dir, "fsck.vfat", "-n", tools); !strings.Contains(out, "files") {
			t.Errorf("fsck.vfat -n:\n%s", out)
		}
	} else {
		notOnWindows(t, "fsck.vfat of the refreshed tools partition")
	}

	// No bundle at hand: the kit's own is carried on, with an initramfs made anew.
	res, err = refresh(t, img, pass, builder.RefreshOptions{BinaryDirs: []string{dist}}, time.Now().Add(3*time.Hour))
	if err != nil || !res.Bootable || !strings.Contains(strings.Join(res.Notes, "\n"), "the kit's own bundle") {
		t.Fatalf("refresh without a bundle: %v %+v", err, res)
	}
	trustedVerify(t, img, pass)
	if m2 := verifyTools(t, img, pass); hashOf(m2, boot.KernelPath) != hashOf(m, boot.KernelPath) {
		t.Error("the kit's own kernel was not carried on")
	}

	// A key change carries the boot files, and the pages keep saying so.
	tg, d, u := openKit(t, img, pass)
	s, err := builder.NewSession(d, u, "", time.Now().Add(4*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := s.ChangePassphrase(context.Background(), []byte("new passphrase"), ""); err != nil || !res.Bootable {
		t.Fatalf("passphrase change: %v", err)
	}
	closeKit(t, tg, u)
	pass = []byte("new passphrase")
	trustedVerify(t, img, pass)
	if ls, page = toolsLs(t, dir, img, off); !strings.Contains(ls, "::/boot/initrd.img") || !strings.Contains(page, bootTitle) {
		t.Errorf("after a key change: boot files or the pages' boot section lost:\n%s", ls)
	}

	// A boot file changed behind the kit's back is never carried on: without a bundle at
	// hand the refresh leaves the boot files out and says why; --boot puts them back. The
	// same for a tools partition left unreadable (as by an interrupted write).
	evil := filepath.Join(dir, "vmlinuz")
	os.WriteFile(evil, []byte("MZ kernel STAND-IN"), 0o644) // the size of the original: the sha256 tells
	changeOnTools(t, dir, img, off, p.Layout.ToolsSize, evil, "boot/vmlinuz")
	res, err = refresh(t, img, pass, builder.RefreshOptions{BinaryDirs: []string{dist}}, time.Now().Add(5*time.Hour))
	if err != nil || res.Bootable || !strings.Contains(strings.Join(res.Notes, "\n"), "boot/vmlinuz: differs from the trusted manifest") {
		t.Fatalf("refresh of a kit with a changed kernel: %v %+v", err, res)
	}
	trustedVerify(t, img, pass)
	if ls, _ = toolsLs(t, dir, img, off); strings.Contains(ls, "::/boot/") {
		t.Errorf("a changed kernel was carried on:\n%s", ls)
	}
	if res, err = refresh(t, img, pass, builder.RefreshOptions{BinaryDirs: []string{dist}, BootDir: bundle}, time.Now().Add(6*time.Hour)); err != nil || !res.Bootable {
		t.Fatalf("refresh --boot: %v", err)
	}
	zeroAt(t, img, off)
	res, err = refresh(t, img, pass, builder.RefreshOptions{BinaryDirs: []string{dist}}, time.Now().Add(7*time.Hour))
	if err != nil || res.Bootable || !strings.Contains(strings.Join(res.Notes, "\n"), "the tools partition cannot be read") {
		t.Fatalf("refresh of a kit whose tools partition cannot be read: %v %+v", err, res)
	}
	trustedVerify(t, img, pass)
	if res, err = refresh(t, img, pass, builder.RefreshOptions{BinaryDirs: []string{dist}, BootDir: bundle}, time.Now().Add(8*time.Hour)); err != nil || !res.Bootable {
		t.Fatalf("refresh --boot: %v", err)
	}

	// [boot] enable = false takes them off again.
	off2 := false
	prof := cfg
	prof.Boot.Enable = &off2
	res, err = refresh(t, img, pass, builder.RefreshOptions{BinaryDirs: []string{dist}, BootDir: bundle, Profile: &prof}, time.Now().Add(9*time.Hour))
	if err != nil || res.Bootable || !strings.Contains(strings.Join(res.Notes, "\n"), "no longer starts a computer") {
		t.Fatalf("refresh with enable = false: %v %+v", err, res)
	}
	trustedVerify(t, img, pass)
	if ls, page = toolsLs(t, dir, img, off); strings.Contains(ls, "::/boot/") || strings.Contains(ls, "::/EFI/") || strings.Contains(page, bootTitle) {
		t.Errorf("enable = false left boot files:\n%s", ls)
	}
}
