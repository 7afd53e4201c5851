package fat32

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Spec is one file of an expected volume, in the order it was written.
type Spec struct {
	Path string
	Size int64
}

// Expected is the metadata (boot sectors, FSInfo, FATs, directories) that Format, a
// WriteFile of each file in order and Close write on a partition: the Writer is
// deterministic, so a volume it wrote can be compared with this byte for byte.
type Expected struct {
	geo   Geometry
	meta  *metadata
	files []fileExtent
	// dirLast: the last cluster of each directory's chain (an OS adding entries may chain
	// more clusters from it).
	dirLast map[uint32]string
}

// Expect lays out, writing nothing, the volume that Format(size, opt), WriteFile for each
// file in order (with a zero modification time) and Close would write. opt.VolumeID is
// not known afterwards and is not compared.
func Expect(size int64, opt Options, files []Spec) (*Expected, error) {
	opt.VolumeID = 1
	if opt.Time.IsZero() {
		return nil, fmt.Errorf("fat32: Expect needs the volume's time")
	}
	w, err := Format(nil, size, opt)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := w.Place(f.Path, f.Size, time.Time{}); err != nil {
			return nil, err
		}
	}
	m, err := w.layout()
	if err != nil {
		return nil, err
	}
	e := &Expected{geo: w.geo, meta: m, files: w.files, dirLast: map[uint32]string{}}
	for _, d := range m.dirs {
		e.dirLast[d.chain[len(d.chain)-1]] = d.path
	}
	return e, nil
}

// Mismatch is one place where a volume differs from the expected metadata.
type Mismatch struct {
	Where  string // "boot sector (BPB_SecPerClus)", "FAT 2, cluster 77 (bin/x)", "folder bin, entry 3 (travelkit)"
	Detail string
}

func (m Mismatch) String() string { return m.Where + ": " + m.Detail }

// maxMismatches bounds the list Compare returns.
const maxMismatches = 50

// Compare reads the metadata of the volume on dev and lists every difference from the
// expected one, allowing only what operating systems change on a volume they mount:
// the dirty flags (BS_Reserved1, FAT[1]), FSInfo's free-cluster hints, last-access dates,
// the times of folder entries, and clusters and directory entries beyond those
// travelkit wrote (files an OS added, which the reader checks and verify reports by
// name). The volume serial number is random at the build and is compared only between
// the boot sector and its backup.
func (e *Expected) Compare(dev io.ReaderAt) ([]Mismatch, error) {
	var out []Mismatch
	add := func(where, format string, args ...any) {
		if len(out) < maxMismatches {
			out = append(out, Mismatch{Where: where, Detail: fmt.Sprintf(format, args...)})
		}
	}
	if err := e.compareReserved(dev, add); err != nil {
		return nil, err
	}
	if err := e.compareFATs(dev, add); err != nil {
		return nil, err
	}
	if err := e.compareDirs(dev, add); err != nil {
		return nil, err
	}
	return out, nil
}

type addFunc func(where, format string, args ...any)

func (e *Expected) compareReserved(dev io.ReaderAt, add addFunc) error {
	want := e.meta.reserved
	got := make([]byte, len(want))
	if _, err := dev.ReadAt(got, 0); err != nil {
		return fmt.Errorf("fat32: read the reserved sectors: %w", err)
	}
	// What OSes may change, and the random serial number.
	masked := func(sector, off int) bool {
		switch sector {
		case 0, backupBootSector:
			return off >= bsVolID && off < bsVolID+4
		case fsInfoSector, backupBootSector + fsInfoSector:
			return off >= fsiFreeCount && off < fsiNxtFree+4
		}
		return false
	}
	for s := 0; s < reserved; s++ {
		w, g := want[s*sectorSize:(s+1)*sectorSize], got[s*sectorSize:(s+1)*sectorSize]
		for off := 0; off < sectorSize; off++ {
			wb, gb := w[off], g[off]
			if (s == 0 || s == backupBootSector) && off == bsReserved1 {
				wb, gb = wb&^dirtyFlags, gb&^dirtyFlags
			}
			if wb == gb || masked(s, off) {
				continue
			}
			add(sectorName(s), "%s is 0x%02x, travelkit wrote 0x%02x", fieldName(s, off), gb, wb)
			break // one finding per sector is enough
		}
	}
	if !equalBytes(got[bsVolID:bsVolID+4], got[backupBootSector*sectorSize+bsVolID:][:4]) {
		add("backup boot sector", "volume serial number differs from the boot sector's")
	}
	return nil
}

func sectorName(s int) string {
	switch s {
	case 0:
		return "boot sector"
	case fsInfoSector:
		return "FSInfo sector"
	case backupBootSector:
		return "backup boot sector"
	case backupBootSector + fsInfoSector:
		return "backup FSInfo sector"
	}
	return fmt.Sprintf("reserved sector %d", s)
}

var bootFields = []struct {
	off  int
	name string
}{
	{bsJmpBoot, "BS_jmpBoot"}, {bsOEMName, "BS_OEMName"}, {bpbBytsPerSec, "BPB_BytsPerSec"},
	{bpbSecPerClus, "BPB_SecPerClus"}, {bpbRsvdSecCnt, "BPB_RsvdSecCnt"}, {bpbNumFATs, "BPB_NumFATs"},
	{bpbRootEntCnt, "BPB_RootEntCnt"}, {bpbTotSec16, "BPB_TotSec16"}, {bpbMedia, "BPB_Media"},
	{bpbFATSz16, "BPB_FATSz16"}, {bpbSecPerTrk, "BPB_SecPerTrk"}, {bpbNumHeads, "BPB_NumHeads"},
	{bpbHiddSec, "BPB_HiddSec"}, {bpbTotSec32, "BPB_TotSec32"}, {bpbFATSz32, "BPB_FATSz32"},
	{bpbExtFlags, "BPB_ExtFlags"}, {bpbFSVer, "BPB_FSVer"}, {bpbRootClus, "BPB_RootClus"},
	{bpbFSInfo, "BPB_FSInfo"}, {bpbBkBootSec, "BPB_BkBootSec"}, {bpbReserved, "BPB_Reserved"},
	{bsDrvNum, "BS_DrvNum"}, {bsReserved1, "BS_Reserved1"}, {bsBootSig, "BS_BootSig"},
	{bsVolID, "BS_VolID"}, {bsVolLab, "BS_VolLab"}, {bsFilSysType, "BS_FilSysType"},
	{bsBootCode, "the boot code"}, {bsSignature, "the signature"},
}

