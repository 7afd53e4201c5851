package luks

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"

	"travelkit/internal/durable"
)

// Container is an opened LUKS2 header pair on a device.
//
// A Container is safe for concurrent use. The header in use (binary header, metadata,
// the state of both copies) is replaced whole by the methods that change it, under mu,
// and never changed in place: a change clones the metadata, changes the clone, writes
// it, then swaps it in. Methods that only read take the header in use under mu (current)
// and work on it without the lock, so a key derivation does not hold up other callers,
// and a reader sees the header before a change or after it, never half of it. Methods
// that change the header hold mu from their checks to the swap, so two changes never
// interleave; they use the c.md and c.bin fields directly and must not call the
// exported readers, which take mu. The device, its size and the version are fixed by
// Open.
type Container struct {
	mu      sync.Mutex
	dev     io.ReaderAt
	size    int64
	bin     binHeader // of the copy in use (primary form)
	md      *metadata
	state   HeaderState
	secOff  int64 // offset of the secondary copy
	damaged bool  // a copy is invalid or out of date
	luks1   bool  // opened with OpenLUKS1: read-only
}

// KeyslotInfo describes one keyslot for dumps and managers.
type KeyslotInfo struct {
	ID         int
	Type       string
	KeySize    int // bytes
	Priority   int // 0 ignore, 1 normal, 2 prefer
	PBKDF      PBKDF
	Salt       []byte // of the KDF
	AFStripes  int    // anti-forensic splitter
	AFHash     string
	AreaOffset int64
	AreaSize   int64
	AreaCipher string // encryption of the key material
	AreaKeyLen int    // bytes
	Tokens     []int  // tokens naming this keyslot
	Digests    []int  // digests checking the key it holds
}

// Token is one LUKS2 token: its id, type, the keyslots it names and its whole JSON.
type Token struct {
	ID       int
	Type     string
	Keyslots []int
	JSON     json.RawMessage
}

// HeaderState reports the state of both header copies as found by Open.
type HeaderState struct {
	PrimaryErr   error  // nil when the primary copy is valid
	SecondaryErr error  // nil when the secondary copy is valid
	UsedCopy     string // "primary" or "secondary"
	InSync       bool   // both valid, same seqid and the same metadata
}

// Open reads and validates both header copies and uses the valid one with the higher seqid.
// The primary may be damaged: the secondary is then used, and Repair rewrites the primary.
func Open(dev io.ReaderAt, size int64) (*Container, error) {
	if size < binHeaderSize {
		return nil, fmt.Errorf("device is %d bytes, too small for a LUKS header: %w", size, ErrNotLUKS)
	}
	first := make([]byte, binHeaderSize)
	if _, err := dev.ReadAt(first, 0); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	if bytes.Equal(first[:6], magicPrimary) && first[6] == 0 && first[7] == 1 {
		return nil, &LUKS1Error{UUID: cstring(first[offUUID : offUUID+uuidLen])}
	}
	primary, perr := readHeaderCopy(dev, size, 0, false)
	var unsup *UnsupportedError
	if errors.As(perr, &unsup) {
		return nil, perr
	}
	// The secondary copy lives at the primary's hdr_size; when the primary is unreadable,
	// try every offset the format allows.
	var secondary *headerCopy
	var serr error
	var secOff int64
	if primary != nil {
		secOff = int64(primary.bin.hdrSize)
		secondary, serr = readHeaderCopy(dev, size, secOff, true)
	} else {
		serr = &CorruptError{Copy: "secondary", Reason: "not found at any allowed offset"}
		for _, off := range validHeaderSizes {
			if off+binHeaderSize > size {
				break
			}
			s, err := readHeaderCopy(dev, size, off, true)
			if err == nil {
				secondary, serr, secOff = s, nil, off
				break
			}
			if errors.As(err, &unsup) {
				return nil, err
			}
			var ce *CorruptError
			if errors.As(err, &ce) && !bytes.HasPrefix([]byte(ce.Reason), []byte("no LUKS2 magic")) {
				serr, secOff = err, off // a secondary that is there but damaged
			}
		}
	}
	if errors.As(serr, &unsup) {
		return nil, serr
	}
	c := &Container{dev: dev, size: size, secOff: secOff}
	c.state.PrimaryErr, c.state.SecondaryErr = perr, serr
	var use *headerCopy
	switch {
	case primary == nil && secondary == nil:
		if !bytes.Equal(first[:6], magicPrimary) {
			return nil, ErrNotLUKS
		}
		return nil, fmt.Errorf("%w: primary: %v; secondary: %v", ErrBothHeadersBad, perr, serr)
	case secondary == nil:
		use, c.state.UsedCopy = primary, "primary"
	case primary == nil:
		use, c.state.UsedCopy = secondary, "secondary"
	case secondary.bin.seqid > primary.bin.seqid:
		use, c.state.UsedCopy = secondary, "secondary"
	default:
		use, c.state.UsedCopy = primary, "primary"
		c.state.InSync = primary.bin.seqid == secondary.bin.seqid &&
			primary.bin.uuid == secondary.bin.uuid && bytes.Equal(primary.json, secondary.json)
	}
	c.damaged = !c.state.InSync
	c.bin = *use.bin
	c.bin.secondary = false
	c.md = use.md
	if c.secOff == 0 {
		c.secOff = int64(c.bin.hdrSize)
	}
	return c, nil
}

