package drive_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"travelkit/drive"
	"travelkit/image/fat32"
	"travelkit/internal/craftfat"
	"travelkit/kit"
)

const kitImageSize = 300 << 20

// openKit opens a kit image built by buildKit, read-write.
func openKit(t *testing.T, img string) *drive.Drive {
	t.Helper()
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	d, err := drive.Open(fileDev{f, kitImageSize})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// trusted reads the trusted manifest copy from inside the volume.
func trusted(t *testing.T, d *drive.Drive) (*kit.Manifest, []byte, []byte) {
	t.Helper()
	u, err := d.Unlock([]byte("pass"), -1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	man, err := u.FS.ReadFile(drive.MetaDir + "/" + kit.ManifestName)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := u.FS.ReadFile(drive.MetaDir + "/" + kit.SumsName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := kit.ParseManifest(man)
	if err != nil {
		t.Fatal(err)
	}
	return m, man, sums
}

// TestCheckKit: a kit as built matches its rebuilt metadata and planned layout; a shadow
// directory, a hybrid MBR, a renamed partition and a damaged GPT copy are each found, and
// the repair the message gives works.
func TestCheckKit(t *testing.T) {
	img := buildKit(t, t.TempDir(), kitOptions{}).Img
	d := openKit(t, img)
	m, man, sums := trusted(t, d)
	if mm, err := d.CheckTools(m, man, sums); err != nil || len(mm) != 0 {
		t.Fatalf("CheckTools on a fresh kit: %v %v", mm, err)
	}
	if p := d.CheckLayout(); len(p) != 0 {
		t.Fatalf("CheckLayout on a fresh kit: %v", p)
	}
	if _, err := d.ToolsFS(); err != nil {
		t.Fatal(err)
	}

	t.Run("shadow directory", func(t *testing.T) {
		img := buildKit(t, t.TempDir(), kitOptions{}).Img
		d := openKit(t, img)
		m, man, sums := trusted(t, d)
		v, err := craftfat.Open(d.Tools)
		if err != nil {
			t.Fatal(err)
		}
		off, err := v.Find(v.RootClus, craftfat.Name11("BIN"))
		if err != nil {
			t.Fatal(err)
		}
		v.SetAttr(off, 0x18)
		if _, err := v.AddDir(v.RootClus, 0, craftfat.Name11("BIN"), "bin", 0x10); err != nil {
			t.Fatal(err)
		}
		var ae *fat32.AmbiguousError
		if _, err := d.ToolsFS(); !errors.As(err, &ae) {
			t.Fatalf("ToolsFS: %v", err)
		}
		mm, err := d.CheckTools(m, man, sums)
		if err != nil || len(mm) == 0 || !strings.Contains(mm[0].String(), "the root folder") {
			t.Fatalf("CheckTools: %v %v", mm, err)
		}
		t.Log(mm)
	})
	t.Run("hybrid MBR", func(t *testing.T) {
		img := buildKit(t, t.TempDir(), kitOptions{}).Img
		run(t, "", "sgdisk", "-h", "1", img)
		p := openKit(t, img).CheckLayout()
		if len(p) != 1 || !strings.Contains(p[0], "hybrid") {
			t.Fatalf("CheckLayout: %q", p)
		}
	})
	t.Run("renamed partition", func(t *testing.T) {
		img := buildKit(t, t.TempDir(), kitOptions{}).Img
		run(t, "", "sgdisk", "-c", "1:EVIL", img)
		p := openKit(t, img).CheckLayout()
		if len(p) != 1 || !strings.Contains(p[0], `partition 1 ("EVIL"`) {
			t.Fatalf("CheckLayout: %q", p)
		}
	})
	t.Run("damaged primary GPT", func(t *testing.T) {
		img := buildKit(t, t.TempDir(), kitOptions{}).Img
		f, _ := os.OpenFile(img, os.O_RDWR, 0)
		f.WriteAt(make([]byte, 512), 512)
		f.Close()
		p := openKit(t, img).CheckLayout()
		if len(p) != 1 || !strings.Contains(p[0], "primary GPT is damaged") || !strings.Contains(p[0], "sgdisk -e") {
			t.Fatalf("CheckLayout: %q", p)
		}
		run(t, "", "sgdisk", "-e", img)
		if p := openKit(t, img).CheckLayout(); len(p) != 0 {
			t.Fatalf("after sgdisk -e: %q", p)
		}
	})
}

// TestLostTable: with both GPT copies gone, the drive is not reported as "build it again"
// (which would erase the backups): the error names the intact volume, and the repair
// command it gives brings the kit back, passphrase and all.
func TestLostTable(t *testing.T) {
	img := buildKit(t, t.TempDir(), kitOptions{}).Img
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(make([]byte, 512), 512)              // primary header
	f.WriteAt(make([]byte, 512), kitImageSize-512) // backup header
	_, err = drive.Open(fileDev{f, kitImageSize})
	f.Close()
	var lost *drive.LostTableError
	if !errors.As(err, &lost) || !errors.Is(err, drive.ErrNotKit) {
		t.Fatalf("Open: %v", err)
	}
	for _, s := range []string{`kit "repo-test"`, "do NOT build it again", "intact"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	adv := lost.Advice(img)
	for _, s := range []string{"losetup --find --show --offset", "cryptsetup open", "sgdisk -n 1:2048:"} {
		if !strings.Contains(adv, s) {
			t.Errorf("advice lacks %q:\n%s", s, adv)
		}
	}
	t.Log(adv)
	cmd := strings.TrimPrefix(lost.RepairCommand(img), "sudo ")
	if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	d := openKit(t, img)
	if p := d.CheckLayout(); len(p) != 0 {
		t.Fatalf("after the repair: %q", p)
	}
	m, man, sums := trusted(t, d)
	if mm, err := d.CheckTools(m, man, sums); err != nil || len(mm) != 0 {
		t.Fatalf("CheckTools after the repair: %v %v", mm, err)
	}
}

// TestOldKitMadePrivate: a kit whose volume was written before everything inside was
// private (folders 0755, files 0644) is made private on its next writable unlock, and
// only then: reading changes nothing.
func TestOldKitMadePrivate(t *testing.T) {
	img := buildKit(t, t.TempDir(), kitOptions{}).Img
	d := openKit(t, img)
	u, err := d.Unlock([]byte("pass"), -1, true)
	if err != nil {
		t.Fatal(err)
	}
	for p, m := range map[string]uint16{"travelkit/repo-password": 0o644, "travelkit": 0o755, "repo": 0o755, "/": 0o755} {
		if err := u.FS.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	modes := func(writable bool) map[string]string {
		u, err := d.Unlock([]byte("pass"), -1, writable)
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		m := map[string]string{}
		for _, p := range []string{"/", "travelkit", "travelkit/repo-password", "repo"} {
			st, err := u.FS.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			m[p] = st.Mode.Perm().String()
		}
		return m
	}
	if m := modes(false); m["travelkit/repo-password"] != "-rw-r--r--" || m["/"] != "-rwxr-xr-x" {
		t.Fatalf("the old modes are not in place: %v", m)
	}
	modes(true)
	m := modes(false)
	for p, want := range map[string]string{"/": "-rwx------", "travelkit": "-rwx------", "repo": "-rwx------", "travelkit/repo-password": "-rw-------"} {
		if m[p] != want {
			t.Errorf("%s: %s after a writable unlock, want %s", p, m[p], want)
		}
	}
}
