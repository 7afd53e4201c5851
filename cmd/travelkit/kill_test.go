//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"travelkit/drive"
	"travelkit/image"
)

// buildBinary compiles travelkit for tests that must kill a real process, with the
// killpoints (internal/killpoint) that say where a running command is and can stop it
// at an exact step.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "travelkit")
	cmd := exec.Command("go", "build", "-tags", "killpoints", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// A kill: TRAVELKIT_KILL_AT, so the process dies at that exact step, or (external) SIGKILL
// from the test as soon as the killpoint log shows that step: somewhere after it.
type kill struct {
	at       string
	external bool
	kitOnly  bool // an ext4 step: only a kit has ext4
	snapshot bool // the kill comes after the snapshot was saved: one more snapshot
}

var kills = []kill{
	{at: "repo: data saved#1"},                        // the first data pack is in, nothing else
	{at: "repo: data saved", external: true},          // any moment after the first pack
	{at: "ext4: file data written#2", kitOnly: true},  // a pack's data written, no inode yet
	{at: "ext4: file inode written#2", kitOnly: true}, // its inode written, no directory entry
	{at: "repo: index saved"},                         // packs and index in, no snapshot
	{at: "repo: snapshots saved", snapshot: true},     // done but for the lock and the close
}

// TestKill9DuringBackup kills `travelkit backup` with SIGKILL while it is provably under
// way (the kill lands at or after a step the backup reports through its killpoints, and
// the snapshot count shows it did not finish), into a kit (ext4 on userspace LUKS) and
// into a folder. After each kill: the repository checks clean with --read-data, and the
// kit's filesystem is what an unclean shutdown may leave, no worse: e2fsck -p (the
// boot-time repair, which stops at anything it cannot fix unattended) repairs it, and
// e2fsck -fn then finds nothing. At the end the first snapshot restores, and the next
// backup succeeds.
func TestKill9DuringBackup(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("travelkit %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	k := writeTestKit(t, dir, "kill-kit")
	pass := k.Pass
	img := filepath.Join(dir, "kit.img")
	must(k.buildArgs(img, "512MiB")...) // room for the packs every kill leaves until a prune
	folder := filepath.Join(dir, "repo")
	os.WriteFile(filepath.Join(dir, "repopw"), []byte("repo password\n"), 0o600)
	must("init", "--repo", folder, "--password-file", filepath.Join(dir, "repopw"))

	src := k.Src
	os.MkdirAll(filepath.Join(src, "first"), 0o755)
	os.WriteFile(filepath.Join(src, "first", "keep.txt"), []byte("the first snapshot\n"), 0o644)
	repos := []struct {
		name  string
		where []string
		kit   bool
	}{
		{"kit", []string{"--target", img, "--passphrase-file", pass}, true},
		{"folder", []string{"--repo", folder, "--password-file", filepath.Join(dir, "repopw")}, false},
	}
	for _, r := range repos {
		must(append(append([]string{"backup"}, r.where...), src)...)
	}
	writeRandomFiles(t, src)
	snapshots := func(where []string) int {
		t.Helper()
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(must(append([]string{"snapshots", "--json"}, where...)...)), &list); err != nil {
			t.Fatal(err)
		}
		return len(list)
	}

	for _, r := range repos {
		before := snapshots(r.where)
		for _, k := range kills {
			if k.kitOnly && !r.kit {
				continue
			}
			what := fmt.Sprintf("%s, killed at %q", r.name, k.at)
			if k.external {
				what = fmt.Sprintf("%s, killed from outside after %q", r.name, k.at)
			}
			// an outside kill can come too late: the backup of the rest may end in the
			// moment between seeing the step and the signal. Then it counts as a backup,
			// and the kill is tried again with new data (never more than 3 times).
			for try := 1; killBackup(t, bin, dir, k, append(append([]string{"backup"}, r.where...), src)); try++ {
				if try == 3 {
					t.Fatalf("%s: the backup ended before the kill 3 times", what)
				}
				t.Logf("%s: the backup ended before the kill; again with new data", what)
				before++
				writeRandomFiles(t, src)
			}
			after := snapshots(r.where)
			want := before
			if k.snapshot {
				want++
			}
			if after != want {
				t.Fatalf("%s: %d snapshots before, %d after; want %d (the kill did not land where it should)", what, before, after, want)
			}
			if out, err := run(append([]string{"check", "--read-data"}, r.where...)...); err != nil {
				t.Fatalf("%s: check --read-data: %v\n%s", what, err, out)
			}
			if r.kit {
				fsckKit(t, img, dir, what)
			}
			t.Logf("%s: %d snapshots, check clean", what, after)
			before = after
		}
	}

	for _, r := range repos {
		out := filepath.Join(dir, "restore-"+r.name)
		must(append(append([]string{"restore"}, r.where...), "latest", "--to", out)...)
		must(append(append([]string{"backup"}, r.where...), src)...)
		must(append([]string{"check", "--read-data"}, r.where...)...)
		var list []struct {
			ShortID string `json:"short_id"`
		}
		if err := json.Unmarshal([]byte(must(append([]string{"snapshots", "--json"}, r.where...)...)), &list); err != nil || len(list) == 0 {
			t.Fatalf("%s: snapshots: %v", r.name, err)
		}
		first := filepath.Join(dir, "restore-first-"+r.name)
		must(append(append([]string{"restore"}, r.where...), list[0].ShortID, "--to", first)...)
		if got, _ := os.ReadFile(filepath.Join(first, src, "first", "keep.txt")); string(got) != "the first snapshot\n" {
			t.Fatalf("%s: the first snapshot restores %q", r.name, got)
		}
	}
	fsckKit(t, img, dir, "after the last backup")
	must("verify", "--target", img, "--passphrase-file", pass)
}

// writeRandomFiles writes data for three packs (16 MiB each) into src: random, so
// nothing deduplicates or compresses.
func writeRandomFiles(t *testing.T, src string) {
	t.Helper()
	for i := 0; i < 40; i++ {
		b := make([]byte, 1<<20)
		rand.Read(b)
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d.bin", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// killBackup runs the backup and kills it as k says. It fails the test unless the
// process died of SIGKILL, having reached the step, or (an outside kill only) it
// reached the step and then ended well before the signal came: then it says so
// (finished), and the caller tries again.
func killBackup(t *testing.T, bin, dir string, k kill, args []string) (finished bool) {
	t.Helper()
	logf := filepath.Join(dir, "killpoints.log")
	os.Remove(logf)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TRAVELKIT_KILL_LOG="+logf)
	if !k.external {
		cmd.Env = append(cmd.Env, "TRAVELKIT_KILL_AT="+k.at)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	if k.external {
		// Wait for the backup to report the step, then kill it from outside.
	wait:
		for deadline := time.Now().Add(2 * time.Minute); ; {
			select {
			case err = <-exited:
				if b, _ := os.ReadFile(logf); err == nil && bytes.Contains(b, []byte(k.at+"\n")) {
					return true
				}
				t.Fatalf("the backup ended before reaching %q: %v\n%s", k.at, err, out.Bytes())
			default:
			}
			if b, _ := os.ReadFile(logf); bytes.Contains(b, []byte(k.at+"\n")) {
				cmd.Process.Signal(syscall.SIGKILL)
				if err = <-exited; err == nil {
					return true
				}
				break wait
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("the backup never reached %q", k.at)
			}
			time.Sleep(time.Millisecond)
		}
	} else {
		select {
		case err = <-exited:
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			t.Fatalf("the backup was not killed at %q", k.at)
		}
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the backup was to die of SIGKILL at %q, it ended with %v\n%s", k.at, err, out.Bytes())
	}
	if log, _ := os.ReadFile(logf); !bytes.Contains(log, []byte(strings.SplitN(k.at, "#", 2)[0]+"\n")) {
		t.Fatalf("killed, but the backup never reached %q; it reached:\n%s", k.at, log)
	}
	return false
}

// fsckKit decrypts the kit's volume (opened with testKitPassphrase) into a file
// (travelkit's own LUKS code; the stock-tool path is tested in package drive) and checks
// it with e2fsck. A kill may leave what an
// unclean shutdown of a filesystem without a journal transaction leaves: blocks and inodes
// allocated but not yet used, counts to correct, and a new file's inode written but not
// yet linked (WriteFile's documented crash states). e2fsck -fy must repair it (exit 0 or
// 1) with no repair outside those kinds, and e2fsck -fn must then find it clean.
func fsckKit(t *testing.T, img, dir, what string) {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	d, err := drive.Open(&image.FileDevice{F: readOnlyFile{f}, N: st.Size()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Container()
	if err != nil {
		t.Fatal(err)
	}
	vk, _, err := c.Unlock([]byte(testKitPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.OpenVolume(vk)
	vk.Wipe()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	plain := filepath.Join(dir, "volume.ext4")
	out, err := os.Create(plain)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(plain)
	if _, err := io.Copy(out, io.NewSectionReader(v, 0, v.Size())); err != nil {
		t.Fatal(err)
	}
	out.Close()
	repair, err := exec.Command("e2fsck", "-fy", plain).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.ExitCode() > 1) {
		t.Fatalf("%s: e2fsck -fy could not repair the kit's filesystem: %v\n%s", what, err, repair)
	}
	// A kill between a new inode's write and its directory entry leaves it unattached,
	// as a power cut can in the kernel's own ext4; when it is still empty (a pack streamed
	// to a temporary file that had no data yet) e2fsck clears it, which e2fsck -p does
	// unattended. Every other "Clear" is damage.
	scanned := regexp.MustCompile(`(?m)^Unattached zero-length inode \d+\.  Clear\? yes$`).ReplaceAll(repair, nil)
	for _, bad := range []string{"deleted/unused inode", "Clear", "illegal", "Illegal", "multiply-claimed",
		"corrupt", "Salvage", "bad block", "invalid", "Invalid", "Root inode", "duplicate"} {
		if bytes.Contains(scanned, []byte(bad)) {
			t.Fatalf("%s: e2fsck -fy repaired more than a crash may leave (%q):\n%s", what, bad, repair)
		}
	}
	if err != nil {
		t.Logf("%s: e2fsck -fy repaired:\n%s", what, repair)
	}
	if check, err := exec.Command("e2fsck", "-fn", plain).CombinedOutput(); err != nil {
		t.Fatalf("%s: e2fsck -fn after the repair: %v\n%s", what, err, check)
	}
}

// readOnlyFile refuses writes: the check must not change the kit.
type readOnlyFile struct{ f *os.File }

func (r readOnlyFile) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }
func (r readOnlyFile) WriteAt([]byte, int64) (int, error) {
	return 0, errors.New("the kit is opened read-only for the check")
}
