package strength

import (
	"math"

	"travelkit/luks"
)

// Attacker is who the estimate is against: a number of graphics cards, each described
// by the two figures that bound how fast it runs a key derivation.
type Attacker struct {
	GPUs int
	// MemoryBandwidth is one card's memory bandwidth in bytes a second: Argon2 is
	// memory-bound on graphics cards, so it sets the rate.
	MemoryBandwidth float64
	// Efficiency is the share of that bandwidth Argon2 attacks reach.
	Efficiency float64
	// SHA256, SHA512 are one card's SHA-256 and SHA-512 compressions a second (PBKDF2).
	SHA256, SHA512 float64
}

// DefaultAttacker is the attacker the estimates and the floor are against: 100 graphics
// cards of the NVIDIA GeForce RTX 5090 class, the fastest consumer card of 2025 (what a
// state agency, or anyone renting cloud machines for a few thousand dollars a day, can
// bring). Figures and sources: README.md, "How strong is a passphrase?".
func DefaultAttacker() Attacker {
	return Attacker{
		GPUs:            100,
		MemoryBandwidth: 1792e9, // RTX 5090: 1792 GB/s (NVIDIA's specification)
		Efficiency:      0.95,   // S. Thomas, "Minimum password settings": about 95% for Argon2
		SHA256:          28.3533e9,
		SHA512:          28.3533e9 / 3, // SHA-512 takes about three times as long on 32-bit GPU cores
	}
}

// PerCard is how many guesses a second one card makes against a keyslot with this KDF
// cost, for a key of keyBytes bytes; 0 when the cost is not one travelkit knows.
//
// Argon2 (i and id): a guess moves (3t - 1) x m KiB through the card's memory (the first
// pass writes each block and reads one earlier block; every later pass reads two blocks
// and writes one), so the rate is bandwidth x efficiency / ((3t - 1) x m x 1024 bytes).
// The lanes (p) change how long one guess takes, not how many guesses a card makes.
//
// PBKDF2-HMAC: two compressions an iteration (the HMAC pads are computed once), for each
// block of hash output the key needs: a 64-byte key is two SHA-256 blocks, one SHA-512.
func (a Attacker) PerCard(p luks.PBKDF, keyBytes int) float64 {
	switch p.Type {
	case "argon2id", "argon2i":
		m, t := float64(p.MemoryKiB), float64(p.Iterations)
		if m <= 0 || t <= 0 {
			return 0
		}
		return a.MemoryBandwidth * a.Efficiency / ((3*t - 1) * m * 1024)
	case "pbkdf2":
		rate, size := a.SHA256, 32
		if p.Hash == "sha512" {
			rate, size = a.SHA512, 64
		}
		if p.Iterations == 0 || keyBytes <= 0 {
			return 0
		}
		blocks := math.Ceil(float64(keyBytes) / float64(size))
		return rate / (2 * float64(p.Iterations) * blocks)
	}
	return 0
}

// PerSecond is the attacker's guesses a second, all cards together.
func (a Attacker) PerSecond(p luks.PBKDF, keyBytes int) float64 {
	return a.PerCard(p, keyBytes) * float64(a.GPUs)
}
