package profile

import "testing"

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"0":         0,
		"1048576":   1 << 20,
		"4096B":     4096,
		"512MiB":    512 << 20,
		"512mib":    512 << 20,
		"256 MiB":   256 << 20,
		"64GiB":     64 << 30,
		"64G":       64 << 30,
		"1k":        1024,
		"2TB":       2e12,
		"1.5GiB":    3 << 29,
		"1.5KB":     1500,
		"2TiB":      2 << 40,
		" 8MB\n":    8e6,
		"0.5K":      512,
		"1000000KB": 1e9,
	}
	for s, want := range good {
		got, err := ParseSize(s)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "MiB", "-1", "1.2.3", ".5G", "5.G", "1 PiB", "12 bananas", "0.1B", "1.0000001K", "9999999999TB", "1e9", "0x10", "1,5G"} {
		if got, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) = %d, want error", s, got)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 512: "512 B", 1024: "1 KiB", 256 << 20: "256 MiB", 3 << 29: "1.5 GiB", 2e12: "1.82 TiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"512MiB", "1.5G", "2TB", "0", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}
