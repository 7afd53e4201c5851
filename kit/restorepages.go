package kit

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode/utf8"
)

// RestoreInfo personalises the RESTORE pages of one kit.
type RestoreInfo struct {
	KitName   string
	Created   time.Time
	Escrow    []string // names of the colleagues holding an escrow file
	Platforms []string // GOOS/GOARCH pairs on the kit; empty means all of Platforms
	Languages []string // languages of the kit's pages, for the "other languages" list
	TPM       bool     // a keyslot is sealed to the TPM2 of the laptop the kit was made on
	Boot      bool     // the kit starts PCs into its restore and rescue menu
	OffSite   bool     // the kit's repository is copied off-site (remote add)
	// Threshold is k of a k-of-n escrow (each colleague holds a share); 0 or 1: each
	// holds the whole recovery key.
	Threshold int
}

// bootMenuKeys are the keys that open the boot menu of common makers' computers (names
// and keys, never translated).
var bootMenuKeys = []string{
	"Dell, Lenovo, Acer, Toshiba/Dynabook, Fujitsu: F12",
	"HP: F9 (or Esc, then F9)",
	"ASUS: F8 or Esc",
	"MSI: F11",
	"Samsung: F10 (or Esc)",
	"Microsoft Surface: hold Volume Down, press and release Power",
	"Mac with an Intel processor: hold Option (⌥) while it starts",
}

// Languages returns the languages the RESTORE pages are written in (a new slice each
// time: the caller may change it).
func Languages() []string { return []string{"en", "es", "fr", "ar", "ru", "fa"} }

// ValidLanguage reports whether lang is one of Languages.
func ValidLanguage(lang string) error {
	if _, ok := catalogs[lang]; !ok {
		return fmt.Errorf("no restore instructions in language %q: use one of %s", lang, strings.Join(Languages(), ", "))
	}
	return nil
}

// RestoreFileNames are the tools-partition paths of the pages for lang.
func RestoreFileNames(lang string) (txt, html string) {
	return "RESTORE." + lang + ".txt", "RESTORE." + lang + ".html"
}

// langNames are the languages' names in themselves, for the list of other languages.
var langNames = map[string]string{
	"en": "English", "es": "Español", "fr": "Français", "ar": "العربية", "ru": "Русский", "fa": "فارسی",
}

var rtl = map[string]bool{"ar": true, "fa": true}

//go:embed templates/restore.txt.tmpl templates/restore.html.tmpl
var templateFS embed.FS

// The commands, identical in every language.
const (
	winDrive      = `E:`
	winTarget     = `C:\Restored`
	macVolume     = `/Volumes/TRAVELKIT`
	linuxVolume   = `/media/$USER/TRAVELKIT`
	linuxVolume2  = `/run/media/$USER/TRAVELKIT`
	unixTarget    = `~/Restored`
	recoveryFlag  = `--recovery-key-file recovery-key.txt`
	identityFlag  = `--identity KEY-FILE`
	shareFlag     = `--share-file SHARE-FILE`
	tpmFlag       = `--tpm auto`
	chownCommand  = `sudo chown -R "$USER" ~/Restored`
	stockCheckCmd = `cd /media/$USER/TRAVELKIT && sudo sha256sum -c /mnt/travelkit/SHA256SUMS`
)

// revivalCommands bring back a kit whose keyslots were erased (travelkit erase), from a
// colleague's escrowed header backup: with travelkit, or with the stock tools on Linux.
var revivalCommands = []string{
	"age -d -i KEY-FILE -o header.img luks-header.age",
	"travelkit luks header-restore --target DRIVE --file header.img",
	"sudo cryptsetup luksHeaderRestore /dev/sdX2 --header-backup-file header.img",
}

// offSiteCommands restore a kit's off-site copy (travelkit copy) without the kit: the
// location is never on the tools partition.
var offSiteCommands = []string{
	`travelkit restore --repo LOCATION --password-file recovery-key.txt latest --to Restored`,
	`restic -r LOCATION --password-file recovery-key.txt restore latest --target Restored`,
}

