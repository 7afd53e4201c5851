package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"travelkit/internal/sha256x2"
)

// TestPackHashBesidePlaintext: a streamed pack's sealed bytes wait to be hashed
// beside the next blob's plaintext (sc.hash, longBlob.write), through rewinds
// (blobs that do not compress, long blobs found stored already), blobs larger
// than what may wait, and packs shipped in between. Every ID sc.hash gives is
// Hash's, every pack file is named by the SHA-256 of its bytes, and travelkit's
// and restic's checks read every blob back.
func TestPackHashBesidePlaintext(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	st := &rewindCounter{Folder: NewFolder(dir)}
	r := openTestRepo(t, st)
	r.PackSize = 5 << 20
	rnd := rand.New(rand.NewPCG(5, 6))
	text := bytes.Repeat([]byte("a line of a text file that compresses well; "), 80000)
	blob := func(i int) []byte {
		n := rnd.IntN(1 << 20)
		switch i % 7 {
		case 0:
			n = rnd.IntN(300) // tiny: stored as it is
		case 1:
			n = pendMax + rnd.IntN(1<<20) // more than may wait
		}
		if i%3 == 0 && n <= len(text) {
			return text[rnd.IntN(len(text)-n+1):][:n]
		}
		b := randomBytes(1000+i, n)
		if i%5 == 2 && n > 64<<10 {
			// the samples compress, the blob does not: compressInto rewinds
			for _, off := range []int{n / 4, n/2 - 8<<10, n - 16<<10} {
				clear(b[off : off+16<<10])
			}
		}
		return b
	}
	r.StartSaving(ctx, 1)
	sc := BlobScratch{hashes: true}
	var saved [][]byte
	waited := 0
	for i := range 60 {
		b := blob(i)
		if i%11 == 10 && len(saved) > 0 {
			b = saved[rnd.IntN(len(saved))] // stored already
		}
		if sc.pack != nil && len(sc.pack.pend) > 0 {
			waited++
		}
		id := sc.hash(b)
		if id != Hash(b) {
			t.Fatalf("blob %d (%d bytes): sc.hash %s, want %s", i, len(b), id, Hash(b))
		}
		if i%9 == 4 && len(b) > 0 {
			// a long blob, streamed in pieces; every other one is stored already
			if i%18 == 13 && len(saved) > 0 {
				b = saved[rnd.IntN(len(saved))]
			}
			lb, err := r.startLong(b[:len(b)/3], &sc)
			if err != nil || lb == nil {
				t.Fatalf("startLong: %v", err)
			}
			for p := b[len(b)/3:]; len(p) > 0; {
				n := min(len(p), 1+rnd.IntN(300<<10))
				if err := lb.write(p[:n]); err != nil {
					t.Fatal(err)
				}
				p = p[n:]
			}
			lid, _, err := lb.finish()
			if err != nil || lid != Hash(b) {
				t.Fatalf("long blob %d: %s, %v; want %s", i, lid, err, Hash(b))
			}
		} else if _, err := r.SaveBlob(DataBlob, id, b, &sc); err != nil {
			t.Fatal(err)
		}
		saved = append(saved, b)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if sha256x2.TwoLanes() && waited < 30 {
		t.Errorf("sealed bytes waited to be hashed before %d of 60 blobs, want most", waited)
	}
	if sv := r.lastSaver; sv != nil && sha256x2.TwoLanes() {
		t.Logf("pack bytes hashed beside a plaintext: %d of %d (%.1f%%)", sv.PairedBytes, sv.PairedBytes+sv.AloneBytes,
			100*float64(sv.PairedBytes)/float64(max(1, sv.PairedBytes+sv.AloneBytes)))
	}
	if st.rewinds.Load() == 0 {
		t.Error("no pack was rewound: the test lost its rewinds")
	}
	packs := 0
	filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != d.Name() {
			t.Errorf("pack %s holds bytes whose SHA-256 is %x", d.Name(), sum)
		}
		packs++
		return nil
	})
	if packs < 3 {
		t.Fatalf("%d packs, want several", packs)
	}
	r = openTestRepo(t, NewFolder(dir))
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	for i, b := range saved {
		got, err := r.LoadBlob(ctx, DataBlob, Hash(b), nil)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("blob %d: read back: %v", i, err)
		}
	}
	mustCheck(t, r)
	resticCmd(t, dir, "check", "--read-data")
}

// TestLazyMark: a mark (markHash) leaves the pack's pending bytes to be hashed beside
// the next plaintext, where the eager mark it replaced (markHash, then pinMark at
// once) hashed them alone; through the same writes, marks, rewinds and plaintexts
// both give the SHA-256 of the bytes kept, and the lazy one pairs more of them.
func TestLazyMark(t *testing.T) {
	var paired [2]int
	for i, eager := range []bool{true, false} {
		rnd := rand.New(rand.NewPCG(7, 8))
		sp := &streamPack{h: sha256x2.New(), hold: true}
		var kept []byte // the pack's bytes: sealed ones written and not rewound
		plain := sha256x2.New()
		for blob := range 200 {
			if n := rnd.IntN(64 << 10); n > 0 {
				// the next blob's plaintext, hashed beside what is pending (sc.hash)
				plain.Reset()
				sp.hashBeside(plain, randomBytes(blob, n))
			}
			sp.markHash()
			if eager {
				sp.pinMark()
			}
			start := len(kept)
			for range 1 + rnd.IntN(3) {
				b := randomBytes(10000+blob, rnd.IntN(48<<10))
				kept = append(kept, b...)
				sp.hashLater(b)
			}
			if blob%4 == 1 {
				// the blob did not shrink, or was stored already: rewound
				if err := sp.rewindHash(); err != nil {
					t.Fatal(err)
				}
				kept = kept[:start]
			} else {
				sp.marked = false
			}
		}
		sp.flushHash()
		if got, want := sp.h.Sum(nil), sha256.Sum256(kept); !bytes.Equal(got, want[:]) {
			t.Fatalf("eager mark %v: the pack's hash %x, want the SHA-256 of its bytes %x", eager, got, want)
		}
		if sp.paired+sp.alone < len(kept) {
			t.Fatalf("eager mark %v: %d bytes hashed beside a plaintext and %d alone, of %d kept", eager, sp.paired, sp.alone, len(kept))
		}
		paired[i] = sp.paired
	}
	t.Logf("pack bytes hashed beside a plaintext: %d with the lazy mark, %d with the eager one", paired[1], paired[0])
	if paired[1] <= paired[0] {
		t.Errorf("want more with the lazy mark")
	}
}

// TestPairedShare backs up $TK_PAIR_DIR (when set) into a new repository and reports
// the share of the readers' pack bytes hashed beside a plaintext (streamPack.paired).
// The eager mark's share, for comparison, is 29d8c80's parent's.
func TestPairedShare(t *testing.T) {
	src := os.Getenv("TK_PAIR_DIR")
	if src == "" {
		t.Skip("TK_PAIR_DIR names a folder to back up")
	}
	r, _ := initTestRepo(t)
	if _, err := r.Backup(context.Background(), BackupOptions{Paths: []string{src}, Host: "p"}); err != nil {
		t.Fatal(err)
	}
	sv := r.lastSaver
	t.Logf("pack bytes hashed beside a plaintext: %d of %d (%.1f%%); SHA-NI two lanes: %v", sv.PairedBytes, sv.PairedBytes+sv.AloneBytes,
		100*float64(sv.PairedBytes)/float64(max(1, sv.PairedBytes+sv.AloneBytes)), sha256x2.TwoLanes())
}
