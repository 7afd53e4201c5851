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
	Boot   *boot.Source
	NoBoot string
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
			return nil, &target.RefusedError{Path: opt.Target, Reason: "the image file does not exist", Hint: "give --size to create it (for example --size 8GiB)"}
		}
		p.Create, p.DiskSize = true, opt.Size
	case info.Kind == target.ImageFile:
		if opt.Size > 0 && opt.Size != info.Size {
			return nil, &target.RefusedError{Path: opt.Target, Reason: fmt.Sprintf("the image file exists with another size (%d bytes)", info.Size),
				Hint: "remove the file to create it anew, or drop --size to reuse it"}
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

func destroys(info *target.Info) []string {
	if info.Kind == target.ImageFile {
		if !info.Exists {
			return nil
		}
		return []string{fmt.Sprintf("everything in the image file %s (%s)", info.Path, bytesize.FormatDecimal(info.Size))}
	}
	var out []string
	for _, p := range info.Partitions {
		d := p.Path
		if p.Label != "" {
			d += " label " + p.Label
		}
		if p.FSType != "" {
			d += " (" + p.FSType + ")"
		}
		out = append(out, d)
	}
	return append(out, fmt.Sprintf("everything on %s (%s)", info.Path, bytesize.FormatDecimal(info.Size)))
}

// Print writes the plan for a person to read.
func (p *Plan) Print(w io.Writer) {
	c := p.Config
	fmt.Fprintf(w, "Plan for kit %q\n\n", c.Name)
	t := p.Target
	if t.Kind == target.ImageFile {
		state := "existing"
		if p.Create {
			state = "new, sparse"
			if !t.Sparse {
				// FAT32, exFAT, HFS+: the whole size is written to disk
				state = "new, fully allocated: this file system has no sparse files"
			}
		}
		fmt.Fprintf(w, "Target:   image file %s (%s, %s)\n", t.Path, bytesize.FormatDecimal(p.DiskSize), state)
	} else {
		fmt.Fprintf(w, "Target:   disk %s: %s", t.Path, bytesize.FormatDecimal(t.Size))
		if t.Model != "" {
			fmt.Fprintf(w, ", %s", t.Model)
		}
		if t.Serial != "" {
			fmt.Fprintf(w, ", serial %s", t.Serial)
		}
		if t.Transport != "" {
			fmt.Fprintf(w, ", %s", t.Transport)
		}
		if !t.Removable {
			fmt.Fprint(w, ", NOT removable")
		}
		fmt.Fprintln(w)
		for _, part := range t.Partitions {
			fmt.Fprintf(w, "          now: %s %s %s %s\n", part.Path, part.Label, part.FSType, strings.Join(part.Mounts, " "))
		}
	}
	l := p.Layout
	fmt.Fprintf(w, "\nLayout (GPT, protective MBR, 1 MiB aligned):\n")
	fmt.Fprintf(w, "  1  %-10s at %-12d %s  FAT32 %q, %d clusters of %d bytes (tools, visible on every OS)\n",
		bytesize.FormatDecimal(l.ToolsSize), l.ToolsOff, "Microsoft basic data", drive.ToolsLabel, p.FAT.Clusters, p.FAT.ClusterBytes())
	fmt.Fprintf(w, "  2  %-10s at %-12d %s  LUKS2 %q holding ext4 (encrypted data)\n",
		bytesize.FormatDecimal(l.DataSize), l.DataOff, "Linux LUKS          ", c.Name)
	o := c.LUKS
	kdf := o.PBKDF.Type
	if kdf == "" {
		kdf = "argon2id"
	}
	cost := "calibrated to " + o.PBKDF.IterTime.String()
	if o.PBKDF.IterTime == 0 {
		cost = "calibrated to 2s"
	}
	switch {
	case o.PBKDF.Iterations > 0 && kdf == "pbkdf2":
		cost = fmt.Sprintf("%d iterations", o.PBKDF.Iterations)
	case o.PBKDF.Iterations > 0 && o.PBKDF.MemoryKiB > 0:
		cost = fmt.Sprintf("%d passes, %d KiB", o.PBKDF.Iterations, o.PBKDF.MemoryKiB)
	}
	fmt.Fprintf(w, "\nEncryption: aes-xts-plain64, %d-bit key, %d-byte sectors, %s (%s)\n", keyBits(o.KeySize), sectorOr(o.SectorSize), kdf, cost)
	fmt.Fprintln(w, "Keyslots:")
	for _, k := range p.Keyslots {
		what := "your passphrase"
		switch k.Kind {
		case kit.KeyslotRecoveryKey:
			what = "recovery key (generated, shown once)"
		case kit.KeyslotTPM2:
			what = "this laptop's TPM2 (systemd-tpm2 token), enrolled after the build"
		}
		fmt.Fprintf(w, "  %d  %s\n", k.Slot, what)
	}
	if len(c.Escrow) > 0 {
		if k := c.threshold(); k > 0 {
			fmt.Fprintf(w, "Escrow: %d of %d colleagues needed (k=%d, n=%d): the recovery key split into ssss shares,\n", k, len(c.Escrow), k, len(c.Escrow))
			fmt.Fprintln(w, "each encrypted with age to one colleague alone; any k rebuild it, k-1 reveal nothing:")
		} else {
			fmt.Fprintf(w, "Escrow: 1 of %d colleagues needed (k=1, n=%d): the whole recovery key, encrypted with age to each colleague alone:\n", len(c.Escrow), len(c.Escrow))
		}
		for i, e := range c.Escrow {
			share := ""
			if c.threshold() > 0 {
				share = fmt.Sprintf("share %d  ", i+1)
			}
			fmt.Fprintf(w, "  %-16s %s%s\n", e.Name, share, abbreviate(e.Recipient))
		}
		fmt.Fprintf(w, "  LUKS header backup: %s (to every colleague above), also into --escrow-dir\n", kit.EscrowHeaderBackupPath)
	}
	if c.RecoveryKey {
		fmt.Fprintf(w, "  LUKS header backup: %s (the recovery key is its age passphrase)\n", kit.HeaderBackupPath)
	}
	if p.Boot != nil {
		b := p.Boot.Bundle
		fmt.Fprintf(w, "\nBoot:     x86-64 UEFI PCs start from the kit into its restore and rescue menu; Secure Boot can\n")
		fmt.Fprintf(w, "          stay on (Debian's signed shim, grub and Linux %s, %s, from %s)\n", b.KernelVersion, bytesize.FormatDecimal(b.Size()), p.Boot.Dir)
	} else {
		fmt.Fprintf(w, "\nBoot:     this kit will NOT start a computer: %s\n", p.NoBoot)
	}
	fmt.Fprintf(w, "\nTools partition files:\n")
	var bootFiles, bootSize int64
	for _, f := range p.Files {
		if p.Boot != nil && isBootFile(f.Path) {
			bootFiles++
			bootSize += f.Size
			continue
		}
		size := "generated"
		if f.Size >= 0 {
			size = bytesize.FormatDecimal(f.Size)
		}
		fmt.Fprintf(w, "  %-36s %10s\n", f.Path, size)
	}
	if bootFiles > 0 {
		fmt.Fprintf(w, "  %-36s %10s\n", fmt.Sprintf("EFI/, boot/, .disk/ (%d files)", bootFiles), bytesize.FormatDecimal(bootSize))
	}
	fmt.Fprintf(w, "\nInside the encrypted volume: %s/ (backup repository), %s/ (manifest copy, repository password)\n", drive.RepoDir, drive.MetaDir)
	if e := p.Existing; e != nil {
		fmt.Fprintf(w, "\nThe target holds kit %q (LUKS UUID %s) with tools from travelkit %s", termsafe.Name(e.KitID), termsafe.Name(e.LUKSUUID), termsafe.Name(e.Version))
		if c, ok := version.Compare(e.Version, version.Version); ok && c < 0 {
			fmt.Fprintf(w, ", older than this travelkit (%s)", version.Version)
		}
		fmt.Fprintf(w, ".\nTo update its tools and keep its backups: travelkit refresh --target %s (build destroys them).\n", p.Target.Path)
		if p.Boot != nil && !slices.ContainsFunc(e.Files, func(f kit.File) bool { return f.Path == boot.BundleManifest }) {
			fmt.Fprintf(w, "That kit does not start computers; refresh makes it bootable on its own partitions: travelkit refresh --target %s --boot %s\n", p.Target.Path, p.Boot.Dir)
		}
	}
	if len(p.Destroys) > 0 {
		fmt.Fprintln(w, "\nThis DESTROYS:")
		for _, d := range p.Destroys {
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