// Accessors -------------------------------------------------------------------------------

// current returns the header in use. Both parts are replaced whole by commit, never
// changed in place, so the caller reads them without the lock.
func (c *Container) current() (binHeader, *metadata) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bin, c.md
}

// meta returns the metadata in use (see current).
func (c *Container) meta() *metadata {
	_, md := c.current()
	return md
}

func (c *Container) UUID() string      { b, _ := c.current(); return b.uuid }
func (c *Container) Label() string     { b, _ := c.current(); return b.label }
func (c *Container) Subsystem() string { b, _ := c.current(); return b.subsystem }
func (c *Container) HeaderSize() int64 { b, _ := c.current(); return int64(b.hdrSize) }
func (c *Container) Seqid() uint64     { b, _ := c.current(); return b.seqid }

// State reports the state of both header copies.
func (c *Container) State() HeaderState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Device returns the device the container was opened on.
func (c *Container) Device() io.ReaderAt { return c.dev }

// DeviceSize returns the size the container was opened with.
func (c *Container) DeviceSize() int64 { return c.size }

func (c *Container) seg() *segment { _, s := c.meta().segment(); return s }

// SectorSize is the data segment's encryption sector size.
func (c *Container) SectorSize() int { return c.seg().SectorSize }

// Cipher is the data segment's cipher, e.g. "aes-xts-plain64".
func (c *Container) Cipher() string { return c.seg().Encryption }

// DataOffset is where the encrypted payload starts on the device.
func (c *Container) DataOffset() int64 { return int64(c.seg().Offset) }

// KeySize is the volume key size in bytes.
func (c *Container) KeySize() int { return c.meta().keySize() }

func (md *metadata) keySize() int {
	if _, d := md.segmentDigest(); d != nil {
		for _, k := range d.Keyslots {
			if ks := md.Keyslots[k]; ks != nil {
				return ks.KeySize
			}
		}
	}
	for _, ks := range md.Keyslots {
		return ks.KeySize
	}
	return 0
}

// PayloadSize is the size of the decrypted payload, or 0 when the device is too small.
func (c *Container) PayloadSize() int64 { return c.payloadSize(c.seg()) }

func (c *Container) payloadSize(s *segment) int64 {
	if s.Size != "dynamic" {
		n, _ := parseDecimal(s.Size)
		return n
	}
	n := c.size - int64(s.Offset)
	n -= n % int64(s.SectorSize)
	return max(n, 0)
}

// MetadataJSON returns the JSON metadata of the header copy in use.
func (c *Container) MetadataJSON() []byte {
	b, _ := c.meta().marshal() // validated metadata always marshals (clone relies on it too)
	return b
}

