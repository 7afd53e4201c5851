package fat32

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"travelkit/internal/durable"
)

// ReadWriterAt is a partition that Shred can change in place.
type ReadWriterAt interface {
	io.ReaderAt
	io.WriterAt
}

// ErrNoFile is returned by Shred when the file does not exist.
var ErrNoFile = errors.New("fat32: no such file")

const (
	fsiUnknownFree  = 0xFFFFFFFF // FSI_Free_Count when the free count is not known
	shredRun        = 1 << 20    // bytes of random data written at a time
	fatReservedBits = 0xF0000000 // the high 4 bits of a FAT32 entry, kept when it changes
)

// Shred destroys one file of a FAT32 filesystem in place, for good: its data clusters are
// overwritten with random bytes (and flushed when dev can Sync), then its clusters are
// freed in every FAT copy, and its directory entry and long-name entries are marked
// deleted. The rest of the filesystem is untouched. The name matches as the reader's
// lookups do (long or short name, any case).
func Shred(dev ReadWriterAt, size int64, p string) error { return ShredHead(dev, size, p, -1) }

// ShredHead is Shred overwriting only the first head bytes of the file (rounded up to whole
// clusters; head < 0: all of it) before freeing every cluster: enough when the head holds
// the only key to the rest (an age file's header wraps its file key), and much faster on a
// large file.
func ShredHead(dev ReadWriterAt, size int64, p string, head int64) error {
	f, err := Open(dev, size)
	if err != nil {
		return err
	}
	dir, name := "", p
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		dir, name = p[:i], p[i+1:]
	}
	parent, err := f.lookup(dir)
	if err != nil || !parent.IsDir {
		return fmt.Errorf("%w: %s", ErrNoFile, p)
	}
	ents, err := f.readDirCluster(parent.Cluster, parent.Cluster == f.rootCluster)
	if err != nil {
		return err
	}
	var target *Entry
	for i := range ents {
		e := &ents[i]
		if !e.label && !e.IsDir && (strings.EqualFold(e.Name, name) || strings.EqualFold(strings.TrimSpace(e.Short), name)) {
			target = &e.Entry
			break
		}
	}
	if target == nil {
		return fmt.Errorf("%w: %s", ErrNoFile, p)
	}

	// 1. The content: random bytes over every cluster of the chain, in runs of contiguous
	// clusters, then flushed, so that nothing of it survives whatever happens next.
	var clusters []uint32
	if target.Cluster != 0 {
		cs := f.ClusterSize()
		if clusters, err = f.chain(target.Cluster, (target.Size+cs-1)/cs+1); err != nil {
			return fmt.Errorf("fat32: %s: %w", p, err)
		}
		over := clusters
		if head >= 0 {
			over = clusters[:min(int64(len(clusters)), max(1, (head+cs-1)/cs))]
		}
		buf := make([]byte, shredRun)
		for i := 0; i < len(over); {
			j := i + 1
			for j < len(over) && over[j] == over[j-1]+1 && int64(j-i+1)*cs <= shredRun {
				j++
			}
			b := buf[:int64(j-i)*cs]
			if _, err := rand.Read(b); err != nil {
				return err
			}
			if _, err := dev.WriteAt(b, f.clusterOff(over[i])); err != nil {
				return fmt.Errorf("fat32: overwriting %s: %w", p, err)
			}
			i = j
		}
		if err := durable.Flush(dev); err != nil {
			return err
		}
	}

	// 2. The directory entries: the short entry and the long-name entries before it.
	if err := f.deleteEntry(dev, parent.Cluster, target); err != nil {
		return err
	}

	// 3. The clusters, free in every FAT (the span of FAT entries they cover is read,
	// changed and written back whole); the FSInfo free count follows.
	if len(clusters) > 0 {
		lo, hi := slices.Min(clusters), slices.Max(clusters)
		span := make([]byte, 4*int64(hi-lo+1))
		for n := int64(0); n < f.nfats; n++ {
			base := (f.reservedSec+n*f.fatSec)*f.bps + 4*int64(lo)
			if _, err := f.dev.ReadAt(span, base); err != nil {
				return fmt.Errorf("fat32: reading the FAT: %w", err)
			}
			for _, c := range clusters {
				e := span[4*(c-lo):]
				// free: 0 in the low 28 bits; the high 4 bits are reserved and kept
				binary.LittleEndian.PutUint32(e, binary.LittleEndian.Uint32(e)&fatReservedBits)
			}
			if _, err := dev.WriteAt(span, base); err != nil {
				return fmt.Errorf("fat32: freeing the clusters of %s: %w", p, err)
			}
		}
	}
	if len(clusters) > 0 {
		if err := f.addFree(dev, uint32(len(clusters))); err != nil {
			return err
		}
	}
	return durable.Flush(dev)
}

