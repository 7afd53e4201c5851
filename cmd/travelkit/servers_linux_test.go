//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"travelkit/internal/bytesize"
	"travelkit/internal/testfs"
)

// serverCmds are the script commands of the remote tests beside the servers'
// (internal/testservers' ScriptCmds: server sshd|s3|rest|kill|start|restart|newhostkey):
//
//	waitfiles DIR N                 wait until DIR holds N files (or more), at any depth
//	argvclean SECRET...             no process of the machine has SECRET in its command line
//	nosecret FILE SECRET...         FILE (read in pieces, a disk image) does not contain SECRET
//	randfile SIZE FILE              SIZE random bytes (data that does not compress)
//	tmpfs DIR SIZE                  mount a tmpfs of SIZE on DIR, or resize it (root)
var serverCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"waitfiles": cmdWaitFiles,
	"argvclean": cmdArgvClean,
	"nosecret":  cmdNoSecret,
	"randfile":  cmdRandFile,
	"tmpfs":     cmdTmpfs,
}

// cmdTmpfs: tmpfs DIR SIZE mounts a small tmpfs on DIR (a disk that fills up), or
// changes its size when it is mounted (making room); unmounted when the script ends.
// Needs root.
func cmdTmpfs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: tmpfs DIR SIZE")
	}
	dir := ts.MkAbs(args[0])
	size := strings.TrimSuffix(strings.TrimSuffix(args[1], "iB"), "B")
	if testfs.Mounted(dir) {
		ts.Check(testfs.Resize(dir, size))
		return
	}
	ts.Check(testfs.Mount(dir, size))
	ts.Defer(func() { testfs.Unmount(dir) })
}

// cmdRandFile: randfile SIZE FILE writes SIZE random bytes (data that does not compress).
func cmdRandFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: randfile SIZE FILE")
	}
	n, err := bytesize.Parse(args[0])
	ts.Check(err)
	p := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(p), 0o700))
	f, err := os.Create(p)
	ts.Check(err)
	_, err = io.CopyN(f, rand.Reader, n)
	ts.Check(err)
	ts.Check(f.Close())
}

func countFiles(dir string) int {
	n := 0
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// cmdWaitFiles waits for a copy in the background to have sent some files; a copy that
// never does fails the script (after two minutes), so the wait is not a timed assertion.
// N is a count of files, or +N: N more than DIR holds when the command starts (the
// scripts call it right after starting the copy, which unlocks the kit and locks and
// lists the remote before it sends anything). The number of packs a backup makes
// depends on how many savers ran, so scripts wait for new files, not a total.
func cmdWaitFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfiles DIR N|+N")
	}
	dir := ts.MkAbs(args[0])
	n, err := strconv.Atoi(strings.TrimPrefix(args[1], "+"))
	ts.Check(err)
	if strings.HasPrefix(args[1], "+") {
		n += countFiles(dir)
	}
	for i := 0; countFiles(dir) < n; i++ {
		if i > 2400 {
			ts.Fatalf("%s holds %d files, not %d", dir, countFiles(dir), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func cmdArgvClean(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: argvclean SECRET...")
	}
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	ts.Check(err)
	seen := 0
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		seen++
		for _, s := range args {
			if s != "" && bytes.Contains(b, []byte(s)) {
				ts.Fatalf("a command line holds a secret: %s: %q", p, strings.ReplaceAll(string(b), "\x00", " "))
			}
		}
	}
	if seen == 0 {
		ts.Fatalf("no process found in /proc")
	}
}

func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nosecret FILE SECRET...")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	longest := 0
	for _, s := range args[1:] {
		longest = max(longest, len(s))
	}
	r := bufio.NewReaderSize(f, 1<<20)
	buf := make([]byte, 0, 2<<20)
	chunk := make([]byte, 1<<20)
	var off int64
	for {
		n, err := io.ReadFull(r, chunk)
		buf = append(buf, chunk[:n]...)
		for _, s := range args[1:] {
			if i := bytes.Index(buf, []byte(s)); i >= 0 {
				ts.Fatalf("%s holds a secret at byte %d", args[0], off+int64(i))
			}
		}
		if err != nil {
			break
		}
		// keep the tail, for a secret across two pieces
		keep := min(len(buf), longest)
		off += int64(len(buf) - keep)
		buf = append(buf[:0], buf[len(buf)-keep:]...)
	}
}
