package builder_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"travelkit/builder"
	"travelkit/drive"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/ssss"
	"travelkit/target"
)

// openKit opens the kit image for writing and unlocks it with pass.
func openKit(t *testing.T, img string, pass []byte) (*target.Target, *drive.Drive, *drive.Unlocked) {
	t.Helper()
	tg, err := target.Open(img, target.Options{Write: true, Partition: drive.DataPartition})
	if err != nil {
		t.Fatal(err)
	}
	d, err := drive.Open(tg)
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Unlock(pass, -1, true)
	if err != nil {
		tg.Close()
		t.Fatalf("unlock: %v", err)
	}
	return tg, d, u
}

func closeKit(t *testing.T, tg *target.Target, u *drive.Unlocked) {
	t.Helper()
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
}

// openReadOnly opens the kit image for reading; close closes it.
func openReadOnly(t *testing.T, img string) (d *drive.Drive, close func()) {
	t.Helper()
	tg, err := target.Open(img, target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err = drive.Open(tg)
	if err != nil {
		tg.Close()
		t.Fatal(err)
	}
	return d, func() { tg.Close() }
}

// opens reports whether pass opens a keyslot of the kit's LUKS2 header.
func opens(t *testing.T, img string, pass string) bool {
	t.Helper()
	d, close := openReadOnly(t, img)
	defer close()
	c, err := d.Container()
	if err != nil {
		t.Fatal(err)
	}
	vk, _, err := c.Unlock([]byte(pass))
	if err == nil {
		vk.Wipe()
		return true
	}
	if !errors.Is(err, luks.ErrWrongPassphrase) {
		t.Fatal(err)
	}
	return false
}

// verifyTools checks the tools partition against the trusted copy inside the volume.
func verifyTools(t *testing.T, img string, pass []byte) *kit.Manifest {
	t.Helper()
	tg, d, u := openKit(t, img, pass)
	defer closeKit(t, tg, u)
	cur, pending, err := u.ReadState()
	if err != nil || pending != nil {
		t.Fatalf("state: %v (pending %v)", err, pending != nil)
	}
	tree, err := d.ToolsTree()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := kit.Verify(tree, cur.ManifestJSON, cur.Sums)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %v", err, rep.Problems())
	}
	return cur.Manifest
}

