package craftrepo

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/poly1305"
	"golang.org/x/crypto/scrypt"
)

// ID is the SHA-256 of a blob's plaintext or of a stored file.
type ID [32]byte

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// MarshalJSON writes the ID as hex.
func (id ID) MarshalJSON() ([]byte, error) { return json.Marshal(id.String()) }

// Blob types.
const (
	Data = 0
	Tree = 1
)

// keys is a master key: AES-256 for encryption, Poly1305-AES (K, R) for authentication.
type keys struct {
	enc  [32]byte
	macK [16]byte
	macR [16]byte
}

// Repo collects the files of a repository in memory until WriteDir.
type Repo struct {
	// KDF is used for the key file written by WriteDir (N, r, p of scrypt).
	KDF      [3]int
	password []byte
	master   keys
	polynom  uint64
	files    map[string][]byte

	pack  []byte
	hdr   []byte
	entry []indexBlob
	index []indexPack
	// Compress, when set (the default), stores new blobs zstd-compressed.
	Compress bool
}

type indexBlob struct {
	ID                 ID     `json:"id"`
	Type               string `json:"type"`
	Offset             uint32 `json:"offset"`
	Length             uint32 `json:"length"`
	UncompressedLength uint32 `json:"uncompressed_length,omitempty"`
}

type indexPack struct {
	ID    ID          `json:"id"`
	Blobs []indexBlob `json:"blobs"`
}

// New starts a repository whose key file opens with password.
func New(password string) *Repo {
	r := &Repo{KDF: [3]int{1024, 8, 1}, password: []byte(password), files: map[string][]byte{}, Compress: true}
	rand.Read(r.master.enc[:])
	rand.Read(r.master.macK[:])
	rand.Read(r.master.macR[:])
	// an irreducible polynomial of degree 53 (restic's test polynomial)
	r.polynom = 0x3DA3358B4DC173
	return r
}

func hash(b []byte) ID { return sha256.Sum256(b) }

// seal encrypts with k: IV || AES-256-CTR || Poly1305-AES(K, R, IV) over the ciphertext.
func (k *keys) seal(plain []byte) []byte {
	out := make([]byte, 16+len(plain)+16)
	iv := out[:16]
	rand.Read(iv)
	blk, _ := aes.NewCipher(k.enc[:])
	cipher.NewCTR(blk, iv).XORKeyStream(out[16:16+len(plain)], plain)
	var pk [32]byte
	copy(pk[:16], k.macR[:])
	mb, _ := aes.NewCipher(k.macK[:])
	mb.Encrypt(pk[16:], iv)
	var tag [16]byte
	poly1305.Sum(&tag, out[16:16+len(plain)], &pk)
	copy(out[16+len(plain):], tag[:])
	return out
}

// Seal encrypts plain with the repository's master key.
func (r *Repo) Seal(plain []byte) []byte { return r.master.seal(plain) }

var encoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))

// Zstd compresses b into one zstd frame.
func Zstd(b []byte) []byte { return encoder.EncodeAll(b, nil) }

// ZstdRLE returns one zstd frame, written by hand, that decompresses to n copies of c in
// RLE blocks of 128 KiB: 4 bytes per block, so 1 GiB takes 32 KiB. withSize declares n
// in the frame header; without it the decoder learns the size only by decoding.
func ZstdRLE(n int64, c byte, withSize bool) []byte {
	out := binary.LittleEndian.AppendUint32(nil, 0xFD2FB528)
	fhd := byte(0) // no content size, not single segment, no checksum, no dictionary
	if withSize {
		fhd = 3 << 6 // 8-byte content size
	}
	out = append(out, fhd, 7<<3) // window 2^(10+7) = 128 KiB
	if withSize {
		out = binary.LittleEndian.AppendUint64(out, uint64(n))
	}
	const block = 128 << 10
	for n > 0 || len(out) < 8 {
		sz := min(n, block)
		n -= sz
		h := uint32(sz)<<3 | 1<<1 // RLE
		if n == 0 {
			h |= 1 // last block
		}
		out = append(out, byte(h), byte(h>>8), byte(h>>16), c)
		if n == 0 {
			break
		}
	}
	return out
}