// Keyslots lists the keyslots in id order.
func (c *Container) Keyslots() []KeyslotInfo {
	md := c.meta()
	var out []KeyslotInfo
	toks := md.tokens()
	for _, id := range sortedIDs(md.Keyslots) {
		k := md.Keyslots[id]
		n, _ := strconv.Atoi(id)
		info := KeyslotInfo{ID: n, Type: k.Type, KeySize: k.KeySize, Priority: 1,
			AFStripes: k.AF.Stripes, AFHash: k.AF.Hash,
			AreaOffset: int64(k.Area.Offset), AreaSize: int64(k.Area.Size), AreaCipher: k.Area.Encryption, AreaKeyLen: k.Area.KeySize}
		info.Salt, _ = base64.StdEncoding.DecodeString(k.KDF.Salt) // validated by Open
		if k.Priority != nil {
			info.Priority = *k.Priority
		}
		info.PBKDF = PBKDF{Type: k.KDF.Type, Hash: k.KDF.Hash, MemoryKiB: uint32(k.KDF.Memory), Parallel: uint32(k.KDF.CPUs)}
		if k.KDF.Type == "pbkdf2" {
			info.PBKDF.Iterations = uint32(k.KDF.Iterations)
		} else {
			info.PBKDF.Iterations = uint32(k.KDF.Time)
		}
		for _, t := range toks {
			for _, ks := range t.Keyslots {
				if ks == n {
					info.Tokens = append(info.Tokens, t.ID)
				}
			}
		}
		for _, did := range sortedIDs(md.Digests) {
			for _, ks := range md.Digests[did].Keyslots {
				if ks == id {
					info.Digests = append(info.Digests, atoi(did))
				}
			}
		}
		out = append(out, info)
	}
	return out
}

// Tokens lists the tokens in id order.
func (c *Container) Tokens() []Token { return c.meta().tokens() }

func (md *metadata) tokens() []Token {
	var out []Token
	for _, id := range sortedIDs(md.Tokens) {
		raw := md.Tokens[id]
		var th tokenHead
		json.Unmarshal(raw, &th) // checked by checkToken when the header was read or changed
		n, _ := strconv.Atoi(id)
		t := Token{ID: n, Type: th.Type, JSON: append(json.RawMessage(nil), raw...)}
		for _, k := range th.Keyslots {
			if ks, err := strconv.Atoi(k); err == nil {
				t.Keyslots = append(t.Keyslots, ks)
			}
		}
		out = append(out, t)
	}
	return out
}

// Unlocking -------------------------------------------------------------------------------

// Unlock tries the passphrase on every keyslot in priority order (2 first, then 1;
// priority 0 slots are skipped) and returns the volume key and the keyslot that opened.
func (c *Container) Unlock(pass []byte) (*VolumeKey, int, error) {
	md := c.meta()
	return c.unlockIDs(md, pass, md.unlockOrder(), nil)
}

// unlockOrder lists the keyslots Unlock tries, in its order: priority 2 first, then 1;
// priority 0 slots are left out.
func (md *metadata) unlockOrder() []string {
	ids := sortedIDs(md.Keyslots)
	sort.SliceStable(ids, func(i, j int) bool {
		return md.priority(ids[i]) > md.priority(ids[j])
	})
	out := ids[:0]
	for _, id := range ids {
		if md.priority(id) != 0 {
			out = append(out, id)
		}
	}
	return out
}

// unlockIDs tries the keyslots ids in turn as Unlock does; lastErr is the error of a
// keyslot tried before them that could not be tried (not a wrong passphrase), if any.
func (c *Container) unlockIDs(md *metadata, pass []byte, ids []string, lastErr error) (*VolumeKey, int, error) {
	for _, id := range ids {
		vk, err := c.unlockSlot(md, pass, id)
		if err == nil {
			n, _ := strconv.Atoi(id)
			return vk, n, nil
		}
		if !errors.Is(err, ErrWrongPassphrase) {
			lastErr = err
		}
	}
	if lastErr != nil {
		// Not ErrWrongPassphrase: a keyslot that could not be tried (truncated device,
		// read error) may hold the right one.
		return nil, -1, fmt.Errorf("no keyslot opened, and a keyslot could not be tried: %w", lastErr)
	}
	return nil, -1, ErrWrongPassphrase
}

