package ext4

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"travelkit/image/internal/testutil"
)

// flushLog is a device that records every write and where each flush fell, so a test
// can rebuild what a power cut may leave: everything written before the last completed
// flush, plus any subset of the writes since (a disk's cache writes back in any order).
type flushLog struct {
	*testutil.Dev
	writes  []loggedWrite
	flushes []int // len(writes) at each flush
}

func (d *flushLog) WriteAt(p []byte, off int64) (int, error) {
	d.writes = append(d.writes, loggedWrite{off, append([]byte(nil), p...)})
	return d.Dev.WriteAt(p, off)
}

func (d *flushLog) Flush() error {
	d.flushes = append(d.flushes, len(d.writes))
	return d.Dev.Flush()
}

// promise is a file the API said is durable from flush `from` on (completed flushes),
// until its removal started at flush `until` (0: never removed).
type promise struct {
	path        string
	data        []byte
	from, until int
}

// powerCut is one image a power cut may leave: interval k (k flushes completed), with
// the interval's writes in keep applied in order.
type powerCut struct {
	interval int
	what     string
	keep     []int // indexes into flushLog.writes
}

// TestPowerLossEachFlushInterval records a kit-like sequence of writes (a stream grown
// past its first step and committed into a new folder, an index written with
// WriteFileLater, a key with WriteFile, a file removed, a file replaced, a folder
// growing a new block) and, for every flush interval, builds the images a power cut
// may leave: each prefix of the interval's writes (a kill) and the whole interval
// with each single metadata write lost (or all its data writes lost). Each image is
// classified:
//   - REFUSED: the next writable open fails (the person is locked out until e2fsck);
//   - DANGEROUS: after that open, a file of 8 MiB written and Close, e2fsck -fn finds
//     a block or inode in use that a bitmap marks free, a block claimed twice, wrong
//     counts, or a file the API had said was durable is missing or differs; or the
//     read-only open fails;
//   - SAFE: anything else (at worst leaked blocks or an unattached inode).
//
// Every image must be SAFE.
func TestPowerLossEachFlushInterval(t *testing.T) {
	const size = 128 << 20
	dir := t.TempDir()
	base := filepath.Join(dir, "base.img")
	f, dev, path := newVolume(t, size, FormatOptions{})
	if err := f.MkdirAllEach("repo/data", "repo/index", "repo/keys", "repo/snapshots", "tmp"); err != nil {
		t.Fatal(err)
	}
	var promises []*promise
	put := func(p string, data []byte) {
		t.Helper()
		if err := f.WriteFile(p, bytes.NewReader(data), int64(len(data)), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	old := randBytes(3<<20, 3)
	put("repo/index/old", old)
	config := randBytes(5000, 4)
	put("repo/config", config)
	// a folder one entry short of a new block: the next name takes one
	long := func(i int) string { return fmt.Sprintf("%03d-%s", i, strings.Repeat("s", 200)) }
	nsnap := 0
	for ; ; nsnap++ {
		st, err := f.Stat("repo/snapshots")
		if err != nil {
			t.Fatal(err)
		}
		if st.Size > f.bs {
			t.Fatalf("snapshots folder grew at %d names", nsnap)
		}
		if 12+12+dirRecLen(len(long(0)))*(nsnap+1) > int(f.bs) {
			break
		}
		put("repo/snapshots/"+long(nsnap), []byte{byte(nsnap)})
	}
	for _, p := range []string{"repo/index/old", "repo/config"} {
		b, _ := f.ReadFile(p)
		promises = append(promises, &promise{path: p, data: b})
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	testutil.MustTool(t, "cp", "--sparse=always", path, base)

	// the recorded sequence
	log := &flushLog{Dev: dev}
	if f, err := Open(log, Options{Writable: true}); err != nil {
		t.Fatal(err)
	} else {
		flushes := func() int { return len(log.flushes) }
		promised := func(p string, data []byte, later bool) {
			n := flushes()
			if later {
				n++
			}
			promises = append(promises, &promise{path: p, data: data, from: n})
		}
		s, err := f.CreateStream("tmp/pack")
		if err != nil {
			t.Fatal(err)
		}
		pack := randBytes(26<<20, 5)
		writePieces(t, s, pack, 5)
		if err := s.Commit("repo/data/ab/pack1", time.Time{}); err != nil {
			t.Fatal(err)
		}
		promised("repo/data/ab/pack1", pack, true)
		idx := randBytes(9000, 6)
		if err := f.WriteFileLater("repo/index/new", bytes.NewReader(idx), int64(len(idx)), time.Time{}); err != nil {
			t.Fatal(err)
		}
		promised("repo/index/new", idx, true)
		key := randBytes(400, 7)
		if err := f.WriteFile("repo/keys/k1", bytes.NewReader(key), int64(len(key)), time.Time{}); err != nil {
			t.Fatal(err)
		}
		promised("repo/keys/k1", key, false)
		promises[0].until = flushes()
		if err := f.Remove("repo/index/old"); err != nil {
			t.Fatal(err)
		}
		config2 := randBytes(7000, 8)
		promises[1].until = flushes()
		if err := f.WriteFile("repo/config", bytes.NewReader(config2), int64(len(config2)), time.Time{}); err != nil {
			t.Fatal(err)
		}
		promised("repo/config", config2, false)
		snap := []byte("snapshot")
		if err := f.WriteFile("repo/snapshots/"+long(nsnap), bytes.NewReader(snap), int64(len(snap)), time.Time{}); err != nil {
			t.Fatal(err)
		}
		promised("repo/snapshots/"+long(nsnap), snap, false)
		if st, err := f.Stat("repo/snapshots"); err != nil || st.Size <= f.bs {
			t.Fatalf("the snapshots folder did not take a new block (%v, %v)", st.Size, err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	fsck(t, path) // no power cut: nothing leaked
	t.Logf("%d writes, %d flushes", len(log.writes), len(log.flushes))

	// the images a power cut may leave: per interval, each prefix (a kill), each single
	// metadata write lost, each block written twice or more with all its versions lost,
	// all data writes lost
	meta := func(k int) bool { return len(log.writes[k].data) <= 64<<10 }
	var cuts []powerCut
	bounds := append(append([]int{0}, log.flushes...), len(log.writes))
	for iv := 0; iv+1 < len(bounds); iv++ {
		lo, hi := bounds[iv], bounds[iv+1]
		if lo == hi {
			continue
		}
		all := []int{}
		for k := lo; k < hi; k++ {
			all = append(all, k)
		}
		for k := lo; k < hi; k++ {
			if meta(k) || k+1 == hi {
				cuts = append(cuts, powerCut{iv, fmt.Sprintf("kill after write %d", k), all[:k+1-lo]})
			}
		}
		var data []int
		for k := lo; k < hi; k++ {
			if !meta(k) {
				data = append(data, k)
				continue
			}
			cuts = append(cuts, powerCut{iv, fmt.Sprintf("write %d lost", k), without(all, k)})
		}
		if len(data) > 0 {
			cuts = append(cuts, powerCut{iv, "its data writes lost", without(all, data...)})
		}
		// a block written more than once: every version lost (the disk kept the old one)
		same := map[int64][]int{}
		var offs []int64
		for k := lo; k < hi; k++ {
			if meta(k) {
				if same[log.writes[k].off] == nil {
					offs = append(offs, log.writes[k].off)
				}
				same[log.writes[k].off] = append(same[log.writes[k].off], k)
			}
		}
		for _, off := range offs {
			if ks := same[off]; len(ks) > 1 {
				cuts = append(cuts, powerCut{iv, fmt.Sprintf("block %d lost (writes %v)", off/4096, ks), without(all, ks...)})
			}
		}
	}

	state, err := os.OpenFile(base, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	applied := 0 // writes applied to state and cut (always up to an interval's start)
	snap := filepath.Join(dir, "cut.img")
	testutil.MustTool(t, "cp", "--sparse=always", base, snap)
	cut, err := os.OpenFile(snap, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cut.Close()
	counts := map[string]int{}
	for _, c := range cuts {
		for ; applied < bounds[c.interval]; applied++ {
			w := log.writes[applied]
			for _, fh := range []*os.File{state, cut} {
				if _, err := fh.WriteAt(w.data, w.off); err != nil {
					t.Fatal(err)
				}
			}
		}
		dev := &touchDev{Dev: &testutil.Dev{F: cut, N: size}}
		class, why := classifyCut(t, snap, dev, log, c, promises)
		// back to the interval's start: what the cut and the open wrote, from state
		for _, r := range dev.touched {
			b := make([]byte, r[1])
			if _, err := state.ReadAt(b, r[0]); err != nil {
				t.Fatal(err)
			}
			if _, err := cut.WriteAt(b, r[0]); err != nil {
				t.Fatal(err)
			}
		}
		counts[class]++
		if class != "SAFE" || os.Getenv("POWERLOSS_SHOW") != "" {
			t.Logf("interval %d (after flush %d), %s: %s %s", c.interval, c.interval, c.what, class, why)
		}
		if class != "SAFE" {
			t.Fail()
		}
	}
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sum []string
	for _, k := range keys {
		sum = append(sum, fmt.Sprintf("%s %d", k, counts[k]))
	}
	t.Logf("%d images over %d flush intervals: %s", len(cuts), len(bounds)-1, strings.Join(sum, ", "))
}

// touchDev records where it was written.
type touchDev struct {
	*testutil.Dev
	touched [][2]int64 // offset, length
}

func (d *touchDev) WriteAt(p []byte, off int64) (int, error) {
	d.touched = append(d.touched, [2]int64{off, int64(len(p))})
	return d.Dev.WriteAt(p, off)
}

func without(all []int, drop ...int) []int {
	var out []int
	for _, k := range all {
		keep := true
		for _, d := range drop {
			if k == d {
				keep = false
			}
		}
		if keep {
			out = append(out, k)
		}
	}
	return out
}

// classifyCut builds the image of c at snap (a copy of the state at its interval's
// start) and classifies it (see TestPowerLossEachFlushInterval).
func classifyCut(t *testing.T, snap string, dev *touchDev, log *flushLog, c powerCut, promises []*promise) (string, string) {
	t.Helper()
	for _, k := range c.keep {
		if _, err := dev.WriteAt(log.writes[k].data, log.writes[k].off); err != nil {
			t.Fatal(err)
		}
	}
	rawNote := ""
	if os.Getenv("POWERLOSS_SHOW") != "" { // what e2fsck says of the image as the cut left it
		raw, _ := testutil.Tool(t, "e2fsck", "-fn", snap)
		if m := fsckProblems(raw); len(m) > 0 {
			rawNote = fmt.Sprintf(" (before the open e2fsck said %q)", m)
		}
	}
	if _, err := Open(dev, Options{}); err != nil {
		return "DANGEROUS", fmt.Sprintf("read-only open: %v", err)
	}
	g, err := Open(dev, Options{Writable: true})
	if err != nil {
		if errors.Is(err, ErrNeedsFsck) {
			return "REFUSED", fmt.Sprintf("%v%s", err, rawNote)
		}
		return "REFUSED", fmt.Sprintf("other error: %v%s", err, rawNote)
	}
	more := randBytes(8<<20, 9)
	if err := g.WriteFile("after/more", bytes.NewReader(more), int64(len(more)), time.Time{}); err != nil {
		return "REFUSED", fmt.Sprintf("writing after the open: %v", err)
	}
	if err := g.Close(); err != nil {
		return "REFUSED", fmt.Sprintf("close after the open: %v", err)
	}
	out, _ := testutil.Tool(t, "e2fsck", "-fn", snap)
	if m := fsckProblems(out); len(m) > 0 {
		return "DANGEROUS", fmt.Sprintf("after the open, a write and Close, e2fsck -fn: %q%s:\n%s", m, rawNote, out)
	}
	h, err := Open(dev, Options{})
	if err != nil {
		return "DANGEROUS", fmt.Sprintf("read-only open after the write: %v", err)
	}
	for _, p := range promises {
		if p.from > c.interval || (p.until != 0 && c.interval >= p.until) {
			continue
		}
		if b, err := h.ReadFile(p.path); err != nil || !bytes.Equal(b, p.data) {
			return "DANGEROUS", fmt.Sprintf("durable file %s lost or changed after a write: %v", p.path, err)
		}
	}
	if b, err := h.ReadFile("after/more"); err != nil || !bytes.Equal(b, more) {
		return "DANGEROUS", fmt.Sprintf("the file written after the open reads back wrong: %v", err)
	}
	if strings.Contains(out, "differences") || strings.Contains(out, "Unattached") {
		return "SAFE", "(leak)" + rawNote
	}
	return "SAFE", rawNote
}

// leakOnly matches what e2fsck -fn may report of a volume that only leaked: blocks and
// inodes marked used that nothing uses, a file or folder nothing names (for
// lost+found), link counts.
var (
	leakOnly  = regexp.MustCompile(`^(Block|Inode) bitmap differences:( +-(\d+|\(\d+--\d+\)))+$|^Unattached (zero-length )?inode \d+\b|^Unconnected directory inode \d+ |^'\.\.' in \.\.\. \(\d+\) is .*, should be <The NULL inode> \(0\)\.$|^Inode \d+ ref count is \d+, should be \d+\.|^Connect to /lost\+found\? no$|^(Fix|Clear)\? no$`)
	fsckNoise = regexp.MustCompile(`^e2fsck \d|^Pass \d|: \d+/\d+ files|WARNING: Filesystem still has errors|^$`)
)

// fsckProblems returns the lines of e2fsck -fn's output that are more than a leak.
func fsckProblems(out string) []string {
	var bad []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if fsckNoise.MatchString(l) || leakOnly.MatchString(l) {
			continue
		}
		bad = append(bad, l)
	}
	return bad
}
