package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"travelkit/drive"
	"travelkit/luks"
	"travelkit/target"
)

// device is DEVICE of a luks command: a container file or a block device, with its size.
type device struct {
	f        *os.File
	kit      *target.Target      // instead of f: the kit image or disk holding the partition (KIT:2)
	io       target.ReadWriterAt // f, or f behind whole-block read-modify-write for raw disks
	path     string
	size     int64
	writable bool
	block    bool // a block or character device, not a regular file
}

func (d *device) ReadAt(p []byte, off int64) (int, error)  { return d.io.ReadAt(p, off) }
func (d *device) WriteAt(p []byte, off int64) (int, error) { return d.io.WriteAt(p, off) }

// Sync flushes writes to stable storage; package luks calls it between header updates.
// A device opened for reading has nothing to flush (Windows refuses to flush it).
func (d *device) Sync() error {
	if !d.writable {
		return nil
	}
	if d.kit != nil {
		return d.kit.Sync()
	}
	return d.f.Sync()
}

// Close syncs a writable device and closes it.
func (d *device) Close() error {
	if d.kit != nil {
		err := d.Sync()
		if cerr := d.kit.Close(); err == nil {
			err = cerr
		}
		d.kit = nil
		if err != nil {
			return wrapT(err, "cli.luks.sync", d.path, describeError(err))
		}
		return nil
	}
	if d.f == nil {
		return nil
	}
	var err error
	if d.writable {
		err = d.f.Sync()
		if err != nil && (errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)) {
			err = nil // some devices and pipes cannot sync; nothing more to do
		}
	}
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	d.f = nil
	if err != nil {
		return wrapT(err, "cli.luks.sync", d.path, describeError(err))
	}
	return nil
}

// openDevice opens path as a LUKS container file or block device (through
// target.OpenVolume, or target.Open for KIT:N). write asks for read-write access; a
// read-only device then gets a clear error before anything changes.
func openDevice(path string, write bool) (*device, error) {
	if base, part, ok := splitPartition(path); ok {
		return openPartition(path, base, part, write)
	}
	v, err := target.OpenVolume(path, write)
	var pe *fs.PathError
	switch {
	case err == nil:
		return &device{f: v.F, io: v.IO, path: path, size: v.Size, writable: write, block: v.Block}, nil
	case errors.Is(err, fs.ErrNotExist):
		if write {
			return nil, withCodeT(ExitError, wrapT(err, "cli.luks.no_file", path), "cli.luks.no_file_hint", path)
		}
		return nil, withCode(ExitError, wrapT(err, "cli.luks.no_file", path), "")
	case errors.Is(err, target.ErrIsDir):
		return nil, withCode(ExitUsage, wrapT(err, "cli.luks.is_dir", path), "")
	case errors.Is(err, target.ErrWriteProtected):
		return nil, withCodeT(ExitError, wrapT(err, "cli.luks.write_protected", path), "cli.luks.write_protected_hint", path)
	case errors.Is(err, target.ErrNoSize):
		return nil, withCodeT(ExitError, wrapT(err, "cli.luks.no_size", path), "cli.luks.no_size_hint")
	case !errors.As(err, &pe):
		return nil, err
	case write && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)):
		return nil, withCodeT(ExitError, wrapT(err, "cli.luks.read_only", path, describeError(unwrapPathErr(err))), "cli.luks.read_only_hint")
	case errors.Is(err, fs.ErrPermission):
		return nil, withCodeT(ExitError, wrapT(err, "cli.luks.no_permission", path), "cli.luks.no_permission_hint")
	case errors.Is(err, syscall.EBUSY):
		return nil, withCodeT(ExitRefused, wrapT(err, "cli.luks.busy", path), "cli.luks.busy_hint")
	}
	return nil, wrapT(err, "cli.luks.open_failed", path, describeError(unwrapPathErr(err)))
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openContainer opens DEVICE and its LUKS2 header. Errors name the device and say what to do.
func openContainer(path string, write bool) (*device, *luks.Container, error) {
	d, err := openDevice(path, write)
	if err != nil {
		return nil, nil, err
	}
	c, err := luks.Open(d, d.size)
	var l1 *luks.LUKS1Error
	if errors.As(err, &l1) && !write {
		// LUKS1 is read, never written: unlock, dump, read the payload.
		c, err = luks.OpenLUKS1(d, d.size)
	}
	if err != nil {
		d.Close()
		if errors.As(err, &l1) {
			err = wrapT(err, "cli.luks.luks1", describeError(err))
		}
		return nil, nil, containerError(path, d.size, err)
	}
	return d, c, nil
}

