package builder

import (
	"fmt"

	"travelkit/kit"
	"travelkit/luks"
)

// Config is what a kit is made of (from a profile).
type Config struct {
	Name        string // kit id: LUKS label, manifest
	Languages   []string
	ToolsSize   int64
	LUKS        luks.FormatOptions // sector size, key size, PBKDF
	RecoveryKey bool
	Escrow      []Escrow
	// EscrowThreshold is k of a k-of-n escrow (ssss shares); 0 or 1: each escrow file
	// holds the whole recovery key.
	EscrowThreshold int
	Platforms       []string // "linux/amd64", ...
	TPM             bool     // the kit is bound to this laptop's TPM at build time (the pages say so)
	Boot            Boot
}

// Boot says whether the kit is made bootable (profile [boot]).
type Boot struct {
	Enable    *bool    // nil: when a boot bundle is found; true: one is required
	Languages []string // the boot menu's; empty: Config.Languages
}

// Escrow is a colleague who receives the recovery key, encrypted with age.
type Escrow struct {
	Name      string
	Recipient string
}

func (c *Config) check() error {
	if c.Name == "" {
		return fmt.Errorf("the kit needs a name")
	}
	if len(c.Escrow) > 0 && !c.RecoveryKey {
		return fmt.Errorf("escrow needs the recovery key: set [keys] recovery_key = true")
	}
	for _, p := range c.Platforms {
		if err := kit.ValidPlatform(p); err != nil {
			return err
		}
	}
	return c.checkEscrow()
}

// checkEscrow validates the escrow part of a Config.
func (c *Config) checkEscrow() error {
	if c.EscrowThreshold > 1 && c.EscrowThreshold > len(c.Escrow) {
		return fmt.Errorf("escrow threshold %d with %d escrow entries: nobody could ever rebuild the recovery key", c.EscrowThreshold, len(c.Escrow))
	}
	for _, e := range c.Escrow {
		if err := kit.ValidEscrowName(e.Name); err != nil {
			return err
		}
		if _, err := kit.ParseRecipient(e.Recipient); err != nil {
			return fmt.Errorf("escrow %q: %w", e.Name, err)
		}
	}
	return nil
}
