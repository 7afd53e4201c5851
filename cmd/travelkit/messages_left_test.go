package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// translated lists the code whose messages all come from the catalogue: a file of this
// package, or "path:Func" for one function elsewhere. Add a command here once its
// messages have moved.
var translated = []string{
	"cmd_build.go", "cmd_plan.go", "cmd_keys.go", "cmd_keys_escrow.go", "cmd_keys_passphrase.go",
	"cmd_keys_rotate_recovery.go", "kit_change.go", "kit_messages.go", "cmd_refresh.go", "cmd_register.go",
	"cmd_remote.go", "remote_flags.go", "cmd_copy.go", "kit_flags.go", "cmd_recover.go",
	"../../builder/plan.go:PrintIn",
}

// printers are the calls that put their string arguments in front of the person (or into
// an error the person reads). A string given to them must not hold words: words come from
// tr.T and its kin.
var printers = map[string]bool{
	"fmt.Fprintf": true, "fmt.Fprintln": true, "fmt.Fprint": true, "fmt.Printf": true, "fmt.Println": true,
	"fmt.Print": true, "fmt.Errorf": true, "fmt.Sprintf": true, "errors.New": true, "usageErrorf": true,
	"withCode": true, "confirm": true, "runWithNote": true, "promptSecret": true, "promptSecretOptional": true,
	"newProgress": true, "getSecret": true,
}

// word is three letters in a row: "%s: %w", "\r\033[K" and "  %-36s %10s" hold none.
var word = regexp.MustCompile(`\pL{3,}`)

// TestNoMessagesLeftInCode: in the commands whose messages are in the catalogue, no
// message is written in English in the code. A new line printed with
// fmt.Fprintf(os.Stderr, "Copied ...") fails here, and belongs in i18n/messages/*.toml.
func TestNoMessagesLeftInCode(t *testing.T) {
	checked := 0
	for _, spec := range translated {
		file, fn, _ := strings.Cut(spec, ":")
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, filepath.FromSlash(file), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fn != "" && fd.Name.Name != fn {
				continue
			}
			checked++
			ast.Inspect(fd, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || !printers[callName(call.Fun)] {
					return true
				}
				for _, a := range call.Args {
					lit, ok := a.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					s, err := strconv.Unquote(lit.Value)
					if err == nil && word.MatchString(s) && !allowedLiteral(s) {
						t.Errorf("%s: %s(%q): a message in the code; put it in i18n/messages/*.toml and write tr.T(\"cli....\")",
							fset.Position(lit.Pos()), callName(call.Fun), s)
					}
				}
				return true
			})
		}
	}
	if checked < 20 {
		t.Fatalf("only %d functions checked: is the list of files right?", checked)
	}
}

// allowedLiteral: what is not for translation: a flag name, the program's name, and the
// kinds of secret file that secretFileName looks up in the catalogue.
func allowedLiteral(s string) bool {
	switch s {
	case "passphrase file", "recovery key file", "password file", "identity file", "share file":
		return true
	}
	if strings.HasPrefix(s, "--") && !strings.Contains(s, " ") {
		return true
	}
	return !word.MatchString(strings.ReplaceAll(s, "travelkit", ""))
}

func callName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
	}
	return ""
}
