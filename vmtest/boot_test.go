package vmtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"travelkit/boot"
	"travelkit/i18n"
	"travelkit/internal/ocr"
	"travelkit/repo"
)

// The kit boots: Debian's signed shim, grub and kernel from the kit's tools partition,
// the initramfs travelkit wrote, and the menu, driven over the serial console. Three
// boots: Secure Boot on (rescue from an NTFS disk, restore onto another, a wrong then
// the right passphrase), Secure Boot off (a kit made bootable by refresh, a tampered
// tools partition, the menu drawn on the framebuffer in Arabic and Persian and read back
// by OCR from a screendump, unlock with a colleague's identity on a second stick, the
// menu in Russian), and no kit at all (no framebuffer: Persian falls back to English on
// the text console).

const (
	menuTimeout = 20 * time.Minute // firmware to menu under TCG: a minute or two; far more on an overloaded host
	stepTimeout = 10 * time.Minute // one step: unlocking and hashing the tools partition are slow under TCG
)

// bootKit is a bootable kit image built by the CLI with the test boot bundle.
type bootKit struct {
	*kit
	bundle   string
	identity string // the escrow colleague's age identity file
}

// buildBootKit builds the kit with the boot bundle; refreshed: built without boot files
// ([boot] enable = false), then made bootable by `travelkit refresh --boot` on the same
// partitions, as a kit handed out before the boot bundle existed.
func buildBootKit(t *testing.T, refreshed bool) *bootKit {
	t.Helper()
	bundle, err := BootBundle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tk, binDir := travelkitBinary(t)
	dir := t.TempDir()
	k := &kit{dir: dir, img: filepath.Join(dir, "kit.img"), passFile: filepath.Join(dir, "pass"),
		recoveryFile: filepath.Join(dir, "recovery"), pass: []byte("vm test passphrase"), tk: tk, binDir: binDir}
	idFile := filepath.Join(dir, "colleague.txt")
	mustTool(t, "age-keygen", "-o", idFile)
	idText, err := os.ReadFile(idFile)
	if err != nil {
		t.Fatal(err)
	}
	recipient := regexp.MustCompile(`public key: (age1\S+)`).FindStringSubmatch(string(idText))
	if recipient == nil {
		t.Fatalf("age-keygen wrote no public key:\n%s", idText)
	}
	profile := filepath.Join(dir, "profile.toml")
	writeFile(t, profile, []byte(`name = "vmboot"
languages = ["en", "ru"]
[drive]
tools_size = "160MiB"
[luks]
pbkdf = "pbkdf2"
pbkdf_iterations = 1000
[tools]
platforms = ["linux/amd64"]
[boot]
enable = `+fmt.Sprint(!refreshed)+`
[[escrow]]
name = "colleague"
recipient = "`+recipient[1]+`"
`))
	writeFile(t, k.passFile, k.pass)
	build := []string{"build", "--target", k.img, "--size", "512MiB", "--profile", profile,
		"--passphrase-file", k.passFile, "--recovery-key-file", k.recoveryFile, "--binaries", binDir, "--yes", "--allow-weak-passphrase"}
	if !refreshed {
		k.cli(t, append(build, "--boot", bundle)...)
		return &bootKit{kit: k, bundle: bundle, identity: idFile}
	}
	k.cli(t, build...)
	first, _ := sgdiskPartition(t, k.img, 1)
	if _, err := tool(t, nil, "mtype", "-i", fmt.Sprintf("%s@@%d", k.img, first*512), "::EFI/BOOT/BOOTX64.EFI"); err == nil {
		t.Fatal("the kit to refresh was built with boot files")
	}
	out := k.cli(t, "refresh", "--target", k.img, "--passphrase-file", k.passFile, "--binaries", binDir, "--boot", bundle, "--yes")
	if !strings.Contains(out, "the kit now starts computers") {
		t.Fatalf("refresh did not make the kit bootable:\n%s", out)
	}
	k.cli(t, "verify", "--target", k.img, "--passphrase-file", k.passFile)
	return &bootKit{kit: k, bundle: bundle, identity: idFile}
}

