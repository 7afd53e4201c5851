package boot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
)

// File is one file the tools partition gets for booting.
type File struct {
	Path string // relative to the partition root
	Data []byte
}

// KitInfo is what the boot files say about the kit.
type KitInfo struct {
	KitID     string
	Created   time.Time
	Languages []string // the profile's [boot] languages
	Version   string   // travelkit version
}

// Files returns every file the tools partition needs to boot: the bundle's files at their
// own paths (its manifest included, so that a kit built from this kit carries the bundle
// on), /.disk/info, boot/grub/grub.cfg and boot/initrd.img, built from linuxBinary (the
// linux/amd64 travelkit, which runs as /init). Every bundle file is checked against the
// bundle's manifest as it is read.
func Files(src *Source, linuxBinary []byte, info KitInfo) ([]File, error) {
	b := src.Bundle
	var out []File
	data := map[string][]byte{}
	for _, f := range b.Files {
		d, err := src.ReadFile(f.Path)
		if err != nil {
			return nil, err
		}
		data[f.Path] = d
		out = append(out, File{Path: f.Path, Data: d})
	}
	manifest, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	out = append(out, File{Path: BundleManifest, Data: append(manifest, '\n')})
	initrd, err := initramfs(b, data, linuxBinary, info)
	if err != nil {
		return nil, err
	}
	out = append(out,
		File{Path: InitrdPath, Data: initrd},
		File{Path: GrubCfg, Data: grubConfig(info)},
		File{Path: DiskInfo, Data: []byte(fmt.Sprintf("travelkit %s %s\n", info.KitID, info.Created.UTC().Format("2006-01-02")))},
	)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// KernelCommandLine is the kernel's command line: the screen and the first serial port
// (the last console= is /dev/console; the menu draws on both itself), no "quiet" and no
// lowered loglevel, so that the kernel's Secure Boot and lockdown lines reach the serial
// console. The boot environment lowers the console log level once it runs, so that
// later kernel messages do not scribble over the menu.
const KernelCommandLine = "console=ttyS0,115200 console=tty0 panic=30"

func grubConfig(info KitInfo) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# travelkit %s: boot menu for kit %s (written by travelkit build)\n", info.Version, info.KitID)
	b.WriteString("set timeout=2\nset default=0\n")
	b.WriteString("insmod all_video\nterminal_output console\n")
	fmt.Fprintf(&b, "menuentry \"travelkit %s: restore and rescue\" {\n", info.KitID)
	fmt.Fprintf(&b, "\tlinux /%s %s\n\tinitrd /%s\n}\n", KernelPath, KernelCommandLine, InitrdPath)
	fmt.Fprintf(&b, "menuentry \"travelkit %s: restore and rescue (basic graphics)\" {\n", info.KitID)
	fmt.Fprintf(&b, "\tlinux /%s %s nomodeset\n\tinitrd /%s\n}\n", KernelPath, KernelCommandLine, InitrdPath)
	b.WriteString("menuentry \"Power off\" {\n\thalt\n}\n")
	return b.Bytes()
}

// initramfs builds boot/initrd.img, zstd-compressed: /init (the travelkit binary), the modules in load
// order, the console and screen fonts, the userspace programs, /etc/travelkit/boot.json, and the two device
// nodes the kernel needs before devtmpfs is mounted.
func initramfs(b *Bundle, data map[string][]byte, linuxBinary []byte, info KitInfo) ([]byte, error) {
	if len(linuxBinary) < 4 || string(linuxBinary[:4]) != "\x7fELF" {
		return nil, fmt.Errorf("the linux/amd64 travelkit binary is not an ELF executable")
	}
	a := NewArchive()
	a.AddCharDev("/dev/console", 0o600, 5, 1)
	a.AddCharDev("/dev/null", 0o666, 1, 3)
	a.AddFile("/init", 0o755, linuxBinary)
	cfg := Config{KitID: info.KitID, Created: info.Created.UTC(), Languages: info.Languages,
		KernelVersion: b.KernelVersion, Version: info.Version, Bundle: b.Packages}
	for _, m := range b.Modules {
		p := "/lib/modules/" + b.KernelVersion + "/" + path.Base(m)
		a.AddFile(p, 0o644, data[m])
		cfg.Modules = append(cfg.Modules, p)
	}
	for _, f := range b.Files {
		if !strings.HasPrefix(f.Path, "boot/fonts/") {
			continue
		}
		switch name := path.Base(f.Path); {
		case strings.HasSuffix(name, ".ttf") || strings.HasSuffix(name, ".otf"):
			p := ScreenFontDir + "/" + name
			a.AddFile(p, 0o644, data[f.Path])
			cfg.ScreenFonts = append(cfg.ScreenFonts, p)
		case strings.Contains(name, ".psf"):
			p := FontDir + "/" + name
			a.AddFile(p, 0o644, data[f.Path])
			cfg.Fonts = append(cfg.Fonts, p)
		}
		// anything else (the fonts' licence) stays on the tools partition only
	}
	for _, u := range b.Userspace {
		a.AddFile(u.Install, 0o755, data[u.Path])
	}
	c, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	a.AddFile(ConfigPath, 0o644, c)
	// zstd, which the kernel unpacks fast: a third of the size to read from a USB stick.
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	if err := a.Write(zw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
