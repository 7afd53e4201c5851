package builder

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"travelkit/boot"
	"travelkit/kit"
)

// bootPlatform is the binary the boot environment runs.
const bootPlatform = "linux/amd64"

// planBoot finds the boot bundle: --boot DIR, else beside the binaries (dist/bootenv, or
// the tools partition of the kit this program runs from). Without one, or with [boot]
// enable = false, the kit is built as before and NoBoot says why; with enable = true a
// missing bundle is an error.
func (p *Plan) planBoot(bootDir string, binaryDirs []string) error {
	b := p.Config.Boot
	required := b.Enable != nil && *b.Enable
	if b.Enable != nil && !*b.Enable {
		p.NoBoot = "the profile turns it off ([boot] enable = false)"
		return nil
	}
	var src *boot.Source
	var err error
	if bootDir != "" {
		src, err = boot.Open(bootDir)
	} else {
		src, err = boot.Find(append(binaryDirs, "dist"))
	}
	if err != nil {
		if errors.Is(err, boot.ErrNoBundle) && !required && bootDir == "" {
			p.NoBoot = "no boot bundle was found (make bootenv gathers one into dist/bootenv; or give --boot DIR)"
			return nil
		}
		return err
	}
	if p.linuxBinary() == nil {
		if required || bootDir != "" {
			return fmt.Errorf("the boot menu runs the %s binary, which [tools] platforms leave out: add %q", bootPlatform, bootPlatform)
		}
		p.NoBoot = fmt.Sprintf("the boot menu runs the %s binary, which [tools] platforms leave out", bootPlatform)
		return nil
	}
	p.Boot = src
	return nil
}

func (p *Plan) linuxBinary() *Binary {
	for i := range p.Binaries {
		if p.Binaries[i].Platform == bootPlatform {
			return &p.Binaries[i]
		}
	}
	return nil
}

// isBootFile says whether a tools partition path belongs to the boot chain.
func isBootFile(p string) bool {
	return strings.HasPrefix(p, "EFI/") || strings.HasPrefix(p, "boot/") || strings.HasPrefix(p, ".disk/")
}

// bootFiles are the boot bundle's files, the initramfs and grub's config, for the tools
// partition; manifest.json and SHA256SUMS cover them like every other file.
func (p *Plan) bootFiles() ([]File, error) {
	bin := p.linuxBinary()
	data, err := os.ReadFile(bin.Path)
	if err != nil {
		return nil, err
	}
	langs := p.Config.Boot.Languages
	if len(langs) == 0 {
		langs = p.Config.Languages
	}
	files, err := boot.Files(p.Boot, data, boot.KitInfo{KitID: p.Config.Name, Created: p.Created, Languages: langs, Version: p.Version})
	if err != nil {
		return nil, err
	}
	var out []File
	for _, f := range files {
		if f.Path == kit.ManifestName || f.Path == kit.SumsName {
			return nil, fmt.Errorf("boot bundle: %s is the kit's own", f.Path)
		}
		out = append(out, File{Path: f.Path, Size: int64(len(f.Data)), data: f.Data})
	}
	return out, nil
}
