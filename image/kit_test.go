package image_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"travelkit/image"
	"travelkit/image/ext4"
	"travelkit/image/fat32"
	"travelkit/image/gpt"
	"travelkit/image/internal/testutil"
)

// TestKitLayout lays out a whole drive (without the LUKS layer, which lives
// in package luks): GPT, FAT32 tools partition, ext4 in partition 2, and
// checks it with the standard tools at the partitions' offsets.
func TestKitLayout(t *testing.T) {
	for _, size := range []int64{1 << 30, 64 << 30} {
		t.Run(fmt.Sprintf("%dGiB", size>>30), func(t *testing.T) {
			dev, path := testutil.SparseFile(t, "disk.img", size)
			c := image.NewCounting(dev)
			t0 := time.Now()
			tab, err := gpt.Layout(size, 512, []gpt.Spec{
				{Type: gpt.TypeMicrosoftBasicData, Name: "TRAVELKIT", Size: 256 << 20},
				{Type: gpt.TypeLinuxLUKS, Name: "travelkit-data"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := gpt.Write(c, tab); err != nil {
				t.Fatal(err)
			}
			p1, err := image.Partition(c, tab, 1)
			if err != nil {
				t.Fatal(err)
			}
			w, err := fat32.Format(p1, p1.Size(), fat32.Options{Label: "TRAVELKIT", HiddenStart: uint32(tab.Partitions[0].First)})
			if err != nil {
				t.Fatal(err)
			}
			bin := bytes.Repeat([]byte("travelkit binary "), 1<<18) // 4.25 MiB
			for _, p := range []string{"bin/linux-amd64/travelkit", "bin/windows-amd64/travelkit.exe"} {
				if err := w.WriteFile(p, bytes.NewReader(bin), int64(len(bin)), time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.WriteFile("RESTORE.en.txt", strings.NewReader("restore\n"), 8, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			p2, err := image.Partition(c, tab, 2)
			if err != nil {
				t.Fatal(err)
			}
			if err := ext4.Format(p2, ext4.FormatOptions{Label: "kit"}); err != nil {
				t.Fatal(err)
			}
			fs, err := ext4.Open(p2, ext4.Options{Writable: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := fs.MkdirAll("repo"); err != nil {
				t.Fatal(err)
			}
			if err := fs.WriteFile("travelkit/manifest.json", strings.NewReader("{}\n"), 3, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if err := fs.Close(); err != nil {
				t.Fatal(err)
			}
			el := time.Since(t0)
			allocated := testutil.Allocated(t, path)
			t.Logf("%d GiB disk: %.2f MiB written (%.2f MiB of it tools files) in %v; %.2f MiB allocated on disk",
				size>>30, float64(c.BytesWritten())/(1<<20), float64(2*len(bin))/(1<<20), el.Round(time.Millisecond), float64(allocated)/(1<<20))

			if out := testutil.MustTool(t, "sgdisk", "-v", path); !strings.Contains(out, "No problems found") {
				t.Fatal(out)
			}
			off1 := tab.Offset(tab.Partitions[0])
			img := fmt.Sprintf("%s@@%d", path, off1)
			if out := testutil.MustTool(t, "mdir", "-i", img, "-/", "-b", "::/"); !strings.Contains(out, "::/bin/linux-amd64/travelkit") {
				t.Fatalf("mdir:\n%s", out)
			}
			off2 := tab.Offset(tab.Partitions[1])
			e := fmt.Sprintf("%s?offset=%d", path, off2)
			testutil.MustTool(t, "e2fsck", "-fn", e)
			if out := testutil.MustTool(t, "debugfs", "-R", "cat /travelkit/manifest.json", e); !strings.Contains(out, "{}") {
				t.Fatalf("debugfs cat: %s", out)
			}
			// Read back with our readers.
			r1, err := fat32.Open(p1, p1.Size())
			if err != nil {
				t.Fatal(err)
			}
			if b, err := r1.ReadFile("bin/linux-amd64/travelkit", 1<<30); err != nil || !bytes.Equal(b, bin) {
				t.Fatalf("fat32 read: %v", err)
			}
			r2, err := ext4.Open(p2, ext4.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if b, err := r2.ReadFile("travelkit/manifest.json"); err != nil || string(b) != "{}\n" {
				t.Fatalf("ext4 read: %q %v", b, err)
			}
		})
	}
}
