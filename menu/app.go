package menu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"travelkit/boot"
	"travelkit/drive"
	"travelkit/i18n"
	"travelkit/internal/bytesize"
	"travelkit/internal/termsafe"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/repo"
)

// Action is what the computer does when the menu ends.
type Action int

// Actions.
const (
	PowerOff Action = iota
	Reboot
)

// Options configure a menu run.
type Options struct {
	System  System
	Display Display
	Keys    *Keys
	// Config is the initramfs's boot config (kit id, date, languages); nil in tests.
	Config *boot.Config
	// Lang is the starting language; empty: the config's first, or English.
	Lang string
	// MaxTries is how many wrong secrets are allowed before the menu says so (default 5).
	MaxTries int
	// FindWait is how long the first search for the kit drive lasts (default 20 s:
	// USB drives appear a few seconds after the kernel starts).
	FindWait time.Duration
	// Log receives one line per event, for the serial console log (optional).
	Log io.Writer
	// Version is the program's version, given to snapshots.
	Version string
}

type app struct {
	o   Options
	sys System
	ui  *ui
	// the kit
	disk *KitDisk
	dev  Device
	d    *drive.Drive
	man  *kit.Manifest // untrusted until unlocked
	u    *drive.Unlocked
	// folders mounted by the menu, unmounted before power off
	mounted []string
	tries   int
	note    string // the language note (ar, fa)
}

var errHalt = errors.New("halt")

