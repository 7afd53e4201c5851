package repo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/restic/chunker"

	"travelkit/internal/killpoint"
)

// Config is the repository's config file.
type Config struct {
	Version           uint   `json:"version"`
	ID                string `json:"id"`
	ChunkerPolynomial Pol    `json:"chunker_polynomial"`
}

// Pol is a chunker polynomial, stored as a hex string.
type Pol chunker.Pol

// MarshalJSON writes the polynomial as hex.
func (p Pol) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatUint(uint64(p), 16) + `"`), nil
}

// UnmarshalJSON reads the hex polynomial.
func (p *Pol) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return fmt.Errorf("invalid chunker polynomial %q", s)
	}
	*p = Pol(v)
	return nil
}

// Compression modes for new blobs and files.
type Compression int

const (
	// CompressionAuto compresses with zstd and keeps what does not shrink uncompressed.
	CompressionAuto Compression = iota
	// CompressionOff stores everything uncompressed.
	CompressionOff
)

// Repository is an open restic repository.
type Repository struct {
	st      Storage
	key     *Key
	keyName string
	cfg     Config

	Compression Compression
	// PackSize is the target size of new pack files.
	PackSize int

	idx       *Index
	idxMu     sync.Mutex
	idxLoaded atomic.Bool // LoadIndex ran (or the repository is new)
	// idxForBackup: the index is loaded for a backup (IndexForBackup)
	idxForBackup atomic.Bool
	saver        *blobSaver
	// lastSaver keeps the statistics of the last Flush
	lastSaver *blobSaver

	encOnce sync.Once
	enc     *zstd.Encoder
	decOnce sync.Once
	dec     *zstd.Decoder
}

// DefaultPackSize is the pack size target of current restic.
const DefaultPackSize = 16 << 20

// ErrNoRepository means the storage holds no repository config.
var ErrNoRepository = errors.New("no repository found (config file missing)")

// Init creates a new repository (format version 2) on st with password.
func Init(ctx context.Context, st Storage, password []byte) (*Repository, error) {
	return initRepo(ctx, st, password, thisOwner())
}

// InitAnonymous is Init with a key file that names no machine and no user: for a
// repository made on one machine for someone else's backups, as a kit is made at a
// helpline, so that a kit opened by force does not name the machine that made it.
func InitAnonymous(ctx context.Context, st Storage, password []byte) (*Repository, error) {
	return initRepo(ctx, st, password, keyOwner{})
}

func initRepo(ctx context.Context, st Storage, password []byte, owner keyOwner) (*Repository, error) {
	if _, err := st.Stat(ctx, Handle{Type: ConfigFile}); err == nil {
		return nil, errors.New("a repository already exists there (config file present)")
	}
	if c, ok := st.(Creator); ok {
		if err := c.Create(ctx); err != nil {
			return nil, fmt.Errorf("failed to create repository: %w", err)
		}
	}
	pol, err := chunker.RandomPolynomial()
	if err != nil {
		return nil, err
	}
	idb := make([]byte, 32)
	if _, err := rand.Read(idb); err != nil {
		return nil, err
	}
	r := newRepository(st)
	r.cfg = Config{Version: 2, ID: hex.EncodeToString(idb), ChunkerPolynomial: Pol(pol)}
	r.key = NewRandomKey()
	kb, err := newKeyFileFor(r.key, password, DefaultKDF, owner)
	if err != nil {
		return nil, err
	}
	r.keyName = hashName(kb)
	if err := st.Save(ctx, Handle{KeyFile, r.keyName}, kb); err != nil {
		return nil, err
	}
	cb, err := json.Marshal(r.cfg)
	if err != nil {
		return nil, err
	}
	if err := st.Save(ctx, Handle{Type: ConfigFile}, r.key.Seal(nil, cb)); err != nil {
		return nil, err
	}
	r.idx = NewIndex()
	r.idxLoaded.Store(true)
	return r, nil
}

func newRepository(st Storage) *Repository {
	return &Repository{st: st, PackSize: DefaultPackSize}
}

// Open opens the repository on st with password. The index is not loaded:
// call LoadIndex.
func Open(ctx context.Context, st Storage, password []byte) (*Repository, error) {
	r := newRepository(st)
	cb, err := r.loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	r.key, r.keyName, err = loadKey(ctx, st, password)
	if err != nil {
		return nil, err
	}
	plain, err := r.key.Open(nil, cb)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := r.setConfig(plain); err != nil {
		return nil, err
	}
	return r, nil
}

