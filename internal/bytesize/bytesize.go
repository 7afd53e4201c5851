package bytesize

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// units maps every unit Parse accepts, lower-cased, to its size in bytes.
func units() map[string]int64 {
	return map[string]int64{
		"": 1, "b": 1,
		"k": 1 << 10, "ki": 1 << 10, "kib": 1 << 10, "kb": 1e3,
		"m": 1 << 20, "mi": 1 << 20, "mib": 1 << 20, "mb": 1e6,
		"g": 1 << 30, "gi": 1 << 30, "gib": 1 << 30, "gb": 1e9,
		"t": 1 << 40, "ti": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	}
}

// Max is the largest size Parse returns: far above any disk, and small enough that
// adding two sizes cannot overflow.
const Max = math.MaxInt64 / 2

// Parse parses a size in bytes: a whole number ("1048576"), or a number and a unit
// ("512MiB", "64GiB", "2TB", "1.5G", "256 MiB"). The result must be a whole number of
// bytes, at most Max.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := units()[unit]
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
	if !r.Num().IsInt64() || r.Num().Int64() > Max {
		return 0, fmt.Errorf("bad size %q: too large", s)
	}
	return r.Num().Int64(), nil
}

// Format writes n bytes in the largest binary unit that keeps the number at 1 or more,
// with one decimal when it is not whole: "512 B", "1.5 KiB", "256 MiB", "1.8 TiB". For
// memory, files and data.
func Format(n int64) string {
	return format(n, 1024, []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"})
}

// FormatDecimal is Format in decimal units, as disks are sold: "209.7 MB", "2 TB".
func FormatDecimal(n int64) string {
	return format(n, 1000, []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"})
}

func format(n int64, base float64, names []string) string {
	if n < 0 {
		return "-" + formatAbs(-float64(n), base, names) // float: -n overflows for math.MinInt64
	}
	return formatAbs(float64(n), base, names)
}

func formatAbs(v float64, base float64, names []string) string {
	u := 0
	for v >= base && u < len(names)-1 {
		v /= base
		u++
	}
	if u == 0 {
		return strconv.FormatFloat(v, 'f', 0, 64) + " B"
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if strings.HasSuffix(s, ".0") {
		s = s[:len(s)-2]
	}
	if s == strconv.Itoa(int(base)) && u < len(names)-1 {
		// 1023.96 KiB rounds to "1024.0": say 1 MiB instead.
		s, u = "1", u+1
	}
	return s + " " + names[u]
}
