package ext4

// groupOtherBits are the permission bits other users get through their group or as others.
const groupOtherBits = 0o077

// RestrictModes makes every file and folder private to its owner: it clears the group and
// other permission bits of every inode in use (symlinks aside), going through the inode
// tables, and the root folder's last, so that a private root folder says the whole volume
// was done (volumes written before travelkit made everything private get fixed on their
// next write). It does nothing when the root folder is already private, and returns the
// number of inodes changed.
func (f *FS) RestrictModes() (int, error) {
	root, err := f.readInode(rootIno)
	if err != nil {
		return 0, err
	}
	if root.mode()&groupOtherBits == 0 {
		return 0, nil
	}
	if err := f.begin(); err != nil {
		return 0, err
	}
	changed := 0
	itb := (uint64(f.ipg)*uint64(f.inodeSize) + uint64(f.bs) - 1) / uint64(f.bs)
	perBlock := uint64(f.bs) / uint64(f.inodeSize)
	const run = 64 // inode table blocks per read
	buf := make([]byte, run*f.bs)
	first := le32(f.sb, sbFirstIno)
	for g := uint32(0); g < f.groups; g++ {
		if f.gdFlags(g)&bgInodeUninit != 0 {
			continue
		}
		ib, err := f.inodeBitmap(g)
		if err != nil {
			return changed, err
		}
		used := uint64(f.ipg)
		if le32(f.sb, sbFeatureRoCompat)&roGdtCsum != 0 {
			used -= uint64(f.gdItableUnused(g)) // slots never written (lazy inode table)
		}
		blocks := min(itb, (used+perBlock-1)/perBlock)
		for b := uint64(0); b < blocks; b += run {
			n := min(run, blocks-b)
			chunk := buf[:n*uint64(f.bs)]
			start := f.gdInodeTable(g) + b
			if err := f.readBlocks(chunk, start); err != nil {
				return changed, err
			}
			dirty := false
			for i := uint64(0); i < n*perBlock; i++ {
				idx := (b*perBlock + i)
				if idx >= uint64(f.ipg) || !testBit(ib, int(idx)) {
					continue
				}
				ino := g*f.ipg + uint32(idx) + 1
				if ino == rootIno || ino < first {
					continue
				}
				in := chunk[i*uint64(f.inodeSize):][:f.inodeSize]
				m := le16(in, iMode)
				if m&modeType == modeLink || m&groupOtherBits == 0 {
					continue
				}
				put16(in, iMode, m&^groupOtherBits)
				changed++
				dirty = true
			}
			if dirty {
				if _, err := f.dev.WriteAt(chunk, int64(start)*f.bs); err != nil {
					return changed, err
				}
			}
		}
	}
	if err := f.sync(); err != nil {
		return changed, err
	}
	put16(root.b, iMode, root.mode()&^groupOtherBits)
	if err := f.writeInode(root); err != nil {
		return changed, err
	}
	return changed + 1, f.sync()
}

// Chmod sets the permission bits (0o777) of the file or folder at p.
func (f *FS) Chmod(p string, perm uint16) error {
	if err := f.begin(); err != nil {
		return err
	}
	n, err := f.lookup(p)
	if err != nil {
		return err
	}
	put16(n.b, iMode, n.mode()&modeType|perm&0o777)
	if err := f.writeInode(n); err != nil {
		return err
	}
	return f.sync()
}
