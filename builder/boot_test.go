package builder_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"travelkit/boot"
	"travelkit/boot/boottest"
	"travelkit/builder"
	"travelkit/drive"
	"travelkit/kit"
	"travelkit/profile"
)

// elfDist is a binaries folder whose linux/amd64 binary looks like an ELF executable.
func elfDist(t *testing.T, platforms []string) string {
	dir := fakeDist(t, platforms)
	p := filepath.Join(dir, "travelkit-linux-amd64")
	b, err := os.ReadFile(p)
	if err == nil {
		copy(b, "\x7fELF")
		err = os.WriteFile(p, b, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPlanBoot(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(t, dir)
	cfg.Escrow, cfg.RecoveryKey = nil, true
	dist := elfDist(t, cfg.Platforms)
	bundle := filepath.Join(dir, "bundle")
	if err := boottest.Write(bundle); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "kit.img")
	on, off := true, false

	// No bundle anywhere: built as before, and the plan says why it will not boot.
	p, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, Size: 256 << 20, BinaryDirs: []string{dist}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p.Print(&out)
	if p.Boot != nil || !strings.Contains(out.String(), "this kit will NOT start a computer: no boot bundle was found (make bootenv") {
		t.Errorf("plan without a bundle:\n%s", out.String())
	}
	// enable = true requires one; enable = false turns a found one down.
	cfg.Boot.Enable = &on
	if _, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, Size: 256 << 20, BinaryDirs: []string{dist}}); err == nil || !strings.Contains(err.Error(), "no boot bundle") {
		t.Errorf("enable = true without a bundle: %v", err)
	}
	cfg.Boot.Enable = &off
	if p, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, Size: 256 << 20, BinaryDirs: []string{dist}, BootDir: bundle}); err != nil || p.Boot != nil || !strings.Contains(p.NoBoot, "enable = false") {
		t.Errorf("enable = false: %v, %+v", err, p)
	}
	cfg.Boot.Enable = nil
	// No linux/amd64 binary: nothing to run as /init.
	win := cfg
	win.Platforms = []string{"windows/amd64"}
	if p, err := builder.MakePlan(win, builder.PlanOptions{Target: img, Size: 256 << 20, BinaryDirs: []string{dist, bundle}}); err != nil || p.Boot != nil || !strings.Contains(p.NoBoot, "linux/amd64") {
		t.Errorf("without linux/amd64: %v, %+v", err, p)
	}
	// A broken bundle is an error, not a silent kit that does not boot.
	bad := filepath.Join(dir, "bad")
	boottest.Write(bad)
	os.WriteFile(filepath.Join(bad, "boot", "vmlinuz"), []byte("changed"), 0o644)
	if _, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, Size: 256 << 20, BinaryDirs: []string{dist}, BootDir: bad}); err == nil || !strings.Contains(err.Error(), "boot/vmlinuz") {
		t.Errorf("a changed bundle file: %v", err)
	}
}

