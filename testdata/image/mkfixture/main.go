// Command mkfixture formats an image file with travelkit's ext4 and writes
// one file into it; make-kernel-unclean.sh then lets a Linux kernel write to
// it and shuts the filesystem down without checkpointing the journal.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"travelkit/image"
	"travelkit/image/ext4"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkfixture IMAGE")
		os.Exit(2)
	}
	const size = 64 << 20
	fh, err := os.Create(os.Args[1])
	if err == nil {
		err = fh.Truncate(size)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dev := &image.FileDevice{F: fh, N: size}
	t := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	if err := ext4.Format(dev, ext4.FormatOptions{Label: "kernel-test", Time: t}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f, err := ext4.Open(dev, ext4.Options{Writable: true})
	if err == nil {
		msg := "hello from travelkit\n"
		err = f.WriteFile("from-travelkit/hello.txt", strings.NewReader(msg), int64(len(msg)), t)
	}
	if err == nil {
		err = f.Close()
	}
	if err == nil {
		err = fh.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
