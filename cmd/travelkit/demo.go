package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"travelkit/luks"
)

func init() { register(newDemoCmd) }

const (
	demoFile       = "travelkit-demo.luks"
	demoPassphrase = "travelkit-demo"
	demoLabel      = "travelkit-demo"
	demoSize       = 64 << 20
)

func newDemoCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Create a demo LUKS2 container file and show its header",
		Long: `Create ` + "DIR/" + demoFile + `, a 64 MiB LUKS2 container file with the passphrase
"` + demoPassphrase + `" (also written to DIR/passphrase), write a short text into its
encrypted payload and print its header. Cheap KDF costs keep it fast: a demo, not
a place for secrets. The files are replaced on each run.

The container works with cryptsetup too:
  cryptsetup luksDump DIR/` + demoFile + `
  cryptsetup open --test-passphrase --key-file DIR/passphrase DIR/` + demoFile,
		Example: `  travelkit demo
  travelkit demo --out /tmp/demo
  travelkit luks read demo/` + demoFile + ` --passphrase-file demo/passphrase --length 200`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDemo(out) },
	}
	cmd.Flags().StringVar(&out, "out", "demo", "directory for the demo files")
	return cmd
}

const demoText = `Hello from travelkit!

This text lives in the encrypted payload of a LUKS2 volume that travelkit made
in userspace, without root, dm-crypt or cryptsetup.
`

func runDemo(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", dir, unwrapPathErr(err))
	}
	path := filepath.Join(dir, demoFile)
	passPath := filepath.Join(dir, "passphrase")
	// Replace only a previous demo, never some other file that happens to have the name.
	if d, c, err := openContainer(path, false); err == nil {
		label := c.Label()
		d.Close()
		if label != demoLabel {
			return withCode(ExitRefused, fmt.Errorf("%s is a LUKS volume that the demo did not make (label %q)", path, label), "choose another --out directory")
		}
	} else if _, serr := os.Lstat(path); serr == nil {
		var ce *cliError
		if !errors.As(err, &ce) || ce.code != ExitNotLUKS {
			return err
		}
		if st, _ := os.Stat(path); st != nil && st.Size() != 0 {
			return withCode(ExitRefused, fmt.Errorf("%s exists and is not a demo container", path), "choose another --out directory")
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.WriteFile(passPath, []byte(demoPassphrase), 0o600); err != nil {
		return fmt.Errorf("failed to write %s: %w", passPath, unwrapPathErr(err))
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", path, unwrapPathErr(err))
	}
	d := &device{f: f, path: path, size: demoSize, writable: true}
	defer d.Close()
	if err := f.Truncate(demoSize); err != nil {
		return fmt.Errorf("failed to size %s: %w", path, err)
	}
	c, vk, err := luks.Format(d, demoSize, []byte(demoPassphrase), luks.FormatOptions{
		Label: demoLabel,
		PBKDF: luks.PBKDF{Type: "argon2id", Iterations: 4, MemoryKiB: 32 * 1024, Parallel: 1},
	})
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("failed to format %s: %w", path, err)
	}
	v, err := c.OpenVolume(vk)
	vk.Wipe()
	if err != nil {
		return err
	}
	if _, err := v.WriteAt([]byte(demoText), 0); err != nil {
		return fmt.Errorf("failed to write into the payload of %s: %w", path, err)
	}
	if err := v.Flush(); err != nil {
		return err
	}
	v.Close()
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Printf("Created %s (64 MiB, LUKS2) with the passphrase in %s.\n\n", path, passPath)
	d2, c2, err := openContainer(path, false)
	if err != nil {
		return err
	}
	defer d2.Close()
	if err := dumpText(os.Stdout, c2); err != nil {
		return err
	}
	fmt.Printf("\nRead the text back with:\n  travelkit luks read %s --passphrase-file %s --length %d\n", path, passPath, len(demoText))
	fmt.Printf("Check it with cryptsetup:\n  cryptsetup luksDump %s\n  cryptsetup open --test-passphrase --key-file %s %s\n", path, passPath, path)
	return nil
}
