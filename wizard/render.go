package wizard

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"travelkit/drive"
	"travelkit/i18n"
	"travelkit/internal/bytesize"
	"travelkit/kit"
	"travelkit/strength"
)

//go:embed web
var web embed.FS

// pageTmpl is the page template, parsed on first use (not in every process's start).
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(web, "web/page.html.tmpl"))
})

// serveStatic serves the page's own style sheet and script.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	var ct string
	switch name {
	case "style.css":
		ct = "text/css; charset=utf-8"
	case "wizard.js":
		ct = "text/javascript; charset=utf-8"
	default:
		http.NotFound(w, r)
		return
	}
	b, err := web.ReadFile("web/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Write(b)
}

// pageData is what the page template shows.
type pageData struct {
	P            *i18n.Printer
	Lang, Dir    string
	View         string
	Number       int
	Total        int
	Flash        string
	Refresh      bool
	Version      string
	Langs        []langChoice
	Phase        string
	Found        []kitView
	Kit          kitView
	Check        checkView
	MethodKey    string
	Manual       string
	ElevURL      string
	ElevFailed   bool
	OpenErr      string
	Colleagues   bool
	HasEscrow    bool
	Threshold    int
	EscrowNames  string
	Tampered     bool
	TrustedCheck checkView
	Snaps        []snapView
	SnapWhen     string
	Folders      *treeView
	TreeMore     int
	Dest         string
	Need         string
	Browse       string
	Parent       string
	Subs         []place
	Places       []place
	Prog         progressView
	Done         doneView
	ViaRecover   bool
	Generated    string
	Changed      bool
}

type langChoice struct {
	Code, Name, Dir string
	Current         bool
}

type kitView struct{ ID, Made, Path, Size string }

type checkView struct {
	P       *i18n.Printer
	OK      bool
	Trusted bool
	Lines   []string // in plain words
	Details []string // for the helpline
}

type snapView struct{ ID, When, Host, Size, Paths string }

type treeView struct {
	P       *i18n.Printer
	Folders []folderView
}

type folderView struct {
	Path, Name, ID string
	Children       *treeView
}

type doneView struct {
	Files       int
	Size, Dest  string
	Stopped     bool
	Err         string
	Failed      int
	Failures    []string
	Renamed     int
	RenamedList []string
}

