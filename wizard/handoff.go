package wizard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Relaunching with administrator rights. The person's own copy (A) asks the system to
// start travelkit again elevated (B), with --handoff DIR: a folder A made, which only the
// person and administrators can enter. B listens on its own port and writes its address
// (with its own one-time token) to DIR/url; A's page, waiting, reads it from A and moves
// the browser to B. While B runs, A stays to do what B, running as root, should not do
// for the person: B writes DIR/open to have a folder shown in the person's file manager.
// A ends when B ends.

// elevation is A's side of a relaunch.
type elevation struct {
	dir string

	mu     sync.Mutex
	url    string // B's address, once written
	err    error  // the relaunch failed or was refused
	ended  bool   // B ended
	manual string // the command to type when this system cannot ask (no pkexec)
	done   chan struct{}
}

func (e *elevation) get() (url string, err error, ended bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.url, e.err, e.ended
}

// elevate starts the relaunch. Caller holds mu.
func (st *state) elevate() {
	p := st.printer()
	if e := st.elevation; e != nil {
		if _, err, ended := e.get(); !ended && err == nil {
			st.phase = kitElevating // already asking
			return
		}
	}
	if _, err := st.s.o.System.Elevation(); err != nil {
		var ne *NoElevationError
		if errors.As(err, &ne) {
			st.elevation = &elevation{manual: strings.ReplaceAll(ne.Command, shellQuote("%EXE%"), shellQuote(st.s.o.Exe)), done: make(chan struct{})}
			close(st.elevation.done)
			st.phase = kitAdmin
			return
		}
		st.flash = p.T("wizard.error.generic", err.Error())
		return
	}
	dir, err := os.MkdirTemp("", "travelkit-wizard-")
	if err != nil {
		st.flash = p.T("wizard.error.generic", err.Error())
		return
	}
	args := []string{"wizard", "--handoff", dir, "--lang", st.lang, "--home", st.s.o.Home}
	if runtime.GOOS != "windows" {
		args = append(args, "--owner", fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()))
	}
	if st.s.o.AllowWeak {
		args = append(args, "--allow-weak-passphrase")
	}
	e := &elevation{dir: dir, done: make(chan struct{})}
	st.elevation = e
	st.phase = kitElevating
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		err := st.s.o.System.Elevate(ctx, st.s.o.Exe, args)
		e.mu.Lock()
		e.ended, e.err = true, err
		e.mu.Unlock()
		cancel()
	}()
	go func() {
		defer close(e.done)
		defer os.RemoveAll(dir)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if b, err := readSmallFile(filepath.Join(dir, "url"), 512); err == nil {
				e.mu.Lock()
				e.url = strings.TrimSpace(string(b))
				e.mu.Unlock()
			}
			if b, err := readSmallFile(filepath.Join(dir, "open"), 64<<10); err == nil {
				os.Remove(filepath.Join(dir, "open"))
				st.s.o.System.OpenFolder(strings.TrimSpace(string(b)))
			}
		}
	}()
}

// elevatedJSON tells A's waiting page B's address once known, or that the relaunch failed.
func (st *state) elevatedJSON(w http.ResponseWriter) {
	st.mu.Lock()
	e := st.elevation
	st.mu.Unlock()
	var v struct {
		URL    string `json:"url,omitempty"`
		Failed bool   `json:"failed,omitempty"`
	}
	if e != nil {
		url, err, ended := e.get()
		v.URL = url
		v.Failed = err != nil || (ended && url == "")
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// waitElevation keeps A until B ends (B may still ask A to show a folder).
func (st *state) waitElevation() {
	st.mu.Lock()
	e := st.elevation
	st.mu.Unlock()
	if e != nil {
		<-e.done
	}
}

// writeHandoff is B's side: its address, for A's page.
func writeHandoff(dir, url string) error {
	return writeFileAtomic(filepath.Join(dir, "url"), []byte(url+"\n"))
}

// requestOpen is B asking A to show a folder.
func requestOpen(dir, folder string) error {
	return writeFileAtomic(filepath.Join(dir, "open"), []byte(folder+"\n"))
}

// writeFileAtomic writes a new file whole or not at all (the reader polls for it).
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	// 0644 in a folder only the person and administrators can enter: A (the person) must
	// read what B (root) wrote
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() > limit {
		return nil, fmt.Errorf("%s: not a small file", path)
	}
	b := make([]byte, fi.Size())
	_, err = f.Read(b)
	return b, err
}