// TestKeyChanges: on a kit with a 2-of-3 escrow, rotating the recovery key (unlocked with
// the passphrase, the old key unknown) retires the old key and the old escrow files and
// gives new ones that combine; changing the passphrase retires the old one; refreshing
// keeps the escrow files; the header backups follow every change.
func TestKeyChanges(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(t, dir)
	var ids []string
	cfg.Escrow = nil
	for _, n := range []string{"ana", "bo", "cy"} {
		id := filepath.Join(dir, n+".key")
		sh(t, dir, "age-keygen", "-o", id)
		ids = append(ids, id)
		cfg.Escrow = append(cfg.Escrow, builder.Escrow{Name: n, Recipient: strings.TrimSpace(sh(t, dir, "age-keygen", "-y", id))})
	}
	cfg.EscrowThreshold = 2
	dist := fakeDist(t, cfg.Platforms)
	img := filepath.Join(dir, "kit.img")
	plan, err := builder.MakePlan(cfg, builder.PlanOptions{Target: img, Size: 200 << 20, BinaryDirs: []string{dist}})
	if err != nil {
		t.Fatal(err)
	}
	handover := filepath.Join(dir, "handover")
	pass := []byte("correct horse battery")
	res, err := builder.Build(context.Background(), plan, builder.BuildOptions{Passphrase: pass, EscrowDir: handover})
	if err != nil {
		t.Fatal(err)
	}
	oldKey := res.RecoveryKey
	m := verifyTools(t, img, pass)
	if m.EscrowThreshold != 2 || len(m.Escrow) != 3 || m.Escrow[2].Share != 3 || m.RecoveryKeyRotated.IsZero() {
		t.Fatalf("manifest: %+v", m)
	}
	oldEscrow, _ := os.ReadFile(filepath.Join(handover, "bo.age"))

	// rotate, dropping cy, unlocked with the passphrase
	tg, d, u := openKit(t, img, pass)
	s, err := builder.NewSession(d, u, "", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var newKey string
	next := cfg
	next.Escrow = cfg.Escrow[:2]
	r, err := s.RotateRecovery(context.Background(), builder.RotateOptions{
		Escrow: &next, EscrowDir: handover,
		SaveKey: func(k string) error { newKey = k; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Completed {
		t.Error("a rotation on a kit with nothing interrupted says it completed an interrupted change (its own pending state)")
	}
	closeKit(t, tg, u)
	if opens(t, img, oldKey) || !opens(t, img, newKey) || !opens(t, img, string(pass)) {
		t.Fatal("after rotation: the old key must fail, the new key and the passphrase open")
	}
	if _, err := os.Stat(filepath.Join(handover, "cy.age")); !os.IsNotExist(err) {
		t.Fatalf("cy's old escrow file is still handed over: %v %v", err, r.Notes)
	}
	var shares []ssss.Share
	for i, n := range []string{"ana", "bo"} {
		b, _ := os.ReadFile(filepath.Join(handover, n+".age"))
		idb, _ := os.ReadFile(ids[i])
		id, _ := kit.ParseIdentities(idb)
		c, err := kit.OpenEscrowFile(b, id...)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, c.Share)
	}
	if k, err := kit.CombineShares(shares, 2); err != nil || k != newKey {
		t.Fatalf("new shares: %v", err)
	}
	idb, _ := os.ReadFile(ids[1])
	id, _ := kit.ParseIdentities(idb)
	c, _ := kit.OpenEscrowFile(oldEscrow, id...)
	if k, err := kit.CombineShares([]ssss.Share{c.Share, shares[0]}, 2); err == nil && k == newKey {
		t.Fatal("an old share combines with a new one")
	}
	m = verifyTools(t, img, pass)
	if len(m.Escrow) != 2 || m.Keyslots[len(m.Keyslots)-1].Kind != kit.KeyslotRecoveryKey {
		t.Fatalf("manifest after rotation: %+v", m)
	}
	// the handed-over header backup restores a header that opens with the new key only
	hb, _ := os.ReadFile(filepath.Join(handover, "luks-header.age"))
	checkHeaderBackup(t, hb, id, newKey, oldKey)

	// change the passphrase, unlocked with the new recovery key
	tg, d, u = openKit(t, img, []byte(newKey))
	if s, err = builder.NewSession(d, u, newKey, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r, err := s.ChangePassphrase(context.Background(), []byte("new passphrase"), handover); err != nil {
		t.Fatal(err)
	} else if r.Completed {
		t.Error("a passphrase change after a finished rotation says it completed an interrupted change")
	}
	closeKit(t, tg, u)
	if opens(t, img, string(pass)) || !opens(t, img, "new passphrase") || !opens(t, img, newKey) {
		t.Fatal("after the passphrase change: the old one must fail, the new one open")
	}
	verifyTools(t, img, []byte("new passphrase"))
	hb, _ = os.ReadFile(filepath.Join(handover, "luks-header.age"))
	checkHeaderBackup(t, hb, id, "new passphrase", string(pass))

	// refresh keeps the escrow files
	tg, d, u = openKit(t, img, []byte("new passphrase"))
	if s, err = builder.NewSession(d, u, "", time.Now().Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	before := s.Manifest()
	if _, err := s.Refresh(context.Background(), builder.RefreshOptions{BinaryDirs: []string{dist}}); err != nil {
		t.Fatal(err)
	}
	closeKit(t, tg, u)
	after := verifyTools(t, img, []byte("new passphrase"))
	if hashOf(before, "escrow/ana.age") == "" || hashOf(before, "escrow/ana.age") != hashOf(after, "escrow/ana.age") {
		t.Error("refresh changed an escrow file")
	}
	// the header backups are written anew from the header: they open with today's secrets
	if hashOf(after, kit.HeaderBackupPath) == "" || hashOf(after, kit.EscrowHeaderBackupPath) == "" {
		t.Fatal("refresh dropped the header backups")
	}
}

func hashOf(m *kit.Manifest, p string) string {
	for _, f := range m.Files {
		if f.Path == p {
			return f.SHA256
		}
	}
	return ""
}

// checkHeaderBackup decrypts an escrowed header backup with an identity: it opens with
// good and not with bad.
func checkHeaderBackup(t *testing.T, file []byte, ids []age.Identity, good, bad string) {
	t.Helper()
	b, err := kit.OpenHeaderBackupFile(file, ids...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := luks.OpenHeaderBackup(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Unlock([]byte(good)); err != nil {
		t.Fatalf("the header backup does not open with the current secret: %v", err)
	}
	if _, _, err := c.Unlock([]byte(bad)); err == nil {
		t.Fatal("the header backup opens with a retired secret")
	}
}
