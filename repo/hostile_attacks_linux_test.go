package repo

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"travelkit/internal/craftrepo"
	"travelkit/internal/rsscheck"
)

// attack is one way to craft a hostile repository, grown by scale.
type attack struct {
	name   string
	op     string // what the child does (hostileOp)
	scales []int
	// craft writes the repository for one scale into dir.
	craft func(t *testing.T, dir string, scale int)
	// want is a substring of the child's error once the attack is refused; "" means the
	// command succeeds.
	want string
}

func randomID() craftrepo.ID {
	var id craftrepo.ID
	rand.Read(id[:])
	return id
}

func writeCrafted(t *testing.T, r *craftrepo.Repo, dir string) {
	t.Helper()
	if err := r.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
}

// zstdBomb: data blobs whose 32 KiB of zstd decompress to about 1 GiB each; declared is
// the uncompressed length the pack header and index claim.
func zstdBomb(declared func(actual int64) uint32) func(t *testing.T, dir string, scale int) {
	return func(t *testing.T, dir string, files int) {
		r := craftrepo.New(craftPassword)
		var nodes []craftrepo.Node
		const actual = 1<<30 - 1
		for i := 0; i < files; i++ {
			id := randomID()
			d := declared(actual)
			r.AddStoredBlob(craftrepo.Data, id, r.Seal(craftrepo.ZstdRLE(actual, byte(i), false)), d)
			nodes = append(nodes, craftrepo.File(fmt.Sprintf("bomb%d", i), 0o600, uint64(d), id))
		}
		r.Snapshot(r.Tree(nodes...), craftTime, "/")
		writeCrafted(t, r, dir)
	}
}

// treeBomb: the snapshot's root tree is a zstd bomb.
func treeBomb(t *testing.T, dir string, mib int) {
	r := craftrepo.New(craftPassword)
	id := randomID()
	n := int64(mib) << 20
	r.AddStoredBlob(craftrepo.Tree, id, r.Seal(craftrepo.ZstdRLE(n, ' ', false)), uint32(n))
	r.Snapshot(id, craftTime, "/")
	writeCrafted(t, r, dir)
}

// snapshotBomb: a snapshot file that decompresses to mib MiB.
func snapshotBomb(t *testing.T, dir string, mib int) {
	r := craftrepo.New(craftPassword)
	r.PutSealed("snapshots", append([]byte{2}, craftrepo.ZstdRLE(int64(mib)<<20, ' ', false)...))
	writeCrafted(t, r, dir)
}

// manySnapshots: n snapshot files of 60 MiB each (paths of 2 MiB: under the cap of one
// snapshot file, and a few hundred KiB on disk together). Every command that lists
// snapshots holds them all: 20 of them took 1.3 GiB in `snapshots` before their total was
// capped.
func manySnapshots(t *testing.T, dir string, n int) {
	r := craftrepo.New(craftPassword)
	tree := r.Tree()
	long := strings.Repeat("a", 2<<20-16)
	for i := 0; i < n; i++ {
		var paths []string
		for j := 0; j < 30; j++ {
			paths = append(paths, fmt.Sprintf("/%d/%d/", i, j)+long)
		}
		r.Snapshot(tree, craftTime.Add(time.Duration(i)*time.Hour), paths...)
	}
	writeCrafted(t, r, dir)
}

