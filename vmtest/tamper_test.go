package vmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"travelkit/image"
	"travelkit/internal/craftfat"
)

// Issue 13 A and E, checked against Debian's kernel: for each attack on a kit, what
// Linux shows (in the VM) and what `travelkit verify` says (on the host, with the
// passphrase). Before the fixes, Linux showed the attacker's files while verify said OK.

const evilScript = "#!/bin/sh\necho replaced by an attacker\n"

// verifyFails runs travelkit verify with the passphrase and wants exit status 6 and
// every phrase in the output.
func verifyFails(t *testing.T, k *kit, phrases ...string) string {
	t.Helper()
	out, err := exec.Command(k.tk, "verify", "--target", k.img, "--passphrase-file", k.passFile).CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 6 {
		t.Fatalf("travelkit verify: %v (want exit status 6)\n%s", err, out)
	}
	for _, p := range append(phrases, "FAILED") {
		if !strings.Contains(string(out), p) {
			t.Errorf("verify output lacks %q:\n%s", p, out)
		}
	}
	return string(out)
}

// toolsVolume opens the kit image's tools partition for crafting.
func toolsVolume(t *testing.T, k *kit) (*craftfat.Volume, func()) {
	t.Helper()
	first, size := sgdiskPartition(t, k.img, 1)
	f, err := os.OpenFile(k.img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	sec, err := image.NewSection(&image.FileDevice{F: f, N: st.Size()}, int64(first)*512, int64(size)*512)
	if err != nil {
		t.Fatal(err)
	}
	v, err := craftfat.Open(sec)
	if err != nil {
		t.Fatal(err)
	}
	return v, func() { f.Close() }
}

// TestTamperedToolsPartition: a shadow bin (the genuine entry gets the label bit, 0x18,
// and a second bin with a replaced binary follows) and a file after the end-of-directory
// entry. Linux's vfat runs the attacker's binary and lists the hidden file;
// sha256sum -c fails there; travelkit verify names both.
func TestTamperedToolsPartition(t *testing.T) {
	t.Parallel()
	k := buildKit(t)
	v, done := toolsVolume(t, k)
	off, err := v.Find(v.RootClus, craftfat.Name11("BIN"))
	if err != nil {
		t.Fatal(err)
	}
	v.SetAttr(off, 0x18)
	bin, err := v.AddDir(v.RootClus, 0, craftfat.Name11("BIN"), "bin", 0x10)
	if err != nil {
		t.Fatal(err)
	}
	la, err := v.AddDir(bin, bin, craftfat.Name11("LINUX-~1"), "linux-amd64", 0x10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.AddFile(la, craftfat.Name11("TRAVEL~1"), "travelkit", 0x20, []byte(evilScript), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := v.AddFile(v.RootClus, craftfat.Name11("URGENT~1.TXT"), "URGENT-READ-FIRST.txt", 0x20,
		[]byte("Run sudo sh /media/TRAVELKIT/fix.sh at once.\n"), 1); err != nil {
		t.Fatal(err)
	}
	done()

	script := `
mkdir -p /tools
mount -t vfat -o ro /dev/vda1 /tools || fail "mount -t vfat /dev/vda1"
ok bin_sha=$(sha256sum /tools/bin/linux-amd64/travelkit | cut -d' ' -f1)
ok urgent=$(ls /tools | grep -c URGENT-READ-FIRST.txt)
if (cd /tools && sha256sum -c SHA256SUMS >/tmp/sums 2>&1); then ok sums=passed; else ok sums=failed; fi
umount /tools
ok done=1
`
	m, _ := vmRun(t, k, nil, script, true)
	if m.Values["bin_sha"] != sha256hex([]byte(evilScript)) || m.Values["urgent"] != "1" || m.Values["sums"] != "failed" {
		t.Fatalf("Linux does not see the attack as expected: %v", m.Values)
	}
	t.Log(verifyFails(t, k, "volume-label bit", "after the end-of-directory entry", "tools partition not as travelkit wrote it"))
}

// TestHybridMBR: the protective MBR is replaced by an ordinary one whose partition 1 is
// an attacker's FAT32 "TRAVELKIT" in the free tail of the data partition, and partition 2
// the LUKS volume. The GPT stays valid. Linux ignores the GPT, mounts the attacker's
// volume as vda1 and still opens the LUKS volume; travelkit verify names the MBR.
func TestHybridMBR(t *testing.T) {
	t.Parallel()
	k := buildKit(t)
	dataFirst, dataSize := sgdiskPartition(t, k.img, 2)
	const fatSectors = 80 << 11 // 80 MiB
	attacker := dataFirst + dataSize - fatSectors
	fat := filepath.Join(k.dir, "attacker.img")
	mustTool(t, "truncate", "-s", strconv.Itoa(fatSectors*512), fat)
	mustTool(t, "mkfs.vfat", "-F", "32", "-n", "TRAVELKIT", fat)
	mustTool(t, "mmd", "-i", fat, "::/bin", "::/bin/linux-amd64")
	evil := filepath.Join(k.dir, "evil")
	writeFile(t, evil, []byte(evilScript))
	mustTool(t, "mcopy", "-i", fat, evil, "::/bin/linux-amd64/travelkit")
	mustTool(t, "dd", "if="+fat, "of="+k.img, "bs=1M", fmt.Sprintf("seek=%d", attacker*512>>20), "conv=notrunc,sparse", "status=none")
	mbr := fmt.Sprintf("label: dos\nstart=%d, size=%d, type=c\nstart=%d, size=%d, type=83\n", attacker, fatSectors, dataFirst, attacker-dataFirst)
	if out, err := tool(t, []byte(mbr), "sfdisk", "--no-reread", "--no-tell-kernel", "--wipe", "never", k.img); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	out, _ := tool(t, nil, "sgdisk", "-v", k.img)
	t.Logf("sgdisk -v after the MBR change:\n%s", out)

	script := `
ok p1start=$(cat /sys/block/vda/vda1/start)
ok label1=$(blkid -o value -s LABEL /dev/vda1)
mkdir -p /tools
mount -t vfat -o ro /dev/vda1 /tools || fail "mount the attacker's vda1"
ok bin_sha=$(sha256sum /tools/bin/linux-amd64/travelkit | cut -d' ' -f1)
umount /tools
cryptsetup open --test-passphrase /dev/vda2 --key-file /pass && ok luks=opens
ok done=1
`
	m, _ := vmRun(t, k, map[string][]byte{"/pass": k.pass}, script, true)
	want := map[string]string{"p1start": strconv.FormatUint(attacker, 10), "label1": "TRAVELKIT",
		"bin_sha": sha256hex([]byte(evilScript)), "luks": "opens"}
	for key, w := range want {
		if m.Values[key] != w {
			t.Errorf("in the VM: %s = %q, want %q", key, m.Values[key], w)
		}
	}
	if t.Failed() {
		return
	}
	t.Log(verifyFails(t, k, "not a protective MBR", "no protective (0xEE) entry"))
}

// TestStockMountIsPrivate (E): opened the stock way (cryptsetup open, mount), as the
// RESTORE pages tell Linux users, the volume's backups and their password are refused to
// an unprivileged user.
func TestStockMountIsPrivate(t *testing.T) {
	t.Parallel()
	k := buildKit(t)
	k.put(t, "notes/private.txt", []byte("a file put on the kit\n"))
	files := map[string][]byte{
		"/pass":       k.pass,
		"/etc/passwd": []byte("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"),
		"/etc/group":  []byte("root:x:0:\nnogroup:x:65534:\n"),
	}
	script := `
cryptsetup open /dev/vda2 kit --key-file /pass || fail "cryptsetup open"
mount -t ext4 /dev/mapper/kit /mnt || fail "mount -t ext4"
ok modes=$(stat -c '%n:%a:%U' /mnt /mnt/travelkit /mnt/travelkit/repo-password /mnt/repo /mnt/notes/private.txt | tr '\n' ' ' | tr ' ' ,)
ok root_reads=$(cat /mnt/travelkit/repo-password | wc -c)
for p in /mnt/travelkit/repo-password /mnt/travelkit/manifest.json /mnt/notes/private.txt; do
	if su -s /bin/sh nobody -c "cat $p" >/dev/null 2>&1; then fail "an unprivileged user read $p"; fi
done
if su -s /bin/sh nobody -c "ls /mnt" >/dev/null 2>&1; then fail "an unprivileged user listed the volume"; fi
su -s /bin/sh nobody -c "id -u" >/tmp/id 2>&1 && ok nobody=$(cat /tmp/id)
ok refused=all
umount /mnt
cryptsetup close kit
ok done=1
`
	m, _ := vmRun(t, k, files, script, true)
	if m.Values["refused"] != "all" || m.Values["nobody"] != "65534" || m.Values["root_reads"] != "64" {
		t.Fatalf("in the VM: %v", m.Values)
	}
	want := "/mnt:700:root,/mnt/travelkit:700:root,/mnt/travelkit/repo-password:600:root,/mnt/repo:700:root,/mnt/notes/private.txt:600:root,"
	if m.Values["modes"] != want {
		t.Errorf("modes in the VM: %s, want %s", m.Values["modes"], want)
	}
}
