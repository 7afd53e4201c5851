package fat32

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf16"
)

// The reader is as strict as the strictest operating system, and stricter where they
// disagree. A tools partition is checked by `travelkit verify` and then mounted by Linux,
// Windows and macOS: any structure that one of them reads differently from another (or
// from this reader) could show a person a file that verify never looked at. Open
// therefore reads the whole directory tree at once and refuses, with an *AmbiguousError
// naming every finding, a volume that has any of:
//   - an entry with the volume-label bit and other bits (0x18: Linux skips it as a label,
//     a lax reader takes it as a folder), or reserved attribute bits, or a second label;
//   - entries after the end-of-directory entry (Windows stops there, Linux reads on);
//   - two names that are equal ignoring case and Unicode normalisation (long or short),
//     or that some code page could show as one name (codepage.go: a short name with
//     bytes 0x80-0xFF, as mtools writes a user's "café.txt", is accepted unless it could
//     read like another entry of its folder), names with characters FAT does not allow,
//     trailing dots or spaces (Windows drops them);
//   - long-name entries out of sequence, with a wrong checksum (orphans), or a short name
//     that is not the long name's alias;
//   - clusters used twice (two files sharing data, a folder reachable twice, loops),
//     chains through free or bad clusters, chains longer or shorter than the file size;
//   - "." and ".." entries that do not point at the folder and its parent;
//   - FAT copies that differ, or mirroring switched off (Windows then reads another FAT
//     than Linux).
//
// Everything read is bounded by the volume: the FAT is at most maxFATBytes, folders at
// most 65536 entries, the tree at most maxEntries entries and maxDepth levels, each
// cluster is read at most once while scanning.

// FS is a FAT32 filesystem opened for reading; its directory tree has been read and
// checked.
type FS struct {
	dev         io.ReaderAt
	size        int64
	boot        bootParams
	bps         int64
	spc         int64
	reservedSec int64
	fatSec      int64
	nfats       int64
	rootCluster uint32
	clusters    uint32
	dataStart   int64
	label       string
	bootLabel   string
	volumeID    uint32
	fat         []byte // the first FAT, (clusters+2)*4 bytes
	dirs        map[uint32][]rawEntry
}

// Entry describes a file or directory.
type Entry struct {
	Name    string // the long name, or the short name as the OSes show it
	Short   string // the 11 bytes of the 8.3 name
	IsDir   bool
	Hidden  bool  // hidden or system attribute: Windows Explorer hides it, Linux and macOS show it
	Attr    uint8 // the attribute byte
	Size    int64
	ModTime time.Time
	Cluster uint32
}

// ErrNotFAT32 is returned when the boot sector does not describe FAT32.
var ErrNotFAT32 = errors.New("fat32: not a FAT32 filesystem")

// Problem is one finding that makes a volume ambiguous.
type Problem struct {
	Path   string // the entry or directory concerned, slash-separated; "" for the volume
	Reason string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Reason
	}
	return fmt.Sprintf("%q: %s", p.Path, p.Reason)
}

// AmbiguousError says that operating systems could read the volume differently.
type AmbiguousError struct {
	Problems []Problem
}

func (e *AmbiguousError) Error() string {
	var b strings.Builder
	b.WriteString("fat32: the volume could be read differently by different operating systems:")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" ")
		b.WriteString(p.String())
	}
	return b.String()
}

const (
	// maxFATBytes bounds the FAT read into memory: 16M clusters, a 512 GiB volume with
	// 32 KiB clusters. A tools partition needs a small fraction of that.
	maxFATBytes = 64 << 20
	// maxDirBytes: a FAT directory holds at most 65536 entries.
	maxDirBytes = 65536 * dirEntry
	// maxEntries bounds the whole tree (a tools partition holds a few dozen).
	maxEntries = 100000
	// maxDepth bounds folder nesting, maxPath the length of a path.
	maxDepth = 32
	maxPath  = 4096
	// maxProblems bounds the findings listed.
	maxProblems = 100
)

