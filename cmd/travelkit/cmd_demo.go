package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"travelkit/builder"
	"travelkit/drive"
	"travelkit/internal/bytesize"
	"travelkit/kit"
	"travelkit/profile"
	"travelkit/target"
)

const (
	demoImage      = "kit.img"
	demoPassphrase = "travelkit-demo"
	demoSize       = 1 << 30
)

func newDemoCmd() *cobra.Command {
	var out, binaries string
	var hostOnly bool
	cmd := &cobra.Command{
		Use:  "demo [--out DIR]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDemo(out, binaries, hostOnly) },
	}
	cmd.Flags().StringVar(&out, "out", "demo", "")
	cmd.Flags().StringVar(&binaries, "binaries", "", "")
	cmd.Flags().BoolVar(&hostOnly, "host-only", false, "")
	return cmd
}

// isDemoKit reports whether path holds a kit the demo made (its manifest names demo-kit).
func isDemoKit(path string) bool {
	tg, err := target.Open(path, target.Options{})
	if err != nil {
		return false
	}
	defer tg.Close()
	d, err := drive.Open(tg)
	if err != nil {
		return false
	}
	fsys, err := d.ToolsFS()
	if err != nil {
		return false
	}
	b, err := fsys.ReadFile(kit.ManifestName, kit.MaxManifestSize)
	if err != nil {
		return false
	}
	m, err := kit.ParseManifest(b)
	return err == nil && m.KitID == profile.Default().Name
}

// self is how this program was invoked (./travelkit, travelkit), for hints to run it again.
func self() string {
	if len(os.Args) > 0 && strings.ContainsRune(os.Args[0], os.PathSeparator) && !filepath.IsAbs(os.Args[0]) {
		return os.Args[0]
	}
	return "travelkit"
}

func runDemo(dir, binaries string, hostOnly bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return wrapT(err, "cli.demo.create_failed", dir, describeError(unwrapPathErr(err)))
	}
	img := filepath.Join(dir, demoImage)
	passPath := filepath.Join(dir, "passphrase")
	rkPath := filepath.Join(dir, "recovery-key")
	// Replace only a previous demo, never some other file that happens to have the name.
	if _, err := os.Lstat(img); err == nil {
		if !isDemoKit(img) {
			return withCodeT(ExitRefused, errorT("cli.demo.not_demo", img), "cli.demo.not_demo_hint")
		}
		if err := os.Remove(img); err != nil {
			return err
		}
	}
	for _, p := range []string{rkPath} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.WriteFile(passPath, []byte(demoPassphrase), 0o600); err != nil {
		return wrapT(err, "cli.demo.write_failed", passPath, describeError(unwrapPathErr(err)))
	}
	p := profile.Default()
	if hostOnly {
		p.Tools.Platforms = []string{runtime.GOOS + "/" + runtime.GOARCH}
	}
	opt := builder.PlanOptions{Target: img, Size: demoSize}
	if binaries != "" {
		opt.BinaryDirs = []string{binaries}
	}
	plan, err := builder.MakePlan(builderConfig(p), opt)
	if err != nil {
		return withCodeT(ExitError, err, "cli.demo.dist_hint")
	}
	plan.PrintIn(os.Stdout, tr)
	fmt.Println()
	start := time.Now()
	var res *builder.Result
	err = runWithNote(tr.T("cli.demo.building"), func() error {
		var err error
		res, err = builder.Build(context.Background(), plan, builder.BuildOptions{Passphrase: []byte(demoPassphrase)})
		return err
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(rkPath, []byte(res.RecoveryKey+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Println(tr.T("cli.demo.built", img, strconv.FormatFloat(time.Since(start).Seconds(), 'f', 1, 64), res.LUKSUUID))

	// A note in the encrypted volume, and a check against the trusted manifest copy.
	k := &kitFlags{target: img, passFile: passPath}
	o, err := openKit(img, true)
	if err != nil {
		return err
	}
	u, err := k.unlock(o, true)
	if err != nil {
		o.Close() // nothing was written yet: the unlock's error is the one to report
		return err
	}
	note := []byte("Hello from travelkit! This note lives in the kit's encrypted ext4 volume.\n")
	werr := u.FS.WriteFile("notes/welcome.txt", bytes.NewReader(note), int64(len(note)), time.Now())
	if werr == nil {
		werr = u.Close()
	} else {
		u.Close() // the write failed: that is the error to report
	}
	if cerr := o.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return werr
	}
	rep, err := verify(&kitFlags{target: img, recoveryFile: rkPath})
	if err != nil {
		return err
	}
	printVerify(rep)
	st, _ := os.Stat(img)
	fmt.Print("\n" + tr.T("cli.demo.summary", demoPassphrase, passPath, res.RecoveryKey, rkPath, img, bytesize.Format(usedBytes(st))) + "\n")
	fmt.Printf(`
%[5]s
  %[4]s files ls  --target %[3]s --passphrase-file %[1]s notes
  %[4]s files get --target %[3]s --recovery-key-file %[2]s notes/welcome.txt -
  %[4]s verify    --target %[3]s --passphrase-file %[1]s
  sgdisk -p %[3]s
`, passPath, rkPath, img, self(), tr.T("cli.demo.next"))
	if !rep.OK {
		return withCode(ExitVerifyFail, errorT("cli.demo.failed"), "")
	}
	return nil
}