// TestBuildBootable: the boot files on the tools partition, covered by the manifest; a
// tampered boot file named by verify; and a kit built from this kit carries the bundle on.
func TestBuildBootable(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(t, dir)
	dist := elfDist(t, cfg.Platforms)
	bundle := filepath.Join(dir, "bundle")
	if err := boottest.Write(bundle); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "kit.img")
	p, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, Size: 256 << 20, BinaryDirs: []string{dist}, BootDir: bundle})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p.Print(&out)
	if p.Boot == nil || !strings.Contains(out.String(), "Secure Boot can") || !strings.Contains(out.String(), "EFI/, boot/, .disk/") {
		t.Fatalf("plan:\n%s", out.String())
	}
	pass := []byte("correct horse battery")
	if _, err := builder.Build(context.Background(), p, builder.BuildOptions{Passphrase: pass}); err != nil {
		t.Fatal(err)
	}
	l := p.Layout
	tools := filepath.Join(dir, "tools.img")
	var ls, sums string
	var files map[string][]byte
	if stockTools {
		copyRange(t, img, tools, l.ToolsOff, l.ToolsSize)
		if out := sh(t, dir, "fsck.vfat", "-n", tools); !strings.Contains(out, "files") {
			t.Errorf("fsck.vfat -n:\n%s", out)
		}
		ls = sh(t, dir, "mdir", "-/", "-b", "-i", tools, "::")
		sums = sh(t, dir, "mtype", "-i", tools, "::SHA256SUMS")
	} else {
		notOnWindows(t, "fsck.vfat of the tools partition")
		files = toolsFiles(t, img)
		ls, sums = listing(files), string(files["SHA256SUMS"])
		checkSums(t, files)
	}
	for _, want := range []string{"::/EFI/BOOT/BOOTX64.EFI", "::/EFI/BOOT/grubx64.efi", "::/.disk/info", "::/boot/grub/grub.cfg", "::/boot/initrd.img", "::/boot/bundle.json", "::/boot/modules/usb-storage.ko"} {
		if !strings.Contains(ls, want) {
			t.Errorf("mdir: no %s in\n%s", want, ls)
		}
	}
	for _, want := range []string{"  EFI/BOOT/BOOTX64.EFI", "  boot/initrd.img", "  boot/vmlinuz", "  .disk/info"} {
		if !strings.Contains(sums, want) {
			t.Errorf("SHA256SUMS lacks %s", want)
		}
	}

	// A kit built from this kit: its tools partition, copied out, is the binaries folder.
	kitDir := filepath.Join(dir, "kitfiles")
	if stockTools {
		sh(t, dir, "mcopy", "-s", "-i", tools, "::", kitDir)
	} else {
		extractTools(t, files, kitDir)
	}
	p2, err := builder.MakePlan(cfg, builder.PlanOptions{Target: filepath.Join(dir, "kit2.img"), Size: 256 << 20,
		BinaryDirs: []string{filepath.Join(kitDir, "bin", "linux-amd64")}})
	if err != nil {
		t.Fatal(err)
	}
	if p2.Boot == nil || filepath.Clean(p2.Boot.Dir) != kitDir {
		t.Errorf("a kit built from a kit does not carry the bundle on: %+v, %q", p2.Boot, p2.NoBoot)
	}

	// A boot file changed on the tools partition: verify names it.
	evil := filepath.Join(dir, "initrd.img")
	os.WriteFile(evil, []byte("an initramfs that logs keys"), 0o644)
	changeOnTools(t, dir, img, l.ToolsOff, l.ToolsSize, evil, boot.InitrdPath)
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := drive.Open(fileDev{f, l.DiskSize})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := d.Verify(nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Differences) != 1 || rep.Differences[0].Path != boot.InitrdPath {
		t.Errorf("verify after changing boot/initrd.img: %+v", rep)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The default tools_size holds the binaries of all six platforms and a boot bundle, each
// larger than the real ones (binaries ~11 MB, bundle ~25 MB, initramfs ~8 MB), with room.
func TestDefaultToolsSizeHoldsBootAndAllPlatforms(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(t, dir)
	cfg.ToolsSize = profile.DefaultToolsSize
	cfg.Platforms = kit.Platforms()
	dist := t.TempDir()
	for _, p := range cfg.Platforms {
		name := "travelkit-" + strings.ReplaceAll(p, "/", "-")
		if strings.HasPrefix(p, "windows") {
			name += ".exe"
		}
		b := make([]byte, 16<<20) // zeros: the initramfs compresses it; the partition holds it whole
		copy(b, "\x7fELF")
		rand.Read(b[4 : 8<<20]) // half incompressible
		if err := os.WriteFile(filepath.Join(dist, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bundle := filepath.Join(dir, "bundle")
	if err := boottest.WriteSized(bundle, 40<<20); err != nil {
		t.Fatal(err)
	}
	p, err := builder.MakePlan(cfg, builder.PlanOptions{Target: filepath.Join(dir, "kit.img"), Size: 1 << 30, BinaryDirs: []string{dist}, BootDir: bundle})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range p.Files {
		total += max(f.Size, 0)
	}
	room := p.Layout.ToolsSize - total
	t.Logf("tools partition %d MiB: files %d MiB, %d MiB to spare", p.Layout.ToolsSize>>20, total>>20, room>>20)
	if p.Boot == nil || room < 32<<20 {
		t.Errorf("the default tools partition has %d MiB to spare with the boot bundle and six platforms", room>>20)
	}
}
