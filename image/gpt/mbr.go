package gpt

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// Master boot record (LBA 0) layout.
const (
	mbrBootCode     = 0   // 440 bytes of boot code
	mbrDiskSig      = 440 // uint32 disk signature
	mbrReserved     = 444 // uint16
	mbrPartitions   = 446 // four 16-byte entries
	mbrEntrySize    = 16
	mbrSignature    = 510 // 0x55 0xAA
	mbrEntryStatus  = 0   // boot indicator
	mbrEntryType    = 4   // partition type; 0xEE: GPT protective
	mbrEntryFirst   = 8   // uint32 first LBA
	mbrEntrySectors = 12  // uint32 size in sectors
	mbrTypeGPT      = 0xEE
)

// CheckProtectiveMBR checks that LBA 0 is a protective MBR as the UEFI specification
// defines it and as Write and sgdisk write it: no boot code, one 0xEE entry from LBA 1
// covering the disk (or 0xFFFFFFFF sectors), the other three entries empty. Anything
// more is dangerous on a disk that other systems mount: without a protective entry (an
// ordinary MBR) Linux ignores the GPT and mounts the MBR's partitions; a hybrid MBR shows
// Windows and firmware other partitions than the GPT's; boot code runs when a BIOS boots
// the drive. CHS fields, the boot indicator and the disk signature are not checked.
func CheckProtectiveMBR(dev io.ReaderAt, t *Table) error {
	got := make([]byte, t.SectorSize)
	if _, err := dev.ReadAt(got, 0); err != nil {
		return fmt.Errorf("gpt: read the MBR: %w", err)
	}
	var what []string
	protective := 0
	size := uint32(min(t.Sectors-1, 0xFFFFFFFF))
	for i := 0; i < 4; i++ {
		e := got[mbrPartitions+i*mbrEntrySize:][:mbrEntrySize]
		typ := e[mbrEntryType]
		first := binary.LittleEndian.Uint32(e[mbrEntryFirst:])
		n := binary.LittleEndian.Uint32(e[mbrEntrySectors:])
		switch {
		case typ == mbrTypeGPT:
			if protective++; protective > 1 {
				what = append(what, fmt.Sprintf("a second protective entry (%d)", i+1))
			} else if first != 1 || n != size {
				what = append(what, fmt.Sprintf("protective entry %d covers sectors %d..%d, not 1..%d", i+1, first, uint64(first)+uint64(n)-1, size))
			}
		case typ != 0:
			what = append(what, fmt.Sprintf("partition %d of type 0x%02x at sectors %d..%d (a hybrid or ordinary MBR: systems that read it see other partitions than the GPT's)", i+1, typ, first, uint64(first)+uint64(n)-1))
		case strings.Trim(string(e), "\x00") != "":
			what = append(what, fmt.Sprintf("entry %d is not empty", i+1))
		}
	}
	if protective == 0 {
		what = append([]string{"no protective (0xEE) entry: Linux then ignores the GPT and uses the MBR's partitions"}, what...)
	}
	if strings.Trim(string(got[mbrBootCode:mbrDiskSig]), "\x00") != "" {
		what = append(what, "boot code in the MBR (travelkit writes none; a PC booting the drive would run it)")
	}
	if got[mbrSignature] != 0x55 || got[mbrSignature+1] != 0xAA {
		what = append(what, "no MBR signature")
	}
	if len(what) == 0 {
		return nil
	}
	return fmt.Errorf("gpt: the MBR is not a protective MBR: %s", strings.Join(what, "; "))
}

// CheckCopies reads both GPT headers and entry arrays and reports when one is damaged or
// when they describe different tables (systems would then disagree on the partitions, or
// a repair tool would pick one).
func CheckCopies(dev io.ReaderAt, size int64, sectorSize int) error {
	sectors := uint64(size / int64(sectorSize))
	p, perr := readAt(dev, sectors, sectorSize, 1)
	b, berr := readAt(dev, sectors, sectorSize, sectors-1)
	switch {
	case perr != nil && berr != nil:
		return fmt.Errorf("%w (primary: %v; backup: %v)", ErrNoGPT, perr, berr)
	case perr != nil:
		return fmt.Errorf("gpt: the primary GPT is damaged (%v); the backup is intact", perr)
	case berr != nil:
		return fmt.Errorf("gpt: the backup GPT at the end of the disk is damaged (%v); the primary is intact", berr)
	}
	if p.DiskGUID != b.DiskGUID || p.FirstUsable != b.FirstUsable || p.LastUsable != b.LastUsable || len(p.Partitions) != len(b.Partitions) {
		return fmt.Errorf("gpt: the primary and backup GPT describe different disks")
	}
	for i := range p.Partitions {
		if p.Partitions[i] != b.Partitions[i] {
			return fmt.Errorf("gpt: the primary and backup GPT differ on partition %d", p.Partitions[i].Index)
		}
	}
	return nil
}
