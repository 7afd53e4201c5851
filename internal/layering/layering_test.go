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
	"travelkit/internal/testservers",
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
		if strings.Contains(p.ImportPath, "/internal/") || p.Name == "main" {
			continue
		}
		allowed, ok, err := declaredImports(p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Logf("%s: its doc.go states no import rule (\"Imports: ... internal packages only.\"); add one, and a row to the README's layout table", p.ImportPath)
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
