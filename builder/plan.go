package builder

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"travelkit/boot"
	"travelkit/drive"
	"travelkit/i18n"
	"travelkit/image/fat32"
	"travelkit/internal/bytesize"
	"travelkit/internal/termsafe"
	"travelkit/internal/version"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/target"
)

// File is one file that goes on the tools partition.
type File struct {
	Path   string
	Size   int64  // -1: generated during the build (manifest, SHA256SUMS)
	Source string // local file to copy, or "" for generated content
	data   []byte
}

// Plan is everything a build will do, shown before anything is written.
type Plan struct {
	Config     Config
	Target     *target.Info
	DiskSize   int64
	Create     bool // an image file will be created
	Layout     *drive.Layout
	FAT        fat32.Geometry
	Keyslots   []kit.Keyslot
	Files      []File
	Destroys   []string
	Created    time.Time
	Version    string
	Binaries   []Binary
	Extra      []File // more files for the tools partition, carried as they are
	AllowFixed bool
	// Existing describes the kit already on the target, read from its tools partition
	// (not trusted: for the person to read), or nil.
	Existing *kit.Manifest
	// Boot is the boot bundle the kit carries, nil when it will not boot; NoBoot says why.
	Boot      *boot.Source
	NoBoot    string       // in English
	NoBootMsg i18n.Message // the same, for any language
}

// PlanOptions are the command-line choices that shape a plan.
type PlanOptions struct {
	Target     string
	Size       int64    // image files: size to create (required when absent)
	BinaryDirs []string // where to find the per-platform binaries
	AllowFixed bool
	Now        time.Time
	// BootDir is the boot bundle folder (--boot); empty: looked for beside the binaries.
	BootDir string
}

// MakePlan inspects the target and lays out the kit. It changes nothing.
func MakePlan(cfg Config, opt PlanOptions) (*Plan, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	info, err := target.Inspect(opt.Target)
	if err != nil {
		return nil, err
	}
	p := &Plan{Config: cfg, Target: info, Created: opt.Now, Version: version.Version, AllowFixed: opt.AllowFixed}
	if p.Created.IsZero() {
		p.Created = time.Now()
	}
	p.Created = p.Created.UTC().Truncate(time.Second)
	switch {
	case info.Kind == target.ImageFile && !info.Exists:
		if opt.Size <= 0 {
			return nil, target.NoImageError(opt.Target)
		}
		p.Create, p.DiskSize = true, opt.Size
	case info.Kind == target.ImageFile:
		if opt.Size > 0 && opt.Size != info.Size {
			return nil, target.ImageSizeError(opt.Target, info.Size)
		}
		p.DiskSize = info.Size
	default:
		if opt.Size > 0 && opt.Size != info.Size {
			return nil, fmt.Errorf("--size applies to image files; %s is a disk of %d bytes", opt.Target, info.Size)
		}
		p.DiskSize = info.Size
	}
	if err := info.Check(target.Options{Write: true, CreateSize: p.DiskSize, AllowFixed: opt.AllowFixed}); err != nil {
		return nil, err
	}
	// The GPT counts in the disk's logical blocks: 4096 on "4Kn" disks, 512 elsewhere.
	sectorSize := 512
	if info.SectorSize == 4096 {
		sectorSize = 4096
	}
	if p.Layout, err = drive.PlanLayout(p.DiskSize, sectorSize, cfg.ToolsSize); err != nil {
		return nil, err
	}
	if p.FAT, err = fat32.ChooseGeometry(p.Layout.ToolsSize, 0); err != nil {
		return nil, fmt.Errorf("tools partition: %w", err)
	}
	p.Keyslots = []kit.Keyslot{{Slot: 0, Kind: kit.KeyslotPassphrase}}
	if cfg.RecoveryKey {
		p.Keyslots = append(p.Keyslots, kit.Keyslot{Slot: 1, Kind: kit.KeyslotRecoveryKey})
	}
	if cfg.TPM {
		p.Keyslots = append(p.Keyslots, kit.Keyslot{Slot: len(p.Keyslots), Kind: kit.KeyslotTPM2})
	}
	dirs := opt.BinaryDirs
	if len(dirs) == 0 {
		dirs = DefaultBinaryDirs()
	}
	if p.Binaries, err = FindBinaries(cfg.Platforms, dirs); err != nil {
		return nil, err
	}
	if err := p.planBoot(opt.BootDir, dirs); err != nil {
		return nil, err
	}
	if err := p.planFiles(); err != nil {
		return nil, err
	}
	p.Destroys = destroys(info)
	p.Existing = existingKit(opt.Target)
	return p, nil
}

