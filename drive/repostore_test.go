package drive_test

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
	"travelkit/luks"
	"travelkit/repo"
)

type fileDev struct {
	*os.File
	n int64
}

func (f fileDev) Size() int64 { return f.n }

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// kitOptions are the variants of buildKit's kit; the zero value is the plain kit, with
// the passphrase "pass" in keyslot 0 only.
type kitOptions struct {
	RecoveryKey bool // a recovery key too, in keyslot 1 (builtKit.RecoveryKey)
}

// builtKit is a kit image made by buildKit.
type builtKit struct {
	Img         string // the image file, kitImageSize bytes
	Plan        *builder.Plan
	RecoveryKey string // as printed; "" unless kitOptions.RecoveryKey
}

// buildKit makes a small kit image with cheap costs and a stand-in binary.
func buildKit(t *testing.T, dir string, opt kitOptions) builtKit {
	t.Helper()
	dist := filepath.Join(dir, "dist")
	os.Mkdir(dist, 0o755)
	plat := runtime.GOOS + "/" + runtime.GOARCH
	os.WriteFile(filepath.Join(dist, "travelkit-"+strings.ReplaceAll(plat, "/", "-")), []byte("stand-in binary"), 0o755)
	img := filepath.Join(dir, "kit.img")
	cfg := builder.Config{Name: "repo-test", Languages: []string{"en"}, ToolsSize: 64 << 20, RecoveryKey: opt.RecoveryKey,
		LUKS: luks.FormatOptions{PBKDF: luks.PBKDF{Type: "pbkdf2", Iterations: 1000}}, Platforms: []string{plat}}
	plan, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, Size: kitImageSize, BinaryDirs: []string{dist}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := builder.Build(context.Background(), plan, builder.BuildOptions{Passphrase: []byte("pass")})
	if err != nil {
		t.Fatal(err)
	}
	if opt.RecoveryKey && res.RecoveryKey == "" {
		t.Fatal("the kit was built without a recovery key")
	}
	return builtKit{Img: img, Plan: plan, RecoveryKey: res.RecoveryKey}
}

// unlockKit unlocks a kit made by buildKit with its passphrase (read-write or not) and
// reads the repository password inside.
func unlockKit(t *testing.T, d *drive.Drive, write bool) (*drive.Unlocked, []byte) {
	t.Helper()
	u, err := d.Unlock([]byte("pass"), -1, write)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := u.FS.ReadFile(drive.RepoPassword)
	if err != nil {
		t.Fatal(err)
	}
	return u, pw
}

func sourceTree(t *testing.T, dir string) string {
	src := filepath.Join(dir, "home", "amina")
	os.MkdirAll(filepath.Join(src, "docs", "deep"), 0o755)
	big := make([]byte, 3<<20)
	rand.Read(big)
	os.WriteFile(filepath.Join(src, "docs", "big.bin"), big, 0o644)
	os.WriteFile(filepath.Join(src, "docs", "deep", "note.txt"), []byte("notes from the field\n"), 0o600)
	os.WriteFile(filepath.Join(src, "empty"), nil, 0o644)
	os.Symlink("docs/deep/note.txt", filepath.Join(src, "link"))
	mt := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	os.Chtimes(filepath.Join(src, "docs", "big.bin"), mt, mt)
	return src
}

