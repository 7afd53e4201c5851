package bytesize

import (
	"math"
	"strings"
	"testing"
)

// Every unit, in every case: decimal for kB/MB/GB/TB, binary for the IEC names and the bare
// letters. "64MB" is the case that two parsers once disagreed on (64,000,000 vs 67,108,864).
func TestParseEveryUnit(t *testing.T) {
	for _, c := range []struct {
		unit string
		mult int64
	}{
		{"", 1}, {"B", 1},
		{"K", 1 << 10}, {"Ki", 1 << 10}, {"KiB", 1 << 10}, {"kB", 1000}, {"KB", 1000},
		{"M", 1 << 20}, {"Mi", 1 << 20}, {"MiB", 1 << 20}, {"MB", 1000 * 1000},
		{"G", 1 << 30}, {"Gi", 1 << 30}, {"GiB", 1 << 30}, {"GB", 1000 * 1000 * 1000},
		{"T", 1 << 40}, {"Ti", 1 << 40}, {"TiB", 1 << 40}, {"TB", 1000 * 1000 * 1000 * 1000},
	} {
		for _, u := range []string{c.unit, strings.ToLower(c.unit), strings.ToUpper(c.unit), " " + c.unit} {
			got, err := Parse("64" + u)
			if err != nil || got != 64*c.mult {
				t.Errorf("Parse(%q) = %d, %v; want %d", "64"+u, got, err, 64*c.mult)
			}
		}
	}
	if n, _ := Parse("64MB"); n != 64_000_000 {
		t.Errorf("Parse(64MB) = %d, want 64000000 (decimal, as the README says)", n)
	}
}

func TestParse(t *testing.T) {
	good := map[string]int64{
		"0":                   0,
		"1048576":             1 << 20,
		"4096B":               4096,
		"512mib":              512 << 20,
		"256 MiB":             256 << 20,
		"1.5GiB":              3 << 29,
		"1.5KB":               1500,
		" 8MB\n":              8e6,
		"0.5K":                512,
		"1000000KB":           1e9,
		"4611686018427387903": Max,
	}
	for s, want := range good {
		got, err := Parse(s)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "MiB", "-1", "1.2.3", ".5G", "5.G", "1 PiB", "12 bananas", "0.1B", "1.0000001K",
		"9999999999TB", "1e9", "0x10", "1,5G", "4611686018427387904", "64MiBB", "64 M B"} {
		if got, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", s, got)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 512: "512 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 256 << 20: "256 MiB",
		3 << 29: "1.5 GiB", 2e12: "1.8 TiB", 1<<20 - 1: "1 MiB", -2048: "-2 KiB",
		math.MaxInt64: "8 EiB", math.MinInt64: "-8 EiB",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{
		0: "0 B", 999: "999 B", 1000: "1 kB", 209_715_200: "209.7 MB", 2e12: "2 TB", 64 << 30: "68.7 GB",
	} {
		if got := FormatDecimal(n); got != want {
			t.Errorf("FormatDecimal(%d) = %q, want %q", n, got, want)
		}
	}
}

// What Format writes, Parse reads back (to the precision written).
func TestRoundTrip(t *testing.T) {
	for _, n := range []int64{0, 1, 1 << 10, 3 << 29, 256 << 20, 2 << 40} {
		got, err := Parse(strings.ReplaceAll(Format(n), " ", ""))
		if err != nil || got != n {
			t.Errorf("Parse(Format(%d) = %q) = %d, %v", n, Format(n), got, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"512MiB", "1.5G", "2TB", "0", "99999999999999999999", "64MB", "0.5ki"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err == nil && (n < 0 || n > Max) {
			t.Fatalf("Parse(%q) = %d", s, n)
		}
	})
}