// Open reads the boot sector, the FAT and the whole directory tree of a FAT32
// filesystem in a partition window of size bytes. A volume that operating systems could
// read differently is refused with an *AmbiguousError.
func Open(dev io.ReaderAt, size int64) (*FS, error) {
	b := make([]byte, 512)
	if _, err := dev.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("fat32: read boot sector: %w", err)
	}
	p := parseBoot(b)
	if !p.hasSignature {
		return nil, fmt.Errorf("%w (no boot signature)", ErrNotFAT32)
	}
	f := &FS{dev: dev, size: size, boot: p}
	if err := f.geometry(); err != nil {
		return nil, err
	}
	if err := f.readFAT(); err != nil {
		return nil, err
	}
	s := &scan{f: f, owner: make([]uint64, (int(f.clusters)+2+63)/64)}
	s.checkFATs()
	if err := s.tree(); err != nil {
		return nil, err
	}
	if len(s.problems) > 0 {
		return nil, &AmbiguousError{Problems: s.problems}
	}
	f.dirs = s.dirs
	for _, e := range f.dirs[f.rootCluster] {
		if e.label {
			f.label = strings.TrimRight(e.Short, " ")
		}
	}
	return f, nil
}

// geometry checks the boot sector's fields and derives the layout.
func (f *FS) geometry() error {
	p := &f.boot
	f.bps = int64(p.bytsPerSec)
	f.spc = int64(p.secPerClus)
	f.reservedSec = int64(p.rsvdSecCnt)
	f.nfats = int64(p.numFATs)
	f.fatSec = int64(p.fatSz32)
	f.rootCluster = p.rootClus
	total := int64(p.totSec32)
	switch f.bps {
	case 512, 1024, 2048, 4096:
	default:
		return fmt.Errorf("%w (bytes per sector %d)", ErrNotFAT32, f.bps)
	}
	if f.spc == 0 || f.spc&(f.spc-1) != 0 || f.spc*f.bps > 64<<10 {
		return fmt.Errorf("%w (sectors per cluster %d)", ErrNotFAT32, f.spc)
	}
	if p.rootEntCnt != 0 || p.totSec16 != 0 || p.fatSz16 != 0 || f.fatSec == 0 {
		return fmt.Errorf("%w (FAT12/16 fields set)", ErrNotFAT32)
	}
	if !(p.jmp[0] == bsJmpShort && p.jmp[2] == bsNop || p.jmp[0] == bsJmpNear) {
		return fmt.Errorf("%w (no jump instruction: Windows does not mount it)", ErrNotFAT32)
	}
	if p.media != 0xF0 && p.media < 0xF8 {
		return fmt.Errorf("%w (media byte 0x%02x: Linux does not mount it)", ErrNotFAT32, p.media)
	}
	if p.fsVer != 0 {
		return fmt.Errorf("%w (version %d.%d)", ErrNotFAT32, p.fsVer>>8, p.fsVer&0xFF)
	}
	if f.reservedSec < 1 || f.nfats < 1 || f.nfats > 2 {
		return fmt.Errorf("%w (reserved %d, FATs %d)", ErrNotFAT32, f.reservedSec, f.nfats)
	}
	if p.extFlags&extFlagsNoMirr != 0 {
		return fmt.Errorf("fat32: FAT mirroring is switched off (active FAT %d): Windows reads that FAT, Linux the first", p.extFlags&0x0F)
	}
	if total*f.bps > f.size {
		return fmt.Errorf("fat32: filesystem of %d bytes larger than its partition of %d bytes", total*f.bps, f.size)
	}
	meta := f.reservedSec + f.nfats*f.fatSec
	if meta >= total {
		return fmt.Errorf("%w (FATs larger than the volume)", ErrNotFAT32)
	}
	f.dataStart = meta * f.bps
	clus := (total - meta) / f.spc
	if clus > maxClusters || clus < 1 {
		return fmt.Errorf("%w (%d clusters)", ErrNotFAT32, clus)
	}
	if need := (clus + 2) * 4; need > f.fatSec*f.bps {
		return fmt.Errorf("fat32: FAT of %d bytes too small for %d clusters", f.fatSec*f.bps, clus)
	}
	f.clusters = uint32(clus)
	if f.rootCluster < 2 || f.rootCluster >= f.clusters+2 {
		return fmt.Errorf("fat32: root cluster %d out of range", f.rootCluster)
	}
	if p.bootSig == bsBootSigValue {
		f.volumeID = p.volID
		f.bootLabel = strings.TrimRight(string(p.volLab[:]), " ")
	}
	return nil
}

