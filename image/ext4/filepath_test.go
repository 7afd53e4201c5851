package ext4

import (
	"slices"
	"strings"
	"testing"
	"time"

	"travelkit/image/internal/testutil"
)

// TestNewFileBadPaths: WriteFile, CreateStream and Stream.Commit refuse a path that names
// no file ("", "/", "."), one that leaves the root and one whose name ext4 cannot hold
// (longer than 255 bytes), and make no name for it.
func TestNewFileBadPaths(t *testing.T) {
	fdev, _ := testutil.SparseFile(t, "vol.img", 32<<20)
	if err := Format(fdev, FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(aligned{fdev}, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		t.Helper()
		ents, err := f.ReadDir("/")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.Name)
		}
		return out
	}
	before := names()
	bad := []string{"", "/", ".", "..", "../x", "a/" + strings.Repeat("n", 256)}
	for _, p := range bad {
		if err := f.WriteFile(p, strings.NewReader("x"), 1, time.Time{}); err == nil {
			t.Errorf("WriteFile(%q): no error", p)
		}
		if s, err := f.CreateStream(p); err == nil {
			t.Errorf("CreateStream(%q): no error", p)
			s.Abort()
		}
	}
	s, err := f.CreateStream("tmp/stream")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	for _, p := range bad {
		if err := s.Commit(p, time.Time{}); err == nil {
			t.Fatalf("Commit(%q): no error", p)
		}
	}
	// a refused name leaves the stream as it was: it commits under a good one
	if err := s.Commit("good", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.ReadFile("good"); err != nil || string(got) != "data" {
		t.Fatalf("good: %q, %v", got, err)
	}
	if got, want := names(), append(before, "good", "tmp"); !sameNames(got, want) {
		t.Fatalf("names at the root: %q, want %q", got, want)
	}
}

func sameNames(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
