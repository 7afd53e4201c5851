package wizard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"travelkit/drive"
	"travelkit/i18n"
	"travelkit/kit"
	"travelkit/repo"
	"travelkit/target"
)

// step is a screen of the wizard; the first eight are the numbered steps.
type step int

const (
	stepLanguage step = iota + 1
	stepKit
	stepUnlock
	stepSnapshot
	stepWhat
	stepWhere
	stepProgress
	stepDone
	stepPassphrase // after Done, when the kit was opened without the passphrase
	stepClosed
)

// numberedSteps is how many steps the person sees counted.
const numberedSteps = 8

// kitPhase is what the kit screen shows.
type kitPhase int

const (
	kitNone      kitPhase = iota // no kit drive found
	kitAdmin                     // disks could not be read without administrator rights
	kitElevating                 // waiting for the elevated copy
	kitSeveral                   // several kit drives: which one?
	kitFound                     // one kit, opened and checked
	kitFailed                    // the drive could not be opened
)

// state is everything the wizard holds for the one person using it. Every field is
// guarded by mu; a restore runs in its own goroutine and reports through job.
type state struct {
	s  *server
	mu sync.Mutex

	lang  string
	step  step
	flash string // an error or note shown once on the next page

	// step 2: the kit
	phase     kitPhase
	found     []drive.Found
	openErr   string
	elevation *elevation
	kitPath   string
	tg        *target.Target
	d         *drive.Drive
	man       *kit.Manifest       // the tools partition's own (untrusted until unlocked)
	check     *drive.VerifyReport // without a secret
	// step 3: unlocking
	colleagues bool // the page for colleagues' files
	tries      int
	u          *drive.Unlocked
	trusted    *drive.VerifyReport // against the copy inside the volume
	tampered   bool                // the trusted check failed and the person has not chosen yet
	recovery   []byte              // the recovery key when it opened the kit (for a new passphrase)
	viaRecover bool                // opened without the passphrase
	// steps 4-6
	r        *repo.Repository
	snaps    []*repo.Snapshot
	snap     *repo.Snapshot
	some     bool // choose folders
	tree     *folderTree
	include  []string
	dest     string
	browse   string // the folder whose subfolders the where page lists
	browseOK bool
	// steps 7-8
	job *job
	// the passphrase page
	generated string
	changed   bool
}

func newState(s *server) *state {
	return &state{s: s, lang: s.o.Lang, step: stepLanguage}
}

func (st *state) printer() *i18n.Printer { return i18n.New(st.lang) }

// busy reports whether a restore or a change is running (the wizard is not idle then).
func (st *state) busy() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.job != nil && !st.job.finished()
}

// close stops a running restore, closes the repository and the kit (the volume key is
// wiped) and clears the secrets held.
func (st *state) close() error {
	st.mu.Lock()
	j := st.job
	st.mu.Unlock()
	if j != nil {
		j.cancel()
		j.wait()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.step = stepClosed
	return st.closeKit()
}

// closeKit closes what is open of the kit, from the repository down. Caller holds mu.
func (st *state) closeKit() error {
	var errs []error
	if st.r != nil {
		if err := st.r.Close(); err != nil {
			errs = append(errs, err)
		}
		st.r = nil
	}
	if st.u != nil {
		if err := st.u.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the kit's volume: %w", err))
		}
		st.u = nil
	}
	if st.tg != nil {
		if err := st.tg.Close(); err != nil {
			errs = append(errs, err)
		}
		st.tg, st.d = nil, nil
	}
	clear(st.recovery)
	st.recovery = nil
	st.generated = ""
	st.snaps, st.snap, st.tree, st.include = nil, nil, nil, nil
	st.check, st.trusted, st.man = nil, nil, nil
	return errors.Join(errs...)
}

// page renders the current step.
func (st *state) page(w http.ResponseWriter, r *http.Request) {
	st.mu.Lock()
	defer st.mu.Unlock()
	d := st.view()
	st.flash = ""
	render(w, d)
}