var stockCommands = []string{
	`lsblk -o NAME,SIZE,LABEL,FSTYPE`,
	`sudo cryptsetup open /dev/sdX2 travelkit`,
	`sudo mount /dev/mapper/travelkit /mnt`,
	`sudo restic -r /mnt/repo --password-file /mnt/travelkit/repo-password restore latest --target ~/Restored`,
	`sudo umount /mnt`,
	`sudo cryptsetup close travelkit`,
}

// command is one way to run travelkit on an OS: the processor it is for and the commands.
type command struct {
	Arch  string // amd64, arm64
	Label string // macOS: Apple silicon, Intel
	Run   string // the restore command
	Fix   string // macOS: removes the quarantine attribute
}

type verifyCommand struct{ OS, Cmd string }

type otherLang struct{ Code, Name, File string }

type restoreData struct {
	Lang, Dir  string
	RTL        bool
	Kit, Date  string
	Escrow     []string
	EscrowCmds []string
	Windows    []command
	Mac        []command
	Linux      []command
	Stock      []string
	StockCheck string
	OffSite    []string
	OffSiteOn  bool // a copy exists (RestoreInfo.OffSite)
	Verify     []verifyCommand
	Chown      string
	Recovery   string
	Identity   string
	Shares     bool     // k-of-n escrow: colleagues hold shares
	K          string   // the threshold
	ShareFlag  string   // --share-file SHARE-FILE
	Combine    string   // ssss-combine -t K
	Revival    []string // commands that bring an erased kit back
	TPM        bool
	TPMFlag    string
	Boot       bool
	BootKeys   []string
	LinuxAlt   string
	Programs   []string // the travelkit programs on the kit, to double-click
	Others     []otherLang
	OtherLines []string
	M          *messages
}

// programsFor lists where the travelkit program for each platform the kit carries lives
// on the tools partition (every platform when none is named).
func programsFor(platforms []string) []string {
	var out []string
	for _, p := range Platforms() {
		if len(platforms) == 0 || slices.Contains(platforms, p) {
			out = append(out, BinaryPath(p))
		}
	}
	return out
}

