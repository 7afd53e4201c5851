package repo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// A temporary file given its size at once (Reserve) holds exactly what was
// written when it is committed: a rewind inside the reserved space drops what
// followed, writes past the reservation grow the file, and the reserved bytes
// never written are cut off. Without a reservation the file is the same.
func TestFolderTempReserve(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		reserve int64
	}{{"reserved", 1 << 20}, {"reserved less than written", 100}, {"not reserved", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := NewFolder(dir)
			tf, err := f.CreateTemp(ctx, PackFile)
			if err != nil {
				t.Fatal(err)
			}
			if tc.reserve > 0 {
				tf.(Reserver).Reserve(tc.reserve)
				fi, err := os.Stat(tf.(*folderTemp).fh.Name())
				if err != nil {
					t.Fatal(err)
				}
				// only Linux reserves (fallocate), on ext4 and XFS; elsewhere
				// the file stays empty
				want := tc.reserve
				if !unwrittenExtents(tf.(*folderTemp).fh) {
					t.Logf("%s: no ext4 or XFS here (GOOS %s): nothing is reserved", dir, runtime.GOOS)
					want = 0
				}
				if tf.(*folderTemp).reserved != (want > 0) || fi.Size() != want {
					t.Fatalf("reserved %v, size %d, want %d bytes reserved", tf.(*folderTemp).reserved, fi.Size(), want)
				}
			}
			a, b, c := bytes.Repeat([]byte{'a'}, 300), bytes.Repeat([]byte{'b'}, 200), bytes.Repeat([]byte{'c'}, 50)
			for _, p := range [][]byte{a, b} {
				if _, err := tf.Write(p); err != nil {
					t.Fatal(err)
				}
			}
			if err := tf.(Rewinder).Rewind(300); err != nil {
				t.Fatal(err)
			}
			if _, err := tf.Write(c); err != nil {
				t.Fatal(err)
			}
			h := Handle{Type: PackFile, Name: Hash([]byte(tc.name)).String()}
			if err := tf.Commit(ctx, h); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(f.path(h))
			if err != nil {
				t.Fatal(err)
			}
			if want := append(append([]byte(nil), a...), c...); !bytes.Equal(got, want) {
				t.Fatalf("committed file of %d bytes, want %d (%d written, rewound to 300, %d more)", len(got), len(want), len(a)+len(b), len(c))
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "data", "00", "stream-tmp-*")); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}