// loadConfig reads the repository's encrypted config file: ErrNoRepository when there is none.
func (r *Repository) loadConfig(ctx context.Context) ([]byte, error) {
	cb, err := r.loadFile(ctx, Handle{Type: ConfigFile}, -1)
	if err != nil {
		if IsNotExist(err) {
			return nil, ErrNoRepository
		}
		return nil, fmt.Errorf("failed to read config: %w", err)
	}
	return cb, nil
}

// setConfig takes the repository's decrypted config: restic's version 1 or 2 and an
// irreducible chunker polynomial, else an error. The index starts empty.
func (r *Repository) setConfig(plain []byte) error {
	if err := json.Unmarshal(plain, &r.cfg); err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	if r.cfg.Version < 1 || r.cfg.Version > 2 {
		return fmt.Errorf("unsupported repository version %d", r.cfg.Version)
	}
	if r.cfg.ChunkerPolynomial == 0 || !chunker.Pol(r.cfg.ChunkerPolynomial).Irreducible() {
		return errors.New("config: invalid chunker polynomial")
	}
	r.idx = NewIndex()
	return nil
}

// ErrMasterKeyMismatch says a master key given to OpenWithKey does not open the
// repository's config (another repository's key, or damaged bytes).
var ErrMasterKeyMismatch = errors.New("the master key does not open this repository's config")

// OpenWithKey opens the repository on st with its master key itself (MasterKey's JSON,
// restic's masterkey object), without a key file's scrypt: the key must authenticate the
// config (its MAC verifies), else the error is ErrMasterKeyMismatch. keyName is the key
// file this key was first opened with (KeyName): it must still exist. The index is not
// loaded: call LoadIndex.
func OpenWithKey(ctx context.Context, st Storage, master []byte, keyName string) (*Repository, error) {
	k := &Key{}
	if err := k.UnmarshalJSON(master); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMasterKeyMismatch, err)
	}
	r := newRepository(st)
	cb, err := r.loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	plain, err := k.Open(nil, cb)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMasterKeyMismatch, err)
	}
	if _, err := st.Stat(ctx, Handle{Type: KeyFile, Name: keyName}); err != nil {
		return nil, fmt.Errorf("%w: its key file %s: %v", ErrMasterKeyMismatch, shortName(keyName), err)
	}
	r.key, r.keyName = k, keyName
	if err := r.setConfig(plain); err != nil {
		return nil, err
	}
	return r, nil
}

// MasterKey returns the repository's master key as restic's masterkey JSON object (what
// a key file holds encrypted), for OpenWithKey. It is the repository's whole secret:
// keep it only where the password that opens it is kept already.
func (r *Repository) MasterKey() ([]byte, error) { return r.key.MarshalJSON() }

// Config returns the repository config.
func (r *Repository) Config() Config { return r.cfg }

// Storage returns the storage the repository lives on.
func (r *Repository) Storage() Storage { return r.st }

// Index returns the in-memory index.
func (r *Repository) Index() *Index { return r.idx }

func (r *Repository) encoder() *zstd.Encoder {
	r.encOnce.Do(func() {
		var err error
		r.enc, err = zstd.NewWriter(nil, zstdOptions()...)
		if err != nil {
			panic(err)
		}
	})
	return r.enc
}

// decoder decompresses blobs into buffers whose capacity is the blob's declared length:
// a blob that decompresses to more stops there (a zstd bomb of a few KB would otherwise
// grow to what its frames say).
func (r *Repository) decoder() *zstd.Decoder {
	r.decOnce.Do(func() {
		var err error
		// one decoder per restore or check worker (GOMAXPROCS+1 of them),
		// so that none waits for another's
		r.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)+1),
			zstd.WithDecoderMaxMemory(maxTreeBlob), zstd.WithDecodeAllCapLimit(true))
		if err != nil {
			panic(err)
		}
	})
	return r.dec
}

// SaveUnpacked encrypts (and for v2, compresses) data and stores it as a file
// of type t named by its hash.
func (r *Repository) SaveUnpacked(ctx context.Context, t FileType, data []byte) (ID, error) {
	var buf []byte
	if r.cfg.Version >= 2 && t != ConfigFile {
		// compressed behind room for the IV and encrypted where it lies: no
		// second copy of a large index file
		buf = make([]byte, ivSize, ivSize+1+len(data)/2+4096+macSize)
		buf = r.encoder().EncodeAll(data, append(buf, 2))
		buf = r.key.sealInPlace(buf)
	} else {
		buf = r.key.Seal(nil, data)
	}
	id := Hash(buf)
	if err := r.st.Save(ctx, Handle{t, id.String()}, buf); err != nil {
		return ID{}, err
	}
	killpoint.Here("repo: " + string(t) + " saved")
	return id, nil
}

// LoadUnpacked loads, checks, decrypts and decompresses a file of type t, refusing one
// larger than its type allows (stored or decompressed).
func (r *Repository) LoadUnpacked(ctx context.Context, t FileType, id ID) ([]byte, error) {
	return r.loadUnpacked(ctx, t, id, -1)
}