// deleteEntry marks the short entry of e in the directory at dirCluster, and the
// long-name entries just before it, deleted.
func (f *FS) deleteEntry(dev ReadWriterAt, dirCluster uint32, e *Entry) error {
	cs := f.ClusterSize()
	ch, err := f.chain(dirCluster, maxDirBytes/cs+1)
	if err != nil {
		return err
	}
	// The directory as one buffer, with the device offset of every 32-byte slot.
	var buf []byte
	var offs []int64
	for _, c := range ch {
		b := make([]byte, cs)
		if _, err := f.dev.ReadAt(b, f.clusterOff(c)); err != nil {
			return err
		}
		buf = append(buf, b...)
		for o := int64(0); o < cs; o += dirEntry {
			offs = append(offs, f.clusterOff(c)+o)
		}
	}
	short := -1
	for i := range offs {
		s := buf[i*dirEntry : (i+1)*dirEntry]
		if s[0] == 0 {
			break
		}
		if s[0] == dirFree || s[dirAttr] == attrLongName {
			continue
		}
		first := uint32(binary.LittleEndian.Uint16(s[20:]))<<16 | uint32(binary.LittleEndian.Uint16(s[26:]))
		var name [11]byte
		copy(name[:], s[:11])
		if name[0] == 0x05 { // a name starting with 0xE5 is stored with 0x05
			name[0] = dirFree
		}
		if string(name[:]) == e.Short && first == e.Cluster && int64(binary.LittleEndian.Uint32(s[28:])) == e.Size {
			short = i
			break
		}
	}
	if short < 0 {
		return fmt.Errorf("fat32: directory entry of %s not found", e.Name)
	}
	for i := short; i >= 0; i-- {
		s := buf[i*dirEntry : (i+1)*dirEntry]
		if i < short && (s[dirAttr] != attrLongName || s[0] == dirFree) {
			break
		}
		if _, err := dev.WriteAt([]byte{dirFree}, offs[i]); err != nil {
			return fmt.Errorf("fat32: deleting %s: %w", e.Name, err)
		}
	}
	return nil
}

// addFree adds n to the FSInfo free cluster count, unless it is unknown.
func (f *FS) addFree(dev ReadWriterAt, n uint32) error {
	b := make([]byte, 512)
	if _, err := f.dev.ReadAt(b, 0); err != nil {
		return err
	}
	sec := int64(binary.LittleEndian.Uint16(b[bpbFSInfo:]))
	if sec == 0 || sec >= f.reservedSec {
		return nil
	}
	if _, err := f.dev.ReadAt(b, sec*f.bps); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(b[fsiLeadSig:]) != fsiLeadValue {
		return nil
	}
	free := binary.LittleEndian.Uint32(b[fsiFreeCount:])
	if free == fsiUnknownFree || free+n > f.clusters {
		return nil
	}
	var v [4]byte
	binary.LittleEndian.PutUint32(v[:], free+n)
	_, err := dev.WriteAt(v[:], sec*f.bps+fsiFreeCount)
	return err
}
