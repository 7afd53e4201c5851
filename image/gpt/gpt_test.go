package gpt

import (
	"encoding/json"
	"os"
	"runtime"
	"strings"
	"testing"

	"travelkit/image/internal/testutil"
)

func TestGUIDRoundTrip(t *testing.T) {
	s := "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
	g := MustParseGUID(s)
	if g.String() != s {
		t.Fatalf("got %s", g)
	}
	// On-disk order of the first field is little-endian.
	if g[0] != 0xA2 || g[3] != 0xEB {
		t.Fatalf("bad byte order % x", g[:])
	}
	if _, err := ParseGUID("nope"); err == nil {
		t.Fatal("accepted bad GUID")
	}
}

func writeKitTable(t *testing.T, size int64) (*Table, string) {
	dev, path := testutil.SparseFile(t, "disk.img", size)
	tab, err := Layout(size, 512, []Spec{
		{Type: TypeMicrosoftBasicData, Name: "TRAVELKIT", Size: 300 << 20},
		{Type: TypeLinuxLUKS, Name: "travelkit-data"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dev, tab); err != nil {
		t.Fatal(err)
	}
	return tab, path
}

func TestWriteSgdisk(t *testing.T) {
	size := int64(1<<30 + 12345*512) // not a multiple of 1 MiB
	tab, path := writeKitTable(t, size)
	out := testutil.MustTool(t, "sgdisk", "-v", path)
	if !strings.Contains(out, "No problems found") {
		t.Fatalf("sgdisk -v:\n%s", out)
	}
	p := testutil.MustTool(t, "sgdisk", "-p", path)
	t.Logf("sgdisk -p:\n%s", p)
	for _, want := range []string{"TRAVELKIT", "travelkit-data", "0700", "8309", "Partitions will be aligned on 2048-sector boundaries"} {
		if !strings.Contains(p, want) {
			t.Errorf("sgdisk -p lacks %q", want)
		}
	}
	i1 := testutil.MustTool(t, "sgdisk", "-i", "1", path)
	if !strings.Contains(i1, "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7") || !strings.Contains(i1, "First sector: 2048 ") ||
		!strings.Contains(i1, "Partition size: 614400 sectors") {
		t.Errorf("sgdisk -i 1:\n%s", i1)
	}
	i2 := testutil.MustTool(t, "sgdisk", "-i", "2", path)
	if !strings.Contains(i2, "CA7D7CCB-63ED-4C53-861C-1742536059CC") || !strings.Contains(i2, "First sector: 616448 ") {
		t.Errorf("sgdisk -i 2:\n%s", i2)
	}
	if tab.Partitions[1].Last != tab.LastUsable {
		t.Errorf("partition 2 does not take the rest")
	}
	// sfdisk (util-linux) agrees.
	var sf struct {
		PartitionTable struct {
			Label      string `json:"label"`
			ID         string `json:"id"`
			FirstLBA   uint64 `json:"firstlba"`
			LastLBA    uint64 `json:"lastlba"`
			Partitions []struct {
				Start uint64 `json:"start"`
				Size  uint64 `json:"size"`
				Type  string `json:"type"`
				UUID  string `json:"uuid"`
				Name  string `json:"name"`
			} `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal([]byte(testutil.MustTool(t, "sfdisk", "--json", path)), &sf); err != nil {
		t.Fatal(err)
	}
	pt := sf.PartitionTable
	if pt.Label != "gpt" || pt.ID != tab.DiskGUID.String() || pt.FirstLBA != tab.FirstUsable || pt.LastLBA != tab.LastUsable || len(pt.Partitions) != 2 {
		t.Fatalf("sfdisk --json: %+v", pt)
	}
	for i, p := range pt.Partitions {
		w := tab.Partitions[i]
		if p.Start != w.First || p.Size != w.Last-w.First+1 || p.Type != w.Type.String() || p.UUID != w.ID.String() || p.Name != w.Name {
			t.Errorf("sfdisk partition %d: %+v, wrote %+v", i+1, p, w)
		}
	}
	// Read back.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := Read(f, size, 512)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Partitions) != 2 || got.Partitions[0] != tab.Partitions[0] || got.Partitions[1] != tab.Partitions[1] || got.DiskGUID != tab.DiskGUID {
		t.Fatalf("read back %+v, wrote %+v", got, tab)
	}
	if got.Offset(got.Partitions[0]) != 1<<20 || got.Length(got.Partitions[0]) != 300<<20 {
		t.Fatalf("offset/length wrong")
	}
}

func TestReadFallsBackToBackup(t *testing.T) {
	size := int64(512 << 20)
	tab, path := writeKitTable(t, size)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("X"), 512); err != nil {
		t.Fatal(err)
	}
	got, err := Read(f, size, 512)
	if err != nil {
		t.Fatal(err)
	}
	if got.Partitions[1] != tab.Partitions[1] {
		t.Fatal("backup differs")
	}
	// Corrupt backup too.
	if _, err := f.WriteAt([]byte("X"), size-512); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(f, size, 512); err == nil {
		t.Fatal("read a table with both headers broken")
	}
}

func TestLayoutErrors(t *testing.T) {
	if _, err := Layout(4<<20, 512, []Spec{{Type: TypeLinuxLUKS, Size: 8 << 20}}); err == nil {
		t.Fatal("oversized partition accepted")
	}
	if _, err := Layout(64<<20, 512, []Spec{{Type: TypeLinuxLUKS}, {Type: TypeLinuxLUKS}}); err == nil {
		t.Fatal("rest partition not last accepted")
	}
	if _, err := Layout(64<<20, 512, []Spec{{Name: "x"}}); err == nil {
		t.Fatal("zero type accepted")
	}
}

type memDisk []byte

func (m memDisk) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(m)) {
		return 0, os.ErrInvalid
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, os.ErrInvalid
	}
	return n, nil
}

func FuzzRead(f *testing.F) {
	size := int64(2 << 20)
	tab, err := Layout(size, 512, []Spec{{Type: TypeMicrosoftBasicData, Name: "A"}})
	if err != nil {
		f.Fatal(err)
	}
	w := &memWriter{b: make([]byte, size)}
	if err := Write(w, tab); err != nil {
		f.Fatal(err)
	}
	// Seed: the first 64 KiB (headers + array) of a valid disk.
	f.Add(w.b[:64<<10])
	f.Fuzz(func(t *testing.T, head []byte) {
		d := make(memDisk, size)
		copy(d, head)
		copy(d[len(d)-len(w.b[len(w.b)-(64<<10):]):], w.b[len(w.b)-(64<<10):])
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tb, err := Read(d, int64(len(d)), 512)
		if err == nil {
			// a hostile LBA 0 next to a good GPT: CheckProtectiveMBR reads it too
			_ = CheckProtectiveMBR(d, tb)
		}
		runtime.ReadMemStats(&after)
		// both headers and both entry arrays, each array within the disk (and at most
		// 4096 entries of 4096 bytes), never what a header claims
		if a := after.TotalAlloc - before.TotalAlloc; a > 4<<20+2*uint64(size) {
			t.Fatalf("reading a GPT allocated %d bytes", a)
		}
		if err != nil {
			return
		}
		for _, p := range tb.Partitions {
			if p.First < tb.FirstUsable || p.Last > tb.LastUsable || p.Last >= tb.Sectors {
				t.Fatalf("out-of-bounds partition accepted: %+v", p)
			}
		}
	})
}

type memWriter struct{ b []byte }

func (m *memWriter) WriteAt(p []byte, off int64) (int, error) { return copy(m.b[off:], p), nil }

func TestSector4K(t *testing.T) {
	size := int64(64 << 20)
	tab, err := Layout(size, 4096, []Spec{{Type: TypeMicrosoftBasicData, Name: "TRAVELKIT", Size: 32 << 20}, {Type: TypeLinuxLUKS}})
	if err != nil {
		t.Fatal(err)
	}
	if tab.FirstUsable != 6 || tab.Partitions[0].First != 256 || tab.Offset(tab.Partitions[0]) != 1<<20 {
		t.Fatalf("4K layout: %+v", tab)
	}
	w := &memWriter{b: make([]byte, size)}
	if err := Write(w, tab); err != nil {
		t.Fatal(err)
	}
	got, err := Read(memDisk(w.b), size, 4096)
	if err != nil || got.Partitions[1] != tab.Partitions[1] {
		t.Fatalf("read back: %v", err)
	}
	if _, err := Read(memDisk(w.b), size, 512); err == nil {
		t.Fatal("4K table read with 512-byte sectors")
	}
}

// TestProtectiveMBR: the MBR must be exactly protective: a replaced (ordinary) MBR, a
// hybrid one, boot code, a protective entry of the wrong size are all refused. sfdisk
// and sgdisk make the crafted MBRs.
func TestProtectiveMBR(t *testing.T) {
	size := int64(1 << 30)
	fresh := func(t *testing.T) (*Table, *os.File, string) {
		tab, path := writeKitTable(t, size)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if err := CheckProtectiveMBR(f, tab); err != nil {
			t.Fatalf("fresh table: %v", err)
		}
		if err := CheckCopies(f, size, 512); err != nil {
			t.Fatalf("fresh table: %v", err)
		}
		return tab, f, path
	}
	t.Run("hybrid (sgdisk -h)", func(t *testing.T) {
		tab, f, path := fresh(t)
		testutil.MustTool(t, "sgdisk", "-h", "1", path)
		err := CheckProtectiveMBR(f, tab)
		if err == nil || !strings.Contains(err.Error(), "hybrid") {
			t.Fatalf("err = %v", err)
		}
		t.Log(err)
	})
	t.Run("ordinary MBR", func(t *testing.T) {
		tab, f, path := fresh(t)
		// An attacker's DOS table: partition 1 FAT32 in the tail of the disk, 2 the data.
		script := "label: dos\nstart=1900000, size=100000, type=c\nstart=616448, size=1000000, type=83\n"
		if out, err := testutil.ToolStdin(t, []byte(script), "sfdisk", "--no-reread", "--no-tell-kernel", "--wipe", "never", path); err != nil {
			t.Fatalf("sfdisk: %v\n%s", err, out)
		}
		err := CheckProtectiveMBR(f, tab)
		if err == nil || !strings.Contains(err.Error(), "no protective (0xEE) entry") {
			t.Fatalf("err = %v", err)
		}
		t.Log(err)
		// The GPT itself is still valid: travelkit's GPT reader alone would not notice.
		if _, err := Read(f, size, 512); err != nil {
			t.Fatalf("GPT after the MBR change: %v", err)
		}
	})
	t.Run("boot code", func(t *testing.T) {
		tab, f, _ := fresh(t)
		f.WriteAt([]byte{0xEB, 0xFE}, 0)
		if err := CheckProtectiveMBR(f, tab); err == nil || !strings.Contains(err.Error(), "boot code") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("protective entry too small", func(t *testing.T) {
		tab, f, _ := fresh(t)
		f.WriteAt([]byte{0x00, 0x10, 0, 0}, mbrPartitions+mbrEntrySectors)
		if err := CheckProtectiveMBR(f, tab); err == nil || !strings.Contains(err.Error(), "protective entry 1 covers") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("backup differs", func(t *testing.T) {
		_, f, _ := fresh(t)
		f.WriteAt([]byte("XXXX"), size-512) // the backup header's signature
		if err := CheckCopies(f, size, 512); err == nil || !strings.Contains(err.Error(), "backup GPT") {
			t.Fatalf("err = %v", err)
		}
	})
}

// sgdisk's protective MBR (other CHS values) is a protective MBR too.
func TestProtectiveMBRFromSgdisk(t *testing.T) {
	size := int64(1 << 30)
	tab, path := writeKitTable(t, size)
	testutil.MustTool(t, "sgdisk", "-Z", path)
	testutil.MustTool(t, "sgdisk", "-n", "1:2048:+300M", "-n", "2:0:0", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := CheckProtectiveMBR(f, tab); err != nil {
		t.Fatal(err)
	}
}
