package wizard

import (
	"context"
	"crypto/rand"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"travelkit/builder"
	"travelkit/drive"
	"travelkit/luks"
	"travelkit/repo"
	"travelkit/target"
)

// testKit is a kit image built with the builder (cheap keyslots), holding one backup of
// a small home folder, and the secrets that open it.
type testKit struct {
	img      string
	pass     string
	recovery string
	identity string // a colleague's age identity file
	src      string // the folder that was backed up
	snapTime time.Time
}

// testTree is the backed-up folder: names in several scripts, folders to choose from.
var testTree = map[string]string{
	"Documents/report.txt":          "the report\n",
	"Documents/notes/day1.txt":      "first day\n",
	"Documents/notes/day2.txt":      "second day\n",
	"Photos/2026/border.jpg":        strings.Repeat("jpeg", 5000),
	"Photos/2026/family.jpg":        strings.Repeat("JPEG", 3000),
	"Letters/رسالة.txt":             "سلام\n",
	"Letters/письмо.txt":            "привет\n",
	"Letters/lettre d'amour.txt":    "bonjour\n",
	"Contacts/contacts.vcf":         "BEGIN:VCARD\n",
	"Contacts/archive/old.vcf":      "BEGIN:VCARD\nold\n",
	"readme.txt":                    "hello\n",
	"Documents/empty-folder/.keep":  "",
	"Music/song one/track 01.ogg":   strings.Repeat("ogg", 1000),
	"Music/song one/track 02.ogg":   strings.Repeat("ogg", 1200),
	"Music/song two/track 01.ogg":   strings.Repeat("vorbis", 900),
	"Projects/travelkit/plan.md":    "# plan\n",
	"Projects/interviews/a/b/c.txt": "deep\n",
}

func newTestKit(t *testing.T, dir string) *testKit {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	k := &testKit{img: filepath.Join(dir, "kit.img"), pass: "correct horse battery staple", identity: filepath.Join(dir, "ana.key")}
	if err := os.WriteFile(k.identity, []byte("# ana\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(dir, "dist")
	os.MkdirAll(dist, 0o755)
	bin := make([]byte, 32<<10)
	rand.Read(bin)
	os.WriteFile(filepath.Join(dist, "travelkit-linux-amd64"), bin, 0o755)
	p, err := builder.MakePlan(builder.Config{Name: "amina-2026", Languages: []string{"en", "ar"}, ToolsSize: 64 << 20, RecoveryKey: true,
		LUKS:      luks.FormatOptions{PBKDF: luks.PBKDF{Type: "pbkdf2", Hash: "sha256", Iterations: 1000}},
		Platforms: []string{"linux/amd64"}, Escrow: []builder.Escrow{{Name: "ana", Recipient: id.Recipient().String()}}},
		builder.PlanOptions{Target: k.img, Size: 200 << 20, BinaryDirs: []string{dist}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := builder.Build(context.Background(), p, builder.BuildOptions{Passphrase: []byte(k.pass)})
	if err != nil {
		t.Fatal(err)
	}
	k.recovery = res.RecoveryKey
	k.src = filepath.Join(dir, "home", "amina")
	for name, data := range testTree {
		path := filepath.Join(k.src, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k.snapTime = time.Date(2026, 11, 3, 14, 5, 0, 0, time.Local)
	k.backup(t, k.snapTime)
	return k
}

// backup saves k.src into the kit, as `travelkit backup --target` does.
func (k *testKit) backup(t *testing.T, when time.Time) {
	t.Helper()
	tg, err := target.Open(k.img, target.Options{Write: true, Partition: drive.DataPartition})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	d, err := drive.Open(tg)
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Unlock([]byte(k.pass), -1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	ctx := context.Background()
	r, err := u.Repository(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Backup(ctx, repo.BackupOptions{Paths: []string{k.src}, Host: "amina-laptop", Time: when}); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
}

// sameTree fails unless the restored folder (below dest, at the source's path) holds
// exactly the backed-up files with their content (only the chosen top folders when
// some are given).
func sameTree(t *testing.T, src, dest string, only ...string) {
	t.Helper()
	restored := filepath.Join(dest, filepath.FromSlash(repo.SnapshotPath(src)))
	want := map[string]string{}
	for name, data := range testTree {
		keep := len(only) == 0
		for _, o := range only {
			if strings.HasPrefix(name, o+"/") {
				keep = true
			}
		}
		if keep {
			want[name] = data
		}
	}
	got := map[string]string{}
	err := filepath.WalkDir(restored, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(restored, p)
			got[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range want {
		if got[name] != data {
			t.Errorf("restored %s: %q, want %q", name, trunc(got[name]), trunc(data))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("restored %s, which was not chosen", name)
		}
	}
}

func trunc(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
