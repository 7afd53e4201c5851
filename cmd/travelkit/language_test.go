package main

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"travelkit/drive"
	"travelkit/i18n"
	"travelkit/image/ext4"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/remote"
	"travelkit/repo"
	"travelkit/target"
	"travelkit/tpm"
	"travelkit/tpmbind"
)

// cliKey is what a message key of the command line looks like.
var cliKey = regexp.MustCompile(`^cli\.[a-z_]+(\.[a-z_]+)*$`)

// commandFiles returns the names of the command's code files: its .go files but the tests.
func commandFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var code []string
	for _, name := range files {
		if !strings.HasSuffix(name, "_test.go") {
			code = append(code, name)
		}
	}
	if len(code) == 0 {
		t.Fatal("no code files: the test does not run in the command's folder")
	}
	return code
}

// commandStrings calls f with every string literal of the command's code files, its value
// (unquoted) and the name of its file.
func commandStrings(t *testing.T, f func(file, s string)) {
	t.Helper()
	for _, name := range commandFiles(t) {
		file, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					f(name, s)
				}
			}
			return true
		})
	}
}

// TestMessageKeysExist: every string in the command's code that looks like a message key
// ("cli.restore.done", passed to tr.T, errorT, usageErrorT, withCodeT or kept in a
// field) is in the catalogue, whose own test (package i18n) holds every language to
// en.toml. A key with a typo, or a message not written yet, fails here.
func TestMessageKeysExist(t *testing.T) {
	p := i18n.New("en")
	found := 0
	commandStrings(t, func(name, s string) {
		if !cliKey.MatchString(s) {
			return
		}
		found++
		if !p.Has(s) {
			t.Errorf("%s: message %q is not in i18n/messages/en.toml", name, s)
		}
	})
	if found < 40 {
		t.Fatalf("only %d message keys found in the command's code", found)
	}
}

