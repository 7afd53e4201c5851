package repo

import (
	"math"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstdOptions are the settings of every encoder a repository uses: zstd's
// fastest level, no checksum (the blob is MACed), a 1 MiB window (8 MiB by
// default: each encoder keeps a window of history, and matches farther back
// are rare at this level), and literals entropy coded also where matches
// save little. At the fastest level zstd otherwise stores a block as it is
// when its matches save less than 1/64 of it, however skewed its bytes: on
// the 100,000-file home folder 82 MiB of blobs with 4-5 bits of entropy per
// byte (hex digits, base64, short texts) went through zstd and came out no
// smaller. With Huffman coding of their literals they shrink by up to a half.
func zstdOptions(extra ...zstd.EOption) []zstd.EOption {
	return append([]zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderCRC(false), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1 << 20),
		zstd.WithAllLitEntropyCompression(true)}, extra...)
}

const (
	// randomFrom is the smallest blob looksRandom tests. Below 1 KiB a
	// blob's byte histogram says little (uniformly random bytes measure
	// about 7.8 bits over 1 KiB, fewer over less) and zstd's fixed cost is
	// what such a blob costs. From 1 KiB up to 4 KiB (the bound before
	// 2026-12-01) the 1 GiB set has 1,166 random blobs and the 100,000-file
	// set 1,317, each compressed, sealed and written only to be rewound:
	// 0.036 s and 0.022 s of CPU, against 0.003 s and 0.002 s for their
	// histograms; of the 100,000-file set's 1-4 KiB blobs that the test now
	// calls random, zstd would have saved 16 KB.
	randomFrom = 1 << 10
	// entropySample is the length of each sample looksRandom takes.
	entropySample = 2 << 10
	// randomBits is the byte entropy (bits per byte) from which a sample
	// counts as random. zstd cannot shrink such data by the 1/64 a
	// compressed blob must save unless it repeats itself (rare in the
	// photos, archives and encrypted files that look so). Estimated from
	// 2 KiB, uniformly random bytes measure about 7.9 bits, text 4-5.
	randomBits = 7.5
)

// looksRandom reports whether a blob under sampledFrom bytes is best stored
// as it is without trying zstd: from randomFrom bytes, the byte entropy of
// three samples of entropySample bytes (the middle first, then the end and a
// quarter; a blob under entropySample bytes is one sample) is randomBits or
// more in each. Such a blob is compressed whole,
// and one that does not shrink is compressed, sealed, hashed and written
// only to be rewound and stored again as it is: on the 100,000-file home
// folder 84 MiB of small photos and archives did that. A histogram of the
// samples costs a fraction of it, and text leaves after the first sample.
// What a histogram cannot see is random data that repeats itself (the same
// 256 bytes over and over): on the 100,000-file set such blobs would have
// saved 0.2 MiB.
func looksRandom(data []byte) bool {
	if len(data) < randomFrom {
		return false
	}
	if len(data) <= entropySample {
		return entropyBits(data) >= randomBits
	}
	// under 4/3 of entropySample bytes a quarter in, a sample would pass
	// the blob's end: the last one is taken again instead
	last := len(data) - entropySample
	for _, off := range [...]int{len(data)/2 - entropySample/2, last, min(len(data)/4, last)} {
		if entropyBits(data[off:off+entropySample]) < randomBits {
			return false
		}
	}
	return true
}

// entropyBits is the byte entropy of b (at most entropySample bytes) in bits
// per byte: log2(n) - sum(c log2 c)/n over the count c of each byte value.
func entropyBits(b []byte) float64 {
	if len(b) == 0 || len(b) > entropySample {
		return 0
	}
	var h [4][256]uint16 // four tables: counting the same byte in a row does not wait on itself
	i := 0
	for ; i+4 <= len(b); i += 4 {
		h[0][b[i]]++
		h[1][b[i+1]]++
		h[2][b[i+2]]++
		h[3][b[i+3]]++
	}
	for ; i < len(b); i++ {
		h[0][b[i]]++
	}
	tab := cLog2C()
	var s float32
	for v := range 256 {
		s += tab[h[0][v]+h[1][v]+h[2][v]+h[3][v]]
	}
	n := float64(len(b))
	return math.Log2(n) - float64(s)/n
}

// cLog2C holds c*log2(c) for every count c a sample can have.
var cLog2C = sync.OnceValue(func() *[entropySample + 1]float32 {
	var t [entropySample + 1]float32
	for c := 2; c <= entropySample; c++ {
		t[c] = float32(float64(c) * math.Log2(float64(c)))
	}
	return &t
})
