package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"travelkit/drive"
	"travelkit/i18n"
	"travelkit/image/ext4"
	"travelkit/mirror"
	"travelkit/remote"
	"travelkit/repo"
	"travelkit/target"
)

// keysIn are the literal message keys with prefix that a package's non-test files pass
// to i18n.M, i18n.Errorf or the package's errorf(cause, key, ...).
func keysIn(t *testing.T, dir, prefix string) []string {
	t.Helper()
	re := regexp.MustCompile(`(?:i18n\.(?:M|Errorf)\(|errorf\([^,()]+, )"(` + regexp.QuoteMeta(prefix) + `[a-z_.]+)"`)
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		b, err := os.ReadFile(dir + "/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	if len(keys) == 0 {
		t.Fatalf("no %s... keys found in %s", prefix, dir)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// TestCopyWarningsTranslated: what `copy` tells while it retries a file or meets a
// server that keeps everything comes in the person's language, with the server's or the
// system's own words for the cause where the catalogue has none; --json keeps the mirror
// package's English text, unchanged.
func TestCopyWarningsTranslated(t *testing.T) {
	cause := fmt.Errorf("%w: dial tcp 127.0.0.1:22: connection refused", remote.ErrUnreachable)
	other := fmt.Errorf("HTTP 503: Slow Down")
	var samples []mirror.Warning
	for _, k := range keysIn(t, "../../mirror", "mirror.") {
		var what i18n.Message
		switch k {
		case "mirror.doing.send", "mirror.doing.remove":
			what = i18n.M(k, "data/0123abcd")
		default:
			what = i18n.M(k)
		}
		if strings.HasPrefix(k, "mirror.notice.") {
			samples = append(samples, mirror.Warning{What: what})
			continue
		}
		samples = append(samples, mirror.Warning{What: what, Err: cause, Wait: 2 * time.Second},
			mirror.Warning{What: what, Err: other, Wait: time.Minute})
	}
	if len(samples) < 10 {
		t.Fatalf("only %d warnings found in package mirror", len(samples))
	}
	defer func(p *i18n.Printer) { tr = p }(tr)
	for _, w := range samples {
		tr = i18n.New("en")
		english := w.What.In(tr)
		got := warningText(w)
		if !strings.HasPrefix(w.String(), english) || !strings.HasPrefix(got, english) {
			t.Errorf("English: %q / %q, want them to start with %q", got, w.String(), english)
		}
		if w.Err != nil && (!strings.Contains(got, w.Err.Error()) || !strings.Contains(w.String(), "; trying again in ")) {
			t.Errorf("English: %q / %q lacks the cause or the retry", got, w.String())
		}
		for _, lang := range i18n.Languages() {
			if lang == "en" {
				continue
			}
			tr = i18n.New(lang)
			got := warningText(w)
			if strings.Contains(got, english) || strings.Contains(got, "trying again") {
				t.Errorf("%s: %q is still in English", lang, got)
			}
			if w.Err == cause && strings.Contains(got, "connection refused") {
				t.Errorf("%s: %q: the cause has words in the catalogue, yet it is in English", lang, got)
			}
			if w.Err == other && !strings.Contains(got, "HTTP 503: Slow Down") {
				t.Errorf("%s: %q lost the server's own words", lang, got)
			}
			if strings.Contains(english, "data/0123abcd") && !strings.Contains(got, "data/0123abcd") {
				t.Errorf("%s: %q lost the file's name", lang, got)
			}
		}
	}
}

// TestTargetErrorsTranslated: target's errors that are not refusals (no such disk, not
// ready, needs administrator rights, diskutil failed...) and what holds a disk come in the
// person's language, with the system's own words (its error, diskutil's message, the
// kernel's device names) kept as they are; in English they read as before.
func TestTargetErrorsTranslated(t *testing.T) {
	osWords := errors.New("Could not find disk: /dev/disk9")
	args := map[string][]any{
		"target.error.no_target":          {"/dev/sdX"},
		"target.error.need_admin_sudo":    {"/dev/sdb"},
		"target.error.need_admin_windows": {`\\.\PhysicalDrive1`},
		"target.error.no_such_disk":       {`\\.\PhysicalDrive7`, "Get-Disk"},
		"target.error.not_ready":          {`\\.\PhysicalDrive1`, osWords},
		"target.error.failed":             {`\\.\PhysicalDrive1`, i18n.M("target.doing.open_read"), osWords},
		"target.error.no_device":          {"/dev/sdb", "8:16", osWords},
		"target.error.mount_table":        {osWords},
		"target.error.create":             {"kit.img", osWords},
		"target.error.size":               {"/dev/sdb", osWords},
		"target.error.disks_elsewhere":    {"/dev/da0"},
		"target.error.no_disks":           {},
		"target.error.diskutil":           {"info /dev/disk9", osWords},
		"target.error.diskutil_output":    {"list -plist"},
	}
	keys := keysIn(t, "../../target", "target.error.")
	for _, k := range keys {
		if _, ok := args[k]; !ok {
			t.Errorf("%s: used in package target, no sample here: add one", k)
		}
	}
	defer func(p *i18n.Printer) { tr = p }(tr)
	check := func(name string, err error, keep ...string) {
		t.Helper()
		tr = i18n.New("en")
		english := describeError(err)
		var ie *i18n.Error
		if errors.As(err, &ie) && english != ie.Error() || ie == nil && english != err.Error() {
			t.Errorf("%s: English %q, want the target package's own text %q", name, english, err.Error())
		}
		for _, lang := range i18n.Languages() {
			if lang == "en" {
				continue
			}
			tr = i18n.New(lang)
			got := describeError(err)
			if got == english {
				t.Errorf("%s: %s: %q is still in English", name, lang, got)
			}
			for _, k := range keep {
				if !strings.Contains(got, k) {
					t.Errorf("%s: %s: %q lost %q", name, lang, got, k)
				}
			}
		}
	}
	for _, k := range keys {
		err := fmt.Errorf("building: %w", i18n.Errorf(k, args[k]...))
		var keep []string
		for _, a := range args[k] {
			if s, ok := a.(string); ok {
				keep = append(keep, s)
			} else if e, ok := a.(error); ok {
				keep = append(keep, e.Error())
			}
		}
		check(k, err, keep...)
	}
	// the real error, as the package makes it
	_, err := target.Inspect("")
	check("Inspect(\"\")", err)
	if !strings.HasPrefix(err.Error(), "no target given: use --target IMAGE-FILE or a disk such as ") {
		t.Errorf("English: %q", err.Error())
	}
	// what holds a disk: the kernel's names kept, our words around them translated
	for _, h := range []target.Holder{
		{Kind: "crypt", Name: "luks-0f3e", Dev: "/dev/mapper/luks-0f3e"}, {Kind: "lvm", Name: "vg-root", Dev: "/dev/mapper/vg-root"},
		{Kind: "dm", Name: "dm-3", Dev: "/dev/mapper/cow"}, {Kind: "raid", Name: "md0", Dev: "/dev/md0"},
	} {
		disk := target.Info{Path: "/dev/sdx", Kind: target.BlockDevice, Size: 16e9, Removable: true, Holders: []target.Holder{h}}
		part := target.Info{Path: "/dev/sdx", Kind: target.BlockDevice, Size: 16e9, Removable: true,
			Partitions: []target.Partition{{Number: 1, Path: "/dev/sdx1", Holders: []target.Holder{h}}}}
		for _, i := range []target.Info{disk, part} {
			err := i.Check(target.Options{Write: true})
			if err == nil {
				t.Fatalf("%+v: not refused", i)
			}
			tr = i18n.New("en")
			if !strings.HasSuffix(err.Error(), h.String()) || !strings.Contains(h.String(), h.Name) && !strings.Contains(h.String(), h.Dev) || strings.Contains(h.String(), "target.holder") {
				t.Errorf("English: %q, want it to end with %q", err.Error(), h.String())
			}
			var keep []string // the system's names the English shows
			for _, n := range []string{h.Name, h.Dev} {
				if strings.Contains(h.String(), n) {
					keep = append(keep, n)
				}
			}
			check(h.Kind, err, keep...)
		}
	}
}

// TestProfileCheckTranslated: profile check's field names and words come in the person's
// language, in a column as wide as the widest label; in English the table is as it was.
func TestProfileCheckTranslated(t *testing.T) {
	dir := t.TempDir()
	prof := dir + "/kit.toml"
	body := "name = \"amina\"\nlanguages = [\"en\", \"fa\"]\n[tpm]\nenroll = true\npcrs = [7]\n[[escrow]]\nname = \"nadia\"\nrecipient = \"age15etq0ej8zfmnwhl5hg6atgyfxamljah83zf3khtkrkp4e4fya5hq60yh0l\"\n"
	if err := os.WriteFile(prof, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	defer func(p *i18n.Printer) { tr = p }(tr)
	run := func(lang string) string {
		t.Helper()
		tr = i18n.New(lang)
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		saved := os.Stdout
		os.Stdout = w
		err = runProfileCheck(prof)
		os.Stdout = saved
		w.Close()
		out, _ := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		return string(out)
	}
	en := run("en")
	want := regexp.MustCompile(`^name        amina
languages   \[en fa\]
tools_size  \S+ \S+
luks        4096-byte sectors, 512-bit key, argon2id, unlock \S+
recovery    true
escrow      nadia age15etq0\S+
platforms   \[[a-z0-9 /-]+\]
tpm         enroll=true pcrs=\[7\] pin=true
$`)
	if !want.MatchString(en) {
		t.Errorf("English:\n%s\nwant it as before: %v", en, want)
	}
	englishWords := regexp.MustCompile(`(?m)^(name|languages|tools_size|luks|recovery|escrow|platforms) |sectors|unlock|enroll|true|false`)
	for _, lang := range i18n.Languages() {
		if lang == "en" {
			continue
		}
		got := run(lang)
		if w := englishWords.FindString(got); w != "" {
			t.Errorf("%s: %q is English:\n%s", lang, w, got)
		}
		if !strings.Contains(got, "amina") || !strings.Contains(got, "nadia age15etq0") || !strings.Contains(got, "argon2id") {
			t.Errorf("%s: the profile's own values are lost:\n%s", lang, got)
		}
		// one column: every value starts where the longest label ends, plus two spaces
		col := -1
		for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
			i := strings.Index(line, "  ")
			for i >= 0 && i+2 < len(line) && line[i+2] == ' ' {
				i++
			}
			c := columns(line[:max(i, 0)])
			if col < 0 {
				col = c
			}
			if i < 0 || c != col {
				t.Errorf("%s: %q is not in the column (%d, want %d):\n%s", lang, line, c, col, got)
			}
		}
	}
}

// TestCopyErrorsTranslated: copy's own errors (another repository there, a damaged file
// here or there) come in the person's language with the file's name, the sizes and the
// flag kept; in English they read as before, and errors.Is still finds their kind.
func TestCopyErrorsTranslated(t *testing.T) {
	args := map[string][]any{
		"mirror.error.other_repository": {},
		"mirror.error.damaged_copy":     {"data/0123abcd", "17", "4096", 2, "--prune-remote"},
		"mirror.error.not_replaced":     {"data/0123abcd", errors.New("HTTP 403 Forbidden")},
		"mirror.error.damaged_source":   {"data/0123abcd", "travelkit check --read-data"},
	}
	keys := keysIn(t, "../../mirror", "mirror.error.")
	if len(keys) != len(args) {
		t.Errorf("package mirror makes the errors %v; samples here: %d", keys, len(args))
	}
	defer func(p *i18n.Printer) { tr = p }(tr)
	for _, k := range keys {
		err := fmt.Errorf("copying to offsite: %w", i18n.Errorf(k, args[k]...))
		tr = i18n.New("en")
		english := describeError(err)
		for _, lang := range i18n.Languages()[1:] {
			tr = i18n.New(lang)
			got := describeError(err)
			if got == english || got == k {
				t.Errorf("%s: %s: %q is not in the language", k, lang, got)
			}
			for _, a := range args[k] {
				if s, ok := a.(string); ok && !strings.Contains(got, s) {
					t.Errorf("%s: %s: %q lost %q", k, lang, got, s)
				}
			}
		}
	}
}

// The errors of the packages below that carried their figures only in English (a full
// kit, a full SFTP server, a block that could not be read back during a write, a file of
// a copy that failed every try) are written in every language with the same figures and
// the system's own words, wrapped as their callers wrap them; English stays err.Error().
func TestFiguresTranslated(t *testing.T) {
	eio := errors.New("read /dev/rdisk4: input/output error")
	cases := []struct {
		err  error
		keep []string // in every language
	}{
		{&drive.KitFullError{Free: 3 << 20, Need: 9 << 20, Err: ext4.ErrNoSpace}, []string{"3 MiB", "9 MiB", drive.ForgetCommand}},
		{&drive.KitFullError{Free: 3 << 20, Need: 9 << 20, Whole: true, Err: ext4.ErrNoSpace}, []string{"3 MiB", "9 MiB", drive.ForgetCommand}},
		{&remote.NoSpaceError{Host: "backup.example.org", File: "data/0123", Free: 224 << 10, Need: 3 << 20, Err: errors.New(`sftp: "Failure"`)},
			[]string{"backup.example.org", "224 KiB", "3 MiB"}},
		{fmt.Errorf("writing the tools partition: %w", &target.ReadBlockError{Off: 1052672, Err: eio}), []string{"1052672", eio.Error()}},
		{&mirror.GaveUpError{Tries: 3, Err: &remote.NoSpaceError{Host: "h.example", Free: 5 << 20, Need: 8 << 20, Err: errors.New("x")}},
			[]string{"h.example", "5 MiB", "8 MiB"}},
		{fmt.Errorf("copy to office: %w", &remote.NoSpaceError{Host: "h.example", Free: 5 << 20, Need: 8 << 20, Left: 13 << 20, Err: errors.New("x")}),
			[]string{"h.example", "5 MiB", "13 MiB"}},
		{fmt.Errorf("failed to save data/0123: %w", &repo.DiskFullError{Need: 7 << 20, Err: &os.PathError{Op: "write", Path: "/media/usb/repo/data/01/x", Err: syscall.ENOSPC}}),
			[]string{"7 MiB"}},
		{&mirror.GaveUpError{Tries: 4, Err: fmt.Errorf("saving data/0123: %w", eio)}, []string{eio.Error()}},
	}
	defer func(p *i18n.Printer) { tr = p }(tr)
	for _, c := range cases {
		tr = i18n.New("en")
		if got := describeError(c.err); got != c.err.Error() {
			t.Errorf("English: %q, want err.Error() %q", got, c.err.Error())
		}
		for _, lang := range i18n.Languages()[1:] {
			tr = i18n.New(lang)
			got := describeError(c.err)
			if strings.Contains(got, "free") || strings.Contains(got, "gave up") || strings.Contains(got, "reading block") || strings.Contains(got, "to send") || strings.Contains(got, "run the backup again") {
				t.Errorf("%s: %q is still English", lang, got)
			}
			for _, k := range c.keep {
				if !strings.Contains(got, k) {
					t.Errorf("%s: %q lost %q", lang, got, k)
				}
			}
		}
	}
}
