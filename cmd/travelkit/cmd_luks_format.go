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
		return usageErrorf("unsupported --sector-size %d: use 512 or 4096", o.sectorSize)
	}
	switch o.keyBits {
	case 256, 512:
		opt.KeySize = o.keyBits / 8
	default:
		return usageErrorf("unsupported --key-size %d: use 256 or 512 (bits)", o.keyBits)
	}
	if o.keySlot < 0 || o.keySlot >= luks.MaxKeyslots {
		return usageErrorf("--key-slot %d is out of range; keyslots are numbered 0 to %d", o.keySlot, luks.MaxKeyslots-1)
	}
	if len(o.label) > 47 {
		return usageErrorf("--label is %d bytes long; LUKS2 labels hold at most 47", len(o.label))
	}
	if len(o.subsystem) > 47 {
		return usageErrorf("--subsystem is %d bytes long; LUKS2 holds at most 47", len(o.subsystem))
	}
	var err error
	if opt.PBKDF, err = o.kdf.params(); err != nil {
		return err
	}
	minSize := int64(luks.DefaultDataOffset + opt.SectorSize)
	var newSize int64 = -1
	if o.size != "" {
		if newSize, err = bytesize.Parse(o.size); err != nil {
			return usageErrorf("--size: %v", err)
		}
		if newSize < minSize {
			return usageErrorf("--size %s is too small: a LUKS2 volume needs %d bytes (16 MiB) for its headers and keyslots, plus room for data", o.size, luks.DefaultDataOffset)
		}
		if newSize%int64(opt.SectorSize) != 0 {
			return usageErrorf("--size %s is not a multiple of the %d-byte sector size", o.size, opt.SectorSize)
		}
		if _, err := os.Lstat(path); err == nil {
			return withCode(ExitRefused, fmt.Errorf("%s already exists; --size creates a new file", path),
				"to format the existing file or device in place, leave out --size")
		}
	}
	if o.vkFile != "" {
		vk, err := readSecretFile(o.vkFile, "volume key file")
		if err != nil {
			return err
		}
		defer clear(vk)
		if len(vk) != opt.KeySize {
			return usageErrorf("volume key file %s holds %d bytes; --key-size %d needs exactly %d", o.vkFile, len(vk), o.keyBits, opt.KeySize)
		}
		opt.VolumeKey = vk
	}

	var d *device
	if newSize >= 0 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return withCode(ExitRefused, fmt.Errorf("%s already exists; --size creates a new file", path), "")
			}
			return fmt.Errorf("failed to create %s: %w", path, unwrapPathErr(err))
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
			return fmt.Errorf("failed to size %s to %d bytes: %w", path, newSize, err)
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
		return withCode(ExitError, fmt.Errorf("%s is %d bytes, too small for a LUKS2 volume: it needs at least %d bytes (16 MiB of header and keyslots, then the data)", path, d.size, minSize),
			"use a larger device, or create a container file with --size")
	}
	switch {
	case o.yes:
	case hasLUKSMagic(d):
		if err := confirm(path+" already holds a LUKS volume; formatting it destroys all its data for good.", "--yes"); err != nil {
			return err
		}
	case d.block:
		if err := confirm(fmt.Sprintf("formatting the device %s (%s) destroys everything on it.", path, bytesize.Format(d.size)), "--yes"); err != nil {
			return err
		}
	}
	if err := formatDevice(d, path, o, opt); err != nil {
		return err
	}
	return d.Close()
}

func formatDevice(d *device, path string, o *luksFormatOptions, opt luks.FormatOptions) error {
	pass, err := getSecret(o.passFile, "passphrase file", tr.T("cli.prompt.new_volume", path), true)
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
		return fmt.Errorf("failed to format %s: %w", path, err)
	}
	vk.Wipe()
	ks := c.Keyslots()
	kdf := opt.PBKDF.Type
	for _, k := range ks {
		if k.ID == opt.Keyslot {
			kdf = describeKDF(k.PBKDF)
		}
	}
	fmt.Printf("Formatted %s as LUKS2: UUID %s, %s with a %d-bit key, %d-byte sectors, %s of payload.\nKeyslot %d: %s.\n",
		path, c.UUID(), c.Cipher(), c.KeySize()*8, c.SectorSize(), bytesize.Format(c.PayloadSize()), opt.Keyslot, kdf)
	return nil
}

// describeKDF says in one line what a keyslot's KDF costs.
func describeKDF(p luks.PBKDF) string {
	if p.Type == "pbkdf2" {
		return fmt.Sprintf("pbkdf2-%s, %d iterations", p.Hash, p.Iterations)
	}
	return fmt.Sprintf("%s, time cost %d, %d KiB of memory, %d threads", p.Type, p.Iterations, p.MemoryKiB, p.Parallel)
}