// Run runs the menu until the person powers off or restarts. The kit's volume is closed
// (its key wiped) and every folder the menu mounted is unmounted before it returns.
func Run(ctx context.Context, o Options) (act Action, err error) {
	if o.MaxTries == 0 {
		o.MaxTries = 5
	}
	if o.FindWait == 0 {
		o.FindWait = 20 * time.Second
	}
	a := &app{o: o, sys: o.System, ui: &ui{d: o.Display, k: o.Keys}}
	lang := o.Lang
	if lang == "" && o.Config != nil && len(o.Config.Languages) > 0 {
		lang = o.Config.Languages[0]
	}
	a.setLang(lang)
	defer func() {
		if cerr := a.closeAll(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	a.setTitle()
	act, err = a.main(ctx)
	return act, err
}

func (a *app) logf(format string, args ...any) {
	if a.o.Log != nil {
		fmt.Fprintf(a.o.Log, "travelkit-menu: "+format+"\n", args...)
	}
}

func (a *app) T(key string, args ...any) string { return a.ui.T(key, args...) }

// setLang makes lang (one of i18n.Languages, or a locale name) the menu's language. Arabic
// and Persian need a display that joins their letters and writes right to left (the
// framebuffer's); on a text console the menu speaks English and says why.
func (a *app) setLang(lang string) {
	a.note = ""
	l, ok := i18n.Match(lang)
	if !ok {
		l = "en"
	}
	if i18n.RTL(l) && !drawsArabic(a.ui.d) {
		en := i18n.New("en")
		if l == "ar" {
			a.note = en.T("menu.fallback.ar")
		} else {
			a.note = en.T("menu.fallback.fa")
		}
		l = "en"
	}
	a.ui.p = i18n.New(l)
	a.logf("language %s", l)
}

// setTitle names the kit (from the drive's manifest once found, else from the boot
// config) and the Secure Boot state.
func (a *app) setTitle() {
	id, created := "", time.Time{}
	if a.o.Config != nil {
		id, created = a.o.Config.KitID, a.o.Config.Created
	}
	if a.man != nil {
		id, created = a.man.KitID, a.man.Created
	}
	if id == "" {
		a.ui.title = "travelkit"
	} else {
		a.ui.title = a.T("menu.title", termsafe.Name(id), created.Format("2006-01-02"))
	}
	sb, lockdown := a.sys.SecureBoot()
	var st string
	switch sb {
	case "on":
		st = a.T("menu.sb.on")
	case "off":
		st = a.T("menu.sb.off")
	default:
		st = a.T("menu.sb.unknown")
	}
	if lockdown != "" && lockdown != "none" {
		st += " · " + a.T("menu.lockdown", lockdown)
	}
	if a.note != "" {
		st += "\n" + a.note
	}
	a.ui.status = st
}

func (a *app) main(ctx context.Context) (Action, error) {
	for a.d == nil {
		if err := a.findKit(ctx); err != nil {
			return a.halt(err)
		}
	}
	if err := a.welcome(ctx); err != nil {
		return a.halt(err)
	}
	for {
		items := []string{a.T("menu.main.restore"), a.T("menu.main.rescue"), a.T("menu.main.check"), a.T("menu.main.language"), a.T("menu.main.poweroff"), a.T("menu.main.reboot")}
		body := []string{a.T("menu.main.body")}
		if a.u == nil {
			items[0], items[1] = a.T("menu.main.unlock_restore"), a.T("menu.main.unlock_rescue")
		}
		i, err := a.ui.choose(ctx, body, items, 0)
		if err != nil {
			return a.halt(err)
		}
		var ferr error
		switch i {
		case 0:
			if ferr = a.needUnlock(ctx); ferr == nil {
				ferr = a.restore(ctx)
			}
		case 1:
			if ferr = a.needUnlock(ctx); ferr == nil {
				ferr = a.rescue(ctx)
			}
		case 2:
			ferr = a.check(ctx)
		case 3:
			ferr = a.language(ctx)
		case 4:
			return a.halt(nil)
		case 5:
			return a.halt(errReboot)
		}
		if errors.Is(ferr, errHalt) {
			return a.halt(nil)
		}
		if ferr != nil && (errors.Is(ferr, ErrNoInput) || ctx.Err() != nil) {
			return a.halt(ferr)
		}
		if ferr != nil && !errors.Is(ferr, errBack) {
			a.logf("error: %v", ferr)
			if err := a.ui.message(ctx, []string{a.T("menu.error"), a.ui.p.Error(ferr)}); err != nil {
				return a.halt(err)
			}
		}
	}
}

var (
	errBack   = errors.New("back")
	errReboot = errors.New("reboot")
)

// halt closes the kit and returns the action; an input error (no console left) powers off.
func (a *app) halt(err error) (Action, error) {
	cerr := a.closeAll()
	act := PowerOff
	if errors.Is(err, errReboot) {
		act, err = Reboot, nil
	}
	if cerr != nil {
		a.ui.show(&Screen{Body: []string{a.T("menu.close.failed"), a.ui.p.Error(cerr)}})
		a.logf("closing the kit: %v", cerr)
		if err == nil {
			err = cerr
		}
	} else {
		a.ui.show(&Screen{Body: []string{a.T("menu.closed")}})
	}
	a.logf("kit closed; %s", map[Action]string{PowerOff: "power off", Reboot: "restart"}[act])
	return act, err
}

// closeAll unmounts what the menu mounted and closes the kit's volume: the filesystem is
// flushed and the volume key wiped from memory.
func (a *app) closeAll() error {
	var errs []error
	for len(a.mounted) > 0 {
		dir := a.mounted[len(a.mounted)-1]
		a.mounted = a.mounted[:len(a.mounted)-1]
		if err := a.sys.Unmount(dir); err != nil {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", dir, err))
		}
	}
	if a.u != nil {
		if err := a.u.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the kit's volume: %w", err))
		}
		a.u = nil
	}
	if a.dev != nil {
		if err := a.dev.Close(); err != nil {
			errs = append(errs, err)
		}
		a.dev, a.d = nil, nil
	}
	return errors.Join(errs...)
}

// findKit waits for a kit drive; without one it says so and offers to look again.
func (a *app) findKit(ctx context.Context) error {
	deadline := time.Now().Add(a.o.FindWait)
	a.ui.show(&Screen{Body: []string{a.T("menu.find.looking")}})
	var kits []KitDisk
	for {
		var err error
		kits, err = a.sys.FindKits()
		if err != nil {
			a.logf("looking for the kit: %v", err)
		}
		if len(kits) > 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	for len(kits) == 0 {
		a.logf("no kit drive found")
		a.ui.poll = func() bool {
			k, _ := a.sys.FindKits()
			return len(k) > 0
		}
		i, err := a.ui.choose(ctx, []string{a.T("menu.find.none"), a.T("menu.find.none2")},
			[]string{a.T("menu.find.again"), a.T("menu.main.poweroff"), a.T("menu.main.reboot")}, 0)
		a.ui.poll = nil
		if err != nil {
			return err
		}
		switch i {
		case 1:
			return errHalt
		case 2:
			return errReboot
		}
		kits, _ = a.sys.FindKits()
	}
	pick := kits[0]
	if len(kits) > 1 {
		var mine []KitDisk
		for _, k := range kits {
			if a.o.Config != nil && k.KitID == a.o.Config.KitID {
				mine = append(mine, k)
			}
		}
		if len(mine) == 1 {
			pick = mine[0]
		} else {
			var items []string
			for _, k := range kits {
				items = append(items, fmt.Sprintf("%s  %s  %s  %s", termsafe.Name(k.KitID), k.Path, bytesize.FormatDecimal(k.Size), termsafe.Name(k.Model)))
			}
			i, err := a.ui.choose(ctx, []string{a.T("menu.find.several")}, items, 0)
			if err != nil {
				return err
			}
			if i < 0 {
				return nil // look again
			}
			pick = kits[i]
		}
	}
	return a.openKit(pick)
}

func (a *app) openKit(k KitDisk) error {
	dev, err := a.sys.OpenKit(k.Path)
	if err != nil {
		a.logf("opening %s: %v", k.Path, err)
		return nil
	}
	d, err := drive.Open(dev)
	if err != nil {
		dev.Close()
		a.logf("opening %s: %v", k.Path, err)
		return nil
	}
	a.disk, a.dev, a.d = &k, dev, d
	if m, err := d.Manifest(); err == nil {
		a.man = m
	}
	a.logf("kit %q found on %s (%s)", k.KitID, k.Path, k.Bus)
	a.setTitle()
	return nil
}

// welcome is the first screen with the kit: what this is, and the tools partition
// checked against its own manifest.
func (a *app) welcome(ctx context.Context) error {
	model := a.disk.Model
	if a.disk.Bus != "" {
		model += ", " + a.disk.Bus
	}
	body := []string{a.T("menu.welcome.body", a.disk.Path, bytesize.FormatDecimal(a.disk.Size), model)}
	rep, err := a.d.Verify(nil)
	if err != nil {
		body = append(body, a.T("menu.verify.failed", a.ui.p.Error(err)))
	} else {
		body = append(body, a.verifyLines(rep)...)
	}
	a.logf("checked the tools partition against its own manifest: ok=%v", rep != nil && rep.OK)
	body = append(body, "", a.T("menu.welcome.keyboard"))
	_, err = a.ui.choose(ctx, body, []string{a.T("menu.continue")}, 0)
	return err
}

func (a *app) verifyLines(rep *drive.VerifyReport) []string {
	var out []string
	switch {
	case rep.OK && rep.Trusted:
		out = append(out, a.T("menu.verify.ok_trusted"))
	case rep.OK:
		out = append(out, a.T("menu.verify.ok_own"))
	default:
		out = append(out, a.T("menu.verify.bad"))
	}
	for i, p := range rep.Problems {
		if i == 8 {
			break
		}
		out = append(out, "  "+termsafe.Name(p))
	}
	for i, d := range rep.Differences {
		if i == 8 {
			out = append(out, a.T("menu.verify.more", len(rep.Differences)-8))
			break
		}
		d.Path, d.Detail = termsafe.Name(d.Path), termsafe.Name(d.Detail)
		out = append(out, "  "+d.String())
	}
	return out
}

// needUnlock unlocks the kit unless it is already.
func (a *app) needUnlock(ctx context.Context) error {
	if a.u != nil {
		return nil
	}
	return a.unlock(ctx)
}

func (a *app) unlock(ctx context.Context) error {
	for a.u == nil {
		body := []string{a.T("menu.unlock.body")}
		if a.tries >= a.o.MaxTries {
			body = append(body, "", a.T("menu.unlock.many", a.tries))
		}
		i, err := a.ui.choose(ctx, body, []string{a.T("menu.unlock.type"), a.T("menu.unlock.identity"), a.T("menu.back")}, 0)
		if err != nil {
			return err
		}
		var pass []byte
		switch i {
		case 0:
			b, ok, err := a.ui.input(ctx, []string{a.T("menu.unlock.prompt"), a.T("menu.welcome.keyboard")}, true)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			pass = b
			if rk, err := kit.ParseRecoveryKey(string(b)); err == nil {
				clear(b)
				pass = []byte(rk)
			}
		case 1:
			p, err := a.identitySecret(ctx)
			if err != nil {
				return err
			}
			if p == nil {
				continue
			}
			pass = p
		default:
			return errBack
		}
		a.ui.show(&Screen{Body: []string{a.T("menu.unlock.working")}})
		u, err := a.d.Unlock(pass, -1, true)
		clear(pass)
		if errors.Is(err, luks.ErrWrongPassphrase) {
			a.tries++
			a.logf("wrong passphrase or key (try %d)", a.tries)
			if err := a.ui.message(ctx, []string{a.T("menu.unlock.wrong", a.tries)}); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		a.u = u
		a.logf("unlocked (keyslot %d)", u.Slot)
		rep, err := a.d.Verify(u)
		if err != nil {
			return err
		}
		a.logf("checked the tools partition against the trusted copy: ok=%v", rep.OK)
		if !rep.OK {
			i, err := a.ui.choose(ctx, append(a.verifyLines(rep), "", a.T("menu.verify.advice")),
				[]string{a.T("menu.verify.continue"), a.T("menu.main.poweroff")}, 1)
			if err != nil {
				return err
			}
			if i != 0 {
				return errHalt
			}
		}
	}
	return nil
}

// identitySecret finds age identity files on the other drives (read-only), lets the
// person choose one, and opens the kit's escrow with it. nil: none was chosen.
func (a *app) identitySecret(ctx context.Context) ([]byte, error) {
	a.ui.show(&Screen{Body: []string{a.T("menu.identity.looking")}})
	parts, err := a.sys.Partitions(a.disk.Path)
	if err != nil {
		return nil, err
	}
	type cand struct {
		part Partition
		rel  string
	}
	var cands []cand
	for _, p := range parts {
		if !p.Removable || p.Encrypted != "" || p.FS == "" {
			continue
		}
		dir, err := a.sys.Mount(p, false)
		if err != nil {
			a.logf("mounting %s: %v", p.Path, err)
			continue
		}
		for _, rel := range identityFiles(dir) {
			cands = append(cands, cand{p, rel})
		}
		a.sys.Unmount(dir)
	}
	if len(cands) == 0 {
		return nil, a.ui.message(ctx, []string{a.T("menu.identity.none")})
	}
	var items []string
	for _, c := range cands {
		items = append(items, fmt.Sprintf("%s  (%s %s)", c.rel, c.part.Path, c.part.Label))
	}
	i, err := a.ui.choose(ctx, []string{a.T("menu.identity.choose")}, items, 0)
	if err != nil || i < 0 {
		return nil, err
	}
	c := cands[i]
	dir, err := a.sys.Mount(c.part, false)
	if err != nil {
		return nil, err
	}
	b, rerr := readSmall(filepath.Join(dir, filepath.FromSlash(c.rel)), maxIdentitySize)
	a.sys.Unmount(dir)
	if rerr != nil {
		return nil, rerr
	}
	defer clear(b)
	ids, err := kit.ParseIdentities(b)
	if err != nil {
		return nil, a.ui.message(ctx, []string{a.T("menu.identity.bad", c.rel), a.ui.p.Error(err)})
	}
	rk, err := a.d.SecretFromEscrow(ids)
	if err != nil {
		a.tries++
		return nil, a.ui.message(ctx, []string{a.T("menu.identity.nomatch"), a.ui.p.Error(err)})
	}
	return rk, nil
}

const maxIdentitySize = 64 << 10

// identityFiles lists files in dir and one level below that look like an age identity or
// an unencrypted ssh private key (small files only).
func identityFiles(dir string) []string {
	var out []string
	var look func(rel string, depth int)
	look = func(rel string, depth int) {
		ents, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return
		}
		for i, e := range ents {
			if i > 500 {
				break
			}
			p := path.Join(rel, e.Name())
			if e.IsDir() && depth == 0 && !strings.HasPrefix(e.Name(), ".") {
				look(p, 1)
				continue
			}
			if !e.Type().IsRegular() {
				continue
			}
			b, err := readSmall(filepath.Join(dir, filepath.FromSlash(p)), maxIdentitySize)
			if err != nil {
				continue
			}
			if strings.Contains(string(b), "AGE-SECRET-KEY-") || strings.Contains(string(b), "BEGIN OPENSSH PRIVATE KEY") {
				out = append(out, p)
			}
			clear(b)
		}
	}
	look("", 0)
	return out
}

// keepWarnings is a Warn function for a backup or restore that keeps the first five
// warnings in *w, to be shown under the summary.
func keepWarnings(w *[]string) func(p string, err error) {
	return func(p string, err error) {
		if len(*w) < 5 {
			*w = append(*w, p+": "+err.Error())
		}
	}
}

func readSmall(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() > limit {
		return nil, fmt.Errorf("%s: not a small file", p)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// check verifies the kit again: against the trusted copy once unlocked.
func (a *app) check(ctx context.Context) error {
	a.ui.show(&Screen{Body: []string{a.T("menu.check.working")}})
	rep, err := a.d.Verify(a.u)
	if err != nil {
		return err
	}
	return a.ui.message(ctx, a.verifyLines(rep))
}

// language offers the kit's languages, each in its own name. On a display that cannot
// draw Arabic script, Arabic and Persian say that the menu stays in English.
func (a *app) language(ctx context.Context) error {
	var items []string
	sel := 0
	langs := i18n.Languages()
	for i, l := range langs {
		name := i18n.Name(l)
		if i18n.RTL(l) && !drawsArabic(a.ui.d) {
			name += " (English menu)"
		}
		items = append(items, name)
		if l == a.ui.p.Lang() {
			sel = i
		}
	}
	i, err := a.ui.choose(ctx, nil, items, sel)
	if err != nil || i < 0 {
		return err
	}
	a.setLang(langs[i])
	a.setTitle()
	return nil
}

// cannotRead says why an encrypted partition cannot be read here, and what to do.
func (a *app) cannotRead(p Partition) string {
	switch p.Encrypted {
	case "BitLocker":
		return a.T("menu.part.bitlocker", p.Path)
	case "FileVault":
		return a.T("menu.part.filevault", p.Path)
	case "APFS":
		return a.T("menu.part.apfs", p.Path)
	default:
		return a.T("menu.part.linux", p.Path)
	}
}

// partitionItems lists this computer's partitions (and other drives'), without the kit.
func (a *app) partitionItems(parts []Partition) []string {
	var items []string
	for _, p := range parts {
		var f []string
		f = append(f, p.Path, bytesize.FormatDecimal(p.Size))
		switch {
		case p.Encrypted != "":
			name := p.Encrypted
			if name == "LUKS" {
				name = "Linux" // an encrypted Linux disk, in the person's words
			}
			f = append(f, a.T("menu.part.encrypted", name))
		case p.FS != "":
			f = append(f, fsName(p.FS))
		default:
			f = append(f, a.T("menu.part.unknown"))
		}
		if p.Label != "" {
			f = append(f, "“"+p.Label+"”")
		}
		if p.Removable {
			f = append(f, a.T("menu.part.removable"))
		}
		if p.DiskModel != "" {
			f = append(f, p.DiskModel)
		}
		items = append(items, strings.Join(f, "  "))
	}
	return append(items, a.T("menu.back"))
}

func fsName(fs string) string {
	switch fs {
	case "ntfs":
		return "NTFS"
	case "vfat":
		return "FAT32"
	case "exfat":
		return "exFAT"
	case "ext4", "ext3", "ext2":
		return fs
	case "hfsplus":
		return "HFS+"
	}
	return fs
}

// choosePartition lets the person choose a readable partition and mounts it.
func (a *app) choosePartition(ctx context.Context, body string, writable bool) (Partition, string, error) {
	for {
		parts, err := a.sys.Partitions(a.disk.Path)
		if err != nil {
			return Partition{}, "", err
		}
		if len(parts) == 0 {
			return Partition{}, "", a.back(a.ui.message(ctx, []string{a.T("menu.part.none")}))
		}
		i, err := a.ui.choose(ctx, []string{body}, a.partitionItems(parts), 0)
		if err != nil {
			return Partition{}, "", err
		}
		if i < 0 || i == len(parts) {
			return Partition{}, "", errBack
		}
		p := parts[i]
		if p.Encrypted != "" {
			if err := a.ui.message(ctx, []string{a.cannotRead(p), a.T("menu.part.cannot")}); err != nil {
				return Partition{}, "", err
			}
			continue
		}
		if p.FS == "" {
			if err := a.ui.message(ctx, []string{a.T("menu.part.nofs", p.Path)}); err != nil {
				return Partition{}, "", err
			}
			continue
		}
		a.ui.show(&Screen{Body: []string{a.T("menu.part.mounting", p.Path)}})
		dir, err := a.sys.Mount(p, writable)
		if err != nil {
			if err := a.ui.message(ctx, []string{a.T("menu.part.mountfailed", p.Path), a.ui.p.Error(err)}); err != nil {
				return Partition{}, "", err
			}
			continue
		}
		a.mounted = append(a.mounted, dir)
		a.logf("mounted %s (%s) at %s, writable=%v", p.Path, p.FS, dir, writable)
		return p, dir, nil
	}
}

// back turns a nil error into errBack (a screen that leads nowhere).
func (a *app) back(err error) error {
	if err == nil {
		return errBack
	}
	return err
}

func (a *app) unmount(dir string) error {
	if i := slices.Index(a.mounted, dir); i >= 0 {
		a.mounted = slices.Delete(a.mounted, i, i+1)
	}
	err := a.sys.Unmount(dir)
	a.logf("unmounted %s: %v", dir, err)
	return err
}

func (a *app) openRepo(ctx context.Context, create bool) (*repo.Repository, *repo.Lock, error) {
	a.ui.show(&Screen{Body: []string{a.T("menu.repo.opening")}})
	r, err := a.u.Repository(ctx, create)
	if err != nil {
		return nil, nil, err
	}
	l, err := r.Lock(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	return r, l, nil
}

func snapshotLine(sn *repo.Snapshot) string {
	s := sn.Time.Local().Format("2006-01-02 15:04") + "  " + sn.Hostname
	if len(sn.Tags) > 0 {
		s += "  [" + strings.Join(sn.Tags, ",") + "]"
	}
	return s + "  " + strings.Join(sn.Paths, " ")
}

func (a *app) restore(ctx context.Context) error {
	r, l, err := a.openRepo(ctx, false)
	if errors.Is(err, repo.ErrNoRepository) {
		return a.back(a.ui.message(ctx, []string{a.T("menu.restore.none")}))
	}
	if err != nil {
		return err
	}
	defer l.Unlock()
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return err
	}
	if len(sns) == 0 {
		return a.back(a.ui.message(ctx, []string{a.T("menu.restore.none")}))
	}
	sort.Slice(sns, func(i, j int) bool { return sns[i].Time.After(sns[j].Time) })
	var items []string
	for _, sn := range sns {
		items = append(items, snapshotLine(sn))
	}
	i, err := a.ui.choose(ctx, []string{a.T("menu.restore.snapshot")}, append(items, a.T("menu.back")), 0)
	if err != nil || i < 0 || i == len(sns) {
		return a.back(err)
	}
	sn := sns[i]
	include, err := a.chooseContent(ctx, r, sn)
	if err != nil {
		return err
	}
	part, dir, err := a.choosePartition(ctx, a.T("menu.restore.where"), true)
	if err != nil {
		return err
	}
	folder, err := a.chooseFolder(ctx, dir)
	if err != nil {
		a.unmount(dir)
		return err
	}
	targetOS := "linux"
	switch part.FS {
	case "ntfs", "vfat", "exfat":
		targetOS = "windows"
	case "hfsplus":
		targetOS = "darwin"
	}
	body := []string{a.T("menu.restore.working", snapshotLine(sn), part.Path)}
	var warnings []string
	res, err := r.Restore(ctx, sn, repo.RestoreOptions{
		Target: folder, Include: include, TargetOS: targetOS,
		Warn: keepWarnings(&warnings),
		Progress: func(p repo.RestoreProgress) {
			a.ui.progress(body, p.BytesDone, p.TotalBytes, a.T("menu.progress.files", p.FilesDone, p.TotalFiles, bytesize.FormatDecimal(p.BytesDone)))
		},
	})
	uerr := a.unmount(dir)
	if err != nil {
		return err
	}
	rel, _ := filepath.Rel(dir, folder)
	sum := []string{a.T("menu.restore.done", res.Files, bytesize.FormatDecimal(res.Bytes), "/"+filepath.ToSlash(rel), part.Path)}
	if res.Errors > 0 {
		sum = append(sum, a.T("menu.restore.errors", res.Errors))
		sum = append(sum, warnings...)
	}
	if len(res.Renamed) > 0 {
		sum = append(sum, a.T("menu.restore.renamed", len(res.Renamed)))
		for i, rn := range res.Renamed {
			if i == 5 {
				break
			}
			sum = append(sum, "  "+rn.SnapshotPath+" → "+rn.RestoredPath)
		}
	}
	if uerr != nil {
		sum = append(sum, a.T("menu.close.failed"), a.ui.p.Error(uerr))
	}
	a.logf("restored %d files, %d bytes, %d errors, %d renamed", res.Files, res.Bytes, res.Errors, len(res.Renamed))
	return a.ui.message(ctx, sum)
}

// chooseContent asks for the whole snapshot or some of its folders: the entries just
// below each backed-up path. nil: everything.
func (a *app) chooseContent(ctx context.Context, r *repo.Repository, sn *repo.Snapshot) ([]string, error) {
	i, err := a.ui.choose(ctx, []string{a.T("menu.restore.what")}, []string{a.T("menu.restore.all"), a.T("menu.restore.some"), a.T("menu.back")}, 0)
	if err != nil || i < 0 || i == 2 {
		return nil, a.back(err)
	}
	if i == 0 {
		return nil, nil
	}
	var entries []string
	err = r.Walk(ctx, *sn.Tree, "/", func(p string, n *repo.Node) error {
		for _, sp := range sn.Paths {
			sp = path.Clean("/" + filepath.ToSlash(sp))
			switch {
			case path.Dir(p) == sp:
				if len(entries) < 200 {
					entries = append(entries, p)
				}
				if n.Type == "dir" {
					return filepath.SkipDir
				}
				return nil
			case p == sp || strings.HasPrefix(sp, p+"/"):
				return nil
			}
		}
		if n.Type == "dir" {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, nil
	}
	ticks, ok, err := a.ui.checklist(ctx, []string{a.T("menu.restore.pick")}, entries, make([]bool, len(entries)))
	if err != nil || !ok {
		return nil, a.back(err)
	}
	var include []string
	for i, t := range ticks {
		if t {
			include = append(include, entries[i])
		}
	}
	if len(include) == 0 {
		return nil, errBack
	}
	return include, nil
}

// chooseFolder browses the mounted partition for the folder to restore into; the
// default is a new folder named after the date.
func (a *app) chooseFolder(ctx context.Context, root string) (string, error) {
	cur := root
	for {
		rel, _ := filepath.Rel(root, cur)
		shown := "/" + filepath.ToSlash(rel)
		if rel == "." {
			shown = "/"
		}
		newName := "travelkit-restore-" + a.sys.Now().Format("2006-01-02-1504")
		items := []string{a.T("menu.folder.new", newName), a.T("menu.folder.here", shown)}
		var subs []string
		if ents, err := os.ReadDir(cur); err == nil {
			for _, e := range ents {
				if e.IsDir() && len(subs) < 60 {
					subs = append(subs, e.Name())
				}
			}
		}
		for _, s := range subs {
			items = append(items, s+"/")
		}
		if cur != root {
			items = append(items, "..")
		}
		items = append(items, a.T("menu.back"))
		i, err := a.ui.choose(ctx, []string{a.T("menu.folder.body", shown)}, items, 0)
		if err != nil {
			return "", err
		}
		switch {
		case i < 0 || i == len(items)-1:
			return "", errBack
		case i == 0:
			dir := filepath.Join(cur, newName)
			if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return "", err
			}
			return dir, nil
		case i == 1:
			return cur, nil
		case i-2 < len(subs):
			cur = filepath.Join(cur, subs[i-2])
		default: // ..
			cur = filepath.Dir(cur)
		}
	}
}

// skipTop are top-level folders of a system partition not offered for rescue first.
var skipTop = map[string]bool{
	"$recycle.bin": true, "system volume information": true, "windows": true, "program files": true,
	"program files (x86)": true, "programdata": true, "recovery": true, "boot": true, "efi": true,
	"proc": true, "sys": true, "dev": true, "run": true, "tmp": true, "lost+found": true,
	"bin": true, "sbin": true, "lib": true, "lib64": true, "usr": true, "var": true, "etc": true,
	"$windows.~bt": true, "$windows.~ws": true, "perflogs": true, "msocache": true,
}

// skipProfile are Windows profile folders that are not a person's.
var skipProfile = map[string]bool{"public": true, "default": true, "default user": true, "all users": true}

// rescueCandidates lists the folders offered for rescue: Windows user profiles and
// Linux homes first, then the other top-level folders.
func rescueCandidates(root string) []string {
	var first, rest []string
	tops, _ := os.ReadDir(root)
	for _, t := range tops {
		if !t.IsDir() {
			continue
		}
		name := t.Name()
		low := strings.ToLower(name)
		if low == "users" || low == "home" {
			ents, _ := os.ReadDir(filepath.Join(root, name))
			for _, e := range ents {
				if e.IsDir() && !skipProfile[strings.ToLower(e.Name())] && !strings.HasPrefix(e.Name(), ".") {
					first = append(first, name+"/"+e.Name())
				}
			}
			continue
		}
		if skipTop[low] || strings.HasPrefix(name, ".") {
			continue
		}
		rest = append(rest, name)
	}
	out := append(first, rest...)
	if len(out) > 200 {
		out = out[:200]
	}
	return out
}

// computerName guesses the computer's name from its system partition: /etc/hostname on
// Linux; otherwise the partition's label, or its device name.
func computerName(root string, p Partition) string {
	if b, err := readSmall(filepath.Join(root, "etc", "hostname"), 256); err == nil {
		if n := strings.TrimSpace(string(b)); n != "" && !strings.ContainsAny(n, " /\x00") {
			return n
		}
	}
	if p.Label != "" {
		return strings.ReplaceAll(p.Label, " ", "-")
	}
	return "computer-" + path.Base(p.Path)
}

func (a *app) rescue(ctx context.Context) error {
	part, dir, err := a.choosePartition(ctx, a.T("menu.rescue.where"), false)
	if err != nil {
		return err
	}
	defer func() {
		if slices.Contains(a.mounted, dir) {
			a.unmount(dir)
		}
	}()
	cands := rescueCandidates(dir)
	if len(cands) == 0 {
		return a.back(a.ui.message(ctx, []string{a.T("menu.rescue.empty", part.Path)}))
	}
	ticks, ok, err := a.ui.checklist(ctx, []string{a.T("menu.rescue.pick", part.Path)}, cands, make([]bool, len(cands)))
	if err != nil || !ok {
		return a.back(err)
	}
	var paths []string
	for i, t := range ticks {
		if t {
			paths = append(paths, filepath.Join(dir, filepath.FromSlash(cands[i])))
		}
	}
	if len(paths) == 0 {
		return errBack
	}
	host := computerName(dir, part)
	r, l, err := a.openRepo(ctx, true)
	if err != nil {
		return err
	}
	defer l.Unlock()
	body := []string{a.T("menu.rescue.working", part.Path, host)}
	var warnings []string
	res, err := r.Backup(ctx, repo.BackupOptions{
		Paths: paths, Tags: []string{"rescue"}, Host: host, Time: a.sys.Now(), ProgramVersion: "travelkit " + a.o.Version,
		Warn: keepWarnings(&warnings),
		Progress: func(p repo.BackupProgress) {
			a.ui.progress(body, p.BytesDone, p.TotalBytes, a.T("menu.progress.files", p.FilesDone, p.TotalFiles, bytesize.FormatDecimal(p.BytesDone)))
		},
	})
	uerr := a.unmount(dir)
	if err != nil {
		return err
	}
	if err := a.u.Volume.Flush(); err != nil {
		return err
	}
	sn := res.Snapshot
	var files uint
	var bytes uint64
	if sn.Summary != nil {
		files, bytes = sn.Summary.TotalFilesProcessed, sn.Summary.TotalBytesProcessed
	}
	a.logf("rescued %d files, %d bytes from %s as snapshot %s (host %s, tag rescue), %d errors", files, bytes, part.Path, sn.ID.Str(), host, res.Errors)
	sum := []string{a.T("menu.rescue.done", files, bytesize.FormatDecimal(int64(bytes)), part.Path, sn.ID.Str(), host)}
	if res.Errors > 0 {
		sum = append(sum, a.T("menu.restore.errors", res.Errors))
		sum = append(sum, warnings...)
	}
	if uerr != nil {
		sum = append(sum, a.T("menu.close.failed"), a.ui.p.Error(uerr))
	}
	return a.ui.message(ctx, sum)
}