func commandsFor(platforms []string, goos string) []command {
	var out []command
	for _, arch := range []string{"amd64", "arm64"} {
		p := goos + "/" + arch
		if len(platforms) > 0 && !slices.Contains(platforms, p) {
			continue
		}
		bin := BinaryPath(p)
		var c command
		c.Arch = arch
		switch goos {
		case "windows":
			c.Run = winDrive + `\` + strings.ReplaceAll(bin, "/", `\`) + ` restore --to ` + winTarget
		case "darwin":
			c.Run = `sudo ` + macVolume + `/` + bin + ` restore --to ` + unixTarget
			c.Label = map[string]string{"arm64": "Apple silicon", "amd64": "Intel"}[arch]
			c.Fix = `xattr -d com.apple.quarantine ` + macVolume + `/` + bin
		case "linux":
			c.Run = `sudo ` + linuxVolume + `/` + bin + ` restore --to ` + unixTarget
		}
		out = append(out, c)
	}
	if goos == "darwin" {
		// Apple silicon first: most Macs in use now.
		slices.Reverse(out)
	}
	return out
}

func newRestoreData(lang string, info RestoreInfo) (*restoreData, error) {
	m, ok := catalogs[lang]
	if !ok {
		return nil, ValidLanguage(lang)
	}
	if info.KitName == "" {
		return nil, fmt.Errorf("restore pages: no kit name")
	}
	for _, p := range info.Platforms {
		if err := ValidPlatform(p); err != nil {
			return nil, err
		}
	}
	d := &restoreData{
		Lang: lang, Dir: "ltr", RTL: rtl[lang],
		Kit:        info.KitName,
		Date:       info.Created.UTC().Format("2006-01-02"),
		Escrow:     info.Escrow,
		Programs:   programsFor(info.Platforms),
		Windows:    commandsFor(info.Platforms, "windows"),
		Mac:        commandsFor(info.Platforms, "darwin"),
		Linux:      commandsFor(info.Platforms, "linux"),
		Stock:      stockCommands,
		StockCheck: stockCheckCmd,
		OffSite:    offSiteCommands,
		OffSiteOn:  info.OffSite,
		Verify: []verifyCommand{
			{"Windows", `travelkit.exe verify --target \\.\PhysicalDrive1`},
			{"macOS", `sudo ./travelkit verify --target /dev/disk4`},
			{"Linux", `sudo ./travelkit verify --target /dev/sdb`},
		},
		Chown:    chownCommand,
		Recovery: recoveryFlag,
		Identity: identityFlag,
		Shares:   info.Threshold > 1,
		K:        strconv.Itoa(max(info.Threshold, 1)),
		TPM:      info.TPM,
		TPMFlag:  tpmFlag,
		Boot:     info.Boot,
		BootKeys: bootMenuKeys,
		LinuxAlt: linuxVolume2,
		M:        m,
	}
	if d.RTL {
		d.Dir = "rtl"
	}
	if info.Created.IsZero() {
		d.Date = "?"
	}
	for _, n := range info.Escrow {
		d.EscrowCmds = append(d.EscrowCmds, "age -d -i KEY-FILE "+n+".age")
	}
	if d.Shares {
		d.ShareFlag, d.Combine = shareFlag, "ssss-combine -t "+d.K
	}
	if len(info.Escrow) > 0 {
		d.Revival = revivalCommands
	}
	for _, l := range info.Languages {
		if l == lang {
			continue
		}
		if _, ok := catalogs[l]; !ok {
			return nil, ValidLanguage(l)
		}
		_, html := RestoreFileNames(l)
		d.Others = append(d.Others, otherLang{Code: l, Name: langNames[l], File: html})
		d.OtherLines = append(d.OtherLines, html+"  "+langNames[l])
	}
	return d, nil
}

// fillText fills the placeholders of a message ({kit}, {date}, {drive}...).
func (d *restoreData) fillText(msg string) string {
	return d.replacer(func(s string) string { return s }).Replace(msg)
}

func (d *restoreData) replacer(wrap func(string) string) *strings.Replacer {
	return strings.NewReplacer(
		"{kit}", wrap(d.Kit),
		"{date}", wrap(d.Date),
		"{drive}", wrap(winDrive),
		"{wintarget}", wrap(winTarget),
		"{unixtarget}", wrap(unixTarget),
		"{mac}", wrap(macVolume),
		"{linux}", wrap(linuxVolume),
		"{linux2}", wrap(linuxVolume2),
		"{names}", wrap(strings.Join(d.Escrow, ", ")),
		"{k}", wrap(d.K),
	)
}

const lineWidth = 76

// The text pages: UTF-8 with a byte order mark and CRLF line ends, so that every Notepad
// and TextEdit shows them right; prose wrapped at 76 columns. Right-to-left languages get
// a RIGHT-TO-LEFT MARK at the start of every prose line, so that a line that begins with a
// Latin word (TRAVELKIT, PowerShell) is still laid out right to left; command lines get
// none and stay left to right.
const rlm = "\u200f"

func (d *restoreData) textFuncs() texttemplate.FuncMap {
	prose := func(prefix, indent, msg string) string {
		msg = d.fillText(msg)
		lines := wrap(msg, lineWidth-utf8.RuneCountInString(prefix))
		var b strings.Builder
		for i, l := range lines {
			if d.RTL {
				b.WriteString(rlm)
			}
			if i == 0 {
				b.WriteString(prefix)
			} else {
				b.WriteString(indent)
			}
			b.WriteString(l)
			b.WriteString("\n")
		}
		return b.String()
	}
	return texttemplate.FuncMap{
		"p": func(msg string) string { return prose("", "", msg) },
		"step": func(n int, msg string) string {
			pre := fmt.Sprintf("%d. ", n)
			return prose(pre, strings.Repeat(" ", len(pre)), msg)
		},
		"item": func(msg string) string { return prose("- ", "  ", msg) },
		// sub is a paragraph inside a numbered step.
		"sub": func(msg string) string { return "\n" + prose("   ", "   ", msg) },
		"label": func(s string) string {
			if d.RTL {
				return "\n" + rlm + "   " + s + ":"
			}
			return "\n   " + s + ":"
		},
		"h": func(msg string) string {
			t := d.fillText(msg)
			u := strings.Repeat("=", min(lineWidth, utf8.RuneCountInString(t)))
			if d.RTL {
				return rlm + t + "\n" + rlm + u + "\n"
			}
			return t + "\n" + u + "\n"
		},
		"code": func(args ...any) string {
			var cmds []string
			for _, a := range args {
				switch a := a.(type) {
				case string:
					cmds = append(cmds, a)
				case []string:
					cmds = append(cmds, a...)
				}
			}
			var b strings.Builder
			b.WriteString("\n")
			for _, c := range cmds {
				b.WriteString("      " + c + "\n")
			}
			b.WriteString("\n")
			return b.String()
		},
	}
}

func (d *restoreData) htmlFuncs() htmltemplate.FuncMap {
	return htmltemplate.FuncMap{
		// fill escapes the message and puts the values it names in <bdi>, so that a kit
		// name or a path keeps its own direction inside right-to-left text.
		"fill": func(msg string) htmltemplate.HTML {
			esc := htmltemplate.HTMLEscapeString(msg)
			r := d.replacer(func(s string) string {
				return `<bdi dir="ltr">` + htmltemplate.HTMLEscapeString(s) + `</bdi>`
			})
			return htmltemplate.HTML(r.Replace(esc))
		},
	}
}

// wrap breaks s into lines of at most width runes at spaces (a longer word stays whole).
func wrap(s string, width int) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		line := ""
		for _, w := range words {
			switch {
			case line == "":
				line = w
			case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) <= width:
				line += " " + w
			default:
				lines = append(lines, line)
				line = w
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// The RESTORE page templates, parsed on first use: every process would otherwise parse
// them at start (a backup never writes a RESTORE page).
var (
	textTmpl = sync.OnceValue(func() *texttemplate.Template {
		return texttemplate.Must(texttemplate.New("restore.txt.tmpl").Funcs((&restoreData{}).textFuncs()).
			ParseFS(templateFS, "templates/restore.txt.tmpl"))
	})
	htmlTmpl = sync.OnceValue(func() *htmltemplate.Template {
		return htmltemplate.Must(htmltemplate.New("restore.html.tmpl").Funcs((&restoreData{}).htmlFuncs()).
			ParseFS(templateFS, "templates/restore.html.tmpl"))
	})
)

// RenderRestore renders RESTORE.<lang>.txt and RESTORE.<lang>.html for a kit.
func RenderRestore(lang string, info RestoreInfo) (txt, html []byte, err error) {
	d, err := newRestoreData(lang, info)
	if err != nil {
		return nil, nil, err
	}
	var tb bytes.Buffer
	tt, err := textTmpl().Clone()
	if err != nil {
		return nil, nil, err
	}
	if err := tt.Funcs(d.textFuncs()).Execute(&tb, d); err != nil {
		return nil, nil, fmt.Errorf("restore page %s: %w", lang, err)
	}
	txt = tb.Bytes()
	for bytes.Contains(txt, []byte("\n\n\n")) {
		txt = bytes.ReplaceAll(txt, []byte("\n\n\n"), []byte("\n\n"))
	}
	txt = append(bytes.TrimSpace(txt), '\n')
	txt = append([]byte("\ufeff"), bytes.ReplaceAll(txt, []byte("\n"), []byte("\r\n"))...)

	var hb bytes.Buffer
	ht, err := htmlTmpl().Clone()
	if err != nil {
		return nil, nil, err
	}
	if err := ht.Funcs(d.htmlFuncs()).Execute(&hb, d); err != nil {
		return nil, nil, fmt.Errorf("restore page %s: %w", lang, err)
	}
	return txt, hb.Bytes(), nil
}

// RestorePages renders the pages for every language of info.Languages (English when
// empty) and returns them by tools-partition path.
func RestorePages(info RestoreInfo) (map[string][]byte, error) {
	langs := info.Languages
	if len(langs) == 0 {
		langs = []string{"en"}
	}
	out := map[string][]byte{}
	for _, l := range langs {
		txt, html, err := RenderRestore(l, info)
		if err != nil {
			return nil, err
		}
		tn, hn := RestoreFileNames(l)
		out[tn], out[hn] = txt, html
	}
	return out, nil
}

// checkCatalog reports the first empty message of a catalog.
func checkCatalog(m *messages) error {
	v := reflect.ValueOf(m).Elem()
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).Kind() == reflect.String && strings.TrimSpace(v.Field(i).String()) == "" {
			return fmt.Errorf("message %s is empty", v.Type().Field(i).Name)
		}
	}
	return nil
}
