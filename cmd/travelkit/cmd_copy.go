package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"travelkit/drive"
	"travelkit/internal/bytesize"
	"travelkit/internal/termsafe"
	"travelkit/mirror"
	"travelkit/remote"
	"travelkit/repo"
)

// copyFlags tune copies to remotes (copy, backup --copy).
type copyFlags struct {
	limitUpload int64 // KiB/s
	connections int
	retries     int
	prune       bool
	yes         bool
}

func (f *copyFlags) register(c *cobra.Command, prefix string) {
	fs := c.Flags()
	fs.Int64Var(&f.limitUpload, "limit-upload", 0, "")
	fs.IntVar(&f.connections, "connections", 4, "")
	fs.IntVar(&f.retries, "retries", 8, "")
	if prefix == "" {
		fs.BoolVar(&f.prune, "prune-remote", false, "")
		fs.BoolVar(&f.yes, "yes", false, "")
	}
}

func (f *copyFlags) check() error {
	if f.connections < 1 || f.connections > 64 {
		return usageErrorT("cli.copy.connections", f.connections)
	}
	if f.limitUpload < 0 {
		return usageErrorT("cli.copy.limit", f.limitUpload)
	}
	if f.retries < 0 {
		return usageErrorT("cli.copy.retries", f.retries)
	}
	return nil
}

type copyOptions struct {
	kit  kitFlags
	copy copyFlags
	json bool
}

func newCopyCmd() *cobra.Command {
	var o copyOptions
	c := &cobra.Command{
		Use: "copy --target T [NAME...] [--limit-upload KiB/s] [--connections N] [--prune-remote] [--json]",
		RunE: func(c *cobra.Command, args []string) error {
			return runCopy(c, &o, args)
		},
	}
	o.kit.register(c.Flags())
	o.copy.register(c, "")
	c.Flags().BoolVar(&o.json, "json", false, "")
	return c
}

func runCopy(c *cobra.Command, o *copyOptions, names []string) (err error) {
	if err := o.copy.check(); err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	// a copy holds one file (up to a pack, 16 MiB) per connection, reused
	limitMemory()
	ok, err := openKit(o.kit.target, true)
	if err != nil {
		return err
	}
	defer closeWritten(ok, &err)
	u, err := o.kit.unlock(ok, true)
	if err != nil {
		return err
	}
	err = copyFromKit(ctx, c.OutOrStdout(), u, names, o.copy, o.json)
	if cerr := u.Close(); err == nil && cerr != nil {
		err = causeT(cerr, "cli.change.close_failed")
	}
	return interrupted(ctx, err)
}

// copyFromKit copies the kit's repository to the remotes named (all when none are).
func copyFromKit(ctx context.Context, out io.Writer, u *drive.Unlocked, names []string, f copyFlags, asJSON bool) error {
	all, err := u.Remotes()
	if err != nil {
		return err
	}
	var rs []*remote.Settings
	if len(names) == 0 {
		rs = all
		if len(rs) == 0 {
			return usageErrorT("cli.copy.no_remotes", "travelkit remote add --target T NAME LOCATION")
		}
	}
	for _, n := range names {
		s, err := u.Remote(n)
		if err != nil {
			if errors.Is(err, drive.ErrNoRemote) {
				return withCodeT(ExitUsage, err, "cli.remote.list_hint", "travelkit remote list")
			}
			return err
		}
		rs = append(rs, s)
	}
	r, err := openKitRepo(ctx, u, false)
	if errors.Is(err, repo.ErrNoRepository) {
		return withCodeT(ExitError, errorT("cli.copy.no_backups"), "cli.copy.no_backups_hint", "travelkit backup --target T PATH...")
	}
	if err != nil {
		return err
	}
	l, err := lockRepo(ctx, r, false)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if f.prune && !f.yes {
		var where []string
		for _, s := range rs {
			where = append(where, termsafe.Name(s.Name))
		}
		if err := confirm(tr.T("cli.copy.prune_confirm", strings.Join(where, ", ")), "--yes"); err != nil {
			return err
		}
	}
	var firstErr error
	for _, s := range rs {
		if err := copyTo(ctx, out, r, s, f, asJSON); err != nil {
			if ctx.Err() != nil {
				return err
			}
			err = remoteError(err)
			fmt.Fprintln(os.Stderr, tr.T("cli.copy.failed_line", termsafe.Name(s.Name), prose(describeError(err))))
			if firstErr == nil {
				// the exit code and hint are those of err, inside
				firstErr = causeT(err, "cli.copy.failed", termsafe.Name(s.Name))
			}
		}
	}
	return firstErr
}

type copySummary struct {
	MessageType string         `json:"message_type"`
	Remote      string         `json:"remote"`
	Location    string         `json:"location"`
	Sent        mirror.Counts  `json:"sent"`
	Skipped     mirror.Counts  `json:"skipped"`
	Verified    mirror.Counts  `json:"verified"`
	Removed     mirror.Counts  `json:"removed"`
	Kept        mirror.Counts  `json:"kept_by_remote"`
	SentByType  map[string]int `json:"sent_by_type"`
	Snapshots   int            `json:"snapshots"`
	Seconds     float64        `json:"seconds"`
	Error       string         `json:"error,omitempty"`
}

