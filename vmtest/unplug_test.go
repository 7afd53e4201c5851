package vmtest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"travelkit/image/ext4"
)

// TestUnpluggedWithoutUnmount has the VM's kernel write to the kit's ext4 volume,
// fsync everything (data and a journal commit reach the disk) and power off without
// unmounting, with writeback of the metadata turned off, so that the kernel's
// metadata changes exist only in the journal: needs_recovery is set, and a reader
// that ignores the journal (debugfs) sees the old state. travelkit on the host must
// then read exactly what the kernel wrote (journal replay), through package drive
// and `travelkit files get`, without writing to the drive on a read; and its first
// write (`travelkit files put`) must replay the journal to disk and leave an ext4 that
// e2fsck -fn passes, checked on the payload decrypted independently (cryptsetup's
// volume key and luks/testdata/xts.py).
func TestUnpluggedWithoutUnmount(t *testing.T) {
	t.Parallel()
	k := buildKit(t)
	k.put(t, "notes/hello.txt", []byte("hello from travelkit\n"))
	k.put(t, "notes/gone.txt", []byte("the kernel deletes this\n"))
	k.put(t, "notes/old/x.txt", []byte("the kernel deletes this folder\n"))
	keep := pattern(3, 200<<10)
	k.put(t, "notes/keep.bin", keep)

	big := pattern(4, 2<<20+999)
	files := map[string][]byte{"/pass": k.pass, "/big.bin": big}
	script := `
cryptsetup open /dev/vda2 kit --key-file /pass || fail "cryptsetup open"
step cryptsetup-open
# No periodic writeback and no timed commits: after the fsyncs below, the metadata
# the kernel changed is in the journal and nowhere else (it would be written home
# by the flusher or at a checkpoint: neither happens before the power cut).
echo 0 > /proc/sys/vm/dirty_writeback_centisecs
echo 360000 > /proc/sys/vm/dirty_expire_centisecs
mount -t ext4 -o commit=600 /dev/mapper/kit /mnt || fail "mount -t ext4"
mkdir -p /mnt/crash/deep || fail mkdir
cp /big.bin /mnt/crash/big.bin || fail "cp big.bin"
echo "kernel note" > /mnt/crash/note.txt
seq 1 60000 > /mnt/crash/deep/seq.txt
for i in $(seq 1 50); do echo "$i" > /mnt/crash/f$i; done
rm /mnt/crash/f7
echo "appended by the kernel" >> /mnt/notes/hello.txt
rm /mnt/notes/gone.txt || fail "rm gone.txt"
rm -r /mnt/notes/old || fail "rm -r old"
# busybox sync FILE... is fsync(2) on each, folders too (not sync(2), which would
# also write the metadata home).
sync /mnt/crash/big.bin /mnt/crash/note.txt /mnt/crash/deep/seq.txt /mnt/crash/f* /mnt/notes/hello.txt \
	/mnt/crash/deep /mnt/crash /mnt/notes /mnt || fail "fsync"
ok fsynced=1
step write-and-fsync
# The power cut: sysrq o powers off at once, no sync, no unmount.
echo o > /proc/sysrq-trigger
sleep 60
fail "still running after sysrq o"
`
	m, _ := vmRun(t, k, files, script, false)
	if m.Values["fsynced"] != "1" || m.Ended {
		t.Fatalf("the VM did not fsync and cut power as planned: %+v", m)
	}

	want := map[string][]byte{
		"crash/big.bin":        big,
		"crash/note.txt":       []byte("kernel note\n"),
		"crash/deep/seq.txt":   seqText(60000),
		"crash/f1":             []byte("1\n"),
		"crash/f50":            []byte("50\n"),
		"notes/hello.txt":      []byte("hello from travelkit\nappended by the kernel\n"),
		"notes/keep.bin":       keep,
		"travelkit/SHA256SUMS": nil, // exists; content not checked
	}
	gone := []string{"crash/f7", "notes/gone.txt", "notes/old/x.txt", "notes/old"}

	// The state the kernel left, seen independently of travelkit: needs_recovery is
	// set, and without the journal the kernel's changes are missing (otherwise this
	// test would prove nothing).
	plain := plainImage(t, k, "unplugged")
	if h := mustTool(t, "dumpe2fs", "-h", plain); !strings.Contains(featuresLine(h), "needs_recovery") {
		t.Fatalf("the kernel left no journal to recover (needs_recovery is not set): the test would prove nothing\n%s", h)
	}
	if out, _ := tool(t, nil, "debugfs", "-R", "cat /crash/note.txt", plain); strings.Contains(out, "kernel note") {
		t.Fatalf("debugfs, which ignores the journal, already sees the kernel's new file: the kernel checkpointed, the test would prove nothing")
	}
	if out, _ := tool(t, nil, "debugfs", "-R", "cat /notes/hello.txt", plain); strings.Contains(out, "appended") {
		t.Fatalf("debugfs, which ignores the journal, already sees the kernel's append: the test would prove nothing")
	}

	// travelkit, read-only: package drive and the CLI read the kernel's state and
	// write nothing.
	before := fileSHA256(t, k.img)
	_, u, done := k.openDrive(t, false)
	if n := u.FS.Replayed(); n == 0 {
		t.Errorf("drive: the journal needed recovery, yet Replayed() = 0")
	} else {
		t.Logf("drive (read-only): %d journal transactions replayed in memory; warnings: %q", n, u.FS.Warnings())
	}
	checkFiles(t, "drive read-only", u.FS, want, gone)
	done()
	for _, p := range []string{"crash/note.txt", "crash/big.bin", "crash/deep/seq.txt", "notes/hello.txt"} {
		if got := k.get(t, p); !bytes.Equal(got, want[p]) {
			t.Errorf("travelkit files get %s: %d bytes (sha256 %s), want %d bytes (sha256 %s)", p, len(got), sha256hex(got), len(want[p]), sha256hex(want[p]))
		}
	}
	if ls := k.cli(t, "files", "ls", "--target", k.img, "--passphrase-file", k.passFile, "notes"); strings.Contains(ls, "gone.txt") || strings.Contains(ls, "old") || !strings.Contains(ls, "hello.txt") {
		t.Errorf("travelkit files ls notes after the kernel deleted gone.txt and old/:\n%s", ls)
	}
	if after := fileSHA256(t, k.img); after != before {
		t.Errorf("reading the kit (package drive read-only, travelkit files get/ls) changed the image")
	}

	// travelkit's first write replays the journal to disk, then writes.
	putText := []byte("put by travelkit after the power cut\n")
	k.put(t, "after/put.txt", putText)
	want["after/put.txt"] = putText

	plain = plainImage(t, k, "after-put")
	h := mustTool(t, "dumpe2fs", "-h", plain)
	if strings.Contains(featuresLine(h), "needs_recovery") {
		t.Errorf("after travelkit files put, needs_recovery is still set:\n%s", h)
	}
	if out, err := tool(t, nil, "e2fsck", "-fn", plain); err != nil {
		t.Errorf("e2fsck -fn after the replay and travelkit files put: %v\n%s", err, out)
	}
	for p, w := range map[string]string{
		"/crash/note.txt":  "kernel note\n",
		"/notes/hello.txt": "hello from travelkit\nappended by the kernel\n",
		"/after/put.txt":   string(putText),
	} {
		if out := mustTool(t, "debugfs", "-R", "cat "+p, plain); !strings.Contains(out, w) {
			t.Errorf("debugfs cat %s on the independently decrypted volume: %q, want %q", p, out, w)
		}
	}
	if out, _ := tool(t, nil, "debugfs", "-R", "stat /notes/gone.txt", plain); !strings.Contains(out, "File not found") {
		t.Errorf("debugfs: /notes/gone.txt, deleted by the kernel, is back after the replay:\n%s", out)
	}

	_, u, done = k.openDrive(t, false)
	defer done()
	if n := u.FS.Replayed(); n != 0 {
		t.Errorf("after travelkit's write the journal still replays %d transactions", n)
	}
	checkFiles(t, "drive after files put", u.FS, want, gone)
}

// featuresLine returns the "Filesystem features:" line of dumpe2fs -h.
func featuresLine(h string) string {
	for _, l := range strings.Split(h, "\n") {
		if strings.HasPrefix(l, "Filesystem features:") {
			return l
		}
	}
	return ""
}

// checkFiles compares files (nil: must exist) and checks that the gone ones are gone.
func checkFiles(t *testing.T, who string, fs *ext4.FS, want map[string][]byte, gone []string) {
	t.Helper()
	for p, w := range want {
		got, err := fs.ReadFile(p)
		switch {
		case err != nil:
			t.Errorf("%s: %s: %v", who, p, err)
		case w != nil && !bytes.Equal(got, w):
			t.Errorf("%s: %s: %d bytes (sha256 %s), want %d bytes (sha256 %s)%s", who, p, len(got), sha256hex(got), len(w), sha256hex(w), short(got))
		}
	}
	for _, p := range gone {
		if _, err := fs.Stat(p); err == nil {
			t.Errorf("%s: %s was deleted by the kernel, yet reads", who, p)
		}
	}
}

func short(b []byte) string {
	if len(b) > 80 {
		return ""
	}
	return fmt.Sprintf(" %q", b)
}
