package builder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"travelkit/boot"
	"travelkit/i18n"
	"travelkit/kit"
)

// bootPlatform is the binary the boot environment runs.
const bootPlatform = "linux/amd64"

// planBoot finds the boot bundle: --boot DIR, else beside the binaries (dist/bootenv, or
// the tools partition of the kit this program runs from). Without one, or with [boot]
// enable = false, the kit is built as before and NoBoot says why; with enable = true a
// missing bundle is an error.
func (p *Plan) planBoot(bootDir string, binaryDirs []string) error {
	src, noBoot, err := findBoot(p.Config.Boot, bootDir, binaryDirs, p.linuxBinary() != nil, nil)
	if err != nil {
		return err
	}
	p.Boot, p.NoBootMsg = src, noBoot
	if noBoot.Key != "" {
		p.NoBoot = noBoot.In(i18n.New("en"))
	}
	return nil
}

// findBoot chooses the boot bundle of a kit being built or refreshed: bootDir (--boot)
// when given, else the first found among binaryDirs and ./dist, else what fallback gives
// (a refreshed kit's own bundle; nil: none). With no bundle, or [boot] enable = false, it
// returns no source and the reason the kit will not boot; with enable = true or --boot, a
// missing or broken bundle, or no linux/amd64 binary to run as /init, is an error.
func findBoot(b Boot, bootDir string, binaryDirs []string, hasLinux bool, fallback func() (*boot.Source, error)) (*boot.Source, i18n.Message, error) {
	required := b.Enable != nil && *b.Enable
	if b.Enable != nil && !*b.Enable {
		return nil, i18n.M("cli.plan.noboot_off", "[boot] enable = false"), nil
	}
	var src *boot.Source
	var err error
	if bootDir != "" {
		src, err = boot.Open(bootDir)
	} else {
		src, err = boot.Find(slices.Concat(binaryDirs, []string{"dist"}))
		if errors.Is(err, boot.ErrNoBundle) && fallback != nil {
			var own *boot.Source
			if own, err = fallback(); err == nil && own == nil {
				err = boot.ErrNoBundle
			}
			src = own
		}
	}
	if err != nil {
		if errors.Is(err, boot.ErrNoBundle) && !required && bootDir == "" {
			return nil, i18n.M("cli.plan.noboot_none", "make bootenv", "dist/bootenv", "--boot DIR"), nil
		}
		return nil, i18n.Message{}, err
	}
	if !hasLinux {
		if required || bootDir != "" {
			return nil, i18n.Message{}, fmt.Errorf("the boot menu runs the %s binary, which [tools] platforms leave out: add %q", bootPlatform, bootPlatform)
		}
		return nil, i18n.M("cli.plan.noboot_linux", bootPlatform, "[tools] platforms"), nil
	}
	return src, i18n.Message{}, nil
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
	langs := p.Config.Boot.Languages
	if len(langs) == 0 {
		langs = p.Config.Languages
	}
	return bootFileList(p.Boot, p.linuxBinary().Path, boot.KitInfo{KitID: p.Config.Name, Created: p.Created, Languages: langs, Version: p.Version})
}