func (f *FS) readFAT() error {
	n := (int64(f.clusters) + 2) * 4
	if n > maxFATBytes {
		return fmt.Errorf("fat32: FAT of %d bytes too large (%d clusters; travelkit reads volumes up to %d MiB of FAT)", n, f.clusters, maxFATBytes>>20)
	}
	f.fat = make([]byte, n)
	if _, err := f.dev.ReadAt(f.fat, f.reservedSec*f.bps); err != nil {
		return fmt.Errorf("fat32: read FAT: %w", err)
	}
	return nil
}

// next returns the FAT entry of cluster c.
func (f *FS) next(c uint32) uint32 { return binary.LittleEndian.Uint32(f.fat[4*int64(c):]) & fatMask }

// Label returns the root directory's volume label (what Windows shows),
// or the boot sector's when the root has none.
func (f *FS) Label() string {
	if f.label != "" {
		return f.label
	}
	return f.bootLabel
}

// BootLabel returns the label stored in the boot sector.
func (f *FS) BootLabel() string { return f.bootLabel }

// VolumeID returns the volume serial number of the boot sector.
func (f *FS) VolumeID() uint32 { return f.volumeID }

// Clusters returns the cluster count.
func (f *FS) Clusters() uint32 { return f.clusters }

// ClusterSize returns the cluster size in bytes.
func (f *FS) ClusterSize() int64 { return f.spc * f.bps }

// chain returns the cluster chain starting at c, bounded by maxLen clusters.
func (f *FS) chain(c uint32, maxLen int64) ([]uint32, error) {
	var out []uint32
	for {
		if c < 2 || c >= f.clusters+2 {
			return nil, fmt.Errorf("fat32: cluster %d out of range", c)
		}
		out = append(out, c)
		if int64(len(out)) > maxLen || len(out) > int(f.clusters) {
			return nil, errors.New("fat32: cluster chain too long (loop?)")
		}
		n := f.next(c)
		if n >= fatEOCMin {
			return out, nil
		}
		if n == fatFree || n >= fatBad {
			return nil, fmt.Errorf("fat32: chain runs into a free, bad or reserved cluster after cluster %d", c)
		}
		c = n
	}
}

func (f *FS) clusterOff(c uint32) int64 {
	return f.dataStart + int64(c-2)*f.ClusterSize()
}

// rawEntry is an entry of a scanned directory (the label entry included).
type rawEntry struct {
	Entry
	label bool
}

// scan reads and checks the tree once, at Open.
type scan struct {
	f        *FS
	owner    []uint64 // clusters in use by some chain
	dirs     map[uint32][]rawEntry
	entries  int
	problems []Problem
}

func (s *scan) problem(path, format string, args ...any) {
	if len(s.problems) < maxProblems {
		s.problems = append(s.problems, Problem{Path: path, Reason: fmt.Sprintf(format, args...)})
	}
}

// checkFATs compares every FAT copy with the first, over the clusters in use.
func (s *scan) checkFATs() {
	f := s.f
	if f.next(0)&0xFF != uint32(f.boot.media) {
		s.problem("", "FAT[0] does not repeat the media byte 0x%02x", f.boot.media)
	}
	buf := make([]byte, min(int64(len(f.fat)), 1<<20))
	for i := int64(1); i < f.nfats; i++ {
		base := (f.reservedSec + i*f.fatSec) * f.bps
		for off := int64(0); off < int64(len(f.fat)); off += int64(len(buf)) {
			n := min(int64(len(buf)), int64(len(f.fat))-off)
			if _, err := f.dev.ReadAt(buf[:n], base+off); err != nil {
				s.problem("", "FAT copy %d unreadable: %v", i+1, err)
				return
			}
			for j := int64(0); j < n; j += 4 {
				c := (off + j) / 4
				if c < 2 {
					continue // FAT[1] holds per-copy dirty flags
				}
				if binary.LittleEndian.Uint32(buf[j:])&fatMask != binary.LittleEndian.Uint32(f.fat[off+j:])&fatMask {
					s.problem("", "FAT copy %d differs from the first at cluster %d (Windows and Linux may repair it differently)", i+1, c)
					return
				}
			}
		}
	}
}

