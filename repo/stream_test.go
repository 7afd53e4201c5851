package repo

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var (
	_ Streamer    = (*Folder)(nil)
	_ LocalReader = (*Folder)(nil)
)

// sealStream writes what Open reads back, whatever the piece size.
func TestSealStream(t *testing.T) {
	k := NewRandomKey()
	for _, piece := range []int{1, 1000, sealPiece} {
		for _, n := range []int{0, 1, piece - 1, piece, piece + 1, 3*piece + 7} {
			if n < 0 {
				continue
			}
			plain := randomBytes(n+piece, n)
			var out bytes.Buffer
			writes := 0
			err := k.sealStream(plain, make([]byte, piece), func(b []byte) error {
				if len(b) > max(piece, ivSize, macSize) {
					return fmt.Errorf("a piece of %d bytes", len(b))
				}
				writes++
				out.Write(b)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.Len() != n+Overhead {
				t.Fatalf("piece %d, %d bytes: sealed %d bytes", piece, n, out.Len())
			}
			got, err := k.Open(nil, out.Bytes())
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("piece %d, %d bytes: %v", piece, n, err)
			}
		}
	}
	// a write error stops it
	stop := errors.New("stop")
	if err := k.sealStream(make([]byte, 10), make([]byte, 4), func([]byte) error { return stop }); err != stop {
		t.Fatalf("got %v", err)
	}
}

// failingStreamer is a Folder whose streamed files fail: Commit after the
// first commits, or Write after the first writes.
type failingStreamer struct {
	*Folder
	commits, writes int64
	c, w            atomic.Int64
}

func (f *failingStreamer) CreateTemp(ctx context.Context, t FileType) (TempFile, error) {
	tf, err := f.Folder.CreateTemp(ctx, t)
	if err != nil {
		return nil, err
	}
	return &failingTemp{TempFile: tf, f: f}, nil
}

type failingTemp struct {
	TempFile
	f *failingStreamer
}

func (t *failingTemp) Write(p []byte) (int, error) {
	if t.f.w.Add(1) > t.f.writes {
		return 0, errInjected
	}
	return t.TempFile.Write(p)
}

func (t *failingTemp) Commit(ctx context.Context, h Handle) error {
	if t.f.c.Add(1) > t.f.commits {
		t.TempFile.Abort()
		return errInjected
	}
	return t.TempFile.Commit(ctx, h)
}

// tempFiles lists the temporary files left in a repository folder.
func tempFiles(t *testing.T, dir string) []string {
	var left []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), "-tmp-") {
			left = append(left, p)
		}
		return nil
	})
	return left
}

// A backup whose streamed packs fail to be written or committed at any point
// leaves no temporary file and a repository that checks clean and restores its
// earlier snapshot; the next backup works and restic agrees.
func TestStreamedPackFailures(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 7)
	r := openTestRepo(t, NewFolder(dir))
	r.PackSize = 256 << 10
	first := backup(t, r, src, time.Now())
	want := snapshotTree(t, src)
	failures := 0
	for n := int64(0); n < 8; n++ {
		mutate(t, src, int(n)+1)
		if err := os.WriteFile(filepath.Join(src, "fresh"), randomBytes(int(n)+50, 900<<10), 0o644); err != nil {
			t.Fatal(err)
		}
		fs := &failingStreamer{Folder: NewFolder(dir), commits: n / 2, writes: 1 << 40}
		if n%2 == 1 {
			fs.commits, fs.writes = 1<<40, n*3
		}
		r := openTestRepo(t, fs)
		r.PackSize = 256 << 10
		_, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "test"})
		if err == nil {
			continue
		}
		if !errors.Is(err, errInjected) {
			t.Fatalf("n=%d: unexpected error %v", n, err)
		}
		failures++
		if left := tempFiles(t, dir); len(left) > 0 {
			t.Fatalf("n=%d: temporary files left: %v", n, left)
		}
		r2 := openTestRepo(t, NewFolder(dir))
		mustCheck(t, r2)
		out := filepath.Join(t.TempDir(), "out")
		restoreWith(t, r2, first.ID.String(), out)
		compareTrees(t, want, snapshotTree(t, restoredPath(out, src)))
	}
	if failures < 6 {
		t.Errorf("only %d backups were interrupted", failures)
	}
	r = openTestRepo(t, NewFolder(dir))
	sn := backup(t, r, src, time.Now())
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	out := filepath.Join(t.TempDir(), "out-final")
	restoreWith(t, r, sn.ID.String(), out)
	compareTrees(t, snapshotTree(t, src), snapshotTree(t, restoredPath(out, src)))
	resticCmd(t, dir, "check", "--read-data")
}

