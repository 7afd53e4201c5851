package menu

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"travelkit/builder"
	"travelkit/drive"
	"travelkit/luks"
	"travelkit/repo"
)

// fakeSystem is a computer whose partitions are folders and whose kit is an image file.
type fakeSystem struct {
	mu       sync.Mutex
	kit      string
	plugged  bool
	parts    []Partition
	dirs     map[string]string // partition path -> folder
	mounted  map[string]bool
	writable map[string]bool
	halted   string
	opened   []*fileDevice
}

type fileDevice struct {
	*os.File
	size   int64
	closed bool
}

func (f *fileDevice) Size() int64 { return f.size }
func (f *fileDevice) Close() error {
	f.closed = true
	return f.File.Close()
}

func (s *fakeSystem) SecureBoot() (string, string) { return "on", "integrity" }
func (s *fakeSystem) FindKits() ([]KitDisk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.plugged {
		return nil, nil
	}
	st, err := os.Stat(s.kit)
	if err != nil {
		return nil, err
	}
	return []KitDisk{{Path: "/dev/sdb", KitID: "amina", Size: st.Size(), Model: "USB stick"}}, nil
}
func (s *fakeSystem) OpenKit(path string) (Device, error) {
	f, err := os.OpenFile(s.kit, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	st, _ := f.Stat()
	d := &fileDevice{File: f, size: st.Size()}
	s.opened = append(s.opened, d)
	return d, nil
}
func (s *fakeSystem) Partitions(exclude string) ([]Partition, error) { return s.parts, nil }
func (s *fakeSystem) Mount(p Partition, writable bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mounted[p.Path] {
		return "", fmt.Errorf("%s is mounted already", p.Path)
	}
	s.mounted[p.Path] = true
	s.writable[p.Path] = writable
	return s.dirs[p.Path], nil
}
func (s *fakeSystem) Unmount(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, d := range s.dirs {
		if d == dir && s.mounted[p] {
			s.mounted[p] = false
			return nil
		}
	}
	return fmt.Errorf("%s is not mounted", dir)
}
func (s *fakeSystem) Halt(reboot bool) error { s.halted = fmt.Sprint(reboot); return nil }
func (s *fakeSystem) Now() time.Time         { return time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC) }

// screens records what the menu shows and lets the test wait for a screen.
type screens struct {
	mu   sync.Mutex
	all  []string
	seen int
	ch   chan struct{}
	// arabic: the display joins Arabic letters and writes right to left
	arabic bool
}

func (s *screens) DrawsArabic() bool { return s.arabic }

func (s *screens) Show(sc *Screen) {
	s.mu.Lock()
	s.all = append(s.all, Render(sc))
	s.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// wait returns the first screen after the last one waited for that contains text.
func (s *screens) wait(t *testing.T, text string) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		for i := s.seen; i < len(s.all); i++ {
			if strings.Contains(s.all[i], text) {
				s.seen = i + 1
				sc := s.all[i]
				s.mu.Unlock()
				return sc
			}
		}
		last := ""
		if len(s.all) > 0 {
			last = s.all[len(s.all)-1]
		}
		s.mu.Unlock()
		select {
		case <-s.ch:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no screen with %q; the last one:\n%s", text, last)
		}
	}
}

var itemLine = regexp.MustCompile(`(?m)^ *>? *(?:\x1b\[7m)? *(\d+)\. (.*)$`)

// item is the number of the item whose line holds text.
func item(t *testing.T, screen, text string) string {
	t.Helper()
	for _, m := range itemLine.FindAllStringSubmatch(screen, -1) {
		if strings.Contains(m[2], text) {
			return m[1]
		}
	}
	t.Fatalf("no item %q on\n%s", text, screen)
	return ""
}

type menuRun struct {
	t    *testing.T
	sys  *fakeSystem
	scr  *screens
	keys *io.PipeWriter
	done chan struct{}
	act  Action
	err  error
}

func startMenu(t *testing.T, sys *fakeSystem, lang string) *menuRun {
	return startMenuOn(t, sys, lang, false)
}