// containerError explains an error from luks.Open for the person at the keyboard.
func containerError(path string, size int64, err error) error {
	var l1 *luks.LUKS1Error
	var un *luks.UnsupportedError
	switch {
	case errors.Is(err, luks.ErrNotLUKS):
		notLUKS := wrapT(err, "cli.luks.not_luks", path)
		switch {
		case size == 0:
			return withCodeT(ExitNotLUKS, notLUKS, "cli.luks.not_luks_empty_hint", path)
		case isKit(path):
			return withCodeT(ExitNotLUKS, notLUKS, "cli.luks.not_luks_kit_hint", path, drive.DataPartition)
		}
		return withCodeT(ExitNotLUKS, notLUKS, "cli.luks.not_luks_hint", path)
	case errors.Is(err, luks.ErrBothHeadersBad):
		return withCodeT(ExitNotLUKS, wrapT(err, "cli.luks.at", path, describeError(err)), "cli.luks.both_bad_hint")
	case errors.As(err, &l1):
		return withCode(ExitNotLUKS, wrapT(err, "cli.luks.at", path, describeError(err)), "")
	case errors.As(err, &un):
		return withCodeT(ExitNotLUKS, wrapT(err, "cli.luks.at", path, describeError(err)), "cli.luks.unsupported_hint")
	}
	return wrapT(err, "cli.luks.at", path, describeError(err))
}

// unlockError explains an unlock failure.
func unlockError(path string, pass []byte, passFile string, err error) error {
	switch {
	case errors.Is(err, luks.ErrWrongPassphrase):
		hint, args := "cli.luks.wrong_hint", []any{}
		switch {
		case passFile != "" && secretFileEncoding(pass) != "":
			hint, args = "cli.luks.wrong_file_encoding_hint", []any{passFile, secretFileEncoding(pass)}
		case passFile != "" && bytes.HasSuffix(pass, []byte("\r\n")):
			hint, args = "cli.luks.wrong_file_crlf_hint", []any{passFile}
		case passFile != "" && bytes.HasSuffix(pass, []byte("\n")):
			hint, args = "cli.luks.wrong_file_newline_hint", []any{passFile}
		case passFile != "":
			hint = "cli.luks.wrong_file_hint"
		}
		return withCodeT(ExitWrongKey, wrapT(err, "cli.luks.wrong", path, describeError(err)), hint, args...)
	case errors.Is(err, luks.ErrNoSuchKeyslot):
		return withCodeT(ExitError, wrapT(err, "cli.luks.at", path, describeError(err)), "cli.luks.see_dump_hint", path)
	}
	return wrapT(err, "cli.luks.unlock_failed", path, describeError(err))
}

// checkComplete refuses a device that ends before the payload its header describes.
func checkComplete(d *device, c *luks.Container) error {
	if d.size < c.DataOffset()+int64(c.SectorSize()) {
		return withCodeT(ExitNotLUKS, errorT("cli.luks.truncated", d.path, num(d.size), num(c.DataOffset())), "cli.luks.truncated_hint")
	}
	return nil
}

// unlock reads the passphrase (from passFile or the terminal) and unlocks c, with slot -1 meaning any.
func unlock(d *device, c *luks.Container, passFile string, slot int) (*luks.VolumeKey, int, error) {
	path := d.path
	if err := checkComplete(d, c); err != nil {
		return nil, -1, err
	}
	pass, err := getSecret(passFile, "passphrase file", tr.T("cli.prompt.for", path), false)
	if err != nil {
		return nil, -1, err
	}
	defer clear(pass)
	bar := newProgress(tr.T("cli.luks.unlocking", path), 0) // shows after a second, on a terminal
	defer bar.Done()
	if slot >= 0 {
		vk, err := c.UnlockSlot(pass, slot)
		if err != nil {
			return nil, -1, unlockError(path, pass, passFile, err)
		}
		return vk, slot, nil
	}
	vk, used, err := c.Unlock(pass)
	if err != nil {
		return nil, -1, unlockError(path, pass, passFile, err)
	}
	return vk, used, nil
}

// checkSlotFlag validates a --key-slot value (-1: not given).
func checkSlotFlag(slot int) error {
	if slot < -1 || slot >= luks.MaxKeyslots {
		return usageErrorT("cli.luks.slot_range", slot, luks.MaxKeyslots-1)
	}
	return nil
}

// newKeyFlags are the flags of luks add-key and change-key, named as in cryptsetup: the
// passphrase that opens the container, the new passphrase, the keyslot (-1: not given; the
// one to fill for add-key, the one to change for change-key) and the new keyslot's KDF.
type newKeyFlags struct {
	passFile, newPassFile string
	slot                  int
	kdf                   kdfFlags
}

