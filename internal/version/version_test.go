package version

import "testing"

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		c    int
		ok   bool
	}{
		{"v1.2.3", "v1.2.3", 0, true},
		{"v1.2.3", "v1.2.4", -1, true},
		{"v1.10.0", "v1.9.9", 1, true},
		{"v1.2.3", "v1.2.3-4-gabcdef0", -1, true},
		{"v1.2.3-4-gabcdef0-dirty", "v1.2.3-12-g1234567", -1, true},
		{"2.0.0", "v1.99.0", 1, true},
		{"dev", "dev", 0, true},
		{"dev", "v1.0.0", 0, false},
		{"9af7ada", "v1.0.0", 0, false},
		{"v1.2", "v1.2.0", 0, false},
		{"v1.2.3-x-gabc", "v1.2.3", 0, false},
	} {
		c, ok := Compare(tc.a, tc.b)
		if c != tc.c || ok != tc.ok {
			t.Errorf("Compare(%q, %q) = %d, %v; want %d, %v", tc.a, tc.b, c, ok, tc.c, tc.ok)
		}
	}
}
