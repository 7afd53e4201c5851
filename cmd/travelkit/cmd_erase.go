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
		Use:  "erase --target T [--yes]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runErase(&o) },
	}
	c.Flags().StringVar(&o.target, "target", "", "")
	c.Flags().BoolVar(&o.yes, "yes", false, "")
	c.Flags().BoolVar(&o.json, "json", false, "")
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
		return causeT(err, "cli.more.erase_failed", o.target)
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