// startBooted starts a machine and waits for want on its console. Under TCG on a very busy
// host the kernel may panic before init because its timer check ran too slowly ("IO-APIC
// + timer doesn't work"); that is the emulator, not the kit, and the machine is started
// once more.
func startBooted(t *testing.T, o MachineOptions, want string) (*Machine, *menuDriver) {
	t.Helper()
	for try := 1; ; try++ {
		m, err := StartMachine(o)
		if err != nil {
			t.Fatal(err)
		}
		d := &menuDriver{t: t, m: m}
		_, err = m.Expect(want, menuTimeout)
		if err == nil {
			return m, d
		}
		if try == 1 && strings.Contains(m.Output(), "IO-APIC + timer doesn't work") {
			t.Logf("the emulated kernel's timer check failed (busy host); booting again")
			m.Kill()
			continue
		}
		d.fail(err)
	}
}

// lastScreen is the text of the last full screen in out (after the last clear).
func lastScreen(out string) string {
	if i := strings.LastIndex(out, "\x1b[2J"); i >= 0 {
		out = out[i:]
	}
	return out
}

var itemRE = regexp.MustCompile(`(?m)^ *>? *(?:\x1b\[7m)? *(\d+)\. `)

// item returns the number of the first menu item of the screen whose line contains all
// the words.
func item(t *testing.T, screen string, words ...string) string {
	t.Helper()
	for _, line := range strings.Split(screen, "\n") {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if m := itemRE.FindStringSubmatch(line); ok && m != nil {
			return m[1]
		}
	}
	t.Fatalf("no menu item with %q on the screen:\n%s", words, screen)
	return ""
}

// menuDriver types into the VM's menu and waits for its screens.
type menuDriver struct {
	t *testing.T
	m *Machine
}

// screen waits for text, then for the end of that screen (its key help line), and
// returns the screen.
func (d *menuDriver) screen(text string) string {
	d.t.Helper()
	if _, err := d.m.Expect(text, stepTimeout); err != nil {
		d.fail(err)
	}
	if _, err := d.m.Expect("Esc", stepTimeout); err != nil {
		d.fail(err)
	}
	return lastScreen(d.m.Seen())
}