// startMenuOn runs the menu on a display that draws Arabic script or not.
func startMenuOn(t *testing.T, sys *fakeSystem, lang string, arabic bool) *menuRun {
	pr, pw := io.Pipe()
	r := &menuRun{t: t, sys: sys, scr: &screens{ch: make(chan struct{}, 1), arabic: arabic}, keys: pw, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.act, r.err = Run(context.Background(), Options{System: sys, Display: r.scr, Keys: NewKeys(pr), Lang: lang,
			FindWait: 200 * time.Millisecond, Version: "test"})
	}()
	t.Cleanup(func() {
		pw.Close()
		<-r.done
	})
	return r
}

func (r *menuRun) send(keys string) {
	r.t.Helper()
	if _, err := io.WriteString(r.keys, keys); err != nil {
		r.t.Fatal(err)
	}
}

func (r *menuRun) wait(text string) string { r.t.Helper(); return r.scr.wait(r.t, text) }

func (r *menuRun) finish() {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.t.Fatal("the menu did not end")
	}
}

var testPass = []byte("correct horse battery")

// newKit builds a small kit with the builder (cheap keyslots) and returns its image.
func newKit(t *testing.T, dir string, escrow ...builder.Escrow) string {
	t.Helper()
	dist := filepath.Join(dir, "dist")
	os.MkdirAll(dist, 0o755)
	bin := make([]byte, 64<<10)
	rand.Read(bin)
	os.WriteFile(filepath.Join(dist, "travelkit-linux-amd64"), bin, 0o755)
	img := filepath.Join(dir, "kit.img")
	p, err := builder.MakePlan(builder.Config{Name: "amina", Languages: []string{"en"}, ToolsSize: 64 << 20, RecoveryKey: true,
		LUKS:      luks.FormatOptions{PBKDF: luks.PBKDF{Type: "pbkdf2", Hash: "sha256", Iterations: 1000}},
		Platforms: []string{"linux/amd64"}, Escrow: escrow}, builder.PlanOptions{Target: img, Size: 256 << 20, BinaryDirs: []string{dist}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := builder.Build(context.Background(), p, builder.BuildOptions{Passphrase: testPass}); err != nil {
		t.Fatal(err)
	}
	return img
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func newSystem(t *testing.T, dir string) *fakeSystem {
	s := &fakeSystem{kit: newKit(t, dir), plugged: true, dirs: map[string]string{}, mounted: map[string]bool{}, writable: map[string]bool{}}
	add := func(p Partition) {
		d := filepath.Join(dir, "part-"+filepath.Base(p.Path))
		os.MkdirAll(d, 0o755)
		s.parts = append(s.parts, p)
		s.dirs[p.Path] = d
	}
	add(Partition{Path: "/dev/nvme0n1p1", Disk: "/dev/nvme0n1", Size: 100 << 20, FS: "vfat", Label: "SYSTEM"})
	add(Partition{Path: "/dev/nvme0n1p3", Disk: "/dev/nvme0n1", Size: 200 << 30, FS: "", Encrypted: "BitLocker"})
	add(Partition{Path: "/dev/nvme0n1p4", Disk: "/dev/nvme0n1", Size: 100 << 30, FS: "ntfs", Label: "Windows"})
	add(Partition{Path: "/dev/sdc1", Disk: "/dev/sdc", Size: 32 << 30, FS: "exfat", Removable: true, DiskModel: "SanDisk"})
	return s
}

// The whole way through, in process: unlock (a wrong passphrase first), rescue a Windows
// user folder, restore it onto an exFAT stick (names mapped), power off; then the
// snapshot, the restored files and the closed kit are checked with package drive.
func TestMenuRescueRestore(t *testing.T) {
	dir := t.TempDir()
	sys := newSystem(t, dir)
	win := sys.dirs["/dev/nvme0n1p4"]
	writeTree(t, win, map[string]string{
		"Users/amina/Documents/report.txt":  "report",
		"Users/amina/Documents/a:b?.txt":    "colon",
		"Users/amina/Desktop/Заметки.txt":   "заметки",
		"Users/Public/Documents/shared.txt": "shared",
		"Users/Default/NTUSER.DAT":          "x",
		"Windows/System32/config/SYSTEM":    "hive",
		"Projects/site/index.html":          "<html>",
	})
	r := startMenu(t, sys, "")
	s := r.wait("Continue")
	if !strings.Contains(s, "Secure Boot: on · kernel lockdown: integrity") || !strings.Contains(s, "kit amina, made ") ||
		!strings.Contains(s, "every file matches its manifest") {
		t.Errorf("first screen:\n%s", s)
	}
	r.send("\r")
	r.wait("What do you want to do?")
	r.send("2")
	r.wait("Type the passphrase")
	r.send("1")
	r.wait("Passphrase or recovery key:")
	r.send("wrong\r")
	r.wait("wrong try 1")
	r.send("\r")
	r.wait("Type the passphrase")
	r.send("1")
	r.wait("Passphrase or recovery key:")
	r.send(string(testPass))
	s = r.wait("[ " + strings.Repeat("*", len(testPass)) + "_ ]")
	if strings.Contains(s, string(testPass)) {
		t.Fatal("the passphrase is shown on the screen")
	}
	r.send("\r")
	s = r.wait("holds the files to save")
	if !strings.Contains(s, "BitLocker (encrypted)") || !strings.Contains(s, "“Windows”") || !strings.Contains(s, "exFAT") {
		t.Errorf("partitions:\n%s", s)
	}
	r.send(item(t, s, "BitLocker"))
	r.wait("encrypted with BitLocker")
	r.send("\r")
	s = r.wait("holds the files to save")
	r.send(item(t, s, "Windows"))
	s = r.wait("Tick the folders to save")
	if !strings.Contains(s, " 1. [ ] Users/amina") || !strings.Contains(s, "Projects") || strings.Contains(s, "Public") ||
		strings.Contains(s, "Default") || strings.Contains(s, "Windows\r") {
		t.Errorf("rescue candidates:\n%s", s)
	}
	r.send(" ") // the first item
	r.wait("[x] Users/amina")
	r.send("\r")
	s = r.wait("tagged rescue")
	if !strings.Contains(s, "computer Windows") || !strings.Contains(s, "3 files") {
		t.Errorf("rescue summary:\n%s", s)
	}
	if sys.writable["/dev/nvme0n1p4"] || sys.mounted["/dev/nvme0n1p4"] {
		t.Error("the rescued partition was mounted writable, or left mounted")
	}
	r.send("\r")
	r.wait("What do you want to do?")
	r.send("1")
	s = r.wait("Which snapshot")
	r.send(item(t, s, "[rescue]"))
	r.wait("only some folders?")
	r.send("1")
	s = r.wait("Where should the files go?")
	r.send(item(t, s, "SanDisk"))
	r.wait("Restore into a new folder travelkit-restore-2026-12-01-0930")
	r.send("1")
	s = r.wait("Done:")
	if !strings.Contains(s, "3 files") || !strings.Contains(s, "1 name this filesystem cannot hold was changed") {
		t.Errorf("restore summary:\n%s", s)
	}
	r.send("\r")
	r.wait("What do you want to do?")
	r.send("5")
	r.wait("The kit is closed.")
	r.finish()
	if r.err != nil || r.act != PowerOff {
		t.Fatalf("Run: %v, %v", r.act, r.err)
	}
	for p, m := range sys.mounted {
		if m {
			t.Errorf("%s left mounted", p)
		}
	}
	for _, d := range sys.opened {
		if !d.closed {
			t.Error("the kit device was left open")
		}
	}

	// Restored on the stick: the rescued files, the Windows-invalid name mapped.
	out := filepath.Join(sys.dirs["/dev/sdc1"], "travelkit-restore-2026-12-01-0930")
	var got []string
	filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(out, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return nil
	})
	prefix := strings.TrimPrefix(filepath.ToSlash(win), "/") + "/Users/amina/"
	want := []string{prefix + "Desktop/Заметки.txt", prefix + "Documents/" + repo.SafeName("a:b?.txt", repo.WindowsNames), prefix + "Documents/report.txt"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("restored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The snapshot in the kit, read with package drive.
	f, err := os.Open(sys.kit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	d, err := drive.Open(&fileDevice{File: f, size: st.Size()})
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Unlock(testPass, -1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	rp, err := u.Repository(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	sns, err := rp.Snapshots(context.Background())
	if err != nil || len(sns) != 1 {
		t.Fatalf("snapshots: %v, %d", err, len(sns))
	}
	if sns[0].Hostname != "Windows" || strings.Join(sns[0].Tags, ",") != "rescue" || !sns[0].Time.Equal(sys.Now()) {
		t.Errorf("rescue snapshot: host %q tags %v time %v", sns[0].Hostname, sns[0].Tags, sns[0].Time)
	}
	if u.FS.Replayed() != 0 {
		t.Error("the kit's filesystem was not closed cleanly")
	}
	rep, err := d.Verify(u)
	if err != nil || !rep.OK {
		t.Errorf("verify after the menu: %v %+v", err, rep)
	}
}

// No kit: a clear screen that says so; plugging the kit in is noticed without a key.
func TestMenuNoKitThenPlugged(t *testing.T) {
	dir := t.TempDir()
	sys := newSystem(t, dir)
	sys.plugged = false
	r := startMenu(t, sys, "ru")
	s := r.wait("Накопитель комплекта не найден.")
	if !strings.Contains(s, "Искать снова") || !strings.Contains(s, "Выключить") {
		t.Errorf("no-kit screen:\n%s", s)
	}
	sys.mu.Lock()
	sys.plugged = true
	sys.mu.Unlock()
	r.wait("Продолжить")
	r.send("\x1b") // Esc on the first screen goes on as well
	r.wait("Что вы хотите сделать?")
	r.send("6")
	r.wait("Комплект закрыт.")
	r.finish()
	if r.act != Reboot {
		t.Errorf("action %v, want Reboot", r.act)
	}
}

// The keyboard going away (no console left) ends the menu cleanly: the kit is closed.
func TestMenuInputGone(t *testing.T) {
	sys := newSystem(t, t.TempDir())
	r := startMenu(t, sys, "fa")
	s := r.wait("Continue")
	if !strings.Contains(s, "Persian cannot be drawn on this screen: the menu is in English.") {
		t.Errorf("fa fallback note missing:\n%s", s)
	}
	r.keys.Close()
	r.finish()
	if !errors.Is(r.err, ErrNoInput) {
		t.Errorf("Run: %v", r.err)
	}
	for _, d := range sys.opened {
		if !d.closed {
			t.Error("the kit device was left open")
		}
	}
}

// An Arabic-capable display (the framebuffer's) gets the menu in Arabic and Persian.
func TestMenuArabicAndPersian(t *testing.T) {
	sys := newSystem(t, t.TempDir())
	r := startMenuOn(t, sys, "ar", true)
	s := r.wait("متابعة")
	if strings.Contains(s, "English") || !strings.Contains(s, "الإقلاع الآمن (Secure Boot): مفعَّل") {
		t.Errorf("the first screen in Arabic:\n%s", s)
	}
	r.send("\r")
	s = r.wait("ماذا تريد أن تفعل؟")
	r.send(item(t, s, "اللغة"))
	s = r.wait("فارسی")
	if strings.Contains(s, "English menu") {
		t.Errorf("an Arabic-capable display offers Persian in English:\n%s", s)
	}
	r.send(item(t, s, "فارسی"))
	s = r.wait("می‌خواهید چه کار کنید؟")
	r.send(item(t, s, "خاموش کردن"))
	r.wait("کیت بسته شد.")
	r.finish()
}

func TestKeys(t *testing.T) {
	pr, pw := io.Pipe()
	k := NewKeys(pr)
	go func() {
		io.WriteString(pw, "\x1b[A\x1bOB\r\n\r7 \x7fж")
		time.Sleep(200 * time.Millisecond)
		io.WriteString(pw, "\x1b")
		time.Sleep(200 * time.Millisecond)
		pw.Close()
	}()
	want := []Key{{Kind: KeyUp}, {Kind: KeyDown}, {Kind: KeyEnter}, {Kind: KeyEnter}, {Kind: KeyRune, Rune: '7'},
		{Kind: KeySpace}, {Kind: KeyBackspace}, {Kind: KeyRune, Rune: 'ж'}, {Kind: KeyEsc}}
	for i, w := range want {
		got, err := k.Read(context.Background(), 0)
		if err != nil || got != w {
			t.Fatalf("key %d: %+v %v, want %+v", i, got, err, w)
		}
	}
	if _, err := k.Read(context.Background(), 0); !errors.Is(err, ErrNoInput) {
		t.Errorf("after the input closed: %v", err)
	}
}

func TestSanitize(t *testing.T) {
	in := "evil\x1b[2Jname\u202e\x07\xff.txt"
	if got := Sanitize(in); got != `evil\x1b[2Jname\u202e\x07\xff.txt` {
		t.Errorf("Sanitize: %q", got)
	}
	if got := Sanitize("می\u200cخواهید\u200c\x1b[2J\u202e"); got != "می\u200cخواهید\u200c"+`\x1b[2J\u202e` {
		t.Errorf("Sanitize keeps Persian's joiners only: %q", got)
	}
	r := Render(&Screen{Title: "t", Items: []string{"\x1b]0;owned\x07"}})
	if strings.Contains(r, "\x1b]") || strings.Contains(r, "\x07") {
		t.Errorf("Render lets an escape sequence through: %q", r)
	}
}

// A colleague's age identity on another USB stick unlocks the kit (its escrow file), and a
// tampered tools partition is named before and after unlocking.
func TestMenuIdentityTampered(t *testing.T) {
	dir := t.TempDir()
	idFile := filepath.Join(dir, "colleague.txt")
	out, err := exec.Command("age-keygen", "-o", idFile).CombinedOutput()
	if err != nil {
		t.Fatalf("age-keygen (scripts/install-test-deps.sh installs age): %v\n%s", err, out)
	}
	pub := regexp.MustCompile(`age1\S+`).FindString(string(out))
	sys := &fakeSystem{kit: newKit(t, dir, builder.Escrow{Name: "colleague", Recipient: pub}), plugged: true,
		dirs: map[string]string{}, mounted: map[string]bool{}, writable: map[string]bool{}}
	stick := filepath.Join(dir, "stick")
	writeTree(t, stick, map[string]string{"keys/notes.txt": "not a key"})
	b, _ := os.ReadFile(idFile)
	writeTree(t, stick, map[string]string{"keys/colleague.txt": string(b)})
	sys.parts = []Partition{{Path: "/dev/sdc1", Disk: "/dev/sdc", FS: "vfat", Removable: true, Label: "COLLEAGUE"}}
	sys.dirs["/dev/sdc1"] = stick
	// Change a file of the tools partition (partition 1 starts at 1 MiB).
	f, err := os.OpenFile(sys.kit, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	d, err := drive.Open(&fileDevice{File: f, size: st.Size()})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := d.ToolsFS()
	if err != nil {
		t.Fatal(err)
	}
	page, err := fs.ReadFile("RESTORE.en.txt", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	corrupt(t, sys.kit, page)

	r := startMenu(t, sys, "")
	s := r.wait("Continue")
	if !strings.Contains(s, "WARNING: the tools partition was changed") || !strings.Contains(s, "RESTORE.en.txt") {
		t.Errorf("first screen:\n%s", s)
	}
	r.send("\r")
	r.wait("What do you want to do?")
	r.send("3") // check the kit: still tampered
	r.wait("RESTORE.en.txt")
	r.send("\r")
	r.wait("What do you want to do?")
	r.send("1")
	r.wait("identity file")
	r.send("2")
	s = r.wait("Which identity file?")
	if strings.Contains(s, "notes.txt") {
		t.Errorf("a file that is no identity is offered:\n%s", s)
	}
	r.send(item(t, s, "keys/colleague.txt"))
	s = r.wait("Continue anyway")
	if !strings.Contains(s, "RESTORE.en.txt") {
		t.Errorf("after unlocking, the trusted check does not name the file:\n%s", s)
	}
	r.send("1")
	r.wait("no backups yet")
	r.send("\r")
	r.wait("What do you want to do?")
	r.send("5")
	r.finish()
	for p, m := range sys.mounted {
		if m {
			t.Errorf("%s left mounted", p)
		}
	}
}

// corrupt changes the first byte of a file's content, found by searching the image,
// without touching the FAT (as someone editing the file in place would).
func corrupt(t *testing.T, img string, data []byte) {
	t.Helper()
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, data[:min(len(data), 4096)])
	if i < 0 {
		t.Fatal("the file's content is not in the image")
	}
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{data[0] ^ 0x20}, int64(i)); err != nil {
		t.Fatal(err)
	}
}
