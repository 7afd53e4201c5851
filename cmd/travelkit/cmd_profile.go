package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"travelkit/internal/bytesize"
	"travelkit/profile"
)

func newProfileCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "profile",
		Short: "Write and check kit profiles",
		Long: `A profile (TOML) describes a kit: its name, the languages of the restore
instructions, the tools partition size, the encryption, the recovery key, the
colleagues who escrow it, the platforms whose binaries go on the drive, and the TPM
binding. Unknown keys and wrong types are errors that name the line.`,
	}
	c.AddCommand(&cobra.Command{
		Use:     "example",
		Short:   "Print a commented example profile with every key",
		Example: "  travelkit profile example > amina.toml",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return runProfileExample() },
	}, &cobra.Command{
		Use:     "check FILE",
		Short:   "Check a profile and print it with every default filled in",
		Example: "  travelkit profile check amina.toml",
		Args:    exactArgs("FILE"),
		RunE:    func(cmd *cobra.Command, args []string) error { return runProfileCheck(args[0]) },
	})
	return c
}

func runProfileCheck(path string) error {
	p, err := loadProfile(path)
	if err != nil {
		return err
	}
	fmt.Printf("name        %s\nlanguages   %v\ntools_size  %s\nluks        %d-byte sectors, %d-bit key, %s, unlock %s\nrecovery    %v\n",
		p.Name, p.Languages, bytesize.Format(p.Drive.ToolsSize), p.LUKS.SectorSize, p.LUKS.KeySize, p.LUKS.PBKDF, p.LUKS.UnlockTime, p.Keys.RecoveryKey)
	for _, e := range p.Escrow {
		fmt.Printf("escrow      %s %s\n", e.Name, e.Recipient)
	}
	fmt.Printf("platforms   %v\ntpm         enroll=%v pcrs=%v pin=%v\n", p.Tools.Platforms, p.TPM.Enroll, p.TPM.PCRs, p.TPM.PIN)
	return nil
}

func runProfileExample() error {
	fmt.Print(profile.Example())
	return nil
}