// readScreen takes a screendump of the VM's screen and reads it with OCR in lang: most
// words of want must be there (joined letters, right to left: else OCR finds none).
func (d *menuDriver) readScreen(lang string, want ...string) {
	d.t.Helper()
	dir := d.t.TempDir()
	file := filepath.Join(dir, "screen-"+lang+".png")
	if err := d.m.Screendump(file); err != nil {
		d.fail(err)
	}
	f, err := os.Open(file)
	if err != nil {
		d.fail(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		d.fail(err)
	}
	text, err := ocr.Read(img, lang, dir)
	if err != nil {
		d.fail(err)
	}
	found, missing := ocr.Found(want, text)
	if len(found) < 3*(len(found)+len(missing))/4 {
		if keep := os.Getenv("TRAVELKIT_SCREENSHOTS"); keep != "" {
			b, _ := os.ReadFile(file)
			os.WriteFile(filepath.Join(keep, filepath.Base(file)), b, 0o644)
		}
		d.t.Errorf("the %s screen (%v): OCR found %d of %d words; missing %q\nread:\n%s", lang, img.Bounds().Size(), len(found), len(found)+len(missing), missing, text)
	}
}

func (d *menuDriver) expect(text string) {
	d.t.Helper()
	if _, err := d.m.Expect(text, stepTimeout); err != nil {
		d.fail(err)
	}
}

func (d *menuDriver) send(keys string) {
	d.t.Helper()
	if err := d.m.Send(keys); err != nil {
		d.fail(err)
	}
}

func (d *menuDriver) fail(err error) {
	d.t.Helper()
	d.m.Kill()
	out := d.m.Output()
	if len(out) > 6000 {
		out = "…" + out[len(out)-6000:]
	}
	d.t.Fatalf("%v\nconsole (end):\n%s", err, out)
}

func sha256File(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// partitionImage copies partition n of img into its own file (for the ntfs tools).
func partitionImage(t *testing.T, img string, n int, out string) {
	t.Helper()
	first, size := sgdiskPartition(t, img, n)
	src, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := io.Copy(dst, io.NewSectionReader(src, int64(first)*512, int64(size)*512)); err != nil {
		t.Fatal(err)
	}
}

// putPartition writes the file part into partition n of img.
func putPartition(t *testing.T, img string, n int, part string) {
	t.Helper()
	first, size := sgdiskPartition(t, img, n)
	data, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) > int64(size)*512 {
		t.Fatalf("%s is larger than partition %d", part, n)
	}
	f, err := os.OpenFile(img, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, int64(first)*512); err != nil {
		t.Fatal(err)
	}
}

// ntfsWithFiles makes an NTFS filesystem of size bytes (mkfs.ntfs) holding files, written
// through ntfs-3g (FUSE: ntfscp cannot create folders).
func ntfsWithFiles(t *testing.T, p string, size int64, label string, files map[string][]byte) {
	t.Helper()
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	mustTool(t, "mkfs.ntfs", "-F", "-Q", "-q", "-L", label, p)
	if len(files) == 0 {
		return
	}
	mnt := t.TempDir()
	mustTool(t, "ntfs-3g", p, mnt)
	mounted := true
	defer func() {
		if mounted {
			exec.Command("umount", mnt).Run()
		}
	}()
	for name, data := range files {
		full := filepath.Join(mnt, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustTool(t, "umount", mnt)
	mounted = false
	// ntfs-3g's daemon finishes writing after umount returns: wait until ntfsls reads it.
	for i := 0; i < 100; i++ {
		if out, err := tool(t, nil, "ntfsls", "-f", p); err == nil && strings.Contains(out, "Users") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The computer's disk: an EFI system partition (FAT), Windows (NTFS) and a Linux ext4.
var computerFiles = map[string][]byte{
	"Users/amina/Documents/report.txt":            []byte("quarterly report\n"),
	"Users/amina/Documents/Заметки о встрече.txt": []byte("заметки\n"),
	"Users/amina/Documents/ملاحظات.txt":           []byte("ملاحظات\n"),
	"Users/amina/Documents/会议记录/议程.txt":           []byte("议程\n"),
	"Users/amina/Pictures/photo 1.jpg":            pattern(7, 300<<10+5),
	"Users/amina/Desktop/empty-not/ok.txt":        []byte("x"),
	"Users/Public/Documents/shared.txt":           []byte("not amina's\n"),
	"Windows/System32/drivers/etc/hosts":          []byte("127.0.0.1 localhost\n"),
}

func makeComputerDisk(t *testing.T, dir string) string {
	t.Helper()
	img := filepath.Join(dir, "computer.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 200<<20); err != nil {
		t.Fatal(err)
	}
	mustTool(t, "sgdisk", "-n1:2048:+40M", "-t1:ef00", "-c1:EFI system partition",
		"-n2:0:+120M", "-t2:0700", "-c2:Basic data partition", "-n3:0:0", "-t3:8300", img)
	esp := filepath.Join(dir, "esp.img")
	_, size := sgdiskPartition(t, img, 1)
	mustTool(t, "mkfs.vfat", "-C", "-n", "SYSTEM", esp, fmt.Sprint(size/2))
	putPartition(t, img, 1, esp)
	ntfs := filepath.Join(dir, "windows.img")
	_, size = sgdiskPartition(t, img, 2)
	ntfsWithFiles(t, ntfs, int64(size)*512, "Windows", computerFiles)
	putPartition(t, img, 2, ntfs)
	home := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(home, "home", "lena"), 0o755)
	os.MkdirAll(filepath.Join(home, "etc"), 0o755)
	writeFile(t, filepath.Join(home, "home", "lena", "notes.txt"), []byte("lena's notes\n"))
	writeFile(t, filepath.Join(home, "etc", "hostname"), []byte("lena-laptop\n"))
	ext := filepath.Join(dir, "linux.img")
	_, size = sgdiskPartition(t, img, 3)
	mustTool(t, "mkfs.ext4", "-q", "-L", "linux", "-d", home, ext, fmt.Sprintf("%dk", size/2))
	putPartition(t, img, 3, ext)
	return img
}

func TestBootSecureBootRescueRestore(t *testing.T) {
	t.Parallel()
	k := buildBootKit(t, false)
	dir := t.TempDir()

	// A backup made on the host, to restore in the VM: names NTFS cannot hold included.
	src := filepath.Join(dir, "src")
	hostFiles := map[string][]byte{
		"docs/plan: final?.txt": []byte("the plan\n"),
		"docs/письмо.txt":       []byte("письмо\n"),
		"docs/deep/a/b/c.bin":   pattern(3, 100<<10+1),
		"photos/not-chosen.jpg": pattern(4, 1000),
	}
	for name, data := range hostFiles {
		p := filepath.Join(src, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		writeFile(t, p, data)
	}
	k.cli(t, "backup", "--target", k.img, "--passphrase-file", k.passFile, "--host", "helpline-desk", src)

	computer := makeComputerDisk(t, dir)
	computerSum := sha256File(t, computer)
	other := filepath.Join(dir, "other.img")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Truncate(other, 80<<20)
	mustTool(t, "sgdisk", "-n1:2048:0", "-t1:0700", other)
	otherPart := filepath.Join(dir, "other-p1.img")
	_, size := sgdiskPartition(t, other, 1)
	ntfsWithFiles(t, otherPart, int64(size)*512, "Backup", nil)
	putPartition(t, other, 1, otherPart)

	m, d := startBooted(t, MachineOptions{SecureBoot: true, Kit: k.img, Disks: []string{computer, other}, Dir: dir},
		"Secure Boot: on · kernel lockdown: integrity")
	defer m.Kill()
	toMenu := m.Elapsed()
	first := d.screen("Continue")
	if !strings.Contains(first, "kit vmboot, made "+time.Now().UTC().Format("2006-01-02")) {
		t.Errorf("the first screen does not name the kit and its date:\n%s", first)
	}
	if !strings.Contains(strings.Join(strings.Fields(first), " "), "QEMU HARDDISK, USB)") {
		t.Errorf("the first screen does not say the kit is on USB:\n%s", first)
	}
	if !strings.Contains(first, "Tools partition: every file matches its manifest.") {
		t.Errorf("the first screen does not report the tools partition checked:\n%s", first)
	}
	d.send(KeyEnter)

	// Rescue, after a wrong passphrase.
	d.screen("What do you want to do?")
	d.send("2")
	d.screen("Type the passphrase")
	d.send("1")
	d.screen("Passphrase or recovery key:")
	d.send("not the passphrase" + KeyEnter)
	d.screen("does not unlock this kit (wrong try 1)")
	d.send(KeyEnter)
	d.screen("Type the passphrase")
	d.send("1")
	d.screen("Passphrase or recovery key:")
	d.send(string(k.pass) + KeyEnter)
	s := d.screen("holds the files to save")
	d.send(item(t, s, "NTFS", "Windows"))
	s = d.screen("Tick the folders to save")
	if !strings.Contains(s, "1. [ ] Users/amina") || strings.Contains(s, "Public") {
		t.Errorf("the rescue does not offer Users/amina first, or offers Users/Public:\n%s", s)
	}
	d.send(item(t, s, "Users/amina") + KeyEnter)
	s = d.screen("tagged rescue")
	rescued := regexp.MustCompile(`as snapshot ([0-9a-f]{8}), tagged rescue, computer (\S+)\.`).FindStringSubmatch(strings.Join(strings.Fields(s), " "))
	if rescued == nil {
		d.fail(fmt.Errorf("no rescue summary:\n%s", s))
	}
	d.send(KeyEnter)

	// Restore the host's backup, only docs/, onto the other disk's NTFS.
	d.screen("What do you want to do?")
	d.send("1")
	s = d.screen("Which snapshot")
	d.send(item(t, s, "helpline-desk"))
	d.screen("only some folders?")
	d.send("2")
	s = d.screen("Tick the folders and files")
	d.send(item(t, s, "/docs") + KeyEnter)
	s = d.screen("Where should the files go?")
	d.send(item(t, s, "NTFS", "Backup"))
	d.screen("Restore into a new folder")
	d.send("1")
	s = d.screen("restored into")
	if !strings.Contains(s, "this filesystem cannot hold") {
		t.Errorf("the summary does not list renamed names:\n%s", s)
	}
	d.send(KeyEnter)
	d.screen("What do you want to do?")
	d.send("5")
	d.expect("The kit is closed.")
	if err := m.Wait(stepTimeout); err != nil {
		d.fail(err)
	}
	out := m.Output()
	for _, want := range []string{"secureboot: Secure boot enabled", "Kernel is locked down from EFI Secure Boot",
		"travelkit-init: travelkit", "Secure Boot: on; lockdown: integrity", `kit "vmboot" found on /dev/sd`, "(USB)",
		"wrong passphrase or key (try 1)", "Cyrillic: true"} {
		if !strings.Contains(out, want) {
			t.Errorf("the console has no %q", want)
		}
	}
	t.Logf("firmware start to menu: %v (TCG, Secure Boot on, kit on USB); whole run %v", toMenu, m.Elapsed())

	// The computer's disk: not one byte changed.
	if got := sha256File(t, computer); got != computerSum {
		t.Errorf("the computer's disk changed while its files were rescued")
	}
	// The rescue snapshot, on the host: exactly Users/amina's files.
	var sns []struct {
		ID       string   `json:"id"`
		Hostname string   `json:"hostname"`
		Tags     []string `json:"tags"`
		Paths    []string `json:"paths"`
	}
	if err := json.Unmarshal([]byte(k.cli(t, "snapshots", "--target", k.img, "--passphrase-file", k.passFile, "--json")), &sns); err != nil {
		t.Fatal(err)
	}
	var rescueID string
	for _, sn := range sns {
		if strings.HasPrefix(sn.ID, rescued[1]) {
			rescueID = sn.ID
			if sn.Hostname != rescued[2] || sn.Hostname != "Windows" || len(sn.Tags) != 1 || sn.Tags[0] != "rescue" {
				t.Errorf("rescue snapshot: host %q tags %v; want host Windows (the partition's label), tag rescue", sn.Hostname, sn.Tags)
			}
		}
	}
	if rescueID == "" {
		t.Fatalf("no snapshot %s on the kit: %+v", rescued[1], sns)
	}
	restored := filepath.Join(dir, "restored")
	k.cli(t, "restore", "--target", k.img, "--passphrase-file", k.passFile, rescueID, "--to", restored)
	got := map[string][]byte{}
	filepath.Walk(restored, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(restored, p)
			rel = filepath.ToSlash(rel)
			if i := strings.Index(rel, "/Users/"); i >= 0 {
				rel = rel[i+1:]
			}
			got[rel], _ = os.ReadFile(p)
		}
		return nil
	})
	want := map[string][]byte{}
	for name, data := range computerFiles {
		if strings.HasPrefix(name, "Users/amina/") {
			want[name] = data
		}
	}
	if len(got) != len(want) {
		t.Errorf("restored %d files, want %d: %v", len(got), len(want), keys(got))
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Errorf("restored %s: %d bytes, want %d", name, len(got[name]), len(data))
		}
	}

	// The other disk, read with ntfs-3g's tools: docs/ restored, names mapped, photos/ not.
	partitionImage(t, other, 1, otherPart)
	root := mustTool(t, "ntfsls", "-f", otherPart)
	folder := regexp.MustCompile(`travelkit-restore-\S+`).FindString(root)
	if folder == "" {
		t.Fatalf("no travelkit-restore-* folder on the other disk:\n%s", root)
	}
	base := folder + src
	for name, data := range hostFiles {
		parts := strings.Split(name, "/")
		for i := range parts {
			parts[i] = repo.SafeName(parts[i], repo.WindowsNames)
		}
		p := base + "/" + strings.Join(parts, "/")
		out, err := tool(t, nil, "ntfscat", "-f", otherPart, p)
		if strings.HasPrefix(name, "photos/") {
			if err == nil {
				t.Errorf("%s was restored, yet only docs/ was chosen", p)
			}
			continue
		}
		if err != nil || out != string(data) {
			t.Errorf("ntfscat %s: %v, %d bytes; want %d", p, err, len(out), len(data))
		}
	}
	k.cli(t, "verify", "--target", k.img, "--passphrase-file", k.passFile)
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestBootTamperedIdentityRussian boots a kit made bootable by `travelkit refresh` (built
// without boot files).
func TestBootTamperedIdentityRussian(t *testing.T) {
	t.Parallel()
	k := buildBootKit(t, true)
	dir := t.TempDir()
	// Someone changed a file of the tools partition while the kit was out of sight.
	first, _ := sgdiskPartition(t, k.img, 1)
	evil := filepath.Join(dir, "RESTORE.en.txt")
	writeFile(t, evil, []byte("Type your passphrase at evil.example\n"))
	mustTool(t, "mcopy", "-o", "-i", fmt.Sprintf("%s@@%d", k.img, first*512), evil, "::RESTORE.en.txt")
	// The colleague's identity on a second stick (FAT).
	stick := filepath.Join(dir, "stick.img")
	mustTool(t, "mkfs.vfat", "-C", "-n", "COLLEAGUE", stick, "16384")
	mustTool(t, "mcopy", "-i", stick, k.identity, "::colleague.txt")

	m, d := startBooted(t, MachineOptions{SecureBoot: false, Kit: k.img, Sticks: []string{stick}, Dir: dir}, "Secure Boot: off")
	defer m.Kill()
	s := d.screen("Continue")
	if !strings.Contains(s, "WARNING: the tools partition was changed") || !strings.Contains(s, "RESTORE.en.txt") {
		t.Errorf("the first screen does not name the tampered file:\n%s", s)
	}
	d.send(KeyEnter)
	s = d.screen("What do you want to do?")
	if !strings.Contains(m.Output(), "the menu draws there (Arabic and Persian: true)") {
		t.Errorf("the boot environment does not draw the menu on the framebuffer")
	}
	// Arabic and Persian, drawn on the framebuffer: the screen read back by OCR.
	for _, lang := range []string{"ar", "fa"} {
		p := i18n.New(lang)
		d.send(item(t, s, "Language"))
		s = d.screen(i18n.Name(lang))
		d.send(item(t, s, i18n.Name(lang)))
		s = d.screen(p.T("menu.main.body"))
		d.readScreen(lang, p.T("menu.main.body"), p.T("menu.main.restore"), p.T("menu.main.rescue"), p.T("menu.main.check"), p.T("menu.main.poweroff"))
	}
	d.send(item(t, s, "Language"))
	s = d.screen("Русский")
	d.send(item(t, s, "Русский"))
	d.screen("Что вы хотите сделать?")
	d.send("1")
	s = d.screen("файл удостоверения коллеги")
	d.send("2")
	s = d.screen("Какой файл удостоверения?")
	d.send(item(t, s, "colleague.txt"))
	s = d.screen("Всё равно продолжить")
	if !strings.Contains(s, "ВНИМАНИЕ") || !strings.Contains(s, "RESTORE.en.txt") {
		t.Errorf("after unlocking, the trusted check does not name the tampered file:\n%s", s)
	}
	d.send(item(t, s, "Всё равно продолжить"))
	d.screen("пока нет резервных копий")
	d.send(KeyEnter)
	d.screen("Что вы хотите сделать?")
	d.send("5")
	d.expect("Комплект закрыт.")
	if err := m.Wait(stepTimeout); err != nil {
		d.fail(err)
	}
	out := m.Output()
	if strings.Contains(out, "Secure boot enabled") {
		t.Errorf("Secure Boot is off, yet the kernel says enabled")
	}
	if !strings.Contains(out, "unlocked (keyslot 1)") {
		t.Errorf("the identity did not unlock keyslot 1 (the recovery key's)")
	}
}

// TestBootNoKit boots the kit's kernel and initramfs with no kit plugged in: a clear
// screen that says so, and power off from it.
func TestBootNoKit(t *testing.T) {
	t.Parallel()
	bundle, err := BootBundle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bin, _ := travelkitBinary(t)
	src, err := boot.Open(bundle)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	files, err := boot.Files(src, exe, boot.KitInfo{KitID: "nokit", Created: time.Now(), Languages: []string{"fa"}, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range files {
		if f.Path == boot.InitrdPath {
			writeFile(t, filepath.Join(dir, "initrd.img"), f.Data)
		}
	}
	m, d := startBooted(t, MachineOptions{Kernel: filepath.Join(bundle, "boot", "vmlinuz"), Initrd: filepath.Join(dir, "initrd.img"),
		Append: "console=ttyS0,115200 panic=30 travelkit.wait=3s", Dir: dir}, "No kit drive found.")
	defer m.Kill()
	s := d.screen("Look again")
	if !strings.Contains(s, "Persian cannot be drawn on this screen: the menu is in English.") {
		t.Errorf("the fa fallback line is missing:\n%s", s)
	}
	d.send(item(t, s, "Power off"))
	d.expect("The kit is closed.")
	if err := m.Wait(stepTimeout); err != nil {
		d.fail(err)
	}
	if out := m.Output(); strings.Contains(out, "panic") && strings.Contains(out, "Kernel panic") {
		t.Errorf("kernel panic:\n%s", out)
	}
}