// loadUnpacked is LoadUnpacked with the size List reported (or -1).
func (r *Repository) loadUnpacked(ctx context.Context, t FileType, id ID, size int64) ([]byte, error) {
	rd, done, err := r.openUnpackedFile(ctx, t, id, size)
	if err != nil {
		return nil, err
	}
	defer done()
	return readCapped(rd, maxPlain(t), fmt.Sprintf("%s/%s", t, id))
}

// openUnpackedFile loads and checks a file and returns a reader of its plaintext.
func (r *Repository) openUnpackedFile(ctx context.Context, t FileType, id ID, size int64) (io.Reader, func(), error) {
	buf, err := r.loadFile(ctx, Handle{t, id.String()}, size)
	if err != nil {
		return nil, nil, err
	}
	if Hash(buf) != id {
		return nil, nil, fmt.Errorf("%s/%s: content does not match its name (damaged file)", t, id)
	}
	return r.plainReader(buf)
}

// compressBlob returns the zstd form of data when that is smaller.
func (r *Repository) compressBlob(data []byte, dst []byte) ([]byte, bool) {
	size := func(sample []byte) int {
		c := r.encoder().EncodeAll(sample, dst[:0])
		if cap(c) > cap(dst) && cap(c) <= keepScratch {
			dst = c[:0]
		}
		return len(c)
	}
	if !r.worthCompressing(data, size) {
		return nil, false
	}
	c := r.encoder().EncodeAll(data, dst[:0])
	return c, shrinks(len(c), len(data))
}

// worthCompressing reports whether the blob should be compressed: a version 2
// repository with compression on, a blob of 64 bytes or more, and for one of
// sampledFrom bytes or more, samples that shrink (size returns a sample's
// compressed size); for a smaller one, samples that do not look random.
func (r *Repository) worthCompressing(data []byte, size func([]byte) int) bool {
	if r.cfg.Version < 2 || r.Compression == CompressionOff || len(data) < 64 {
		return false
	}
	if len(data) < sampledFrom {
		return !looksRandom(data)
	}
	return looksCompressible(data, size)
}

// sampledFrom is the size from which a blob is compressed only when samples
// of it shrink. Sampling smaller blobs too (from 32 or 64 KiB on, at the
// middle and the end) missed 1% of the savings on the 100,000-file home
// folder (documents whose start compresses), for little CPU.
const sampledFrom = 256 << 10

// shrinks reports whether a blob of n bytes compressed to c bytes is stored
// compressed: it must save more than 1/64 of its length.
func shrinks(c, n int) bool { return c < n-n/64 }

// looksCompressible compresses three 16 KiB samples of a large blob, at a
// quarter, the middle and the end; when none of them shrinks, the blob
// (photos, video, archives) is stored as it is without compressing all of it.
// No sample is taken at the start: a file's first bytes are often a header
// that compresses (a photo's EXIF data) in front of data that does not, and a
// blob compressed, sealed, hashed and written only to be rewound costs twice.
// On the 1 GiB home-folder set a sample at the start let 95 MiB of unique
// blobs be compressed for nothing, these samples 29 MiB (all of it blobs under
// 256 KiB), and 0.4 MiB of savings were missed (805.2 against 805.0 MiB
// stored); on the 100,000-file set nothing changed.
//
// Before zstd sees a sample, the byte entropy of entropySample bytes at the
// middle of each is measured: when all three are randomBits or more, the blob
// is taken as random without compressing anything. zstd gives up on random
// data quickly, but 48 KiB a blob still added up: the 1 GiB set's 563 random
// blobs of 256 KiB or more took 0.039 s of CPU in their samples, their
// histograms 0.005 s, and every one of them was stored as it is either way
// (as were the 100,000-file set's 138). What the histograms cannot see is
// random data that repeats itself within a sample; such a blob is now stored
// as it is.
func looksCompressible(data []byte, size func([]byte) int) bool {
	const n = 16 << 10
	offs := [...]int{len(data) / 4, len(data)/2 - n/2, len(data) - n}
	random := true
	for _, off := range offs {
		m := off + n/2 - entropySample/2
		if entropyBits(data[m:m+entropySample]) < randomBits {
			random = false
			break
		}
	}
	if random {
		return false
	}
	for _, off := range offs {
		if size(data[off:off+n]) < n-n/32 {
			return true
		}
	}
	return false
}

// Close releases what the storage keeps open (a folder's pack files kept for
// reading). On Windows an open file cannot be removed, nor the folder holding
// it. The repository stays usable.
func (r *Repository) Close() error {
	if c, ok := r.st.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