// existingKit reads the manifest of a kit already on the target, if there is one.
func existingKit(path string) *kit.Manifest {
	tg, err := target.Open(path, target.Options{})
	if err != nil {
		return nil
	}
	defer tg.Close()
	d, err := drive.Open(tg)
	if err != nil {
		return nil
	}
	fs, err := d.ToolsFS()
	if err != nil {
		return nil
	}
	b, err := fs.ReadFile(kit.ManifestName, kit.MaxManifestSize)
	if err != nil || len(b) > 16<<20 {
		return nil
	}
	m, err := kit.ParseManifest(b)
	if err != nil {
		return nil
	}
	return m
}

// headerBackupSize is the size of a kit's LUKS2 header backup: both header copies and the
// keyslots area, which end at the data offset the builder formats with.
const headerBackupSize = luks.DefaultDataOffset

func (p *Plan) restoreInfo() kit.RestoreInfo {
	var names []string
	for _, e := range p.Config.Escrow {
		names = append(names, e.Name)
	}
	return kit.RestoreInfo{KitName: p.Config.Name, Created: p.Created, Escrow: names, Platforms: p.Config.Platforms, Languages: p.Config.Languages, TPM: p.Config.TPM, Threshold: p.Config.threshold(), Boot: p.Boot != nil}
}