// AddBlob stores plain as a blob of type t (Data or Tree) in the current pack, compressed
// when r.Compress is set, and returns its ID.
func (r *Repo) AddBlob(t int, plain []byte) ID {
	id := hash(plain)
	if r.Compress {
		r.AddStoredBlob(t, id, r.Seal(Zstd(plain)), uint32(len(plain)))
	} else {
		r.AddStoredBlob(t, id, r.Seal(plain), 0)
	}
	return id
}

// AddStoredBlob puts stored (already encrypted) bytes into the current pack under id, with
// ulen as the declared uncompressed length (0: stored uncompressed). Nothing is checked.
func (r *Repo) AddStoredBlob(t int, id ID, stored []byte, ulen uint32) {
	typ := "data"
	if t == Tree {
		typ = "tree"
	}
	r.entry = append(r.entry, indexBlob{ID: id, Type: typ, Offset: uint32(len(r.pack)),
		Length: uint32(len(stored)), UncompressedLength: ulen})
	r.pack = append(r.pack, stored...)
	ht := byte(t)
	if ulen != 0 {
		r.hdr = append(r.hdr, ht+2)
		r.hdr = binary.LittleEndian.AppendUint32(r.hdr, uint32(len(stored)))
		r.hdr = binary.LittleEndian.AppendUint32(r.hdr, ulen)
	} else {
		r.hdr = append(r.hdr, ht)
		r.hdr = binary.LittleEndian.AppendUint32(r.hdr, uint32(len(stored)))
	}
	r.hdr = append(r.hdr, id[:]...)
}

// FlushPack writes the current pack (blobs, encrypted header, header length) and records
// its blobs for the index.
func (r *Repo) FlushPack() {
	if len(r.entry) == 0 {
		return
	}
	h := r.Seal(r.hdr)
	p := append(r.pack, h...)
	p = binary.LittleEndian.AppendUint32(p, uint32(len(h)))
	id := hash(p)
	r.files[filepath.Join("data", id.String()[:2], id.String())] = p
	r.index = append(r.index, indexPack{ID: id, Blobs: r.entry})
	r.pack, r.hdr, r.entry = nil, nil, nil
}

// PutUnpacked stores plain (compressed, as format 2 does, unless raw) and encrypted as a
// file of type typ ("snapshots", "index", "locks") named by its hash.
func (r *Repo) PutUnpacked(typ string, plain []byte, raw bool) ID {
	p := plain
	if !raw {
		p = append([]byte{2}, Zstd(plain)...)
	}
	return r.PutSealed(typ, p)
}

// PutSealed encrypts p as it is (the caller chose the version byte and compression) and
// stores it under typ.
func (r *Repo) PutSealed(typ string, p []byte) ID {
	b := r.Seal(p)
	id := hash(b)
	r.files[filepath.Join(typ, id.String())] = b
	return id
}

// Put stores b at path (relative to the repository) as it is.
func (r *Repo) Put(path string, b []byte) { r.files[filepath.FromSlash(path)] = b }

// WriteIndex flushes the current pack and writes one index file naming every pack so far.
func (r *Repo) WriteIndex() ID {
	r.FlushPack()
	b, err := json.Marshal(map[string]any{"packs": r.index})
	if err != nil {
		panic(err)
	}
	r.index = nil
	return r.PutUnpacked("index", b, false)
}

// Node is a tree entry as restic writes it.
type Node struct {
	Name       string    `json:"name"`
	Type       string    `json:"type"`
	Mode       uint32    `json:"mode,omitempty"`
	ModTime    time.Time `json:"mtime"`
	AccessTime time.Time `json:"atime"`
	ChangeTime time.Time `json:"ctime"`
	UID        uint32    `json:"uid"`
	GID        uint32    `json:"gid"`
	Inode      uint64    `json:"inode,omitempty"`
	DeviceID   uint64    `json:"device_id,omitempty"`
	Size       uint64    `json:"size,omitempty"`
	Links      uint64    `json:"links,omitempty"`
	LinkTarget string    `json:"linktarget,omitempty"`
	Device     uint64    `json:"device,omitempty"`
	Content    []ID      `json:"content"`
	Subtree    *ID       `json:"subtree,omitempty"`
}

