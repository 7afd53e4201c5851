package repo

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/restic/chunker"
)

// Chunks longer than a chunk buffer go through the big buffer (readFile's
// getBigBuf): readers of files whose chunks need it at the same time still
// cut exactly where restic does, and every byte comes back in a restore. The
// files are made of a repeating pattern in which the repository's polynomial
// finds no cut, each chunk ended by 64 zero bytes (a window that always
// cuts): chunks of 1 MiB (a chunk buffer), 3 MiB, 6 MiB and the maximum
// 8 MiB (the big buffer).
func TestBackupLongChunks(t *testing.T) {
	ctx := context.Background()
	for _, procs := range []int{1, 2, 4} {
		func() {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			r, _ := initTestRepo(t)
			pol := chunker.Pol(r.cfg.ChunkerPolynomial)
			var p []byte
			for seed := uint64(0); ; seed++ {
				pr := rand.New(rand.NewPCG(seed, 9))
				p = make([]byte, 64)
				for i := range p {
					p[i] = byte(pr.Uint32())
				}
				if newCutter(pol).search(bytes.Repeat(p, 80), 65, 64*80) == 0 {
					break
				}
			}
			want := []int{1 << 20, 3 << 20, 6 << 20, chunkMax, 1 << 20}
			var data []byte
			for _, l := range want[:3] {
				data = append(data, bytes.Repeat(p, l/64-1)...)
				data = append(data, make([]byte, 64)...)
			}
			data = append(data, bytes.Repeat(p, (chunkMax+1<<20)/64)...)
			if got := resticSplit(t, pol, data); !equalInts(got, want) {
				t.Fatalf("test data: restic cuts %v, want %v", got, want)
			}
			src := t.TempDir()
			for _, name := range []string{"a", "b", "c"} {
				if err := os.WriteFile(filepath.Join(src, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
				data = append(data, 'x') // the next file's last chunk differs: all are saved
			}
			res, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "h"})
			if err != nil {
				t.Fatal(err)
			}
			files := 0
			err = r.Walk(ctx, *res.Snapshot.Tree, "/", func(_ string, n *Node) error {
				if n.Type != NodeFile {
					return nil
				}
				files++
				b, err := os.ReadFile(filepath.Join(src, n.Name))
				if err != nil {
					return err
				}
				lens := resticSplit(t, pol, b)
				if len(lens) != len(n.Content) {
					t.Fatalf("GOMAXPROCS=%d %s: %d chunks, restic %d", procs, n.Name, len(n.Content), len(lens))
				}
				off := 0
				for i, l := range lens {
					if n.Content[i] != Hash(b[off:off+l]) {
						t.Fatalf("GOMAXPROCS=%d %s: chunk %d (%d bytes at %d) is not restic's", procs, n.Name, i, l, off)
					}
					off += l
				}
				return nil
			})
			if err != nil || files != 3 {
				t.Fatalf("GOMAXPROCS=%d: %d files, %v", procs, files, err)
			}
			out := t.TempDir()
			if _, err := r.Restore(ctx, res.Snapshot, RestoreOptions{Target: out}); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"a", "b", "c"} {
				a, errA := os.ReadFile(filepath.Join(src, name))
				b, errB := os.ReadFile(filepath.Join(restoredPath(out, src), name))
				if errA != nil || errB != nil || !bytes.Equal(a, b) {
					t.Fatalf("GOMAXPROCS=%d: %s restored differs", procs, name)
				}
			}
		}()
	}
}
