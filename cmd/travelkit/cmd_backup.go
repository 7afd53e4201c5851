package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"travelkit/internal/bytesize"
	"travelkit/internal/termsafe"
	"travelkit/repo"
)

type backupOptions struct {
	repoFlags
	excludes    []string
	excludeFile []string
	tags        []string
	host        string
	json        bool
	copyAfter   bool
	copy        copyFlags
}

func newBackupCmd() *cobra.Command {
	var o backupOptions
	c := &cobra.Command{
		Use:  "backup (--target T [--passphrase-file F] [--copy] | --repo LOCATION --password-file F) PATH...",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return o.closeAfter(runBackup(c, &o, args))
		},
	}
	o.register(c)
	f := c.Flags()
	f.StringArrayVar(&o.excludes, "exclude", nil, "")
	f.StringArrayVar(&o.excludeFile, "exclude-file", nil, "")
	f.StringArrayVar(&o.tags, "tag", nil, "")
	f.StringVar(&o.host, "host", "", "")
	f.BoolVar(&o.json, "json", false, "")
	f.BoolVar(&o.copyAfter, "copy", false, "")
	o.copy.register(c, "backup")
	return c
}

func readPatternFile(path string) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, usageErrorT("cli.more.exclude_file", err)
	}
	defer fh.Close()
	var out []string
	s := bufio.NewScanner(fh)
	for s.Scan() {
		l := strings.TrimSpace(s.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, s.Err()
}

type jsonStatus struct {
	MessageType  string   `json:"message_type"`
	SecondsElap  int64    `json:"seconds_elapsed"`
	SecondsLeft  int64    `json:"seconds_remaining,omitempty"`
	PercentDone  float64  `json:"percent_done"`
	TotalFiles   int64    `json:"total_files"`
	FilesDone    int64    `json:"files_done"`
	TotalBytes   int64    `json:"total_bytes"`
	BytesDone    int64    `json:"bytes_done"`
	ErrorCount   int64    `json:"error_count,omitempty"`
	CurrentFiles []string `json:"current_files,omitempty"`
}

// progressPrinter shows files, bytes, rate and ETA on a terminal, or JSON lines.
type progressPrinter struct {
	out      io.Writer
	json     bool
	terminal bool
	line     string // message key of the progress line: cli.progress.saved, cli.progress.restored
}

func (p *progressPrinter) show(elapsed time.Duration, files, totalFiles, bytes, totalBytes int64, done bool) {
	pct := 0.0
	if totalBytes > 0 {
		pct = float64(bytes) / float64(totalBytes)
		if pct > 1 {
			pct = 1
		}
	}
	var eta time.Duration
	if bytes > 0 && totalBytes > bytes {
		eta = time.Duration(float64(elapsed) * float64(totalBytes-bytes) / float64(bytes))
	}
	switch {
	case p.json:
		if done {
			return
		}
		b, _ := json.Marshal(jsonStatus{MessageType: "status", SecondsElap: int64(elapsed.Seconds()),
			SecondsLeft: int64(eta.Seconds()), PercentDone: pct, TotalFiles: totalFiles, FilesDone: files,
			TotalBytes: totalBytes, BytesDone: bytes})
		fmt.Fprintln(p.out, string(b))
	case p.terminal:
		rate := 0.0
		if elapsed > 0 {
			rate = float64(bytes) / elapsed.Seconds()
		}
		line := tr.T(p.line, formatDuration(elapsed), files, totalFiles,
			bytesize.Format(bytes), bytesize.Format(totalBytes), bytesize.Format(int64(rate)))
		if eta > 0 && !done {
			line += tr.T("cli.progress.eta", formatDuration(eta))
		}
		fmt.Fprintf(os.Stderr, "\r%-78s", line)
		if done {
			fmt.Fprintln(os.Stderr)
		}
	}
}

func runBackup(c *cobra.Command, o *backupOptions, paths []string) error {
	ctx, cancel := signalContext()
	defer cancel()
	limitMemory()
	excludes := append([]string(nil), o.excludes...)
	for _, f := range o.excludeFile {
		p, err := readPatternFile(f)
		if err != nil {
			return err
		}
		excludes = append(excludes, p...)
	}
	if _, err := repo.CompilePatterns(excludes); err != nil {
		return usageErrorT("cli.more.exclude_pattern", err)
	}
	if o.copyAfter && o.kit.target == "" {
		return usageErrorT("cli.more.copy_target")
	}
	if err := o.copy.check(); err != nil {
		return err
	}
	r, err := o.open(ctx)
	if err != nil {
		return err
	}
	// the index loads while the lock is taken (its files are written and synced); its
	// error, if any, is RefreshIndex's to report. Data blobs are kept without their
	// places: a backup only asks whether they are stored
	r.IndexForBackup()
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		_ = r.LoadIndex(ctx)
	}()
	l, err := lockRepo(ctx, r, false)
	<-loaded
	if err != nil {
		return err
	}
	defer func() { l.Unlock() }()
	// partial packs of a killed backup (nobody else is writing): gone before new ones
	if err := l.RemoveTemps(ctx); err != nil {
		return err
	}
	// the index may have changed while we took the lock: loaded again unless its files
	// are still the ones read
	if err := r.RefreshIndex(ctx); err != nil {
		return err
	}
	keepHeadroom(r.IndexCompactBlobs())
	out := c.OutOrStdout()
	pp := &progressPrinter{out: out, json: o.json, terminal: stderrIsTerminal(), line: "cli.progress.saved"}
	warn := func(path string, err error) {
		if o.json {
			b, _ := json.Marshal(map[string]any{"message_type": "error", "item": path, "during": "archival", "error": map[string]string{"message": err.Error()}})
			fmt.Fprintln(out, string(b))
			return
		}
		if pp.terminal {
			fmt.Fprint(os.Stderr, "\r")
		}
		fmt.Fprintln(os.Stderr, tr.T("cli.warning", termsafe.Name(path), prose(describeError(err))))
	}
	bo := repo.BackupOptions{
		Paths: paths, Excludes: excludes, Tags: o.tags, Host: o.host, Warn: warn,
		ProgramVersion: programVersion(),
	}
	if pp.json || pp.terminal {
		bo.Progress = func(p repo.BackupProgress) {
			pp.show(p.Elapsed, p.FilesDone, p.TotalFiles, p.BytesDone, p.TotalBytes, p.Done)
		}
	}
	res, err := r.Backup(ctx, bo)
	if err != nil {
		return interrupted(ctx, err)
	}
	sn := res.Snapshot
	s := sn.Summary
	if o.json {
		b, _ := json.Marshal(map[string]any{
			"message_type": "summary", "files_new": s.FilesNew, "files_changed": s.FilesChanged,
			"files_unmodified": s.FilesUnmodified, "dirs_new": s.DirsNew, "dirs_changed": s.DirsChanged,
			"dirs_unmodified": s.DirsUnmodified, "data_blobs": s.DataBlobs, "tree_blobs": s.TreeBlobs,
			"data_added": s.DataAdded, "total_files_processed": s.TotalFilesProcessed,
			"total_bytes_processed": s.TotalBytesProcessed,
			"total_duration":        s.BackupEnd.Sub(s.BackupStart).Seconds(), "snapshot_id": sn.ID.String(),
			"error_count": res.Errors,
		})
		fmt.Fprintln(out, string(b))
	} else {
		if res.Parent != nil {
			fmt.Fprintln(out, tr.T("cli.backup.parent", res.Parent.Str()))
		}
		fmt.Fprintln(out, tr.T("cli.backup.files", s.FilesNew, s.FilesChanged, s.FilesUnmodified))
		fmt.Fprintln(out, tr.T("cli.backup.added", bytesize.Format(int64(s.DataAdded)), formatDuration(s.BackupEnd.Sub(s.BackupStart))))
		fmt.Fprintln(out, tr.T("cli.backup.saved", sn.ID.Str()))
	}
	var copyErr error
	if o.copyAfter {
		l.Unlock()
		l = nil
		copyErr = copyFromKit(ctx, out, o.unlocked, nil, o.copy, o.json)
	}
	if res.Errors > 0 {
		return withCodeT(ExitError, errorT("cli.backup.unread", sn.ID.Str(), res.Errors), "cli.backup.unread_hint")
	}
	return interrupted(ctx, copyErr)
}

