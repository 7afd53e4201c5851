package repo

import (
	"bytes"
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// A temporary file gathers short writes (folderTemp.Write): what is committed
// is exactly what was written, for any mix of short and long writes and of
// rewinds into the gathered bytes, into the file's own and to the start; and
// short writes reach the file only together, not one by one.
func TestFolderTempGathers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := NewFolder(dir)
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		tf, err := f.CreateTemp(ctx, PackFile)
		if err != nil {
			t.Fatal(err)
		}
		if seed%2 == 0 {
			tf.(Reserver).Reserve(1 << 20)
		}
		var want []byte
		rewinds := 0
		for i := 0; i < 300; i++ {
			var n int
			switch rng.Intn(10) {
			case 0:
				n = tempDirect + rng.Intn(200<<10)
			case 1:
				n = tempDirect - 1 - rng.Intn(16)
			default:
				n = rng.Intn(3000)
			}
			p := make([]byte, n)
			rng.Read(p)
			if _, err := tf.Write(p); err != nil {
				t.Fatal(err)
			}
			want = append(want, p...)
			if rng.Intn(8) == 0 {
				// mostly a blob back (in the gathered bytes), sometimes far
				// back (in the file) or to the start
				back := rng.Intn(min(len(want), 6000) + 1)
				switch rng.Intn(4) {
				case 0:
					back = rng.Intn(len(want) + 1)
				case 1:
					back = len(want)
				}
				off := len(want) - back
				if err := tf.(Rewinder).Rewind(int64(off)); err != nil {
					t.Fatal(err)
				}
				want = want[:off]
				rewinds++
			}
		}
		h := Handle{Type: PackFile, Name: Hash(want).String()}
		if err := tf.Commit(ctx, h); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f.path(h))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %d: committed %d bytes, want %d (%d rewinds): the content differs", seed, len(got), len(want), rewinds)
		}
	}

	// 100 writes of 100 bytes are in the file only once it is committed
	tf, err := f.CreateTemp(ctx, PackFile)
	if err != nil {
		t.Fatal(err)
	}
	name := tf.(*folderTemp).fh.Name()
	for i := 0; i < 100; i++ {
		if _, err := tf.Write(bytes.Repeat([]byte{byte(i)}, 100)); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(name); err != nil || fi.Size() != 0 {
		t.Fatalf("after 100 short writes the file holds %v bytes (%v), want 0: each write went to the file", fi.Size(), err)
	}
	tf.Abort()
	if left, _ := filepath.Glob(filepath.Join(dir, "data", "00", "stream-tmp-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
