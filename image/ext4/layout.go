package ext4

import "encoding/binary"

const (
	sbOffset = 1024
	sbSize   = 1024
	magic    = 0xEF53

	rootIno    = 2
	journalIno = 8
	firstIno   = 11

	// superblock field offsets
	sbInodesCount       = 0x0
	sbBlocksCountLo     = 0x4
	sbRBlocksCountLo    = 0x8
	sbFreeBlocksLo      = 0xC
	sbFreeInodes        = 0x10
	sbFirstDataBlock    = 0x14
	sbLogBlockSize      = 0x18
	sbLogClusterSize    = 0x1C
	sbBlocksPerGroup    = 0x20
	sbClustersPerGroup  = 0x24
	sbInodesPerGroup    = 0x28
	sbMtime             = 0x2C
	sbWtime             = 0x30
	sbMaxMntCount       = 0x36
	sbMagic             = 0x38
	sbState             = 0x3A
	sbErrors            = 0x3C
	sbLastCheck         = 0x40
	sbRevLevel          = 0x4C
	sbFirstIno          = 0x54
	sbInodeSize         = 0x58
	sbBlockGroupNr      = 0x5A
	sbFeatureCompat     = 0x5C
	sbFeatureIncompat   = 0x60
	sbFeatureRoCompat   = 0x64
	sbUUID              = 0x68
	sbVolumeName        = 0x78
	sbJournalInum       = 0xE0
	sbLastOrphan        = 0xE8
	sbReservedGdtBlocks = 0xCE // s_reserved_gdt_blocks: kept after the descriptors of each group with a superblock copy, for online resize
	sbHashSeed          = 0xEC
	sbDefHashVersion    = 0xFC
	sbJnlBackupType     = 0xFD
	sbDescSize          = 0xFE
	sbDefaultMountOpts  = 0x100
	sbMkfsTime          = 0x108
	sbJnlBlocks         = 0x10C
	sbBlocksCountHi     = 0x150
	sbFreeBlocksHi      = 0x158
	sbMinExtraIsize     = 0x15C
	sbWantExtraIsize    = 0x15E
	sbFlags             = 0x160
	sbLogGroupsPerFlex  = 0x174
	sbKbytesWritten     = 0x178

	// s_state
	stateValid  = 0x1
	stateError  = 0x2
	stateOrphan = 0x4

	// features
	compatHasJournal = 0x4
	compatExtAttr    = 0x8
	compatResize     = 0x10
	compatDirIndex   = 0x20

	incompatFiletype   = 0x2
	incompatRecover    = 0x4
	incompatJournalDev = 0x8
	incompatMetaBG     = 0x10
	incompatExtents    = 0x40
	incompat64bit      = 0x80
	incompatMMP        = 0x100
	incompatFlexBG     = 0x200
	incompatEAInode    = 0x400
	incompatDirData    = 0x1000
	incompatCsumSeed   = 0x2000
	incompatLargeDir   = 0x4000
	incompatInlineData = 0x8000
	incompatEncrypt    = 0x10000
	incompatCasefold   = 0x20000

	roSparseSuper   = 0x1
	roLargeFile     = 0x2
	roHugeFile      = 0x8
	roGdtCsum       = 0x10
	roDirNlink      = 0x20
	roExtraIsize    = 0x40
	roMetadataCsum  = 0x400
	roOrphanPresent = 0x10000

	// group descriptor
	bgBlockBitmap  = 0x0
	bgInodeBitmap  = 0x4
	bgInodeTable   = 0x8
	bgFreeBlocks   = 0xC
	bgFreeInodes   = 0xE
	bgUsedDirs     = 0x10
	bgFlags        = 0x12
	bgItableUnused = 0x1C
	bgChecksum     = 0x1E
	// 64-bit halves
	bgBlockBitmapHi  = 0x20
	bgInodeBitmapHi  = 0x24
	bgInodeTableHi   = 0x28
	bgFreeBlocksHi   = 0x2C
	bgFreeInodesHi   = 0x2E
	bgUsedDirsHi     = 0x30
	bgItableUnusedHi = 0x32

	bgInodeUninit  = 0x1
	bgBlockUninit  = 0x2
	bgItableZeroed = 0x4

	// inode
	iMode       = 0x0
	iUID        = 0x2
	iSizeLo     = 0x4
	iAtime      = 0x8
	iCtime      = 0xC
	iMtime      = 0x10
	iDtime      = 0x14
	iGID        = 0x18
	iLinks      = 0x1A
	iBlocksLo   = 0x1C
	iFlags      = 0x20
	iBlock      = 0x28
	iGeneration = 0x64
	iFileACLLo  = 0x68
	iSizeHi     = 0x6C
	iBlocksHi   = 0x74
	iExtraIsize = 0x80
	iCrtime     = 0x90

	flagHugeFile   = 0x40000
	flagExtents    = 0x80000
	flagInlineData = 0x10000000
	flagIndex      = 0x1000

	modeDir  = 0x4000
	modeReg  = 0x8000
	modeLink = 0xA000
	modeType = 0xF000

	ftReg     = 1
	ftDir     = 2
	ftSymlink = 7

	// extent tree (ext4_extent_header, then 12-byte entries: ext4_extent in leaves,
	// ext4_extent_idx in index nodes); the root is i_block, 60 bytes, 4 entries
	extMagic         = 0xF30A
	ehMagic          = 0x0
	ehEntries        = 0x2
	ehMax            = 0x4
	ehDepth          = 0x6
	ehSize           = 12 // header, and each entry
	eeBlock          = 0x0
	eeLen            = 0x4
	eeStartHi        = 0x6
	eeStartLo        = 0x8
	eiBlock          = 0x0
	eiLeafLo         = 0x4
	eiLeafHi         = 0x8
	iBlockSize       = 60    // i_block: the root node of the extent tree
	maxInitExtentLen = 32768 // ee_len above this marks an uninitialized extent of ee_len-32768 blocks
)

func le16(b []byte, off int) uint16       { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32       { return binary.LittleEndian.Uint32(b[off:]) }
func le64(b []byte, off int) uint64       { return binary.LittleEndian.Uint64(b[off:]) }
func put16(b []byte, off int, v uint16)   { binary.LittleEndian.PutUint16(b[off:], v) }
func put32(b []byte, off int, v uint32)   { binary.LittleEndian.PutUint32(b[off:], v) }
func put64(b []byte, off int, v uint64)   { binary.LittleEndian.PutUint64(b[off:], v) }
func be32(b []byte, off int) uint32       { return binary.BigEndian.Uint32(b[off:]) }
func putBE32(b []byte, off int, v uint32) { binary.BigEndian.PutUint32(b[off:], v) }

// hasSuper reports whether group g holds a superblock backup under sparse_super.
func hasSuper(g uint32, sparse bool) bool {
	if g <= 1 || !sparse {
		return true
	}
	for _, p := range []uint32{3, 5, 7} {
		n := p
		for n < g {
			n *= p
		}
		if n == g {
			return true
		}
	}
	return false
}

// crc16 is the CRC-16 (polynomial 0x8005, reflected) used by uninit_bg
// group descriptor checksums.
func crc16(crc uint16, p []byte) uint16 {
	for _, b := range p {
		crc ^= uint16(b)
		for i := 0; i < 8; i++ {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}
