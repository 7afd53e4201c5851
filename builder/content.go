package builder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"travelkit/drive"
	"travelkit/kit"
	"travelkit/luks"
)

func (c *Config) escrowNames() []string {
	var out []string
	for _, e := range c.Escrow {
		out = append(out, e.Name)
	}
	return out
}

func (c *Config) recipients() []string {
	var out []string
	for _, e := range c.Escrow {
		out = append(out, e.Recipient)
	}
	return out
}

// threshold is the manifest's escrow_threshold: 0 when each file holds the whole key.
func (c *Config) threshold() int {
	if c.EscrowThreshold > 1 {
		return c.EscrowThreshold
	}
	return 0
}

// escrowEntries describes the escrow of c in the manifest.
func (c *Config) escrowEntries() []kit.EscrowEntry {
	var out []kit.EscrowEntry
	for i, e := range c.Escrow {
		r, _ := kit.ParseRecipient(e.Recipient)
		x := kit.EscrowEntry{Name: e.Name, Recipient: e.Recipient, Kind: kit.RecipientKind(r), File: kit.EscrowPath(e.Name)}
		if c.threshold() > 0 {
			x.Share = i + 1
		}
		out = append(out, x)
	}
	return out
}

// escrowFiles makes the escrow files of a recovery key for c's escrow list and threshold.
func (c *Config) escrowFiles(recoveryKey string) (map[string][]byte, error) {
	out := map[string][]byte{}
	if len(c.Escrow) == 0 {
		return out, nil
	}
	files, err := kit.EscrowFiles(recoveryKey, c.EscrowThreshold, c.recipients())
	if err != nil {
		return nil, fmt.Errorf("escrow: %w", err)
	}
	for i, e := range c.Escrow {
		out[kit.EscrowPath(e.Name)] = files[i]
	}
	return out, nil
}

// headerFiles makes the encrypted header backups of the header c as it is now:
// escrow/luks-header.age to the recipients (when there are any), and luks-header.age from
// the first of wraps (when there is one, which is used up). It returns the files and the
// wraps left.
func headerFiles(c *luks.Container, recipients []string, wraps []kit.HeaderWrap) (map[string][]byte, []kit.HeaderWrap, error) {
	out := map[string][]byte{}
	if len(recipients) == 0 && len(wraps) == 0 {
		return out, wraps, nil
	}
	backup, err := c.HeaderBackup()
	if err != nil {
		return nil, nil, fmt.Errorf("LUKS header backup: %w", err)
	}
	defer clear(backup)
	if len(recipients) > 0 {
		if out[kit.EscrowHeaderBackupPath], err = kit.EncryptHeaderBackupTo(backup, recipients); err != nil {
			return nil, nil, err
		}
	}
	if len(wraps) > 0 {
		if out[kit.HeaderBackupPath], err = kit.EncryptHeaderBackupWithWrap(backup, wraps[0]); err != nil {
			return nil, nil, err
		}
		wraps = slices.Clone(wraps[1:])
	}
	return out, wraps, nil
}

// toolsContent makes the tools partition's content of a new kit whose LUKS2 header is c.
func (p *Plan) toolsContent(c *luks.Container, recoveryKey string) (*toolsSet, *drive.State, error) {
	cfg := &p.Config
	m := &kit.Manifest{KitID: cfg.Name, Created: p.Created, Version: p.Version, LUKSUUID: c.UUID(),
		Keyslots: p.Keyslots, Languages: cfg.Languages, Platforms: cfg.Platforms,
		Escrow: cfg.escrowEntries(), EscrowThreshold: cfg.threshold(), ToolsWritten: p.Created}
	copies := map[string][]byte{}
	var wraps []kit.HeaderWrap
	if recoveryKey != "" {
		m.RecoveryKeyRotated = p.Created
		var err error
		if copies, err = cfg.escrowFiles(recoveryKey); err != nil {
			return nil, nil, err
		}
		if wraps, err = kit.NewHeaderWraps(recoveryKey, kit.HeaderWrapsCount); err != nil {
			return nil, nil, err
		}
	}
	headers, wraps, err := headerFiles(c, cfg.recipients(), wraps)
	if err != nil {
		return nil, nil, err
	}
	pages, err := kit.RestorePages(p.restoreInfo())
	if err != nil {
		return nil, nil, err
	}
	t := &toolsSet{Manifest: m, Binaries: p.Binaries, Pages: pages, Copies: copies, Headers: headers, Extra: p.Extra}
	return t, &drive.State{Copies: copies, Wraps: wraps}, nil
}

// writeEscrowDir writes the escrow files of names, and the escrowed header backup when
// given, into dir for hand-over, each replaced atomically (written beside, then renamed),
// so that an interruption leaves every file old or new, never half written.
func writeEscrowDir(dir string, copies map[string][]byte, names []string, escrowHeader []byte) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var out []string
	put := func(name string, b []byte) error {
		dst := filepath.Join(dir, name)
		tmp := dst + ".new"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			return err
		}
		if f, err := os.Open(tmp); err == nil {
			f.Sync()
			f.Close()
		}
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return err
		}
		out = append(out, dst)
		return nil
	}
	for _, n := range names {
		b := copies[kit.EscrowPath(n)]
		if b == nil {
			return nil, errors.New("no escrow file for " + n)
		}
		if err := put(n+".age", b); err != nil {
			return nil, err
		}
	}
	if b := escrowHeader; b != nil {
		if err := put(filepath.Base(kit.EscrowHeaderBackupPath), b); err != nil {
			return nil, err
		}
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return out, nil
}
