package repo

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/restic/chunker"
)

// bigTaker is a source file that keeps the archiver's big buffer away from
// its reader: before every read of readFile's own steps it takes the
// buffer back out of the pool, and only the longer read ahead of growToBig
// (which runs while the reader waits for the buffer) puts it back. So every chunk that outgrows its chunk buffer finds the big buffer
// busy, as when the other reader's chunk is in it.
type bigTaker struct {
	sourceFile
	a     *archiver
	hold  *bigHold
	waits *int
}

// bigHold is the big buffer while the source files (bigTaker) keep it.
type bigHold struct {
	held    []byte
	holding bool
}

func (f *bigTaker) Read(p []byte) (int, error) {
	if len(p) > chunkMin+readStep { // no step of readFile's own reads is as long
		if f.hold.holding {
			*f.waits++
			f.a.bigBufs <- f.hold.held
			f.hold.held, f.hold.holding = nil, false
		}
	} else {
		select {
		case b := <-f.a.bigBufs:
			f.hold.held, f.hold.holding = b, true
		default:
		}
	}
	return f.sourceFile.Read(p)
}

// noStream hides the folder's CreateTemp: blobs are packed in memory, and a
// pack cannot be rewound.
type noStream struct{ Storage }

func (w noStream) Close() error { return closeStorage(w.Storage) }

// A reader whose chunk outgrows its chunk buffer while the big buffer is busy
// streams the chunk into its pack piece by piece (streamLong) when the
// storage can rewind a pack, and never waits for the buffer. Where it cannot,
// the reader waits, and hashes the chunk's start, reads the next piece and
// searches it for the cut meanwhile (growToBig). Either way the chunks are
// still cut where restic cuts them and named by their SHA-256, whether the
// cut falls in the first piece read on (at its first and last possible
// length, and inside), just past it, far past it, or the file ends in it.
// A changed file's chunks are likely stored already: its reader waits too.
func TestReadFileWhileBigBufferBusy(t *testing.T) {
	readWhileBigBufferBusy(t, true, false)
	readWhileBigBufferBusy(t, false, false)
	readWhileBigBufferBusy(t, false, true)
}

func readWhileBigBufferBusy(t *testing.T, stream, changed bool) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	if !stream && !changed {
		r = openTestRepo(t, noStream{NewFolder(dir)})
	}
	pol := chunker.Pol(r.cfg.ChunkerPolynomial)
	var p []byte
	for seed := uint64(0); ; seed++ {
		pr := rand.New(rand.NewPCG(seed, 17))
		p = make([]byte, 64)
		for i := range p {
			p[i] = byte(pr.Uint32())
		}
		if newCutter(pol).search(bytes.Repeat(p, 80), 65, 64*80) == 0 {
			break
		}
	}
	chunk := func(l int) []byte { // l bytes ending in a window that cuts
		return append(bytes.Repeat(p, l/64)[:l-64], make([]byte, 64)...)
	}
	const M = 1 << 20
	cases := []struct {
		name string
		lens []int // chunks cut by a zero window; the first waits for the big buffer
		tail int   // bytes of pattern after them (one last chunk, or none)
	}{
		{"cut at the first length read ahead", []int{2*M + 1, M}, 0},
		{"cut in the first window read ahead", []int{2*M + 64, M}, 0},
		{"cut inside what was read ahead", []int{3 * M, M}, 0},
		{"cut at the last length read ahead", []int{4*M - 64, M}, 0},
		{"cut just past it", []int{4 * M, M}, 0},
		{"cut far past it", []int{6 * M, chunkMax}, M},
		{"ends in it", nil, 2*M + M/2},
		{"ends where the chunk buffer does", nil, 2 * M},
	}
	orig := openFile
	defer func() { openFile = orig }()
	for _, tc := range cases {
		var data []byte
		for _, l := range tc.lens {
			data = append(data, chunk(l)...)
		}
		data = append(data, bytes.Repeat(p, tc.tail/64)...)
		want := resticSplit(t, pol, data)
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		a := &archiver{r: r, ctx: ctx, cut: newCutter(pol), saves: make(chan chunkJob, 1),
			smallBufs: make(chan []byte, 1), chunkBufs: make(chan []byte, 4), bigBufs: make(chan []byte, 1),
			readLabels: ctx, saveLabels: ctx}
		a.smallBufs <- nil
		a.bigBufs <- nil
		waits := 0
		hold := &bigHold{}
		openFile = func(p string) (sourceFile, error) {
			f, err := orig(p)
			if err != nil {
				return nil, err
			}
			return &bigTaker{sourceFile: f, a: a, hold: hold, waits: &waits}, nil
		}
		r.startSaving(ctx, 1, true)
		var work []byte
		var sc BlobScratch
		node := &Node{}
		err := a.readFile(fileJob{path: path, node: node, fut: &nodeFuture{done: make(chan struct{})}, changed: changed}, &work, &sc)
		// the same file again by another reader (its own pack): every
		// chunk is stored already; a streamed one is written and rewound,
		// and the pack made for it, empty, is not committed
		var work2 []byte
		var sc2 BlobScratch
		node2 := &Node{}
		if err == nil {
			err = a.readFile(fileJob{path: path, node: node2, fut: &nodeFuture{done: make(chan struct{})}, changed: changed}, &work2, &sc2)
		}
		if err == nil {
			err = r.Flush(ctx)
		}
		if err != nil {
			t.Fatalf("stream %v, %s: %v", stream, tc.name, err)
		}
		if !slices.Equal(node.Content, node2.Content) {
			t.Fatalf("stream %v, %s: the file read again has other chunks", stream, tc.name)
		}
		if res, err := openTestRepo(t, NewFolder(dir)).Check(ctx, CheckOptions{ReadData: true}); err != nil || !res.OK() || len(res.Orphaned) > 0 {
			t.Fatalf("stream %v, %s: check: %v %v, %d packs not in the index", stream, tc.name, err, res.Errors, len(res.Orphaned))
		}
		if !stream && waits == 0 {
			t.Errorf("stream %v, %s: the reader never waited for the big buffer", stream, tc.name)
		}
		if stream && waits > 0 {
			t.Errorf("stream %v, %s: the reader waited for the big buffer %d times instead of streaming the chunk", stream, tc.name, waits)
		}
		if len(node.Content) != len(want) {
			t.Fatalf("stream %v, %s: %d chunks, restic cuts %v", stream, tc.name, len(node.Content), want)
		}
		off := 0
		for i, l := range want {
			if node.Content[i] != Hash(data[off:off+l]) {
				t.Fatalf("stream %v, %s: chunk %d (%d bytes at %d) is not restic's (restic cuts %v)", stream, tc.name, i, l, off, want)
			}
			off += l
		}
		if node.Size != uint64(len(data)) {
			t.Errorf("stream %v, %s: size %d, want %d", stream, tc.name, node.Size, len(data))
		}
		for i, id := range node.Content {
			b, err := r.LoadBlob(ctx, DataBlob, id, nil)
			if err != nil {
				t.Fatalf("stream %v, %s: chunk %d: %v", stream, tc.name, i, err)
			}
			if Hash(b) != id {
				t.Fatalf("stream %v, %s: chunk %d stored with other content", stream, tc.name, i)
			}
		}
	}
}
