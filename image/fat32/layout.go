package fat32

import "encoding/binary"

// On-disk layout, named as in Microsoft's "FAT: General Overview of On-Disk Format"
// (FAT32 File System Specification 1.03). The writer and the reader both use these names.

// Boot sector (BS_*) and BIOS parameter block (BPB_*) of a FAT32 volume: byte offsets.
const (
	bsJmpBoot     = 0   // 3 bytes: EB xx 90 (or E9 xx xx); Windows refuses a volume without it
	bsOEMName     = 3   // 8 bytes
	bpbBytsPerSec = 11  // uint16: 512, 1024, 2048 or 4096
	bpbSecPerClus = 13  // uint8: a power of two
	bpbRsvdSecCnt = 14  // uint16: sectors before the first FAT
	bpbNumFATs    = 16  // uint8
	bpbRootEntCnt = 17  // uint16: 0 on FAT32
	bpbTotSec16   = 19  // uint16: 0 on FAT32
	bpbMedia      = 21  // uint8: 0xF8 fixed media
	bpbFATSz16    = 22  // uint16: 0 on FAT32
	bpbSecPerTrk  = 24  // uint16
	bpbNumHeads   = 26  // uint16
	bpbHiddSec    = 28  // uint32: sectors before the partition on its disk
	bpbTotSec32   = 32  // uint32: sectors of the volume
	bpbFATSz32    = 36  // uint32: sectors of one FAT
	bpbExtFlags   = 40  // uint16: bit 7 set = mirroring off, bits 0-3 the active FAT
	bpbFSVer      = 42  // uint16: 0.0
	bpbRootClus   = 44  // uint32: first cluster of the root directory
	bpbFSInfo     = 48  // uint16: sector of the FSInfo structure
	bpbBkBootSec  = 50  // uint16: sector of the backup boot sector
	bpbReserved   = 52  // 12 bytes of zero
	bsDrvNum      = 64  // uint8: 0x80
	bsReserved1   = 65  // uint8: Windows NT and Linux keep "dirty" flags here
	bsBootSig     = 66  // uint8: 0x29 when the next three fields are present
	bsVolID       = 67  // uint32: volume serial number
	bsVolLab      = 71  // 11 bytes: volume label
	bsFilSysType  = 82  // 8 bytes: "FAT32   " (informational)
	bsBootCode    = 90  // 420 bytes of boot code
	bsSignature   = 510 // 0x55 0xAA

	bsVolLabLen    = 11
	bsBootSigValue = 0x29
	bsJmpShort     = 0xEB
	bsJmpNear      = 0xE9
	bsNop          = 0x90
	extFlagsNoMirr = 0x0080 // BPB_ExtFlags: only the active FAT is in use
	dirtyFlags     = 0x03   // BS_Reserved1 bits 0 and 1: set by Linux and Windows while mounted
)

// FSInfo sector (FSI_*).
const (
	fsiLeadSig    = 0   // uint32 0x41615252
	fsiStrucSig   = 484 // uint32 0x61417272
	fsiFreeCount  = 488 // uint32: last known free cluster count, 0xFFFFFFFF unknown
	fsiNxtFree    = 492 // uint32: hint for the next free cluster
	fsiTrailSig   = 508 // uint32 0xAA550000
	fsiLeadValue  = 0x41615252
	fsiStrucValue = 0x61417272
	fsiTrailValue = 0xAA550000
)

// Directory entry (DIR_*), 32 bytes.
const (
	dirEntry        = 32
	dirName         = 0  // 11 bytes: 8.3 name, space padded; first byte 0x00 = end, 0xE5 = free
	dirAttr         = 11 // uint8: attr* bits
	dirNTRes        = 12 // uint8: ntLowerBase, ntLowerExt (Windows NT case flags)
	dirCrtTimeTenth = 13 // uint8
	dirCrtTime      = 14 // uint16
	dirCrtDate      = 16 // uint16
	dirLstAccDate   = 18 // uint16: updated by OSes on reading
	dirFstClusHI    = 20 // uint16
	dirWrtTime      = 22 // uint16
	dirWrtDate      = 24 // uint16
	dirFstClusLO    = 26 // uint16
	dirFileSize     = 28 // uint32

	dirNameLen  = 11
	dirEnd      = 0x00 // DIR_Name[0]: this and every later entry are free
	dirFree     = 0xE5 // DIR_Name[0]: a free (deleted) entry
	dirKanjiE5  = 0x05 // DIR_Name[0]: stands for a name that starts with 0xE5
	ntLowerBase = 0x08
	ntLowerExt  = 0x10
)

