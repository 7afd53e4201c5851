//go:build !linux

package main

import "github.com/rogpeppe/go-internal/testscript"

// serverCmds: the remote tests run servers on Linux only.
var serverCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){}
