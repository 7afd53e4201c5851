package profile

import (
	"fmt"
	"math"
	"math/big"
	"strings"
)

// Units for ParseSize. IEC units and the bare letters are binary (K = KiB = 1024, as in dd
// and truncate); SI units are decimal (KB = 1000, GB = 10^9, TB = 10^12, as drive makers
// count, so "2TB" is the size printed on a 2 TB disk). Units are case-insensitive.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// ParseSize parses a size in bytes: a whole number ("1048576"), or a number and a unit
// ("512MiB", "64GiB", "2TB", "1.5G", "256 MiB"). KiB, MiB, GiB, TiB and K, M, G, T are
// binary; KB, MB, GB, TB are decimal. The result must be a whole number of bytes.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("bad size %q: want bytes or a number with a unit, like 512MiB, 64GiB or 2TB", s)
	}
	if len(num) > 40 {
		return 0, fmt.Errorf("bad size %q: too large", s)
	}
	if strings.Count(num, ".") > 1 || num[0] == '.' || num[len(num)-1] == '.' {
		return 0, fmt.Errorf("bad size %q: bad number", s)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("bad size %q: bad number", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() {
		return 0, fmt.Errorf("bad size %q: not a whole number of bytes", s)
	}
	if !r.Num().IsInt64() || r.Num().Int64() > math.MaxInt64/2 {
		return 0, fmt.Errorf("bad size %q: too large", s)
	}
	return r.Num().Int64(), nil
}

// FormatSize writes n bytes in the largest binary unit that keeps two decimals at most
// exact enough for a plan: "256 MiB", "1.5 GiB", "512 B".
func FormatSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%d B", n)
	}
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	return s + " " + units[u]
}
