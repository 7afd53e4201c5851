package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"time"

	"travelkit/builder"
	"travelkit/internal/termsafe"
	"travelkit/internal/version"
	"travelkit/kit"
	"travelkit/register"
	"travelkit/target"
)

// Shared by the commands that change a kit's keys or tools (keys, refresh).

// openWholeKit opens a kit for writing both partitions: key changes and refresh rewrite
// the tools partition, which must not be mounted.
func openWholeKit(path string) (*openedKit, error) {
	return openKitWith(path, target.Options{Write: true})
}

// changeProfile loads the --profile of a change (refresh, keys rotate-recovery) for the
// builder; with none given it returns nil: the change keeps what the kit has.
func changeProfile(path string) (*builder.Config, error) {
	if path == "" {
		return nil, nil
	}
	p, err := loadProfile(path)
	if err != nil {
		return nil, err
	}
	cfg := builderConfig(p)
	return &cfg, nil
}

// checkChangeProfile refuses a change whose profile (nil: none) names another kit than
// the one at target, whose manifest is m.
func checkChangeProfile(prof *builder.Config, m *kit.Manifest, target string) error {
	if prof != nil && prof.Name != m.KitID {
		return withCodeT(ExitRefused, errorT("cli.change.other_profile", termsafe.Name(prof.Name), target, termsafe.Name(m.KitID)), "cli.change.other_profile_hint")
	}
	return nil
}

// stageProgress returns a builder.Progress drawing one bar per stage, and the function
// that ends the last bar.
func stageProgress() (builder.Progress, func()) {
	var bar *progress
	var stage string
	prog := func(s string, done, total int64) {
		if s != stage {
			if bar != nil {
				bar.Done()
			}
			stage = s
			bar = newProgress(stageLabel(s), total)
		}
		if total > 0 {
			bar.done.Store(done)
		}
	}
	return prog, func() {
		if bar != nil {
			bar.Done()
		}
	}
}

// changeSession unlocks an opened kit for writing and starts a change session. The
// returned function closes the volume.
func changeSession(o *openedKit, k *kitFlags) (*builder.Session, func() error, error) {
	u, err := k.unlock(o, true)
	if err != nil {
		return nil, nil, err
	}
	s, err := builder.NewSession(o.d, u, k.recoveryKey, time.Now())
	if err != nil {
		u.Close()
		return nil, nil, err
	}
	closed := false
	return s, func() error {
		if closed {
			return nil
		}
		closed = true
		return u.Close()
	}, nil
}

type builderChange = builder.ChangeResult

// interruptible runs a change with Ctrl-C turned into a clean stop between steps.
func interruptible(f func(ctx context.Context) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := f(ctx)
	if err != nil && ctx.Err() != nil {
		return withCodeT(ExitInterrupted, err, "cli.change.interrupted_hint", "travelkit refresh")
	}
	return err
}

// finishChange closes the kit's volume after a change (a failed close is the command's
// error: the change may not be on the drive) and records the change in the register.
func finishChange(closeVol func() error, registerFile, event string, res *builder.ChangeResult) error {
	if err := closeVol(); err != nil {
		return err
	}
	return appendRegister(registerFile, event, res.Manifest, res.KitID)
}

// appendRegister adds the event of a change to the helpline's register (--register).
func appendRegister(path, event string, m *kit.Manifest, label string) error {
	if path == "" || m == nil {
		return nil
	}
	if err := register.Append(path, register.FromManifest(event, m, label, version.Version, time.Now())); err != nil {
		return causeT(err, "cli.change.register_failed")
	}
	return nil
}

// printChange tells what a change did; what is the first words, in the person's language
// ("Passphrase changed").
func printChange(what string, r *builder.ChangeResult, target string) {
	fmt.Fprintln(os.Stderr, tr.T("cli.change.done", what, termsafe.Name(r.KitID), target, r.LUKSUUID, termsafe.Name(r.Version), r.Files))
	if r.Completed {
		fmt.Fprintln(os.Stderr, tr.T("cli.change.completed"))
	}
	for _, e := range r.EscrowFiles {
		fmt.Fprintln(os.Stderr, tr.T("cli.change.handover", e))
	}
	for _, n := range r.NoteMessages {
		fmt.Fprintln(os.Stderr, tr.T("cli.change.note", prose(n.In(tr))))
	}
}

// checkNewFile refuses an output file that exists, before anything changes.
func checkNewFile(path, flag string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); err == nil {
		return withCodeT(ExitRefused, errorT("cli.change.exists", flag, path), "cli.change.exists_hint")
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