// TestRepoInKit: a backup into the kit's encrypted ext4 volume restores with travelkit,
// and with stock tools: the payload decrypted independently, mounted by the host kernel
// through a loop device, restic restoring with travelkit/repo-password.
func TestRepoInKit(t *testing.T) {
	dir := t.TempDir()
	k := buildKit(t, dir, kitOptions{})
	img, plan := k.Img, k.Plan
	src := sourceTree(t, dir)
	ctx := context.Background()
	d := openKit(t, img)
	u, pw := unlockKit(t, d, true)
	st := u.RepoStorage()
	r, err := repo.Open(ctx, st, pw) // the build made it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Backup(ctx, repo.BackupOptions{Paths: []string{src}, Host: "laptop"}); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}

	// travelkit restores it
	u, err = d.Unlock([]byte("pass"), -1, false)
	if err != nil {
		t.Fatal(err)
	}
	r, err = repo.Open(ctx, u.RepoStorage(), pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	sn, err := r.FindSnapshot(ctx, "latest")
	if err != nil {
		t.Fatal(err)
	}
	out1 := filepath.Join(dir, "restore1")
	if _, err := r.Restore(ctx, sn, repo.RestoreOptions{Target: out1, Verify: true}); err != nil {
		t.Fatal(err)
	}
	u.Close()
	compareTrees(t, src, filepath.Join(out1, filepath.FromSlash(repo.SnapshotPath(src))))

	if runtime.GOOS != "linux" {
		return // the stock path needs Linux: cryptsetup, a loop mount (the Wine tests run the rest)
	}
	// the stock path: cryptsetup's volume key, independent XTS, loop mount, restic
	l := plan.Layout
	hdr := filepath.Join(dir, "hdr")
	copyRange(t, img, hdr, l.DataOff, 16<<20)
	os.WriteFile(filepath.Join(dir, "pass"), []byte("pass"), 0o600)
	vk := filepath.Join(dir, "vk")
	run(t, dir, "cryptsetup", "luksDump", "-q", "--dump-volume-key", "--volume-key-file", vk, "--key-file", filepath.Join(dir, "pass"), hdr)
	enc := filepath.Join(dir, "payload.enc")
	copyRange(t, img, enc, l.DataOff+16<<20, l.DataSize-16<<20)
	plain := filepath.Join(dir, "payload.ext4")
	in, _ := os.Open(enc)
	outf, _ := os.Create(plain)
	cmd := exec.Command("/usr/bin/python3", "../luks/testdata/xts.py", "decrypt", vk, "4096", "0")
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, outf, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xts.py: %v %s", err, stderr.Bytes())
	}
	in.Close()
	outf.Close()
	run(t, dir, "e2fsck", "-fn", plain)
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	run(t, dir, "mount", "-o", "loop,ro", plain, mnt)
	defer exec.Command("umount", mnt).Run()
	out2 := filepath.Join(dir, "restore2")
	run(t, dir, "restic", "-r", filepath.Join(mnt, "repo"), "--password-file", filepath.Join(mnt, "travelkit", "repo-password"),
		"--no-lock", "--no-cache", "restore", "latest", "--target", out2)
	run(t, dir, "restic", "-r", filepath.Join(mnt, "repo"), "--password-file", filepath.Join(mnt, "travelkit", "repo-password"),
		"--no-lock", "--no-cache", "check", "--read-data")
	compareTrees(t, src, filepath.Join(out2, filepath.FromSlash(repo.SnapshotPath(src))))
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

// compareTrees checks contents, modes, mtimes and symlinks.
func compareTrees(t *testing.T, a, b string) {
	t.Helper()
	err := filepath.Walk(a, func(p string, ia os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		q := filepath.Join(b, rel)
		ib, err := os.Lstat(q)
		if err != nil {
			t.Errorf("%s missing in restore", rel)
			return nil
		}
		if ia.Mode() != ib.Mode() {
			t.Errorf("%s: mode %v vs %v", rel, ia.Mode(), ib.Mode())
		}
		switch {
		case ia.Mode()&os.ModeSymlink != 0:
			la, _ := os.Readlink(p)
			lb, _ := os.Readlink(q)
			if la != lb {
				t.Errorf("%s: link %q vs %q", rel, la, lb)
			}
		case ia.Mode().IsRegular():
			x, _ := os.ReadFile(p)
			y, _ := os.ReadFile(q)
			if !bytes.Equal(x, y) {
				t.Errorf("%s: content differs", rel)
			}
			if !ia.ModTime().Equal(ib.ModTime()) {
				t.Errorf("%s: mtime %v vs %v", rel, ia.ModTime(), ib.ModTime())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// failAfter is a storage that fails every Save after n of them, like a drive pulled out
// or a crash in the middle of a backup.
type failAfter struct {
	repo.Storage
	n int
}

var errPulled = errors.New("drive pulled out")

func (f *failAfter) Save(ctx context.Context, h repo.Handle, data []byte) error {
	if f.n <= 0 {
		return errPulled
	}
	f.n--
	return f.Storage.Save(ctx, h, data)
}

// TestRepoInKitCrash: backups into the kit's encrypted ext4 stopped after N writes leave
// a repository that checks clean, whose earlier snapshots restore, and whose next backup
// succeeds.
func TestRepoInKitCrash(t *testing.T) {
	dir := t.TempDir()
	img := buildKit(t, dir, kitOptions{}).Img
	src := sourceTree(t, dir)
	ctx := context.Background()
	d := openKit(t, img)
	u, pw := unlockKit(t, d, true)
	r, err := repo.Open(ctx, u.RepoStorage(), pw) // the build made it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Backup(ctx, repo.BackupOptions{Paths: []string{src}, Host: "h"}); err != nil {
		t.Fatal(err)
	}
	u.Close()
	for i := 0; i < 6; i++ {
		os.WriteFile(filepath.Join(src, "docs", "new"+strconv.Itoa(i)), bytes.Repeat([]byte{byte(i)}, 200<<10+i), 0o644)
	}
	for _, n := range []int{0, 1, 2, 3, 5, 8} {
		u, pw := unlockKit(t, d, true)
		r, err := repo.Open(ctx, &failAfter{u.RepoStorage(), n}, pw)
		if err == nil {
			if err = r.LoadIndex(ctx); err == nil {
				_, err = r.Backup(ctx, repo.BackupOptions{Paths: []string{src}, Host: "h"})
			}
		}
		if err == nil {
			t.Logf("backup with %d writes allowed completed", n)
		}
		u.Close() // what was written is flushed; the rest never happened
		u, pw = unlockKit(t, d, true)
		r, err = repo.Open(ctx, u.RepoStorage(), pw)
		if err != nil {
			t.Fatalf("after %d writes: %v", n, err)
		}
		if err := r.LoadIndex(ctx); err != nil {
			t.Fatal(err)
		}
		res, err := r.Check(ctx, repo.CheckOptions{ReadData: true})
		if err != nil || len(res.Errors) > 0 {
			t.Fatalf("check after a backup stopped at %d writes: %v %v", n, err, res.Errors)
		}
		sns, _ := r.Snapshots(ctx)
		out := filepath.Join(dir, "out"+strconv.Itoa(n))
		if _, err := r.Restore(ctx, sns[0], repo.RestoreOptions{Target: out}); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(out, filepath.FromSlash(repo.SnapshotPath(src)), "docs", "deep", "note.txt")); string(got) != "notes from the field\n" {
			t.Fatalf("first snapshot after %d writes: %q", n, got)
		}
		u.Close()
	}
	u, pw = unlockKit(t, d, true)
	defer u.Close()
	r, _ = repo.Open(ctx, u.RepoStorage(), pw)
	r.LoadIndex(ctx)
	if _, err := r.Backup(ctx, repo.BackupOptions{Paths: []string{src}, Host: "h"}); err != nil {
		t.Fatalf("the next backup: %v", err)
	}
	res, err := r.Check(ctx, repo.CheckOptions{ReadData: true})
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("final check: %v %v", err, res.Errors)
	}
}

// TestRepoInKitFull: a full kit gives an error that says so and how much is missing, and
// the repository stays usable.
func TestRepoInKitFull(t *testing.T) {
	dir := t.TempDir()
	img := buildKit(t, dir, kitOptions{}).Img
	d := openKit(t, img)
	u, err := d.Unlock([]byte("pass"), -1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	st := u.RepoStorage()
	ctx := context.Background()
	blob := make([]byte, 64<<20)
	var full error
	for i := 0; i < 10 && full == nil; i++ {
		full = st.Save(ctx, repo.Handle{Type: repo.PackFile, Name: strings.Repeat(strconv.Itoa(i), 64)}, blob)
	}
	if full == nil || !strings.Contains(full.Error(), "the kit is full") || !strings.Contains(full.Error(), "MiB more") {
		t.Fatalf("full kit: %v", full)
	}
	// what was saved before is intact and listed; the failed file is absent
	n := 0
	st.List(ctx, repo.PackFile, func(name string, size int64) error {
		if size != int64(len(blob)) {
			t.Errorf("%s: %d bytes", name, size)
		}
		n++
		return nil
	})
	if n == 0 {
		t.Fatal("nothing saved before the kit was full")
	}
}

// tempsIn lists the temporary files in the kit's repo/data/00.
func tempsIn(t *testing.T, u *drive.Unlocked) []string {
	t.Helper()
	ents, err := u.FS.ReadDir(drive.RepoDir + "/data/00")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.Contains(e.Name, "-tmp-") {
			out = append(out, e.Name)
		}
	}
	return out
}

// TestRepoInKitStreamed: the kit's storage streams packs (repo.Streamer). A backup that
// fills the kit fails saying so and leaves no temporary file; one left by a crash is not
// listed, and is removed (its blocks with it) by the next backup and by prune.
func TestRepoInKitStreamed(t *testing.T) {
	dir := t.TempDir()
	img := buildKit(t, dir, kitOptions{}).Img
	ctx := context.Background()
	d := openKit(t, img)
	open := func() (*drive.Unlocked, *repo.Repository) {
		u, pw := unlockKit(t, d, true)
		r, err := repo.Open(ctx, u.RepoStorage(), pw)
		if errors.Is(err, repo.ErrNoRepository) {
			r, err = repo.Init(ctx, u.RepoStorage(), pw)
		}
		if err != nil {
			t.Fatal(err)
		}
		return u, r
	}
	// a backup bigger than the kit
	src := filepath.Join(dir, "big")
	os.MkdirAll(src, 0o700)
	for i := 0; i < 5; i++ {
		b := make([]byte, 60<<20)
		rand.Read(b)
		os.WriteFile(filepath.Join(src, "f"+strconv.Itoa(i)), b, 0o600)
	}
	u, r := open()
	_, err := r.Backup(ctx, repo.BackupOptions{Paths: []string{src}, Host: "h"})
	if err == nil || !strings.Contains(err.Error(), "the kit is full") {
		t.Fatalf("backup into a full kit: %v", err)
	}
	if tmp := tempsIn(t, u); len(tmp) > 0 {
		t.Fatalf("a failed backup left temporary files: %v", tmp)
	}
	u.Close()
	os.RemoveAll(src)

	// the packs the failed backup finished stay, unreferenced, as after restic's: how
	// much room they leave depends on how its uploaders raced, so prune them as the
	// error message says (the crash below needs 9 MiB)
	u, r = open()
	if _, err := r.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if free := u.FS.FreeBlocks(); free < (32<<20)/4096 {
		t.Fatalf("prune after a failed backup left %d blocks free", free)
	}
	u.Close()

	// a crash in the middle of a pack: the temporary file stays as it was
	u, r = open()
	st := u.RepoStorage()
	free := u.FS.FreeBlocks() // a temporary file may take its first blocks as it is made
	tf, err := st.CreateTemp(ctx, repo.PackFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tf.Write(make([]byte, 9<<20)); err != nil {
		t.Fatalf("writing the temporary file: %v (%d blocks were free)", err, free)
	}
	taken := free - u.FS.FreeBlocks()
	if taken < (9<<20)/4096 {
		t.Fatalf("the temporary file took %d blocks", taken)
	}
	u.Close() // no Commit, no Abort
	u, r = open()
	if tmp := tempsIn(t, u); len(tmp) != 1 {
		t.Fatalf("temporary files after the crash: %v", tmp)
	}
	r.Storage().List(ctx, repo.PackFile, func(name string, _ int64) error {
		if strings.Contains(name, "tmp") {
			t.Errorf("List reports %s", name)
		}
		return nil
	})
	res, err := r.Check(ctx, repo.CheckOptions{ReadData: true})
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("check with a temporary file: %v %v", err, res.Errors)
	}
	// the next backup removes it
	src = sourceTree(t, dir)
	if _, err := r.Backup(ctx, repo.BackupOptions{Paths: []string{src}, Host: "h"}); err != nil {
		t.Fatal(err)
	}
	if tmp := tempsIn(t, u); len(tmp) > 0 {
		t.Fatalf("the next backup left temporary files: %v", tmp)
	}
	// the backup itself took ~3 MiB: far less than the temporary file had
	if got := u.FS.FreeBlocks(); got+taken/2 < free {
		t.Fatalf("%d blocks free, %d before the crash (the temporary file took %d): not given back", got, free, taken)
	}
	// and prune removes one too
	tf, err = r.Storage().(repo.Streamer).CreateTemp(ctx, repo.PackFile)
	if err != nil {
		t.Fatal(err)
	}
	tf.Write(make([]byte, 1<<20))
	u.Close()
	u, r = open()
	defer u.Close()
	if _, err := r.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if tmp := tempsIn(t, u); len(tmp) > 0 {
		t.Fatalf("prune left temporary files: %v", tmp)
	}
	res, err = r.Check(ctx, repo.CheckOptions{ReadData: true})
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("final check: %v %v", err, res.Errors)
	}
}