// Attribute bits (ATTR_*).
const (
	attrReadOnly  = 0x01
	attrHidden    = 0x02
	attrSystem    = 0x04
	attrVolumeID  = 0x08
	attrDirectory = 0x10
	attrArchive   = 0x20
	attrLongName  = attrReadOnly | attrHidden | attrSystem | attrVolumeID // 0x0F
	attrReserved  = 0xC0
)

// Long name entry (LDIR_*), 32 bytes.
const (
	ldirOrd       = 0  // uint8: sequence number, 0x40 marks the last (first on disk)
	ldirName1     = 1  // 5 UTF-16 units
	ldirAttr      = 11 // uint8: attrLongName
	ldirType      = 12 // uint8: 0
	ldirChksum    = 13 // uint8: checksum of the short name
	ldirName2     = 14 // 6 UTF-16 units
	ldirFstClusLO = 26 // uint16: 0
	ldirName3     = 28 // 2 UTF-16 units

	ldirLast     = 0x40
	ldirOrdMask  = 0x1F
	ldirChars    = 13 // UTF-16 units per entry
	ldirMaxOrd   = 20 // 255 characters
	ldirPadding  = 0xFFFF
	maxNameUnits = 255
)

// FAT entry values (28 bits used).
const (
	fatMask     = 0x0FFFFFFF
	fatFree     = 0
	fatBad      = 0x0FFFFFF7
	fatEOCMin   = 0x0FFFFFF8
	eoc         = 0x0FFFFFFF
	fat1Clean   = 0x08000000 // FAT[1] bit 27: volume cleanly unmounted
	fat1NoError = 0x04000000 // FAT[1] bit 26: no disk I/O errors
)

// bootParams are the fields of a FAT32 boot sector that describe the volume.
type bootParams struct {
	jmp          [3]byte
	oem          [8]byte
	bytsPerSec   uint16
	secPerClus   uint8
	rsvdSecCnt   uint16
	numFATs      uint8
	rootEntCnt   uint16
	totSec16     uint16
	media        uint8
	fatSz16      uint16
	secPerTrk    uint16
	numHeads     uint16
	hiddSec      uint32
	totSec32     uint32
	fatSz32      uint32
	extFlags     uint16
	fsVer        uint16
	rootClus     uint32
	fsInfo       uint16
	bkBootSec    uint16
	drvNum       uint8
	reserved1    uint8
	bootSig      uint8
	volID        uint32
	volLab       [bsVolLabLen]byte
	filSysType   [8]byte
	hasSignature bool
}

func parseBoot(b []byte) bootParams {
	le := binary.LittleEndian
	var p bootParams
	copy(p.jmp[:], b[bsJmpBoot:])
	copy(p.oem[:], b[bsOEMName:])
	p.bytsPerSec = le.Uint16(b[bpbBytsPerSec:])
	p.secPerClus = b[bpbSecPerClus]
	p.rsvdSecCnt = le.Uint16(b[bpbRsvdSecCnt:])
	p.numFATs = b[bpbNumFATs]
	p.rootEntCnt = le.Uint16(b[bpbRootEntCnt:])
	p.totSec16 = le.Uint16(b[bpbTotSec16:])
	p.media = b[bpbMedia]
	p.fatSz16 = le.Uint16(b[bpbFATSz16:])
	p.secPerTrk = le.Uint16(b[bpbSecPerTrk:])
	p.numHeads = le.Uint16(b[bpbNumHeads:])
	p.hiddSec = le.Uint32(b[bpbHiddSec:])
	p.totSec32 = le.Uint32(b[bpbTotSec32:])
	p.fatSz32 = le.Uint32(b[bpbFATSz32:])
	p.extFlags = le.Uint16(b[bpbExtFlags:])
	p.fsVer = le.Uint16(b[bpbFSVer:])
	p.rootClus = le.Uint32(b[bpbRootClus:])
	p.fsInfo = le.Uint16(b[bpbFSInfo:])
	p.bkBootSec = le.Uint16(b[bpbBkBootSec:])
	p.drvNum = b[bsDrvNum]
	p.reserved1 = b[bsReserved1]
	p.bootSig = b[bsBootSig]
	p.volID = le.Uint32(b[bsVolID:])
	copy(p.volLab[:], b[bsVolLab:])
	copy(p.filSysType[:], b[bsFilSysType:])
	p.hasSignature = b[bsSignature] == 0x55 && b[bsSignature+1] == 0xAA
	return p
}