func (md *metadata) priority(id string) int {
	if p := md.Keyslots[id].Priority; p != nil {
		return *p
	}
	return 1
}

// UnlockSlot tries the passphrase on one keyslot (even one of priority 0).
func (c *Container) UnlockSlot(pass []byte, slot int) (*VolumeKey, error) {
	md := c.meta()
	id := strconv.Itoa(slot)
	if md.Keyslots[id] == nil {
		return nil, fmt.Errorf("keyslot %d: %w", slot, ErrNoSuchKeyslot)
	}
	return c.unlockSlot(md, pass, id)
}

// unlockSlot derives keyslot id's key from pass, without the lock (md is the header the
// caller took, which no change touches).
func (c *Container) unlockSlot(md *metadata, pass []byte, id string) (*VolumeKey, error) {
	k := md.Keyslots[id]
	d := md.keyslotDigest(id)
	if d == nil {
		return nil, fmt.Errorf("keyslot %s is not bound to the volume key digest", id)
	}
	vk, err := openKeyslot(c.dev, c.size, k, pass)
	if err != nil {
		return nil, fmt.Errorf("keyslot %s: %w", id, err)
	}
	ok, err := d.verify(vk)
	if err != nil {
		clear(vk)
		return nil, err
	}
	if !ok {
		clear(vk)
		return nil, ErrWrongPassphrase
	}
	did := idOf(d)
	return &VolumeKey{b: vk, checked: &did, sum: sha256.Sum256(vk)}, nil
}

// CheckVolumeKey verifies a volume key against the data segment's digest.
func (c *Container) CheckVolumeKey(vk *VolumeKey) error { return c.meta().checkVolumeKey(vk) }

func (md *metadata) checkVolumeKey(vk *VolumeKey) error {
	_, d := md.segmentDigest()
	if d == nil {
		return errors.New("no digest covers the data segment")
	}
	if n := md.keySize(); len(vk.b) != n {
		return fmt.Errorf("volume key is %d bytes, the volume uses %d: %w", len(vk.b), n, ErrWrongVolumeKey)
	}
	if vk.verifiedBy(d) {
		return nil
	}
	ok, err := d.verify(vk.b)
	if err != nil {
		return err
	}
	if !ok {
		return ErrWrongVolumeKey
	}
	return nil
}

// Writing headers -------------------------------------------------------------------------

func (c *Container) writer() (io.WriterAt, error) {
	if c.luks1 {
		return nil, &UnsupportedError{What: "changing a LUKS1 header (convert it first: cryptsetup convert --type luks2)"}
	}
	w, ok := c.dev.(io.WriterAt)
	if !ok {
		return nil, errors.New("the device was opened read-only")
	}
	return w, nil
}

// commit writes md as the new metadata to both copies with seqid+1, primary first. A crash
// between the two writes leaves one valid copy with the newer seqid, which Open prefers.
func (c *Container) commit(md *metadata) error {
	w, err := c.writer()
	if err != nil {
		return err
	}
	if err := md.validate(int64(c.bin.hdrSize), c.size); err != nil {
		return fmt.Errorf("refusing to write invalid metadata: %w", err)
	}
	js, err := md.marshal()
	if err != nil {
		return err
	}
	nb := c.bin
	nb.seqid++
	if nb.csumAlg == "" {
		nb.csumAlg = "sha256"
	}
	for _, sec := range []bool{false, true} {
		h := nb
		h.secondary = sec
		h.hdrOffset = 0
		if sec {
			h.hdrOffset = uint64(c.secOff)
		}
		if _, err := rand.Read(h.salt[:]); err != nil {
			return err
		}
		whole, err := encodeHeaderCopy(&h, js)
		if err != nil {
			return err
		}
		if _, err := w.WriteAt(whole, int64(h.hdrOffset)); err != nil {
			return fmt.Errorf("writing the %s header: %w", map[bool]string{false: "primary", true: "secondary"}[sec], err)
		}
	}
	if err := syncDevice(c.dev); err != nil {
		return err
	}
	c.bin = nb
	c.md = md
	c.state = HeaderState{UsedCopy: "primary", InSync: true}
	c.damaged = false
	return nil
}

