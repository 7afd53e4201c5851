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
		Use:   "demo [--out DIR]",
		Short: "Build a demo kit image with the built-in default profile",
		Long: `Build DIR/` + demoImage + `, a 1 GiB (sparse) travel kit image made from the built-in default
profile ("demo-kit": restore instructions in every language, binaries for every
platform, a recovery key), then verify it and put a note into its encrypted volume.
The passphrase "` + demoPassphrase + `" is in DIR/passphrase and the recovery key in
DIR/recovery-key: a demo, not a place for secrets. A previous demo in DIR is replaced.

The binaries for the other platforms come from --binaries, the folder of this program
or ./dist (` + "`make dist`" + `); --host-only carries just this machine's.`,
		Example: `  make dist && travelkit demo
  travelkit demo --out /tmp/demo --host-only
  travelkit files ls --target demo/kit.img --passphrase-file demo/passphrase`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDemo(out, binaries, hostOnly) },
	}
	cmd.Flags().StringVar(&out, "out", "demo", "`folder` for the demo files")
	cmd.Flags().StringVar(&binaries, "binaries", "", "`folder` with the binaries for every platform (default: this program's folder, then ./dist)")
	cmd.Flags().BoolVar(&hostOnly, "host-only", false, "carry only this machine's binary")
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
		return fmt.Errorf("failed to create %s: %w", dir, unwrapPathErr(err))
	}
	img := filepath.Join(dir, demoImage)
	passPath := filepath.Join(dir, "passphrase")
	rkPath := filepath.Join(dir, "recovery-key")
	// Replace only a previous demo, never some other file that happens to have the name.
	if _, err := os.Lstat(img); err == nil {
		if !isDemoKit(img) {
			return withCode(ExitRefused, fmt.Errorf("%s exists and is not a demo kit", img), "choose another --out folder")
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
		return fmt.Errorf("failed to write %s: %w", passPath, unwrapPathErr(err))
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
		return withCode(ExitError, err, "run `make dist` first (binaries for every platform), or use --host-only")
	}
	plan.PrintIn(os.Stdout, tr)
	fmt.Println()
	start := time.Now()
	var res *builder.Result
	err = runWithNote("Building the demo kit (key derivation calibrated to 2 s, twice)", func() error {
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
	fmt.Printf("Built %s in %.1fs (LUKS UUID %s).\n", img, time.Since(start).Seconds(), res.LUKSUUID)

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
	fmt.Printf(`
Passphrase:   %s (in %s)
Recovery key: %s (in %s)
Image:        %s, 1 GiB sparse, %s on disk

Next:
  %[7]s files ls  --target %[5]s --passphrase-file %[2]s notes
  %[7]s files get --target %[5]s --recovery-key-file %[4]s notes/welcome.txt -
  %[7]s verify    --target %[5]s --passphrase-file %[2]s
  sgdisk -p %[5]s
`, demoPassphrase, passPath, res.RecoveryKey, rkPath, img, bytesize.Format(usedBytes(st)), self())
	if !rep.OK {
		return withCode(ExitVerifyFail, errors.New("the demo kit failed verification"), "")
	}
	return nil
}
