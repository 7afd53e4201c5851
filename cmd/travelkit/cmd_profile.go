package main

import (
	"fmt"

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