// syncDevice makes writes durable (durable.Flush), naming what failed.
func syncDevice(d any) error {
	if err := durable.Flush(d); err != nil {
		return fmt.Errorf("flushing the device: %w", err)
	}
	return nil
}

// Repair rewrites both header copies from the one in use (the valid copy with the higher
// seqid), after Open found one damaged or out of date. It is a no-op when both agree.
func (c *Container) Repair() error {
	if c.luks1 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.damaged {
		return nil
	}
	return c.commit(c.md.clone())
}

// NeedsRepair reports whether a header copy is damaged or out of date.
func (c *Container) NeedsRepair() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.damaged
}

// Keyslots --------------------------------------------------------------------------------

// AddKeyslot adds a keyslot that opens the volume with pass. slot < 0 picks the first free
// slot. The volume key is checked against the digest first.
func (c *Container) AddKeyslot(vk *VolumeKey, pass []byte, slot int, p PBKDF) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.md.checkVolumeKey(vk); err != nil {
		return -1, err
	}
	w, err := c.writer()
	if err != nil {
		return -1, err
	}
	if len(pass) == 0 {
		return -1, errors.New("empty passphrase")
	}
	if slot >= MaxKeyslots {
		return -1, fmt.Errorf("keyslot %d: slots are 0..%d", slot, MaxKeyslots-1)
	}
	if slot < 0 {
		slot = -1
		for i := 0; i < MaxKeyslots; i++ {
			if c.md.Keyslots[strconv.Itoa(i)] == nil {
				slot = i
				break
			}
		}
		if slot < 0 {
			return -1, ErrNoFreeKeyslot
		}
	} else if c.md.Keyslots[strconv.Itoa(slot)] != nil {
		return -1, fmt.Errorf("keyslot %d: %w", slot, ErrKeyslotInUse)
	}
	if c.damaged {
		return -1, errors.New("a header copy is damaged or out of date: repair it first (travelkit luks repair)")
	}
	md := c.md.clone()
	id := strconv.Itoa(slot)
	areaSize := keyslotAreaSize(len(vk.b))
	off, err := md.allocArea(int64(c.bin.hdrSize), areaSize)
	if err != nil {
		return -1, err
	}
	ks, material, err := sealKeyslot(vk.b, pass, p, off, areaSize)
	if err != nil {
		return -1, err
	}
	if off+int64(len(material)) > c.size {
		return -1, fmt.Errorf("device too small for keyslot area at %d", off)
	}
	if _, err := w.WriteAt(material, off); err != nil {
		return -1, fmt.Errorf("writing keyslot %d area: %w", slot, err)
	}
	if err := syncDevice(c.dev); err != nil {
		return -1, err
	}
	md.Keyslots[id] = ks
	digID, _ := md.segmentDigest()
	md.Digests[digID].Keyslots = append(md.Digests[digID].Keyslots, id)
	if err := c.commit(md); err != nil {
		return -1, err
	}
	return slot, nil
}

// keyslotAreaSize is the area for a key of n bytes: n*4000 rounded up to 4096.
func keyslotAreaSize(n int) int64 {
	return (int64(n)*luksStripes + 4095) / 4096 * 4096
}

// allocArea finds the lowest free 4096-aligned space of the given size in the keyslots area.
func (md *metadata) allocArea(hdrSize, size int64) (int64, error) {
	lo, hi := 2*hdrSize, 2*hdrSize+int64(md.Config.KeyslotsSize)
	type span struct{ a, b int64 }
	var used []span
	for _, k := range md.Keyslots {
		used = append(used, span{int64(k.Area.Offset), int64(k.Area.Offset + k.Area.Size)})
	}
	sort.Slice(used, func(i, j int) bool { return used[i].a < used[j].a })
	pos := lo
	for _, u := range used {
		if u.a-pos >= size {
			return pos, nil
		}
		pos = max(pos, (u.b+4095)/4096*4096)
	}
	if hi-pos >= size {
		return pos, nil
	}
	return 0, ErrNoKeyslotSpace
}

