package bootenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

func mkfs(t *testing.T, size int64, cmd ...string) *os.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	args := append(cmd[1:], p)
	if out, err := exec.Command(cmd[0], args...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Probe against filesystems made by the stock tools (mkfs.vfat, mkfs.ext4, mkfs.ntfs,
// mkfs.exfat where installed by scripts/install-test-deps.sh).
func TestProbeStockFilesystems(t *testing.T) {
	for _, c := range []struct {
		cmd       []string
		size      int64
		fs, label string
	}{
		{[]string{"mkfs.vfat", "-F", "32", "-n", "MYSTICK"}, 64 << 20, "vfat", "MYSTICK"},
		{[]string{"mkfs.vfat", "-F", "16"}, 16 << 20, "vfat", ""},
		{[]string{"mkfs.ext4", "-q", "-L", "home"}, 16 << 20, "ext4", "home"},
		{[]string{"mkfs.ntfs", "-F", "-Q", "-q", "-L", "Windows"}, 16 << 20, "ntfs", "Windows"},
		{[]string{"mkfs.ntfs", "-F", "-Q", "-q", "-L", "Данные", "-c", "8192"}, 32 << 20, "ntfs", "Данные"},
		{[]string{"mkfs.exfat", "-L", "CARD"}, 16 << 20, "exfat", ""},
	} {
		f := mkfs(t, c.size, c.cmd...)
		got := Probe(f)
		if got.FS != c.fs || got.Label != c.label || got.Encrypted != "" {
			t.Errorf("%v: %+v, want fs %s label %q", c.cmd, got, c.fs, c.label)
		}
	}
}

func TestProbeSignatures(t *testing.T) {
	mk := func(off int, s string) []byte {
		b := make([]byte, 8192)
		copy(b[off:], s)
		return b
	}
	for _, c := range []struct {
		b    []byte
		want Probed
	}{
		{mk(3, "-FVE-FS-"), Probed{Encrypted: "BitLocker"}},
		{mk(0, "LUKS\xba\xbe"), Probed{Encrypted: "LUKS"}},
		{mk(32, "NXSB"), Probed{Encrypted: "APFS"}},
		{mk(1024, "H+"), Probed{FS: "hfsplus"}},
		{make([]byte, 100), Probed{}},
	} {
		if got := Probe(byteReader(c.b)); got != c.want {
			t.Errorf("%q: %+v, want %+v", c.b[:40], got, c.want)
		}
	}
}

type byteReader []byte

func (b byteReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, os.ErrClosed
	}
	n := copy(p, b[off:])
	return n, nil
}

// FuzzProbe: hostile first sectors and MFT records never panic.
func FuzzProbe(f *testing.F) {
	f.Add(make([]byte, 4096))
	b := make([]byte, 8192)
	copy(b[3:], "NTFS    ")
	b[11], b[12], b[13], b[64] = 0, 2, 1, 0xf6
	b[48] = 4
	copy(b[4*512+3*1024:], "FILE")
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		Probe(byteReader(data))
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20 {
			t.Fatalf("probing %d bytes allocated %d", len(data), a)
		}
	})
}

// TestProbeHostileNTFSGeometry: boot sectors whose fields overflow a shift (MFT record
// size -128, found by FuzzProbe: a negative shift) or make a cluster of 0 (2^-127
// sectors per cluster: a division by zero) give no label, not a panic.
func TestProbeHostileNTFSGeometry(t *testing.T) {
	for _, c := range []struct{ perCluster, rec byte }{{1, 0x80}, {0x81, 0xf6}, {0xc0, 0xf6}, {0xeb, 0xf6}} {
		b := make([]byte, 8192)
		copy(b[3:], "NTFS    ")
		b[11], b[12], b[13], b[64] = 0, 2, c.perCluster, c.rec
		b[48] = 4
		copy(b[4*512+3*1024:], "FILE")
		if got := ntfsLabel(byteReader(b), b[:512]); got != "" {
			t.Errorf("cluster field %#x, record field %#x: label %q", c.perCluster, c.rec, got)
		}
	}
}
