package repo

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"unsafe"
)

// knownSet holds the blobs a backup saved and already listed in an index file,
// in 12 bytes a blob (about 15-19 with the table's free slots) instead of an
// index entry's 48 plus its table slots: a backup never needs a saved blob's
// place again, only whether it is stored. A 1,000,000-file first backup keeps
// about 18 MB instead of 60 MB for its blobs.
//
// What is kept of a blob is not its ID but a tag: CBC-MAC with AES-128 under a
// key drawn at random when the set is made and never written anywhere, over the
// three blocks (type, first half of the ID, second half), a pseudorandom
// function of the whole handle. Of its 128 bits, 8 choose the part it is kept in
// and 96 are stored and compared. The set answers "known" for a blob that is not
// stored only if a lookup meets a stored tag of its part equal in those 96 bits:
// a chance of 2^-96 per comparison, under 2^-70 for a backup that makes 2^26 of
// them.
// Someone who plants files cannot aim at it: without the key, the tags of the
// files they choose are random to them. A plain prefix of the ID would not do:
// a blob ID is SHA-256 of content the attacker may choose, and 96 or even 128
// bits of it collide after 2^48 or 2^64 tries made offline (a birthday search),
// which would let a planted file stand for another and silently drop the
// other's content from the backup.
//
// The set is split in parts by the tag's top byte, each an open-addressing
// table of its own that grows by a quarter when it is 4/5 full: no moment holds
// two copies of the whole set. Tables of 32 KiB and more are mapped outside the
// collected heap where the system has it (as the index's pages). Not safe for
// concurrent use; tag is.
type knownSet struct {
	blk   cipher.Block
	first [3][16]byte // the encrypted type block, per type
	parts [knownParts]knownPart
	n     int
	heap  bool // no table is mapped
}

const knownParts = 256

// knownTag is the stored part of a tag; all zero is an empty slot.
type knownTag [3]uint32

type knownPart struct {
	tags []knownTag
	mem  []byte // the mapping behind tags, if any
	n    int
}

func newKnownSet() *knownSet {
	var key [16]byte
	if _, err := rand.Read(key[:]); err != nil {
		panic(err) // crypto/rand does not fail
	}
	blk, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err)
	}
	s := &knownSet{blk: blk}
	for t := range s.first {
		var b [16]byte
		b[0] = byte(t)
		blk.Encrypt(s.first[t][:], b[:])
	}
	return s
}

// tag returns a blob's tag: the part it is kept in and the stored 96 bits,
// whose top 24 bits also say where in the part its search starts (so a part
// grows without the IDs).
func (s *knownSet) tag(h BlobHandle) (part int, t knownTag) {
	var b [16]byte
	f := &s.first[h.Type&3]
	for i := range b {
		b[i] = f[i] ^ h.ID[i]
	}
	s.blk.Encrypt(b[:], b[:])
	for i := range b {
		b[i] ^= h.ID[16+i]
	}
	s.blk.Encrypt(b[:], b[:])
	t = knownTag{binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])}
	if t == (knownTag{}) {
		t[0] = 1 // zero marks an empty slot
	}
	return int(b[15]), t
}

// home is the slot where t's search starts in a table of n slots.
func (t knownTag) home(n int) int { return int(uint64(t[2]>>8) * uint64(n) >> 24) }

func (p *knownPart) has(t knownTag) bool {
	n := len(p.tags)
	if n == 0 {
		return false
	}
	for i := t.home(n); ; {
		switch p.tags[i] {
		case t:
			return true
		case knownTag{}:
			return false
		}
		if i++; i == n {
			i = 0
		}
	}
}

// put stores t unless it is there; it reports whether it was added.
func (p *knownPart) put(t knownTag) bool {
	n := len(p.tags)
	for i := t.home(n); ; {
		switch p.tags[i] {
		case t:
			return false
		case knownTag{}:
			p.tags[i] = t
			p.n++
			return true
		}
		if i++; i == n {
			i = 0
		}
	}
}

// Has reports whether the blob was added.
func (s *knownSet) Has(h BlobHandle) bool {
	if s.n == 0 {
		return false
	}
	part, t := s.tag(h)
	return s.parts[part].has(t)
}

// Add records a blob.
func (s *knownSet) Add(h BlobHandle) {
	part, t := s.tag(h)
	p := &s.parts[part]
	if 5*(p.n+1) > 4*len(p.tags) {
		p.grow(s.heap)
	}
	if p.put(t) {
		s.n++
	}
}

// grow makes the part's table a quarter larger (64 slots at first) and puts
// its tags in again.
func (p *knownPart) grow(heap bool) {
	n := max(64, len(p.tags)+len(p.tags)/4)
	old, oldMem := p.tags, p.mem
	p.mem = nil
	if !heap && n*knownTagSize >= knownMapMin {
		p.mem = mapIndexMem(n * knownTagSize)
	}
	if p.mem != nil {
		p.tags = unsafe.Slice((*knownTag)(unsafe.Pointer(&p.mem[0])), n)
	} else {
		p.tags = make([]knownTag, n)
	}
	p.n = 0
	for _, t := range old {
		if t != (knownTag{}) {
			p.put(t)
		}
	}
	if oldMem != nil {
		unmapIndexMem(oldMem)
	}
}

const knownTagSize = int(unsafe.Sizeof(knownTag{}))

// knownMapMin is the smallest table mapped: smaller ones (a part of a set
// under 700,000 blobs) are on the heap, without a system call each time they grow.
const knownMapMin = 32 << 10

// free hands the set's memory back; the set is empty after.
func (s *knownSet) free() {
	for i := range s.parts {
		p := &s.parts[i]
		if p.mem != nil {
			unmapIndexMem(p.mem)
		}
		*p = knownPart{}
	}
	s.n = 0
}

// bytes is the memory the set's tables take.
func (s *knownSet) bytes() int {
	n := 0
	for i := range s.parts {
		n += len(s.parts[i].tags) * knownTagSize
	}
	return n
}