// claim follows the chain from first, marking its clusters used; it reports a chain
// that meets a cluster already used (shared data, a loop, a folder reachable twice).
func (s *scan) claim(path string, first uint32, maxLen int64) ([]uint32, bool) {
	f := s.f
	var out []uint32
	for c := first; ; {
		if c < 2 || c >= f.clusters+2 {
			s.problem(path, "cluster %d out of range", c)
			return nil, false
		}
		if s.owner[c/64]&(1<<(c%64)) != 0 {
			s.problem(path, "cluster %d is also used by another file or folder, or the chain loops", c)
			return nil, false
		}
		s.owner[c/64] |= 1 << (c % 64)
		out = append(out, c)
		if int64(len(out)) > maxLen {
			s.problem(path, "chain longer than %d clusters", maxLen)
			return nil, false
		}
		n := f.next(c)
		switch {
		case n >= fatEOCMin:
			return out, true
		case n == fatFree:
			s.problem(path, "chain runs into free cluster after cluster %d", c)
			return nil, false
		case n >= fatBad:
			s.problem(path, "chain runs into bad or reserved cluster value 0x%07x after cluster %d", n, c)
			return nil, false
		}
		c = n
	}
}

// tree scans from the root, depth first, each folder once.
func (s *scan) tree() error {
	f := s.f
	s.dirs = map[uint32][]rawEntry{}
	type job struct {
		path    string
		cluster uint32
		parent  uint32 // 0 for the root's children
		depth   int
	}
	cs := f.ClusterSize()
	root, ok := s.claim("/", f.rootCluster, maxDirBytes/cs+1)
	if !ok {
		return nil
	}
	stack := []job{{path: "", cluster: f.rootCluster}}
	chains := map[uint32][]uint32{f.rootCluster: root}
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		ents, err := s.readDir(j.path, chains[j.cluster], j.cluster == f.rootCluster, j.cluster, j.parent)
		if err != nil {
			return err
		}
		s.dirs[j.cluster] = ents
		seen := map[string]string{}
		cp := newCodePageNames(ents)
		for _, e := range ents {
			if e.label {
				continue
			}
			p := e.Name
			if j.path != "" {
				p = j.path + "/" + e.Name
			}
			dup := false
			for _, n := range namesOf(e.Entry) {
				k := foldKey(n)
				if other, ok := seen[k]; ok && !dup {
					s.problem(p, "same name as %q, ignoring case and Unicode normalisation (each OS would pick one of them)", other)
					dup = true
				}
				seen[k] = e.Name
			}
			if other, why := cp.add(e.Entry); why != "" && !dup {
				s.problem(p, "could show the same name as %q: %s", other, why)
			}
			if s.entries++; s.entries > maxEntries {
				return fmt.Errorf("fat32: more than %d files and folders (a tools partition holds a few dozen)", maxEntries)
			}
			if len(p) > maxPath {
				s.problem(p[:64]+"...", "path longer than %d bytes", maxPath)
				continue
			}
			if !e.IsDir {
				s.checkFile(p, e.Entry)
				continue
			}
			if e.Cluster == 0 || e.Cluster == f.rootCluster {
				s.problem(p, "folder points at the root folder (cluster %d): it would be reachable twice", e.Cluster)
				continue
			}
			if j.depth+1 > maxDepth {
				s.problem(p, "folders nested deeper than %d levels", maxDepth)
				continue
			}
			ch, ok := s.claim(p, e.Cluster, maxDirBytes/cs+1)
			if !ok {
				continue
			}
			chains[e.Cluster] = ch
			parent := j.cluster
			if j.cluster == f.rootCluster {
				parent = 0
			}
			stack = append(stack, job{path: p, cluster: e.Cluster, parent: parent, depth: j.depth + 1})
		}
		if cp.tooMany() {
			s.problem(j.path, "more than %d names with code-page bytes (0x80-0xFF) in one folder", maxCodePageNames)
		}
		delete(chains, j.cluster)
	}
	return nil
}

func (s *scan) checkFile(p string, e Entry) {
	cs := s.f.ClusterSize()
	switch {
	case e.Size == 0 && e.Cluster != 0:
		s.problem(p, "empty file holding cluster %d (hidden data)", e.Cluster)
	case e.Size > 0 && e.Cluster == 0:
		s.problem(p, "file of %d bytes without clusters", e.Size)
	case e.Size > 0:
		want := (e.Size + cs - 1) / cs
		ch, ok := s.claim(p, e.Cluster, want+1)
		if ok && int64(len(ch)) != want {
			s.problem(p, "%d bytes in a chain of %d clusters of %d bytes", e.Size, len(ch), cs)
		}
	}
}

