package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"travelkit/internal/termsafe"
	"travelkit/luks"
)

func newLuksTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:  "token",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newLuksTokenListCmd(), newLuksTokenImportCmd(), newLuksTokenExportCmd(), newLuksTokenRemoveCmd())
	return cmd
}

func newLuksTokenListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:  "list DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksTokenList(args[0], asJSON) },
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "")
	return cmd
}

func runLuksTokenList(path string, asJSON bool) error {
	d, c, err := openContainer(path, false)
	if err != nil {
		return err
	}
	defer d.Close()
	if asJSON {
		type tokenJSON struct {
			ID       int             `json:"id"`
			Type     string          `json:"type"`
			Keyslots []int           `json:"keyslots"`
			Token    json.RawMessage `json:"token"`
		}
		list := []tokenJSON{}
		for _, t := range c.Tokens() {
			list = append(list, tokenJSON{t.ID, t.Type, t.Keyslots, t.JSON})
		}
		out, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return err
		}
		fmt.Printf("%s\n", out)
		return nil
	}
	for _, t := range c.Tokens() {
		fmt.Printf("%d: %s keyslots %v\n", t.ID, termsafe.Name(t.Type), t.Keyslots) // the type comes from the drive
	}
	return nil
}

func newLuksTokenImportCmd() *cobra.Command {
	var jsonFile string
	var id int
	cmd := &cobra.Command{
		Use:  "import DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksTokenImport(args[0], jsonFile, id) },
	}
	cmd.Flags().StringVar(&jsonFile, "json-file", "", "")
	cmd.Flags().IntVar(&id, "token-id", -1, "")
	hideDefault(cmd.Flags(), "token-id")
	return cmd
}

func runLuksTokenImport(path, jsonFile string, id int) error {
	if id < -1 || id >= luks.MaxTokens {
		return usageErrorT("cli.luks.token.range", id, luks.MaxTokens-1)
	}
	b, err := readTokenJSON(jsonFile)
	if err != nil {
		return err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return usageErrorT("cli.luks.token.not_json", err.Error())
	}
	d, c, err := openContainer(path, true)
	if err != nil {
		return err
	}
	defer d.Close()
	got, err := c.AddToken(id, b)
	if errors.Is(err, luks.ErrTokenInUse) {
		return withCodeT(ExitRefused, wrapT(err, "cli.luks.token.in_use", id, path), "cli.luks.token.in_use_hint")
	}
	if err != nil {
		return wrapT(err, "cli.luks.token.add_failed", path, describeError(err))
	}
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Println(tr.T("cli.luks.token.added", got, path))
	return nil
}

// readTokenJSON reads the token to import from the file name ("" or "-": standard
// input), at most luks.MaxTokenJSON bytes: no LUKS2 header holds a longer token, and a
// longer file (a disk image, a device, /dev/zero) is a mistake not to read on.
func readTokenJSON(name string) ([]byte, error) {
	r, shown := io.Reader(os.Stdin), tr.T("cli.luks.token.stdin")
	if name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, wrapT(err, "cli.luks.token.read_failed", describeError(err))
		}
		defer f.Close()
		r, shown = f, name
	}
	b, err := io.ReadAll(io.LimitReader(r, luks.MaxTokenJSON+1))
	if err != nil {
		return nil, wrapT(err, "cli.luks.token.read_failed", describeError(err))
	}
	if len(b) > luks.MaxTokenJSON {
		return nil, withCodeT(ExitUsage, errorT("cli.luks.token.too_large", shown, luks.MaxTokenJSON>>10), "cli.luks.token.too_large_hint")
	}
	return b, nil
}

func newLuksTokenExportCmd() *cobra.Command {
	var id int
	cmd := &cobra.Command{
		Use:  "export DEVICE --token-id N",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksTokenExport(args[0], id) },
	}
	cmd.Flags().IntVar(&id, "token-id", -1, "")
	hideDefault(cmd.Flags(), "token-id")
	return cmd
}

func runLuksTokenExport(path string, id int) error {
	if id < 0 {
		return usageErrorT("cli.luks.token.required")
	}
	d, c, err := openContainer(path, false)
	if err != nil {
		return err
	}
	defer d.Close()
	for _, t := range c.Tokens() {
		if t.ID == id {
			fmt.Printf("%s\n", t.JSON)
			return nil
		}
	}
	return withCodeT(ExitError, errorT("cli.luks.token.none", path, id), "cli.luks.token.none_hint", path)
}

func newLuksTokenRemoveCmd() *cobra.Command {
	var id int
	cmd := &cobra.Command{
		Use:  "remove DEVICE --token-id N",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksTokenRemove(args[0], id) },
	}
	cmd.Flags().IntVar(&id, "token-id", -1, "")
	hideDefault(cmd.Flags(), "token-id")
	return cmd
}

func runLuksTokenRemove(path string, id int) error {
	if id < 0 {
		return usageErrorT("cli.luks.token.required")
	}
	d, c, err := openContainer(path, true)
	if err != nil {
		return err
	}
	defer d.Close()
	err = c.RemoveToken(id)
	if errors.Is(err, luks.ErrNoSuchToken) {
		return withCodeT(ExitError, errorT("cli.luks.token.none", path, id), "cli.luks.token.none_hint", path)
	}
	if err != nil {
		return wrapT(err, "cli.luks.token.remove_failed", id, path, describeError(err))
	}
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Println(tr.T("cli.luks.token.removed", id, path))
	return nil
}