// put writes the fields into a boot sector b (boot code and padding are left alone).
func (p *bootParams) put(b []byte) {
	le := binary.LittleEndian
	copy(b[bsJmpBoot:], p.jmp[:])
	copy(b[bsOEMName:], p.oem[:])
	le.PutUint16(b[bpbBytsPerSec:], p.bytsPerSec)
	b[bpbSecPerClus] = p.secPerClus
	le.PutUint16(b[bpbRsvdSecCnt:], p.rsvdSecCnt)
	b[bpbNumFATs] = p.numFATs
	le.PutUint16(b[bpbRootEntCnt:], p.rootEntCnt)
	le.PutUint16(b[bpbTotSec16:], p.totSec16)
	b[bpbMedia] = p.media
	le.PutUint16(b[bpbFATSz16:], p.fatSz16)
	le.PutUint16(b[bpbSecPerTrk:], p.secPerTrk)
	le.PutUint16(b[bpbNumHeads:], p.numHeads)
	le.PutUint32(b[bpbHiddSec:], p.hiddSec)
	le.PutUint32(b[bpbTotSec32:], p.totSec32)
	le.PutUint32(b[bpbFATSz32:], p.fatSz32)
	le.PutUint16(b[bpbExtFlags:], p.extFlags)
	le.PutUint16(b[bpbFSVer:], p.fsVer)
	le.PutUint32(b[bpbRootClus:], p.rootClus)
	le.PutUint16(b[bpbFSInfo:], p.fsInfo)
	le.PutUint16(b[bpbBkBootSec:], p.bkBootSec)
	clear(b[bpbReserved:bsDrvNum])
	b[bsDrvNum] = p.drvNum
	b[bsReserved1] = p.reserved1
	b[bsBootSig] = p.bootSig
	le.PutUint32(b[bsVolID:], p.volID)
	copy(b[bsVolLab:], p.volLab[:])
	copy(b[bsFilSysType:], p.filSysType[:])
	if p.hasSignature {
		b[bsSignature], b[bsSignature+1] = 0x55, 0xAA
	}
}

// dirent is a decoded short directory entry.
type dirent struct {
	name    [dirNameLen]byte
	attr    uint8
	ntRes   uint8
	cluster uint32
	size    uint32
	wrtTime uint16
	wrtDate uint16
}

func parseDirent(e []byte) dirent {
	le := binary.LittleEndian
	var d dirent
	copy(d.name[:], e[dirName:])
	d.attr = e[dirAttr]
	d.ntRes = e[dirNTRes]
	d.cluster = uint32(le.Uint16(e[dirFstClusHI:]))<<16 | uint32(le.Uint16(e[dirFstClusLO:]))
	d.size = le.Uint32(e[dirFileSize:])
	d.wrtTime = le.Uint16(e[dirWrtTime:])
	d.wrtDate = le.Uint16(e[dirWrtDate:])
	return d
}

// lfnUnits returns the 13 UTF-16 units of a long name entry.
func lfnUnits(e []byte) [ldirChars]uint16 {
	le := binary.LittleEndian
	var u [ldirChars]uint16
	for i := 0; i < 5; i++ {
		u[i] = le.Uint16(e[ldirName1+2*i:])
	}
	for i := 0; i < 6; i++ {
		u[5+i] = le.Uint16(e[ldirName2+2*i:])
	}
	for i := 0; i < 2; i++ {
		u[11+i] = le.Uint16(e[ldirName3+2*i:])
	}
	return u
}

func putLFNUnits(e []byte, u []uint16) {
	le := binary.LittleEndian
	for i := 0; i < 5; i++ {
		le.PutUint16(e[ldirName1+2*i:], u[i])
	}
	for i := 0; i < 6; i++ {
		le.PutUint16(e[ldirName2+2*i:], u[5+i])
	}
	for i := 0; i < 2; i++ {
		le.PutUint16(e[ldirName3+2*i:], u[11+i])
	}
}
