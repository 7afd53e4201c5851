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
			return fmt.Errorf("failed to write %s to stable storage: %w", d.path, err)
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
		return fmt.Errorf("failed to write %s to stable storage: %w", d.path, err)
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
		hint := ""
		if write {
			hint = "to create a new container file, use `travelkit luks format " + path + " --size 64M`"
		}
		return nil, withCode(ExitError, fmt.Errorf("%s does not exist", path), hint)
	case errors.Is(err, target.ErrIsDir):
		return nil, withCode(ExitUsage, fmt.Errorf("%s is a directory, not a LUKS container file or block device", path), "")
	case errors.Is(err, target.ErrWriteProtected):
		return nil, withCode(ExitError, fmt.Errorf("%s is read-only (the device is write-protected); this command writes to it", path),
			"remove the write protection (a switch on the card or drive, or `blockdev --setrw "+path+"`)")
	case errors.Is(err, target.ErrNoSize):
		return nil, withCode(ExitError, fmt.Errorf("cannot find the size of the device %s (it reports 0 bytes)", path),
			"copy it to an image file first, or check that it is the right device")
	case !errors.As(err, &pe):
		return nil, err
	case write && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)):
		return nil, withCode(ExitError, fmt.Errorf("%s is read-only (%v); this command writes to it", path, unwrapPathErr(err)),
			"make the file writable, or run as a user with write access to the device, or remove the write protection")
	case errors.Is(err, fs.ErrPermission):
		return nil, withCode(ExitError, fmt.Errorf("no permission to read %s", path),
			"devices need administrator rights: run the command with sudo (or as Administrator)")
	case errors.Is(err, syscall.EBUSY):
		return nil, withCode(ExitRefused, fmt.Errorf("%s is in use (mounted or opened exclusively by another program)", path),
			"unmount it and close programs that use it, then try again")
	}
	return nil, fmt.Errorf("failed to open %s: %w", path, unwrapPathErr(err))
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
			err = fmt.Errorf("%w; travelkit only reads LUKS1 volumes", err)
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
		hint := "check the path; to make it a LUKS2 container, use `travelkit luks format " + path + "` (this destroys its content)"
		if size == 0 {
			hint = "the file is empty; create a container with `travelkit luks format " + path + " --size 64M`"
		} else if h := kitHint(path); h != "" {
			hint = h
		}
		return withCode(ExitNotLUKS, fmt.Errorf("%s is not a LUKS volume (no LUKS header found)", path), hint)
	case errors.Is(err, luks.ErrBothHeadersBad):
		return withCode(ExitNotLUKS, fmt.Errorf("%s: %w", path, err),
			"both header copies are damaged; restore a header backup (`cryptsetup luksHeaderRestore`) if you have one")
	case errors.As(err, &l1):
		return withCode(ExitNotLUKS, fmt.Errorf("%s: %w", path, err), "")
	case errors.As(err, &un):
		return withCode(ExitNotLUKS, fmt.Errorf("%s: %w", path, err), "use cryptsetup for this volume")
	}
	return fmt.Errorf("%s: %w", path, err)
}

// unlockError explains an unlock failure.
func unlockError(path string, pass []byte, passFile string, err error) error {
	switch {
	case errors.Is(err, luks.ErrWrongPassphrase):
		hint := "check the passphrase"
		if passFile != "" {
			hint = "the passphrase file is used byte for byte, like cryptsetup's --key-file"
			switch {
			case bytes.HasSuffix(pass, []byte("\r\n")):
				hint += "; " + passFile + " ends with a Windows line ending (CR LF, as Notepad saves it), which is part of the passphrase: save it without a line break at the end"
			case bytes.HasSuffix(pass, []byte("\n")):
				hint += "; " + passFile + " ends with a newline, which is part of the passphrase (write it with `printf %s` or `echo -n`)"
			}
		}
		return withCode(ExitWrongKey, fmt.Errorf("wrong passphrase for %s: %w", path, err), hint)
	case errors.Is(err, luks.ErrNoSuchKeyslot):
		return withCode(ExitError, fmt.Errorf("%s: %w", path, err), "see the keyslots in use with `travelkit luks dump "+path+"`")
	}
	return fmt.Errorf("failed to unlock %s: %w", path, err)
}

// checkComplete refuses a device that ends before the payload its header describes.
func checkComplete(d *device, c *luks.Container) error {
	if d.size < c.DataOffset()+int64(c.SectorSize()) {
		return withCode(ExitNotLUKS, fmt.Errorf("%s is truncated: it is %d bytes long, but its LUKS2 header puts the encrypted data at %d", d.path, d.size, c.DataOffset()),
			"the image file was cut short, or this is the wrong device or partition; copy the whole volume again")
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
	bar := newProgress("Unlocking "+path+" (key derivation)", 0) // shows after a second, on a terminal
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
		return usageErrorf("--key-slot %d is out of range; keyslots are numbered 0 to %d", slot, luks.MaxKeyslots-1)
	}
	return nil
}

// kdfFlags are the keyslot KDF flags shared by format and add-key, named as in cryptsetup.
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
		return p, usageErrorf("%s %s", flag, e.Msg)
	}
	if k.iterTimeMS != 0 && k.iterations != 0 {
		return p, usageErrorf("--iter-time and --pbkdf-force-iterations exclude each other")
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
	return fmt.Sprintf("Calibrating %s for %v", p.Type, t)
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
			return usageErrorf("missing %s (usage: %s)", strings.Join(names[len(args):], " "), cmd.UseLine())
		}
		if len(args) > len(names) {
			return usageErrorf("too many arguments: %q (usage: %s)", args[len(names):], cmd.UseLine())
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