// bootFileList makes the boot files from src, with the linux/amd64 binary at linuxPath as
// the initramfs's /init.
func bootFileList(src *boot.Source, linuxPath string, info boot.KitInfo) ([]File, error) {
	data, err := os.ReadFile(linuxPath)
	if err != nil {
		return nil, err
	}
	files, err := boot.Files(src, data, info)
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

// bootable says whether files hold a boot bundle.
func bootable(files []File) bool {
	return slices.ContainsFunc(files, func(f File) bool { return f.Path == boot.BundleManifest })
}

// refreshBoot returns the boot files of a kit being refreshed (none when it will not
// boot) and a note saying what became of them. The bundle is the one findBoot chooses;
// when none is found beside the binaries, a bootable kit keeps its own (staged into dir
// from the tools partition, each file checked against the trusted manifest and the
// bundle's manifest), and gets a new initramfs with this travelkit.
func (s *Session) refreshBoot(o RefreshOptions, trusted, m *kit.Manifest, bins []Binary, binaryDirs []string, dir string) ([]File, i18n.Message, error) {
	var b Boot
	if o.Profile != nil {
		b = o.Profile.Boot
	}
	var linux *Binary
	for i := range bins {
		if bins[i].Platform == bootPlatform {
			linux = &bins[i]
		}
	}
	had := slices.ContainsFunc(trusted.Files, func(f kit.File) bool { return f.Path == boot.BundleManifest })
	// The kit's own bundle, when it cannot be carried (a tools partition an interrupted
	// write left unreadable, a boot file changed behind the kit's back), is left out with
	// a note rather than stopping the refresh: it may be completing an interrupted change.
	var ownErr error
	own := func() (*boot.Source, error) {
		src, err := s.kitBundle(trusted, dir)
		if err != nil {
			ownErr = err
			return nil, nil
		}
		return src, nil
	}
	src, noBoot, err := findBoot(b, o.BootDir, binaryDirs, linux != nil, own)
	if err != nil {
		if ownErr != nil {
			return nil, i18n.Message{}, fmt.Errorf("%w; and the kit's own boot files cannot be carried on: %v", err, ownErr)
		}
		return nil, i18n.Message{}, err
	}
	if src == nil {
		if ownErr != nil {
			return nil, i18n.M("cli.change.note_boot_lost", ownErr.Error()), nil
		}
		if had {
			return nil, i18n.M("cli.change.note_boot_removed", noBoot), nil
		}
		return nil, i18n.M("cli.change.note_no_boot", noBoot), nil
	}
	langs := b.Languages
	if len(langs) == 0 {
		langs = m.Languages
	}
	files, err := bootFileList(src, linux.Path, boot.KitInfo{KitID: m.KitID, Created: m.Created, Languages: langs, Version: m.Version})
	if err != nil {
		return nil, i18n.Message{}, err
	}
	var from any = src.Dir
	if strings.HasPrefix(src.Dir, dir) {
		from = i18n.M("cli.change.note_own_bundle")
	}
	if had {
		return files, i18n.M("cli.change.note_boot_rewritten", src.Bundle.KernelVersion, from), nil
	}
	return files, i18n.M("cli.change.note_boot_new", src.Bundle.KernelVersion, from), nil
}

// kitBundle stages the boot bundle of the kit's tools partition into dir, each file
// checked against the trusted manifest, and opens it (nil when the kit carries none).
func (s *Session) kitBundle(trusted *kit.Manifest, dir string) (*boot.Source, error) {
	byPath := map[string]kit.File{}
	for _, f := range trusted.Files {
		byPath[f.Path] = f
	}
	bm, ok := byPath[boot.BundleManifest]
	if !ok {
		return nil, nil
	}
	fs, err := s.Drive.ToolsFS()
	if err != nil {
		return nil, fmt.Errorf("the tools partition cannot be read (%v): give --boot DIR (make bootenv's dist/bootenv)", err)
	}
	stage := func(f kit.File) error {
		dst := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		if err := stageFile(fs, f, dst); err != nil {
			return fmt.Errorf("the kit's boot file %s: %w: give --boot DIR (make bootenv's dist/bootenv)", f.Path, err)
		}
		return nil
	}
	if err := stage(bm); err != nil {
		return nil, err
	}
	src, err := boot.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("the kit's own boot bundle: %w", err)
	}
	for _, bf := range src.Bundle.Files {
		f, ok := byPath[bf.Path]
		if !ok {
			return nil, fmt.Errorf("the kit's boot bundle lists %s, which its manifest does not: give --boot DIR (make bootenv's dist/bootenv)", bf.Path)
		}
		if err := stage(f); err != nil {
			return nil, err
		}
	}
	return src, nil
}
