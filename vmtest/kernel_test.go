package vmtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestKernelOpensKit builds a kit with the CLI, puts a file on it, and boots Debian's
// kernel on the image: the kernel's GPT parser must find the partitions where
// travelkit put them, vfat must mount the tools partition (label, files, SHA256SUMS),
// the travelkit binary on it must run and verify the kit through /dev/vda,
// cryptsetup must open the LUKS2 volume with the passphrase (and accept the
// recovery key), e2fsck must find the ext4 clean and the kernel must mount it and
// read the file back. The VM then writes files of its own and unmounts; on the host,
// package drive and `travelkit files get` must read exactly what the kernel wrote,
// and `travelkit verify` must pass.
func TestKernelOpensKit(t *testing.T) {
	t.Parallel()
	k := buildKit(t)
	putData := pattern(1, 300<<10+123) // not a whole number of blocks
	k.put(t, "notes/from-host.bin", putData)
	k.put(t, "notes/hello.txt", []byte("hello from travelkit\n"))

	d, _, done := k.openDrive(t, false)
	toolsBin, err := os.ReadFile(filepath.Join(k.binDir, "travelkit-linux-amd64"))
	if err != nil {
		t.Fatal(err)
	}
	var luksUUID string
	if c, err := d.Container(); err != nil {
		t.Fatal(err)
	} else {
		luksUUID = c.UUID()
	}
	parts := d.Table.Partitions
	done()
	if len(parts) != 2 || d.Table.SectorSize != 512 {
		t.Fatalf("travelkit's GPT reader: %d partitions, %d-byte sectors", len(parts), d.Table.SectorSize)
	}
	for i, p := range parts {
		first, size := sgdiskPartition(t, k.img, i+1)
		if first != p.First || size != p.Last-p.First+1 {
			t.Fatalf("partition %d: travelkit says %d+%d sectors, sgdisk %d+%d", i+1, p.First, p.Last-p.First+1, first, size)
		}
	}

	vmText := "written by the Linux kernel in the VM\n"
	vmBig := pattern(2, 3<<20+4096+17)
	files := map[string][]byte{
		"/pass":    k.pass,
		"/rk":      k.recovery,
		"/big.bin": vmBig,
	}
	script := `
for p in 1 2; do ok p${p}start=$(cat /sys/block/vda/vda$p/start) p${p}size=$(cat /sys/block/vda/vda$p/size); done
[ -e /sys/block/vda/vda3 ] && fail "a third partition vda3"
ok blkid1=$(blkid -o value -s TYPE /dev/vda1),$(blkid -o value -s LABEL /dev/vda1)
ok blkid2=$(blkid -o value -s TYPE /dev/vda2),$(blkid -o value -s LABEL /dev/vda2),$(blkid -o value -s UUID /dev/vda2)
ok findfs=$(findfs LABEL=TRAVELKIT)
ok bslabel=$(dd if=/dev/vda1 bs=1 skip=71 count=11 2>/dev/null | tr ' ' _)
step gpt-and-labels

# vfat: the tools partition, its files and checksums; then the travelkit binary on it,
# run by this kernel against the whole disk.
mkdir -p /tools
mount -t vfat -o ro /dev/vda1 /tools || fail "mount -t vfat /dev/vda1"
for f in manifest.json SHA256SUMS RESTORE.en.txt RESTORE.en.html bin/linux-amd64/travelkit; do
	[ -f /tools/$f ] || fail "tools partition: no $f"
done
ok tools_bin_sha=$(sha256sum /tools/bin/linux-amd64/travelkit | cut -d' ' -f1)
(cd /tools && sha256sum -c SHA256SUMS >/tmp/sums 2>&1) || { cat /tmp/sums; fail "sha256sum -c SHA256SUMS on vfat"; }
ok sha256sums=checked
step vfat
cp /tools/manifest.json /tmp/manifest.json
/tools/bin/linux-amd64/travelkit verify --target /dev/vda --passphrase-file /pass >/tmp/verify 2>&1 || { cat /tmp/verify; umount /tools; fail "travelkit verify in the VM"; }
ok vm_verify=passed
step travelkit-verify-in-vm
umount /tools || fail "umount /tools"

# Each unlock costs the digest's PBKDF2 (calibrated on the host: seconds under TCG).
cryptsetup open --test-passphrase --key-slot 1 /dev/vda2 --key-file /rk || fail "cryptsetup: recovery key"
ok recovery_key=accepted
step cryptsetup-recovery-key
cryptsetup open /dev/vda2 kit --key-file /pass || fail "cryptsetup open with the passphrase"
step cryptsetup-open
ok table=$(cryptsetup status kit | awk '$1 == "cipher:" {print $2}')
e2fsck -fn /dev/mapper/kit >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "e2fsck -fn on the kit as travelkit left it"; }
ok e2fsck_before=clean
step e2fsck
mount -t ext4 /dev/mapper/kit /mnt || fail "mount -t ext4 /dev/mapper/kit"
ok put_sha=$(sha256sum /mnt/notes/from-host.bin | cut -d' ' -f1)
ok hello=$(tr ' \n' '_' < /mnt/notes/hello.txt)
cmp /mnt/travelkit/manifest.json /tmp/manifest.json || fail "the manifest copy inside the volume differs from the tools partition's"
[ -d /mnt/repo ] || fail "no repo/ in the volume"

mkdir -p /mnt/notes /mnt/vm/many || fail mkdir
printf '%s' "` + vmText + `" > /mnt/notes/from-vm.txt
cp /big.bin /mnt/vm/big.bin || fail "cp big.bin"
for i in $(seq 1 300); do echo "file $i" > /mnt/vm/many/f$i; done
echo "appended by the kernel" >> /mnt/notes/hello.txt
ok vm_big_sha=$(sha256sum /mnt/vm/big.bin | cut -d' ' -f1)
umount /mnt || fail "umount /mnt"
e2fsck -fn /dev/mapper/kit >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "e2fsck -fn after the kernel wrote"; }
cryptsetup close kit || fail "cryptsetup close"
step write-umount-close
ok done=1
`
	m, _ := vmRun(t, k, files, script, true)
	want := map[string]string{
		"blkid1":        "vfat,TRAVELKIT",
		"blkid2":        "crypto_LUKS,vmtest," + luksUUID,
		"findfs":        "/dev/vda1",
		"bslabel":       "TRAVELKIT__",
		"tools_bin_sha": sha256hex(toolsBin),
		"sha256sums":    "checked",
		"vm_verify":     "passed",
		"recovery_key":  "accepted",
		"table":         "aes-xts-plain64",
		"e2fsck_before": "clean",
		"put_sha":       sha256hex(putData),
		"hello":         "hello_from_travelkit_",
		"vm_big_sha":    sha256hex(vmBig),
		"done":          "1",
	}
	for i, p := range parts {
		want[fmt.Sprintf("p%dstart", i+1)] = strconv.FormatUint(p.First, 10)
		want[fmt.Sprintf("p%dsize", i+1)] = strconv.FormatUint(p.Last-p.First+1, 10)
	}
	for key, w := range want {
		if got, ok := m.Values[key]; !ok || got != w {
			t.Errorf("in the VM: %s = %q, want %q", key, got, w)
		}
	}
	if t.Failed() {
		return
	}

	// Back on the host: what the kernel wrote, through package drive...
	_, u, done := k.openDrive(t, false)
	if n := u.FS.Replayed(); n != 0 {
		t.Errorf("the kernel unmounted cleanly, yet %d journal transactions were replayed", n)
	}
	wantFiles := map[string][]byte{
		"notes/from-vm.txt":   []byte(vmText),
		"vm/big.bin":          vmBig,
		"vm/many/f1":          []byte("file 1\n"),
		"vm/many/f150":        []byte("file 150\n"),
		"vm/many/f300":        []byte("file 300\n"),
		"notes/hello.txt":     []byte("hello from travelkit\nappended by the kernel\n"),
		"notes/from-host.bin": putData,
	}
	for p, w := range wantFiles {
		got, err := u.FS.ReadFile(p)
		if err != nil {
			t.Errorf("drive: %s: %v", p, err)
		} else if !bytes.Equal(got, w) {
			t.Errorf("drive: %s: %d bytes (sha256 %s), want %d bytes (sha256 %s)", p, len(got), sha256hex(got), len(w), sha256hex(w))
		}
	}
	// 300 entries: the kernel turned vm/many into an htree (indexed) directory.
	if ents, err := u.FS.ReadDir("vm/many"); err != nil || len(ents) != 300 {
		t.Errorf("drive: ReadDir vm/many: %d entries, %v; want 300", len(ents), err)
	}
	done()

	// ...and through the CLI.
	for _, p := range []string{"notes/from-vm.txt", "vm/big.bin", "notes/hello.txt"} {
		if got := k.get(t, p); !bytes.Equal(got, wantFiles[p]) {
			t.Errorf("travelkit files get %s: %d bytes (sha256 %s), want %d bytes", p, len(got), sha256hex(got), len(wantFiles[p]))
		}
	}
	if ls := k.cli(t, "files", "ls", "--target", k.img, "--passphrase-file", k.passFile, "vm"); !strings.Contains(ls, "big.bin") || !strings.Contains(ls, "many") {
		t.Errorf("travelkit files ls vm:\n%s", ls)
	}
	k.cli(t, "verify", "--target", k.img, "--passphrase-file", k.passFile)
	k.cli(t, "verify", "--target", k.img, "--recovery-key-file", k.recoveryFile)
}