// action handles a posted form and redirects to the page (post, redirect, get: a reload
// never posts twice).
func (st *state) action(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer f.clear()
	do := f.get("do")
	if do == "quit" {
		st.mu.Lock()
		st.step = stepClosed
		st.mu.Unlock()
		http.Redirect(w, r, "/", http.StatusSeeOther)
		// the page that says so is served first; the server stops right after
		go func() {
			time.Sleep(500 * time.Millisecond)
			st.s.stop()
		}()
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.do(r.Context(), do, f)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// do runs one action. Caller holds mu.
func (st *state) do(ctx context.Context, do string, f *form) {
	p := st.printer()
	switch do {
	case "lang":
		if l, ok := i18n.Match(f.get("lang")); ok && f.get("lang") != "" {
			st.lang = l
		}
		st.step = stepKit
		if st.d == nil {
			st.findKit()
		}
	case "language":
		st.step = stepLanguage
	case "start":
		st.step = stepKit
		if st.d == nil {
			st.findKit()
		}
	case "kit.again":
		st.findKit()
	case "kit.pick":
		for _, k := range st.found {
			if k.Path == f.get("path") {
				st.openKit(k.Path)
			}
		}
	case "kit.elevate":
		st.elevate()
	case "kit.use":
		if st.d != nil {
			st.step = stepUnlock
		}
	case "unlock.colleagues":
		st.colleagues = true
	case "unlock.secret":
		st.colleagues = false
		if f.get("secret") == "" {
			st.flash = p.T("wizard.unlock.empty")
			return
		}
		pass := f.secret("secret")
		st.unlockWith(ctx, pass, false)
		clear(pass)
	case "unlock.files":
		st.unlockWithFiles(ctx, f)
	case "tampered.continue":
		st.tampered = false
		st.toSnapshots(ctx)
	case "tampered.stop", "back.kit":
		st.closeKit()
		st.u = nil
		st.tampered = false
		st.step = stepKit
		st.findKit()
	case "snap.pick":
		for _, sn := range st.snaps {
			if sn.ID.String() == f.get("id") {
				st.snap = sn
				st.some, st.include, st.tree = false, nil, nil
				st.step = stepWhat
			}
		}
	case "what.all":
		st.some, st.include = false, nil
		st.toWhere()
	case "what.some":
		st.some = true
		if st.tree == nil {
			t, err := loadTree(ctx, st.r, st.snap)
			if err != nil {
				st.flash = p.T("wizard.error.generic", err.Error())
				st.some = false
				return
			}
			st.tree = t
		}
	case "what.pick":
		st.include = st.tree.validPaths(f.all("include"))
		if len(st.include) == 0 {
			st.flash = p.T("wizard.what.none")
			return
		}
		st.toWhere()
	case "where.browse":
		st.browseTo(f.get("dest"))
	case "where.into":
		st.browseTo(f.get("folder"))
	case "where.use":
		st.dest = f.get("folder")
		st.browse = ""
	case "where.start":
		st.startRestore(f.get("dest"))
	case "progress.cancel":
		if st.job != nil {
			st.job.cancel()
		}
	case "done.open":
		if st.job != nil {
			var err error
			if st.s.o.Handoff != "" {
				err = requestOpen(st.s.o.Handoff, st.job.dest) // the person's own copy shows it
			} else {
				err = st.s.o.System.OpenFolder(st.job.dest)
			}
			if err != nil {
				st.flash = p.T("wizard.done.openfailed", st.job.dest)
			}
		}
	case "done.again":
		st.job = nil
		st.step = stepSnapshot
	case "done.passphrase":
		st.step = stepPassphrase
		st.changed = false
	case "pass.generate":
		st.generate()
	case "pass.save":
		newPass, again := f.secret("new"), f.secret("again")
		st.changePassphrase(ctx, newPass, again)
		clear(newPass)
		clear(again)
	case "pass.back":
		st.step = stepDone
		st.generated = ""
	case "back":
		st.back()
	}
}

// back goes one step back.
func (st *state) back() {
	switch st.step {
	case stepKit:
		st.step = stepLanguage
	case stepUnlock:
		if st.colleagues {
			st.colleagues = false
			return
		}
		st.step = stepKit
	case stepSnapshot:
		st.step = stepKit
	case stepWhat:
		if st.some {
			st.some = false
			return
		}
		st.step = stepSnapshot
	case stepWhere:
		st.step = stepWhat
	}
}

// findKit looks for the kit: the one given, or the kit drives plugged in.
func (st *state) findKit() {
	st.found, st.openErr = nil, ""
	if st.s.o.Target != "" {
		st.openKit(st.s.o.Target)
		return
	}
	found, needAdmin, err := st.s.o.Find()
	st.found = found
	switch {
	case len(found) == 1:
		st.openKit(found[0].Path)
	case len(found) > 1:
		st.phase = kitSeveral
	case needAdmin:
		st.phase = kitAdmin
	case err != nil:
		st.phase, st.openErr = kitFailed, err.Error()
	default:
		st.phase = kitNone
	}
}

// openKit opens a kit read-only and checks its tools partition against its own
// manifest (drive.Verify without a secret).
func (st *state) openKit(path string) {
	if st.tg != nil && st.kitPath == path && st.d != nil {
		st.phase = kitFound
		return
	}
	st.closeKit()
	tg, err := target.Open(path, target.Options{Partition: drive.DataPartition})
	if err != nil {
		if errors.Is(err, target.ErrNeedAdmin) {
			st.phase = kitAdmin
			return
		}
		st.phase, st.openErr = kitFailed, err.Error()
		return
	}
	d, err := drive.Open(tg)
	if err != nil {
		tg.Close()
		st.phase, st.openErr = kitFailed, err.Error()
		return
	}
	st.tg, st.d, st.kitPath = tg, d, path
	if m, err := d.Manifest(); err == nil {
		st.man = m
	}
	rep, err := d.Verify(nil)
	if err != nil {
		rep = &drive.VerifyReport{Problems: []string{err.Error()}}
	}
	st.check = rep
	st.phase = kitFound
	st.tries = 0
}

// toSnapshots opens the kit's backups and lists them, newest first.
func (st *state) toSnapshots(ctx context.Context) {
	p := st.printer()
	if st.r == nil {
		r, err := st.u.Repository(ctx, false)
		if errors.Is(err, repo.ErrNoRepository) {
			st.snaps = nil
			st.step = stepSnapshot
			return
		}
		if err != nil {
			st.flash = p.T("wizard.error.generic", err.Error())
			return
		}
		st.r = r
	}
	sns, err := st.r.Snapshots(ctx)
	if err != nil {
		st.flash = p.T("wizard.error.generic", err.Error())
		return
	}
	sort.Slice(sns, func(i, j int) bool { return sns[i].Time.After(sns[j].Time) })
	st.snaps = sns
	st.step = stepSnapshot
}

func (st *state) toWhere() {
	st.step = stepWhere
	if st.dest == "" {
		st.dest = defaultDest(st.s.o.Home)
	}
	st.browse = ""
}
