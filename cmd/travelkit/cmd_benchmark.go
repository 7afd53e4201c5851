package main

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"hash"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/argon2"

	"travelkit/luks"
)

type xtsResult struct {
	KeyBits    int     `json:"key_bits"`
	SectorSize int     `json:"sector_size"`
	Cores      int     `json:"cores"`
	EncryptMBs float64 `json:"encrypt_mb_s"`
	DecryptMBs float64 `json:"decrypt_mb_s"`
}

type kdfResult struct {
	KDF        string  `json:"kdf"`
	Iterations uint32  `json:"iterations,omitempty"`
	MemoryKiB  uint32  `json:"memory_kib,omitempty"`
	Threads    uint8   `json:"threads,omitempty"`
	Millis     float64 `json:"ms,omitempty"`
	PerSecond  float64 `json:"iterations_per_second,omitempty"`
}

func newBenchmarkCmd() *cobra.Command {
	var asJSON bool
	var dur time.Duration
	var quick bool
	cmd := &cobra.Command{
		Use:  "benchmark",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBenchmark(asJSON, dur, quick)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "")
	cmd.Flags().DurationVar(&dur, "time", 300*time.Millisecond, "")
	cmd.Flags().BoolVar(&quick, "quick", false, "tiny buffers and KDF costs, for tests of the command itself")
	cmd.Flags().MarkHidden("quick")
	return cmd
}

// memDevice is a device in memory for the benchmark.
type memDevice []byte

func (m memDevice) ReadAt(p []byte, off int64) (int, error)  { return copy(p, m[off:]), nil }
func (m memDevice) WriteAt(p []byte, off int64) (int, error) { return copy(m[off:], p), nil }

func runBenchmark(asJSON bool, dur time.Duration, quick bool) error {
	payload := 64 << 20
	argonMiB := uint32(64)
	if quick {
		payload, argonMiB = 1<<20, 1
	}
	cores := runtime.NumCPU()
	var xts []xtsResult
	bar := newProgress(tr.T("cli.benchmark.running"), 0)
	dev := make(memDevice, luks.DefaultDataOffset+payload)
	buf := make([]byte, payload)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for _, keyBits := range []int{256, 512} {
		for _, sector := range []int{512, 4096} {
			c, vk, err := luks.Format(dev, int64(len(dev)), []byte("benchmark"), luks.FormatOptions{
				KeySize: keyBits / 8, SectorSize: sector,
				PBKDF: luks.PBKDF{Type: "pbkdf2", Hash: "sha256", Iterations: 1000}})
			if err != nil {
				bar.Done()
				return wrapT(err, "cli.benchmark.format_failed", describeError(err))
			}
			v, err := c.OpenVolume(vk)
			vk.Wipe()
			if err != nil {
				bar.Done()
				return wrapT(err, "cli.benchmark.failed", describeError(err))
			}
			coreCounts := []int{1}
			if cores > 1 {
				coreCounts = append(coreCounts, cores)
			}
			for _, n := range coreCounts {
				prev := runtime.GOMAXPROCS(n)
				enc, err := measure(dur, payload, func() error { _, err := v.WriteAt(buf, 0); return err })
				var dec float64
				if err == nil {
					dec, err = measure(dur, payload, func() error { _, err := v.ReadAt(buf, 0); return err })
				}
				runtime.GOMAXPROCS(prev)
				if err != nil {
					bar.Done()
					return wrapT(err, "cli.benchmark.failed", describeError(err))
				}
				xts = append(xts, xtsResult{KeyBits: keyBits, SectorSize: sector, Cores: n, EncryptMBs: enc, DecryptMBs: dec})
			}
			v.Close()
		}
	}
	var kdfs []kdfResult
	for _, h := range []struct {
		name string
		f    func() hash.Hash
	}{{"pbkdf2-sha256", sha256.New}, {"pbkdf2-sha512", sha512.New}} {
		const iter = 100000
		start := time.Now()
		if _, err := pbkdf2.Key(h.f, "benchmark", make([]byte, 32), iter, 32); err != nil {
			bar.Done()
			return err
		}
		kdfs = append(kdfs, kdfResult{KDF: h.name, PerSecond: iter / time.Since(start).Seconds()})
	}
	threads := uint8(min(4, cores))
	for _, kind := range []string{"argon2id", "argon2i"} {
		const t = 4
		m := argonMiB * 1024
		start := time.Now()
		if kind == "argon2id" {
			argon2.IDKey([]byte("benchmark"), make([]byte, 32), t, m, threads, 32)
		} else {
			argon2.Key([]byte("benchmark"), make([]byte, 32), t, m, threads, 32)
		}
		kdfs = append(kdfs, kdfResult{KDF: kind, Iterations: t, MemoryKiB: m, Threads: threads,
			Millis: float64(time.Since(start).Microseconds()) / 1000})
	}
	bar.Done()
	if asJSON {
		out, err := json.MarshalIndent(struct {
			CPUs int         `json:"cpus"`
			XTS  []xtsResult `json:"xts"`
			KDF  []kdfResult `json:"kdf"`
		}{cores, xts, kdfs}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Printf("%s\n", out)
		return nil
	}
	fmt.Println(tr.T("cli.benchmark.note", cores))
	fmt.Printf("#     Algorithm |  Key |  Sector | Cores |  Encryption |  Decryption\n")
	for _, r := range xts {
		fmt.Printf("%15s | %4d | %7d | %5d | %6.0f MB/s | %6.0f MB/s\n", "aes-xts", r.KeyBits, r.SectorSize, r.Cores, r.EncryptMBs, r.DecryptMBs)
	}
	fmt.Println()
	for _, k := range kdfs {
		if k.PerSecond > 0 {
			fmt.Println(tr.T("cli.benchmark.pbkdf2", fmt.Sprintf("%-14s", k.KDF), fmt.Sprintf("%9.0f", k.PerSecond)))
		} else {
			fmt.Println(tr.T("cli.benchmark.argon2", fmt.Sprintf("%-14s", k.KDF), fmt.Sprintf("%9.0f", k.Millis), num(k.Iterations), num(k.MemoryKiB), num(k.Threads)))
		}
	}
	return nil
}

// measure runs f (which processes n bytes) repeatedly for about d and returns MB/s.
func measure(d time.Duration, n int, f func() error) (float64, error) {
	if err := f(); err != nil { // warm up
		return 0, err
	}
	start := time.Now()
	runs := 0
	for time.Since(start) < d || runs == 0 {
		if err := f(); err != nil {
			return 0, err
		}
		runs++
	}
	return float64(runs*n) / time.Since(start).Seconds() / 1e6, nil
}
