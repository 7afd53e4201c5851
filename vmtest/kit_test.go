package vmtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"travelkit/drive"
	"travelkit/image"
)

// kitModules are the kernel modules a VM needs to read a kit: the virtio disk,
// dm-crypt with aes-xts-plain64 (and the AF_ALG user crypto API cryptsetup uses for
// keyslot areas), vfat with the code pages Debian's defaults name (codepage 437,
// iocharset ascii) and the usual others, and ext4.
var kitModules = []string{
	"virtio_pci", "virtio_blk",
	"dm_mod", "dm_crypt", "aesni_intel", "xts", "ecb", "af_alg", "algif_skcipher", "algif_hash",
	"vfat", "nls_cp437", "nls_ascii", "nls_iso8859-1", "nls_utf8",
	"ext4",
}

// kitBinaries are the host tools copied into the VM.
var kitBinaries = []string{"cryptsetup", "blkid", "e2fsck"}

// waitForDisk is the start of every kit script: the kernel probes virtio_blk and
// scans its partition table asynchronously.
const waitForDisk = `
i=0
while [ ! -e /sys/block/vda/vda2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
[ -e /sys/block/vda/vda2 ] || { ls /sys/block /sys/block/vda; fail "the kernel found no partition vda2"; }
`

var (
	tkOnce sync.Once
	tkDir  string
	tkErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tkDir != "" {
		os.RemoveAll(tkDir)
	}
	os.Exit(code)
}

// travelkitBinary builds cmd/travelkit once, statically (CGO_ENABLED=0) so that the
// copy on the kit's tools partition also runs inside the VM. It returns the
// binary and a --binaries folder holding it as travelkit-linux-amd64.
func travelkitBinary(t *testing.T) (bin, binDir string) {
	t.Helper()
	tkOnce.Do(func() {
		if tkDir, tkErr = os.MkdirTemp("", "vmtest-travelkit-"); tkErr != nil {
			return
		}
		dist := filepath.Join(tkDir, "dist")
		if tkErr = os.Mkdir(dist, 0o755); tkErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(dist, "travelkit-linux-amd64"), "travelkit/cmd/travelkit")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			tkErr = fmt.Errorf("go build travelkit: %v\n%s", err, out)
		}
	})
	if tkErr != nil {
		t.Fatal(tkErr)
	}
	return filepath.Join(tkDir, "dist", "travelkit-linux-amd64"), filepath.Join(tkDir, "dist")
}

