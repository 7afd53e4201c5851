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

// elsewhere is the code outside this package whose messages come from the catalogue, as
// "path:Func". Every non-test file of this package is checked as a whole.
var elsewhere = []string{"../../builder/plan.go:PrintIn"}

// machineOutput is what a printer may hold in words because it is not prose but output
// with a fixed shape: a table or fields that scripts and other tools read, command lines
// to copy. Keyed by file, the literal's start. Keep it short; prose goes to the catalogue.
var machineOutput = map[string][]string{
	"cmd_benchmark.go":  {"#     Algorithm |", "aes-xts"}, // cryptsetup benchmark's table
	"cmd_luks_token.go": {"%d: %s keyslots %v"},           // luks token list, as in cryptsetup luksDump
	"cmd_demo.go":       {"\n%[5]s\n  %[4]s files ls"},    // command lines to copy and run
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

// flagName is a flag's name ("--repo: %v" holds no words but the flag's).
var flagName = regexp.MustCompile(`--[a-z0-9-]+`)

// TestNoMessagesLeftInCode: in the commands whose messages are in the catalogue, no
// message is written in English in the code. A new line printed with
// fmt.Fprintf(os.Stderr, "Copied ...") fails here, and belongs in i18n/messages/*.toml.
func TestNoMessagesLeftInCode(t *testing.T) {
	checked := 0
	specs := append(append([]string(nil), elsewhere...), commandFiles(t)...)
	for _, spec := range specs {
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
					if err == nil && word.MatchString(s) && !allowedLiteral(s) && !isMachineOutput(file, s) {
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

// isMachineOutput reports whether literal s of file is in machineOutput.
func isMachineOutput(file, s string) bool {
	for _, p := range machineOutput[file] {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// allowedLiteral: what is not for translation: a flag name, the program's name, and the
// kinds of secret file that secretFileName looks up in the catalogue.
func allowedLiteral(s string) bool {
	switch s {
	case "passphrase file", "recovery key file", "password file", "identity file", "share file",
		"new passphrase file", "PIN file", "volume key file":
		return true
	}
	return !word.MatchString(flagName.ReplaceAllString(strings.ReplaceAll(s, "travelkit", ""), ""))
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
