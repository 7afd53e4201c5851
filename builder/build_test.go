package builder_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"travelkit/builder"
	"travelkit/drive"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/target"
)

func sh(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// fakeDist makes a `make dist`-style folder with small stand-in binaries.
func fakeDist(t *testing.T, platforms []string) string {
	dir := t.TempDir()
	for _, p := range platforms {
		name := "travelkit-" + strings.ReplaceAll(p, "/", "-")
		if strings.HasPrefix(p, "windows") {
			name += ".exe"
		}
		b := make([]byte, 300<<10)
		rand.Read(b)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func copyRange(t *testing.T, src, dst string, off, n int64) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	b := make([]byte, n)
	if _, err := in.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

var cheap = luks.PBKDF{Type: "pbkdf2", Hash: "sha256", Iterations: 1000}

func testConfig(t *testing.T, dir string) (builder.Config, string) {
	id := filepath.Join(dir, "colleague.key")
	sh(t, dir, "age-keygen", "-o", id)
	out := sh(t, dir, "age-keygen", "-y", id)
	return builder.Config{
		Name:        "amina-2026-12",
		Languages:   []string{"en", "ar"},
		ToolsSize:   64 << 20,
		LUKS:        luks.FormatOptions{PBKDF: cheap},
		RecoveryKey: true,
		Escrow:      []builder.Escrow{{Name: "colleague-a", Recipient: strings.TrimSpace(out)}},
		Platforms:   []string{"linux/amd64", "windows/amd64"},
	}, id
}

func TestBuildKitStockTools(t *testing.T) {
	dir := t.TempDir()
	cfg, identity := testConfig(t, dir)
	dist := fakeDist(t, cfg.Platforms)
	img := filepath.Join(dir, "kit.img")
	plan, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, Size: 256 << 20, BinaryDirs: []string{dist}})
	if err != nil {
		t.Fatal(err)
	}
	var pb bytes.Buffer
	plan.Print(&pb)
	for _, want := range []string{"amina-2026-12", "bin/windows-amd64/travelkit.exe", "RESTORE.ar.html", "escrow/colleague-a.age", "recovery key", "FAT32"} {
		if !strings.Contains(pb.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, pb.String())
		}
	}
	if _, err := os.Stat(img); !os.IsNotExist(err) {
		t.Fatal("plan created the image")
	}
	escrowDir := filepath.Join(dir, "escrow-out")
	res, err := builder.Build(context.Background(), plan, builder.BuildOptions{Passphrase: []byte("correct horse battery"), EscrowDir: escrowDir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kit.ParseRecoveryKey(res.RecoveryKey); err != nil {
		t.Fatalf("recovery key %q: %v", res.RecoveryKey, err)
	}

	l := plan.Layout
	ex := filepath.Join(dir, "extracted")
	os.Mkdir(ex, 0o755)
	if stockTools {
		checkStockTools(t, dir, img, l, ex, res)
	} else {
		// the GPT is read by drive.Open below, the LUKS2 header by Unlock, the ext4 by
		// its FS; the tools partition here
		notOnWindows(t, "the kit with sgdisk, fsck.vfat, fatlabel, mtools, sha256sum, cryptsetup, e2fsck and debugfs")
		files := toolsFiles(t, img)
		ls := listing(files)
		for _, want := range []string{"bin/linux-amd64/travelkit", "bin/windows-amd64/travelkit.exe", "RESTORE.en.txt", "RESTORE.ar.html", "escrow/colleague-a.age", "manifest.json", "SHA256SUMS"} {
			if !strings.Contains(ls, want) {
				t.Errorf("the tools partition lacks %s:\n%s", want, ls)
			}
		}
		checkSums(t, files)
		extractTools(t, files, ex)
	}

	// escrow: stock age decrypts the recovery key, which opens keyslot 1
	for _, p := range []string{filepath.Join(ex, "escrow", "colleague-a.age"), filepath.Join(escrowDir, "colleague-a.age")} {
		got := sh(t, dir, "age", "-d", "-i", identity, p)
		k, err := kit.ParseRecoveryKey(got)
		if err != nil || k != res.RecoveryKey {
			t.Fatalf("escrow %s gave %q (%v)", p, got, err)
		}
	}

	// a file put into the volume by travelkit (as `travelkit files put` does)
	{
		f, _ := os.OpenFile(img, os.O_RDWR, 0)
		st, _ := f.Stat()
		d, err := drive.Open(fileDev{f, st.Size()})
		if err != nil {
			t.Fatal(err)
		}
		u, err := d.Unlock([]byte("correct horse battery"), -1, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := u.FS.MkdirAll("notes/field"); err != nil {
			t.Fatal(err)
		}
		note := []byte("put by travelkit\n")
		if err := u.FS.WriteFile("notes/field/put.txt", bytes.NewReader(note), int64(len(note)), time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := u.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	outer, _ := os.ReadFile(filepath.Join(ex, "manifest.json"))
	if stockTools {
		checkStockExt4(t, dir, img, l, outer)
	}

	// travelkit itself opens it with the passphrase and the recovery key
	f, _ := os.Open(img)
	defer f.Close()
	st, _ := f.Stat()
	d, err := drive.Open(fileDev{f, st.Size()})
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"correct horse battery", res.RecoveryKey} {
		u, err := d.Unlock([]byte(secret), -1, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := u.FS.ReadFile("travelkit/manifest.json")
		if err != nil || !bytes.Equal(got, outer) {
			t.Fatalf("manifest via travelkit: %v", err)
		}
		if !stockTools {
			if b, err := u.FS.ReadFile("notes/field/put.txt"); err != nil || string(b) != "put by travelkit\n" {
				t.Fatalf("the file travelkit put: %q %v", b, err)
			}
			if pw, err := u.FS.ReadFile("travelkit/repo-password"); err != nil || len(strings.TrimSpace(string(pw))) < 32 {
				t.Fatalf("repo password %q %v", pw, err)
			}
		}
		u.Close()
	}
}

// checkStockTools checks the built kit's GPT with sgdisk, its tools partition with
// fsck.vfat, fatlabel, mtools and sha256sum (copied into ex), and its LUKS2 header with
// cryptsetup.
func checkStockTools(t *testing.T, dir, img string, l *drive.Layout, ex string, res *builder.Result) {
	t.Helper()
	// GPT
	if out := sh(t, dir, "sgdisk", "-v", img); !strings.Contains(out, "No problems found") {
		t.Fatalf("sgdisk -v:\n%s", out)
	}
	out := sh(t, dir, "sgdisk", "-i", "1", img)
	if !strings.Contains(out, "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7") {
		t.Fatalf("partition 1 type:\n%s", out)
	}
	out = sh(t, dir, "sgdisk", "-i", "2", img)
	if !strings.Contains(out, "CA7D7CCB-63ED-4C53-861C-1742536059CC") {
		t.Fatalf("partition 2 type:\n%s", out)
	}

	// FAT32: fsck.vfat, mtools, label, SHA256SUMS
	tools := filepath.Join(dir, "tools.img")
	copyRange(t, img, tools, l.ToolsOff, l.ToolsSize)
	sh(t, dir, "fsck.vfat", "-n", tools)
	if out := sh(t, dir, "fatlabel", tools); strings.TrimSpace(out) != "TRAVELKIT" {
		t.Fatalf("label %q", out)
	}
	mi := img + "@@" + strconv.FormatInt(l.ToolsOff, 10)
	out = sh(t, dir, "mdir", "-i", mi, "-/", "-b", "::")
	for _, want := range []string{"bin/linux-amd64/travelkit", "bin/windows-amd64/travelkit.exe", "RESTORE.en.txt", "RESTORE.ar.html", "escrow/colleague-a.age", "manifest.json", "SHA256SUMS"} {
		if !strings.Contains(out, want) {
			t.Errorf("mdir lacks %s:\n%s", want, out)
		}
	}
	sh(t, dir, "mcopy", "-i", mi, "-s", "-n", "::/*", ex)
	sh(t, ex, "sha256sum", "--strict", "-c", "SHA256SUMS")

	// LUKS2: cryptsetup on the data partition's header area
	hdr := filepath.Join(dir, "hdr.img")
	copyRange(t, img, hdr, l.DataOff, 16<<20)
	out = sh(t, dir, "cryptsetup", "luksDump", hdr)
	if !strings.Contains(out, "Label:         \tamina-2026-12") || !strings.Contains(out, res.LUKSUUID) {
		t.Fatalf("luksDump:\n%s", out)
	}
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("correct horse battery"), 0o600)
	sh(t, dir, "cryptsetup", "open", "--test-passphrase", "--key-file", pass, "--key-slot", "0", hdr)
	rk := filepath.Join(dir, "rk")
	os.WriteFile(rk, []byte(res.RecoveryKey), 0o600)
	sh(t, dir, "cryptsetup", "open", "--test-passphrase", "--key-file", rk, "--key-slot", "1", hdr)
}

// checkStockExt4 decrypts the kit's volume independently, with the volume key from
// cryptsetup and luks/testdata/xts.py, and checks its ext4 with e2fsck and debugfs: the
// manifest is outer, the file travelkit put is there. It reads hdr.img and pass in dir,
// which checkStockTools wrote.
func checkStockExt4(t *testing.T, dir, img string, l *drive.Layout, outer []byte) {
	t.Helper()
	hdr := filepath.Join(dir, "hdr.img")
	pass := filepath.Join(dir, "pass")
	// ext4: decrypted independently with the volume key from cryptsetup, e2fsck and debugfs agree
	vkf := filepath.Join(dir, "vk")
	sh(t, dir, "cryptsetup", "luksDump", "-q", "--dump-volume-key", "--volume-key-file", vkf, "--key-file", pass, hdr)
	payload := filepath.Join(dir, "payload.enc")
	copyRange(t, img, payload, l.DataOff+16<<20, l.DataSize-16<<20)
	plain := filepath.Join(dir, "payload.ext4")
	cmd := exec.Command("/usr/bin/python3", "../luks/testdata/xts.py", "decrypt", vkf, "4096", "0")
	in, _ := os.Open(payload)
	outf, _ := os.Create(plain)
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, outf, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xts.py: %v %s", err, stderr.Bytes())
	}
	in.Close()
	outf.Close()
	sh(t, dir, "e2fsck", "-fn", plain)
	inner := sh(t, dir, "debugfs", "-R", "cat /travelkit/manifest.json", plain)
	if !strings.Contains(inner, string(outer)) {
		t.Fatalf("inner manifest differs:\n%s\nvs\n%s", inner, outer)
	}
	if out := sh(t, dir, "debugfs", "-R", "ls -l /", plain); !strings.Contains(out, "repo") {
		t.Fatalf("no repo/:\n%s", out)
	}
	if out := sh(t, dir, "debugfs", "-R", "cat /notes/field/put.txt", plain); !strings.Contains(out, "put by travelkit") {
		t.Fatalf("debugfs does not show the file travelkit put:\n%s", out)
	}
	if pw := sh(t, dir, "debugfs", "-R", "cat /travelkit/repo-password", plain); len(strings.TrimSpace(pw)) < 32 {
		t.Fatalf("repo password %q", pw)
	}
}

type fileDev struct {
	*os.File
	n int64
}

func (f fileDev) Size() int64 { return f.n }

func TestInterruptedBuildIsNotAKit(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(t, dir)
	cfg.Escrow, cfg.Platforms = nil, []string{runtime.GOOS + "/" + runtime.GOARCH}
	dist := fakeDist(t, cfg.Platforms)
	img := filepath.Join(dir, "kit.img")
	plan, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, Size: 256 << 20, BinaryDirs: []string{dist}})
	if err != nil {
		t.Fatal(err)
	}
	// a complete kit first, then a rebuild interrupted after the LUKS volume was written
	if _, err := builder.Build(context.Background(), plan, builder.BuildOptions{Passphrase: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	plan, _ = builder.MakePlan(cfg, builder.PlanOptions{Target: img, BinaryDirs: []string{dist}})
	ctx, cancel := context.WithCancel(context.Background())
	_, err = builder.Build(ctx, plan, builder.BuildOptions{Passphrase: []byte("p"), Progress: func(stage string, _, _ int64) {
		if strings.Contains(stage, "filesystem") {
			cancel()
		}
	}})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("interrupted build: %v", err)
	}
	f, _ := os.Open(img)
	defer f.Close()
	_, err = drive.Open(fileDev{f, 256 << 20})
	if !errors.Is(err, drive.ErrNotKit) || !strings.Contains(err.Error(), "unfinished") {
		t.Fatalf("unfinished kit: %v", err)
	}
}

func TestSparse64GiB(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(t, dir)
	cfg.Escrow, cfg.Platforms = nil, []string{runtime.GOOS + "/" + runtime.GOARCH}
	cfg.ToolsSize = 256 << 20
	dist := fakeDist(t, cfg.Platforms)
	img := filepath.Join(dir, "big.img")
	plan, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, Size: 64 << 30, BinaryDirs: []string{dist}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := builder.Build(context.Background(), plan, builder.BuildOptions{Passphrase: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	used := usedBytes(t, img)
	t.Logf("64 GiB kit image uses %d MiB on disk", used>>20)
	if used > 400<<20 {
		t.Fatalf("64 GiB image uses %d MiB of real disk space (bar: < 400 MiB)", used>>20)
	}
	if stockTools {
		sh(t, dir, "sgdisk", "-v", img)
	} else {
		notOnWindows(t, "the 64 GiB image's GPT with sgdisk -v")
	}
}

func TestPlanRefusals(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(t, dir)
	dist := fakeDist(t, cfg.Platforms)
	for name, tc := range map[string]struct {
		target string
		size   int64
		mod    func(c *builder.Config)
		want   string
	}{
		"directory":   {dir, 1 << 30, nil, "directory"},
		"too small":   {filepath.Join(dir, "small.img"), 80 << 20, nil, "too small"},
		"no size":     {filepath.Join(dir, "nosize.img"), 0, nil, "--size"},
		"bad escrow":  {filepath.Join(dir, "e.img"), 1 << 30, func(c *builder.Config) { c.Escrow[0].Recipient = "age1nope" }, "colleague-a"},
		"missing bin": {filepath.Join(dir, "b.img"), 1 << 30, func(c *builder.Config) { c.Platforms = append(c.Platforms, "darwin/arm64") }, "make dist"},
		"tools small": {filepath.Join(dir, "t.img"), 1 << 30, func(c *builder.Config) { c.ToolsSize = 8 << 20 }, "tools"},
	} {
		c := cfg
		c.Escrow = append([]builder.Escrow(nil), cfg.Escrow...)
		if tc.mod != nil {
			tc.mod(&c)
		}
		_, err := builder.MakePlan(c, builder.PlanOptions{Target: tc.target, Size: tc.size, BinaryDirs: []string{dist}})
		if err == nil || !strings.Contains(err.Error()+errHint(err), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
		if tc.target != dir {
			if _, err := os.Stat(tc.target); !os.IsNotExist(err) {
				t.Errorf("%s: target created", name)
			}
		}
	}
}

func errHint(err error) string {
	var re *target.RefusedError
	if errors.As(err, &re) {
		return " hint: " + re.Hint
	}
	return ""
}
