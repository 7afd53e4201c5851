package bootenv

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"unicode"
)

// ProbeSize is how many bytes Probe reads from the start of a partition.
const ProbeSize = 64 << 10

// Probed is what the first bytes of a partition say.
type Probed struct {
	FS        string // ntfs, vfat, exfat, ext4, hfsplus, or ""
	Label     string
	Encrypted string // BitLocker, APFS, LUKS, or ""
}

// Probe recognises a filesystem by its superblock. It reads at most ProbeSize bytes and
// trusts nothing it reads: a label is at most a few dozen printable characters.
func Probe(r io.ReaderAt) Probed {
	b := make([]byte, ProbeSize)
	n, _ := r.ReadAt(b, 0)
	b = b[:n]
	at := func(off int, s string) bool { return len(b) >= off+len(s) && string(b[off:off+len(s)]) == s }
	switch {
	case at(0, "LUKS\xba\xbe"):
		return Probed{Encrypted: "LUKS"}
	case at(3, "-FVE-FS-"):
		return Probed{Encrypted: "BitLocker"}
	case at(3, "NTFS    "):
		return Probed{FS: "ntfs"}
	case at(3, "EXFAT   "):
		return Probed{FS: "exfat"}
	case at(32, "NXSB"):
		return Probed{Encrypted: "APFS"}
	}
	if len(b) >= 512 && b[510] == 0x55 && b[511] == 0xaa {
		switch {
		case at(82, "FAT32   "):
			return Probed{FS: "vfat", Label: fatLabel(b[71:82])}
		case at(54, "FAT16   "), at(54, "FAT12   "):
			return Probed{FS: "vfat", Label: fatLabel(b[43:54])}
		}
	}
	if len(b) >= 1024+136 && binary.LittleEndian.Uint16(b[1024+56:]) == 0xef53 {
		return Probed{FS: "ext4", Label: cleanLabel(b[1024+120 : 1024+136])}
	}
	if at(1024, "H+") || at(1024, "HX") {
		return Probed{FS: "hfsplus"}
	}
	return Probed{}
}

func fatLabel(b []byte) string {
	l := cleanLabel(b)
	if l == "NO NAME" {
		return ""
	}
	return l
}

// cleanLabel keeps printable characters up to the first NUL, trimmed.
func cleanLabel(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	s := strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, string(b))
	return strings.TrimSpace(s)
}
