package bootenv

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"unicode"
	"unicode/utf16"

	"travelkit/luks"
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
	case luks.HasMagic(b):
		return Probed{Encrypted: "LUKS"}
	case at(3, "-FVE-FS-"):
		return Probed{Encrypted: "BitLocker"}
	case at(3, "NTFS    "):
		return Probed{FS: "ntfs", Label: ntfsLabel(r, b)}
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

// ntfsLabel reads the volume name of an NTFS volume: the $VOLUME_NAME attribute of MFT
// record 3 ($Volume). Every offset comes from the disk and is checked; "" when anything
// is off.
func ntfsLabel(r io.ReaderAt, boot []byte) string {
	le := binary.LittleEndian
	if len(boot) < 512 {
		return ""
	}
	sector := int64(le.Uint16(boot[11:]))
	perCluster := int64(boot[13])
	if sector < 256 || sector > 4096 || sector&(sector-1) != 0 || perCluster == 0 {
		return ""
	}
	if perCluster > 0x80 { // 2^-n clusters per... stored negated for large clusters
		// NTFS clusters are at most 2 MiB; a larger shift would overflow (to a cluster
		// of 0: a division by zero below)
		if 256-perCluster > 21 {
			return ""
		}
		perCluster = 1 << (256 - perCluster)
	}
	cluster := sector * perCluster
	if cluster > 2<<20 {
		return ""
	}
	mftLCN := int64(le.Uint64(boot[48:]))
	recSize := int64(0)
	if v := int(int8(boot[64])); v < 0 {
		// in int: -int8(-128) is -128, a negative shift
		if -v > 12 {
			return ""
		}
		recSize = 1 << -v
	} else {
		recSize = int64(v) * cluster
	}
	if recSize < 512 || recSize > 4096 || mftLCN <= 0 || mftLCN > 1<<40/cluster {
		return ""
	}
	rec := make([]byte, recSize)
	if _, err := r.ReadAt(rec, mftLCN*cluster+3*recSize); err != nil || string(rec[:4]) != "FILE" {
		return ""
	}
	// The update sequence array: the last two bytes of every sector were saved there.
	usaOff, usaCount := int(le.Uint16(rec[4:])), int(le.Uint16(rec[6:]))
	if usaCount < 2 || usaOff+2*usaCount > len(rec) || int64(usaCount-1)*sector > recSize {
		return ""
	}
	for i := 1; i < usaCount; i++ {
		end := int64(i)*sector - 2
		copy(rec[end:end+2], rec[usaOff+2*i:usaOff+2*i+2])
	}
	off := int(le.Uint16(rec[20:]))
	for n := 0; n < 64 && off+24 <= len(rec); n++ {
		typ, length := le.Uint32(rec[off:]), int(le.Uint32(rec[off+4:]))
		if typ == 0xffffffff || length < 24 || off+length > len(rec) {
			return ""
		}
		if typ == 0x60 && rec[off+8] == 0 { // $VOLUME_NAME, resident
			vlen, voff := int(le.Uint32(rec[off+16:])), int(le.Uint16(rec[off+20:]))
			if vlen%2 != 0 || vlen > 256 || voff+vlen > length {
				return ""
			}
			u := make([]uint16, vlen/2)
			for i := range u {
				u[i] = le.Uint16(rec[off+voff+2*i:])
			}
			return cleanLabel([]byte(string(utf16.Decode(u))))
		}
		off += length
	}
	return ""
}
