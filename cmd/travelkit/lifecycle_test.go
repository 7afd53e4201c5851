package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"travelkit/image/gpt"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/ssss"
)

// Tests of a kit's life over versions and interruptions. They run real travelkit
// processes built with a version string (-ldflags) and the killpoints tag, which makes a
// process kill itself (SIGKILL) at a named step: every step of a rotation and of a refresh
// is interrupted for real, deterministically, without timing.

// versioned holds the binaries buildVersioned made, one per version, for the whole run.
var versioned = struct {
	sync.Mutex
	dir  string
	bins map[string]string
}{bins: map[string]string{}}

// buildVersioned compiles travelkit with a version string and -tags killpoints (once per
// version for the test binary's run).
func buildVersioned(t *testing.T, version string) string {
	t.Helper()
	versioned.Lock()
	defer versioned.Unlock()
	if b := versioned.bins[version]; b != "" {
		return b
	}
	if versioned.dir == "" {
		d, err := os.MkdirTemp("", "travelkit-versioned-")
		if err != nil {
			t.Fatal(err)
		}
		versioned.dir = d
	}
	bin := filepath.Join(versioned.dir, "travelkit-"+version)
	cmd := exec.Command("go", "build", "-tags", "killpoints", "-ldflags", "-X travelkit/internal/version.Version="+version, "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	versioned.bins[version] = bin
	return bin
}

// tk runs a travelkit binary; env adds variables.
func tk(bin string, env []string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustTK(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := tk(bin, nil, args...)
	if err != nil {
		t.Fatalf("travelkit %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// killedAt runs a travelkit command that must die at the step (SIGKILL from killpoint).
func killedAt(t *testing.T, bin, step string, args ...string) {
	t.Helper()
	out, err := tk(bin, []string{"TRAVELKIT_KILL_AT=" + step}, args...)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Fatalf("travelkit %s was not killed at %q: %v\n%s", strings.Join(args, " "), step, err, out)
	}
}

// steps runs a command with the step log on and returns the steps it passed.
func steps(t *testing.T, bin string, args ...string) []string {
	t.Helper()
	log := filepath.Join(t.TempDir(), "steps")
	out, err := tk(bin, []string{"TRAVELKIT_KILL_LOG=" + log}, args...)
	if err != nil {
		t.Fatalf("travelkit %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("no steps logged (built without -tags killpoints?): %v", err)
	}
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "\x00"))
}

func stepName(s string) string { return strings.ReplaceAll(s, "\x00", " ") }

// copySparse copies an image file, keeping its holes (cp --sparse=always).
func copySparse(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "--sparse=always", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
}

// kitOpens reports whether pass opens a keyslot of the kit image.
func kitOpens(t *testing.T, img string, pass []byte) bool {
	t.Helper()
	d, closeKit := openKitImage(t, img, false)
	defer closeKit()
	c, err := d.Container()
	if err != nil {
		t.Fatal(err)
	}
	vk, _, err := c.Unlock(pass)
	if err == nil {
		vk.Wipe()
		return true
	}
	if !errors.Is(err, luks.ErrWrongPassphrase) {
		t.Fatal(err)
	}
	return false
}

// The escrow colleagues of the kits writeEscrowTestKit describes (test keys).
var testColleagues = []struct{ name, recipient, identity string }{
	{"ana", "age1me33ar4cmzcyspp5wacnm896zd8myuq4sdnz08rw7sh4tkc83gaq8824hg", "AGE-SECRET-KEY-13PP5JPXQDA9WK0V8U7Q0S5WYQ4FE48JQ29ZEUDL36CF67ZJEW3LQ6PTXXZ"},
	{"bo", "age1smcc4htjm8nfp70ede47keua523e43cckc5kqnh7atr3wdth0vvse6j39e", "AGE-SECRET-KEY-1SLRK6KDJNWUW6THY67SW4MW33KSKVV379ADV3N0ZNCVMST82GE8SXAD4E0"},
	{"cy", "age1vt7w683cjwm2xedrp4meulv7pgt0u6sjvguc2rrjfhhyasejfcxqrgkr26", "AGE-SECRET-KEY-1JZVN0KGQSKXT6ZVSMSYHLV3W9H9VC2R0YL4UNMZZXKUMLD2P235SRJUKZN"},
}

// resticCheck checks the kit's repository with the stock restic: the volume's plaintext
// (travelkit luks read), its repo/ copied out with debugfs, restic check --read-data.
func resticCheck(t *testing.T, bin, img, pass string) string {
	t.Helper()
	plain := plainVolume(t, bin, img, pass)
	dir := filepath.Dir(plain)
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o700)
	if b, err := exec.Command("debugfs", "-R", "rdump repo "+out, plain).CombinedOutput(); err != nil {
		t.Fatalf("debugfs rdump: %v\n%s", err, b)
	}
	pw := filepath.Join(dir, "pw")
	if b, err := exec.Command("debugfs", "-R", "dump travelkit/repo-password "+pw, plain).CombinedOutput(); err != nil {
		t.Fatalf("debugfs dump: %v\n%s", err, b)
	}
	res, err := exec.Command("restic", "-r", filepath.Join(out, "repo"), "--password-file", pw, "--no-cache", "check", "--read-data").CombinedOutput()
	if err != nil {
		t.Fatalf("restic check --read-data: %v\n%s", err, res)
	}
	snaps, err := exec.Command("restic", "-r", filepath.Join(out, "repo"), "--password-file", pw, "--no-cache", "snapshots", "--json").Output()
	if err != nil {
		t.Fatalf("restic snapshots: %v", err)
	}
	return string(snaps)
}

// plainVolume writes the plaintext of the kit's encrypted volume (travelkit luks read)
// into a file of a new temporary folder and returns its path.
func plainVolume(t *testing.T, bin, img, pass string) string {
	t.Helper()
	dir := t.TempDir()
	part := filepath.Join(dir, "part.img")
	copyPartition(t, img, 2, part)
	defer os.Remove(part)
	plain := filepath.Join(dir, "plain.img")
	cmd := exec.Command(bin, "luks", "read", part, "--passphrase-file", pass)
	f, err := os.Create(plain)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = f
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("luks read: %v\n%s", err, stderr.String())
	}
	f.Close()
	return plain
}

// copyPartition copies partition n of an image file into a file of its own.
func copyPartition(t *testing.T, img string, n int, to string) {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	tab, err := gpt.Read(f, st.Size(), 512)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tab.Partitions {
		if p.Index == n {
			dd := exec.Command("dd", "if="+img, "of="+to, "bs=1M", fmt.Sprintf("skip=%d", tab.Offset(p)>>20),
				fmt.Sprintf("count=%d", tab.Length(p)>>20), "conv=sparse", "status=none")
			if out, err := dd.CombinedOutput(); err != nil {
				t.Fatalf("dd: %v\n%s", err, out)
			}
			return
		}
	}
	t.Fatalf("no partition %d", n)
}

// TestRefreshOtherVersion: a kit built by an older travelkit (another version string) is
// refreshed by a newer one: verify and plan say the tools are older before, verify passes
// after, the snapshots and restic check --read-data are the same. A refresh killed while it
// writes the tools partition is reported by verify as incomplete and completed by a
// second refresh.
func TestRefreshOtherVersion(t *testing.T) {
	oldBin, newBin := buildVersioned(t, "v0.9.0"), buildVersioned(t, "v1.0.0")
	dir := t.TempDir()
	k := writeEscrowTestKit(t, dir, "life-kit")
	p := func(n string) string { return filepath.Join(dir, n) }
	img := p("kit.img")
	mustTK(t, oldBin, k.buildArgs(img, "160MiB", "--recovery-key-file", p("rk"), "--register", p("reg.jsonl"))...)
	mustTK(t, oldBin, "backup", "--target", img, "--passphrase-file", p("pass"), p("src"))
	snaps := mustTK(t, oldBin, "snapshots", "--target", img, "--passphrase-file", p("pass"), "--json")
	restic := resticCheck(t, newBin, img, p("pass"))

	if out := mustTK(t, newBin, "verify", "--target", img, "--passphrase-file", p("pass")); !strings.Contains(out, "tools are travelkit v0.9.0, older than this travelkit (v1.0.0)") {
		t.Fatalf("verify does not say the tools are older:\n%s", out)
	}
	if out := mustTK(t, newBin, "plan", "--profile", p("kit.toml"), "--target", img, "--binaries", p("dist")); !strings.Contains(out, "older than this travelkit (v1.0.0)") || !strings.Contains(out, "travelkit refresh --target") {
		t.Fatalf("plan does not say the tools are older:\n%s", out)
	}
	if out := mustTK(t, newBin, "register", p("reg.jsonl")); !strings.Contains(out, "tools are travelkit v0.9.0, older") {
		t.Fatalf("register does not list the kit's tools as due:\n%s", out)
	}

	// A refresh killed halfway through the tools partition.
	refresh := []string{"refresh", "--target", img, "--passphrase-file", p("pass"), "--binaries", p("dist2"), "--register", p("reg.jsonl"), "--yes"}
	killedAt(t, newBin, "tools: bin/windows-amd64/travelkit.exe", refresh...)
	out, err := tk(newBin, nil, "verify", "--target", img, "--passphrase-file", p("pass"))
	if code := exitCode(err); code != ExitVerifyFail || !strings.Contains(out, "interrupted") || !strings.Contains(out, "INCOMPLETE") {
		t.Fatalf("verify after an interrupted refresh: exit %d\n%s", code, out)
	}
	out, err = tk(newBin, nil, "verify", "--target", img) // no secret: the tools partition alone
	if code := exitCode(err); code != ExitVerifyFail || !strings.Contains(out, "incomplete") {
		t.Fatalf("verify without a secret after an interrupted refresh: exit %d\n%s", code, out)
	}
	mustTK(t, newBin, refresh...)
	out = mustTK(t, newBin, "verify", "--target", img, "--passphrase-file", p("pass"))
	if !strings.Contains(out, "OK: the tools partition matches the trusted copy") || strings.Contains(out, "older") {
		t.Fatalf("verify after the refresh:\n%s", out)
	}
	// the new binaries are on the kit, with the new version in its manifest
	if got := mustTK(t, newBin, "files", "ls", "--target", img, "--passphrase-file", p("pass"), "travelkit"); !strings.Contains(got, "manifest.json") {
		t.Fatalf("files ls travelkit:\n%s", got)
	}
	if b, _ := os.ReadFile(p("reg.jsonl")); !bytes.Contains(b, []byte(`"event":"refresh"`)) || !bytes.Contains(b, []byte(`"travelkit_version":"v1.0.0"`)) {
		t.Fatalf("register:\n%s", b)
	}
	// the backups are the same
	if after := mustTK(t, newBin, "snapshots", "--target", img, "--passphrase-file", p("pass"), "--json"); after != snaps {
		t.Fatalf("snapshots changed:\n%s\n%s", snaps, after)
	}
	if after := resticCheck(t, newBin, img, p("pass")); after != restic {
		t.Fatalf("restic snapshots changed:\n%s\n%s", restic, after)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -2
	}
	return 0
}

// escrowKey rebuilds a recovery key from the escrow files of two colleagues in dir.
func escrowKey(t *testing.T, dir string, names ...string) string {
	t.Helper()
	var shares []ssss.Share
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n+".age"))
		if err != nil {
			return ""
		}
		ids, _ := kit.ParseIdentities([]byte(testColleagues[slices.IndexFunc(testColleagues, func(c struct{ name, recipient, identity string }) bool { return c.name == n })].identity))
		c, err := kit.OpenEscrowFile(b, ids...)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, c.Share)
	}
	k, err := kit.CombineShares(shares, 2)
	if err != nil {
		return ""
	}
	return k
}