// namesOf returns the names an entry answers to: its long name and its short name. A
// short name with OEM code page bytes is left to codePageNames.
func namesOf(e Entry) []string {
	n11 := [dirNameLen]byte([]byte(e.Short))
	if hasOEM(n11) {
		return []string{e.Name}
	}
	s := shortDisplay(n11, 0)
	if strings.EqualFold(s, e.Name) {
		return []string{e.Name}
	}
	return []string{e.Name, s}
}

// readDir decodes one directory strictly.
func (s *scan) readDir(dir string, chain []uint32, root bool, self, parent uint32) ([]rawEntry, error) {
	f := s.f
	cs := f.ClusterSize()
	where := dir
	if where == "" {
		where = "/"
	}
	buf := make([]byte, cs)
	var out []rawEntry
	var lfn []uint16
	var lfnSum byte
	lfnNext := 0
	lfnStart := 0
	ended := false
	labels, dots := 0, 0
	afterEnd, firstAfter, afterName := 0, 0, ""
	slot := 0
	orphan := func() {
		if lfn != nil {
			s.problem(where, "long-name entries at slot %d belong to no entry (orphaned or out of sequence)", lfnStart)
		}
		lfn, lfnNext = nil, 0
	}
	for _, cl := range chain {
		if _, err := f.dev.ReadAt(buf, f.clusterOff(cl)); err != nil {
			return nil, fmt.Errorf("fat32: read directory cluster %d: %w", cl, err)
		}
		for off := 0; off+dirEntry <= len(buf); off, slot = off+dirEntry, slot+1 {
			e := buf[off : off+dirEntry]
			if ended {
				if e[dirName] != dirEnd {
					if afterEnd++; afterEnd == 1 {
						firstAfter = slot
					}
					if e[dirAttr] != attrLongName && afterName == "" {
						afterName = strings.TrimRight(string(e[:dirNameLen]), " ")
					}
				}
				continue
			}
			if e[dirName] == dirEnd {
				orphan()
				ended = true
				continue
			}
			if e[dirName] == dirFree {
				orphan()
				continue
			}
			attr := e[dirAttr]
			if attr&attrReserved != 0 {
				s.problem(where, "entry at slot %d has reserved attribute bits 0x%02x (%s)", slot, attr, describeRaw(e))
				orphan()
				continue
			}
			if attr == attrLongName {
				ord := int(e[ldirOrd])
				seq := ord & ldirOrdMask
				if ord&ldirLast != 0 {
					orphan()
					if seq == 0 || seq > ldirMaxOrd || ord&^(ldirLast|ldirOrdMask) != 0 {
						s.problem(where, "long-name entry at slot %d with sequence 0x%02x", slot, ord)
						continue
					}
					lfn = make([]uint16, ldirChars*seq)
					lfnSum, lfnNext, lfnStart = e[ldirChksum], seq, slot
				} else if lfn == nil || ord != lfnNext || e[ldirChksum] != lfnSum {
					orphan()
					s.problem(where, "long-name entry at slot %d out of sequence", slot)
					continue
				}
				if e[ldirType] != 0 || binary.LittleEndian.Uint16(e[ldirFstClusLO:]) != 0 {
					s.problem(where, "long-name entry at slot %d has type or cluster fields set", slot)
				}
				u := lfnUnits(e)
				copy(lfn[(seq-1)*ldirChars:], u[:])
				lfnNext--
				continue
			}
			if attr&attrLongName == attrLongName {
				s.problem(where, "entry at slot %d has the long-name bits with others (0x%02x): OSes disagree on what it is", slot, attr)
				orphan()
				continue
			}
			d := parseDirent(e)
			if d.name[0] == dirKanjiE5 {
				d.name[0] = dirFree
			}
			re := rawEntry{}
			re.Short = string(d.name[:])
			re.Attr = attr
			if attr&attrVolumeID != 0 {
				orphan()
				if attr&^attrArchive != attrVolumeID {
					s.problem(where, "entry %q has the volume-label bit with others (attributes 0x%02x): Linux skips it as a label, other readers take it as a file or folder", strings.TrimRight(re.Short, " "), attr)
					continue
				}
				if !root {
					s.problem(where, "volume label entry %q outside the root folder", strings.TrimRight(re.Short, " "))
					continue
				}
				if labels++; labels > 1 {
					s.problem(where, "a second volume label %q", strings.TrimRight(re.Short, " "))
				}
				if d.cluster != 0 || d.size != 0 {
					s.problem(where, "volume label %q with a cluster or size", strings.TrimRight(re.Short, " "))
				}
				re.label = true
				out = append(out, re)
				continue
			}
			_, shortOK := shortName(d.name)
			name := ""
			if lfn != nil {
				if lfnNext != 0 || lfnSum != shortChecksum(d.name) {
					orphan()
				} else {
					var ok bool
					name, ok = s.longName(where, lfn, d.name)
					lfn = nil
					if !ok {
						continue
					}
				}
			}
			oemName := ""
			if !shortOK && name == "" {
				n, ok := oemShortName(d.name, d.ntRes)
				if !ok || !hasOEM(d.name) {
					s.problem(where, "entry at slot %d has a short name with characters FAT does not allow (%s)", slot, describeRaw(e))
					continue
				}
				oemName = n // checked against its folder's other names in tree
			}
			isDot := string(d.name[:]) == ".          " || string(d.name[:]) == "..         "
			if isDot {
				dots++
				s.checkDot(where, root, d, self, parent, name)
				continue
			}
			if name == "" {
				name = shortDisplay(d.name, d.ntRes)
			}
			if oemName != "" {
				name = oemName
			}
			re.Name = name
			re.IsDir = attr&attrDirectory != 0
			re.Hidden = attr&(attrHidden|attrSystem) != 0
			re.Size = int64(d.size)
			re.Cluster = d.cluster
			re.ModTime = dosDateTime(d.wrtDate, d.wrtTime)
			if re.IsDir && d.size != 0 {
				s.problem(joinPath(dir, name), "folder entry with a size of %d bytes", d.size)
			}
			out = append(out, re)
		}
	}
	orphan()
	if afterEnd > 0 {
		s.problem(where, "%d entries after the end-of-directory entry, from slot %d (short name %q): Linux shows them, Windows does not", afterEnd, firstAfter, afterName)
	}
	if !root && dots != 2 {
		s.problem(where, "folder with %d dot entries, not \".\" and \"..\"", dots)
	}
	return out, nil
}

