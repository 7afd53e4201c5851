package repo

import (
	"encoding/json"
	"testing"
	"time"

	"travelkit/internal/rsscheck"
)

var fuzzKey = func() *Key {
	b := make([]byte, 64)
	for i := range b {
		b[i] = byte(i + 1)
	}
	k, _ := keyFromBytes(b)
	return k
}()

func samplePack() []byte {
	p := &packer{}
	d := fuzzKey.Seal(nil, []byte("hello"))
	p.add(BlobHandle{ID: Hash([]byte("hello")), Type: DataBlob}, d, 0)
	p.add(BlobHandle{ID: Hash([]byte("tree")), Type: TreeBlob}, d, 5)
	return p.finish(fuzzKey)
}

// FuzzPackHeader feeds arbitrary pack files (sealed with a known key, so the
// parser is reached) and raw bytes to the header parser.
func FuzzPackHeader(f *testing.F) {
	f.Add(samplePack(), false)
	f.Add([]byte{1, 2, 3, 4}, false)
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13"), true)
	f.Fuzz(func(t *testing.T, data []byte, seal bool) {
		if seal {
			// treat data as a plaintext header and wrap it validly
			hdr := fuzzKey.Seal(nil, data)
			pack := append(make([]byte, 64), hdr...)
			n := len(hdr)
			pack = append(pack, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
			data = pack
		}
		var blobs []PackedBlob
		var err error
		rsscheck.AllocCap(t, 1<<20+32*uint64(len(data)), "parsing a pack header", func() {
			blobs, err = parsePackHeader(fuzzKey, ID{}, data, int64(len(data)))
		})
		if err != nil {
			return
		}
		for _, b := range blobs {
			if int64(b.Offset)+int64(b.Length) > int64(len(data)) {
				t.Fatalf("blob beyond the file: %+v", b)
			}
		}
	})
}

func FuzzIndex(f *testing.F) {
	b, _ := EncodeIndex([]PackedBlob{{BlobHandle: BlobHandle{Type: DataBlob}, Length: 40, UncompressedLength: 7}})
	f.Add(b)
	f.Add([]byte(`[{"id":"` + ID{}.String() + `","blobs":[]}]`))
	f.Add([]byte(`{"supersedes":[],"packs":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var blobs []PackedBlob
		var err error
		rsscheck.AllocCap(t, 4<<20+64*uint64(len(data)), "decoding an index", func() {
			blobs, _, err = DecodeIndex(data)
		})
		if err != nil {
			return
		}
		out, err := EncodeIndex(blobs)
		if err != nil {
			t.Fatal(err)
		}
		again, _, err := DecodeIndex(out)
		if err != nil || len(again) != len(blobs) {
			t.Fatalf("index does not round-trip: %v", err)
		}
	})
}

func FuzzSnapshot(f *testing.F) {
	id := Hash([]byte("x"))
	b, _ := json.Marshal(&Snapshot{Time: time.Unix(1, 2), Tree: &id, Paths: []string{"/a"}, Hostname: "h"})
	f.Add(b)
	f.Add([]byte(`{"tree":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s *Snapshot
		var err error
		rsscheck.AllocCap(t, 4<<20+64*uint64(len(data)), "decoding a snapshot", func() {
			s, err = DecodeSnapshot(data)
		})
		if err != nil {
			return
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzTree(f *testing.F) {
	id := Hash([]byte("x"))
	b, _ := EncodeTree(&Tree{Nodes: []*Node{
		{Name: "a\xffb", Type: NodeFile, Content: []ID{id}, ModTime: time.Unix(5, 6)},
		{Name: "d", Type: NodeDir, Subtree: &id},
		{Name: "l", Type: NodeSymlink, LinkTarget: "\xfe"},
	}})
	f.Add(b)
	f.Add([]byte(`{"nodes":[null]}`))
	f.Add([]byte(`{"nodes":[{"name":"\\x","type":"file"}]}`))
	f.Add([]byte(`{"nodes":[{"name":"a","type":"dir","subtree":"` + id.String() + `","size":01}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastDecode(t, data)
		var tr *Tree
		var err error
		rsscheck.AllocCap(t, 4<<20+64*uint64(len(data)), "decoding a tree", func() {
			tr, err = DecodeTree(data)
		})
		if err != nil {
			return
		}
		enc, err := EncodeTree(tr)
		if err != nil {
			return // e.g. times json cannot write
		}
		tr2, err := DecodeTree(enc)
		if err != nil {
			t.Fatalf("re-encoded tree does not parse: %v\n%s", err, enc)
		}
		for i := range tr.Nodes {
			if tr.Nodes[i].Name != tr2.Nodes[i].Name || tr.Nodes[i].LinkTarget != tr2.Nodes[i].LinkTarget {
				t.Fatalf("node %d changed: %q -> %q", i, tr.Nodes[i].Name, tr2.Nodes[i].Name)
			}
		}
	})
}

func FuzzKeyFile(f *testing.F) {
	old := DefaultKDF
	DefaultKDF = KDFParams{N: 16, R: 1, P: 1}
	kb, _ := newKeyFile(NewRandomKey(), []byte("pw"), DefaultKDF)
	DefaultKDF = old
	f.Add(kb)
	f.Add([]byte(`{"kdf":"scrypt","N":1073741824,"r":8,"p":1,"salt":"AAAA","data":"AAAA"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := parseKeyFile(data)
		if err != nil {
			return
		}
		if kf.N > 1<<12 || kf.R*kf.P > 16 {
			return // valid but slow; the bound itself is checked by parseKeyFile
		}
		_, _ = openKeyFile(data, []byte("pw"))
	})
}

// FuzzMasterKey: the master key object comes out of a key file (after its MAC) and, on a
// kit, out of the encrypted volume (drive.OpenKeptRepository hands it to OpenWithKey).
func FuzzMasterKey(f *testing.F) {
	b, err := NewRandomKey().MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"mac":{"k":"AAAAAAAAAAAAAAAAAAAAAA==","r":"AAAAAAAAAAAAAAAAAAAAAA=="},"encrypt":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var k Key
		if err := k.UnmarshalJSON(b); err != nil {
			return
		}
		again, err := k.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var k2 Key
		if err := k2.UnmarshalJSON(again); err != nil || k2.MACK != k.MACK || k2.MACR != k.MACR || k2.Encrypt != k.Encrypt {
			t.Fatalf("an accepted master key changed in a rewrite: %v", err)
		}
		sealed := k.Seal(nil, []byte("x"))
		if p, err := k2.Open(nil, sealed); err != nil || string(p) != "x" {
			t.Fatalf("an accepted key does not open what it sealed: %v", err)
		}
	})
}
