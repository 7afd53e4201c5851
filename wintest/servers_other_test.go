//go:build !linux

package wintest

import "github.com/rogpeppe/go-internal/testscript"

// serverCmds: the test servers run on Linux only (servers_linux_test.go).
var serverCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){}