func (s *scan) checkDot(where string, root bool, d dirent, self, parent uint32, long string) {
	switch {
	case root:
		s.problem(where, "dot entry %q in the root folder", strings.TrimRight(string(d.name[:]), " "))
	case long != "":
		s.problem(where, "dot entry with a long name %q", long)
	case d.attr&attrDirectory == 0:
		s.problem(where, "dot entry %q is not a folder", strings.TrimRight(string(d.name[:]), " "))
	case d.name[1] == ' ' && d.cluster != self:
		s.problem(where, "\".\" points at cluster %d, not at the folder itself (%d)", d.cluster, self)
	case d.name[1] == '.' && d.cluster != parent:
		s.problem(where, "\"..\" points at cluster %d, not at the parent folder (%d)", d.cluster, parent)
	}
}

func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// longName decodes and checks a long name against its short alias.
func (s *scan) longName(where string, u []uint16, short [dirNameLen]byte) (string, bool) {
	n := len(u)
	for i, c := range u {
		if c == 0 {
			n = i
			break
		}
	}
	for _, c := range u[min(n+1, len(u)):] {
		if c != ldirPadding {
			s.problem(where, "long name %q has characters after its end", string(utf16.Decode(u[:n])))
			break
		}
	}
	if n == 0 || n > maxNameUnits {
		s.problem(where, "long name of %d characters", n)
		return "", false
	}
	for i := 0; i < n; i++ {
		if utf16.IsSurrogate(rune(u[i])) {
			if i+1 < n && u[i] < 0xDC00 && u[i+1] >= 0xDC00 && u[i+1] <= 0xDFFF {
				i++
				continue
			}
			s.problem(where, "long name with a broken UTF-16 surrogate")
			return "", false
		}
	}
	name := string(utf16.Decode(u[:n]))
	if err := validName(name); err != nil {
		s.problem(where, "long name %q: %s", name, strings.TrimPrefix(err.Error(), "fat32: "))
		return "", false
	}
	if !aliasOf(name, short) {
		s.problem(where, "short name %q is not an alias of the long name %q (OSes that use short names see another name)", strings.TrimRight(string(short[:]), " "), name)
		return "", false
	}
	return name, true
}