func TestLangArg(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--lang", "fa", "restore"}, "fa"},
		{[]string{"restore", "--lang=ar", "latest"}, "ar"},
		{[]string{"restore", "--", "--lang", "fr"}, ""},
		{[]string{"restore", "--lang"}, ""},
		{nil, ""},
	} {
		if got := langArg(c.args); got != c.want {
			t.Errorf("langArg(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

// TestTechnicalTablesStayExpert: the catalogue lets the table cli.luks name keyslots,
// LUKS2 and cryptsetup (i18n's technicalTables) because only the expert commands
// `travelkit luks ...` print it. A message of any other command taken from it would
// bring those words to a person who should never read them.
func TestTechnicalTablesStayExpert(t *testing.T) {
	expert := regexp.MustCompile(`^(cmd_luks(_[a-z_]+)?|luks_device|luks_partition)\.go$`)
	found := 0
	commandStrings(t, func(name, s string) {
		if strings.HasPrefix(s, "cli.profile.") && name != "cmd_profile.go" {
			t.Errorf("%s: %q is a field of profile check (it may name the profile's [luks] table): give this command a message of its own", name, s)
		}
		if !strings.HasPrefix(s, "cli.luks.") {
			return
		}
		found++
		if !expert.MatchString(name) {
			t.Errorf("%s: %q is a message of the expert luks commands (it may name keyslots and LUKS): give this command a message of its own", name, s)
		}
	})
	if found < 50 {
		t.Fatalf("only %d cli.luks messages found", found)
	}
}

// TestOnePrinter: the language is chosen once (setLanguage, into tr); a second
// i18n.New or i18n.Choose in the command could speak another language than the rest.
func TestOnePrinter(t *testing.T) {
	for _, name := range commandFiles(t) {
		if name == "language.go" {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "i18n" && (sel.Sel.Name == "New" || sel.Sel.Name == "Choose") {
				t.Errorf("%s: i18n.%s: use tr (language.go), the command's one printer", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}

// TestPackageErrorsTranslated: the errors of the packages below that a person meets
// come in their language, wrapped as the commands wrap them; in English their text is
// unchanged (scripts read it); every entry of packageErrors has an error here.
func TestPackageErrorsTranslated(t *testing.T) {
	samples := []error{
		&repo.LockedError{Host: "laptop", PID: 7, Time: time.Unix(0, 0)},
		repo.ErrWrongPassword, repo.ErrNoRepository, repo.ErrNoRoom, repo.ErrExists, repo.ErrTooLarge, repo.ErrUnauthenticated,
		repo.ErrNoSubtree, repo.ErrFolderNotCreated, repo.ErrLinkTargetFailed, &repo.MissingBlobError{ID: "0123abcd"},
		&repo.SizeMismatchError{Size: 7, Recorded: 9},
		luks.ErrWrongPassphrase, luks.ErrWrongVolumeKey, luks.ErrNotLUKS,
		&luks.MemoryError{NeedKiB: 1 << 20, AvailableKiB: 1 << 18},
		&drive.LostTableError{Label: "amina", UUID: "u"}, drive.ErrNotKit, drive.ErrNoEscrowFiles, drive.ErrNoEscrowOpens,
		&drive.SharesNeededError{Need: 3, Have: 1}, &kit.NeedMoreError{Need: 3, Have: 2},
		kit.ErrIsShare, kit.ErrIncorrectIdentity, kit.ErrBadRecoveryKey, &kit.TamperedError{KitID: "k"},
		&drive.TooSmallError{Disk: 40 << 20, Tools: 64 << 20, Need: 98 << 20},
		&target.ReadBlockError{Off: 4096, Err: errors.New("input/output error")},
		target.ErrNeedAdmin, target.ErrWriteProtected, &target.RefusedError{Path: "/dev/sda", Reason: "it holds the running system"},
		tpmbind.ErrNotBound, tpm.ErrNoTPM, &tpm.NoTPMError{Spec: "auto", Err: errors.New("none")}, &tpm.WrongPINError{},
		&tpm.LockoutError{}, &tpm.PCRMismatchError{Bank: "sha256", Changed: []int{7}}, &tpm.WrongTPMError{Err: errors.New("x")},
		&remote.NoSpaceError{Host: "h", File: "data/01", Free: 1 << 20, Need: 2 << 20, Err: errors.New("x")},
		remote.ErrAuth, remote.ErrMissing, remote.ErrNoSpace, remote.ErrUnreachable, remote.ErrUntrusted, remote.ErrOtherRepository, remote.ErrRefused,
		&drive.KitFullError{Free: 1 << 20, Need: 2 << 20, Err: ext4.ErrNoSpace},
		ext4.ErrNoSpace, ext4.ErrNeedsFsck, &repo.DiskFullError{Need: 1 << 20, Err: syscall.ENOSPC}, syscall.ENOSPC, context.Canceled,
		&fs.PathError{Op: "open", Path: "/x", Err: fs.ErrPermission}, &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist},
		&fs.PathError{Op: "open", Path: "/x", Err: &repo.NotRegularError{Mode: os.ModeNamedPipe}},
		&fs.PathError{Op: "open", Path: "/x", Err: &repo.NotFolderError{Mode: os.ModeSymlink, Err: syscall.ELOOP}},
	}
	defer func(p *i18n.Printer) { tr = p }(tr)
	used := make([]bool, len(packageErrors))
	for _, sample := range samples {
		err := fmt.Errorf("restoring notes/a.txt: %w", sample)
		tr = i18n.New("en")
		if got := describeError(err); got != err.Error() {
			t.Errorf("English: %q, want the error's own text %q", got, err.Error())
		}
		i := slices.IndexFunc(packageErrors, func(pe func(error) (i18n.Message, bool)) bool { _, ok := pe(err); return ok })
		if i < 0 {
			t.Errorf("%T %v: no entry of packageErrors matches it", sample, sample)
			continue
		}
		used[i] = true
		m, _ := packageErrors[i](err)
		for _, lang := range i18n.Languages() {
			if lang == "en" {
				continue
			}
			tr = i18n.New(lang)
			got := describeError(err)
			if got == m.Key || got == m.In(english) || strings.Contains(got, sample.Error()) && len(m.Args) == 0 {
				t.Errorf("%s: %T: %q is not in the language", lang, sample, got)
			}
		}
	}
	for i, u := range used {
		if !u {
			t.Errorf("packageErrors[%d] is matched by no sample: add its error here", i)
		}
	}
}

// TestFileKindsTranslated: a file or folder swapped under the backup is warned in the
// person's language, the kind of what is there now too (fileKind); in English the
// catalogue's words are repo's own, kind by kind, and no two kinds read the same in
// any language.
func TestFileKindsTranslated(t *testing.T) {
	modes := []os.FileMode{os.ModeNamedPipe, os.ModeDevice | os.ModeCharDevice, os.ModeDevice, os.ModeSocket,
		os.ModeSymlink, os.ModeDir, os.ModeIrregular, 0}
	errs := []func(os.FileMode) (error, string){
		func(m os.FileMode) (error, string) { return &repo.NotRegularError{Mode: m}, "cli.cause.not_regular" },
		func(m os.FileMode) (error, string) { return &repo.NotFolderError{Mode: m}, "cli.cause.not_folder" },
	}
	for _, lang := range i18n.Languages() {
		p := i18n.New(lang)
		seen := map[string]os.FileMode{}
		for _, m := range modes {
			kind := fileKind(m).In(p)
			if prev, ok := seen[kind]; ok {
				t.Errorf("%s: %v and %v both read %q", lang, prev, m, kind)
			}
			seen[kind] = m
			for _, mk := range errs {
				err, key := mk(m)
				msg, ok := packageError(fmt.Errorf("backing up: %w", &fs.PathError{Op: "open", Path: "/x", Err: err}))
				if !ok || msg.Key != key {
					t.Fatalf("%T: message %q, want %s", err, msg.Key, key)
				}
				got := msg.In(p)
				switch {
				case lang == "en" && got != err.Error():
					t.Errorf("en: %v: %q, want repo's own words %q", m, got, err.Error())
				case !strings.Contains(got, kind):
					t.Errorf("%s: %v: %q does not say %q", lang, m, got, kind)
				case lang != "en" && (got == msg.In(english) || kind == fileKind(m).In(english)):
					t.Errorf("%s: %v: %q is still in English", lang, m, got)
				}
			}
		}
	}
}

// TestRefusalsTranslated: why a target is refused, and what to do, come in the person's
// language (the target package gives both as messages); in English the error and the hint
// are the target package's text, unchanged.
func TestRefusalsTranslated(t *testing.T) {
	refusal := func(i target.Info, opt target.Options) error {
		t.Helper()
		err := i.Check(opt)
		if err == nil {
			t.Fatalf("%+v: not refused", i)
		}
		return err
	}
	disk := target.Info{Path: "/dev/sdx", Kind: target.BlockDevice, Size: 16e9, Removable: true}
	system, mounted, fixed, held := disk, disk, disk, disk
	system.System = "/"
	mounted.Mounts = []string{"/media/usb"}
	fixed.Removable, fixed.Model = false, "Samsung SSD"
	held.Holders = []target.Holder{{Kind: "crypt", Name: "secret", Dev: "/dev/mapper/secret"}}
	samples := []struct {
		err        error
		reason     string // the English text, as before the catalogue
		hintPrefix string
	}{
		{refusal(system, target.Options{}), "it holds the running system (/)", "plug in the USB drive"},
		{refusal(mounted, target.Options{Write: true}), "it is mounted at /media/usb", "unmount it first (umount /media/usb)"},
		{refusal(fixed, target.Options{Write: true}), "it is not a removable disk (Samsung SSD)", "check that this is the drive you mean; to use a fixed disk anyway, add --allow-fixed"},
		{refusal(held, target.Options{Write: true}), "it is in use by the encrypted volume secret (/dev/mapper/secret)", "unmount what is on it and close it first (cryptsetup close secret)"},
		{target.NoImageError("kit.img"), "the image file does not exist", "give --size to create it (for example --size 8GiB)"},
		{target.ImageSizeError("kit.img", 104857600), "the image file exists with another size (104857600 bytes)", "remove the file to create it anew, or drop --size to reuse it"},
	}
	defer func(p *i18n.Printer) { tr = p }(tr)
	for _, s := range samples {
		var re *target.RefusedError
		if !errors.As(s.err, &re) {
			t.Fatalf("%v: not a RefusedError", s.err)
		}
		err := targetError(fmt.Errorf("building: %w", s.err))
		tr = i18n.New("en")
		if re.Reason != s.reason || !strings.HasSuffix(describeError(err), ": "+s.reason) {
			t.Errorf("English: reason %q (%q), want %q", re.Reason, describeError(err), s.reason)
		}
		if h := hintIn(err, tr); !strings.HasPrefix(h, s.hintPrefix) {
			t.Errorf("English: hint %q, want %q...", h, s.hintPrefix)
		}
		if exitCodeOf(err) != ExitRefused {
			t.Errorf("%v: exit code %d, want %d", err, exitCodeOf(err), ExitRefused)
		}
		for _, lang := range i18n.Languages() {
			if lang == "en" {
				continue
			}
			tr = i18n.New(lang)
			if got := describeError(err); strings.Contains(got, s.reason) {
				t.Errorf("%s: %q still has the English reason", lang, got)
			}
			if got := hintIn(err, tr); got == "" || strings.Contains(got, s.hintPrefix) {
				t.Errorf("%s: hint %q is not in the language", lang, got)
			}
		}
	}
}
