package wizard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"travelkit/internal/bytesize"
	"travelkit/repo"
)

// job is a restore running in its own goroutine.
type job struct {
	dest    string
	cancel  context.CancelFunc
	done    chan struct{}
	started time.Time

	mu       sync.Mutex
	prog     repo.RestoreProgress
	res      *repo.RestoreResult
	err      error
	stopped  bool     // cancelled by the person (or the page closing)
	failures []string // entries not restored (the first few)
	failed   int
}

func (j *job) finished() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

func (j *job) wait() { <-j.done }

// snapshot of the job's state for the pages.
func (j *job) get() (repo.RestoreProgress, *repo.RestoreResult, error, bool, []string, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.prog, j.res, j.err, j.stopped, append([]string(nil), j.failures...), j.failed
}

// startRestore checks the destination and starts the restore (repo.Restore, as the CLI's
// restore and the boot menu's). Caller holds mu.
func (st *state) startRestore(dest string) {
	p := st.printer()
	dest = strings.TrimSpace(dest)
	if dest == "" {
		st.flash = p.T("wizard.where.empty")
		return
	}
	if !filepath.IsAbs(dest) {
		dest = filepath.Join(st.s.o.Home, dest)
	}
	dest = filepath.Clean(dest)
	st.dest = dest
	if fi, err := os.Stat(dest); err == nil && !fi.IsDir() {
		st.flash = p.T("wizard.where.notfolder", dest)
		return
	}
	if err := makeDest(dest, st.s.o.Owner); err != nil {
		st.flash = p.T("wizard.where.cannot", dest, err.Error())
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &job{dest: dest, cancel: cancel, done: make(chan struct{}), started: time.Now()}
	st.job = j
	st.step = stepProgress
	r, sn, include, owner := st.r, st.snap, st.include, st.s.o.Owner
	go func() {
		defer close(j.done)
		defer cancel()
		res, err := r.Restore(ctx, sn, repo.RestoreOptions{
			Target: dest, Include: include, Owner: owner,
			Warn: func(path string, err error) {
				j.mu.Lock()
				j.failed++
				if len(j.failures) < 20 {
					j.failures = append(j.failures, path)
				}
				j.mu.Unlock()
			},
			Progress: func(pr repo.RestoreProgress) {
				j.mu.Lock()
				j.prog = pr
				j.mu.Unlock()
			},
		})
		j.mu.Lock()
		j.res, j.err = res, err
		if ctx.Err() != nil {
			j.stopped = true
			j.err = nil
		}
		j.mu.Unlock()
		st.mu.Lock()
		if st.step == stepProgress {
			st.step = stepDone
		}
		st.mu.Unlock()
	}()
}

// makeDest creates the destination folder (and its parents) when missing, owned by the
// person when running on their behalf.
func makeDest(dest string, owner *repo.Owner) error {
	if _, err := os.Stat(dest); err == nil {
		return nil
	}
	// the folders that do not exist yet, from the top, to give them to the person
	var missing []string
	for d := dest; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		missing = append([]string{d}, missing...)
	}
	if err := os.MkdirAll(dest, 0o700); err != nil {
		return err
	}
	if owner != nil {
		for _, d := range missing {
			if err := chown(d, owner); err != nil {
				return err
			}
		}
	}
	return nil
}

// progressView is what the progress page and /progress show.
type progressView struct {
	Percent   int    `json:"percent"`
	Files     string `json:"files"`
	Bytes     string `json:"bytes"`
	Left      string `json:"left"`
	Done      bool   `json:"done"`
	Counting  bool   `json:"counting"`
	Stopping  bool   `json:"stopping"`
	TotalSize int64  `json:"-"`
}

func (st *state) progressView() progressView {
	p := st.printer()
	var v progressView
	if st.job == nil {
		return v
	}
	pr, _, _, stopped, _, _ := st.job.get()
	v.Done = st.job.finished()
	v.Stopping = stopped && !v.Done
	v.Counting = pr.TotalFiles == 0 && pr.TotalBytes == 0 && !v.Done
	if pr.TotalBytes > 0 {
		v.Percent = int(pr.BytesDone * 100 / pr.TotalBytes)
	} else if pr.TotalFiles > 0 {
		v.Percent = int(pr.FilesDone * 100 / pr.TotalFiles)
	}
	v.Files = p.T("wizard.progress.files", int(pr.FilesDone), int(pr.TotalFiles))
	v.Bytes = p.T("wizard.progress.bytes", bytesize.Format(pr.BytesDone), bytesize.Format(pr.TotalBytes))
	if el := pr.Elapsed; el > 3*time.Second && pr.BytesDone > 0 && pr.TotalBytes > pr.BytesDone {
		left := time.Duration(float64(el) * float64(pr.TotalBytes-pr.BytesDone) / float64(pr.BytesDone))
		v.Left = p.T("wizard.progress.left", durationWords(p, left))
	}
	return v
}

// progressJSON answers the progress page's script.
func (st *state) progressJSON(w http.ResponseWriter) {
	st.mu.Lock()
	v := st.progressView()
	st.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

var errNoJob = errors.New("no restore")

// summary of a finished job, for the done page.
func (st *state) jobSummary() (res *repo.RestoreResult, err error, stopped bool, failures []string, failed int) {
	if st.job == nil {
		return nil, errNoJob, false, nil, 0
	}
	_, res, err, stopped, failures, failed = st.job.get()
	return
}

func sizeOf(sn *repo.Snapshot) string {
	if sn.Summary == nil || sn.Summary.TotalBytesProcessed == 0 {
		return ""
	}
	return bytesize.Format(int64(sn.Summary.TotalBytesProcessed))
}
