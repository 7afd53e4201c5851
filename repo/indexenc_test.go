package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// referenceEncodeIndex is the encoding/json encoder the direct one replaced.
func referenceEncodeIndex(blobs []PackedBlob) ([]byte, error) {
	j := indexJSON{Packs: []indexPackJSON{}}
	pos := map[ID]int{}
	for _, b := range blobs {
		i, ok := pos[b.PackID]
		if !ok {
			i = len(j.Packs)
			pos[b.PackID] = i
			j.Packs = append(j.Packs, indexPackJSON{ID: b.PackID})
		}
		j.Packs[i].Blobs = append(j.Packs[i].Blobs, indexBlobJSON{ID: b.ID, Type: b.Type,
			Offset: b.Offset, Length: b.Length, UncompressedLength: b.UncompressedLength})
	}
	return json.Marshal(j)
}

func randomBlobs(r *rand.Rand, n int, packs []ID) []PackedBlob {
	out := make([]PackedBlob, n)
	for i := range out {
		pb := &out[i]
		for j := range pb.ID {
			pb.ID[j] = byte(r.Uint32())
		}
		pb.Type = DataBlob
		if r.IntN(5) == 0 {
			pb.Type = TreeBlob
		}
		pb.PackID = packs[r.IntN(len(packs))]
		pb.Offset, pb.Length = r.Uint32(), r.Uint32()
		if r.IntN(2) == 0 {
			pb.UncompressedLength = r.Uint32() >> r.IntN(32)
		}
	}
	return out
}

// The index file JSON written straight from blobs, and from runs of index
// entries, is byte for byte what encoding/json wrote.
func TestIndexEncodingMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 5))
	for _, n := range []int{0, 1, 2, 7, 300, 5000} {
		packs := make([]ID, 1+r.IntN(6))
		for i := range packs {
			packs[i][0], packs[i][31] = byte(i), byte(r.Uint32())
		}
		blobs := randomBlobs(r, n, packs)
		want, err := referenceEncodeIndex(blobs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeIndex(blobs)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d blobs: got %.300s (%v), want %.300s", n, got, err, want)
		}
		// the same blobs as runs of an index, one run per pack
		x := NewIndex()
		var runs []entryRun
		var byPack []PackedBlob
		for _, p := range packs {
			var of []PackedBlob
			for _, b := range blobs {
				if b.PackID == p {
					of = append(of, b)
				}
			}
			if len(of) > 0 {
				runs = append(runs, x.addRun(of))
				byPack = append(byPack, of...)
			}
		}
		want, _ = referenceEncodeIndex(byPack)
		got, err = appendRunsJSON([]byte("junk"), runs)
		if err != nil || !bytes.Equal(got[4:], want) {
			t.Fatalf("%d blobs as runs: got %.300s (%v), want %.300s", n, got, err, want)
		}
	}
	// the largest numbers fit the buffer made for them: it is never grown
	big := []PackedBlob{{BlobHandle: BlobHandle{Type: DataBlob}, Offset: ^uint32(0), Length: ^uint32(0),
		UncompressedLength: ^uint32(0)}, {BlobHandle: BlobHandle{Type: TreeBlob}, PackID: ID{1}, Offset: ^uint32(0),
		Length: ^uint32(0), UncompressedLength: ^uint32(0)}}
	if b, _ := EncodeIndex(big); len(b) > maxIndexJSON+2*maxPackJSON+2*maxBlobJSON-2 {
		t.Fatalf("%d bytes in a buffer of %d, bound %d", len(b), cap(b), maxIndexJSON+2*maxPackJSON+2*maxBlobJSON)
	}
	if _, err := EncodeIndex([]PackedBlob{{BlobHandle: BlobHandle{Type: BlobType(7)}}}); err == nil {
		t.Fatal("an invalid blob type was encoded")
	}
}

// Runs longer than an index file holds are split between files, and every
// entry is in exactly one file.
func TestWriteRunsSplits(t *testing.T) {
	rp, _ := initTestRepo(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	x := NewIndex()
	pa, pb, pc := ID{1}, ID{2}, ID{3}
	a := randomBlobs(r, maxIndexEntries+10, []ID{pa})
	b := randomBlobs(r, 5, []ID{pb})
	c := randomBlobs(r, maxIndexEntries-5, []ID{pc})
	runs := []entryRun{x.addRun(a), x.addRun(b), x.addRun(c)}
	before := len(rp.idx.Files())
	if err := rp.writeRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	files := rp.idx.Files()[before:]
	if len(files) != 3 {
		t.Fatalf("%d index files, want 3", len(files))
	}
	var got []PackedBlob
	for _, f := range files {
		plain, err := rp.LoadUnpacked(ctx, IndexFile, f)
		if err != nil {
			t.Fatal(err)
		}
		blobs, _, err := DecodeIndex(plain)
		if err != nil {
			t.Fatal(err)
		}
		if len(blobs) > maxIndexEntries {
			t.Fatalf("index file of %d blobs", len(blobs))
		}
		got = append(got, blobs...)
	}
	var want []PackedBlob
	x.Each(func(pb PackedBlob) { want = append(want, pb) })
	if len(got) != len(want) {
		t.Fatalf("%d blobs in the files, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("blob %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// takeRuns cuts runs after n blobs, splitting the run that straddles the cut,
// and leaves the runs it was given as they were.
func TestTakeRuns(t *testing.T) {
	x := NewIndex()
	runs := []entryRun{{x, 0, 3}, {x, 3, 10}, {x, 10, 12}}
	orig := append([]entryRun(nil), runs...)
	blobs := func(rs []entryRun) (n []int) {
		for _, r := range rs {
			for i := r.first; i < r.end; i++ {
				n = append(n, i)
			}
		}
		return n
	}
	for n := 1; n <= 13; n++ {
		head, tail := takeRuns(runs, n)
		h, tl := blobs(head), blobs(tail)
		if want := min(n, 12); len(h) != want || len(h)+len(tl) != 12 {
			t.Fatalf("n=%d: head %v tail %v", n, head, tail)
		}
		for i, b := range append(h, tl...) {
			if b != i {
				t.Fatalf("n=%d: blobs %v %v out of order", n, h, tl)
			}
		}
		for i := range runs {
			if runs[i] != orig[i] {
				t.Fatalf("n=%d: runs changed: %v", n, runs)
			}
		}
	}
}
