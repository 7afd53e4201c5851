package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles travelkit for tests that must kill a real process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "travelkit")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestKill9DuringBackup kills `travelkit backup` with SIGKILL at several moments, into a
// kit (ext4 on userspace LUKS) and into a folder. After each kill the repository checks
// clean (--read-data), the first snapshot restores, and the next backup succeeds.
func TestKill9DuringBackup(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	must := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("travelkit %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	os.WriteFile(filepath.Join(dir, "pass"), []byte("passphrase"), 0o600)
	os.WriteFile(filepath.Join(dir, "kit.toml"), []byte("name = \"kill-kit\"\n[drive]\ntools_size = \"64MiB\"\n[luks]\npbkdf = \"pbkdf2\"\npbkdf_iterations = 1000\n[tools]\nplatforms = [\"linux/amd64\"]\n"), 0o600)
	os.MkdirAll(filepath.Join(dir, "dist"), 0o755)
	os.WriteFile(filepath.Join(dir, "dist", "travelkit-linux-amd64"), []byte("stand-in"), 0o755)
	img := filepath.Join(dir, "kit.img")
	must("build", "--profile", filepath.Join(dir, "kit.toml"), "--target", img, "--size", "400MiB",
		"--binaries", filepath.Join(dir, "dist"), "--passphrase-file", filepath.Join(dir, "pass"), "--yes", "--allow-weak-passphrase")
	folder := filepath.Join(dir, "repo")
	os.WriteFile(filepath.Join(dir, "repopw"), []byte("repo password\n"), 0o600)
	must("init", "--repo", folder, "--password-file", filepath.Join(dir, "repopw"))

	src := filepath.Join(dir, "src")
	os.MkdirAll(filepath.Join(src, "first"), 0o755)
	os.WriteFile(filepath.Join(src, "first", "keep.txt"), []byte("the first snapshot\n"), 0o644)
	repos := map[string][]string{
		"kit":    {"--target", img, "--passphrase-file", filepath.Join(dir, "pass")},
		"folder": {"--repo", folder, "--password-file", filepath.Join(dir, "repopw")},
	}
	for name, where := range repos {
		must(append(append([]string{"backup"}, where...), src)...)
		t.Logf("%s: first snapshot made", name)
	}
	// data that takes a while to back up
	for i := 0; i < 40; i++ {
		b := make([]byte, 1<<20)
		rand.Read(b)
		os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d.bin", i)), b, 0o644)
	}
	for name, where := range repos {
		for _, after := range []time.Duration{50 * time.Millisecond, 250 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond} {
			cmd := exec.Command(bin, append(append([]string{"backup"}, where...), src)...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(after)
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			t.Logf("%s: killed after %v (%v)", name, after, err)
			must(append([]string{"check", "--read-data"}, where...)...)
		}
		out := filepath.Join(dir, "restore-"+name)
		must(append(append([]string{"restore"}, where...), "latest", "--to", out)...)
		must(append(append([]string{"backup"}, where...), src)...)
		must(append([]string{"check", "--read-data"}, where...)...)
		snaps := must(append([]string{"snapshots", "--json"}, where...)...)
		if !strings.Contains(snaps, `"id"`) {
			t.Fatalf("%s: no snapshots: %s", name, snaps)
		}
		first := filepath.Join(dir, "restore-first-"+name)
		ids := strings.Split(snaps, `"short_id":"`)
		if len(ids) < 2 {
			t.Fatalf("%s: no short ids in %s", name, snaps)
		}
		must(append(append([]string{"restore"}, where...), strings.SplitN(ids[1], `"`, 2)[0], "--to", first)...)
		if got, _ := os.ReadFile(filepath.Join(first, src, "first", "keep.txt")); string(got) != "the first snapshot\n" {
			t.Fatalf("%s: the first snapshot restores %q", name, got)
		}
	}
	must("verify", "--target", img, "--passphrase-file", filepath.Join(dir, "pass"))
}