// copyTo copies the repository to one remote.
func copyTo(ctx context.Context, out io.Writer, r *repo.Repository, s *remote.Settings, f copyFlags, asJSON bool) error {
	start := time.Now()
	meter := mirror.NewMeter(f.limitUpload << 10)
	name := termsafe.Name(s.Name)
	terminal := stderrIsTerminal() && !asJSON
	if terminal {
		fmt.Fprintln(os.Stderr, tr.T("cli.copy.copying", name, termsafe.Name(s.Location.String())))
	}
	cred := s.Cred
	st, err := openRemote(ctx, s.Location, &cred, remote.Options{Throttle: meter.Throttle, Connections: f.connections, Prompt: terminalPrompt()})
	if err != nil {
		return err
	}
	defer st.Close()

	var mu sync.Mutex
	var bar *progress
	var last time.Time
	var total int64
	stopBar := make(chan struct{})
	var barDone sync.WaitGroup
	progressFn := func(p mirror.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if bar == nil && p.BytesTotal > 0 && terminal {
			total = p.BytesTotal
			bar = newProgress("  "+name, total)
			barDone.Add(1)
			go func() {
				defer barDone.Done()
				t := time.NewTicker(200 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stopBar:
						return
					case <-t.C:
						// bytes on the wire, continuously; a local folder has no meter
						mu.Lock()
						bar.done.Store(max(bar.done.Load(), min(meter.Sent(), total)))
						mu.Unlock()
					}
				}
			}()
		}
		if bar != nil {
			bar.done.Store(max(bar.done.Load(), p.BytesDone))
		}
		if asJSON && (time.Since(last) >= time.Second || p.FilesDone == p.FilesTotal) && p.FilesTotal > 0 {
			last = time.Now()
			b, _ := json.Marshal(map[string]any{"message_type": "status", "remote": s.Name, "phase": p.Phase,
				"files_done": p.FilesDone, "total_files": p.FilesTotal, "bytes_done": p.BytesDone, "total_bytes": p.BytesTotal,
				"seconds_elapsed": int64(time.Since(start).Seconds())})
			fmt.Fprintln(out, string(b))
		}
	}
	warn := func(w mirror.Warning) {
		if asJSON {
			b, _ := json.Marshal(map[string]any{"message_type": "warning", "remote": s.Name, "message": w.String()})
			fmt.Fprintln(out, string(b))
			return
		}
		if terminal {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
		fmt.Fprintf(os.Stderr, "travelkit: %s: %s\n", name, prose(warningText(w)))
	}
	res, err := mirror.Copy(ctx, r, st, mirror.Options{
		Connections: f.connections, Retries: retriesOf(f.retries), Prune: f.prune,
		Progress: progressFn, Warn: warn,
	})
	close(stopBar)
	barDone.Wait()
	if bar != nil {
		bar.Done()
	}
	if res == nil {
		res = &mirror.Result{}
	}
	sum := copySummary{MessageType: "summary", Remote: s.Name, Location: s.Location.String(), Sent: res.Sent, Skipped: res.Skipped,
		Verified: res.Verified, Removed: res.Removed, Kept: res.Kept, SentByType: res.ByType, Snapshots: res.Snapshots,
		Seconds: time.Since(start).Seconds()}
	if err != nil {
		sum.Error = err.Error()
	}
	if asJSON {
		b, _ := json.Marshal(sum)
		fmt.Fprintln(out, string(b))
	} else if err == nil || res.Sent.Files > 0 || res.Kept.Files > 0 {
		fmt.Fprint(out, tr.T("cli.copy.sent", name, res.Sent.Files, bytesize.Format(res.Sent.Bytes), res.Skipped.Files, res.Verified.Files))
		if res.Removed.Files > 0 || res.Kept.Files > 0 {
			fmt.Fprint(out, tr.T("cli.copy.removed", res.Removed.Files))
		}
		if res.Kept.Files > 0 {
			fmt.Fprint(out, tr.T("cli.copy.kept", res.Kept.Files))
		}
		if err == nil || res.Kept.Files > 0 {
			fmt.Fprintln(out, tr.T("cli.copy.snapshots", res.Snapshots, formatDuration(time.Since(start))))
		} else {
			fmt.Fprintln(out)
		}
	}
	if errors.Is(err, mirror.ErrPruneRefused) {
		return withCodeT(ExitRefused, err, "cli.copy.prune_refused_hint")
	}
	if errors.Is(err, mirror.ErrDamagedSource) {
		return withCode(ExitVerifyFail, err, "")
	}
	if errors.Is(err, mirror.ErrDamagedCopy) {
		return withCode(ExitVerifyFail, err, "")
	}
	return err
}

// retriesOf maps the flag to mirror's convention (negative: none).
func retriesOf(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// warningText is a copy's warning in the person's language: what it was doing, and for a
// retry the cause (in their words where the catalogue has some, else the server's or the
// system's own) and the pause before the next try.
func warningText(w mirror.Warning) string {
	what := w.What.In(tr)
	if w.Err == nil {
		return what
	}
	return tr.T("cli.copy.retry", what, describeError(w.Err), int(w.Wait.Round(time.Second)/time.Second))
}