// tool runs an external program and returns its combined output; a missing program
// fails the test (scripts/install-test-deps.sh installs them).
func tool(t *testing.T, stdin []byte, name string, args ...string) (string, error) {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not installed (needed by this test; see scripts/install-test-deps.sh): %v", name, err)
	}
	cmd := exec.Command(p, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := tool(t, nil, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// kit is a kit image built with the CLI.
type kit struct {
	dir, img     string
	passFile     string
	pass         []byte
	recoveryFile string
	recovery     []byte // without the newline
	tk, binDir   string
}

// cli runs the travelkit CLI and fails the test when it fails.
func (k *kit) cli(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(k.tk, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("travelkit %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// buildKit builds a 512 MiB sparse kit image with the CLI: a 64 MiB tools partition
// for linux/amd64 and a LUKS2 volume with cheap pbkdf2 keyslots.
func buildKit(t *testing.T) *kit {
	t.Helper()
	tk, binDir := travelkitBinary(t)
	dir := t.TempDir()
	k := &kit{dir: dir, img: filepath.Join(dir, "kit.img"), passFile: filepath.Join(dir, "pass"),
		recoveryFile: filepath.Join(dir, "recovery"), pass: []byte("vm test passphrase"), tk: tk, binDir: binDir}
	profile := filepath.Join(dir, "profile.toml")
	writeFile(t, profile, []byte(`name = "vmtest"
languages = ["en"]
[drive]
tools_size = "64MiB"
[luks]
pbkdf = "pbkdf2"
pbkdf_iterations = 1000
[tools]
platforms = ["linux/amd64"]
`))
	writeFile(t, k.passFile, k.pass)
	k.cli(t, "build", "--target", k.img, "--size", "512MiB", "--profile", profile,
		"--passphrase-file", k.passFile, "--recovery-key-file", k.recoveryFile, "--binaries", binDir, "--yes", "--allow-weak-passphrase")
	rk, err := os.ReadFile(k.recoveryFile)
	if err != nil {
		t.Fatal(err)
	}
	k.recovery = bytes.TrimSuffix(rk, []byte("\n"))
	return k
}

// put stores data as REMOTE on the kit with `travelkit files put`.
func (k *kit) put(t *testing.T, remote string, data []byte) {
	t.Helper()
	local := filepath.Join(k.dir, "put-"+strings.ReplaceAll(remote, "/", "_"))
	writeFile(t, local, data)
	k.cli(t, "files", "put", "--target", k.img, "--passphrase-file", k.passFile, local, remote)
}

// get reads REMOTE with `travelkit files get`.
func (k *kit) get(t *testing.T, remote string) []byte {
	t.Helper()
	local := filepath.Join(k.dir, fmt.Sprintf("get-%d", time.Now().UnixNano()))
	k.cli(t, "files", "get", "--target", k.img, "--passphrase-file", k.passFile, remote, local)
	b, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(local)
	return b
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// openDrive opens the kit image with package drive (read-only unless writable).
func (k *kit) openDrive(t *testing.T, writable bool) (*drive.Drive, *drive.Unlocked, func()) {
	t.Helper()
	flag := os.O_RDONLY
	if writable {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(k.img, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	d, err := drive.Open(&image.FileDevice{F: f, N: st.Size()})
	if err != nil {
		f.Close()
		t.Fatal(err)
	}
	u, err := d.Unlock(k.pass, -1, writable)
	if err != nil {
		f.Close()
		t.Fatal(err)
	}
	return d, u, func() {
		if err := u.Close(); err != nil {
			t.Errorf("closing the drive: %v", err)
		}
		f.Close()
	}
}

// vmRun builds an initramfs with the kit modules and tools, the files and the
// script, boots it on the kit image and returns the markers. Failures inside the
// VM, a missing VMTEST-END (unless the script powers off by itself: wantEnd false)
// and qemu errors fail the test; the console is logged then.
func vmRun(t *testing.T, k *kit, files map[string][]byte, script string, wantEnd bool) (Markers, Result) {
	t.Helper()
	ird := filepath.Join(k.dir, "initrd.cpio")
	r := &Initramfs{Binaries: kitBinaries, Modules: kitModules, Files: files, Script: waitForDisk + script}
	if err := r.WriteFile(ird); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(ird)
	res, err := Boot(context.Background(), BootOptions{Initrd: ird, Disk: k.img, Timeout: 300 * time.Second})
	m := ParseMarkers(res.Output)
	var steps []string
	for _, line := range strings.Split(res.Output, "\n") {
		if i := strings.Index(line, "VMTEST-STEP "); i >= 0 {
			steps = append(steps, strings.TrimSpace(line[i+len("VMTEST-STEP "):]))
		}
	}
	t.Logf("VM run: %.1fs (guest uptime at end: %s); steps: %s", res.Duration.Seconds(), guestUptime(res.Output), strings.Join(steps, ", "))
	bad := err != nil || len(m.Failures) > 0 || (wantEnd && (!m.Ended || m.RC != "0"))
	if bad {
		t.Fatalf("VM run failed: err=%v failures=%q ended=%v rc=%q\nconsole:\n%s", err, m.Failures, m.Ended, m.RC, res.Output)
	}
	if testing.Verbose() {
		t.Logf("console:\n%s", res.Output)
	}
	return m, res
}

var uptimeRE = regexp.MustCompile(`uptime=([0-9.]+)`)

func guestUptime(out string) string {
	all := uptimeRE.FindAllStringSubmatch(out, -1)
	if len(all) == 0 {
		return "?"
	}
	return all[len(all)-1][1] + "s"
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// pattern returns n deterministic pseudo-random bytes.
func pattern(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 'v', 'm'}))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// seqText is what `seq 1 n` prints.
func seqText(n int) []byte {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	return b.Bytes()
}

// sgdiskPartition returns the first sector and the size in sectors of partition n
// as sgdisk -i prints them.
func sgdiskPartition(t *testing.T, img string, n int) (first, size uint64) {
	t.Helper()
	out := mustTool(t, "sgdisk", "-i", strconv.Itoa(n), img)
	f := regexp.MustCompile(`First sector: (\d+)`).FindStringSubmatch(out)
	s := regexp.MustCompile(`Partition size: (\d+) sectors`).FindStringSubmatch(out)
	if f == nil || s == nil {
		t.Fatalf("sgdisk -i %d: unexpected output:\n%s", n, out)
	}
	first, _ = strconv.ParseUint(f[1], 10, 64)
	size, _ = strconv.ParseUint(s[1], 10, 64)
	return first, size
}

// plainImage decrypts the kit's data volume independently of travelkit: the
// partition from sgdisk, the LUKS2 header area copied out and handed to
// `cryptsetup luksDump --dump-volume-key` (no device-mapper needed), and the
// payload decrypted with luks/testdata/xts.py (python3-cryptography). Sectors
// never written (zero ciphertext; the image is sparse) are not worth a trip
// through python: on a real device they decrypt to noise, so they get random
// bytes here, and a filesystem that relied on unwritten blocks reading as zeros
// fails e2fsck as it would on the real thing. Returns the plain ext4 image.
func plainImage(t *testing.T, k *kit, name string) string {
	t.Helper()
	first, _ := sgdiskPartition(t, k.img, 2)
	partOff := int64(first) * 512
	img, err := os.Open(k.img)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	// The JSON area gives the payload offset, size and sector size; the header copy is
	// everything before the payload (both headers and the keyslot areas).
	hdr := filepath.Join(k.dir, name+".hdr")
	hb := make([]byte, 16<<20)
	if _, err := img.ReadAt(hb, partOff); err != nil {
		t.Fatal(err)
	}
	writeFile(t, hdr, hb)
	var meta struct {
		Segments map[string]struct {
			Offset     string `json:"offset"`
			Size       string `json:"size"`
			SectorSize int    `json:"sector_size"`
			Encryption string `json:"encryption"`
		} `json:"segments"`
	}
	js := mustTool(t, "cryptsetup", "luksDump", "--dump-json-metadata", hdr)
	if err := json.Unmarshal([]byte(js), &meta); err != nil {
		t.Fatalf("luksDump --dump-json-metadata: %v\n%s", err, js)
	}
	seg := meta.Segments["0"]
	if seg.Encryption != "aes-xts-plain64" || seg.Size != "dynamic" {
		t.Fatalf("unexpected segment %+v", seg)
	}
	payOff, _ := strconv.ParseInt(seg.Offset, 10, 64)
	if payOff > int64(len(hb)) {
		t.Fatalf("payload offset %d past the 16 MiB header copy", payOff)
	}
	_, partSectors := sgdiskPartition(t, k.img, 2)
	paySize := int64(partSectors)*512 - payOff
	ss := int64(seg.SectorSize)
	vk := filepath.Join(k.dir, name+".vk")
	mustTool(t, "cryptsetup", "luksDump", "--dump-volume-key", "--volume-key-file", vk,
		"--batch-mode", "--key-file", k.passFile, hdr)
	os.Remove(hdr)
	defer os.Remove(vk)

	plain := filepath.Join(k.dir, name+".ext4")
	out, err := os.Create(plain)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// Runs of written sectors (gaps under 1 MiB merged, to keep python runs few).
	type run struct{ first, n int64 }
	var runs []run
	const gap = 1 << 20
	buf := make([]byte, 1<<20)
	for off := int64(0); off < paySize; off += int64(len(buf)) {
		n := min(int64(len(buf)), paySize-off)
		if _, err := img.ReadAt(buf[:n], partOff+payOff+off); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		for s := int64(0); s < n; s += ss {
			if allZero(buf[s : s+ss]) {
				continue
			}
			sec := (off + s) / ss
			if l := len(runs); l > 0 && (sec-(runs[l-1].first+runs[l-1].n))*ss < gap {
				runs[l-1].n = sec - runs[l-1].first + 1
			} else {
				runs = append(runs, run{sec, 1})
			}
		}
	}
	noise := pattern(99, 1<<20)
	for off := int64(0); off < paySize; off += int64(len(noise)) {
		if _, err := out.WriteAt(noise[:min(int64(len(noise)), paySize-off)], off); err != nil {
			t.Fatal(err)
		}
	}
	xts := filepath.Join("..", "luks", "testdata", "xts.py")
	for _, r := range runs {
		ct := make([]byte, r.n*ss)
		if _, err := img.ReadAt(ct, partOff+payOff+r.first*ss); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat("/usr/bin/python3"); err != nil {
			t.Fatalf("/usr/bin/python3 not installed: %v", err)
		}
		cmd := exec.Command("/usr/bin/python3", xts, "decrypt", vk, strconv.FormatInt(ss, 10), strconv.FormatInt(r.first, 10))
		cmd.Stdin = bytes.NewReader(ct)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		pt, err := cmd.Output()
		if err != nil || int64(len(pt)) != r.n*ss {
			t.Fatalf("xts.py decrypt: %v (%d bytes out)\n%s", err, len(pt), stderr.String())
		}
		if _, err := out.WriteAt(pt, r.first*ss); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("decrypted the payload independently: %d runs of written sectors", len(runs))
	return plain
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// fileSHA256 hashes a whole file (the image: to prove a read-only open wrote nothing).
func fileSHA256(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
