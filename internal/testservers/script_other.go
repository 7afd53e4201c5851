//go:build !linux

package testservers

import "github.com/rogpeppe/go-internal/testscript"

// ScriptCmds: the servers run on Linux only (script.go); elsewhere there are none.
func ScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){}
}