// Go's os.FileMode bits, as restic stores them in "mode".
const (
	ModeDir     = 1 << 31
	ModeSymlink = 1 << 27
	ModeDevice  = 1 << 26
	ModePipe    = 1 << 25
	ModeSetuid  = 1 << 23
	ModeSetgid  = 1 << 22
	ModeCharDev = 1 << 21
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Dir is a folder entry.
func Dir(name string, subtree ID, perm uint32) Node {
	return Node{Name: name, Type: "dir", Mode: ModeDir | perm, ModTime: epoch, AccessTime: epoch, ChangeTime: epoch, Subtree: &subtree}
}

// File is a regular file entry of the given blobs and total size.
func File(name string, perm uint32, size uint64, content ...ID) Node {
	if content == nil {
		content = []ID{}
	}
	return Node{Name: name, Type: "file", Mode: perm, ModTime: epoch, AccessTime: epoch, ChangeTime: epoch, Size: size, Content: content}
}

// Symlink is a symbolic link entry.
func Symlink(name, target string) Node {
	return Node{Name: name, Type: "symlink", Mode: ModeSymlink | 0o777, ModTime: epoch, AccessTime: epoch, ChangeTime: epoch, LinkTarget: target}
}

// Tree stores a tree blob listing nodes (in the given order) and returns its ID.
func (r *Repo) Tree(nodes ...Node) ID {
	if nodes == nil {
		nodes = []Node{}
	}
	b, err := json.Marshal(map[string]any{"nodes": nodes})
	if err != nil {
		panic(err)
	}
	return r.AddBlob(Tree, append(b, '\n'))
}

// FileBlob stores content as one data blob and returns a file node for it.
func (r *Repo) FileBlob(name string, perm uint32, content []byte) Node {
	id := r.AddBlob(Data, content)
	return File(name, perm, uint64(len(content)), id)
}

// Snapshot writes a snapshot of tree, taken at t of paths.
func (r *Repo) Snapshot(tree ID, t time.Time, paths ...string) ID {
	b, err := json.Marshal(map[string]any{"time": t, "tree": tree, "paths": paths, "hostname": "crafted", "username": "crafted"})
	if err != nil {
		panic(err)
	}
	return r.PutUnpacked("snapshots", b, false)
}

// KeyFile returns a key file for the master key under password with scrypt N, r, p.
func (r *Repo) KeyFile(password []byte, n, rr, p int) []byte {
	salt := make([]byte, 64)
	rand.Read(salt)
	dk, err := scrypt.Key(password, salt, n, rr, p, 64)
	if err != nil {
		panic(err)
	}
	var uk keys
	copy(uk.enc[:], dk[:32])
	copy(uk.macK[:], dk[32:48])
	copy(uk.macR[:], dk[48:64])
	mk, _ := json.Marshal(map[string]any{
		"mac":     map[string][]byte{"k": r.master.macK[:], "r": r.master.macR[:]},
		"encrypt": r.master.enc[:],
	})
	b, _ := json.Marshal(map[string]any{"created": epoch, "username": "crafted", "hostname": "crafted",
		"kdf": "scrypt", "N": n, "r": rr, "p": p, "salt": salt, "data": uk.seal(mk)})
	return b
}

// AddKeyFile stores a key file (see KeyFile) and returns its name.
func (r *Repo) AddKeyFile(password []byte, n, rr, p int) string {
	b := r.KeyFile(password, n, rr, p)
	name := hash(b).String()
	r.files[filepath.Join("keys", name)] = b
	return name
}

// Config returns the config file's plaintext.
func (r *Repo) Config() []byte {
	id := make([]byte, 32)
	rand.Read(id)
	b, _ := json.Marshal(map[string]any{"version": 2, "id": hex.EncodeToString(id),
		"chunker_polynomial": fmt.Sprintf("%x", r.polynom)})
	return b
}

// WriteDir flushes the pack and writes the repository into dir (restic's local layout):
// config and a key file unless the caller put their own, and every file stored so far.
func (r *Repo) WriteDir(dir string) error {
	if len(r.entry) > 0 || len(r.index) > 0 {
		r.WriteIndex()
	}
	if _, ok := r.files["config"]; !ok {
		r.files["config"] = r.Seal(r.Config())
	}
	hasKey := false
	for p := range r.files {
		if filepath.Dir(p) == "keys" {
			hasKey = true
		}
	}
	if !hasKey {
		r.AddKeyFile(r.password, r.KDF[0], r.KDF[1], r.KDF[2])
	}
	for _, d := range []string{"keys", "locks", "snapshots", "index", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return err
		}
	}
	for p, b := range r.files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(full, b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