// RemoveKeyslot removes a keyslot, drops it from every digest and token that names it,
// and overwrites its area with random bytes. The last keyslot is kept unless force is set.
func (c *Container) RemoveKeyslot(slot int, force bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := strconv.Itoa(slot)
	k := c.md.Keyslots[id]
	if k == nil {
		return fmt.Errorf("keyslot %d: %w", slot, ErrNoSuchKeyslot)
	}
	if len(c.md.Keyslots) == 1 && !force {
		return ErrLastKeyslot
	}
	if _, err := c.writer(); err != nil {
		return err
	}
	md := c.md.clone()
	dropKeyslot(md, id)
	if err := c.commit(md); err != nil {
		return err
	}
	return c.wipeArea(int64(k.Area.Offset), int64(k.Area.Size))
}

func dropKeyslot(md *metadata, id string) {
	delete(md.Keyslots, id)
	for _, d := range md.Digests {
		d.Keyslots = removeString(d.Keyslots, id)
	}
	for tid, raw := range md.Tokens {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			continue
		}
		var th tokenHead
		json.Unmarshal(raw, &th) // checked by checkToken; obj parsed just above
		kept := removeString(append([]string{}, th.Keyslots...), id)
		if len(kept) == len(th.Keyslots) {
			continue
		}
		ks, _ := json.Marshal(kept) // a []string and a map of raw JSON values always marshal
		obj["keyslots"] = ks
		nb, _ := json.Marshal(obj)
		md.Tokens[tid] = nb
	}
}

func (c *Container) wipeArea(off, size int64) error {
	w, err := c.writer()
	if err != nil {
		return err
	}
	off, size = max(off, 0), min(size, c.size-off)
	if size <= 0 {
		return nil
	}
	buf := make([]byte, size)
	if _, err := rand.Read(buf); err != nil {
		return err
	}
	if _, err := w.WriteAt(buf, off); err != nil {
		return fmt.Errorf("wiping keyslot area at %d: %w", off, err)
	}
	return syncDevice(c.dev)
}

// ChangePassphrase replaces the passphrase of a keyslot (slot < 0: the one oldPass opens).
// The new keyslot takes the same id; the volume key stays the same.
func (c *Container) ChangePassphrase(oldPass, newPass []byte, slot int, p PBKDF) (int, error) {
	var vk *VolumeKey
	var err error
	if slot < 0 {
		vk, slot, err = c.Unlock(oldPass)
	} else {
		vk, err = c.UnlockSlot(oldPass, slot)
	}
	if err != nil {
		return -1, err
	}
	defer vk.Wipe()
	return slot, c.ReplaceKeyslot(vk, slot, newPass, p)
}