// aliasOf reports whether short is the 8.3 name Windows, Linux, macOS or travelkit give
// the long name: the name itself when it is a valid 8.3 name, else BASIS~N with the
// basis made from the long name (Windows' hashed form BA1F2C~N included) and its
// extension. A short name with OEM code page bytes is checked by oemAliasOf.
func aliasOf(long string, short [dirNameLen]byte) bool {
	if hasOEM(short) {
		return oemAliasOf(long, short)
	}
	if s, ok := plainShort(long); ok {
		return s == short
	}
	base := strings.TrimRight(string(short[:8]), " ")
	ext := strings.TrimRight(string(short[8:]), " ")
	fullBase, wantExt := shortBasisFull(long)
	if ext != wantExt {
		return false
	}
	t := strings.LastIndexByte(base, '~')
	if t < 1 || t == len(base)-1 {
		return false
	}
	for _, c := range base[t+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	prefix := base[:t]
	if strings.HasPrefix(fullBase, prefix) {
		return true
	}
	if len(prefix) > 4 && isHex(prefix[len(prefix)-4:]) && strings.HasPrefix(fullBase, prefix[:len(prefix)-4]) {
		return true
	}
	return false
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// shortBasisFull is the untruncated basis of a long name: upper case, spaces and dots
// (but the last) dropped, characters not allowed in 8.3 names as '_'; and the extension
// (at most 3 characters).
func shortBasisFull(name string) (string, string) {
	u := strings.ToUpper(name)
	base, ext := u, ""
	if i := strings.LastIndexByte(u, '.'); i > 0 {
		base, ext = u[:i], u[i+1:]
	}
	clean := func(s string, n int) string {
		var b []byte
		for _, r := range s {
			if len(b) >= n {
				break
			}
			switch {
			case r == ' ' || r == '.':
			case r < 0x80 && isShortChar(byte(r)):
				b = append(b, byte(r))
			default:
				b = append(b, '_')
			}
		}
		return string(b)
	}
	return clean(base, 255), clean(ext, 3)
}

// shortName checks an 8.3 name: printable ASCII allowed in short names, padded with
// spaces, no leading space.
func shortName(n [dirNameLen]byte) (string, bool) {
	if string(n[:]) == ".          " || string(n[:]) == "..         " {
		return strings.TrimRight(string(n[:]), " "), true
	}
	if n[0] == ' ' {
		return "", false
	}
	pad := false
	for i, c := range n {
		if i == 8 {
			pad = false
		}
		switch {
		case c == ' ':
			pad = true
		case pad:
			return "", false // a space inside the base or the extension
		case c >= 0x80:
			return "", false // an OEM code page character: shown differently by each OS
		case c >= 'a' && c <= 'z':
			return "", false
		case !isShortChar(c) && !(i == 0 && c == dirFree):
			return "", false
		}
	}
	return shortDisplay(n, 0), true
}

// shortDisplay is how Linux (shortname=mixed), Windows and macOS show a short name
// without a long name, honouring the NT lower-case flags.
func shortDisplay(n [dirNameLen]byte, nt uint8) string {
	base := strings.TrimRight(string(n[:8]), " ")
	ext := strings.TrimRight(string(n[8:]), " ")
	if nt&ntLowerBase != 0 {
		base = strings.ToLower(base)
	}
	if nt&ntLowerExt != 0 {
		ext = strings.ToLower(ext)
	}
	if ext == "" {
		return base
	}
	return base + "." + ext
}

func describeRaw(e []byte) string {
	return fmt.Sprintf("name %q, attributes 0x%02x", strings.TrimRight(string(e[:dirNameLen]), " "), e[dirAttr])
}

func dosDateTime(d, t uint16) time.Time {
	return time.Date(1980+int(d>>9), time.Month(d>>5&15), int(d&31), int(t>>11), int(t>>5&63), int(t&31)*2, 0, time.UTC)
}

// readDirCluster returns the scanned entries of the directory starting at cluster c
// (the root's label entry included).
func (f *FS) readDirCluster(c uint32, root bool) ([]rawEntry, error) {
	ents, ok := f.dirs[c]
	if !ok {
		return nil, fmt.Errorf("fat32: no folder at cluster %d", c)
	}
	return ents, nil
}

func (f *FS) lookup(p string) (Entry, error) {
	parts := strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' })
	cur := Entry{IsDir: true, Cluster: f.rootCluster}
	for i, name := range parts {
		if !cur.IsDir {
			return Entry{}, fmt.Errorf("fat32: %s: not a directory", strings.Join(parts[:i], "/"))
		}
		ents, err := f.readDirCluster(cur.Cluster, cur.Cluster == f.rootCluster)
		if err != nil {
			return Entry{}, err
		}
		found := false
		for _, e := range ents {
			if e.label {
				continue
			}
			for _, n := range namesOf(e.Entry) {
				if strings.EqualFold(n, name) {
					cur, found = e.Entry, true
				}
			}
			if found {
				break
			}
		}
		if !found {
			return Entry{}, fmt.Errorf("fat32: %s: no such file or directory", strings.Join(parts[:i+1], "/"))
		}
	}
	return cur, nil
}

// Stat returns the entry at path p ("" or "/" is the root).
func (f *FS) Stat(p string) (Entry, error) { return f.lookup(p) }

// ReadDir lists the directory at path p.
func (f *FS) ReadDir(p string) ([]Entry, error) {
	d, err := f.lookup(p)
	if err != nil {
		return nil, err
	}
	if !d.IsDir {
		return nil, fmt.Errorf("fat32: %s: not a directory", p)
	}
	ents, err := f.readDirCluster(d.Cluster, d.Cluster == f.rootCluster)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(ents))
	for _, e := range ents {
		if !e.label {
			out = append(out, e.Entry)
		}
	}
	return out, nil
}

// Open opens the file at path p for reading.
func (f *FS) Open(p string) (io.Reader, int64, error) {
	e, err := f.lookup(p)
	if err != nil {
		return nil, 0, err
	}
	if e.IsDir {
		return nil, 0, fmt.Errorf("fat32: %s is a directory", p)
	}
	if e.Size == 0 {
		return strings.NewReader(""), 0, nil
	}
	cs := f.ClusterSize()
	ch, err := f.chain(e.Cluster, (e.Size+cs-1)/cs)
	if err != nil {
		return nil, 0, fmt.Errorf("fat32: %s: %w", p, err)
	}
	if int64(len(ch))*cs < e.Size {
		return nil, 0, fmt.Errorf("fat32: %s: chain of %d clusters shorter than size %d", p, len(ch), e.Size)
	}
	return &fileReader{f: f, chain: ch, size: e.Size}, e.Size, nil
}

// ErrTooLarge is returned by ReadFile for a file larger than its limit.
var ErrTooLarge = errors.New("fat32: file too large")

// ReadFile reads a whole file of at most limit bytes.
func (f *FS) ReadFile(p string, limit int64) ([]byte, error) {
	e, err := f.lookup(p)
	if err != nil {
		return nil, err
	}
	if e.Size > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, more than the %d this file may have", ErrTooLarge, p, e.Size, limit)
	}
	r, n, err := f.Open(p)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("fat32: %s: %w", p, err)
	}
	return b, nil
}

