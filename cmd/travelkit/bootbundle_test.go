package main

import (
	"github.com/rogpeppe/go-internal/testscript"

	"travelkit/boot/boottest"
	"travelkit/internal/bytesize"
)

// cmdBootbundle writes boot/boottest's synthetic boot bundle into DIR:
//
//	bootbundle DIR [KERNELSIZE]   (a kernel stand-in of KERNELSIZE bytes, for kits too small)
func cmdBootbundle(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: bootbundle DIR [KERNELSIZE]")
	}
	var n int64
	if len(args) == 2 {
		var err error
		n, err = bytesize.Parse(args[1])
		ts.Check(err)
	}
	ts.Check(boottest.WriteSized(ts.MkAbs(args[0]), int(n)))
}