// ReplaceKeyslot gives keyslot slot a new passphrase, with the volume key (from any
// keyslot, or a recovery): the new keyslot is written to a free area, the header switched
// to it in one commit (the slot keeps its id and priority), then the old area is wiped. An
// interruption leaves the slot opening with the old passphrase or the new one.
func (c *Container) ReplaceKeyslot(vk *VolumeKey, slot int, newPass []byte, p PBKDF) error {
	if err := c.CheckVolumeKey(vk); err != nil {
		return err
	}
	if len(newPass) == 0 {
		return errors.New("empty passphrase")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	w, err := c.writer()
	if err != nil {
		return err
	}
	id := strconv.Itoa(slot)
	oldKS := c.md.Keyslots[id]
	if oldKS == nil {
		// removed by another caller since it was checked, or never there
		return fmt.Errorf("keyslot %d: %w", slot, ErrNoSuchKeyslot)
	}
	md := c.md.clone()
	// Write the new keyslot to a free area first, then switch the header, then wipe the old area.
	areaSize := keyslotAreaSize(len(vk.b))
	off, err := md.allocArea(int64(c.bin.hdrSize), areaSize)
	if err != nil {
		return err
	}
	ks, material, err := sealKeyslot(vk.b, newPass, p, off, areaSize)
	if err != nil {
		return err
	}
	ks.Priority = oldKS.Priority
	if _, err := w.WriteAt(material, off); err != nil {
		return err
	}
	if err := syncDevice(c.dev); err != nil {
		return err
	}
	md.Keyslots[id] = ks
	if err := c.commit(md); err != nil {
		return err
	}
	return c.wipeArea(int64(oldKS.Area.Offset), int64(oldKS.Area.Size))
}

// SetPriority sets a keyslot's priority: 0 ignore (only tried when named), 1 normal, 2 prefer.
func (c *Container) SetPriority(slot, prio int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := strconv.Itoa(slot)
	if c.md.Keyslots[id] == nil {
		return fmt.Errorf("keyslot %d: %w", slot, ErrNoSuchKeyslot)
	}
	if prio < 0 || prio > 2 {
		return fmt.Errorf("priority %d is not 0, 1 or 2", prio)
	}
	md := c.md.clone()
	if prio == 1 {
		md.Keyslots[id].Priority = nil
	} else {
		md.Keyslots[id].Priority = &prio
	}
	return c.commit(md)
}

// Tokens ----------------------------------------------------------------------------------

// AddToken stores a JSON token (an object with "type" and "keyslots") under id, or the
// first free id when id < 0. Every keyslot it names must exist.
func (c *Container) AddToken(id int, token []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.writer(); err != nil {
		return -1, err
	}
	if id >= MaxTokens {
		return -1, fmt.Errorf("token %d: tokens are 0..%d", id, MaxTokens-1)
	}
	if len(token) > MaxTokenJSON {
		return -1, fmt.Errorf("token of %d bytes: no LUKS2 header holds more than %d", len(token), MaxTokenJSON)
	}
	if id < 0 {
		for i := 0; i < MaxTokens; i++ {
			if _, used := c.md.Tokens[strconv.Itoa(i)]; !used {
				id = i
				break
			}
		}
		if id < 0 {
			return -1, errors.New("no free token id")
		}
	} else if _, used := c.md.Tokens[strconv.Itoa(id)]; used {
		return -1, fmt.Errorf("token %d: %w", id, ErrTokenInUse)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, token); err != nil {
		return -1, fmt.Errorf("token is not valid JSON: %v", err)
	}
	if err := c.md.checkToken(compact.Bytes()); err != nil {
		return -1, fmt.Errorf("token: %v", err)
	}
	md := c.md.clone()
	md.Tokens[strconv.Itoa(id)] = compact.Bytes()
	if err := c.commit(md); err != nil {
		return -1, err
	}
	return id, nil
}

// RemoveToken deletes a token.
func (c *Container) RemoveToken(id int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.md.Tokens[strconv.Itoa(id)]; !ok {
		return fmt.Errorf("token %d: %w", id, ErrNoSuchToken)
	}
	md := c.md.clone()
	delete(md.Tokens, strconv.Itoa(id))
	return c.commit(md)
}

// Erase makes every keyslot unrecoverable, like cryptsetup luksErase: all keyslot areas are
// overwritten with random bytes and the keyslots are removed from the header. Without a
// copy of the volume key the data is then gone for good.
func (c *Container) Erase() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.writer(); err != nil {
		return err
	}
	md := c.md.clone()
	type ar struct{ off, size int64 }
	var areas []ar
	for id, k := range c.md.Keyslots {
		areas = append(areas, ar{int64(k.Area.Offset), int64(k.Area.Size)})
		dropKeyslot(md, id)
	}
	// Wipe first: even if the header write fails, the key material is gone.
	for _, a := range areas {
		if err := c.wipeArea(a.off, a.size); err != nil {
			return err
		}
	}
	return c.commit(md)
}