// limitMemory makes the garbage collector keep the heap within a quarter of
// what is in use: a backup holds two pack buffers and a few chunk buffers
// (about 70 MB), reused, a restore or check a few blob or pack buffers, and
// otherwise they allocate little. There is no fixed memory limit: near it the
// collector runs nonstop and the scavenger hands pages back to the system
// only to fault them in again (on 100,000 files: 14.0 s of CPU under a
// 110 MB limit, 8.7 s without). GOGC or GOMEMLIMIT in the environment win.
// keepHeadroom gives the collector, for an index that keeps n data blobs
// compact (about 18 bytes each), the headroom it had when they took 64 bytes
// each: a quarter of what they took then, in bytes. With a quarter of the
// smaller heap it ran about twice as often for the same garbage (a no-change
// incremental of 300,000 files: 247 collections instead of 132, 1.08x the CPU).
// The memory saved is then the blobs' 46 bytes less a quarter of that.
func keepHeadroom(n int) {
	if n == 0 || os.Getenv("GOGC") != "" {
		return
	}
	runtime.GC() // the live heap as it is now, once (about 10 ms)
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	live := s[0].Value.Uint64()
	if s[0].Value.Kind() != metrics.KindUint64 || live == 0 {
		return
	}
	debug.SetGCPercent(25 + int(25*uint64(n)*46/live))
}

func limitMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
}
