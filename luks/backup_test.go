package luks_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"travelkit/luks"
)

// zeroHeaders overwrites both header copies (the first 2*hdr_size bytes) with zeros.
func zeroHeaders(t *testing.T, path string, hdrSize int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, 2*hdrSize), 0); err != nil {
		t.Fatal(err)
	}
}

func formatted(t *testing.T, dir, name string, pass []byte) (string, *os.File, *luks.Container) {
	t.Helper()
	path := newImage(t, dir, name)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	c, vk, err := luks.Format(f, luks.DefaultDataOffset+payloadSize, pass, luks.FormatOptions{PBKDF: cheapArgon})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddKeyslot(vk, []byte("second"), 3, cheapArgon); err != nil {
		t.Fatal(err)
	}
	vk.Wipe()
	return path, f, c
}

// TestHeaderBackupIsCryptsetups: a header backup made here is byte for byte the file
// `cryptsetup luksHeaderBackup` writes, for a travelkit volume and a cryptsetup volume with
// a non-default metadata size; each tool restores the other's backup over zeroed headers.
func TestHeaderBackupIsCryptsetups(t *testing.T) {
	cryptsetupPath(t)
	dir := t.TempDir()
	pass := writeFile(t, dir, "pass", []byte("correct horse"))
	tk, _, c := formatted(t, dir, "tk.luks", []byte("correct horse"))

	cspath := newImage(t, dir, "cs.luks")
	cs(t, append(append([]string{"luksFormat", "--type", "luks2", "--key-file", pass, "--luks2-metadata-size", "64k", "--luks2-keyslots-size", "4m"}, cheapCS...), cspath)...)

	for _, path := range []string{tk, cspath} {
		name := filepath.Base(path)
		_, c := openFile(t, path)
		hdrSize := c.HeaderSize()
		ours, err := c.HeaderBackup()
		if err != nil {
			t.Fatal(err)
		}
		theirsFile := filepath.Join(dir, name+".cs-backup")
		cs(t, "luksHeaderBackup", "--header-backup-file", theirsFile, path)
		theirs, err := os.ReadFile(theirsFile)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, theirs) {
			t.Fatalf("%s: backup differs from cryptsetup's (%d and %d bytes, first difference at %d)", name, len(ours), len(theirs), firstDiff(ours, theirs))
		}
		oursFile := writeFile(t, dir, name+".tk-backup", ours)

		// headers gone: neither tool opens it
		zeroHeaders(t, path, hdrSize)
		if _, code, _ := csCode(t, "open", "--test-passphrase", "--key-file", pass, path); code == 0 {
			t.Fatalf("%s: cryptsetup opens a volume without headers", name)
		}
		// cryptsetup restores travelkit's backup
		cs(t, "luksHeaderRestore", "--header-backup-file", oursFile, path)
		cs(t, "open", "--test-passphrase", "--key-file", pass, path)

		// travelkit restores cryptsetup's backup
		zeroHeaders(t, path, hdrSize)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := luks.RestoreHeader(f, luks.DefaultDataOffset+payloadSize, theirs, luks.RestoreOptions{Passphrase: []byte("correct horse")})
		f.Close()
		if err != nil || rep.DeviceHadHeader {
			t.Fatalf("%s: restore over zeroed headers: %+v, %v", name, rep, err)
		}
		cs(t, "open", "--test-passphrase", "--key-file", pass, path)
	}
	_ = c
}

// TestRestoreAfterErase: erased keyslots come back from a backup taken before; the
// device's header still carries the volume key digest, so no passphrase is needed to
// prove the backup is the device's.
func TestRestoreAfterErase(t *testing.T) {
	cryptsetupPath(t)
	dir := t.TempDir()
	pass := writeFile(t, dir, "pass", []byte("correct horse"))
	path, f, c := formatted(t, dir, "vol.luks", []byte("correct horse"))
	backup, err := c.HeaderBackup()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Erase(); err != nil {
		t.Fatal(err)
	}
	if _, code, _ := csCode(t, "open", "--test-passphrase", "--key-file", pass, path); code == 0 {
		t.Fatal("cryptsetup opens an erased volume")
	}
	rep, err := luks.RestoreHeader(f, luks.DefaultDataOffset+payloadSize, backup, luks.RestoreOptions{})
	if err != nil || !rep.DeviceHadHeader || !rep.VolumeKeyChecked || rep.UUIDDiffers {
		t.Fatalf("restore after erase: %+v, %v", rep, err)
	}
	cs(t, "open", "--test-passphrase", "--key-file", pass, path)
	cs(t, "open", "--test-passphrase", "--key-slot", "3", "--key-file", writeFile(t, dir, "second", []byte("second")), path)
}

// TestRestoreRefusesAnotherVolumeKey: the backup of another volume is refused, with a
// passphrase (the keys differ) and without (nothing proves they are the same), and
// written only with Force.
func TestRestoreRefusesAnotherVolumeKey(t *testing.T) {
	dir := t.TempDir()
	_, _, other := formatted(t, dir, "other.luks", []byte("correct horse"))
	wrong, err := other.HeaderBackup()
	if err != nil {
		t.Fatal(err)
	}
	path, f, _ := formatted(t, dir, "vol.luks", []byte("correct horse"))
	before, _ := os.ReadFile(path)
	size := int64(luks.DefaultDataOffset + payloadSize)
	if _, err := luks.RestoreHeader(f, size, wrong, luks.RestoreOptions{}); !errors.Is(err, luks.ErrCannotCompare) {
		t.Fatalf("without a passphrase: %v", err)
	}
	if _, err := luks.RestoreHeader(f, size, wrong, luks.RestoreOptions{Passphrase: []byte("correct horse")}); !errors.Is(err, luks.ErrVolumeKeyDiffers) {
		t.Fatalf("with a passphrase: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a refused restore changed the device")
	}
	rep, err := luks.RestoreHeader(f, size, wrong, luks.RestoreOptions{Force: true})
	if err != nil || !rep.UUIDDiffers {
		t.Fatalf("forced: %+v, %v", rep, err)
	}
	// a truncated backup is refused before anything is written
	if _, err := luks.RestoreHeader(f, size, wrong[:len(wrong)/2], luks.RestoreOptions{Force: true}); err == nil {
		t.Fatal("truncated backup accepted")
	}
}
