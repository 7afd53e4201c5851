package layering

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// testHelpers are packages for tests only: no shipped code imports them.
var testHelpers = []string{
	"travelkit/image/internal/testutil",
	"travelkit/internal/craftfat",
	"travelkit/internal/craftrepo",
	"travelkit/internal/homedata",
	"travelkit/internal/rsscheck",
	"travelkit/internal/testservers",
	"travelkit/internal/testfs",
	"travelkit/internal/layering",
	"travelkit/internal/winetest",
	"travelkit/internal/ocr",
	"travelkit/boot/boottest",
}

type pkg struct {
	ImportPath string
	Dir        string
	Name       string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "travelkit/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var ps []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// declaredImports reads "Imports: a, b and internal packages only." from a package's
// doc.go; ok is false when the package states no rule.
func declaredImports(dir string) (allowed []string, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "doc.go"))
	if os.IsNotExist(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var text strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "//") {
			text.WriteString(strings.TrimPrefix(strings.TrimPrefix(l, "//"), " ") + " ")
		}
	}
	m := regexp.MustCompile(`Imports: (.*?)\s*internal packages only\.`).FindStringSubmatch(text.String())
	if m == nil {
		return nil, false, nil
	}
	list := strings.TrimSuffix(strings.TrimSpace(m[1]), " and")
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			allowed = append(allowed, "travelkit/"+s)
		}
	}
	return allowed, true, nil
}

// TestImportRules: each package imports, of travelkit, only what its doc.go says (and
// internal packages), and shipped code imports no test helper.
func TestImportRules(t *testing.T) {
	ps := listPackages(t)
	ruled := 0
	for _, p := range ps {
		for _, imp := range p.Imports {
			if slices.Contains(testHelpers, imp) && !slices.Contains(testHelpers, p.ImportPath) &&
				!strings.HasPrefix(p.ImportPath, "travelkit/scripts/") { // benchmark tools may

				t.Errorf("%s imports %s, a package for tests only", p.ImportPath, imp)
			}
		}
		if p.Name == "main" {
			// a command may import what it needs; it still says what it is in a doc.go
			if _, err := os.Stat(filepath.Join(p.Dir, "doc.go")); err != nil {
				t.Errorf("%s: no doc.go (what the command is, and what it imports)", p.ImportPath)
			}
			continue
		}
		allowed, ok, err := declaredImports(p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Errorf("%s: no doc.go stating its import rule (\"Imports: ... internal packages only.\"); add one, and a row to the README's layout table", p.ImportPath)
			continue
		}
		ruled++
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, "travelkit/") || strings.HasPrefix(imp, "travelkit/internal/") ||
				strings.HasPrefix(imp, p.ImportPath+"/internal/") || slices.Contains(allowed, imp) {
				continue
			}
			t.Errorf("%s imports %s; its doc.go allows only %v and internal packages", p.ImportPath, imp, allowed)
		}
	}
	if ruled < 15 {
		t.Fatalf("only %d packages state their import rule: the doc.go sentences went missing", ruled)
	}
}

// TestShippedBinaryHasNoTestHelpers: the travelkit command depends on no test helper, and
// on no package that starts servers or crafts hostile input.
func TestShippedBinaryHasNoTestHelpers(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "travelkit/cmd/travelkit")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "travelkit/luks") {
		t.Fatalf("go list -deps lists no travelkit/luks: %v", deps)
	}
	for _, d := range deps {
		if slices.Contains(testHelpers, d) {
			t.Errorf("the travelkit command depends on %s, a package for tests only", d)
		}
	}
}

// TestLayoutTable: every package has a row in the README's layout table (the first
// column names its folder, as `path/`), and every folder the table names exists.
func TestLayoutTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, layout, ok := strings.Cut(string(readme), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no \"## Layout\" section")
	}
	layout, _, _ = strings.Cut(layout, "\n## ")
	rows := map[string]bool{}
	for _, l := range strings.Split(layout, "\n") {
		cells := strings.Split(l, "|")
		if len(cells) < 3 || !strings.HasPrefix(strings.TrimSpace(l), "| `") {
			continue
		}
		for _, m := range regexp.MustCompile("`([^`]+)/`").FindAllStringSubmatch(cells[1], -1) {
			rows[strings.ReplaceAll(m[1], `\`, "")] = true
		}
	}
	if len(rows) < 15 {
		t.Fatalf("found only %d folders in the README's layout table: its format changed?", len(rows))
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range listPackages(t) {
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if !rows[filepath.ToSlash(rel)] {
			t.Errorf("%s has no row in the README's layout table (add \"| `%s/` | what it holds | what it imports |\")", p.ImportPath, filepath.ToSlash(rel))
		}
	}
	for dir := range rows {
		if st, err := os.Stat(filepath.Join(root, filepath.FromSlash(dir))); err != nil || !st.IsDir() {
			t.Errorf("the README's layout table names %s/, which is not a folder", dir)
		}
	}
}