// TestRotationKilledAtEachStep kills `travelkit keys rotate-recovery` at every step (the
// tools partition: at its first and last file): afterwards the kit opens with the old
// secrets or with the new ones (passphrase, recovery key, escrow files), never with
// neither, and a refresh leaves a kit that verifies.
func TestRotationKilledAtEachStep(t *testing.T) {
	bin := buildVersioned(t, "v1.0.0")
	dir := t.TempDir()
	k := writeEscrowTestKit(t, dir, "life-kit")
	p := func(n string) string { return filepath.Join(dir, n) }
	base := p("base.img")
	mustTK(t, bin, k.buildArgs(base, "160MiB", "--recovery-key-file", p("rk"), "--escrow-dir", p("handover"))...)
	mustTK(t, bin, "backup", "--target", base, "--passphrase-file", p("pass"), p("src"))
	oldKey, _ := os.ReadFile(p("rk"))
	oldRK := strings.TrimSpace(string(oldKey))
	pass, _ := os.ReadFile(p("pass"))

	rotate := func(img, run string) []string {
		return []string{"keys", "rotate-recovery", "--target", img, "--passphrase-file", p("pass"),
			"--recovery-key-file", filepath.Join(run, "rk2"), "--escrow-dir", filepath.Join(run, "handover"), "--yes"}
	}
	prepare := func(name string) (string, string) {
		run := filepath.Join(dir, name)
		os.MkdirAll(run, 0o700)
		img := filepath.Join(run, "kit.img")
		copySparse(t, base, img)
		if out, err := exec.Command("cp", "-r", p("handover"), filepath.Join(run, "handover")).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		return run, img
	}

	// The steps of a whole rotation.
	run, img := prepare("full")
	all := steps(t, bin, rotate(img, run)...)
	var kills []string
	var tools []string
	for _, s := range all {
		if n := stepName(s); strings.HasPrefix(n, "tools: ") {
			tools = append(tools, n)
		} else {
			kills = append(kills, n)
		}
	}
	if len(kills) < 8 || len(tools) < 5 {
		t.Fatalf("too few steps logged: %q", all)
	}
	kills = append(kills, tools[0], tools[len(tools)-1])

	for i, step := range kills {
		run, img := prepare(fmt.Sprintf("kill%02d", i))
		killedAt(t, bin, step, rotate(img, run)...)
		if !kitOpens(t, img, pass) {
			t.Fatalf("killed at %q: the passphrase no longer opens the kit", step)
		}
		newKey, _ := os.ReadFile(filepath.Join(run, "rk2"))
		newRK := strings.TrimSpace(string(newKey))
		oldOpens := kitOpens(t, img, []byte(oldRK))
		newOpens := newRK != "" && kitOpens(t, img, []byte(newRK))
		if !oldOpens && !newOpens {
			t.Fatalf("killed at %q: neither the old nor the new recovery key opens the kit", step)
		}
		// the escrow files handed over: the old ones while the old key opens, else the new ones
		escrowed := escrowKey(t, filepath.Join(run, "handover"), "ana", "cy")
		if escrowed == "" || !kitOpens(t, img, []byte(escrowed)) {
			t.Fatalf("killed at %q: the handed-over escrow files open nothing (old key opens: %v, new: %v)", step, oldOpens, newOpens)
		}
		// refresh completes (or undoes) whatever was interrupted, and hands the escrow files
		// over again; the kit verifies and still opens with one recovery key, not two
		refreshed := mustTK(t, bin, "refresh", "--target", img, "--passphrase-file", p("pass"), "--binaries", p("dist"),
			"--escrow-dir", filepath.Join(run, "handover"), "--yes")
		if out := mustTK(t, bin, "verify", "--target", img, "--passphrase-file", p("pass")); !strings.Contains(out, "OK: the tools partition matches") {
			t.Fatalf("killed at %q, then refreshed: verify:\n%s", step, out)
		}
		oldAfter, newAfter := kitOpens(t, img, []byte(oldRK)), newRK != "" && kitOpens(t, img, []byte(newRK))
		// the refresh says it completed an interrupted change exactly when one was left:
		// the rotation took effect (its pending state was written) and its commit had not ended
		left := newAfter && step != "commit: done" && step != "rotate: done"
		if said := strings.Contains(refreshed, "An earlier interrupted change was completed too."); said != left {
			t.Fatalf("killed at %q, then refreshed: says it completed an interrupted change: %v, want %v\n%s", step, said, left, refreshed)
		}
		if oldAfter == newAfter {
			t.Fatalf("killed at %q, then refreshed: old key opens %v, new key opens %v: want exactly one", step, oldAfter, newAfter)
		}
		escrowed = escrowKey(t, filepath.Join(run, "handover"), "bo", "cy")
		if escrowed == "" || !kitOpens(t, img, []byte(escrowed)) {
			t.Fatalf("killed at %q, then refreshed: the handed-over escrow files open nothing", step)
		}
		t.Logf("killed at %q: old key opens %v, new key opens %v, escrow opens; after refresh: old %v, new %v", step, oldOpens, newOpens, oldAfter, newAfter)
	}
}