// wholeReader hides the folder's ReadAt: check then reads whole packs.
type wholeReader struct{ Storage }

func (w wholeReader) Close() error { return closeStorage(w.Storage) }

// check --read-data reading a pack blob by blob reports what reading it whole
// does, for damage anywhere in the pack.
func TestCheckStreamedSameAsWhole(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	// compressible and incompressible blobs in the same packs
	for i := 0; i < 6; i++ {
		b := randomBytes(i, 200<<10)
		if i%2 == 0 {
			b = bytes.Repeat([]byte(fmt.Sprintf("line %d of a text file\n", i)), 10000)
		}
		os.WriteFile(filepath.Join(src, fmt.Sprint(i)), b, 0o644)
	}
	r := openTestRepo(t, NewFolder(dir))
	r.PackSize = 600 << 10
	backup(t, r, src, time.Now())
	var packs []string
	filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			packs = append(packs, p)
		}
		return nil
	})
	if len(packs) < 2 {
		t.Fatalf("%d packs", len(packs))
	}
	errorsOf := func(st Storage) string {
		r := openTestRepo(t, st)
		res, err := r.Check(ctx, CheckOptions{ReadData: true})
		if err != nil {
			t.Fatal(err)
		}
		r.Close() // Windows: the packs are rewritten next
		var s []string
		for _, e := range res.Errors {
			s = append(s, e.Error())
		}
		return strings.Join(s, "\n")
	}
	damage := map[string]func([]byte) []byte{
		"a byte of the first blob": func(b []byte) []byte { b[20] ^= 1; return b },
		"a byte of a middle blob":  func(b []byte) []byte { b[len(b)/2] ^= 0x80; return b },
		"a byte of the header":     func(b []byte) []byte { b[len(b)-10] ^= 4; return b },
		"the header length":        func(b []byte) []byte { b[len(b)-1] ^= 0x40; return b },
		"cut short":                func(b []byte) []byte { return b[:len(b)-100] },
		"bytes added in front":     func(b []byte) []byte { return append([]byte("garbage"), b...) },
		"emptied":                  func(b []byte) []byte { return b[:0] },
	}
	for what, f := range damage {
		for _, p := range packs {
			orig, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			os.Chmod(p, 0o600)
			os.WriteFile(p, f(append([]byte(nil), orig...)), 0o600)
			streamed, whole := errorsOf(NewFolder(dir)), errorsOf(wholeReader{NewFolder(dir)})
			if streamed == "" || streamed != whole {
				t.Errorf("%s of %s:\nblob by blob:\n%s\nwhole:\n%s", what, filepath.Base(p), streamed, whole)
			}
			os.WriteFile(p, orig, 0o600)
		}
	}
	if s := errorsOf(NewFolder(dir)); s != "" {
		t.Fatalf("undamaged: %s", s)
	}
}

// A file whose blobs are incompressible and compressible in turn restores
// intact: an uncompressed blob is decrypted in its read buffer, which must not
// be taken as the output buffer of the next (compressed, smaller) blob.
func TestRestoreMixedBlobs(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	r := openTestRepo(t, NewFolder(dir))
	blobs := [][]byte{
		randomBytes(1, 1<<20),
		bytes.Repeat([]byte("a compressible line of text\n"), 20000),
		randomBytes(2, 900<<10),
		bytes.Repeat([]byte("another line, also compressible\n"), 9000),
		// larger than a restore worker's buffer: read into memory mapped for them alone,
		// one stored as it is (decrypted there), one compressed (decompressed elsewhere)
		randomBytes(3, 3<<20),
		append(randomBytes(4, 3<<20), make([]byte, 1<<20)...),
	}
	r.StartSaving(ctx, 1)
	file := make([][]byte, 4*blobsPerSegment)
	for i := range file {
		file[i] = blobs[i%len(blobs)]
	}
	content, data := saveContent(t, r, file)
	now := time.Now()
	tree := &Tree{Nodes: []*Node{{Name: "mixed", Type: "file", Mode: 0o644, ModTime: now,
		Size: uint64(len(data)), Content: content}}}
	root, err := r.SaveTree(tree)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.SaveSnapshot(ctx, &Snapshot{Time: now, Tree: &root, Paths: []string{"/mixed"}, Hostname: "test"}); err != nil {
		t.Fatal(err)
	}
	r = openTestRepo(t, NewFolder(dir))
	var compressed, plain, bigCompressed, bigPlain int
	r.Index().Each(func(pb PackedBlob) {
		big := pb.Length > keepScratch
		if pb.Type == DataBlob && pb.UncompressedLength != 0 {
			compressed++
			if big {
				bigCompressed++
			}
		} else if pb.Type == DataBlob {
			plain++
			if big {
				bigPlain++
			}
		}
	})
	if compressed != 3 || plain != 3 || bigCompressed != 1 || bigPlain != 1 {
		t.Fatalf("%d compressed and %d uncompressed blobs (%d and %d stored larger than %d bytes), want 3 of each (1 and 1)",
			compressed, plain, bigCompressed, bigPlain, keepScratch)
	}
	sn, err := r.FindSnapshot(ctx, "latest")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := r.Restore(ctx, sn, RestoreOptions{Target: out}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "mixed"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("restored file differs")
	}
}

