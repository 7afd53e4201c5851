package ext4

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"travelkit/image/internal/testutil"
)

// Issue 13 E: what travelkit creates is private to root (folders 0700, files 0600), and a
// volume written before that is made private on its next write. debugfs (e2fsprogs)
// reads the modes back and, for the old volume, writes the old modes.
func TestPrivateModes(t *testing.T) {
	f, dev, path := newVolume(t, 64<<20, FormatOptions{Label: "kit"})
	for _, p := range []string{"travelkit/repo-password", "repo/data/00/0011", "notes/a.txt"} {
		if err := f.WriteFile(p, bytes.NewReader([]byte("secret")), 6, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, path)
	modes := func() map[string]string {
		m := map[string]string{}
		for _, p := range []string{"/", "/travelkit", "/travelkit/repo-password", "/repo", "/repo/data", "/repo/data/00/0011", "/notes/a.txt", "/lost+found"} {
			out := debugfs(t, path, "stat "+p)
			i := strings.Index(out, "Mode:")
			if i < 0 {
				t.Fatalf("debugfs stat %s:\n%s", p, out)
			}
			m[p] = strings.Fields(out[i+5:])[0]
			if u := strings.Index(out, "User:"); u < 0 || strings.Fields(out[u+5:])[0] != "0" {
				t.Errorf("%s not owned by root:\n%s", p, out)
			}
		}
		return m
	}
	for p, m := range modes() {
		want := "0600"
		if !strings.Contains(p, ".") && !strings.Contains(p, "password") && !strings.HasSuffix(p, "0011") {
			want = "0700"
		}
		if m != want {
			t.Errorf("%s: mode %s, want %s", p, m, want)
		}
	}

	// A volume as travelkit wrote it before: everything readable by all.
	for p, m := range map[string]string{"/": "040755", "/travelkit": "040755", "/travelkit/repo-password": "0100644",
		"/repo": "040755", "/repo/data": "040755", "/repo/data/00": "040755", "/repo/data/00/0011": "0100644",
		"/notes": "040755", "/notes/a.txt": "0100644"} {
		testutil.MustTool(t, "debugfs", "-w", "-R", "sif "+p+" mode "+m, path)
	}
	fsck(t, path)
	f, err := Open(dev, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.RestrictModes()
	if err != nil || n != 9 {
		t.Fatalf("RestrictModes: %d changed, %v", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, path)
	for p, m := range modes() {
		if m != "0600" && m != "0700" {
			t.Errorf("%s: mode %s after RestrictModes", p, m)
		}
	}
	f, _ = Open(dev, Options{Writable: true})
	if n, err := f.RestrictModes(); n != 0 || err != nil {
		t.Errorf("second RestrictModes: %d, %v", n, err)
	}
	f.Close()
}