// planFiles lists the tools partition's files with their sizes. Escrow files are sized by
// encrypting a dummy key of the right shape: age output size depends only on the recipient.
func (p *Plan) planFiles() error {
	var files []File
	for _, b := range p.Binaries {
		files = append(files, File{Path: kit.BinaryPath(b.Platform), Size: b.Size, Source: b.Path})
	}
	if p.Boot != nil {
		bf, err := p.bootFiles()
		if err != nil {
			return err
		}
		p.Extra = append(p.Extra, bf...)
	}
	pages, err := kit.RestorePages(p.restoreInfo())
	if err != nil {
		return err
	}
	for path, data := range pages {
		files = append(files, File{Path: path, Size: int64(len(data)), data: data})
	}
	if len(p.Config.Escrow) > 0 {
		dummy, err := kit.GenerateRecoveryKey()
		if err != nil {
			return err
		}
		escrow, err := p.Config.escrowFiles(dummy)
		if err != nil {
			return err
		}
		for _, e := range p.Config.Escrow {
			files = append(files, File{Path: kit.EscrowPath(e.Name), Size: int64(len(escrow[kit.EscrowPath(e.Name)]))})
		}
		empty, err := kit.EncryptHeaderBackupTo(nil, p.Config.recipients())
		if err != nil {
			return err
		}
		files = append(files, File{Path: kit.EscrowHeaderBackupPath, Size: ageSize(int64(len(empty)), headerBackupSize)})
	}
	if p.Config.RecoveryKey {
		dummy, _ := kit.GenerateRecoveryKey()
		w, err := kit.NewHeaderWraps(dummy, 1)
		if err != nil {
			return err
		}
		empty, err := kit.EncryptHeaderBackupWithWrap(nil, w[0])
		if err != nil {
			return err
		}
		files = append(files, File{Path: kit.HeaderBackupPath, Size: ageSize(int64(len(empty)), headerBackupSize)})
	}
	files = append(files, p.Extra...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	files = append(files, File{Path: kit.ManifestName, Size: -1}, File{Path: kit.SumsName, Size: -1})
	var total int64
	for _, f := range files {
		total += max(f.Size, 0)
	}
	room := int64(p.FAT.Clusters) * int64(p.FAT.ClusterBytes())
	if total+int64(len(files))*int64(p.FAT.ClusterBytes())+1<<20 > room {
		return fmt.Errorf("the tools partition (%s) is too small for its files (%s): raise [drive] tools_size or carry fewer platforms",
			bytesize.FormatDecimal(p.Layout.ToolsSize), bytesize.FormatDecimal(total))
	}
	p.Files = files
	return nil
}

func destroys(info *target.Info) []string { return destroysIn(info, i18n.New("en")) }

// destroysIn lists what a build destroys on info, in t's language.
func destroysIn(info *target.Info, t *i18n.Printer) []string {
	if info.Kind == target.ImageFile {
		if !info.Exists {
			return nil
		}
		return []string{t.T("cli.plan.destroys_image", info.Path, bytesize.FormatDecimal(info.Size))}
	}
	var out []string
	for _, p := range info.Partitions {
		d := p.Path
		if p.Label != "" {
			d = t.T("cli.plan.destroys_label", d, p.Label)
		}
		if p.FSType != "" {
			d += " (" + p.FSType + ")"
		}
		out = append(out, d)
	}
	return append(out, t.T("cli.plan.destroys_disk", info.Path, bytesize.FormatDecimal(info.Size)))
}

// Print writes the plan for a person to read, in English.
func (p *Plan) Print(w io.Writer) { p.PrintIn(w, i18n.New("en")) }

// PrintIn writes the plan for a person to read, in t's language. The names of formats
// (GPT, FAT32, LUKS2, ext4, age) are the same in every language and stay arguments.
func (p *Plan) PrintIn(w io.Writer, t *i18n.Printer) {
	c := p.Config
	fmt.Fprintln(w, t.T("cli.plan.title", termsafe.Name(c.Name)))
	fmt.Fprintln(w)
	tg := p.Target
	if tg.Kind == target.ImageFile {
		state := t.T("cli.plan.image_existing")
		if p.Create {
			state = t.T("cli.plan.image_new")
			if !tg.Sparse {
				// FAT32, exFAT, HFS+: the whole size is written to disk
				state = t.T("cli.plan.image_full")
			}
		}
		fmt.Fprintln(w, t.T("cli.plan.target_image", tg.Path, bytesize.FormatDecimal(p.DiskSize), state))
	} else {
		d := bytesize.FormatDecimal(tg.Size)
		if tg.Model != "" {
			d += ", " + tg.Model
		}
		if tg.Serial != "" {
			d += ", " + t.T("cli.plan.serial", tg.Serial)
		}
		if tg.Transport != "" {
			d += ", " + tg.Transport
		}
		if !tg.Removable {
			d += ", " + t.T("cli.plan.not_removable")
		}
		fmt.Fprintln(w, t.T("cli.plan.target_disk", tg.Path, d))
		for _, part := range tg.Partitions {
			fmt.Fprintln(w, t.T("cli.plan.now", fmt.Sprintf("%s %s %s %s", part.Path, part.Label, part.FSType, strings.Join(part.Mounts, " "))))
		}
	}
	l := p.Layout
	fmt.Fprintln(w)
	fmt.Fprintln(w, t.T("cli.plan.layout", "GPT"))
	fmt.Fprintln(w, t.T("cli.plan.tools_row", fmt.Sprintf("%-10s", bytesize.FormatDecimal(l.ToolsSize)), fmt.Sprintf("%-12d", l.ToolsOff),
		"Microsoft basic data", "FAT32", fmt.Sprintf("%q", drive.ToolsLabel), p.FAT.Clusters, p.FAT.ClusterBytes()))
	fmt.Fprintln(w, t.T("cli.plan.data_row", fmt.Sprintf("%-10s", bytesize.FormatDecimal(l.DataSize)), fmt.Sprintf("%-12d", l.DataOff),
		"Linux LUKS          ", "LUKS2", fmt.Sprintf("%q", c.Name), "ext4"))
	o := c.LUKS
	kdf := o.PBKDF.Type
	if kdf == "" {
		kdf = "argon2id"
	}
	cost := t.T("cli.plan.calibrated", o.PBKDF.IterTime.String())
	if o.PBKDF.IterTime == 0 {
		cost = t.T("cli.plan.calibrated", "2s")
	}
	switch {
	case o.PBKDF.Iterations > 0 && kdf == "pbkdf2":
		cost = t.T("cli.plan.iterations", o.PBKDF.Iterations)
	case o.PBKDF.Iterations > 0 && o.PBKDF.MemoryKiB > 0:
		cost = t.T("cli.plan.passes", o.PBKDF.Iterations, o.PBKDF.MemoryKiB)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, t.T("cli.plan.encryption", "aes-xts-plain64", keyBits(o.KeySize), sectorOr(o.SectorSize), kdf, cost))
	fmt.Fprintln(w, t.T("cli.plan.keys"))
	for _, k := range p.Keyslots {
		what := t.T("cli.plan.key_passphrase")
		switch k.Kind {
		case kit.KeyslotRecoveryKey:
			what = t.T("cli.plan.key_recovery")
		case kit.KeyslotTPM2:
			what = t.T("cli.plan.key_tpm")
		}
		fmt.Fprintf(w, "  %d  %s\n", k.Slot, what)
	}
	if len(c.Escrow) > 0 {
		if k := c.threshold(); k > 0 {
			fmt.Fprintln(w, t.T("cli.plan.escrow_k", k, len(c.Escrow)))
			fmt.Fprintln(w, t.T("cli.plan.escrow_k2"))
		} else {
			fmt.Fprintln(w, t.T("cli.plan.escrow_1", len(c.Escrow)))
		}
		for i, e := range c.Escrow {
			share := ""
			if c.threshold() > 0 {
				share = t.T("cli.plan.share", i+1) + "  "
			}
			fmt.Fprintf(w, "  %-16s %s%s\n", e.Name, share, abbreviate(e.Recipient))
		}
		fmt.Fprintln(w, t.T("cli.plan.header_escrow", kit.EscrowHeaderBackupPath))
	}
	if c.RecoveryKey {
		fmt.Fprintln(w, t.T("cli.plan.header_recovery", kit.HeaderBackupPath))
	}
	fmt.Fprintln(w)
	if p.Boot != nil {
		b := p.Boot.Bundle
		fmt.Fprintln(w, t.T("cli.plan.boot", b.KernelVersion, bytesize.FormatDecimal(b.Size()), p.Boot.Dir))
	} else {
		why := p.NoBoot
		if p.NoBootMsg.Key != "" {
			why = p.NoBootMsg.In(t)
		}
		fmt.Fprintln(w, t.T("cli.plan.no_boot", why))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, t.T("cli.plan.files"))
	var bootFiles, bootSize int64
	for _, f := range p.Files {
		if p.Boot != nil && isBootFile(f.Path) {
			bootFiles++
			bootSize += f.Size
			continue
		}
		size := t.T("cli.plan.generated")
		if f.Size >= 0 {
			size = bytesize.FormatDecimal(f.Size)
		}
		fmt.Fprintf(w, "  %-36s %10s\n", f.Path, size)
	}
	if bootFiles > 0 {
		fmt.Fprintf(w, "  %-36s %10s\n", t.T("cli.plan.boot_files", "EFI/, boot/, .disk/", int(bootFiles)), bytesize.FormatDecimal(bootSize))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, t.T("cli.plan.inside", drive.RepoDir+"/", drive.MetaDir+"/"))
	if e := p.Existing; e != nil {
		fmt.Fprintln(w)
		id, vol, ver := termsafe.Name(e.KitID), termsafe.Name(e.LUKSUUID), termsafe.Name(e.Version)
		if c, ok := version.Compare(e.Version, version.Version); ok && c < 0 {
			fmt.Fprintln(w, t.T("cli.plan.existing_older", id, vol, ver, version.Version))
		} else {
			fmt.Fprintln(w, t.T("cli.plan.existing", id, vol, ver))
		}
		fmt.Fprintln(w, t.T("cli.plan.existing_refresh", "travelkit refresh --target "+p.Target.Path))
		if p.Boot != nil && !slices.ContainsFunc(e.Files, func(f kit.File) bool { return f.Path == boot.BundleManifest }) {
			fmt.Fprintln(w, t.T("cli.plan.existing_boot", "travelkit refresh --target "+p.Target.Path+" --boot "+p.Boot.Dir))
		}
	}
	if len(p.Destroys) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, t.T("cli.plan.destroys"))
		for _, d := range destroysIn(p.Target, t) {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
}

func keyBits(n int) int {
	if n == 0 {
		return 512
	}
	return n * 8
}

func sectorOr(n int) int {
	if n == 0 {
		return 4096
	}
	return n
}

func abbreviate(s string) string {
	if len(s) > 60 {
		return s[:40] + "..." + s[len(s)-12:]
	}
	return s
}
