package ext4

import (
	"fmt"
	"io/fs"
)

// Remove deletes the regular file (or empty directory) at p. The directory
// entry goes first (a flush), then the inode is marked unused (a flush), then its
// blocks and slot are marked free (durable with the next flush of the FS), so a
// crash or power cut leaves at worst leaked blocks for e2fsck to reclaim, never an
// entry pointing at freed space.
func (f *FS) Remove(p string) error {
	dir, name, n, err := f.entryToRemove(p)
	if err != nil {
		return err
	}
	isDir := n.isDir()
	if isDir {
		ents, err := f.readDirInode(n)
		if err != nil {
			return err
		}
		if len(ents) > 2 {
			return &fs.PathError{Op: "remove", Path: p, Err: fmt.Errorf("directory not empty")}
		}
	} else if n.mode()&modeType != modeReg {
		return fmt.Errorf("ext4: %s: only files and empty directories can be removed", p)
	}
	exts, tree, err := f.extents(n)
	if err != nil {
		return err
	}
	if err := f.removeEntry(dir, name); err != nil {
		return err
	}
	if isDir {
		if l := le16(dir.b, iLinks); l > 2 {
			put16(dir.b, iLinks, l-1)
		}
		if err := f.writeInode(dir); err != nil {
			return err
		}
	}
	if err := f.flush(); err != nil {
		return err
	}
	// Free the inode and its blocks.
	put16(n.b, iLinks, 0)
	put32(n.b, iDtime, uint32(f.now().Unix()))
	if err := f.writeInode(n); err != nil {
		return err
	}
	// The inode is unused on the device before its blocks and slot are marked free
	// (those are durable with the next flush): a power cut cannot leave an inode in use
	// whose blocks are marked free, only leaked blocks.
	if err := f.sync(); err != nil {
		return err
	}
	f.freeExtents(exts)
	for _, b := range tree {
		f.freeBlock(b)
	}
	ino := n.ino
	g := (ino - 1) / f.ipg
	ib, err := f.inodeBitmap(g)
	if err != nil {
		return err
	}
	clearBit(ib, int((ino-1)%f.ipg))
	f.setGD16pair(g, bgFreeInodes, bgFreeInodesHi, f.gdFreeInodes(g)+1)
	if isDir {
		f.setGD16pair(g, bgUsedDirs, bgUsedDirsHi, f.gdUsedDirs(g)-1)
	}
	f.dirtyIB[g], f.dirtyGD[g] = true, true
	return f.writeMeta()
}

// removeEntry unlinks name from dir: the entry's space joins the previous
// entry in its block, or (first in the block) its inode number becomes 0.
func (f *FS) removeEntry(dir *inode, name string) error {
	exts, _, err := f.extents(dir)
	if err != nil {
		return err
	}
	blk := make([]byte, f.bs)
	for lb := int64(0); lb < dir.size()/f.bs; lb++ {
		pb, ok := mapBlock(exts, uint32(lb))
		if !ok {
			continue
		}
		if err := f.readBlocks(blk, pb); err != nil {
			return err
		}
		prev := -1
		for off := 0; off+8 <= len(blk); {
			rl := int(le16(blk, off+4))
			nl := int(blk[off+6])
			if rl < 8 || off+rl > len(blk) || 8+nl > rl {
				return fmt.Errorf("ext4: directory inode %d corrupt", dir.ino)
			}
			if le32(blk, off) != 0 && string(blk[off+8:off+8+nl]) == name {
				if prev >= 0 {
					put16(blk, prev+4, uint16(int(le16(blk, prev+4))+rl))
				} else {
					put32(blk, off, 0)
				}
				if _, err := f.dev.WriteAt(blk, int64(pb)*f.bs); err != nil {
					return err
				}
				ts := uint32(f.now().Unix())
				put32(dir.b, iMtime, ts)
				put32(dir.b, iCtime, ts)
				return f.writeInode(dir)
			}
			prev = off
			off += rl
		}
	}
	return fmt.Errorf("ext4: %s not found in directory inode %d", name, dir.ino)
}

// entryToRemove finds the entry p for Remove and RemoveName: the folder that holds it,
// its name and its inode. The root cannot be removed; a missing name is fs.ErrNotExist.
func (f *FS) entryToRemove(p string) (dir *inode, name string, n *inode, err error) {
	if err := f.begin(); err != nil {
		return nil, "", nil, err
	}
	if f.named && f.flushed <= f.namedAt {
		// a name written without a flush (Stream.Commit, WriteFileLater) is made
		// durable first: a removal must not survive a power cut that loses it (a
		// new index named, then the old one removed)
		if err := f.flush(); err != nil {
			return nil, "", nil, err
		}
	}
	parts, err := cleanPath(p)
	if err != nil {
		return nil, "", nil, err
	}
	if len(parts) == 0 {
		return nil, "", nil, fmt.Errorf("ext4: cannot remove the root")
	}
	dir, err = f.lookup(joinParts(parts[:len(parts)-1]))
	if err != nil {
		return nil, "", nil, err
	}
	name = parts[len(parts)-1]
	ino, err := f.lookupIn(dir, name)
	if err != nil {
		return nil, "", nil, err
	}
	if ino == 0 {
		return nil, "", nil, &fs.PathError{Op: "remove", Path: p, Err: fs.ErrNotExist}
	}
	n, err = f.readInode(ino)
	if err != nil {
		return nil, "", nil, err
	}
	return dir, name, n, nil
}