// rewindCounter is a Folder whose temporary files count their rewinds.
type rewindCounter struct {
	*Folder
	rewinds, reserves atomic.Int64
}

func (f *rewindCounter) CreateTemp(ctx context.Context, t FileType) (TempFile, error) {
	tf, err := f.Folder.CreateTemp(ctx, t)
	if err != nil {
		return nil, err
	}
	return &countedTemp{TempFile: tf, f: f}, nil
}

type countedTemp struct {
	TempFile
	f *rewindCounter
}

func (c *countedTemp) Rewind(off int64) error {
	c.f.rewinds.Add(1)
	return c.TempFile.(Rewinder).Rewind(off)
}

// Reserve passes the reservation on: the blobs rewound are rewound in reserved
// space, as in a backup into a folder.
func (c *countedTemp) Reserve(n int64) {
	if rs, ok := c.TempFile.(Reserver); ok {
		c.f.reserves.Add(1)
		rs.Reserve(n)
	}
}

// Blobs are compressed straight into a streamed pack; one that does not shrink
// (a tiny random one, or a large one whose samples compress and the rest does
// not) is rewound and stored as it is. A large blob whose samples do not shrink
// is stored as it is without compressing it, also when its start compresses
// (a photo's header), and so is a smaller one whose bytes look random. Hex
// digits (no matches, 4 bits per byte) are compressed. travelkit and restic
// read them all back.
func TestCompressedIntoPack(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	st := &rewindCounter{Folder: NewFolder(dir)}
	r := openTestRepo(t, st)
	r.PackSize = 3 << 20
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog, "), 30000)
	mixed := randomBytes(7, 4<<20)
	for _, off := range []int{len(mixed) / 4, len(mixed)/2 - 8<<10, len(mixed) - 16<<10} {
		clear(mixed[off : off+16<<10]) // the samples compress, the blob does not
	}
	photo := randomBytes(10, 1<<20)
	clear(photo[:12<<10]) // a header that compresses, then data that does not
	blobs := []struct {
		name       string
		data       []byte
		compressed bool
	}{
		{"text", text, true},
		{"small random", randomBytes(8, 100<<10), false},
		{"short random", randomBytes(11, 6000), false},
		{"tiny random", randomBytes(12, 300), false},
		{"hex", []byte(hex.EncodeToString(randomBytes(13, 50<<10))), true},
		{"mixed", mixed, false},
		{"photo", photo, false},
		{"large random", randomBytes(9, 3<<20), false},
		{"short text", text[:5000], true},
	}
	r.StartSaving(ctx, 1)
	var sc BlobScratch
	for _, b := range blobs {
		if _, err := r.SaveBlob(DataBlob, Hash(b.data), b.data, &sc); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := st.rewinds.Load(); n != 2 {
		t.Fatalf("%d rewinds, want 2 (tiny random, mixed)", n)
	}
	if st.reserves.Load() == 0 {
		t.Fatal("no pack was given its size before its writes (Reserve)")
	}
	r = openTestRepo(t, NewFolder(dir))
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		pb, ok := r.idx.Lookup(BlobHandle{ID: Hash(b.data), Type: DataBlob})
		if !ok {
			t.Fatalf("%s: not in the index", b.name)
		}
		if got := pb.UncompressedLength != 0; got != b.compressed {
			t.Errorf("%s: compressed %v, want %v", b.name, got, b.compressed)
		}
		got, err := r.LoadBlob(ctx, DataBlob, Hash(b.data), nil)
		if err != nil || !bytes.Equal(got, b.data) {
			t.Fatalf("%s: read back: %v", b.name, err)
		}
	}
	mustCheck(t, r)
	resticCmd(t, dir, "check", "--read-data")
}
