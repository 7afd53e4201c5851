package main

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"travelkit/internal/bytesize"
	"travelkit/profile"
)

func newProfileCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "profile",
	}
	c.AddCommand(&cobra.Command{
		Use:  "example",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runProfileExample() },
	}, &cobra.Command{
		Use:  "check FILE",
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runProfileCheck(args[0]) },
	})
	return c
}

func runProfileCheck(path string) error {
	p, err := loadProfile(path)
	if err != nil {
		return err
	}
	yes := func(b bool) string {
		if b {
			return tr.T("cli.profile.yes")
		}
		return tr.T("cli.profile.no")
	}
	type row struct{ label, value string }
	rows := []row{
		{tr.T("cli.profile.name"), p.Name},
		{tr.T("cli.profile.languages"), fmt.Sprint(p.Languages)},
		{tr.T("cli.profile.tools_size"), bytesize.Format(p.Drive.ToolsSize)},
		{tr.T("cli.profile.luks"), tr.T("cli.profile.luks_value", num(p.LUKS.SectorSize), num(p.LUKS.KeySize), p.LUKS.PBKDF, p.LUKS.UnlockTime.String())},
		{tr.T("cli.profile.recovery"), yes(p.Keys.RecoveryKey)},
	}
	for _, e := range p.Escrow {
		rows = append(rows, row{tr.T("cli.profile.escrow"), e.Name + " " + e.Recipient})
	}
	rows = append(rows, row{tr.T("cli.profile.platforms"), fmt.Sprint(p.Tools.Platforms)},
		row{tr.T("cli.profile.tpm"), tr.T("cli.profile.tpm_value", yes(p.TPM.Enroll), fmt.Sprint(p.TPM.PCRs), yes(p.TPM.PIN))})
	// the labels in a column as wide as the widest and two spaces
	width := 0
	for _, r := range rows {
		width = max(width, columns(r.label))
	}
	for _, r := range rows {
		fmt.Printf("%s%s  %s\n", r.label, strings.Repeat(" ", width-columns(r.label)), r.value)
	}
	return nil
}

func runProfileExample() error {
	fmt.Print(profile.Example())
	return nil
}

// columns is how many columns s takes on a terminal: a character each, but for marks and
// format characters (Arabic vowel marks, the Persian half-space), which take none.
func columns(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.In(r, unicode.Mn, unicode.Cf) {
			n++
		}
	}
	return n
}
