package boot_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"travelkit/boot"
	"travelkit/boot/boottest"
	"travelkit/internal/rsscheck"
)

func bundleDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := boottest.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func manifest(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, boot.BundleManifest))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseBundleRefuses(t *testing.T) {
	dir := bundleDir(t)
	good := manifest(t, dir)
	for _, c := range []struct {
		name   string
		change func(m map[string]any)
		want   string
	}{
		{"format", func(m map[string]any) { m["format"] = 2 }, "format 2"},
		{"arm64", func(m map[string]any) { m["arch"] = "arm64" }, "only amd64 boots"},
		{"dotdot", func(m map[string]any) { files(m)[0]["path"] = "boot/../../etc/passwd" }, "bad file path"},
		{"outside", func(m map[string]any) { files(m)[0]["path"] = "bin/linux-amd64/travelkit" }, "bad file path"},
		{"initrd", func(m map[string]any) { files(m)[0]["path"] = boot.InitrdPath }, "written by travelkit"},
		{"huge", func(m map[string]any) { files(m)[0]["size"] = 1 << 40 }, "bad size"},
		{"nosum", func(m map[string]any) { files(m)[0]["sha256"] = "abc" }, "or sha256"},
		{"module", func(m map[string]any) { m["modules"] = []any{"boot/modules/evil.ko"} }, "not a listed"},
		{"install", func(m map[string]any) {
			m["userspace"] = []any{map[string]any{"path": "boot/userspace/ntfs-3g", "install": "/init"}}
		}, "bad install path"},
		{"noshim", func(m map[string]any) {
			var keep []any
			for _, f := range m["files"].([]any) {
				if f.(map[string]any)["path"] != boot.ShimPath {
					keep = append(keep, f)
				}
			}
			m["files"] = keep
		}, "no EFI/BOOT/BOOTX64.EFI"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := clone(t, good)
			c.change(m)
			b, _ := json.Marshal(m)
			_, err := boot.ParseBundle(b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	if _, err := boot.ParseBundle(bytes.Repeat([]byte(" "), 2<<20)); err == nil {
		t.Error("a 2 MiB manifest was accepted")
	}
}

func files(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, f := range m["files"].([]any) {
		out = append(out, f.(map[string]any))
	}
	return out
}

func clone(t *testing.T, m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var c map[string]any
	json.Unmarshal(b, &c)
	return c
}

func TestFindAndTamperedFile(t *testing.T) {
	dir := bundleDir(t)
	parent := t.TempDir()
	if err := os.Rename(dir, filepath.Join(parent, "bootenv")); err != nil {
		t.Fatal(err)
	}
	src, err := boot.Find([]string{t.TempDir(), parent})
	if err != nil || src.Dir != filepath.Join(parent, "bootenv") {
		t.Fatalf("Find: %v, %+v", err, src)
	}
	// A kit's tools partition: bin/linux-amd64/ two levels below the bundle's root.
	kitRoot := filepath.Join(parent, "bootenv")
	binDir := filepath.Join(kitRoot, "bin", "linux-amd64")
	os.MkdirAll(binDir, 0o755)
	if s, err := boot.Find([]string{binDir}); err != nil || filepath.Clean(s.Dir) != kitRoot {
		t.Errorf("Find from a kit's bin folder: %v, %+v", err, s)
	}
	if _, err := boot.Find([]string{t.TempDir()}); err == nil {
		t.Error("Find found a bundle in an empty folder")
	}
	os.WriteFile(filepath.Join(kitRoot, boot.KernelPath), []byte("MZ evil kernel"), 0o644)
	if _, err := boot.Files(src, elf(), boot.KitInfo{KitID: "k"}); err == nil || !strings.Contains(err.Error(), "boot/vmlinuz") {
		t.Errorf("a changed bundle file: %v, want an error naming boot/vmlinuz", err)
	}
}

func elf() []byte { return []byte("\x7fELF the travelkit binary") }

// TestFiles: the boot files of a kit, and the initramfs inside, entry by entry.
func TestFiles(t *testing.T) {
	src, err := boot.Open(bundleDir(t))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	fs, err := boot.Files(src, elf(), boot.KitInfo{KitID: "amina", Created: created, Languages: []string{"ru", "en"}, Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, f := range fs {
		got[f.Path] = f.Data
	}
	for p, data := range boottest.Files {
		if !bytes.Equal(got[p], data) {
			t.Errorf("%s not carried unchanged", p)
		}
	}
	if !strings.Contains(string(got[boot.GrubCfg]), "linux /boot/vmlinuz console=ttyS0,115200 console=tty0") ||
		strings.Contains(string(got[boot.GrubCfg]), "quiet") {
		t.Errorf("grub.cfg:\n%s", got[boot.GrubCfg])
	}
	if string(got[boot.DiskInfo]) != "travelkit amina 2026-11-30\n" {
		t.Errorf(".disk/info: %q", got[boot.DiskInfo])
	}
	if _, err := boot.ParseBundle(got[boot.BundleManifest]); err != nil {
		t.Errorf("the carried bundle manifest: %v", err)
	}
	zr, err := zstd.NewReader(bytes.NewReader(got[boot.InitrdPath]))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	ents := readNewc(t, raw)
	if !bytes.Equal(ents["init"].data, elf()) || ents["init"].mode != 0o100755 {
		t.Errorf("/init: mode %o, %q", ents["init"].mode, ents["init"].data)
	}
	if ents["dev/console"].mode != 0o020600 {
		t.Errorf("/dev/console: mode %o", ents["dev/console"].mode)
	}
	if !bytes.Equal(ents["usr/bin/ntfs-3g"].data, boottest.Files["boot/userspace/ntfs-3g"]) {
		t.Error("ntfs-3g not installed at /usr/bin/ntfs-3g")
	}
	cfg, err := boot.ParseConfig(ents[strings.TrimPrefix(boot.ConfigPath, "/")].data)
	if err != nil {
		t.Fatal(err)
	}
	wantMods := []string{"/lib/modules/6.1.0-99-amd64/usb-common.ko", "/lib/modules/6.1.0-99-amd64/usb-storage.ko"}
	if cfg.KitID != "amina" || !cfg.Created.Equal(created) || strings.Join(cfg.Languages, ",") != "ru,en" ||
		strings.Join(cfg.Modules, " ") != strings.Join(wantMods, " ") || len(cfg.Fonts) != 1 {
		t.Errorf("boot config: %+v", cfg)
	}
	for _, m := range wantMods {
		if _, ok := ents[strings.TrimPrefix(m, "/")]; !ok {
			t.Errorf("module %s missing", m)
		}
	}
}

type newcEntry struct {
	mode uint32
	data []byte
}

// readNewc parses a newc archive (as the kernel does) for the test.
func readNewc(t *testing.T, b []byte) map[string]newcEntry {
	t.Helper()
	out := map[string]newcEntry{}
	hex := func(s []byte) uint32 {
		var v uint32
		for _, c := range s {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= uint32(c - '0')
			case c >= 'A' && c <= 'F':
				v |= uint32(c-'A') + 10
			}
		}
		return v
	}
	pad := func(n int) int { return (n + 3) &^ 3 }
	for off := 0; off+110 <= len(b); {
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			t.Fatalf("bad magic at %d", off)
		}
		mode, size, nameLen := hex(h[14:22]), int(hex(h[54:62])), int(hex(h[94:102]))
		name := string(b[off+110 : off+110+nameLen-1])
		dataOff := pad(off + 110 + nameLen)
		if name == "TRAILER!!!" {
			return out
		}
		out[name] = newcEntry{mode: mode, data: b[dataOff : dataOff+size]}
		off = pad(dataOff + size)
	}
	t.Fatal("no trailer")
	return nil
}

func FuzzParseBundle(f *testing.F) {
	dir := f.TempDir()
	if err := boottest.Write(dir); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, boot.BundleManifest))
	f.Add(b)
	f.Add([]byte(`{"format":1,"arch":"amd64","files":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m *boot.Bundle
		var err error
		rsscheck.AllocCap(t, 1<<20+64*uint64(len(data)), "parsing bundle.json and boot.json", func() {
			m, err = boot.ParseBundle(data)
			boot.ParseConfig(data)
		})
		if err == nil && m.Size() > 512<<20 {
			t.Fatal("accepted more than the bound")
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	cfg := boot.Config{KitID: "amina", Created: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Languages: []string{"ru", "en"},
		Modules: []string{"/lib/modules/6.1.0-99-amd64/usb-storage.ko"}, Fonts: []string{boot.FontDir + "/Uni2-Fixed16.psf"},
		ScreenFonts: []string{boot.ScreenFontDir + "/NotoSans-Regular.ttf"}, KernelVersion: "6.1.0-99-amd64", Version: "v1.2.3",
		Bundle: []boot.Package{{Name: "linux-image-amd64", Version: "6.1", Architecture: "amd64", SHA256: strings.Repeat("0", 64)}}}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"modules":null,"languages":["en","en","en"],"created":"0001-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := boot.ParseConfig(data)
		if err != nil {
			return
		}
		if len(c.Modules) > 1000 || len(c.Bundle) > 1000 || len(c.Fonts) > 16 || len(c.ScreenFonts) > 16 || len(c.Languages) > 16 {
			t.Fatalf("config beyond its bounds accepted: %d modules, %d packages", len(c.Modules), len(c.Bundle))
		}
	})
}
