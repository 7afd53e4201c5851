package target

// Image files are created sparse: only what is written takes disk space (a 64 GiB kit
// image takes about 23 MiB). Linux and macOS (APFS) file systems are sparse by
// themselves; NTFS only for a file marked sparse (FSCTL_SET_SPARSE), which Open does
// before giving the new file its size. FAT32, exFAT and HFS+ have no sparse files: there
// the whole size is allocated, and the plan says so.

const (
	fsctlSetSparse     = 0x000900C4
	fileSupportsSparse = 0x00000040 // FILE_SUPPORTS_SPARSE_FILES, GetVolumeInformation
	linuxMsdosMagic    = 0x4d44
	linuxExfatMagic    = 0x2011bab0
	linuxHFSPlusMagic  = 0x482b
	linuxFuseblkMagic  = 0x65735546 // ntfs-3g, exfat-fuse: the kind is not known
)

// linuxSparse reports whether a Linux file system (statfs f_type) keeps files sparse.
func linuxSparse(fsType int64) bool {
	switch fsType {
	case linuxMsdosMagic, linuxExfatMagic, linuxHFSPlusMagic, linuxFuseblkMagic:
		return false
	}
	return true
}

// darwinSparse reports whether a macOS file system (statfs f_fstypename) keeps files
// sparse: APFS does, HFS+, FAT32 and exFAT do not.
func darwinSparse(fsTypeName string) bool {
	switch fsTypeName {
	case "hfs", "msdos", "exfat", "ntfs":
		return false
	}
	return true
}

// windowsSparse reports whether Windows makes a file sparse on a volume with these
// GetVolumeInformation flags (NTFS and ReFS have FILE_SUPPORTS_SPARSE_FILES).
func windowsSparse(volumeFlags uint32) bool { return volumeFlags&fileSupportsSparse != 0 }

// setSparse marks a new, empty file sparse on Windows before it is given its size.
func setSparse(sys winOS, h winHandle) error {
	_, err := sys.DeviceIoControl(h, fsctlSetSparse, nil, nil)
	return err
}
