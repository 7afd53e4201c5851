package ext4

import (
	"fmt"
	"testing"

	"travelkit/image"
	"travelkit/image/internal/testutil"
)

// BenchmarkFormat reports the bytes Format writes for 1 GiB and 64 GiB
// volumes (sparse files): go test -run - -bench Format ./image/ext4
func BenchmarkFormat(b *testing.B) {
	for _, size := range []int64{1 << 30, 64 << 30} {
		b.Run(fmt.Sprintf("%dGiB", size>>30), func(b *testing.B) {
			var written int64
			for i := 0; i < b.N; i++ {
				dev, _ := testutil.SparseFile(b, "vol.img", size)
				c := image.NewCounting(dev)
				if err := Format(c, FormatOptions{}); err != nil {
					b.Fatal(err)
				}
				written = c.BytesWritten()
			}
			b.ReportMetric(float64(written)/(1<<20), "MiB-written")
		})
	}
}
