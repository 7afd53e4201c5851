package repo

import (
	"math/rand/v2"
	"testing"
)

// The compact index finds every blob it was given (first location wins for
// duplicates), nothing else, and keeps every entry for Each.
func TestIndexCompact(t *testing.T) {
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
	n := 0
	x.Each(func(PackedBlob) { n++ })
	if n != len(all)+1 || len(x.Packs()) != 4 {
		t.Fatalf("Each saw %d entries, %d packs", n, len(x.Packs()))
	}
	if NewIndex().Has(all[0].BlobHandle) {
		t.Fatal("empty index has a blob")
	}
}