// render writes the page, or a plain error when the template fails (a bug).
func render(w http.ResponseWriter, d *pageData) {
	var b bytes.Buffer
	if err := pageTmpl().Execute(&b, d); err != nil {
		http.Error(w, "travelkit: the page could not be made: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

var stepViews = map[step]string{
	stepLanguage: "language", stepKit: "kit", stepUnlock: "unlock", stepSnapshot: "snapshot",
	stepWhat: "what", stepWhere: "where", stepProgress: "progress", stepDone: "done",
	stepPassphrase: "passphrase", stepClosed: "closed",
}

// view builds the page of the current step. Caller holds mu.
func (st *state) view() *pageData {
	p := st.printer()
	d := &pageData{P: p, Lang: p.Lang(), Dir: p.Dir(), View: stepViews[st.step], Total: numberedSteps, Flash: st.flash, Version: "travelkit " + st.s.o.Version}
	if st.step <= stepDone {
		d.Number = int(st.step)
	}
	switch st.step {
	case stepLanguage:
		for _, l := range i18n.Languages() {
			dir := "ltr"
			if i18n.RTL(l) {
				dir = "rtl"
			}
			d.Langs = append(d.Langs, langChoice{Code: l, Name: i18n.Name(l), Dir: dir, Current: l == st.lang})
		}
	case stepKit:
		st.kitView(d)
	case stepUnlock:
		d.Colleagues, d.Tampered = st.colleagues, st.tampered
		if st.tampered {
			d.TrustedCheck = st.checkView(st.trusted)
		}
		if st.man != nil && len(st.man.Escrow) > 0 {
			d.HasEscrow = true
			d.Threshold = st.man.EscrowThreshold
			var names []string
			for _, e := range st.man.Escrow {
				names = append(names, e.Name)
			}
			d.EscrowNames = strings.Join(names, ", ")
		}
	case stepSnapshot:
		for _, sn := range st.snaps {
			d.Snaps = append(d.Snaps, snapView{ID: sn.ID.String(), When: dateWords(p, sn.Time), Host: sn.Hostname, Size: sizeOf(sn), Paths: strings.Join(sn.Paths, ", ")})
		}
	case stepWhat:
		if st.snap != nil {
			d.SnapWhen = dateWords(p, st.snap.Time)
		}
		if st.some && st.tree != nil {
			n := 0
			d.Folders = buildTreeView(p, st.tree.Top.Children, &n)
			d.TreeMore = st.tree.More
		}
	case stepWhere:
		d.Dest = st.dest
		if st.snap != nil && len(st.include) == 0 {
			d.Need = sizeOf(st.snap)
		}
		if st.browseOK && st.browse != "" {
			d.Browse = st.browse
			if parent := filepath.Dir(st.browse); parent != st.browse {
				d.Parent = parent
			}
			d.Subs = subfolders(st.browse)
			d.Places = shortcuts(st.s.o.Home)
		}
	case stepProgress:
		d.Prog = st.progressView()
		d.Refresh = true
	case stepDone:
		d.Done = st.doneView()
		d.ViaRecover = st.viaRecover && len(st.recovery) > 0
	case stepPassphrase:
		d.Generated, d.Changed = st.generated, st.changed
	}
	return d
}

func (st *state) kitView(d *pageData) {
	p := d.P
	switch st.phase {
	case kitFound:
		d.Phase = "found"
		if st.man != nil {
			d.Kit.ID = st.man.KitID
			if !st.man.Created.IsZero() {
				d.Kit.Made = dateWords(p, st.man.Created)
			}
		}
		d.Kit.Path = st.kitPath
		if st.d != nil {
			d.Kit.Size = bytesize.FormatDecimal(st.d.Dev.Size())
		}
		d.Check = st.checkView(st.check)
	case kitSeveral:
		d.Phase = "several"
		for _, k := range st.found {
			d.Found = append(d.Found, kitView{ID: k.KitID, Path: k.Path, Size: bytesize.FormatDecimal(k.Size) + " " + k.Model})
		}
	case kitAdmin, kitElevating:
		d.Phase = "admin"
		m, _ := st.s.o.System.Elevation()
		d.MethodKey = "wizard.admin.how." + string(m)
		if m == "" {
			d.MethodKey = "wizard.admin.how.sudo"
		}
		if e := st.elevation; e != nil {
			d.Manual = e.manual
			if st.phase == kitElevating {
				d.Phase = "elevating"
				url, err, ended := e.get()
				d.ElevURL = url
				d.ElevFailed = err != nil || (ended && url == "")
				d.Refresh = url == "" && !d.ElevFailed
			}
		}
	case kitFailed:
		d.Phase = "failed"
		d.OpenErr = st.openErr
	default:
		d.Phase = "none"
	}
}

// checkView puts a verification in plain words: what changed, without the technical
// detail, which goes into the collapsed "details for your helpline".
func (st *state) checkView(rep *drive.VerifyReport) checkView {
	p := st.printer()
	v := checkView{P: p}
	if rep == nil {
		return v
	}
	v.OK, v.Trusted = rep.OK, rep.Trusted
	for i, diff := range rep.Differences {
		if i == 10 {
			v.Lines = append(v.Lines, p.T("wizard.check.more", len(rep.Differences)-10))
			break
		}
		switch diff.Kind {
		case kit.Missing:
			v.Lines = append(v.Lines, p.T("wizard.check.missing", diff.Path))
		case kit.Extra:
			v.Lines = append(v.Lines, p.T("wizard.check.extra", diff.Path))
		default:
			v.Lines = append(v.Lines, p.T("wizard.check.changed", diff.Path))
		}
		v.Details = append(v.Details, diff.String())
	}
	if len(rep.Problems) > 0 {
		v.Lines = append(v.Lines, p.T("wizard.check.damaged"))
		v.Details = append(v.Details, rep.Problems...)
	}
	return v
}

func buildTreeView(p *i18n.Printer, fs []*folder, n *int) *treeView {
	if len(fs) == 0 {
		return nil
	}
	t := &treeView{P: p}
	for _, f := range fs {
		*n++
		fv := folderView{Path: f.Path, Name: f.Name, ID: fmt.Sprintf("f%d", *n)}
		fv.Children = buildTreeView(p, f.Children, n)
		t.Folders = append(t.Folders, fv)
	}
	return t
}

func (st *state) doneView() doneView {
	var v doneView
	res, err, stopped, failures, failed := st.jobSummary()
	if st.job != nil {
		v.Dest = st.job.dest
	}
	v.Stopped, v.Failures, v.Failed = stopped, failures, failed
	if err != nil {
		v.Err = err.Error()
	}
	if res != nil {
		v.Files = res.Files
		v.Size = bytesize.Format(res.Bytes)
		v.Renamed = res.RenamedCount
		for i, rn := range res.Renamed {
			if i == 10 {
				break
			}
			v.RenamedList = append(v.RenamedList, rn.SnapshotPath+" → "+rn.RestoredPath)
		}
	}
	return v
}

// dateWords writes a date the person's way: "30 November 2026, 14:05" (month names from
// the catalogue; the local time of this computer).
func dateWords(p *i18n.Printer, t time.Time) string {
	t = t.Local()
	return p.T("wizard.date", fmt.Sprint(t.Day()), p.T(monthKeys[t.Month()-1]), fmt.Sprint(t.Year()), t.Format("15:04"))
}

var monthKeys = [12]string{
	"wizard.month.1", "wizard.month.2", "wizard.month.3", "wizard.month.4", "wizard.month.5", "wizard.month.6",
	"wizard.month.7", "wizard.month.8", "wizard.month.9", "wizard.month.10", "wizard.month.11", "wizard.month.12",
}

// durationWords is a time left in words ("3 minutes").
func durationWords(p *i18n.Printer, d time.Duration) string { return strength.Duration(p, d.Seconds()) }

// strengthJSON judges a new passphrase as it is typed (the passphrase page's script).
func (st *state) strengthJSON(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer f.clear()
	pass := f.secret("new")
	defer clear(pass)
	st.mu.Lock()
	p := st.printer()
	var cost *passCost
	if st.u != nil {
		cost = passCostOf(st.u, st.man)
	}
	st.mu.Unlock()
	var v struct {
		Text string `json:"text"`
		Weak bool   `json:"weak"`
	}
	if cost != nil {
		e := strength.Check(pass, cost.pbkdf, cost.keyBytes, strength.DefaultAttacker(), cost.words)
		v.Text, v.Weak = e.Describe(p), e.Weak()
		if v.Weak {
			v.Text = p.T("strength.weak") + " " + v.Text
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
