package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"travelkit/drive"
	"travelkit/internal/version"
	"travelkit/kit"
)

type verifyReport struct {
	Target      string           `json:"target"`
	Complete    bool             `json:"complete"`
	KitID       string           `json:"kit_id,omitempty"`
	LUKSUUID    string           `json:"luks_uuid,omitempty"`
	Trusted     bool             `json:"checked_against_trusted_copy"`
	OK          bool             `json:"ok"`
	Differences []kit.Difference `json:"differences,omitempty"`
	Problems    []string         `json:"problems,omitempty"`
	// Interrupted: a refresh or key change did not finish; `travelkit refresh` completes it.
	Interrupted bool `json:"interrupted_change,omitempty"`
	// ToolsVersion is the travelkit version of the kit's tools; ToolsOlder says they are
	// older than the running travelkit.
	ToolsVersion string `json:"tools_version,omitempty"`
	ToolsOlder   bool   `json:"tools_older,omitempty"`
}

func newVerifyCmd() *cobra.Command {
	var k kitFlags
	var asJSON bool
	c := &cobra.Command{
		Use:   "verify --target T [--passphrase-file F | --recovery-key-file F | --identity FILE]",
		Short: "Check that a kit is complete and its tools partition was not tampered with",
		Long: `Check a kit: the partition table, the LUKS2 header, and every file of the open
tools partition.

With a secret (passphrase, recovery key or a colleague's identity) the tools
partition is compared with the copy of its manifest kept inside the encrypted volume,
which nobody can change without a key: a binary replaced while the drive was out of
sight is detected and named. Without a secret, the tools partition is only checked
against its own manifest, which finds damage but not a careful attacker.

Exit status 6 when the kit is incomplete, damaged or tampered with.`,
		Example: `  travelkit verify --target /dev/sdb --passphrase-file pass.txt
  travelkit verify --target kit.img --recovery-key-file amina.recovery --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runVerify(&k, asJSON) },
	}
	k.register(c.Flags())
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}

func runVerify(k *kitFlags, asJSON bool) error {
	rep, err := verify(k)
	if err != nil && rep == nil {
		return err
	}
	if asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		fmt.Println(string(b))
	} else {
		printVerify(rep)
	}
	if !rep.OK {
		return withCode(ExitVerifyFail, fmt.Errorf("kit %s failed verification", rep.Target), "do not trust the binaries on this drive; build a new kit from a trusted machine")
	}
	return nil
}

func verify(k *kitFlags) (*verifyReport, error) {
	rep := &verifyReport{Target: k.target}
	o, err := openKit(k.target, false)
	if err != nil {
		if errors.Is(err, drive.ErrNotKit) {
			rep.Problems = append(rep.Problems, err.Error())
			return rep, err
		}
		return nil, err
	}
	defer o.Close()
	rep.Complete = true
	c, err := o.d.Container()
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return rep, nil
	}
	rep.LUKSUUID = c.UUID()
	if c.NeedsRepair() {
		rep.Problems = append(rep.Problems, "a LUKS2 header copy is damaged or stale (repair it with travelkit luks repair on the data partition)")
	}
	noSecret := k.passFile == "" && k.recoveryFile == "" && len(k.identities)+len(k.shareFiles) == 0 && !isTerminal()
	tree, err := o.d.ToolsTree()
	if err != nil {
		rep.Complete = false
		rep.Problems = append(rep.Problems, err.Error()+": the tools partition is incomplete (a refresh or key change was interrupted, or the drive is damaged); run travelkit refresh")
		if noSecret {
			return rep, nil
		}
	}
	var man, sums []byte
	if noSecret {
		// no secret: the tools partition against its own manifest
		fs, err := o.d.ToolsFS()
		if err != nil {
			rep.Problems = append(rep.Problems, err.Error())
			return rep, nil
		}
		if man, err = fs.ReadFile(kit.ManifestName, kit.MaxManifestSize); err == nil {
			sums, err = fs.ReadFile(kit.SumsName, kit.MaxManifestSize)
		}
		if err != nil {
			rep.Problems = append(rep.Problems, "the tools partition has no manifest.json or SHA256SUMS: "+err.Error())
			return rep, nil
		}
	} else {
		u, err := k.unlock(o, false)
		if err != nil {
			return nil, err
		}
		defer u.Close()
		rep.Trusted = true
		cur, pending, err := u.ReadState()
		if err != nil {
			rep.Problems = append(rep.Problems, "the encrypted volume has no usable trusted manifest copy (travelkit/manifest.json): "+err.Error())
			return rep, nil
		}
		st := cur
		if pending != nil {
			st = pending
			rep.Interrupted, rep.Complete = true, false
			rep.Problems = append(rep.Problems, "a refresh or key change was interrupted: the tools partition is incomplete; run travelkit refresh to complete it")
		}
		man, sums = st.ManifestJSON, st.Sums
		if tree == nil {
			return rep, nil
		}
	}
	m, err := kit.ParseManifest(man)
	if err != nil {
		rep.Problems = append(rep.Problems, "manifest: "+err.Error())
		return rep, nil
	}
	rep.KitID, rep.ToolsVersion = m.KitID, m.Version
	if c, ok := version.Compare(m.Version, version.Version); ok && c < 0 {
		rep.ToolsOlder = true
	}
	if m.LUKSUUID != c.UUID() {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the manifest names LUKS UUID %s, the drive has %s", m.LUKSUUID, c.UUID()))
	}
	r, err := kit.Verify(tree, man, sums)
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return rep, nil
	}
	rep.Differences = r.Problems()
	rep.OK = len(rep.Problems) == 0 && r.OK()
	return rep, nil
}

func printVerify(r *verifyReport) {
	w := os.Stdout
	if !r.Complete {
		fmt.Fprintf(w, "%s: INCOMPLETE or not a kit\n", r.Target)
	} else {
		fmt.Fprintf(w, "Kit %q on %s (LUKS UUID %s)\n", r.KitID, r.Target, r.LUKSUUID)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	for _, d := range r.Differences {
		fmt.Fprintf(w, "  %s\n", d)
	}
	if r.ToolsOlder {
		fmt.Fprintf(w, "  note: the kit's tools are travelkit %s, older than this travelkit (%s): travelkit refresh updates them without touching the backups\n", r.ToolsVersion, version.Version)
	}
	switch {
	case r.Interrupted:
		fmt.Fprintln(w, "INCOMPLETE: an interrupted refresh or key change; run travelkit refresh.")
	case r.OK && r.Trusted:
		fmt.Fprintln(w, "OK: the tools partition matches the trusted copy inside the encrypted volume.")
	case r.OK:
		fmt.Fprintln(w, "OK against the tools partition's own manifest (give a passphrase or key to check against the trusted copy inside the encrypted volume).")
	default:
		fmt.Fprintln(w, "FAILED.")
	}
}