func (o *newKeyFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.passFile, "passphrase-file", "", "")
	fs.StringVar(&o.newPassFile, "new-passphrase-file", "", "")
	fs.IntVar(&o.slot, "key-slot", -1, "")
	o.kdf.register(fs)
	hideDefault(fs, "key-slot")
}

// kdfFlags are the keyslot KDF flags shared by format, add-key and change-key, named as in
// cryptsetup.
type kdfFlags struct {
	pbkdf      string
	hash       string
	memory     uint32
	iterations uint32
	parallel   uint32
	iterTimeMS uint32
}

func (k *kdfFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&k.pbkdf, "pbkdf", "argon2id", "")
	fs.StringVar(&k.hash, "hash", "sha256", "")
	fs.Uint32Var(&k.memory, "pbkdf-memory", 0, "")
	fs.Uint32Var(&k.iterations, "pbkdf-force-iterations", 0, "")
	fs.Uint32Var(&k.parallel, "pbkdf-parallel", 0, "")
	fs.Uint32Var(&k.iterTimeMS, "iter-time", 0, "")
}

// params checks the flags and gives the PBKDF they describe. The bounds are package
// luks's (PBKDF.Validate); here its errors only get the flag names.
func (k *kdfFlags) params() (luks.PBKDF, error) {
	p := luks.PBKDF{Type: k.pbkdf, Iterations: k.iterations, MemoryKiB: k.memory, Parallel: k.parallel,
		IterTime: time.Duration(k.iterTimeMS) * time.Millisecond}
	if k.pbkdf == "pbkdf2" {
		p.Hash = k.hash
	}
	errs := luks.KDFErrors(p.Validate())
	if k.pbkdf != "pbkdf2" {
		// --hash has a default and only pbkdf2 uses it; a typo is still an error
		errs = append(errs, luks.KDFErrors(luks.PBKDF{Type: "pbkdf2", Hash: k.hash}.Validate())...)
	}
	if len(errs) > 0 {
		e := errs[0]
		flag := map[luks.KDFField]string{
			luks.KDFType: "--pbkdf", luks.KDFHash: "--hash", luks.KDFIterations: "--pbkdf-force-iterations",
			luks.KDFMemory: "--pbkdf-memory", luks.KDFParallel: "--pbkdf-parallel",
		}[e.Field]
		return p, usageErrorT("cli.luks.kdf_flag", flag, e.Msg)
	}
	if k.iterTimeMS != 0 && k.iterations != 0 {
		return p, usageErrorT("cli.luks.iter_exclusive")
	}
	return p, nil
}

// calibrationNote returns the message shown while the KDF is calibrated, or "" when costs are fixed.
func calibrationNote(p luks.PBKDF) string {
	if p.Iterations != 0 {
		return ""
	}
	t := p.IterTime
	if t == 0 {
		t = luks.DefaultIterTime
	}
	return tr.T("cli.luks.calibrating", p.Type, t.String())
}

// confirm asks the person at the terminal to type YES. Without a terminal it refuses.
func confirm(question, yesFlagHint string) error {
	if !isTerminal() {
		return withCodeT(ExitRefused, errorT("cli.confirm.no_terminal", question), "cli.confirm.hint", yesFlagHint)
	}
	fmt.Fprint(os.Stderr, tr.T("cli.confirm.ask", question))
	var answer string
	fmt.Fscanln(os.Stdin, &answer)
	if answer != "YES" {
		return withCode(ExitRefused, errorT("cli.confirm.declined"), "")
	}
	return nil
}

// hasLUKSMagic reports whether d starts with a LUKS header (version 1 or 2).
func hasLUKSMagic(d io.ReaderAt) bool {
	var b [luks.MagicLen]byte
	if _, err := d.ReadAt(b[:], 0); err != nil {
		return false
	}
	return luks.HasMagic(b[:])
}

// exactArgs is cobra.ExactArgs with an error that names the missing arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return usageErrorT("cli.args.missing", strings.Join(names[len(args):], " "), useLineMsg(cmd))
		}
		if len(args) > len(names) {
			return usageErrorT("cli.args.too_many", fmt.Sprintf("%q", args[len(names):]), useLineMsg(cmd))
		}
		return nil
	}
}

// hideDefault keeps --help from showing "(default -1)" for flags whose usage text
// already says what leaving them out means.
func hideDefault(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		if f := fs.Lookup(n); f != nil {
			f.DefValue = "0"
		}
	}
}
