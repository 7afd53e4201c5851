package repo

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"
)

// The compact index finds every blob it was given (first location wins for
// duplicates), nothing else, and keeps every entry for Each.
func TestIndexCompact(t *testing.T) {
	// a million blobs are a million entries: each byte of one is a megabyte
	if n := unsafe.Sizeof(indexEntry{}); n != 48 {
		t.Fatalf("an index entry takes %d bytes, want 48", n)
	}
	r := rand.New(rand.NewPCG(5, 6))
	x := NewIndex()
	var all []PackedBlob
	packs := []ID{{1}, {2}, {3}}
	for i := 0; i < 20000; i++ {
		var pb PackedBlob
		for j := range pb.ID {
			pb.ID[j] = byte(r.Uint32())
		}
		pb.Type = DataBlob
		if i%7 == 0 {
			pb.Type = TreeBlob
		}
		pb.PackID, pb.Offset, pb.Length, pb.UncompressedLength = packs[i%3], uint32(i), uint32(100+i), uint32(i%2)
		x.Add(pb)
		all = append(all, pb)
	}
	// duplicates in another pack, and the same ID as the other type
	dup := all[10]
	dup.PackID, dup.Offset = ID{9}, 7
	x.Add(dup)
	other := all[11]
	other.Type = DataBlob
	if all[11].Type == DataBlob {
		other.Type = TreeBlob
	}
	if x.Has(other.BlobHandle) {
		t.Fatal("a blob of the other type is reported")
	}
	for _, pb := range all {
		got, ok := x.Lookup(pb.BlobHandle)
		if !ok || got != pb {
			t.Fatalf("lookup %v: %v %v", pb, got, ok)
		}
	}
	if x.Len() != len(all) {
		t.Fatalf("Len %d, want %d", x.Len(), len(all))
	}
	// every entry in the order it was added, across the index's pages
	n := 0
	x.Each(func(pb PackedBlob) {
		switch {
		case n < len(all) && pb != all[n]:
			t.Fatalf("entry %d is %+v, want %+v", n, pb, all[n])
		case n == len(all) && pb != dup:
			t.Fatalf("last entry is %+v, want the duplicate", pb)
		}
		n++
	})
	if n != len(all)+1 || len(x.Packs()) != 4 {
		t.Fatalf("Each saw %d entries, %d packs", n, len(x.Packs()))
	}
	// an ID stored as both types, the tree's probe passing the data entry:
	// the lookup must compare the type too
	const mask = 1023 // the smallest table
	var a, o ID
	for ok := false; !ok; {
		for j := range a {
			a[j] = byte(r.Uint32())
		}
		ok = slotOf(BlobHandle{ID: a, Type: TreeBlob}, mask) == (slotOf(BlobHandle{ID: a, Type: DataBlob}, mask)-1)&mask
	}
	for ok := false; !ok; {
		for j := range o {
			o[j] = byte(r.Uint32())
		}
		ok = slotOf(BlobHandle{ID: o, Type: DataBlob}, mask) == slotOf(BlobHandle{ID: a, Type: TreeBlob}, mask)
	}
	y := NewIndex()
	y.Add(PackedBlob{BlobHandle: BlobHandle{ID: o, Type: DataBlob}, PackID: packs[0], Offset: 1})
	y.Add(PackedBlob{BlobHandle: BlobHandle{ID: a, Type: DataBlob}, PackID: packs[0], Offset: 2})
	y.Add(PackedBlob{BlobHandle: BlobHandle{ID: a, Type: TreeBlob}, PackID: packs[0], Offset: 3})
	if got, ok := y.Lookup(BlobHandle{ID: a, Type: TreeBlob}); !ok || got.Type != TreeBlob || got.Offset != 3 || y.Len() != 3 {
		t.Fatalf("tree blob sharing a data blob's ID: got %+v %v, %d blobs", got, ok, y.Len())
	}
	if NewIndex().Has(all[0].BlobHandle) {
		t.Fatal("empty index has a blob")
	}
}

// On Unix the index keeps the entries and table a backup adds outside the
// collected heap, and hands that memory back once the index itself is
// collected; a loaded index stays on the heap.
func TestIndexOffHeap(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("the index is on the heap here")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := NewIndex()
	x.mapNewMem()
	r := rand.New(rand.NewPCG(7, 8))
	const n = 50000 // 2.4 MB of entries, 512 KB of table
	for i := 0; i < n; i++ {
		var pb PackedBlob
		for j := range pb.ID {
			pb.ID[j] = byte(r.Uint32())
		}
		pb.Type, pb.PackID = DataBlob, ID{byte(i % 5)}
		x.Add(pb)
	}
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Fatalf("the heap grew by %d bytes for an index of %d blobs", grew, n)
	}
	if x.Len() != n {
		t.Fatalf("Len %d", x.Len())
	}
	y := NewIndex() // as loaded from the repository: on the heap
	for i := 0; i < 5000; i++ {
		y.Add(PackedBlob{BlobHandle: BlobHandle{ID: ID{byte(i), byte(i >> 8)}, Type: DataBlob}})
	}
	if y.mem != nil || y.Len() != 5000 {
		t.Fatalf("an index not saving to is mapped (%d blobs)", y.Len())
	}
	m := x.mem
	if m == nil || len(m.pages) == 0 || m.slots == nil {
		t.Fatal("no mapped memory")
	}
	x = nil
	for i := 0; i < 100 && !m.freed.Load(); i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if !m.freed.Load() {
		t.Fatal("the index's mapped memory was not handed back after the index was collected")
	}
}
