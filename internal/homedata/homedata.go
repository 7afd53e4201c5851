package homedata

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// base is the earliest mtime in a dataset.
var base = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

type gen struct {
	root  string
	seed  uint64
	files int
	left  int
	bytes int64
	dirs  map[string]bool
	words []string
}

func (g *gen) rng(tag string, i int) *rand.Rand {
	h := sha256.Sum256([]byte(fmt.Sprintf("%d/%s/%d", g.seed, tag, i)))
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
}

func (g *gen) mtime(r *rand.Rand) time.Time {
	return base.Add(time.Duration(r.Int64N(int64(6 * 365 * 24 * time.Hour))))
}

func (g *gen) mkdir(rel string) error {
	if g.dirs[rel] {
		return nil
	}
	g.dirs[rel] = true
	return os.MkdirAll(filepath.Join(g.root, rel), 0o755)
}

// put writes one file unless the file budget is spent.
func (g *gen) put(rel string, data []byte, mode os.FileMode, r *rand.Rand) error {
	if g.left <= 0 {
		return nil
	}
	g.left--
	if err := g.mkdir(filepath.Dir(rel)); err != nil {
		return err
	}
	p := filepath.Join(g.root, rel)
	if err := os.WriteFile(p, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(p, mode); err != nil {
		return err
	}
	g.bytes += int64(len(data))
	t := g.mtime(r)
	return os.Chtimes(p, t, t)
}

func (g *gen) text(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		// Zipf-like: low word indexes are much more frequent
		i := int(float64(len(g.words)) * r.Float64() * r.Float64() * r.Float64())
		b.WriteString(g.words[i])
		switch r.IntN(12) {
		case 0:
			b.WriteString(".\n")
		case 1:
			b.WriteString(", ")
		default:
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

func random(r *rand.Rand, n int) []byte {
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n]
}

func vocabulary(r *rand.Rand) []string {
	syl := []string{"ka", "to", "ri", "en", "an", "er", "in", "ma", "de", "so", "lu", "ne", "ti", "or",
		"al", "ve", "re", "co", "st", "th", "qu", "ing", "ion", "ed", "ly", "ex", "pro"}
	seen := map[string]bool{}
	var out []string
	for len(out) < 3000 {
		var w strings.Builder
		for k := r.IntN(4) + 1; k > 0; k-- {
			w.WriteString(syl[r.IntN(len(syl))])
		}
		if !seen[w.String()] {
			seen[w.String()] = true
			out = append(out, w.String())
		}
	}
	return out
}

// Make writes a dataset of exactly files regular files below root (which must
// not exist yet) and returns the bytes written.
func Make(root string, files int, seed uint64) (int64, error) {
	if _, err := os.Lstat(root); err == nil {
		return 0, fmt.Errorf("%s exists already", root)
	}
	g := &gen{root: root, seed: seed, files: files, left: files, dirs: map[string]bool{}}
	g.words = vocabulary(g.rng("words", 0))
	if err := os.MkdirAll(root, 0o755); err != nil {
		return 0, err
	}
	// shares of the file count: source trees 45%, mail 30%, documents 17%,
	// dotfiles and caches 7.9%, photos 0.1% (but a third of the bytes)
	steps := []struct {
		share float64
		fn    func(n int) error
	}{
		{0.001, g.photos}, {0.17, g.documents}, {0.30, g.mail}, {0.079, g.caches}, {1, g.sources},
	}
	for _, s := range steps {
		n := int(float64(files) * s.share)
		if s.share == 1 {
			n = g.left
		}
		if err := s.fn(n); err != nil {
			return g.bytes, err
		}
	}
	// folder mtimes last, deepest first, so that writing files does not change them
	dirs := make([]string, 0, len(g.dirs))
	for d := range g.dirs {
		dirs = append(dirs, d)
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	r := g.rng("dirs", 0)
	for _, d := range dirs {
		t := g.mtime(r)
		if err := os.Chtimes(filepath.Join(root, d), t, t); err != nil {
			return g.bytes, err
		}
	}
	return g.bytes, nil
}

// photos: camera JPEGs (random bytes, incompressible), 0.6-2.4 MB.
func (g *gen) photos(n int) error {
	for i := 0; i < n; i++ {
		r := g.rng("photo", i)
		size := 500_000 + r.IntN(1_400_000)
		b := random(r, size)
		copy(b, "\xff\xd8\xff\xe1\x00\x18Exif\x00\x00")
		rel := fmt.Sprintf("Pictures/%d/%02d/IMG_%05d.jpg", 2020+i%6, 1+(i/6)%12, i)
		if err := g.put(rel, b, 0o644, r); err != nil {
			return err
		}
	}
	return nil
}

// documents: notes, CSV, office files (zip: deflated XML), PDFs with a binary
// stream; 40 per folder.
func (g *gen) documents(n int) error {
	for i := 0; i < n; i++ {
		r := g.rng("doc", i)
		dir := fmt.Sprintf("Documents/%s/%s-%d", g.words[i/4000%40], g.words[100+i/40%200], i/40)
		var name string
		var b []byte
		switch k := r.IntN(10); {
		case k < 4:
			name, b = fmt.Sprintf("note-%d.md", i), g.text(r, 300+r.IntN(6000))
		case k < 6:
			var sb strings.Builder
			sb.WriteString("date,account,amount,category\n")
			for j := 300 + r.IntN(3000); sb.Len() < j; {
				fmt.Fprintf(&sb, "2024-%02d-%02d,DE%d,%.2f,%s\n", 1+r.IntN(12), 1+r.IntN(28), r.Int64N(1e10), r.Float64()*900, g.words[r.IntN(30)])
			}
			name, b = fmt.Sprintf("ledger-%d.csv", i), []byte(sb.String())
		case k < 9:
			var zb bytes.Buffer
			zw := zip.NewWriter(&zb)
			for _, part := range []string{"[Content_Types].xml", "word/document.xml", "docProps/core.xml"} {
				hdr := &zip.FileHeader{Name: part, Method: zip.Deflate, Modified: base}
				w, err := zw.CreateHeader(hdr)
				if err != nil {
					return err
				}
				w.Write(g.text(r, 1000+r.IntN(8000)))
			}
			if r.IntN(3) == 0 { // an embedded picture, stored
				hdr := &zip.FileHeader{Name: "word/media/image1.png", Method: zip.Store, Modified: base}
				w, _ := zw.CreateHeader(hdr)
				w.Write(random(r, 3000+r.IntN(20000)))
			}
			zw.Close()
			name, b = fmt.Sprintf("report-%d.docx", i), zb.Bytes()
		default:
			var pb bytes.Buffer
			pb.WriteString("%PDF-1.7\n")
			pb.Write(g.text(r, 2000+r.IntN(6000)))
			pb.WriteString("\nstream\n")
			pb.Write(random(r, 1000+r.IntN(10000)))
			pb.WriteString("\nendstream\n%%EOF\n")
			name, b = fmt.Sprintf("scan-%d.pdf", i), pb.Bytes()
		}
		mode := os.FileMode(0o644)
		if r.IntN(20) == 0 {
			mode = 0o600
		}
		if err := g.put(dir+"/"+name, b, mode, r); err != nil {
			return err
		}
	}
	return nil
}

// mail: a maildir store, a few big folders of small messages (up to 6000 per folder).
func (g *gen) mail(n int) error {
	boxes := []string{"INBOX", "Sent", "Archive", "Lists/dev", "Lists/news", "Work", "Family", "Trash"}
	for i := 0; i < n; i++ {
		r := g.rng("mail", i)
		box := boxes[r.IntN(len(boxes))]
		dir := fmt.Sprintf("Mail/%s/%d/cur", box, i/6000)
		var b bytes.Buffer
		fmt.Fprintf(&b, "Return-Path: <%s@example.org>\nMessage-ID: <%d.%d@mail.example.org>\nDate: %s\nFrom: %s <%s@example.org>\nTo: amina@example.net\nSubject: %s\nContent-Type: text/plain; charset=utf-8\n\n",
			g.words[r.IntN(500)], i, r.Int64(), g.mtime(r).Format(time.RFC1123Z), g.words[r.IntN(200)], g.words[r.IntN(500)], g.text(r, 30))
		b.Write(g.text(r, 300+int(r.ExpFloat64()*2500)))
		if r.IntN(25) == 0 { // an attachment, base64 of random bytes
			raw := random(r, 5000+r.IntN(60000))
			b.WriteString("\n--attachment\nContent-Transfer-Encoding: base64\n\n")
			enc := make([]byte, hex.EncodedLen(len(raw)))
			hex.Encode(enc, raw)
			b.Write(enc)
		}
		name := fmt.Sprintf("%d.M%dP%d.host:2,S", 1_600_000_000+i*97, r.IntN(999999), r.IntN(99999))
		if err := g.put(dir+"/"+name, b.Bytes(), 0o600, r); err != nil {
			return err
		}
	}
	return nil
}

// caches: thumbnails (random, small) and dotfile configs.
func (g *gen) caches(n int) error {
	for i := 0; i < n; i++ {
		r := g.rng("cache", i)
		var rel string
		var b []byte
		if i%3 == 0 {
			rel, b = fmt.Sprintf(".config/%s/%s-%d.conf", g.words[i/60%300], g.words[r.IntN(400)], i), g.text(r, 50+r.IntN(1500))
		} else {
			rel, b = fmt.Sprintf(".cache/thumbnails/normal/%02x/%016x.png", i/60%256, r.Uint64()), random(r, 2000+r.IntN(9000))
		}
		if err := g.put(rel, b, 0o600, r); err != nil {
			return err
		}
	}
	return nil
}

// sources: projects of nested packages with many tiny files, some executable.
func (g *gen) sources(n int) error {
	exts := []string{".go", ".py", ".js", ".c", ".h", ".md", ".json", ".txt"}
	for i := 0; i < n; i++ {
		r := g.rng("src", i)
		proj := i / 2500
		pkg := i / 25
		dir := fmt.Sprintf("src/project-%d/%s/%s-%d", proj, g.words[pkg%7], g.words[200+pkg%900], pkg)
		if pkg%3 == 0 {
			dir = fmt.Sprintf("src/project-%d/node_modules/%s-%d/lib", proj, g.words[300+pkg%700], pkg)
		}
		size := int(r.ExpFloat64() * 1800)
		if r.IntN(50) == 0 {
			size = 0
		}
		mode := os.FileMode(0o644)
		if r.IntN(30) == 0 {
			mode = 0o755
		}
		rel := fmt.Sprintf("%s/%s_%d%s", dir, g.words[r.IntN(1000)], i, exts[r.IntN(len(exts))])
		if err := g.put(rel, g.text(r, size), mode, r); err != nil {
			return err
		}
	}
	return nil
}

// Mutate changes about 1% of the files below root, deterministically for
// (seed, round): appends to 0.4%, rewrites 0.3%, adds 0.2% new, deletes 0.1%.
func Mutate(root string, seed uint64, round int) (changed int, err error) {
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	sort.Strings(files)
	g := &gen{seed: seed}
	g.words = vocabulary(g.rng("words", 0))
	r := g.rng(fmt.Sprintf("mutate-%d", round), 0)
	t := base.AddDate(7, 0, round)
	for i, p := range files {
		x := r.IntN(1000)
		switch {
		case x < 4:
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return changed, err
			}
			f.Write(g.text(r, 100+r.IntN(2000)))
			f.Close()
		case x < 7:
			fi, err := os.Stat(p)
			if err != nil {
				return changed, err
			}
			if err := os.WriteFile(p, g.text(r, int(fi.Size())+r.IntN(500)), 0); err != nil {
				return changed, err
			}
		case x < 9:
			np := fmt.Sprintf("%s.new-%d-%d", p, round, i)
			if err := os.WriteFile(np, g.text(r, 200+r.IntN(4000)), 0o644); err != nil {
				return changed, err
			}
			p = np
		case x < 10:
			if err := os.Remove(p); err != nil {
				return changed, err
			}
			changed++
			continue
		default:
			continue
		}
		changed++
		if err := os.Chtimes(p, t, t); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// Digest returns one line that describes the tree below root: file, folder and
// symlink counts and a SHA-256 over every entry's path, type, mode, mtime,
// size and content, for comparing a restored tree with its source.
func Digest(root string) (string, error) {
	h := sha256.New()
	var files, dirs, links int
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		mt := fi.ModTime().UnixNano()
		switch {
		case d.IsDir():
			dirs++
			if rel == "." {
				return nil
			}
			fmt.Fprintf(h, "d %q %o %d\n", rel, fi.Mode().Perm(), mt)
		case d.Type()&fs.ModeSymlink != 0:
			links++
			t, _ := os.Readlink(p)
			fmt.Fprintf(h, "l %q %q\n", rel, t)
		case d.Type().IsRegular():
			files++
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "f %q %o %d %d %x\n", rel, fi.Mode().Perm(), mt, len(b), sha256.Sum256(b))
		}
		return nil
	})
	return fmt.Sprintf("files=%d dirs=%d symlinks=%d sha256=%x", files, dirs, links, h.Sum(nil)), err
}
