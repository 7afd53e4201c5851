package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"travelkit/internal/bytesize"
	"travelkit/luks"
)

type luksFormatOptions struct {
	passFile   string
	size       string
	sectorSize int
	keyBits    int
	kdf        kdfFlags
	label      string
	subsystem  string
	uuid       string
	vkFile     string
	keySlot    int
	yes        bool
}

func newLuksFormatCmd() *cobra.Command {
	var o luksFormatOptions
	cmd := &cobra.Command{
		Use:  "format DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksFormat(args[0], &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.passFile, "passphrase-file", "", "")
	f.StringVar(&o.size, "size", "", "")
	f.IntVar(&o.sectorSize, "sector-size", luks.DefaultSectorSize, "")
	f.IntVar(&o.keyBits, "key-size", luks.DefaultKeySize*8, "")
	o.kdf.register(f)
	f.StringVar(&o.label, "label", "", "")
	f.StringVar(&o.subsystem, "subsystem", "", "")
	f.StringVar(&o.uuid, "uuid", "", "")
	f.StringVar(&o.vkFile, "volume-key-file", "", "")
	f.IntVar(&o.keySlot, "key-slot", 0, "")
	f.BoolVar(&o.yes, "yes", false, "")
	return cmd
}

func runLuksFormat(path string, o *luksFormatOptions) error {
	opt := luks.FormatOptions{Label: o.label, Subsystem: o.subsystem, UUID: o.uuid, Keyslot: o.keySlot}
	switch o.sectorSize {
	case 512, 4096:
		opt.SectorSize = o.sectorSize
	default:
		return usageErrorT("cli.luks.format.sector_size", num(int64(o.sectorSize)))
	}
	switch o.keyBits {
	case 256, 512:
		opt.KeySize = o.keyBits / 8
	default:
		return usageErrorT("cli.luks.format.key_size", num(int64(o.keyBits)))
	}
	if o.keySlot < 0 || o.keySlot >= luks.MaxKeyslots {
		return usageErrorT("cli.luks.slot_range", o.keySlot, luks.MaxKeyslots-1)
	}
	if len(o.label) > 47 {
		return usageErrorT("cli.luks.format.label", len(o.label))
	}
	if len(o.subsystem) > 47 {
		return usageErrorT("cli.luks.format.subsystem", len(o.subsystem))
	}
	var err error
	if opt.PBKDF, err = o.kdf.params(); err != nil {
		return err
	}
	minSize := int64(luks.DefaultDataOffset + opt.SectorSize)
	var newSize int64 = -1
	if o.size != "" {
		if newSize, err = bytesize.Parse(o.size); err != nil {
			return usageErrorT("cli.luks.format.size", describeError(err))
		}
		if newSize < minSize {
			return usageErrorT("cli.luks.format.size_small", o.size, num(luks.DefaultDataOffset))
		}
		if newSize%int64(opt.SectorSize) != 0 {
			return usageErrorT("cli.luks.format.size_multiple", o.size, num(int64(opt.SectorSize)))
		}
		if _, err := os.Lstat(path); err == nil {
			return withCodeT(ExitRefused, errorT("cli.luks.format.exists", path), "cli.luks.format.exists_hint")
		}
	}
	if o.vkFile != "" {
		vk, err := readSecretFile(o.vkFile, "volume key file")
		if err != nil {
			return err
		}
		defer clear(vk)
		if len(vk) != opt.KeySize {
			return usageErrorT("cli.luks.format.vk_size", o.vkFile, num(int64(len(vk))), num(int64(o.keyBits)), num(int64(opt.KeySize)))
		}
		opt.VolumeKey = vk
	}

	var d *device
	if newSize >= 0 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return withCode(ExitRefused, wrapT(err, "cli.luks.format.exists", path), "")
			}
			return wrapT(err, "cli.luks.create_failed", path, describeError(unwrapPathErr(err)))
		}
		d = &device{f: f, io: f, path: path, size: newSize, writable: true}
		created := true
		defer func() {
			if created {
				d.f.Close()
				os.Remove(path)
			}
		}()
		if err := f.Truncate(newSize); err != nil {
			return wrapT(err, "cli.luks.format.resize_failed", path, num(newSize), describeError(err))
		}
		if err := formatDevice(d, path, o, opt); err != nil {
			return err
		}
		created = false
		return d.Close()
	}
	if d, err = openDevice(path, true); err != nil {
		return err
	}
	defer d.Close()
	if d.size < minSize {
		return withCodeT(ExitError, errorT("cli.luks.format.too_small", path, num(d.size), num(minSize)), "cli.luks.format.too_small_hint")
	}
	switch {
	case o.yes:
	case hasLUKSMagic(d):
		if err := confirm(tr.T("cli.luks.format.confirm_luks", path), "--yes"); err != nil {
			return err
		}
	case d.block:
		if err := confirm(tr.T("cli.luks.format.confirm_device", path, bytesize.Format(d.size)), "--yes"); err != nil {
			return err
		}
	}
	if err := formatDevice(d, path, o, opt); err != nil {
		return err
	}
	return d.Close()
}

func formatDevice(d *device, path string, o *luksFormatOptions, opt luks.FormatOptions) error {
	pass, err := getNewSecret(o.passFile, "passphrase file", tr.T("cli.prompt.new_volume", path))
	if err != nil {
		return err
	}
	defer clear(pass)
	var c *luks.Container
	var vk *luks.VolumeKey
	err = runWithNote(calibrationNote(opt.PBKDF), func() error {
		var err error
		c, vk, err = luks.Format(d, d.size, pass, opt)
		return err
	})
	if err != nil {
		return wrapT(err, "cli.luks.format.failed", path, describeError(err))
	}
	vk.Wipe()
	ks := c.Keyslots()
	kdf := opt.PBKDF.Type
	for _, k := range ks {
		if k.ID == opt.Keyslot {
			kdf = describeKDF(k.PBKDF)
		}
	}
	fmt.Println(tr.T("cli.luks.format.done", path, c.UUID(), c.Cipher(), num(int64(c.KeySize()*8)), num(int64(c.SectorSize())),
		bytesize.Format(c.PayloadSize()), opt.Keyslot, kdf))
	return nil
}

// describeKDF says in one line what a keyslot's KDF costs.
func describeKDF(p luks.PBKDF) string {
	if p.Type == "pbkdf2" {
		return tr.T("cli.luks.format.kdf_pbkdf2", p.Hash, num(int64(p.Iterations)))
	}
	return tr.T("cli.luks.format.kdf_argon2", p.Type, num(int64(p.Iterations)), num(int64(p.MemoryKiB)), num(int64(p.Parallel)))
}
