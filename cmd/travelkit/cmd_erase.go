package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"travelkit/drive"
	"travelkit/internal/termsafe"
)

type eraseOptions struct {
	target    string
	yes, json bool
}

func newEraseCmd() *cobra.Command {
	var o eraseOptions
	c := &cobra.Command{
		Use:   "erase --target T [--yes]",
		Short: "Make a kit unopenable at once: erase every keyslot and the header backups on it",
		Long: `Erase a kit in well under a second: every keyslot of its LUKS2 volume is overwritten
with random bytes in both header copies, and the encrypted header backups are shredded from
its tools partition. The drive alone can then never be opened again, not with the
passphrase, not with the recovery key. The backups themselves stay on the drive, encrypted.

Revival: once the person is safe, a colleague decrypts the escrowed header backup from
their --escrow-dir copy (age -d -i me.key luks-header.age > header.img) and puts it back
with travelkit luks header-restore (or cryptsetup luksHeaderRestore on the data
partition); the old passphrase opens the kit again, with every backup. The limits: the
colleague must be reachable and hold the escrow copy; the volume key does not change, so
anyone who kept a header backup and a passphrase of that time can still open the drive.

On a terminal, the kit name must be typed twice. --yes skips that, for scripts.`,
		Example: `  travelkit erase --target /dev/sdb
  travelkit erase --target kit.img --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runErase(&o) },
	}
	c.Flags().StringVar(&o.target, "target", "", "the kit: an image `file` or a disk (/dev/sdb, /dev/disk4, \\\\.\\PhysicalDrive1)")
	c.Flags().BoolVar(&o.yes, "yes", false, "do not ask: erase at once")
	c.Flags().BoolVar(&o.json, "json", false, "print a machine-readable summary on standard output")
	return c
}

func runErase(o *eraseOptions) error {
	k, err := openWholeKit(o.target)
	if err != nil {
		return err
	}
	defer k.Close()
	c, err := k.d.Container()
	if err != nil {
		return err
	}
	name := c.Label()
	if name == "" {
		name = "ERASE"
	}
	if !o.yes {
		if err := confirmName(name, []string{
			tr.T("cli.erase.question", termsafe.Name(name), o.target),
			tr.T("cli.erase.question2"),
		}); err != nil {
			return err
		}
	}
	start := time.Now()
	rep, err := k.d.Erase()
	if err == nil {
		err = k.Close()
	}
	took := time.Since(start)
	if err != nil {
		return fmt.Errorf("erasing %s: %w", o.target, err)
	}
	if o.json {
		out := struct {
			*drive.EraseReport
			Milliseconds int64 `json:"milliseconds"`
		}{rep, took.Milliseconds()}
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	fmt.Println(tr.T("cli.erase.done", termsafe.Name(name), o.target, strconv.FormatInt(took.Milliseconds(), 10), rep.Keyslots))
	if len(rep.Shredded) > 0 {
		fmt.Println(tr.T("cli.erase.shredded", strings.Join(rep.Shredded, ", ")))
	}
	fmt.Println(tr.T("cli.erase.revival"))
	return nil
}

// confirmName asks twice on the terminal for the kit name to be typed.
func confirmName(name string, questions []string) error {
	if !isTerminal() {
		return withCodeT(ExitRefused, errorT("cli.erase.no_terminal"), "cli.erase.no_terminal_hint")
	}
	in := bufio.NewReader(os.Stdin)
	for _, q := range questions {
		fmt.Fprint(os.Stderr, tr.T("cli.erase.type_name", q, termsafe.Name(name)))
		line, _ := in.ReadString('\n')
		if strings.TrimSpace(line) != name {
			return withCode(ExitRefused, errorT("cli.confirm.declined"), "")
		}
	}
	return nil
}