func fieldName(sector, off int) string {
	if sector != 0 && sector != backupBootSector {
		return fmt.Sprintf("byte %d", off)
	}
	i := sort.Search(len(bootFields), func(i int) bool { return bootFields[i].off > off }) - 1
	return fmt.Sprintf("%s (byte %d)", bootFields[i].name, off)
}

func equalBytes(a, b []byte) bool { return string(a) == string(b) }

// owner names the file or folder travelkit placed at cluster c.
func (e *Expected) owner(c uint32) string {
	for _, d := range e.meta.dirs {
		for _, x := range d.chain {
			if x == c {
				if d.path == "" {
					return "the root folder"
				}
				return "folder " + d.path
			}
		}
	}
	for _, f := range e.files {
		if c >= f.first && c < f.first+f.n {
			return f.path
		}
	}
	return "free space"
}

func (e *Expected) compareFATs(dev io.ReaderAt, add addFunc) error {
	want := e.meta.fat
	got := make([]byte, min(len(want), 1<<20))
	limit := e.geo.Clusters + 2
	for copyNo := 0; copyNo < numFATs; copyNo++ {
		base := int64(reserved+uint32(copyNo)*e.geo.FATSectors) * sectorSize
		found := 0
		for off := 0; off < len(want); off += len(got) {
			n := min(len(got), len(want)-off)
			if _, err := dev.ReadAt(got[:n], base+int64(off)); err != nil {
				return fmt.Errorf("fat32: read FAT %d: %w", copyNo+1, err)
			}
			for j := 0; j < n && found < 5; j += 4 {
				c := uint32((off + j) / 4)
				w := binary.LittleEndian.Uint32(want[off+j:])
				g := binary.LittleEndian.Uint32(got[j:])
				switch {
				case c == 1:
					w, g = w|fat1Clean|fat1NoError, g|fat1Clean|fat1NoError
				case c >= e.meta.used && c < limit:
					continue // not travelkit's: free, or an OS's file (checked by the reader)
				}
				if w == g {
					continue
				}
				if _, last := e.dirLast[c]; last && g&^fatMask == 0 && g >= e.meta.used && g < limit {
					continue // a folder grown by an OS adding entries
				}
				found++
				add(fmt.Sprintf("FAT %d, cluster %d (%s)", copyNo+1, c, e.owner(c)), "entry 0x%08x, travelkit wrote 0x%08x", g, w)
			}
		}
	}
	return nil
}

func (e *Expected) compareDirs(dev io.ReaderAt, add addFunc) error {
	cb := e.geo.ClusterBytes()
	dataStart := e.geo.dataStart()
	got := make([]byte, cb)
	for _, d := range e.meta.dirs {
		name := "the root folder"
		if d.path != "" {
			name = "folder " + d.path
		}
		for i, c := range d.chain {
			if i*cb >= d.used {
				break
			}
			if _, err := dev.ReadAt(got, dataStart+int64(c-2)*int64(cb)); err != nil {
				return fmt.Errorf("fat32: read %s: %w", name, err)
			}
			want := d.data[i*cb : (i+1)*cb]
			for off := 0; off < cb && i*cb+off < d.used; off += dirEntry {
				w, g := want[off:off+dirEntry], got[off:off+dirEntry]
				if sameEntry(w, g) {
					continue
				}
				add(fmt.Sprintf("%s, entry %d", name, (i*cb+off)/dirEntry), "%s, travelkit wrote %s", entryText(g), entryText(w))
			}
		}
	}
	return nil
}

// sameEntry compares two directory entries, ignoring what OSes update on their own:
// the last-access date, and the times of folder entries (Linux and Windows touch a
// folder's entry when they add files to it).
func sameEntry(w, g []byte) bool {
	if w[dirAttr] == attrLongName {
		return equalBytes(w, g)
	}
	w, g = append([]byte(nil), w...), append([]byte(nil), g...)
	for _, b := range [][]byte{w, g} {
		clear(b[dirLstAccDate : dirLstAccDate+2])
	}
	if w[dirAttr]&attrDirectory != 0 && g[dirAttr] == w[dirAttr] {
		for _, b := range [][]byte{w, g} {
			clear(b[dirWrtTime : dirWrtDate+2])
		}
	}
	return equalBytes(w, g)
}

func entryText(e []byte) string {
	if e[dirName] == dirEnd {
		return "an empty slot"
	}
	if e[dirAttr] == attrLongName {
		u := lfnUnits(e)
		var r []rune
		for _, c := range u {
			if c == 0 || c == ldirPadding {
				break
			}
			r = append(r, rune(c))
		}
		return fmt.Sprintf("long-name part %q (sequence 0x%02x)", string(r), e[ldirOrd])
	}
	d := parseDirent(e)
	return fmt.Sprintf("%q (attributes 0x%02x, cluster %d, %d bytes)", strings.TrimRight(string(d.name[:]), " "), d.attr, d.cluster, d.size)
}