type fileReader struct {
	f     *FS
	chain []uint32
	size  int64
	pos   int64
}

func (r *fileReader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	cs := r.f.ClusterSize()
	ci := r.pos / cs
	in := r.pos % cs
	// Merge contiguous clusters into one read.
	run := int64(1)
	for int(ci+run) < len(r.chain) && r.chain[ci+run] == r.chain[ci]+uint32(run) && run*cs-in < int64(len(p)) {
		run++
	}
	n := run*cs - in
	if n > int64(len(p)) {
		n = int64(len(p))
	}
	if n > r.size-r.pos {
		n = r.size - r.pos
	}
	m, err := r.f.dev.ReadAt(p[:n], r.f.clusterOff(r.chain[ci])+in)
	r.pos += int64(m)
	if err == io.EOF && int64(m) == n {
		err = nil
	}
	return m, err
}

// Walk calls fn for every file and directory below the root, depth first, with
// slash-separated paths. Every folder is visited once (Open refused any other shape).
func (f *FS) Walk(fn func(p string, e Entry) error) error {
	return f.walk("", f.rootCluster, 0, fn)
}

func (f *FS) walk(dir string, cluster uint32, depth int, fn func(string, Entry) error) error {
	if depth > maxDepth {
		return errors.New("fat32: directories nested too deeply")
	}
	for _, e := range f.dirs[cluster] {
		if e.label {
			continue
		}
		p := joinPath(dir, e.Name)
		if err := fn(p, e.Entry); err != nil {
			return err
		}
		if e.IsDir {
			if err := f.walk(p, e.Cluster, depth+1, fn); err != nil {
				return err
			}
		}
	}
	return nil
}
