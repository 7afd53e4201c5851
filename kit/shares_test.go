package kit

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"travelkit/ssss"
)

// TestShareEscrowStockTools: a 2-of-3 escrow: each file decrypts with the stock age CLI to
// one ssss line, and any two lines given to the stock ssss-combine print the recovery key.
// travelkit combines them too, and one share alone is refused with the count.
func TestShareEscrowStockTools(t *testing.T) {
	dir := t.TempDir()
	var recipients, idFiles []string
	for _, n := range []string{"ana", "bo", "cy"} {
		id := filepath.Join(dir, n+".key")
		run(t, "age-keygen", "-o", id)
		recipients = append(recipients, strings.TrimSpace(string(run(t, "age-keygen", "-y", id))))
		idFiles = append(idFiles, id)
	}
	key := newKey(t)
	files, err := EscrowFiles(key, 2, recipients)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var shares []ssss.Share
	for i, f := range files {
		p := filepath.Join(dir, "escrow", filepath.Base(idFiles[i])+".age")
		os.MkdirAll(filepath.Dir(p), 0o700)
		os.WriteFile(p, f, 0o600)
		out := string(run(t, "age", "-d", "-i", idFiles[i], p))
		if strings.Count(out, "\n") != 1 || strings.Contains(out, key) {
			t.Fatalf("age -d printed %q: want one ssss line", out)
		}
		lines = append(lines, out)
		ids, _ := ParseIdentities(mustRead(t, idFiles[i]))
		c, err := OpenEscrowFile(f, ids...)
		if err != nil || c.Key != "" || c.Share.Index != i+1 {
			t.Fatalf("OpenEscrowFile: %+v %v", c, err)
		}
		shares = append(shares, c.Share)
		if _, err := OpenEscrow(f, ids...); !errors.Is(err, ErrIsShare) {
			t.Fatalf("OpenEscrow of a share: %v", err)
		}
	}
	for _, pair := range [][2]int{{0, 1}, {0, 2}, {2, 1}} {
		cmd := exec.Command(needTool(t, "ssss-combine"), "-t", "2", "-Q")
		cmd.Stdin = strings.NewReader(lines[pair[0]] + lines[pair[1]])
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("ssss-combine: %v\n%s", err, stderr.String())
		}
		if got := strings.TrimSpace(stderr.String()); got != key {
			t.Fatalf("ssss-combine printed %q, want the recovery key", got)
		}
		for _, k := range []int{2, 0} {
			got, err := CombineShares([]ssss.Share{shares[pair[0]], shares[pair[1]]}, k)
			if err != nil || got != key {
				t.Fatalf("CombineShares(k=%d): %v", k, err)
			}
		}
	}
	var more *NeedMoreError
	if _, err := CombineShares(shares[:1], 2); !errors.As(err, &more) || more.Need-more.Have != 1 || !strings.Contains(err.Error(), "1 more share needed") {
		t.Fatalf("one share: %v", err)
	}
	// the same share twice is still one
	if _, err := CombineShares([]ssss.Share{shares[0], shares[0]}, 2); !errors.As(err, &more) {
		t.Fatalf("one share twice: %v", err)
	}
	// a share of another key does not combine into a key
	other, _ := EscrowFiles(newKey(t), 2, recipients)
	ids, _ := ParseIdentities(mustRead(t, idFiles[1]))
	c, _ := OpenEscrowFile(other[1], ids...)
	if _, err := CombineShares([]ssss.Share{shares[0], c.Share}, 2); err == nil {
		t.Fatal("shares of two keys combined")
	}
	// 1-of-n: each file holds the key itself
	whole, _ := EscrowFiles(key, 1, recipients)
	ageDecrypt(t, idFiles[2], whole[2], key)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHeaderBackupFiles: escrow/luks-header.age opens with any escrow identity and the
// stock age CLI; luks-header.age, written from a wrap without the recovery key, opens with
// the stock age CLI when the recovery key is typed as the passphrase.
func TestHeaderBackupFiles(t *testing.T) {
	dir := t.TempDir()
	backup := make([]byte, 1<<20)
	rand.Read(backup)
	id := filepath.Join(dir, "ana.key")
	run(t, "age-keygen", "-o", id)
	pub := strings.TrimSpace(string(run(t, "age-keygen", "-y", id)))
	esc, err := EncryptHeaderBackupTo(backup, []string{pub})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "escrow-luks-header.age")
	os.WriteFile(p, esc, 0o600)
	if out := run(t, "age", "-d", "-i", id, p); !bytes.Equal(out, backup) {
		t.Fatal("age -d -i: not the backup")
	}

	key := newKey(t)
	wraps, err := NewHeaderWraps(key, 3)
	if err != nil {
		t.Fatal(err)
	}
	wraps, err = ParseHeaderWraps(MarshalHeaderWraps(wraps))
	if err != nil || len(wraps) != 3 {
		t.Fatalf("wraps round trip: %v", err)
	}
	file, err := EncryptHeaderBackupWithWrap(backup, wraps[1])
	if err != nil {
		t.Fatal(err)
	}
	p = filepath.Join(dir, "luks-header.age")
	os.WriteFile(p, file, 0o600)
	os.WriteFile(filepath.Join(dir, "rk"), []byte(key+"\n"), 0o600)
	out := filepath.Join(dir, "out")
	cmd := exec.Command("/usr/bin/python3", "testdata/agepass.py", filepath.Join(dir, "rk"), out, p)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("age -d with the recovery key typed: %v\n%s", err, b)
	}
	if got := mustRead(t, out); !bytes.Equal(got, backup) {
		t.Fatal("age -d with the recovery key: not the backup")
	}
	sid, _ := age.NewScryptIdentity(key)
	if got, err := OpenHeaderBackupFile(file, sid); err != nil || !bytes.Equal(got, backup) {
		t.Fatalf("OpenHeaderBackupFile: %v", err)
	}
	wrong, _ := age.NewScryptIdentity(newKey(t))
	if _, err := OpenHeaderBackupFile(file, wrong); err == nil {
		t.Fatal("another key opens the header backup")
	}
}
