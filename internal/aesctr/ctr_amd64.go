//go:build amd64 && !purego

package aesctr

import "golang.org/x/sys/cpu"

// useVAES says whether this CPU runs the assembly: VAES on 512-bit registers (with
// AVX-512 F and BW for the counters' byte swap). Tests turn it off.
var useVAES = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VAES

// minVAES is the shortest message the assembly starts on (its set-up, the 15 round
// keys into registers, costs about what crypto/aes takes for a few blocks).
const minVAES = 256

// ctr256 XORs 4*n4 blocks of src with the keystream from the counters in ctr into dst.
//
//go:noescape
func ctr256(rk *[15][16]byte, ctr *[8]uint64, dst, src *byte, n4 int)