// indexBomb: four index files of mib MiB of JSON each, the same entry over and over.
func indexBomb(t *testing.T, dir string, mib int) {
	r := craftrepo.New(craftPassword)
	r.Snapshot(r.Tree(), craftTime, "/")
	writeCrafted(t, r, dir)
	var entry bytes.Buffer
	pack, blob := randomID(), randomID()
	for entry.Len() < 1<<20 {
		fmt.Fprintf(&entry, `{"id":"%s","type":"data","offset":0,"length":1000,"uncompressed_length":5000},`, hex.EncodeToString(blob[:]))
	}
	var z bytes.Buffer
	z.WriteByte(2)
	enc, err := zstd.NewWriter(&z, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(enc, `{"packs":[{"id":"%s","blobs":[`, hex.EncodeToString(pack[:]))
	for i := 0; i < mib; i++ {
		enc.Write(entry.Bytes())
	}
	fmt.Fprintf(enc, `{"id":"%s","type":"data","offset":0,"length":1000}]}]}`, hex.EncodeToString(blob[:]))
	enc.Close()
	for i := 0; i < 4; i++ {
		b := r.Seal(z.Bytes())
		id := craftrepo.ID(hashSum(b))
		if err := os.WriteFile(filepath.Join(dir, "index", id.String()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func hashSum(b []byte) [32]byte { return Hash(b) }

// distinctIndex: files index files of 450,000 different blobs each (restic writes at most
// 150,000 per file): together more than the index travelkit holds.
func distinctIndex(t *testing.T, dir string, files int) {
	writeIndexFiles(t, dir, files, 450, func(id *[32]byte, rnd *mrand.Rand) {
		binary.LittleEndian.PutUint64(id[:], rnd.Uint64())
		binary.LittleEndian.PutUint64(id[8:], rnd.Uint64())
	})
}

// collidingIndex: one index file of thousands*1000 blobs whose IDs share their first 16
// bytes, so that a table hashing a prefix of the ID puts them all in one chain.
func collidingIndex(t *testing.T, dir string, thousands int) {
	writeIndexFiles(t, dir, 1, thousands, func(id *[32]byte, rnd *mrand.Rand) {
		copy(id[:16], "crafted-collide!")
		binary.LittleEndian.PutUint64(id[16:], rnd.Uint64())
		binary.LittleEndian.PutUint64(id[24:], rnd.Uint64())
	})
}

// writeIndexFiles adds files index files of packs*1000 blobs, whose IDs blobID makes.
func writeIndexFiles(t *testing.T, dir string, files, packs int, blobID func(*[32]byte, *mrand.Rand)) {
	r := craftrepo.New(craftPassword)
	r.Snapshot(r.Tree(), craftTime, "/")
	writeCrafted(t, r, dir)
	rnd := mrand.New(mrand.NewPCG(1, 2))
	for f := 0; f < files; f++ {
		var z bytes.Buffer
		z.WriteByte(2)
		enc, err := zstd.NewWriter(&z, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(enc, 1<<20)
		var id [32]byte
		for p := 0; p < packs; p++ {
			rand.Read(id[:])
			fmt.Fprintf(w, `%s{"id":"%x","blobs":[`, map[bool]string{true: `{"packs":[`, false: `,`}[p == 0], id)
			for b := 0; b < 1000; b++ {
				blobID(&id, rnd)
				if b > 0 {
					w.WriteByte(',')
				}
				fmt.Fprintf(w, `{"id":"%x","type":"data","offset":%d,"length":1000}`, id, b*1000)
			}
			w.WriteString("]}")
		}
		w.WriteString("]}")
		w.Flush()
		enc.Close()
		b := r.Seal(z.Bytes())
		id = hashSum(b)
		if err := os.WriteFile(filepath.Join(dir, "index", hex.EncodeToString(id[:])), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// dagTrees: levels trees, each holding two folders that are the tree below: 2^levels paths.
func dagTrees(t *testing.T, dir string, levels int) {
	r := craftrepo.New(craftPassword)
	id := r.Tree(r.FileBlob("leaf", 0o600, []byte("x")))
	for i := 0; i < levels; i++ {
		id = r.Tree(craftrepo.Dir("a", id, 0o700), craftrepo.Dir("b", id, 0o700))
	}
	r.Snapshot(id, craftTime, "/")
	writeCrafted(t, r, dir)
}

// deepTrees: depth folders nested in each other, one letter each.
func deepTrees(t *testing.T, dir string, depth int) {
	r := craftrepo.New(craftPassword)
	id := r.Tree(r.FileBlob("leaf", 0o600, []byte("x")))
	for i := 0; i < depth; i++ {
		id = r.Tree(craftrepo.Dir("d", id, 0o700))
	}
	r.Snapshot(id, craftTime, "/")
	writeCrafted(t, r, dir)
}

// costlyKeys: n key files at the scrypt cost cap (N=2^20, r=8: 1 GiB each), listed before
// the real one; their data is random, so each costs a full derivation and fails.
func costlyKeys(t *testing.T, dir string, n int) {
	r := craftrepo.New(craftPassword)
	r.Snapshot(r.Tree(), craftTime, "/")
	writeCrafted(t, r, dir)
	real, _ := os.ReadDir(filepath.Join(dir, "keys"))
	for _, e := range real {
		os.Rename(filepath.Join(dir, "keys", e.Name()), filepath.Join(dir, "keys", "ff"+e.Name()[2:]))
	}
	for i := 0; i < n; i++ {
		salt, data := make([]byte, 64), make([]byte, 200)
		rand.Read(salt)
		rand.Read(data)
		b, _ := json.Marshal(map[string]any{"created": craftTime, "kdf": "scrypt", "N": 1 << 20, "r": 8, "p": 1, "salt": salt, "data": data})
		name := fmt.Sprintf("%02x%s", i, strings.Repeat("0", 62))
		if err := os.WriteFile(filepath.Join(dir, "keys", name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// configBomb: a config file of mib MiB (sparse), as a damaged or hostile disk shows it.
func configBomb(t *testing.T, dir string, mib int) {
	r := craftrepo.New(craftPassword)
	writeCrafted(t, r, dir)
	if err := os.Truncate(filepath.Join(dir, "config"), int64(mib)<<20); err != nil {
		t.Fatal(err)
	}
}

var attacks = []attack{
	{name: "zstd bomb, honest length", op: "restore", scales: []int{1, 2, 4}, want: "too large",
		craft: zstdBomb(func(a int64) uint32 { return uint32(a) })},
	{name: "zstd bomb, declared 4 KiB", op: "restore", scales: []int{1, 2, 4}, want: "more than its declared",
		craft: zstdBomb(func(int64) uint32 { return 4096 })},
	{name: "tree zstd bomb", op: "ls", scales: []int{65, 512, 1023}, want: "too large", craft: treeBomb},
	{name: "snapshot zstd bomb", op: "snapshots", scales: []int{65, 512, 1023}, want: "too large", craft: snapshotBomb},
	{name: "many large snapshots", op: "snapshots", scales: []int{20}, want: "more than 128 MiB of snapshot data", craft: manySnapshots},
	{name: "two large snapshots", op: "snapshots", scales: []int{2}, craft: manySnapshots},
	{name: "index of 4 x 1 GiB JSON", op: "index", scales: []int{128, 1024}, want: "entries", craft: indexBomb},
	{name: "index of more blobs than travelkit holds", op: "index", scales: []int{10}, want: "blobs", craft: distinctIndex},
	{name: "index of colliding blob IDs", op: "index", scales: []int{20, 100, 450}, craft: collidingIndex},
	{name: "tree DAG", op: "restore", scales: []int{30, 40}, want: "entries", craft: dagTrees},
	{name: "tree DAG, small", op: "restore", scales: []int{10}, craft: dagTrees},
	{name: "tree DAG, prune", op: "prune", scales: []int{10, 20, 40}, craft: dagTrees},
	{name: "deep nesting", op: "restore", scales: []int{3000, 100000}, want: "4096", craft: deepTrees},
	{name: "deep nesting within the path cap", op: "restore", scales: []int{1000}, craft: deepTrees},
	{name: "deep nesting, check", op: "check", scales: []int{3000, 100000}, want: "4096", craft: deepTrees},
	{name: "deep nesting, prune", op: "prune", scales: []int{100000}, want: "deep", craft: deepTrees},
	{name: "costly key files", op: "open", scales: []int{1, 5, 20}, craft: costlyKeys},
	{name: "config of a huge size", op: "open", scales: []int{64, 2048}, want: "too large", craft: configBomb},
}

// TestHostileRepositories grows every crafted repository and checks, in a child process,
// that the command stays within 1 GiB and refuses the crafted part with an error naming
// it. TRAVELKIT_HOSTILE_MEASURE=1 only prints what each child did (for the closing note,
// with TRAVELKIT_RSS_KILL raised); TRAVELKIT_HOSTILE_ONLY selects attacks by name.
func TestHostileRepositories(t *testing.T) {
	measure := os.Getenv("TRAVELKIT_HOSTILE_MEASURE") != ""
	only := os.Getenv("TRAVELKIT_HOSTILE_ONLY")
	for _, a := range attacks {
		if only != "" && !strings.Contains(a.name, only) {
			continue
		}
		t.Run(a.name, func(t *testing.T) {
			for _, s := range a.scales {
				dir := filepath.Join(t.TempDir(), "repo")
				a.craft(t, dir, s)
				res := rsscheck.Run(t, "TestHostileChild", a.op, dir, filepath.Join(t.TempDir(), "out"))
				t.Logf("scale %d, %s: %s", s, a.op, res)
				if measure {
					continue
				}
				if res.Killed || res.MaxRSS > rsscheck.Bound {
					t.Errorf("scale %d: over the 1 GiB bound: %s", s, res)
				}
				want := a.want
				if want == "" {
					want = "ok"
				}
				if want == "ok" && !strings.Contains("\n"+res.Output, "\nok\n") || !strings.Contains(res.Output, want) {
					t.Errorf("scale %d: want %q in the outcome: %s", s, want, res)
				}
				if strings.Contains(res.Output, "panic") || strings.Contains(res.Output, "fatal error") {
					t.Errorf("scale %d: crashed: %s", s, res.Output)
				}
			}
		})
	}
}
